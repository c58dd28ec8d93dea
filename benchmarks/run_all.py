"""Run every benchmark in turn and keep their outputs.

Run from the repository root::

    python benchmarks/run_all.py                    # the full set (about an hour on 2 cores)
    python benchmarks/run_all.py --quick            # small sizes: a smoke run of a few minutes
    python benchmarks/run_all.py --only images,noop_rebuild

Each benchmark runs as ``python benchmarks/<script>.py ARGS`` in its own process; its output
is shown as it comes and saved with its JSON figures under ``--out`` (default
``benchmarks/results/``) as ``<name>.txt`` and ``<name>.json``. The full plan, in order (these
are the commands behind the figures in ``benchmarks/README.md``):

- ``build_overhead``: build_overhead.py ``--sizes 100,500,2000 --breakdown``
- ``generation_throughput``: generation_throughput.py (defaults: C = 1, 4, 8, 16; 3 runs)
- ``noop_rebuild``: noop_rebuild.py (defaults: 100 posts, 5 runs)
- ``peak_memory``: peak_memory.py ``--trace`` (2000 posts, 2 runs)
- ``images``: images.py (defaults: 100 images, 3 runs)

``--quick`` runs each script once with small sizes (a smoke test of a few minutes; its
``build_overhead`` also runs ``breakdown.py``).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL: list[tuple[str, str, list[str]]] = [
    ("build_overhead", "build_overhead", ["--sizes", "100,500,2000", "--breakdown"]),
    ("generation_throughput", "generation_throughput", []),
    ("noop_rebuild", "noop_rebuild", []),
    ("peak_memory", "peak_memory", ["--trace"]),
    ("images", "images", []),
]
QUICK: list[tuple[str, str, list[str]]] = [
    ("build_overhead", "build_overhead", ["--sizes", "50,200", "--runs", "2", "--breakdown"]),
    ("generation_throughput", "generation_throughput", ["--concurrency", "4,16", "--runs", "1"]),
    ("noop_rebuild", "noop_rebuild", ["--posts", "50", "--runs", "2"]),
    ("peak_memory", "peak_memory", ["--posts", "200", "--runs", "1"]),
    ("images", "images", ["--images", "20", "--runs", "1"]),
]


def run(name: str, script: str, args: list[str], out: Path) -> int:
    """Run one benchmark, echoing and saving its output; return its exit code."""
    command = [
        sys.executable,
        str(HERE / f"{script}.py"),
        *args,
        "--json",
        str(out / f"{name}.json"),
    ]
    print(f"\n=== {name}: {' '.join(command[1:])}", flush=True)
    start = time.perf_counter()
    lines: list[str] = []
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            lines.append(line)
    (out / f"{name}.txt").write_text("".join(lines))
    print(
        f"=== {name}: exit {proc.returncode} after {time.perf_counter() - start:.0f} s", flush=True
    )
    return proc.returncode


def main(argv: list[str] | None = None) -> int:
    """Parse the options and run the selected benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--only", help="comma-separated benchmark names")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="output folder")
    args = parser.parse_args(argv)
    plan = {name: (script, extra) for name, script, extra in (QUICK if args.quick else FULL)}
    names = [n.strip() for n in args.only.split(",")] if args.only else list(plan)
    unknown = [n for n in names if n not in plan]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(plan)}")
    args.out.mkdir(parents=True, exist_ok=True)
    failed = [name for name in names if run(name, *plan[name], args.out) != 0]
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
