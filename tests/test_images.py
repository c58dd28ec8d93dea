"""Disclosure inside image files: XMP/EXIF/PNG text, variants and C2PA.

Everything written is read back twice: with aicraft's own reader (Pillow) and, where it is on
PATH, with ExifTool as an independent reader (`apt-get install libimage-exiftool-perl`).
The C2PA tests need c2pa-python (the `aicraft[c2pa]` extra) and sign with a throwaway CA made
by `tests/certs.py`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import shutil
import struct
import subprocess
import sys
import xml.dom.minidom
import zlib
from dataclasses import replace
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from PIL import Image, ImageFile

from aicraft.errors import AicraftError
from aicraft.images import (
    IPTC_DIGITAL_SOURCE_TYPE_BASE,
    MAX_XMP_BYTES,
    C2paSigningError,
    C2paUnavailable,
    ImageDisclosure,
    ImageError,
    active_c2pa_manifest,
    c2pa_state,
    embed_metadata,
    has_c2pa_manifest,
    make_variants,
    read_header,
    read_metadata,
    sign_c2pa,
    xmp_packet,
)

EXIFTOOL = shutil.which("exiftool")
needs_exiftool = pytest.mark.skipif(
    EXIFTOOL is None,
    reason="exiftool not on PATH (apt-get install libimage-exiftool-perl): "
    "the independent-reader checks are skipped",
)
HAS_C2PA = (
    importlib.util.find_spec("c2pa") is not None
    and importlib.util.find_spec("cryptography") is not None
)
needs_c2pa = pytest.mark.skipif(
    not HAS_C2PA, reason='c2pa-python not installed (pip install "aicraft[c2pa]")'
)

FORMATS = ["PNG", "WEBP", "JPEG"]
TRAINED = IPTC_DIGITAL_SOURCE_TYPE_BASE + "trainedAlgorithmicMedia"
ALGORITHMIC = IPTC_DIGITAL_SOURCE_TYPE_BASE + "algorithmicMedia"

# Quotes, markup, an entity, a CDATA end, CR/LF/tab, Latin-1, CJK, an emoji and a control char.
HOSTILE = (
    'He said "hi" & \'bye\' <b>bold</b> &amp; ]]> <?xpacket end="w"?>\n'
    "line 2\r\nline 3\tcafé 漢字 🎨 bell\x07 end"
)
HOSTILE_CLEAN = HOSTILE.replace("\x07", "\ufffd")  # what XML/EXIF/PNG text can carry


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def make_meta(**changes: Any) -> ImageDisclosure:
    prompt = changes.pop("prompt", "A soft watercolour of frost on a wooden garden bench.")
    meta = ImageDisclosure(
        source_type="trainedAlgorithmicMedia",
        ai_system="gpt-image-1",
        ai_system_version="2025-04-15",
        provider="openai",
        prompt=prompt,
        prompt_sha256=sha(prompt or "a private prompt"),
        prompt_writer="Ed Itor",
        description="Frost on a wooden garden bench at dawn",
        credit="AI-generated image (gpt-image-1 via openai), published with aicraft",
        rights="© 2026 Example Magazine",
        artist="gpt-image-1 (openai) via aicraft",
        software="aicraft 0.1.0",
    )
    return replace(meta, **changes)


def offline_meta() -> ImageDisclosure:
    return make_meta(
        source_type="algorithmicMedia",
        ai_system="aicraft-procedural-1",
        ai_system_version=None,
        provider="offline",
        prompt_writer=None,
        rights=None,
        credit="AI-generated image (aicraft-procedural-1 via offline), published with aicraft",
        artist="aicraft offline (procedural generator)",
    )


def picture(mode: str = "RGBA", size: tuple[int, int] = (96, 64)) -> Image.Image:
    """A small image with structure (gradients, a shape, varying alpha)."""
    w, h = size
    im = Image.new("RGBA", size)
    im.putdata(
        [
            ((x * 255) // w, (y * 255) // h, ((x + y) * 7) % 256, 64 + (x * 191) // w)
            for y in range(h)
            for x in range(w)
        ]
    )
    if mode == "P":
        return im.convert("RGB").quantize(16)
    return im.convert(mode)


def encode(im: Image.Image, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    if fmt == "JPEG" and im.mode not in ("RGB", "L"):
        im = im.convert("RGB")
    im.save(out, fmt, **options)
    return out.getvalue()


def exiftool(data: bytes, tmp_path: Path, *extra_tags: str) -> dict[str, Any]:
    """ExifTool's view (`-j -G1 -a`, all tags plus ``extra_tags`` like ``-validate``)."""
    assert EXIFTOOL
    path = tmp_path / f"probe-{hashlib.sha1(data).hexdigest()[:12]}"
    path.write_bytes(data)
    done = subprocess.run(
        [EXIFTOOL, "-j", "-G1", "-a", "-all", *extra_tags, str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)[0]


def assert_disclosed(md: dict[str, Any], meta: ImageDisclosure, fmt: str) -> None:
    """read_metadata() output carries every field of ``meta``."""
    xmp, exif = md["xmp"], md["exif"]
    assert md["format"] == fmt
    assert xmp["Iptc4xmpExt:DigitalSourceType"] == meta.source_type_uri
    assert xmp["Iptc4xmpExt:AISystemUsed"] == meta.ai_system
    assert xmp.get("Iptc4xmpExt:AISystemVersionUsed") == meta.ai_system_version
    assert xmp.get("Iptc4xmpExt:AIPromptWriterName") == meta.prompt_writer
    assert xmp["Iptc4xmpExt:AIPromptInformation"] == meta.prompt_information
    assert xmp["dc:description"] == meta.description
    assert xmp["photoshop:Credit"] == meta.credit
    assert xmp.get("dc:rights") == meta.rights
    assert xmp["xmp:CreatorTool"] == meta.software
    assert exif["ImageDescription"] == meta.description
    assert exif["Artist"] == meta.artist
    assert exif["Software"] == meta.software
    assert exif.get("Copyright") == meta.rights
    if fmt == "PNG":
        text = md["text"]
        assert text["Description"] == meta.description
        assert text["Author"] == meta.artist
        assert text["Software"] == meta.software
        assert text.get("Copyright") == meta.rights
        assert text["Comment"] == meta.credit
        assert text["Source"].startswith(meta.ai_system)
    else:
        assert md["text"] == {}


def assert_exiftool_sees(tags: dict[str, Any], meta: ImageDisclosure, fmt: str) -> None:
    """ExifTool's independent reading carries every field of ``meta``."""
    assert tags["XMP-iptcExt:DigitalSourceType"] == meta.source_type_uri
    assert tags["XMP-iptcExt:AISystemUsed"] == meta.ai_system
    assert tags.get("XMP-iptcExt:AISystemVersionUsed") == meta.ai_system_version
    assert tags.get("XMP-iptcExt:AIPromptWriterName") == meta.prompt_writer
    assert tags["XMP-iptcExt:AIPromptInformation"] == meta.prompt_information
    assert tags["XMP-dc:Description"] == meta.description
    assert tags["XMP-photoshop:Credit"] == meta.credit
    assert tags.get("XMP-dc:Rights") == meta.rights
    assert tags["IFD0:ImageDescription"] == meta.description
    assert tags["IFD0:Artist"] == meta.artist
    assert tags["IFD0:Software"] == meta.software
    assert tags.get("IFD0:Copyright") == meta.rights
    if fmt == "PNG":
        assert tags["PNG:Description"] == meta.description
        assert tags["PNG:Author"] == meta.artist
        assert tags["PNG:Software"] == meta.software
        assert tags["PNG:Comment"] == meta.credit


# --- embedding ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["trained", "algorithmic"])
def test_embed_carries_the_disclosure(fmt: str, kind: str) -> None:
    meta = make_meta() if kind == "trained" else offline_meta()
    out = embed_metadata(encode(picture(), fmt), meta, fmt)
    md = read_metadata(out)
    assert_disclosed(md, meta, fmt)
    assert md["xmp"]["Iptc4xmpExt:DigitalSourceType"] == (
        TRAINED if kind == "trained" else ALGORITHMIC
    )
    assert md["c2pa_embedded"] is False


@needs_exiftool
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["trained", "algorithmic"])
def test_exiftool_reads_the_disclosure(fmt: str, kind: str, tmp_path: Path) -> None:
    meta = make_meta() if kind == "trained" else offline_meta()
    out = embed_metadata(encode(picture(), fmt), meta, fmt)
    tags = exiftool(out, tmp_path, "-validate")
    assert_exiftool_sees(tags, meta, fmt)
    assert tags["ExifTool:Validate"] == "OK", tags
    assert "ExifTool:Warning" not in tags and "ExifTool:Error" not in tags


