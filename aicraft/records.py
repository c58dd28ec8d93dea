"""The Record (provenance of one generation), its key and its file format.

A record file is Markdown with YAML front matter: the provenance fields of DESIGN.md, then the
text as published. Keys are the sha256 of a canonical JSON of everything that changes the output.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, NoReturn

import yaml

from aicraft.errors import StoreError

FORMAT = 1
#: libyaml's safe loader when PyYAML was built with it (about 9x faster), else the Python one.
SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KEY_VERSION = 1
_KEY = re.compile(r"[0-9a-f]{64}")
#: The review statuses a record can hold ("changed" is derived, never stored).
REVIEW_STATUSES = ("pending", "approved", "rejected")
_SIZE = re.compile(r"[1-9][0-9]{0,4}x[1-9][0-9]{0,4}")
#: How to mend a record file that cannot be read; every StoreError of a record ends with it.
FIX = (
    "Fix: correct it by hand or restore the file from version control (deleting it makes "
    "`aicraft generate` regenerate the item, and loses its review)"
)


def parse_yaml(text: str) -> Any:
    """YAML text to data with the safe loader (libyaml's when installed)."""
    return yaml.load(text, Loader=SAFE_LOADER)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and UTF-8 text: the same bytes on every platform."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def sha256_text(text: str) -> str:
    """Hex sha256 of a text's UTF-8 bytes."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def compute_key(material: dict[str, Any]) -> str:
    """The record key of a generation request's key material."""
    return sha256_text(canonical_json({"v": KEY_VERSION, **material}))


def is_key(value: object) -> bool:
    """Whether ``value`` is a full 64-hex-digit key (lowercase, nothing before or after)."""
    return isinstance(value, str) and bool(_KEY.fullmatch(value))


def is_sha256(value: object) -> bool:
    """Whether ``value`` is a hex sha256 digest as aicraft writes it (64 lowercase hex digits)."""
    return is_key(value)


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a Z, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Record:
    """One stored generation with its full provenance.

    For text, ``body`` is the text as published (an author may edit it) and ``original`` the raw
    output that was picked. For images, ``original`` is the picked image file's name, the
    ``candidates`` are file names, and ``body`` is empty.

    ``original_sha256`` and ``candidates_sha256`` pin what the model made: the sha256 of each
    candidate text, or of each image file's bytes as the provider returned them. Editing a
    candidate or replacing an image file is then detected, never published as model output.
    An image record written before aicraft kept image checksums has none (``""`` and ``[]``).

    ``image_edit`` (images only) is a human's edit of the picked image, made with
    ``aicraft edit-image``: ``file`` (``<key16>-edited.png`` in the store), its ``sha256``,
    ``by``, ``at``, ``changed`` (the share of pixels that differ from the model's image, or
    ``None`` when the edit changed the size) and an optional ``note``. The edited file is then
    what is published, disclosed as human-edited; the model's image stays in the store.
    """

    key: str
    kind: str
    provider: str
    model: str
    requested_model: str | None
    prompt: str
    system: str | None
    params: dict[str, Any]
    created: str
    source: dict[str, Any]
    usage: dict[str, Any]
    original: str
    body: str
    candidates: list[str] = field(default_factory=list)
    picked: int = 1
    original_sha256: str = ""
    candidates_sha256: list[str] = field(default_factory=list)
    image_edit: dict[str, Any] | None = None
    review: dict[str, Any] = field(
        default_factory=lambda: {"status": "pending", "by": None, "at": None, "sha256": None}
    )
    provider_label: str = ""
    source_type: str = ""
    format: int = FORMAT

    def __post_init__(self) -> None:
        if self.kind != "text":
            return  # an image's checksums are of its file's bytes: the engine sets them
        if not self.original_sha256:
            self.original_sha256 = sha256_text(self.original)
        if self.candidates and not self.candidates_sha256:
            self.candidates_sha256 = [sha256_text(c) for c in self.candidates]

    @property
    def short(self) -> str:
        """The 16-hex-digit short key used in file names and element ids."""
        return self.key[:16]

    @property
    def edited(self) -> bool:
        """Whether a human changed what is published: the text's body differs from the
        model's original output, or the picked image was edited (``image_edit``)."""
        if self.kind == "image":
            return self.image_edit is not None
        return self.body.strip() != self.original.strip()

    @property
    def published_image(self) -> str:
        """The store file an image record publishes: the human's edit, else the picked image."""
        return self.image_edit["file"] if self.image_edit else self.original

    @property
    def image_files(self) -> list[str]:
        """File names of the images that belong to this record (published first)."""
        if self.kind != "image":
            return []
        names = [self.original] + [c for c in self.candidates if c != self.original]
        if self.image_edit:
            names.insert(0, self.image_edit["file"])
        return names

    def image_sha256(self) -> dict[str, str]:
        """The sha256 each image file must have, by name: the model's bytes (empty for old
        records) and the human's edit."""
        if self.kind != "image":
            return {}
        known = dict(zip(self.candidates, self.candidates_sha256, strict=False))
        if self.original_sha256:
            known[self.original] = self.original_sha256
        if self.image_edit:
            known[self.image_edit["file"]] = self.image_edit["sha256"]
        return known

    def front_matter(self) -> dict[str, Any]:
        """The YAML front matter as an ordered mapping (``candidates_sha256`` only when kept)."""
        meta = {
            "format": self.format,
            "key": self.key,
            "kind": self.kind,
            "provider": self.provider,
            "provider_label": self.provider_label,
            "model": self.model,
            "requested_model": self.requested_model,
            "source_type": self.source_type,
            "prompt": self.prompt,
            "system": self.system,
            "params": self.params,
            "created": self.created,
            "source": self.source,
            "usage": self.usage,
            "candidates": self.candidates,
            "candidates_sha256": self.candidates_sha256,
            "picked": self.picked,
            "original": self.original,
            "original_sha256": self.original_sha256,
            "image_edit": self.image_edit,
            "review": self.review,
        }
        if not self.candidates_sha256:
            del meta["candidates_sha256"]
        if self.image_edit is None:
            del meta["image_edit"]
        return meta

    def dumps(self) -> str:
        """The record file's text.

        Every text field reads back exactly: multi-line texts are literal blocks (they diff
        well), and a text with a character a block or a plain scalar would not keep (CR, NEL,
        a Unicode line separator, a control character) is written double-quoted, with escapes.
        libyaml writes it when it is installed and writes the same bytes (:func:`_dumper_for`).
        """
        front_matter = self.front_matter()
        meta = yaml.dump(
            front_matter,
            Dumper=_dumper_for(front_matter),
            sort_keys=False,
            allow_unicode=True,
            width=100,
            default_flow_style=False,
        )
        body = self.body if self.body.endswith("\n") or not self.body else self.body + "\n"
        return f"---\n{meta}---\n{body}"

    @classmethod
    def loads(
        cls, text: str, path: str = "<record>", parse: Callable[[str], Any] | None = None
    ) -> Record:
        """Parse a record file; a StoreError names the file, what is wrong and how to fix it.

        ``text`` must be the file's exact text (no newline translation): a model's CR or CRLF
        in the body is part of what it wrote. A file whose first line ends with CRLF was
        converted as a whole (a Windows checkout with ``core.autocrlf``); it is read as the
        LF file aicraft wrote. ``parse`` turns the front matter's YAML text into data
        (default :func:`parse_yaml`; the store passes its :class:`~aicraft.cache.ParseCache`).
        """
        if text.startswith("---\r\n"):
            text = text.replace("\r\n", "\n")
        if not text.startswith("---\n"):
            raise StoreError(f"{path}: not a record file (it must start with a '---' line). {FIX}")
        end = text.find("\n---\n", 3)
        if end < 0:
            if text.endswith("\n---"):
                end = len(text) - 4
            else:
                raise StoreError(f"{path}: the front matter is not closed by a '---' line. {FIX}")
        try:
            meta = (parse or parse_yaml)(text[4 : end + 1])
        except yaml.YAMLError as exc:
            raise StoreError(f"{path}: invalid YAML front matter: {exc}. {FIX}") from None
        if not isinstance(meta, dict):
            raise StoreError(f"{path}: the front matter must be a mapping. {FIX}")
        body = text[end + 5 :]
        return cls.from_front_matter(meta, body, path)

    @classmethod
    def from_front_matter(cls, meta: dict[str, Any], body: str, path: str) -> Record:
        """Build a record from parsed front matter, checking every field's type and value.

        A wrong field raises a StoreError naming ``path``, the field and the problem, so that a
        hand-broken record is reported as such and never crashes a build later.
        """
        required = {
            "key": str,
            "kind": str,
            "provider": str,
            "model": str,
            "prompt": str,
            "original": str,
        }
        for name, typ in required.items():
            if not isinstance(meta.get(name), typ):
                _bad(path, f"field {name!r} is missing or not a {typ.__name__}")
        version = meta.get("format", FORMAT)
        if type(version) is not int or version != FORMAT:
            _bad(path, f"record format {version!r} is not supported (this aicraft reads {FORMAT})")
        if not is_key(meta["key"]):
            _bad(path, "'key' must be 64 lowercase hex digits")
        kind = meta["kind"]
        if kind not in ("text", "image"):
            _bad(path, f"unknown kind {kind!r} (use text or image)")
        candidates = meta.get("candidates")
        if candidates is None:
            candidates = []
        if not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates):
            _bad(path, "'candidates' must be a list of texts")
        picked = meta.get("picked")
        if picked is None:
            picked = 1
        if type(picked) is not int:
            _bad(path, f"'picked' must be a whole number, not {_describe(picked)}")
        count = max(1, len(candidates))
        if not 1 <= picked <= count:
            allowed = f"1 to {count}" if candidates else "1"
            _bad(
                path,
                f"'picked' is {picked}, but the record has {len(candidates)} candidate(s): "
                f"it must be {allowed}",
            )
        params = _mapping(path, meta, "params")
        if kind == "image" and params.get("size") is not None:
            size = params["size"]
            if not isinstance(size, str) or not _SIZE.fullmatch(size):
                _bad(path, f"'params': 'size' must be WIDTHxHEIGHT like '1024x1024', not {size!r}")
        source = _mapping(path, meta, "source")
        _optional(path, source, "source", "page", str)
        _optional(path, source, "source", "line", int)
        usage = _mapping(path, meta, "usage")
        for name in ("input_tokens", "output_tokens"):
            _optional(path, usage, "usage", name, int)
        cost = usage.get("cost_usd")
        if cost is not None and (
            isinstance(cost, bool)
            or not isinstance(cost, int | float)
            or not math.isfinite(cost)
            or cost < 0
        ):
            _bad(path, f"'usage': 'cost_usd' must be a number of dollars, not {cost!r}")
        texts: dict[str, str | None] = {}
        for name in ("requested_model", "system", "provider_label", "source_type"):
            value = meta.get(name)
            if value is not None and not isinstance(value, str):
                _bad(path, f"{name!r} must be a text, not {_describe(value)}")
            texts[name] = value
        original_sha256 = meta.get("original_sha256")
        if original_sha256 is None or original_sha256 == "":
            original_sha256 = ""  # computed from original
        elif not is_sha256(original_sha256):
            _bad(
                path, f"'original_sha256' must be 64 lowercase hex digits, not {original_sha256!r}"
            )
        if kind == "text" and original_sha256 and original_sha256 != sha256_text(meta["original"]):
            _tampered(path, "original_sha256 does not match original")
        if kind == "image" and original_sha256 == sha256_text(meta["original"]):
            # Written before aicraft kept image checksums: the digest of the file *name*, which
            # pins nothing. The record has no checksum of its image.
            original_sha256 = ""
        candidates_sha256 = _candidates_sha256(path, meta, kind, candidates)
        if kind == "image" and candidates_sha256:
            if not original_sha256:
                original_sha256 = candidates_sha256[picked - 1]
            elif candidates_sha256[picked - 1] != original_sha256:
                _bad(
                    path,
                    f"'candidates_sha256' {picked} (the picked image) differs from "
                    "'original_sha256': use `aicraft pick` to choose another image",
                )
        if candidates and candidates[picked - 1] != meta["original"]:
            if kind == "image":
                _bad(
                    path,
                    f"candidate {picked} (the picked one), {candidates[picked - 1]!r}, differs "
                    f"from 'original', {meta['original']!r}: use `aicraft pick` to choose another "
                    "image",
                )
            _bad(
                path,
                f"candidate {picked} (the picked one) differs from 'original': a candidate was "
                "edited in the front matter. The model's outputs must never be edited: edit the "
                "published text below the front matter instead (the edit is then disclosed)",
            )
        return cls(
            key=meta["key"],
            kind=kind,
            provider=meta["provider"],
            provider_label=texts["provider_label"] or "",
            model=meta["model"],
            requested_model=texts["requested_model"],
            source_type=texts["source_type"] or "",
            prompt=meta["prompt"],
            system=texts["system"],
            params=params,
            created=_timestamp(path, meta.get("created"), "'created'"),
            source=source,
            usage=usage,
            candidates=list(candidates),
            picked=picked,
            original=meta["original"],
            original_sha256=original_sha256,
            candidates_sha256=candidates_sha256,
            image_edit=_image_edit(path, meta, kind),
            review=_review(path, meta.get("review")),
            body=body.rstrip("\n") if kind == "text" else "",
            format=FORMAT,
        )


