"""aicraft: publish AI-assisted writing and art honestly."""

from __future__ import annotations

__version__ = "0.1.0"
