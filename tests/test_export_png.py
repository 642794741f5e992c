"""``flowmon export png``: a picture of the map view drawn offline by headless Chromium."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from flowmon.cli import main
from flowmon.export.png import export_png, find_chromium, screenshot
from flowmon.views.style import HIGH_CONTRAST, SEQUENTIAL, SUPPRESSED_COLOR

pytestmark = [pytest.mark.ui, pytest.mark.slow]


def share_of(path, palette: list[str]) -> float:
    """The share of the picture painted in one of ``palette``'s colours."""
    pixels = np.asarray(Image.open(path).convert("RGB")).reshape(-1, 3)
    colours = np.array([[int(c[i : i + 2], 16) for i in (1, 3, 5)] for c in palette])
    packed = pixels @ np.array([65536, 256, 1])
    return float(np.isin(packed, colours @ np.array([65536, 256, 1])).mean())


def test_the_picture_is_the_view_in_the_dashboards_palette_or_the_projectors(demo_dir, tmp_path, artifacts):
    from flowmon.export.png import png_bytes
    from flowmon.export.view import session

    # Referrals at one office for one month: small true counts, published protected (nothing hidden grey).
    one_month = {"office": "KSL", "period": "2024-03", "stream": "referral"}
    small = export_png(demo_dir, one_month, tmp_path / "small.png")
    with Image.open(small) as image:
        assert image.format == "PNG" and image.size == (1920, 1080)
    assert share_of(small, [SUPPRESSED_COLOR]) < 0.001
    year = session(demo_dir, {"period": "2024", "indicator": "displacement_in"})
    dashboard, projector = tmp_path / "dashboard.png", tmp_path / "projector.png"
    dashboard.write_bytes(png_bytes(year))
    projector.write_bytes(png_bytes(year, present=True))
    for path in (small, dashboard, projector):
        (artifacts / f"export-{path.name}").write_bytes(path.read_bytes())
    assert share_of(dashboard, SEQUENTIAL) > 0.02 and share_of(dashboard, HIGH_CONTRAST) < 0.005
    assert share_of(projector, HIGH_CONTRAST) > 0.02


def test_cli_size_options(demo_dir, tmp_path):
    out = tmp_path / "slide.png"
    code = main(["export", "png", "--data-dir", str(demo_dir), "--out", str(out), "--width", "1280",
                 "--height", "720", "--query", "stream=return&period=2025-H1"])  # fmt: skip
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

    live = session(demo_dir, {"period": "2025-Q1"})

    async def download() -> bytes:
        return png_bytes(live, width=640, height=360)

    # In a thread of its own: pytest-playwright may hold this thread's loop.
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        picture = pool.submit(asyncio.run, download()).result()
    assert picture.startswith(b"\x89PNG\r\n\x1a\n")
