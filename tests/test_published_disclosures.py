"""What the built site discloses, checked against the store: banner, ledger, JSON, files."""

from __future__ import annotations

import json
import posixpath
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from aicraft.cli import main
from aicraft.images import read_metadata
from aicraft.records import Record
from tests.sites import PROSE, build_site

ROOT = Path(__file__).resolve().parent.parent
IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample magazine, built frozen from the committed store."""
    site = tmp_path_factory.mktemp("sample") / "site"
    result = CliRunner().invoke(
        main, ["build", "-f", str(ROOT / "mkdocs.yml"), "--frozen", "-d", str(site)]
    )
    assert result.exit_code == 0, result.output
    return site


def _store_records() -> dict[str, Record]:
    records = {}
    for path in (ROOT / "generations").glob("*.md"):
        record = Record.loads(path.read_text(), str(path))
        records[record.short] = record
    return records


def _pages(site: Path) -> dict[str, str]:
    return {
        p.relative_to(site).as_posix(): p.read_text()
        for p in site.rglob("*.html")
        if "ai-disclosures" not in p.parts
    }


class _Elements(HTMLParser):
    """Collects (tag, attributes) of every start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def _elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def _article(html: str) -> str:
    """The page's own article (not the blog index's excerpts of other pages)."""
    start = html.find('<article class="md-content__inner')
    return html[start : html.find("</article>", start)] if start >= 0 else html


def test_banner_ledger_and_json_list_exactly_the_stored_items(sample: Path) -> None:
    store = _store_records()
    # The ledger JSON.
    document = json.loads((sample / "ai-disclosures.json").read_text())
    assert document["schema_version"] and document["methodology"]
    assert document["editorial_responsibility"] == "The aicraft sample desk"
    json_ids = sorted(item["id"] for item in document["items"])
    assert json_ids == sorted(store)
    # The ledger page.
    ledger = (sample / "ai-disclosures" / "index.html").read_text()
    ledger_ids = sorted(set(re.findall(r'id="ledger-([0-9a-f]{16})"', ledger)))
    assert ledger_ids == sorted(store)
    # The banners: on each page, the count equals the AI items on that page.
    on_pages: set[str] = set()
    for name, html in _pages(sample).items():
        article = _article(html)
        keys = set(re.findall(r'data-aicraft-key="([0-9a-f]{64})"', article))
        banner = re.search(r'<aside class="aicraft-banner.*?</aside>', article, re.S)
        if not keys:
            continue
        assert banner, f"{name} has AI items but no banner"
        assert article.index("aicraft-banner") < article.index("data-aicraft-key"), name
        if "aicraft-banner--listing" in banner.group(0):  # a blog index of excerpts
            assert f'data-ai-items="{len(keys)}"' in banner.group(0), name
            continue
        count = re.search(r"(\d+) AI-made items?", banner.group(0))
        assert count and int(count.group(1)) == len(keys), name
        on_pages |= {key[:16] for key in keys}
    assert sorted(on_pages) == sorted(store)


def test_ledger_rows_link_to_their_items(sample: Path) -> None:
    ledger_path = sample / "ai-disclosures" / "index.html"
    ledger = ledger_path.read_text()
    links = re.findall(r'<tr id="ledger-([0-9a-f]{16})".*?<a href="([^"]+)"', ledger, re.S)
    assert len(links) == len(_store_records())
    for short, href in links:
        page, _, fragment = href.partition("#")
        assert fragment == f"ai-{short}"
        target = Path(posixpath.normpath(posixpath.join(str(ledger_path.parent), page)))
        if target.is_dir():
            target = target / "index.html"
        assert f'id="ai-{short}"' in target.read_text(), href


def test_credits_link_to_the_ledger_from_pages_and_excerpts(sample: Path) -> None:
    for name in ("blog/index.html", next(iter(_pages(sample)))):
        html = (sample / name).read_text()
        for href in re.findall(r'class="aicraft-ledger-link" href="([^"]+)"', html):
            page = posixpath.normpath(posixpath.join(posixpath.dirname(name), href.split("#")[0]))
            assert page.rstrip("/") == "ai-disclosures", (name, href)


def test_articles_carry_json_ld_and_the_footer_statement(sample: Path) -> None:
    post = next(sample.glob("blog/2026/02/09/*/index.html")).read_text()
    blocks = re.findall(r'<script type="application/ld\+json">(.*?)</script>', post, re.S)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    assert data["@type"] in ("Article", "BlogPosting")
    authors = data["author"] if isinstance(data["author"], list) else [data["author"]]
    assert all("aicraft-procedural" not in json.dumps(a) for a in authors)
    images = data.get("associatedMedia") or []
    assert images and all(
        i["digitalSourceType"].endswith("AlgorithmicMediaDigitalSource") for i in images
    )
    assert "aicraft-aia" in post and "AIA " in post
    # Every page of the sample declares its prose (entirely AI), so one value holds.
    assert '<meta name="ai-disclosure" content="ai-autonomous">' in post


