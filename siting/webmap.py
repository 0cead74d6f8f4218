"""A self-contained interactive HTML map: no network, no external scripts or tiles.

The page embeds the geometry (projected to RD New and rounded to 10 m) as JSON and draws it
into an inline SVG with a few lines of JavaScript: the Netherlands, open water (sea, lakes,
estuaries) and built-up land when the study has it, 380/220 kV circuits, stations, offshore
landings, AMS-IX points of presence, towns, and the sites coloured by verdict (the best on top).
Labels — each site's rank and name, town and station names — keep their size on screen and are
shown where they do not overlap a label of higher priority (every site's rank first, then the
larger towns, then the sites' full names where there is room, the 380 kV and the 220 kV
stations; the smaller towns once zoomed in), so more appear as one zooms in.
A legend lists every layer drawn and the verdicts present. Clicking a site (or opening the page
as ``map.html#site=<id>``) highlights it and shows its verdict, score and every condition with
value, rule and report section; the mouse wheel zooms and dragging pans.
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
#map{{flex:1;background:#ffffff}} #panel{{width:26em;overflow:auto;padding:.6em;border-left:1px solid #999;font-size:13px}}
.site{{stroke:#222;stroke-width:1.2;cursor:pointer;vector-effect:non-scaling-stroke}}
.site.selected{{stroke:#00a2ff;stroke-width:4}}
.c380{{stroke:#3f007d;stroke-width:2;fill:none;vector-effect:non-scaling-stroke}}
.c220{{stroke:#6baed6;stroke-width:1.5;fill:none;vector-effect:non-scaling-stroke}}
.planned{{stroke-dasharray:6 4}}
.label{{paint-order:stroke;stroke:#fff;stroke-linejoin:round;pointer-events:none}}
.label.site-label{{font-weight:bold;fill:#111}} .label.site-label.selected{{fill:#0070c0}}
.label.town{{fill:#333}} .label.station{{fill:#3f007d;font-style:italic}}
#legend div{{display:flex;align-items:center;gap:.4em;margin:.1em 0}}
td,th{{border:1px solid #ccc;padding:2px 4px;vertical-align:top}} table{{border-collapse:collapse}}
</style></head><body>
<svg id="map" xmlns="http://www.w3.org/2000/svg"></svg>
<div id="panel"><h3>{title}</h3><p>{subtitle}</p><p>Click a site. Wheel: zoom; drag: pan.</p>
<div id="legend"></div><div id="info"></div></div>
<script id="data" type="application/json">{data}</script>
<script>
const D = JSON.parse(document.getElementById('data').textContent);
const svg = document.getElementById('map'), NS = 'http://www.w3.org/2000/svg';
let vb = D.bounds.slice();
function el(tag, attrs, parent){{ const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]); (parent || svg).appendChild(e); return e; }}
function d(rings){{ return rings.map(r => 'M' + r.map(p => p[0] + ',' + (-p[1])).join('L') + 'Z').join(''); }}
function line(pts){{ return 'M' + pts.map(p => p[0] + ',' + (-p[1])).join('L'); }}
const g = el('g', {{}}), lg = el('g', {{id: 'labels'}});
if (D.surface) {{ el('image', {{href: D.surface.png, x: D.surface.x, y: D.surface.y, width: D.surface.w,
  height: D.surface.h, preserveAspectRatio: 'none', opacity: 0.85, id: 'surface'}}, g); }}
D.boundary.forEach(rings => el('path', {{d: d(rings), fill: D.surface ? 'none' : D.style.land, stroke: '#888', 'vector-effect': 'non-scaling-stroke'}}, g));
D.water.forEach(w => {{ const e = el('path', {{d: d(w.rings), fill: D.style.water, 'fill-rule': 'evenodd', stroke: 'none', class: 'water'}}, g);
  el('title', {{}}, e).textContent = w.name; }});
D.built_up.forEach(rings => el('path', {{d: d(rings), fill: D.style.built_up, 'fill-rule': 'evenodd', stroke: 'none', class: 'built-up'}}, g));
D.circuits.forEach(c => el('path', {{d: line(c.pts), class: 'c' + c.kv + (c.planned ? ' planned' : '')}}, g));
const r = (vb[2] + vb[3]) / 600;
D.stations.forEach(s => {{ const e = el('circle', {{cx: s.x, cy: -s.y, r: s.kv === 380 ? r : 0.8 * r, fill: '#111'}}, g);
  el('title', {{}}, e).textContent = s.name + ' (' + s.kv + ' kV)'; }});
D.offshore.forEach(s => {{ const e = el('path', {{d: 'M' + s.x + ',' + (-s.y - 1.6 * r) + 'l' + (1.4 * r) + ',' + (2.4 * r) + 'h' + (-2.8 * r) + 'Z', fill: D.style.landing}}, g);
  el('title', {{}}, e).textContent = s.name; }});
D.ix.forEach(s => {{ const e = el('rect', {{x: s.x - 0.8 * r, y: -s.y - 0.8 * r, width: 1.6 * r, height: 1.6 * r, fill: D.style.ix,
  transform: 'rotate(45 ' + s.x + ' ' + (-s.y) + ')'}}, g); el('title', {{}}, e).textContent = s.name; }});
D.towns.forEach(t => el('circle', {{cx: t.x, cy: -t.y, r: 0.6 * r, fill: '#444', class: 'town'}}, g));
const siteEls = {{}};
D.sites.forEach(s => {{  // drawn worst first: the best verdict and rank end on top
  const a = el('path', {{d: d(s.rings), fill: s.colour, class: 'site', 'data-id': s.id}}, g);
  const b = el('circle', {{cx: s.x, cy: -s.y, r: 2.2 * r, fill: s.colour, class: 'site', 'data-id': s.id}}, g);
  el('title', {{}}, b).textContent = s.rank + '. ' + s.name + ' (' + s.verdict + ')';
  siteEls[s.id] = [a, b];
}});
// labels: [text element, x, y, full text, short text or null, minor], in priority order; minor
// labels (the smaller towns) only once zoomed in
const labels = D.labels.map(l => {{ const e = el('text', {{class: 'label ' + l.kind, 'data-id': l.id || ''}}, lg);
  e.textContent = l.text; return [e, l.x, l.y, l.text, l.short || null, !!l.minor]; }});
const DIRS = [[1, -1], [1, 0], [1, 1], [0, -1], [0, 1], [-1, -1], [-1, 0], [-1, 1]];
function place(e, x, y, txt, k, fs, placed, frame, skip){{
  e.textContent = txt; e.style.display = '';
  for (const [dx, dy] of DIRS) {{
    e.setAttribute('x', x + dx * 5 * k);
    e.setAttribute('y', dy === 0 ? -y + 0.35 * fs : -y + dy * 7 * k + (dy > 0 ? 0.8 : -0.1) * fs);
    e.setAttribute('text-anchor', dx > 0 ? 'start' : dx < 0 ? 'end' : 'middle');
    const b = e.getBoundingClientRect();
    if (b.left >= frame.left && b.right <= frame.right && b.top >= frame.top && b.bottom <= frame.bottom
        && placed.every((p, i) => i === skip || b.right < p.left || b.left > p.right || b.bottom < p.top || b.top > p.bottom)) {{
      return {{left: b.left, right: b.right, top: b.top, bottom: b.bottom, x: e.getAttribute('x'),
               y: e.getAttribute('y'), a: e.getAttribute('text-anchor'), txt: txt}}; }}
  }}
  return null;
}}
function put(e, spot){{ e.textContent = spot.txt; e.setAttribute('x', spot.x); e.setAttribute('y', spot.y);
  e.setAttribute('text-anchor', spot.a); e.style.display = ''; }}
function layoutLabels(){{
  // 1. every site's rank; 2. the larger towns; 3. site names in full where there is room;
  // 4. station names; 5. once zoomed in, the smaller towns
  const k = vb[2] / Math.max(svg.clientWidth, 1), fs = 11 * k;
  lg.setAttribute('font-size', fs); lg.setAttribute('stroke-width', 3 * k);
  const placed = [], frame = svg.getBoundingClientRect(), zoomed = vb[2] < 0.6 * D.bounds[2];
  const at = new Map();
  const sites = labels.filter(l => l[4] !== null), rest = labels.filter(l => l[4] === null);
  const towns = rest.filter(l => l[0].classList.contains('town') && !l[5]);
  const others = rest.filter(l => !towns.includes(l));
  labels.forEach(l => {{ l[0].style.display = 'none'; }});
  function one(l, txt){{ const spot = place(l[0], l[1], l[2], txt, k, fs, placed, frame, -1);
    if (spot) {{ placed.push(spot); at.set(l, placed.length - 1); put(l[0], spot); }} else l[0].style.display = 'none'; }}
  sites.forEach(l => one(l, l[4]));
  towns.forEach(l => one(l, l[3]));
  sites.forEach(l => {{ if (!at.has(l)) return; const i = at.get(l);
    const spot = place(l[0], l[1], l[2], l[3], k, fs, placed, frame, i);
    put(l[0], spot || placed[i]); if (spot) placed[i] = spot; }});
  others.forEach(l => {{ if (l[5] && !zoomed) return; one(l, l[3]); }});
  document.body.setAttribute('data-labels-shown', String(at.size));
}}
function setVB(){{ svg.setAttribute('viewBox', vb.join(' ')); layoutLabels(); }}
function select(id){{
  const s = D.sites.find(x => x.id === id); if (!s) return;
  svg.querySelectorAll('.selected').forEach(e => e.classList.remove('selected'));
  siteEls[id].forEach(e => {{ e.classList.add('selected'); g.appendChild(e); }});
  lg.querySelectorAll('[data-id="' + id + '"]').forEach(e => e.classList.add('selected'));
  document.getElementById('info').innerHTML = s.html; document.body.setAttribute('data-selected', id);
}}
svg.addEventListener('click', ev => {{ const id = ev.target.getAttribute('data-id'); if (id) select(id); }});
svg.addEventListener('wheel', ev => {{ ev.preventDefault(); const f = ev.deltaY > 0 ? 1.2 : 1 / 1.2;
  const p = svg.createSVGPoint(); p.x = ev.clientX; p.y = ev.clientY; const q = p.matrixTransform(svg.getScreenCTM().inverse());
  vb = [q.x - (q.x - vb[0]) * f, q.y - (q.y - vb[1]) * f, vb[2] * f, vb[3] * f]; setVB(); }}, {{passive: false}});
let drag = null;
svg.addEventListener('mousedown', ev => {{ drag = [ev.clientX, ev.clientY]; }});
svg.addEventListener('mouseup', () => {{ drag = null; }});
svg.addEventListener('mousemove', ev => {{ if (!drag) return; const k = vb[2] / svg.clientWidth;
  vb[0] -= (ev.clientX - drag[0]) * k; vb[1] -= (ev.clientY - drag[1]) * k; drag = [ev.clientX, ev.clientY]; setVB(); }});
window.addEventListener('resize', setVB);
const L = document.getElementById('legend');
D.legend.forEach(item => {{ const row = document.createElement('div'); row.className = 'legend-item';
  row.innerHTML = '<svg width="26" height="14" viewBox="0 0 26 14">' + item.swatch + '</svg>';
  row.appendChild(document.createTextNode(item.label)); L.appendChild(row); }});
setVB();
const want = decodeURIComponent((location.hash.match(/site=([^&]+)/) || [])[1] || '');
if (want) select(want);
document.body.setAttribute('data-sites-drawn', String(svg.querySelectorAll('path.site').length));
</script></body></html>
"""


