"""The report in a real browser: Debian's Chromium, headless, opens the file with no console
error and no request beyond the file itself, draws a page that is not blank (a screenshot with
the window as tall as the page), and fits a phone's width without scrolling sideways."""

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
def page_file(lake_run: LakeRun, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "index.html"
    result = CliRunner().invoke(app, ["report", "--root", str(lake_run.root), "--stack", STACK,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


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
    assert page.locator("section svg").count() == 7


def test_the_page_fits_a_phone_without_scrolling_sideways(browser, page_file: Path) -> None:
    page = browser.new_page(viewport={"width": PHONE, "height": 800})
    page.goto(page_file.as_uri(), wait_until="load")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE
    widths = page.evaluate("[...document.querySelectorAll('figure svg')]"
                           ".map(svg => svg.getBoundingClientRect().width)")
    assert widths and max(widths) <= PHONE
