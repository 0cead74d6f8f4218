"""Stage 3 — metrics: measured facts per candidate, no judgement (metres → km, hectares, ms, MW).

Every metric is computed for all candidates at once with spatial joins (``sjoin_nearest`` on
an STRtree), never with a Python loop over layers. Distances are from the site polygon (0 when a
feature touches or lies inside it), in km, in EPSG:28992.
"""

from __future__ import annotations

import weakref

import geopandas as gpd
import numpy as np
import pandas as pd

from .climate import ClimateField, climate_field
from .layers import Layers, governing_area_ha

__all__ = ["METRICS", "spatial_metrics", "grid_metrics", "FIBRE_ROUTE_FACTOR", "FIBRE_KM_PER_MS"]

#: Fibre route length over straight-line distance (assumption: Dutch long-haul fibre follows
#: motorways and rail; 1.5 is a common planning factor).
FIBRE_ROUTE_FACTOR = 1.5
#: Light in optical fibre travels ~204 km per ms (c / refractive index 1.468).
FIBRE_KM_PER_MS = 204.0

#: metric name -> (unit, description). The criteria file may only name these.
METRICS: dict[str, tuple[str, str]] = {
    "area_ha": ("ha", "net area that governs the space condition: the declared area_ha, or the polygon's area when the declared one exceeds it by more than 10 % (unless area_declared_governs)"),
    "ehv_dist_km": ("km", "to the nearest 380/220 kV station in service in the study year"),
    "ehv_dist_any_km": ("km", "to the nearest 380/220 kV station of any status (planned included)"),
    "dist_380_km": ("km", "to the nearest 380 kV station in service in the study year"),
    "dist_220_km": ("km", "to the nearest 220 kV station in service in the study year"),
    "offshore_dist_km": ("km", "to the nearest offshore-wind landing station in service in the study year"),
    "offshore_cover_dist_km": ("km", "to the nearest landing in service in the study year whose capacity covers the grid load"),
    "offshore_cover_dist_any_km": ("km", "to the nearest landing of any status whose capacity covers the grid load"),
    "amsix_dist_km": ("km", "to the nearest AMS-IX point of presence (confirmed or likely)"),
    "amsix_rtt_ms": ("ms", "estimated round trip to AMS-IX over fibre (route factor 1.5, 204 km/ms)"),
    "hub_dist_km": ("km", "to the nearest existing data-centre hub"),
    "built_up_dist_km": ("km", "to the nearest built-up residential land (edge of the built_up layer; 0 inside it)"),
    "population_dist_km": ("km", "to the nearest population centre (point)"),
    "population_5km": ("inhabitants", "inhabitants of the population centres within 5 km"),
    "coast_dist_km": ("km", "to the coastline"),
    "water_dist_km": ("km", "to the nearest large surface water (sea, lake, estuary, river, canal)"),
    "heat_dist_km": ("km", "to the nearest heat sink (district heating or greenhouse area)"),
    "free_cooling_hours": ("h/yr", "hours per year below the free-cooling dry-bulb threshold (default 20 °C; KNMI normals or the user's hourly NetCDF)"),
    "renewable_mw_20km": ("MW", "offshore-wind landings in service and onshore wind parks within 20 km"),
    "reuse_plant_site": ("bool", "closed or closing power-plant site (reuse of its connection)"),
    "existing_hub": ("bool", "at an existing digital/energy hub"),
    "hyperscale_zone": ("bool", "inside a national hyperscale area (policy)"),
    "congestion_score": ("0-1", "administrative offtake status at the connection station: 1 available, 0.5 limited or unknown, 0 congested"),
    "grid_headroom_mw": ("MW", "firm N-1 hosting capacity at the connection bus (no remedial action for the load) minus the grid load, worst scenario"),
    "grid_headroom_redispatch_mw": ("MW", "N-1 hosting capacity with a preventive redispatch for the load, minus the grid load, worst scenario"),
    "grid_headroom_planned_mw": ("MW", "firm N-1 hosting capacity with every dated planned reinforcement (stations, circuits) in service, minus the grid load, worst scenario"),
    "grid_headroom_conditional_mw": ("MW", "the larger of the redispatch and planned-reinforcement headrooms: the load fits once an arrangement is made"),
    "grid_pass_share": ("0-1", "share of the scenarios in which the grid load passes the N-1 check"),
    "grid_curtailment_hours": ("h/yr", "hours a year the grid load does not fit the N-1 hosting capacity at the connection bus, each hour secured (a year of hourly situations): the hours it must give way"),
    "grid_year_firm_mw": ("MW", "N-1 hosting capacity at the connection bus that fits in every hour of a year of hourly situations (AC-confirmed at its deciding hour)"),
    "offshore_energy_share": ("0-1", "share of the grid load's energy that a direct cable to the nearest offshore-wind landing in service (within 20 km) covers hour by hour over the year; 0 beyond 20 km"),
}

