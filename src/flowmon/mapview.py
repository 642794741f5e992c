"""The live map of the dashboard: drawn once per geometry, then updated in place.

A filter change rewrites only the value columns of the map's Bokeh data sources (colours, labels, hover
figures, office sizes, flow lines), so the state polygons are not sent to the browser again
(holoviz/holoviews#4453) and the user's zoom stays where it was. The elements come from the pure builders of
``flowmon.views.map`` and ``flowmon.views.crossing_map`` once, when the map is drawn; a change writes their
column functions' output straight into the drawn sources (building HoloViews elements only to read their
columns back was most of a change's cost). This module only keeps hold of what they drew.
"""

from __future__ import annotations

import weakref

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
import shapely
from bokeh.core.property.vectorization import Field
from holoviews.plotting.bokeh.util import multi_polygons_data

from flowmon import geo, i18n, schema
from flowmon.datastore import ALL, DataStore
from flowmon.views import crossing_map
from flowmon.views import map as maps
from flowmon.views.style import HIGH_CONTRAST, SEQUENTIAL

# State labels: 11 px on the dashboard; on a projector 14 px at 1920x1080, smaller on smaller screens (the
# presentation map is laid out again for the size the browser reports, see ``MapView._fit``).
LABEL_PX = 11
LABEL_PX_PRESENT = 14
LABEL_PX_SMALLEST = 9
# Pixels per degree of official boundaries at 1920x1080 in presentation mode: the size type and office
# markers are designed for, and scaled from on smaller screens.
PRESENT_UNIT_PX = 45.0
# What is drawn over the states, rewritten whole on each change: displacement, returns, crossings.
FLOW_LAYERS = ("flow", "return", "crossing")
# HoloViews copies a column that a style option is mapped to under the option's name.
_STYLE_COPIES = {"color": "value", "line_width": "width", "fill_color": "fill", "text_color": "ink"}
# Styles mapped to a column that a change rewrites (sizes, widths, arrowheads' angles, fills, label ink).
_COLUMN_STYLES = ("line_width", "angle", "size", "fill_color", "text_color")


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


