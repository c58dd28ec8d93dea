"""Run the aicraft command line: ``python -m aicraft``."""

from aicraft.cli import main

main()
