"""Whole-site generation against a local OpenAI-compatible server, through the real client.

The server (tests/openai_server.py) listens on 127.0.0.1; the `aicraft` CLI and the MkDocs
build talk to it with the official `openai` package, exactly as they would talk to OpenAI,
Ollama or vLLM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from aicraft.cli import main
from aicraft.providers.base import ASSUMED_MAX_OUTPUT_TOKENS
from aicraft.records import Record
from tests.openai_server import Behavior, FakeOpenAI, RecordedRequest
from tests.sites import PROSE, build_site

SECRET = "sk-test-SECRET-0123456789abcdefghijklmnop"
FAST_RETRIES = {"retry_backoff": 0.01, "retry_backoff_max": 0.05, "max_retries": 2, "timeout": 5}


def _page(number: int, texts: int, images: int) -> str:
    parts = [f"# Page {number}\n\n{PROSE}\n"]
    for i in range(texts):
        parts.append(
            f'```ai-text temperature="0.5"\nText {i} of page {number}: a short verse.\n```\n'
        )
    for i in range(images):
        parts.append(
            f'```ai-image size="1024x1024" quality="low" alt="Picture {i}"\n'
            f"Picture {i} of page {number}: a calm sea.\n```\n"
        )
    return "\n".join(parts)


def _site(site_factory, server: FakeOpenAI, pages: int = 4, **plugin: object) -> Path:
    content = {f"page{n}.md": _page(n, texts=7, images=3) for n in range(pages)}
    content["blog/index.md"] = "# Blog\n"
    settings = {
        "provider": "openai",
        "base_url": server.base_url,
        "concurrency": 8,
        **FAST_RETRIES,
        **plugin,
    }
    return site_factory(content, settings)


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(latency=0.05) as fake:
        yield fake


@pytest.fixture
def key_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    return SECRET


def _records(config: Path) -> list[Record]:
    store = config.parent / "generations"
    return [Record.loads(p.read_text(), str(p)) for p in sorted(store.glob("*.md"))]


def _generate(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["generate", "-f", str(config), *args])
    return result.exit_code, result.output + (str(result.exception) if result.exception else "")


def test_forty_directives_generate_in_parallel_with_exact_models_and_costs(
    site_factory, server, key_env
) -> None:
    config = _site(site_factory, server)
    code, output = _generate(config)
    assert code == 0, output
    assert "Generated 40 item(s), 0 failed" in output
    assert server.max_in_flight > 1, "requests were not made in parallel"
    assert len(server.api_requests()) == 40
    records = _records(config)
    assert len(records) == 40
    texts = [r for r in records if r.kind == "text"]
    assert {r.model for r in texts} == {"gpt-4o-mini-2024-07-18"}
    assert {r.requested_model for r in texts} == {"gpt-4o-mini"}
    assert all(r.usage["input_tokens"] and r.usage["cost_usd"] > 0 for r in texts)
    assert all(r.source_type == "trainedAlgorithmicMedia" for r in records)
    assert len(list((config.parent / "generations").glob("*.png"))) == 12
    # The built page credits the exact model the server reported.
    html = (build_site(config) / "page0" / "index.html").read_text()
    assert html.count(' ai-model="gpt-4o-mini-2024-07-18"') == 7
    assert "AI-generated text" in html


def test_dry_run_estimates_and_calls_nothing(site_factory, server, key_env) -> None:
    config = _site(site_factory, server)
    code, output = _generate(config, "--dry-run")
    assert code == 0, output
    assert "40 item(s) would be generated; estimated cost up to $" in output
    assert "page0.md:5  ai-text  openai/gpt-4o-mini" in output
    assert server.api_requests() == []
    assert _records(config) == []


def test_budget_stops_new_calls_and_reports_what_was_left(site_factory, server, key_env) -> None:
    config = _site(site_factory, server, concurrency=2)
    code, output = _generate(config, "--budget", "0.02")
    assert code != 0
    records = _records(config)
    assert 0 < len(records) < 40
    spent = sum(r.usage["cost_usd"] or 0 for r in records)
    assert spent <= 0.02
    assert "would pass the budget of $0.02" in output
    left = output.split("Not generated:")[1]
    assert left.count("not started") == 40 - len(records)
    # A later run with more money finishes the job, and never redoes what is stored.
    before = len(server.api_requests())
    code, output = _generate(config, "--budget", "100")
    assert code == 0, output
    assert len(_records(config)) == 40
    assert len(server.api_requests()) - before == 40 - len(records)


def test_unknown_prices_never_spend_under_a_budget(site_factory, server, key_env) -> None:
    config = _site(site_factory, server, pages=1, model="my-local-model", budget_usd=5.0)
    code, output = _generate(config)
    assert code != 0
    assert "cost of model 'my-local-model' is unknown" in output
    assert server.api_requests("/v1/chat/completions") == []


def _faulty(request: RecordedRequest) -> Behavior | None:
    text = str(request.body)
    if "Text 1 of page 0" in text:
        return Behavior.server_error(500)
    if "Text 2 of page 0" in text:
        return Behavior.content_filter()
    if "Text 3 of page 0" in text:
        return Behavior.refused()
    if "Text 4 of page 0" in text:
        return Behavior.empty_output()
    if "Picture 0 of page 0" in text:
        return Behavior.invalid_image()
    if "Text 5 of page 0" in text:
        return Behavior.auth_error()
    return None


def test_faults_fail_alone_located_and_nothing_finished_is_lost(
    site_factory, server, key_env
) -> None:
    config = _site(site_factory, server, pages=2)
    # Transient trouble first (retried), then permanent faults for some directives.
    server.script(Behavior.rate_limited(retry_after=0.01), Behavior.server_error(503))
    server.default = _faulty
    code, output = _generate(config)
    assert code != 0
    assert "Generated 14 item(s), 6 failed" in output
    for line in (9, 13, 17, 21, 25, 33):  # each failed directive's page:line is named
        assert f"page0.md:{line}" in output, output
    assert "after 3 attempts" in output  # 500s exhausted the retries
    assert "content filter" in output.lower()
    assert "authentication failed" in output.lower()
    assert SECRET not in output
    records = _records(config)
    assert len(records) == 14
    assert not any("page 0" in r.prompt and "Text 1 " in r.prompt for r in records)
    # The next run, with the server healthy again, completes only what is missing.
    server.default = None
    before = len(server.api_requests())
    code, output = _generate(config)
    assert code == 0, output
    assert len(_records(config)) == 20
    assert len(server.api_requests()) - before == 6


def test_the_key_appears_nowhere_even_when_the_server_echoes_it(
    site_factory, server, key_env, caplog
) -> None:
    config = _site(site_factory, server, pages=1)
    server.default = lambda r: Behavior.echo_authorization() if "Text 0 " in str(r.body) else None
    code, output = _generate(config)
    assert code != 0  # the echoed key is refused, not published
    assert SECRET not in output
    site = build_site(config)
    for path in [*config.parent.joinpath("generations").iterdir(), *site.rglob("*")]:
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert all(SECRET not in r.getMessage() for r in caplog.records)
    assert all(r.header("authorization") == f"Bearer {SECRET}" for r in server.api_requests()), (
        "the key must still reach the server"
    )


def test_frozen_build_never_calls_the_provider(site_factory, server, key_env) -> None:
    config = _site(site_factory, server, pages=1)
    result = CliRunner().invoke(main, ["build", "-f", str(config), "--frozen"])
    assert result.exit_code != 0
    assert "Missing generations" in result.output
    assert server.api_requests() == []


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_killed_run_keeps_finished_records_and_the_next_run_completes(
    site_factory, server, key_env, sig
) -> None:
    config = _site(site_factory, server, pages=2, concurrency=2)
    server.latency = 0.3
    store = config.parent / "generations"
    env = {**os.environ, "OPENAI_API_KEY": SECRET, "PYTHONPATH": str(Path.cwd())}
    process = subprocess.Popen(
        [sys.executable, "-m", "aicraft", "generate", "-f", str(config)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while len(list(store.glob("*.md"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(sig)
    finally:
        process.wait(timeout=10)
    finished = {p.name: p.read_bytes() for p in store.glob("*.md")}
    assert 4 <= len(finished) < 20
    for name, data in finished.items():  # every record on disk is whole
        Record.loads(data.decode(), name)
    server.latency = 0.0
    code, output = _generate(config)
    assert code == 0, output
    assert len(_records(config)) == 20
    assert not list(store.glob(".*.tmp"))
    for name, data in finished.items():  # and nothing finished was redone
        assert (store / name).read_bytes() == data


def test_under_a_budget_a_text_call_asks_for_no_more_than_its_estimate_assumed(
    site_factory, server, key_env
) -> None:
    # The estimate counts ASSUMED_MAX_OUTPUT_TOKENS of output for a directive without
    # max_tokens; the call must then be capped there, or the budget would not be a bound.
    config = _site(site_factory, server, pages=1)
    code, output = _generate(config, "--budget", "100")
    assert code == 0, output
    sent = [r.body for r in server.api_requests("/v1/chat/completions")]
    assert sent and all(
        (body.get("max_completion_tokens") or body.get("max_tokens")) == ASSUMED_MAX_OUTPUT_TOKENS
        for body in sent
    )
    # Without a budget nothing is capped that the author did not cap.
    config = _site(site_factory, server, pages=1, store="unbudgeted")
    server.reset()
    code, output = _generate(config)
    assert code == 0, output
    sent = [r.body for r in server.api_requests("/v1/chat/completions")]
    assert sent and not any("max_completion_tokens" in b or "max_tokens" in b for b in sent)


class LeakyProvider:
    """A provider with a bug: its exception quotes the API key (as a library's might)."""

    name = "leaky"
    description = "A provider that fails"
    trained = True

    def __init__(self, context: object) -> None:
        self.key = os.environ["OPENAI_API_KEY"]

    def default_model(self, kind: str) -> str:
        return "leaky-1"

    def generate_text(self, request: object) -> object:
        raise RuntimeError(f"request failed: POST /v1 with Authorization: {self.key}")

    def generate_image(self, request: object) -> object:
        raise RuntimeError(f"request failed with api_key={self.key}")


def test_a_provider_bug_quoting_the_key_never_prints_it(
    site_factory, key_env, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aicraft.providers import base

    monkeypatch.setitem(base._BUILTIN, "leaky", "tests.test_generation:LeakyProvider")
    config = site_factory({"index.md": _page(0, texts=1, images=1)}, {"provider": "leaky"})
    code, output = _generate(config)
    assert code != 0
    assert "RuntimeError: request failed" in output, output
    assert key_env not in output and "[redacted]" in output
    assert _records(config) == []
