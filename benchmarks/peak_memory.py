"""Peak memory of the 2000-post build, with and without aicraft.

Run from the repository root::

    python benchmarks/peak_memory.py                   # 2000 posts
    python benchmarks/peak_memory.py --posts 500 --trace

It prepares the synthetic blog of ``build_overhead.py`` (N posts, 4 directives each, every
directive stored by ``aicraft generate`` with the offline provider; ``plain.yml`` is the same
site without the plugin line) and runs ``python -m mkdocs build -q -f CONFIG -d SITE`` in
fresh subprocesses: first a cold plugin build (no published-image cache) and a warm-up of the
plain one, then ``--runs`` of each, interleaved. The peak resident set size of each build is
its own ``ru_maxrss`` from ``os.wait4`` (the child's rusage, not the benchmark's).

``--trace`` adds two more plugin builds: one run by ``breakdown.py``, which prints the resident
set size and its peak after each of aicraft's once-per-build hooks (when the memory is
taken), and one with ``tracemalloc`` on, which lists the source lines holding the most memory
at the end of the build (in aicraft's ``on_post_build``, when its state is complete) and
tracemalloc's own peak of traced Python memory.

No target in the issue beyond "measured"; the README compares it with the build overhead.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

import build_overhead
import common

TRACE_CHILD = r"""
import sys, tracemalloc, linecache, json
tracemalloc.start(1)
from aicraft import plugin
original = plugin.AicraftPlugin.on_post_build
result = {}
def on_post_build(self, *, config):
    original(self, config=config)
    snapshot = tracemalloc.take_snapshot().filter_traces(
        [tracemalloc.Filter(False, tracemalloc.__file__)])
    current, peak = tracemalloc.get_traced_memory()
    result["current_mib"] = current / 2**20
    result["peak_mib"] = peak / 2**20
    stats = snapshot.statistics("lineno")[:20]
    result["top"] = [
        {"where": f"{s.traceback[0].filename}:{s.traceback[0].lineno}",
         "line": linecache.getline(s.traceback[0].filename, s.traceback[0].lineno).strip(),
         "mib": s.size / 2**20, "blocks": s.count}
        for s in stats
    ]
plugin.AicraftPlugin.on_post_build = on_post_build
from mkdocs.__main__ import cli
sys.argv = ["mkdocs", "build", "-q", "-f", sys.argv[1], "-d", sys.argv[2]]
try:
    cli(standalone_mode=False)
finally:
    open(sys.argv[-1] + ".json", "w").write(json.dumps(result))
"""


def trace(root: Path) -> dict[str, Any]:
    """One plugin build under ``tracemalloc``; the biggest holders at its end."""
    site = root / "site-trace"
    run = common.run_timed(
        [common.PYTHON, "-c", TRACE_CHILD, str(root / "mkdocs.yml"), str(site)],
        cwd=root,
        env=common.clean_env(),
    )
    common.checked(run, "traced build")
    data: dict[str, Any] = json.loads(Path(str(site) + ".json").read_text())
    data["max_rss_mib"] = run.max_rss_mib
    shutil.rmtree(site, ignore_errors=True)
    return data


def main(argv: list[str] | None = None) -> int:
    """Parse the options, build, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=2000, help="posts in the blog")
    parser.add_argument("--runs", type=int, default=2, help="measured builds per configuration")
    parser.add_argument("--trace", action="store_true", help="tracemalloc one plugin build")
    parser.add_argument("--workdir", type=Path, help="keep the site here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    common.print_machine()
    base, temporary = common.workdir(args.workdir, "aicraft-bench-mem-")
    root = base / f"blog-{args.posts}"
    traced: dict[str, Any] | None = None
    phases: list[dict[str, Any]] = []
    try:
        shutil.rmtree(root, ignore_errors=True)
        generate_s = build_overhead.prepare(root, args.posts)
        print(f"# {args.posts} posts; store filled by `aicraft generate` in {generate_s:.1f} s")
        sys.stdout.flush()
        site = root / "site"
        plugin_cfg, plain_cfg = root / "mkdocs.yml", root / "plain.yml"
        shutil.rmtree(common.CACHE_DIR, ignore_errors=True)
        cold = common.checked(common.mkdocs_build(plugin_cfg, site), "cold build")
        common.checked(common.mkdocs_build(plain_cfg, site), "warm-up build")
        plain: list[common.Run] = []
        plugin: list[common.Run] = []
        for _ in range(args.runs):
            plain.append(common.checked(common.mkdocs_build(plain_cfg, site), "plain build"))
            plugin.append(common.checked(common.mkdocs_build(plugin_cfg, site), "plugin build"))
        if args.trace:
            phases = build_overhead.breakdown(root)["memory"]
            traced = trace(root)
    finally:
        if temporary:
            shutil.rmtree(base, ignore_errors=True)
    plain_rss = max(r.max_rss_mib for r in plain)
    plugin_rss = max(r.max_rss_mib for r in plugin)
    print()
    print("| build | peak RSS MiB | wall s (median) |")
    print("|---|---:|---:|")
    print(f"| without aicraft | {plain_rss:.0f} | {common.median([r.wall for r in plain]):.2f} |")
    print(f"| with aicraft | {plugin_rss:.0f} | {common.median([r.wall for r in plugin]):.2f} |")
    print(f"| with aicraft, cold (empty cache) | {cold.max_rss_mib:.0f} | {cold.wall:.2f} |")
    print()
    print(
        f"aicraft adds {plugin_rss - plain_rss:.0f} MiB ({plugin_rss / plain_rss:.2f}x) at "
        f"{args.posts} posts, {(plugin_rss - plain_rss) * 1024 / args.posts:.0f} KiB per post "
        f"({args.posts * common.DIRECTIVES_PER_POST} directives); max over {args.runs} runs"
    )
    if phases:
        print(
            "resident set size of an aicraft build (breakdown.py) after each hook that runs "
            "once: "
            + "; ".join(
                f"{p['when'].removeprefix('after plugin.')} "
                f"{p['rss_mib']:.0f} MiB (peak {p['peak_mib']:.0f})"
                for p in phases
            )
        )
    if traced:
        print(
            f"tracemalloc at the end of the build: {traced['current_mib']:.0f} MiB traced "
            f"(peak {traced['peak_mib']:.0f} MiB); the largest holders:"
        )
        for entry in traced["top"][:12]:
            where = entry["where"].replace(str(common.REPO) + "/", "")
            print(
                f"  {entry['mib']:7.1f} MiB {entry['blocks']:8d} blocks  {where}  "
                f"{entry['line'][:70]}"
            )
    print(f"# {common.load()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": common.machine(),
                    "posts": args.posts,
                    "plain_rss_mib": plain_rss,
                    "plugin_rss_mib": plugin_rss,
                    "cold_rss_mib": cold.max_rss_mib,
                    "plain_runs": [r.max_rss_mib for r in plain],
                    "plugin_runs": [r.max_rss_mib for r in plugin],
                    "trace": traced,
                    "phases": phases,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
