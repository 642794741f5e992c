"""``flowmon profile``: a migration profile of Sudan for one period, printed to A4 from the store.

``build_profile`` (``builder``) lays the published figures of ``viewdata.build`` out in chapters after IOM's
migration profile template, with sentences generated from the figures (``text``) and inline SVG charts
(``charts``); ``write_pdf`` (``pdf``) prints it with headless Chromium, offline; ``cli`` is the command.
"""

from flowmon.profile.builder import Profile, build_profile, write_html
from flowmon.profile.pdf import write_pdf

__all__ = ["Profile", "build_profile", "write_html", "write_pdf"]
