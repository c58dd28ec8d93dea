"""The Record (provenance of one generation), its key and its file format.

A record file is Markdown with YAML front matter: the provenance fields of DESIGN.md, then the
text as published. Keys are the sha256 of a canonical JSON of everything that changes the output.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yaml

from aicraft.errors import StoreError

FORMAT = 1
#: libyaml's safe loader when PyYAML was built with it (about 9x faster), else the Python one.
SAFE_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
KEY_VERSION = 1
_KEY = re.compile(r"^[0-9a-f]{64}$")


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


def is_key(value: str) -> bool:
    """Whether ``value`` is a full 64-hex-digit key."""
    return bool(_KEY.match(value))


def utc_now() -> str:
    """The current UTC time, ISO 8601 with a Z, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Record:
    """One stored generation with its full provenance.

    For text, ``body`` is the text as published (an author may edit it) and ``original`` the raw
    output that was picked. For images, ``original`` is the picked image file's name, the
    ``candidates`` are file names, and ``body`` is empty.
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
    review: dict[str, Any] = field(
        default_factory=lambda: {"status": "pending", "by": None, "at": None, "sha256": None}
    )
    provider_label: str = ""
    source_type: str = ""
    format: int = FORMAT

    def __post_init__(self) -> None:
        if not self.original_sha256:
            self.original_sha256 = sha256_text(self.original)

    @property
    def short(self) -> str:
        """The 16-hex-digit short key used in file names and element ids."""
        return self.key[:16]

    @property
    def edited(self) -> bool:
        """Whether the published body differs from the model's original output."""
        return self.kind == "text" and self.body.strip() != self.original.strip()

    @property
    def image_files(self) -> list[str]:
        """File names of the images that belong to this record (picked first)."""
        if self.kind != "image":
            return []
        names = [self.original] + [c for c in self.candidates if c != self.original]
        return names

    def front_matter(self) -> dict[str, Any]:
        """The YAML front matter as an ordered mapping."""
        return {
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
            "picked": self.picked,
            "original": self.original,
            "original_sha256": self.original_sha256,
            "review": self.review,
        }

    def dumps(self) -> str:
        """The record file's text."""
        meta = yaml.dump(
            self.front_matter(),
            Dumper=_Dumper,
            sort_keys=False,
            allow_unicode=True,
            width=100,
            default_flow_style=False,
        )
        body = self.body if self.body.endswith("\n") or not self.body else self.body + "\n"
        return f"---\n{meta}---\n{body}"

    @classmethod
    def loads(cls, text: str, path: str = "<record>") -> Record:
        """Parse a record file; a StoreError names the file and what is wrong."""
        if not text.startswith("---\n"):
            raise StoreError(f"{path}: not a record file (it must start with a '---' line)")
        end = text.find("\n---\n", 3)
        if end < 0:
            if text.endswith("\n---"):
                end = len(text) - 4
            else:
                raise StoreError(f"{path}: the front matter is not closed by a '---' line")
        try:
            meta = yaml.load(text[4 : end + 1], Loader=SAFE_LOADER)
        except yaml.YAMLError as exc:
            raise StoreError(f"{path}: invalid YAML front matter: {exc}") from None
        if not isinstance(meta, dict):
            raise StoreError(f"{path}: the front matter must be a mapping")
        body = text[end + 5 :]
        return cls.from_front_matter(meta, body, path)

    @classmethod
    def from_front_matter(cls, meta: dict[str, Any], body: str, path: str) -> Record:
        """Build a record from parsed front matter, checking required fields and types."""
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
                raise StoreError(f"{path}: field {name!r} is missing or not a {typ.__name__}")
        if meta.get("format", FORMAT) != FORMAT:
            raise StoreError(f"{path}: record format {meta.get('format')!r} is not supported")
        if not is_key(meta["key"]):
            raise StoreError(f"{path}: 'key' must be 64 lowercase hex digits")
        if meta["kind"] not in ("text", "image"):
            raise StoreError(f"{path}: unknown kind {meta['kind']!r}")
        review = meta.get("review") or {}
        if not isinstance(review, dict):
            raise StoreError(f"{path}: 'review' must be a mapping")
        candidates = meta.get("candidates") or []
        if not isinstance(candidates, list) or not all(isinstance(c, str) for c in candidates):
            raise StoreError(f"{path}: 'candidates' must be a list of texts")
        try:
            picked = int(meta.get("picked") or 1)
        except (TypeError, ValueError):
            raise StoreError(f"{path}: 'picked' must be a number") from None
        return cls(
            key=meta["key"],
            kind=meta["kind"],
            provider=meta["provider"],
            provider_label=str(meta.get("provider_label") or ""),
            model=meta["model"],
            requested_model=meta.get("requested_model"),
            source_type=str(meta.get("source_type") or ""),
            prompt=meta["prompt"],
            system=meta.get("system"),
            params=dict(meta.get("params") or {}),
            created=str(meta.get("created") or ""),
            source=dict(meta.get("source") or {}),
            usage=dict(meta.get("usage") or {}),
            candidates=list(candidates),
            picked=picked,
            original=meta["original"],
            original_sha256=str(meta.get("original_sha256") or ""),
            review={"status": "pending", "by": None, "at": None, "sha256": None, **review},
            body=body.rstrip("\n") if meta["kind"] == "text" else "",
            format=FORMAT,
        )


class _Dumper(yaml.SafeDumper):
    """Writes multi-line strings as literal blocks, so records diff well in pull requests."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        # Literal blocks cannot carry trailing spaces on lines; PyYAML falls back to quoting.
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)
