"""The aicraft command line, run the way a user runs it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from aicraft.cli import main
from tests.sites import PROSE

PAGES = {
    "index.md": f"# Home\n\n{PROSE}\n\n```ai-text\nA line about frost.\n```\n",
    "blog/index.md": "# Blog\n",
    "blog/posts/post.md": (
        f"---\ndate: 2026-02-01\n---\n\n# Post\n\n{PROSE}\n\n"
        '```ai-image size="64x64" alt="A blue square"\nA blue square.\n```\n'
    ),
}


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("command", ["build", "serve", "generate", "status", "try"])
def test_every_command_explains_itself(command: str) -> None:
    code, output = run(command, "--help")
    assert code == 0
    assert "Usage: main" in output or "Usage: aicraft" in output
    assert "--config-file" in output


def test_status_lists_missing_then_stored_items_per_page(site_factory) -> None:
    config = site_factory(PAGES)
    code, output = run("status", "-f", str(config), "--json")
    assert code == 0, output
    data = json.loads(output)
    assert (data["directives"], data["stored"], data["missing"]) == (2, 0, 2)
    assert data["pages"]["index.md"]["missing"][0]["line"] == 5
    code, output = run("generate", "-f", str(config))
    assert code == 0, output
    assert "Generated 2 item(s), 0 failed" in output
    data = json.loads(run("status", "-f", str(config), "--json")[1])
    assert (data["stored"], data["missing"], data["orphaned"]) == (2, 0, [])
    code, output = run("status", "-f", str(config))
    assert "Total: 2 directive(s), 2 stored, 0 missing" in output


def test_status_reports_orphaned_records(site_factory) -> None:
    config = site_factory(PAGES)
    run("generate", "-f", str(config))
    page = config.parent / "docs" / "index.md"
    page.write_text(page.read_text().replace("A line about frost.", "A line about snow."))
    data = json.loads(run("status", "-f", str(config), "--json")[1])
    assert data["missing"] == 1
    assert len(data["orphaned"]) == 1


def test_build_with_frozen_fails_and_without_generates(site_factory) -> None:
    config = site_factory(PAGES)
    code, output = run("build", "-f", str(config), "--frozen")
    assert code == 1
    assert "index.md:5" in output and "blog/posts/post.md:" in output
    site = config.parent / "out"
    code, output = run("build", "-f", str(config), "-d", str(site))
    assert code == 0, output
    assert 'data-ai-generated="true"' in (site / "index.html").read_text()


def test_generate_refuses_invalid_directives_with_their_location(site_factory) -> None:
    config = site_factory({"index.md": '# Home\n\n```ai-text colour="red"\nx\n```\n'})
    code, output = run("generate", "-f", str(config))
    assert code == 1
    assert "index.md:3: unknown option `colour`" in output


def test_refresh_regenerates_only_the_selected_page(site_factory) -> None:
    config = site_factory(PAGES)
    run("generate", "-f", str(config))
    store = config.parent / "generations"
    before = {p.name: p.stat().st_mtime_ns for p in store.glob("*.md")}
    time.sleep(0.01)
    code, output = run("generate", "-f", str(config), "--refresh", "--page", "index.md")
    assert code == 0, output
    after = {p.name: p.stat().st_mtime_ns for p in store.glob("*.md")}
    assert sum(after[name] != before[name] for name in before) == 1


def test_missing_config_is_a_clear_error(tmp_path: Path) -> None:
    code, output = run("status", "-f", str(tmp_path / "nope.yml"))
    assert code == 1
    assert "nope.yml not found" in output


def test_site_without_the_plugin_is_told_how_to_add_it(site_factory) -> None:
    config = site_factory({"index.md": "# Home\n"}, use_plugin=False)
    code, output = run("status", "-f", str(config))
    assert code == 1
    assert "add `- aicraft` under `plugins:`" in output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_renders_stored_items_and_does_not_rebuild_in_a_loop(site_factory) -> None:
    config = site_factory(PAGES)
    run("generate", "-f", str(config))
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aicraft", "serve", "-f", str(config), "-a", f"127.0.0.1:{port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        html = ""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                url = f"http://127.0.0.1:{port}/garden/"
                html = urllib.request.urlopen(url, timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.2)
        assert 'data-ai-generated="true"' in html
        time.sleep(2)  # a rebuild loop would show up as more "Building documentation" lines
    finally:
        process.terminate()
        output = process.communicate(timeout=10)[0]
    assert output.count("Building documentation") <= 1, output


def test_try_stores_a_prompt_and_its_directive_publishes_what_was_shown(
    site_factory, monkeypatch
) -> None:
    # A blogger crafts a prompt with `aicraft try`, then pastes the printed directive into a
    # post: the post publishes the very output that was shown, without calling the model again.
    from tests.openai_server import FakeOpenAI

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key")
    with FakeOpenAI() as server:
        config = site_factory(PAGES, {"provider": "openai", "base_url": server.base_url})
        f = ("-f", str(config))
        args = ("try", "A haiku about rain on a tin roof.", "-o", "candidates=2", *f)
        code, output = run(*args, "-o", "temperature=0.5", "-o", "label=Rain")
        assert code == 0, output
        assert "candidate 1:" in output and "candidate 2:" in output
        directive = output[output.index("Paste into a page:") :].split("\n", 2)[2].strip()
        assert directive.startswith('```ai-text candidates="2" temperature="0.5" label="Rain"\n')
        assert len(server.api_requests()) == 1
        # The same try again: shown from the store, no call.
        code, again = run(*args, "-o", "temperature=0.5", "-o", "label=Rain")
        assert code == 0 and len(server.api_requests()) == 1
        assert again[again.index("candidate 1:") :] == output[output.index("candidate 1:") :]
        data = json.loads(run("status", *f, "--json")[1])
        assert len(data["orphaned"]) == 1, "unused until a page has it"
        code, output = run("check", *f)
        assert code == 1 and "(made by `aicraft try`)" in output
        short = data["orphaned"][0]
        page = config.parent / "docs" / "blog" / "posts" / "rain.md"
        page.write_text(f"---\ndate: 2026-03-01\n---\n\n# Rain\n\n{PROSE}\n\n{directive}\n")
        run("generate", *f)  # the two other directives of PAGES
        calls = len(server.api_requests())
        code, output = run("build", *f, "--strict")
        assert code == 0, output
        assert len(server.api_requests()) == calls, "the tried output is reused"
    html = next((config.parent / "site").glob("blog/20*/**/rain/index.html")).read_text()
    assert f"ai-{short}" in html and "candidate 1 of 2, not chosen by a human" in html
    assert json.loads(run("status", *f, "--json")[1])["orphaned"] == []


def test_try_refuses_what_a_page_could_not_say(site_factory) -> None:
    config = site_factory(PAGES)
    f = ("-f", str(config))
    code, output = run("try", "A line.", "-o", "colour=blue", *f)
    assert code == 2 and "unknown option `colour`" in output
    code, output = run("try", "A line.", "-o", "context=page", *f)
    assert code == 2 and "try it in the page itself" in output
    code, output = run("try", "A line.", "-o", "candidates", *f)
    assert code == 2 and "KEY=VALUE" in output
    code, output = run("try", "A red circle.", "--kind", "image", *f)
    assert code == 2 and "needs `alt` text" in output
    code, output = run(
        "try", "A red circle.", "--kind", "image", "-o", "alt=A red circle", "-o", "size=64x64", *f
    )
    assert code == 0, output
    path = Path(output.split("output: ", 1)[1].split("\n", 1)[0])
    assert path.is_file() and path.parent == config.parent / "generations"
    assert '```ai-image alt="A red circle" size="64x64"\nA red circle.\n```' in output
