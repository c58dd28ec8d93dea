"""The sample magazine in a real browser: Debian's Chromium, driven by Playwright.

The sample is built frozen (from the committed store) into a temporary folder and served on
127.0.0.1. Every page must load without a console error and without a request leaving
127.0.0.1; every AI item's label must be on screen before its content; prompts open by mouse
and keyboard, and print; images load and have alt text; text contrast is AA in both schemes;
the dark scheme toggle works. The banner and ledger checks run as soon as the build has them.

Skipped, with the reason, only when Chromium or the ``playwright`` package is missing.
"""

from __future__ import annotations

import atexit
import functools
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import pytest

from tests.browser import (
    Watch,
    build_sample,
    launch,
    load_images,
    missing_browser,
    serve,
    site_pages,
)

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

pytestmark = pytest.mark.skipif(
    missing_browser() is not None, reason=f"browser tests: {missing_browser()}"
)

ARTICLE = "blog/2026/02/09/the-image-without-a-hand/"
LEDGER = "ai-disclosures/"
VIEWPORT = {"width": 1280, "height": 900}
BADGE_WORDS = re.compile(r"\b(AI|Machine)-(generated|assisted)\b")


@functools.cache
def built_site() -> Path:
    """The sample, built once per test run into a temporary folder (removed at exit)."""
    tmp = Path(tempfile.mkdtemp(prefix="aicraft-browser-"))
    atexit.register(shutil.rmtree, tmp, True)
    return build_sample(tmp / "site")


def built_has(needle: str, page: str = "") -> bool:
    """Whether the built sample's ``page`` (default: any page) contains ``needle``."""
    site = built_site()
    files = [site / page / "index.html"] if page else site.rglob("*.html")
    return any(p.is_file() and needle in p.read_text("utf-8") for p in files)


