"""A self-contained interactive HTML map: no network, no external scripts or tiles.

The page embeds the geometry (projected to RD New and rounded to 10 m) as JSON and draws it
into an inline SVG with a few lines of JavaScript: the Netherlands boundary, 380/220 kV
circuits, stations, offshore landings and the sites coloured by verdict. Clicking a site shows
its verdict, score and every condition with value, rule and report section; the mouse wheel
zooms and dragging pans.
"""

from __future__ import annotations

import html
import json
from os import PathLike
from pathlib import Path

import numpy as np
import shapely

__all__ = ["html_map"]

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body{{margin:0;font-family:sans-serif;display:flex;height:100vh}}
#map{{flex:1;background:#dbe9f6}} #panel{{width:26em;overflow:auto;padding:.6em;border-left:1px solid #999;font-size:13px}}
.site{{stroke:#222;stroke-width:1.2;cursor:pointer;vector-effect:non-scaling-stroke}}
.c380{{stroke:#3f007d;stroke-width:2;fill:none;vector-effect:non-scaling-stroke}}
.c220{{stroke:#6baed6;stroke-width:1.5;fill:none;vector-effect:non-scaling-stroke}}
.planned{{stroke-dasharray:6 4}} td,th{{border:1px solid #ccc;padding:2px 4px;vertical-align:top}} table{{border-collapse:collapse}}
</style></head><body>
<svg id="map" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="panel"><h3>{title}</h3><p>{subtitle}</p><p>Click a site. Wheel: zoom; drag: pan.</p>
<p><span style="color:#1a9641">&#9632;</span> suitable <span style="color:#fdae61">&#9632;</span> conditional
<span style="color:#d7191c">&#9632;</span> unsuitable</p><div id="info"></div></div>
<script id="data" type="application/json">{data}</script>
<script>
const D = JSON.parse(document.getElementById('data').textContent);
const svg = document.getElementById('map'), NS = 'http://www.w3.org/2000/svg';
let vb = D.bounds.slice();
function setVB(){{ svg.setAttribute('viewBox', vb.join(' ')); }}
function el(tag, attrs, parent){{ const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]); (parent || svg).appendChild(e); return e; }}
function d(rings){{ return rings.map(r => 'M' + r.map(p => p[0] + ',' + (-p[1])).join('L') + 'Z').join(''); }}
function line(pts){{ return 'M' + pts.map(p => p[0] + ',' + (-p[1])).join('L'); }}
const g = el('g', {{}});
if (D.surface) {{ el('image', {{href: D.surface.png, x: D.surface.x, y: D.surface.y, width: D.surface.w,
  height: D.surface.h, preserveAspectRatio: 'none', opacity: 0.85, id: 'surface'}}, g); }}
D.boundary.forEach(rings => el('path', {{d: d(rings), fill: D.surface ? 'none' : '#f4f4f0', stroke: '#888', 'vector-effect': 'non-scaling-stroke'}}, g));
D.circuits.forEach(c => el('path', {{d: line(c.pts), class: 'c' + c.kv + (c.planned ? ' planned' : '')}}, g));
const r = (vb[2] + vb[3]) / 600;
D.stations.forEach(s => {{ const e = el('circle', {{cx: s.x, cy: -s.y, r: r, fill: '#111'}}, g);
  el('title', {{}}, e).textContent = s.name; }});
D.offshore.forEach(s => {{ const e = el('rect', {{x: s.x - r, y: -s.y - r, width: 2 * r, height: 2 * r, fill: '#01665e'}}, g);
  el('title', {{}}, e).textContent = s.name; }});
D.sites.forEach(s => {{
  const e = el('path', {{d: d(s.rings), fill: s.colour, class: 'site', 'data-id': s.id}}, g);
  el('circle', {{cx: s.x, cy: -s.y, r: 2.2 * r, fill: s.colour, class: 'site', 'data-id': s.id}}, g);
  el('title', {{}}, e).textContent = s.rank + '. ' + s.name + ' (' + s.verdict + ')';
}});
svg.addEventListener('click', ev => {{ const id = ev.target.getAttribute('data-id'); if (!id) return;
  const s = D.sites.find(x => x.id === id); document.getElementById('info').innerHTML = s.html; }});
svg.addEventListener('wheel', ev => {{ ev.preventDefault(); const f = ev.deltaY > 0 ? 1.2 : 1 / 1.2;
  const p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY; const q = p.matrixTransform(svg.getScreenCTM().inverse());
  vb = [q.x - (q.x - vb[0]) * f, q.y - (q.y - vb[1]) * f, vb[2] * f, vb[3] * f]; setVB(); }}, {{passive: false}});
let drag = null;
svg.addEventListener('mousedown', ev => {{ drag = [ev.clientX, ev.clientY]; }});
svg.addEventListener('mouseup', () => {{ drag = null; }});
svg.addEventListener('mousemove', ev => {{ if (!drag) return; const k = vb[2] / svg.clientWidth;
  vb[0] -= (ev.clientX - drag[0]) * k; vb[1] -= (ev.clientY - drag[1]) * k; drag = [ev.clientX, ev.clientY]; setVB(); }});
setVB();
document.body.setAttribute('data-sites-drawn', String(svg.querySelectorAll('path.site').length));
</script></body></html>
"""


def _coords(geom) -> list:
    """Coordinates in RD New metres, rounded to 10 m (ample for a national map, smaller file)."""
    return (np.round(np.asarray(geom.coords)[:, :2] / 10.0) * 10).astype(int).tolist()


def _rings(geom) -> list:
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    return [_coords(p.exterior) for p in polys if p.geom_type == "Polygon"]


def _site_html(row, criteria) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.title)}</td><td>{html.escape(str(row[f'{c.id}_why']).split(': ', 1)[-1])}</td></tr>"
        for c in criteria.criterion
    )
    return (f"<h3>{row['rank']}. {html.escape(row['name'])}</h3><p><b>{row['verdict']}</b>, score {row['score']:.3f}, "
            f"bus {html.escape(str(row['bus']))}</p><p>{html.escape(row['reasons'])}</p><table>{rows}</table>")


def _surface_png(surface) -> dict:
    """The surface score as an inline PNG (data URI) placed in the SVG's coordinates."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = float(surface.attrs["resolution_m"])
    x, y = surface.x.values, surface.y.values
    buf = io.BytesIO()
    score = np.ma.masked_invalid(surface["score"].values)
    plt.imsave(buf, score, cmap="YlGn", vmin=0, vmax=1, format="png", metadata={"Software": None})
    return {"png": "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(),
            "x": float(x[0] - res / 2), "y": float(-(y[0] + res / 2)),
            "w": float(len(x) * res), "h": float(len(y) * res)}


def html_map(evaluation, layers, path: str | PathLike[str], surface=None) -> Path:
    """Write the self-contained interactive map of `evaluation` to `path` (HTML), over the
    suitability `surface` score when given."""
    from .evaluate import VERDICT_COLOURS

    b = layers.boundary.union_all().simplify(200)
    circ = layers.circuits[~layers.circuits["to_id"].str.startswith("xb-")]
    subs = layers.substations[~layers.substations["id"].str.startswith("xb-")]
    off = layers.offshore
    xmin, ymin, xmax, ymax = b.bounds
    pad = 10_000
    data = {
        "bounds": [xmin - pad, -(ymax + pad), xmax - xmin + 2 * pad, ymax - ymin + 2 * pad],
        "boundary": [_rings(p) for p in getattr(b, "geoms", [b])],
        "circuits": [{"kv": int(r.kv), "planned": r.status != "in_service", "pts": _coords(r.geometry)}
                     for r in circ.itertuples()],
        "stations": [{"name": r.name, "x": round(r.geometry.x), "y": round(r.geometry.y)} for r in subs.itertuples()],
        "offshore": [{"name": f"{r.name} ({r.capacity_mw:.0f} MW, {r.status})", "x": round(r.geometry.x),
                      "y": round(r.geometry.y)} for r in off.itertuples()],
        "sites": [],
        "surface": _surface_png(surface) if surface is not None else None,
    }
    for _, row in evaluation.table.iterrows():
        pt = shapely.get_coordinates(row.geometry.representative_point())[0]
        data["sites"].append({
            "id": row["id"], "name": row["name"], "rank": int(row["rank"]), "verdict": row["verdict"],
            "colour": VERDICT_COLOURS[row["verdict"]], "x": round(pt[0]), "y": round(pt[1]),
            "rings": _rings(row.geometry), "html": _site_html(row, evaluation.criteria),
        })
    p = evaluation.params
    title = f"AIGF siting, {p['year']}: {p['grid_load_mw']:.0f} MW grid load"
    subtitle = (f"{p['it_load_mw']:.0f} MW IT × PUE {p['pue']}; scenarios {', '.join(p['scenarios'])}; "
                f"criteria {p['criteria']} (Ecorys 2025)")
    text = _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle),
                        data=json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/"))
    path = Path(path)
    path.write_text(text, encoding="utf-8")
    return path
