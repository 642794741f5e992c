"""``flowmon export png``: a picture of the map view, drawn offline by headless Chromium.

The picture is the exported HTML page without its controls (``flowmon.export.html``), laid out for the
picture's size (1920x1080 by default: a slide, a projector), opened from a temporary file in Chromium driven
by Playwright with every request that is not a local file refused, and taken once Bokeh has drawn it. So the
PNG shows the same suppressed figures as the HTML file, and drawing it needs no server and no internet.

Chromium is Debian's (``/usr/bin/chromium``) unless ``--chromium`` or ``$FLOWMON_CHROMIUM`` names another:
Playwright's own browser downloads are not needed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from flowmon.export import view as views
from flowmon.export.html import html_document
from flowmon.filters import Filters

CHROMIUM_ENV = "FLOWMON_CHROMIUM"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # flowmon often runs as root in containers, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
TIMEOUT_MS = 30_000
# The page's redraw() counts its drawings; Bokeh reports when the document has rendered.
DRAWN_JS = "() => window.Bokeh && Bokeh.documents.length > 0 && Bokeh.documents[0].is_idle"
NEXT_FRAMES_JS = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"


def find_chromium(explicit: str | os.PathLike | None = None) -> Path:
    """The Chromium to draw with: ``explicit``, else ``$FLOWMON_CHROMIUM``, else the first on the PATH."""
    named = explicit or os.environ.get(CHROMIUM_ENV)
    if named:
        path = Path(named)
        if not path.is_file():
            raise FileNotFoundError(f"no Chromium at {path}")
        return path
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise FileNotFoundError(
        "PNG export needs Chromium: apt-get install chromium (or give --chromium PATH or $FLOWMON_CHROMIUM)"
    )


def screenshot(page_html: str, width: int, height: int, chromium: str | os.PathLike | None = None) -> bytes:
    """``page_html`` drawn by headless Chromium at ``width`` x ``height`` pixels, as PNG bytes.

    Any request the page makes beyond its own file is refused, so a page that would need the network fails
    to draw rather than reaching out.
    """
    if _in_event_loop():
        # Playwright's sync API refuses to run inside an asyncio loop (a Panel server's callbacks do):
        # draw in a worker thread and wait for it.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(screenshot, page_html, width, height, chromium).result()
    if width < 320 or height < 240:
        raise ValueError(
            f"--width {width} --height {height}: too small for a readable map (at least 320x240)"
        )
    browser_path = find_chromium(chromium)
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise OSError("PNG export needs the playwright package: pip install playwright") from None
    with tempfile.TemporaryDirectory(prefix="flowmon-png-") as folder:
        page_file = Path(folder) / "view.html"
        page_file.write_text(page_html, encoding="utf-8")
        refused: list[str] = []
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(browser_path), args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page(
                        viewport={"width": width, "height": height}, device_scale_factor=1
                    )
                    page.route("**/*", lambda route: _local_only(route, refused))
                    page.goto(page_file.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
                    page.wait_for_function(DRAWN_JS, timeout=TIMEOUT_MS)
                    page.wait_for_function("() => (window.__flowmon_drawn || 0) > 0", timeout=TIMEOUT_MS)
                    page.evaluate(
                        "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
                    )
                    picture = page.screenshot(type="png", full_page=False)
                finally:
                    browser.close()
        except PlaywrightError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise OSError(f"Chromium ({browser_path}) could not draw the view: {first_line}") from None
    if refused:
        raise OSError(f"the page asked for {refused[0]}, which an offline export must not need")
    return picture


def _in_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _local_only(route, refused: list[str]) -> None:
    url = route.request.url
    if url.startswith(("file:", "data:", "blob:", "about:")):
        route.continue_()
    else:
        refused.append(url)
        route.abort()


def png_bytes(
    session,
    *,
    width: int = 1920,
    height: int = 1080,
    chromium=None,
    geometry: str = "auto",
    present: bool = False,
) -> bytes:
    """The view drawn as a PNG, in the dashboard's palette (the projector's one with ``present``)."""
    page = html_document(session, controls=False, width=width, height=height, geometry=geometry,
                         present=present)  # fmt: skip
    return screenshot(page, width, height, chromium)


def write_png(session, path: str | os.PathLike, **options) -> Path:
    """Draw ``session``'s view and write the PNG to ``path`` atomically."""
    return views.write_export(path, png_bytes(session, **options))


def export_png(
    data_dir: str | os.PathLike | None,
    filters: Filters | Mapping[str, str] | None,
    path: str | os.PathLike,
    *,
    width: int = 1920,
    height: int = 1080,
    indicator: str | None = None,
    k: int | None = None,
    chromium: str | os.PathLike | None = None,
) -> Path:
    """Write the PNG of the view ``filters`` select over ``data_dir`` (a ``Filters`` or URL-style names)."""
    query = {**views.query_of(filters), **({"indicator": indicator} if indicator else {})}
    return write_png(views.session(data_dir, query, k), path, width=width, height=height, chromium=chromium)
