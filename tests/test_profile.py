"""The migration profile: built from the demo and from real DTM files, printed to A4 in English and Arabic,
each page rendered to PNG (tests/artifacts/profile/, for a person to look at), and the numbers in the PDF's
text the published ViewData's."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from flowmon import trqn, viewdata
from flowmon.cli import main
from flowmon.datastore import open_dataset
from flowmon.filters import Filters
from flowmon.profile import build_profile
from flowmon.profile.text import ranked

DTM_FILE = Path(__file__).resolve().parents[2] / "shared" / "data" / "dtm" / "raw_idps_state_data.csv"
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext") or not shutil.which("pdftoppm"), reason="poppler-utils not installed"
)
needs_chromium = pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="no Chromium")


def pdf_text(path: Path) -> list[str]:
    """The text of each page, bidi marks removed (pdftotext wraps Arabic runs and numbers in them)."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    )
    return [BIDI.sub("", page) for page in text.stdout.split("\f") if page.strip()]


def render_pages(path: Path, folder: Path, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(folder / stem)], check=True)
    return sorted(folder.glob(f"{stem}-*.png"))


def shown(value) -> str:
    return f"{int(value):,}"


@needs_poppler
@needs_chromium
@pytest.mark.slow
@pytest.mark.parametrize("language", ["en", "ar"])
def test_demo_profile_prints_the_published_numbers(demo_dir, tmp_path, artifacts, language):
    out = tmp_path / f"profile-{language}.pdf"
    assert (
        main(
            [
                "profile",
                "--data-dir",
                str(demo_dir),
                "--period",
                "2025",
                "--lang",
                language,
                "--out",
                str(out),
            ]
        )
        == 0
    )
    pages = pdf_text(out)
    assert len(pages) == 6
    pngs = render_pages(out, artifacts / "profile", f"demo-{language}")
    assert len(pngs) == 6 and all(p.stat().st_size > 5_000 for p in pngs)

    # The same numbers as the dashboard's view of the same period, built independently here.
    view = viewdata.build(open_dataset(demo_dir), Filters(period="2025"), language=language)
    key, displacement, returns, trafficking, diaspora, sources = pages
    for row in view.kpis.itertuples():
        assert shown(row.value) in key, row.stream
        assert shown(row.previous) in key, row.stream
    hosts = ranked(view["by_state"][view["by_state"]["stream"] == "displacement"], "state_pcode", str, 8)
    origins = ranked(view["departures"], "state_pcode", str, 8)
    for _, value in hosts + origins:
        assert shown(value) in displacement
    status = ranked(view["by_category"][view["by_category"]["stream"] == "return"], "category", str)
    assert status and all(shown(v) in returns for _, v in status)
    kinds = ranked(view["by_category"][view["by_category"]["stream"] == "referral"], "category", str)
    services = ranked(view["by_referred_to"], "referred_to", str)
    assert kinds and all(shown(v) in trafficking for _, v in kinds + services)
    counts = trqn.counts(demo_dir, "2025", view.previous)
    assert shown(counts["total"].iloc[0]["value"]) in diaspora
    assert all(shown(v) in diaspora for _, v in ranked(counts["by_sector"], "sector", str))
    # Every page carries its sources, as-of dates and (case streams) the protection footnote.
    # (pdftotext splits Arabic diacritics off their letters: an undiacritised part of the Arabic footnote.)
    footnote = "لحماية الأفراد" if language == "ar" else view.footnote[:40]
    assert footnote in view.footnote
    for page in pages:
        assert "2026-06-30" in page
        assert footnote in " ".join(page.split())
    assert "flowmon demo (synthetic)" in sources and "2026-06-30" in sources
    if language == "ar":
        assert "ملف الهجرة" in key and "السودان" in key
    else:
        assert "Cross-border movements" in diaspora and "no cross-border movement data" in diaspora


def test_profile_html_is_offline_and_right_to_left(demo_dir):
    profile = build_profile(demo_dir, "2025-Q2", language="ar")
    html = profile.html
    assert '<html lang="ar" dir="rtl">' in html
    assert "Noto Naskh Arabic" in html
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "nothing may be loaded from a network"
    # No record-level field reaches the page.
    table = trqn.load(demo_dir)
    assert not any(i in html for i in table["assignment_id"].head(50))
    assert "host institution" not in html.lower()
    events = open_dataset(demo_dir).events
    assert not any(r in html for r in events["record_id"].astype(str).head(50))


def test_trqn_counts_are_protected(demo_dir):
    counts = trqn.counts(demo_dir, "2025")
    published = counts["by_state"]["value"]
    assert not published.between(1, trqn.K - 1).any()
    assert counts["by_sector"]["value"].sum() > 0


@needs_poppler
@needs_chromium
@pytest.mark.slow
@pytest.mark.skipif(not DTM_FILE.exists(), reason=f"{DTM_FILE} not found")
def test_profile_from_real_dtm_files(tmp_path, artifacts):
    store = tmp_path / "real"
    assert main(["ingest", "displacement", str(DTM_FILE), "--data-dir", str(store)]) in (0, 1)
    dataset = open_dataset(store)
    year = dataset.months[-1][:4]
    view = viewdata.build(dataset, Filters(period=year))
    for language in ("en", "ar"):
        out = tmp_path / f"real-{language}.pdf"
        assert (
            main(
                ["profile", "--data-dir", str(store), "--period", year, "--lang", language, "--out", str(out)]
            )
            == 0
        )
        pages = pdf_text(out)
        assert len(render_pages(out, artifacts / "profile", f"dtm-{language}")) == len(pages)
        value = view.kpi("displacement")["value"]
        assert shown(value) in pages[0] and shown(value) in pages[1]
        hosts = ranked(view["by_state"], "state_pcode", str, 8)
        assert hosts and all(shown(v) in pages[1] for _, v in hosts)
        for page in pages:
            assert DTM_FILE.name in page  # the source and its as-of date on every page
    text = " ".join(pdf_text(tmp_path / "real-en.pdf"))
    assert "No AVRR returns" in text or "no data in the store" in text.lower()


def test_profile_cli_errors(demo_dir, tmp_path, capsys):
    assert main(["profile", "--data-dir", str(demo_dir), "--period", "2025-13", "--out", "x.pdf"]) == 2
    assert "2025-13" in capsys.readouterr().err
    assert main(["profile", "--data-dir", str(demo_dir), "--period", "2025", "--out", "x.docx"]) == 2
    assert main(["profile", "--data-dir", str(tmp_path / "none"), "--period", "2025", "--out", "x.pdf"]) == 2
    out = tmp_path / "p.html"
    assert main(["profile", "--data-dir", str(demo_dir), "--period", "2025", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8").count('class="page"') == 6
