"""Where a served dashboard's time goes: py-spy samples of the server process, summed by what they are in.

``record`` attaches py-spy (``pip install py-spy``; a tool, not a dependency of flowmon) to a running
server for the duration of a benchmark phase and writes its collapsed stacks; ``shares`` reads them and says
what part of the server's busy time was spent inside each part of the stack (a sample counts for every part
its stack passes through, so the parts may overlap: the HoloViews update includes the Bokeh property
changes it makes).
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
    "HoloViews plot updates (charts)": ("holoviews/plotting/",),
    "Panel panes (HTML, tables, KPIs)": ("panel/pane/markup.py", "panel/pane/base.py"),
    "Bokeh serialization (patches out)": ("bokeh/core/serialization.py", "bokeh/protocol/"),
    "Bokeh property changes and events": ("bokeh/core/property/", "bokeh/document/"),
    "page open (Dashboard.__init__)": ("__init__ (flowmon/app.py",),
    "websocket I/O (tornado)": ("tornado/websocket.py", "tornado/iostream.py"),
}


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
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        total += int(count)
        leaf = stack.rsplit(";", 1)[-1]
        own[leaf] = own.get(leaf, 0) + int(count)
        for part, needles in PARTS.items():
            if any(needle in stack for needle in needles):
                inside[part] += int(count)
    result = {part: round(100 * n / total, 1) if total else 0.0 for part, n in inside.items()}
    top = sorted(own.items(), key=lambda item: -item[1])[:10]
    return {**result, "samples": total, "top_own": [(f, round(100 * n / total, 1)) for f, n in top]}


def format_shares(result: dict[str, float]) -> str:
    lines = [f"where the server's busy time went ({result['samples']:,} samples, py-spy):"]
    for part in PARTS:
        lines.append(f"  {part:42} {result[part]:5.1f} %")
    lines.append("the functions most often on top of the stack (own time):")
    for frame, percent in result.get("top_own", []):
        lines.append(f"  {percent:5.1f} %  {frame[:100]}")
    return "\n".join(lines)
