"""flowmon: migration and displacement monitoring for IOM Sudan.

``flowmon.load(data_dir)`` returns the stored tables; ``flowmon.Dashboard`` is the Panel app.
"""

from __future__ import annotations

__version__ = "0.1.0"

from flowmon.store import load

__all__ = ["Dashboard", "__version__", "load"]


def __getattr__(name: str):
    # Panel and HoloViews load only when the dashboard is asked for: the CLI and ingest stay light.
    if name == "Dashboard":
        from flowmon.app import Dashboard

        return Dashboard
    raise AttributeError(f"module 'flowmon' has no attribute {name!r}")