#: a direct cable from a site to an offshore landing: the distance the offshore_coupling criterion
#: takes as realisable (indicative; Ecorys 2025 §7.1 prefers direct coupling)
DIRECT_COUPLING_KM = 20.0


def _nearest_km(sites: gpd.GeoDataFrame, features: gpd.GeoDataFrame, cols: list[str] | None = None) -> pd.DataFrame:
    """Distance [km] from each site to the nearest feature, with the feature's `cols`."""
    cols = cols or []
    if features.empty:
        out = pd.DataFrame(index=sites.index, data={"dist_km": np.inf})
        for c in cols:
            out[c] = pd.NA
        return out
    j = gpd.sjoin_nearest(sites[["geometry"]], features[[*cols, "geometry"]].rename(columns={"index_right": "_ir"}),
                          how="left", distance_col="dist_m")
    j = j[~j.index.duplicated(keep="first")]
    out = pd.DataFrame(index=sites.index, data={"dist_km": j["dist_m"].to_numpy() / 1000.0})
    for c in cols:
        out[c] = j[c].to_numpy()
    return out


def _in_year(gdf: pd.DataFrame, year: int, live=("in_service",)) -> pd.Series:
    ok = gdf["status"].isin(live) | (gdf["year"].notna() & (gdf["year"].fillna(9999) <= year))
    return ok.fillna(False).astype(bool)


def spatial_metrics(cands: gpd.GeoDataFrame, layers: Layers, year: int, grid_load_mw: float,
                    climate: ClimateField | None = None) -> pd.DataFrame:
    """The spatial metrics of :data:`METRICS` for every candidate (index as `cands`);
    free-cooling hours from `climate` (default: the climate layer at 20 °C)."""
    m = pd.DataFrame(index=cands.index)
    sites = cands[["geometry"]]
    m["area_ha"] = governing_area_ha(cands).to_numpy(float)
    m["area_declared_ha"] = cands["area_ha"].astype(float).to_numpy()
    m["area_polygon_ha"] = np.asarray(cands.area) / 10_000.0
    m["ehv_dist_km"] = cands["bus_dist_km"].to_numpy()
    m["ehv_dist_any_km"] = cands["nearest_any_dist_km"].to_numpy()

    subs = layers.substations
    subs = subs[~subs["id"].str.startswith("xb-") & _in_year(subs, year)]
    for kv in (380, 220):
        m[f"dist_{kv}_km"] = _nearest_km(sites, subs[subs["kv"] == kv])["dist_km"].to_numpy()

    off = layers.offshore
    live = _in_year(off, year, live=("in_service", "grid_ready"))
    near = _nearest_km(sites, off[live], ["id", "capacity_mw"])
    m["offshore_dist_km"] = near["dist_km"].to_numpy()
    m["offshore_id"] = near["id"].to_numpy()
    m["offshore_mw"] = near["capacity_mw"].to_numpy()
    covers = off["capacity_mw"] >= grid_load_mw
    near = _nearest_km(sites, off[live & covers], ["id"])
    m["offshore_cover_dist_km"] = near["dist_km"].to_numpy()
    m["offshore_cover_id"] = near["id"].to_numpy()
    near = _nearest_km(sites, off[covers], ["id", "year", "status"])
    m["offshore_cover_dist_any_km"] = near["dist_km"].to_numpy()
    m["offshore_cover_any_id"] = near["id"].to_numpy()
    m["offshore_cover_any_year"] = pd.array(near["year"].to_numpy(), dtype="Int64")

    ix = layers.ix
    amsix = ix[(ix["kind"] == "amsix_pop") & ix["amsix"].isin(["yes", "likely"])]
    m["amsix_dist_km"] = _nearest_km(sites, amsix)["dist_km"].to_numpy()
    m["amsix_rtt_ms"] = 2.0 * m["amsix_dist_km"] * FIBRE_ROUTE_FACTOR / FIBRE_KM_PER_MS
    m["hub_dist_km"] = _nearest_km(sites, ix[ix["kind"] == "data_hub"])["dist_km"].to_numpy()

    m["built_up_dist_km"] = _nearest_km(sites, layers.built_up)["dist_km"].to_numpy()
    pop = layers.population
    m["population_dist_km"] = _nearest_km(sites, pop)["dist_km"].to_numpy()
    within = gpd.sjoin(pop[["population", "geometry"]], gpd.GeoDataFrame(geometry=sites.buffer(5_000), crs=sites.crs),
                       how="inner", predicate="intersects")
    m["population_5km"] = within.groupby("index_right")["population"].sum().reindex(m.index, fill_value=0).astype(int)

    water = layers.water
    m["coast_dist_km"] = _nearest_km(sites, water[water["kind"] == "coastline"])["dist_km"].to_numpy()
    m["water_dist_km"] = _nearest_km(sites, water[water["kind"] != "coastline"])["dist_km"].to_numpy()
    m["heat_dist_km"] = _nearest_km(sites, layers.heat_sinks)["dist_km"].to_numpy()
    m["free_cooling_hours"] = (climate or climate_field(layers)).at_sites(cands)

    wind = layers.plants[(layers.plants["fuel"] == "wind_onshore") & (layers.plants["status"] == "operating")]
    ren = pd.concat([off.loc[live, ["capacity_mw", "geometry"]], wind[["capacity_mw", "geometry"]]])
    ren = gpd.GeoDataFrame(ren, geometry="geometry", crs=sites.crs)
    hit = gpd.sjoin(ren, gpd.GeoDataFrame(geometry=sites.buffer(20_000), crs=sites.crs), how="inner", predicate="intersects")
    m["renewable_mw_20km"] = hit.groupby("index_right")["capacity_mw"].sum().reindex(m.index, fill_value=0.0).astype(float)

    for flag in ("reuse_plant_site", "existing_hub", "hyperscale_zone"):
        col = cands[flag] if flag in cands.columns else pd.Series(False, index=cands.index)
        m[flag] = col.fillna(False).astype(bool).to_numpy()

    station_of = layers.substations.set_index("id")["station"]
    m["congestion_status"] = cands["bus"].map(station_of).map(station_congestion(layers)).fillna("unknown").to_numpy()
    m["congestion_score"] = m["congestion_status"].map(CONGESTION_SCORE)
    return m