def keep_style_columns(plot, element) -> None:
    """Give a style mapped to a column its column back where HoloViews drew it as one value.

    HoloViews draws a mapped style whose values are all alike (a single arrow, every office open) as one
    value on the glyph and keeps no column: a change would write the column and the glyph not follow it.
    """
    style = hv.Store.lookup_options("bokeh", element, "style").kwargs
    source, renderer = plot.handles["source"], plot.handles["glyph_renderer"]
    rows = len(next(iter(source.data.values()), ()))
    glyphs = [renderer.glyph, renderer.selection_glyph, renderer.nonselection_glyph, renderer.hover_glyph,
              renderer.muted_glyph]  # fmt: skip
    for prop in _COLUMN_STYLES:
        mapped = style.get(prop)
        if not (isinstance(mapped, hv.dim) or (isinstance(mapped, str) and element.get_dimension(mapped))):
            continue
        value = getattr(renderer.glyph, prop)
        if isinstance(value, Field):
            continue
        source.data[prop] = [value] * rows
        for glyph in glyphs:
            if glyph is not None and not isinstance(glyph, str) and getattr(glyph, prop, None) == value:
                setattr(glyph, prop, {"field": prop})


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
        # Presentation mode: the plot's size in the browser, and the pixels per map unit it gives.
        self._size: tuple[int, int] | None = None
        self._measured_unit_px: float | None = None
        self._extent: tuple[float, float, float, float] | None = None
        self._land_shape = None  # the states as one shape, made on first use
        # The FLOW_LAYERS drawn: a group is drawn once a view has rows for it (an empty layer still costs a
        # page ~40 ms of plotting); from then on it stays, updated in place.
        self._groups: set[str] = set()
        self._view_tables: tuple = (None, {})  # the tables of the last view drawn (see ``_of_view``)
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
            commands = "<code>flowmon geo import FILE</code> / <code>flowmon geo fetch</code>"
            note += " " + i18n.text("key.no_boundaries", self.language).format(commands=commands)
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

    def _legend(self, drawn: tuple[str, ...] | None = None) -> str:
        """The map's key; ``drawn``: the crossing arrow directions just drawn, when the caller has them."""
        view = self.store.view
        values = self._state_values(view).set_index("pcode")["value"].reindex(self.shapes["pcode"])
        values = values.astype("float64")
        return maps.legend_html(
            offices=self._shows_offices(view),
            closed=not bool(self._offices_now()["open"].all()),
            zero=bool((values == 0).any()),
            no_value=bool(values.isna().any()),
            flows=bool((self._displacement(view)["value"].fillna(0) > 0).any()),
            returns=bool((self._returns(view)["value"].fillna(0) > 0).any()),
            note=maps.scale_note(values, self._unit(), self.language),
            missing=self.missing_names(),
            size=20 if self.present else 14,
            language=self.language,
        ) + self._crossing_legend(view, drawn)

    def _crossing_legend(self, view, drawn: tuple[str, ...] | None) -> str:
        words = {key: i18n.text(f"crossing.{key}_key", self.language)
                 for key in ("points", "arrows", "arrows_in", "arrows_out")}  # fmt: skip
        return crossing_map.legend_html(view, words=words, size=20 if self.present else 14, drawn=drawn)

    @staticmethod
    def _shows_offices(view) -> bool:
        """Offices are sized by their cases: a view of displacement or crossings alone draws none."""
        return any(s in schema.STREAMS for s in view.filters.streams())

    def _office_visibility(self, plot, element) -> None:
        plot.handles["glyph_renderer"].visible = self._shows_offices(self.store.view)

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
            keep_style_columns(plot, element)  # what a change rewrites is a column of the source
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
        xpad, ypad = (0.2 if self.present else 0.1) * extent, (0.12 if self.present else 0.08) * extent
        return (xmin - xpad, ymin - ypad, xmax + xpad, ymax + ypad)

    def _unit_px(self) -> float | None:
        """Pixels per degree of the official map: as measured in the browser (presentation mode), else at the
        size it is drawn."""
        bounds = self._frame_bounds()
        if bounds is None:
            return None
        if self._measured_unit_px is not None:
            return self._measured_unit_px
        frame_px = 560 if self.present else self.height - 60
        return frame_px / (bounds[3] - bounds[1])

    def _label_px(self) -> float:
        if not self.present:
            return LABEL_PX
        if self._measured_unit_px is None:
            return LABEL_PX_PRESENT
        if self.geometry == "tiles":  # three lines of a state's label above the tile's offices
            fitted = 0.11 * self._tile_px()
        else:
            fitted = LABEL_PX_PRESENT * self._measured_unit_px / PRESENT_UNIT_PX
        return float(np.clip(round(fitted), LABEL_PX_SMALLEST, LABEL_PX_PRESENT))

    def _visible_bounds(self) -> tuple[float, float, float, float] | None:
        """What the presentation map shows: its extent widened to the plot's measured aspect."""
        bounds = self._frame_bounds()
        if bounds is None or self._size is None:
            return bounds
        width, height = self._size
        unit_px = self._measured_unit_px
        xmin, ymin, xmax, ymax = self._extent
        cx, cy = (xmin + xmax) / 2, (ymin + ymax) / 2
        half_w, half_h = width / unit_px / 2, height / unit_px / 2
        return (cx - half_w, cy - half_h, cx + half_w, cy + half_h)

    def _label_positions(self) -> pd.DataFrame | None:
        """Official boundaries: labels placed clear of offices and of each other, small states called out."""
        bounds = self._frame_bounds()
        if bounds is None:
            return None
        widest = "000,000"
        texts = [f"{maps.wrap(name)}\n{widest}" for name in self._names]
        offices = self._offices.assign(r=15 * self._office_scale + 2)[["x", "y", "r"]]
        if not self.store.dataset.crossings.empty:  # crossing points stand where they are: labels step aside
            points = crossing_map.positions(schematic=False).assign(r=18 * self._scale + 2)  # the largest
            offices = pd.concat([offices, points[["x", "y", "r"]]], ignore_index=True)
        return maps.place_labels(self.shapes, texts, unit_px=self._unit_px(), font_px=self._label_px(),
                                 obstacles=offices, bounds=self._visible_bounds())  # fmt: skip

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
            font_size=f"{self._label_px()}px",
            label_at=self._placed,
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
        office_layer = maps.office_markers(
            self._offices_now(), self._office_values(view), scale=self._office_scale
        )
        hooks = [self._capture("offices"), self._hook(MapView._office_visibility)]
        office_layer = office_layer.opts(hooks=hooks)
        # Neighbouring countries on the official map only (no empty layer to plot on tiles).
        context = [maps.context_outlines(dataset.outlines)] if self.geometry == "official" else []
        leaders = (
            maps.leader_lines(self._placed).opts(hooks=[self._capture("leaders")])
            if self._placed is not None
            else hv.Overlay([])
        )
        # Lines and arrows under the offices, the offices under the labels: no value is ever covered.
        overlay = hv.Overlay([*context, polygons]) * self._flow_layers(view) * office_layer * leaders * labels
        bounds = self._frame_bounds()
        if bounds is not None:
            overlay = overlay.opts(xlim=(bounds[0], bounds[2]), ylim=(bounds[1], bounds[3]))
        if self.present:
            # An invisible box the size of what must show: the ranges follow it, not the callouts' chips.
            self._extent = xmin, ymin, xmax, ymax = self._aspect_extent()
            extent = hv.Points([(xmin, ymin), (xmax, ymax)], label="extent").opts(
                alpha=0, size=1, tools=[], hooks=[self._capture("extent")]
            )
            overlay = (overlay * extent).opts(hooks=[self._hook(MapView._match_aspect)])
            self._size = self._measured_unit_px = None
            plot_size = hv.streams.PlotSize(source=polygons)
            plot_size.add_subscriber(self._on_size)
        return maps.map_frame(
            overlay, schematic=self.geometry == "tiles", height=self.height, responsive=self.present
        )

    def _match_aspect(self, plot, element) -> None:
        """Presentation mode fills a box of any shape: Bokeh widens the states' ranges to the box's aspect
        (``match_aspect`` works on data ranges only), with the margin kept for arrows and callouts."""
        from bokeh.models import DataRange1d

        figure = plot.state
        extent = [handles["glyph_renderer"] for handles in self._handles.get("extent", [])]
        figure.x_range = DataRange1d(renderers=extent, range_padding=0)
        figure.y_range = DataRange1d(renderers=extent, range_padding=0)
        figure.match_aspect = True
        figure.aspect_scale = 1

    def _on_size(self, width: int | None = None, height: int | None = None, **_) -> None:
        """The browser reports the presentation map's size: lay labels, offices and arrows out for it."""
        if not width or not height or (width, height) == self._size:
            return
        document = pn.state.curdoc
        if document is not None and document.session_context is not None:
            # Not inside the event: Bokeh refuses writes to a document while dispatching one.
            document.add_next_tick_callback(lambda: self._fit(width, height))
        else:
            self._fit(width, height)

    def _fit(self, width: int, height: int) -> None:
        """Type, offices, callouts and visible range for a plot of ``width`` x ``height`` pixels.

        Placed at draw time for 1920x1080, the labels of a 1280x720 projector would overlap; here they are
        placed again with the pixels per degree the screen really gives.
        """
        if not self._handles.get("states"):
            return
        # The ranges are the extent widened to the plot's aspect (``_match_aspect``): what the screen shows.
        xmin, ymin, xmax, ymax = self._extent
        self._size = (width, height)
        self._measured_unit_px = min(width / (xmax - xmin), height / (ymax - ymin))
        self._placed = self._label_positions()
        font = f"{self._label_px()}px"
        if self._placed is not None:
            shapes = maps.with_chips(self.shapes.reset_index(drop=True), self._placed)
            xs, ys = multi_polygons_data(hv.Polygons(maps.polygon_records(shapes, []), vdims=[]))
            for handles in self._handles["states"]:
                write_columns(handles["source"], {"xs": xs, "ys": ys})
            at = self._placed.set_index("pcode").reindex(shapes["pcode"])
            for handles in self._handles.get("labels", []):
                write_columns(handles["source"], {"x": at["x"].to_numpy(), "y": at["y"].to_numpy()})
            leaders = maps.leader_columns(self._placed)
            for handles in self._handles.get("leaders", []):
                write_columns(handles["source"], leaders, replace=True)
        for handles in self._handles.get("labels", []):
            handles["glyph"].text_font_size = font
        for handles in self._handles.get("return2", []):  # the country labels, after lines and heads
            handles["glyph"].text_font_size = f"{maps.return_label_pt(self._scale)}pt"
        self._update()

    def _aspect_extent(self) -> tuple[float, float, float, float]:
        """What the presentation map shows at least (its ranges widen it to the plot's aspect): the official
        frame, or the tiles with room around them for the return arrows and their labels."""
        if self.geometry == "official":
            return self._frame_bounds()
        xmin, ymin, xmax, ymax = self.shapes.total_bounds
        returns = (self._returns(self.store.view)["value"].fillna(0) > 0).any()
        pad = (0.35 if returns else 0.1) * max(xmax - xmin, ymax - ymin)
        return (xmin - pad, ymin - pad, xmax + pad, ymax + pad)

    @property
    def _land(self):
        """The states as one shape (official boundaries), for labels that should stand beside them."""
        if self.geometry != "official":
            return None
        if self._land_shape is None:
            self._land_shape = shapely.union_all(self.shapes.geometry.to_numpy())
            shapely.prepare(self._land_shape)  # asked of many candidate boxes on every change
        return self._land_shape

    def _tile_px(self) -> float:
        return maps.tile_size(self.shapes) * self._measured_unit_px

    @property
    def _scale(self) -> float:
        """Lines, arrows and their labels: larger on a projector, with the type on smaller screens."""
        if not self.present:
            return 1.0
        return 1.6 * self._label_px() / LABEL_PX_PRESENT

    @property
    def _office_scale(self) -> float:
        if self.geometry == "tiles" and not self.present:
            return 0.8  # the largest office a third of an 80 px tile: clear of the count above it
        if self._measured_unit_px is None or self.geometry != "tiles":
            return self._scale
        # On tiles the largest office is a third of its tile wide: clear of the label above it.
        return float(np.clip(0.3 * self._tile_px() / 30, 0.5, 1.6))

    def _offices_now(self) -> pd.DataFrame:
        is_open = self.store.view.offices_open
        return self._offices.assign(open=is_open.reindex(self._offices["code"]).fillna(True).to_numpy())

    def _unit(self) -> str:
        return i18n.text(f"unit.{self.store.view.filters.map_stream}", self.language)

    def _return_placement(self) -> dict:
        """Where the return arrows' labels may go on the map as it is laid out now."""
        return {"bounds": self._visible_bounds(), "unit_px": self._unit_px(), "avoid": self._placed,
                "land": self._land, "language": self.language}  # fmt: skip

    def _flow_layers(self, view) -> hv.Overlay:
        """The lines, arrows and crossing points as elements (drawn once; ``_flow_columns`` on a change)."""
        self._groups |= self._with_rows(view)
        layers = []
        for name in FLOW_LAYERS:
            if name in self._groups:
                for i, layer in enumerate(self._layer_elements(name, view)):
                    layers.append(layer.opts(hooks=[self._capture(f"{name}{i}")]))
        return hv.Overlay(layers)

    def _layer_elements(self, name: str, view):
        """The elements of ``name`` (``FLOW_LAYERS``), as ``_layer_columns`` gives their columns."""
        if name == "flow":
            return maps.flow_lines(self._displacement(view), self._points, scale=self._scale)
        if name == "return":
            return maps.return_arrows(self._returns(view), self._points, self.store.dataset.countries,
                                      scale=self._scale, **self._return_placement())  # fmt: skip
        return crossing_map.layers(view, schematic=self.geometry == "tiles", scale=self._scale)

    def _flow_columns(self, view) -> dict[str, list[maps.Columns]]:
        """Per ``FLOW_LAYERS`` name, the columns of each of its layers, in ``_flow_layers``' order.

        A name with nothing to draw whose layers are empty in the browser already is left out: most views
        draw no lines, and their sources then stay as they are (no work, no message to the browser).
        """
        return {name: self._layer_columns(name, view) for name in FLOW_LAYERS
                if not (self._nothing_to_draw(name, view) and self._empty_in_browser(name))}  # fmt: skip

    def _layer_columns(self, name: str, view) -> list[maps.Columns]:
        """The columns of each layer of ``name`` (``FLOW_LAYERS``), in ``_flow_layers``' order."""
        if name == "flow":
            return list(maps.flow_columns(self._displacement(view), self._points, scale=self._scale))
        if name == "return":
            return list(maps.return_columns(self._returns(view), self._points, self.store.dataset.countries,
                                            scale=self._scale, **self._return_placement()))  # fmt: skip
        return crossing_map.layer_columns(view, schematic=self.geometry == "tiles", scale=self._scale)

    def _with_rows(self, view) -> set[str]:
        """The ``FLOW_LAYERS`` that ``view`` has rows for."""
        return {name for name in FLOW_LAYERS if not self._nothing_to_draw(name, view)}

    def _nothing_to_draw(self, name: str, view) -> bool:
        """No rows in: every layer of ``name`` comes out empty (rows in may still draw none)."""
        if name == "flow":
            return self._displacement(view).empty
        if name == "return":
            return self._returns(view).empty
        return not crossing_map.has_points(view)

    def _empty_in_browser(self, name: str) -> bool:
        """Whether every drawn layer of ``name`` (``FLOW_LAYERS``: ``flow0``, ``flow1``, ...) has no rows."""
        sources = [handles["source"] for key, drawn in self._handles.items()
                   if key.rstrip("0123456789") == name for handles in drawn]  # fmt: skip
        return not any(len(column) for source in sources for column in source.data.values())

    # --- values ---------------------------------------------------------------------------------------
    def _of_view(self, view, name: str, table):
        """``table(view)``, worked out once per view: a change asks for the same tables in several places
        (the sources, the key). Views are immutable; only the last one is kept."""
        last, tables = self._view_tables
        if last is not view:
            tables = {}
            self._view_tables = (view, tables)
        if name not in tables:
            tables[name] = table(view)
        return tables[name]

    def _state_values(self, view) -> pd.DataFrame:
        return self._of_view(view, "states", lambda v: v.map_values())

    def _office_values(self, view) -> pd.DataFrame:
        return self._of_view(view, "offices", maps.office_values)

    def _displacement(self, view) -> pd.DataFrame:
        return self._of_view(view, "displacement", maps.displacement_flows)

    def _returns(self, view) -> pd.DataFrame:
        return self._of_view(view, "returns", maps.return_flows)

    def _update(self, *events) -> None:
        """Rewrite the value columns of the drawn map (geometry untouched)."""
        if not self._handles:
            return
        if self.present and self._aspect_extent() != self._extent:
            # Tiles with return arrows need room around them, without them the tiles fill the screen.
            self._extent = xmin, ymin, xmax, ymax = self._aspect_extent()
            for handles in self._handles.get("extent", []):
                write_columns(handles["source"], {"x": [xmin, xmax], "y": [ymin, ymax]})
            if self._size is not None:
                self._fit(*self._size)  # lays the map out again, then comes back here
                return
        view = self.store.view
        if self._with_rows(view) - self._groups:
            # Lines, arrows or crossing points for the first time on this page: the map is drawn again
            # with their layers (once; later changes write into them).
            self._redraw()
            return
        shapes = self.shapes.reset_index(drop=True)
        columns = maps.state_columns(shapes["pcode"], self._state_values(view), self._names)
        low, high = maps.color_limits(pd.Series(columns["value"]))
        note = maps.scale_note(columns["value"], self._unit(), self.language)
        for handles in self._handles.get("states", []):
            write_columns(handles["source"], {k: columns[k] for k in maps.POLYGON_VALUE_COLUMNS})
            handles["color_color_mapper"].update(low=low, high=high)
            if "color_colorbar" in handles:
                handles["color_colorbar"].title = self._unit()
                handles["color_colorbar"].ticker.ticks = maps.color_ticks(high)
                # One value or all zero: the key says so instead of a scale of invented steps.
                handles["color_colorbar"].visible = not note
        for handles in self._handles.get("labels", []):
            write_columns(handles["source"], {"label": columns["label"], "ink": columns["ink"]})
        offices = maps.office_columns(
            self._offices_now(), self._office_values(view), scale=self._office_scale
        )
        for handles in self._handles.get("offices", []):
            handles["glyph_renderer"].visible = self._shows_offices(view)
            write_columns(handles["source"], offices)
        flows = self._flow_columns(view)
        for name, layers in flows.items():
            for i, data in enumerate(layers):
                for handles in self._handles.get(f"{name}{i}", []):
                    write_columns(handles["source"], data, replace=True)
        drawn = crossing_map.drawn_directions(flows["crossing"]) if "crossing" in flows else ()
        self._key.object = self._legend(drawn=drawn)

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
        self._land_shape = None
        self._redraw()
        self._note.object = self._geometry_note()

    def _redraw(self) -> None:
        """The map drawn anew for the current view (another geometry, or its first lines or arrows)."""
        self._pane.object = self._build()
        self._key.object = self._legend()

    def __panel__(self):
        if self.present:
            # The map takes whatever height the screen leaves; the key and the note stay under it.
            return pn.Column(self._pane, self._key, self._note, sizing_mode="stretch_both",
                             css_classes=["fm-map-column"])  # fmt: skip
        return pn.Column(self._pane, self._key, self._note, sizing_mode="stretch_width")
