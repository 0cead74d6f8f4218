"""Site report cards: one Markdown and one HTML file per site with the same content — verdict
and reasons, a map, every condition with value, threshold and report section, the grid check per
scenario, the sensitivity, what it would take, and the sources."""

from __future__ import annotations

import html
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from .metrics import METRICS

__all__ = ["site_cards"]


def _rule(crit) -> str:
    if crit.kind == "hard":
        if crit.require is not None:
            return "must be yes" if crit.require else "must be no"
        return f"≥ {crit.min:g}" if crit.min is not None else f"≤ {crit.max:g}"
    pts = ", ".join(f"{x:g}→{y:g}" for x, y in crit.points)
    return f"{crit.transform} ({pts}), weight {crit.weight:.2f}"


def _value(v, unit: str) -> str:
    if isinstance(v, bool) or unit == "bool":
        return "yes" if bool(v) else "no"
    if v is None or pd.isna(v):
        return "no data"
    unit = "" if unit == "0-1" else unit
    return f"{float(v):,.2f}".rstrip("0").rstrip(".") if not unit else f"{float(v):,.1f} {unit}"


#: Size of the card map: 5 × 5.6 in at 220 dpi = 1,100 × 1,232 px.
CARD_MAP_INCHES = (5.0, 5.6)
CARD_MAP_DPI = 220


def card_figure(row, layers, table=None, half_km: float = 12.0):
    """The map of one site's card as a matplotlib figure (nothing saved): open water, built-up
    land, circuits, stations, landings and AMS-IX within `half_km` of the site, the larger
    places, the other candidate sites (from `table`), scale bar and legend; every name placed
    without overlap. Returns ``(fig, texts)``: the figure and the label texts on the map."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    from ._labels import Label, place_labels
    from .evaluate import VERDICT_COLOURS
    from .maps import _halo, _marker_boxes, _points, _pyplot, draw_context, town_points

    plt = _pyplot()
    c = row.geometry.centroid
    half = half_km * 1000
    box = (c.x - half, c.y - half, c.x + half, c.y + half)
    fig = plt.figure(figsize=CARD_MAP_INCHES, dpi=100)
    ax = fig.add_axes((0.0, 0.15, 1.0, 0.80))
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.add_patch(Rectangle((box[0], box[1]), 2 * half, 2 * half, fill=False, edgecolor="#777777", linewidth=0.6,
                           zorder=8))
    handles = draw_context(ax, layers, box, scale=1.6)
    others = None
    if table is not None:
        others = table[table["id"] != row["id"]]
        others = others.cx[box[0]:box[2], box[1]:box[3]]
        for verdict, colour in VERDICT_COLOURS.items():
            sel = others[others["verdict"] == verdict]
            if len(sel):
                sel.plot(ax=ax, color=colour, alpha=0.55, edgecolor="#333333", linewidth=0.5, zorder=3.8)
        if len(others):
            handles.append(Line2D([], [], color="#999999", marker="s", linestyle="", alpha=0.6,
                                  label="other candidate site (rank)"))
    colour = VERDICT_COLOURS[row["verdict"]]
    gpd.GeoSeries([row.geometry], crs=layers.boundary.crs).plot(ax=ax, color=colour, edgecolor="black",
                                                                 linewidth=1.0, zorder=4)
    site_pt = row.geometry.representative_point()
    ax.scatter([site_pt.x], [site_pt.y], s=60, color=colour, edgecolors="black", linewidths=0.8, zorder=4.2)
    handles.insert(0, Line2D([], [], color=colour, marker="o", linestyle="", markeredgecolor="black",
                             label=f"this site: {row['verdict']}"))
    towns = town_points(layers, box)
    town_xy = np.array([(x, y) for _, x, y in towns]).reshape(-1, 2)
    if len(town_xy):
        ax.scatter(town_xy[:, 0], town_xy[:, 1], s=10, color="#444444", zorder=3.5, linewidths=0)
        handles.append(Line2D([], [], color="#444444", marker="o", markersize=3, linestyle="", label="town"))
    # scale bar (5 km), bottom left
    x0, y0 = box[0] + half * 0.08, box[1] + half * 0.08
    bar = ax.plot([x0, x0 + 5000], [y0, y0], color="black", linewidth=2, zorder=6)[0]
    bar_text = ax.text(x0 + 2500, y0 + half * 0.025, "5 km", ha="center", va="bottom", fontsize=7, zorder=6)
    fig.text(0.5, 0.985, f"{row['rank']}. {row['name']} ({row['verdict']})", ha="center", va="top", fontsize=8.5,
             fontweight="bold")
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=6, frameon=False,
               handlelength=1.6, columnspacing=1.2)
    fig.canvas.draw()

    leader = {"color": "#555555", "linewidth": 0.5, "zorder": 4.5}
    halo = _halo()
    labels = [Label(site_pt.x, site_pt.y, str(row["name"]), {"fontsize": 7.5, "fontweight": "bold", "zorder": 7,
                                                             "path_effects": halo}, radius_pt=4.0, required=True,
                    leader=leader)]
    subs = layers.substations[~layers.substations["id"].str.startswith("xb-")]
    subs = subs.cx[box[0]:box[2], box[1]:box[3]].sort_values("kv", ascending=False).drop_duplicates("station")
    station_xy = _points(subs)
    labels += [Label(x, y, f"{name} ({kv} kV)", {"fontsize": 6.5, "style": "italic", "color": "#3f007d", "zorder": 6.6,
                                                "path_effects": halo}, radius_pt=2.5, leader=leader)
               for name, kv, (x, y) in zip(subs["name"].astype(str), subs["kv"], station_xy)]
    # priority: the site, stations, the other candidate sites, towns, landings
    if others is not None and len(others):
        labels += [Label(x, y, f"{int(r)}. {n}", {"fontsize": 6, "color": "#444444", "zorder": 6.4, "path_effects": halo},
                         radius_pt=3.0, leader=leader, far=True) for (x, y), r, n in zip(_points(others), others["rank"], others["name"].astype(str))]
    labels += [Label(x, y, name, {"fontsize": 7, "color": "#333333", "zorder": 6.5, "path_effects": halo},
                     radius_pt=2.0) for name, x, y in towns]
    off = layers.offshore[layers.offshore["status"].isin(["in_service", "grid_ready"])].cx[box[0]:box[2], box[1]:box[3]]
    labels += [Label(x, y, name, {"fontsize": 6, "color": "#01665e", "zorder": 6.5, "path_effects": halo},
                     radius_pt=3.5, leader=leader) for name, (x, y) in zip(off["name"].astype(str), _points(off))]
    renderer = fig.canvas.get_renderer()
    obstacles = (_marker_boxes(ax, np.array([[site_pt.x, site_pt.y]]), 4.0) + _marker_boxes(ax, station_xy, 2.5)
                 + _marker_boxes(ax, town_xy, 2.0) + [a.get_window_extent(renderer) for a in (bar, bar_text)])
    texts, _ = place_labels(ax, labels, obstacles=obstacles)
    return fig, texts


def _site_map(row, layers, path: Path, table=None) -> None:
    """Write the card map of one site (PNG, ≥ 1,000 px a side)."""
    from .maps import _pyplot

    fig, _ = card_figure(row, layers, table)
    fig.savefig(path, dpi=CARD_MAP_DPI, metadata={"Software": None})
    _pyplot().close(fig)


REPORT = "Ecorys (2025), Meerwaarde van een AI-gigafabriek in Nederland, study for the Ministry of Economic Affairs"


def _inline_html(text: str) -> str:
    """Markdown's **bold** and `code` as HTML, everything else escaped."""
    out = html.escape(str(text), quote=False)
    out = re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", out)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", out)


