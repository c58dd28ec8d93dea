"""Disclosure inside image files: embedded metadata, responsive variants and optional C2PA.

Pure functions over image bytes (PNG, WebP, JPEG); no MkDocs. What goes where (see
DISCLOSURE.md, "In image files" and "C2PA"):

- XMP: ``Iptc4xmpExt:DigitalSourceType`` (the full IPTC URI), the IPTC 2025.1 AI fields
  ``AISystemUsed``, ``AISystemVersionUsed``, ``AIPromptWriterName``, ``AIPromptInformation``,
  plus ``dc:description``, ``photoshop:Credit``, ``dc:rights`` and ``xmp:CreatorTool``;
- EXIF IFD0: ImageDescription, Artist, Software, Copyright;
- PNG only: text chunks (Description, Author, Software, Copyright, Source, Comment);
- optionally a signed C2PA manifest (``c2pa-python``, the ``aicraft[c2pa]`` extra).

Metadata is written into the container (PNG chunks, JPEG APP1 segments, WebP RIFF chunks)
without decoding or re-encoding the pixels, so embedding is lossless and cheap; the image is
only re-encoded when the output format differs from the input's, or for a downscaled variant.
Order matters: embed first, sign last. Any change after signing breaks the C2PA manifest, so
embedding drops a manifest the input already carried (it could only fail validation).

EXIF ASCII fields carry UTF-8 bytes (what ExifTool writes, and reads back as UTF-8); XMP is
the authoritative copy. EXIF the input carried is replaced, not merged.
"""

from __future__ import annotations

import io
import json
import re
import struct
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO
from xml.etree import ElementTree as ET

from PIL import Image, TiffImagePlugin, UnidentifiedImageError

from aicraft import __version__
from aicraft.errors import AicraftError

# --- vocabulary ---------------------------------------------------------------------------

IPTC_DIGITAL_SOURCE_TYPE_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"
"""Base of the IPTC Digital Source Type URIs (http, as IPTC publishes them)."""

DIGITAL_SOURCE_TYPES = frozenset(
    {
        "trainedAlgorithmicMedia",
        "compositeWithTrainedAlgorithmicMedia",
        "algorithmicMedia",
        "compositeSynthetic",
        "algorithmicallyEnhanced",
        "humanEdits",
        "digitalCreation",
        "digitalCapture",
        "computationalCapture",
        "compositeCapture",
        "composite",
        "screenCapture",
        "virtualRecording",
        "dataDrivenMedia",
    }
)
"""IPTC Digital Source Type codes accepted in :class:`ImageDisclosure`."""

NS_X = "adobe:ns:meta/"
NS_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
NS_DC = "http://purl.org/dc/elements/1.1/"
NS_PHOTOSHOP = "http://ns.adobe.com/photoshop/1.0/"
NS_XMP = "http://ns.adobe.com/xap/1.0/"
NS_IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
NS_XML = "http://www.w3.org/XML/1998/namespace"

_PREFIXES = {
    NS_DC: "dc",
    NS_PHOTOSHOP: "photoshop",
    NS_XMP: "xmp",
    NS_IPTC_EXT: "Iptc4xmpExt",
    NS_RDF: "rdf",
    "http://ns.adobe.com/xap/1.0/rights/": "xmpRights",
    "http://ns.adobe.com/xap/1.0/mm/": "xmpMM",
    "http://purl.org/dc/terms/": "dcterms",
}

EXIF_IMAGE_DESCRIPTION = 0x010E
EXIF_SOFTWARE = 0x0131
EXIF_ARTIST = 0x013B
EXIF_COPYRIGHT = 0x8298
_EXIF_NAMES = {
    EXIF_IMAGE_DESCRIPTION: "ImageDescription",
    EXIF_SOFTWARE: "Software",
    EXIF_ARTIST: "Artist",
    EXIF_COPYRIGHT: "Copyright",
}

MAX_XMP_BYTES = 60_000
"""Cap on the XMP packet (a JPEG APP1 segment holds at most 65,502 bytes of XMP)."""

MAX_EXIF_FIELD_BYTES = 8_000
"""Cap on each EXIF string (the whole EXIF block must fit one 64 KB JPEG segment)."""

FORMATS = ("PNG", "WEBP", "JPEG")
MIME_TYPES = {"PNG": "image/png", "WEBP": "image/webp", "JPEG": "image/jpeg"}

# PNG text keywords aicraft writes (and replaces when re-embedding).
_PNG_TEXT_KEYS = ("Description", "Author", "Software", "Copyright", "Source", "Comment")
_XMP_PNG_KEY = b"XML:com.adobe.xmp"
_XMP_JPEG_NS = b"http://ns.adobe.com/xap/1.0/\x00"
_XMP_JPEG_EXT_NS = b"http://ns.adobe.com/xmp/extension/\x00"
_EXIF_HEADER = b"Exif\x00\x00"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# --- errors -------------------------------------------------------------------------------


class ImageError(AicraftError):
    """An image that cannot be read or written (unsupported format, corrupt data)."""


