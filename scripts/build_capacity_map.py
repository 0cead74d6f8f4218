"""Build the shipped copy of TenneT's capacity map (capaciteitskaart) from the reference JSON.

Reads the Netbeheer Nederland ``dp-capaciteitskaart`` v2.1 JSON of TenneT (2026-04-23) from
``../shared/reference/tennet-capaciteitskaart-2026-04/`` with ``siting.read_capacity_map`` and
writes the derived copy that ``siting.read_capacity_map()`` returns without a path:

- ``data/nl/capacity_map_areas.csv``    congestion area × year: demand/generation available,
                                         quoted, queued MW, queued requests, relief years;
- ``data/nl/capacity_map_stations.csv`` 110/150/220 kV stations: kV, areas, colours;
- ``data/nl/capacity_map_works.csv``    investment-plan works per area with dates;
- ``data/nl/capacity_map.toml``         manifest: operator, date, schema version, source.

Provenance, licence and date: ``data/SOURCES.md`` (key E54). The area → EHV station table
``data/nl/capacity_map_ehv.csv`` (key E55) is curated by hand; ``--osm-shares`` recomputes its
``share`` column from the OpenStreetMap HV graph in ``../shared/reference/osm-scigrid-nl/``.

Usage::

    python scripts/build_capacity_map.py              # (re)write the derived copy
    python scripts/build_capacity_map.py --check      # exit 1 if the copy differs from a rebuild
    python scripts/build_capacity_map.py --osm-shares # print the OSM-derived share per mapping row
"""

from __future__ import annotations

import argparse
import heapq
import math
import re
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from siting.capacity_map import read_capacity_map, read_ehv_map, write_capacity_map  # noqa: E402

DATA = REPO / "data" / "nl"
REFERENCE = REPO.parent / "shared" / "reference"
JSON = REFERENCE / "tennet-capaciteitskaart-2026-04" / "TenneT_20260423_v21_update.json"
OSM = REFERENCE / "osm-scigrid-nl"
SOURCE = ("Netbeheer-Nederland/nbnl-examples@b6ae0534757f6cc425fbe5c7f9893dce53cf051a "
          "src/examples/capaciteitskaart/json/TenneT_20260423_v21_update.json "
          "(TenneT capaciteitskaart, 2026-04-23)")
FILES = ("capacity_map.toml", "capacity_map_areas.csv", "capacity_map_stations.csv", "capacity_map_works.csv")


def build(json_path: Path, out: Path) -> list[Path]:
    """Read `json_path` and write the derived copy into `out`."""
    return write_capacity_map(read_capacity_map(json_path), out, source=SOURCE)


def check(json_path: Path, data: Path) -> list[str]:
    """Names of shipped files that differ from a fresh build (empty = up to date)."""
    with tempfile.TemporaryDirectory() as tmp:
        build(json_path, Path(tmp))
        return [n for n in FILES
                if not (data / n).is_file() or (data / n).read_bytes() != (Path(tmp) / n).read_bytes()]


# ---------------------------------------------------------------------------------------------
# OSM check of the area -> EHV station table: along 110/150 kV lines, which listed EHV station is
# nearest to each of the area's stations?

_STOP = re.compile(r"\b\d+\s*(?:/\s*\d+\s*)?kv\b|\b(?:380|220|150|110|50)\b|\(cbl\)|^station\s+", re.IGNORECASE)


def _norm(name: str) -> str:
    text = _STOP.sub(" ", str(name).split(";")[0].lower())
    text = re.sub(r"[^a-z ]", " ", text.replace("'s", "s"))
    return " ".join(text.split())


def _km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    return math.hypot((lon1 - lon2) * math.cos(math.radians(52.2)) * 111.32, (lat1 - lat2) * 110.57)