def test_every_published_image_carries_its_disclosure(sample: Path) -> None:
    files = sorted((sample / "assets" / "aicraft").glob("*.png")) + sorted(
        (sample / "assets" / "aicraft").glob("*.webp")
    )
    assert len(files) >= 16
    for path in files:
        meta = read_metadata(path.read_bytes())
        assert meta["xmp"]["Iptc4xmpExt:DigitalSourceType"] == IPTC + "algorithmicMedia", path
        assert meta["xmp"]["Iptc4xmpExt:AISystemUsed"] == "aicraft-procedural-1"
        assert "aicraft" in str(meta["exif"].get("Software") or meta["exif"].get(0x0131))


@pytest.mark.skipif(shutil.which("exiftool") is None, reason="exiftool not installed")
def test_exiftool_reads_the_disclosure_independently(sample: Path) -> None:
    files = [str(p) for p in (sample / "assets" / "aicraft").glob("*.*") if p.suffix != ".css"]
    out = subprocess.run(
        ["exiftool", "-j", "-XMP-iptcExt:DigitalSourceType", "-EXIF:Software", *files],
        capture_output=True,
        text=True,
        check=True,
    )
    entries = json.loads(out.stdout)
    assert len(entries) == len(files)
    for entry in entries:
        assert entry["DigitalSourceType"] == IPTC + "algorithmicMedia", entry
        assert entry["Software"].startswith("aicraft"), entry


def test_pages_without_ai_content_carry_no_disclosure(site_factory) -> None:
    config = site_factory(
        {
            "index.md": f"# Human\n\n{PROSE}\n",
            "ai.md": f"# AI\n\n{PROSE}\n\n```ai-text\nA line.\n```\n",
        }
    )
    site = build_site(config)
    human = (site / "index.html").read_text()
    for marker in ("aicraft-banner", "application/ld+json", 'name="ai-disclosure"', "aicraft-aia"):
        assert marker not in human
    ai = (site / "ai" / "index.html").read_text()
    assert "aicraft-banner" in ai and "application/ld+json" in ai
    # A human page with an AI passage: no single page-wide value, so no meta.
    assert 'name="ai-disclosure"' not in ai


def test_a_page_declared_free_of_ai_never_says_so_over_ai_excerpts(site_factory) -> None:
    # A human-written blog index (authorship: none) shows its posts' AI items in excerpts:
    # "No AI on this page" and ai-disclosure=none would be false there.
    index = "---\nauthorship:\n  level: none\n  statement: Written by Ed.\n---\n# Blog\n"
    post = (
        "---\ndate: 2026-03-01\n---\n\n# Frost\n\n"
        f"{PROSE}\n\n```ai-text\nA line about frost.\n```\n\n"
        '```ai-image size="64x64" alt="White frost ferns on a window pane"\nA frost pattern.\n```\n'
    )
    config = site_factory({"blog/index.md": index, "blog/posts/frost.md": post})
    site = build_site(config, strict=True)
    listing = (site / "blog" / "index.html").read_text()
    [banner] = re.findall(r'<aside class="aicraft-banner.*?</aside>', listing, re.S)
    assert "No AI on this page" not in banner and "AI on this page" in banner
    assert 'data-ai-items-elsewhere="2"' in banner and "2 AI-made items" in banner
    assert "Written by Ed." in banner  # the page's own declaration still stands
    assert 'name="ai-disclosure"' not in listing  # mixed: each item carries its own value
    pages = json.loads((site / "ai-disclosures.json").read_text())["pages"]
    [entry] = [p for p in pages if p["page"] == "blog/index.md"]
    assert entry["ai_disclosure"] is None and entry["shown_from_other_pages"] == 2
    assert entry["aia"] == "AIA No AI v1.0"  # the page's own writing: still no AI
    assert listing.index("aicraft-banner") < listing.index("data-aicraft-key")
    # The post itself: its own items only, nothing counted twice.
    post_html = next(site.glob("blog/20*/**/index.html")).read_text()
    assert "elsewhere" not in post_html


