"""Static maps for reports (matplotlib, no network).

The national map (:func:`static_map`) draws, bottom to top: land, the suitability surface (when
given), open water (the ``water`` layer's sea, lake and estuary polygons), built-up land (the
``built_up`` layer, when the study has one), EHV circuits by voltage (planned ones dashed),
380/220 kV stations, offshore-wind landings, AMS-IX points of presence, the larger towns, and the
sites coloured by verdict (unsuitable below conditional below suitable). Every site carries its
rank on the map and is listed in full, by rank, beside it; the larger towns and the 380 kV
stations are named where there is room. Labels never overlap (:mod:`siting._labels`). The legend
lists each layer drawn and only the verdicts present.
"""

from __future__ import annotations

import textwrap
from os import PathLike
from pathlib import Path

import numpy as np

__all__ = ["static_map", "national_figure"]

_KV_STYLE = {380: ("#3f007d", 1.4), 220: ("#6baed6", 1.0)}
#: Kinds of the ``water`` layer drawn as open water (polygons).
WATER_KINDS = ("sea", "lake", "estuary")
WATER_COLOUR = "#b3d3ee"
BUILT_UP_COLOUR = "#cfcfcf"
LAND_COLOUR = "#f4f4f0"
LANDING_COLOUR = "#01665e"
IX_COLOUR = "#6a3d9a"
#: Verdicts drawn bottom to top: the best on top.
DRAW_ORDER = ("unsuitable", "conditional", "suitable")
#: How many of the most populous places the national map names.
TOWNS_NAMED = 20


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _halo(width: float = 2.0):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="white")]


def _in_view(gdf, box):
    if box is None or gdf is None or not len(gdf):
        return gdf
    xmin, ymin, xmax, ymax = box
    return gdf.cx[xmin:xmax, ymin:ymax]


def open_water(layers):
    """The ``water`` layer's polygons of kind sea, lake or estuary (may be empty)."""
    water = layers.water
    return water[water["kind"].isin(WATER_KINDS) & water.geom_type.isin(["Polygon", "MultiPolygon"])]


def built_up(layers):
    """The study's ``built_up`` layer (towns as polygons) when it has one, else None."""
    gdf = getattr(layers, "built_up", None)
    return gdf if gdf is not None and len(gdf) else None