# -- checking front matter ---------------------------------------------------------------------
def _candidates_sha256(
    path: str, meta: dict[str, Any], kind: str, candidates: list[str]
) -> list[str]:
    """The record's ``candidates_sha256``, checked: one digest per candidate, and for text
    each the digest of its candidate (an edited candidate is tampering, named as such)."""
    digests = meta.get("candidates_sha256")
    if digests is None or digests == []:
        # Records written before the field: text candidates are digested when read.
        return [sha256_text(c) for c in candidates] if kind == "text" else []
    if not isinstance(digests, list) or not all(is_sha256(d) for d in digests):
        _bad(path, "'candidates_sha256' must be a list of 64-lowercase-hex-digit digests")
    if len(digests) != len(candidates):
        _bad(
            path,
            f"'candidates_sha256' has {len(digests)} digest(s) for {len(candidates)} candidate(s)",
        )
    if kind == "text":
        for number, (candidate, digest) in enumerate(zip(candidates, digests, strict=True), 1):
            if sha256_text(candidate) != digest:
                _tampered(path, f"candidate {number} does not match its 'candidates_sha256'")
    return list(digests)


#: The store name of an image record's human edit.
EDITED_IMAGE = re.compile(r"[0-9a-f]{16}-edited\.(?:png|webp|jpg)")