def test_private_prompt_is_replaced_by_its_hash() -> None:
    secret = "Secret prompt: the editor's private style notes"
    meta = make_meta(prompt=None, prompt_sha256=sha(secret))
    for fmt in FORMATS:
        out = embed_metadata(encode(picture(), fmt), meta, fmt)
        info = read_metadata(out)["xmp"]["Iptc4xmpExt:AIPromptInformation"]
        assert info == f"sha256:{sha(secret)}"
        assert b"Secret prompt" not in out


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_values_survive_and_stay_valid_xml(fmt: str) -> None:
    meta = make_meta(
        prompt=HOSTILE,
        prompt_sha256=sha(HOSTILE),
        prompt_writer=HOSTILE,
        description=HOSTILE,
        credit=HOSTILE,
        rights=HOSTILE,
        artist=HOSTILE,
        ai_system_version=HOSTILE,
    )
    packet = xmp_packet(meta)
    ET.fromstring(packet)  # well-formed for the stdlib parser ...
    xml.dom.minidom.parseString(packet)  # ... and for minidom
    assert b"<b>" not in packet and b"]]>" not in packet

    md = read_metadata(embed_metadata(encode(picture(), fmt), meta, fmt))
    clean = replace(
        meta,
        prompt=HOSTILE_CLEAN,
        prompt_writer=HOSTILE_CLEAN,
        description=HOSTILE_CLEAN,
        credit=HOSTILE_CLEAN,
        rights=HOSTILE_CLEAN,
        artist=HOSTILE_CLEAN,
        ai_system_version=HOSTILE_CLEAN,
    )
    assert_disclosed(md, clean, fmt)
    ET.fromstring(md["xmp_packet"])