def draw_context(ax, layers, box=None, *, scale: float = 1.0, planned: bool = True) -> list:
    """Draw the base layers on `ax` (land, open water, built-up land, circuits, stations,
    landings, AMS-IX), clipped to `box` (xmin, ymin, xmax, ymax) when given; returns legend
    handles for what was drawn. `scale` multiplies line widths and symbol sizes."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    land = _in_view(layers.boundary, box)
    if len(land):
        land.plot(ax=ax, color=LAND_COLOUR, edgecolor="#9e9e9e", linewidth=0.5 * scale, zorder=0)
    water = _in_view(open_water(layers), box)
    if water is not None and len(water):
        water.plot(ax=ax, color=WATER_COLOUR, edgecolor="none", zorder=1.2)
        handles.append(Patch(facecolor=WATER_COLOUR, edgecolor="none", label="open water (sea, lakes, estuaries)"))
    towns = built_up(layers)
    towns = _in_view(towns, box) if towns is not None else None
    if towns is not None and len(towns):
        towns.plot(ax=ax, color=BUILT_UP_COLOUR, edgecolor="none", zorder=1.3)
        handles.append(Patch(facecolor=BUILT_UP_COLOUR, edgecolor="none", label="built-up land"))
    circ = _in_view(layers.circuits[~layers.circuits["to_id"].str.startswith("xb-")
                                    & ~layers.circuits["from_id"].str.startswith("xb-")], box)
    any_planned = False
    for kv, (colour, width) in _KV_STYLE.items():
        live = circ[(circ["kv"] == kv) & (circ["status"] == "in_service")]
        if len(live):
            live.plot(ax=ax, color=colour, linewidth=width * scale, zorder=2)
            handles.append(Line2D([], [], color=colour, linewidth=width * scale, label=f"{kv} kV circuit"))
        later = circ[(circ["kv"] == kv) & (circ["status"] != "in_service")]
        if planned and len(later):
            later.plot(ax=ax, color=colour, linewidth=width * scale, linestyle="--", zorder=2)
            any_planned = True
    if any_planned:
        handles.append(Line2D([], [], color="#555555", linewidth=1.0 * scale, linestyle="--",
                              label="planned / under construction circuit"))
    subs = _in_view(layers.substations[~layers.substations["id"].str.startswith("xb-")], box)
    if len(subs):
        subs.plot(ax=ax, color="black", markersize=6 * scale ** 2, zorder=3)
        handles.append(Line2D([], [], color="black", marker="o", markersize=3 * scale, linestyle="",
                              label="380/220 kV station"))
    off = _in_view(layers.offshore[layers.offshore["status"].isin(["in_service", "grid_ready"])], box)
    if len(off):
        off.plot(ax=ax, color=LANDING_COLOUR, marker="^", markersize=28 * scale ** 2, zorder=3)
        handles.append(Line2D([], [], color=LANDING_COLOUR, marker="^", linestyle="", markersize=5 * scale,
                              label="offshore-wind landing (in service / grid-ready)"))
    ix = _in_view(layers.ix[layers.ix["kind"] == "amsix_pop"], box)
    if len(ix):
        ix.plot(ax=ax, color=IX_COLOUR, marker="D", markersize=10 * scale ** 2, zorder=3)
        handles.append(Line2D([], [], color=IX_COLOUR, marker="D", linestyle="", markersize=3.5 * scale,
                              label="AMS-IX point of presence"))
    return handles


def _points(gdf):
    pts = gdf.geometry.representative_point()
    return np.column_stack([pts.x.to_numpy(), pts.y.to_numpy()]) if len(gdf) else np.empty((0, 2))


def _marker_boxes(ax, xy: np.ndarray, radius_pt: float) -> list:
    if not len(xy):
        return []
    r = radius_pt * ax.figure.dpi / 72.0
    disp = ax.transData.transform(xy)
    return [(x - r, y - r, x + r, y + r) for x, y in disp]


def town_points(layers, box=None, n: int | None = None):
    """Population centres (name, population, x, y) inside `box`, the `n` most populous."""
    pop = _in_view(layers.population, box)
    if n is not None:
        pop = pop.nlargest(n, "population")
    xy = _points(pop)
    return list(zip(pop["name"].astype(str), xy[:, 0], xy[:, 1])) if len(pop) else []


def national_figure(evaluation, layers, surface=None, towns: int = TOWNS_NAMED):
    """The national map as a matplotlib figure, laid out and labelled (nothing saved).

    Returns
    -------
    fig : matplotlib.figure.Figure
    labels : dict
        ``"map"``: the label texts on the map (site ranks, town and station names);
        ``"list"``: the texts of the numbered site list; ``"missing"``: site ids whose rank
        found no free place on the map (listed all the same); ``"legend"``: the legend.
    """
    plt = _pyplot()
    from matplotlib.lines import Line2D

    from ._labels import Label, place_labels
    from .evaluate import VERDICT_COLOURS

    table = evaluation.table.sort_values("rank")
    p = evaluation.params
    fig = plt.figure(figsize=(11.0, 9.0), dpi=100)
    ax = fig.add_axes((0.01, 0.01, 0.62, 0.91))
    side = fig.add_axes((0.64, 0.01, 0.35, 0.91))
    side.set_axis_off()
    side.set_xlim(0, 1)
    side.set_ylim(0, 1)
    handles = []
    xmin, ymin, xmax, ymax = layers.boundary.total_bounds
    ax.set_xlim(xmin - 10_000, xmax + 10_000)
    ax.set_ylim(ymin - 10_000, ymax + 10_000)
    ax.set_aspect("equal")
    ax.set_axis_off()
    handles += draw_context(ax, layers)
    if surface is not None:
        res = float(surface.attrs["resolution_m"])
        x, y = surface.x.values, surface.y.values
        extent = (x[0] - res / 2, x[-1] + res / 2, y[-1] - res / 2, y[0] + res / 2)
        im = ax.imshow(np.ma.masked_invalid(surface["score"].values), extent=extent, cmap="YlGn", vmin=0, vmax=1,
                       zorder=1, interpolation="nearest")
        cond = surface["hard_conditional"].values.astype(float)
        if cond.any():
            ax.contour(x, y, cond, levels=[0.5], colors="#fdae61", linewidths=0.6, zorder=1.5)
            handles.append(Line2D([], [], color="#fdae61", linewidth=0.8,
                                  label="surface: hard conditions hold (now or planned)"))
    # the larger towns: a dot each
    named_towns = town_points(layers, n=towns)
    town_xy = np.array([(x, y) for _, x, y in named_towns]).reshape(-1, 2)
    if len(town_xy):
        ax.scatter(town_xy[:, 0], town_xy[:, 1], s=5, color="#444444", zorder=3.5, linewidths=0)
        handles.append(Line2D([], [], color="#444444", marker="o", markersize=2.5, linestyle="",
                              label=f"town ({len(town_xy)} largest by population)"))
    # sites: unsuitable below conditional below suitable, the better rank on top within each
    pts = _points(table)
    present = [v for v in DRAW_ORDER if (table["verdict"] == v).any()]
    site_r = 3.4
    for z, verdict in enumerate(DRAW_ORDER):
        sel = (table["verdict"] == verdict).to_numpy()
        if sel.any():
            order = np.argsort(-table["rank"].to_numpy()[sel], kind="stable")
            xy = pts[sel][order]
            ax.scatter(xy[:, 0], xy[:, 1], s=(2 * site_r) ** 2, color=VERDICT_COLOURS[verdict], edgecolors="black",
                       linewidths=0.5, zorder=4 + 0.1 * z)
    handles = [Line2D([], [], color=VERDICT_COLOURS[v], marker="o", linestyle="", markeredgecolor="black",
                      markersize=6, label=f"site: {v}") for v in reversed(DRAW_ORDER) if v in present] + handles
    # scale bar (100 km) bottom left, north arrow bottom right (Germany: empty on this map);
    # EPSG:28992 is metric with north up
    x0, y0 = xmin + 5_000, ymin + 5_000
    bar = ax.plot([x0, x0 + 100_000], [y0, y0], color="black", linewidth=2, zorder=6)[0]
    bar_text = ax.text(x0 + 50_000, y0 + 4_000, "100 km", ha="center", fontsize=7, zorder=6)
    north = ax.annotate("N", xy=(xmax, ymin + 45_000), xytext=(xmax, ymin + 5_000), ha="center",
                        fontsize=9, arrowprops={"arrowstyle": "-|>", "color": "black"}, zorder=6)
    fig.text(0.01, 0.985, f"AIGF {p['it_load_mw']:.0f} MW IT × PUE {p['pue']} = {p['grid_load_mw']:.0f} MW grid load, "
             f"{p['year']}; scenarios: {', '.join(p['scenarios'])}; criteria: {p['criteria']} (Ecorys 2025)",
             fontsize=9, va="top", ha="left")
    list_top, list_bottom = 0.99, 0.01
    if surface is not None:  # the colour bar at the foot of the side panel, the list above it
        cax = fig.add_axes((0.655, 0.04, 0.25, 0.012))
        list_bottom = 0.1
        fig.colorbar(im, cax=cax, orientation="horizontal")
        cax.tick_params(labelsize=6)
        cax.set_title("suitability score (soft criteria)", fontsize=7, loc="left")
    # the legend in the map's empty north-west corner (North Sea), clear of every label
    legend = ax.legend(handles=handles, loc="upper left", fontsize=6.5, frameon=True, framealpha=0.92,
                       edgecolor="#bbbbbb", handlelength=1.8, borderaxespad=0.3)
    legend.set_zorder(8)
    fig.canvas.draw()  # the layout is final from here: labels are placed in display units
    renderer = fig.canvas.get_renderer()

    # the numbered list of every site, beside the map
    listed = _site_list(side, table, list_top, renderer, bottom=list_bottom)

    # labels on the map: every site's rank first, then town names, then 380 kV station names
    leader = {"color": "#555555", "linewidth": 0.4, "zorder": 4.5}
    labels = [Label(x, y, str(int(r)), {"fontsize": 6.5, "fontweight": "bold", "color": "#111111", "zorder": 7,
                                        "path_effects": _halo()}, radius_pt=site_r, required=True, leader=leader)
              for (x, y), r in zip(pts, table["rank"])]
    labels += [Label(x, y, name, {"fontsize": 6.5, "color": "#333333", "zorder": 6.5, "path_effects": _halo()},
                     radius_pt=2.0) for name, x, y in named_towns]
    subs = layers.substations[(layers.substations["kv"] == 380) & ~layers.substations["id"].str.startswith("xb-")]
    subs = subs.drop_duplicates("station")
    labels += [Label(x, y, name, {"fontsize": 5.0, "style": "italic", "color": "#3f007d", "zorder": 6.4,
                                  "path_effects": _halo(1.5)}, radius_pt=2.0)
               for name, (x, y) in zip(subs["name"].astype(str), _points(subs))]
    obstacles = (_marker_boxes(ax, pts, site_r) + _marker_boxes(ax, town_xy, 1.5)
                 + [a.get_window_extent(renderer) for a in (bar, bar_text, north, legend)])
    texts, missing = place_labels(ax, labels, obstacles=obstacles)
    missing_ids = [str(table["id"].iloc[int(np.flatnonzero(table["rank"].to_numpy() == int(lab.text))[0])])
                   for lab in missing]
    return fig, {"map": texts, "list": listed, "missing": missing_ids, "legend": legend}


def _site_list(side, table, top: float, renderer, fontsize: float = 6.5, bottom: float = 0.01) -> list:
    """Every site by rank as ``rank  name (verdict)`` from `top` (axes fraction) down, a long
    entry wrapped at word boundaries; in two columns when one is not enough, and beyond two full
    columns the rest summarised in a last line (the names are all in ranking.csv and the cards)."""
    from .evaluate import VERDICT_COLOURS

    fig = side.figure
    frame = side.get_window_extent(renderer)
    line = fontsize * 1.45 * fig.dpi / 72.0 / frame.height
    texts = [side.text(0.0, top, "Sites by rank (the number on the map)", fontsize=7.5, fontweight="bold", va="top")]
    n = len(table)
    lines_needed = n * 1.15
    columns = 1 if lines_needed * line <= top - bottom - 1.3 * line else 2
    indent = 0.035
    col_width = (1.0 if columns == 1 else 0.5) - indent - 0.01
    avail_px = col_width * frame.width
    col, y = 0, top - 1.3 * line
    shown = 0
    for _, r in table.iterrows():
        entry = f"{int(r['rank'])}  {r['name']} ({r['verdict']})"
        t = side.text(0.0, 0.0, entry, fontsize=fontsize, va="top")
        width = t.get_window_extent(renderer).width
        chars = len(entry)
        while width > avail_px and chars > 12:  # wrap at word boundaries, never cut a word
            chars = min(chars - 2, int(len(entry) * avail_px / width))
            t.set_text("\n".join(textwrap.wrap(entry, chars, subsequent_indent="    ")))
            width = t.get_window_extent(renderer).width
        rows = t.get_text().count("\n") + 1
        if y - rows * line < bottom:
            if col + 1 >= columns:
                t.remove()
                break
            col, y = col + 1, top - 1.3 * line
        x = col * 0.5
        t.set_position((x + indent, y))
        texts.append(side.text(x, y, "●", color=VERDICT_COLOURS[r["verdict"]], fontsize=fontsize, va="top",
                               path_effects=_halo(0.6)))
        texts.append(t)
        y -= rows * line
        shown += 1
    if shown < n:
        last = texts.pop()
        last.remove()
        texts.pop().remove()
        texts.append(side.text(col * 0.5 + indent, y + line, f"… and {n - shown + 1} more: see ranking.csv",
                               fontsize=fontsize, va="top"))
    return texts


def static_map(evaluation, layers, path: str | PathLike[str], top: int | None = None, dpi: int = 300,
               surface=None, overwrite: bool = False) -> Path:
    """Write the national map of `evaluation` to `path` (PNG, `dpi` dots per inch), over the
    suitability `surface` score when given. Every site is numbered by rank on the map and
    listed by name beside it (`top` is accepted for compatibility and ignored). Uses matplotlib
    (a core dependency); see :func:`national_figure` for the layout.

    Written atomically (see :mod:`siting._atomic`); an existing `path` is replaced only with
    `overwrite`. Raises :class:`~siting.errors.OutputError` when it cannot be written (nothing
    is left behind)."""
    from ._atomic import atomic_output

    plt = _pyplot()
    with atomic_output(path, folder=False, force=overwrite, what="map", option="overwrite=True") as tmp:
        fig, _ = national_figure(evaluation, layers, surface=surface)  # once the target is claimed
        try:
            fig.savefig(tmp, dpi=dpi, metadata={"Software": None})
        finally:
            plt.close(fig)
    return Path(path)