# Conditions evaluated when each test starts (strings: pytest evaluates them lazily).
NO_BANNER = "missing_browser() is None and not built_has('aicraft-banner')"
NO_LEDGER = "missing_browser() is None and not built_has('id=\"ledger-', 'ai-disclosures')"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The built sample, served on 127.0.0.1."""
    with serve(built_site()) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh light-scheme context (no stored palette choice)."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    yield context
    context.close()


def _open(context: BrowserContext, url: str) -> Page:
    page = context.new_page()
    page.goto(url, wait_until="load")
    return page


# -- JavaScript run in the page ------------------------------------------------------------------
IMAGE_PROBLEMS = """() => [...document.images].flatMap(img => {
  const problems = [];
  const where = img.getAttribute('src');
  if (!img.hasAttribute('alt')) problems.push(`no alt attribute: ${where}`);
  if (img.closest('[data-ai-generated="true"]') && !img.alt.trim())
    problems.push(`an AI image without alt text: ${where}`);
  if (img.checkVisibility() && !(img.complete && img.naturalWidth > 0))
    problems.push(`did not load: ${where}`);
  return problems;
})"""

ITEM_GEOMETRY = """item => {
  const label = item.querySelector('.aicraft-credit');
  const content = item.querySelector('.aicraft-content, img');
  if (!label || !content) return {missing: !label ? 'label' : 'content'};
  const l = label.getBoundingClientRect(), c = content.getBoundingClientRect();
  const x = l.left + Math.min(l.width / 2, 20), y = l.top + l.height / 2;
  const hit = document.elementFromPoint(x, y);
  const style = getComputedStyle(label);
  return {
    labelTop: l.top, labelBottom: l.bottom, labelHeight: l.height, labelWidth: l.width,
    contentTop: c.top, viewport: innerHeight,
    onTop: !!hit && label.contains(hit),
    hidden: style.visibility !== 'visible' || Number(style.opacity) === 0
      || !!label.closest('[aria-hidden="true"], [hidden]'),
    before: !!(label.compareDocumentPosition(content) & Node.DOCUMENT_POSITION_FOLLOWING),
    badge: (item.querySelector('.aicraft-badge') || {}).textContent || '',
    model: item.getAttribute('data-ai-model') || item.getAttribute('ai-model') || '',
  };
}"""

BANNER_GEOMETRY = """() => {
  const first = document.querySelector('.aicraft[data-aicraft-key]');
  const banner = document.querySelector('.aicraft-banner');
  const top = el => el.getBoundingClientRect().top + scrollY;
  return {
    firstItemTop: first ? top(first) : null,
    firstInExcerpt: !!(first && first.closest('.md-post--excerpt')),
    visible: !!banner && banner.checkVisibility(),
    searchExclude: !!banner && banner.hasAttribute('data-search-exclude'),
    top: banner ? top(banner) : null,
    bottom: banner ? banner.getBoundingClientRect().bottom + scrollY : null,
  };
}"""

CONTRAST = """(selector) => {
  const parse = c => {
    let m = c.match(/^rgba?\\(([^)]+)\\)$/);
    if (m) {
      const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = c.match(/^color\\(srgb ([^)]+)\\)$/);
    if (m) {
      const p = m[1].split(/[\\s\\/]+/).filter(Boolean).map(Number);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    return null;
  };
  const over = (top, bottom) => {
    const a = top[3] + bottom[3] * (1 - top[3]);
    return [0, 1, 2].map(i => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a)
      .concat([a]);
  };
  const backdrop = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let color = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  };
  const lum = c => {
    const f = v => { v /= 255; return v <= 0.04045 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
  };
  const results = [];
  for (const el of document.querySelectorAll(selector)) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.data).join('').trim();
    if (!text || !el.checkVisibility({opacityProperty: true, visibilityProperty: true})) continue;
    const bg = backdrop(el);
    const fg = over(parse(getComputedStyle(el).color) || [0, 0, 0, 1], bg);
    const [hi, lo] = [lum(fg), lum(bg)].sort((a, b) => b - a);
    results.push({text: text.slice(0, 40), ratio: (hi + 0.05) / (lo + 0.05),
                  cls: el.className || el.tagName});
  }
  return results;
}"""

DISCLOSURE_TEXT = ", ".join(
    f"{scope}, {scope} *"
    for scope in (
        ".aicraft-credit",
        ".aicraft-prompt",
        ".aicraft-image figcaption",
        ".aicraft-content",
        ".aicraft-authorship",
        ".aicraft-banner",
        ".aicraft-aia",
        ".aicraft-ledger",
    )
)
MAGAZINE_TEXT = (
    ".md-typeset p, .md-typeset li, .md-typeset h1, .md-typeset h2, .md-typeset h3, "
    ".md-typeset a, .mag-kicker, .mag-kicker *, .md-tabs__link, .md-nav__link, .md-copyright *"
)


def _subtree(snapshot: str, role: str) -> str:
    """The lines of the first ``role`` node of an ARIA snapshot (YAML), with its children."""
    lines = snapshot.splitlines()
    for index, line in enumerate(lines):
        if line.lstrip().startswith(f"- {role}"):
            indent = len(line) - len(line.lstrip())
            block = [line]
            for child in lines[index + 1 :]:
                if len(child) - len(child.lstrip()) <= indent:
                    break
                block.append(child)
            return "\n".join(block)
    return ""


# -- Every page, visited once ----------------------------------------------------------------
@dataclass
class PageReport:
    """What one visit of a page found."""

    path: str
    images: list[str] = field(default_factory=list)  # problems with images
    items: list[dict[str, Any]] = field(default_factory=list)  # ITEM_GEOMETRY per AI item
    snapshot: str = ""  # the ARIA snapshot of the first aicraft item
    banner: dict[str, Any] | None = None  # BANNER_GEOMETRY


@dataclass
class Survey:
    """Every page of the sample, visited once in the light scheme."""

    pages: list[PageReport]
    errors: list[str]
    external: list[str]


@pytest.fixture(scope="module")
def survey(browser: Browser, base_url: str) -> Survey:
    """Visit every page once: console, requests, images, AI items and the banner."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme="light")
    watch = Watch().attach(context)
    page = context.new_page()
    reports = []
    try:
        for path in site_pages(built_site()):
            page.goto(base_url + path, wait_until="load")
            load_images(page)
            watch.settle(page)
            report = PageReport(path or "/", images=page.evaluate(IMAGE_PROBLEMS))
            report.banner = page.evaluate(BANNER_GEOMETRY)
            for item in page.locator('[data-ai-generated="true"]').all():
                item.scroll_into_view_if_needed()
                report.items.append(item.evaluate(ITEM_GEOMETRY))
            if page.locator(".aicraft").count():
                report.snapshot = page.locator(".aicraft").first.aria_snapshot()
            reports.append(report)
    finally:
        context.close()
    return Survey(reports, watch.errors, watch.external)


