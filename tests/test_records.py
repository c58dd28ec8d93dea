"""Keys, the record file format and the store."""

from __future__ import annotations

import os
import re
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


# -- every field is checked, and the file is named ------------------------------------------------
def _front_matter(**changes: object) -> dict[str, object]:
    meta = _record(sha256_text("w")).front_matter()
    meta.update(changes)
    return meta


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"params": [1, 2]}, "'params' must be a mapping"),
        ({"params": {1: "x"}}, "'params' must be a mapping whose names are texts"),
        ({"usage": 7}, "'usage' must be a mapping"),
        ({"usage": {"cost_usd": -1}}, "'cost_usd'"),
        ({"usage": {"cost_usd": "free"}}, "'cost_usd'"),
        ({"usage": {"input_tokens": "many"}}, "'input_tokens'"),
        ({"source": "nowhere"}, "'source' must be a mapping"),
        ({"source": {"page": "a.md", "line": "nine"}}, "'line'"),
        ({"created": {"a": 1}}, "'created'"),
        ({"created": "yesterday"}, "'created'"),
        ({"created": 5}, "'created'"),
        ({"review": "approved"}, "'review' must be a mapping"),
        ({"review": {"status": ["approved"]}}, "'review': 'status'"),
        ({"review": {"status": "great"}}, "'review': 'status'"),
        ({"review": {"status": "pending", "by": {"a": 1}}}, "'review': 'by'"),
        ({"review": {"status": "pending", "at": 5}}, "'review': 'at'"),
        ({"review": {"status": "approved", "sha256": 7}}, "'review': 'sha256'"),
        ({"review": {"status": "approved", "sha256": "ABC"}}, "'review': 'sha256'"),
        ({"review": {"status": "pending", "note": ["x"]}}, "'review': 'note'"),
        ({"review": {"status": "pending", "history": "lots"}}, "'history'"),
        ({"review": {"status": "pending", "history": ["x"]}}, "'history' entry 1"),
        ({"review": {"status": "pending", "history": [{"by": "Ed"}]}}, "'action'"),
        ({"review": {"history": [{"action": "approved", "sha256": 1}]}}, "'history' entry 1"),
        ({"picked": "two"}, "'picked' must be a whole number"),
        ({"picked": True}, "'picked' must be a whole number"),
        ({"picked": 99}, "'picked' is 99"),
        ({"picked": 0}, "'picked' is 0"),
        ({"picked": 3, "candidates": ["a", "b"]}, "it must be 1 to 2"),
        ({"system": 5}, "'system' must be a text"),
        ({"requested_model": ["m"]}, "'requested_model' must be a text"),
        ({"format": True}, "format"),
        ({"original_sha256": "0" * 63}, "'original_sha256'"),
        ({"original_sha256": 0}, "'original_sha256'"),
        ({"original_sha256": "0" * 64}, "original_sha256 does not match original"),
    ],
)
def test_a_field_of_the_wrong_type_names_the_file_and_the_field(
    changes: dict[str, object], words: str
) -> None:
    meta = _front_matter(**changes)
    with pytest.raises(StoreError) as info:
        Record.from_front_matter(meta, "A frost poem.", "generations/abc.md")
    message = str(info.value)
    assert message.startswith("generations/abc.md: ") and words in message, message
    assert "Fix:" in message


def test_an_image_size_that_is_no_size_is_reported() -> None:
    meta = _front_matter(kind="image", original="0123456789abcdef.png", params={"size": "axb"})
    with pytest.raises(StoreError, match=r"abc\.md: 'params': 'size' must be WIDTHxHEIGHT"):
        Record.from_front_matter(meta, "", "abc.md")
    meta["params"] = {"size": "640x480"}
    assert Record.from_front_matter(meta, "", "abc.md").params["size"] == "640x480"


def test_unquoted_timestamps_read_as_the_text_aicraft_writes() -> None:
    text = _record(sha256_text("t")).dumps()
    text = text.replace("created: '2026-11-26T06:00:00Z'", "created: 2026-11-26T06:00:00Z")
    text = text.replace("  at: null", "  at: 2026-11-27 08:30:00+01:00")
    record = Record.loads(text, "t.md")
    assert record.created == "2026-11-26T06:00:00Z"
    assert record.review["at"] == "2026-11-27T07:30:00Z"