def _coords(geom) -> list:
    """Coordinates in RD New metres, rounded to 10 m (ample for a national map, smaller file)."""
    return (np.round(np.asarray(geom.coords)[:, :2] / 10.0) * 10).astype(int).tolist()


def _rings(geom, holes: bool = False) -> list:
    polys = [geom] if geom.geom_type == "Polygon" else list(getattr(geom, "geoms", []))
    out = []
    for p in polys:
        if p.geom_type != "Polygon" or p.is_empty:
            continue
        out.append(_coords(p.exterior))
        if holes:
            out += [_coords(i) for i in p.interiors]
    return out


def _site_html(row, criteria, card_links: bool = False) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(c.title)}</td><td>{html.escape(str(row[f'{c.id}_why']).split(': ', 1)[-1])}</td></tr>"
        for c in criteria.criterion
    )
    return (f"<h3>{row['rank']}. {html.escape(row['name'])}</h3><p><b>{row['verdict']}</b>, score {row['score']:.3f}, "
            f"bus {html.escape(str(row['bus']))}</p><p>{html.escape(row['reasons'])}</p>"
            + (f"<p><a href='sites/{html.escape(row['id'])}.html'>report card</a></p>" if card_links else "")
            + f"<table>{rows}</table>")


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


def _swatch(kind: str, colour: str, dashed: bool = False) -> str:
    if kind == "line":
        dash = " stroke-dasharray='5 3'" if dashed else ""
        return f"<line x1='1' y1='7' x2='25' y2='7' stroke='{colour}' stroke-width='2.5'{dash}/>"
    if kind == "area":
        return f"<rect x='2' y='2' width='22' height='10' fill='{colour}' stroke='#888' stroke-width='0.5'/>"
    if kind == "triangle":
        return f"<path d='M13,2 L19,12 L7,12 Z' fill='{colour}'/>"
    if kind == "diamond":
        return f"<path d='M13,2 L18,7 L13,12 L8,7 Z' fill='{colour}'/>"
    size = 5 if kind == "site" else 3
    stroke = " stroke='#222' stroke-width='1'" if kind == "site" else ""
    return f"<circle cx='13' cy='7' r='{size}' fill='{colour}'{stroke}/>"


