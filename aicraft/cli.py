"""The ``aicraft`` command line: build, serve, generate and status over one engine.

``build`` and ``serve`` run MkDocs (the plugin does the work inside the build); ``generate`` and
``status`` load the same mkdocs.yml and use the engine directly, without building.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from aicraft import __version__
from aicraft.config import Settings
from aicraft.engine import Engine, SiteScan
from aicraft.errors import AicraftError, ProblemsError, StoreError
from aicraft.progress import make_progress

CONFIG_HELP = "Path to mkdocs.yml (default: ./mkdocs.yml)."


@contextmanager
def _environment(**values: str | None) -> Iterator[None]:
    """Set environment variables for the duration of a command (the plugin reads them)."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is not None:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class _LevelFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.WARNING:
            return f"{record.levelname}: {message}"
        return message


def _setup_logging(verbose: bool = False) -> None:
    """Show MkDocs' and aicraft's log messages on stderr, as ``mkdocs build`` does."""
    logger = logging.getLogger("mkdocs")
    if any(getattr(h, "_aicraft", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler()
    handler.setFormatter(_LevelFormatter())
    handler._aicraft = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)


def _mode(frozen: bool | None) -> str | None:
    if frozen is None:
        return None
    return "frozen" if frozen else "auto"


def _load(config_file: str | None) -> tuple[Any, Settings]:
    """Load mkdocs.yml and the aicraft settings in it (no build)."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import ConfigurationError

    path = config_file or "mkdocs.yml"
    if not Path(path).is_file():
        raise click.ClickException(f"{path} not found; run in the site's folder or pass -f")
    try:
        config = load_config(path)
    except ConfigurationError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    plugin = config.plugins.get("aicraft")
    if plugin is None:
        raise click.ClickException(f"{path}: add `- aicraft` under `plugins:` to use aicraft")
    try:
        settings = Settings.from_mapping(dict(plugin.config), Path(path).resolve().parent)
    except AicraftError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    return config, settings


def _scan(config: Any, settings: Settings) -> tuple[Engine, SiteScan]:
    from mkdocs.structure.files import get_files

    engine = Engine(settings)
    files = get_files(config)
    pages = [(f.src_uri, f.content_string) for f in files.documentation_pages()]
    return engine, engine.scan(pages)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aicraft")
def main() -> None:
    """aicraft: AI-assisted writing and art, published honestly with MkDocs.

    Write ```ai-text and ```ai-image fences in your Markdown; aicraft generates each one once,
    stores it with its provenance under generations/, and renders it with an inline credit.
    """


def _common(func: Any) -> Any:
    func = click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)(
        func
    )
    func = click.option(
        "--provider",
        default=None,
        help="Use this provider for directives that do not name one (offline, openai, auto).",
    )(func)
    return func


@main.command()
@_common
@click.option("-d", "--site-dir", type=click.Path(file_okay=False), help="Where to write the site.")
@click.option("--strict", is_flag=True, help="Fail on any warning or error (bad directives too).")
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=None,
    help="Spending cap in USD for this run (overrides budget_usd).",
)
@click.option(
    "--frozen/--no-frozen",
    default=None,
    help="Frozen: call no provider, fail listing what is missing (default when CI is set).",
)
def build(
    config_file: str | None,
    provider: str | None,
    site_dir: str | None,
    strict: bool,
    budget: float | None,
    frozen: bool | None,
) -> None:
    """Generate what is missing (unless frozen), then build the site with MkDocs."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException

    path = config_file or "mkdocs.yml"
    if not Path(path).is_file():
        raise click.ClickException(f"{path} not found; run in the site's folder or pass -f")
    _setup_logging()
    overrides: dict[str, Any] = {"strict": strict}
    if site_dir:
        overrides["site_dir"] = site_dir
    with _environment(
        AICRAFT_MODE=_mode(frozen),
        AICRAFT_PROVIDER=provider,
        AICRAFT_BUDGET_USD=None if budget is None else str(budget),
    ):
        try:
            config = load_config(path, **overrides)
            config.plugins.on_startup(command="build", dirty=False)
            try:
                mkdocs_build(config)
            finally:
                config.plugins.on_shutdown()
        except MkDocsException as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"Site built in {config.site_dir}")


@main.command()
@_common
@click.option(
    "-a", "--dev-addr", default=None, help="IP:PORT to serve on (default 127.0.0.1:8000)."
)
@click.option("--frozen/--no-frozen", default=None, help="Frozen: never call a provider.")
def serve(
    config_file: str | None, provider: str | None, dev_addr: str | None, frozen: bool | None
) -> None:
    """Serve the site with live reload; edits to pages and to records rebuild it."""
    from mkdocs.commands.serve import serve as mkdocs_serve
    from mkdocs.exceptions import MkDocsException

    path = config_file or "mkdocs.yml"
    _setup_logging()
    with _environment(AICRAFT_MODE=_mode(frozen), AICRAFT_PROVIDER=provider):
        try:
            mkdocs_serve(config_file=path, dev_addr=dev_addr, livereload=True)
        except MkDocsException as exc:
            raise click.ClickException(str(exc)) from None


