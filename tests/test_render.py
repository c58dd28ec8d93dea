"""Rendering of records: the credit comes first, and model output never becomes live markup."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from aicraft.directives import Spec
from aicraft.records import Record, sha256_text
from aicraft.render import edit_share, render_record, sanitize_markdown

# Model outputs that try to inject script or markup into the page.
PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<svg onload=alert(1)><circle r=10 /></svg>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "[click](javascript:alert(1))",
    "![pic](javascript:alert(1))",
    '<iframe src="https://evil.example"></iframe>',
    '<object data="evil.swf"></object><embed src="evil.swf">',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    '<p onclick="alert(1)" onmouseover="alert(2)">hover</p>',
    "<form action=https://evil.example><input name=q><button>go</button></form>",
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<base href=https://evil.example/>",
    "<!-- hidden --><script>alert(1)</script>",
    "</div></div></figure><script>alert(1)</script>",
    '<div class="aicraft-credit">Human-written, reviewed by the editor</div>',
    '<span data-ai-generated="false" ai-disclosure="human-only">forged</span>',
    "<template><script>alert(1)</script></template>",
    '<details open ontoggle="alert(1)"><summary>x</summary></details>',
    "<a href='vbscript:msgbox(1)'>x</a>",
    '<video><source onerror="alert(1)"></video>',
    "<style>body{display:none}</style>",
    "<textarea><script>alert(1)</script></textarea>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
]


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs.extend(attrs)


DANGEROUS_TAGS = {
    "script", "img", "svg", "math", "iframe", "object", "embed", "style", "form", "input",
    "button", "meta", "link", "base", "template", "video", "source", "textarea", "details", "div",
    "noscript",
}  # fmt: skip


@pytest.mark.parametrize("payload", PAYLOADS)
def test_model_output_never_becomes_live_markup(payload: str) -> None:
    html = sanitize_markdown(payload)
    parser = _Collector()
    parser.feed(html)
    assert not set(parser.tags) & DANGEROUS_TAGS, html
    for name, value in parser.attrs:
        assert not name.startswith("on"), html
        assert name in ("href", "title", "rel"), html
        if name == "href":
            assert value is not None and value.startswith(("http://", "https://", "mailto:"))


def test_ordinary_markdown_survives_sanitising() -> None:
    html = sanitize_markdown(
        "A *poem* with **bold**\n\n- one\n- two\n\n[site](https://example.org)"
    )
    assert "<em>poem</em>" in html and "<strong>bold</strong>" in html
    assert "<li>one</li>" in html
    assert 'href="https://example.org"' in html and "nofollow" in html


def test_single_newlines_are_line_breaks_and_lists_are_lists() -> None:
    html = sanitize_markdown("Frost on the bench,\nsilver on the gate.\n\n1. one\n2. two\n- three")
    assert "bench,<br>" in html and "silver on the gate." in html
    assert "<ol>" in html and "<li>one</li>" in html and "<li>two</li>" in html
    assert "<ul>" in html and "<li>three</li>" in html  # a new marker starts a new list


def test_raw_html_in_model_output_is_shown_as_text() -> None:
    html = sanitize_markdown('A <b>bold</b> claim <span title="x">and</span> <!-- a comment -->')
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "&lt;span" in html and "&lt;!-- a comment --&gt;" in html
    assert "<b>" not in html and "<span" not in html


@pytest.mark.parametrize(
    "link",
    [
        "[x](javascript:alert(1))",
        "[x](&#106;avascript:alert(1))",
        "[x](data:text/html,hi)",
        "[x](/relative/path)",
        "<javascript:alert(1)>",
        "[x][r]\n\n[r]: vbscript:msgbox(1)",
    ],
)
def test_only_http_https_and_mailto_links_become_links(link: str) -> None:
    assert "<a" not in sanitize_markdown(link)


def test_safe_links_and_autolinks_are_kept() -> None:
    html = sanitize_markdown("[a](https://a.example) <http://b.example> [m](mailto:x@c.example)")
    assert html.count("<a ") == 3
    assert 'href="mailto:x@c.example"' in html and 'href="http://b.example"' in html


def test_control_characters_cannot_forge_python_markdown_placeholders() -> None:
    html = sanitize_markdown("\x02wzxhzdk:0\x03 &#2;wzxhzdk:1&#x3; <b>&#x2;</b>\x7f\x00")
    assert not any(c in html for c in "\x00\x02\x03\x7f"), repr(html)
    assert "wzxhzdk:0" in html  # the rest is kept, as text


def test_images_in_model_output_are_not_shown() -> None:
    html = sanitize_markdown("Look: ![a tracking pixel](https://evil.example/p.png) done.")
    assert "<img" not in html and "evil.example" not in html and "tracking pixel" not in html
    assert "Look:" in html and "done." in html


def _record(body: str, kind: str = "text", **extra: object) -> Record:
    values: dict = dict(
        key=sha256_text(body + kind),
        kind=kind,
        provider="offline",
        provider_label="aicraft offline (Markov chain text, procedural images; no trained model)",
        model="aicraft-markov-1",
        requested_model=None,
        source_type="algorithmicMedia",
        prompt="Write <b>a</b> poem.",
        system=None,
        params={"size": "640x480"} if kind == "image" else {},
        created="2026-11-26T06:00:00Z",
        source={"page": "p.md", "line": 3},
        usage={},
        original=body,
        body=body if kind == "text" else "",
    )
    values.update(extra)
    return Record(**values)


def test_text_item_has_credit_first_and_machine_readable_attributes() -> None:
    record = _record("Frost on the bench.")
    html = render_record(record, Spec(kind="text", prompt="p", label="A frost poem"))
    assert html.startswith('<div class="aicraft aicraft-text" ')
    for attribute in (
        f'data-aicraft-key="{record.key}"',
        'data-ai-generated="true"',
        'ai-disclosure="ai-autonomous"',
        'ai-model="aicraft-markov-1"',
        'ai-provider="offline"',
        f'id="ai-{record.key[:16]}"',
    ):
        assert attribute in html
    credit = html.index('class="aicraft-credit"')
    assert credit < html.index("Frost on the bench.")
    assert "Machine-generated text" in html  # the offline provider is no trained model
    assert "not yet reviewed" in html
    assert "A frost poem" in html
    assert '<details class="aicraft-prompt"><summary>Prompt</summary>' in html
    assert "Write &lt;b&gt;a&lt;/b&gt; poem." in html  # the prompt is shown, escaped


def test_prompt_can_be_hidden_but_never_the_credit() -> None:
    record = _record("Text.")
    html = render_record(record, Spec(kind="text", prompt="p", show_prompt=False))
    assert "<details" not in html
    assert "Machine-generated text" in html
    assert (
        render_record(record, Spec(kind="text", prompt="p"), show_prompts=False).count("<details")
        == 0
    )


def test_trained_models_are_labelled_ai_generated_and_edits_are_disclosed() -> None:
    record = _record("one two three four five six seven eight nine ten", source_type="x")
    record.provider, record.model = "openai", "gpt-4o-mini-2024-07-18"
    assert "AI-generated text" in render_record(record, Spec(kind="text", prompt="p"))
    record.body = "one two three four five six seven eight nine eleven"
    html = render_record(record, Spec(kind="text", prompt="p"))
    assert "AI-assisted text, human-edited 10%" in html


def test_approval_binds_to_the_published_text() -> None:
    record = _record("Approved text.")
    record.review = {
        "status": "approved",
        "by": "Ed Itor",
        "at": "2026-11-20T10:00:00Z",
        "sha256": sha256_text("Approved text."),
    }
    html = render_record(record, Spec(kind="text", prompt="p"))
    assert "reviewed by Ed Itor on 2026-11-20" in html
    assert 'ai-disclosure="ai-assisted"' in html
    record.body = "Approved text, then changed."
    html = render_record(record, Spec(kind="text", prompt="p"))
    assert "changed since approval" in html
    assert 'ai-disclosure="ai-autonomous"' in html


def test_image_item_is_a_figure_with_alt_caption_and_credit() -> None:
    record = _record("0123456789abcdef.png", kind="image")
    spec = Spec(kind="image", prompt="p", alt='A "bench" <at> dawn', caption="The first frost")
    html = render_record(record, spec)
    assert html.startswith('<figure class="aicraft aicraft-image" ')
    assert 'alt="A &quot;bench&quot; &lt;at&gt; dawn"' in html
    assert 'width="640" height="480"' in html
    assert '<figcaption><span class="aicraft-caption-text">The first frost</span>' in html
    assert html.index("aicraft-credit") < html.index("<img")


def test_edit_share_counts_changed_words() -> None:
    assert edit_share("a b c d", "a b c d") == 0.0
    assert edit_share("a b c d", "a b x d") == pytest.approx(0.25)
    assert edit_share("a b", "") == 1.0


def test_credit_links_to_the_ledger_and_carries_the_attribution_statement() -> None:
    record = _record("Frost on the bench.")
    href = "../../ai-disclosures/#ledger-" + record.key[:16]
    html = render_record(record, Spec(kind="text", prompt="p"), ledger_href=href)
    assert f'<a class="aicraft-ledger-link" href="{href}"' in html
    assert 'data-aia="AIA EAI Nc Hin Nr aicraft-markov-1 v1.0"' in html
    assert f'ai-prompt-url="{href}"' in html  # the ledger shows the prompt
    assert (
        'data-ai-source-type="http://cv.iptc.org/newscodes/digitalsourcetype/algorithmicMedia"'
        in html
    )
    assert "aicraft-ledger-link" not in render_record(record, Spec(kind="text", prompt="p"))
    private = render_record(
        record, Spec(kind="text", prompt="p", show_prompt=False), ledger_href=href
    )
    assert "ai-prompt-url" not in private and "aicraft-ledger-link" in private


def test_image_figure_carries_the_same_attributes_and_a_caption_credit() -> None:
    record = _record("0123456789abcdef.png", kind="image")
    spec = Spec(kind="image", prompt="p", alt="A bench", caption="The first frost")
    html = render_record(record, spec, ledger_href="/ai-disclosures/#ledger-x")
    figure = html[: html.index(">") + 1]
    for attribute in ('ai-disclosure="ai-autonomous"', "data-aia=", "data-aicraft-key=", "id="):
        assert attribute in figure
    caption = html[html.index("<figcaption>") :]
    assert "Machine-generated image by aicraft-markov-1 (offline)" in caption


def test_candidates_are_disclosed_honestly() -> None:
    record = _record("First.", candidates=["First.", "Second.", "Third."])
    html = render_record(record, Spec(kind="text", prompt="p"))
    assert "candidate 1 of 3, not chosen by a human" in html
    record.review["picked_by"] = "Ed Itor"
    html = render_record(record, Spec(kind="text", prompt="p"))
    assert "candidate 1 of 3, chosen by Ed Itor" in html


def test_hostile_label_and_ledger_href_are_escaped() -> None:
    record = _record("Text.")
    html = render_record(
        record,
        Spec(kind="text", prompt="p", label='"><script>alert(1)</script>'),
        ledger_href='x"><script>alert(2)</script>',
    )
    assert "<script" not in html


def test_image_approval_is_checked_against_the_file_bytes() -> None:
    record = _record("0123456789abcdef.png", kind="image")
    record.review = {"status": "approved", "by": "Ed", "at": "2026-11-20", "sha256": "a" * 64}
    spec = Spec(kind="image", prompt="p", alt="x")
    assert 'ai-disclosure="ai-assisted"' in render_record(record, spec, content_sha256="a" * 64)
    html = render_record(record, spec, content_sha256="b" * 64)
    assert "changed since approval" in html and 'ai-disclosure="ai-autonomous"' in html