def _image_edit(path: str, meta: dict[str, Any], kind: str) -> dict[str, Any] | None:
    """The record's ``image_edit``, checked (see :class:`Record`)."""
    value = meta.get("image_edit")
    if value is None:
        return None
    if kind != "image":
        _bad(path, "'image_edit' belongs to image records only; delete it")
    if not isinstance(value, dict):
        _bad(path, f"'image_edit' must be a mapping, not {_describe(value)}")
    edit = dict(value)
    name, short = edit.get("file"), meta["key"][:16]
    if not isinstance(name, str) or not EDITED_IMAGE.fullmatch(name) or name[:16] != short:
        _bad(
            path,
            f"'image_edit': 'file' must be {short}-edited.png (or .webp, .jpg), "
            f"not {_describe(name)}",
        )
    if not is_sha256(edit.get("sha256")):
        _bad(path, "'image_edit': 'sha256' must be the 64 lowercase hex digits of the file")
    _check_who_and_when(path, edit, "'image_edit'")
    if not (edit.get("by") or "").strip():
        _bad(path, "'image_edit': 'by' must name who edited the image")
    changed = edit.get("changed")
    if changed is not None and (
        isinstance(changed, bool) or not isinstance(changed, int | float) or not 0 <= changed <= 1
    ):
        _bad(path, f"'image_edit': 'changed' must be a share from 0 to 1, or null, not {changed!r}")
    return edit