def osm_shares(json_path: Path = JSON, osm: Path = OSM, data: Path = DATA, radius_km: float = 4.0) -> pd.DataFrame:
    """For every row of ``capacity_map_ehv.csv``: how many of the area's stations (matched by
    name in the OSM/SciGRID heuristic graph, ~2015-16) are nearer, along 110/150 kV lines, to
    this EHV station than to the area's other listed EHV stations; ``share`` = that count over
    the area's assigned stations (1.0 for an area with one EHV station)."""
    v = pd.read_csv(osm / "heuristic_vertices.csv", sep="#")
    lines = pd.read_csv(osm / "heuristic_links.csv", sep="#")
    hv = lines[lines["voltage"].astype(str).str.contains("110000|150000")]
    adj: dict[int, list[tuple[int, float]]] = defaultdict(list)
    for a, b, m in zip(hv["v_id_1"], hv["v_id_2"], hv["length_m"].fillna(1000.0)):
        adj[a].append((b, m / 1000.0))
        adj[b].append((a, m / 1000.0))
    pos = {i: (x, y) for i, x, y in zip(v["v_id"], v["lon"], v["lat"]) if i in adj}

    subs = pd.read_csv(data / "substations.csv").drop_duplicates("station").set_index("station")

    def sources(station: str) -> list[int]:
        lon, lat = subs.loc[station, ["lon", "lat"]]
        near = sorted((_km(lon, lat, *p), i) for i, p in pos.items())
        return [i for d, i in near[:3] if d <= radius_km]

    def dijkstra(starts: list[int]) -> dict[int, float]:
        dist = {s: 0.0 for s in starts}
        heap = [(0.0, s) for s in starts]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist.get(u, math.inf):
                continue
            for w, c in adj[u]:
                if d + c < dist.get(w, math.inf):
                    dist[w] = d + c
                    heapq.heappush(heap, (d + c, w))
        return dist

    named = v[v["name"].notna() & v["typ"].isin(["substation", "sub_station", "merge", "joint"])]
    osm_names = defaultdict(list)
    for i, n in zip(named["v_id"], named["name"]):
        if i in adj:
            osm_names[_norm(n)].append(i)

    def match(name: str) -> int | None:
        key = _norm(name)
        if key in osm_names:
            return osm_names[key][0]
        hits = {k for k in osm_names if len(k) >= 5 and (re.search(rf"\b{re.escape(k)}\b", key)
                                                         or re.search(rf"\b{re.escape(key)}\b", k))}
        return osm_names[hits.pop()][0] if len(hits) == 1 else None

    cmap = read_capacity_map(json_path)
    emap = read_ehv_map(data / "capacity_map_ehv.csv")
    dist_cache: dict[str, dict[int, float]] = {}
    out = []
    for area, rows in emap.groupby("area", sort=False):
        listed = rows["ehv_station"].dropna().tolist()
        st = cmap.stations[(cmap.stations["demand_area"] == area) | (cmap.stations["generation_area"] == area)]
        counts = dict.fromkeys(listed, 0)
        matched = 0
        direct = {_norm(s): s for s in listed} | {_norm(subs.loc[s, "name"]): s for s in listed}
        for name in st["station"]:
            if _norm(name) in direct:  # the area's station is (the HV side of) a listed EHV station
                matched += 1
                counts[direct[_norm(name)]] += 1
                continue
            vid = match(name)
            if vid is None:
                continue
            matched += 1
            best = None
            for s in listed:
                if s not in dist_cache:
                    dist_cache[s] = dijkstra(sources(s))
                d = dist_cache[s].get(vid, math.inf)
                if d < math.inf and (best is None or d < best[0]):
                    best = (d, s)
            if best is not None:
                counts[best[1]] += 1
        total = sum(counts.values())
        for s in listed:
            share = 1.0 if len(listed) == 1 else (round(counts[s] / total, 2) if total else math.nan)
            out.append({"area": area, "ehv_station": s, "stations": len(st), "matched_in_osm": matched,
                        "nearest_to_this": counts[s], "share": share})
        if not listed:
            out.append({"area": area, "ehv_station": "", "stations": len(st), "matched_in_osm": matched,
                        "nearest_to_this": 0, "share": math.nan})
    return pd.DataFrame(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=JSON, help="the capacity-map JSON (reference copy)")
    ap.add_argument("--data", type=Path, default=DATA, help="output folder (data/nl)")
    ap.add_argument("--check", action="store_true", help="only report whether the shipped copy is up to date")
    ap.add_argument("--osm-shares", action="store_true", help="print the OSM-derived share per mapping row")
    args = ap.parse_args(argv)
    if args.osm_shares:
        print(osm_shares(args.json, OSM, args.data).to_string(index=False))
        return 0
    if args.check:
        stale = check(args.json, args.data)
        if stale:
            print(f"out of date: {', '.join(stale)}; run scripts/build_capacity_map.py", file=sys.stderr)
            return 1
        print("capacity-map copy up to date")
        return 0
    for p in build(args.json, args.data):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
