"""MkDocs hook of the sample magazine (not of the aicraft package): data for the cover page.

The cover (``template: home.html``) shows the latest posts of Material's blog as a grid: title,
description, hero image, categories and date, and the posts again grouped by category. The
hero is the first aicraft image of a post, shown with its credit, so an AI-made picture is never
shown without its label, not even as a thumbnail.

Everything here reads what MkDocs and Material already computed; it runs in
``on_page_context``, when every page's HTML (the posts' included) has been rendered.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page

try:  # where aicraft publishes images; the placeholders its plugin resolves on every page
    from aicraft.plugin import ASSET_DIR, LEDGER_SCHEME
    from aicraft.render import ASSET_SCHEME
except ImportError:  # pragma: no cover - the sample is always built with aicraft installed
    ASSET_DIR, ASSET_SCHEME = "assets/aicraft", "aicraft-asset:///"
    LEDGER_SCHEME = "aicraft-ledger:///"

HOME_TEMPLATE = "home.html"
_STATEMENT = re.compile(r'<p class="aicraft-aia"[^>]*>.*?</p>', re.DOTALL)


@dataclass
class Hero:
    """The first aicraft image of a post, with what its credit says."""

    src: str  # site-relative path (for the ``url`` filter)
    alt: str
    width: str | None
    height: str | None
    badge: str  # e.g. "Machine-generated image"
    model: str
    provider: str
    review: str  # e.g. "not yet reviewed"
    review_state: str  # pending, approved, changed, rejected
    href: str  # its ledger row (aicraft's placeholder, or site-relative), else the item
    attrs: dict[str, str] = field(default_factory=dict)  # the machine-readable disclosure


@dataclass
class Story:
    """One post as the cover shows it."""

    title: str
    url: str
    excerpt: str
    date: datetime
    categories: list[tuple[str, str]]  # (title, url)
    readtime: int | None
    hero: Hero | None


@dataclass
class Section:
    """A category with its posts, newest first."""

    title: str
    url: str
    stories: list[Story]


class _FirstImage(HTMLParser):
    """Finds the first ``<figure class="aicraft aicraft-image">`` and what its credit says."""

    DISCLOSURE = (
        "data-ai-generated", "ai-disclosure", "ai-model", "ai-provider", "data-ai-source-type",
        "data-aia",
    )  # fmt: skip

    PARTS = ("aicraft-badge", "aicraft-model", "aicraft-provider", "aicraft-review")
    VOID = frozenset({"img", "br", "hr", "input", "meta", "link", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figure: dict[str, str] | None = None
        self.img: dict[str, str] | None = None
        self.ledger: str | None = None  # the credit's link to the item's ledger row
        self.texts: dict[str, str] = {}
        self.done = False
        self._depth = 0  # nesting depth inside the figure
        self._part: str | None = None  # the credit part whose text is being read
        self._part_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Find the figure, then its image, its ledger link and the parts of its credit."""
        if self.done:
            return
        values = {name: value or "" for name, value in attrs}
        classes = values.get("class", "").split()
        if self.figure is None:
            if tag == "figure" and "aicraft-image" in classes:
                self.figure, self._depth = values, 1
            return
        if tag in self.VOID:
            if tag == "img" and self.img is None:
                self.img = values
            return
        self._depth += 1
        if tag == "a" and "aicraft-ledger-link" in classes and self.ledger is None:
            self.ledger = values.get("href") or None
        if self._part is None:
            for name in self.PARTS:
                if name in classes and name not in self.texts:
                    self._part, self._part_depth = name, self._depth
                    self.texts[name] = ""

    def handle_endtag(self, tag: str) -> None:
        """Leave a credit part, or the figure."""
        if self.figure is None or self.done or tag in self.VOID:
            return
        if self._part is not None and self._depth == self._part_depth:
            self._part = None
        self._depth -= 1
        if self._depth <= 0:
            self.done = True

    def handle_data(self, data: str) -> None:
        """Text of the credit part being read."""
        if self._part is not None:
            self.texts[self._part] += data