def _tampered(path: str, what: str) -> NoReturn:
    """Raise the StoreError of a record whose model output was edited in the front matter."""
    raise StoreError(
        f"{path}: {what}: the record was tampered with (the model's outputs must never be "
        "edited; edit the published text below the front matter instead, and the edit is "
        "disclosed). Fix: restore the file from version control, or delete it and run "
        "`aicraft generate` to regenerate the item"
    )


def _bad(path: str, problem: str) -> NoReturn:
    """Raise the StoreError of a record file: its path, the problem and how to fix it."""
    raise StoreError(f"{path}: {problem}. {FIX}")


def _describe(value: Any) -> str:
    """A value's YAML kind in words, for error messages."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"the boolean {value!r}"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, datetime | date):
        return f"the date {value.isoformat()}"
    return f"{type(value).__name__} {value!r}"


def _mapping(path: str, meta: Mapping[str, Any], name: str) -> dict[str, Any]:
    """``meta[name]`` as a dict with text keys ({} when absent or empty)."""
    value = meta.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        _bad(path, f"{name!r} must be a mapping of names to values, not {_describe(value)}")
    if not all(isinstance(k, str) for k in value):
        _bad(path, f"{name!r} must be a mapping whose names are texts")
    return dict(value)


def _optional(path: str, values: Mapping[str, Any], where: str, name: str, typ: type) -> None:
    """Check that ``values[name]``, when present and not empty, is a ``typ``."""
    value = values.get(name)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, typ):
        noun = "a whole number" if typ is int else "a text"
        _bad(path, f"{where!r}: {name!r} must be {noun}, not {_describe(value)}")


def _timestamp(path: str, value: Any, where: str) -> str:
    """An ISO 8601 date and time as text ("" when absent).

    YAML reads an unquoted ``2026-01-01T00:00:00Z`` as a datetime: it is turned back into the
    text aicraft writes (UTC, with a Z). Any other type, or a text that is no date, is an error.
    """
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return value
    _bad(
        path,
        f"{where} must be a UTC date and time like '2026-01-01T12:00:00Z', not {_describe(value)}",
    )


def _when(path: str, value: Any, where: str) -> str | None:
    """When a review action happened: a text as written, None, or a YAML timestamp turned into
    the text aicraft writes. Only shown to readers (escaped), so any text is accepted."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return _timestamp(path, value, where)
    _bad(
        path, f"{where} must be a date and time like '2026-01-01T12:00:00Z', not {_describe(value)}"
    )


