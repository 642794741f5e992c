"""Colours and labels shared by every view: readable on a projector and for colour-blind viewers."""

from __future__ import annotations

import pandas as pd
from bokeh.palettes import Inferno256, Viridis256

from flowmon import i18n

# Okabe-Ito: distinguishable under the common colour-vision deficiencies.
STREAM_COLORS = {
    "caseload": "#0072B2",
    "return": "#E69F00",
    "referral": "#CC79A7",
    "displacement": "#009E73",
    "crossing": "#56B4E9",
}
# Crossings by direction (Okabe-Ito too): into Sudan, out of Sudan, transit; "all" for the total's marker.
DIRECTION_COLORS = {"in": "#009E73", "out": "#D55E00", "transit": "#999999", "all": "#56B4E9"}
# The English words, from the one place that holds every language's (flowmon.i18n).
STREAM_LABELS = {stream: i18n.text(stream) for stream in STREAM_COLORS}
STREAM_UNITS = {stream: i18n.text(f"unit.{stream}") for stream in STREAM_COLORS}
# Light (few) to dark (many): reversed viridis keeps its lightness ramp, which a projector does not wash out.
SEQUENTIAL = list(reversed(Viridis256))
# For a projector: a longer lightness ramp (pale yellow to near black), still colour-blind safe.
HIGH_CONTRAST = list(reversed(Inferno256))[16:240]
NO_DATA_COLOR = "#f2f2f2"
ZERO_COLOR = "#f3efe0"  # "none": pale and warm, apart from the scale and from grey (hidden)
SUPPRESSED_COLOR = "#d9d9d9"
BORDER_COLOR = "#ffffff"
# Neighbouring countries: faint, for orientation only (Sudan is what the map is about).
CONTEXT_COLOR = "#f3f3f3"
CONTEXT_LINE_COLOR = "#dadada"
SEA_COLOR = "#fbfdff"
OFFICE_COLOR = "#222222"
SUPPRESSED_MARK = "*"


def format_count(value) -> str:
    """A count as shown: thousands separators, or the suppression mark."""
    if pd.isna(value):  # a hidden cell
        return SUPPRESSED_MARK
    return f"{int(value):,}"
