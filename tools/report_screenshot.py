"""The README's pictures of the report: the demo's page as Chromium draws it.

    make demo && .venv/bin/python tools/report_screenshot.py [page] [docs/]

Needs Debian's chromium (headless). Writes two PNGs of the mean scores by state (the tile maps
of Brazil): docs/report.png on a laptop (1280 px wide, the section's question, population,
maps and the note on how to read them) and docs/report-phone.png on a phone (390 px wide, one
screen: the question and the first map), both at the page's own size (no scaling).
"""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / ".lake" / "dev" / "gold" / "_report" / "index.html"
DOCS = ROOT / "docs"
SECTION = "#mean_scores_by_state"
LAPTOP, PHONE, PHONE_HEIGHT = 1280, 390, 844


def main() -> None:
    page_file = Path(sys.argv[1]) if len(sys.argv) > 1 else PAGE
    docs = Path(sys.argv[2]) if len(sys.argv) > 2 else DOCS
    docs.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": LAPTOP, "height": 800})
        page.goto(page_file.resolve().as_uri())
        section = page.locator(SECTION).bounding_box()
        note = page.locator(f"{SECTION} .note").bounding_box()
        out = docs / "report.png"
        page.screenshot(path=str(out), full_page=True, clip={
            "x": 0, "y": section["y"], "width": LAPTOP,
            "height": note["y"] + note["height"] + 16 - section["y"]})
        print(f"wrote {out} ({out.stat().st_size / 1e3:,.0f} kB)")

        page = browser.new_page(viewport={"width": PHONE, "height": PHONE_HEIGHT})
        page.goto(page_file.resolve().as_uri())
        section = page.locator(SECTION).bounding_box()
        out = docs / "report-phone.png"
        page.screenshot(path=str(out), full_page=True, clip={
            "x": 0, "y": section["y"], "width": PHONE, "height": PHONE_HEIGHT})
        print(f"wrote {out} ({out.stat().st_size / 1e3:,.0f} kB)")
        browser.close()


if __name__ == "__main__":
    main()