def test_every_page_loads_cleanly_offline(survey: Survey) -> None:
    """No console error, no request leaving 127.0.0.1, images loaded and described."""
    paths = [report.path for report in survey.pages]
    assert "/" in paths and ARTICLE in paths and len(paths) >= 15, paths
    assert not survey.errors, "\n".join(survey.errors)
    assert not survey.external, "requests leaving 127.0.0.1:\n" + "\n".join(survey.external)
    problems = [f"{r.path}: {problem}" for r in survey.pages for problem in r.images]
    assert not problems, "\n".join(problems)


def test_every_ai_label_is_on_screen_before_its_content(survey: Survey) -> None:
    """Each AI item (images on the cover too): its credit shows, first, and is read out."""
    problems: list[str] = []
    checked = 0
    for report in survey.pages:
        for index, g in enumerate(report.items):
            where = f"{report.path} item {index}"
            checked += 1
            if "missing" in g:
                problems.append(f"{where}: no {g['missing']}")
                continue
            if g["hidden"] or g["labelHeight"] < 8 or g["labelWidth"] < 40:
                problems.append(f"{where}: label not visible ({g})")
            if g["labelTop"] < 0 or g["labelBottom"] > g["viewport"]:
                problems.append(f"{where}: label not on screen ({g})")
            if not g["onTop"]:
                problems.append(f"{where}: label covered by something else")
            if not (g["before"] and g["labelBottom"] <= g["contentTop"] + 1):
                problems.append(f"{where}: label not before its content ({g})")
            if not BADGE_WORDS.search(g["badge"]):
                problems.append(f"{where}: badge does not say what made it: {g['badge']!r}")
        if report.snapshot:  # the credit, as a screen reader gets it: words apart, in order
            note = _subtree(report.snapshot, "note")
            model = re.escape(report.items[0].get("model", "?") if report.items else "?")
            if not BADGE_WORDS.search(note) or not re.search(rf"\W{model}\W", note):
                problems.append(f"{report.path}: credit not read out as shown:\n{report.snapshot}")
    assert checked >= 10, f"only {checked} AI items found"
    assert not problems, "\n".join(problems)


# -- The prompt ------------------------------------------------------------------------------
def test_prompt_opens_on_click(context: BrowserContext, base_url: str) -> None:
    """The prompt's ``<details>`` opens and closes with the mouse."""
    page = _open(context, base_url + ARTICLE)
    details = page.locator("details.aicraft-prompt").first
    prompt = details.locator("pre")
    assert details.get_attribute("open") is None
    assert not prompt.is_visible()
    details.locator("summary").click()
    assert details.get_attribute("open") is not None
    assert prompt.is_visible()
    assert "deep blue night sky" in prompt.inner_text()
    details.locator("summary").click()
    assert not prompt.is_visible()


