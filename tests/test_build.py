"""Real MkDocs + Material builds of temporary sites with the aicraft plugin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mkdocs.exceptions import Abort

from aicraft.config import Settings
from aicraft.engine import Engine
from aicraft.records import Record
from tests.sites import PROSE, build_site, keys_in

POST = f"""
---
date: 2026-01-05
authorship:
  level: Ph
  statement: Written by a test, by hand.
---

# First frost

{PROSE}

```ai-text temperature="0.7" label="A frost poem"
Write a four-line poem about the first frost in the garden.
```

<!-- more -->

{PROSE}

```ai-image size="64x48" alt="Frost on a bench at dawn" caption="The first frost"
A pale blue watercolour of frost on a wooden bench at dawn.
```
"""

PAGE = f"""
# Notes

{PROSE}

!!! note "From the notebook"

    ```ai-text context="page"
    Summarise this page in one sentence.
    ```

````markdown
```ai-text
This is an example and must stay code.
```
````
"""

PLAIN = f"""
# Plain page

{PROSE}

```python
print("no directives here")
```
"""


def _pages() -> dict[str, str]:
    return {
        "index.md": PAGE,
        "plain.md": PLAIN,
        "blog/index.md": "# Blog\n",
        "blog/posts/frost.md": POST,
    }


def _engine(config_file: Path) -> tuple[Engine, set[str]]:
    settings = Settings.from_mapping({"provider": "offline"}, config_file.parent)
    engine = Engine(settings, environ={})
    docs = config_file.parent / "docs"
    pages = [(p.relative_to(docs).as_posix(), p.read_text()) for p in docs.rglob("*.md")]
    return engine, engine.scan(pages).used_keys()


def test_auto_build_generates_stores_and_credits_everything(site_factory) -> None:
    config = site_factory(_pages())
    site = build_site(config)
    store = config.parent / "generations"
    records = sorted(store.glob("*.md"))
    assert len(records) == 3
    for path in records:
        record = Record.loads(path.read_text(), str(path))
        assert record.provider == "offline"
        assert record.model in ("aicraft-markov-1", "aicraft-procedural-1")
        assert record.source["page"] in ("index.md", "blog/posts/frost.md")
    assert len(list(store.glob("*.png"))) == 1

    post = next(site.glob("blog/20*/**/index.html")).read_text()
    assert post.count('data-ai-generated="true"') == 2
    assert "A frost poem" in post and "not yet reviewed" in post
    # The page's own authorship declaration is shown to readers.
    assert "How this page was written:" in post and "Written by a test, by hand." in post
    # The image is published and its page-relative URL resolves to the file.
    src = re.search(r'<img src="([^"]+\.png)" alt="Frost on a bench at dawn"', post)
    assert src, post
    post_dir = next(site.glob("blog/20*/**/index.html")).parent
    assert (post_dir / src.group(1)).resolve().is_file()

    # The blog index shows the excerpt with the expanded, credited text (not the raw fence).
    index = (site / "blog" / "index.html").read_text()
    assert 'data-ai-generated="true"' in index
    assert "A frost poem" in index
    assert "ai-text" not in re.sub(r'class="[^"]*"', "", index)

    home = (site / "index.html").read_text()
    assert home.count('data-ai-generated="true"') == 1
    assert "This is an example and must stay code." in home  # the example stays code
    assert "aicraft-notice" not in home + post + index


def test_keys_scanned_equal_keys_rendered(site_factory) -> None:
    config = site_factory(_pages())
    site = build_site(config)
    _, scanned = _engine(config)
    rendered: set[str] = set()
    for page in site.rglob("*.html"):
        rendered.update(keys_in(page.read_text()))
    assert rendered == scanned
    assert len(scanned) == 3


def test_second_build_reuses_the_store(site_factory) -> None:
    config = site_factory(_pages())
    build_site(config)
    store = config.parent / "generations"
    before = {p.name: p.read_bytes() for p in store.iterdir()}
    build_site(config)
    assert {p.name: p.read_bytes() for p in store.iterdir()} == before


def test_frozen_build_lists_every_missing_generation(site_factory, monkeypatch, caplog) -> None:
    config = site_factory(_pages())
    monkeypatch.setenv("CI", "true")
    with pytest.raises(Abort):
        build_site(config)
    [message] = [r.getMessage() for r in caplog.records if "Missing generations" in r.getMessage()]
    assert "Missing generations" in message
    assert "index.md:7" in message
    assert "blog/posts/frost.md:" in message
    assert message.count("no stored generation") == 3
    assert not (config.parent / "generations").exists() or not list(
        (config.parent / "generations").glob("*.md")
    )


def test_frozen_build_passes_once_everything_is_stored(site_factory, monkeypatch) -> None:
    config = site_factory(_pages())
    build_site(config)
    monkeypatch.setenv("CI", "true")
    site = build_site(config)
    assert 'data-ai-generated="true"' in (site / "index.html").read_text()


def test_bad_directives_are_reported_together_and_fail_a_strict_build(site_factory, caplog) -> None:
    pages = {
        "index.md": '# Bad\n\n```ai-text colour="red"\nx\n```\n\n```ai-image\nno alt\n```\n',
        "other.md": '# Other\n\n```ai-text temperature="9"\nx\n```\n',
    }
    config = site_factory(pages)
    with pytest.raises(Abort):
        build_site(config, strict=True)
    errors = [r.getMessage() for r in caplog.records if "invalid directives" in r.getMessage()]
    assert len(errors) == 1
    assert "index.md:3: unknown option `colour`" in errors[0]
    assert "index.md:7: an ai-image needs `alt` text" in errors[0]
    assert "other.md:3: `temperature` must be between 0 and 2" in errors[0]


def test_a_non_strict_build_shows_the_problem_in_the_page(site_factory) -> None:
    config = site_factory({"index.md": '# Bad\n\n```ai-text colour="red"\nx\n```\n'})
    site = build_site(config)
    html = (site / "index.html").read_text()
    assert "Invalid ai-text directive" in html
    assert "unknown option `colour`" in html


def test_pages_without_directives_are_unchanged_apart_from_the_stylesheet(
    site_factory, tmp_path
) -> None:
    config = site_factory({"index.md": PLAIN, "blog/index.md": "# Blog\n"})
    with_plugin = (build_site(config) / "index.html").read_text()
    config = site_factory({"index.md": PLAIN, "blog/index.md": "# Blog\n"}, use_plugin=False)
    without = (build_site(config) / "index.html").read_text()
    stylesheet = re.compile(r'\s*<link rel="stylesheet" href="[^"]*assets/aicraft/aicraft.css">')
    assert stylesheet.search(with_plugin)

    def squash(html: str) -> str:  # the template's whitespace around extra_css differs
        return re.sub(r"\s+", " ", html)

    assert squash(stylesheet.sub("", with_plugin)) == squash(without)


def test_hostile_record_body_is_sanitised_in_the_built_page(site_factory) -> None:
    config = site_factory({"index.md": f"# Page\n\n{PROSE}\n\n```ai-text\nSay hi.\n```\n"})
    build_site(config)
    [path] = (config.parent / "generations").glob("*.md")
    text = path.read_text()
    head, _, _ = text.rpartition("---\n")
    path.write_text(head + "---\n<script>alert(1)</script><img src=x onerror=alert(2)> hi\n")
    html = (build_site(config) / "index.html").read_text()
    item = html[html.index('class="aicraft aicraft-text"') :]
    item = item[: item.index("</div></div>")]
    assert "<script" not in item and "<img" not in item  # no element: raw HTML is text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; hi" in item
    assert "AI-assisted text, human-edited" in item


SUMMARY = """
```ai-text context="page"
Summarise this page in one sentence.
```
"""


def test_a_context_page_directive_copied_to_two_pages_shows_each_pages_own_item(
    site_factory,
) -> None:
    # The same fence text stands for two items (each page is its own context): the
    # formatter's memo must not hand one page's item to the other.
    pages = {
        "a.md": f"# Apples\n\n{PROSE}\n\nApples grow in the north orchard.\n{SUMMARY}",
        "b.md": f"# Pears\n\n{PROSE}\n\nPears ripen late by the south wall.\n{SUMMARY}",
    }
    config = site_factory(pages)
    site = build_site(config)
    a = keys_in((site / "a" / "index.html").read_text())
    b = keys_in((site / "b" / "index.html").read_text())
    assert len(a) == len(b) == 1 and a != b
    _, scanned = _engine(config)
    assert {*a, *b} == scanned


def test_a_blog_listing_shows_each_excerpt_its_own_posts_context_page_item(site_factory) -> None:
    # Material renders excerpts while rendering the listing page: the formatter must place
    # the directive in the excerpt's post, not in the listing (which has no such item).
    post = "---\ndate: 2026-03-0{day}\n---\n\n# {title}\n\n{prose}\n\n{fact}\n{summary}\n"
    posts = {
        "apples": ("1", "Apples", "Apples grow in the north orchard."),
        "pears": ("2", "Pears", "Pears ripen late by the south wall."),
    }
    pages = {"blog/index.md": "# Blog\n"}
    for slug, (day, title, fact) in posts.items():
        pages[f"blog/posts/{slug}.md"] = post.format(
            day=day, title=title, prose=PROSE, fact=fact, summary=SUMMARY + "\n<!-- more -->\n"
        )
    config = site_factory(pages)
    site = build_site(config, strict=True)
    own = {}
    for page in site.glob("blog/20*/**/index.html"):
        html = page.read_text()
        title = re.search(r"<h1[^>]*>(\w+)", html).group(1)
        [own[title]] = keys_in(html)
    assert len(set(own.values())) == 2, "each post has its own item"
    listing = (site / "blog" / "index.html").read_text()
    excerpts = listing.split('<article class="md-post md-post--excerpt"')[1:]
    assert len(excerpts) == 2
    for excerpt in excerpts:
        title = next(t for t in own if f">{t}</a>" in excerpt)
        assert keys_in(excerpt) == [own[title]], f"the {title} excerpt shows another item"
    assert "not generated yet" not in listing


@pytest.mark.parametrize(
    ("extensions", "named"),
    [
        ([{"pymdownx.superfences": {"relaxed_headers": True}}], "relaxed_headers: true"),
        ([{"pymdownx.superfences": {"preserve_tabs": True}}], "preserve_tabs: true"),
        (["pymdownx.superfences", "pymdownx.quotes"], "pymdownx.quotes"),
    ],
)
def test_markdown_settings_the_scanner_does_not_mirror_fail_a_strict_build(
    site_factory, extensions, named
) -> None:
    # Under them superfences could read a fence otherwise than aicraft's scanner: say so
    # (a warning, which fails a strict build) instead of showing items as missing.
    from mkdocs.exceptions import Abort

    page = {"index.md": f"# Page\n\n{PROSE}\n\n```ai-text\nSay hi.\n```\n"}
    config = site_factory(
        page, extra={"markdown_extensions": ["admonition", "pymdownx.details", *extensions]}
    )
    with pytest.raises(Abort):
        build_site(config, strict=True)
    plain = site_factory(page)  # the defaults: no warning, the strict build passes
    build_site(plain, strict=True)
    from aicraft.plugin import unmirrored_settings

    names = [e if isinstance(e, str) else next(iter(e)) for e in extensions]
    configs = {next(iter(e)): e[next(iter(e))] for e in extensions if isinstance(e, dict)}
    [warning] = unmirrored_settings(names, configs)
    assert named in warning and "Fix: remove" in warning


def test_the_same_directive_twice_on_a_page_gets_unique_element_ids(site_factory) -> None:
    fence = '```ai-text label="Twice"\nWrite one line about rain.\n```\n'
    config = site_factory({"index.md": f"# Rain\n\n{PROSE}\n\n{fence}\n{PROSE}\n\n{fence}"})
    html = (build_site(config) / "index.html").read_text()
    keys = keys_in(html)
    assert len(keys) == 2 and keys[0] == keys[1], "both copies are shown"
    ids = re.findall(r'<div [^>]*\bid="(ai-[0-9a-f]{16}[^"]*)"', html)
    assert ids == [f"ai-{keys[0][:16]}", f"ai-{keys[0][:16]}-2"]
