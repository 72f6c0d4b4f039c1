"""The report in a real browser: Debian's Chromium, headless, opens the file with no console
error and no request beyond the file itself, draws a page that is not blank (a screenshot with
the window as tall as the page), says its language, and reads on a phone (390 px) as on a laptop
(1280 px): no text under 10 px as drawn, charts never shrunk, and nothing wider than the screen
but what scrolls inside a chart's or a table's own box."""

from __future__ import annotations

import shutil
import struct
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lake.cli import app
from tests.lake_run import STACK, LakeRun

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
LAPTOP, PHONE = 1280, 390


def png_size_and_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (filtered) pixel rows of a PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, width, height = 8, b"", 0, 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        position += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def page_files(lake_run: LakeRun, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The page in each language: by default (pt-BR), and with --lang en."""
    folder = tmp_path_factory.mktemp("browser")
    files = {}
    for lang, option in (("pt-BR", []), ("en", ["--lang", "en"])):
        out = folder / lang / "index.html"
        result = CliRunner().invoke(app, ["report", "--root", str(lake_run.root), "--stack",
                                          STACK, "--out", str(out), *option])
        assert result.exit_code == 0, result.output
        files[lang] = out
    return files


@pytest.fixture(scope="module")
def page_file(page_files: dict[str, Path]) -> Path:
    return page_files["pt-BR"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is not installed: apt-get install -y chromium "
                    "(.ci/run installs it)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def test_chromium_shows_the_whole_page_with_no_error_and_no_request(
        browser, page_file: Path, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": LAPTOP, "height": 800})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.type}: {m.text}")
            if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(page_file.as_uri(), wait_until="load")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": LAPTOP, "height": height})
    shot = page.screenshot(path=str(tmp_path / "report.png"))
    assert problems == [] and requests == [page_file.as_uri()]
    width, shot_height, pixels = png_size_and_pixels(shot)
    assert (width, shot_height) == (LAPTOP, height) and height > 3000
    assert len(set(pixels)) > 64  # charts, text and tables, not one flat colour
    assert page.locator("section figure").count() == 7
    assert page.locator("section figure svg").count() > 7  # small multiples: one per area


SMALLEST_TEXTS = """() => {
  const drawn = (text, size) => [size, text.textContent.trim().slice(0, 30)];
  const svg = [...document.querySelectorAll('figure svg text')]
    .filter(text => text.textContent.trim())
    .map(text => {
      const ctm = text.getScreenCTM();  // the SVG's own transforms and any CSS scaling
      return drawn(text, parseFloat(getComputedStyle(text).fontSize) * Math.hypot(ctm.a, ctm.b));
    });
  const html = [...document.querySelectorAll('body *')]
    .filter(e => !e.closest('svg') && getComputedStyle(e).display !== 'none' &&
                 [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()))
    .map(e => drawn(e, parseFloat(getComputedStyle(e).fontSize)));
  const smallest = list => list.sort((a, b) => a[0] - b[0])[0];
  return {svg: smallest(svg), html: smallest(html), count: svg.length};
}"""

BEYOND_THE_SCREEN = """() => [...document.querySelectorAll('body *')]
  .filter(e => !e.parentElement.closest('figure, .table'))
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5)
  .map(e => e.tagName + (e.className ? '.' + e.className : ''))"""

SHRUNK_CHARTS = """() => [...document.querySelectorAll('figure svg')]
  .filter(svg => Math.abs(svg.getBoundingClientRect().width - svg.width.baseVal.value) > 0.5)
  .length"""


@pytest.mark.parametrize("width", [PHONE, LAPTOP])
def test_no_text_is_drawn_under_10_px(browser, page_file: Path, width: int) -> None:
    """What Chromium draws, every chart label and every text of the page: at least 10 px (the
    charts write 11 px and up; a chart is never scaled down)."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.goto(page_file.as_uri(), wait_until="load")
    smallest = page.evaluate(SMALLEST_TEXTS)
    assert smallest["count"] > 500
    assert smallest["svg"][0] >= 10, smallest
    assert smallest["html"][0] >= 10, smallest
    assert page.evaluate(SHRUNK_CHARTS) == 0


def test_the_page_fits_a_phone_and_only_charts_and_tables_scroll_sideways(
        browser, page_file: Path) -> None:
    page = browser.new_page(viewport={"width": PHONE, "height": 800})
    page.goto(page_file.as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    assert page.evaluate("document.body.scrollWidth") <= PHONE
    assert page.evaluate(BEYOND_THE_SCREEN) == []
    boxes = page.evaluate("[...document.querySelectorAll('figure, .table')].map(box => {"
                          "const r = box.getBoundingClientRect(); "
                          "return [r.left, r.right, getComputedStyle(box).overflowX]; })")
    assert boxes and all(left >= 0 and right <= PHONE and overflow == "auto"
                         for left, right, overflow in boxes), boxes


@pytest.mark.parametrize("lang", ["pt-BR", "en"])
def test_the_page_says_its_language(browser, page_files: dict[str, Path], lang: str) -> None:
    page = browser.new_page(viewport={"width": LAPTOP, "height": 800})
    page.goto(page_files[lang].as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.lang") == lang
    assert page.evaluate("document.querySelector('figure').getAttribute('aria-label')")
