"""The caches: outside the site, exact, and never used by a frozen (CI) build."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from aicraft.cache import ParseCache, cache_root, site_cache
from aicraft.records import Record, parse_yaml, sha256_text
from tests.sites import PROSE, build_site, write_site

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_STORE = ROOT / "generations"

PAGE = f"""# Notes

{PROSE}

```ai-text label="A note"
Write one sentence about a lighthouse.
```

```ai-image size="64x48" alt="A lighthouse"
A lighthouse at night.
```
"""


def _front_matter(text: str) -> str:
    return text[4 : text.find("\n---\n", 3) + 1]


def test_records_read_through_the_cache_equal_records_read_from_yaml(tmp_path: Path) -> None:
    files = sorted(SAMPLE_STORE.glob("*.md"))
    assert files, "the sample store has records"
    path = tmp_path / "front-matter.jsonl"
    cold = ParseCache(path, parse_yaml)
    for file in files:
        text = file.read_bytes().decode("utf-8")
        assert Record.loads(text, str(file), cold.parse) == Record.loads(text, str(file))
    cold.save()
    assert len(path.read_text("utf-8").splitlines()) == len(files)
    warm = ParseCache(path, lambda text: pytest.fail("parsed again instead of cached"))
    for file in files:
        text = file.read_bytes().decode("utf-8")
        assert Record.loads(text, str(file), warm.parse) == Record.loads(text, str(file))


def test_the_cache_keeps_only_what_json_returns_exactly(tmp_path: Path) -> None:
    parsed: list[str] = []

    def parse(text: str) -> object:
        parsed.append(text)
        return parse_yaml(text)

    cache = ParseCache(tmp_path / "c.jsonl", parse)
    texts = [
        "created: 2026-01-02T03:04:05Z\n",  # a datetime: not kept
        "1: one\n",  # a non-text key: not kept
        "a: &x [1, 2]\nb: *x\n",  # an alias: JSON would copy it (a bomb, exponentially)
        "a: 1.5\nb: [true, null, 'x\\u2028y']\nc: {d: 3}\n",  # kept
    ]
    first = [cache.parse(t) for t in texts]
    second = [cache.parse(t) for t in texts]
    assert first == second
    assert parsed == texts + texts[:3]
    second[3]["c"]["d"] = 4  # callers may change what they get
    assert cache.parse(texts[3])["c"]["d"] == 3


def test_a_damaged_cache_file_is_an_empty_cache(tmp_path: Path) -> None:
    text = "a: 1\n"
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = tmp_path / "c.jsonl"
    path.write_bytes(f"{digest}\t{{not json\nshort\tline\n\xff\n".encode("latin-1"))
    assert ParseCache(path, parse_yaml).parse(text) == {"a": 1}
    path.write_text(f"{digest}\t{{not json\n", "utf-8")
    cache = ParseCache(path, parse_yaml)
    assert cache.parse(text) == {"a": 1}
    cache.save()
    assert json.loads(path.read_text("utf-8").split("\t", 1)[1]) == {"a": 1}


def test_the_cache_is_outside_the_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CI", "AICRAFT_MODE"):
        monkeypatch.delenv(name, raising=False)
    cache = Path(str(cache_root()))
    config = write_site(tmp_path / "site", {"index.md": PAGE})
    build_site(config)
    build_site(config)
    assert not (tmp_path / "site" / ".cache").exists()
    assert any((cache / "images").iterdir()), "published images are cached"
    folder = site_cache(config.parent)
    assert folder is not None and (folder / "front-matter.jsonl").is_file()
    assert cache_root({"AICRAFT_CACHE_DIR": "/x"}) == Path("/x")
    assert cache_root({"XDG_CACHE_HOME": "/y"}) == Path("/y/aicraft")


def test_a_frozen_build_reads_no_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A cache entry that says the text item was approved: a frozen (CI) build must publish
    # what the record file says, never what a cache says.
    for name in ("CI", "AICRAFT_MODE"):
        monkeypatch.delenv(name, raising=False)
    config = write_site(tmp_path / "site", {"index.md": PAGE})
    build_site(config)  # generates
    folder = site_cache(config.parent)
    assert folder is not None
    (text_record,) = [
        f for f in (tmp_path / "site" / "generations").glob("*.md") if "kind: text" in f.read_text()
    ]
    file_text = text_record.read_text("utf-8")
    yaml_text = _front_matter(file_text)
    meta = parse_yaml(yaml_text)
    body = Record.loads(file_text, str(text_record)).body
    meta["review"] = {
        "status": "approved",
        "by": "Nobody Atall",
        "at": "2026-01-01T00:00:00Z",
        "sha256": sha256_text(body),
    }
    digest = hashlib.sha256(yaml_text.encode()).hexdigest()
    forged = f"{digest}\t{json.dumps(meta)}\n"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "front-matter.jsonl").write_text(forged, "utf-8")

    monkeypatch.setenv("AICRAFT_MODE", "frozen")
    html = (build_site(config) / "index.html").read_text("utf-8")
    assert "Nobody Atall" not in html and "not yet reviewed" in html
    assert (folder / "front-matter.jsonl").read_text("utf-8") == forged, "not rewritten"
    # The same entry is used by a local build: the cache is the user's own, outside the site.
    monkeypatch.setenv("AICRAFT_MODE", "auto")
    assert "reviewed by Nobody Atall" in (build_site(config) / "index.html").read_text("utf-8")
