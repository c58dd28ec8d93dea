"""The MkDocs plugin: a thin adapter between MkDocs and the aicraft engine.

- ``on_config``: settings, the engine, and one ``pymdownx.superfences`` custom fence per kind
  (so directives work wherever fenced code works, in pages and in Material's blog excerpts);
- ``on_files``: scan every page, report problems, generate what is missing (or, frozen, fail
  listing it); publish the store's images (with their metadata), aicraft's stylesheet and the
  ledger page;
- ``on_nav``: with every page's URL known, build the disclosures and check the policy;
- the fence formatter only looks records up (memoised) and returns sanitised HTML;
- ``on_page_content``: banner, footer statement, ledger table; ``on_post_page``: JSON-LD and
  ``<meta name="ai-disclosure">``, and placeholders become page-relative URLs;
- ``on_post_build``: ``ai-disclosures.json`` at the site root.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from html import escape
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel
from mkdocs.structure.nav import Navigation
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from aicraft import disclosure, publication
from aicraft.cache import ParseCache, cache_root, site_cache
from aicraft.config import FIELDS, Settings
from aicraft.directives import KINDS, normalize_prompt, validate
from aicraft.engine import Engine, SiteScan
from aicraft.errors import AicraftError, ConfigError, ProblemsError, StoreError
from aicraft.policy import Policy, Violation
from aicraft.policy import check as check_policy
from aicraft.progress import make_progress
from aicraft.records import parse_yaml
from aicraft.render import ASSET_SCHEME, render_notice, render_record

log = get_plugin_logger(__name__)

ASSET_DIR = publication.ASSET_DIR
STYLESHEET = f"{ASSET_DIR}/aicraft.css"
LEDGER_SCHEME = "aicraft-ledger:///"
LEDGER_MARKER = "<!-- aicraft-ledger -->"
JSON_NAME = "ai-disclosures.json"
_ASSET_URL = re.compile(
    re.escape(ASSET_SCHEME) + r"([0-9a-f]{16}(?:-[0-9]{1,2})?(?:-w[0-9]{2,5})?\.(?:png|webp))"
)
_LEDGER_URL = re.compile(re.escape(LEDGER_SCHEME) + r"(#[a-z0-9-]{1,40})?")
# Placeholders are only rewritten in the URL attributes of start tags: text (a prompt, a label,
# a model's answer) is escaped, so it never contains ``<`` and is never inside a tag of ours;
# and attribute values never contain ``<`` or ``>``.
_PLACEHOLDER = re.compile(r"aicraft-(?:asset|ledger):///")
_URL_ATTRIBUTE_END = re.compile(r'\s(?:src|srcset|href)="$')
# The start tag of an item aicraft rendered (never text: that cannot contain ``<``).
_ITEM_ID = re.compile(r'(<(?:div|figure)\s[^<>]*?\bid=")(ai-[0-9a-f]{16})"')


class AicraftPlugin(BasePlugin):
    """Expands ``ai-*`` directives from the generation store, with inline disclosure."""

    config_scheme = tuple((name, c.Optional(c.Type(types))) for name, types in FIELDS)
    supports_multiple_instances = False

    def __init__(self) -> None:
        super().__init__()
        self.settings: Settings | None = None
        self.engine: Engine | None = None
        self.site: SiteScan | None = None
        self.publication: publication.Publication | None = None
        self.generate = True
        self._settings_map: dict[str, Any] = {}
        self._page: str | None = None
        self._by_fence: dict[Any, str] = {}
        self._render_failures: list[str] = []
        #: By page: the ai-disclosure values of other pages' AI items it shows (on_post_page).
        self._elsewhere: dict[str, list[str]] = {}
        #: (src, url, title) of pages that show only other pages' AI items (listings).
        self._listings: list[tuple[str, str, str]] = []
        self._titles: dict[str, str] = {}
        self._violations: dict[str, list[Violation]] = {}
        self._images: dict[str, publication.PublishedImage] = {}
        self._ledger_file: File | None = None
        self._ledger_generated = False
        self._strict = False
        self._infos: dict[str, publication.PageInfo] = {}
        self._image_cache: Path | None = None
        self._parse_cache: ParseCache | None = None

    # -- configuration -----------------------------------------------------------------------
    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        """Validate the settings, create the engine and register the directive fences."""
        base_dir = Path(config.config_file_path or ".").resolve().parent
        try:
            self.settings = Settings.from_mapping(dict(self.config), base_dir=base_dir)
            self.settings.resolved_mode()
        except ConfigError as exc:
            raise PluginError(f"aicraft: {exc}") from None
        if not self.settings.enabled:
            return config
        store = self.settings.store_path
        docs = Path(config.docs_dir).resolve()
        if store == docs or docs in store.parents:
            raise PluginError(
                f"aicraft: the store {store} is inside docs_dir; move it beside mkdocs.yml "
                "(`store: generations`), or `mkdocs serve` would rebuild in a loop"
            )
        self.engine = Engine(self.settings)
        self._settings_map = self.settings.as_mapping()
        self._open_caches(self.settings, self.engine)
        self._register_fences(config)
        if STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        return config

    def _open_caches(self, settings: Settings, engine: Engine) -> None:
        """Caches outside the site (see :mod:`aicraft.cache`); none in a frozen (CI) build."""
        self._image_cache, self._parse_cache = None, None
        root = cache_root()
        if settings.resolved_mode() == "frozen" or root is None:
            return
        self._image_cache = root / "images"
        folder = site_cache(settings.base_dir)
        self._parse_cache = ParseCache(
            folder / "front-matter.jsonl" if folder else None, parse_yaml
        )
        engine.store.parse = self._parse_cache.parse

    def _register_fences(self, config: MkDocsConfig) -> None:
        if "pymdownx.superfences" not in config.markdown_extensions:
            config.markdown_extensions.append("pymdownx.superfences")
        options = config.mdx_configs.setdefault("pymdownx.superfences", {})
        for warning in unmirrored_settings(config.markdown_extensions, config.mdx_configs):
            log.warning(warning)
        fences = [f for f in options.get("custom_fences", []) if f.get("name") not in KINDS]
        for language in KINDS:
            fences.append(
                {
                    "name": language,
                    "class": "aicraft",
                    "validator": _accept_options,
                    "format": self._format,
                }
            )
        options["custom_fences"] = fences

    # -- scanning, generation and files ------------------------------------------------------
    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        """Scan all pages, generate or require what is missing, publish images, CSS, ledger."""
        if self.engine is None or self.settings is None:
            return files
        engine, settings = self.engine, self.settings
        self._by_fence, self._render_failures = {}, []
        self._elsewhere, self._listings = {}, []
        pages = [(f.src_uri, f.content_string) for f in files.documentation_pages()]
        site = self.site = engine.scan(pages)
        # Titles now, while the text is at hand: MkDocs' File.content_string reads the file again.
        self._titles = {
            src: publication.title_of(site.pages[src].meta, text, src) for src, text in pages
        }
        del pages
        mode = settings.resolved_mode()
        self._strict = mode == "frozen" or bool(config.strict)
        if site.problems:
            error = ProblemsError("invalid directives", site.problems)
            if mode == "frozen":
                raise PluginError(f"aicraft: {error}")
            log.error(str(error))
        if mode == "frozen":
            try:
                engine.require_complete(site)
            except AicraftError as exc:
                raise PluginError(f"aicraft: {exc}") from None
        elif self.generate:
            self._generate(engine, site)
        self._add_assets(files, config, engine, site)
        if site.items or any(p.meta.get("authorship") for p in site.pages.values()):
            self._add_ledger(files, config)
        return files

    def _generate(self, engine: Engine, site: SiteScan) -> None:
        missing, problems = engine.missing(site)
        for problem in problems:
            log.error(str(problem))
        if not missing:
            return
        try:
            report = engine.generate(missing, make_progress(log.info))
        except AicraftError as exc:
            raise PluginError(f"aicraft: {exc}") from None
        if report.generated:
            log.info(f"generated {len(report.generated)} item(s) into {engine.store.root}")
        for failure in report.failed + report.skipped:
            log.error(f"not generated: {failure}")

    def _add_assets(self, files: Files, config: MkDocsConfig, engine: Engine, site: Any) -> None:
        css = package_files("aicraft").joinpath("assets", "aicraft.css").read_text("utf-8")
        if files.get_file_from_path(STYLESHEET) is None:
            files.append(File.generated(config, STYLESHEET, content=css))
        try:
            images, problems = publication.publish_images(
                engine, site, tuple(engine.settings.image_widths), self._image_cache
            )
        except AicraftError as exc:
            raise PluginError(f"aicraft: {exc}") from None
        for problem in problems:
            log.error(str(problem))
        self._images = images
        for image in images.values():
            blobs = [(image.name, image.data), *image.variants.values()]
            for name, data in blobs:
                uri = f"{ASSET_DIR}/{name}"
                if files.get_file_from_path(uri) is None:
                    files.append(File.generated(config, uri, content=data))

    def _add_ledger(self, files: Files, config: MkDocsConfig) -> None:
        assert self.settings is not None
        folder = self.settings.ledger
        for candidate in (f"{folder}index.md", f"{folder.rstrip('/')}.md"):
            existing = files.get_file_from_path(candidate)
            if existing is not None:  # the user's own page wins
                self._ledger_file, self._ledger_generated = existing, False
                return
        content = f"---\ntitle: AI disclosures\n---\n\n# AI disclosures\n\n{LEDGER_MARKER}\n"
        self._ledger_file = File.generated(
            config, f"{folder}index.md", content=content, inclusion=InclusionLevel.NOT_IN_NAV
        )
        self._ledger_generated = True
        files.append(self._ledger_file)

    # -- disclosures -------------------------------------------------------------------------
    def on_nav(
        self, nav: Navigation, /, *, config: MkDocsConfig, files: Files
    ) -> Navigation | None:
        """Every page's URL is known: build the disclosures and check the policy."""
        if self.engine is None or self.site is None:
            return nav
        authors = _blog_authors(config)
        infos = {}
        for file in files:
            scan = self.site.pages.get(file.src_uri)
            if scan is None:
                continue
            meta = scan.meta
            names = tuple(
                authors.get(a, a) for a in meta.get("authors") or [] if isinstance(a, str)
            )
            if not names and config.site_author:
                names = (config.site_author,)
            infos[file.src_uri] = publication.PageInfo(
                src=file.src_uri,
                url=file.url,
                title=self._titles.get(file.src_uri, file.src_uri),
                meta=meta,
                authors=names,
            )
        self._infos = infos
        self.publication = publication.build(self.engine, self.site, infos, self._images)
        for problem in self.publication.problems:
            log.error(str(problem))
        self._check_policy(self.engine, self.site, self.publication.shares())
        return nav

    def _check_policy(self, engine: Engine, site: SiteScan, shares: dict[str, float]) -> None:
        """Frozen or strict builds fail on policy violations; others warn, on the page too."""
        policy = Policy.from_mapping(engine.settings.policy)
        violations = check_policy(policy, engine.subjects(site), shares)
        self._violations = {}
        if not violations:
            return
        error = ProblemsError("publishing policy violations", violations)
        if self._strict:
            raise PluginError(f"aicraft: {error}")
        log.warning(str(error))
        for violation in violations:
            self._violations.setdefault(violation.file, []).append(violation)

    # -- rendering ---------------------------------------------------------------------------
    def on_page_markdown(
        self, markdown: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Remember which page is being rendered (to place ``context="page"`` directives)."""
        self._page = page.file.src_uri
        return markdown

    def _format(
        self,
        src: str,
        language: str,
        class_name: str,
        options: dict[str, str],
        md: Any,
        **kwargs: Any,
    ) -> str:
        """Superfences formatter: the stored record of a directive as sanitised HTML.

        Material renders a post's Markdown again for every listing that shows its excerpt, so
        the result is memoised by the fence's text, and by page too when the same text stands
        for different items on different pages (``context="page"``). In an excerpt, the page
        is the excerpt's post, never the listing that shows it (:func:`_excerpt_post`).
        """
        if self.engine is None or self.settings is None:
            return f"<pre><code>{escape(src)}</code></pre>"
        page = _excerpt_post(md) or self._page
        fence = (language, src, tuple(sorted(options.items())))
        html = self._by_fence.get(fence) or self._by_fence.get((fence, page))
        if html is not None:
            return html
        try:
            html, shared = self._format_fence(src, language, options, page)
        except Exception as exc:  # superfences would swallow it without a word
            where = page or "a page"
            message = f"{where}: an {language} item could not be shown: {exc!r}"
            log.error(message)
            self._render_failures.append(message)
            html = render_notice("error", f"{language} could not be shown", [message])
            shared = False
        self._by_fence[fence if shared else (fence, page)] = html
        return html

    def _format_fence(
        self, src: str, language: str, options: dict[str, str], page: str | None
    ) -> tuple[str, bool]:
        """The HTML of one fence on ``page``, and whether it is the same on every page."""
        assert self.engine is not None and self.settings is not None
        kind = KINDS[language]
        prompt = normalize_prompt(src)
        spec, errors = validate(kind, options, prompt, self._settings_map)
        if spec is None:
            lines = [f"{message} Fix: {fix}" for message, fix in errors]
            return render_notice("invalid", f"Invalid {language} directive", lines), True
        shared = self.engine.same_item_everywhere(kind, options, prompt)
        try:
            item = self.engine.item_for(kind, options, prompt, spec, page)
            record = self.engine.record(item.key)
        except (ConfigError, StoreError) as exc:
            return render_notice("error", f"{language} could not be shown", [str(exc)]), shared
        if record is None:
            return render_notice(
                "missing",
                f"{language}: not generated yet",
                [f"No stored generation for key {item.key[:16]}. Run `aicraft generate`."],
            ), shared
        image = self._images.get(record.published_image) if record.kind == "image" else None
        width = int(str(record.params.get("size") or "0x").partition("x")[0] or 0)
        html = render_record(
            record,
            spec,
            self.settings.show_prompts,
            ledger_href=f"{LEDGER_SCHEME}#{disclosure.ledger_anchor(record)}",
            content_sha256=image.source_sha256 if image else None,
            srcset=publication.srcset(image, width),
        )
        return html, shared

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Banner before the first AI item, AIA statement at the foot; the ledger's table."""
        if self.publication is None or self.settings is None:
            return html
        src = page.file.src_uri
        ledger = self._ledger_file
        if self._ledger_generated and ledger is not None and src == ledger.src_uri:
            return html.replace(LEDGER_MARKER, self._ledger_html(page))
        page_disclosure = self.publication.pages.get(src)
        if page_disclosure is not None:
            banner = disclosure.banner_html(page_disclosure, LEDGER_SCHEME)
            html = disclosure.place_banner(html, banner) + disclosure.footer_html(page_disclosure)
        violations = self._violations.get(src)
        if violations:
            html = policy_warning_html(violations) + html
        return html

    def _ledger_html(self, page: Page) -> str:
        assert self.publication is not None
        here = page.url

        def href(url: str, fragment: str) -> str:
            target = get_relative_url(url, here) if url else "."
            return target + (f"#{fragment}" if fragment else "")

        return disclosure.ledger_html(
            self.publication.entries,
            list(self.publication.pages.values()),
            disclosure.methodology(self.settings),
            href=href,
        )

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        """JSON-LD and the page-wide ``ai-disclosure`` meta in ``<head>``; placeholder URLs."""
        if self.publication is None or self.settings is None:
            return output
        src = page.file.src_uri
        page_disclosure = self.publication.pages.get(src)
        elsewhere = shown_from_elsewhere(
            output, {item.record.key for item in page_disclosure.items} if page_disclosure else ()
        )
        if elsewhere:
            self._elsewhere[src] = elsewhere
            if page_disclosure is None:  # a listing: nothing of its own
                self._listings.append((src, page.url, page.title or page.url))
                output = _with_listing_banner(output, len(elsewhere))
            else:  # its banner was made before the theme added excerpts or thumbnails
                old = disclosure.banner_html(page_disclosure, LEDGER_SCHEME)
                new = disclosure.banner_html(page_disclosure, LEDGER_SCHEME, len(elsewhere))
                output = output.replace(old, new, 1)
        if page_disclosure is not None and "</head>" in output:
            info = self._infos.get(src)
            head = disclosure.meta_tag(page_disclosure, elsewhere) + disclosure.json_ld(
                page_disclosure,
                config.site_name,
                config.site_url,
                info.authors if info else (),
                self.settings.editorial_responsibility,
            )
            output = output.replace("</head>", head + "</head>", 1)
        if ASSET_SCHEME in output or LEDGER_SCHEME in output:
            output = self._resolve_placeholders(output, page.url)
        return _unique_item_ids(output)

    def _resolve_placeholders(self, output: str, here: str) -> str:
        """Make ``aicraft-asset:`` and ``aicraft-ledger:`` URLs relative to the page ``here``.

        Only in ``src``, ``srcset`` and ``href`` attributes of start tags: the same characters
        in text (a prompt, a label, a model's answer) are shown as written.
        """
        ledger = (
            get_relative_url(self._ledger_file.url, here) if self._ledger_file is not None else None
        )

        def resolve(value: str) -> str:
            value = _ASSET_URL.sub(
                lambda m: escape(get_relative_url(f"{ASSET_DIR}/{m.group(1)}", here)), value
            )
            if ledger is not None:
                value = _LEDGER_URL.sub(lambda m: escape(ledger + (m.group(1) or "")), value)
            return value

        parts: list[str] = []
        done = 0  # output[:done] is in parts
        for match in _PLACEHOLDER.finditer(output):
            at = match.start()
            if at < done:
                continue  # in a value already resolved (a srcset lists several URLs)
            opening = output.rfind('"', done, at)
            before = output[max(0, opening - 9) : opening + 1]
            if opening < 0 or not _URL_ATTRIBUTE_END.search(before):
                continue
            # Inside a tag (text never holds "<"; attribute values never hold "<" or ">"),
            # and in the value of src, srcset or href.
            if output.rfind("<", 0, opening) <= output.rfind(">", 0, opening):
                continue
            closing = output.find('"', at)
            if closing < 0:
                break
            parts += [output[done : opening + 1], resolve(output[opening + 1 : closing])]
            done = closing
        if not parts:
            return output
        parts.append(output[done:])
        return "".join(parts)

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Write ``ai-disclosures.json`` at the site root; keep the parsed records' cache."""
        if self._parse_cache is not None:
            self._parse_cache.save()
        if self.publication is None or self.settings is None or self.engine is None:
            return
        records = [i.record for items in self.publication.items.values() for i in items]
        document = self.publication.document(
            self.settings, publication.generated_at(records), self._elsewhere, self._listings
        )
        path = Path(config.site_dir) / JSON_NAME
        # Compact, in one call: only json.dumps without indent uses the C encoder (json.dump
        # and indent=2 go token by token in Python: seconds for a 2000-post site's ledger).
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
        path.write_text(text + "\n", "utf-8")
        if self._strict and self._render_failures:
            failures = "\n".join(f"  {failure}" for failure in self._render_failures)
            raise PluginError(f"aicraft: items could not be shown:\n{failures}")

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        """Rebuild when a record changes (an editor's edit or approval)."""
        if self.settings is not None:
            store = self.settings.store_path
            store.mkdir(parents=True, exist_ok=True)
            server.watch(str(store))
        return server


def _excerpt_post(md: Any) -> str | None:
    """The post whose excerpt ``md`` is rendering, if it is Material's excerpt parser.

    Material renders a post's excerpt while it renders a listing page, with a parser of the
    excerpt's own that holds the post in its ``excerpt`` tree processor. A directive there
    belongs to that post (its ``context="page"`` is the post's text), not to the listing.
    """
    try:
        processor = md.treeprocessors["excerpt"]
    except (AttributeError, KeyError, TypeError):
        return None
    src = getattr(getattr(getattr(processor, "page", None), "file", None), "src_uri", None)
    return src if isinstance(src, str) else None


def _unique_item_ids(output: str) -> str:
    """Number the second and later copies of one item on a page: ``ai-<key16>-2``, ...

    The first keeps the id that the ledger and JSON-LD link to.
    """
    if output.count(' id="ai-') < 2:
        return output
    ids = _ITEM_ID.findall(output)
    if len(ids) == len(set(ids)):
        return output
    seen: dict[str, int] = {}

    def number(match: re.Match[str]) -> str:
        n = seen[match.group(2)] = seen.get(match.group(2), 0) + 1
        return match.group(0) if n == 1 else f'{match.group(1)}{match.group(2)}-{n}"'

    return _ITEM_ID.sub(number, output)


#: Markdown settings that change how fences are read, which aicraft's scanner does not mirror
#: (:mod:`aicraft.fences` reads fences as superfences does with its defaults).
_UNMIRRORED_FENCE_OPTIONS = ("relaxed_headers", "preserve_tabs")
_UNMIRRORED_EXTENSIONS = ("pymdownx.quotes",)


def unmirrored_settings(extensions: Iterable[Any], configs: dict[str, Any]) -> list[str]:
    """Warnings for Markdown settings under which aicraft's scanner and superfences could
    read a page differently (a directive generated but shown as missing, or the reverse)."""
    why = (
        "is not supported: aicraft finds directives as superfences reads fences with its "
        "default settings, so a directive could be generated and shown differently"
    )
    options = configs.get("pymdownx.superfences") or {}
    warnings = [
        f"pymdownx.superfences `{name}: true` {why}. Fix: remove `{name}` from mkdocs.yml"
        for name in _UNMIRRORED_FENCE_OPTIONS
        if options.get(name)
    ]
    names = {e if isinstance(e, str) else next(iter(e), "") for e in extensions}
    warnings += [
        f"the Markdown extension `{name}` {why}. Fix: remove it from markdown_extensions"
        for name in _UNMIRRORED_EXTENSIONS
        if name in names
    ]
    return warnings


_AI_MARK = 'data-ai-generated="true"'
_KEY_ATTRIBUTE = re.compile(r'(?<![\w-])data-aicraft-key="([0-9a-f]{64})"')
_DISCLOSURE_ATTRIBUTE = re.compile(r'(?<![\w-])ai-disclosure="([^"<>]*)"')


def shown_from_elsewhere(output: str, own: Iterable[str] = ()) -> list[str]:
    """What a page's HTML shows as AI-made that is not one of its own items (keys ``own``).

    Every start tag marked ``data-ai-generated="true"`` counts: another page's item in an
    excerpt (once per key) and a theme's credited copy, such as a cover's thumbnail (each).
    Returns their ``ai-disclosure`` values ("" where a mark has none). Model output cannot
    add a mark: its ``<`` and quotes are escaped.
    """
    own = set(own)
    seen: set[str] = set()
    values: list[str] = []
    at = output.find(_AI_MARK)
    while at >= 0:
        start, end = output.rfind("<", 0, at), output.find(">", at)
        tag = output[start : end + 1] if start >= 0 and end >= 0 else ""
        at = output.find(_AI_MARK, at + len(_AI_MARK))
        if not tag or ">" in tag[:-1]:
            continue  # not inside a start tag
        key = _KEY_ATTRIBUTE.search(tag)
        if key is not None:
            if key.group(1) in own or key.group(1) in seen:
                continue
            seen.add(key.group(1))
        value = _DISCLOSURE_ATTRIBUTE.search(tag)
        values.append(value.group(1) if value else "")
    return values


def _with_listing_banner(output: str, count: int) -> str:
    """Put a banner under the title of a page that shows ``count`` AI-made things of other
    pages (excerpts, thumbnails) and has none of its own."""
    banner = disclosure.listing_banner_html(count, LEDGER_SCHEME)
    mark = output.find(_AI_MARK)
    first = output.rfind("<", 0, mark) if mark >= 0 else -1  # the first marked tag
    title_end = output.find("</h1>")
    at = title_end + len("</h1>") if 0 <= title_end < first else first
    return output[:at] + banner + output[at:] if at >= 0 else output


def _accept_options(
    language: str, inputs: dict[str, str], options: dict[str, str], attrs: dict[str, str], md: Any
) -> bool:
    """Superfences validator: keep every option; the formatter validates and reports."""
    options.update(inputs)
    return True


def _blog_authors(config: MkDocsConfig) -> dict[str, str]:
    """Author ids to names from Material's blog plugin(s), when the site has one."""
    names: dict[str, str] = {}
    for plugin in config.plugins.values():
        authors = getattr(plugin, "authors", None)
        if isinstance(authors, dict):
            for key, author in authors.items():
                name = getattr(author, "name", None)
                if isinstance(key, str) and isinstance(name, str):
                    names[key] = name
    return names


def policy_warning_html(violations: list[Violation]) -> str:
    """The warning a non-strict build (``serve``) shows on a page that breaks the policy."""
    items = "".join(
        f"<li>line {v.line}: {escape(v.message)} ({escape(v.rule)}). {escape(v.fix)}</li>"
        for v in violations
    )
    return (
        '<div class="admonition warning aicraft-policy-warning" data-search-exclude>'
        '<p class="admonition-title">This page breaks the publishing policy; '
        "a strict or CI build would fail</p>"
        f"<ul>{items}</ul></div>"
    )