class C2paUnavailable(AicraftError):
    """C2PA signing was asked for but c2pa-python is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "C2PA signing needs the optional c2pa-python package: "
            'install it with `pip install "aicraft[c2pa]"`, or remove the C2PA certificate '
            "from the aicraft settings."
        )


class C2paSigningError(AicraftError):
    """c2pa-python refused to sign (bad certificate chain or key, unsupported image...)."""


# --- the disclosure -----------------------------------------------------------------------

_SHA256_RE = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ImageDisclosure:
    """What an AI-made image file says about itself.

    ``source_type`` is an IPTC Digital Source Type code (``trainedAlgorithmicMedia`` for a
    trained model, ``algorithmicMedia`` for the offline procedural generator) or its full URI.
    ``prompt`` is ``None`` when prompts are private: the file then carries
    ``sha256:<prompt_sha256>`` as its ``AIPromptInformation``. ``artist`` names what made the
    image (never a human who did not make it); ``software`` is e.g. ``"aicraft 0.1.0"``.
    ``edited_by`` names the human who edited the model's image, if one did (``source_type``
    is then the edited image's, e.g. ``compositeWithTrainedAlgorithmicMedia``).
    """

    source_type: str
    ai_system: str
    ai_system_version: str | None
    provider: str
    prompt: str | None
    prompt_sha256: str
    prompt_writer: str | None
    description: str
    credit: str
    rights: str | None
    artist: str
    software: str
    edited_by: str | None = None

    def __post_init__(self) -> None:
        code = self.source_type.removeprefix(IPTC_DIGITAL_SOURCE_TYPE_BASE)
        if code not in DIGITAL_SOURCE_TYPES:
            raise ValueError(
                f"unknown IPTC digital source type {self.source_type!r}; "
                f"use one of {sorted(DIGITAL_SOURCE_TYPES)}"
            )
        digest = self.prompt_sha256.removeprefix("sha256:")
        if not _SHA256_RE.fullmatch(digest):
            raise ValueError("prompt_sha256 must be 64 lowercase hex digits")
        if not self.ai_system.strip():
            raise ValueError("ai_system must name the exact model or generator")

    @property
    def source_type_code(self) -> str:
        """The IPTC code alone, e.g. ``trainedAlgorithmicMedia``."""
        return self.source_type.removeprefix(IPTC_DIGITAL_SOURCE_TYPE_BASE)

    @property
    def source_type_uri(self) -> str:
        """The full IPTC URI, e.g. ``http://cv.iptc.org/.../trainedAlgorithmicMedia``."""
        return IPTC_DIGITAL_SOURCE_TYPE_BASE + self.source_type_code

    @property
    def prompt_digest(self) -> str:
        """The prompt's sha256 as ``sha256:<hex>``."""
        return "sha256:" + self.prompt_sha256.removeprefix("sha256:")

    @property
    def prompt_information(self) -> str:
        """``AIPromptInformation``: the prompt, or ``sha256:<hex>`` when it is private."""
        return self.prompt_digest if self.prompt is None else self.prompt


# --- text hygiene -------------------------------------------------------------------------

# Characters XML 1.0 forbids (C0 controls but tab/LF/CR, lone surrogates, U+FFFE/U+FFFF).
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _clean(text: str) -> str:
    """``text`` with characters no XML, EXIF or PNG text can carry replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", text)


def _xml_text(text: str) -> str:
    """Escape for XML element content; CR is kept as a character reference."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _truncate_utf8(text: str, max_bytes: int, marker: str = " … [truncated]") -> str:
    """``text`` cut on a character boundary so its UTF-8 form fits ``max_bytes``."""
    raw = text.encode("utf-8")
    if len(raw) <= max_bytes:
        return text
    keep = max(0, max_bytes - len(marker.encode("utf-8")))
    return raw[:keep].decode("utf-8", "ignore") + marker


# --- XMP ----------------------------------------------------------------------------------


def _xmp_fields(meta: ImageDisclosure) -> dict[str, str]:
    """The XMP properties to write, in order (``None`` values left out)."""
    fields: dict[str, str | None] = {
        "Iptc4xmpExt:DigitalSourceType": meta.source_type_uri,
        "Iptc4xmpExt:AISystemUsed": meta.ai_system,
        "Iptc4xmpExt:AISystemVersionUsed": meta.ai_system_version,
        "Iptc4xmpExt:AIPromptWriterName": meta.prompt_writer,
        "Iptc4xmpExt:AIPromptInformation": meta.prompt_information,
        "dc:description": meta.description,
        "photoshop:Credit": meta.credit,
        "dc:rights": meta.rights,
        "xmp:CreatorTool": meta.software,
    }
    return {k: _clean(v) for k, v in fields.items() if v is not None}


_LANG_ALT = {"dc:description", "dc:rights"}


def _render_xmp(fields: Mapping[str, str]) -> bytes:
    lines = [
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>',
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">',
        f' <rdf:RDF xmlns:rdf="{NS_RDF}">',
        '  <rdf:Description rdf:about=""',
        f'    xmlns:Iptc4xmpExt="{NS_IPTC_EXT}"',
        f'    xmlns:dc="{NS_DC}"',
        f'    xmlns:photoshop="{NS_PHOTOSHOP}"',
        f'    xmlns:xmp="{NS_XMP}">',
    ]
    for name, value in fields.items():
        text = _xml_text(value)
        if name in _LANG_ALT:
            lines.append(
                f'   <{name}><rdf:Alt><rdf:li xml:lang="x-default">{text}</rdf:li>'
                f"</rdf:Alt></{name}>"
            )
        else:
            lines.append(f"   <{name}>{text}</{name}>")
    lines += ["  </rdf:Description>", " </rdf:RDF>", "</x:xmpmeta>", '<?xpacket end="w"?>']
    return "\n".join(lines).encode("utf-8")


def _escaped_size(text: str) -> int:
    return len(_xml_text(text).encode("utf-8"))


def _cut_to_escaped_size(text: str, max_bytes: int, marker: str) -> str:
    """The longest prefix of ``text`` plus ``marker`` whose escaped form fits ``max_bytes``."""
    room = max_bytes - _escaped_size(marker)
    if room < 0:
        return ""
    used = 0
    for i, char in enumerate(text):  # escaping is per character, so sizes add up
        used += _escaped_size(char)
        if used > room:
            return text[:i] + marker
    return text


