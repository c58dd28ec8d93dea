"""Images: 100 generated 1024x1024 images published with metadata and WebP variants.

Run from the repository root::

    python benchmarks/images.py                 # 100 images, 3 runs of each method
    python benchmarks/images.py --images 40 --runs 5

Setup (not measured): a site of ``--images`` ``ai-image`` directives (1024x1024, distinct
prompts), generated once with aicraft's offline provider (procedural art drawn with Pillow,
about 160 KB per PNG: realistic to encode, unlike flat test images) through the engine API.

Measured, each ``--runs`` times, medians of wall time and of the process's CPU time (user +
system, all threads; pool workers' CPU included), each run writing the published files into
an emptied folder:

- **aicraft**: ``aicraft.publication.publish_images(engine, site, widths=(480, 960),
  cache_dir=None)``, which embeds the disclosure (XMP, EXIF, PNG text chunks) into each PNG
  without re-encoding it and makes the 480 and 960 px WebP variants with the same metadata,
  on a thread pool of ``os.cpu_count()`` workers; then its bytes are written to files. No
  cache: every image is processed.
- **Pillow, threads** / **Pillow, processes**: a plain loop over the same store files on a
  ``ThreadPoolExecutor`` / ``ProcessPoolExecutor`` of ``os.cpu_count()`` workers: open, save as
  PNG (``compress_level=6``), resize to 480 and 960 px (LANCZOS, ``reducing_gap=3.0``, as
  aicraft) and save each as WebP (``quality=82, method=4``, as aicraft). No metadata.
- **Pillow, threads, PNG copied**: the same loop, but the PNG is copied as it is (what
  aicraft's lossless embedding amounts to, minus the metadata): the floor for this work.
- **aicraft, warm cache**: ``publish_images`` again with a cache folder filled by a first call
  (what a rebuild does).

The parallelism figure is CPU time / wall time (2.0 = both cores busy).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import common
from PIL import Image

WIDTHS = (480, 960)


@dataclass
class Figures:
    """Medians of one method."""

    name: str
    wall_s: float
    cpu_s: float
    walls: list[float]
    out_bytes: int

    @property
    def parallelism(self) -> float:
        """CPU seconds per wall second."""
        return self.cpu_s / self.wall_s


def make_store(root: Path, count: int) -> tuple[Any, Any]:
    """Generate ``count`` 1024x1024 offline images once; return (engine, site scan)."""
    from aicraft.config import Settings
    from aicraft.engine import Engine

    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    subjects = (
        "harbour at dusk",
        "forest in snow",
        "city skyline at night",
        "desert dunes",
        "field of flowers",
        "mountain ridge",
        "stormy sea",
        "autumn orchard",
    )
    parts = ["# Gallery\n"]
    for index in range(count):
        parts.append(
            f'```ai-image size="1024x1024" alt="Picture {index}"\n'
            f"A watercolour of a {subjects[index % len(subjects)]}, picture {index}.\n```\n"
        )
    page = "\n".join(parts)
    settings = Settings.from_mapping(
        {
            "provider": "offline",
            "concurrency": os.cpu_count() or 2,
            "editorial_responsibility": "The benchmark desk",
        },
        base_dir=root,
    )
    engine = Engine(settings, environ={})
    site = engine.scan([("gallery.md", page)])
    if site.problems:
        sys.exit(f"invalid directives: {site.problems}")
    missing, _ = engine.missing(site)
    if missing:
        start = time.perf_counter()
        report = engine.generate(missing)
        if report.failed:
            sys.exit(f"generation failed: {report.failed[0]}")
        print(f"# generated {len(missing)} images offline in {time.perf_counter() - start:.1f} s")
    return engine, site


def cpu_now() -> float:
    """CPU seconds of this process (all threads) plus its reaped children."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def measure(name: str, runs: int, out: Path, job: Callable[[Path], int]) -> Figures:
    """Run ``job(out)`` ``runs`` times into an emptied ``out``; medians."""
    walls, cpus, size = [], [], 0
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        start, cpu = time.perf_counter(), cpu_now()
        size = job(out)
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_now() - cpu)
    return Figures(name, common.median(walls), common.median(cpus), walls, size)


def aicraft_job(engine: Any, site: Any, cache: Path | None) -> Callable[[Path], int]:
    """``publish_images`` and writing its bytes out."""
    from aicraft.publication import publish_images

    def job(out: Path) -> int:
        images, problems = publish_images(engine, site, WIDTHS, cache)
        if problems:
            sys.exit(f"publish_images problems: {problems}")
        total = 0
        for image in images.values():
            for name, data in [(image.name, image.data), *image.variants.values()]:
                (out / name).write_bytes(data)
                total += len(data)
        return total

    return job


