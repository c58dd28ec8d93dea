"""What a site publishes about its AI items: per-page disclosures, the ledger, image files.

This joins the engine's scan (directives, records) with where pages are published (URLs,
titles, front matter) into :mod:`aicraft.disclosure` objects, and prepares the image files a
site serves (metadata embedded, responsive variants, optional C2PA signature). Both the MkDocs
plugin and the CLI use it; it never imports MkDocs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aicraft import __version__
from aicraft.config import Settings
from aicraft.disclosure import (
    C2PA_NOT_SIGNED,
    PageDisclosure,
    PublishedItem,
    badge_text,
    is_trained,
    ledger_document,
    ledger_entry,
    page_disclosure,
    source_type_uri,
    words,
)
from aicraft.engine import Engine, SiteScan
from aicraft.errors import AicraftError, Problem, StoreError
from aicraft.records import Record
from aicraft.review import content_sha256

ASSET_DIR = "assets/aicraft"
DEFAULT_WIDTHS = (480, 960)
VARIANT_FORMAT = "webp"


@dataclass(frozen=True)
class PageInfo:
    """Where and how a page is published: its URL (relative to the site root), its title,
    its front matter and its human authors' names."""

    src: str
    url: str = ""
    title: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)
    authors: tuple[Any, ...] = ()


@dataclass
class PublishedImage:
    """A store image as the site serves it.

    ``sha256`` is the published file's (metadata embedded, maybe signed): what the ledger
    lists. ``source_sha256`` is the store file's: what an approval binds to (see
    :func:`aicraft.review.content_sha256`), so review states are checked against it.
    """

    name: str
    data: bytes
    sha256: str
    c2pa: str = C2PA_NOT_SIGNED
    variants: dict[int, tuple[str, bytes]] = field(default_factory=dict)
    source_sha256: str = ""


