"""A corpus of hostile strings for aicraft's security tests.

``OUTPUTS`` are what a compromised, prompt-injected or simply misbehaving model might answer;
tests/test_security.py serves each one from the fake OpenAI server as a chat completion,
generates a site with ``aicraft generate``, builds it with MkDocs and audits the built HTML. The
same strings (where they fit on a fence line) are used as the human-written presentation options
``label``, ``alt`` and ``caption``, and as prompts: those are trusted input, but must still be
escaped, never interpreted.

Every entry has an id (used in test ids and in the prompt that makes the fake server answer
with it) and the attack it stands for.
"""

from __future__ import annotations

from dataclasses import dataclass

FAKE_KEY = "d" * 64


@dataclass(frozen=True)
class Payload:
    """One hostile string."""

    id: str
    text: str
    attack: str


def _p(id: str, text: str, attack: str) -> Payload:
    return Payload(id, text, attack)


OUTPUTS: tuple[Payload, ...] = (
    # -- script elements -------------------------------------------------------------------------
    _p("script", "<script>alert(1)</script>", "script element"),
    _p("script-src", "<SCRIPT SRC=//evil.example/x.js></SCRIPT>", "external script, upper case"),
    _p("script-split", "<scr<script>ipt>alert(1)</scr</script>ipt>", "nested tag splitting"),
    _p("script-slash", "<script/xss src=//evil.example/x.js></script>", "slash separator"),
    _p("script-unclosed", "Intro.\n\n<script>alert(1)", "unclosed script swallowing the page"),
    _p("script-double-lt", "<<script>alert(1)//<</script>", "doubled angle bracket"),
    _p(
        "script-in-code", "`<script>alert(1)</script>` and\n\n    <script>alert(2)</script>", "code"
    ),
    # -- event handlers --------------------------------------------------------------------------
    _p("img-onerror", '<img src=x onerror="alert(1)">', "img onerror"),
    _p("img-onerror-unclosed", "<img src=x onerror=alert(1)//", "unterminated tag"),
    _p("body-onload", "<body onload=alert(1)>", "body onload"),
    _p("p-onclick", '<p onclick="alert(1)" onmouseover="alert(2)">hover</p>', "handlers on p"),
    _p("details-ontoggle", "<details open ontoggle=alert(1)><summary>x</summary></details>", "ont"),
    _p(
        "a-onfocus", '<a href="https://ok.example" onfocus=alert(1) autofocus>x</a>', "link onfocus"
    ),
    _p("input-autofocus", "<input autofocus onfocus=alert(1)>", "input autofocus"),
    _p("video-source", '<video><source onerror="alert(1)"></video>', "media onerror"),
    _p("div-slash-handler", "<div/onmouseover='alert(1)'>x</div>", "slash before attribute"),
    _p("marquee", "<marquee onstart=alert(1)>x</marquee>", "marquee onstart"),
    # -- dangerous URLs --------------------------------------------------------------------------
    _p("a-javascript", '<a href="javascript:alert(1)">x</a>', "javascript: URL"),
    _p("a-javascript-case", '<a href="JaVaScRiPt:alert(1)">x</a>', "mixed case"),
    _p("a-javascript-entity", '<a href="&#106;avascript:alert(1)">x</a>', "decimal entity"),
    _p(
        "a-javascript-hex",
        '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;'
        'alert(1)">x</a>',
        "hex entities",
    ),
    _p("a-javascript-nosemi", '<a href="&#0000106&#0000097vascript:alert(1)">x</a>', "no ;"),
    _p("a-javascript-tab", '<a href="jav&#x09;ascript:alert(1)">x</a>', "tab entity inside"),
    _p("a-javascript-newline", '<a href="java\nscript:alert(1)">x</a>', "newline inside"),
    _p("a-javascript-space", '<a href="  javascript:alert(1)">x</a>', "leading spaces"),
    _p("a-javascript-colon", '<a href="javascript&colon;alert(1)">x</a>', "&colon; entity"),
    _p("a-javascript-ctrl", '<a href="\x01javascript:alert(1)">x</a>', "control char prefix"),
    _p(
        "a-data",
        '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
        "data: URL",
    ),
    _p("a-vbscript", "<a href='vbscript:msgbox(1)'>x</a>", "vbscript: URL"),
    _p("a-zero-width", '<a href="java\u200bscript:alert(1)">x</a>', "zero-width in scheme"),
    # -- Markdown links, images, references, autolinks -------------------------------------------
    _p("md-link", "[click](javascript:alert(1))", "Markdown link"),
    _p("md-link-upper", "[click](JAVASCRIPT:alert(1))", "upper case"),
    _p("md-link-angle", "[click](<javascript:alert(1)>)", "angle-bracketed destination"),
    _p("md-link-title", '[click](  javascript:alert(1)  "a title")', "with a title"),
    _p("md-link-entity", "[click](javascript&#58;alert(1))", "entity in destination"),
    _p("md-link-data", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)", "data"),
    _p("md-image", "![pic](javascript:alert(1))", "Markdown image"),
    _p("md-image-data", "![pic](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)", "svg"),
    _p("md-reference", "[click][evil]\n\n[evil]: javascript:alert(1)", "reference-style link"),
    _p("md-reference-image", "![pic][evil]\n\n[evil]: vbscript:msgbox(1)", "reference image"),
    _p("md-autolink", "<javascript:alert(1)>", "autolink"),
    _p("md-autolink-data", "<data:text/html,<script>alert(1)</script>>", "data autolink"),
    _p("md-zero-width", "[x](java\u200bscript:alert(1))", "zero-width in scheme"),
    # -- SVG and MathML --------------------------------------------------------------------------
    _p("svg-onload", "<svg onload=alert(1)><circle r=10 /></svg>", "svg onload"),
    _p("svg-script", "<svg><script>alert(1)</script></svg>", "script in svg"),
    _p(
        "svg-xlink",
        '<svg><a xlink:href="javascript:alert(1)"><text y="20">x</text></a></svg>',
        "xlink:href",
    ),
    _p("svg-animate", "<svg><animate onbegin=alert(1) attributeName=x dur=1s>", "animate"),
    _p(
        "svg-foreign",
        '<svg><foreignObject><iframe src="javascript:alert(1)"></iframe></foreignObject></svg>',
        "foreignObject",
    ),
    _p("math-mglyph", "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>", "mXSS"),
    _p("math-href", '<math href="javascript:alert(1)">CLICK</math>', "MathML href"),
    _p(
        "math-maction",
        '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">'
        "x</maction></math>",
        "maction",
    ),
    # -- frames, objects, forms, base, meta, links -----------------------------------------------
    _p("iframe", '<iframe src="https://evil.example"></iframe>', "iframe"),
    _p("iframe-srcdoc", '<iframe srcdoc="<script>alert(1)</script>"></iframe>', "srcdoc"),
    _p("object-embed", '<object data="evil.swf"></object><embed src="evil.swf">', "plugins"),
    _p("frameset", '<frameset><frame src="javascript:alert(1)"></frameset>', "frames"),
    _p(
        "form",
        '<form action="https://evil.example"><input name=q>'
        '<button formaction="javascript:alert(1)">go</button></form>',
        "form and formaction",
    ),
    _p("base", '<base href="https://evil.example/">', "base element"),
    _p("meta-refresh", '<meta http-equiv="refresh" content="0;url=https://evil.example">', "meta"),
    _p(
        "meta-refresh-js",
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        "meta refresh to javascript:",
    ),
    _p("link-css", '<link rel="stylesheet" href="https://evil.example/x.css">', "stylesheet"),
    # -- CSS -----------------------------------------------------------------------------------
    _p("css-url", '<div style="background:url(javascript:alert(1))">styled</div>', "CSS url()"),
    _p("css-expression", '<span style="color:expression(alert(1))">x</span>', "CSS expression"),
    _p(
        "css-cover",
        '<p style="position:fixed;top:0;left:0;width:100%;height:100%;background:#fff">cover</p>',
        "an overlay that hides the credit",
    ),
    _p("css-hide-credit", "<style>.aicraft-credit{display:none}</style>", "hide the credit"),
    _p("css-import", "<style>@import url(https://evil.example/x.css);</style>", "@import"),
    # -- breaking out of the item, hiding or forging the credit ----------------------------------
    _p("close-wrapper", "</div></div></figure><script>alert(1)</script>", "close our wrapper"),
    _p(
        "close-and-credit",
        '</p></div><div class="aicraft-credit">Written by a human</div>',
        "close the content and add a credit",
    ),
    _p(
        "fake-credit",
        '<div class="aicraft-credit" role="note">Human-written, reviewed by the editor</div>',
        "imitate the credit",
    ),
    _p(
        "fake-credit-spans",
        '<p class="aicraft-credit"><span class="aicraft-badge">Human-written</span>'
        '<span class="aicraft-review aicraft-review--approved">reviewed by Ed Itor</span></p>',
        "imitate the credit's parts",
    ),
    _p(
        "fake-attributes",
        '<span data-ai-generated="false" ai-disclosure="human-only" '
        'data-ai-disclosure="human-only">forged</span>',
        "forge the machine-readable disclosure",
    ),
    _p(
        "fake-item",
        f'<div class="aicraft aicraft-text" data-aicraft-key="{FAKE_KEY}" '
        'data-ai-generated="true" ai-disclosure="ai-assisted">a fake item</div>',
        "add an item (inflate or confuse the counts)",
    ),
    _p(
        "fake-key-text",
        f'Look: data-aicraft-key="{FAKE_KEY}" data-ai-generated="false"',
        "attribute-like text",
    ),
    _p("fake-banner", '<aside class="aicraft-banner">No AI on this page</aside>', "fake banner"),
    _p("unclosed-div", '<div data-ai-generated="false">', "unclosed element"),
    _p("unclosed-comment", "Before.\n\n<!-- everything after this is hidden", "unclosed comment"),
    _p("unclosed-textarea", "Before <textarea> after", "raw-text element swallowing the rest"),
    _p("unclosed-title", "<title>", "title swallowing the rest"),
    _p("plaintext", "<plaintext>rest of page", "plaintext"),
    _p("xmp", "<xmp><script>alert(1)</script></xmp>", "xmp"),
    _p("noscript", '<noscript><p title="</noscript><img src=x onerror=alert(1)>">', "mXSS"),
    _p("template", "<template><script>alert(1)</script></template>", "template"),
    # -- HTML comments hiding text ---------------------------------------------------------------
    _p("comment-hiding", "Visible<!-- <script>alert(1)</script> -->text", "comment"),
    _p("comment-broken", "<!--><script>alert(1)</script>-->", "malformed comment"),
    _p("comment-conditional", "<!--[if IE]><script>alert(1)</script><![endif]-->", "IE comment"),
    _p("cdata", "<![CDATA[<script>alert(1)</script>]]>", "CDATA"),
    # -- template syntax (must stay text) --------------------------------------------------------
    _p("jinja-expr", "Seven sevens: {{ 7*7 }}", "Jinja expression"),
    _p("jinja-block", '{% include "main.html" %}{% raw %}x{% endraw %}', "Jinja statements"),
    _p("jinja-config", "{{ config.extra }} {{ ''.__class__.__mro__ }}", "Jinja introspection"),
    _p("template-dollar", "${7*7} #{7*7} <%= 7*7 %>", "other template languages"),
    # -- zero-width and bidi characters ----------------------------------------------------------
    _p("zw-script", "<scr\u200bipt>alert(1)</script>", "zero-width inside a tag name"),
    _p("bidi-rlo", "\u202e>tpircs/<)1(trela>tpircs<", "right-to-left override"),
    _p("bom-script", "\ufeff<script>alert(1)</script>", "byte order mark"),
    _p("bidi-isolate", "\u2066<img src=x onerror=alert(1)>\u2069", "isolates"),
    # -- markup from other Markdown dialects -----------------------------------------------------
    _p("attr-list", 'A paragraph{: onclick="alert(1)" }', "attr_list"),
    _p("md-in-html", '<div markdown="1">[x](javascript:alert(1))</div>', "md_in_html"),
    _p("placeholder", "\x02wzxhzdk:0\x03 \x02wzxhzdk:1\x03", "Python-Markdown stash placeholders"),
    _p("asset-scheme", "![x](aicraft-asset:///0123456789abcdef.png)", "aicraft's own URL scheme"),
    _p("ledger-scheme", "[x](aicraft-ledger:///#x) aicraft-ledger:///", "ledger placeholder"),
)


def option_payloads() -> list[tuple[Payload, str]]:
    """The payloads usable as ``label``, ``alt`` and ``caption`` values, with a quote for each.

    A fence line holds one line of at most 200 characters (the ``label`` limit), and the value
    must not contain the quote that encloses it (see tests/test_fuzz.py for what happens then).
    """
    usable = []
    for payload in OUTPUTS:
        text = payload.text
        if "\n" in text or len(text) > 200 or text != text.strip() or not text:
            continue
        if any(ord(c) < 32 for c in text):
            continue
        quote = '"' if '"' not in text else "'" if "'" not in text else None
        if quote is not None:
            usable.append((payload, quote))
    return usable


#: Hostile model ids, as an OpenAI-compatible server might report them.
MODEL_IDS: tuple[str, ...] = (
    'gpt-4o"><script>alert(1)</script>',
    "</script><script>alert(2)</script>",
    'x" data-ai-generated="false" ai-disclosure="human-only',
    "javascript:alert(3)",
    "<img src=x onerror=alert(4)>",
)

assert len(OUTPUTS) >= 60
assert len({p.id for p in OUTPUTS}) == len(OUTPUTS)
