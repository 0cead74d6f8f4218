"""Stage 2 — candidates: the places to judge, each joined to its connection bus.

A candidate is a site polygon (the sites layer, embedded or the user's). Its connection bus is
the nearest 380/220 kV station in service in the study year (in service now, or planned with a
year up to it); at a station with both levels the 380 kV bus is taken (§4.2: the load is
supplied from the 380 kV or 220 kV grid, 380 kV preferred). The nearest station of any status
is reported beside it, so a planned station that would serve the site is visible.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from .errors import ConfigError
from .layers import Layers
from .metrics import _in_year

__all__ = ["candidates", "ehv_stations"]


def ehv_stations(layers: Layers, year: int, *, in_service_only: bool = True) -> gpd.GeoDataFrame:
    """Dutch 380/220 kV buses (boundary equivalents excluded), one row per station — its
    380 kV bus where it has one — with ``in_service_year`` (bool: in service in `year`)."""
    subs = layers.substations
    subs = subs[~subs["id"].str.startswith("xb-")].copy()
    subs["in_service_year"] = _in_year(subs, year)
    if in_service_only:
        subs = subs[subs["in_service_year"]]
    # one bus per station: the highest level
    subs = subs.sort_values(["station", "kv"], ascending=[True, False]).drop_duplicates("station")
    return subs.reset_index(drop=True)


def candidates(layers: Layers, year: int = 2030, sites: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Sites with their connection bus.

    Parameters
    ----------
    layers : Layers
        The study's layers (EPSG:28992).
    year : int
        Study year: which stations are in service.
    sites : GeoDataFrame, optional
        Sites to judge instead of ``layers.sites`` (validated like the sites layer: points with
        ``area_ha`` become footprints; sites more than 2 km outside ``layers.boundary`` are
        refused).

    Returns
    -------
    GeoDataFrame
        The sites' columns plus ``bus`` (connection bus id), ``bus_kv``, ``bus_dist_km``
        (site boundary to station), ``nearest_any_bus``, ``nearest_any_dist_km``,
        ``nearest_any_status`` (nearest station of any status).
    """
    from ._validate import year as check_year
    from .layers import validate_layer

    year = check_year(year)
    if sites is None:
        sites = layers.sites
    else:
        sites = validate_layer(sites, "sites", boundary=layers.boundary)
    now = ehv_stations(layers, year)
    if now.empty:
        raise ConfigError(f"no 380/220 kV station is in service in {year}; check the substations layer")
    out = sites.copy()
    near = gpd.sjoin_nearest(out[["geometry"]], now[["id", "kv", "geometry"]], how="left", distance_col="dist_m")
    near = near[~near.index.duplicated(keep="first")]
    out["bus"] = near["id"].to_numpy()
    out["bus_kv"] = near["kv"].to_numpy()
    out["bus_dist_km"] = near["dist_m"].to_numpy() / 1000.0
    every = ehv_stations(layers, year, in_service_only=False)
    any_near = gpd.sjoin_nearest(out[["geometry"]], every[["id", "status", "year", "geometry"]], how="left", distance_col="dist_m")
    any_near = any_near[~any_near.index.duplicated(keep="first")]
    out["nearest_any_bus"] = any_near["id"].to_numpy()
    out["nearest_any_dist_km"] = any_near["dist_m"].to_numpy() / 1000.0
    out["nearest_any_status"] = any_near["status"].to_numpy()
    out["nearest_any_year"] = pd.array(any_near["year"].to_numpy(), dtype="Int64")
    return out