def test_a_themes_credited_thumbnails_are_counted_on_the_cover(sample: Path) -> None:
    cover = (sample / "index.html").read_text()
    thumbnails = re.findall(r'<figure class="mag-hero"[^>]*data-ai-generated="true"', cover)
    assert thumbnails
    [banner] = re.findall(r'<aside class="aicraft-banner.*?</aside>', cover, re.S)
    assert f'data-ai-items-elsewhere="{len(thumbnails)}"' in banner
    assert f"{len(thumbnails)} AI-made items" in banner


def test_listing_pages_are_in_the_ledger_json_with_what_they_show(sample: Path) -> None:
    # A blog index has nothing of its own, but shows AI items: a crawler reading the JSON
    # must find it there, counted as its banner counts them.
    pages = json.loads((sample / "ai-disclosures.json").read_text())["pages"]
    listing = (sample / "blog" / "index.html").read_text()
    shown = re.search(r'data-ai-items="(\d+)"', listing)
    assert shown is not None
    [entry] = [p for p in pages if p["page"] == "blog/index.md"]
    assert entry["shown_from_other_pages"] == int(shown.group(1)) > 0
    assert entry["items"] == [] and entry["url"] == "blog/"
    assert entry["ai_disclosure"] == "ai-autonomous"  # every item shown is unreviewed
    assert all(p["shown_from_other_pages"] >= 0 for p in pages)


def test_only_real_marks_of_other_pages_count_as_shown_from_elsewhere() -> None:
    from aicraft.plugin import shown_from_elsewhere

    own, other = "a" * 64, "b" * 64
    html = (
        f'<div class="aicraft" data-aicraft-key="{own}" data-ai-generated="true" '
        'ai-disclosure="ai-autonomous">'
        f'<figure data-aicraft-key="{other}" data-ai-generated="true" ai-disclosure="ai-assisted">'
        f'<figure data-aicraft-key="{other}" data-ai-generated="true" ai-disclosure="ai-assisted">'
        '<figure class="thumb" data-ai-generated="true">'
        '<p>&lt;div data-ai-generated=&quot;true&quot;&gt; and data-ai-generated="true"</p>'
    )
    assert shown_from_elsewhere(html, {own}) == ["ai-assisted", ""]
    assert len(shown_from_elsewhere(html)) == 3


def test_private_prompts_keep_their_hash_and_the_disclosure(site_factory) -> None:
    secret = "Describe the secret recipe of grandmother's plum cake."
    config = site_factory(
        {"index.md": f"# Cake\n\n{PROSE}\n\n```ai-text\n{secret}\n```\n"},
        {"show_prompts": False},
    )
    site = build_site(config)
    everything = (
        "".join(p.read_text() for p in site.rglob("*.html"))
        + (site / "ai-disclosures.json").read_text()
    )
    assert "plum cake" not in everything
    entry = json.loads((site / "ai-disclosures.json").read_text())["items"][0]
    assert entry["prompt"] is None and len(entry["prompt_sha256"]) == 64
    page = (site / "index.html").read_text()
    assert "Machine-generated text" in page and "aicraft-banner" in page


def test_a_providers_own_c2pa_manifest_stays_verifiable_as_the_parent_ingredient(
    site_factory, monkeypatch
) -> None:
    # OpenAI signs its images with a C2PA manifest. Embedding the disclosure would break that
    # signature; with a certificate configured, the provider's original becomes the parent
    # ingredient of aicraft's manifest, so its claim of how the image was made stays checkable.
    pytest.importorskip("c2pa", reason="c2pa-python not installed (aicraft[c2pa])")
    from aicraft.images import active_c2pa_manifest, c2pa_state, read_c2pa_manifest
    from tests.certs import PROVIDER_CLAIM_GENERATOR, make_test_credentials, provider_signer
    from tests.openai_server import Behavior, FakeOpenAI

    ours, theirs = make_test_credentials(), make_test_credentials()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    page = (
        f"# Art\n\n{PROSE}\n\n"
        '```ai-image size="256x256" alt="A red square on a pale ground"\nA red square.\n```\n'
    )
    with FakeOpenAI(default=Behavior(sign_images=provider_signer(theirs))) as server:
        config = site_factory(
            {"index.md": page},
            {
                "provider": "openai",
                "base_url": server.base_url,
                "image_widths": [128],
                "c2pa": {"cert": "chain.pem", "key": "key.pem", "training_mining": "notAllowed"},
            },
        )
        (config.parent / "chain.pem").write_bytes(ours.chain_pem)
        (config.parent / "key.pem").write_bytes(ours.key_pem)
        site = build_site(config)
    [original] = (config.parent / "generations").glob("*.png")
    provider = active_c2pa_manifest(original.read_bytes(), "png")
    assert provider is not None, "the store keeps the provider's signed original"
    published = [*(site / "assets" / "aicraft").glob("*.png")]
    published += (site / "assets" / "aicraft").glob("*.webp")
    assert len(published) == 2  # the image and its 128 px variant
    for path in published:
        fmt = path.suffix[1:]
        manifest = active_c2pa_manifest(path.read_bytes(), fmt)
        assert manifest is not None and c2pa_state(path.read_bytes(), fmt) == "valid", path
        [ingredient] = manifest["ingredients"]
        assert ingredient["relationship"] == "parentOf"
        store = read_c2pa_manifest(path.read_bytes(), fmt)
        assert store is not None
        parent = store["manifests"][ingredient["active_manifest"]]  # the provider's own claim
        assert PROVIDER_CLAIM_GENERATOR in json.dumps(parent["claim_generator_info"])
        assert "trainedAlgorithmicMedia" in json.dumps(parent["assertions"])
        text = json.dumps(manifest["assertions"])
        actions = [
            action
            for assertion in manifest["assertions"]
            if assertion["label"].startswith("c2pa.actions")
            for action in assertion["data"]["actions"]
        ]
        [opened] = [a for a in actions if a["action"] == "c2pa.opened"]
        [link] = opened["parameters"]["ingredients"]  # c2pa resolved PARENT_INGREDIENT
        assert link["url"].endswith(ingredient["label"])
        assert "c2pa.edited.metadata" in text
        assert "c2pa.created" not in text  # aicraft did not create it; the provider did
        assert ("c2pa.resized" in text) == (fmt == "webp")
        assert "cawg.training-mining" in text  # on every published copy


