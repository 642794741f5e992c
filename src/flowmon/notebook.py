"""The dashboard's JavaScript and styles in a Jupyter notebook: shipped once, inline, nothing from a CDN.

A notebook starts with ``flowmon.notebook.extension()``. Panel and HoloViews each publish their loader when
called (HoloViews' bokeh extension, then Panel's, then again for every ``Dashboard``), each loader under two
MIME types, and ``hv.extension`` without ``inline=True`` names CDN URLs (es-module-shims on cdn.holoviz.org).
Here both are loaded inline in one go and republished once: the ~3 MB bundle appears one time in an executed
notebook, under the MIME type JupyterLab's pyviz extension runs (it outranks ``application/javascript``).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys

import holoviews as hv
import panel as pn
from holoviews.core.dimension import Dimensioned

# What @pyviz/jupyterlab_pyviz (installed with pyviz_comms, a Panel dependency) executes, in JupyterLab and
# Notebook 7. The same script as application/javascript is a second copy that JupyterLab never runs.
LOAD_MIME = "application/vnd.holoviews_load.v0+json"
_published = False


def in_kernel() -> bool:
    """Whether this runs in a Jupyter kernel (a notebook or a console), where loaders are displayed."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def load_inline(raw_css: list[str], *, again: bool) -> None:
    """Panel and HoloViews (bokeh) with every script and stylesheet inline, ``raw_css`` added.

    In a kernel the loader is displayed once; later calls with ``again=False`` (each ``Dashboard``) display
    nothing. ``again=True`` displays it anew: the notebook's first cell, re-run after the page was reloaded.
    """
    global _published
    if not in_kernel():
        pn.extension(inline=True, raw_css=raw_css, loading_indicator=True)
        hv.extension("bokeh", logo=False, inline=True)
        return
    if _published and not again:
        return
    from IPython import get_ipython
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        hv.extension("bokeh", logo=False, inline=True)  # the full bundle, once
        pn.extension(inline=True, raw_css=raw_css, loading_indicator=True)  # only what the first lacks
    _republish(captured)
    _published = True
    if _local_dist not in pn.viewable.Viewable._preprocessing_hooks:
        pn.viewable.Viewable._preprocessing_hooks.append(_local_dist)
    # HoloViews displays its objects itself, linking Panel's theme stylesheets on cdn.holoviz.org; a Panel
    # pane inlines them. A printer registered for a type comes before the object's own _repr_mimebundle_.
    formatter = get_ipython().display_formatter.mimebundle_formatter
    formatter.for_type(Dimensioned, lambda obj: pn.panel(obj)._repr_mimebundle_())


def _dist_url() -> str:
    """Where Panel's Jupyter server extension (installed with Panel, enabled by default) serves Panel's
    own files: models Panel makes on an update link their stylesheets there, not on cdn.holoviz.org."""
    base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/").rstrip("/")
    return f"{base}/panel-preview/static/extensions/panel/"


def _local_dist(viewable, root, changed=None, old_models=None) -> None:
    """Stylesheets that reach a notebook after its first drawing come from the Jupyter server.

    The first drawing inlines Panel's stylesheets. Afterwards Panel links each stylesheet it sends (models
    made for a layout change, a pane re-sending all its properties on an update) at its document's
    ``dist_url``, cdn.holoviz.org when that is unset. Every notebook document (one without a server session)
    gets ``_dist_url()``; the first drawing has been made by then, so it stays inline.
    """
    from panel.io.state import state

    for doc in list(state._stylesheets):
        if doc.session_context is None:
            doc._template_variables.setdefault("dist_url", _dist_url())


def _republish(captured) -> None:
    from IPython.display import publish_display_data

    sys.stdout.write(captured.stdout)
    sys.stderr.write(captured.stderr)
    seen: set[str] = set()
    for output in captured.outputs:
        data = dict(output.data)
        if LOAD_MIME in data:
            data.pop("application/javascript", None)
        # Panel's comm manager script and notebook styles come with each loader, identical: keep one.
        key = hashlib.sha256(json.dumps([data, output.metadata], sort_keys=True).encode()).hexdigest()
        if key in seen:
            continue
        seen.add(key)
        publish_display_data(data, output.metadata, transient=output.transient)


def extension() -> None:
    """Set up this notebook for flowmon: the dashboard's scripts and styles, inline, shown once.

    Works offline (nothing is requested from a CDN) and in a served notebook (``panel serve``), where the
    server ships the scripts instead.
    """
    from flowmon import app

    app.load_extensions(again=True)
