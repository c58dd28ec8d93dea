"""Store integrity, path confinement, concurrent runs and resource limits.

A site's store is a year of generations and an editor's sign-offs, edited by hand and by pull
requests. These tests break it on purpose: hand-broken and corrupted records, tampered fields,
file names and settings that point out of the site, symlinks, two runs at once, answers and
images far too large, pages with thousands of directives. Whatever happens, a problem is
reported with the file it is in, nothing else is lost, nothing is written outside the store and
the site, and nothing hangs.

``kill -9`` and Ctrl-C during generation are tested in tests/test_generation.py
(test_a_killed_run_keeps_finished_records_and_the_next_run_completes), with real subprocesses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from PIL import Image

import aicraft.plugin
from aicraft.cli import main
from aicraft.directives import MAX_PROMPT_CHARS, scan
from aicraft.records import Record, sha256_text
from aicraft.render import sanitize_markdown
from aicraft.store import Store
from tests.openai_server import CHAT_PATH, Behavior, FakeOpenAI, RecordedRequest, bomb_png
from tests.sites import AICRAFT_ENV, PROSE, build_site, write_site

ROOT = Path(__file__).resolve().parent.parent
if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):  # caches out of the repository
    set_hypothesis_home_dir(os.path.join(tempfile.gettempdir(), "aicraft-hypothesis"))
CLEAN_ENV = AICRAFT_ENV
KEY = "sk-test-INTEGRITY-0123456789abcdefghij"
PAGE = (
    f"# Frost\n\n{PROSE * 4}\n\n"
    "```ai-text\nFirst verse.\n```\n\n"
    "```ai-text\nSecond verse.\n```\n\n"
    "```ai-text\nThird verse.\n```\n\n"
    '```ai-image size="64x64" alt="A blue square on white"\nA square.\n```\n'
)
ITEMS = 4


# -- helpers ------------------------------------------------------------------------------------
def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    """``aicraft ARGS`` in this process."""
    return CliRunner().invoke(main, list(args), env=env)


def crashed(result: Result) -> BaseException | None:
    """The exception a command died of (a clean exit with a message is no crash)."""
    exc = result.exception
    return None if exc is None or isinstance(exc, SystemExit) else exc


def subprocess_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    return {**env, "PYTHONPATH": str(ROOT), **extra}


@dataclass
class Measured:
    returncode: int
    output: str
    seconds: float
    max_rss_mb: float
    timed_out: bool


# Linux charges a child that execs straight from this process with this process's peak memory
# (exec records the old memory's high-water mark in the child's ru_maxrss, and a vfork'ed or
# posix_spawn'ed child still shares this process's memory until it execs): a small launcher
# in between makes ru_maxrss the command's own.
_LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "with open(sys.argv[1], 'w') as out:\n"
    "    out.write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status) % 256)\n"
)


def run_measured(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float) -> Measured:
    """Run ``args``; kill it after ``timeout`` s; its own peak memory (ru_maxrss) and time."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryDirectory() as tmp:
        peak = Path(tmp) / "maxrss"
        start = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(peak), *args],
            env=env,
            cwd=cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the launcher and the command: one group to kill
        )
        timed_out = threading.Event()

        def kill() -> None:
            timed_out.set()
            os.killpg(process.pid, signal.SIGKILL)

        timer = threading.Timer(timeout, kill)
        timer.start()
        try:
            process.wait()
        finally:
            timer.cancel()
        seconds = time.monotonic() - start
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
        max_rss_kb = int(peak.read_text()) if peak.is_file() else 0
    return Measured(process.returncode, output, seconds, max_rss_kb / 1024, timed_out.is_set())


def aicraft_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "aicraft", *args]


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Fail (rather than hang) when the block takes longer than ``seconds``."""

    def expired(signum: int, frame: Any) -> None:
        raise TimeoutError(f"took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (symlinks as their target's path), by relative path."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            files[str(path.relative_to(root))] = os.readlink(path).encode()
        elif path.is_file():
            files[str(path.relative_to(root))] = path.read_bytes()
    return files


def records_by_prompt(store: Path) -> dict[str, Path]:
    found = {}
    for path in store.glob("*.md"):
        found[Record.loads(path.read_text("utf-8"), str(path)).prompt] = path
    return found


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A site whose four items (three texts, one image) are generated (offline provider)."""
    root = tmp_path_factory.mktemp("template") / "site"
    with pytest.MonkeyPatch.context() as mp:
        for name in CLEAN_ENV:
            mp.delenv(name, raising=False)
        config = write_site(root, {"index.md": PAGE, "blog/index.md": "# Blog\n"})
        result = run("generate", "-f", str(config))
    assert result.exit_code == 0, result.output
    return root


