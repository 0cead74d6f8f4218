"""Securing a scenario (preventive redispatch to an N-1 secure base case) and hosting capacity with
redispatch, against an independent check (least-cost LP redispatch + AC bisection)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pandapower.networks as pn
import pytest

from siting.grid import GridModel, list_scenarios
from siting.grid.hosting import Limits
from siting.grid.secure import RedispatchHosting

from .grid_fixtures import embedded_layers


@pytest.fixture(scope="module")
def secured() -> dict[str, GridModel]:
    return {name: GridModel.from_layers(embedded_layers(), scenario=name) for name in list_scenarios()}


@pytest.fixture(scope="module")
def case39() -> GridModel:
    return GridModel.from_pandapower(pn.case39())


def n1_worst(model: GridModel) -> float:
    """Worst loading over the base case and every N-1 case, AC, without any added load."""
    cs = model._caseset(Limits(), True)
    return max(float(np.nanmax(c.pre.loading_pct)) for c in cs.cases)


def test_every_shipped_scenario_is_secured_or_says_why(secured):
    for name, model in secured.items():
        sec = model.security
        assert sec is not None, name
        worst = n1_worst(model)
        # the reported state is the model's AC N-1 state
        assert worst == pytest.approx(sec.worst_after_pct, abs=0.2), name
        if sec.secured:
            assert worst <= sec.target_pct + 0.1, name
            assert sec.remaining.empty
        else:
            assert not sec.remaining.empty
            assert (sec.remaining["loading_pct"] > sec.target_pct).all()
            assert sec.remaining["reason"].str.len().gt(20).all(), sec.remaining
        assert sec.worst_after_pct <= sec.worst_before_pct + 0.1, name


def test_redispatch_is_balanced_and_within_each_resource(secured):
    for name, model in secured.items():
        red = model.security.redispatch
        assert list(red.columns) == ["resource", "kind", "p_before_mw", "delta_mw", "p_after_mw"]
        assert set(red["kind"]) <= {"plant", "hvdc", "phase_shifter", "countertrade", "curtailment"}
        np.testing.assert_allclose(red["p_after_mw"], red["p_before_mw"] + red["delta_mw"])
        # net injection change: the moves sum to ~0 (phase shifters shift between ties)
        moved = red.loc[red["kind"] != "phase_shifter", "delta_mw"].sum()
        assert abs(moved) < 1.0, (name, moved)
        assert (red.loc[red["kind"] == "curtailment", "delta_mw"] <= 0).all()
        plants = red[red["kind"] == "plant"]
        assert (plants["p_after_mw"] >= -1e-6).all()
        up = red.loc[(red["kind"] != "phase_shifter") & (red["delta_mw"] > 0), "delta_mw"].sum()
        assert model.security.volume_up_mw == pytest.approx(up, abs=0.5)


def test_market_dispatch_is_kept_with_secure_false(secured):
    raw = GridModel.from_layers(embedded_layers(), scenario="winter-peak-2026", secure=False)
    assert raw.security is None
    assert n1_worst(raw) > 100.0  # the market dispatch overloads a circuit in some outage
    assert n1_worst(secured["winter-peak-2026"]) <= 100.1


def test_unsecurable_network_is_a_finding_with_the_reason(case39):
    # no remedial resource at all (no generator declares a range) and a circuit rated too low
    net = pn.case39()
    net.gen["max_p_mw"] = np.nan
    net.line.loc[0, "max_i_ka"] = 0.05
    model = GridModel.from_pandapower(net).secured()
    sec = model.security
    assert not sec.secured
    assert sec.redispatch.empty
    assert "no remedial resource" in sec.remaining["reason"].iloc[0]
    assert "NOT securable" in str(sec)


def test_case39_secures_with_generator_redispatch():
    net = pn.case39()
    net.line["max_i_ka"] *= 1.4  # IEEE 39 as published is N-1 insecure beyond repair (158 %); this is not
    raw = GridModel.from_pandapower(net)
    assert n1_worst(raw) > 110.0
    model = raw.secured()
    assert model.security.secured, model.security.remaining
    assert n1_worst(model) <= 100.1
    assert model.security.volume_up_mw > 0


# --------------------------------------------------------------------------- with redispatch


def independent_with_redispatch(model: GridModel, bus, firm_mw: float, max_mw: float = 3000.0, tol: float = 0.5,
                                pf: float = 0.98) -> float:
    """Bisection on the load; at each step the least-cost LP redispatch for that load (linearised
    where the grid holds without redispatch, at the firm value), confirmed by AC power flow in
    EVERY N-1 case (no screening), rows tightened by their AC − first-order gap."""
    cs = model._caseset(Limits(), True)
    tan = math.tan(math.acos(pf))
    rh = RedispatchHosting(cs, model._resources(), model._costs(), model.net, tan, max_mw)
    ib = int(cs.grid.bus_lookup[model._resolve_bus(bus)])
    with cs.attributed(ib, tan):  # the definition: pre-existing overloads held only where the load moves >= 5 %
        return _independent(cs, rh, ib, firm_mw, max_mw, tol, tan)


def _independent(cs, rh, ib, firm_mw, max_mw, tol, tan) -> float:
    lp, sens = rh._linearise(ib, firm_mw, exact_all=True)  # every case linearised by AC at the firm value

    def ok(load: float) -> bool:
        extra = load - firm_mw
        tighten: dict = {}
        for _ in range(30):
            sol = lp.solve(load_sens=sens, load_mw=extra, tighten=tighten)
            if sol["status"] != "optimal":
                return False
            bad = False
            est = np.abs(lp.loadings(sol["delta"], sens, extra))  # first-order loading [%]
            for ci, res in lp.ac_check(sol["delta"], bus=ib, p_mw=load, q_mvar=load * tan):
                ev = cs.judge(cs.cases[ci], res)
                if ev.feasible:
                    continue
                if ev.kind != "thermal":
                    return False
                bad = True
                over = res.loading_pct - cs.cases[ci].max_loading
                for k in np.flatnonzero(np.nan_to_num(over, nan=-np.inf) > 0):
                    key = (ci, int(k))  # tighten by the larger of the AC - first-order gap and the excess
                    gap = float(res.loading_pct[k] - est[ci][k])
                    tighten[key] = max(tighten.get(key, 0.0) + float(over[k]), gap) + 0.05
            if not bad:
                return True
        return False

    if ok(max_mw):
        return max_mw
    lo, hi = firm_mw, max_mw
    while hi - lo > tol:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def test_with_redispatch_matches_independent_check_ieee39(case39):
    buses = [3, 15, 25]
    table = case39.hosting_capacity(buses=buses)
    assert (table["with_redispatch_mw"] >= table["firm_mw"] - 1e-6).all()
    assert (table["with_redispatch_mw"] > table["firm_mw"] + 10).any()  # redispatch makes room somewhere
    for bus in buses:
        ref = independent_with_redispatch(case39, bus, float(table.at[str(bus), "firm_mw"]))
        assert abs(ref - table.at[str(bus), "with_redispatch_mw"]) <= 5.0, (bus, ref, table.loc[str(bus)].to_dict())


@pytest.mark.parametrize("scenario, buses", [
    ("winter-peak-2026", ["maasvlakte-380", "zwolle-220", "diemen-380"]),
    ("high-wind-2030", ["louwsmeer-220"]),  # limited by a voltage in an outage the LP has no row for
])
def test_with_redispatch_matches_independent_check_embedded(secured, scenario, buses):
    model = secured[scenario]
    table = model.hosting_capacity(buses=buses)
    for bus in buses:
        row = table.loc[bus]
        assert row["with_redispatch_mw"] >= row["firm_mw"] - 1e-6
        if row["with_redispatch_mw"] > row["firm_mw"]:
            assert row["redispatch_mw"] > 0
            assert row["redispatch_constraint"] in {"thermal", "voltage", "cap"}
        ref = independent_with_redispatch(model, bus, float(row["firm_mw"]))
        assert abs(ref - row["with_redispatch_mw"]) <= 5.0, (bus, ref, row.to_dict())


def test_hosting_table_names_both_definitions(secured):
    table = secured["high-wind-2030"].hosting_capacity(buses=["borssele-380", "ens-220"])
    for col in ("firm_mw", "limiting_element", "limiting_case", "constraint", "with_redispatch_mw", "redispatch_mw",
                "redispatch_limiting_element", "redispatch_limiting_case", "redispatch_constraint"):
        assert col in table.columns
    assert table.attrs["secured"] is True
    firm_only = secured["high-wind-2030"].hosting_capacity(buses=["ens-220"], redispatch=False)
    assert "with_redispatch_mw" not in firm_only.columns
    assert firm_only.at["ens-220", "firm_mw"] == pytest.approx(table.at["ens-220", "firm_mw"])


def test_hosting_on_forked_workers_equals_one_process(case39):
    """The per-bus searches on two forked workers give the table of one process (values,
    limiting elements, AC solve count)."""
    one = case39.hosting_capacity(workers=1, max_mw=1500.0)
    two = GridModel.from_pandapower(pn.case39()).hosting_capacity(workers=2, max_mw=1500.0)  # a fresh memo
    assert len(one) >= 8  # enough buses for the workers to be used
    pd.testing.assert_frame_equal(one, two, check_exact=False, atol=1e-9)
    assert one.attrs["ac_solves"] == two.attrs["ac_solves"]


def test_an_error_in_a_worker_is_raised_as_in_one_process():
    from siting.errors import SitingError
    from siting.grid._parallel import map_items

    def fn(i: int) -> int:
        if i == 5:
            raise SitingError(f"item {i} failed")
        return i * i

    assert map_items(lambda i: i * i, 12, workers=2) == [i * i for i in range(12)]
    with pytest.raises(SitingError, match="item 5 failed"):
        map_items(fn, 12, workers=2)
    with pytest.raises(SitingError, match="item 5 failed"):
        map_items(fn, 12, workers=1)


def test_no_fork_outside_the_main_thread_and_the_same_layout():
    """A Dask worker thread (or any other) runs the items itself, with the same screen chunks
    (they do not depend on the workers), so the same table to the last bit."""
    import threading

    from siting.grid._parallel import planned_workers

    seen = {}
    th = threading.Thread(target=lambda: seen.update(planned=planned_workers(40, 2),
                                                     table=GridModel.from_pandapower(pn.case39()).hosting_capacity(
                                                         workers=2, max_mw=1500.0)))
    th.start()
    th.join()
    assert seen["planned"] == 1
    pd.testing.assert_frame_equal(seen["table"], GridModel.from_pandapower(pn.case39()).hosting_capacity(
        workers=2, max_mw=1500.0), check_exact=True)  # a fresh memo, forked where it can (main thread)


def test_workers_must_be_a_count(case39):
    from siting.errors import ParameterError

    with pytest.raises(ParameterError, match="workers"):
        case39.hosting_capacity(buses=[3], workers=0)


def test_with_redispatch_answer_holds_in_every_case_by_ac(secured):
    """Cases far from their limits at the firm load start from a first-order state; an answer
    is accepted only after AC in every such case. At these buses the first-order estimates were
    >20 pp off at +1,000 MW (a partial check once accepted 1,658 MW at zwolle-220 where a
    circuit then reached 125 % in an unchecked outage): the reported load, with its least-cost
    redispatch, must hold in every N-1 case."""
    model = secured["high-wind-2030"]
    table = model.hosting_capacity(buses=["zwolle-220", "ens-220"])
    cs = model._caseset(Limits(), True)
    tan = math.tan(math.acos(0.98))
    for bus in table.index:
        ib = int(cs.grid.bus_lookup[model._resolve_bus(bus)])
        firm, load = float(table.at[bus, "firm_mw"]), float(table.at[bus, "with_redispatch_mw"])
        assert load > firm + 100
        rh = RedispatchHosting(cs, model._resources(), model._costs(), model.net, tan, 3000.0)
        with cs.attributed(ib, tan):
            sol = rh.at_load(ib, load, firm)
            assert sol is not None
            lp, _ = rh._linearise(ib, firm, exact_all=True)
            for ci, res in lp.ac_check(sol["delta"], bus=ib, p_mw=load, q_mvar=load * tan):
                assert cs.judge(cs.cases[ci], res).feasible, (bus, ci, cs.violations(cs.cases[ci], res))


def test_first_order_state_evaluates_loadings_at_the_moved_voltages(secured):
    """A circuit carrying almost nothing before the load has a loading slope of arbitrary sign:
    robbenplaat–eemshaven-oost with its twin out carries 0.02 % before 880 MW at
    eemshaven-oost-220 and 100 % after. The first-order state evaluates the loading at the moved
    voltages (close to AC), not by extrapolating the slope (which gave −20 %)."""
    from siting.grid.secure import _first_order_states

    model = secured["winter-peak-2026"]
    model.hosting_capacity(buses=["eemshaven-oost-220"], redispatch=False)  # screens the bus
    cs = model._caseset(Limits(), True)
    g = cs.grid
    ib = int(g.bus_lookup[model._resolve_bus("eemshaven-oost-220")])
    col = cs._screened[ib]
    k = next(i for i, e in enumerate(g.element) if g.names.get(e) == "robbenplaat-eemshaven-oost-220")
    ci = next(i for i, c in enumerate(cs.cases) if c.outage == k)
    pre = cs.cases[ci].pre
    assert pre.loading_pct[k] < 1.0
    p = 880.0
    states, _ = _first_order_states(g, [pre], g.alive(k)[None, :], cs._dv[col, ci][None, :],
                                    cs._da[col, ci][None, :], p)
    ac = g.solve(outage=k, bus=ib, p_mw=p, q_mvar=p * 0.2031)
    assert ac.loading_pct[k] > 90.0
    assert abs(states[0].loading_pct[k] - ac.loading_pct[k]) < 10.0
    assert pre.loading_pct[k] + cs._dl[col, ci, k] * p < 50.0  # what extrapolating the slope gives