@needs_exiftool
@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_reads_hostile_values(fmt: str, tmp_path: Path) -> None:
    meta = make_meta(
        prompt=HOSTILE,
        prompt_sha256=sha(HOSTILE),
        description=HOSTILE,
        credit=HOSTILE,
        rights=HOSTILE,
        artist=HOSTILE,
    )
    out = embed_metadata(encode(picture(), fmt), meta, fmt)
    tags = exiftool(out, tmp_path)
    clean = replace(
        meta,
        prompt=HOSTILE_CLEAN,
        description=HOSTILE_CLEAN,
        credit=HOSTILE_CLEAN,
        rights=HOSTILE_CLEAN,
        artist=HOSTILE_CLEAN,
    )
    assert_exiftool_sees(tags, clean, fmt)
    assert "ExifTool:Warning" not in tags and "ExifTool:Error" not in tags


@pytest.mark.parametrize("mode", ["RGBA", "RGB", "LA", "L", "P"])
def test_png_embedding_keeps_pixels_mode_and_compressed_data(mode: str) -> None:
    im = picture(mode)
    src = encode(im, "PNG")
    out = embed_metadata(src, make_meta(), "PNG")
    with Image.open(io.BytesIO(out)) as back:
        assert back.mode == im.mode
        assert back.size == im.size
        assert back.tobytes() == im.tobytes()
        if mode == "P":
            assert back.getpalette() == im.getpalette()

    def idat(data: bytes) -> list[bytes]:  # no re-encode: the compressed stream is untouched
        chunks, pos = [], 8
        while pos < len(data):
            length = int.from_bytes(data[pos : pos + 4], "big")
            if data[pos + 4 : pos + 8] == b"IDAT":
                chunks.append(data[pos + 8 : pos + 8 + length])
            pos += 12 + length
        return chunks

    assert idat(out) == idat(src)