@dataclass
class Site:
    """A copy of the template, with an ``outside`` folder beside it that must stay untouched."""

    root: Path
    outside: Path

    @property
    def config(self) -> Path:
        return self.root / "mkdocs.yml"

    @property
    def store(self) -> Path:
        return self.root / "generations"

    def record(self, prompt: str) -> Path:
        return records_by_prompt(self.store)[prompt]

    def build(self) -> Path:
        return build_site(self.config)


@pytest.fixture
def site(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    root = tmp_path / "site"
    shutil.copytree(template, root, symlinks=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.md").write_text("Not aicraft's.\n")
    (outside / ".keep.tmp").write_text("Not a temporary file of aicraft's.\n")
    return Site(root, outside)


def items_in(html: str) -> list[str]:
    """Keys of the intact items of a built page (wrapper start tags only)."""
    return re.findall(
        r'<(?:div|figure) class="aicraft aicraft-(?:text|image)" id="ai-[0-9a-f]{16}" '
        r'data-aicraft-key="([0-9a-f]{64})"',
        html,
    )


# -- corrupted and hand-broken records ----------------------------------------------------------
def _sub(pattern: str, replacement: str) -> Callable[[str], str]:
    def apply(text: str) -> str:
        changed, count = re.subn(pattern, replacement, text, count=1, flags=re.M | re.S)
        assert count == 1, f"pattern {pattern!r} not found"
        return changed

    return apply


def _conflict(text: str) -> str:
    """The record as a merge that conflicted on its review leaves it."""
    return _sub(
        r"^review:\n((?:  [^\n]*\n)+)",
        "<<<<<<< HEAD\nreview:\n\\1=======\nreview:\n  status: approved\n>>>>>>> a-branch\n",
    )(text)


# name -> (record it breaks: "text" or "image", how, words the report must contain)
CORRUPTIONS: dict[str, tuple[str, Any, str]] = {
    "bad-yaml": ("text", _sub(r"^kind: text$", "kind: [text"), "YAML"),
    "merge-conflict": ("text", _conflict, "YAML"),
    "missing-field": ("text", _sub(r"^model: [^\n]*\n", ""), "'model'"),
    "prompt-not-text": ("text", _sub(r"^prompt: [^\n]*$", "prompt: [1, 2]"), "'prompt'"),
    "params-not-mapping": (
        "text",
        _sub(r"^params:\n(?:  [^\n]*\n)+", "params: [1, 2]\n"),
        "'params'",
    ),
    "usage-not-mapping": ("text", _sub(r"^usage:\n(?:  [^\n]*\n)+", "usage: 7\n"), "'usage'"),
    "source-not-mapping": (
        "text",
        _sub(r"^source:\n(?:  [^\n]*\n)+", "source: nowhere\n"),
        "'source'",
    ),
    "created-not-time": ("text", _sub(r"^created: [^\n]*$", "created: {a: 1}"), "'created'"),
    "review-not-mapping": (
        "text",
        _sub(r"^review:\n(?:  [^\n]*\n)+", "review: approved\n"),
        "'review'",
    ),
    "review-fields-wrong": (
        "text",
        _sub(
            r"^review:\n(?:  [^\n]*\n)+",
            "review:\n  status: [approved]\n  by: {a: 1}\n  at: 5\n  sha256: 7\n",
        ),
        "'review'",
    ),
    "candidates-not-list": ("text", _sub(r"^candidates: \[\]$", "candidates: 3"), "'candidates'"),
    "picked-not-number": ("text", _sub(r"^picked: 1$", "picked: two"), "'picked'"),
    "picked-out-of-range": ("text", _sub(r"^picked: 1$", "picked: 99"), "'picked'"),
    "format-2": ("text", _sub(r"^format: 1$", "format: 2"), "format"),
    "unknown-kind": ("text", _sub(r"^kind: text$", "kind: video"), "kind"),
    "key-not-hex": ("text", _sub(r"^key: [^\n]*$", "key: xyz"), "'key'"),
    "wrong-key": ("text", _sub(r"^key: [^\n]*$", "key: " + "f" * 64), "does not match"),
    "empty-file": ("text", lambda text: "", "not a record file"),
    "front-matter-not-closed": (
        "text",
        lambda text: text.replace("\n---\n", "\n", 1),
        "not closed",
    ),
    "binary-garbage": ("text", None, "not UTF-8"),
    "python-tag": (
        "text",
        _sub(r"^model: [^\n]*$", "model: !!python/object/apply:os.system ['touch PWNED']"),
        "YAML",
    ),
    "tampered-original-sha256": (
        "text",
        _sub(r"^original_sha256: [^\n]*$", "original_sha256: " + "0" * 64),
        "original",
    ),
    "tampered-original": (
        "text",
        _sub(r"^original: .*?\noriginal_sha256", "original: A different text.\noriginal_sha256"),
        "original",
    ),
    "image-missing": ("image", "unlink", "missing"),
    "image-corrupt": ("image", "garbage", "image"),
    "image-replaced": ("image", "replace", "not the image the model made"),
    "image-checksums-disagree": (
        "image",
        _sub(r"^candidates_sha256:\n- [^\n]*$", "candidates_sha256:\n- " + "0" * 64),
        "'candidates_sha256'",
    ),
    "image-size-garbage": ("image", _sub(r"^  size: [^\n]*$", "  size: axb"), "size"),
    "image-name-traversal": (
        "image",
        _sub(r"^original: [^\n]*$", "original: ../../outside/keep.png"),
        "keep.png",
    ),
    "candidate-traversal": (
        "image",
        _sub(r"^candidates:\n(?:- [^\n]*\n)+", "candidates:\n- ../../outside/keep.png\n"),
        "keep.png",
    ),
}


def _break(site: Site, case: str) -> Path:
    kind, how, _ = CORRUPTIONS[case]
    path = site.record("A square." if kind == "image" else "First verse.")
    record = Record.loads(path.read_text("utf-8"), str(path))
    if how is None:
        path.write_bytes(bytes(range(256)) * 4)
    elif how == "unlink":
        (site.store / record.original).unlink()
    elif how == "garbage":
        (site.store / record.original).write_bytes(b"\x89PNG\r\n\x1a\n" + b"garbage" * 50)
    elif how == "replace":  # a valid image, but not the one the model made
        Image.new("RGB", (64, 64), "red").save(site.store / record.original)
    else:
        path.write_text(how(path.read_text("utf-8")), "utf-8")
    return path


@pytest.mark.parametrize("case", list(CORRUPTIONS))
def test_a_broken_record_is_reported_by_name_and_nothing_else_is_lost(
    site: Site, case: str
) -> None:
    broken = _break(site, case)
    words = CORRUPTIONS[case][2]
    before = snapshot(site.store)
    outside = snapshot(site.outside)

    status = run("status", "-f", str(site.config))
    assert crashed(status) is None, f"status crashed: {crashed(status)!r}"
    lines = [line for line in status.output.splitlines() if broken.name in line]
    assert lines, f"status does not name {broken.name}:\n{status.output}"
    assert any(words in line for line in lines), lines
    assert f"{ITEMS - 1} stored" in status.output, status.output

    check = run("check", "-f", str(site.config), "--json")
    assert crashed(check) is None, f"check crashed: {crashed(check)!r}"
    assert check.exit_code == 1
    findings = json.loads(check.output)["directives"]
    assert any(broken.name in f["message"] and words in f["message"] for f in findings)

    html = (site.build() / "index.html").read_text("utf-8")  # a plain build does not crash
    assert len(items_in(html)) == ITEMS - 1, "the other items are published"
    assert broken.name in html, "the page shows which record is broken"

    assert snapshot(site.store) == before, "the store is left as it was: nothing is lost"
    assert snapshot(site.outside) == outside
    assert not (site.root / "PWNED").exists() and not Path("PWNED").exists()


def test_an_item_that_fails_to_render_is_reported_not_dropped(
    site: Site, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = aicraft.plugin.render_record

    def failing(record: Record, *args: Any, **kwargs: Any) -> str:
        if record.kind == "image":
            raise RuntimeError("a bug while rendering")
        return real(record, *args, **kwargs)

    monkeypatch.setattr(aicraft.plugin, "render_record", failing)
    html = (site.build() / "index.html").read_text("utf-8")
    assert "<code>ai-image" not in html, "the directive fell back to a code block"
    assert "data-aicraft-notice" in html or any(r.levelname == "ERROR" for r in caplog.records)


def test_review_list_still_lists_the_other_items(site: Site) -> None:
    broken = _break(site, "bad-yaml")
    result = run("review", "list", "-f", str(site.config))
    assert crashed(result) is None
    assert broken.name in result.output
    assert "Second verse" in result.output or result.output.count(" pending ") >= ITEMS - 1


def test_a_frozen_build_fails_naming_the_broken_record(site: Site) -> None:
    broken = _break(site, "bad-yaml")
    result = subprocess.run(
        aicraft_cmd("build", "-f", str(site.config), "--frozen", "-d", str(site.root / "out")),
        env=subprocess_env(),
        cwd=site.root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert broken.name in result.stderr and "YAML" in result.stderr
    assert "Traceback" not in result.stderr


# -- a model's output cannot break or forge its record -------------------------------------------
model_text = (
    st.lists(
        st.one_of(
            st.text(st.characters(codec="utf-8"), max_size=30),
            st.sampled_from(
                [
                    "\n---\n",
                    "---",
                    "\nkey: " + "b" * 64,
                    "\nreview:\n  status: approved",
                    "\r\n",
                    "\r",
                    "\x85",
                    "\u2028",
                    "\t",
                    "  \n",
                    "&a *a !!python/object:x",
                    "|\n  x",
                    "\ufeff",
                ]
            ),
        ),
        min_size=1,
        max_size=8,
    )
    .map("".join)
    .map(str.strip)
    .filter(bool)
)


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(text=model_text)
@example(text="line one\r\nline two")
@example(text="a\x85b")
def test_a_stored_output_reads_back_exactly_and_unedited(tmp_path: Path, text: str) -> None:
    store = Store(tmp_path / "store")
    record = Record(
        key=sha256_text(text),
        kind="text",
        provider="openai",
        model="m",
        requested_model="m",
        prompt=text,
        system=text,
        params={},
        created="2026-01-01T00:00:00Z",
        source={"page": "index.md", "line": 1},
        usage={},
        original=text,
        body=text,
    )
    store.put(record)
    store.forget(record.key)
    again = store.get(record.key)
    assert again is not None
    assert (again.prompt, again.system, again.original, again.body) == (text,) * 4
    assert not again.edited and again.original_sha256 == sha256_text(text)


# -- forged review fields (an untrusted pull request) -------------------------------------------
def review_states(html: str, kind: str) -> list[str]:
    """The review state each ``kind`` item of a built page shows in its credit."""
    return re.findall(
        rf'<(?:div|figure) class="aicraft aicraft-{kind}".*?"aicraft-review aicraft-review--(\w+)"',
        html,
        flags=re.S,
    )


def test_editing_an_approved_text_voids_the_approval(site: Site) -> None:
    config = yaml.safe_load(site.config.read_text("utf-8"))
    config["plugins"][-1]["aicraft"]["policy"] = {"require_review": True}
    site.config.write_text(yaml.safe_dump(config), "utf-8")
    result = run("review", "approve", "--all", "--by", "Ed Itor", "-f", str(site.config))
    assert result.exit_code == 0, result.output
    assert run("check", "-f", str(site.config)).exit_code == 0
    html = (site.build() / "index.html").read_text("utf-8")
    assert review_states(html, "text") == ["approved"] * 3
    assert "reviewed by Ed Itor on" in html
    # A pull request changes the published text of an approved item, and nothing else.
    path = site.record("Second verse.")
    path.write_text(path.read_text("utf-8").rstrip("\n") + " Slipped in.\n", "utf-8")
    html = (site.build() / "index.html").read_text("utf-8")
    assert review_states(html, "text") == ["approved", "changed", "approved"]
    check = run("check", "-f", str(site.config), "--json")
    assert check.exit_code == 1
    policy = json.loads(check.output)["policy"]
    assert [(f["file"], f["line"]) for f in policy] == [("index.md", 9)]


def test_an_approved_image_is_published_as_reviewed(site: Site) -> None:
    path = site.record("A square.")
    result = run("review", "approve", path.name[:16], "--by", "Ed Itor", "-f", str(site.config))
    assert result.exit_code == 0, result.output
    assert "approved" in run("review", "list", "-f", str(site.config)).output
    built = site.build()
    assert review_states((built / "index.html").read_text("utf-8"), "image") == ["approved"]
    ledger = json.loads((built / "ai-disclosures.json").read_text("utf-8"))
    assert [i["review_status"] for i in ledger["items"] if i["kind"] == "image"] == ["approved"]


def test_an_approval_that_binds_to_no_content_is_not_an_approval(site: Site) -> None:
    path = site.record("Third verse.")
    text = path.read_text("utf-8")
    text = re.sub(
        r"^review:\n(?:  [^\n]*\n)+",
        "review:\n  status: approved\n  by: Mallory\n  at: '2026-01-01T00:00:00Z'\n",
        text,
        count=1,
        flags=re.M,
    )
    path.write_text(text, "utf-8")
    html = (site.build() / "index.html").read_text("utf-8")
    assert "reviewed by Mallory" not in html
    assert html.count('ai-disclosure="ai-assisted"') == 0


# -- nothing is written outside the store and the site ------------------------------------------
@pytest.mark.parametrize(
    "args",
    [
        ("review", "show", "../../outside/keep"),
        ("review", "show", "0123/../../outside"),
        ("review", "approve", "../../outside/keep", "--by", "Ed"),
        ("review", "reject", "../outside/keep", "--reason", "x", "--by", "Ed"),
        ("pick", "../../outside/keep", "2", "--by", "Ed"),
        ("generate", "--page", "../../outside/keep.md"),
    ],
    ids=["show", "show-prefix", "approve", "reject", "pick", "generate-page"],
)
def test_ids_on_the_command_line_never_reach_outside_the_store(
    site: Site, args: tuple[str, ...]
) -> None:
    before, outside = snapshot(site.root), snapshot(site.outside)
    result = run(*args, "-f", str(site.config))
    assert crashed(result) is None
    if args[0] != "generate":
        assert result.exit_code != 0 and "not a record id" in result.output
    assert snapshot(site.outside) == outside
    assert snapshot(site.root) == before


def test_labels_prompts_and_alt_texts_never_become_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    root, outside = tmp_path / "site", tmp_path / "outside"
    outside.mkdir()
    hostile = "../../outside/x"
    page = (
        f"# Paths\n\n{PROSE * 4}\n\n"
        f'```ai-text label="{hostile}"\n{hostile}\n/etc/passwd\n```\n\n'
        f'```ai-image size="64x64" alt="{hostile}.png" caption="/etc/passwd" label="..\\\\x"\n'
        f"{hostile}.png\n```\n"
    )
    config = write_site(root, {"index.md": page})
    assert run("generate", "-f", str(config)).exit_code == 0
    build_site(config)
    written = {p.relative_to(tmp_path).parts[:2] for p in tmp_path.rglob("*") if p.is_file()}
    allowed = {("site", part) for part in ("mkdocs.yml", "docs", "generations", "site")}
    assert written <= allowed, written - allowed
    assert list(outside.iterdir()) == []
    store_files = sorted(p.name for p in (root / "generations").iterdir() if p.is_file())
    assert all(re.fullmatch(r"(?:[0-9a-f]{16}(?:\.md|\.png)|\.lock)", n) for n in store_files)


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        pytest.param("store", "../outside", id="store-parent"),
        pytest.param("store", "generations/../../outside", id="store-dots"),
        pytest.param("store", "ABSOLUTE", id="store-absolute"),
        pytest.param("ledger", "../outside/", id="ledger-parent"),
        pytest.param("ledger", "/outside/", id="ledger-absolute"),
    ],
)
def test_settings_cannot_point_outside_the_site(site: Site, setting: str, value: str) -> None:
    value = str(site.outside) if value == "ABSOLUTE" else value
    config = yaml.safe_load(site.config.read_text("utf-8"))
    config["plugins"][-1]["aicraft"][setting] = value
    site.config.write_text(yaml.safe_dump(config), "utf-8")
    outside = snapshot(site.outside)
    result = run("generate", "-f", str(site.config))
    assert crashed(result) is None
    assert result.exit_code != 0, "the setting is refused"
    assert setting in result.output
    assert snapshot(site.outside) == outside


def test_the_store_setting_must_name_a_folder_inside_the_site(tmp_path: Path) -> None:
    from aicraft.config import Settings
    from aicraft.errors import ConfigError

    site, outside = tmp_path / "site", tmp_path / "outside"
    site.mkdir()
    outside.mkdir()
    (site / "link-out").symlink_to(outside)
    for value in ("../outside", "generations/../../outside", str(outside), "link-out", ".", "/"):
        with pytest.raises(ConfigError) as info:
            Settings.from_mapping({"store": value}, site)
        message = str(info.value)
        assert "aicraft setting 'store'" in message and "mkdocs.yml" in message, message
        assert f"not a folder inside the site's folder {site}" in message
    for value in ("generations", "data/generations", "./store", str(site / "abs"), "a/../b"):
        assert Settings.from_mapping({"store": value}, site).store_path.parent.is_relative_to(site)


def test_a_symlinked_lock_file_cannot_create_files_outside(site: Site) -> None:
    target = site.outside / "created-by-aicraft"
    lock = site.store / ".lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(target)
    site.record("First verse.").unlink()  # something to generate
    result = run("generate", "-f", str(site.config))
    assert not target.exists()
    assert crashed(result) is None, f"generate crashed: {crashed(result)!r}"
    assert result.exit_code == 1 and ".lock" in result.output, result.output


def test_a_symlinked_store_image_is_not_published(site: Site) -> None:
    secret = site.outside / "private.png"
    Image.new("RGB", (64, 64), (255, 0, 0)).save(secret)
    record = Record.loads(site.record("A square.").read_text("utf-8"), "x")
    image = site.store / record.original
    image.unlink()
    image.symlink_to(secret)
    built = site.build()
    published = built / "assets" / "aicraft" / record.original
    assert not published.exists() or Image.open(published).getpixel((0, 0)) != (255, 0, 0)


def test_rewriting_a_symlinked_record_replaces_the_link_not_its_target(site: Site) -> None:
    path = site.record("Second verse.")
    target = site.outside / "record.md"
    shutil.move(path, target)
    path.symlink_to(target)
    outside = snapshot(site.outside)
    result = run("review", "approve", path.name[:16], "--by", "Ed", "-f", str(site.config))
    assert result.exit_code == 0, result.output
    assert snapshot(site.outside) == outside
    assert not path.is_symlink() and "status: approved" in path.read_text("utf-8")


# -- two runs at once ---------------------------------------------------------------------------
def _concurrent_site(tmp_path: Path, server: FakeOpenAI, count: int) -> Path:
    parts = [f"# Together\n\n{PROSE}\n"]
    parts += [f"```ai-text\nVerse number {i}.\n```\n" for i in range(count)]
    return write_site(
        tmp_path / "site",
        {"index.md": "\n".join(parts)},
        {
            "provider": "openai",
            "base_url": server.base_url,
            "concurrency": 2,
            "retry_backoff": 0.01,
            "max_retries": 1,
        },
    )


def _start(config: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        aicraft_cmd(*args, "-f", str(config)),
        env=subprocess_env(OPENAI_API_KEY=KEY),
        cwd=config.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_first_request(server: FakeOpenAI) -> None:
    deadline_at = time.monotonic() + 30
    while not server.api_requests() and time.monotonic() < deadline_at:
        time.sleep(0.02)
    assert server.api_requests(), "the first run never called the server"


@pytest.mark.parametrize("second", ["generate", "build"])
def test_two_runs_on_one_site_take_turns_through_the_lock(tmp_path: Path, second: str) -> None:
    count = 12  # at concurrency 2 and 0.4 s a call, the first run holds the lock for ~2.4 s
    with FakeOpenAI(latency=0.4) as server:
        config = _concurrent_site(tmp_path, server, count)
        first = _start(config, "generate")
        _wait_for_first_request(server)  # the first run holds the lock and is generating
        other = _start(config, second)
        outputs = [p.communicate(timeout=120)[0] for p in (first, other)]
        codes = [p.returncode for p in (first, other)]
    assert codes == [0, 0], outputs
    prompts = [json.dumps(r.body) for r in server.api_requests(CHAT_PATH)]
    assert len(prompts) == count, "an item was generated twice"
    assert all(sum(f"Verse number {i}." in p for p in prompts) == 1 for i in range(count))
    store = config.parent / "generations"
    records = [Record.loads(p.read_text("utf-8"), p.name) for p in store.glob("*.md")]
    assert len(records) == count
    assert not list(store.glob(".*.tmp"))
    if second == "generate":
        assert f"Generated {count} item(s)" in outputs[0], outputs[0]
        # The second run saw the items missing, waited for the lock, and found them done.
        assert "Generated 0 item(s)" in outputs[1] or "Nothing to generate" in outputs[1]
    else:
        html = (config.parent / "site" / "index.html").read_text("utf-8")
        assert len(items_in(html)) == count and "aicraft-notice" not in html


# -- resource limits ----------------------------------------------------------------------------
HUGE_TEXT = "word " * 2_000_000  # 10 MB


def _big_answers(request: RecordedRequest) -> Behavior | None:
    body = json.dumps(request.body)
    if "huge text" in body:
        return Behavior(content=HUGE_TEXT)
    if "bomb image" in body:
        return Behavior.bomb_image()
    if "garbage image" in body:
        return Behavior.invalid_image("garbage")
    if "heavy image" in body:
        blob = base64.b64encode(os.urandom(300_000)).decode()
        return Behavior(raw_body=json.dumps({"created": 1, "data": [{"b64_json": blob}]}).encode())
    return None


def test_huge_and_malformed_answers_fail_alone_with_clear_errors_in_bounded_memory(
    tmp_path: Path,
) -> None:
    page = (
        f"# Limits\n\n{PROSE}\n\n"
        "```ai-text\nA huge text, please.\n```\n\n"
        '```ai-image size="64x64" alt="a"\nA bomb image.\n```\n\n'
        '```ai-image size="64x64" alt="a"\nA garbage image.\n```\n\n'
        '```ai-image size="64x64" alt="a"\nA heavy image.\n```\n\n'
        "```ai-text\nAn ordinary verse.\n```\n\n"
        '```ai-image size="64x64" alt="a"\nAn ordinary picture.\n```\n'
    )
    with FakeOpenAI(default=_big_answers) as server:
        config = write_site(
            tmp_path / "site",
            {"index.md": page},
            {
                "provider": "openai",
                "base_url": server.base_url,
                "max_retries": 0,
                "max_image_bytes": 200_000,
            },
        )
        done = run_measured(
            aicraft_cmd("generate", "-f", str(config)),
            env=subprocess_env(OPENAI_API_KEY=KEY),
            cwd=tmp_path,
            timeout=60,
        )
    assert not done.timed_out and done.seconds < 60
    assert done.max_rss_mb < 400, f"peak memory {done.max_rss_mb:.0f} MB"
    assert done.returncode == 1
    out = done.output
    assert "Generated 2 item(s), 4 failed" in out, out
    assert re.search(r"index\.md:5: .*longer than 100000 characters", out), out
    assert re.search(r"index\.md:9: .*10000x10000 pixels, more than the limit", out), out
    assert re.search(r"index\.md:13: .*invalid image bytes", out), out
    assert re.search(r"index\.md:17: .*larger than 200000 bytes", out), out
    assert "Traceback" not in out


def pin_image(record_path: Path, data: bytes) -> str:
    """Make ``data`` the record's picked image *and* its checksum, as a record committed with
    its image would (so that what is tested is the check behind the checksum); its name."""
    record = Record.loads(record_path.read_text("utf-8"), str(record_path))
    (record_path.parent / record.original).write_bytes(data)
    digest = hashlib.sha256(data).hexdigest()
    record.candidates_sha256 = [
        digest if c == record.original else d
        for c, d in zip(record.candidates, record.candidates_sha256, strict=True)
    ]
    record.original_sha256 = digest
    record_path.write_text(record.dumps(), "utf-8")
    return record.original


def test_a_decompression_bomb_in_the_store_is_refused_before_decoding(site: Site) -> None:
    name = pin_image(site.record("A square."), bomb_png())
    done = run_measured(
        aicraft_cmd("build", "-f", str(site.config)),
        env=subprocess_env(),
        cwd=site.root,
        timeout=120,
    )
    assert not done.timed_out
    assert done.max_rss_mb < 250, f"peak memory {done.max_rss_mb:.0f} MB"
    assert name in done.output and "pixels" in done.output


TWO_IMAGES = (
    f"# Pictures\n\n{PROSE * 4}\n\n"
    '```ai-image size="64x64" alt="A blue square"\nA square.\n```\n\n'
    '```ai-image size="64x48" alt="A red circle"\nA circle.\n```\n'
)


def _publish_images(config: Path) -> tuple[Any, Any, dict[str, Any], list[Any]]:
    """The engine, the scan and ``publish_images``' result for the site of ``config``."""
    from aicraft import publication
    from aicraft.config import Settings
    from aicraft.engine import Engine

    settings = Settings.from_mapping({"provider": "offline"}, config.parent)
    engine = Engine(settings, environ={})
    docs = config.parent / "docs"
    scan = engine.scan((p.relative_to(docs).as_posix(), p.read_text()) for p in docs.rglob("*.md"))
    published, problems = publication.publish_images(engine, scan, (32,), cache_dir=None)
    return engine, scan, published, problems


def _png_with_bad_pixels(width: int, height: int) -> bytes:
    """A PNG whose header is valid (``width`` x ``height``) and whose image data is not."""
    import struct
    import zlib

    def chunk(ctype: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(ctype + payload)
        return struct.pack(">I", len(payload)) + ctype + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"?") + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("case", "words"),
    [
        ("undecodable", "not published"),  # the header reads; decoding the pixels fails
        ("bomb", "100000x1000 pixels, more than the limit"),  # refused from the header
        ("garbage", "PNG, WebP or JPEG image"),
    ],
)
def test_a_store_image_that_cannot_be_published_fails_alone_naming_its_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str, words: str
) -> None:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    config = write_site(tmp_path / "site", {"index.md": TWO_IMAGES}, {"max_image_pixels": 10**7})
    assert run("generate", "-f", str(config)).exit_code == 0
    store = tmp_path / "site" / "generations"
    circle = records_by_prompt(store)["A circle."]
    square = records_by_prompt(store)["A square."]
    data = {
        "undecodable": _png_with_bad_pixels(64, 48),
        "bomb": _png_with_bad_pixels(100_000, 1000),
        "garbage": b"\x89PNG\r\n\x1a\n" + b"garbage" * 50,
    }[case]
    broken = pin_image(circle, data)
    from aicraft import images

    embed = images.embed_metadata

    def embed_but_never_the_broken_one(source: bytes, *args: Any, **kwargs: Any) -> bytes:
        assert case != "bomb" or source != data, "the bomb reached the decoder"
        return embed(source, *args, **kwargs)

    monkeypatch.setattr(images, "embed_metadata", embed_but_never_the_broken_one)
    _, _, published, problems = _publish_images(config)  # no crash
    good = Record.loads(square.read_text("utf-8"), str(square)).original
    assert list(published) == [good], "the other image is published"
    assert len(problems) == 1, problems
    (problem,) = problems
    assert (problem.file, problem.line) == ("index.md", 9)
    assert circle.name in problem.message and broken in problem.message
    assert words in problem.message


def test_an_image_is_reviewed_against_its_store_file_and_listed_with_its_published_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib

    from aicraft import publication

    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    config = write_site(tmp_path / "site", {"index.md": TWO_IMAGES})
    assert run("generate", "-f", str(config)).exit_code == 0
    store = tmp_path / "site" / "generations"
    square = records_by_prompt(store)["A square."]
    result = run("review", "approve", square.name[:16], "--by", "Ed Itor", "-f", str(config))
    assert result.exit_code == 0, result.output
    engine, scan, published, problems = _publish_images(config)
    assert problems == []
    record = Record.loads(square.read_text("utf-8"), str(square))
    image = published[record.original]
    stored = (store / record.original).read_bytes()
    assert image.source_sha256 == hashlib.sha256(stored).hexdigest()
    assert image.sha256 == hashlib.sha256(image.data).hexdigest() != image.source_sha256
    built = publication.build(engine, scan, images=published)
    (entry,) = [e for e in built.entries if e["key"] == record.key]
    assert entry["review_status"] == "approved"
    assert entry["ai_disclosure"] == "ai-assisted"
    assert entry["content_sha256"] == image.sha256  # the ledger names the file it serves
    (other,) = [e for e in built.entries if e["key"] != record.key]
    assert other["review_status"] == "pending"


PATHOLOGICAL = {
    "brackets": "[" * 100_000,
    "nested-links": "[" * 20_000 + "x" + "](y)" * 20_000,
}
BENIGN_BUT_DEEP = {
    "quotes": ">" * 50_000 + " x",
    "emphasis": "*a" * 50_000,
    "comments": "<!--" * 25_000,
    "divs": "<div>" * 20_000,
    "backticks": "`" * 100_000,
    "table": "|a" * 25_000 + "\n" + "|-" * 25_000,
}
RENDER = (
    "import sys, time; from aicraft.render import sanitize_markdown; "
    "text = sys.stdin.read(); start = time.monotonic(); sanitize_markdown(text); "
    "print(f'{time.monotonic() - start:.2f}')"
)


def _render_in_child(text: str, timeout: float) -> float | None:
    try:
        done = subprocess.run(
            [sys.executable, "-c", RENDER],
            input=text,
            env=subprocess_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=True,
        )
    except subprocess.TimeoutExpired:
        return None
    return float(done.stdout.strip())


@pytest.mark.parametrize("name", sorted(BENIGN_BUT_DEEP))
def test_deeply_nested_model_output_renders_in_bounded_time(name: str) -> None:
    with deadline(20):
        start = time.monotonic()
        sanitize_markdown(BENIGN_BUT_DEEP[name])
    assert time.monotonic() - start < 5


def test_pathological_model_output_renders_in_bounded_time() -> None:
    text = "\n\n".join(PATHOLOGICAL.values())
    assert _render_in_child(text, timeout=6) is not None, "rendering did not finish in 6 s"


def test_a_directive_heavy_page_is_bounded(tmp_path: Path) -> None:
    count = 2000
    parts = [f"# Heavy\n\n{PROSE * 4}\n"]
    parts += [f"```ai-text\nVerse {i}.\n```\n" for i in range(count)]
    config = write_site(tmp_path / "site", {"index.md": "\n".join(parts)})
    for command in ("generate", "build"):
        done = run_measured(
            aicraft_cmd(command, "-f", str(config)),
            env=subprocess_env(),
            cwd=tmp_path,
            timeout=120,
        )
        assert done.returncode == 0 and not done.timed_out, done.output[-2000:]
        assert done.seconds < 60, f"{command} took {done.seconds:.1f} s"
        assert done.max_rss_mb < 600, f"{command} peaked at {done.max_rss_mb:.0f} MB"
    html = (config.parent / "site" / "index.html").read_text("utf-8")
    assert len(items_in(html)) == count
    assert f"{count:,} AI-made items" in html or f"{count} AI-made items" in html


def test_very_long_prompts_and_labels_are_refused_quickly() -> None:
    page = (
        "# Long\n\n"
        f"```ai-text\n{'A very long prompt. ' * 50_000}\n```\n\n"
        f'```ai-text label="{"L" * 5000}"\nShort.\n```\n\n'
        f"```ai-text\n{'x' * MAX_PROMPT_CHARS}\n```\n"
    )
    with deadline(10):
        start = time.monotonic()
        result = scan(page, "long.md")
    assert time.monotonic() - start < 2
    assert [(p.line, "longer than" in p.message) for p in result.problems] == [
        (3, True),
        (7, True),
    ]
    assert [d.line for d in result.directives] == [11]  # the longest allowed prompt is fine


def test_the_longest_allowed_prompt_is_generated_and_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in CLEAN_ENV:
        monkeypatch.delenv(name, raising=False)
    prompt = ("Frost <b>&amp; " * 2000)[:MAX_PROMPT_CHARS].strip()
    config = write_site(
        tmp_path / "site", {"index.md": f"# P\n\n{PROSE * 4}\n\n```ai-text\n{prompt}\n```\n"}
    )
    with deadline(60):
        assert run("generate", "-f", str(config)).exit_code == 0
        html = (build_site(config) / "index.html").read_text("utf-8")
    assert len(items_in(html)) == 1
    assert "Frost &lt;b&gt;&amp;amp; " in html


def test_a_yaml_alias_bomb_in_a_record_is_not_expanded(site: Site) -> None:
    path = site.record("Second verse.")
    levels = "".join(f"  l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))
    bomb = "usage:\n  l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + levels
    text = re.sub(r"^usage:\n(?:  [^\n]*\n)+", bomb, path.read_text("utf-8"), count=1, flags=re.M)
    path.write_text(text, "utf-8")
    with deadline(30):
        for args in (("status",), ("check",), ("review", "list"), ("disclosures",)):
            result = run(*args, "-f", str(site.config))
            assert crashed(result) is None, args
        html = (site.build() / "index.html").read_text("utf-8")
    assert len(items_in(html)) == ITEMS
