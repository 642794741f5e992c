"""Presentation mode on a projector's screen: everything a meeting reads is inside the window, unclipped.

The served dashboard in Chromium at 1920x1080 and 1280x720 with official boundaries: the boxes of the title,
the map (its plot and colour bar), the map's key, the KPI cards, the footnote and the sources are measured
against the viewport, the map's frame is checked to keep a degree as long across as up, and the KPI figures
to be large enough for the back of a room. Screenshots go to tests/artifacts.
"""

from __future__ import annotations

import shutil

import pytest
from test_ui import ENTRY_POINTS, PageWatch, wait_idle

from flowmon import geo

pytestmark = [pytest.mark.ui, pytest.mark.slow]

# Boxes of what a meeting reads (in nested shadow roots), and the map's plot, frame and colour bar.
BOXES_JS = """() => {
  const found = {};
  const box = (el) => { const r = el.getBoundingClientRect();
                        return {left: r.left, top: r.top, right: r.right, bottom: r.bottom}; };
  const visit = (root) => {
    for (const [name, selector] of [["title", ".fm-title"], ["key", ".fm-map-key"], ["footer", ".fm-footer"],
                                    ["kpi", ".fm-kpi-value"]]) {
      for (const el of root.querySelectorAll(selector)) {
        (found[name] = found[name] || []).push({...box(el), size: parseFloat(getComputedStyle(el).fontSize),
                                                text: (el.shadowRoot || el).textContent.trim()});
      }
    }
    for (const host of root.querySelectorAll("*")) { if (host.shadowRoot) visit(host.shadowRoot); }
  };
  visit(document);
  function* walk(view) { yield view; for (const child of view.child_views ?? []) { yield* walk(child); } }
  for (const root of Bokeh.index.roots) {
    for (const view of walk(root)) {
      if (view.model.type !== "Figure") continue;
      if (!view.model.renderers.some((r) => r.data_source && r.data_source.data.hatch)) continue;
      const canvas = view.canvas_view.el.getBoundingClientRect();
      const frame = view.frame.bbox;
      found.plot = {left: canvas.left, top: canvas.top, right: canvas.right, bottom: canvas.bottom};
      found.frame = {width: frame.width, height: frame.height,
                     xspan: view.frame.x_range.end - view.frame.x_range.start,
                     yspan: view.frame.y_range.end - view.frame.y_range.start};
      // Every label drawn on the map (states' and countries'), as a box in canvas pixels.
      const measure = document.createElement("canvas").getContext("2d");
      found.labels = [];
      for (const r of view.model.renderers) {
        const data = r.data_source && r.data_source.data;
        const column = data && (data.label ? "label" : data.text ? "text" : null);
        if (!column || !data.x || !r.visible) continue;
        const size = String(r.glyph.text_font_size.value ?? r.glyph.text_font_size);
        const px = size.endsWith("pt") ? parseFloat(size) * 4 / 3 : parseFloat(size);
        measure.font = `bold ${px}px sans-serif`;
        Array.from(data.x).forEach((x, i) => {
          const lines = String(data[column][i]).split("\\n");
          const w = Math.max(...lines.map((l) => measure.measureText(l).width));
          const h = lines.length * px * 1.2;
          const cx = view.frame.x_scale.compute(x), cy = view.frame.y_scale.compute(data.y[i]);
          found.labels.push({text: lines.join(" "), px, left: cx - w / 2, right: cx + w / 2,
                             top: cy - h / 2, bottom: cy + h / 2});
        });
      }
      const children = [...walk(view), ...(view.renderer_views ? view.renderer_views.values() : [])];
      for (const child of children) {
        if (child.model.type === "ColorBar") {
          const b = child.bbox;
          found.colorbar = {left: canvas.left + b.left, top: canvas.top + b.top,
                            right: canvas.left + b.right, bottom: canvas.top + b.bottom,
                            visible: child.model.visible};
        }
      }
    }
  }
  found.scroll = [document.documentElement.scrollWidth, document.documentElement.scrollHeight];
  return found;
}"""


@pytest.fixture(scope="module")
def official_dir(demo_dir, shared_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp("official-present")
    for name in ("events.parquet", "flows.parquet", "manifest.json"):
        shutil.copy(demo_dir / name, folder / name)
    geo.import_boundaries(shared_data / "cod-ab" / "sdn_admbnda_adm1_cbs_nic_ssa_20200831.json", folder)
    return folder


def overlap(a: dict, b: dict) -> float:
    """The share of the smaller of two boxes that the other covers."""
    w = min(a["right"], b["right"]) - max(a["left"], b["left"])
    h = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    if w <= 0 or h <= 0:
        return 0.0
    area = min(
        (a["right"] - a["left"]) * (a["bottom"] - a["top"]),
        (b["right"] - b["left"]) * (b["bottom"] - b["top"]),
    )
    return w * h / area


def inside(box: dict, width: int, height: int, slack: float = 1.0) -> bool:
    return (
        box["left"] >= -slack
        and box["top"] >= -slack
        and box["right"] <= width + slack
        and box["bottom"] <= height + slack
    )


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 720)], ids=["1080p", "720p"])
def test_presentation_mode_fits_the_screen(size, serve, official_dir, page, artifacts):
    width, height = size
    served = serve(ENTRY_POINTS["script"], official_dir)
    watch = PageWatch(page)
    page.set_viewport_size({"width": width, "height": height})
    page.goto(
        f"{served.url}?present=1&indicator=return&period=2024", wait_until="networkidle", timeout=90_000
    )
    wait_idle(page)
    page.wait_for_timeout(1500)  # the responsive map settles its size after the first layout
    page.screenshot(path=artifacts / f"present-{width}x{height}.png")
    boxes = page.evaluate(BOXES_JS)
    assert boxes["scroll"][0] <= width and boxes["scroll"][1] <= height, boxes["scroll"]
    title = boxes["title"][0]
    assert inside(title, width, height) and "AVRR returns" in title["text"] and "2024" in title["text"]
    assert inside(boxes["plot"], width, height), boxes["plot"]
    # The map takes most of the screen's height and keeps its true aspect (a degree is a degree).
    assert boxes["plot"]["bottom"] - boxes["plot"]["top"] > 0.5 * height
    frame = boxes["frame"]
    assert frame["width"] / frame["xspan"] == pytest.approx(frame["height"] / frame["yspan"], rel=0.05)
    colorbar = boxes["colorbar"]
    assert colorbar["visible"] and inside(colorbar, width, height), colorbar
    assert colorbar["right"] <= boxes["plot"]["right"] + 1
    key = boxes["key"][0]
    assert inside(key, width, height) and "IOM office" in key["text"] and "0 (none)" in key["text"]
    footer = boxes["footer"][0]
    assert inside(footer, width, height) and "Sources" in footer["text"]
    assert "adjusted slightly to protect" in footer["text"]
    # Labels readable and apart: state names with counts and the countries of return, none over another.
    labels = boxes["labels"]
    assert len(labels) >= 19 and min(label["px"] for label in labels) >= 9, labels
    crowded = [
        (a["text"], b["text"], round(overlap(a, b), 2))
        for i, a in enumerate(labels)
        for b in labels[i + 1 :]
        if overlap(a, b) > 0.15
    ]
    assert not crowded, crowded
    kpis = boxes["kpi"]
    assert len(kpis) == 4 and all(inside(k, width, height) for k in kpis)
    if width >= 1920:
        assert min(k["size"] for k in kpis) >= 28
    assert not watch.errors, watch.errors
    assert not watch.outside(), watch.outside()