@pytest.mark.parametrize(
    ("mode", "options"),
    [
        ("RGBA", {"lossless": True}),  # simple VP8L with alpha -> extended VP8X
        ("RGB", {"quality": 80}),  # simple lossy VP8
        ("RGBA", {"quality": 80}),  # already VP8X (ALPH + VP8)
    ],
)
def test_webp_embedding_does_not_reencode(mode: str, options: dict[str, Any]) -> None:
    src = encode(picture(mode), "WEBP", **options)
    out = embed_metadata(src, make_meta(), "WEBP")
    with Image.open(io.BytesIO(src)) as a, Image.open(io.BytesIO(out)) as b:
        assert (b.mode, b.size) == (a.mode, a.size)
        assert b.tobytes() == a.tobytes()
    for fourcc in (b"VP8L", b"VP8 ", b"ALPH"):
        if fourcc in src:
            start = src.index(fourcc)
            size = int.from_bytes(src[start + 4 : start + 8], "little")
            assert src[start : start + 8 + size] in out


def test_jpeg_embedding_does_not_reencode() -> None:
    src = encode(picture("RGB"), "JPEG", quality=75)
    out = embed_metadata(src, make_meta(), "JPEG")
    scan = src[src.index(b"\xff\xda") :]
    assert out.endswith(scan)
    with Image.open(io.BytesIO(src)) as a, Image.open(io.BytesIO(out)) as b:
        assert b.tobytes() == a.tobytes()


@pytest.mark.parametrize("fmt", FORMATS)
def test_embedding_twice_replaces_instead_of_duplicating(fmt: str) -> None:
    src = encode(picture(), fmt)
    once = embed_metadata(src, offline_meta(), fmt)
    twice = embed_metadata(embed_metadata(src, make_meta(), fmt), offline_meta(), fmt)
    assert twice == once
    assert twice.count(b"Iptc4xmpExt:DigitalSourceType>") == 2  # one open, one close tag


def test_conversion_keeps_alpha_where_the_format_has_it() -> None:
    src = encode(picture("RGBA"), "PNG")
    webp = embed_metadata(src, make_meta(), "webp")
    jpeg = embed_metadata(src, make_meta(), "image/jpeg")
    assert read_metadata(webp)["mode"] == "RGBA"
    assert read_metadata(jpeg)["mode"] == "RGB"
    assert_disclosed(read_metadata(webp), make_meta(), "WEBP")
    assert_disclosed(read_metadata(jpeg), make_meta(), "JPEG")


def test_long_prompt_is_truncated_but_source_type_kept() -> None:
    prompt = "frost " * 40_000  # 240 KB, far over one JPEG segment
    meta = make_meta(prompt=prompt, prompt_sha256=sha(prompt), description="bench " * 20_000)
    assert len(xmp_packet(meta)) <= MAX_XMP_BYTES
    out = embed_metadata(encode(picture(), "JPEG"), meta, "JPEG")
    xmp = read_metadata(out)["xmp"]
    assert xmp["Iptc4xmpExt:DigitalSourceType"] == TRAINED
    assert xmp["Iptc4xmpExt:AISystemUsed"] == "gpt-image-1"
    info = xmp["Iptc4xmpExt:AIPromptInformation"]
    assert info.startswith("frost frost") and info.endswith(f"full prompt sha256:{sha(prompt)}]")
    assert xmp["photoshop:Credit"] == meta.credit  # short fields are left alone
    assert xmp["dc:description"].startswith("bench bench")  # long ones share the room

    # Every field huge and full of characters that grow when escaped: still fits, still XML.
    huge = ("<&>\r" + HOSTILE) * 8_000
    meta = make_meta(
        prompt=huge,
        prompt_sha256=sha(huge),
        prompt_writer=huge,
        description=huge,
        credit=huge,
        rights=huge,
        ai_system=huge,
    )
    packet = xmp_packet(meta)
    assert MAX_XMP_BYTES - 1_000 < len(packet) <= MAX_XMP_BYTES
    parsed = read_metadata(embed_metadata(encode(picture(), "JPEG"), meta, "JPEG"))["xmp"]
    assert parsed["Iptc4xmpExt:DigitalSourceType"] == TRAINED
    assert parsed["Iptc4xmpExt:AISystemUsed"].endswith("[truncated]")


