"""The live map of the dashboard: drawn once per geometry, then updated in place.

A filter change rewrites only the value columns of the map's Bokeh data sources (colours, labels, hover
figures, office sizes, flow lines), so the state polygons are not sent to the browser again
(holoviz/holoviews#4453) and the user's zoom stays where it was. The elements themselves come from the pure
builders of ``flowmon.views.map``; this module only keeps hold of what they drew.
"""

from __future__ import annotations

import weakref

import holoviews as hv
import pandas as pd
import panel as pn
import param

from flowmon import geo, i18n
from flowmon.datastore import ALL, DataStore
from flowmon.views import map as maps
from flowmon.views.style import HIGH_CONTRAST, SEQUENTIAL

# State labels: 8 pt on the dashboard; on a projector larger, yet small enough that most states keep
# their label on official boundaries at 1280x720 (the rest get callouts).
LABEL_PX = 11
LABEL_PX_PRESENT = 14
# HoloViews copies a column that a style option is mapped to under the option's name.
_STYLE_COPIES = {"color": "value", "line_width": "width", "fill_color": "fill", "text_color": "ink"}


def write_columns(source, columns: dict, *, replace: bool = False) -> None:
    """Rewrite columns of a drawn Bokeh source (and HoloViews' style copies of them) in one message.

    ``replace`` swaps the whole data (rows may come and go: flow lines); otherwise only the given columns
    change and the rest (the state polygons) is not sent again.
    """
    new = {}
    for key in source.data:
        name = key if key in columns else _STYLE_COPIES.get(key)
        if name in columns:
            new[key] = columns[name]
    if replace:
        source.data = new
    else:
        source.data.update(new)


def element_columns(element: hv.Element) -> dict:
    """The columns HoloViews puts in an element's Bokeh source (dimension names as keys)."""
    frame = element.dframe()
    return {str(c): frame[c].to_numpy() for c in frame.columns}


