"""``flowmon export png``: a picture of the map view drawn offline by headless Chromium."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from flowmon.cli import main
from flowmon.export.png import export_png, find_chromium, screenshot
from flowmon.views.style import SUPPRESSED_COLOR

pytestmark = [pytest.mark.ui, pytest.mark.slow]
GREY = tuple(int(SUPPRESSED_COLOR[i : i + 2], 16) for i in (1, 3, 5))


def grey_share(path) -> float:
    """The share of the picture painted in the colour of hidden states."""
    pixels = np.asarray(Image.open(path).convert("RGB"))
    return float((pixels == GREY).all(axis=2).mean())


def test_default_size_and_suppressed_states_stay_hatched_grey(demo_dir, tmp_path, artifacts):
    # Referrals at one office for one month: small numbers, hidden; displacement for a year: none hidden.
    one_month = {"office": "KSL", "start": "2024-03", "end": "2024-03", "stream": "referral"}
    small = export_png(demo_dir, one_month, tmp_path / "small.png")
    one_year = {"start": "2024-01", "end": "2024-12", "indicator": "displacement_in"}
    large = export_png(demo_dir, one_year, tmp_path / "large.png")
    for path in (small, large):
        with Image.open(path) as image:
            assert image.format == "PNG" and image.size == (1920, 1080)
        (artifacts / f"export-{path.name}").write_bytes(path.read_bytes())
    assert grey_share(small) > 0.02  # hatched grey states
    assert grey_share(large) < 0.001


def test_cli_size_options(demo_dir, tmp_path):
    out = tmp_path / "slide.png"
    code = main(["export", "png", "--data-dir", str(demo_dir), "--out", str(out), "--width", "1280",
                 "--height", "720", "--query", "stream=return&start=2025-01&end=2025-06"])  # fmt: skip
    assert code == 0
    with Image.open(out) as image:
        assert image.size == (1280, 720)


def test_a_page_that_reaches_out_is_refused():
    page = '<html><body><script src="https://cdn.example.org/x.js"></script><p>hi</p></body></html>'
    with pytest.raises(OSError, match=r"asked for https://cdn\.example\.org/x\.js"):
        screenshot(page.replace("<p>", "<script>window.Bokeh={documents:[{is_idle:true}]};"
                                "window.__flowmon_drawn=1</script><p>"), 400, 300)  # fmt: skip


def test_missing_chromium_is_one_clear_line(demo_dir, tmp_path, capsys, monkeypatch):
    out = tmp_path / "x.png"
    code = main(
        ["export", "png", "--data-dir", str(demo_dir), "--out", str(out), "--chromium", "/nowhere/chromium"]
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == "flowmon export: no Chromium at /nowhere/chromium"
    assert not out.exists()
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("FLOWMON_CHROMIUM", raising=False)
    with pytest.raises(FileNotFoundError, match="apt-get install chromium"):
        find_chromium()


def test_drawing_from_inside_an_event_loop(demo_dir):
    """A Panel server's download callback runs in an asyncio loop, where Playwright's sync API refuses."""
    import asyncio
    import concurrent.futures

    from flowmon.export.png import png_bytes
    from flowmon.export.view import session

    live = session(demo_dir, {"start": "2025-01", "end": "2025-02"})

    async def download() -> bytes:
        return png_bytes(live, width=640, height=360)

    # In a thread of its own: pytest-playwright may hold this thread's loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        picture = pool.submit(asyncio.run, download()).result()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
