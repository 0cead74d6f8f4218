"""Bounded memory for large grids: the screen in blocks of buses, Jacobians rebuilt instead of
kept, the N-1 cases solved on every core — each gives the table of the plain path."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pandas as pd
import pytest

import siting.grid.hosting as H
from siting.grid import GridModel
from siting.grid._parallel import available_workers


@pytest.fixture(scope="module")
def plain():
    model = GridModel.from_pandapower(pn.case39())
    return model.hosting_capacity(redispatch=False, workers=1)


def _table(monkeypatch, workers=1, **consts):
    for name, value in consts.items():
        monkeypatch.setattr(H, name, value)
    return GridModel.from_pandapower(pn.case39()).hosting_capacity(redispatch=False, workers=workers)


#: one bus's dense screen on IEEE 39 (36 cases, 46 branches, 39 buses)
BUS_BYTES = H.SENSITIVITY_DTYPE().itemsize * 36 * (46 + 2 * 39 + 1)


def _count_screens(monkeypatch) -> list[int]:
    """The number of buses of every screen from now on (CaseSet.screen spied on)."""
    seen: list[int] = []
    real = H.CaseSet.screen

    def spy(self, buses, *args):
        seen.append(len(buses))
        return real(self, buses, *args)

    monkeypatch.setattr(H.CaseSet, "screen", spy)
    return seen


def test_screen_in_blocks_gives_the_same_table(plain, monkeypatch):
    """Where the dense screen of all buses would exceed SCREEN_BYTES, it is screened in blocks
    within the budget: every bus screened once, the table of one screen."""
    seen = _count_screens(monkeypatch)
    blocks = _table(monkeypatch, SCREEN_BYTES=7 * BUS_BYTES)
    assert seen and max(seen) <= 7 and sum(seen) == len(plain)
    pd.testing.assert_frame_equal(blocks, plain)


@pytest.mark.skipif(available_workers() < 2, reason="needs two cores")
def test_screen_on_workers_gives_the_same_table(plain, monkeypatch):
    """Each worker screens its own chunks of buses; the chunks do not depend on the workers, so
    the table is that of one process to the last bit (and of one screen of all buses to
    rounding), also in blocks."""
    seen = _count_screens(monkeypatch)
    one = _table(monkeypatch, workers=1, SCREEN_CHUNK_BUSES=10)
    assert sorted(seen) == [9, 10, 10, 10]  # every 4th bus a chunk
    pd.testing.assert_frame_equal(_table(monkeypatch, workers=2, SCREEN_CHUNK_BUSES=10), one, check_exact=True)
    np.testing.assert_allclose(one["firm_mw"], plain["firm_mw"], atol=1e-9)
    assert (one["limiting_case"] == plain["limiting_case"]).all()
    pd.testing.assert_frame_equal(_table(monkeypatch, workers=2, SCREEN_BYTES=10 * BUS_BYTES),
                                  _table(monkeypatch, workers=1, SCREEN_BYTES=10 * BUS_BYTES), check_exact=True)


def test_jacobians_rebuilt_when_too_many_to_keep(plain, monkeypatch):
    monkeypatch.setattr(H, "JACOBIAN_CACHE_BYTES", 0)
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    assert all(c.pre.jacobian is None for c in cs.cases)
    table = model.hosting_capacity(redispatch=False, workers=1)
    np.testing.assert_allclose(table["firm_mw"], plain["firm_mw"], atol=1e-6)
    assert (table["limiting_case"] == plain["limiting_case"]).all()


def test_factorised_jacobians_kept_across_blocks(monkeypatch):
    """A large grid's screen in chunks of buses factorises each case's Jacobian once, not once a
    chunk; without room to keep them (LU_CACHE_BYTES), again in every chunk — the same table
    (to 1e-6 MW: a case whose factors are kept is solved by the chord method on them, Newton's
    solution to ~1e-8 % of loading)."""
    import siting.grid.acpf as A

    monkeypatch.setattr(A, "DENSE_MAX_BUSES", 10)  # IEEE 39 sparse, as a large grid
    calls = []
    real = H.SparseLU
    monkeypatch.setattr(H, "SparseLU", lambda a: calls.append(a.shape) or real(a))
    kept = _table(monkeypatch, SCREEN_CHUNK_BUSES=10)  # four chunks
    n_cases = len(GridModel.from_pandapower(pn.case39())._caseset(H.Limits(), True).cases)
    assert len(calls) == n_cases
    calls.clear()
    again = _table(monkeypatch, SCREEN_CHUNK_BUSES=10, LU_CACHE_BYTES=0)
    assert len(calls) == 4 * n_cases
    pd.testing.assert_frame_equal(again, kept, check_exact=False, atol=1e-6, rtol=0)


def test_cases_solved_on_workers_equal_one_process(monkeypatch):
    model = GridModel.from_pandapower(pn.case39())
    one = model._caseset(H.Limits(), True)
    monkeypatch.setattr(H, "PARALLEL_CASES_MIN_BUSES", 1)
    many = H.CaseSet(model._grid, H.Limits(), True)
    assert [c.outage for c in many.cases] == [c.outage for c in one.cases]
    for a, b in zip(many.cases, one.cases):
        np.testing.assert_array_equal(a.pre.vm_pu, b.pre.vm_pu)
        np.testing.assert_array_equal(a.pre.loading_pct, b.pre.loading_pct)


def test_large_grid_cases_by_chord_equal_newton(monkeypatch):
    """A large grid's outages are solved by the chord method on the base case's factors corrected
    for the outage (CaseSet._case_solver): Newton's states (to the 1e-9 pu mismatch both stop
    at), the same cases skipped, and the base factors handed on to the searches."""
    import copy

    import siting.grid.acpf as A

    monkeypatch.setattr(A, "DENSE_MAX_BUSES", 50)  # IEEE 118 sparse, as a large grid
    monkeypatch.setattr(H, "PARALLEL_CASES_MIN_BUSES", 1)
    monkeypatch.setattr(H, "JACOBIAN_CACHE_BYTES", 0)  # (as the European grid: no Jacobian kept a case)
    g = A.ACGrid(copy.deepcopy(pn.case118()))
    by_chord = H.CaseSet(g, H.Limits(), True)
    monkeypatch.setattr(H, "CASES_BY_CHORD", False)
    newton = H.CaseSet(g, H.Limits(), True)
    assert [c.outage for c in by_chord.cases] == [c.outage for c in newton.cases]
    assert by_chord.failed_pre == newton.failed_pre
    steps = np.array([c.pre.iterations for c in by_chord.cases[1:]])
    assert (steps > np.array([c.pre.iterations for c in newton.cases[1:]])).mean() > 0.5  # (chord steps: more)
    for a, b in zip(by_chord.cases, newton.cases):
        np.testing.assert_allclose(a.pre.vm_pu, b.pre.vm_pu, rtol=0, atol=1e-8)
        np.testing.assert_allclose(a.pre.va_rad, b.pre.va_rad, rtol=0, atol=1e-8)
        np.testing.assert_allclose(a.pre.loading_pct, b.pre.loading_pct, rtol=0, atol=1e-6)
        assert a.pre.slack_mw == pytest.approx(b.pre.slack_mw, abs=1e-5)
    v0, lu0 = by_chord._update_base()
    np.testing.assert_allclose(np.abs(v0), by_chord.cases[0].pre.vm_pu, rtol=0, atol=1e-15)
    assert lu0.n == by_chord.pre_with_jacobian(by_chord.cases[0]).jacobian.shape[0]


def test_sparse_jacobian_on_the_compiled_pattern_equals_the_general_assembly(monkeypatch):
    import copy

    import siting.grid.acpf as A

    monkeypatch.setattr(A, "DENSE_MAX_BUSES", 50)  # IEEE 118 sparse, as a large grid
    g = A.ACGrid(copy.deepcopy(pn.case118()))
    assert not g.dense and g.engine == "lightsim2grid"
    ok, _ = g.contingencies()
    for k in [None, *ok[::20]]:
        res = g.solve(outage=k)
        v = res.vm_pu * np.exp(1j * res.va_rad)
        y = g._ybus(k)
        assert g._jacobian_pattern(y) is not None
        fast = g._jacobian(y, v)
        saved = g._compiled["jac"]
        g._compiled["jac"] = None  # the general assembly (pandapower's dSbus_dV, block slicing)
        general = g._jacobian(y, v)
        g._compiled["jac"] = saved
        assert fast.shape == general.shape
        assert abs(fast - general).max() <= 1e-12 * abs(general).max()


def test_compact_screen_gives_the_same_table(plain, monkeypatch):
    """The compact screen of large grids, forced on IEEE 39: the same limiting cases, and answers
    within the search's tolerance (0.5 MW: each brackets the same limit; where the base case is
    not nearly linear the compact bands are each element's own, so the cases checked on the way
    up, and the brackets, may differ — bus 10: 524.12 against 524.15 MW)."""
    table = _table(monkeypatch, COMPACT_ABOVE_BYTES=0, DC_DRIVEN=False)
    np.testing.assert_allclose(table["firm_mw"], plain["firm_mw"], atol=0.5)
    assert (table["firm_mw"] - plain["firm_mw"]).abs().lt(1e-5).mean() > 0.9
    assert (table["limiting_case"] == plain["limiting_case"]).all()


def test_compact_screen_in_chunks_gives_the_table_of_one(monkeypatch):
    """More buses than COMPACT_CHUNK_BUSES are compact-screened in chunks (its memory that of one
    chunk): each bus screened once, the answers of one compact screen (a screen of other buses
    rounds differently: within 1e-6 MW), the same limiting cases."""
    one = _table(monkeypatch, COMPACT_ABOVE_BYTES=0, DC_DRIVEN=False)
    seen = _count_screens(monkeypatch)
    chunks = _table(monkeypatch, COMPACT_ABOVE_BYTES=0, DC_DRIVEN=False, COMPACT_CHUNK_BUSES=10)
    assert len(seen) == 4 and max(seen) <= 10 and sum(seen) == len(one)
    np.testing.assert_allclose(chunks["firm_mw"], one["firm_mw"], atol=1e-6)
    assert (chunks["limiting_case"] == one["limiting_case"]).all()


def test_compact_near_limit_equals_the_dense_one(monkeypatch):
    """Up to the ceiling and the caps on the observed errors, the kept pairs decide exactly as
    all pairs do; beyond the caps every case counts as near."""
    from siting.grid import _compact as C

    monkeypatch.setattr(H, "DC_DRIVEN", False)
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    buses = np.array([int(cs.grid.bus_lookup[b]) for b in (3, 15, 20, 28)])
    cs.screen(buses, 0.2, 3000.0)
    dense = [[cs.near_limit(j, p, e1, e2, cv) for p, e1, e2, cv in grid] for j, grid in
             enumerate([[(p, e1, e2, cv) for p in (10.0, 300.0, 1200.0, 2999.0) for e1, e2, cv in
                         ((0.0, 0.0, 0.0), (1.5, 0.004, 30.0), (9.9, 0.049, 499.0))]] * len(buses))]
    old = H.COMPACT_ABOVE_BYTES
    try:
        H.COMPACT_ABOVE_BYTES = 0
        cs.screen(buses, 0.2, 3000.0)
        assert cs._compact is not None and cs._compact.pairs() < 36 * (46 + 2 * 39) * len(buses)
        for j in range(len(buses)):
            k = 0
            for p in (10.0, 300.0, 1200.0, 2999.0):
                for e1, e2, cv in ((0.0, 0.0, 0.0), (1.5, 0.004, 30.0), (9.9, 0.049, 499.0)):
                    np.testing.assert_array_equal(cs.near_limit(j, p, e1, e2, cv), dense[j][k])
                    k += 1
            assert cs.near_limit(j, 10.0, C.ERR_CAP_PP + 1, 0.0, 0.0).all()
            assert cs.near_limit(j, 3001.0).all()  # above the ceiling
    finally:
        H.COMPACT_ABOVE_BYTES = old


def test_compact_widens_each_element_by_its_own_departure(monkeypatch):
    """A large departure from the first-order estimate at one branch widens that branch only
    (where the screen kept it in every case, or it is out there); at a branch it did not keep
    everywhere, the cases where it did not keep it count as near where that does not bound
    them away: never a case that all pairs (the dense screen) put near."""
    from siting.grid import _compact as C

    monkeypatch.setattr(H, "COMPACT_ABOVE_BYTES", 0)
    monkeypatch.setattr(H, "DC_DRIVEN", False)
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    bus = np.array([int(cs.grid.bus_lookup[15])])
    cs.screen(bus, 0.2, 3000.0)
    comp = cs._compact
    col = comp.cols[0]
    m, n = cs.grid.m, cs.grid.n
    none = comp.near(0, cs.cases, 200.0, 0.0, 0.0, 0.0, (np.zeros(m), np.zeros(n)))
    everywhere = np.flatnonzero(col["all_l"])
    partly = np.flatnonzero(~col["all_l"])
    assert len(everywhere) and len(partly)
    big = np.zeros(m)
    big[everywhere[0]] = C.ERR_CAP_PP * 3
    widened = comp.near(0, cs.cases, 200.0, 0.0, 0.0, 0.0, (big, np.zeros(n)))
    assert widened.sum() >= none.sum() and not widened.all()
    cs.screen(bus, 0.2, 3000.0, compact=False)  # every pair: what the kept ones stand for
    limits = cs._limit_stack()[0]
    for p in (200.0, 1500.0, 2900.0):
        for b in partly:
            judged = set(col["tc"][col["tl"] == b]) | set(comp.out_case[comp.out_branch == b])
            unjudged = np.array([ci not in judged for ci in range(len(cs.cases))])
            for departure in (C.ERR_CAP_PP * 1.5, C.ERR_CAP_PP * 3, 60.0):
                big = np.zeros(m)
                big[b] = departure
                got = comp.near(0, cs.cases, p, 0.0, 0.0, 0.0, (big, np.zeros(n)))
                dl = cs._dl[0][:, b] * p
                truth = cs._l0[:, b] + dl >= limits[:, b] - (H.GUARD_PP + H.GUARD_REL * np.abs(dl) + departure)
                assert got[truth].all(), (p, b, departure)
    _, vm_low, vm_high = cs._limit_stack()
    for p in (200.0, 1500.0, 2900.0):
        for k in np.flatnonzero(~col["all_v"])[:8]:
            for departure, curvature in ((C.ERR_CAP_PU * 1.5, 0.0), (C.ERR_CAP_PU * 3, 30.0), (0.2, 400.0)):
                dep = np.zeros(n)
                dep[k] = departure
                got = comp.near(0, cs.cases, p, 0.0, 0.0, curvature, (np.zeros(m), dep))
                dv = cs._dv[0][:, k] * p
                v = cs._vm0[:, k] + dv
                band = H.GUARD_PU + H.GUARD_REL * np.abs(dv) + np.maximum(departure, curvature * dv**2)
                truth = (v <= vm_low[:, k] + band) | (v >= vm_high[:, k] - band)
                assert got[truth].all(), (p, k, departure)
    # the unkept cases of a branch are not all near just because it departs: the bound clears some
    b = partly[0]
    big = np.zeros(m)
    big[b] = C.ERR_CAP_PP * 3
    judged = set(col["tc"][col["tl"] == b]) | set(comp.out_case[comp.out_branch == b])
    unjudged = np.array([ci not in judged for ci in range(len(cs.cases))])
    got = comp.near(0, cs.cases, 200.0, 0.0, 0.0, 0.0, (big, np.zeros(n)))
    assert unjudged.any() and not got[unjudged].all()


def test_compact_local_bands_equal_the_dense_ones(monkeypatch):
    """Where the base case is nearly linear, the compact screen's bands are the dense screen's
    per-element ones (floor at most the element's change, 30 % of how the case's change differs
    from the base case's, 130 % of the base case's departure there): on the kept pairs, the same
    cases near as with every pair."""
    monkeypatch.setattr(H, "DC_DRIVEN", False)
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    g = cs.grid
    buses = np.array([int(g.bus_lookup[b]) for b in (3, 15, 20, 28)])
    loads = (5.0, 60.0, 250.0, 700.0)

    def nears():
        out = []
        for j, b in enumerate(buses):
            with cs.attributed(int(b), 0.2):
                for p in loads:
                    errors = cs.linear_error(int(b), j, p, 0.2 * p)
                    out.append((cs._nearly_linear(j, p, errors[0], errors[1]), cs.near_limit(j, p, *errors)))
        return out

    cs.screen(buses, 0.2, 3000.0, compact=False)
    dense = nears()
    old = H.COMPACT_ABOVE_BYTES
    try:
        H.COMPACT_ABOVE_BYTES = 0
        cs.screen(buses, 0.2, 3000.0)
        assert cs._compact is not None
        compact = nears()
    finally:
        H.COMPACT_ABOVE_BYTES = old
    local = 0
    for (lin_d, near_d), (lin_c, near_c) in zip(dense, compact):
        assert lin_d == lin_c
        if lin_d:
            np.testing.assert_array_equal(near_c, near_d)
            local += 1
    assert local >= len(buses)  # (the local bands were compared)


def test_chord_solves_equal_newton_and_give_way_past_the_nose(monkeypatch):
    """ACGrid.solve_chord on a case's own factorised Jacobian (IEEE 118 as a large grid): the
    compiled Newton's solution (voltages 1e-9 pu, loadings 1e-6 %) for loads at several buses and
    outages; None — Newton's turn — for a load far past what the grid can carry."""
    import siting.grid.acpf as A
    from siting.grid._kernels import SparseLU

    monkeypatch.setattr(A, "DENSE_MAX_BUSES", 50)
    model = GridModel.from_pandapower(pn.case118())
    cs = model._caseset(H.Limits(), True)
    g = cs.grid
    solved = 0
    for ci in (0, 3, 40, 120):
        case = cs.cases[ci]
        lu = SparseLU(cs.pre_with_jacobian(case).jacobian)
        own = case.pre.vm_pu * np.exp(1j * case.pre.va_rad)
        for bus, p in ((5, 50.0), (40, 200.0), (90, 400.0)):
            got = g.solve_chord(case.outage, lu, own, case.pre.slack_mw, bus=bus, p_mw=p, q_mvar=0.2 * p)
            ref = g.solve(outage=case.outage, bus=bus, p_mw=p, q_mvar=0.2 * p)
            assert got is not None and ref.converged
            np.testing.assert_allclose(got.vm_pu, ref.vm_pu, atol=1e-9)
            np.testing.assert_allclose(got.loading_pct, ref.loading_pct, atol=1e-6)
            assert got.slack_mw == pytest.approx(ref.slack_mw, abs=1e-6)
            solved += 1
    assert solved == 12
    case = cs.cases[0]
    lu = SparseLU(cs.pre_with_jacobian(case).jacobian)
    assert g.solve_chord(None, lu, case.pre.vm_pu * np.exp(1j * case.pre.va_rad), case.pre.slack_mw, bus=40,
                         p_mw=20000.0, q_mvar=4000.0) is None


