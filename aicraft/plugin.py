"""The MkDocs plugin: a thin adapter between MkDocs and the aicraft engine.

- ``on_config``: settings, the engine, and one ``pymdownx.superfences`` custom fence per kind
  (so directives work wherever fenced code works, in pages and in Material's blog excerpts);
- ``on_files``: scan every page, report problems, generate what is missing (or, frozen, fail
  listing it), and publish the store's images and aicraft's stylesheet;
- the fence formatter only looks records up (memoised) and returns sanitised HTML;
- ``on_post_page``: image placeholders become page-relative URLs.
"""

from __future__ import annotations

import re
from html import escape
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from mkdocs.config import config_options as c
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from aicraft.config import FIELDS, Settings
from aicraft.directives import KINDS, normalize_prompt, validate
from aicraft.engine import Engine
from aicraft.errors import AicraftError, ConfigError, ProblemsError, StoreError
from aicraft.policy import Policy, Violation
from aicraft.policy import check as check_policy
from aicraft.progress import make_progress
from aicraft.render import ASSET_SCHEME, render_notice, render_record

log = get_plugin_logger(__name__)

ASSET_DIR = "assets/aicraft"
STYLESHEET = f"{ASSET_DIR}/aicraft.css"
_ASSET_SRC = re.compile(
    r'src="' + re.escape(ASSET_SCHEME) + r'([0-9a-f]{16}(?:-[0-9]{1,2})?\.png)"'
)
AIA_LEVELS = {
    "EAI": "entirely AI",
    "PAI": "primarily AI",
    "HAb": "human-AI blend",
    "Ph": "primarily human",
    "none": "no AI",
}


