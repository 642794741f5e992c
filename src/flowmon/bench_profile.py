"""Where a served dashboard's time goes: py-spy samples of the server process, summed by what they are in.

``record`` attaches py-spy (``pip install py-spy``; a tool, not a dependency of flowmon) to a running
server for the duration of a benchmark phase and writes its collapsed stacks; ``shares`` reads them and says
what part of the server's busy time was spent inside each part of the stack (a sample counts for every part
its stack passes through, so the parts may overlap: a chart's redraw includes the Bokeh property changes
it makes).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

# Part of the stack -> what a frame's "function (file:line)" text contains.
PARTS = {
    "viewdata.build (count, protect, words)": ("build (flowmon/viewdata.py",),
    "  of which aggregate.view_data": ("view_data (flowmon/aggregate.py",),
    "  of which privacy (protection)": ("flowmon/privacy.py",),
    "the map's in-place update (mapview)": ("_update (flowmon/mapview.py",),
    "the charts' in-place redraw (views/charts)": ("flowmon/views/charts.py",),
    "the map's drawing (views/map_figure, per page)": ("draw (flowmon/views/map_figure.py",),
    "Panel panes (HTML, tables, KPIs)": ("panel/pane/markup.py", "panel/pane/base.py"),
    "Bokeh serialization (patches out)": ("bokeh/core/serialization.py", "bokeh/protocol/"),
    "Bokeh property changes and events": ("bokeh/core/property/", "bokeh/document/"),
    "page open (Dashboard.__init__)": ("__init__ (flowmon/app.py",),
    "websocket I/O (tornado)": ("tornado/websocket.py", "tornado/iostream.py"),
}


# Own time by library: a sample goes to the innermost of these its stack passes through (pandas and numpy
# work goes to whoever called them: flowmon's counting, Panel's panes, ...).
LIBRARIES = ("flowmon/", "holoviews/", "bokeh/", "panel/", "param/", "tornado/")


def record(pid: int, duration_s: float, out: Path) -> subprocess.Popen | None:
    """py-spy sampling ``pid`` for ``duration_s`` into ``out`` (collapsed stacks); None without py-spy."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        return None
    command = [spy, "record", "--pid", str(pid), "--duration", str(max(1, int(duration_s))), "--rate", "100",
               "--format", "raw", "--nonblocking", "--output", str(out)]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def shares(collapsed: Path) -> dict[str, float]:
    """Percent of the sampled busy time spent inside each part of ``PARTS``, and the samples taken."""
    total = 0
    inside = dict.fromkeys(PARTS, 0)
    own: dict[str, int] = {}
    library = dict.fromkeys([*LIBRARIES, "other"], 0)
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        frames = stack.split(";")
        leaf = frames[-1]
        owner = next((lib for f in reversed(frames) for lib in LIBRARIES if lib in f), "other")
        library[owner] += int(count)
        own[leaf] = own.get(leaf, 0) + int(count)
        for part, needles in PARTS.items():
            if any(needle in stack for needle in needles):
                inside[part] += int(count)
    result = {part: round(100 * n / total, 1) if total else 0.0 for part, n in inside.items()}
    top = sorted(own.items(), key=lambda item: -item[1])[:10]
    by_library = {lib.strip("/"): round(100 * n / total, 1) if total else 0.0 for lib, n in library.items()}
    top_own = [(f, round(100 * n / total, 1)) for f, n in top]
    return {**result, "samples": total, "by_library": by_library, "top_own": top_own}


def format_shares(result: dict[str, float]) -> str:
    lines = [f"where the server's busy time went ({result['samples']:,} samples, py-spy):"]
    for part in PARTS:
        lines.append(f"  {part:42} {result[part]:5.1f} %")
    if result.get("by_library"):
        shown = ", ".join(f"{lib} {share:.0f} %" for lib, share in result["by_library"].items())
        lines.append(f"own time by library (pandas and numpy count for their caller): {shown}")
    lines.append("the functions most often on top of the stack (own time):")
    for frame, percent in result.get("top_own", []):
        lines.append(f"  {percent:5.1f} %  {frame[:100]}")
    return "\n".join(lines)