class MapView(pn.viewable.Viewer):
    """State map with office markers and flow lines, updated in place on every filter change."""

    geometry = param.Selector(default="tiles", objects=["tiles", "official"], doc="Map geometry")

    def __init__(self, store: DataStore, *, language: str = "en", present: bool = False, **params):
        self.store = store
        self.language = language
        self.present = present
        has_official = store.dataset.boundaries is not None
        params.setdefault("geometry", "official" if has_official else "tiles")
        super().__init__(**params)
        if not has_official:
            self.param.geometry.objects = ["tiles"]
        self.height = 860 if present else 640
        self._handles: dict[str, list] = {}
        self.selection: hv.streams.Selection1D | None = None
        self._pane = (
            pn.pane.HoloViews(self._build(), sizing_mode="stretch_both", min_height=300)
            if present
            else pn.pane.HoloViews(self._build(), sizing_mode="stretch_width", height=self.height)
        )
        self._note = pn.pane.HTML(self._geometry_note(), css_classes=["fm-note"], sizing_mode="stretch_width")
        self._key = pn.pane.HTML(
            self._legend(), css_classes=["fm-note", "fm-key"], sizing_mode="stretch_width"
        )
        store.param.watch(self._update, "view")

    # --- geometry -------------------------------------------------------------------------------------
    @property
    def shapes(self):
        dataset = self.store.dataset
        return dataset.boundaries if self.geometry == "official" else dataset.tiles

    @property
    def _names(self) -> pd.Series:
        return self.shapes["name_ar" if self.language == "ar" else "name_en"].reset_index(drop=True)

    def _geometry_note(self) -> str:
        if self.geometry == "official":
            return i18n.text("official", self.language)
        note = f"<b>{i18n.text('schematic', self.language)}</b>"
        if self.store.dataset.boundaries is None and not self.present:
            note += (
                " Official boundaries are not installed: <code>flowmon geo import FILE</code> or "
                "<code>flowmon geo fetch</code>."
            )
        return note

    def missing_names(self) -> list[str]:
        """States the installed boundary file has no area for (shown in the key, counted everywhere else)."""
        if self.geometry != "official":
            return []
        missing = set(self.shapes.attrs.get("missing") or [])
        states = self.store.dataset.states
        column = "name_ar" if self.language == "ar" else "name_en"
        return [f"{name} ({pcode})" for pcode, name in zip(states["pcode"], states[column], strict=True)
                if pcode in missing]  # fmt: skip

    def _legend(self) -> str:
        view = self.store.view
        values = self._state_values(view).set_index("pcode")["value"].reindex(self.shapes["pcode"])
        values = values.astype("float64")
        return maps.legend_html(
            closed=not bool(self._offices_now()["open"].all()),
            zero=bool((values == 0).any()),
            no_value=bool(values.isna().any()),
            flows=bool((self._displacement(view)["value"].fillna(0) > 0).any()),
            returns=bool((self._returns(view)["value"].fillna(0) > 0).any()),
            note=maps.scale_note(values, self._unit()),
            missing=self.missing_names(),
            size=20 if self.present else 14,
        )

    def office_positions(self) -> pd.DataFrame:
        offices = self.store.dataset.offices.copy()
        if self.geometry == "official":
            return offices.assign(x=offices["lon"], y=offices["lat"])
        # On tiles, offices sit below the tile's centre (the label is above), fanned out when several.
        placed = geo.office_points_on_tiles(offices).set_index("code")
        return offices.assign(
            x=placed.loc[offices["code"], "x"].to_numpy(), y=placed.loc[offices["code"], "y"].to_numpy()
        )

    def _capture(self, name: str):
        def hook(view, plot, element):
            view._handles.setdefault(name, []).append(plot.handles)

        return self._hook(hook)

    def _hook(self, function):
        """A plot hook calling ``function(self, plot, element)`` that does not keep this map alive.

        HoloViews keeps an element's options (its hooks too) in a process-wide registry until the element is
        collected; a hook holding the map would hold the element, the session's models and its data
        forever after the session closed.
        """
        owner = weakref.ref(self)

        def hook(plot, element):
            view = owner()
            if view is not None:
                function(view, plot, element)

        return hook

    def _frame_bounds(self) -> tuple[float, float, float, float] | None:
        """Official boundaries: Sudan with a narrow margin (room for callouts and return arrows), not the
        neighbouring countries drawn for context."""
        if self.geometry != "official":
            return None
        xmin, ymin, xmax, ymax = self.shapes.total_bounds
        extent = max(xmax - xmin, ymax - ymin)
        # Wider at the sides, where screens have room and return arrows to Chad or Ethiopia end.
        xpad, ypad = (0.2 if self.present else 0.1) * extent, 0.08 * extent
        return (xmin - xpad, ymin - ypad, xmax + xpad, ymax + ypad)

    def _unit_px(self) -> float | None:
        """Pixels per degree of the official map, at the smallest size it is drawn (labels fit at all)."""
        bounds = self._frame_bounds()
        if bounds is None:
            return None
        frame_px = 560 if self.present else self.height - 60
        return frame_px / (bounds[3] - bounds[1])

    def _label_positions(self) -> pd.DataFrame | None:
        """Official boundaries: labels placed clear of offices and of each other, small states called out."""
        bounds = self._frame_bounds()
        if bounds is None:
            return None
        unit_px = self._unit_px()
        font_px = LABEL_PX_PRESENT if self.present else LABEL_PX
        widest = "000,000"
        texts = [f"{maps.wrap(name)}\n{widest}" for name in self._names]
        offices = self._offices.assign(r=15 * self._scale + 2)[["x", "y", "r"]]
        return maps.place_labels(self.shapes, texts, unit_px=unit_px, font_px=font_px, obstacles=offices,
                                 bounds=bounds)  # fmt: skip

    def _build(self) -> hv.Overlay:
        self._handles = {}
        store, dataset = self.store, self.store.dataset
        shapes = self.shapes
        view = store.view
        self._offices = self.office_positions()
        self._placed = self._label_positions()
        states = maps.choropleth(
            maps.with_chips(shapes, self._placed),
            self._state_values(view),
            unit=self._unit(),
            language=self.language,
            palette=HIGH_CONTRAST if self.present else SEQUENTIAL,
            font_size=f"{LABEL_PX_PRESENT if self.present else LABEL_PX}px",
            label_at=None if self._placed is None else self._placed.assign(callout=False),
        )
        polygons = states.get(0).opts(hooks=[maps.hatch_hook, self._capture("states")])
        labels = states.get(1).opts(hooks=[self._capture("labels")])
        if self.present:
            polygons = polygons.opts(
                colorbar_opts={
                    "major_label_text_font_size": "14pt", "title_text_font_size": "14pt", "width": 22,
                    "formatter": maps.count_format(),
                    "ticker": maps.color_ticker(maps.color_limits(self._state_values(view)["value"])[1]),
                },
            )  # fmt: skip
        self.selection = hv.streams.Selection1D(source=polygons)
        self.selection.add_subscriber(self._on_select)
        self._points = maps.label_points(shapes)
        office_layer = maps.office_markers(self._offices_now(), self._office_values(view), scale=self._scale)
        office_layer = office_layer.opts(hooks=[self._capture("offices")])
        context = maps.context_outlines(dataset.outlines if self.geometry == "official" else None)
        leaders = maps.leader_lines(self._placed) if self._placed is not None else hv.Overlay([])
        # Lines and arrows under the offices, the offices under the labels: no value is ever covered.
        overlay = context * polygons * self._flow_layers(view) * office_layer * leaders * labels
        bounds = self._frame_bounds()
        if bounds is not None:
            overlay = overlay.opts(xlim=(bounds[0], bounds[2]), ylim=(bounds[1], bounds[3]))
        if self.present:
            overlay = overlay.opts(hooks=[self._hook(MapView._match_aspect)])
        return maps.map_frame(
            overlay, schematic=self.geometry == "tiles", height=self.height, responsive=self.present
        )

    def _match_aspect(self, plot, element) -> None:
        """Presentation mode fills a box of any shape: Bokeh widens the states' ranges to the box's aspect
        (``match_aspect`` works on data ranges only), with the margin kept for arrows and callouts."""
        from bokeh.models import DataRange1d

        figure = plot.state
        states = [r for r in figure.renderers if "hatch" in getattr(r.data_source, "data", {})]
        xmin, ymin, xmax, ymax = self.shapes.total_bounds
        if self.geometry == "official":
            left, bottom, right, top = self._frame_bounds()
        else:  # tiles: room around them for the return arrows and their labels
            pad = 0.35 * max(xmax - xmin, ymax - ymin)
            left, bottom, right, top = xmin - pad, ymin - pad, xmax + pad, ymax + pad
        # One padding for both axes: Bokeh pads after matching the aspect, so unequal ones would stretch it.
        padding = max((right - left) / (xmax - xmin), (top - bottom) / (ymax - ymin)) - 1
        figure.x_range = DataRange1d(renderers=states, range_padding=padding)
        figure.y_range = DataRange1d(renderers=states, range_padding=padding)
        figure.match_aspect = True
        figure.aspect_scale = 1

    @property
    def _scale(self) -> float:
        return 1.6 if self.present else 1.0

    def _offices_now(self) -> pd.DataFrame:
        is_open = self.store.view.offices_open
        return self._offices.assign(open=is_open.reindex(self._offices["code"]).fillna(True).to_numpy())

    def _unit(self) -> str:
        return i18n.text(f"unit.{self.store.view.filters.map_stream}", self.language)

    def _flow_elements(self, view) -> tuple[hv.Overlay, hv.Overlay]:
        displacement = maps.flow_lines(self._displacement(view), self._points, scale=self._scale)
        returns = maps.return_arrows(
            self._returns(view), self._points, self.store.dataset.countries, scale=self._scale,
            bounds=self._frame_bounds(), unit_px=self._unit_px(),
        )  # fmt: skip
        return displacement, returns

    def _flow_layers(self, view) -> hv.Overlay:
        layers = []
        for name, element in zip(("flow", "return"), self._flow_elements(view), strict=True):
            for i, layer in enumerate(element):
                layers.append(layer.opts(hooks=[self._capture(f"{name}{i}")]))
        return hv.Overlay(layers)

    # --- values ---------------------------------------------------------------------------------------
    def _state_values(self, view) -> pd.DataFrame:
        return view.map_values()

    def _office_values(self, view) -> pd.DataFrame:
        return maps.office_values(view)

    def _displacement(self, view) -> pd.DataFrame:
        return maps.displacement_flows(view)

    def _returns(self, view) -> pd.DataFrame:
        return maps.return_flows(view)

    def _update(self, *events) -> None:
        """Rewrite the value columns of the drawn map (geometry untouched)."""
        if not self._handles:
            return
        view = self.store.view
        shapes = self.shapes.reset_index(drop=True)
        columns = maps.state_columns(shapes["pcode"], self._state_values(view), self._names)
        low, high = maps.color_limits(pd.Series(columns["value"]))
        note = maps.scale_note(columns["value"], self._unit())
        for handles in self._handles.get("states", []):
            write_columns(handles["source"], {k: columns[k] for k in maps.STATE_VALUE_COLUMNS})
            handles["color_color_mapper"].update(low=low, high=high)
            if "color_colorbar" in handles:
                handles["color_colorbar"].title = self._unit()
                handles["color_colorbar"].ticker.ticks = maps.color_ticks(high)
                # One value or all zero: the key says so instead of a scale of invented steps.
                handles["color_colorbar"].visible = not note
        for handles in self._handles.get("labels", []):
            write_columns(handles["source"], {"label": columns["label"], "ink": columns["ink"]})
        offices = maps.office_columns(self._offices_now(), self._office_values(view), scale=self._scale)
        for handles in self._handles.get("offices", []):
            write_columns(handles["source"], offices)
        for name, element in zip(("flow", "return"), self._flow_elements(view), strict=True):
            for i, layer in enumerate(element):
                data = element_columns(layer)
                for handles in self._handles.get(f"{name}{i}", []):
                    write_columns(handles["source"], data, replace=True)
        self._key.object = self._legend()

    def _on_select(self, index: list[int]) -> None:
        """A click on a state selects it; a click on the selected state (or beside the map) clears it.

        The store is changed on the next tick, not inside the selection event: the map's sources are
        rewritten by that change, and Bokeh refuses writes to a document while it is dispatching an event.
        """
        pcode = str(self.shapes["pcode"].iloc[index[0]]) if index else ALL
        state = ALL if pcode == self.store.state else pcode
        document = pn.state.curdoc
        if document is not None and document.session_context is not None:
            document.add_next_tick_callback(lambda: setattr(self.store, "state", state))
        else:
            self.store.state = state

    @param.depends("geometry", watch=True)
    def _rebuild(self) -> None:
        self._pane.object = self._build()
        self._note.object = self._geometry_note()
        self._key.object = self._legend()

    def __panel__(self):
        if self.present:
            # The map takes whatever height the screen leaves; the key and the note stay under it.
            return pn.Column(self._pane, self._key, self._note, sizing_mode="stretch_both",
                             css_classes=["fm-map-column"])  # fmt: skip
        return pn.Column(self._pane, self._key, self._note, sizing_mode="stretch_width")