def test_a_users_own_ledger_page_wins(site_factory) -> None:
    config = site_factory(
        {
            "index.md": f"# Home\n\n{PROSE}\n\n```ai-text\nA line.\n```\n",
            "ai-disclosures/index.md": "# Our own AI policy\n\nWritten by us.\n",
        }
    )
    site = build_site(config)
    ledger = (site / "ai-disclosures" / "index.html").read_text()
    assert "Our own AI policy" in ledger and "ledger-" not in ledger
    assert (site / "ai-disclosures.json").is_file()


def test_disclosures_command_prints_the_ledger_without_building(sample: Path) -> None:
    result = CliRunner().invoke(
        main, ["disclosures", "-f", str(ROOT / "mkdocs.yml"), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    built = json.loads((sample / "ai-disclosures.json").read_text())
    assert printed["items"] == built["items"]
    csv = CliRunner().invoke(
        main, ["disclosures", "-f", str(ROOT / "mkdocs.yml"), "--format", "csv"]
    )
    lines = csv.output.strip().splitlines()
    assert lines[0].startswith("id,page,page_url")
    table = CliRunner().invoke(main, ["disclosures", "-f", str(ROOT / "mkdocs.yml")])
    assert "aicraft-markov-1" in table.output


def test_a_site_with_a_certificate_publishes_signed_images(site_factory, tmp_path) -> None:
    pytest.importorskip("c2pa", reason="c2pa-python not installed (aicraft[c2pa])")
    from aicraft.images import active_c2pa_manifest
    from tests.certs import make_test_credentials

    credentials = make_test_credentials()
    config = site_factory(
        {
            "index.md": f"# Art\n\n{PROSE}\n\n"
            '```ai-image size="640x480" alt="A red circle on a pale ground"\n'
            "A red circle on a pale ground.\n```\n"
        },
        {"c2pa": {"cert": "chain.pem", "key": "key.pem", "training_mining": "notAllowed"}},
    )
    (config.parent / "chain.pem").write_bytes(credentials.chain_pem)
    (config.parent / "key.pem").write_bytes(credentials.key_pem)
    site = build_site(config)
    [png] = (site / "assets" / "aicraft").glob("*.png")
    manifest = active_c2pa_manifest(png.read_bytes(), "png")
    assert manifest is not None
    text = json.dumps(manifest)
    assert "c2pa.created" in text and IPTC + "algorithmicMedia" in text and "aicraft" in text
    entry = json.loads((site / "ai-disclosures.json").read_text())["items"][0]
    assert entry["c2pa"].startswith("valid") or entry["c2pa"] == "trusted", entry["c2pa"]
    # The store keeps the provider's original, unsigned.
    [original] = (config.parent / "generations").glob("*.png")
    assert active_c2pa_manifest(original.read_bytes(), "png") is None
    variants = list((site / "assets" / "aicraft").glob("*.webp"))
    assert len(variants) == 1  # 480 wide; 960 would be larger than the original
    assert active_c2pa_manifest(variants[0].read_bytes(), "webp") is not None