def _markdown(blocks: list) -> str:
    lines = []
    for kind, *args in blocks:
        if kind == "title":
            lines += [f"# {args[0]}", ""]
        elif kind == "heading":
            lines += [f"## {args[0]}", ""]
        elif kind == "para":
            lines += [args[0], ""]
        elif kind == "image":
            lines += [f"![{args[1]}]({args[0]})", ""]
        elif kind == "table":
            head, rows = args
            lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
            lines += ["| " + " | ".join(str(x).replace("|", "\\|") for x in r) + " |" for r in rows]
            lines.append("")
        elif kind == "list":
            lines += [f"- {item}" for item in args[0]] + [""]
    return "\n".join(lines)


def _html(title: str, blocks: list) -> str:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
             "<style>body{font-family:sans-serif;max-width:64em;margin:2em auto;padding:0 1em}td,th{border:1px solid #ccc;"
             "padding:.2em .5em;vertical-align:top}table{border-collapse:collapse;margin-bottom:1em}"
             "img{max-width:100%;height:auto}</style></head><body>"]
    for kind, *args in blocks:
        if kind == "title":
            parts.append(f"<h1>{_inline_html(args[0])}</h1>")
        elif kind == "heading":
            parts.append(f"<h2>{_inline_html(args[0])}</h2>")
        elif kind == "para":
            parts.append(f"<p>{_inline_html(args[0])}</p>")
        elif kind == "image":
            parts.append(f"<p><img src='{html.escape(args[0])}' alt='{html.escape(args[1])}' width='640'></p>")
        elif kind == "table":
            head, rows = args
            parts.append("<table><tr>" + "".join(f"<th>{_inline_html(h)}</th>" for h in head) + "</tr>"
                         + "".join("<tr>" + "".join(f"<td>{_inline_html(x)}</td>" for x in r) + "</tr>" for r in rows)
                         + "</table>")
        elif kind == "list":
            parts.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in args[0]) + "</ul>")
    return "".join(parts) + "</body></html>\n"


