"""Site report cards: one Markdown and one HTML file per site — verdict and reasons, every
condition with value, threshold and report section, the grid numbers, what it would take."""

from __future__ import annotations

import html
from pathlib import Path

import geopandas as gpd
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


def _site_map(row, layers, path: Path, half_km: float = 12.0) -> None:
    """A small map around one site: stations (named), circuits, landings, the site."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .evaluate import VERDICT_COLOURS
    from .maps import _KV_STYLE

    c = row.geometry.centroid
    half = half_km * 1000
    fig, ax = plt.subplots(figsize=(3.2, 3.2))
    layers.boundary.plot(ax=ax, color="#f2f2f2", edgecolor="#9e9e9e", linewidth=0.4)
    for kv, (colour, width) in _KV_STYLE.items():
        sel = layers.circuits[layers.circuits["kv"] == kv]
        if len(sel):
            sel.plot(ax=ax, color=colour, linewidth=width)
    subs = layers.substations
    near = subs[subs.distance(c) < half * 1.4]
    if len(near):
        near.plot(ax=ax, color="black", markersize=10, zorder=3)
        for _, s in near.drop_duplicates("station").iterrows():
            ax.annotate(s["name"][:22], (s.geometry.x, s.geometry.y), xytext=(3, 3), textcoords="offset points", fontsize=5)
    gpd.GeoSeries([row.geometry], crs=layers.boundary.crs).plot(ax=ax, color=VERDICT_COLOURS[row["verdict"]],
                                                                 edgecolor="black", linewidth=0.6, zorder=4)
    ax.set_xlim(c.x - half, c.x + half)
    ax.set_ylim(c.y - half, c.y + half)
    ax.plot([c.x - half * 0.9, c.x - half * 0.9 + 5000], [c.y - half * 0.9] * 2, color="black", linewidth=1.5)
    ax.text(c.x - half * 0.9 + 2500, c.y - half * 0.85, "5 km", ha="center", fontsize=5)
    ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def site_cards(evaluation, folder: Path, layers=None) -> list[Path]:
    """Write ``<id>.md`` and ``<id>.html`` per site into `folder`, with a small map ``<id>.png``
    when `layers` are given; returns the Markdown paths."""
    folder.mkdir(parents=True, exist_ok=True)
    fixes = evaluation.what_it_would_take()
    p = evaluation.params
    capacity = _capacity_rows(evaluation)
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
        picture = []
        if layers is not None:
            _site_map(row, layers, folder / f"{row['id']}.png")
            picture = [f"![map of {row['id']}]({row['id']}.png)", ""]
        md = [
            f"# {row['name']} (`{row['id']}`)",
            "",
            f"**Verdict: {row['verdict']}** — rank {row['rank']}, score {row['score']:.3f}",
            "",
            f"AIGF {p['it_load_mw']:.0f} MW IT × PUE {p['pue']} = {p['grid_load_mw']:.0f} MW grid load, {p['year']}; "
            f"connection bus `{row['bus']}` ({row['bus_dist_km']:.1f} km); criteria {p['criteria']} (Ecorys 2025).",
            "",
            f"Reasons: {row['reasons']}",
            "",
            *picture,
            "| condition | kind | value | rule | result | report section |",
            "|---|---|---|---|---|---|",
            *[f"| {a} | {b} | {c} | {d} | {e} | {f} |" for a, b, c, d, e, f in rows],
            "",
            "## Grid (AC power flow, N-1)",
            "",
            f"| scenario | N-1 check of {p['grid_load_mw']:.0f} MW | firm hosting capacity at the bus [MW] | "
            "with redispatch [MW] | firm limited by |",
            "|---|---|---|---|---|",
            *[f"| {s} | {chk} | {h:,.0f} | {r:,.0f} | {lim} |" for s, h, r, lim, chk in grid],
            "",
            "## What it would take",
            "",
            *([f"- {w} ({c}, {sec})" for w, c, sec in zip(todo["what"], todo["criterion"], todo["section"])]
              or ["- nothing: every hard condition holds now"]),
            "",
            *_capacity_md(capacity, row),
        ]
        md_path = folder / f"{row['id']}.md"
        md_path.write_text("\n".join(md), encoding="utf-8")
        cells = "".join(
            "<tr>" + "".join(f"<td>{html.escape(str(x))}</td>" for x in r) + "</tr>" for r in rows
        )
        doc = (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(row['name'])}</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{border:1px solid #ccc;"
            "padding:.2em .5em}table{border-collapse:collapse}</style></head><body>"
            f"<h1>{html.escape(row['name'])}</h1><p><b>Verdict: {row['verdict']}</b> — rank {row['rank']}, "
            f"score {row['score']:.3f}; bus {html.escape(str(row['bus']))}</p><p>{html.escape(row['reasons'])}</p>"
            + (f"<img src='{html.escape(row['id'])}.png' alt='map' width='320'>" if layers is not None else "")
            + 
            "<table><tr><th>condition</th><th>kind</th><th>value</th><th>rule</th><th>result</th><th>section</th></tr>"
            f"{cells}</table><h2>What it would take</h2><ul>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in todo["what"])
            + "</ul></body></html>\n"
        )
        (folder / f"{row['id']}.html").write_text(doc, encoding="utf-8")
        written.append(md_path)
    return written


def _capacity_rows(evaluation) -> pd.DataFrame | None:
    """The capacity-map comparison of the evaluation (None when it has no grid models)."""
    if not getattr(evaluation, "models", None):
        return None
    return evaluation.capacity_check()


def _capacity_md(capacity: pd.DataFrame | None, row) -> list[str]:
    """The published capacity of the congestion area(s) fed by the site's connection station,
    beside the model's figure (Markdown lines)."""
    if capacity is None or not isinstance(row.get("bus"), str):
        return []
    station = row["bus"].rsplit("-", 1)[0]
    hits = capacity[capacity["ehv_stations"].fillna("").str.split(", ").apply(lambda s: station in s)]
    if hits.empty:
        return []
    out = ["## Published capacity (TenneT capacity map, 110/150 kV areas fed by this station)", "",
           "| area | year | published available demand [MW] | model firm at the area's best bus [MW] | "
           "with redispatch [MW] | agreement |", "|---|---|---|---|---|---|"]
    for _, r in hits.iterrows():
        pub = r["published_demand_available_mw"]
        pub_txt = f"{pub:,.0f}" if pd.notna(pub) else "not published"
        agree = r["likely_reason"] if r["direction"] != "within_2x" else "within a factor 2"
        out.append(f"| {r['area']} | {r['year']} | {pub_txt} | {r['model_firm_mw']:,.0f} | "
                   f"{r['model_with_redispatch_mw']:,.0f} | {agree} |")
    return [*out, ""]
