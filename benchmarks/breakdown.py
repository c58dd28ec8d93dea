"""Where a build's aicraft time goes: one ``mkdocs build`` with aicraft's hooks timed.

Run from the repository root (``build_overhead.py --breakdown`` runs it for you)::

    python benchmarks/breakdown.py path/to/mkdocs.yml path/to/site [--json out.json]

It wraps, in this process only (the package is not changed), every MkDocs event handler of
``AicraftPlugin``, its superfences formatter and a few engine functions with a
``time.perf_counter`` accumulator, then runs ``mkdocs build -q`` in-process and prints, for
each, the number of calls and the seconds spent inside (nested entries are included in their
callers: ``Store._read`` runs inside ``on_files``). The total of the hooks is what aicraft
costs directly; whatever remains of the difference with a build without the plugin is
indirect (MkDocs, Material and the search index working on longer pages, more files).
It also prints the resident set size (and its peak so far) after each hook that runs once per
build, to show when the memory is taken.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

TIMES: dict[str, list[float]] = {}
MEMORY: list[tuple[str, float, float]] = []
ONCE = ("plugin.on_config", "plugin.on_files", "plugin.on_nav", "plugin.on_post_build")


def rss_mib() -> float:
    """This process's resident set size now, in MiB (Linux ``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_rss_mib() -> float:
    """This process's peak resident set size so far, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func``, accumulating its calls and wall time under ``name``; for the hooks that run
    once per build, the resident set size and its peak after the call too."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            entry = TIMES.setdefault(name, [0, 0.0])
            entry[0] += 1
            entry[1] += time.perf_counter() - start
            if name in ONCE:
                MEMORY.append((f"after {name}", rss_mib(), peak_rss_mib()))

    return wrapper


def instrument() -> None:
    """Wrap aicraft's hooks and hot functions (class and module attributes)."""
    from aicraft import disclosure, engine, plugin, publication, records, store

    hooks = (
        "on_config",
        "on_files",
        "on_nav",
        "on_page_markdown",
        "on_page_content",
        "on_post_page",
        "on_post_build",
        "_format",
    )
    for name in hooks:
        setattr(
            plugin.AicraftPlugin,
            name,
            _timed(f"plugin.{name}", getattr(plugin.AicraftPlugin, name)),
        )
    targets: list[tuple[Any, str, str]] = [
        (engine.Engine, "scan", "engine.Engine.scan"),
        (engine.Engine, "missing", "engine.Engine.missing"),
        (engine.Engine, "subjects", "engine.Engine.subjects"),
        (store.Store, "_read", "store.Store._read (record files parsed)"),
        (records.Record, "loads", "records.Record.loads"),
        (publication, "publish_images", "publication.publish_images"),
        (publication, "build", "publication.build"),
        (plugin, "render_record", "render.render_record"),
        (disclosure, "ledger_html", "disclosure.ledger_html"),
        (plugin, "_with_listing_banner", "plugin._with_listing_banner"),
    ]
    for owner, attr, label in targets:
        original = getattr(owner, attr)
        if isinstance(owner, type) and attr == "loads":
            setattr(owner, attr, classmethod(_timed(label, original.__func__)))
        else:
            setattr(owner, attr, _timed(label, original))


def run(config: Path, site: Path) -> dict[str, Any]:
    """Build ``config`` into ``site`` with the wrappers; return the timings."""
    instrument()
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    MEMORY.append(("start", rss_mib(), peak_rss_mib()))
    start = time.perf_counter()
    cpu = time.process_time()
    cfg = load_config(str(config), site_dir=str(site))
    cfg.plugins.on_startup(command="build", dirty=False)
    try:
        build(cfg)
    finally:
        cfg.plugins.on_shutdown()
    total = time.perf_counter() - start
    hooks = sum(v[1] for k, v in TIMES.items() if k.startswith("plugin.") and k != "plugin._format")
    return {
        "build_s": total,
        "build_cpu_s": time.process_time() - cpu,
        "aicraft_hooks_s": hooks + TIMES.get("plugin._format", [0, 0.0])[1],
        "functions": {k: {"calls": v[0], "seconds": v[1]} for k, v in sorted(TIMES.items())},
        "memory": [{"when": w, "rss_mib": r, "peak_mib": p} for w, r, p in MEMORY],
    }


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the instrumented build, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("site", type=Path)
    parser.add_argument("--json", type=Path, help="also write the timings as JSON here")
    args = parser.parse_args(argv)
    result = run(args.config.resolve(), args.site.resolve())
    print(
        f"build {result['build_s']:.2f} s (CPU {result['build_cpu_s']:.2f} s); in aicraft's "
        f"hooks and formatter: {result['aicraft_hooks_s']:.2f} s"
    )
    print("| function | calls | seconds |")
    print("|---|---:|---:|")
    for name, entry in sorted(result["functions"].items(), key=lambda kv: -kv[1]["seconds"]):
        print(f"| {name} | {entry['calls']} | {entry['seconds']:.3f} |")
    print("| when | RSS MiB | peak RSS so far MiB |")
    print("|---|---:|---:|")
    for entry in result["memory"]:
        print(f"| {entry['when']} | {entry['rss_mib']:.0f} | {entry['peak_mib']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
