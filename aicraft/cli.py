"""The ``aicraft`` command line: build, serve, generate and status over one engine.

``build`` and ``serve`` run MkDocs (the plugin does the work inside the build); ``generate`` and
``status`` load the same mkdocs.yml and use the engine directly, without building.
"""

from __future__ import annotations

import json
import logging
import os
import sys
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
#: Where ``aicraft try`` records say they were made (no page yet).
TRY_SOURCE = "(aicraft try)"


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


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a message is logged (not when created)."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _setup_logging(verbose: bool = False) -> None:
    """Show MkDocs' and aicraft's log messages on stderr, as ``mkdocs build`` does."""
    logger = logging.getLogger("mkdocs")
    if any(getattr(h, "_aicraft", False) for h in logger.handlers):
        return
    handler = _StderrHandler()
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
@click.option(
    "--discard-edits",
    is_flag=True,
    help="With --refresh: also regenerate items a human edited (their edits are lost).",
)
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
    discard_edits: bool,
    pages: tuple[str, ...],
    budget: float | None,
) -> None:
    """Generate every missing item of the site (or refresh selected ones) without building.

    --refresh keeps each item's review history (its approval does not carry over to the new
    output) and refuses items a human edited, unless --discard-edits.
    """
    with _environment(AICRAFT_PROVIDER=provider):
        config, settings = _load(config_file)
        engine, site = _scan(config, settings)
    if site.problems:
        raise click.ClickException(str(ProblemsError("Invalid directives", site.problems)))
    if refresh:
        todo = list({i.key: i for i in site.items if not pages or i.page in pages}.values())
        edited = _edited(engine, todo)
        if edited and not discard_edits:
            raise click.ClickException(
                "--refresh would lose human edits of:\n"
                + "\n".join(f"  - {line}" for line in edited)
                + "\nLeave these pages out (--page), undo the edits, or pass --discard-edits "
                "to regenerate them anyway"
            )
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
    try:
        report = engine.generate(todo, make_progress(click.echo), budget_usd=cap, refresh=refresh)
    except AicraftError as exc:  # e.g. the store's lock file cannot be used
        raise click.ClickException(str(exc)) from None
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
    orphans = engine.orphans(site)
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


# -- review -----------------------------------------------------------------------------------
def _reviewer(by: str | None) -> str:
    from aicraft.review import default_reviewer

    name = by or default_reviewer()
    if not name:
        raise click.ClickException("who is reviewing? pass --by NAME (or set git's user.name)")
    return name


def _review_rows(engine: Engine, site: SiteScan) -> list[dict[str, Any]]:
    """One row per directive with a record: id, page:line, kind, review state, reviewer.

    A record that cannot be read is reported as a warning naming its file (on stderr) and
    left out, so that one broken record never hides the others; so is an approval that binds
    to no content (it counts as pending).
    """
    from aicraft.review import content_sha256, state, unbound_approval

    rows = []
    seen: set[str] = set()
    for item in site.items:
        if item.key in seen:
            continue
        seen.add(item.key)
        try:
            record = engine.record(item.key)
            if record is None:
                continue
            current = state(record, content_sha256(record, engine.store))
        except (StoreError, OSError) as exc:
            _review_warning(f"{item.location}: {exc}")
            continue
        if unbound_approval(record):
            _review_warning(
                f"{engine.store.record_path(record.key)}: its review says approved but names no "
                "sha256 of what was approved, so it binds to no content and counts as pending; "
                f"approve it with `aicraft review approve {record.short}`"
            )
        rows.append(
            {
                "id": record.short,
                "page": item.page,
                "line": item.line,
                "kind": record.kind,
                "model": record.model,
                "state": current,
                "by": record.review.get("by"),
                "at": record.review.get("at"),
                "label": item.spec.label or item.prompt.splitlines()[0][:60],
                "record": record,
            }
        )
    return rows


def _review_warning(message: str) -> None:
    """A problem found while listing items for review, on stderr (JSON output stays valid)."""
    click.echo(f"warning: {message}", err=True)