def plain_one(source: str, out: str, reencode: bool = True) -> int:
    """The plain Pillow work for one image: PNG, then WebP variants; bytes written.

    Without ``reencode`` the PNG is copied byte for byte (the floor: only the variants cost).
    """
    stem = Path(source).stem
    total = 0
    with Image.open(source) as im:
        im.load()
        if reencode:
            buffer = io.BytesIO()
            im.save(buffer, "PNG", compress_level=6)
            data = buffer.getvalue()
        else:
            data = Path(source).read_bytes()
        Path(out, f"{stem}.png").write_bytes(data)
        total += len(data)
        for width in WIDTHS:
            height = round(width * im.height / im.width)
            small = im.resize((width, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
            buffer = io.BytesIO()
            small.save(buffer, "WEBP", quality=82, method=4)
            Path(out, f"{stem}-w{width}.webp").write_bytes(buffer.getvalue())
            total += buffer.tell()
    return total


def plain_job(
    sources: list[str], pool: Callable[[], Executor], reencode: bool = True
) -> Callable[[Path], int]:
    """The plain loop on a fresh pool (started and shut down inside the measurement)."""

    def job(out: Path) -> int:
        count = len(sources)
        with pool() as executor:
            return sum(executor.map(plain_one, sources, [str(out)] * count, [reencode] * count))

    return job


def main(argv: list[str] | None = None) -> int:
    """Parse the options, prepare the images, measure each method, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=100, help="1024x1024 images")
    parser.add_argument("--runs", type=int, default=3, help="runs per method (median)")
    parser.add_argument("--workdir", type=Path, help="keep the store here (default: temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON here")
    args = parser.parse_args(argv)
    common.print_machine()
    root, temporary = common.workdir(args.workdir, "aicraft-bench-img-")
    workers = os.cpu_count() or 2
    try:
        engine, site = make_store(root, args.images)
        sources = sorted(
            str(engine.store.file_path(name))
            for item in site.items
            for name in (engine.record(item.key).image_files if engine.record(item.key) else [])
        )
        mib = sum(os.path.getsize(s) for s in sources) / 2**20
        print(f"# {len(sources)} store images, {mib:.1f} MiB; {workers} workers everywhere")
        sys.stdout.flush()
        out = root / "out"
        cache = root / "cache"
        shutil.rmtree(cache, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
        aicraft_job(engine, site, None)(out)  # warm-up: imports, file cache
        results = [
            measure(
                "aicraft publish_images (no cache)", args.runs, out, aicraft_job(engine, site, None)
            ),
            measure(
                "Pillow loop, threads",
                args.runs,
                out,
                plain_job(sources, lambda: ThreadPoolExecutor(workers)),
            ),
            measure(
                "Pillow loop, processes",
                args.runs,
                out,
                plain_job(sources, lambda: ProcessPoolExecutor(workers)),
            ),
            measure(
                "Pillow loop, threads, PNG copied (floor)",
                args.runs,
                out,
                plain_job(sources, lambda: ThreadPoolExecutor(workers), reencode=False),
            ),
        ]
        aicraft_job(engine, site, cache)(out)  # fills the cache
        results.append(
            measure(
                "aicraft publish_images (warm cache)",
                args.runs,
                out,
                aicraft_job(engine, site, cache),
            )
        )
    finally:
        if temporary:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print("| method | wall s | per image ms | CPU s | CPU/wall | output MiB | vs Pillow threads |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    reference = results[1].wall_s
    for r in results:
        print(
            f"| {r.name} | {r.wall_s:.2f} | {1000 * r.wall_s / len(sources):.0f} | "
            f"{r.cpu_s:.2f} | {r.parallelism:.2f} | {r.out_bytes / 2**20:.1f} | "
            f"{r.wall_s / reference:.2f} |"
        )
    print()
    print(
        f"medians of {args.runs} runs; spreads (min-max s): "
        + "; ".join(f"{r.name} {common.spread(r.walls)}" for r in results)
    )
    best_plain = min(results[1].wall_s, results[2].wall_s)
    print(f"aicraft (no cache) takes {results[0].wall_s / best_plain:.2f}x the best plain loop")
    print(f"# {common.load()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": common.machine(),
                    "images": len(sources),
                    "results": [dict(r.__dict__, parallelism=r.parallelism) for r in results],
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