# --- variants -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_variants_have_the_widths_aspect_and_metadata(fmt: str) -> None:
    meta = offline_meta()
    original = embed_metadata(encode(picture("RGBA", (300, 200)), "PNG"), meta, "PNG")
    variants = make_variants(original, meta, [150, 64, 300, 640, 150], fmt)
    assert list(variants) == [64, 150]  # sorted, deduplicated, none at or above 300
    for width, data in variants.items():
        md = read_metadata(data)
        assert md["width"] == width
        assert abs(md["height"] - width * 200 / 300) <= 0.5
        assert md["mode"] == ("RGB" if fmt == "JPEG" else "RGBA")
        assert_disclosed(md, meta, fmt)


@needs_exiftool
def test_exiftool_reads_variants(tmp_path: Path) -> None:
    meta = make_meta()
    variants = make_variants(encode(picture("RGB", (120, 90)), "JPEG"), meta, [40, 80])
    for width, data in variants.items():
        tags = exiftool(data, tmp_path)
        assert tags["RIFF:ImageWidth"] == width
        assert_exiftool_sees(tags, meta, "WEBP")
        assert "ExifTool:Warning" not in tags


def test_variants_reject_nonsense() -> None:
    data = encode(picture(), "PNG")
    with pytest.raises(ValueError, match="positive"):
        make_variants(data, make_meta(), [0, 32])
    assert make_variants(data, make_meta(), [96, 200]) == {}


# --- inputs and validation ----------------------------------------------------------------


