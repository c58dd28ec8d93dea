"""Helpers for the browser tests and the screenshots: build the sample, serve it, drive Chromium.

Chromium is Debian's ``chromium`` package (``/usr/bin/chromium``, or ``AICRAFT_CHROMIUM``),
driven by the Python ``playwright`` package through ``executable_path``: no browser is ever
downloaded. The site is served by ``http.server`` on 127.0.0.1 (a free port).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        ConsoleMessage,
        Page,
        Playwright,
        Request,
    )

ROOT = Path(__file__).resolve().parent.parent
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
LOCAL_HOSTS = frozenset({"127.0.0.1"})


def chromium_path() -> str | None:
    """Debian's Chromium (or ``AICRAFT_CHROMIUM``), if it is installed."""
    candidate = os.environ.get("AICRAFT_CHROMIUM")
    if candidate:
        return candidate if Path(candidate).is_file() else None
    for path in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if path and Path(path).is_file():
            return path
    return None


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package `playwright` is not installed (pip install -e '.[test]')"
    if chromium_path() is None:
        return "Chromium is not installed (apt-get install chromium), or AICRAFT_CHROMIUM is wrong"
    return None


def build_sample(site_dir: Path, config: Path | None = None) -> Path:
    """Build the sample magazine, frozen (the committed store has every record), into a folder."""
    command = [sys.executable, "-m", "aicraft", "build", "--frozen", "-d", str(site_dir)]
    if config is not None:
        command += ["-f", str(config)]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AICRAFT_", "OPENAI_"))}
    result = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"aicraft build failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return site_dir


class _QuietHandler(SimpleHTTPRequestHandler):
    """A static file handler that does not log every request to stderr."""

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""


@contextmanager
def serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a free port); yields the base URL, ending in ``/``."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def launch(playwright: Playwright) -> Browser:
    """Headless Debian Chromium, with nothing that phones home."""
    path = chromium_path()
    if path is None:
        raise RuntimeError(missing_browser() or "no Chromium")
    return playwright.chromium.launch(executable_path=path, args=LAUNCH_ARGS, headless=True)


@dataclass
class Watch:
    """What pages did that they should not: console errors, page errors, non-local requests.

    Attached to a browser context, so requests of workers count too; non-local requests are
    recorded and aborted, so a test never reaches the network.
    """

    errors: list[str] = field(default_factory=list)
    external: list[str] = field(default_factory=list)
    pending: set[Request] = field(default_factory=set)

    def attach(self, context: BrowserContext) -> Watch:
        """Start recording (and blocking non-local requests) in ``context``."""
        context.on("console", self._console)
        context.on("weberror", lambda error: self.errors.append(f"page error: {error.error}"))
        context.on("request", self._request)
        context.on("requestfinished", lambda request: self.pending.discard(request))
        context.on("requestfailed", lambda request: self.pending.discard(request))
        context.route(_is_external, lambda route: route.abort())
        return self

    def settle(self, page: Page, quiet_ms: int = 200, timeout_ms: int = 10_000) -> None:
        """Wait until no request has been in flight for ``quiet_ms`` (late scripts, workers)."""
        quiet = waited = 0
        while quiet < quiet_ms:
            if waited > timeout_ms:
                raise TimeoutError(f"requests still in flight: {[r.url for r in self.pending]}")
            page.wait_for_timeout(25)
            waited += 25
            quiet = 0 if self.pending else quiet + 25

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.page.url if message.page else "?"
            self.errors.append(f"console.error: {message.text} @ {where}")

    def _request(self, request: Request) -> None:
        self.pending.add(request)
        if _is_external(request.url):
            self.external.append(request.url)


def _is_external(url: str) -> bool:
    """Whether a request leaves 127.0.0.1 (``data:``, ``blob:`` and ``about:`` stay inside)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome-extension"):
        return False
    return parts.hostname not in LOCAL_HOSTS


def load_images(page: Page, timeout_ms: int = 10_000) -> None:
    """Scroll every shown image into view (many are lazy); wait until each has loaded or failed."""
    for image in page.locator("img").all():
        if image.is_visible():
            image.scroll_into_view_if_needed()
    page.wait_for_function(
        "() => [...document.images].filter(i => i.checkVisibility()).every(i => i.complete)",
        timeout=timeout_ms,
    )
    page.evaluate("window.scrollTo(0, 0)")


def site_pages(site_dir: Path) -> list[str]:
    """Every HTML page of a built site, as URL paths relative to its root (``blog/``)."""
    pages = []
    for path in sorted(site_dir.rglob("*.html")):
        relative = path.relative_to(site_dir).as_posix()
        if relative.startswith("assets/"):
            continue
        if relative == "index.html":
            pages.append("")
        elif relative.endswith("/index.html"):
            pages.append(relative[: -len("index.html")])
        else:
            pages.append(relative)
    return pages