def test_chord_on_the_base_factors_corrected_for_the_outage_equals_newton(monkeypatch):
    """The DC-driven search's outage solves (CaseSet.solve_cases with DC_CHORD): the chord method
    on the base case's factorised Jacobian corrected for the outage by the Woodbury identity
    (CaseSet._chord_update: the outaged branch's Jacobian stamp at the base case's state) reaches
    the compiled Newton's solution (voltages 1e-9 pu, loadings 1e-6 %, slack 1e-6 MW) — IEEE 118
    held sparse, outages near and far from the load, 50-400 MW; the correction is needed (the
    base factors alone, without it, take more steps or do not reach it)."""
    import siting.grid.acpf as A

    monkeypatch.setattr(A, "DENSE_MAX_BUSES", 50)
    model = GridModel.from_pandapower(pn.case118())
    cs = model._caseset(H.Limits(), True)
    g = cs.grid
    lu0 = cs._update_base()[1]
    steps_with, steps_without = [], []
    for ci in (3, 40, 120, 170):
        case = cs.cases[ci]
        up = cs._chord_update(ci)
        assert up is not None and up[0].shape[0] == lu0.n  # (every row, the distributed slack's too)
        own = case.pre.vm_pu * np.exp(1j * case.pre.va_rad)
        for bus, p in ((5, 50.0), (40, 200.0), (90, 400.0)):
            ref = g.solve(outage=case.outage, bus=bus, p_mw=p, q_mvar=0.2 * p)
            got = g.solve_chord(case.outage, lu0, own, case.pre.slack_mw, bus=bus, p_mw=p, q_mvar=0.2 * p, update=up)
            assert got is not None and ref.converged
            np.testing.assert_allclose(got.vm_pu, ref.vm_pu, atol=1e-9)
            np.testing.assert_allclose(got.loading_pct, ref.loading_pct, atol=1e-6)
            assert got.slack_mw == pytest.approx(ref.slack_mw, abs=1e-6)
            plain = g.solve_chord(case.outage, lu0, own, case.pre.slack_mw, bus=bus, p_mw=p, q_mvar=0.2 * p)
            steps_with.append(got.iterations)
            steps_without.append(A.CHORD_MAX_ITER + 1 if plain is None else plain.iterations)
    assert sum(steps_with) < sum(steps_without)