def _review(path: str, value: Any) -> dict[str, Any]:
    """The ``review`` mapping with its fields checked (defaults filled in, others kept)."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        _bad(path, f"'review' must be a mapping, not {_describe(value)}")
    review: dict[str, Any] = {"status": "pending", "by": None, "at": None, "sha256": None}
    review.update(value)
    status = review["status"]
    if status is None:
        review["status"] = status = "pending"
    if not isinstance(status, str) or status not in REVIEW_STATUSES:
        _bad(
            path,
            f"'review': 'status' must be one of {', '.join(REVIEW_STATUSES)}, "
            f"not {_describe(status)}",
        )
    _check_decision(path, review, "'review'")
    _optional(path, review, "review", "picked_by", str)
    if "picked_at" in review:
        review["picked_at"] = _when(path, review["picked_at"], "'review': 'picked_at'")
    history = review.get("history")
    if history is not None:
        if not isinstance(history, list):
            _bad(path, f"'review': 'history' must be a list, not {_describe(history)}")
        entries = []
        for number, entry in enumerate(history, start=1):
            where = f"'review': 'history' entry {number}"
            if not isinstance(entry, dict):
                _bad(path, f"{where} must be a mapping, not {_describe(entry)}")
            entry = dict(entry)
            if not isinstance(entry.get("action"), str):
                _bad(path, f"{where} needs an 'action' text")
            _check_decision(path, entry, where)
            entries.append(entry)
        review["history"] = entries
    return review


def _check_who_and_when(path: str, values: dict[str, Any], where: str) -> None:
    """Check (in place) the ``by`` and ``note`` texts and the ``at`` time of an action."""
    for name in ("by", "note"):
        value = values.get(name)
        if value is not None and not isinstance(value, str):
            _bad(path, f"{where}: {name!r} must be a text, not {_describe(value)}")
    if "at" in values:
        values["at"] = _when(path, values["at"], f"{where}: 'at'")


def _check_decision(path: str, values: dict[str, Any], where: str) -> None:
    """Check (in place) the ``by``, ``at``, ``sha256`` and ``note`` of a review or history entry."""
    _check_who_and_when(path, values, where)
    digest = values.get("sha256")
    if digest is not None and not is_sha256(digest):
        _bad(
            path,
            f"{where}: 'sha256' must be the 64 lowercase hex digits of what was approved, "
            f"not {_describe(digest)}",
        )


# -- writing -----------------------------------------------------------------------------------
#: Characters a literal block or a plain/single-quoted scalar does not read back as written:
#: CR, NEL, the Unicode line and paragraph separators (YAML line breaks, folded or normalised
#: when read), the byte order mark, tabs, and every control character.
_QUOTE = re.compile(
    "[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[\u2028\u2029\ufeff]"
)


def _str_representer(dumper: yaml.representer.SafeRepresenter, data: str) -> yaml.ScalarNode:
    """Multi-line texts as literal blocks (they diff well in pull requests); a text with a
    character of :data:`_QUOTE` double-quoted, with escapes, so that it reads back exactly."""
    if _QUOTE.search(data):
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"')
    if "\n" in data:
        # Literal blocks cannot carry trailing spaces on lines; the emitter falls back to quoting.
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


class _PyDumper(yaml.SafeDumper):
    """PyYAML's own safe dumper, with the record style of :func:`_str_representer`."""