#: Score of an administrative offtake status (the congestion layer's codes).
CONGESTION_SCORE = {"available": 1.0, "limited": 0.5, "unknown": 0.5, "congested": 0.0}


def station_congestion(layers: Layers) -> pd.Series:
    """Latest administrative offtake status per station slug (from the congestion layer)."""
    cong = layers.congestion
    station_of = layers.substations.set_index("id")["station"]
    status = cong.assign(station=cong["substation_id"].map(station_of)).dropna(subset=["station"])
    return status.sort_values("date").drop_duplicates("station", keep="last").set_index("station")["status"]


def grid_metrics(cands: gpd.GeoDataFrame, models: dict, grid_load_mw: float, pf: float,
                 planned: dict | None = None) -> pd.DataFrame:
    """Grid results at each candidate's connection bus, per scenario and worst case.

    `models` maps scenario name -> GridModel of the study year's grid; `planned` the same
    scenarios on the grid with every dated planned reinforcement (for ``grid_headroom_planned_mw``).
    Hosting capacity (firm and with redispatch) is computed once per scenario and bus at the
    load's power factor; the N-1 check of the grid load once per distinct bus and scenario.
    Per scenario: ``firm_mw@<s>``, ``with_redispatch_mw@<s>``, ``redispatch_mw@<s>`` (the volume
    the load needs), ``grid_pass@<s>``, ``grid_limit@<s>``, ``grid_check@<s>``.
    """
    out = pd.DataFrame(index=cands.index)
    heads, heads_rd, passes = [], [], []
    for name, model in models.items():
        hosting, checks = _grid_at_buses(model, cands, grid_load_mw, pf, with_checks=True)
        h = cands["bus"].map(hosting["firm_mw"]).astype(float)
        hr = cands["bus"].map(hosting["with_redispatch_mw"]).astype(float)
        ok = cands["bus"].map({b: c.passed for b, c in checks.items()}).fillna(False).astype(bool)
        out[f"firm_mw@{name}"] = h.to_numpy()
        out[f"with_redispatch_mw@{name}"] = hr.to_numpy()
        needed = cands["bus"].map(hosting["redispatch_mw"]).astype(float)
        out[f"redispatch_mw@{name}"] = np.where(h.to_numpy() >= grid_load_mw, 0.0, needed.to_numpy())
        out[f"grid_pass@{name}"] = ok.to_numpy()
        limit = np.where(hosting["constraint"] == "cap", "none up to the search cap (at least " +
                         hosting["firm_mw"].round(0).astype(int).astype(str) + " MW)",
                         hosting["limiting_element"] + " (" + hosting["limiting_case"] + ")")
        out[f"grid_limit@{name}"] = cands["bus"].map(pd.Series(limit, index=hosting.index)).to_numpy()
        out[f"grid_check@{name}"] = cands["bus"].map({b: c.summary() for b, c in checks.items()}).to_numpy()
        heads.append(h - grid_load_mw)
        heads_rd.append(hr - grid_load_mw)
        passes.append(ok)
    out["grid_headroom_mw"] = pd.concat(heads, axis=1).min(axis=1, skipna=False).to_numpy()
    out["grid_headroom_redispatch_mw"] = pd.concat(heads_rd, axis=1).min(axis=1, skipna=False).to_numpy()
    out["grid_pass_share"] = pd.concat(passes, axis=1).astype(float).mean(axis=1).to_numpy()
    if planned:
        heads = []
        for name, model in planned.items():
            hosting, _ = _grid_at_buses(model, cands, grid_load_mw, pf, with_checks=False, redispatch=False)
            h = cands["bus"].map(hosting["firm_mw"]).astype(float)
            out[f"firm_planned_mw@{name}"] = h.to_numpy()
            heads.append(h - grid_load_mw)
        out["grid_headroom_planned_mw"] = pd.concat(heads, axis=1).min(axis=1, skipna=False).to_numpy()
    else:
        out["grid_headroom_planned_mw"] = out["grid_headroom_mw"]
    out["grid_headroom_conditional_mw"] = np.fmax(out["grid_headroom_redispatch_mw"], out["grid_headroom_planned_mw"])
    return out