def test_prompt_and_credit_are_reached_and_opened_by_keyboard(
    context: BrowserContext, base_url: str
) -> None:
    """Tabbing from the top reaches the first item; Enter opens its prompt, Space closes it."""
    page = _open(context, base_url + ARTICLE)
    details = page.locator("details.aicraft-prompt").first
    has_link = page.locator(".aicraft").first.locator(".aicraft-credit a").count() > 0
    reached: list[str] = []
    for _ in range(80):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "() => { const a = document.activeElement;"
            " return a && a.closest('.aicraft') ? a.tagName : null; }"
        )
        if focused:
            reached.append(focused)
        if focused == "SUMMARY":
            break
    assert reached and reached[-1] == "SUMMARY", "Tab never reached the first item's prompt"
    if has_link:
        assert reached[0] == "A", f"the credit's link is not reached first: {reached}"
    focus = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert focus != "none", "no visible focus on the prompt's summary"
    page.keyboard.press("Enter")
    assert details.get_attribute("open") is not None
    assert details.locator("pre").is_visible()
    page.keyboard.press("Space")
    assert details.get_attribute("open") is None


def test_print_shows_every_disclosure_and_the_prompts(
    context: BrowserContext, base_url: str
) -> None:
    """In print, closed prompts print, and no credit, note or caption is hidden."""
    page = _open(context, base_url + ARTICLE)
    page.emulate_media(media="print")
    hidden = page.evaluate(
        """() => [...document.querySelectorAll(
             '.aicraft-credit, .aicraft-prompt pre, .aicraft-image figcaption,'
             + ' .aicraft-authorship, .aicraft-banner, .aicraft-aia, .aicraft img')]
           .filter(el => { const r = el.getBoundingClientRect();
                           return !el.checkVisibility() || r.width === 0 || r.height === 0; })
           .map(el => el.className || el.tagName)"""
    )
    assert page.locator("details.aicraft-prompt:not([open])").count() >= 2
    assert not hidden, f"hidden in print: {hidden}"


# -- Schemes and contrast ----------------------------------------------------------------------
def test_dark_scheme_toggle(context: BrowserContext, base_url: str) -> None:
    """The header toggle switches to the dark scheme and back; the credits follow."""
    page = _open(context, base_url + ARTICLE)
    scheme = "() => document.body.getAttribute('data-md-color-scheme')"
    background = "() => getComputedStyle(document.body).backgroundColor"
    ink = "() => getComputedStyle(document.querySelector('.aicraft-credit')).color"
    assert page.evaluate(scheme) == "default"
    light = (page.evaluate(background), page.evaluate(ink))
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(f"() => ({scheme})() === 'slate'")
    dark = (page.evaluate(background), page.evaluate(ink))
    assert dark[0] != light[0] and dark[1] != light[1], (light, dark)
    page.reload(wait_until="load")
    assert page.evaluate(scheme) == "slate", "the reader's choice is not remembered"
    page.locator("form[data-md-component=palette] label:visible").first.click()
    page.wait_for_function(f"() => ({scheme})() === 'default'")


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_is_aa(browser: Browser, base_url: str, scheme: str) -> None:
    """Disclosures and the magazine's text reach WCAG AA (4.5:1) in both schemes."""
    context = browser.new_context(viewport=VIEWPORT, color_scheme=scheme)
    try:
        paths = ["", ARTICLE] + ([LEDGER] if (built_site() / LEDGER).is_dir() else [])
        failures: list[str] = []
        checked = 0
        for path in paths:
            page = _open(context, base_url + path)
            for summary in page.locator("details.aicraft-prompt > summary").all()[:2]:
                summary.click()  # the prompts' text counts too
            for selector in (DISCLOSURE_TEXT, MAGAZINE_TEXT):
                for r in page.evaluate(CONTRAST, selector):
                    checked += 1
                    if r["ratio"] < 4.5:
                        failures.append(f"{path or '/'} {r['cls']} {r['text']!r}: {r['ratio']:.2f}")
            page.close()
        assert checked > 50
        assert not failures, "\n".join(failures)
    finally:
        context.close()