class AicraftPlugin(BasePlugin):
    """Expands ``ai-*`` directives from the generation store, with inline disclosure."""

    config_scheme = tuple((name, c.Optional(c.Type(types))) for name, types in FIELDS)
    supports_multiple_instances = False

    def __init__(self) -> None:
        super().__init__()
        self.settings: Settings | None = None
        self.engine: Engine | None = None
        self._settings_map: dict[str, Any] = {}
        self._page: str | None = None
        self._rendered: dict[tuple[Any, ...], str] = {}
        self._violations: dict[str, list[Violation]] = {}

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
        self._register_fences(config)
        if STYLESHEET not in config.extra_css:
            config.extra_css.append(STYLESHEET)
        return config

    def _register_fences(self, config: MkDocsConfig) -> None:
        if "pymdownx.superfences" not in config.markdown_extensions:
            config.markdown_extensions.append("pymdownx.superfences")
        options = config.mdx_configs.setdefault("pymdownx.superfences", {})
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

    # -- scanning and generation -------------------------------------------------------------
    def on_files(self, files: Files, /, *, config: MkDocsConfig) -> Files | None:
        """Scan all pages, generate or require what is missing, publish images and CSS."""
        if self.engine is None or self.settings is None:
            return files
        engine, settings = self.engine, self.settings
        pages = [(f.src_uri, f.content_string) for f in files.documentation_pages()]
        site = engine.scan(pages)
        mode = settings.resolved_mode()
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
        else:
            self._generate(engine, site)
        self._check_policy(engine, site, strict=mode == "frozen" or bool(config.strict))
        self._add_assets(files, config, engine, site)
        return files

    def _check_policy(self, engine: Engine, site: Any, strict: bool) -> None:
        """Frozen or strict builds fail on policy violations; others warn, on the page too."""
        policy = Policy.from_mapping(engine.settings.policy)
        violations = check_policy(policy, engine.subjects(site), engine.page_shares(site))
        self._violations = {}
        if not violations:
            return
        error = ProblemsError("publishing policy violations", violations)
        if strict:
            raise PluginError(f"aicraft: {error}")
        log.warning(str(error))
        for violation in violations:
            self._violations.setdefault(violation.file, []).append(violation)

    def _generate(self, engine: Engine, site: Any) -> None:
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
        for item in site.items:
            if item.spec.kind != "image":
                continue
            try:
                record = engine.record(item.key)
            except StoreError:
                continue
            if record is None:
                continue
            for name in record.image_files:
                uri = f"{ASSET_DIR}/{name}"
                if files.get_file_from_path(uri) is None:
                    path = engine.store.file_path(name)
                    files.append(File.generated(config, uri, abs_src_path=str(path)))

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
        """Superfences formatter: the stored record of a directive as sanitised HTML."""
        if self.engine is None:
            return f"<pre><code>{escape(src)}</code></pre>"
        kind = KINDS[language]
        prompt = normalize_prompt(src)
        spec, errors = validate(kind, options, prompt, self._settings_map)
        if spec is None:
            lines = [f"{message} Fix: {fix}" for message, fix in errors]
            return render_notice("invalid", f"Invalid {language} directive", lines)
        try:
            item = self.engine.item_for(kind, options, prompt, spec, self._page)
            record = self.engine.record(item.key)
        except (ConfigError, StoreError) as exc:
            return render_notice("error", f"{language} could not be shown", [str(exc)])
        if record is None:
            return render_notice(
                "missing",
                f"{language}: not generated yet",
                [f"No stored generation for key {item.key[:16]}. Run `aicraft generate`."],
            )
        memo = (item.key, spec.label, spec.show_prompt, spec.alt, spec.caption)
        html = self._rendered.get(memo)
        if html is None:
            html = render_record(
                record, spec, self.settings.show_prompts if self.settings else True
            )
            self._rendered[memo] = html
        return html

    def on_page_content(
        self, html: str, /, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str | None:
        """Show the page's own ``authorship:`` declaration to readers, under its title."""
        violations = self._violations.get(page.file.src_uri)
        if violations:
            html = policy_warning_html(violations) + html
        declaration = authorship_html(page.meta.get("authorship"))
        if not declaration:
            return html
        end = html.find("</h1>")
        if end >= 0:
            end += len("</h1>")
            return html[:end] + declaration + html[end:]
        return declaration + html

    def on_post_page(self, output: str, /, *, page: Page, config: MkDocsConfig) -> str | None:
        """Point image placeholders at the published store images, relative to the page."""
        if ASSET_SCHEME not in output:
            return output

        def relative(match: re.Match[str]) -> str:
            url = get_relative_url(f"{ASSET_DIR}/{match.group(1)}", page.url)
            return f'src="{escape(url)}"'

        return _ASSET_SRC.sub(relative, output)

    def on_serve(self, server: Any, /, *, config: MkDocsConfig, builder: Any) -> Any:
        """Rebuild when a record changes (an editor's edit or approval)."""
        if self.settings is not None:
            store = self.settings.store_path
            store.mkdir(parents=True, exist_ok=True)
            server.watch(str(store))
        return server


def _accept_options(
    language: str, inputs: dict[str, str], options: dict[str, str], attrs: dict[str, str], md: Any
) -> bool:
    """Superfences validator: keep every option; the formatter validates and reports."""
    options.update(inputs)
    return True


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


def authorship_html(declaration: Any) -> str:
    """The reader-facing note for a page's ``authorship:`` front matter (string or mapping)."""
    if not declaration:
        return ""
    if isinstance(declaration, str):
        statement, level = declaration, None
    elif isinstance(declaration, dict):
        statement, level = str(declaration.get("statement") or ""), declaration.get("level")
    else:
        return ""
    level_text = ""
    if level:
        meaning = AIA_LEVELS.get(str(level), str(level))
        level_text = f' <span class="aicraft-authorship-level">({escape(meaning)})</span>'
    return (
        '<aside class="aicraft-authorship" role="note" data-search-exclude>'
        f"<p><strong>How this page was written:</strong> {escape(statement)}{level_text}</p>"
        "</aside>"
    )