def xmp_packet(meta: ImageDisclosure, max_bytes: int = MAX_XMP_BYTES) -> bytes:
    """The XMP packet (UTF-8) for ``meta``, at most ``max_bytes`` long.

    Every value is XML-escaped. When the packet would be too long, the free-text values share
    the room left: short ones are kept whole and the long ones (in practice the prompt, maybe
    the description) are cut to equal shares and marked; a cut prompt ends with the sha256 of
    the full one. The digital source type is never shortened.
    """
    fields = _xmp_fields(meta)
    packet = _render_xmp(fields)
    if len(packet) <= max_bytes:
        return packet
    sizes = {k: _escaped_size(v) for k, v in fields.items()}
    sizes.pop("Iptc4xmpExt:DigitalSourceType")
    room = max_bytes - (len(packet) - sum(sizes.values()))
    if room < 0:
        raise ImageError("XMP packet cannot fit the size limit")
    # Water-filling: fields below an equal share keep their size, the rest split what is left.
    caps: dict[str, int] = {}
    pending = dict(sizes)
    while pending:
        share = room // len(pending)
        small = {k: n for k, n in pending.items() if n <= share}
        if not small:
            caps.update(dict.fromkeys(pending, share))
            break
        for name, n in small.items():
            caps[name] = n
            room -= n
            del pending[name]
    for name, cap in caps.items():
        if sizes[name] > cap:
            if name == "Iptc4xmpExt:AIPromptInformation" and meta.prompt is not None:
                marker = f" … [truncated; full prompt {meta.prompt_digest}]"
            else:
                marker = " … [truncated]"
            fields[name] = _cut_to_escaped_size(fields[name], cap, marker)
    return _render_xmp(fields)


def parse_xmp(packet: bytes | str) -> dict[str, Any]:
    """Simple and language-alternative properties of an XMP packet, keyed ``prefix:Name``.

    A Lang Alt gives its ``x-default`` (else first) item; a Bag or Seq gives a list.
    Properties of namespaces aicraft does not know are keyed ``{uri}Name``.
    """
    root = ET.fromstring(packet.encode("utf-8") if isinstance(packet, str) else packet)
    out: dict[str, Any] = {}
    for desc in root.iter(f"{{{NS_RDF}}}Description"):
        for attr, value in desc.attrib.items():
            if not attr.startswith(f"{{{NS_RDF}}}"):
                out[_qname(attr)] = value
        for prop in desc:
            out[_qname(prop.tag)] = _xmp_value(prop)
    return out


def _qname(tag: str) -> str:
    if tag.startswith("{"):
        uri, _, local = tag[1:].partition("}")
        prefix = _PREFIXES.get(uri)
        return f"{prefix}:{local}" if prefix else tag
    return tag


def _xmp_value(prop: ET.Element) -> Any:
    resource = prop.get(f"{{{NS_RDF}}}resource")
    if resource is not None:
        return resource
    container = next(iter(prop), None)
    if container is None:
        return prop.text or ""
    items = container.findall(f"{{{NS_RDF}}}li")
    if container.tag == f"{{{NS_RDF}}}Alt":
        for li in items:
            if li.get(f"{{{NS_XML}}}lang") == "x-default":
                return li.text or ""
        return (items[0].text or "") if items else ""
    if container.tag in (f"{{{NS_RDF}}}Bag", f"{{{NS_RDF}}}Seq"):
        return [li.text or "" for li in items]
    return {_qname(child.tag): child.text or "" for child in prop}


# --- EXIF ---------------------------------------------------------------------------------


def exif_block(meta: ImageDisclosure, fmt: str = "PNG") -> bytes:
    """The EXIF TIFF block (without the ``Exif\\0\\0`` header) for ``meta``'s IFD0 tags.

    For JPEG it also holds the IFD0 tags EXIF requires there (72 dpi, centred chroma). For PNG
    IFD0 starts at offset 10, not 8 (TIFF allows any even offset): ExifTool 12.x otherwise
    skips the EXIF of a C2PA-signed PNG, taking IFD0 for the JUMBF box at the same relative
    offset in the ``caBX`` chunk.
    """
    exif = Image.Exif()
    if fmt == "JPEG":
        exif[0x011A] = exif[0x011B] = TiffImagePlugin.IFDRational(72, 1)  # X/YResolution
        exif[0x0128] = 2  # ResolutionUnit: inches
        exif[0x0213] = 1  # YCbCrPositioning: centred
    values = {
        EXIF_IMAGE_DESCRIPTION: meta.description,
        EXIF_ARTIST: meta.artist,
        EXIF_SOFTWARE: meta.software,
        EXIF_COPYRIGHT: meta.rights,
    }
    for tag, value in values.items():
        if value:
            text = _truncate_utf8(_clean(value).replace("\x00", ""), MAX_EXIF_FIELD_BYTES)
            # bytes keep their UTF-8 form; Pillow would turn a str into ASCII with '?'.
            exif[tag] = text.encode("utf-8")
    ifd0 = 10 if fmt == "PNG" else 8
    raw = exif.tobytes(offset=ifd0).removeprefix(_EXIF_HEADER)
    if ifd0 != 8:  # Pillow's header always points at 8: point it at the padded IFD0
        order = ">" if raw[:2] == b"MM" else "<"
        raw = raw[:4] + struct.pack(order + "I", ifd0) + b"\x00" * (ifd0 - 8) + raw[8:]
    return raw


