"""Temporary MkDocs + Material blog sites, built for real by the tests."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import yaml

#: Variables that change what aicraft does (mode, provider, budget, credentials): tests clear
#: them so that the environment they run in cannot change their outcome.
AICRAFT_ENV = (
    "CI",
    "AICRAFT_MODE",
    "AICRAFT_PROVIDER",
    "AICRAFT_BUDGET_USD",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
)

PROSE = (
    "The garden wakes slowly in the cold months, and every gardener learns to read the frost. "
    "A wooden bench holds the first white crystals long before the lawn does. "
    "Poets have written about the frost for centuries, and the best of them write plainly. "
    "The light at dawn is thin and blue, and the shadows of the trees are long on the grass. "
    "We walk the paths with a cup of tea and count the plants that survived the night. "
    "Some years the frost comes early and takes the last of the dahlias in a single night. "
    "Other years it waits until the winter is nearly over, and the buds are already swelling. "
    "Either way the garden keeps its own calendar, and we only borrow it for a season. "
)


def write_site(
    root: Path,
    pages: dict[str, str],
    plugin: dict[str, Any] | None = None,
    *,
    use_plugin: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write mkdocs.yml and pages (dedented) under ``root``; return mkdocs.yml's path."""
    docs = root / "docs"
    for name, text in pages.items():
        path = docs / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    plugins: list[Any] = ["search", {"blog": {"blog_dir": "blog"}}]
    if use_plugin:
        plugins.append({"aicraft": {"provider": "offline", **(plugin or {})}})
    config = {
        "site_name": "Test Garden",
        "site_url": "https://example.org/garden/",
        "docs_dir": "docs",
        "theme": {"name": "material"},
        "plugins": plugins,
        "markdown_extensions": ["admonition", "pymdownx.details", "pymdownx.superfences"],
        **(extra or {}),
    }
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def build_site(config_file: Path, **overrides: Any) -> Path:
    """Run a real ``mkdocs build`` in this process; return the site directory."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(str(config_file), **overrides)
    # No on_startup/on_shutdown here: MkDocs caches plugins that define them for the whole
    # process, and Material's blog plugin deletes its temporary folder on shutdown.
    build(config)
    return Path(config.site_dir)


def keys_in(html: str) -> list[str]:
    """The record keys of the AI items in a built page."""
    return re.findall(r'data-aicraft-key="([0-9a-f]{64})"', html)