def _sensitivity_blocks(sens: pd.DataFrame | None, site_id: str) -> list:
    if sens is None or site_id not in sens.index:
        return []
    r = sens.loc[site_id]
    n, k = sens.attrs.get("n"), sens.attrs.get("top_k", "k")
    draws = f"{n} draws" if n else "draws"
    blocks = [
        ("heading", "Sensitivity"),
        ("para", f"Monte Carlo over the soft weights, the hard thresholds' ranges and the soft transforms ({draws}): "
                 f"P(top {k}) = {r['p_top_k']:.2f}, P(suitable) = {r['p_suitable']:.2f}, rank median "
                 f"{r['rank_median']:g}, 90 % interval {r['rank_p05']:g}–{r['rank_p95']:g}."),
    ]
    if "rank_driver" in r.index:
        driver = r["rank_driver"]
        blocks.append(("para", "Its rank is the same in every draw." if driver == "-" else
                       f"What moves its rank most: {driver}."))
    if "threshold_note" in r.index and r.get("on_threshold", False):
        blocks.append(("para", f"**On a threshold**: {r['threshold_note']}."))
    return blocks


def site_cards(evaluation, folder: Path, layers=None, sensitivity: pd.DataFrame | None = None) -> list[Path]:
    """Write ``<id>.md`` and ``<id>.html`` per site into `folder` — the same content in both:
    verdict and reasons, every condition, the grid check per scenario (N-1), the sensitivity
    (with `sensitivity` from :meth:`Evaluation.sensitivity`), what it would take and the
    sources — with a map ``<id>.png`` (≥ 1,000 px a side) when `layers` are given; returns
    the Markdown paths."""
    folder.mkdir(parents=True, exist_ok=True)
    fixes = evaluation.what_it_would_take()
    p = evaluation.params
    capacity = _capacity_rows(evaluation)
    refs = [REPORT] + list(dict.fromkeys(r for c in evaluation.criteria.criterion for r in c.references))
    written = []
    for _, row in evaluation.table.iterrows():
        rows = []
        for c in evaluation.criteria.criterion:
            unit = METRICS.get(c.metric, ("", ""))[0]
            result = row[f"{c.id}_result"]
            result = f"score {result:.2f}" if c.kind == "soft" else result
            rows.append((c.title, c.kind, _value(row[c.id], unit), _rule(c), str(result), c.section))
        grid = [(s, row.get(f"firm_mw@{s}"), row.get(f"with_redispatch_mw@{s}"), row.get(f"grid_limit@{s}"),
                 row.get(f"grid_check@{s}")) for s in p["scenarios"]]
        todo = fixes[fixes["id"] == row["id"]]
        blocks = [
            ("title", f"{row['name']} (`{row['id']}`)"),
            ("para", f"**Verdict: {row['verdict']}** — rank {row['rank']}, score {row['score']:.3f}"),
            ("para", f"AIGF {p['it_load_mw']:.0f} MW IT × PUE {p['pue']} = {p['grid_load_mw']:.0f} MW grid load, "
                     f"{p['year']}; connection bus `{row['bus']}` ({row['bus_dist_km']:.1f} km); criteria "
                     f"{p['criteria']} (Ecorys 2025)."),
            ("para", f"Reasons: {row['reasons']}"),
        ]
        if layers is not None:
            _site_map(row, layers, folder / f"{row['id']}.png", table=evaluation.table)
            blocks.append(("image", f"{row['id']}.png", f"map of {row['id']}"))
        blocks += [
            ("table", ("condition", "kind", "value", "rule", "result", "report section"), rows),
            ("heading", "Grid (AC power flow, N-1)"),
            ("table", ("scenario", f"N-1 check of {p['grid_load_mw']:.0f} MW (firm)", "firm hosting capacity [MW]",
                       "with redispatch [MW]", "firm hosting limited by"),
             [(s, chk, f"{h:,.0f}", f"{r:,.0f}", lim) for s, h, r, lim, chk in grid]),
            ("para", "Firm: no remedial action for the load (a 'harde afspraak', §7.1); with redispatch: a "
                     "preventive redispatch makes room (a non-firm arrangement with TenneT). Both on the N-1 "
                     "secure base case of each scenario."),
            *_year_blocks(evaluation, row, folder),
            *_sensitivity_blocks(sensitivity, row["id"]),
            ("heading", "What it would take"),
            ("list", [f"{w} ({c}, {sec})" for w, c, sec in zip(todo["what"], todo["criterion"], todo["section"])]
             or ["nothing: every hard condition holds now"]),
            *_capacity_blocks(capacity, row),
            ("heading", "Sources"),
            ("list", refs),
        ]
        md_path = folder / f"{row['id']}.md"
        md_path.write_text(_markdown(blocks), encoding="utf-8")
        (folder / f"{row['id']}.html").write_text(_html(str(row["name"]), blocks), encoding="utf-8")
        written.append(md_path)
    return written