def _png_texts(meta: ImageDisclosure) -> dict[str, str]:
    version = f" {meta.ai_system_version}" if meta.ai_system_version else ""
    texts = {
        "Description": meta.description,
        "Author": meta.artist,
        "Software": meta.software,
        "Copyright": meta.rights,
        "Source": f"{meta.ai_system}{version} ({meta.provider})",
        "Comment": meta.credit,
    }
    return {k: _clean(v) for k, v in texts.items() if v}


# --- containers ---------------------------------------------------------------------------


def normalize_format(fmt: str) -> str:
    """``"PNG"``, ``"WEBP"`` or ``"JPEG"`` for a format name, extension or MIME type."""
    name = fmt.strip().upper().removeprefix("IMAGE/").removeprefix(".")
    name = {"JPG": "JPEG", "JPE": "JPEG"}.get(name, name)
    if name not in FORMATS:
        raise ImageError(f"unsupported image format {fmt!r}; aicraft writes PNG, WebP or JPEG")
    return name


def sniff_format(data: bytes) -> str:
    """The container format of ``data`` from its magic bytes."""
    if data.startswith(_PNG_SIGNATURE):
        return "PNG"
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    raise ImageError("not a PNG, WebP or JPEG image")


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(type, raw chunk bytes) of a PNG, in file order."""
    chunks: list[tuple[bytes, bytes]] = []
    pos = len(_PNG_SIGNATURE)
    while pos + 8 <= len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        ctype = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ImageError("truncated PNG chunk")
        chunks.append((ctype, data[pos:end]))
        pos = end
        if ctype == b"IEND":
            break
    return chunks


def _png_chunk(ctype: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(ctype + payload) & 0xFFFFFFFF
    return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", crc)


def _png_text_chunk(key: str, value: str) -> bytes:
    try:
        return _png_chunk(b"tEXt", key.encode("latin-1") + b"\x00" + value.encode("latin-1"))
    except UnicodeEncodeError:
        return _png_itxt(key.encode("latin-1"), value.encode("utf-8"))


def _png_itxt(key: bytes, value: bytes) -> bytes:
    # keyword \0, compression flag 0, method 0, empty language \0, empty translation \0
    return _png_chunk(b"iTXt", key + b"\x00\x00\x00" + b"\x00" + b"\x00" + value)


def _png_text_key(ctype: bytes, raw: bytes) -> bytes | None:
    if ctype not in (b"tEXt", b"zTXt", b"iTXt"):
        return None
    return raw[8:-4].split(b"\x00", 1)[0]


def _embed_png(data: bytes, xmp: bytes, exif: bytes, texts: Mapping[str, str]) -> bytes:
    ours = {k.encode("latin-1") for k in texts} | {k.encode() for k in _PNG_TEXT_KEYS}
    ours.add(_XMP_PNG_KEY)
    new = [_png_chunk(b"eXIf", exif), _png_itxt(_XMP_PNG_KEY, xmp)]
    new += [_png_text_chunk(k, v) for k, v in texts.items()]
    out = [_PNG_SIGNATURE]
    inserted = False
    for ctype, raw in _png_chunks(data):
        if ctype in (b"eXIf", b"caBX") or _png_text_key(ctype, raw) in ours:
            continue
        if ctype == b"IDAT" and not inserted:
            out += new
            inserted = True
        out.append(raw)
    if not inserted:
        raise ImageError("PNG without image data")
    return b"".join(out)


def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, bytes]], bytes]:
    """(marker, raw segment) up to the first SOS, and the rest (scan data onwards)."""
    segments: list[tuple[int, bytes]] = []
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ImageError("corrupt JPEG: expected a marker")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA or marker == 0xD9:  # SOS or EOI: copy the rest verbatim
            return segments, data[pos:]
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            segments.append((marker, data[pos : pos + 2]))
            pos += 2
            continue
        (length,) = struct.unpack(">H", data[pos + 2 : pos + 4])
        segments.append((marker, data[pos : pos + 2 + length]))
        pos += 2 + length
    raise ImageError("corrupt JPEG: no image data")


def _jpeg_app(marker: int, payload: bytes) -> bytes:
    if len(payload) + 2 > 0xFFFF:
        raise ImageError("JPEG metadata segment over 64 KB")
    return bytes((0xFF, marker)) + struct.pack(">H", len(payload) + 2) + payload


def _is_ours_jpeg(marker: int, raw: bytes) -> bool:
    payload = raw[4:]
    if marker == 0xE1:
        return payload.startswith((_EXIF_HEADER, _XMP_JPEG_NS, _XMP_JPEG_EXT_NS))
    return marker == 0xEB and payload.startswith(b"JP")  # APP11 JUMBF: C2PA


def _embed_jpeg(data: bytes, xmp: bytes, exif: bytes) -> bytes:
    segments, rest = _jpeg_segments(data)
    kept = [(m, raw) for m, raw in segments if not _is_ours_jpeg(m, raw)]
    # JFIF's APP0 must stay first; EXIF's APP1 comes right after it (or after SOI).
    lead = 1 if kept and kept[0][0] == 0xE0 and kept[0][1][4:9] == b"JFIF\x00" else 0
    new = [_jpeg_app(0xE1, _EXIF_HEADER + exif), _jpeg_app(0xE1, _XMP_JPEG_NS + xmp)]
    parts = [data[:2]] + [raw for _, raw in kept[:lead]] + new
    parts += [raw for _, raw in kept[lead:]] + [rest]
    return b"".join(parts)


def _riff_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    """(fourcc, payload) of a WebP's RIFF chunks."""
    chunks: list[tuple[bytes, bytes]] = []
    (riff_size,) = struct.unpack("<I", data[4:8])
    end = min(len(data), 8 + riff_size)
    pos = 12
    while pos + 8 <= end:
        fourcc = data[pos : pos + 4]
        (size,) = struct.unpack("<I", data[pos + 4 : pos + 8])
        if pos + 8 + size > end:
            raise ImageError("truncated WebP chunk")
        chunks.append((fourcc, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + (size & 1)
    return chunks


def _riff(chunks: Iterable[tuple[bytes, bytes]]) -> bytes:
    body = b"".join(
        fourcc + struct.pack("<I", len(p)) + p + (b"\x00" if len(p) & 1 else b"")
        for fourcc, p in chunks
    )
    return b"RIFF" + struct.pack("<I", 4 + len(body)) + b"WEBP" + body


def _webp_canvas(chunks: Sequence[tuple[bytes, bytes]]) -> tuple[int, int, bool]:
    """Width, height and whether alpha is used, from a simple (VP8/VP8L) WebP."""
    for fourcc, p in chunks:
        if fourcc == b"VP8L" and len(p) >= 5 and p[0] == 0x2F:
            (bits,) = struct.unpack("<I", p[1:5])
            return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, bool(bits >> 28 & 1)
        if fourcc == b"VP8 " and len(p) >= 10 and p[3:6] == b"\x9d\x01\x2a":
            w, h = struct.unpack("<HH", p[6:10])
            return w & 0x3FFF, h & 0x3FFF, False
    raise ImageError("WebP without a VP8/VP8L image")


def _embed_webp(data: bytes, xmp: bytes, exif: bytes) -> bytes:
    chunks = [(f, p) for f, p in _riff_chunks(data) if f not in (b"EXIF", b"XMP ", b"C2PA")]
    exif_flag, xmp_flag = 0x08, 0x04
    if chunks and chunks[0][0] == b"VP8X":
        head = chunks[0][1]
        vp8x = bytes((head[0] | exif_flag | xmp_flag,)) + head[1:]
        chunks[0] = (b"VP8X", vp8x)
    else:
        width, height, alpha = _webp_canvas(chunks)
        flags = exif_flag | xmp_flag | (0x10 if alpha else 0)
        vp8x = (
            bytes((flags, 0, 0, 0))
            + (width - 1).to_bytes(3, "little")
            + (height - 1).to_bytes(3, "little")
        )
        chunks.insert(0, (b"VP8X", vp8x))
    return _riff([*chunks, (b"EXIF", exif), (b"XMP ", xmp)])


def _embed_container(data: bytes, fmt: str, meta: ImageDisclosure) -> bytes:
    xmp, exif = xmp_packet(meta), exif_block(meta, fmt)
    if fmt == "PNG":
        return _embed_png(data, xmp, exif, _png_texts(meta))
    if fmt == "JPEG":
        return _embed_jpeg(data, xmp, exif)
    return _embed_webp(data, xmp, exif)


# --- pixels -------------------------------------------------------------------------------

_ENCODE_OPTIONS: dict[str, dict[str, Any]] = {
    "PNG": {"compress_level": 6},
    "WEBP": {"quality": 82, "method": 4},
    "JPEG": {"quality": 88, "optimize": True},
}


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def _for_format(im: Image.Image, fmt: str) -> Image.Image:
    """``im`` in a mode ``fmt`` can store, keeping alpha wherever the format has it."""
    if fmt == "PNG":
        if im.mode in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
            return im
        return im.convert("RGBA" if _has_alpha(im) else "RGB")
    if fmt == "WEBP":
        if im.mode in ("RGB", "RGBA"):
            return im
        return im.convert("RGBA" if _has_alpha(im) else "RGB")
    if im.mode in ("L", "RGB", "CMYK"):
        return im
    if _has_alpha(im):  # JPEG has no alpha: flatten onto white
        rgba = im.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return im.convert("RGB")


def _encode(im: Image.Image, fmt: str, quality: int | None = None) -> bytes:
    options = dict(_ENCODE_OPTIONS[fmt])
    if quality is not None and fmt != "PNG":
        options["quality"] = quality
    icc = im.info.get("icc_profile")
    if icc:
        options["icc_profile"] = icc
    out = io.BytesIO()
    _for_format(im, fmt).save(out, fmt, **options)
    return out.getvalue()


def _open(data: bytes) -> Image.Image:
    try:
        im = Image.open(io.BytesIO(data))
    except (OSError, SyntaxError, ValueError) as exc:  # Pillow's "cannot identify" etc.
        raise ImageError(f"cannot read image: {exc}") from exc
    return im


# --- public API ---------------------------------------------------------------------------

#: What Pillow raises while reading a corrupt image (besides ImageError of our own parsers).
DECODE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    Image.DecompressionBombError,
)


def read_header(
    source: bytes | Path | BinaryIO, max_pixels: int | None = None
) -> tuple[str, int, int]:
    """``(format, width, height)`` of a PNG, WebP or JPEG image, from its header alone.

    ``source`` is the image's bytes, its file's path or an open binary file (of which only
    the header is read). No pixel is decoded, so this is cheap whatever the image, and safe
    for a decompression bomb: with ``max_pixels``, an image of more pixels is refused here,
    before anything decodes it. An ImageError says what is wrong: not such an image, no
    pixels, or too many.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            fp = io.BytesIO(source) if isinstance(source, bytes) else source
            with Image.open(fp, formats=FORMATS) as im:
                fmt, (width, height) = im.format or "", im.size
    except Image.DecompressionBombError:  # Pillow's own limit, far above any sane setting
        limit = max_pixels or Image.MAX_IMAGE_PIXELS
        raise ImageError(f"the image has more than {limit} pixels") from None
    except FileNotFoundError:
        raise ImageError("the image file is missing") from None
    except UnidentifiedImageError:
        raise ImageError("not a PNG, WebP or JPEG image") from None
    except DECODE_ERRORS as exc:
        raise ImageError(f"not a readable PNG, WebP or JPEG image: {exc}") from None
    if width <= 0 or height <= 0:
        raise ImageError("the image has no pixels")
    if max_pixels is not None and width * height > max_pixels:
        raise ImageError(
            f"the image is {width}x{height} pixels, more than the limit of {max_pixels} "
            "(max_image_pixels)"
        )
    return fmt, width, height


#: A channel must differ by more than this (of 255) for a pixel to count as changed: what
#: re-saving in another editor or format does to untouched pixels stays below it.
CHANGED_PIXEL_TOLERANCE = 8


def changed_share(original: bytes, edited: bytes, max_pixels: int | None = None) -> float | None:
    """Share (0..1) of the pixels of ``edited`` that differ from ``original``: how much of a
    model's image a human changed. ``None`` when the edit changed the size (a crop or a
    resize: pixels cannot be compared one to one).

    A pixel counts as changed when any channel (RGBA) differs by more than
    :data:`CHANGED_PIXEL_TOLERANCE`. Both headers are checked against ``max_pixels`` before
    anything is decoded.
    """
    from PIL import ImageChops

    sizes = [read_header(data, max_pixels)[1:] for data in (original, edited)]
    if sizes[0] != sizes[1]:
        return None
    with _open(original) as a, _open(edited) as b:
        diff = ImageChops.difference(a.convert("RGBA"), b.convert("RGBA"))
    strongest = diff.getchannel(0)
    for band in range(1, 4):
        strongest = ImageChops.lighter(strongest, diff.getchannel(band))
    changed = strongest.point(lambda v: 255 if v > CHANGED_PIXEL_TOLERANCE else 0)
    histogram = changed.histogram()
    width, height = sizes[1]
    return histogram[255] / (width * height)


def embed_metadata(data: bytes, meta: ImageDisclosure, fmt: str = "PNG") -> bytes:
    """``data`` as a ``fmt`` image (PNG, WEBP or JPEG) carrying ``meta`` as XMP, EXIF and,
    for PNG, text chunks.

    When ``data`` already is a ``fmt`` image, only the container changes: pixels, mode, ICC
    profile and compression stay byte for byte (no re-encode). Otherwise it is decoded and
    encoded once (JPEG loses alpha, flattened onto white). Metadata aicraft wrote before is
    replaced, not duplicated; an embedded C2PA manifest is dropped (it could no longer
    validate): sign with :func:`sign_c2pa` after embedding.
    """
    target = normalize_format(fmt)
    source = sniff_format(data)
    if source != target:
        with _open(data) as im:
            im.load()
            data = _encode(im, target)
    try:
        return _embed_container(data, target, meta)
    except (struct.error, IndexError) as exc:
        raise ImageError(f"corrupt {source} image: {exc}") from exc


def make_variants(
    data: bytes,
    meta: ImageDisclosure,
    widths: Sequence[int],
    fmt: str = "WEBP",
    quality: int | None = None,
) -> dict[int, bytes]:
    """Downscaled copies of ``data``, one per requested width below the original's.

    Keys are the widths (ascending); heights keep the aspect ratio (rounded, at least 1).
    Each variant is encoded once as ``fmt`` and carries the same metadata as
    :func:`embed_metadata` writes. Widths not smaller than the original are skipped (use the
    original for those).
    """
    target = normalize_format(fmt)
    if any(w <= 0 for w in widths):
        raise ValueError(f"variant widths must be positive, got {list(widths)}")
    with _open(data) as im:
        full_w, full_h = im.size
        wanted = sorted({w for w in widths if w < full_w})
        if not wanted:
            return {}
        sizes = {w: (w, max(1, round(w * full_h / full_w))) for w in wanted}
        if im.format == "JPEG":
            im.draft(None, sizes[wanted[-1]])  # decode at a reduced DCT scale when possible
        im.load()
        icc = im.info.get("icc_profile")
        base = im
        if im.mode not in ("L", "LA", "RGB", "RGBA"):
            base = im.convert("RGBA" if _has_alpha(im) else "RGB")
        variants: dict[int, bytes] = {}
        for w in wanted:
            small = base.resize(sizes[w], Image.Resampling.LANCZOS, reducing_gap=3.0)
            if icc:
                small.info["icc_profile"] = icc
            variants[w] = _embed_container(_encode(small, target, quality), target, meta)
    return variants


def read_metadata(data: bytes) -> dict[str, Any]:
    """What an image says about itself, read with Pillow.

    Keys: ``format``, ``width``, ``height``, ``mode``; ``xmp`` (properties keyed
    ``prefix:Name``, see :func:`parse_xmp`), ``xmp_packet`` (the raw text or ``None``);
    ``exif`` (ImageDescription, Artist, Software, Copyright when present, UTF-8 decoded);
    ``text`` (PNG text chunks; empty for other formats); ``c2pa_embedded`` (whether the file
    holds a C2PA manifest store, valid or not; see :func:`c2pa_state`).
    """
    with _open(data) as im:
        fmt = im.format or sniff_format(data)
        result: dict[str, Any] = {
            "format": fmt,
            "width": im.width,
            "height": im.height,
            "mode": im.mode,
        }
        raw_xmp = im.info.get("xmp")
        exif = im.getexif()
        text = dict(getattr(im, "text", {}) or {}) if fmt == "PNG" else {}
    packet = raw_xmp.decode("utf-8") if isinstance(raw_xmp, bytes) else raw_xmp
    result["xmp_packet"] = packet or None
    result["xmp"] = parse_xmp(packet) if packet else {}
    result["exif"] = {
        name: _exif_text(exif[tag]) for tag, name in _EXIF_NAMES.items() if tag in exif
    }
    text.pop(_XMP_PNG_KEY.decode(), None)
    result["text"] = {k: str(v) for k, v in text.items()}
    result["c2pa_embedded"] = has_c2pa_manifest(data)
    return result


def _exif_text(value: Any) -> str:
    if isinstance(value, bytes):
        raw = value
    else:
        try:  # Pillow decodes EXIF ASCII as Latin-1: recover the UTF-8 we wrote
            raw = str(value).encode("latin-1")
        except UnicodeEncodeError:
            return str(value)
    raw = raw.rstrip(b"\x00")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def has_c2pa_manifest(data: bytes) -> bool:
    """Whether ``data`` embeds a C2PA manifest store (found by container; not validated)."""
    try:
        fmt = sniff_format(data)
        if fmt == "PNG":
            return any(ctype == b"caBX" for ctype, _ in _png_chunks(data))
        if fmt == "WEBP":
            return any(fourcc == b"C2PA" for fourcc, _ in _riff_chunks(data))
        segments, _ = _jpeg_segments(data)
        return any(m == 0xEB and raw[4:6] == b"JP" for m, raw in segments)
    except (ImageError, struct.error, IndexError):
        return False


# --- C2PA ---------------------------------------------------------------------------------

_READ_SETTINGS: dict[str, Any] = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
_TRAINING_MINING_USES = ("allowed", "notAllowed")
_TRAINING_MINING_KEYS = (
    "cawg.ai_generative_training",
    "cawg.ai_training",
    "cawg.ai_inference",
    "cawg.data_mining",
)


def _c2pa() -> Any:
    try:
        import c2pa
    except ImportError as exc:
        raise C2paUnavailable() from exc
    return c2pa


#: The label of the provider's signed original among a manifest's ingredients.
PARENT_INGREDIENT = "provider-original"


def c2pa_manifest_definition(
    meta: ImageDisclosure,
    fmt: str,
    training_mining: str | None = None,
    *,
    parent: bool = False,
    resized: bool = False,
) -> dict[str, Any]:
    """The manifest aicraft signs.

    Without ``parent``: ``c2pa.created`` with the IPTC source type and aicraft as software
    agent. With ``parent`` (the provider signed its image with a C2PA manifest of its own, as
    OpenAI does): the provider's original is the ``parentOf`` ingredient
    (:data:`PARENT_INGREDIENT`), ``c2pa.opened`` from it, ``c2pa.resized`` for a ``resized``
    variant, and ``c2pa.edited.metadata`` for the disclosure aicraft embedded: the provider's
    signed claim of how the image was made stays verifiable. With ``training_mining``
    (``"notAllowed"`` or ``"allowed"``) also a ``cawg.training-mining`` assertion covering AI
    training, inference and data mining."""
    agent = {"name": "aicraft", "version": __version__}
    version = f" {meta.ai_system_version}" if meta.ai_system_version else ""
    made = _clean(f"Generated with {meta.ai_system}{version} ({meta.provider})")
    actions: list[dict[str, Any]]
    if parent:
        actions = [
            {
                "action": "c2pa.opened",
                "parameters": {"ingredientIds": [PARENT_INGREDIENT]},
                "description": made,
            }
        ]
        if resized:
            actions.append({"action": "c2pa.resized", "softwareAgent": agent})
        actions.append(
            {
                "action": "c2pa.edited.metadata",
                "softwareAgent": agent,
                "description": "AI disclosure embedded (XMP, EXIF, IPTC)",
            }
        )
    else:
        created = meta.source_type_uri
        if meta.edited_by and meta.source_type_code == "compositeWithTrainedAlgorithmicMedia":
            created = IPTC_DIGITAL_SOURCE_TYPE_BASE + "trainedAlgorithmicMedia"  # before the edit
        actions = [
            {
                "action": "c2pa.created",
                "digitalSourceType": created,
                "softwareAgent": agent,
                "description": made,
            }
        ]
    if meta.edited_by:  # a human's edit of the model's image, before aicraft published it
        actions.insert(
            1, {"action": "c2pa.edited", "description": _clean(f"Edited by {meta.edited_by}")}
        )
    assertions: list[dict[str, Any]] = [{"label": "c2pa.actions", "data": {"actions": actions}}]
    if training_mining is not None:
        if training_mining not in _TRAINING_MINING_USES:
            raise ValueError(f"training_mining must be one of {_TRAINING_MINING_USES}")
        entries = {key: {"use": training_mining} for key in _TRAINING_MINING_KEYS}
        assertions.append({"label": "cawg.training-mining", "data": {"entries": entries}})
    title = _truncate_utf8(_clean(meta.description), 200, "…") or meta.ai_system
    return {
        "claim_generator_info": [agent],
        "title": title,
        "format": MIME_TYPES[normalize_format(fmt)],
        "assertions": assertions,
    }


def sign_c2pa(
    data: bytes,
    fmt: str,
    meta: ImageDisclosure,
    cert_pem: bytes | str,
    key_pem: bytes | str,
    ta_url: str | None = None,
    *,
    training_mining: str | None = None,
    parent: bytes | None = None,
    resized: bool = False,
) -> bytes:
    """``data`` with a C2PA manifest signed ES256 by ``key_pem``; call it last.

    ``cert_pem`` is the chain, signing certificate first then its issuers (c2pa refuses a
    self-signed leaf). ``ta_url`` is an RFC 3161 timestamp authority, or ``None`` for no
    timestamp (then no network is used). ``parent``: the provider's original image when it
    carries a C2PA manifest of its own; it becomes the manifest's parent ingredient (see
    :func:`c2pa_manifest_definition`; ``resized`` for a variant). Raises
    :class:`C2paUnavailable` without c2pa-python and :class:`C2paSigningError` when c2pa
    refuses the credentials or image.
    """
    c2pa = _c2pa()
    target = normalize_format(fmt)
    actual = sniff_format(data)
    if actual != target:
        raise ImageError(f"cannot sign as {target}: the data is a {actual} image")
    settings = {
        "builder": {"thumbnail": {"enabled": False}},
        "verify": _READ_SETTINGS["verify"],
    }
    cert = cert_pem.encode("ascii") if isinstance(cert_pem, str) else cert_pem
    key = key_pem.encode("ascii") if isinstance(key_pem, str) else key_pem
    out = io.BytesIO()

    def sign(with_parent: bool) -> None:
        manifest = c2pa_manifest_definition(
            meta, target, training_mining, parent=with_parent, resized=resized
        )
        info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, cert, key, ta_url)
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Context.from_dict(settings) as context,
            c2pa.Builder(manifest, context=context) as builder,
        ):
            if with_parent and parent is not None:
                ingredient = {
                    "title": _truncate_utf8(_clean(meta.description), 200, "…") or "original",
                    "relationship": "parentOf",
                    "label": PARENT_INGREDIENT,
                }
                builder.add_ingredient(
                    ingredient, MIME_TYPES[sniff_format(parent)], io.BytesIO(parent)
                )
            builder.sign(signer, MIME_TYPES[target], io.BytesIO(data), out)

    try:
        try:
            sign(with_parent=parent is not None)
        except c2pa.C2paError:
            if parent is None:
                raise
            # The provider's manifest cannot be read (so it could never be verified either):
            # sign as if there were none rather than publish nothing.
            out.seek(0)
            out.truncate()
            sign(with_parent=False)
    except c2pa.C2paError as exc:
        raise C2paSigningError(
            f"C2PA signing failed: {exc}. The certificate must be a CA-issued ES256 (P-256) "
            "leaf followed by its chain, with the matching private key, in PEM."
        ) from exc
    return out.getvalue()


def _reader(data: bytes, fmt: str | None, trust_anchors_pem: bytes | None) -> Any:
    """A c2pa Reader over ``data`` (no remote manifest or OCSP fetch), or None if unsigned."""
    c2pa = _c2pa()
    mime = MIME_TYPES[normalize_format(fmt) if fmt else sniff_format(data)]
    settings: dict[str, Any] = dict(_READ_SETTINGS)
    if trust_anchors_pem:
        settings["trust"] = {"user_anchors": trust_anchors_pem.decode("ascii")}
    with c2pa.Context.from_dict(settings) as context:
        return c2pa.Reader.try_create(mime, io.BytesIO(data), None, context)


def read_c2pa_manifest(data: bytes, fmt: str | None = None) -> dict[str, Any] | None:
    """The C2PA manifest store as c2pa reports it (``active_manifest``, ``manifests``,
    ``validation_state``...), or ``None`` when there is none. Needs c2pa-python."""
    reader = _reader(data, fmt, None)
    if reader is None:
        return None
    with reader:
        return json.loads(reader.json())


def active_c2pa_manifest(data: bytes, fmt: str | None = None) -> dict[str, Any] | None:
    """The active manifest of ``data`` (its assertions, signature info...), or ``None``."""
    store = read_c2pa_manifest(data, fmt)
    if not store:
        return None
    return store.get("manifests", {}).get(store.get("active_manifest"))


def c2pa_state(data: bytes, fmt: str | None = None, trust_anchors_pem: bytes | None = None) -> str:
    """The C2PA validation state of ``data``, checked offline.

    - ``"not signed"``: no manifest store in the file;
    - ``"valid"``: signature and hashes verify, but the signer's chain is not on a trust list
      (C2PA state "Valid"; what a site's own CA gives unless ``trust_anchors_pem`` names it);
    - ``"trusted"``: as valid, and the chain ends in a trust anchor (C2PA state "Trusted");
    - ``"invalid: <codes>"``: the failure codes, e.g. ``assertion.dataHash.mismatch``;
    - ``"unverified: ..."``: a manifest is present but c2pa-python is not installed.
    """
    if not has_c2pa_manifest(data):
        return "not signed"
    try:
        c2pa = _c2pa()
    except C2paUnavailable:
        return 'unverified: install "aicraft[c2pa]" to validate the C2PA manifest'
    try:
        reader = _reader(data, fmt, trust_anchors_pem)
    except c2pa.C2paError as exc:  # a manifest store c2pa cannot even parse
        return f"invalid: {str(exc).strip().rstrip(':') or type(exc).__name__}"
    if reader is None:
        return "not signed"
    with reader:
        state = reader.get_validation_state() or ""
        results = reader.get_validation_results() or {}
        store = json.loads(reader.json())
    if state == "Trusted":
        return "trusted"
    if state == "Valid":
        return "valid"
    failures = [f.get("code", "") for f in results.get("activeManifest", {}).get("failure", [])]
    if not failures:
        failures = [s.get("code", "") for s in store.get("validation_status", [])]
    serious = [code for code in failures if code != "signingCredential.untrusted"]
    reason = ", ".join(serious or failures) or state or "unknown"
    return f"invalid: {reason}"
