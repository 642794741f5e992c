"""The live map of the dashboard: drawn once per geometry, then updated in place.

A filter change rewrites only the value columns of the map's Bokeh data sources (colours, labels, hover
figures, office sizes) and the rows of its lines and arrows, so the state polygons are not sent to the
browser again and the user's zoom stays where it was. The figure is drawn by ``flowmon.views.map_figure``
from the column functions of ``flowmon.views.map`` and ``flowmon.views.crossing_map``; a change writes the
same functions' output into its sources. This module only keeps hold of what it drew, and lays the map out
again for the size the browser reports.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param
import shapely
from bokeh.events import Tap

from flowmon import geo, i18n, schema
from flowmon.datastore import ALL, DataStore
from flowmon.views import crossing_map, map_figure
from flowmon.views import map as maps
from flowmon.views.map_figure import FLOW_LAYERS
from flowmon.views.style import HIGH_CONTRAST, SEQUENTIAL

# State labels: 11 px on the dashboard; on a projector 14 px at 1920x1080, smaller on smaller screens (the
# presentation map is laid out again for the size the browser reports, see ``MapView._fit``).
LABEL_PX = 11
LABEL_PX_PRESENT = 14
LABEL_PX_SMALLEST = 9
# Pixels per degree of official boundaries at 1920x1080 in presentation mode: the size type and office
# markers are designed for, and scaled from on smaller screens.
PRESENT_UNIT_PX = 45.0
LABEL_COLUMNS = ("label", "ink", "value")  # of state_columns, in the labels' source


def write_columns(source, columns: dict, *, replace: bool = False) -> None:
    """Rewrite columns of a drawn Bokeh source in one message.

    ``replace`` swaps the whole data (rows may come and go: flow lines); otherwise only the given columns
    change and the rest (the state polygons) is not sent again. The source gets its own copy of each column:
    the columns of a view are shared by every page that shows it.
    """
    own = {name: column.copy() for name, column in columns.items()}
    if replace:
        source.data = own
    else:
        source.data.update(own)


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
        self._figure: map_figure.MapFigure | None = None
        # The plot's size as the browser reports it, and the pixels per map unit it gives.
        self._size: tuple[int, int] | None = None
        self._measured_unit_px: float | None = None
        self._extent: tuple[float, float, float, float] | None = None
        self._land_shape = None  # the states as one shape, made on first use
        self._fit_pending = False
        self._pane = (
            pn.pane.Bokeh(self._build(), sizing_mode="stretch_both", min_height=300)
            if present
            else pn.pane.Bokeh(self._build(), sizing_mode="stretch_width", height=self.height)
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

    def office_positions(self) -> pd.DataFrame:
        offices = self.store.dataset.offices.copy()
        if self.geometry == "official":
            return offices.assign(x=offices["lon"], y=offices["lat"])
        # On tiles, offices sit below the tile's centre (the label is above), fanned out when several.
        placed = geo.office_points_on_tiles(offices).set_index("code")
        return offices.assign(
            x=placed.loc[offices["code"], "x"].to_numpy(), y=placed.loc[offices["code"], "y"].to_numpy()
        )

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
        largest = LABEL_PX_PRESENT if self.present else LABEL_PX
        if self._measured_unit_px is None or (self.geometry == "official" and not self.present):
            return largest
        if self.geometry == "tiles":  # three lines of a state's label above the tile's offices
            fitted = 0.11 * self._tile_px()
        else:
            fitted = LABEL_PX_PRESENT * self._measured_unit_px / PRESENT_UNIT_PX
        return float(np.clip(round(fitted), LABEL_PX_SMALLEST, largest))

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

    def _lay_out_labels(self) -> None:
        """Official boundaries: the markers labels step aside for (``_marks``), and the state labels placed
        clear of them and of each other, small states called out (``_placed``); neither on tiles. Both hold
        until the map is drawn or fitted again: a filter change only reads them."""
        bounds = self._frame_bounds()
        if bounds is None:
            self._marks = self._placed = None
            return
        self._marks = self._markers()
        widest = "000,000"
        texts = [f"{maps.wrap(name)}\n{widest}" for name in self._names]
        self._placed = maps.place_labels(
            self.shapes, texts, unit_px=self._unit_px(), font_px=self._label_px(), obstacles=self._marks,
            bounds=self._visible_bounds(),
        )  # fmt: skip

    def _markers(self) -> pd.DataFrame:
        """The office and crossing-point markers on official boundaries: ``x``, ``y`` and ``r`` (pixels: the
        largest a marker is drawn, and a little room)."""
        offices = self._offices.assign(r=15 * self._office_scale + 2)[["x", "y", "r"]]
        if self.store.dataset.crossings.empty:
            return offices
        points = crossing_map.positions(schematic=False).assign(r=18 * self._scale + 2)  # the largest
        return pd.concat([offices, points[["x", "y", "r"]]], ignore_index=True)

    def _build(self):
        """The map drawn anew for the current view (``flowmon.views.map_figure``)."""
        view = self.store.view
        shapes = self.shapes.reset_index(drop=True)
        self._size = self._measured_unit_px = None  # until the browser reports the new plot's size
        self._offices = self.office_positions()
        self._lay_out_labels()
        self._points = maps.label_points(shapes)
        flows = {name: self._layer_columns(name, view) for name in FLOW_LAYERS}
        self._extent = self._aspect_extent(flows)
        values = self._state_values(view)
        columns = maps.state_columns(shapes["pcode"], values, self._names)
        self._clickable = maps.with_chips(shapes, self._placed)
        states = maps.polygon_columns(self._clickable) | {
            "pcode": shapes["pcode"].astype(str).tolist(),
            "name_en": shapes["name_en"].astype(str).tolist(),
            "name_ar": shapes["name_ar"].astype(str).tolist(),
        } | {name: columns[name] for name in maps.POLYGON_VALUE_COLUMNS}  # fmt: skip
        offices = self._offices_now()
        office_columns = {"x": offices["x"].to_numpy(), "y": offices["y"].to_numpy()} | {
            name: offices[name].astype(str).tolist() for name in ("code", "name", "type")
        } | maps.office_columns(offices, self._office_values(view), scale=self._office_scale)  # fmt: skip
        outlines = self.store.dataset.outlines
        drawn = map_figure.draw(
            states=states,
            labels=self._label_columns(columns),
            offices=office_columns,
            flows=flows,
            leaders=maps.leader_columns(self._placed),
            extent=self._extent,
            outlines=maps.polygon_columns(outlines)
            if self.geometry == "official" and outlines is not None and not outlines.empty
            else None,
            palette=HIGH_CONTRAST if self.present else SEQUENTIAL,
            unit=self._unit(),
            color_high=maps.color_limits(values["value"])[1],
            label_px=self._label_px(),
            scale=self._scale,
            schematic=self.geometry == "tiles",
            present=self.present,
            height=self.height,
        )
        drawn.layers["offices"].visible = self._shows_offices(view)
        drawn.colorbar.visible = not maps.scale_note(columns["value"], self._unit(), self.language)
        self._select(drawn)
        drawn.figure.on_event(Tap, self._on_tap)
        for size in ("inner_width", "inner_height"):
            drawn.figure.on_change(size, self._on_size)
        self._figure = drawn
        return drawn.figure

    def _label_columns(self, columns: dict) -> dict:
        """The state labels' source: where each goes, words and ink."""
        return self._label_xy() | {key: columns[key] for key in LABEL_COLUMNS}

    def _label_xy(self) -> dict:
        """Where each state's label goes, in the states' order: its state's point, or its callout."""
        shapes = self.shapes.reset_index(drop=True)
        if self._placed is None:
            points = self._points.assign(y=self._points["y"] + maps.label_offset(shapes))
        else:
            points = self._placed.set_index("pcode").reindex(shapes["pcode"])
        return {"x": points["x"].to_numpy(), "y": points["y"].to_numpy()}

    def _on_size(self, attr, old, new) -> None:
        """The browser reports the plot's size: lay labels, offices and arrows out for it."""
        if self._fit_pending:
            return
        document = pn.state.curdoc
        if document is not None and document.session_context is not None:
            # Not inside the event (Bokeh refuses writes to a document while dispatching one), and once
            # for the width and height reported together.
            self._fit_pending = True
            document.add_next_tick_callback(self._fit_reported)
        else:
            self._fit_reported()

    def _fit_reported(self) -> None:
        self._fit_pending = False
        width, height = self._figure.figure.inner_width, self._figure.figure.inner_height
        if width and height and (width, height) != self._size:
            self._fit(width, height)

    def _fit(self, width: int, height: int) -> bool:
        """Type, offices, callouts and visible range for a plot of ``width`` x ``height`` pixels.

        Placed at draw time for a map 580 px high (1920x1080 in presentation mode), the labels of a smaller
        plot would overlap; here they are placed again with the pixels per degree the screen really gives.
        Whether it laid the map out again (and wrote the view's values): not when nothing would change.
        """
        # The ranges are the extent widened to the plot's aspect (``match_aspect``): what the screen shows.
        xmin, ymin, xmax, ymax = self._extent
        laid_out = (self._label_px(), self._unit_px())
        self._size = (width, height)
        self._measured_unit_px = min(width / (xmax - xmin), height / (ymax - ymin))
        label_px, unit_px = self._label_px(), self._unit_px()
        same_scale = unit_px is None or abs(unit_px / laid_out[1] - 1) < 0.05
        if not self.present and label_px == laid_out[0] and same_scale:
            return False  # laid out for this size already: nothing to send
        self._lay_out_labels()
        drawn = self._figure
        if self._placed is not None:
            shapes = self._clickable = maps.with_chips(self.shapes.reset_index(drop=True), self._placed)
            write_columns(drawn.source("states"), maps.polygon_columns(shapes))
            write_columns(drawn.source("labels"), self._label_xy())
            write_columns(drawn.source("leaders"), maps.leader_columns(self._placed), replace=True)
        drawn.layers["labels"].glyph.text_font_size = f"{self._label_px()}px"
        if self.present:
            drawn.colorbar.update(**map_figure.colorbar_style(self._label_px()))
        # The country labels of the return arrows (after their lines and heads).
        drawn.layers["return2"].glyph.text_font_size = f"{maps.return_label_pt(self._scale)}pt"
        self._update()
        return True

    def _aspect_extent(self, flows: dict[str, list[maps.Columns]]) -> tuple[float, float, float, float]:
        """What the map shows at least (its ranges widen it to the plot's aspect): the official frame, or the
        tiles and whatever ``flows`` (``_flow_columns``) draws beyond them (return arrows, their labels and
        crossing arrows), with a margin; the country labels are wide."""
        if self.geometry == "official":
            return self._frame_bounds()
        xmin, ymin, xmax, ymax = self.shapes.total_bounds
        xs, ys = [np.array([xmin, xmax])], [np.array([ymin, ymax])]
        for layer in (*flows.get("return", ()), *flows.get("crossing", ())):
            for x, y in (("x0", "y0"), ("x1", "y1"), ("x", "y")):
                if x in layer:
                    xs.append(np.asarray(layer[x], dtype=float))
                    ys.append(np.asarray(layer[y], dtype=float))
        xs, ys = np.concatenate(xs), np.concatenate(ys)
        xmin, xmax, ymin, ymax = np.nanmin(xs), np.nanmax(xs), np.nanmin(ys), np.nanmax(ys)
        span = max(xmax - xmin, ymax - ymin)
        labelled = any(len(layer["x"]) for layer in flows.get("return", ())[2:])
        pad_x, pad_y = (0.14 if labelled else 0.05) * span, 0.05 * span
        return (xmin - pad_x, ymin - pad_y, xmax + pad_x, ymax + pad_y)

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
        """Where the return arrows' labels may go on the map as it is laid out now: clear of the state labels
        and of the markers (a country's name over an office read "South S(o)dan")."""
        return {"bounds": self._visible_bounds(), "unit_px": self._unit_px(), "avoid": self._placed,
                "markers": self._marks, "land": self._land, "language": self.language}  # fmt: skip

    def _flow_columns(self, view) -> dict[str, list[maps.Columns]]:
        """Per ``FLOW_LAYERS`` name, the columns of each of its layers, in drawing order.

        A name with nothing to draw whose layers are empty in the browser already is left out: most views
        draw no lines, and their sources then stay as they are (no work, no message to the browser).
        """
        return {name: self._layer_columns(name, view) for name in FLOW_LAYERS
                if not (self._nothing_to_draw(name, view) and self._empty_in_browser(name))}  # fmt: skip

    def _layer_columns(self, name: str, view) -> list[maps.Columns]:
        """The columns of each layer of ``name`` (``FLOW_LAYERS``), in drawing order."""
        if name == "return":  # labels placed for this page's layout: its own
            return list(maps.return_columns(self._returns(view), self._points, self.store.dataset.countries,
                                            scale=self._scale, **self._return_placement()))  # fmt: skip

        def layers() -> list[maps.Columns]:
            if name == "flow":
                return list(maps.flow_columns(self._displacement(view), self._points, scale=self._scale))
            return crossing_map.layer_columns(view, schematic=self.geometry == "tiles", scale=self._scale)

        return self._of_view(view, (name, self.geometry, self._scale), layers)

    def _nothing_to_draw(self, name: str, view) -> bool:
        """No rows in: every layer of ``name`` comes out empty (rows in may still draw none)."""
        if name == "flow":
            return self._displacement(view).empty
        if name == "return":
            return self._returns(view).empty
        return not crossing_map.has_points(view)

    def _empty_in_browser(self, name: str) -> bool:
        """Whether every layer of ``name`` (``FLOW_LAYERS``) has no rows in the browser."""
        sources = self._figure.flow_sources(name)
        return not any(len(column) for source in sources for column in source.data.values())

    # --- values ---------------------------------------------------------------------------------------
    @staticmethod
    def _of_view(view, key, make):
        """``make()``, worked out once per view and ``key`` (a name, and what else it depends on): a change
        asks for the same tables in several places (the sources, the key), and every page that shows the view
        with the same geometry and language shares them."""
        return view.derived(("map", key), make)

    def _state_values(self, view) -> pd.DataFrame:
        return self._of_view(view, "states", view.map_values)

    def _office_values(self, view) -> pd.DataFrame:
        return self._of_view(view, "offices", lambda: maps.office_values(view))

    def _displacement(self, view) -> pd.DataFrame:
        return self._of_view(view, "displacement", lambda: maps.displacement_flows(view))

    def _returns(self, view) -> pd.DataFrame:
        return self._of_view(view, "returns", lambda: maps.return_flows(view))

    def _update(self, *events) -> None:
        """Rewrite the value columns of the drawn map (geometry untouched)."""
        if self._figure is None:
            return
        drawn = self._figure
        view = self.store.view
        flows = self._flow_columns(view)
        extent = self._aspect_extent(flows)
        if extent != self._extent:
            # Tiles with return arrows need room around them, without them the tiles fill the plot.
            self._extent = extent
            write_columns(drawn.source("extent"), map_figure.extent_columns(extent))
            if self._size is not None and self._fit(*self._size):
                return  # laid out again for the new extent, which came back here
        columns = self._state_columns(view)
        low, high = maps.color_limits(pd.Series(columns["value"]))
        write_columns(drawn.source("states"), {k: columns[k] for k in maps.POLYGON_VALUE_COLUMNS})
        self._select(drawn)
        drawn.color_mapper.update(low=low, high=high)
        drawn.colorbar.title = self._unit()
        drawn.colorbar.ticker.ticks = maps.color_ticks(high)
        # One value or all zero: the key says so instead of a scale of invented steps.
        drawn.colorbar.visible = not maps.scale_note(columns["value"], self._unit(), self.language)
        write_columns(drawn.source("labels"), {key: columns[key] for key in LABEL_COLUMNS})
        drawn.layers["offices"].visible = self._shows_offices(view)
        write_columns(drawn.source("offices"), self._office_columns(view))
        for name, layers in flows.items():
            for source, data in zip(drawn.flow_sources(name), layers, strict=True):
                write_columns(source, data, replace=True)
        directions = crossing_map.drawn_directions(flows["crossing"]) if "crossing" in flows else ()
        key = ("key", self.geometry, self.language, self.present, directions)
        self._key.object = self._of_view(view, key, lambda: self._legend(drawn=directions))

    def _state_columns(self, view) -> dict[str, list]:
        """The states' value columns (colour, label, hover) of ``view``, in the states' order."""
        pcodes = self.shapes["pcode"].reset_index(drop=True)
        key = ("state columns", self.geometry, self.language)
        return self._of_view(
            view, key, lambda: maps.state_columns(pcodes, self._state_values(view), self._names)
        )

    def _office_columns(self, view) -> dict[str, list]:
        """The offices' value columns (size, hollow when closed) of ``view``."""
        scale = self._office_scale
        return self._of_view(view, ("office columns", self.geometry, scale), lambda: maps.office_columns(
            self._offices_now(), self._office_values(view), scale=scale))  # fmt: skip

    def _select(self, drawn: map_figure.MapFigure) -> None:
        """The selected state stands out, its label's chip with it (the labels are in the states' order)."""
        rows = self._selected_rows()
        for name in ("states", "labels"):
            drawn.source(name).selected.indices = rows

    def _selected_rows(self) -> list[int]:
        """The selected state's row in the states' source (the others fade), none when all states show."""
        pcodes = list(self.shapes["pcode"])
        return [pcodes.index(self.store.state)] if self.store.state in pcodes else []

    def _on_tap(self, event) -> None:
        """A click on a state (or its label's chip) selects it; a click on the selected state, or beside
        the states, clears it.

        The store is changed on the next tick, not inside the event: the map's sources are rewritten by that
        change, and Bokeh refuses writes to a document while it is dispatching an event.
        """
        hit = np.flatnonzero(shapely.contains_xy(self._clickable.geometry.to_numpy(), event.x, event.y))
        pcode = str(self._clickable["pcode"].iloc[hit[0]]) if len(hit) else ALL
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
        """The map drawn anew for the current view, on another geometry."""
        self._pane.object = self._build()
        self._key.object = self._legend()

    def __panel__(self):
        if self.present:
            # The map takes whatever height the screen leaves; the key and the note stay under it.
            return pn.Column(self._pane, self._key, self._note, sizing_mode="stretch_both",
                             css_classes=["fm-map-column"])  # fmt: skip
        return pn.Column(self._pane, self._key, self._note, sizing_mode="stretch_width")