@main.group()
def review() -> None:
    """Editors' review: list, show, approve and reject generated items.

    IDs are the short keys shown by `aicraft review list`; any unique prefix of at least four
    hex digits works. An approval binds to the sha256 of the approved content: editing it
    afterwards makes the item "changed since approval" until it is approved again.
    """


@review.command("list")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(["pending", "approved", "rejected", "changed"]),
    help="Only items in this state (repeatable).",
)
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def review_list(config_file: str | None, states: tuple[str, ...], as_json: bool) -> None:
    """List generated items by page with their review state."""
    config, settings = _load(config_file)
    engine, site = _scan(config, settings)
    rows = [r for r in _review_rows(engine, site) if not states or r["state"] in states]
    if as_json:
        click.echo(
            json.dumps([{k: v for k, v in r.items() if k != "record"} for r in rows], indent=2)
        )
        return
    page = None
    for row in rows:
        if row["page"] != page:
            page = row["page"]
            click.echo(page)
        who = f" by {row['by']} {str(row['at'])[:10]}" if row["state"] == "approved" else ""
        click.echo(
            f"  {row['id']}  line {row['line']:<4} ai-{row['kind']:<5} {row['state']:<8}{who}  "
            f"{row['label']}"
        )
    counts = {s: sum(r["state"] == s for r in rows) for s in ("pending", "changed", "rejected")}
    click.echo(
        f"{len(rows)} item(s): {counts['pending']} pending, {counts['changed']} changed since "
        f"approval, {counts['rejected']} rejected"
    )


@review.command("show")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.argument("ident")
def review_show(config_file: str | None, ident: str) -> None:
    """Show an item: prompt, model, output, review history and a diff of human edits."""
    from aicraft.disclosure import edit_percent_text
    from aicraft.review import ReviewError, content_sha256, edit_diff, find, state

    _, settings = _load(config_file)
    engine = Engine(settings)
    try:
        record = find(engine.store, ident)
    except (ReviewError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"id        {record.short}   (key {record.key})")
    click.echo(
        f"kind      ai-{record.kind}   from {record.source.get('page')}:{record.source.get('line')}"
    )
    click.echo(
        f"provider  {record.provider}   model {record.model}   requested {record.requested_model}"
    )
    click.echo(f"created   {record.created}   cost {record.usage.get('cost_usd')}")
    try:
        current = state(record, content_sha256(record, engine.store))
    except (StoreError, OSError) as exc:  # its image went missing or became a link meanwhile
        raise click.ClickException(f"{engine.store.record_path(record.key)}: {exc}") from None
    click.echo(f"state     {current}")
    if record.system:
        click.echo("system prompt:\n" + _indent(record.system))
    click.echo("prompt:\n" + _indent(record.prompt))
    if len(record.candidates) > 1:
        click.echo(
            f"candidates: {len(record.candidates)}; published: {record.picked} "
            f"(choose with `aicraft pick {record.short} N`)"
        )
        for number, candidate in enumerate(record.candidates, start=1):
            mark = "*" if number == record.picked else " "
            _echo_output(engine, record.kind, f"{mark} candidate {number}", candidate)
    if record.kind == "text":
        click.echo("published text:\n" + _indent(record.body))
        diff = edit_diff(record)
        click.echo("human edits:\n" + (_indent(diff) if diff else "  none"))
    else:
        click.echo(f"image: {engine.store.file_path(record.original)}")
        edit = record.image_edit
        if edit:
            size = edit_percent_text(record)
            click.echo(
                f"published: {engine.store.file_path(record.published_image)}   "
                f"human-edited {size} by {edit.get('by')}"
            )
    for entry in record.review.get("history") or []:
        note = f" - {entry.get('note')}" if entry.get("note") else ""
        click.echo(f"history   {entry.get('at')}  {entry.get('action')} by {entry.get('by')}{note}")


def _echo_output(engine: Engine, kind: str, head: str, output: str) -> None:
    """One output of a record under ``head``: a text indented, an image as its file's path."""
    if kind == "text":
        click.echo(f"{head}:\n" + _indent(output))
    else:
        click.echo(f"{head}: {engine.store.file_path(output)}")


