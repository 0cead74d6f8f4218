"""Importer for the ENTSO-E transmission map extract processed by GridKit (PyPSA's
``entsoegridkit``: buses.csv, lines.csv, transformers.csv; quote character ``'``; hstore tags).

The extract carries topology, voltage levels, circuit counts and lengths, but no impedances,
ratings, loads or dispatch. Modelling assumptions (documented, as PyPSA-Eur does for this data):

- Countries: the bus tag ``country`` where the map has one; the extract's 1,786 line joints
  (``symbol`` "joint") have none and take the country whose Natural Earth polygon holds them
  (``data/europe/countries.geojson``, built by ``scripts/build_countries.py``), or the nearest
  one within ``NEAREST_KM`` (a joint off a generalised coast). Measured on the 7,021 tagged
  buses: the polygon of the tagged country holds 99.3 % of them (``docs/grid.md``).
- AC buses of the selected countries (``countries=None``: :data:`CONTINENTAL_EUROPE`) at or
  above ``min_kv``; lines with both ends among them (ties to other countries cut);
  under-construction lines and DC links left out unless asked; the largest connected part is
  kept — for Continental Europe the Baltic, Zealand and North African parts that the 2018 map
  does not tie to the rest by AC drop out (``composition.attrs["dropped"]`` counts them).
- Per-circuit line parameters by voltage level, the standard bundled-conductor types that PyPSA
  derives from pandapower's library: 220 kV "Al/St 240/40 2-bundle" r 0.06, x 0.301 Ω/km,
  1.29 kA; 300 kV "3-bundle" r 0.04, x 0.265 Ω/km, 1.935 kA; 380 kV "4-bundle" r 0.03,
  x 0.246 Ω/km, 2.58 kA; capacitance 11.5 / 12.5 / 13.8 nF/km (indicative). Other voltages take
  the nearest of these (500 and 750 kV lines: the 380 kV type). Lengths: the extract's
  ``length`` [m].
- Transformers (derived by GridKit between voltage levels of a station): 600 MVA per unit,
  vk 12 %, vkr 0.25 % (indicative).
- Without ``plants`` no loads or generation: the network carries only what the user adds, and
  the angle reference (ext_grid) balances it. With ``plants`` (powerplantmatching's
  ``powerplants.csv``) a documented snapshot, *a windless evening at average load* (see
  :func:`dispatch`): each country's average load (its annual demand from
  ``data/europe/demand.csv`` / 8,760 h, or its population times the mean demand per head of
  the countries listed there) spread evenly over its substations at cos φ 0.98; met by its own
  dispatchable plants (not wind, solar or storage) in operation in `year`, pro rata to capacity
  (net positions zero), what they cannot cover from unlisted generation at its substations;
  a country the area boundary splits keeps its load in proportion to its buses kept; plants
  aggregated at the nearest bus of their country (units ≥ ``LARGE_PLANT_MW`` at the nearest
  380 kV bus); the generators share the balancing (distributed slack, by
  output) and hold 1.0 pu. The base case is solved once and its result kept in
  ``composition.attrs["base_case"]``.
"""

from __future__ import annotations

import copy
import math
import re
import warnings
from functools import cache
from os import PathLike
from pathlib import Path
from typing import NamedTuple

import geopandas as gpd
import numpy as np
import pandapower as pp
import pandapower.toolbox  # noqa: F401  (pp.toolbox.drop_buses)
import pandapower.topology as top
import pandas as pd
import shapely

from ..errors import ConfigError, LayerFileError, SitingWarning

__all__ = ["gridkit_network", "GridKitNetwork", "CONTINENTAL_EUROPE", "LINE_TYPES", "country_polygons", "countries_at", "dispatch"]