@main.command()
@_common
@click.option("--dry-run", is_flag=True, help="List what would be generated; call nothing.")
@click.option("--refresh", is_flag=True, help="Regenerate the selected items even if stored.")
@click.option("--page", "pages", multiple=True, help="Only directives of this page (src path).")
@click.option(
    "--budget",
    type=click.FloatRange(min=0),
    default=None,
    help="Spending cap in USD for this run (overrides budget_usd).",
)
def generate(
    config_file: str | None,
    provider: str | None,
    dry_run: bool,
    refresh: bool,
    pages: tuple[str, ...],
    budget: float | None,
) -> None:
    """Generate every missing item of the site (or refresh selected ones) without building."""
    with _environment(AICRAFT_PROVIDER=provider):
        config, settings = _load(config_file)
        engine, site = _scan(config, settings)
    if site.problems:
        raise click.ClickException(str(ProblemsError("Invalid directives", site.problems)))
    if refresh:
        todo = list({i.key: i for i in site.items if not pages or i.page in pages}.values())
    else:
        missing, problems = engine.missing(site)
        if problems:
            raise click.ClickException(str(ProblemsError("Unreadable records", problems)))
        todo = [i for i in missing if not pages or i.page in pages]
    if not todo:
        click.echo("Nothing to generate: every directive has a stored record.")
        return
    cap = budget if budget is not None else settings.resolved_budget()
    total, unknown = 0.0, 0
    for item in todo:
        estimate = engine.estimate(item)
        if estimate is None:
            unknown += 1
        else:
            total += estimate
        if dry_run:
            cost = "unknown cost" if estimate is None else f"up to ${estimate:.4f}"
            click.echo(
                f"{item.location}  ai-{item.spec.kind}  {item.provider}/{item.model}  "
                f"{item.key[:16]}  {cost}"
            )
    verb = "would be generated" if dry_run else "to generate"
    summary = f"{len(todo)} item(s) {verb}; estimated cost up to ${total:.4f}"
    if unknown:
        summary += f", plus {unknown} item(s) of unknown cost"
    if cap is not None:
        summary += f"; budget ${cap:.2f}"
    click.echo(summary + ".")
    if dry_run:
        return
    report = engine.generate(todo, make_progress(click.echo), budget_usd=cap, refresh=refresh)
    click.echo(
        f"Generated {len(report.generated)} item(s), {len(report.failed)} failed, "
        f"{len(report.skipped)} not started; cost ${report.cost_usd:.4f}."
    )
    problems = report.failed + report.skipped
    if problems:
        raise click.ClickException(
            "Not generated:\n" + "\n".join(f"  - {failure}" for failure in problems)
        )


def status_data(engine: Engine, site: SiteScan) -> dict[str, Any]:
    """Directives, stored, missing and orphaned records, per page (for ``status``)."""
    used = site.keys()
    pages: dict[str, dict[str, Any]] = {}
    for src, page in site.pages.items():
        if page.directives or page.problems:
            pages[src] = {"directives": 0, "stored": 0, "missing": [], "problems": []}
    for item in site.items:
        entry = pages[item.page]
        entry["directives"] += 1
        try:
            stored = engine.record(item.key) is not None
        except StoreError as exc:
            entry["problems"].append(f"line {item.line}: {exc}")
            continue
        if stored:
            entry["stored"] += 1
        else:
            entry["missing"].append({"line": item.line, "kind": item.spec.kind, "key": item.key})
    for problem in site.problems:
        pages[problem.file]["problems"].append(f"line {problem.line}: {problem.message}")
    short_used = {key[:16] for key in used}
    orphans = [short for short in engine.store.short_keys() if short not in short_used]
    return {
        "store": str(engine.store.root),
        "directives": len(site.items),
        "stored": sum(p["stored"] for p in pages.values()),
        "missing": sum(len(p["missing"]) for p in pages.values()),
        "problems": sum(len(p["problems"]) for p in pages.values()),
        "orphaned": orphans,
        "pages": pages,
    }


@main.command()
@_common
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def status(config_file: str | None, provider: str | None, as_json: bool) -> None:
    """Show directives, stored and missing generations and orphaned records, per page."""
    with _environment(AICRAFT_PROVIDER=provider):
        config, settings = _load(config_file)
        engine, site = _scan(config, settings)
    data = status_data(engine, site)
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for src, entry in data["pages"].items():
        click.echo(f"{src}: {entry['directives']} directive(s), {entry['stored']} stored")
        for miss in entry["missing"]:
            click.echo(f"  missing  line {miss['line']}  ai-{miss['kind']}  {miss['key'][:16]}")
        for problem in entry["problems"]:
            click.echo(f"  problem  {problem}")
    click.echo(
        f"Total: {data['directives']} directive(s), {data['stored']} stored, "
        f"{data['missing']} missing, {data['problems']} problem(s), "
        f"{len(data['orphaned'])} orphaned record(s) in {data['store']}"
    )
    for short in data["orphaned"]:
        click.echo(f"  orphaned  {short}.md")
