"""What aicraft keeps to rebuild faster, and where: outside the site.

Everything here can be recomputed, and nothing in it is trusted more than what it was computed
from would be. It lives outside the site's folder (``$AICRAFT_CACHE_DIR``, else
``$XDG_CACHE_HOME/aicraft``, else ``~/.cache/aicraft``) so that no commit can plant an entry:
a cache inside the repository could be committed by a pull request and make a CI build publish
something other than what the store holds (an image other than the approved one, say). Frozen
(CI) builds use no cache at all.

- ``images/<digest>/``: published images with their metadata and variants, by a digest of the
  store image, the metadata and the settings (see :mod:`aicraft.publication`);
- ``sites/<site>/front-matter.jsonl``: record front matter already parsed, by the sha256 of
  its YAML text (:class:`ParseCache`): JSON is read about ten times faster than YAML.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def cache_root(environ: Mapping[str, str] | None = None) -> Path | None:
    """aicraft's cache folder, or ``None`` when there is no home to put it in."""
    env = os.environ if environ is None else environ
    if env.get("AICRAFT_CACHE_DIR"):
        return Path(env["AICRAFT_CACHE_DIR"]).expanduser()
    if env.get("XDG_CACHE_HOME"):
        return Path(env["XDG_CACHE_HOME"]) / "aicraft"
    try:
        return Path.home() / ".cache" / "aicraft"
    except RuntimeError:  # no home directory
        return None


def site_cache(base_dir: Path, environ: Mapping[str, str] | None = None) -> Path | None:
    """The cache folder of the site in ``base_dir`` (by a digest of its absolute path)."""
    root = cache_root(environ)
    if root is None:
        return None
    digest = hashlib.sha256(str(Path(base_dir).resolve()).encode("utf-8")).hexdigest()[:16]
    return root / "sites" / digest


def _json_exact(value: Any) -> bool:
    """Whether JSON gives ``value`` back with the same types and values.

    A container met twice (a YAML alias) is not: JSON would copy it, and a chain of aliases
    (an "alias bomb") would copy it exponentially. Each container is looked at once.
    """
    seen: set[int] = set()
    pending = [value]
    while pending:
        item = pending.pop()
        if item is None or isinstance(item, str | bool | int):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                return False
            continue
        if not isinstance(item, list | dict) or id(item) in seen:
            return False  # datetimes, dates, sets, bytes...; or an alias
        seen.add(id(item))
        if isinstance(item, dict):
            if not all(isinstance(key, str) for key in item):
                return False
            pending.extend(item.values())
        else:
            pending.extend(item)
    return True


class ParseCache:
    """Parsed YAML by the sha256 of its text, kept in a JSON-lines file between builds.

    :meth:`parse` returns a fresh object each time (callers may change it). Only values that
    JSON returns exactly (no dates, no non-text keys) are kept; everything else is parsed
    each time. :meth:`save` writes the entries used since the cache was opened (so that it
    never grows beyond the store) when anything changed. A missing, unreadable or damaged
    file is an empty cache.
    """

    def __init__(self, path: Path | None, parse: Callable[[str], Any]) -> None:
        self.path = path
        self._parse = parse
        self._entries: dict[str, str] = {}
        self._used: dict[str, str] = {}
        self._changed = False
        self._lock = threading.Lock()
        if path is None:
            return
        try:
            # Not splitlines(): JSON leaves U+2028, U+0085... unescaped, and they split lines.
            lines = path.read_bytes().decode("utf-8").split("\n")
        except (OSError, UnicodeDecodeError):
            return
        for line in lines:
            digest, tab, text = line.partition("\t")
            if tab and len(digest) == 64:
                self._entries[digest] = text

    def parse(self, text: str) -> Any:
        """``text`` parsed (from the cache when it holds it)."""
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._lock:
            cached = self._entries.get(digest)
        if cached is not None:
            try:
                value = json.loads(cached)
            except ValueError:  # a damaged line: parse the text instead
                value = None
            else:
                with self._lock:
                    self._used[digest] = cached
                return value
        value = self._parse(text)
        if _json_exact(value):
            encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            with self._lock:
                self._entries[digest] = self._used[digest] = encoded
                self._changed = True
        return value

    def save(self) -> None:
        """Write the entries used since the cache was opened, if anything changed."""
        if self.path is None:
            return
        with self._lock:
            if not self._changed and len(self._used) == len(self._entries):
                return
            lines = [f"{digest}\t{text}\n" for digest, text in sorted(self._used.items())]
        from aicraft.store import atomic_write

        with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
            atomic_write(self.path, "".join(lines).encode("utf-8"))
