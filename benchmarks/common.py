"""Shared helpers of the benchmark scripts: synthetic blogs, timed subprocesses, machine facts.

Not a benchmark itself. The scripts in this folder import it as ``common`` (they run as
``python benchmarks/<name>.py``, so this folder is first on ``sys.path``).

- :func:`write_blog` writes a synthetic MkDocs + Material blog of N posts, each with a few
  paragraphs of varied prose (seeded, so every run writes the same site) and 4 directives
  (3 ``ai-text``, one inside an admonition and one in the post's excerpt, and 1 small
  ``ai-image``), with or without the ``aicraft`` plugin line in ``mkdocs.yml``;
- :func:`run_timed` runs one command in a fresh subprocess and returns its wall time, CPU
  time and peak RSS (``os.wait4``, so the figures are that child's alone);
- :func:`machine` describes the machine and the versions a figure was measured with.
"""

from __future__ import annotations

import atexit
import datetime as _dt
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
"""The repository root (``tests.openai_server`` is imported from there)."""

PYTHON = sys.executable
#: aicraft's cache (published images, parsed front matter) for every build this process runs:
#: its own, never the user's ~/.cache/aicraft; deleted at exit. Empty it for a cold build.
CACHE_DIR = Path(tempfile.mkdtemp(prefix="aicraft-bench-cache-"))
atexit.register(shutil.rmtree, CACHE_DIR, ignore_errors=True)
"""The interpreter that runs the benchmark also runs every build."""

