"""Generation throughput: ``aicraft generate`` of 200 text directives against a 200 ms server.

Run from the repository root::

    python benchmarks/generation_throughput.py                   # concurrency 1, 4, 8, 16
    python benchmarks/generation_throughput.py --concurrency 16 --runs 5

It starts the local OpenAI-compatible test server (``tests/openai_server.py``,
``FakeOpenAI(latency=0.2)``: every API call is answered after 200 ms) in this process, and
writes a small site (``--pages`` pages of ``--calls``/``--pages`` ``ai-text`` directives,
each prompt distinct) whose ``aicraft`` plugin says ``provider: openai``,
``base_url: <the server>``, ``model: gpt-4o-mini`` and ``concurrency: C``. For each C, with an
empty store each time, it runs ``python -m aicraft generate -f mkdocs.yml`` in a fresh
subprocess (dummy ``OPENAI_API_KEY``) ``--runs`` times and takes the median of:

- **command wall**: the whole command, interpreter start to exit (``perf_counter`` around it);
- **generation wall**: from the first request's arrival at the server to the last answer's
  end (the server's ``time.monotonic()`` stamps): the part concurrency can speed up;
- **fixed cost**: command wall minus generation wall (start-up, config, scan, writing the
  summary), also measured alone as ``aicraft generate`` with nothing to generate.

Efficiency = ideal / wall, where ideal = latency x calls / C (200 x 0.2 s / C). The server
also reports the highest number of requests in flight at once, and the run checks that
exactly ``--calls`` API calls were made and ``--calls`` records written.

The script prints the test server's handler's ``disable_nagle_algorithm`` (``TCP_NODELAY`` on
its sockets) among the server facts. The server writes each answer's headers and body in two
``send`` calls; with Nagle's algorithm on, the body would wait for the client's delayed ACK
(about 40 ms per call, a delay a real API does not add), which the per-call overhead at C = 1
would show.

Target (issue 7): >= 85 % of ideal at C = 16.
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import common
import yaml

sys.path.insert(0, str(common.REPO))
from tests import openai_server
from tests.openai_server import FakeOpenAI

LATENCY = 0.2


@dataclass
class Result:
    """The medians of one concurrency."""

    concurrency: int
    calls: int
    ideal_s: float
    command_s: float
    generation_s: float
    max_in_flight: int
    per_call_overhead_s: float
    command_runs: list[float]
    generation_runs: list[float]

    @property
    def command_efficiency(self) -> float:
        """ideal / command wall."""
        return self.ideal_s / self.command_s

    @property
    def generation_efficiency(self) -> float:
        """ideal / generation wall."""
        return self.ideal_s / self.generation_s


def write_site(root: Path, base_url: str, concurrency: int, calls: int, pages: int) -> Path:
    """A plain MkDocs site with ``calls`` distinct ``ai-text`` directives over ``pages`` pages."""
    docs = root / "docs"
    shutil.rmtree(docs, ignore_errors=True)
    docs.mkdir(parents=True)
    (docs / "index.md").write_text("# Throughput\n\nA site for the throughput benchmark.\n")
    per_page = -(-calls // pages)
    written = 0
    for page in range(pages):
        parts = [f"# Page {page}\n"]
        for _ in range(min(per_page, calls - written)):
            written += 1
            parts.append(
                f"Paragraph before directive {written}.\n\n"
                f'```ai-text label="Item {written}"\n'
                f"Write one sentence about item number {written} of the benchmark.\n```\n"
            )
        (docs / f"page-{page:03d}.md").write_text("\n".join(parts))
    config = {
        "site_name": "Throughput",
        "docs_dir": "docs",
        "theme": {"name": "material"},
        "plugins": [
            "search",
            {
                "aicraft": {
                    "provider": "openai",
                    "base_url": base_url,
                    "model": "gpt-4o-mini",
                    "concurrency": concurrency,
                    "store": "generations",
                }
            },
        ],
        "markdown_extensions": ["pymdownx.superfences"],
    }
    path = root / "mkdocs.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def one_run(server: FakeOpenAI, root: Path, calls: int) -> tuple[float, float, int, float]:
    """One ``aicraft generate`` on an empty store.

    Returns the command's wall time, the generation phase's, the most requests in flight at
    once, and the median per-request time the server spent beyond its latency plus the gap
    until the next request (meaningful at concurrency 1: the per-call overhead).
    """
    shutil.rmtree(root / "generations", ignore_errors=True)
    server.reset()
    env = common.clean_env(OPENAI_API_KEY="sk-benchmark-dummy-key")
    run = common.checked(
        common.aicraft("generate", "-f", str(root / "mkdocs.yml"), cwd=root, env=env),
        "generate",
    )
    requests = server.api_requests()
    records = len(list((root / "generations").glob("*.md")))
    if len(requests) != calls or records != calls:
        sys.exit(f"expected {calls} calls and records, got {len(requests)} and {records}")
    first = min(r.arrived for r in requests)
    last = max(r.finished or r.arrived for r in requests)
    steps = [b.arrived - a.arrived - LATENCY for a, b in itertools.pairwise(requests)]
    return run.wall, last - first, server.max_in_flight, common.median(steps) if steps else 0.0


def fixed_cost(server: FakeOpenAI, root: Path) -> float:
    """``aicraft generate`` with everything stored (start-up, config and scan only)."""
    server.reset()
    env = common.clean_env(OPENAI_API_KEY="sk-benchmark-dummy-key")
    walls = []
    for _ in range(3):
        run = common.aicraft("generate", "-f", str(root / "mkdocs.yml"), cwd=root, env=env)
        walls.append(common.checked(run, "generate (nothing to do)").wall)
    if server.api_requests():
        sys.exit("a generate with everything stored made API calls")
    return common.median(walls)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, measure each concurrency, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--concurrency", default="1,4,8,16", help="comma-separated levels")
    parser.add_argument("--calls", type=int, default=200, help="text directives (API calls)")
    parser.add_argument("--pages", type=int, default=20, help="pages they are spread over")
    parser.add_argument("--runs", type=int, default=3, help="runs per concurrency (median)")
    parser.add_argument("--workdir", type=Path, help="keep the site here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    common.print_machine()
    nodelay = getattr(openai_server._Handler, "disable_nagle_algorithm", False)
    print(
        f"# server: tests/openai_server.py FakeOpenAI(latency={LATENCY}) in this process; "
        f"_Handler.disable_nagle_algorithm = {nodelay} "
        f"(TCP_NODELAY {'on' if nodelay else 'off'})"
    )
    base, temporary = common.workdir(args.workdir, "aicraft-bench-gen-")
    results: list[Result] = []
    try:
        with FakeOpenAI(latency=LATENCY) as server:
            fixed = None
            for level in common.parse_sizes(args.concurrency):
                write_site(base, server.base_url, level, args.calls, args.pages)
                runs = [one_run(server, base, args.calls) for _ in range(args.runs)]
                if fixed is None:
                    fixed = fixed_cost(server, base)
                result = Result(
                    concurrency=level,
                    calls=args.calls,
                    ideal_s=LATENCY * args.calls / level,
                    command_s=common.median([r[0] for r in runs]),
                    generation_s=common.median([r[1] for r in runs]),
                    max_in_flight=max(r[2] for r in runs),
                    per_call_overhead_s=common.median([r[3] for r in runs]),
                    command_runs=[r[0] for r in runs],
                    generation_runs=[r[1] for r in runs],
                )
                results.append(result)
                print(
                    f"# C={level}: command {result.command_s:.2f} s, generation "
                    f"{result.generation_s:.2f} s, ideal {result.ideal_s:.2f} s"
                )
                sys.stdout.flush()
    finally:
        if temporary:
            shutil.rmtree(base, ignore_errors=True)
    print()
    print(
        "| concurrency | ideal s | generation s | % of ideal | command s | % of ideal "
        "(whole command) | max in flight |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r.concurrency} | {r.ideal_s:.2f} | {r.generation_s:.2f} | "
            f"{100 * r.generation_efficiency:.0f} % | {r.command_s:.2f} | "
            f"{100 * r.command_efficiency:.0f} % | {r.max_in_flight} |"
        )
    print()
    print(
        f"medians of {args.runs} runs; {args.calls} calls, {LATENCY * 1000:.0f} ms each; "
        f"fixed cost of `aicraft generate` with nothing to generate: {fixed:.2f} s"
    )
    for r in results:
        print(
            f"  C={r.concurrency}: generation {common.spread(r.generation_runs)} s, "
            f"command {common.spread(r.command_runs)} s"
        )
    serial = [r for r in results if r.concurrency == 1]
    if serial:
        print(
            f"per-call overhead at C=1 (time between request starts minus the latency): "
            f"{1000 * serial[0].per_call_overhead_s:.1f} ms"
        )
    top = max(results, key=lambda r: r.concurrency)
    for label, value in (
        ("generation phase", top.generation_efficiency),
        ("whole command", top.command_efficiency),
    ):
        verdict = "met" if value >= 0.85 else f"MISSED by {100 * (0.85 - value):.0f} points"
        print(
            f"target >= 85 % of ideal at C={top.concurrency} ({label}): "
            f"{100 * value:.0f} %, {verdict}"
        )
    if args.json:
        data = [
            dict(
                asdict(r),
                command_efficiency=r.command_efficiency,
                generation_efficiency=r.generation_efficiency,
            )
            for r in results
        ]
        args.json.write_text(
            json.dumps(
                {
                    "machine": common.machine(),
                    "server": {"latency_s": LATENCY, "disable_nagle_algorithm": nodelay},
                    "fixed_cost_s": fixed,
                    "results": data,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