#: kV -> (r ohm/km, x ohm/km, c nF/km, max_i_ka) per circuit
LINE_TYPES: dict[float, tuple[float, float, float, float]] = {
    220.0: (0.06, 0.301, 11.5, 1.29),
    300.0: (0.04, 0.265, 12.5, 1.935),
    380.0: (0.03, 0.246, 13.8, 2.58),
}
#: a bus outside every country polygon takes the nearest within this distance [km]
NEAREST_KM = 50.0
#: a plant is attached to the nearest bus of its country within this distance [km]
PLANT_BUS_KM = 100.0
#: a unit of at least this size goes to the nearest bus of at least LARGE_PLANT_KV where one is
#: within PLANT_BUS_KM (a 1 GW unit is not connected at 220 kV where 380 kV is near)
LARGE_PLANT_MW = 400.0
LARGE_PLANT_KV = 380.0
#: powerplantmatching fuel types dispatched in the snapshot (a windless evening: no wind or
#: solar; storage units (Set "Store") neither)
DISPATCHABLE = ("Nuclear", "Lignite", "Hard Coal", "Natural Gas", "Oil", "Hydro", "Solid Biomass", "Biogas",
                "Waste", "Geothermal", "Other")
LOAD_COS_PHI = 0.98
#: the map's symbols of the buses that take a country's load (not plants' own buses or joints)
SUBSTATION_SYMBOLS = ("Substation", "Substations + Power Plants")
HOURS_PER_YEAR = 8760.0

#: the countries of the Continental European synchronous area (ENTSO-E Regional Group CE) as of
#: 2025: the 26 European members (Denmark: its western part; Zealand is Nordic and drops out as a
#: separate part), Turkey (synchronous since 2015), Ukraine and Moldova (since 16 March 2022),
#: Estonia, Latvia and Lithuania (since 9 February 2025), and Morocco, Algeria and Tunisia (through
#: the Spain–Morocco ties). ``countries=None`` selects these; their ties to Belarus and Russia are cut.
CONTINENTAL_EUROPE = ("AL", "AT", "BA", "BE", "BG", "CH", "CZ", "DE", "DK", "DZ", "EE", "ES", "FR", "GR", "HR", "HU",
                      "IT", "LT", "LU", "LV", "MA", "MD", "ME", "MK", "NL", "PL", "PT", "RO", "RS", "SI", "SK", "TN",
                      "TR", "UA", "XK")

_COUNTRY = re.compile(r'"country"=>"([A-Z]{2})"')


class GridKitNetwork(NamedTuple):
    net: pp.pandapowerNet
    #: bus points, index the bus names (EPSG:28992 when the area is Dutch, EPSG:3035 otherwise)
    points: gpd.GeoSeries
    #: per country: buses (and how many placed by position), lines, transformers, load and
    #: generation [MW]; attrs: "dropped" (buses outside the kept area, per country),
    #: "base_case" (the dispatched base case solved: converged, losses, loading, voltages)
    composition: pd.DataFrame


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise LayerFileError(f"GridKit file missing: expected {name} in '{folder}'", path=path,
                             fix="point to the folder holding buses.csv, lines.csv and transformers.csv")
    try:
        return pd.read_csv(path, quotechar="'", low_memory=False)
    except Exception as exc:  # noqa: BLE001
        raise LayerFileError(f"cannot read GridKit file: {exc}", path=path) from exc


@cache
def country_polygons() -> gpd.GeoDataFrame:
    """The shipped country polygons (Natural Earth 1:10m, public domain; ``code`` as the
    GridKit tags write it, e.g. ``UK`` for Great Britain; ``pop_est``)."""
    from ..layers import embedded_data_dir

    path = embedded_data_dir() / "europe" / "countries.geojson"
    return gpd.read_file(path, engine="pyogrio").to_crs("EPSG:4326")


def countries_at(points: gpd.GeoSeries) -> tuple[pd.Series, pd.Series]:
    """Country code of each point (any CRS) by position, and how it was found: ``"position"``
    (inside the country's polygon), ``"nearest"`` (outside every polygon, the nearest within
    ``NEAREST_KM``) or ``""`` (none; code NaN). A point on a shared border takes the first code
    in alphabetical order (deterministic)."""
    polys = country_polygons()
    pts = gpd.GeoDataFrame(geometry=points.to_crs("EPSG:4326").reset_index(drop=True))
    hit = gpd.sjoin(pts, polys[["code", "geometry"]], how="left", predicate="within")
    hit = hit.sort_values("code", kind="stable")
    code = hit[~hit.index.duplicated(keep="first")]["code"].sort_index()
    how = pd.Series(np.where(code.notna(), "position", ""), index=code.index)
    miss = code.isna().to_numpy()
    if miss.any():
        near = gpd.sjoin_nearest(pts[miss].to_crs("EPSG:3035"), polys[["code", "geometry"]].to_crs("EPSG:3035"),
                                 how="left", max_distance=NEAREST_KM * 1e3)
        near = near.sort_values("code", kind="stable")
        near = near[~near.index.duplicated(keep="first")]["code"]
        code.loc[near.index] = near
        how.loc[near.index[near.notna().to_numpy()]] = "nearest"
    code.index = points.index
    how.index = points.index
    return code, how


