"""Build a pandapower network of the 380/220 kV grid from the layers and a scenario.

Modelling assumptions (national screening accuracy; every value traceable to a layer row or a
scenario entry):

- **Buses**: one per substation row (station × EHV level) in the scenario year: in service, or
  under construction / planned with ``year <= scenario.year``.
- **Lines**: one pandapower line per circuits row, ``parallel = circuits``, per-km r/x/c of the
  row (indicative typical values, key G12 of data/SOURCES.md), ``max_i_ka = rating_mva /
  (√3·kV)``. Rows with ``until_year < scenario.year`` are left out.
- **Transformers**: 380/220 kV, ``parallel = units``, sn = ``rating_mva``; short-circuit voltage
  12 %, copper losses 0.25 %, no-load losses neglected (typical EHV autotransformer values;
  indicative).
- **Plants** with an EHV ``substation_id`` are voltage-controlling generators (PV, set point
  ``scenario.vm_gen_pu``); plants without (connected at 150/110 kV) are netted as fixed
  injections at their ``nearest_ehv_id``. Output: must-run fractions, then merit order.
- **Offshore wind**: fixed injections at the onshore station, ``capacity_factor × MW``, for
  connections in service by the scenario year with an EHV station in the model.
- **HVDC interconnectors**: fixed injections at their Dutch station (+ import).
- **Neighbouring grids**: each boundary-equivalent node (``xb-*``) holds a generator at
  ``scenario.vm_boundary_pu`` whose output is its share of ``exchange.ac_import_mw`` (∝ tie
  rating); the ``slack.reference`` node is the angle reference (pandapower ext_grid).
- **Demand**: ``demand.total_mw`` at ``demand.power_factor`` spread by the scenario's key: the
  industrial share by station weights, the rest by the inhabitants of the 342 CBS municipalities
  (2023), each to the in-service EHV station nearest its representative point (the embedded
  layer, so replacing a study's housing or municipality layer does not move demand).
- **Balancing** (distributed slack): dispatchable plants that run and can still ramp up
  (weight ∝ headroom to their available maximum: the marginal units of the merit order) take
  ``1 − slack.import_share`` of any change in load and of the losses, the boundary equivalents
  (weight ∝ tie rating; ties with phase shifters hold their flow and take none) take
  ``slack.import_share`` (all of it when no plant has headroom).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import numpy as np
import pandapower as pp
import pandas as pd

from ..errors import ConfigError
from ..layers import Layers
from .scenario import Scenario
from .secure import Resource

__all__ = ["build_network", "NetworkBuild", "rebalance_slack", "import_by_headroom", "TRAFO_VK_PERCENT",
           "TRAFO_VKR_PERCENT"]

TRAFO_VK_PERCENT = 12.0
TRAFO_VKR_PERCENT = 0.25


@dataclass(frozen=True)
class NetworkBuild:
    """A built network and what went into it."""

    net: pp.pandapowerNet
    balance: pd.DataFrame  # one row per component of the scenario balance [MW]
    resources: tuple[Resource, ...] = ()  # the remedial resources of the scenario (secure.py)


def _active(gdf: pd.DataFrame, year: int) -> pd.Series:
    """Rows in service in `year`: in service now, or with a planned year <= `year`, and not
    retired (until_year) before it."""
    status_ok = gdf["status"].eq("in_service") | (gdf["year"].notna() & (gdf["year"].fillna(9999) <= year))
    if "until_year" in gdf.columns:
        status_ok &= ~(gdf["until_year"].notna() & (gdf["until_year"].fillna(9999) < year))
    return status_ok.fillna(False).astype(bool)


def build_network(layers: Layers, scenario: Scenario, grid_year: int | None = None) -> NetworkBuild:
    """A pandapower network of the EHV grid in `scenario` (see the module notes).

    `grid_year` (default: the scenario's year) selects the stations, circuits and transformers;
    a later year adds the planned reinforcements up to it while dispatch, demand and offshore
    wind stay those of the scenario.
    """
    year = scenario.year
    grid_year = year if grid_year is None else grid_year
    subs = layers.substations[_active(layers.substations, grid_year)].copy()
    net = copy.deepcopy(_empty_network())
    net.name = f"siting NL EHV grid, scenario {scenario.name}"
    wgs = subs.to_crs("EPSG:4326")
    idx = pp.create_buses(net, len(subs), vn_kv=subs["kv"].to_numpy(float), name=subs["id"].to_numpy(),
                          geodata=list(zip(wgs.geometry.x, wgs.geometry.y)), zone=subs["station"].to_numpy(),
                          min_vm_pu=0.9, max_vm_pu=1.1)
    bus_of: dict[str, int] = dict(zip(subs["id"], (int(i) for i in idx)))
    net.bus["station"] = subs["station"].to_numpy()

    circ = layers.circuits[_active(layers.circuits, grid_year)]
    circ = circ[circ["from_id"].isin(bus_of) & circ["to_id"].isin(bus_of)]
    if len(circ):
        pp.create_lines_from_parameters(
            net, circ["from_id"].map(bus_of).to_numpy(), circ["to_id"].map(bus_of).to_numpy(),
            length_km=circ["length_km"].to_numpy(float), r_ohm_per_km=circ["r_ohm_per_km"].to_numpy(float),
            x_ohm_per_km=circ["x_ohm_per_km"].to_numpy(float), c_nf_per_km=circ["c_nf_per_km"].to_numpy(float),
            max_i_ka=circ["rating_mva"].to_numpy(float) / (math.sqrt(3) * circ["kv"].to_numpy(float)),
            parallel=circ["circuits"].to_numpy(int), name=circ["id"].to_numpy(),
            type=np.where(circ["type"] == "cable", "cs", "ol"),
        )
    trafo = layers.transformers[_active(layers.transformers, grid_year)]
    trafo = trafo[trafo["hv_id"].isin(bus_of) & trafo["lv_id"].isin(bus_of)]
    if len(trafo):
        pp.create_transformers_from_parameters(
            net, trafo["hv_id"].map(bus_of).to_numpy(), trafo["lv_id"].map(bus_of).to_numpy(),
            sn_mva=trafo["rating_mva"].to_numpy(float), vn_hv_kv=380.0, vn_lv_kv=220.0,
            vkr_percent=TRAFO_VKR_PERCENT, vk_percent=TRAFO_VK_PERCENT, pfe_kw=0.0, i0_percent=0.0,
            parallel=trafo["units"].to_numpy(int), name=trafo["id"].to_numpy(),
        )
    batch = _Batch()

    balance: list[dict] = []
    fixed_mw = 0.0

    # --- offshore wind: fixed injections at the onshore station
    off = _offshore_in(layers.offshore, scenario)
    for row in off.itertuples():
        if pd.isna(row.substation_id) or row.substation_id not in bus_of:
            continue
        cf = scenario.offshore.per_connection.get(row.id, scenario.offshore.capacity_factor)
        p = cf * float(row.output_cap_mw)
        batch.add("sgen", bus=bus_of[row.substation_id], p_mw=p, name=row.id, type="offshore_wind",
                  sn_mva=float(row.capacity_mw))
        fixed_mw += p
        balance.append({"component": "offshore wind", "id": row.id, "p_mw": p})

    # --- HVDC links: fixed exchange at the Dutch station
    ic = layers.interconnectors
    unknown = sorted(set(scenario.exchange.hvdc) - set(ic["id"]))
    if unknown:
        raise ConfigError(f"scenario '{scenario.name}': exchange.hvdc names unknown interconnector ids {unknown}")
    for link_id, p in scenario.exchange.hvdc.items():
        row = ic.set_index("id").loc[link_id]
        if row["kind"] != "hvdc" or pd.isna(row["substation_id"]) or row["substation_id"] not in bus_of:
            raise ConfigError(
                f"scenario '{scenario.name}': exchange.hvdc.{link_id} is not an HVDC link with a station in the model"
            )
        cap = float(row["capacity_mw"]) if pd.notna(row["capacity_mw"]) else abs(float(p))
        if abs(float(p)) > cap + 1e-6:
            raise ConfigError(
                f"scenario '{scenario.name}': exchange.hvdc.{link_id} = {p} MW exceeds the link's capacity of {cap:g} MW"
            )
        batch.add("sgen", bus=bus_of[row["substation_id"]], p_mw=float(p), name=link_id, type="hvdc", sn_mva=cap)
        fixed_mw += float(p)
        balance.append({"component": "HVDC import", "id": link_id, "p_mw": float(p)})

    # --- plants
    plants = layers.plants
    closure_ok = plants["closure_year"].isna() | (plants["closure_year"].fillna(0) >= year)
    running = plants[plants["status"].isin(["operating", "conversion"]) & closure_ok]
    dispatchable: list[tuple[int, float, str, str]] = []  # (index, capacity, fuel, "gen"|"sgen")
    must_run: list[tuple[str, int, str]] = []  # (table, index, fuel)
    for row in running.itertuples():
        at = row.substation_id if isinstance(row.substation_id, str) and row.substation_id in bus_of else None
        fallback = row.nearest_ehv_id if isinstance(row.nearest_ehv_id, str) and row.nearest_ehv_id in bus_of else None
        bus_id = at or fallback
        if bus_id is None:
            continue
        cap = float(row.capacity_mw)
        if row.fuel in scenario.dispatch.must_run:
            p = scenario.dispatch.must_run[row.fuel] * cap
            fixed_mw += p
            balance.append({"component": f"must-run {row.fuel}", "id": row.id, "p_mw": p})
            if at:
                idx = batch.add("gen", bus=bus_of[at], p_mw=p, vm_pu=scenario.vm_gen_pu, name=row.id, type=row.fuel,
                                slack_weight=0.0)
                must_run.append(("gen", idx, row.fuel))
            else:
                idx = batch.add("sgen", bus=bus_of[bus_id], p_mw=p, name=row.id, type=row.fuel, sn_mva=cap)
                must_run.append(("sgen", idx, row.fuel))
        elif row.fuel in scenario.dispatch.merit_order:
            top = scenario.dispatch.available.get(row.fuel, 0.0) * cap  # the most it can run at
            if at:
                g = batch.add("gen", bus=bus_of[at], p_mw=0.0, vm_pu=scenario.vm_gen_pu, name=row.id, type=row.fuel,
                              slack_weight=0.0, max_p_mw=top, sn_mva=cap)
                dispatchable.append((g, cap, row.fuel, "gen"))
            else:
                s = batch.add("sgen", bus=bus_of[bus_id], p_mw=0.0, name=row.id, type=row.fuel, max_p_mw=top, sn_mva=cap)
                dispatchable.append((s, cap, row.fuel, "sgen"))
    batch.flush(net)

    # --- neighbouring grids: boundary equivalents at the xb-* nodes
    xb = [b for b in bus_of if b.startswith("xb-")]
    if scenario.slack.reference not in bus_of:
        raise ConfigError(
            f"scenario '{scenario.name}': slack.reference {scenario.slack.reference!r} is not a bus of the model; "
            f"boundary nodes: {', '.join(xb) or 'none'}"
        )
    tie_rating = {b: 0.0 for b in xb}
    for row in circ.itertuples():
        for end in (row.from_id, row.to_id):
            if end in tie_rating:
                tie_rating[end] += float(row.rating_mva) * int(row.circuits)
    total_tie = sum(tie_rating.values()) or 1.0

    # --- demand, by the scenario's key
    loads = _allocate_demand(layers, subs, scenario)
    tan_phi = math.tan(math.acos(scenario.demand.power_factor))
    if loads:
        p_load = np.array(list(loads.values()), dtype=float)
        pp.create_loads(net, [bus_of[b] for b in loads], p_mw=p_load, q_mvar=p_load * tan_phi,
                        name=[f"demand:{b}" for b in loads])
    balance.append({"component": "demand", "id": "total", "p_mw": -scenario.demand.total_mw})

    ac_import = scenario.exchange.ac_import_mw
    balance.append({"component": "AC import", "id": "total", "p_mw": ac_import})
    residual = scenario.demand.total_mw - fixed_mw - ac_import
    # merit order: fill the residual fuel by fuel, pro rata within a fuel
    for fuel in scenario.dispatch.merit_order:
        units = [u for u in dispatchable if u[2] == fuel]
        avail = scenario.dispatch.available.get(fuel, 0.0) * sum(u[1] for u in units)
        take = max(0.0, min(residual, avail))
        for idx, cap, _, table in units:
            share = take * cap / sum(u[1] for u in units) if units else 0.0
            net[table].at[idx, "p_mw"] = share
        if units:
            balance.append({"component": f"dispatch {fuel}", "id": "total", "p_mw": take})
        residual -= take

    imp_share = scenario.slack.import_share if xb else 0.0
    if not any(t == "gen" and 1.0 < net.gen.at[i, "p_mw"] < net.gen.at[i, "max_p_mw"] - 1.0 for i, _, _, t in dispatchable):
        imp_share = 1.0  # no running plant can ramp up: imports meet any change
    # a tie with phase shifters holds its scheduled flow: a change in import comes over the others
    pst_nodes = _pst_nodes(circ, xb)
    free_tie = sum(r for b, r in tie_rating.items() if b not in pst_nodes) or 1.0
    boundary: list[tuple[str, int, float]] = []  # (table, index, share of the AC import)
    for b in xb:
        share = tie_rating[b] / total_tie
        slack_share = 0.0 if b in pst_nodes else tie_rating[b] / free_tie
        if b == scenario.slack.reference:
            pp.create_ext_grid(net, bus_of[b], vm_pu=scenario.vm_boundary_pu, va_degree=0.0, name=b,
                               slack_weight=imp_share * slack_share)
            # the reference node's scheduled import, a fixed injection next to the ext_grid
            s_idx = pp.create_sgen(net, bus_of[b], p_mw=ac_import * share, q_mvar=0.0, name=f"{b}:scheduled",
                                   type="boundary")
            boundary.append(("sgen", s_idx, share))
        else:
            g_idx = pp.create_gen(net, bus_of[b], p_mw=ac_import * share, vm_pu=scenario.vm_boundary_pu, name=b,
                                  type="boundary", slack_weight=imp_share * slack_share)
            boundary.append(("gen", g_idx, share))
    net.gen["dispatchable"] = False
    net.sgen["dispatchable"] = False
    for idx, _, _, table in dispatchable:
        net[table].at[idx, "dispatchable"] = True
    rebalance_slack(net, total=(1 - imp_share))
    resources = _resources(net, scenario, dispatchable, must_run, boundary, circ, bus_of)
    balance.append({"component": "unbalance before losses (to slack)", "id": "total", "p_mw": residual})
    return NetworkBuild(net=net, balance=pd.DataFrame(balance), resources=tuple(resources))


def import_by_headroom(grid, net: pp.pandapowerNet) -> bool:
    """Spread the boundary equivalents' share of the distributed slack in proportion to each
    tie's N-1 headroom in the grid's base case — its rating with one circuit out less the flow it
    carries — keeping their total weight: more import for a new load comes over the ties that
    have room, not pro rata to ratings onto a tie that is nearly full. Ties with phase shifters
    (weight 0: they hold their flow) keep 0. Changes `net` in place (recompile the grid after);
    returns whether any weight changed."""
    units = []
    for table in ("gen", "ext_grid"):
        t = net[table]
        for idx, row in t.iterrows():
            is_boundary = table == "ext_grid" or row.get("type") == "boundary"
            if is_boundary and float(row.get("slack_weight", 0.0) or 0.0) > 0:
                units.append((table, idx, int(row["bus"])))
    if len(units) < 2:
        return False
    base = grid.solve()
    if not base.converged:
        return False
    headroom = {}
    for table, idx, bus in units:
        ib = int(grid.bus_lookup[bus])
        room = 0.0
        for k in np.flatnonzero((grid.f == ib) | (grid.t == ib)):
            par = grid.parallel[k]
            rating = math.sqrt(3.0) * grid.base_kv[grid.f[k]] * base.vm_pu[grid.f[k]] * grid.i_rated_f_ka[k]
            n1 = rating * (par - 1.0) / par if par > 1 else 0.0
            flow = abs(float(base.p_from_mw[k]))
            room += max(n1 - flow, 0.0)  # import into NL grows the tie's flow: room left under N-1
        headroom[(table, idx)] = room
    total_w = sum(float(net[t].at[i, "slack_weight"]) for t, i, _ in units)
    total_room = sum(headroom.values())
    if total_room <= 0 or total_w <= 0:
        return False
    changed = False
    for (table, idx), room in headroom.items():
        w = total_w * room / total_room
        if abs(w - float(net[table].at[idx, "slack_weight"])) > 1e-9:
            net[table].at[idx, "slack_weight"] = w
            changed = True
    return changed


def _pst_nodes(circ: pd.DataFrame, xb: list[str]) -> set[str]:
    """Boundary nodes whose tie has phase-shifting transformers (``pst_range_mw`` > 0)."""
    if "pst_range_mw" not in circ.columns:
        return set()
    out = set()
    for row in circ.itertuples():
        rng = getattr(row, "pst_range_mw")
        if isinstance(rng, (int, float)) and np.isfinite(rng) and rng > 0:
            out |= {row.from_id, row.to_id} & set(xb)
    return out


def rebalance_slack(net: pp.pandapowerNet, total: float | None = None, held: set[str] | frozenset = frozenset()) -> None:
    """Give the distributed-slack weight of the dispatchable plants (`total`, default: the sum
    they hold now) to those that run and can still ramp up: weight ∝ upward headroom
    ``max_p_mw − p_mw`` (the marginal units of the merit order meet a new load, not those
    already at their maximum). Plants named in `held` (those the securing redispatch turned
    down: the operator holds them there) take no share. When no plant has headroom, the
    boundary equivalents take it all. Called after a build and after a redispatch."""
    gen = net.gen
    if "dispatchable" not in gen.columns:
        return
    disp = gen["dispatchable"].fillna(False).astype(bool)
    if total is None:
        total = float(gen.loc[disp, "slack_weight"].sum())
    running = disp & (gen["p_mw"] > 1e-6) & ~gen["name"].isin(held)
    room = (gen.loc[running, "max_p_mw"].astype(float) - gen.loc[running, "p_mw"].astype(float)).clip(lower=0.0)
    room = room[room > 1.0]
    gen.loc[disp, "slack_weight"] = 0.0
    if total > 0 and room.sum() > 0:
        gen.loc[room.index, "slack_weight"] = total * room / room.sum()


def _resources(net, scenario: Scenario, dispatchable, must_run, boundary, circ, bus_of) -> list[Resource]:
    """The scenario's remedial resources (see :mod:`siting.grid.secure`)."""
    rem = scenario.remedial
    out: list[Resource] = []
    for idx, cap, fuel, table in dispatchable:
        p = float(net[table].at[idx, "p_mw"])
        top = float(net[table].at[idx, "max_p_mw"])
        out.append(Resource(str(net[table].at[idx, "name"]), "plant", p, max(top - p, 0.0), p, ((table, idx, 1.0),)))
    sg = net.sgen
    for idx in sg.index[sg["type"] == "hvdc"]:
        p, cap = float(sg.at[idx, "p_mw"]), float(sg.at[idx, "sn_mva"])
        out.append(Resource(str(sg.at[idx, "name"]), "hvdc", p, max(cap - p, 0.0), max(cap + p, 0.0), (("sgen", idx, 1.0),)))
    if boundary and rem.countertrade_max_mw > 0:
        out.append(Resource("AC import (countertrading)", "countertrade", scenario.exchange.ac_import_mw,
                            rem.countertrade_max_mw, rem.countertrade_max_mw,
                            tuple((t, i, w) for t, i, w in boundary)))
    # phase shifters in series with a tie: move import between that tie and the others
    if "pst_range_mw" in circ.columns and len(boundary) > 1:
        node_of = {}
        for t, i, w in boundary:
            node_of[net.bus.at[int(net[t].at[i, "bus"]), "name"]] = (t, i, w)
        for row in circ.itertuples():
            rng = getattr(row, "pst_range_mw")
            if not (isinstance(rng, (int, float)) and np.isfinite(rng) and rng > 0):
                continue
            node = row.to_id if row.to_id in node_of else row.from_id if row.from_id in node_of else None
            if node is None:
                continue
            t0, i0, w0 = node_of[node]
            others = tuple((t, i, -w / (1.0 - w0)) for n, (t, i, w) in node_of.items() if n != node)
            p_tie = float(net[t0].at[i0, "p_mw"])
            out.append(Resource(f"phase shifter {row.id}", "phase_shifter", p_tie, float(rng), float(rng),
                                ((t0, i0, 1.0), *others)))
    for tech in rem.curtail:
        if tech == "offshore_wind":
            rows = [("sgen", i) for i in sg.index[sg["type"] == "offshore_wind"]]
        else:
            rows = [(t, i) for t, i, fuel in must_run if fuel == tech]
        for t, i in rows:
            p = float(net[t].at[i, "p_mw"])
            if p > 0:
                out.append(Resource(str(net[t].at[i, "name"]), "curtailment", p, 0.0, p, ((t, i, 1.0),)))
    return out


def _offshore_in(off: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Offshore connections that inject in the scenario, with ``output_cap_mw`` (the most they
    inject: the farm's MW where given, never more than the connection).

    ``offshore.basis = "producing"`` (default): a connection counts once its wind farm produces
    — ``producing_year`` up to the scenario year where the layer gives it (grid-ready is not
    producing), else in service by then. ``"grid_ready"``: once the connection is in service
    (the planning view, e.g. the 21 GW programme of the 2024 planning)."""
    year = scenario.year
    ready = _active(off.assign(status=off["status"].replace({"grid_ready": "in_service"})), year)
    if scenario.offshore.basis == "producing" and "producing_year" in off.columns:
        py = pd.to_numeric(off["producing_year"], errors="coerce")
        ready &= py.isna() | (py <= year)
        ready &= ~(py.isna() & off["status"].eq("grid_ready"))  # grid-ready, farm date unknown: not producing
    unknown = sorted(set(scenario.offshore.include) - set(off["id"]))
    if unknown:
        raise ConfigError(f"scenario '{scenario.name}': offshore.include names unknown connection ids {unknown}; "
                          f"known: {', '.join(off['id'])}")
    ready |= off["id"].isin(scenario.offshore.include)
    out = off[ready].copy()
    cap = out["capacity_mw"].astype(float)
    if "producing_mw" in out.columns:
        farm = pd.to_numeric(out["producing_mw"], errors="coerce")
        cap = np.minimum(cap, farm.fillna(cap))
    out["output_cap_mw"] = cap
    return out


@cache
def _empty_network() -> pp.pandapowerNet:
    """pandapower's empty network (slow to create: made once, copied for each build)."""
    return pp.create_empty_network(name="siting NL EHV grid", f_hz=50.0, sn_mva=100.0)


class _Batch:
    """Generator rows collected while the scenario is read and created in one call per table
    (pandapower's per-element create is slow); indices are those pandapower will give."""

    def __init__(self) -> None:
        self.rows: dict[str, list[dict]] = {"gen": [], "sgen": []}

    def add(self, table: str, **row) -> int:
        self.rows[table].append(row)
        return len(self.rows[table]) - 1

    def flush(self, net: pp.pandapowerNet) -> None:
        for table, rows in self.rows.items():
            if not rows:
                continue
            df = pd.DataFrame(rows)
            cols = {c: df[c].to_numpy() for c in df.columns if c not in ("bus", "p_mw")}
            start = len(net[table])
            create = pp.create_gens if table == "gen" else pp.create_sgens
            idx = create(net, df["bus"].to_numpy(int), p_mw=df["p_mw"].to_numpy(float), **cols)
            if list(idx) != list(range(start, start + len(rows))):  # pragma: no cover - pandapower's contract
                raise RuntimeError(f"unexpected {table} indices from pandapower")
        self.rows = {"gen": [], "sgen": []}


@cache
def _embedded_inhabitants() -> gpd.GeoDataFrame:
    """The demand key's points: each embedded CBS 2023 municipality as its representative point
    (inside the polygon) with its inhabitants."""
    from ..layers import _embedded_layer_set, read_layer

    mun = read_layer(_embedded_layer_set().layers["municipalities"], "municipalities")
    pts = mun[["id", "inhabitants"]].copy()
    return gpd.GeoDataFrame(pts.rename(columns={"inhabitants": "population"}),
                            geometry=mun.geometry.representative_point(), crs=mun.crs)


def _allocate_demand(layers: Layers, subs: gpd.GeoDataFrame, scenario: Scenario) -> dict[str, float]:
    """Demand per bus id [MW] by the scenario's key (population + industry weights)."""
    nl = subs[~subs["id"].str.startswith("xb-")]
    # a station's demand goes to its lowest EHV level
    lowest = nl.sort_values("kv").drop_duplicates("station").set_index("station")
    d = scenario.demand
    out: dict[str, float] = {}
    # the key is part of the scenario: the inhabitants of the embedded CBS municipalities, each
    # to the EHV station nearest its representative point, whatever housing layer the study uses
    # (a user's partial housing layer must not move the demand)
    pop = _embedded_inhabitants()[["population", "geometry"]]
    stations = lowest.reset_index()[["station", "id", "geometry"]]
    near = gpd.sjoin_nearest(pop, stations, how="left")
    near = near[~near.index.duplicated(keep="first")]
    weights = near.groupby("id")["population"].sum().astype(float)
    pop_mw = (1 - d.industry_share) * d.total_mw
    for bus_id, w in (weights / weights.sum() * pop_mw).items():
        out[bus_id] = out.get(bus_id, 0.0) + float(w)
    if d.industry_share > 0:
        if not d.industry:
            raise ConfigError(f"scenario '{scenario.name}': demand.industry_share > 0 needs demand.industry weights")
        unknown = sorted(set(d.industry) - set(lowest.index))
        if unknown:
            raise ConfigError(
                f"scenario '{scenario.name}': demand.industry names stations not in the {scenario.year} grid: {unknown}"
            )
        total_w = sum(d.industry.values())
        for station, w in d.industry.items():
            bus_id = lowest.loc[station, "id"]
            out[bus_id] = out.get(bus_id, 0.0) + d.industry_share * d.total_mw * w / total_w
    return out