_PyDumper.add_representer(str, _str_representer)

if hasattr(yaml, "CSafeDumper"):

    class _CDumper(yaml.CSafeDumper):  # type: ignore[misc,name-defined]
        """libyaml's safe dumper (several times faster), with the record style."""

    _CDumper.add_representer(str, _str_representer)
    #: The fast dumper, used for a record whose every text libyaml writes as PyYAML does.
    SAFE_DUMPER: type = _CDumper
else:  # pragma: no cover - PyYAML without libyaml
    SAFE_DUMPER = _PyDumper

#: Characters outside the Basic Multilingual Plane: libyaml escapes them (``\U0001F600``),
#: PyYAML writes them as they are.
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _dumper_for(value: Any) -> type:
    """:data:`SAFE_DUMPER` when libyaml writes ``value`` byte for byte as PyYAML does, else
    PyYAML's dumper: record files look the same whichever is installed, and never change
    when rewritten.

    The two differ only where PyYAML would write a double-quoted scalar (they fold long ones
    differently), i.e. for a text with a :data:`_QUOTE` character, a multi-line text with a
    space before a line break or at its end, or a multi-line or long mapping key; for a
    multi-line text that ends with a line break (libyaml then ends the document with
    ``...``); and for characters outside the BMP (emoji), which libyaml escapes. Every one
    reads back the same either way.
    """
    if SAFE_DUMPER is _PyDumper:
        return _PyDumper
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _QUOTE.search(item) or _ASTRAL.search(item):
                return _PyDumper
            if "\n" in item and (" \n" in item or item.endswith((" ", "\n"))):
                return _PyDumper
        elif isinstance(item, dict):
            for key in item:
                if isinstance(key, str) and ("\n" in key or len(key) > 100):
                    return _PyDumper
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return SAFE_DUMPER