def test_a_tampered_original_is_reported_as_tampering() -> None:
    text = _record(sha256_text("o")).dumps()
    forged = text.replace("original: |-\n  A frost poem.", "original: |-\n  A thaw poem.", 1)
    assert forged != text
    with pytest.raises(StoreError, match=r"o\.md: original_sha256 does not match original"):
        Record.loads(forged, "o.md")
    # Without the field (an old or hand-written record), it is computed, not checked.
    lines = [line for line in text.splitlines(True) if not line.startswith("original_sha256:")]
    assert Record.loads("".join(lines), "o.md").original_sha256 == sha256_text(
        "A frost poem.\nSecond line."
    )


def test_keys_and_digests_are_exactly_64_lowercase_hex_digits() -> None:
    from aicraft.records import is_key, is_sha256

    assert is_key("a" * 64) and is_sha256("0" * 64)
    for value in ("a" * 64 + "\n", "A" * 64, "a" * 63, 7, None, ["a" * 64]):
        assert not is_key(value) and not is_sha256(value)


# -- what a model wrote reads back exactly ---------------------------------------------------------
AWKWARD = [
    "line one\r\nline two",
    "carriage\rreturn",
    "next\x85line",
    "line\u2028separator\u2029paragraph",
    "tab\tand bell\x07 and escape\x1b[0m",
    "a byte order mark \ufeff inside",
    "emoji 😀 and\nmore 🎨 lines",
    "trailing spaces  \nin a block",
    "---\nkey: " + "b" * 64 + "\n---",
    "&a *a !!python/object:x\n|\n  x",
    "word " * 60 + "\r\n" + "word " * 60,
    "yes",
    "1.5",
    "null",
]


@pytest.mark.parametrize("dumper", ["libyaml if available", "PyYAML"])
@pytest.mark.parametrize("text", AWKWARD)
def test_awkward_text_reads_back_exactly_with_either_dumper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, dumper: str
) -> None:
    from aicraft import records

    if dumper == "PyYAML":
        monkeypatch.setattr(records, "SAFE_DUMPER", records._PyDumper)
    record = _record(sha256_text(text), body=text)
    record.prompt = record.system = text
    store = Store(tmp_path)
    store.put(record)
    again = Store(tmp_path).get(record.key)
    assert again is not None
    assert (again.prompt, again.system, again.original, again.body) == (text,) * 4
    assert not again.edited
    assert again == record


@pytest.mark.parametrize("text", AWKWARD)
def test_libyaml_and_pyyaml_write_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    from aicraft import records

    record = _record(sha256_text(text), body=text)
    record.prompt = text
    fast = record.dumps()
    monkeypatch.setattr(records, "SAFE_DUMPER", records._PyDumper)
    assert record.dumps() == fast


def test_the_sample_sites_records_read_and_rewrite_unchanged() -> None:
    from aicraft.records import SAFE_DUMPER, _dumper_for

    store = Path(__file__).resolve().parent.parent / "generations"
    paths = sorted(store.glob("*.md"))
    assert paths, "the sample site's store is missing"
    records, errors = Store(store).records()
    assert errors == [] and len(records) == len(paths)
    for path, record in zip(paths, records, strict=True):
        assert record.dumps() == path.read_bytes().decode("utf-8"), path.name
        # ... and ordinary records take the fast path (libyaml) when it is installed.
        assert _dumper_for(record.front_matter()) is SAFE_DUMPER, path.name


def test_a_record_checked_out_with_crlf_line_ends_reads_as_written(tmp_path: Path) -> None:
    store = Store(tmp_path)
    key = sha256_text("crlf")
    record = _record(key)
    path = store.put(record)
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))  # git's core.autocrlf
    again = Store(tmp_path).get(key)
    assert again == record and not again.edited


# -- the store never reaches outside itself -------------------------------------------------------
def _image_record(store: Store, name_text: str = "img") -> Record:
    key = sha256_text(name_text)
    record = _record(key)
    record.kind, record.body = "image", ""
    record.original = f"{key[:16]}.png"
    record.candidates = [record.original]
    record.original_sha256 = sha256_text(record.original)
    store.put(record, {record.original: b"\x89PNG\r\n\x1a\nnot really"})
    store.forget(key)
    return record


def test_a_bad_image_name_in_a_record_names_the_record(tmp_path: Path) -> None:
    store = Store(tmp_path)
    record = _image_record(store)
    path = store.record_path(record.key)
    text = path.read_text("utf-8").replace(record.original, "../outside/keep.png")
    path.write_text(text, "utf-8")
    with pytest.raises(StoreError) as info:
        store.get(record.key)
    assert str(info.value).startswith(f"{path}: ") and "keep.png" in str(info.value)