def _year_blocks(evaluation, row, folder: Path) -> list[tuple]:
    """With a year of hourly situations (``evaluate(situations="year")``): the site's hours of
    curtailment, the firm value over the year, the hourly offshore share, and the duration
    curve of its bus's hosting capacity ``<id>-year.png`` with the grid load drawn in."""
    from .grid.hourly import duration_curve

    year = getattr(evaluation, "year", None) or {}
    hosting, firm = year.get("hosting"), year.get("firm")
    bus = row.get("bus")
    if hosting is None or not isinstance(bus, str) or bus not in set(hosting["bus"].to_numpy()):
        return []
    m = evaluation.metrics.set_axis(evaluation.table["id"]).loc[row["id"]]
    load = float(row["grid_load_mw"])
    fr = firm.loc[bus] if firm is not None and bus in firm.index else None
    duration_curve(hosting, bus, load, folder / f"{row['id']}-year.png", row=fr)
    when = ""
    if fr is not None and pd.notna(fr.get("deciding_hour")):
        when = (f"; the firm value is decided on {pd.Timestamp(fr['deciding_hour']):%d %B %H:%M} UTC by "
                f"{fr['deciding_element']} ({fr['deciding_outage']})")
    return [
        ("heading", "A year of hourly situations (§4.1, §7.1)"),
        ("para", f"{evaluation.params.get('situations')}. At `{bus}` {load:,.0f} MW gives way "
                 f"{m['grid_curtailment_hours']:,.0f} hour{'' if m['grid_curtailment_hours'] == 1 else 's'} a year; "
                 f"{m['grid_year_firm_mw']:,.0f} MW fits in every "
                 f"hour (N-1, each hour secured; AC-confirmed){when}. A direct cable to the nearest landing within "
                 f"20 km covers {100 * m['offshore_energy_share']:.0f} % of the load's energy hour by hour."),
        ("image", f"{row['id']}-year.png", f"hosting capacity at {bus} over the year"),
    ]


def _capacity_rows(evaluation) -> pd.DataFrame | None:
    """The capacity-map comparison of the evaluation (None when it has no grid models)."""
    if not getattr(evaluation, "models", None):
        return None
    return evaluation.capacity_check()


def _capacity_blocks(capacity: pd.DataFrame | None, row) -> list[tuple]:
    """The published capacity of the congestion area(s) fed by the site's connection station,
    beside the model's figure (card blocks)."""
    if capacity is None or not isinstance(row.get("bus"), str):
        return []
    station = row["bus"].rsplit("-", 1)[0]
    hits = capacity[capacity["ehv_stations"].fillna("").str.split(", ").apply(lambda s: station in s)]
    if hits.empty:
        return []
    rows = []
    for _, r in hits.iterrows():
        pub = r["published_demand_available_mw"]
        rows.append((r["area"], str(r["year"]), f"{pub:,.0f}" if pd.notna(pub) else "not published",
                     f"{r['model_firm_mw']:,.0f}" if pd.notna(r["model_firm_mw"]) else "-",
                     f"{r['model_with_redispatch_mw']:,.0f}" if pd.notna(r["model_with_redispatch_mw"]) else "-",
                     "within a factor 2" if r["direction"] == "within_2x" else str(r["likely_reason"])))
    return [("heading", "Published capacity (TenneT capacity map)"),
            ("para", "TenneT's available demand capacity of the 110/150 kV congestion area(s) fed by this station, "
                     "beside the model's largest single load at one of the area's 380/220 kV buses (worst scenario); "
                     "different quantities, compared to show where they disagree and why."),
            ("table", ("area", "year", "published available demand [MW]", "model firm [MW]",
                       "model with redispatch [MW]", "agreement"), rows)]