def _buses(folder: Path, min_kv: float) -> pd.DataFrame:
    buses = _read(folder, "buses.csv")
    need = {"bus_id", "voltage", "dc", "tags", "x", "y", "symbol"}
    if missing := sorted(need - set(buses.columns)):
        raise LayerFileError(f"GridKit buses.csv lacks column(s) {missing}", path=folder / "buses.csv")
    buses["country"] = buses["tags"].astype(str).str.extract(_COUNTRY, expand=False)
    buses["country_from"] = np.where(buses["country"].notna(), "tag", "")
    ac = buses[(buses["dc"] == "f") & (buses["voltage"] >= min_kv)].copy()
    untagged = ac["country"].isna()
    if untagged.any():
        pts = gpd.GeoSeries(gpd.points_from_xy(ac.loc[untagged, "x"], ac.loc[untagged, "y"]),
                            index=ac.index[untagged], crs="EPSG:4326")
        code, how = countries_at(pts)
        ac.loc[untagged, "country"] = code
        ac.loc[untagged, "country_from"] = how
    return ac


def gridkit_network(path: str | PathLike[str], countries=None, min_kv: float = 220.0,
                    include_under_construction: bool = False, plants: str | PathLike[str] | None = None,
                    year: int = 2018) -> GridKitNetwork:
    """A pandapower network of the selected countries (``None``: those of the Continental
    European synchronous area, :data:`CONTINENTAL_EUROPE`) from a GridKit extract folder, dispatched as
    documented in the module notes when `plants` (powerplantmatching's ``powerplants.csv``)
    is given. Bus names ``gk-<bus_id>``, bus ``zone`` the country."""
    folder = Path(path)
    if countries is not None:
        countries = tuple(countries)
        if not countries:
            raise ConfigError("countries must name at least one ISO code, e.g. ('NL',), or be None for the "
                              "Continental European synchronous area")
    buses = _buses(folder, min_kv)
    lines = _read(folder, "lines.csv")
    trafos = _read(folder, "transformers.csv")
    known = sorted(buses["country"].dropna().unique())
    if countries is not None:
        unknown = sorted(set(countries) - set(known))
        if unknown:
            raise ConfigError(f"unknown country code(s) {unknown} in the GridKit extract; it has: {', '.join(known)}")
        sel = buses[buses["country"].isin(countries)]
    else:
        sel = buses[buses["country"].isin(CONTINENTAL_EUROPE)]
    if sel.empty:
        raise ConfigError(f"no AC buses >= {min_kv:g} kV for {countries} in the GridKit extract")
    lines = lines[lines["bus0"].isin(sel["bus_id"]) & lines["bus1"].isin(sel["bus_id"])]
    if not include_under_construction:
        lines = lines[~lines["under_construction"].astype(str).str.lower().isin(["t", "true"])]
    trafos = trafos[trafos["bus0"].isin(sel["bus_id"]) & trafos["bus1"].isin(sel["bus_id"])]

    label = "+".join(countries) if countries else "Continental Europe"
    net = pp.create_empty_network(name=f"GridKit {label}", f_hz=50.0, sn_mva=100.0)
    idx = pp.create_buses(net, len(sel), vn_kv=sel["voltage"].astype(float).to_numpy(),
                          name=[f"gk-{int(b)}" for b in sel["bus_id"]],
                          geodata=list(zip(sel["x"].astype(float), sel["y"].astype(float))),
                          zone=sel["country"].fillna("").to_numpy())
    bus_of = dict(zip(sel["bus_id"].astype(int), idx))
    net.bus["symbol"] = sel["symbol"].astype(str).to_numpy()
    net.bus["country_from"] = sel["country_from"].to_numpy()
    if len(lines):
        levels = np.array(sorted(LINE_TYPES))
        kv = lines["voltage"].astype(float).to_numpy()
        types = np.array([LINE_TYPES[float(levels[np.argmin(np.abs(levels - v))])] for v in kv]).reshape(-1, 4)
        pp.create_lines_from_parameters(
            net, [bus_of[int(b)] for b in lines["bus0"]], [bus_of[int(b)] for b in lines["bus1"]],
            length_km=np.maximum(lines["length"].astype(float).to_numpy() / 1000.0, 0.01),
            r_ohm_per_km=types[:, 0], x_ohm_per_km=types[:, 1], c_nf_per_km=types[:, 2], max_i_ka=types[:, 3],
            parallel=np.maximum(lines["circuits"].fillna(1).astype(int).to_numpy(), 1),
            name=[f"gk-line-{int(i)}" for i in lines["line_id"]],
        )
    hv, lv, names = [], [], []
    for row in trafos.itertuples():
        a, b = bus_of[int(row.bus0)], bus_of[int(row.bus1)]
        if net.bus.at[a, "vn_kv"] == net.bus.at[b, "vn_kv"]:
            continue
        if net.bus.at[a, "vn_kv"] > net.bus.at[b, "vn_kv"]:
            a, b = b, a
        hv.append(b)
        lv.append(a)
        names.append(f"gk-trafo-{int(row.transformer_id)}")
    if hv:
        pp.create_transformers_from_parameters(
            net, hv, lv, sn_mva=600.0, vn_hv_kv=net.bus.loc[hv, "vn_kv"].to_numpy(),
            vn_lv_kv=net.bus.loc[lv, "vn_kv"].to_numpy(), vkr_percent=0.25, vk_percent=12.0, pfe_kw=0.0,
            i0_percent=0.0, name=names,
        )
    # keep the largest connected part: the extract has stray stubs, and with every country the
    # synchronous areas joined only by DC links fall apart here
    graph = top.create_nxgraph(net, respect_switches=False)
    parts = sorted(top.connected_components(graph), key=lambda c: (-len(c), min(c)))
    keep = parts[0]
    drop = [b for b in net.bus.index if b not in keep]
    dropped = net.bus.loc[drop, "zone"].replace("", "?").value_counts().sort_index()
    if drop:
        pp.toolbox.drop_buses(net, drop)
    degree = pd.concat([net.line["from_bus"], net.line["to_bus"], net.trafo["hv_bus"], net.trafo["lv_bus"]]).value_counts()
    top_kv = net.bus["vn_kv"].max()
    cand = degree[degree.index.isin(net.bus.index[net.bus["vn_kv"] == top_kv])]
    ref = int(cand.sort_index().idxmax())
    pp.create_ext_grid(net, ref, vm_pu=1.0, name="reference")
    dutch = set(net.bus["zone"]) <= {"NL"}
    xy = sel.assign(name="gk-" + sel["bus_id"].astype(int).astype(str)).set_index("name").loc[net.bus["name"], ["x", "y"]]
    points = gpd.GeoSeries(gpd.points_from_xy(xy["x"], xy["y"]), index=net.bus["name"].to_numpy(), crs="EPSG:4326").to_crs("EPSG:28992" if dutch else "EPSG:3035")
    if not math.isfinite(float(net.line["length_km"].sum())):
        raise LayerFileError("GridKit line lengths are not numbers", path=folder / "lines.csv")
    composition = _composition(net)
    composition.attrs["dropped"] = {str(k): int(v) for k, v in dropped.items()}
    if plants is not None:
        composition = dispatch(net, points, plants, year=year, composition=composition)
    return GridKitNetwork(net, points, composition)