@dataclass
class Publication:
    """Every page's disclosure and the site's ledger entries."""

    pages: dict[str, PageDisclosure] = field(default_factory=dict)
    items: dict[str, list[PublishedItem]] = field(default_factory=dict)
    entries: list[dict[str, Any]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    def shares(self) -> dict[str, float]:
        """The AI share of each page's words, for pages that have one."""
        return {src: page.ai_share for src, page in self.pages.items() if page.ai_share is not None}

    def document(
        self,
        settings: Any,
        generated_at: str,
        elsewhere: Mapping[str, Sequence[str]] | None = None,
        listings: Sequence[tuple[str, str, str]] = (),
    ) -> dict[str, Any]:
        """The ``ai-disclosures.json`` document (``elsewhere``, ``listings``: see
        :func:`ledger_document`)."""
        return ledger_document(
            self.entries, settings, generated_at, list(self.pages.values()), elsewhere, listings
        )


def title_of(meta: Mapping[str, Any], markdown: str, src: str) -> str:
    """A page's title: front matter ``title``, else its first ``# `` heading, else its path."""
    if isinstance(meta.get("title"), str):
        return meta["title"]
    for line in markdown.splitlines():
        if line.startswith("# "):
            return line[2:].strip().rstrip("#").strip()
    return src


def build(
    engine: Engine,
    site: SiteScan,
    pages: Mapping[str, PageInfo] | None = None,
    images: Mapping[str, PublishedImage] | None = None,
) -> Publication:
    """Disclosures of every page with AI items or an ``authorship:`` declaration.

    ``pages`` give URLs, titles and front matter (missing pages get their source path as URL
    and the scanner's front matter); ``images`` the published image files (for their sha256
    and C2PA state). An image's review is checked against its store file's sha256 (what an
    approval binds to); the ledger lists the published file's sha256.
    """
    settings = engine.settings
    pages = pages or {}
    images = images or {}
    result = Publication()
    seen: set[tuple[str, str]] = set()
    for item in site.items:
        if (item.page, item.key) in seen:
            continue
        seen.add((item.page, item.key))
        try:
            record = engine.record(item.key)
        except StoreError:
            continue
        if record is None:
            continue
        info = pages.get(item.page) or PageInfo(src=item.page, url=item.page)
        image = images.get(record.published_image) if record.kind == "image" else None
        published = PublishedItem.from_spec(
            record,
            item.spec,
            page_src=item.page,
            page_url=info.url,
            page_title=info.title,
            show_prompts=settings.show_prompts,
            c2pa=image.c2pa if image else C2PA_NOT_SIGNED,
            content_url=f"{ASSET_DIR}/{record.published_image}" if record.kind == "image" else None,
            # What the review binds to: the store file, not the published copy (whose
            # embedded metadata, and signature, make its bytes differ).
            content_sha256=image.source_sha256 if image else _file_sha(engine, record),
        )
        result.items.setdefault(item.page, []).append(published)
        entry = ledger_entry(published, settings)
        if image is not None:
            entry["content_sha256"] = image.sha256  # the ledger names the file it serves
        result.entries.append(entry)
    for src, scan in site.pages.items():
        info = pages.get(src) or PageInfo(src=src, url=src, meta=scan.meta)
        try:
            disclosure = page_disclosure(
                result.items.get(src, ()),
                len(words(scan.human_text)),
                info.meta.get("authorship"),
                page_src=src,
                page_url=info.url,
                title=info.title,
            )
        except AicraftError as exc:
            result.problems.append(
                Problem(src, 1, f"authorship: {exc}", "see the README's authorship section")
            )
            continue
        if disclosure is not None:
            result.pages[src] = disclosure
    return result


def _file_sha(engine: Engine, record: Record) -> str | None:
    if record.kind != "image":
        return None
    try:
        return content_sha256(record, engine.store)
    except (OSError, StoreError):
        return None


def generated_at(records: list[Record]) -> str:
    """A reproducible timestamp for the ledger: ``SOURCE_DATE_EPOCH``, else the newest record."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), UTC).isoformat().replace("+00:00", "Z")
    stamps = [r.created for r in records if r.created]
    return max(stamps) if stamps else "1970-01-01T00:00:00Z"


# -- image files ------------------------------------------------------------------------------
def image_disclosure(record: Record, alt: str, settings: Any, show_prompt: bool) -> Any:
    """The metadata written into a published image file."""
    from aicraft.images import ImageDisclosure

    artist = (
        f"{record.model} ({record.provider}), an AI model"
        if is_trained(record)
        else f"{record.model} (aicraft offline procedural generator, no trained model)"
    )
    edited_by = (record.image_edit or {}).get("by")
    if edited_by:
        artist += f"; edited by {edited_by}"
    return ImageDisclosure(
        source_type=source_type_uri(record),  # compositeWith... once a human edited it
        ai_system=record.model,
        ai_system_version=None,
        provider=record.provider,
        prompt=record.prompt if show_prompt else None,
        prompt_sha256=hashlib.sha256(record.prompt.encode("utf-8")).hexdigest(),
        prompt_writer=getattr(settings, "editorial_responsibility", None),
        description=alt,
        credit=f"{badge_text(record)} ({record.model} via {record.provider}), published with "
        "aicraft",
        rights=getattr(settings, "image_rights", None),
        artist=artist,
        software=f"aicraft {__version__}",
        edited_by=edited_by,
    )


def variant_name(name: str, width: int) -> str:
    """File name of a responsive variant: ``<key16>-w480.webp``."""
    stem = name.rsplit(".", 1)[0]
    return f"{stem}-w{width}.{VARIANT_FORMAT}"


def publish_images(
    engine: Engine,
    site: SiteScan,
    widths: tuple[int, ...] = DEFAULT_WIDTHS,
    cache_dir: Path | None = None,
    workers: int | None = None,
) -> tuple[dict[str, PublishedImage], list[Problem]]:
    """Every image the site shows, with metadata embedded, variants made and (when a
    certificate is configured) a C2PA signature, keyed by store file name.

    Results are cached in ``cache_dir`` by a digest of the image, its metadata and the
    settings, so rebuilds redo nothing; images are processed on all cores.

    Each image fails alone: one that cannot be read, is not a PNG, WebP or JPEG image, is
    corrupt, or has more pixels than ``max_image_pixels`` (read from its header, before
    anything decodes it) is left out and reported as a Problem at its directive that names
    the record file and the image.
    """
    from aicraft import images

    settings = engine.settings
    max_pixels = int(getattr(settings, "max_image_pixels", None) or Settings.max_image_pixels)
    jobs: dict[str, Any] = {}
    owners: dict[str, tuple[str, int, Path]] = {}
    problems: list[Problem] = []
    for item in site.items:
        if item.spec.kind != "image":
            continue
        try:
            record = engine.record(item.key)
        except StoreError as exc:
            problems.append(Problem(item.page, item.line, str(exc)))
            continue
        if record is None:
            continue
        show = item.spec.show_prompt if item.spec.show_prompt is not None else settings.show_prompts
        meta = image_disclosure(record, item.spec.alt or "", settings, show)
        # Only what the item shows: unpicked candidates and an edited image's unedited
        # original stay in the store, unpublished (no reader and no editor sees them there).
        name = record.published_image
        jobs.setdefault(name, meta)
        owners.setdefault(name, (item.page, item.line, engine.store.record_path(record.key)))
    signer = _signer(settings)

    def work(name: str) -> PublishedImage | Problem:
        page, line, record_path = owners[name]
        try:
            source = engine.store.read_file(name)  # never through a symlink
            images.read_header(source, max_pixels)  # before anything decodes it
            return _publish_one(name, source, jobs[name], widths, signer, cache_dir)
        except (StoreError, images.ImageError, *images.DECODE_ERRORS) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return Problem(
                page,
                line,
                f"{record_path}: its image {name} is not published: {reason}",
                "restore the image from version control, or delete the record and run "
                "`aicraft generate` to make it again",
            )

    published: dict[str, PublishedImage] = {}
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 2) as pool:
        for name, result in zip(jobs, pool.map(work, jobs), strict=True):
            if isinstance(result, Problem):
                problems.append(result)
            else:
                published[name] = result
    return published, problems


def _signer(settings: Any) -> tuple[bytes, bytes, str | None, str | None] | None:
    conf = getattr(settings, "c2pa", None) or {}
    if not conf:
        return None
    base = Path(settings.base_dir)
    try:
        cert = (base / conf["cert"]).read_bytes()
        key = (base / conf["key"]).read_bytes()
    except KeyError as exc:
        raise AicraftError(f"c2pa setting needs {exc.args[0]!r}: a path to a PEM file") from None
    except OSError as exc:
        raise AicraftError(f"c2pa: cannot read {exc.filename}: {exc.strerror}") from None
    return cert, key, conf.get("ta_url"), conf.get("training_mining")


def _publish_one(
    name: str,
    source: bytes,
    meta: Any,
    widths: tuple[int, ...],
    signer: tuple[bytes, bytes, str | None, str | None] | None,
    cache_dir: Path | None,
) -> PublishedImage:
    from aicraft import images

    source_sha256 = hashlib.sha256(source).hexdigest()
    digest = hashlib.sha256(
        json.dumps(
            [
                __version__,
                source_sha256,
                repr(meta),
                list(widths),
                signer is not None and hashlib.sha256(signer[0]).hexdigest(),
            ]
        ).encode()
    ).hexdigest()[:32]
    cached = _from_cache(cache_dir, digest, name, widths, source_sha256) if signer is None else None
    if cached is not None:
        return cached
    data = images.embed_metadata(source, meta, "PNG")
    variants = {
        width: (variant_name(name, width), blob)
        for width, blob in images.make_variants(data, meta, widths, VARIANT_FORMAT.upper()).items()
    }
    state = C2PA_NOT_SIGNED
    if signer is not None:
        cert, key, ta_url, mining = signer
        # A provider's own signed manifest (OpenAI adds one) cannot survive the embedding;
        # its original becomes the parent ingredient, so its claim stays verifiable.
        parent = source if images.has_c2pa_manifest(source) else None

        def sign(blob: bytes, fmt: str, resized: bool = False) -> bytes:
            return images.sign_c2pa(
                blob,
                fmt,
                meta,
                cert,
                key,
                ta_url,
                training_mining=mining,
                parent=parent,
                resized=resized,
            )

        data = sign(data, "png")
        variants = {w: (n, sign(b, VARIANT_FORMAT, resized=True)) for w, (n, b) in variants.items()}
        state = images.c2pa_state(data, "png")
    result = PublishedImage(
        name, data, hashlib.sha256(data).hexdigest(), state, variants, source_sha256
    )
    if signer is None:
        _to_cache(cache_dir, digest, result)
    return result


def _from_cache(
    cache_dir: Path | None, digest: str, name: str, widths: tuple[int, ...], source_sha256: str
) -> PublishedImage | None:
    if cache_dir is None:
        return None
    folder = cache_dir / digest
    main = folder / name
    if not main.is_file():
        return None
    data = main.read_bytes()
    variants = {}
    for width in widths:
        path = folder / variant_name(name, width)
        if path.is_file():
            variants[width] = (path.name, path.read_bytes())
    return PublishedImage(
        name, data, hashlib.sha256(data).hexdigest(), C2PA_NOT_SIGNED, variants, source_sha256
    )


def _to_cache(cache_dir: Path | None, digest: str, image: PublishedImage) -> None:
    if cache_dir is None:
        return
    from aicraft.store import atomic_write

    folder = cache_dir / digest
    try:
        for vname, blob in image.variants.values():
            atomic_write(folder / vname, blob)
        atomic_write(folder / image.name, image.data)  # last: marks the entry complete
    except OSError:
        pass  # a cache that cannot be written only costs time


def srcset(image: PublishedImage | None, width: int | None) -> str:
    """``srcset`` of an image's variants plus the original, with placeholder URLs."""
    if image is None or not image.variants:
        return ""
    from aicraft.render import ASSET_SCHEME

    parts = [f"{ASSET_SCHEME}{vname} {w}w" for w, (vname, _) in sorted(image.variants.items())]
    if width:
        parts.append(f"{ASSET_SCHEME}{image.name} {width}w")
    return ", ".join(parts)
