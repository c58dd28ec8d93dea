"""Keys, the record file format and the store."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from aicraft.errors import StoreError
from aicraft.records import Record, canonical_json, compute_key, sha256_text
from aicraft.store import Store, atomic_write


def _record(key: str, body: str = "A frost poem.\nSecond line.") -> Record:
    return Record(
        key=key,
        kind="text",
        provider="offline",
        provider_label="aicraft offline",
        model="aicraft-markov-1",
        requested_model="aicraft-markov-1",
        source_type="algorithmicMedia",
        prompt="Write a poem about frost.\nFour lines.",
        system=None,
        params={"temperature": 0.9, "seed": None, "max_tokens": None, "candidates": 1},
        created="2026-11-26T06:00:00Z",
        source={"page": "blog/posts/frost.md", "line": 9},
        usage={"input_tokens": None, "output_tokens": None, "cost_usd": 0.0},
        original=body,
        body=body,
    )


def test_canonical_json_is_byte_stable() -> None:
    value = {"b": 1, "a": [0.9, None, "é"], "c": {"z": True, "y": 2.5e-7}}
    assert canonical_json(value) == '{"a":[0.9,null,"é"],"b":1,"c":{"y":2.5e-07,"z":true}}'


def test_key_is_stable_across_runs_and_platforms() -> None:
    material = {
        "kind": "text",
        "provider": "offline",
        "model": "aicraft-markov-1",
        "prompt": "Write a four-line poem about the first frost.",
        "system": None,
        "temperature": 0.9,
        "seed": None,
        "max_tokens": None,
        "candidates": 3,
    }
    # A literal: if this changes, every stored record of every site would be orphaned.
    canonical = (
        '{"candidates":3,"kind":"text","max_tokens":null,"model":"aicraft-markov-1",'
        '"prompt":"Write a four-line poem about the first frost.","provider":"offline",'
        '"seed":null,"system":null,"temperature":0.9,"v":1}'
    )
    expected = "9d7513997a95b4fa6c2bfd80b56435e73da5089a729df3ab591f8e1c6b5e9536"
    assert sha256_text(canonical) == expected
    assert compute_key(material) == expected
    # Insertion order and a fresh interpreter (other hash seed) do not matter.
    assert compute_key(dict(reversed(list(material.items())))) == expected
    code = f"from aicraft.records import compute_key;print(compute_key({material!r}))"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == expected


def test_key_changes_with_what_changes_the_output() -> None:
    base = {"kind": "text", "provider": "offline", "model": "m", "prompt": "p", "temperature": 0.9}
    assert compute_key(base) != compute_key({**base, "temperature": 1.0})
    assert compute_key(base) != compute_key({**base, "prompt": "p2"})
    assert compute_key(base) == compute_key({**base, "temperature": 0.90})


def test_record_round_trips_through_its_file_format() -> None:
    key = sha256_text("x")
    record = _record(key)
    text = record.dumps()
    assert text.startswith("---\nformat: 1\nkey: " + key)
    assert "prompt: |-\n  Write a poem about frost.\n  Four lines.\n" in text
    assert text.endswith("---\nA frost poem.\nSecond line.\n")
    again = Record.loads(text, "x.md")
    assert again == record
    assert again.original_sha256 == sha256_text("A frost poem.\nSecond line.")


def test_an_edited_body_is_kept_and_detected() -> None:
    key = sha256_text("y")
    head, _, body = _record(key).dumps().rpartition("---\n")
    text = head + "---\n" + body.replace("A frost poem.", "A frost poem, edited by hand.")
    record = Record.loads(text, "y.md")
    assert record.edited
    assert record.original == "A frost poem.\nSecond line."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no front matter", "not a record file"),
        ("---\nkey: [\n---\nbody", "invalid YAML"),
        ("---\n- a list\n---\n", "must be a mapping"),
        ("---\nkind: text\n---\n", "field 'key' is missing"),
        ("---\nkey: abc\nkind: text\nprovider: p\nmodel: m\nprompt: x\noriginal: o\n---\n", "64"),
        ("---\nunclosed: true\n", "not closed"),
    ],
)
def test_broken_records_name_the_file_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(StoreError) as info:
        Record.loads(text, "generations/abc.md")
    assert "generations/abc.md" in str(info.value)
    assert message in str(info.value)


def test_store_writes_atomically_and_reads_back(tmp_path: Path) -> None:
    store = Store(tmp_path / "generations")
    key = sha256_text("z")
    path = store.put(_record(key))
    assert path == tmp_path / "generations" / f"{key[:16]}.md"
    assert Store(store.root).get(key) == _record(key)
    assert [p.name for p in store.root.iterdir() if p.name.endswith(".tmp")] == []
    assert store.short_keys() == [key[:16]]


def test_store_reports_a_record_under_the_wrong_name(tmp_path: Path) -> None:
    store = Store(tmp_path)
    key, other = sha256_text("a"), sha256_text("b")
    (tmp_path / f"{other[:16]}.md").write_text(_record(key).dumps())
    with pytest.raises(StoreError, match="does not match its file name"):
        store.get(other)
    records, errors = store.records()
    assert records == [] and len(errors) == 1


def test_store_refuses_paths_outside_itself(tmp_path: Path) -> None:
    store = Store(tmp_path)
    for name in ("../evil.png", "/etc/passwd", "0123456789abcdef.png/../../x"):
        with pytest.raises(StoreError):
            store.file_path(name)
    with pytest.raises(StoreError):
        store.record_path("../../etc/passwd")


def test_failed_atomic_write_leaves_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    target.write_text("old")

    with pytest.raises(TypeError):
        atomic_write(target, object())  # type: ignore[arg-type]
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.md"]
