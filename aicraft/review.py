"""Editorial review: approve, reject and pick, bound to the exact content approved.

An approval stores the sha256 of what was approved (the published text, or the picked image
file's bytes); editing the body afterwards makes the item "changed since approval" until it is
approved again. A ``review:`` block that says ``approved`` without such a sha256 binds to no
content and is no approval: the item stays pending. Every action is appended to the record's
review history.
"""

from __future__ import annotations

import difflib
import hashlib
import subprocess
from typing import Any

from aicraft.disclosure import review_state
from aicraft.errors import AicraftError
from aicraft.records import Record, is_sha256, sha256_text, utc_now
from aicraft.store import Store

PENDING, APPROVED, REJECTED, CHANGED = "pending", "approved", "rejected", "changed"


class ReviewError(AicraftError):
    """A review command that cannot be carried out (unknown id, ambiguous prefix, ...)."""


def content_sha256(record: Record, store: Store) -> str:
    """The sha256 of what a reader sees: the text as published, or the published image's
    bytes (the human's edit, else the picked image)."""
    if record.kind == "text":
        return sha256_text(record.body)
    return hashlib.sha256(store.read_file(record.published_image)).hexdigest()


def unbound_approval(record: Record) -> bool:
    """Whether the record says ``approved`` without the sha256 of what was approved.

    Such an approval binds to no content (a hand-edited ``review:`` block, say): it does not
    count, and :func:`state` reports the item as pending.
    """
    review = record.review or {}
    return review.get("status") == APPROVED and not is_sha256(review.get("sha256"))


def state(record: Record, content_sha: str | None = None) -> str:
    """pending, approved, rejected, or changed (approved, then edited).

    An approval counts only when it binds to content: its sha256 must be that of what is
    published now (else ``changed``); an approval without a sha256 is ``pending``. The rules
    are :func:`aicraft.disclosure.review_state`'s; ``content_sha`` defaults to the sha256 of
    the record's body.
    """
    current = content_sha if content_sha is not None else sha256_text(record.body)
    return review_state(record, current)[0]


