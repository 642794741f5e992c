"""Full Arabic: every word a user reads (sidebar, options, tables, axes, notes, exports) and right to left."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from conftest import DEMO_UNTIL

from flowmon import i18n, schema
from flowmon.app import Dashboard
from flowmon.cli import main
from flowmon.export.csv import COLUMNS
from flowmon.export.view import session

# Codes (KRT, SD01, ERI), formats (CSV), numbers and the language switch's own name for English are not words
# to translate; anything else in Latin letters is English left on an Arabic page.
_CODES = re.compile(r"\b(?:[A-Z]{2,4}\d*|\d[\d,.+-]*)\b|English")


def english_words(text: str) -> list[str]:
    return re.findall(r"[A-Za-z]{2,}", _CODES.sub(" ", text))


def test_every_word_has_both_languages():
    assert set(i18n._TEXT["en"]) == set(i18n._TEXT["ar"])
    for key, arabic in i18n._TEXT["ar"].items():
        # Names that stay as they are in Arabic text: the boundaries' publisher, the file format, the tool.
        shown = re.sub(r"\{\w+\}", "", arabic)
        for name in ("OCHA COD-AB", "CSV", "flowmon"):
            shown = shown.replace(name, "")
        assert not english_words(shown), key


def test_every_coded_value_has_an_arabic_label():
    vocabularies = {
        "category": schema.all_categories(),
        "referred_to": schema.REFERRAL_SERVICES,
        "sex": schema.SEXES,
        "age_group": schema.AGE_GROUPS,
    }
    for column, codes in vocabularies.items():
        for code in codes:
            assert not english_words(i18n.value_label(column, code, "ar")), (column, code)
            assert i18n.value_label(column, code, "en") == code


def test_nationalities_in_arabic_come_from_cldr():
    assert i18n.country_name("ERI", "ar") == "إريتريا"
    assert i18n.country_name("SSD", "ar") == "جنوب السودان"
    assert i18n.country_name("UNK", "ar") == "غير معروف"
    assert i18n.country_name("ERI", "en", "Eritrea") == "Eritrea"
    assert i18n.period_label("2025-Q3", "ar") == "الربع الثالث 2025"
    assert i18n.period_label("2025-Q3", "en") == "2025-Q3"


def widget_texts(dashboard: Dashboard) -> list[str]:
    """Every label, option and button text the sidebar shows."""
    texts = []
    widgets = [w for w in dashboard.controls.select(lambda o: hasattr(o, "name"))]
    for widget in widgets:
        texts.append(str(getattr(widget, "name", "") or ""))
        texts.append(str(getattr(widget, "label", "") or "") if hasattr(widget, "label") else "")
        options = getattr(widget, "options", None)
        if isinstance(options, dict):
            texts += list(options)
        groups = getattr(widget, "groups", None)
        if groups:
            texts += list(groups)
            texts += [label for group in groups.values() for label in group]
        if hasattr(widget, "object") and isinstance(widget.object, str):
            texts.append(widget.object)
    return [t for t in texts if t]


def test_the_arabic_sidebar_has_no_english_word(demo_dir):
    dashboard = Dashboard(data_dir=str(demo_dir), language="ar")
    texts = widget_texts(dashboard)
    left = {t: english_words(t) for t in texts if english_words(t)}
    # Widget names Panel gives its own containers (Column00123) are not shown.
    left = {t: w for t, w in left.items() if not re.fullmatch(r"[A-Z][A-Za-z]+\d+", t)}
    assert not left, left
    assert "جمهورية أفريقيا الوسطى (CAF)" in dashboard.nationality_widget.options or any(
        "(ERI)" in o and "إريتريا" in o for o in dashboard.nationality_widget.options
    )
    assert dashboard.controls.styles.get("direction") == "rtl"


def test_arabic_tables_axes_and_breakdowns(demo_dir):
    dashboard = Dashboard(data_dir=str(demo_dir), language="ar")
    view = dashboard.store.view
    for kind in ("state", "office"):
        table = dashboard.tables.shown(view, kind)
        assert not [c for c in table.columns if english_words(str(c))], list(table.columns)
        names = table.iloc[:, 1].astype(str)
        assert not [n for n in names if english_words(n)]
    assert len(dashboard.tables.shown(view, "state")) == len(schema.STATE_PCODES)
    trend = dashboard.trend.render(view)
    assert trend.value_label == "الأشخاص"
    assert not [w for w, _ in trend.tooltips if english_words(w)] and not english_words(trend.title)
    assert not [g for g in trend.columns["group"] if english_words(g)]
    for stream in ("caseload", "return", "referral"):
        bars = dashboard.breakdowns.categories(view, stream)
        assert not english_words(bars.title), bars.title
        assert not [v for v in bars.categories if english_words(str(v))]
    bars = dashboard.breakdowns.nationalities(view)
    assert bars.categories and not [v for v in bars.categories if english_words(str(v))]
    footer = dashboard.footer.render(view)
    assert "none" not in footer


def test_reset_resets_every_sidebar_widget(demo_dir):
    dashboard = Dashboard(data_dir=str(demo_dir))
    before = {name: w.value for name, w in sidebar_widgets(dashboard).items()}
    dashboard.store.param.update(sex="female", age_group="0-17", granularity="year", indicator="return",
                                 office="PZU", stream=["return"])  # fmt: skip
    dashboard.period_widget.value = dashboard.store.choices.periods["quarter"][0]
    if dashboard.dataset.boundaries is not None:
        dashboard.map.geometry = "official"
    assert {name: w.value for name, w in sidebar_widgets(dashboard).items()} != before
    dashboard.reset_button.clicks += 1
    assert {name: w.value for name, w in sidebar_widgets(dashboard).items()} == before


def sidebar_widgets(dashboard):
    return {name: getattr(dashboard, name) for name in vars(dashboard) if name.endswith("_widget")} | {
        "geometry": dashboard.geometry_widget
    }


def test_csv_export_in_arabic(demo_dir, tmp_path, capsys):
    out = tmp_path / "view.csv"
    assert main(["export", "csv", "--data-dir", str(demo_dir), "--lang", "ar", "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert list(table.columns) == [i18n.CSV_HEADERS_AR[c] for c in COLUMNS]
    names = table["الاسم"]
    assert not [n for n in names if english_words(n)], sorted({n for n in names if english_words(n)})
    assert "الخرطوم" in set(names)
    # Keys stay codes in every language: the same view read in English matches row for row.
    english = tmp_path / "view-en.csv"
    main(["export", "csv", "--data-dir", str(demo_dir), "--out", str(english)])
    assert list(pd.read_csv(english, dtype=str, keep_default_na=False)["key"]) == list(table["الرمز"])


def test_the_export_session_takes_the_language(demo_dir):
    arabic = session(demo_dir, {"period": DEMO_UNTIL[:4]}, language="ar")
    assert arabic.language == "ar" and "حسب الولاية" in arabic.view.title


@pytest.mark.ui
def test_arabic_page_in_chromium(serve, demo_dir, page, artifacts):
    from conftest import REPO
    from test_ui import open_dashboard

    served = serve(REPO / "dashboards" / "flowmon_app.py", demo_dir)
    watch = open_dashboard(page, f"{served.url}?lang=ar")
    page.wait_for_selector(".fm-table")
    found = page.evaluate("""() => {
      const texts = [], tables = [], sidebar = document.querySelector('#sidebar');
      const walk = (root) => {
        for (const el of root.querySelectorAll('*')) {
          if (el.shadowRoot) walk(el.shadowRoot);
          if (el.tagName === 'OPTGROUP') texts.push(el.label);
          if (['LABEL', 'OPTION', 'BUTTON', 'STRONG', 'P', 'SPAN', 'A'].includes(el.tagName)) {
            const own = Array.from(el.childNodes).filter(n => n.nodeType === 3)
              .map(n => n.textContent.trim());
            texts.push(own.join(' ').trim());
          }
        }
      };
      walk(sidebar);
      const column = sidebar.querySelector('[class*="layout-Column"]') || sidebar;
      const direction = getComputedStyle(column).direction;
      const tableWalk = (root) => {
        for (const el of root.querySelectorAll('*')) {
          if (el.shadowRoot) tableWalk(el.shadowRoot);
          if (el.tagName === 'TABLE') {
            let p = el.parentElement, scrolled = false;
            while (p) {
              const y = getComputedStyle(p).overflowY;
              if (p.scrollHeight > p.clientHeight + 2 && ['auto', 'scroll'].includes(y) && p.id !== 'main'
                  && !p.classList.contains('main')) { scrolled = scrolled || p.clientHeight < 600; }
              p = p.parentElement;
            }
            tables.push({dir: getComputedStyle(el).direction, rows: el.querySelectorAll('tbody tr').length,
                         scrolled});
          }
        }
      };
      tableWalk(document);
      return {texts: texts.filter(t => t), tables, direction};
    }""")
    page.screenshot(path=artifacts / "dashboard-arabic-sidebar.png")
    left = {t: english_words(t) for t in found["texts"] if english_words(t)}
    assert not left, left
    assert found["direction"] == "rtl"
    assert [t["dir"] for t in found["tables"]] == ["rtl", "rtl"]
    assert found["tables"][0]["rows"] == len(schema.STATE_PCODES)
    assert not [t for t in found["tables"] if t["scrolled"]], found["tables"]
    assert not watch.outside(), watch.outside()


def test_the_presentation_month_player_is_labelled_in_arabic(demo_dir):
    import panel as pn

    dashboard = Dashboard(data_dir=str(demo_dir), language="ar", present=True)
    (player,) = dashboard.player.draw().select(pn.widgets.Player)
    assert player.label == i18n.text("player", "ar") and not english_words(player.label)
