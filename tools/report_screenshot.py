"""The README's picture of the report: the top of the demo's page, as Chromium draws it.

    make demo && .venv/bin/python tools/report_screenshot.py [page] [docs/report.png]

Needs Debian's chromium (headless). Shows the mean scores by state (the tile maps of Brazil),
scaled down so that the PNG stays small.
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / ".lake" / "dev" / "gold" / "_report" / "index.html"
OUT = ROOT / "docs" / "report.png"
WIDTH, SCALE = 1000, 0.6


def main() -> None:
    page_file = Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else OUT
    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": WIDTH, "height": 800},
                                device_scale_factor=SCALE)
        page.goto(page_file.resolve().as_uri())
        section = page.locator("#mean_scores_by_state").bounding_box()
        maps = page.locator("#mean_scores_by_state figure").bounding_box()
        page.screenshot(path=str(out), full_page=True, clip={
            "x": 0, "y": section["y"], "width": WIDTH,
            "height": maps["y"] + maps["height"] + 8 - section["y"]})
        browser.close()
    print(f"wrote {out} ({out.stat().st_size / 1e3:,.0f} kB)")


if __name__ == "__main__":
    main()