# -- machine --------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """Cores, memory, CPU model, OS, Python and the versions of the packages that matter."""
    cpu = "unknown"
    with _suppress_os_error():
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with _suppress_os_error():
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    versions = {}
    for name in (
        "aicraft",
        "mkdocs",
        "mkdocs-material",
        "markdown",
        "pymdown-extensions",
        "pillow",
        "openai",
        "nh3",
        "pyyaml",
    ):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    commit = "unknown"
    with _suppress_os_error():
        commit = (
            subprocess.run(
                ["git", "-C", str(REPO), "describe", "--always", "--dirty"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
            or "unknown"
        )
    return {
        "date": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "memory": memory,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "commit": commit,
        "versions": versions,
    }


def _suppress_os_error() -> suppress:
    return suppress(OSError, ValueError, IndexError)


def print_machine() -> None:
    """Print :func:`machine` as a header for a benchmark's output."""
    m = machine()
    print(f"# date: {m['date']}  commit: {m['commit']}")
    print(f"# machine: {m['cores']} cores, {m['memory']}, {m['cpu']}; {m['os']}")
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    print(f"# python {m['python']} ({PYTHON}); {versions}")
    print(f"# command: {' '.join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])}")
    print(f"# {load()} (other processes share these cores: compare CPU figures too)")
    sys.stdout.flush()


def load() -> str:
    """The 1, 5 and 15 minute load averages, as text."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


# -- timed subprocesses -----------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One finished subprocess: wall seconds, user+system CPU seconds, peak RSS in MiB."""

    wall: float
    cpu: float
    max_rss_mib: float
    returncode: int
    output: str


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a build: CI and aicraft's overrides removed, aicraft's cache in
    :data:`CACHE_DIR`, ``extra`` added."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "OPENAI_API_KEY", "OPENAI_BASE_URL", "SOURCE_DATE_EPOCH")
        and not k.startswith("AICRAFT_")
    }
    env["PYTHONHASHSEED"] = "0"
    env["NO_MKDOCS_2_WARNING"] = "1"
    env["AICRAFT_CACHE_DIR"] = str(CACHE_DIR)
    env.update(extra)
    return env


def run_timed(
    args: Sequence[str], cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> Run:
    """Run ``args`` in a fresh process; measure it with ``os.wait4`` (its own rusage only)."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    return Run(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        max_rss_mib=usage.ru_maxrss / 1024,  # kilobytes on Linux
        returncode=proc.returncode,
        output=output,
    )


def checked(run: Run, what: str) -> Run:
    """``run``, or exit with its output when it failed."""
    if run.returncode != 0:
        sys.exit(f"{what} failed (exit {run.returncode}):\n{run.output[-4000:]}")
    return run


def program(name: str) -> list[str]:
    """How to start ``mkdocs`` or ``aicraft``: ``python -m NAME``."""
    return [PYTHON, "-m", name]


def mkdocs_build(config: Path, site_dir: Path, env: Mapping[str, str] | None = None) -> Run:
    """``mkdocs build -q -f CONFIG -d SITE_DIR`` in a fresh process, into an empty folder."""
    shutil.rmtree(site_dir, ignore_errors=True)
    return run_timed(
        [*program("mkdocs"), "build", "-q", "-f", str(config), "-d", str(site_dir)],
        cwd=config.parent,
        env=env or clean_env(),
    )


def aicraft(*args: str, cwd: Path, env: Mapping[str, str] | None = None) -> Run:
    """``aicraft ARGS`` (``python -m aicraft``) in a fresh process."""
    return run_timed([*program("aicraft"), *args], cwd=cwd, env=env or clean_env())


def median(values: Sequence[float]) -> float:
    """The median of ``values``."""
    return statistics.median(values)


def spread(values: Sequence[float]) -> str:
    """``min-max`` of ``values`` in seconds, for the record."""
    return f"{min(values):.2f}-{max(values):.2f}"


# -- synthetic blog ---------------------------------------------------------------------------

_SUBJECTS = (
    "the garden",
    "an old lighthouse",
    "the river",
    "a quiet studio",
    "the orchestra",
    "a city at night",
    "the archive",
    "an autumn field",
    "the harbour",
    "a mountain village",
    "the printing press",
    "a winter market",
    "the observatory",
    "a small bakery",
    "the tide",
    "a painter's notebook",
    "the railway station",
    "a forest path",
    "the choir",
    "a glasshouse",
    "the translator",
    "a pottery wheel",
    "the weather station",
    "a night train",
    "the library",
)
_VERBS = (
    "remembers",
    "collects",
    "answers",
    "carries",
    "rearranges",
    "listens to",
    "outlasts",
    "measures",
    "softens",
    "borrows",
    "illuminates",
    "questions",
    "repairs",
    "follows",
    "translates",
    "gathers",
    "forgets",
    "celebrates",
    "shelters",
    "imitates",
)
_OBJECTS = (
    "the first light of the morning",
    "every unfinished sentence",
    "a handful of cold stars",
    "the rhythm of the season",
    "old letters in a drawer",
    "the colour of wet slate",
    "the patience of its makers",
    "a melody nobody wrote down",
    "the smell of cut grass",
    "the long shadows of December",
    "a map drawn from memory",
    "the noise of the crowd",
    "the grain of the wood",
    "the silence after rain",
    "a promise made in spring",
    "the weight of a good book",
    "the arithmetic of tides",
    "a recipe passed down",
)
_ADVERBS = (
    "slowly",
    "without hurry",
    "every year",
    "against the odds",
    "in its own way",
    "with surprising care",
    "long after dark",
    "before anyone notices",
    "almost by accident",
    "as it always has",
    "for a little while",
    "more than we expect",
)
_OPENERS = (
    "In the end,",
    "Some mornings",
    "Nobody planned it, but",
    "For a long time",
    "Even now,",
    "Every visitor learns that",
    "Historians agree that",
    "On a good day",
    "It turns out that",
    "As the light changes,",
    "When the season turns,",
    "Most of the time",
)
_CATEGORIES = ("Gardens", "Music", "Art", "Science", "Travel", "Craft", "Fiction", "Poetry")
_AUTHORS = ("ada", "basil", "clara", "dev")
_IMAGE_SIZES = ("64x64", "96x64", "64x96", "80x80")


def _sentence(rng: random.Random) -> str:
    parts = [
        rng.choice(_OPENERS) if rng.random() < 0.4 else "",
        rng.choice(_SUBJECTS),
        rng.choice(_VERBS),
        rng.choice(_OBJECTS),
        rng.choice(_ADVERBS) if rng.random() < 0.6 else "",
    ]
    text = " ".join(p for p in parts if p)
    if rng.random() < 0.3:
        text += f", and {rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)}"
    return text[0].upper() + text[1:] + "."


def _paragraph(rng: random.Random, sentences: tuple[int, int] = (3, 6)) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(*sentences)))


def _post(index: int, rng: random.Random) -> str:
    """One post: front matter, a title, prose and 4 directives (one in the excerpt)."""
    day = _dt.date(2020, 1, 1) + _dt.timedelta(days=index)
    subject = rng.choice(_SUBJECTS)
    title = f"Post {index}: notes on {subject}"
    front = {
        "date": day,
        "categories": rng.sample(_CATEGORIES, 2),
        "authors": [rng.choice(_AUTHORS)],
    }
    if index % 5 == 0:
        front["authorship"] = {"level": "PAI", "statement": "Drafted with a chatbot, then edited."}
    temperature = ("0.2", "0.7", "0.9", "1.1")[index % 4]
    size = _IMAGE_SIZES[index % len(_IMAGE_SIZES)]
    parts = [
        "---\n" + yaml.safe_dump(front, sort_keys=False) + "---",
        f"# {title}",
        _paragraph(rng),
        f'```ai-text label="Opening lines {index}" temperature="{temperature}"\n'
        f"Write two sentences that open an essay about {subject} (post {index}).\n```",
        "<!-- more -->",
        _paragraph(rng),
        _paragraph(rng),
        f'```ai-image size="{size}" alt="An illustration for post {index}" '
        f'caption="Illustration {index}"\n'
        f"A small watercolour of {subject} and {rng.choice(_OBJECTS)}, for post {index}.\n```",
        _paragraph(rng),
        '!!! note "A generated aside"\n\n'
        f'    ```ai-text label="Aside {index}"\n'
        f"    Write one sentence about {rng.choice(_OBJECTS)} (post {index}).\n    ```",
        _paragraph(rng),
        f'```ai-text label="Closing {index}" max_tokens="60"\n'
        f"Write a closing paragraph about {subject} and {rng.choice(_OBJECTS)} "
        f"(post {index}).\n```",
        _paragraph(rng, (2, 4)),
    ]
    return "\n\n".join(parts) + "\n"


DIRECTIVES_PER_POST = 4
TEXT_PER_POST = 3
IMAGES_PER_POST = 1


RELAXED = {"relaxed_headers": True}


def site_config(
    use_plugin: bool, plugin: Mapping[str, Any] | None = None, store: str = "generations"
) -> dict[str, Any]:
    """The mkdocs.yml of a synthetic blog; without the plugin, only its line is missing.

    The plain one sets superfences' ``relaxed_headers``: without the plugin's fences,
    superfences refuses a fence whose header has ``key="value"`` options and the directives
    would come out as mangled paragraphs (swallowing the excerpt separator); relaxed, they come
    out as plain code blocks, as GitHub shows them. The plugin's build leaves it off, as aicraft
    asks (its scanner mirrors superfences' defaults); its own fences accept every header.
    """
    plugins: list[Any] = ["search", {"blog": {"blog_dir": "blog", "post_excerpt": "optional"}}]
    if use_plugin:
        settings = {
            "provider": "offline",
            "editorial_responsibility": "The benchmark desk",
            "store": store,
            **(plugin or {}),
        }
        plugins.append({"aicraft": settings})
    return {
        "site_name": "Benchmark Blog",
        "site_url": "https://example.org/bench/",
        "docs_dir": "docs",
        "theme": {"name": "material", "features": ["navigation.indexes"]},
        "plugins": plugins,
        "markdown_extensions": [
            "admonition",
            "attr_list",
            "md_in_html",
            "footnotes",
            {"toc": {"permalink": True}},
            "pymdownx.details",
            "pymdownx.superfences" if use_plugin else {"pymdownx.superfences": RELAXED},
            "pymdownx.highlight",
            "pymdownx.inlinehilite",
        ],
    }


def write_blog(root: Path, posts: int, seed: int = 7) -> None:
    """Write the pages of a blog of ``posts`` posts under ``root/docs`` (no mkdocs.yml)."""
    docs = root / "docs"
    (docs / "blog" / "posts").mkdir(parents=True, exist_ok=True)
    (docs / "index.md").write_text(
        "# Benchmark Blog\n\nA synthetic blog for aicraft's benchmarks. "
        + _paragraph(random.Random(seed))
        + "\n",
        encoding="utf-8",
    )
    (docs / "blog" / "index.md").write_text("# Blog\n", encoding="utf-8")
    authors = {
        "authors": {
            a: {
                "name": a.capitalize() + " Writer",
                "description": "Writer",
                "avatar": "https://example.org/avatar.png",
            }
            for a in _AUTHORS
        }
    }
    (docs / "blog" / ".authors.yml").write_text(yaml.safe_dump(authors), encoding="utf-8")
    for index in range(1, posts + 1):
        rng = random.Random(seed * 1_000_003 + index)
        (docs / "blog" / "posts" / f"post-{index:05d}.md").write_text(
            _post(index, rng), encoding="utf-8"
        )


def write_config(
    root: Path,
    name: str,
    use_plugin: bool,
    plugin: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``root/NAME`` (a mkdocs.yml) and return its path."""
    path = root / name
    path.write_text(yaml.safe_dump(site_config(use_plugin, plugin), sort_keys=False), "utf-8")
    return path


def workdir(keep: Path | None, prefix: str) -> tuple[Path, bool]:
    """``keep`` (created) or a new temporary folder; the flag says whether to delete it."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        return keep.resolve(), False
    return Path(tempfile.mkdtemp(prefix=prefix)), True


def parse_sizes(text: str) -> list[int]:
    """``"100,500,2000"`` as a list of ints."""
    return [int(part) for part in text.split(",") if part.strip()]
