"""No-op rebuild: ``aicraft build`` twice in a row; the second calls no provider at all.

Run from the repository root::

    python benchmarks/noop_rebuild.py                  # 100 posts, 5 measured rebuilds
    python benchmarks/noop_rebuild.py --posts 500 --runs 3

It writes the synthetic blog of ``build_overhead.py`` (``common.write_blog``: N posts, 4
directives each, 3 ``ai-text`` and 1 small ``ai-image``) with the ``aicraft`` plugin set to
``provider: openai`` and ``base_url`` of the local OpenAI-compatible test server
(``tests/openai_server.py``, ``FakeOpenAI(latency=0.2)``, run in this process), and the same
blog without the plugin line (``plain.yml``). Every command runs in a fresh subprocess with a
dummy ``OPENAI_API_KEY`` and no ``CI``:

1. ``aicraft build -f mkdocs.yml -d SITE`` on an empty store: generates every directive
   (one API call each), then builds. Its time and call count are printed.
2. ``aicraft build`` again: it must make **zero** API calls (counted at the server).
3. ``--runs`` more no-op ``aicraft build`` runs, interleaved with ``aicraft build -f plain.yml``
   (the same command and process setup, without the plugin); medians of wall time and
   CPU time, and their ratio. Zero calls are required of every one of them.

Target (issue 7): zero provider calls, and the no-op rebuild within the build-overhead ratio
(<= 1.10 of the build without the plugin).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import common

sys.path.insert(0, str(common.REPO))
from tests.openai_server import FakeOpenAI

KEY = "sk-benchmark-dummy-key"


def build(config: Path, site: Path) -> common.Run:
    """``aicraft build -f CONFIG -d SITE`` in a fresh process, into an emptied folder."""
    shutil.rmtree(site, ignore_errors=True)
    env = common.clean_env(OPENAI_API_KEY=KEY)
    run = common.aicraft("build", "-f", str(config), "-d", str(site), cwd=config.parent, env=env)
    return common.checked(run, f"aicraft build -f {config.name}")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run the builds, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--posts", type=int, default=100, help="posts in the blog")
    parser.add_argument("--runs", type=int, default=5, help="measured no-op rebuilds")
    parser.add_argument("--workdir", type=Path, help="keep the site here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    common.print_machine()
    root, temporary = common.workdir(args.workdir, "aicraft-bench-noop-")
    site = root / "site"
    try:
        with FakeOpenAI(latency=0.2) as server:
            print(f"# server: tests/openai_server.py FakeOpenAI(latency=0.2) at {server.base_url}")
            shutil.rmtree(root / "docs", ignore_errors=True)
            shutil.rmtree(root / "generations", ignore_errors=True)
            shutil.rmtree(common.CACHE_DIR, ignore_errors=True)
            common.write_blog(root, args.posts)
            plugin = {
                "provider": "openai",
                "base_url": server.base_url,
                "model": "gpt-4o-mini",
                "image_model": "gpt-image-1",
                "concurrency": 16,
            }
            config = common.write_config(root, "mkdocs.yml", True, plugin)
            plain = common.write_config(root, "plain.yml", False)
            directives = args.posts * common.DIRECTIVES_PER_POST

            first = build(config, site)
            first_calls = len(server.api_requests())
            print(
                f"# first build: {first.wall:.2f} s, {first_calls} API calls "
                f"({directives} directives)"
            )
            server.reset()
            second = build(config, site)
            second_calls = len(server.api_requests())
            print(f"# second build: {second.wall:.2f} s, {second_calls} API calls")
            build(plain, site)  # warm-up of the baseline
            noop: list[common.Run] = []
            baseline: list[common.Run] = []
            calls_during_runs = 0
            for _ in range(args.runs):
                server.reset()
                baseline.append(build(plain, site))
                noop.append(build(config, site))
                calls_during_runs += len(server.api_requests())
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)

    noop_s = common.median([r.wall for r in noop])
    plain_s = common.median([r.wall for r in baseline])
    noop_cpu = common.median([r.cpu for r in noop])
    plain_cpu = common.median([r.cpu for r in baseline])
    print()
    print(
        "| build | API calls | wall s (median) | CPU s (median) | ratio to no plugin (wall / CPU) |"
    )
    print("|---|---:|---:|---:|---:|")
    print(
        f"| 1st `aicraft build` (empty store) | {first_calls} | {first.wall:.2f} | "
        f"{first.cpu:.2f} | |"
    )
    print(f"| 2nd `aicraft build` | {second_calls} | {second.wall:.2f} | {second.cpu:.2f} | |")
    print(
        f"| no-op `aicraft build` x{args.runs} | {calls_during_runs} | {noop_s:.2f} | "
        f"{noop_cpu:.2f} | {noop_s / plain_s:.2f} / {noop_cpu / plain_cpu:.2f} |"
    )
    print(
        f"| `aicraft build -f plain.yml` x{args.runs} | 0 | {plain_s:.2f} | {plain_cpu:.2f} "
        "| 1.00 |"
    )
    print()
    walls = common.spread([r.wall for r in noop]), common.spread([r.wall for r in baseline])
    print(
        f"{args.posts} posts, {directives} directives; spreads (min-max s): no-op "
        f"{walls[0]}, plain {walls[1]}"
    )
    zero = second_calls == 0 and calls_during_runs == 0
    print(
        f"target zero provider calls on rebuild: {'met' if zero else 'MISSED'} "
        f"({second_calls + calls_during_runs} calls)"
    )
    ratio = noop_s / plain_s
    verdict = "met" if ratio <= 1.10 else f"MISSED by {100 * (ratio - 1.10):.0f} points"
    print(
        f"target no-op rebuild <= 1.10 x build without the plugin: {verdict} "
        f"(wall {ratio:.2f}, CPU {noop_cpu / plain_cpu:.2f})"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": common.machine(),
                    "posts": args.posts,
                    "first_s": first.wall,
                    "first_calls": first_calls,
                    "second_calls": second_calls,
                    "calls_during_runs": calls_during_runs,
                    "noop_s": noop_s,
                    "plain_s": plain_s,
                    "noop_cpu_s": noop_cpu,
                    "plain_cpu_s": plain_cpu,
                    "noop_runs": [r.wall for r in noop],
                    "plain_runs": [r.wall for r in baseline],
                },
                indent=2,
            )
        )
    return 0 if zero else 1


if __name__ == "__main__":
    sys.exit(main())