def test_unsupported_images_and_formats_are_clear_errors() -> None:
    gif = encode(picture("P"), "GIF")
    with pytest.raises(ImageError, match="not a PNG, WebP or JPEG"):
        embed_metadata(gif, make_meta(), "PNG")
    with pytest.raises(ImageError, match="unsupported image format"):
        embed_metadata(encode(picture(), "PNG"), make_meta(), "gif")
    assert issubclass(ImageError, AicraftError)


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims ``width`` x ``height`` pixels; its image data is garbage."""

    def chunk(ctype: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(ctype + payload)
        return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", b"not zlib")
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_read_header_gives_format_and_size_from_bytes_or_a_file(
    fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = encode(picture(size=(96, 64)), fmt)
    path = tmp_path / "image"
    path.write_bytes(data)

    def no_decoding(self: Any) -> Any:
        raise AssertionError("read_header decoded pixels")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    assert read_header(data) == (fmt, 96, 64)
    assert read_header(path, max_pixels=96 * 64) == (fmt, 96, 64)
    with path.open("rb") as handle:
        assert read_header(handle) == (fmt, 96, 64)


def test_read_header_refuses_a_decompression_bomb_before_decoding() -> None:
    bomb = _png_header_only(20_000, 20_000)  # 400 megapixels: Pillow's own limit refuses it
    with pytest.raises(ImageError, match="more than 40000000 pixels"):
        read_header(bomb, max_pixels=40_000_000)
    big = _png_header_only(10_000, 5_000)  # under Pillow's limit, over the setting
    with pytest.raises(ImageError, match=r"10000x5000 pixels, more than the limit of 1000"):
        read_header(big, max_pixels=1000)
    assert read_header(big) == ("PNG", 10_000, 5_000)  # no limit: the header is all it reads


def test_read_header_names_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"not a PNG, WebP or JPEG image$"):
        read_header(encode(picture("P"), "GIF"))
    with pytest.raises(ImageError, match=r"not a PNG, WebP or JPEG image$"):
        read_header(b"plain text, no image")
    with pytest.raises(ImageError, match="not a readable PNG, WebP or JPEG image: "):
        read_header(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    with pytest.raises(ImageError, match="missing"):
        read_header(tmp_path / "nowhere.png")
    with pytest.raises(ImageError, match="PNG"):
        read_header(_png_header_only(0, 10))


def test_disclosure_is_validated() -> None:
    with pytest.raises(ValueError, match="digital source type"):
        make_meta(source_type="madeByHand")
    with pytest.raises(ValueError, match="prompt_sha256"):
        make_meta(prompt_sha256="abc")
    full = make_meta(source_type=TRAINED)
    assert full.source_type_code == "trainedAlgorithmicMedia"
    assert full.source_type_uri == TRAINED


# --- C2PA ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def credentials() -> Any:
    if not HAS_C2PA:
        pytest.skip('c2pa-python not installed (pip install "aicraft[c2pa]")')
    from tests.certs import make_test_credentials

    return make_test_credentials()


@pytest.mark.parametrize("fmt", FORMATS)
def test_unsigned_image_reports_not_signed(fmt: str) -> None:
    out = embed_metadata(encode(picture(), fmt), make_meta(), fmt)
    assert c2pa_state(out, fmt) == "not signed"  # with or without c2pa installed
    assert has_c2pa_manifest(out) is False


def test_a_human_edit_is_an_action_after_the_creation_in_the_manifest() -> None:
    from aicraft.images import c2pa_manifest_definition

    edited = make_meta(source_type="compositeWithTrainedAlgorithmicMedia", edited_by="Ann Artist")
    [assertion] = c2pa_manifest_definition(edited, "png")["assertions"]
    created, edit = assertion["data"]["actions"]
    # How it was made stays the model's; the edit comes after, naming who made it.
    assert created["action"] == "c2pa.created"
    assert created["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert edit == {"action": "c2pa.edited", "description": "Edited by Ann Artist"}
    [plain] = c2pa_manifest_definition(make_meta(), "png")["assertions"]
    assert [a["action"] for a in plain["data"]["actions"]] == ["c2pa.created"]


@needs_c2pa
def test_a_providers_unreadable_manifest_does_not_stop_signing(credentials: Any) -> None:
    # A provider image whose C2PA chunk is garbage cannot be a parent ingredient (it could
    # never be verified): the image is still signed, as created, instead of failing the build.
    import struct
    import zlib

    def chunk(ctype: bytes, payload: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(ctype + payload))
        return struct.pack(">I", len(payload)) + ctype + payload + crc

    png = encode(picture("RGB", (32, 32)), "PNG")
    broken = png[:33] + chunk(b"caBX", b"garbage" * 10) + png[33:]
    assert has_c2pa_manifest(broken)
    embedded = embed_metadata(broken, make_meta(), "PNG")
    signed = sign_c2pa(
        embedded, "png", make_meta(), credentials.chain_pem, credentials.key_pem, parent=broken
    )
    assert c2pa_state(signed, "png") == "valid"
    manifest = active_c2pa_manifest(signed, "png")
    assert manifest is not None and not manifest.get("ingredients")
    assert "c2pa.created" in json.dumps(manifest["assertions"])


@needs_c2pa
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", ["trained", "algorithmic"])
def test_sign_c2pa_records_creation_and_source_type(fmt: str, kind: str, credentials: Any) -> None:
    meta = make_meta() if kind == "trained" else offline_meta()
    embedded = embed_metadata(encode(picture(), fmt), meta, fmt)
    signed = sign_c2pa(embedded, fmt, meta, credentials.chain_pem, credentials.key_pem)

    manifest = active_c2pa_manifest(signed, fmt)
    assert manifest is not None
    actions = next(
        a["data"]["actions"]
        for a in manifest["assertions"]
        if a["label"].startswith("c2pa.actions")
    )
    created = [a for a in actions if a["action"] == "c2pa.created"]
    assert len(created) == 1
    assert created[0]["digitalSourceType"] == meta.source_type_uri
    assert created[0]["softwareAgent"]["name"] == "aicraft"
    assert manifest["claim_generator_info"][0]["name"] == "aicraft"
    assert manifest["signature_info"]["alg"].upper() == "ES256"
    assert not any(a["label"] == "cawg.training-mining" for a in manifest["assertions"])

    # Our test CA is on no trust list: c2pa reports the C2PA state "Valid" (hashes and
    # signature verify; one failure, signingCredential.untrusted) -> "valid". Naming the CA as
    # a trust anchor gives the C2PA state "Trusted" -> "trusted".
    assert c2pa_state(signed, fmt) == "valid"
    assert c2pa_state(signed, fmt, trust_anchors_pem=credentials.ca_pem) == "trusted"

    md = read_metadata(signed)  # the embedded metadata survives signing
    assert md["c2pa_embedded"] is True
    assert_disclosed(md, meta, fmt)


@needs_c2pa
@needs_exiftool
@pytest.mark.parametrize("fmt", FORMATS)
def test_exiftool_reads_signed_images(fmt: str, credentials: Any, tmp_path: Path) -> None:
    meta = make_meta()
    embedded = embed_metadata(encode(picture(), fmt), meta, fmt)
    signed = sign_c2pa(embedded, fmt, meta, credentials.chain_pem, credentials.key_pem)
    tags = exiftool(signed, tmp_path)
    # For PNG this also guards the IFD0-offset workaround (see aicraft.images.exif_block).
    assert_exiftool_sees(tags, meta, fmt)
    assert "ExifTool:Warning" not in tags


@needs_c2pa
def test_training_mining_assertion(credentials: Any) -> None:
    meta = offline_meta()
    png = embed_metadata(encode(picture(), "PNG"), meta)
    signed = sign_c2pa(
        png, "PNG", meta, credentials.chain_pem, credentials.key_pem, training_mining="notAllowed"
    )
    manifest = active_c2pa_manifest(signed)
    assert manifest is not None
    entries = next(
        a["data"]["entries"] for a in manifest["assertions"] if a["label"] == "cawg.training-mining"
    )
    assert entries["cawg.ai_generative_training"] == {"use": "notAllowed"}
    assert entries["cawg.ai_training"] == {"use": "notAllowed"}
    assert c2pa_state(signed) == "valid"
    with pytest.raises(ValueError, match="training_mining"):
        sign_c2pa(png, "PNG", meta, credentials.chain_pem, credentials.key_pem, training_mining="x")


@needs_c2pa
def test_changes_after_signing_are_detected(credentials: Any) -> None:
    meta = make_meta()
    png = embed_metadata(encode(picture(), "PNG"), meta)
    signed = sign_c2pa(png, "PNG", meta, credentials.chain_pem, credentials.key_pem)

    tampered = bytearray(signed)
    idat = signed.index(b"IDAT")
    tampered[idat + 20] ^= 0xFF
    assert c2pa_state(bytes(tampered), "PNG").startswith("invalid: ")
    assert "dataHash.mismatch" in c2pa_state(bytes(tampered), "PNG")

    # Embedding again (a re-publish) drops the manifest it would break: unsigned, not invalid.
    again = embed_metadata(signed, meta, "PNG")
    assert c2pa_state(again, "PNG") == "not signed"
    assert again == png


@needs_c2pa
def test_bad_credentials_are_a_clear_error(credentials: Any) -> None:
    from tests.certs import make_test_credentials

    other = make_test_credentials()
    png = embed_metadata(encode(picture(), "PNG"), make_meta())
    with pytest.raises(C2paSigningError, match="C2PA signing failed"):
        sign_c2pa(png, "PNG", make_meta(), credentials.chain_pem, other.key_pem)
    with pytest.raises(C2paSigningError):
        sign_c2pa(png, "PNG", make_meta(), b"not a certificate", b"not a key")
    with pytest.raises(ImageError, match="cannot sign as JPEG"):
        sign_c2pa(png, "JPEG", make_meta(), credentials.chain_pem, credentials.key_pem)


def test_missing_c2pa_is_an_aicraft_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "c2pa", None)  # makes `import c2pa` raise ImportError
    png = embed_metadata(encode(picture(), "PNG"), make_meta())
    with pytest.raises(C2paUnavailable, match=r"aicraft\[c2pa\]") as info:
        sign_c2pa(png, "PNG", make_meta(), b"cert", b"key")
    assert isinstance(info.value, AicraftError)
    assert c2pa_state(png, "PNG") == "not signed"


@needs_c2pa
def test_signed_image_without_c2pa_is_unverified(
    credentials: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    png = embed_metadata(encode(picture(), "PNG"), make_meta())
    signed = sign_c2pa(png, "PNG", make_meta(), credentials.chain_pem, credentials.key_pem)
    monkeypatch.setitem(sys.modules, "c2pa", None)
    assert c2pa_state(signed, "PNG").startswith("unverified: ")