def _indent(text: str) -> str:
    return "\n".join("  " + line for line in text.splitlines())


@review.command("approve")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.argument("idents", nargs=-1)
@click.option("--page", "page", default=None, help="Approve every item of this page (src path).")
@click.option("--all", "approve_all", is_flag=True, help="Approve every generated item.")
@click.option("--by", default=None, help="Reviewer name (default: git's user.name).")
@click.option("--note", default=None, help="A note kept in the review history.")
def review_approve(
    config_file: str | None,
    idents: tuple[str, ...],
    page: str | None,
    approve_all: bool,
    by: str | None,
    note: str | None,
) -> None:
    """Approve items as they are published now."""
    from aicraft.review import ReviewError, approve, find

    if not idents and not page and not approve_all:
        raise click.UsageError("name the items to approve: IDs, --page PAGE or --all")
    name = _reviewer(by)
    config, settings = _load(config_file)
    engine, site = _scan(config, settings)
    records = []
    try:
        records = [find(engine.store, ident) for ident in idents]
    except (ReviewError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    if page or approve_all:
        rows = _review_rows(engine, site)
        if page and not any(r["page"] == page for r in rows):
            raise click.ClickException(f"no generated items on page {page!r}")
        records += [r["record"] for r in rows if approve_all or r["page"] == page]
    with engine.store.lock():
        for record in {r.key: r for r in records}.values():
            approve(record, engine.store, name, note)
            click.echo(f"approved {record.short} by {name}")


@review.command("reject")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.argument("idents", nargs=-1, required=True)
@click.option("--reason", required=True, help="Why it is rejected (kept in the history).")
@click.option("--by", default=None, help="Reviewer name (default: git's user.name).")
def review_reject(
    config_file: str | None, idents: tuple[str, ...], reason: str, by: str | None
) -> None:
    """Reject items: they are never shown as reviewed, and `require_review` blocks them."""
    from aicraft.review import ReviewError, find, reject

    name = _reviewer(by)
    _, settings = _load(config_file)
    store = Engine(settings).store
    with store.lock():
        for ident in idents:
            try:
                record = reject(find(store, ident), store, name, reason)
            except (ReviewError, StoreError) as exc:
                raise click.ClickException(str(exc)) from None
            click.echo(f"rejected {record.short} by {name}: {reason}")


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.argument("ident")
@click.argument("number", type=click.IntRange(min=1))
@click.option("--by", default=None, help="Who picks (default: git's user.name).")
def pick(config_file: str | None, ident: str, number: int, by: str | None) -> None:
    """Publish candidate NUMBER of an item generated with candidates="N"."""
    from aicraft.review import ReviewError, find
    from aicraft.review import pick as pick_candidate

    name = _reviewer(by)
    _, settings = _load(config_file)
    store = Engine(settings).store
    with store.lock():
        try:
            record = pick_candidate(find(store, ident), store, number, name)
        except (ReviewError, StoreError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"{record.short}: candidate {number} of {len(record.candidates)} is published")


@main.command("try")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.argument("prompt")
@click.option(
    "--kind", type=click.Choice(["text", "image"]), default="text", help="ai-text or ai-image."
)
@click.option(
    "-o",
    "--option",
    "options",
    multiple=True,
    metavar="KEY=VALUE",
    help="A directive option, as in a page: -o candidates=3 -o temperature=0.9 -o model=...",
)
@click.option("--refresh", is_flag=True, help="Generate again even if this exact try is stored.")
@click.option("--budget", type=click.FloatRange(min=0), default=None, help="Spending cap in USD.")
def try_prompt(
    config_file: str | None,
    prompt: str,
    kind: str,
    options: tuple[str, ...],
    refresh: bool,
    budget: float | None,
) -> None:
    """Try PROMPT before putting it in a page: generate it, show it, print its directive.

    The result is stored (with its provenance) under the key the same directive has in a
    page: paste the printed directive into a post and that very result is published, with
    its credit, without calling the model again; `aicraft pick` and `review` work on it as on
    any item. Until a page uses it, `aicraft status` lists it as orphaned and `aicraft gc`
    removes it.
    """
    from aicraft.directives import normalize_prompt, validate

    values: dict[str, str] = {}
    for option in options:
        name, sep, value = option.partition("=")
        if not sep or not name.strip():
            raise click.UsageError(f"-o {option!r}: write an option as KEY=VALUE")
        values[name.strip()] = value
    if values.get("context") == "page":
        raise click.UsageError('context="page" depends on its page: try it in the page itself')
    text = normalize_prompt(prompt)
    config, settings = _load(config_file)
    engine, _ = _scan(config, settings)  # the offline provider learns from the site's prose
    spec, errors = validate(kind, values, text, settings.as_mapping())
    if spec is None:
        raise click.UsageError("; ".join(f"{message} Fix: {fix}" for message, fix in errors))
    try:
        item = engine.resolve(spec, TRY_SOURCE, 0)
        stored = None if refresh else engine.store.get(item.key)
        if stored is None:
            cap = budget if budget is not None else settings.resolved_budget()
            report = engine.generate([item], make_progress(click.echo), cap, refresh=refresh)
            if report.failed or report.skipped:
                reason = (report.failed or report.skipped)[0]
                raise click.ClickException(f"not generated: {reason}")
            click.echo(f"cost ${report.cost_usd:.4f}")
        record = engine.store.get(item.key)
    except (AicraftError, StoreError) as exc:
        raise click.ClickException(str(exc)) from None
    assert record is not None
    click.echo(f"{record.short}  {record.provider}/{record.model}")
    shown = record.candidates or ([record.body] if kind == "text" else [record.original])
    for number, output in enumerate(shown, start=1):
        _echo_output(engine, kind, f"candidate {number}" if len(shown) > 1 else "output", output)
    if len(shown) > 1:
        click.echo(f"Candidate {record.picked} is published; choose: aicraft pick {record.short} N")
    click.echo("Paste into a page:\n")
    click.echo(_directive(kind, values, text))


def _directive(kind: str, options: dict[str, str], prompt: str) -> str:
    """The fenced directive for ``options`` and ``prompt``, as a page writes it."""
    parts = [f"ai-{kind}"]
    for name, value in options.items():
        quote = "'" if '"' in value else '"'
        parts.append(f"{name}={quote}{value}{quote}")
    fence = "````" if "```" in prompt else "```"
    return f"{fence}{' '.join(parts)}\n{prompt}\n{fence}"


def _edited(engine: Engine, items: list[Any]) -> list[str]:
    """``file:line: ai-KIND KEY16 (human-edited N%)`` for each item whose record a human
    edited (unreadable records are left to the generation to report)."""
    from aicraft.disclosure import edit_percent_text

    found = []
    for item in items:
        try:
            record = engine.store.get(item.key)
        except StoreError:
            continue
        if record is not None and record.edited:
            found.append(
                f"{item.location}: ai-{item.spec.kind} {record.short} "
                f"(human-edited {edit_percent_text(record)})"
            )
    return found


@main.command("edit-image")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.argument("ident")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--undo", is_flag=True, help="Publish the model's image again.")
@click.option("--by", default=None, help="Who edited it (default: git's user.name).")
@click.option("--note", default=None, help="What was changed, for the review history.")
def edit_image(
    config_file: str | None,
    ident: str,
    file: str | None,
    undo: bool,
    by: str | None,
    note: str | None,
) -> None:
    """Publish FILE, your edit of an item's image, disclosed as human-edited.

    The model's image stays in the store; the edit is kept beside it and the credit says
    "human-edited N%" (the share of pixels changed; "cropped or resized" when the size
    changed). An earlier approval no longer counts. --undo publishes the model's image again.
    """
    from aicraft.disclosure import edit_percent_text
    from aicraft.review import ReviewError, find, undo_image_edit
    from aicraft.review import edit_image as edit

    if undo == (file is not None):
        raise click.UsageError("give the edited image FILE, or --undo")
    name = _reviewer(by)
    _, settings = _load(config_file)
    store = Engine(settings).store
    with store.lock():
        try:
            record = find(store, ident)
            if undo:
                record = undo_image_edit(record, store, name)
                click.echo(f"{record.short}: the model's image is published again")
                return
            assert file is not None
            data = Path(file).read_bytes()
            record = edit(record, store, data, name, note, settings.max_image_pixels)
        except (ReviewError, StoreError) as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(
        f"{record.short}: your edit is published as {record.published_image}, disclosed as "
        f"human-edited {edit_percent_text(record)}"
    )


# -- check and gc -----------------------------------------------------------------------------
def check_site(engine: Engine, site: SiteScan) -> dict[str, list[dict[str, Any]]]:
    """Everything that blocks publication, as lists of located findings."""
    from aicraft import publication
    from aicraft.policy import Policy, check

    def located(problem: Any, rule: str) -> dict[str, Any]:
        return {
            "file": problem.file,
            "line": problem.line,
            "message": problem.message,
            "fix": problem.fix,
            "rule": getattr(problem, "rule", "") or rule,
        }

    findings: dict[str, list[dict[str, Any]]] = {
        "directives": [located(p, "directive") for p in site.problems],
        "missing": [],
        "policy": [],
        "orphaned": [],
        "stale": [],
    }
    missing, unreadable = engine.missing(site)
    findings["directives"] += [located(p, "record") for p in unreadable]
    findings["missing"] = [
        {
            "file": i.page,
            "line": i.line,
            "message": f"no stored generation for this ai-{i.spec.kind} ({i.key[:16]})",
            "fix": "run `aicraft generate` and commit the store",
            "rule": "frozen",
        }
        for i in missing
    ]
    policy = Policy.from_mapping(engine.settings.policy)
    shares = publication.build(engine, site).shares()
    findings["policy"] = [located(v, v.rule) for v in check(policy, engine.subjects(site), shares)]
    lines_by_page = {(i.page, i.line) for i in site.items}
    for short in engine.orphans(site):
        try:
            record = engine.store.read_short(short)
        except StoreError as exc:
            findings["directives"].append(
                {
                    "file": str(engine.store.root / f"{short}.md"),
                    "line": 1,
                    "message": str(exc),
                    "fix": "restore or delete the file",
                    "rule": "record",
                }
            )
            continue
        page, line = record.source.get("page"), record.source.get("line")
        made = "by `aicraft try`" if page == TRY_SOURCE else f"for {page}:{line}"
        entry = {
            "file": f"{engine.store.root.name}/{short}.md",
            "line": 1,
            "message": f"no directive uses this record (made {made})",
            "fix": "`aicraft gc --yes` removes it",
            "rule": "orphaned",
        }
        if page in site.pages and (page, line) in lines_by_page:
            entry["message"] = (
                f"the directive at {page}:{line} no longer matches this record "
                "(its prompt or options changed)"
            )
            entry["fix"] = "regenerate with `aicraft generate`, then `aicraft gc --yes`"
            entry["rule"] = "stale"
            findings["stale"].append(entry)
        else:
            findings["orphaned"].append(entry)
    return findings


@main.command("check")
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print findings as JSON (for CI).")
def check_command(config_file: str | None, as_json: bool) -> None:
    """Check the site can be published: nothing missing, policy kept, no stale records.

    Calls no provider. Exit codes: 0 nothing blocks publication, 1 findings (listed with
    file:line and the rule), 2 usage or configuration error.
    """
    try:
        config, settings = _load(config_file)
    except click.ClickException as exc:
        click.echo(f"Error: {exc.message}", err=True)
        raise SystemExit(2) from None
    engine, site = _scan(config, settings)
    findings = check_site(engine, site)
    blocking = [f for key in ("directives", "missing", "policy", "stale") for f in findings[key]]
    if as_json:
        click.echo(json.dumps({"ok": not blocking, **findings}, indent=2))
    else:
        for key, title in (
            ("directives", "Invalid directives or records"),
            ("missing", "Missing generations"),
            ("policy", "Policy violations"),
            ("stale", "Records whose directive changed"),
            ("orphaned", "Orphaned records (not blocking)"),
        ):
            if findings[key]:
                click.echo(f"{title} ({len(findings[key])}):")
                for f in findings[key]:
                    rule = f" [{f['rule']}]" if key == "policy" else ""
                    click.echo(f"  - {f['file']}:{f['line']}: {f['message']}{rule} Fix: {f['fix']}")
        click.echo(
            "OK: nothing blocks publication."
            if not blocking
            else f"{len(blocking)} finding(s) block publication."
        )
    if blocking:
        raise SystemExit(1)


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option("--yes", is_flag=True, help="Really delete (default: only list).")
def gc(config_file: str | None, yes: bool) -> None:
    """Remove records (and their images) that no directive uses. A dry run unless --yes."""
    config, settings = _load(config_file)
    engine, site = _scan(config, settings)
    orphans = engine.orphans(site)
    if not orphans:
        click.echo("No orphaned records.")
        return
    with engine.store.lock():
        for short in orphans:
            files = sorted(engine.store.root.glob(f"{short}*"))
            names = ", ".join(p.name for p in files)
            if yes:
                for path in files:
                    path.unlink()
                click.echo(f"removed {names}")
            else:
                click.echo(f"would remove {names}")
    if not yes:
        click.echo(f"{len(orphans)} orphaned record(s); run `aicraft gc --yes` to remove them.")


@main.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--name", default=None, help="Site name (default: the folder's name).")
def new(directory: str, name: str | None) -> None:
    """Create a new site in DIRECTORY: Material blog, aicraft, a first post, CI workflow."""
    from datetime import date

    from aicraft.scaffold import scaffold

    target = Path(directory)
    title = name or target.resolve().name.replace("-", " ").replace("_", " ").title()
    try:
        files = scaffold(target, title, date.today().isoformat())
    except AicraftError as exc:
        raise click.ClickException(str(exc)) from None
    for path in files:
        click.echo(f"created {path}")
    click.echo(
        f"\nNext: cd {directory} && aicraft build   (offline without OPENAI_API_KEY)\n"
        "Then review: aicraft review list; aicraft review approve ID --by NAME"
    )


@main.command()
@click.option("-f", "--config-file", type=click.Path(dir_okay=False), help=CONFIG_HELP)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for people, json (the ai-disclosures.json document) or csv for tools.",
)
def disclosures(config_file: str | None, fmt: str) -> None:
    """Print the site's AI ledger without building: every AI item, by page.

    Calls no provider: items not generated yet are not listed (see `aicraft status`).
    """
    from mkdocs.config import load_config
    from mkdocs.exceptions import MkDocsException
    from mkdocs.structure.files import get_files
    from mkdocs.structure.nav import get_navigation

    from aicraft import disclosure, publication
    from aicraft.plugin import AicraftPlugin

    path = config_file or "mkdocs.yml"
    if not Path(path).is_file():
        raise click.ClickException(f"{path} not found; run in the site's folder or pass -f")
    with _environment(AICRAFT_MODE="auto"):
        try:
            config = load_config(path)
            plugin = config.plugins.get("aicraft")
            if not isinstance(plugin, AicraftPlugin):
                raise click.ClickException(f"{path}: add `- aicraft` under `plugins:`")
            plugin.generate = False
            config = config.plugins.on_config(config)
            files = config.plugins.on_files(get_files(config), config=config)
            config.plugins.on_nav(get_navigation(files, config), config=config, files=files)
        except MkDocsException as exc:
            raise click.ClickException(str(exc)) from None
    result = plugin.publication
    if result is None or plugin.settings is None:
        raise click.ClickException("aicraft is disabled in this site's config")
    if fmt == "json":
        records = [i.record for items in result.items.values() for i in items]
        document = result.document(plugin.settings, publication.generated_at(records))
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    elif fmt == "csv":
        click.echo(disclosure.ledger_csv(result.entries), nl=False)
    else:
        click.echo(disclosure.ledger_table(result.entries))