def first_image(html: str, post_url: str) -> Hero | None:
    """The first aicraft image of a post's HTML, or ``None``."""
    parser = _FirstImage()
    parser.feed(html)
    parser.close()
    figure, img = parser.figure, parser.img
    if figure is None or img is None or not img.get("src"):
        return None
    src = img["src"]
    if src.startswith(ASSET_SCHEME):
        path = f"{ASSET_DIR}/{src[len(ASSET_SCHEME) :]}"
    else:  # already a URL relative to the post
        path = _from_post(src, post_url)
    ledger = parser.ledger or ""
    if ledger.startswith(LEDGER_SCHEME):  # aicraft points it at the ledger on every page
        href = ledger
    elif ledger and "://" not in ledger:  # a URL relative to the post
        href = _from_post(ledger, post_url)
    else:  # no ledger: the item, with its full credit, in its post
        href = f"{post_url}#{figure.get('id', '')}"
    return Hero(
        src=path,
        alt=img.get("alt", ""),
        width=img.get("width"),
        height=img.get("height"),
        badge=parser.texts.get("aicraft-badge", "AI-generated image").strip(),
        model=parser.texts.get("aicraft-model", figure.get("ai-model", "")).strip(),
        provider=figure.get("ai-provider", ""),
        review=parser.texts.get("aicraft-review", "").strip(),
        review_state=figure.get("data-ai-review", "pending"),
        href=href,
        attrs={k: figure[k] for k in _FirstImage.DISCLOSURE if k in figure},
    )


def _from_post(url: str, post_url: str) -> str:
    """A URL relative to a post as a path relative to the site root (``#fragment`` kept)."""
    return urljoin(f"/{post_url}", url).lstrip("/")


def _blog(config: MkDocsConfig) -> Any | None:
    """The blog of Material's blog plugin (``None`` when it is not enabled)."""
    for plugin in config.plugins.values():
        blog = getattr(plugin, "blog", None)
        if blog is not None and hasattr(blog, "posts"):
            return blog
    return None


def stories(config: MkDocsConfig) -> list[Story]:
    """Every published post, newest first."""
    blog = _blog(config)
    if blog is None:
        return []
    result = []
    for post in blog.posts:
        if getattr(post.config, "draft", False):
            continue
        result.append(
            Story(
                title=post.title or "",
                url=post.url,
                excerpt=str(post.meta.get("description") or ""),
                date=post.config.date.created,
                categories=[(c.title, c.url) for c in getattr(post, "categories", [])],
                readtime=post.config.readtime or None,
                hero=first_image(post.content or "", post.url),
            )
        )
    result.sort(key=lambda story: story.date, reverse=True)
    return result


def sections(items: list[Story]) -> list[Section]:
    """The posts grouped by category, the most recently published category first."""
    by_title: dict[str, Section] = {}
    for story in items:  # newest first, so sections come in order of their latest post
        for title, url in story.categories:
            by_title.setdefault(title, Section(title, url, [])).stories.append(story)
    return list(by_title.values())


def split_cover(html: str) -> tuple[str, str, str]:
    """The page's text before its first ``<h2>`` (the masthead), from there on, and the page's
    AI Attribution statement (aicraft's ``<p class="aicraft-aia">``), set apart for the foot."""
    statement = _STATEMENT.search(html)
    aia = statement.group(0) if statement else ""
    if statement:
        html = html[: statement.start()] + html[statement.end() :]
    at = html.find("<h2")
    if at < 0:
        return html, "", aia
    return html[:at], html[at:], aia


def on_page_context(
    context: dict[str, Any], /, *, page: Page, config: MkDocsConfig, nav: Navigation
) -> dict[str, Any]:
    """Give the cover page its stories, sections and the two halves of its own text."""
    if page.meta.get("template") != HOME_TEMPLATE:
        return context
    items = stories(config)
    masthead, rest, aia = split_cover(page.content or "")
    context["magazine"] = {
        "cover": items[0] if items else None,
        "latest": items[1:7],
        "sections": sections(items),
        "count": len(items),
        "first": items[-1].date if items else None,
        "last": items[0].date if items else None,
        "masthead": masthead,
        "rest": rest,
        "aia": aia,
    }
    return context
