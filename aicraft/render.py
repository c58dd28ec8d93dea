"""Records to HTML with an inline credit; sanitising of model output.

Everything a model produced is untrusted: it is converted from Markdown and then cleaned with
nh3 (the Rust ammonia sanitiser) against a small allow-list, so no script, event handler,
style, form, frame, image or ``javascript:`` URL in model output reaches a page as live markup.
Everything else that goes into the HTML here (prompts, labels, alt text, model names) is
escaped.
"""

from __future__ import annotations

import difflib
import re
import threading
from html import escape

import markdown
import nh3

from aicraft.directives import Spec
from aicraft.records import Record, sha256_text

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


def _markdown() -> markdown.Markdown:
    md = getattr(_local, "md", None)
    if md is None:
        md = markdown.Markdown(extensions=["sane_lists"], output_format="html")
        _local.md = md
    return md


def sanitize_markdown(text: str) -> str:
    """Model output (Markdown, possibly hostile) to safe HTML."""
    md = _markdown()
    md.reset()
    html = md.convert(text)
    return sanitize_html(html)


def sanitize_html(html: str) -> str:
    """Clean an HTML fragment down to the allow-list; links get ``rel="nofollow noopener"``."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(DROPPED_WITH_CONTENT),
        attributes={k: set(v) for k, v in ALLOWED_ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        url_relative="deny",
        link_rel="nofollow noopener noreferrer",
        strip_comments=True,
    )


_WORD = re.compile(r"\w+(?:['’]\w+)*", re.UNICODE)


def words(text: str) -> list[str]:
    """The words of a text (for word counts and edit shares)."""
    return _WORD.findall(text)


def edit_share(original: str, published: str) -> float:
    """Share (0..1) of the published words that differ from the original output."""
    before, after = words(original), words(published)
    if before == after:
        return 0.0
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return 1.0 - same / max(len(before), len(after), 1)


def review_state(record: Record) -> tuple[str, str]:
    """``(status, human text)``: approved only when the approval matches the published text."""
    review = record.review or {}
    status = review.get("status") or "pending"
    published_sha = sha256_text(record.body if record.kind == "text" else record.original)
    if status == "approved":
        if review.get("sha256") not in (None, published_sha):
            return "changed", "changed since approval, not yet re-reviewed"
        who = review.get("by") or "an editor"
        when = str(review.get("at") or "")[:10]
        return "approved", f"reviewed by {who}" + (f" on {when}" if when else "")
    if status == "rejected":
        return "rejected", "rejected in review"
    return "pending", "not yet reviewed"


def disclosure_value(record: Record) -> str:
    """W3C draft ``ai-disclosure``: ``ai-assisted`` once a human reviewed it, else autonomous."""
    return "ai-assisted" if review_state(record)[0] == "approved" else "ai-autonomous"


def _badge(record: Record) -> str:
    noun = "image" if record.kind == "image" else "text"
    maker = "AI-generated" if record.source_type != "algorithmicMedia" else "Machine-generated"
    if record.edited:
        share = round(edit_share(record.original, record.body) * 100)
        return f"AI-assisted {noun}, human-edited {share}%"
    return f"{maker} {noun}"


def _attributes(record: Record, state: str) -> str:
    disclosure = disclosure_value(record)
    pairs = [
        ("id", f"ai-{record.short}"),
        ("data-aicraft-key", record.key),
        ("data-ai-generated", "true"),
        ("ai-disclosure", disclosure),
        ("data-ai-disclosure", disclosure),
        ("ai-model", record.model),
        ("data-ai-model", record.model),
        ("ai-provider", record.provider),
        ("data-ai-provider", record.provider),
        ("data-ai-source-type", record.source_type),
        ("data-ai-review", state),
    ]
    return " ".join(f'{name}="{escape(value)}"' for name, value in pairs)


def credit_html(record: Record, spec: Spec, show_prompt: bool) -> str:
    """The visible credit line (and prompt ``<details>``) that opens every generated item."""
    state, state_text = review_state(record)
    parts = [f'<span class="aicraft-badge">{escape(_badge(record))}</span>']
    if spec.label:
        parts.append(f'<span class="aicraft-label">{escape(spec.label)}</span>')
    parts.append(f'<span class="aicraft-model">{escape(record.model)}</span>')
    provider = record.provider_label or record.provider
    parts.append(f'<span class="aicraft-provider">{escape(provider)}</span>')
    if len(record.candidates) > 1:
        parts.append(
            f'<span class="aicraft-candidates">{record.picked} of {len(record.candidates)}'
            " candidates</span>"
        )
    parts.append(
        f'<span class="aicraft-review aicraft-review--{state}">{escape(state_text)}</span>'
    )
    sep = '<span class="aicraft-sep" aria-hidden="true"> · </span>'
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


def render_record(record: Record, spec: Spec, show_prompts: bool = True) -> str:
    """The HTML of a generated item: credit first, then the sanitised content."""
    state, _ = review_state(record)
    show = spec.show_prompt if spec.show_prompt is not None else show_prompts
    credit = credit_html(record, spec, show)
    attrs = _attributes(record, state)
    if record.kind == "image":
        width, height = (record.params.get("size") or "x").partition("x")[::2]
        size = f' width="{int(width)}" height="{int(height)}"' if width and height else ""
        caption = ""
        if spec.caption:
            caption = f'<span class="aicraft-caption-text">{escape(spec.caption)}</span> '
        credit_line = (
            f'<span class="aicraft-caption-credit">{escape(_badge(record))} by '
            f"{escape(record.model)} ({escape(record.provider)})</span>"
        )
        return (
            f'<figure class="aicraft aicraft-image" {attrs}>{credit}'
            f'<img src="{ASSET_SCHEME}{escape(record.original)}" alt="{escape(spec.alt or "")}"'
            f'{size} loading="lazy" decoding="async">'
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