# -- Banner and ledger (from aicraft's disclosure pages, once the build has them) ---------------
@pytest.mark.skipif(NO_BANNER, reason="the build has no .aicraft-banner yet")
def test_banner_is_visible_above_the_first_ai_item(survey: Survey) -> None:
    """On every page with AI items of its own, the banner shows before the first one."""
    problems: list[str] = []
    checked = 0
    for report in survey.pages:
        b = report.banner
        if not b or b["firstItemTop"] is None or b["firstInExcerpt"]:
            continue  # no items, or only the excerpts of other pages
        checked += 1
        if not b["visible"]:
            problems.append(f"{report.path}: no visible banner")
            continue
        if not b["searchExclude"]:
            problems.append(f"{report.path}: the banner is not kept out of the search index")
        if b["bottom"] > b["firstItemTop"] + 1:
            problems.append(f"{report.path}: the banner is not above the first AI item ({b})")
        if b["top"] > 2 * VIEWPORT["height"]:
            problems.append(f"{report.path}: the banner is far down the page ({b})")
    assert checked >= 7, f"only {checked} pages with AI items"
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(NO_LEDGER, reason="the build has no ledger page (ai-disclosures/) yet")
def test_ledger_links_reach_their_items(context: BrowserContext, base_url: str) -> None:
    """Every ledger row links to its item, which is then on screen; every item has a row."""
    page = _open(context, base_url + LEDGER)
    rows = page.locator('tr[id^="ledger-"]')
    links: list[tuple[str, str]] = []
    for row in rows.all():
        key = (row.get_attribute("id") or "")[len("ledger-") :]
        link = row.locator(f'a[href*="#ai-{key}"]').first
        assert link.count(), f"ledger row {key} has no link to #ai-{key}"
        links.append((key, urljoin(page.url, link.get_attribute("href") or "")))
    assert links, "the ledger has no rows"

    site = built_site()
    ids = set()
    for html in site.rglob("*.html"):
        ids |= set(re.findall(r'\bid="ai-([0-9a-f]{16})"', html.read_text("utf-8")))
    keys = {key for key, _ in links}
    assert ids <= keys, f"items without a ledger row: {sorted(ids - keys)}"

    problems: list[str] = []
    for key, url in links:
        if urlsplit(url).hostname != "127.0.0.1":
            problems.append(f"{key}: link leaves the site: {url}")
            continue
        page.goto(url, wait_until="load")
        target = page.locator(f"#ai-{key}")
        if not target.count():
            problems.append(f"{key}: {url} has no #ai-{key}")
            continue
        if not (target.get_attribute("data-aicraft-key") or "").startswith(key):
            problems.append(f"{key}: #ai-{key} is not that item")
        box = target.bounding_box()
        if not box or box["y"] + min(box["height"], 40) < 0 or box["y"] > VIEWPORT["height"]:
            problems.append(f"{key}: the item is not on screen after following the link ({box})")
    assert not problems, "\n".join(problems)


@pytest.mark.skipif(NO_LEDGER, reason="the build has no ledger page (ai-disclosures/) yet")
def test_credit_links_reach_their_ledger_rows(context: BrowserContext, base_url: str) -> None:
    """Where a credit links to its ledger entry (articles, cover), the link reaches that row."""
    page = context.new_page()
    hrefs: list[str] = []
    for path in ("", ARTICLE):
        page.goto(base_url + path, wait_until="load")
        hrefs += [
            urljoin(page.url, link.get_attribute("href") or "")
            for link in page.locator('.aicraft-credit a[href*="#ledger-"]').all()
        ]
    if not hrefs:
        pytest.skip("the credits do not link to the ledger yet")
    for href in hrefs:
        page.goto(href, wait_until="load")
        row = page.locator(f"#{urlsplit(href).fragment}")
        assert row.count() and row.is_visible(), f"{href}: no visible row"
        box = row.bounding_box()
        assert box and 0 <= box["y"] < VIEWPORT["height"], f"{href}: the row is off screen"