def test_a_symlinked_store_image_is_refused(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    record = _image_record(store)
    secret = tmp_path / "secret.png"
    secret.write_bytes(b"private")
    image = store.root / record.original
    image.unlink()
    image.symlink_to(secret)
    with pytest.raises(StoreError, match="symbolic link") as info:
        store.get(record.key)
    assert str(store.record_path(record.key)) in str(info.value)
    with pytest.raises(StoreError, match="symbolic link"):
        store.file_path(record.original)
    with pytest.raises(StoreError, match="symbolic link"):
        store.read_file(record.original)
    # Writing the image again replaces the link, never its target.
    store.put(record, {record.original: b"new"})
    assert not image.is_symlink() and store.read_file(record.original) == b"new"
    assert secret.read_bytes() == b"private"


def test_the_lock_file_cannot_be_a_symlink_or_a_folder(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    with store.lock():
        pass
    lock = store.root / ".lock"
    assert lock.is_file() and not lock.is_symlink()
    lock.unlink()
    target = tmp_path / "created-by-aicraft"
    lock.symlink_to(target)
    refused = r"\.lock: the lock file is a symbolic link; delete it"
    with pytest.raises(StoreError, match=refused), store.lock():
        pass
    assert not target.exists()
    lock.unlink()
    lock.mkdir()
    with pytest.raises(StoreError, match=r"\.lock"), store.lock():
        pass


def test_a_fifo_or_folder_named_like_a_record_is_reported_not_waited_on(tmp_path: Path) -> None:
    store = Store(tmp_path)
    os.mkfifo(tmp_path / ("a" * 16 + ".md"))
    (tmp_path / ("b" * 16 + ".md")).mkdir()
    records, errors = store.records()
    assert records == [] and len(errors) == 2
    assert all("not a regular file" in str(e) for e in errors)


def _sample_with_candidates() -> tuple[Path, str]:
    path = Path(__file__).resolve().parent.parent / "generations" / "98ca5e3d4b4ae99c.md"
    return path, path.read_bytes().decode("utf-8")


def test_an_edited_candidate_is_reported_not_published_as_model_output() -> None:
    # A human who edits the picked candidate in the front matter instead of the body would
    # otherwise publish their words as the model's, undisclosed.
    path, text = _sample_with_candidates()
    record = Record.loads(text, str(path))
    assert len(record.candidates) == 2 and record.candidates[0] == record.original
    line = "  Let anyone assemble a minuet by rolling dice;\n"
    assert text.index(line) < text.index("\noriginal:")  # its first place is candidates[0]
    edited = text.replace(line, "  Let anyone assemble a minuet with two dice;\n", 1)
    with pytest.raises(StoreError) as info:
        Record.loads(edited, str(path))
    message = str(info.value)
    assert str(path) in message and "candidate 1 does not match" in message
    assert "tampered" in message and "below the front matter" in message
    # A record from before candidates_sha256 is still caught: the picked one must be original.
    legacy = re.sub(r"candidates_sha256:\n(- [0-9a-f]{64}\n)+", "", edited)
    assert legacy != edited
    with pytest.raises(StoreError, match=r"candidate 1 \(the picked one\) differs"):
        Record.loads(legacy, str(path))


def test_an_edited_candidate_that_is_not_published_is_caught_before_it_is_picked() -> None:
    # Editing candidate 2 would otherwise go unnoticed until `aicraft pick 2` published the
    # human's words as the model's.
    path, text = _sample_with_candidates()
    record = Record.loads(text, str(path))
    second = record.candidates[1].splitlines()[0]
    assert text.count(second) == 1, "candidate 2 is only in the candidates list"
    edited = text.replace(second, second + " (improved)", 1)
    with pytest.raises(StoreError) as info:
        Record.loads(edited, str(path))
    message = str(info.value)
    assert str(path) in message and "candidate 2 does not match" in message
    wrong_count = re.sub(r"(candidates_sha256:\n- [0-9a-f]{64}\n)- [0-9a-f]{64}\n", r"\1", text)
    with pytest.raises(StoreError, match=r"1 digest\(s\) for 2 candidate"):
        Record.loads(wrong_count, str(path))
