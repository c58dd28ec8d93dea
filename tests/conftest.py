"""Shared fixtures: temporary MkDocs + Material blog sites built for real."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.sites import AICRAFT_ENV, write_site


@pytest.fixture(autouse=True)
def _own_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets an empty aicraft cache (never the user's ``~/.cache/aicraft``)."""
    monkeypatch.setenv("AICRAFT_CACHE_DIR", str(tmp_path_factory.mktemp("aicraft-cache")))


@pytest.fixture
def site_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Make a site in a temporary folder, with CI and provider variables cleared."""
    for name in AICRAFT_ENV:
        monkeypatch.delenv(name, raising=False)

    def make(pages: dict[str, str], plugin: dict[str, Any] | None = None, **kw: Any) -> Path:
        return write_site(tmp_path, pages, plugin, **kw)

    return make