def html_map(evaluation, layers, path: str | PathLike[str], surface=None, card_links: bool = False,
             overwrite: bool = False) -> Path:
    """Write the self-contained interactive map of `evaluation` to `path` (HTML), over the
    suitability `surface` score when given; with `card_links`, each site's panel links to its
    report card ``sites/<id>.html`` beside the map.

    Open ``map.html#site=<id>`` to start with that site selected.

    Written atomically (see :mod:`siting._atomic`); an existing `path` is replaced only with
    `overwrite`. Raises :class:`~siting.errors.OutputError` when it cannot be written (nothing
    is left behind)."""
    from ._atomic import atomic_output, precheck
    from .evaluate import VERDICT_COLOURS
    from .maps import (
        _KV_STYLE,
        BUILT_UP_COLOUR,
        DRAW_ORDER,
        IX_COLOUR,
        LAND_COLOUR,
        LANDING_COLOUR,
        TOWNS_NAMED,
        WATER_COLOUR,
        built_up,
        open_water,
    )

    precheck(path, folder=False, force=overwrite, what="map", option="overwrite=True")  # before the work
    b = layers.boundary.union_all().simplify(200)
    circ = layers.circuits[~layers.circuits["to_id"].str.startswith("xb-")
                           & ~layers.circuits["from_id"].str.startswith("xb-")]
    subs = layers.substations[~layers.substations["id"].str.startswith("xb-")]
    off = layers.offshore[layers.offshore["status"].isin(["in_service", "grid_ready"])]
    ix = layers.ix[layers.ix["kind"] == "amsix_pop"]
    water = open_water(layers)
    towns_poly = built_up(layers)
    pop = layers.population.sort_values(["population", "id"], ascending=[False, True])
    pop_pts = pop.geometry.representative_point()
    xmin, ymin, xmax, ymax = b.bounds
    pad = 10_000
    table = evaluation.table
    # worst verdict and rank first, so the best is drawn last (on top)
    order = sorted(range(len(table)), key=lambda i: (DRAW_ORDER.index(table["verdict"].iloc[i]), -int(table["rank"].iloc[i])))
    data = {
        "bounds": [xmin - pad, -(ymax + pad), xmax - xmin + 2 * pad, ymax - ymin + 2 * pad],
        "boundary": [_rings(p) for p in getattr(b, "geoms", [b])],
        "water": [{"name": str(r.name), "rings": _rings(r.geometry.simplify(100), holes=True)} for r in water.itertuples()],
        "built_up": ([_rings(g.simplify(50), holes=True) for g in towns_poly.geometry] if towns_poly is not None else []),
        "circuits": [{"kv": int(r.kv), "planned": r.status != "in_service", "pts": _coords(r.geometry)}
                     for r in circ.itertuples() if r.geometry.geom_type == "LineString"]
                    + [{"kv": int(r.kv), "planned": r.status != "in_service", "pts": _coords(part)}
                       for r in circ.itertuples() if r.geometry.geom_type == "MultiLineString" for part in r.geometry.geoms],
        "stations": [{"name": r.name, "kv": int(r.kv), "x": round(r.geometry.x), "y": round(r.geometry.y)}
                     for r in subs.itertuples()],
        "offshore": [{"name": f"{r.name} ({r.capacity_mw:.0f} MW, {r.status})", "x": round(r.geometry.x),
                      "y": round(r.geometry.y)} for r in off.itertuples()],
        "ix": [{"name": f"AMS-IX: {r.name}", "x": round(r.geometry.x), "y": round(r.geometry.y)} for r in ix.itertuples()],
        "towns": [{"name": str(n), "x": round(p.x), "y": round(p.y)} for n, p in zip(pop["name"], pop_pts)],
        "sites": [],
        "labels": [],
        "surface": _surface_png(surface) if surface is not None else None,
        "style": {"land": LAND_COLOUR, "water": WATER_COLOUR, "built_up": BUILT_UP_COLOUR, "landing": LANDING_COLOUR,
                  "ix": IX_COLOUR},
    }
    site_labels = []
    for i in order:
        row = table.iloc[i]
        pt = shapely.get_coordinates(row.geometry.representative_point())[0]
        data["sites"].append({
            "id": row["id"], "name": row["name"], "rank": int(row["rank"]), "verdict": row["verdict"],
            "colour": VERDICT_COLOURS[row["verdict"]], "x": round(pt[0]), "y": round(pt[1]),
            "rings": _rings(row.geometry), "html": _site_html(row, evaluation.criteria, card_links),
        })
        site_labels.append({"kind": "site-label", "id": row["id"], "x": round(pt[0]), "y": round(pt[1]),
                            "text": f"{int(row['rank'])}. {row['name']}", "short": str(int(row["rank"])),
                            "rank": int(row["rank"])})
    labels = sorted(site_labels, key=lambda x: x["rank"])
    towns = [{"kind": "town", "x": t["x"], "y": t["y"], "text": t["name"]} for t in data["towns"]]
    stations = subs.sort_values("kv", ascending=False).drop_duplicates("station")
    st = [{"kind": "station", "kv": int(r.kv), "x": round(r.geometry.x), "y": round(r.geometry.y), "text": r.name}
          for r in stations.itertuples()]
    minor = [dict(t, minor=True) for t in towns[TOWNS_NAMED:]]
    labels += towns[:TOWNS_NAMED] + [s for s in st if s["kv"] == 380] + [s for s in st if s["kv"] != 380] + minor
    data["labels"] = labels
    # the legend: only what is drawn, and only the verdicts present
    legend = [{"label": f"site: {v}", "swatch": _swatch("site", VERDICT_COLOURS[v])}
              for v in reversed(DRAW_ORDER) if (table["verdict"] == v).any()]
    if surface is not None:
        legend.append({"label": "suitability score (soft criteria), 0 to 1", "swatch": _swatch("area", "#78c679")})
    if len(water):
        legend.append({"label": "open water (sea, lakes, estuaries)", "swatch": _swatch("area", WATER_COLOUR)})
    if towns_poly is not None:
        legend.append({"label": "built-up land", "swatch": _swatch("area", BUILT_UP_COLOUR)})
    for kv, (colour, _) in _KV_STYLE.items():
        if ((circ["kv"] == kv) & (circ["status"] == "in_service")).any():
            legend.append({"label": f"{kv} kV circuit", "swatch": _swatch("line", colour)})
        if ((circ["kv"] == kv) & (circ["status"] != "in_service")).any():
            legend.append({"label": f"{kv} kV circuit, planned / under construction", "swatch": _swatch("line", colour, True)})
    if len(subs):
        legend.append({"label": "380/220 kV station", "swatch": _swatch("point", "#111111")})
    if len(off):
        legend.append({"label": "offshore-wind landing (in service / grid-ready)", "swatch": _swatch("triangle", LANDING_COLOUR)})
    if len(ix):
        legend.append({"label": "AMS-IX point of presence", "swatch": _swatch("diamond", IX_COLOUR)})
    if len(pop):
        legend.append({"label": "town", "swatch": _swatch("point", "#444444")})
    data["legend"] = legend
    p = evaluation.params
    title = f"AIGF siting, {p['year']}: {p['grid_load_mw']:.0f} MW grid load"
    subtitle = (f"{p['it_load_mw']:.0f} MW IT × PUE {p['pue']}; scenarios {', '.join(p['scenarios'])}; "
                f"criteria {p['criteria']} (Ecorys 2025)")
    text = _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle),
                        data=json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/"))
    with atomic_output(path, folder=False, force=overwrite, what="map", option="overwrite=True") as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)