def default_reviewer() -> str | None:
    """git's ``user.name``, or None when git or the setting is missing."""
    try:
        result = subprocess.run(
            ["git", "config", "user.name"], capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    name = result.stdout.strip()
    return name or None


def _history(record: Record) -> list[dict[str, Any]]:
    history = record.review.get("history")
    if not isinstance(history, list):
        history = []
        record.review["history"] = history
    return history


def _decide(record: Record, store: Store, status: str, by: str, note: str | None) -> Record:
    """Record a review decision bound to the sha256 of what is published now."""
    now = utc_now()
    digest = content_sha256(record, store)
    record.review.update(status=status, by=by, at=now, sha256=digest, note=note)
    _history(record).append({"action": status, "by": by, "at": now, "sha256": digest, "note": note})
    store.put(record)
    return record


def approve(record: Record, store: Store, by: str, note: str | None = None) -> Record:
    """Approve what is published now; the approval binds to its sha256."""
    if not by.strip():
        raise ReviewError("a reviewer name is needed: pass --by NAME")
    return _decide(record, store, APPROVED, by, note)


def reject(record: Record, store: Store, by: str, reason: str) -> Record:
    """Reject an item: it is never published as reviewed, and policy can block it."""
    if not reason.strip():
        raise ReviewError("say why: pass --reason TEXT")
    return _decide(record, store, REJECTED, by, reason)


def pick(record: Record, store: Store, number: int, by: str) -> Record:
    """Publish candidate ``number`` (1-based) instead of the current one.

    For text, the body becomes that candidate; an edited body is not thrown away silently:
    picking is refused while the body differs from the current original.
    """
    count = len(record.candidates)
    if count < 2:
        raise ReviewError(f"{record.short} has no candidates to pick from")
    if not 1 <= number <= count:
        raise ReviewError(f"{record.short} has candidates 1 to {count}, not {number}")
    if record.edited:
        undo = (
            f"`aicraft edit-image {record.short} --undo`"
            if record.kind == "image"
            else "restoring the original text"
        )
        raise ReviewError(
            f"{record.short} has human edits; undo them ({undo}) before picking another candidate"
        )
    chosen = record.candidates[number - 1]
    record.picked = number
    record.original = chosen
    digests = record.candidates_sha256  # checked against the candidates when read
    record.original_sha256 = digests[number - 1] if len(digests) == count else ""
    if record.kind == "text":
        record.body = chosen
    now = utc_now()
    record.review["picked_by"] = by
    record.review["picked_at"] = now
    action = f"picked candidate {number} of {count}"
    _history(record).append({"action": action, "by": by, "at": now})
    store.put(record)
    return record


def edit_image(
    record: Record,
    store: Store,
    data: bytes,
    by: str,
    note: str | None = None,
    max_pixels: int | None = None,
) -> Record:
    """Publish ``data``, a human's edit of the picked image, instead of the model's image.

    The edit is kept as ``<key16>-edited.png`` beside the model's image (which stays), and
    the record's ``image_edit`` says who made it, when, and how much of the image it changed
    (the share of pixels, or ``None`` for a crop or resize). It is disclosed as
    human-edited, and an earlier approval no longer counts (it bound to the old bytes).
    """
    from aicraft import images

    if record.kind != "image":
        raise ReviewError(
            f"{record.short} is a text item: edit its text below the front matter of "
            f"{store.record_path(record.key)}"
        )
    if not by.strip():
        raise ReviewError("who edited the image? pass --by NAME")
    try:
        images.read_header(data, max_pixels)
        changed = images.changed_share(store.read_file(record.original), data, max_pixels)
    except (images.ImageError, *images.DECODE_ERRORS) as exc:
        raise ReviewError(f"the edited image cannot be used: {exc}") from None
    if changed == 0:
        raise ReviewError(
            f"the edited image has the same pixels as {record.original}: there is no edit to "
            "publish"
        )
    # Named .png whatever its format, like the model's images: the site publishes PNG.
    name = f"{record.short}-edited.png"
    previous = record.published_image if record.image_edit else None
    now = utc_now()
    record.image_edit = {
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "by": by,
        "at": now,
        "changed": None if changed is None else round(changed, 6),
    }
    if note:
        record.image_edit["note"] = note
    _history(record).append({"action": "edited the image", "by": by, "at": now, "note": note})
    store.put(record, {name: data})
    if previous is not None and previous != name:
        store.remove_image(previous)
    return record


def undo_image_edit(record: Record, store: Store, by: str) -> Record:
    """Publish the model's image again; the human's edited file is deleted."""
    if record.image_edit is None:
        raise ReviewError(f"{record.short} has no image edit to undo")
    edited = record.published_image
    record.image_edit = None
    _history(record).append({"action": "undid the image edit", "by": by, "at": utc_now()})
    store.put(record)
    store.remove_image(edited)
    return record


def find(store: Store, ident: str) -> Record:
    """The record whose key starts with ``ident`` (at least 4 hex digits, unique)."""
    ident = ident.strip().lower()
    if len(ident) < 4 or any(c not in "0123456789abcdef" for c in ident):
        raise ReviewError(f"{ident!r} is not a record id: give at least 4 hex digits of its key")
    matches = [short for short in store.short_keys() if short.startswith(ident[:16])]
    records = []
    for short in matches:
        record = store.read_short(short)
        if record.key.startswith(ident):
            records.append(record)
    if not records:
        raise ReviewError(f"no record with an id starting {ident!r}; see `aicraft review list`")
    if len(records) > 1:
        options = ", ".join(r.short for r in records)
        raise ReviewError(f"{ident!r} matches several records ({options}); give more digits")
    return records[0]


def edit_diff(record: Record) -> str:
    """A unified diff of the published text against the model's original output."""
    if record.kind != "text" or not record.edited:
        return ""
    lines = difflib.unified_diff(
        record.original.splitlines(),
        record.body.splitlines(),
        fromfile="original (model output)",
        tofile="published",
        lineterm="",
    )
    return "\n".join(lines)
