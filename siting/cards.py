"""Site report cards: one Markdown and one HTML file per site — verdict and reasons, every
condition with value, threshold and report section, the grid numbers, what it would take."""

from __future__ import annotations

import html
from pathlib import Path

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
    return f"{float(v):,.1f} {unit}".strip()


def site_cards(evaluation, folder: Path) -> list[Path]:
    """Write ``<id>.md`` and ``<id>.html`` per site into `folder`; returns the Markdown paths."""
    folder.mkdir(parents=True, exist_ok=True)
    fixes = evaluation.what_it_would_take()
    p = evaluation.params
    written = []
    for _, row in evaluation.table.iterrows():
        rows = []
        for c in evaluation.criteria.criterion:
            unit = METRICS[c.metric][0]
            result = row[f"{c.id}_result"]
            result = f"score {result:.2f}" if c.kind == "soft" else result
            rows.append((c.title, c.kind, _value(row[c.id], unit), _rule(c), str(result), c.section))
        grid = [(s, row.get(f"hosting_mw@{s}"), row.get(f"grid_limit@{s}")) for s in p["scenarios"]]
        todo = fixes[fixes["id"] == row["id"]]
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
            "| condition | kind | value | rule | result | report section |",
            "|---|---|---|---|---|---|",
            *[f"| {a} | {b} | {c} | {d} | {e} | {f} |" for a, b, c, d, e, f in rows],
            "",
            "## Grid (AC power flow, N-1)",
            "",
            "| scenario | hosting capacity at the bus [MW] | limited by |",
            "|---|---|---|",
            *[f"| {s} | {h:,.0f} | {lim} |" for s, h, lim in grid],
            "",
            "## What it would take",
            "",
            *([f"- {w} ({c}, {sec})" for w, c, sec in zip(todo["what"], todo["criterion"], todo["section"])]
              or ["- nothing: every hard condition holds now"]),
            "",
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
            "<table><tr><th>condition</th><th>kind</th><th>value</th><th>rule</th><th>result</th><th>section</th></tr>"
            f"{cells}</table><h2>What it would take</h2><ul>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in todo["what"])
            + "</ul></body></html>\n"
        )
        (folder / f"{row['id']}.html").write_text(doc, encoding="utf-8")
        written.append(md_path)
    return written