def _composition(net: pp.pandapowerNet) -> pd.DataFrame:
    """Per country: buses (all, placed by position), lines inside, cross-border lines (each
    counted at both ends), transformers."""
    zone = net.bus["zone"].replace("", "?")
    fz, tz = zone.loc[net.line["from_bus"]].to_numpy(), zone.loc[net.line["to_bus"]].to_numpy()
    inside = pd.Series(fz[fz == tz]).value_counts()
    border = pd.Series(np.concatenate([fz[fz != tz], tz[fz != tz]])).value_counts()
    out = pd.DataFrame({
        "buses": zone.value_counts(),
        "buses_by_position": zone[net.bus["country_from"].isin(["position", "nearest"])].value_counts(),
        "lines": inside,
        "cross_border_lines": border,
        "transformers": zone.loc[net.trafo["hv_bus"]].value_counts(),
    }).fillna(0).astype(int)
    out.index.name = "country"
    return out.sort_index()


def dispatch(net: pp.pandapowerNet, points: gpd.GeoSeries, plants: str | PathLike[str], year: int = 2018,
             composition: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add the documented snapshot (module notes) to a GridKit network in place: loads at each
    country's substations, generators at the plants' nearest buses; solve the base case.
    Returns the composition with ``load_mw``, ``generation_mw``, ``capacity_mw`` (dispatchable,
    attached), ``demand_source`` per country and ``attrs["base_case"]``."""
    from .acpf import ACGrid

    composition = _composition(net) if composition is None else composition.copy()
    path = Path(plants)
    if not path.is_file():
        raise LayerFileError(f"power-plant list not found: '{path}'", path=path,
                             fix="pass powerplantmatching's powerplants.csv (e.g. ../shared/reference/powerplantmatching)")
    try:
        ppm = pd.read_csv(path, low_memory=False)
    except Exception as exc:  # noqa: BLE001
        raise LayerFileError(f"cannot read the power-plant list: {exc}", path=path) from exc
    need = {"Fueltype", "Set", "Capacity", "DateIn", "DateOut", "lat", "lon"}
    if missing := sorted(need - set(ppm.columns)):
        raise LayerFileError(f"the power-plant list lacks column(s) {missing} (powerplantmatching's layout)", path=path)
    live = (ppm["Fueltype"].isin(DISPATCHABLE) & (ppm["Set"] != "Store") & (ppm["Capacity"] > 0)
            & ~(ppm["DateIn"] > year) & ~(ppm["DateOut"] <= year) & ppm["lat"].notna() & ppm["lon"].notna())
    ppm = ppm[live].reset_index(drop=True)
    ppts = gpd.GeoSeries(gpd.points_from_xy(ppm["lon"], ppm["lat"]), crs="EPSG:4326")
    ppm["country"] = countries_at(ppts)[0].to_numpy()
    zone = net.bus["zone"].to_numpy()
    bus_xy = points.to_crs("EPSG:3035")
    plant_xy = ppts.to_crs("EPSG:3035")
    ppm["bus"] = -1
    kv = net.bus["vn_kv"].to_numpy()
    big = (ppm["Capacity"] >= LARGE_PLANT_MW).to_numpy()
    for c in sorted(set(ppm["country"].dropna()) & set(zone)):
        for large in (False, True):
            at = np.flatnonzero((zone == c) & ((kv >= LARGE_PLANT_KV) if large else True))
            rows = np.flatnonzero((ppm["country"] == c).to_numpy() & (big if large else True))
            if len(at) == 0 or len(rows) == 0:
                continue
            tree = shapely.STRtree(bus_xy.iloc[at].to_numpy())
            near, dist = tree.query_nearest(plant_xy.iloc[rows].to_numpy(), return_distance=True, all_matches=False)
            ok = dist <= PLANT_BUS_KM * 1e3
            ppm.loc[rows[near[0][ok]], "bus"] = net.bus.index[at[near[1][ok]]]
    placed = ppm[ppm["bus"] >= 0]
    cap_bus = placed.groupby("bus")["Capacity"].sum()
    cap_c = placed.groupby("country")["Capacity"].sum()

    demand = _demand(composition.index)
    # a country the area boundary splits (Denmark's Zealand, stubs) keeps its load in
    # proportion to its buses kept
    dropped = pd.Series(composition.attrs.get("dropped", {}), dtype=float)
    kept = composition["buses"].astype(float)
    share = kept / (kept + dropped.reindex(kept.index).fillna(0.0))
    load_c = demand["load_mw"] * share
    # each country from its own listed plants, pro rata to capacity (net positions zero); what
    # they cannot cover comes from unlisted generation netted at its substations
    cap = cap_c.reindex(load_c.index).fillna(0.0)
    gen_c = np.minimum(load_c, cap)
    unlisted = load_c - gen_c
    factor = (gen_c / cap.where(cap > 0)).fillna(0.0)
    p_bus = cap_bus * placed.groupby("bus")["country"].first().map(factor)
    p_bus = p_bus[p_bus > 0].sort_index()
    pp.create_gens(net, p_bus.index.to_numpy(), p_mw=p_bus.to_numpy(), vm_pu=1.0,
                   max_p_mw=cap_bus.loc[p_bus.index].to_numpy(), slack_weight=p_bus.to_numpy(),
                   name=[f"plants@{net.bus.at[b, 'name']}" for b in p_bus.index], type="plants")
    net.ext_grid["slack_weight"] = 0.0
    tan = math.tan(math.acos(LOAD_COS_PHI))
    lb, lp, ub, up = [], [], [], []
    for c, mw in load_c.items():
        mine = net.bus["zone"] == c
        at = net.bus.index[mine & net.bus["symbol"].isin(SUBSTATION_SYMBOLS)]
        if len(at) == 0:
            at = net.bus.index[mine & (net.bus["symbol"] != "joint")]
        if len(at) == 0:
            at = net.bus.index[mine]
        lb.extend(at)
        lp.extend([mw / len(at)] * len(at))
        if unlisted[c] > 0.5:
            ub.extend(at)
            up.extend([unlisted[c] / len(at)] * len(at))
    pp.create_loads(net, lb, p_mw=np.array(lp), q_mvar=np.array(lp) * tan, name=[f"load@{net.bus.at[b, 'name']}" for b in lb])
    if ub:  # like the listed plants, the unlisted ones hold their bus voltage and share the balancing
        pp.create_gens(net, ub, p_mw=np.array(up), vm_pu=1.0, slack_weight=np.array(up),
                       name=[f"unlisted@{net.bus.at[b, 'name']}" for b in ub], type="unlisted")

    out = composition.join(pd.DataFrame({
        "load_mw": load_c, "plants_mw": gen_c, "unlisted_mw": unlisted, "capacity_mw": cap,
        "load_share": share, "demand_source": demand["source"],
    }))
    out.attrs = dict(composition.attrs)
    out.attrs["plants"] = {"attached": len(placed), "not_attached": int(len(ppm) - len(placed)),
                           "attached_mw": float(placed["Capacity"].sum()), "year": int(year)}
    grid = ACGrid(copy.deepcopy(net))
    res = grid.solve()
    base = {"converged": bool(res.converged), "iterations": int(res.iterations)}
    if res.converged:
        base |= {"losses_mw": float(res.slack_mw), "max_loading_pct": float(np.nanmax(res.loading_pct)),
                 "branches_over_100_pct": int(np.sum(np.nan_to_num(res.loading_pct) > 100.0)),
                 "vm_min_pu": float(np.min(res.vm_pu[grid.active])), "vm_max_pu": float(np.max(res.vm_pu[grid.active]))}
    else:
        warnings.warn("the dispatched GridKit base case does not converge: hosting and checks on it will fail. "
                      "Fix: fewer countries, or your own dispatch", SitingWarning, stacklevel=3)
    out.attrs["base_case"] = base
    return out


def _demand(countries) -> pd.DataFrame:
    """Average load [MW] per country: the cited annual demand (``data/europe/demand.csv``) /
    8,760 h, else its Natural Earth population times the listed countries' mean demand per head."""
    from ..layers import embedded_data_dir

    table = pd.read_csv(embedded_data_dir() / "europe" / "demand.csv", comment="#").set_index("code")
    pop = country_polygons().set_index("code")["pop_est"]
    cited = table["twh"].dropna()
    per_head = float(cited.sum() / pop.reindex(cited.index).sum())  # TWh per person
    rows = {}
    for c in countries:
        if c in cited.index:
            rows[c] = (float(cited[c]) * 1e6 / HOURS_PER_YEAR, f"{table.at[c, 'source']} {int(table.at[c, 'year'])}")
        elif c in pop.index:
            rows[c] = (float(pop[c]) * per_head * 1e6 / HOURS_PER_YEAR, "population x mean demand per head")
        else:
            rows[c] = (0.0, "none")
    return pd.DataFrame.from_dict(rows, orient="index", columns=["load_mw", "source"])
