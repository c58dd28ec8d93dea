"""Records to HTML with an inline credit; sanitising of model output.

Everything a model produced is untrusted: it is converted from Markdown by markdown-it-py
(CommonMark, in time linear in the text; raw HTML is shown as text, links go only to http,
https and mailto URLs, images are left out) and then cleaned with nh3 (the Rust ammonia
sanitiser) against a small allow-list, so no script, event handler, style, form, frame, image
or ``javascript:`` URL in model output reaches a page as live markup. Everything else that
goes into the HTML here (prompts, labels, alt text, model names) is escaped.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from html import escape
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

from aicraft.directives import Spec
from aicraft.disclosure import (
    AI_ASSISTED,
    AI_AUTONOMOUS,
    aia_statement,
    badge_text,
    candidates_text,
    element_id,
    provider_name,
    review_state,
    source_type_uri,
)

# Moved to aicraft.disclosure (the one home of the disclosure vocabulary); re-exported here.
from aicraft.disclosure import edit_share as edit_share
from aicraft.disclosure import words as words
from aicraft.records import Record

#: Placeholder scheme for store images; the MkDocs adapter rewrites it to a page-relative URL.
ASSET_SCHEME = "aicraft-asset:///"

ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "em", "strong", "b", "i", "u", "s", "del", "ins", "mark", "small",
        "sub", "sup", "code", "pre", "kbd", "blockquote", "q", "cite", "ul", "ol", "li",
        "dl", "dt", "dd", "h3", "h4", "h5", "h6", "a", "abbr", "span",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
# Tags removed together with everything inside them.
DROPPED_WITH_CONTENT = frozenset(
    {
        "script", "style", "template", "noscript", "iframe", "object", "embed", "svg", "math",
        "textarea", "select", "title", "head", "xmp", "noembed", "noframes", "plaintext",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = frozenset({"http", "https", "mailto"})

_local = threading.local()


_SAFE_LINK = re.compile(r"^(?:https?|mailto):", re.IGNORECASE)
# C0 control characters but tab, LF and CR: no HTML text holds them, and STX/ETX (\x02, \x03)
# would let model output forge Python-Markdown's placeholders (``\x02wzxhzdk:0\x03``), which
# the page's own Markdown then replaces with other stashed HTML (another item, say).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _ModelMarkdown(MarkdownIt):
    """CommonMark for model output: links and autolinks only to http, https and mailto URLs.

    A link to anything else (``javascript:``, ``data:``, a relative path) stays literal text.
    """

    def validateLink(self, url: str) -> bool:
        """Whether ``url`` (entities decoded, percent-encoded) may become a link."""
        return bool(_SAFE_LINK.match(url.strip()))


def _no_image(renderer: Any, tokens: Sequence[Token], idx: int, options: Any, env: Any) -> str:
    """Images in model output are not shown (the sanitiser would remove them anyway)."""
    return ""


def _markdown() -> MarkdownIt:
    md = getattr(_local, "md", None)
    if md is None:
        # Raw HTML is text (html=False); a single newline is a line break (breaks=True), as
        # Python-Markdown's nl2br did before. markdown-it-py parses in linear time and stops
        # nesting at maxNesting (20), so no model output can make a build hang.
        md = _ModelMarkdown("commonmark", {"html": False, "breaks": True, "xhtmlOut": False})
        md.add_render_rule("image", _no_image)
        _local.md = md
    return md


def sanitize_markdown(text: str) -> str:
    """Model output (Markdown, possibly hostile) to safe HTML.

    Rendered with markdown-it-py (raw HTML shown as text, only http, https and mailto links),
    then cleaned with :func:`sanitize_html` all the same.
    """
    return sanitize_html(_markdown().render(text))


def _cleaner_options() -> dict[str, Any]:
    return {
        "tags": set(ALLOWED_TAGS),
        "clean_content_tags": set(DROPPED_WITH_CONTENT),
        "attributes": {k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        "url_schemes": set(URL_SCHEMES),
        "url_relative": "deny",
        "link_rel": "nofollow noopener noreferrer",
        "strip_comments": True,
    }


def _clean(html: str) -> str:
    """``nh3.clean`` with aicraft's options; with a reusable ``nh3.Cleaner`` (one per thread)
    where nh3 has one, so the allow-lists are not converted again for every fragment."""
    cleaner = getattr(_local, "cleaner", None)
    if cleaner is None:
        factory = getattr(nh3, "Cleaner", None)  # nh3 >= 0.3
        cleaner = _local.cleaner = (
            factory(**_cleaner_options()).clean if factory is not None else False
        )
    if cleaner is False:
        return nh3.clean(html, **_cleaner_options())
    return str(cleaner(html))


def sanitize_html(html: str) -> str:
    """Clean an HTML fragment down to the allow-list; links get ``rel="nofollow noopener"``.

    Control characters are removed (also those written as character references).
    """
    return _CONTROL.sub("", _clean(html))


def _attributes(record: Record, state: str, prompt_url: str | None = None) -> str:
    """The wrapper's attributes; ``state`` is the record's review status (:func:`review_state`)."""
    reviewed = state == "approved"
    disclosure = AI_ASSISTED if reviewed else AI_AUTONOMOUS
    aia = aia_statement(record, reviewed=reviewed)
    pairs = [
        ("id", element_id(record)),
        ("data-aicraft-key", record.key),
        ("data-ai-generated", "true"),
        ("ai-disclosure", disclosure),
        ("data-ai-disclosure", disclosure),
        ("ai-model", record.model),
        ("data-ai-model", record.model),
        ("ai-provider", record.provider),
        ("data-ai-provider", record.provider),
        ("data-ai-source-type", source_type_uri(record)),
        ("data-ai-review", state),
        ("data-aia", aia),
    ]
    if prompt_url:
        pairs += [("ai-prompt-url", prompt_url), ("data-ai-prompt-url", prompt_url)]
    return " ".join(f'{name}="{escape(value)}"' for name, value in pairs)


def credit_html(
    record: Record,
    spec: Spec,
    show_prompt: bool,
    ledger_href: str | None = None,
    content_sha256: str | None = None,
    *,
    review: tuple[str, str] | None = None,
) -> str:
    """The visible credit line (and prompt ``<details>``) that opens every generated item.

    With ``ledger_href`` the badge links to the item's entry in the ledger. ``review``, when
    the caller already has it (:func:`review_state` with the same ``content_sha256``), saves
    checking the review again.
    """
    state, state_text = review or review_state(record, content_sha256)
    badge = escape(badge_text(record))
    if ledger_href:
        badge = (
            f'<a class="aicraft-ledger-link" href="{escape(ledger_href)}" '
            f'title="This item in the AI ledger">{badge}</a>'
        )
    parts = [f'<span class="aicraft-badge">{badge}</span>']
    if spec.label:
        parts.append(f'<span class="aicraft-label">{escape(spec.label)}</span>')
    parts.append(f'<span class="aicraft-model">{escape(record.model)}</span>')
    parts.append(f'<span class="aicraft-provider">{escape(provider_name(record))}</span>')
    candidates = candidates_text(record)
    if candidates:
        parts.append(f'<span class="aicraft-candidates">{escape(candidates)}</span>')
    parts.append(
        f'<span class="aicraft-review aicraft-review--{state}">{escape(state_text)}</span>'
    )
    # A dot for the eye, a comma for screen readers (the dot is hidden from them).
    sep = (
        '<span class="aicraft-sep"><span aria-hidden="true"> · </span>'
        '<span class="aicraft-sr">, </span></span>'
    )
    html = f'<p class="aicraft-credit" role="note">{sep.join(parts)}</p>'
    if show_prompt:
        system = ""
        if record.system:
            system = (
                '<p class="aicraft-prompt-label">System prompt</p>'
                f"<pre><code>{escape(record.system)}</code></pre>"
                '<p class="aicraft-prompt-label">Prompt</p>'
            )
        html += (
            '<details class="aicraft-prompt"><summary>Prompt</summary>'
            f"{system}<pre><code>{escape(record.prompt)}</code></pre></details>"
        )
    return html


def render_record(
    record: Record,
    spec: Spec,
    show_prompts: bool = True,
    ledger_href: str | None = None,
    content_sha256: str | None = None,
    srcset: str = "",
) -> str:
    """The HTML of a generated item: credit first, then the sanitised content.

    The wrapper (``<div>``, or ``<figure>`` for images) carries the W3C draft attributes
    (``ai-disclosure``, ``ai-model``, ``ai-provider``, and ``ai-prompt-url`` pointing at the
    ledger when the prompt is shown), their ``data-*`` twins, ``data-aicraft-key`` and
    ``data-aia`` (the item's AI Attribution statement). ``ledger_href`` is the URL of the
    item's ledger row (``...#ledger-<key16>``); without it the credit has no link. For an
    image, ``content_sha256`` (the file's sha256) lets an approval be checked against the
    bytes (see :func:`aicraft.disclosure.review_state`); ``srcset`` lists its responsive
    variants.
    """
    review = review_state(record, content_sha256)
    show = spec.show_prompt if spec.show_prompt is not None else show_prompts
    credit = credit_html(record, spec, show, ledger_href, review=review)
    attrs = _attributes(record, review[0], ledger_href if show else None)
    if record.kind == "image":
        width, height = (record.params.get("size") or "x").partition("x")[::2]
        size = f' width="{int(width)}" height="{int(height)}"' if width and height else ""
        responsive = ""
        if srcset:
            responsive = f' srcset="{escape(srcset)}" sizes="(max-width: 60rem) 100vw, 60rem"'
        caption = ""
        if spec.caption:
            caption = f'<span class="aicraft-caption-text">{escape(spec.caption)}</span> '
        credit_line = (
            f'<span class="aicraft-caption-credit">{escape(badge_text(record))} by '
            f"{escape(record.model)} ({escape(record.provider)})</span>"
        )
        return (
            f'<figure class="aicraft aicraft-image" {attrs}>{credit}'
            f'<img src="{ASSET_SCHEME}{escape(record.published_image)}" '
            f'alt="{escape(spec.alt or "")}"'
            f'{responsive}{size} loading="lazy" decoding="async">'
            f"<figcaption>{caption}{credit_line}</figcaption></figure>"
        )
    content = sanitize_markdown(record.body)
    return (
        f'<div class="aicraft aicraft-text" {attrs}>{credit}'
        f'<div class="aicraft-content">{content}</div></div>'
    )


def render_notice(kind: str, title: str, lines: list[str]) -> str:
    """A visible box for a directive that could not be expanded (missing record, bad options)."""
    items = "".join(f"<li>{escape(line)}</li>" for line in lines)
    return (
        f'<div class="admonition failure aicraft-notice" data-aicraft-notice="{escape(kind)}">'
        f'<p class="admonition-title">{escape(title)}</p><ul>{items}</ul></div>'
    )
