"""Static maps for reports (matplotlib, no network): boundary, EHV circuits by voltage,
offshore landings, sites coloured by verdict with the top sites labelled, legend, scale bar,
north arrow."""

from __future__ import annotations

from os import PathLike
from pathlib import Path

__all__ = ["static_map"]

_KV_STYLE = {380: ("#3f007d", 1.4), 220: ("#6baed6", 1.0)}


def static_map(evaluation, layers, path: str | PathLike[str], top: int = 5, dpi: int = 300, surface=None) -> Path:
    """Write a national map of `evaluation` to `path` (PNG), over the suitability `surface`
    score when given. Uses matplotlib (a core dependency)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    from .evaluate import VERDICT_COLOURS

    table = evaluation.table
    p = evaluation.params
    fig, ax = plt.subplots(figsize=(7.5, 8.5))
    layers.boundary.plot(ax=ax, color="#f2f2f2", edgecolor="#9e9e9e", linewidth=0.5)
    if surface is not None:
        res = float(surface.attrs["resolution_m"])
        x, y = surface.x.values, surface.y.values
        extent = (x[0] - res / 2, x[-1] + res / 2, y[-1] - res / 2, y[0] + res / 2)
        im = ax.imshow(surface["score"].values, extent=extent, cmap="YlGn", vmin=0, vmax=1, zorder=1,
                       interpolation="nearest")
        fig.colorbar(im, ax=ax, shrink=0.4, pad=0.01, label="suitability score (soft criteria)")
        cond = surface["hard_conditional"].values.astype(float)
        if cond.any():
            ax.contour(x, y, cond, levels=[0.5], colors="#fdae61", linewidths=0.6, zorder=1.5)
    circ = layers.circuits
    for kv, (colour, width) in _KV_STYLE.items():
        sel = circ[(circ["kv"] == kv) & (circ["status"] == "in_service") & ~circ["to_id"].str.startswith("xb-")]
        if len(sel):
            sel.plot(ax=ax, color=colour, linewidth=width, zorder=2)
        planned = circ[(circ["kv"] == kv) & (circ["status"] != "in_service")]
        if len(planned):
            planned.plot(ax=ax, color=colour, linewidth=width, linestyle="--", zorder=2)
    subs = layers.substations[~layers.substations["id"].str.startswith("xb-")]
    subs.plot(ax=ax, color="black", markersize=6, zorder=3)
    off = layers.offshore[layers.offshore["status"].isin(["in_service", "grid_ready"])]
    off.plot(ax=ax, color="#01665e", marker="^", markersize=28, zorder=3)
    pts = table.copy()
    pts["geometry"] = table.geometry.representative_point()
    for verdict, colour in VERDICT_COLOURS.items():
        sel = pts[pts["verdict"] == verdict]
        if len(sel):
            sel.plot(ax=ax, color=colour, edgecolor="black", linewidth=0.4, markersize=46, zorder=4)
    for i, (_, row) in enumerate(pts.nsmallest(top, "rank").iterrows()):
        # stagger the labels: top sites often cluster (Eemshaven, Maasvlakte)
        ax.annotate(f"{row['rank']}. {row['name'][:32]}", (row.geometry.x, row.geometry.y), xytext=(-150, 10 - 13 * i),
                    arrowprops={"arrowstyle": "-", "color": "#555555", "linewidth": 0.5},
                    textcoords="offset points", fontsize=6.5, zorder=5,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8})
    xmin, ymin, xmax, ymax = layers.boundary.total_bounds
    ax.set_xlim(xmin - 10_000, xmax + 10_000)
    ax.set_ylim(ymin - 10_000, ymax + 10_000)
    # scale bar (100 km) and north arrow; EPSG:28992 is metric with north up
    x0, y0 = xmin + 5_000, ymin + 5_000
    ax.plot([x0, x0 + 100_000], [y0, y0], color="black", linewidth=2)
    ax.text(x0 + 50_000, y0 + 4_000, "100 km", ha="center", fontsize=7)
    ax.annotate("N", xy=(xmin + 10_000, ymax - 5_000), xytext=(xmin + 10_000, ymax - 45_000), ha="center",
                fontsize=9, arrowprops={"arrowstyle": "-|>", "color": "black"})
    handles = [Line2D([], [], color=c, marker="o", linestyle="", markeredgecolor="black", label=v)
               for v, c in VERDICT_COLOURS.items()]
    handles += [Line2D([], [], color=c, linewidth=w, label=f"{kv} kV circuit") for kv, (c, w) in _KV_STYLE.items()]
    handles += [Line2D([], [], color="#01665e", marker="^", linestyle="", label="offshore-wind landing"),
                Line2D([], [], color="black", marker="o", markersize=3, linestyle="", label="380/220 kV station")]
    ax.legend(handles=handles, loc="lower right", fontsize=7, frameon=True)
    ax.plot([], [])  # keeps the axes when a layer is empty
    ax.set_title(f"AIGF {p['it_load_mw']:.0f} MW IT × PUE {p['pue']} = {p['grid_load_mw']:.0f} MW grid load, "
                 f"{p['year']}\nscenarios: {', '.join(p['scenarios'])}; criteria: {p['criteria']} (Ecorys 2025)",
                 fontsize=8)
    ax.set_axis_off()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
    plt.close(fig)
    return path