def year_metrics(cands: gpd.GeoDataFrame, spatial: pd.DataFrame, model, situations,
                 grid_load_mw: float, client=None) -> tuple[pd.DataFrame, dict]:
    """The metrics of a year of hourly situations at each candidate (Ecorys 2025 §4.1 hours of
    grid stress, §7.1 flexibility and direct coupling): ``grid_curtailment_hours`` and
    ``grid_year_firm_mw`` at its connection bus (the deciding hours AC-corrected, the firm value
    AC-confirmed; :meth:`GridModel.firm_capacity`), ``offshore_energy_share`` of a direct cable to
    the nearest landing in service within :data:`DIRECT_COUPLING_KM` (`spatial`'s
    ``offshore_id``, ``offshore_dist_km``; :meth:`GridModel.coupling`). A bus the model does not
    have gives NaN (the criterion then scores 0). Also returns ``{"hosting": bus × hour MW
    (xarray), "firm": the firm-capacity table per bus}`` for the report cards' duration curves.
    `client`: the AC hosting of the deciding hours on that Dask cluster."""
    from .grid.year import coupling

    out = pd.DataFrame(index=cands.index)
    hg = model.hourly(situations)
    names = set(model.net.bus["name"])
    known = [b for b in sorted(set(cands["bus"].dropna())) if b in names]
    if known:
        hosting = hg.hosting_ac_corrected(known, client=client)
        table = hg.confirm_ac(hg.firm_capacity(hosting=hosting), client=client)
        hours = {b: hg.curtailment(b, grid_load_mw, hosting=hosting)["hours"] for b in known}
        firm = table["firm_confirmed_mw"]
    else:
        hosting, table = None, None
        hours, firm = {}, pd.Series(dtype=float)
    out["grid_curtailment_hours"] = cands["bus"].map(hours).astype(float).to_numpy()
    out["grid_year_firm_mw"] = cands["bus"].map(firm).astype(float).to_numpy()
    shares: dict[str, float] = {}
    share = []
    for landing, dist in zip(spatial["offshore_id"], spatial["offshore_dist_km"]):
        if landing is None or landing is pd.NA or not dist <= DIRECT_COUPLING_KM \
                or f"offshore_{landing}_mw" not in situations.data:
            share.append(0.0)
            continue
        if landing not in shares:
            shares[landing] = coupling(situations, str(landing), grid_load_mw)["offshore_share"]
        share.append(shares[landing])
    out["offshore_energy_share"] = np.asarray(share, dtype=float)
    return out, {"hosting": hosting, "firm": table}


def _grid_at_buses(model, cands: gpd.GeoDataFrame, grid_load_mw: float, pf: float, with_checks: bool,
                   redispatch: bool = True):
    names = set(model.net.bus["name"])
    known = [b for b in sorted(set(cands["bus"].dropna())) if b in names]
    hosting = model.hosting_capacity(buses=known, pf=pf, redispatch=redispatch)
    checks = {b: _checked_load(model, b, grid_load_mw, pf) for b in known} if with_checks else {}
    return hosting, checks


# N-1 checks of a grid load per model: evaluations share their models within a process (see
# siting.evaluate._secured_model) and a model does not change after it is built, so another
# evaluation of the same load at the same bus (other sites, criteria, weights) reuses the check
# as hosting_capacity reuses its tables
_CHECKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _checked_load(model, bus: str, p_mw: float, pf: float):
    """``model.check_load(bus, p_mw, pf=pf)``, once per model and arguments."""
    memo = _CHECKS.setdefault(model, {})
    key = (bus, float(p_mw), float(pf))
    if key not in memo:
        memo[key] = model.check_load(bus, p_mw, pf=pf)
    return memo[key]
