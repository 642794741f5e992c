"""Print the profile's HTML to an A4 PDF with headless Chromium, offline (as ``flowmon.export.png``).

Every request beyond the page's own file is refused (fonts are the system's: Noto renders Arabic). A page a
little too full is set slightly smaller; one whose content still does not fit its A4 sheet is an error, not a
silently clipped page.
"""

from __future__ import annotations

import concurrent.futures
import os
import tempfile
from pathlib import Path

from flowmon import store
from flowmon.export.png import CHROMIUM_ARGS, TIMEOUT_MS, _in_event_loop, _local_only, find_chromium

# A page a little too full (a long office name, many nationalities) is set slightly smaller to fit its sheet,
# down to 80%; what still does not fit is an error rather than a clipped page.
FIT_JS = """() => { for (const body of document.querySelectorAll('.page .body')) {
    const scale = Math.min(body.clientHeight / body.scrollHeight, body.clientWidth / body.scrollWidth);
    if (scale < 1) { for (const part of body.children) { part.style.zoom = Math.max(scale * 0.98, 0.8); } }
} }"""
OVERFLOW_JS = """() => Array.from(document.querySelectorAll('.page')).filter(page => {
    const body = page.querySelector('.body');
    return body.scrollHeight > body.clientHeight + 1 || body.scrollWidth > body.clientWidth + 1;
}).map(page => page.dataset.page)"""


def pdf_bytes(page_html: str, chromium: str | os.PathLike | None = None) -> bytes:
    """``page_html`` printed to PDF (A4, backgrounds printed) by headless Chromium."""
    if _in_event_loop():
        # Playwright's sync API refuses to run inside an asyncio loop (a Panel server's callbacks do).
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(pdf_bytes, page_html, chromium).result()
    browser_path = find_chromium(chromium)
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    refused: list[str] = []
    with tempfile.TemporaryDirectory(prefix="flowmon-profile-") as folder:
        page_file = Path(folder) / "profile.html"
        page_file.write_text(page_html, encoding="utf-8")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(browser_path), args=CHROMIUM_ARGS)
                try:
                    page = browser.new_page()
                    page.route("**/*", lambda route: _local_only(route, refused))
                    page.goto(page_file.as_uri(), wait_until="load", timeout=TIMEOUT_MS)
                    page.emulate_media(media="print")
                    page.evaluate("() => document.fonts.ready.then(() => true)")
                    page.evaluate(FIT_JS)
                    overflowing = page.evaluate(OVERFLOW_JS)
                    document = page.pdf(format="A4", print_background=True, prefer_css_page_size=True)
                finally:
                    browser.close()
        except PlaywrightError as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise OSError(f"Chromium ({browser_path}) could not print the profile: {first_line}") from None
    if refused:
        raise OSError(f"the profile asked for {refused[0]}, which an offline print must not need")
    if overflowing:
        raise ValueError(f"profile page {', '.join(overflowing)} does not fit on A4 (content would be cut)")
    return document


def write_pdf(profile, path: str | os.PathLike, chromium: str | os.PathLike | None = None) -> Path:
    """Print ``profile`` (a ``Profile``) to ``path`` atomically."""
    data = pdf_bytes(profile.html, chromium)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = store._stage(path.parent, lambda f: f.write(data))
    os.replace(staged, path)
    return path
