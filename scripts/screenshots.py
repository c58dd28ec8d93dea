"""Screenshots of the sample magazine for the README: ``python scripts/screenshots.py``.

Builds the sample (frozen: from the committed store, no provider is called), serves it on
127.0.0.1 and writes ``docs/screenshots/{home,article,ledger}-{light,dark}.png``, 1280 pixels
wide, with Debian's Chromium driven by Playwright (``apt-get install chromium``;
``pip install -e ".[test]"``). A page that the build does not have yet (the ledger, before the
disclosure pages land) is reported and skipped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.browser import build_sample, launch, load_images, missing_browser, serve  # noqa: E402

WIDTH = 1280
#: name -> (path in the site, largest height in pixels; the page is cut there)
SHOTS: dict[str, tuple[str, int]] = {
    "home": ("", 3400),
    "article": ("blog/2026/02/09/the-image-without-a-hand/", 2300),
    "ledger": ("ai-disclosures/", 2300),
}
SCHEMES = ("light", "dark")


def take(out: Path, site: Path) -> list[Path]:
    """Write every screenshot whose page exists in ``site``; return the files written."""
    from playwright.sync_api import sync_playwright

    written: list[Path] = []
    with serve(site) as base, sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            for scheme in SCHEMES:
                context = browser.new_context(
                    viewport={"width": WIDTH, "height": 900},
                    color_scheme=scheme,  # Material picks the palette that matches it
                    device_scale_factor=1,
                )
                page = context.new_page()
                for name, (path, max_height) in SHOTS.items():
                    if not (site / path / "index.html").is_file():
                        print(f"skipped {name}: the build has no {path or 'index.html'}")
                        continue
                    page.goto(base + path, wait_until="networkidle")
                    load_images(page)
                    height = page.evaluate("document.documentElement.scrollHeight")
                    target = out / f"{name}-{scheme}.png"
                    page.screenshot(
                        path=str(target),
                        full_page=True,
                        clip={"x": 0, "y": 0, "width": WIDTH, "height": min(height, max_height)},
                        animations="disabled",
                        caret="hide",
                    )
                    written.append(target)
                    shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
                    print(f"wrote {shown}")
                context.close()
        finally:
            browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Build the sample, then take the screenshots."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "screenshots", help="where to write them"
    )
    args = parser.parse_args(argv)
    reason = missing_browser()
    if reason:
        print(f"cannot take screenshots: {reason}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aicraft-shots-") as tmp:
        site = build_sample(Path(tmp) / "site")
        take(args.out, site)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
