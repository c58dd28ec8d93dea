"""Disclosure as editors, regulators and search engines see it: statements, pages, the ledger."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from typing import Any

import pytest

from aicraft.directives import Spec
from aicraft.disclosure import (
    AIA_NO_AI,
    C2PA_TRAINED_DATA,
    CSV_COLUMNS,
    IPTC_ALGORITHMIC,
    IPTC_COMPOSITE_TRAINED,
    IPTC_TRAINED,
    LEDGER_SCHEMA_VERSION,
    Authorship,
    PublishedItem,
    aia_statement,
    badge_text,
    banner_html,
    c2pa_source_type,
    candidates_text,
    footer_html,
    headers_file,
    json_ld,
    ledger_csv,
    ledger_document,
    ledger_entry,
    ledger_html,
    ledger_table,
    meta_tag,
    methodology,
    page_disclosure,
    place_banner,
    review_state,
    schema_org_source_type,
    source_type_uri,
)
from aicraft.errors import ConfigError
from aicraft.records import Record, sha256_text

TEN = "one two three four five six seven eight nine ten"
HOSTILE = "</script><script>alert(1)</script>"
OFFLINE_LABEL = "aicraft offline (Markov chain text, procedural images; no trained model)"


def _record(body: str = TEN, kind: str = "text", trained: bool = False, **extra: Any) -> Record:
    values: dict[str, Any] = dict(
        key=sha256_text(body + kind + repr(sorted(extra.items()))),
        kind=kind,
        provider="openai" if trained else "offline",
        provider_label="OpenAI API" if trained else OFFLINE_LABEL,
        model=("gpt-image-1" if kind == "image" else "gpt-4o-mini-2024-07-18")
        if trained
        else ("aicraft-procedural-1" if kind == "image" else "aicraft-markov-1"),
        requested_model="gpt-4o-mini" if trained else None,
        source_type="trainedAlgorithmicMedia" if trained else "algorithmicMedia",
        prompt="Write a poem about frost.",
        system=None,
        params={"size": "640x480"} if kind == "image" else {},
        created="2026-11-26T06:00:00Z",
        source={"page": "blog/post.md", "line": 3},
        usage={},
        original=body,
        body=body if kind == "text" else "",
    )
    values.update(extra)
    return Record(**values)


def _edit(record: Record, changed: int) -> Record:
    """Replace the last ``changed`` of the ten words."""
    kept = TEN.split()[: 10 - changed]
    record.body = " ".join(kept + [f"new{i}" for i in range(changed)])
    return record


def _approve(record: Record, sha: str | None = None) -> Record:
    record.review = {
        "status": "approved",
        "by": "Ed Itor",
        "at": "2026-11-20T10:00:00Z",
        "sha256": sha or sha256_text(record.body),
    }
    return record


def _item(record: Record, **extra: Any) -> PublishedItem:
    values: dict[str, Any] = dict(
        page_src="blog/post.md", page_url="blog/post/", page_title="A post about frost"
    )
    values.update(extra)
    return PublishedItem(record, **values)


# -- AI Attribution statements ---------------------------------------------------------------


def test_aia_of_an_unedited_offline_item() -> None:
    record = _record()
    assert aia_statement(record) == "AIA EAI Nc Hin Nr aicraft-markov-1 v1.0"
    assert aia_statement(record, long=True) == (
        "AIA Entirely AI, New content, Human-initiated, Not reviewed, aicraft-markov-1 v1.0"
    )


def test_aia_of_edited_items_follows_the_edit_share() -> None:
    stylistic = _edit(_record(trained=True), 1)  # 10 % of the words
    assert aia_statement(stylistic) == "AIA PAI SeNc Hin Nr gpt-4o-mini-2024-07-18 v1.0"
    content = _edit(_record(trained=True), 3)  # 30 %
    assert aia_statement(content) == "AIA PAI CeNc Hin Nr gpt-4o-mini-2024-07-18 v1.0"
    blend = _edit(_record(trained=True), 6)  # 60 %
    assert aia_statement(blend) == "AIA HAb CeNc Hin Nr gpt-4o-mini-2024-07-18 v1.0"
    assert aia_statement(stylistic, long=True) == (
        "AIA Primarily AI, Stylistic edits, New content, Human-initiated, Not reviewed, "
        "gpt-4o-mini-2024-07-18 v1.0"
    )


def test_aia_is_reviewed_only_while_the_approval_matches() -> None:
    record = _approve(_record(trained=True))
    assert aia_statement(record) == "AIA EAI Nc Hin R gpt-4o-mini-2024-07-18 v1.0"
    assert aia_statement(record, long=True).endswith(
        "Human-initiated, Reviewed, gpt-4o-mini-2024-07-18 v1.0"
    )
    _edit(record, 1)
    assert review_state(record)[0] == "changed"
    assert aia_statement(record) == "AIA PAI SeNc Hin Nr gpt-4o-mini-2024-07-18 v1.0"
    _approve(record)
    assert aia_statement(record) == "AIA PAI SeNc Hin R gpt-4o-mini-2024-07-18 v1.0"


def test_image_approval_binds_to_the_file_bytes_when_they_are_known() -> None:
    image = _approve(_record("0123456789abcdef.png", kind="image"), sha="a" * 64)
    assert review_state(image, content_sha256="a" * 64)[0] == "approved"
    assert review_state(image, content_sha256="b" * 64)[0] == "changed"
    item = _item(image, content_sha256="b" * 64)
    assert not item.reviewed and item.disclosure_value == "ai-autonomous"
    assert ledger_entry(item)["review_status"] == "changed"


# -- source types, badges, candidates --------------------------------------------------------


def test_source_types_for_offline_trained_and_edited_items() -> None:
    offline = _record()
    assert source_type_uri(offline) == IPTC_ALGORITHMIC
    assert source_type_uri(_edit(_record(), 2)) == IPTC_ALGORITHMIC  # edits noted elsewhere
    trained = _record(trained=True)
    assert source_type_uri(trained) == IPTC_TRAINED
    assert c2pa_source_type(trained) == C2PA_TRAINED_DATA  # text is not media for C2PA
    edited = _edit(_record(trained=True), 2)
    assert source_type_uri(edited) == IPTC_COMPOSITE_TRAINED
    assert c2pa_source_type(edited) == C2PA_TRAINED_DATA  # how it was created
    image = _record("0123456789abcdef.png", kind="image", trained=True)
    assert source_type_uri(image) == c2pa_source_type(image) == IPTC_TRAINED
    assert schema_org_source_type(image) == (
        "https://schema.org/TrainedAlgorithmicMediaDigitalSource"
    )
    assert schema_org_source_type(offline) == "https://schema.org/AlgorithmicMediaDigitalSource"
    assert IPTC_TRAINED == (
        "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
    )


def test_badges_and_candidates_say_what_happened() -> None:
    assert badge_text(_record()) == "Machine-generated text"
    assert badge_text(_record(trained=True)) == "AI-generated text"
    assert badge_text(_edit(_record(trained=True), 2)) == "AI-assisted text, human-edited 20%"
    record = _record(trained=True, candidates=["a", "b", "c"])
    assert candidates_text(_record()) is None
    # The engine publishes the first candidate; nobody chose it yet.
    assert candidates_text(record) == "candidate 1 of 3, not chosen by a human"
    record.review["picked_by"] = "Ed Itor"
    assert candidates_text(record) == "candidate 1 of 3, chosen by Ed Itor"
    record = _record(trained=True, candidates=["a", "b", "c"], picked=2)
    assert candidates_text(record) == "candidate 2 of 3, chosen by a human"


# -- pages -----------------------------------------------------------------------------------


def test_page_share_counts_ai_words_against_all_words() -> None:
    page = page_disclosure([_item(_record())], prose_words=40)
    assert page is not None
    assert page.ai_share == pytest.approx(10 / 50)
    assert page.counts == {"text": 1}
    assert page.level == "Ph"
    assert page.aia() == "AIA Ph Nc Hin Nr aicraft-markov-1 v1.0"
    # Words a human changed are the human's.
    edited = page_disclosure([_item(_edit(_record(trained=True), 4))], prose_words=0)
    assert edited is not None and edited.ai_share == pytest.approx(0.6)
    assert edited.aia() == "AIA PAI CeNc Hin Nr gpt-4o-mini-2024-07-18 v1.0"
    # Images are items, not words.
    image = _item(_record("0123456789abcdef.png", kind="image"))
    with_image = page_disclosure([image], prose_words=100)
    assert with_image is not None and with_image.ai_share == 0.0
    assert with_image.counts == {"image": 1} and with_image.level == "Ph"


def test_page_share_with_declared_authorship() -> None:
    declared = {"level": "PAI", "statement": "Drafted with Claude, edited by Ann."}
    page = page_disclosure([_item(_record())], prose_words=40, authorship=declared)
    assert page is not None
    assert page.ai_share == pytest.approx((10 + 30) / 50)  # PAI prose counts 75 %
    assert page.level == "PAI"
    for level, share in (("EAI", 1.0), ("HAb", 0.5), ("Ph", 0.1), ("none", 0.0)):
        page = page_disclosure([], prose_words=200, authorship={"level": level})
        assert page is not None and page.ai_share == pytest.approx(share)
    # A statement without a level cannot be quantified: the share is a minimum.
    vague = page_disclosure([_item(_record())], prose_words=40, authorship="AI helped a bit.")
    assert vague is not None and vague.share_is_minimum
    assert "at least 20%" in banner_html(vague)


def test_a_page_with_only_a_declaration() -> None:
    page = page_disclosure(
        [],
        prose_words=500,
        authorship={"level": "EAI", "statement": "Written by Claude.", "model": "Claude"},
    )
    assert page is not None
    assert page.aia() == "AIA EAI Nc Hin Nr Claude v1.0"
    assert page.ai_share == 1.0
    assert page.disclosure_value == "ai-autonomous"
    assert meta_tag(page) == '<meta name="ai-disclosure" content="ai-autonomous">'
    banner = banner_html(page, "/ai-disclosures/")
    assert "Written by Claude." in banner and "(entirely AI)" in banner
    assert "AIA EAI Nc Hin Nr Claude v1.0" in footer_html(page)
    human = page_disclosure([], prose_words=500, authorship={"level": "none"})
    assert human is not None and human.aia() == AIA_NO_AI
    assert meta_tag(human) == '<meta name="ai-disclosure" content="human-only">'
    assert headers_file([human]) == "/\n  AI-Disclosure: mode=none\n"


def test_a_page_with_nothing_has_no_disclosure() -> None:
    assert page_disclosure([], prose_words=300, authorship=None) is None
    assert page_disclosure([], prose_words=300, authorship={}) is None
    for render in (banner_html, footer_html, meta_tag):
        assert render(None) == ""
    assert json_ld(None, "Site") == ""


def test_meta_tag_only_when_one_value_holds_for_the_whole_page() -> None:
    one, two = _record(), _record("another text entirely")
    autonomous = page_disclosure([_item(one), _item(two)], prose_words=0)
    assert meta_tag(autonomous) == '<meta name="ai-disclosure" content="ai-autonomous">'
    reviewed = page_disclosure(
        [_item(_approve(_record())), _item(_approve(_record("another")))], prose_words=0
    )
    assert meta_tag(reviewed) == '<meta name="ai-disclosure" content="ai-assisted">'
    mixed = page_disclosure([_item(_approve(_record())), _item(two)], prose_words=0)
    assert mixed is not None and mixed.disclosure_value is None and meta_tag(mixed) == ""
    # Human prose with an AI item: the items carry their own attributes, no page value.
    essay = page_disclosure([_item(one)], prose_words=800)
    assert meta_tag(essay) == ""
    # Declared AI prose that agrees with the items gives the page one value again.
    declared = page_disclosure([_item(one)], prose_words=800, authorship={"level": "EAI"})
    assert meta_tag(declared) == '<meta name="ai-disclosure" content="ai-autonomous">'


def test_review_summary_and_banner_are_clear() -> None:
    items = [
        _item(_approve(_record())),
        _item(_approve(_record("second text here"))),
        _item(_record("0123456789abcdef.png", kind="image")),
    ]
    page = page_disclosure(items, prose_words=100, page_url="blog/post/", title="Frost")
    assert page is not None
    assert page.review_summary == "2 of 3 reviewed"
    banner = banner_html(page, "../../ai-disclosures/")
    assert banner.startswith(
        '<aside class="aicraft-banner" data-search-exclude role="note" aria-label="AI disclosure"'
    )
    assert "3 AI-made items" in banner and "2 text passages and 1 image" in banner
    assert "2 of 3 reviewed" in banner
    assert "aicraft-markov-1 and aicraft-procedural-1" in banner
    assert '<a href="../../ai-disclosures/">How we use AI: the ledger</a>' in banner


def test_banner_goes_after_the_title_and_before_the_first_item() -> None:
    html = '<h1 id="t">Title</h1><p>Intro</p><div class="aicraft aicraft-text" id="x">AI</div>'
    placed = place_banner(html, "<aside>B</aside>")
    assert placed.index("<aside>") == html.index("</h1>") + len("</h1>")
    early = '<div class="aicraft aicraft-text">AI</div><h1>Late title</h1>'
    assert place_banner(early, "<aside>B</aside>").startswith("<aside>B</aside><div")


def test_headers_file_maps_pages_to_the_ietf_modes() -> None:
    machine = page_disclosure([_item(_record())], prose_words=0, page_url="a/")
    reviewed = page_disclosure([_item(_approve(_record()))], prose_words=0, page_url="b/")
    essay = page_disclosure([_item(_record())], prose_words=500, page_url="c/")
    pages = [p for p in (machine, reviewed, essay) if p]
    assert headers_file(pages, "/site/") == (
        "/site/a/\n  AI-Disclosure: mode=machine-generated\n"
        "/site/b/\n  AI-Disclosure: mode=ai-originated\n"
        "/site/c/\n  AI-Disclosure: mode=ai-modified\n"
    )


def test_invalid_authorship_is_reported() -> None:
    with pytest.raises(ConfigError, match="EAI, PAI, HAb, Ph, none"):
        Authorship.parse({"level": "mostly robot"})
    with pytest.raises(ConfigError):
        Authorship.parse(["a list"])
    assert Authorship.parse({"level": "hab"}) == Authorship(level="HAb")


# -- JSON-LD ---------------------------------------------------------------------------------


def _script_body(html: str) -> str:
    match = re.fullmatch(r'<script type="application/ld\+json">(.*)</script>', html, re.S)
    assert match, html
    return match.group(1)


def test_json_ld_names_the_human_author_and_never_a_model() -> None:
    image = _record("0123456789abcdef.png", kind="image", trained=True)
    items = [
        _item(_record(trained=True), label="A frost poem"),
        _item(image, alt="Frost on a bench", caption="First frost", content_url="assets/x.png"),
    ]
    page = page_disclosure(items, prose_words=300, page_url="blog/post/", title="Frost")
    html = json_ld(page, "The Review", "https://example.org/", [{"name": "Ann Author"}], "Desk")
    doc = json.loads(_script_body(html))
    assert doc["@type"] == "Article"
    assert doc["url"] == "https://example.org/blog/post/"
    assert doc["author"] == [{"@type": "Person", "name": "Ann Author"}]
    authors = json.dumps(doc["author"])
    for model in ("gpt-4o-mini-2024-07-18", "gpt-image-1"):
        assert model not in authors
    [picture] = doc["associatedMedia"]
    assert picture["@type"] == "ImageObject"
    assert picture["digitalSourceType"] == "https://schema.org/TrainedAlgorithmicMediaDigitalSource"
    assert picture["contentUrl"] == "https://example.org/assets/x.png"
    assert picture["creator"]["@type"] == "SoftwareApplication"
    assert picture["creator"]["name"] == "gpt-image-1"
    assert "AI-generated image" in picture["creditText"]
    [text] = doc["hasPart"]
    assert text["@type"] == "CreativeWork" and text["name"] == "A frost poem"
    assert text["url"] == f"https://example.org/blog/post/#{items[0].element_id}"
    # Without a known human author the editorial responsibility is the author, not the model.
    anonymous = json.loads(_script_body(json_ld(page, "The Review", None, [], "Desk")))
    assert anonymous["author"] == [{"@type": "Organization", "name": "Desk"}]


def test_json_ld_cannot_be_broken_out_of() -> None:
    record = _record(trained=True, prompt=HOSTILE)
    image = _record("0123456789abcdef.png", kind="image", prompt=HOSTILE)
    items = [
        _item(record, label=HOSTILE),
        _item(image, alt=HOSTILE, caption=HOSTILE, content_url="x.png"),
    ]
    page = page_disclosure(items, prose_words=10, authorship=HOSTILE, title=HOSTILE)
    html = json_ld(page, HOSTILE, "https://example.org/", [HOSTILE], HOSTILE)
    body = _script_body(html)
    assert "<" not in body and ">" not in body
    assert html.lower().count("</script") == 1
    doc = json.loads(body)
    assert doc["headline"] == HOSTILE and doc["author"][0]["name"] == HOSTILE


# -- private prompts -------------------------------------------------------------------------


def test_private_prompts_keep_their_hash_and_the_disclosure() -> None:
    secret = "Secret brief: write like our competitor's newsletter."
    record = _record(trained=True, prompt=secret)
    item = PublishedItem.from_spec(
        record,
        Spec(kind="text", prompt=secret, show_prompt=False),
        page_src="p.md",
        page_url="p/",
    )
    assert item.show_prompt is False
    entry = ledger_entry(item)
    assert entry["prompt"] is None and entry["prompt_private"] is True
    assert entry["prompt_sha256"] == sha256_text(secret)
    assert "Secret brief" not in json.dumps(entry)
    page = page_disclosure([item], prose_words=0, page_url="p/")
    html = ledger_html([entry], [page] if page else [])
    assert "Secret brief" not in html
    assert f"private (sha256 {sha256_text(secret)[:12]}" in html
    banner = banner_html(page, "/ai-disclosures/")
    assert "1 AI-made item" in banner and "gpt-4o-mini-2024-07-18" in banner
    assert "Secret brief" not in banner + json_ld(page, "Site")
    # A site-wide default can be overridden by the directive, either way.
    shown = PublishedItem.from_spec(record, Spec(kind="text", prompt=secret), show_prompts=False)
    assert shown.show_prompt is False
    forced = PublishedItem.from_spec(
        record, Spec(kind="text", prompt=secret, show_prompt=True), show_prompts=False
    )
    assert ledger_entry(forced)["prompt"] == secret


# -- the ledger ------------------------------------------------------------------------------

#: Fields DISCLOSURE.md section 3 asks for, per item.
REQUIRED_FIELDS = {
    "page_url", "element_id", "url", "kind", "content_sha256", "source_type", "ai_disclosure",
    "aia", "provider", "model", "prompt", "prompt_sha256", "created", "reviewed_by",
    "reviewed_at", "editorial_responsibility", "edit_share", "c2pa", "key",
}  # fmt: skip


def _site() -> tuple[list[PublishedItem], list[Any]]:
    post = [
        _item(_approve(_record(trained=True)), label="A frost poem"),
        _item(
            _record("0123456789abcdef.png", kind="image"),
            alt="A bench",
            caption="Frost",
            content_sha256="c" * 64,
        ),
    ]
    home = [_item(_record("home page text"), page_src="index.md", page_url="", page_title="Home")]
    pages = [
        page_disclosure(post, prose_words=200, page_url="blog/post/", title="A post"),
        page_disclosure(home, prose_words=50, page_url="", title="Home"),
        page_disclosure(
            [], prose_words=300, authorship={"level": "EAI"}, page_url="about/", title="About"
        ),
    ]
    return post + home, [p for p in pages if p]


def test_ledger_document_has_a_schema_version_and_every_field() -> None:
    items, pages = _site()
    settings = {"editorial_responsibility": "The sample desk"}
    entries = [ledger_entry(item, settings) for item in items]
    doc = ledger_document(entries, settings, "2026-11-26T07:00:00Z", pages)
    doc = json.loads(json.dumps(doc))  # plain JSON all the way down
    assert doc["schema_version"] == LEDGER_SCHEMA_VERSION and doc["schema"]
    assert doc["generator"].startswith("aicraft ")
    assert doc["editorial_responsibility"] == "The sample desk"
    assert "directive" in doc["methodology"] and "The sample desk" in doc["methodology"]
    assert len(doc["items"]) == 3
    for entry in doc["items"]:
        assert set(entry) >= REQUIRED_FIELDS, REQUIRED_FIELDS - set(entry)
        assert entry["url"] == f"{entry['page_url']}#{entry['element_id']}"
        assert entry["editorial_responsibility"] == "The sample desk"
    poem, image, _ = doc["items"]
    assert poem["content_sha256"] == sha256_text(TEN)
    assert poem["reviewed_by"] == "Ed Itor" and poem["ai_disclosure"] == "ai-assisted"
    assert image["c2pa"] == "not signed" and image["content_sha256"] == "c" * 64
    assert image["alt"] == "A bench" and image["caption"] == "Frost"
    assert [p["url"] for p in doc["pages"]] == ["blog/post/", "", "about/"]
    about = doc["pages"][2]
    assert about["items"] == [] and about["aia"] == "AIA EAI Nc Hin Nr v1.0"
    assert about["authorship"]["level"] == "EAI"


def test_image_sha256_can_be_computed_by_the_adapter() -> None:
    image = _item(_record("0123456789abcdef.png", kind="image"))
    seen: list[str] = []

    def file_sha(name: str) -> str:
        seen.append(name)
        return "d" * 64

    assert ledger_entry(image, file_sha256=file_sha)["content_sha256"] == "d" * 64
    assert seen == ["0123456789abcdef.png"]


def test_csv_has_a_header_and_one_row_per_item() -> None:
    items, _ = _site()
    entries = [ledger_entry(item) for item in items]
    rows = list(csv.reader(io.StringIO(ledger_csv(entries))))
    assert rows[0] == list(CSV_COLUMNS)
    assert len(rows) == 1 + len(items)
    assert {row[0] for row in rows[1:]} == {item.record.short for item in items}
    table = ledger_table(entries).splitlines()
    assert table[0].startswith("ID") and len(table) == 1 + len(items)


def test_csv_cells_never_run_as_spreadsheet_formulas() -> None:
    items, _ = _site()
    entry = dict(ledger_entry(items[0]))
    entry.update(
        label='=HYPERLINK("https://evil.example","click")',
        prompt="@SUM(A1:A9)",
        caption="-2+3",
        alt="+cmd|' /C calc'!A0",
        model="gpt-4o",
    )
    cells = list(csv.reader(io.StringIO(ledger_csv([entry]))))[1]
    row = dict(zip(CSV_COLUMNS, cells, strict=True))
    assert row["label"] == '\'=HYPERLINK("https://evil.example","click")'
    assert row["prompt"] == "'@SUM(A1:A9)"
    assert row["caption"] == "'-2+3"
    assert row["alt"] == "'+cmd|' /C calc'!A0"
    assert row["model"] == "gpt-4o", "ordinary text is left as it is"
    assert row["edit_share"] == str(entry["edit_share"]), "numbers stay numbers"


class _Rows(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, list[str]] = {}
        self._row: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "tr" and values.get("id"):
            self._row = values["id"]
            self.rows[self._row] = []
        elif tag == "a" and self._row:
            self.rows[self._row].append(values.get("href") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "tr":
            self._row = None


def test_ledger_html_has_a_row_per_item_linking_to_it() -> None:
    items, pages = _site()
    entries = [ledger_entry(item) for item in items]
    html = ledger_html(entries, pages, methodology(), href=lambda url, frag: f"../{url}#{frag}")
    assert "\n\n" not in html  # one raw HTML block for Markdown
    parser = _Rows()
    parser.feed(html)
    assert set(parser.rows) == {f"ledger-{item.record.short}" for item in items}
    for item in items:
        links = parser.rows[f"ledger-{item.record.short}"]
        assert links[0] == f"../{item.page_url}#{item.element_id}"
    assert "About" in html and "No generated items on this page." in html
    # The same record published twice gets distinct row ids.
    twice = [*entries, ledger_entry(_item(items[0].record, page_url="other/"))]
    parser = _Rows()
    parser.feed(ledger_html(twice))
    assert f"ledger-{items[0].record.short}-2" in parser.rows
