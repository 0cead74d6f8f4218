"""The DC N-1 screen of every bus (siting.grid.dcscreen, GridModel.hosting_screen) against its
definition computed case by case in numpy, on real networks and on random inputs."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import siting.grid.hosting as H
from siting.errors import ParameterError
from siting.grid import GridModel
from siting.grid.dcscreen import screen_block

from .grid_fixtures import embedded_layers


def _dc_definition(model: GridModel, bus, cap: float) -> tuple[float, str, str]:
    """The screened load of one bus, case by case: the load's flow change (PTDF, distributed
    slack; LODF per outage), each branch's active-power room at its limit (reactive flow held;
    the attributed limit where the load moves under 5 % of its MW over a branch that may be
    relaxed), the smallest positive load over branches and cases."""
    cs = model._caseset(H.Limits(), True)
    g, dc = cs.grid, cs.dc
    b = int(g.bus_lookup[model._resolve_bus(bus)])
    load = dc.flows(g.slack_w) - dc.ptdf(np.array([b]))[:, 0]
    best, where = cap, ("", "")
    for ci, case in enumerate(cs.cases):
        s = load if case.outage is None else dc.after_outage(load[:, None], case.outage)[:, 0]
        k_dc, p0 = cs._dc_room(case)
        relaxed = H.attributed_limit(case.pre.loading_pct, case.max_loading, True, cs.limits.worsen_pp)
        k_rel = cs._dc_room(case, limit=relaxed)[0]
        k = np.where(cs._existing[ci] & (np.abs(s) < H.ATTRIBUTION_SHARE), k_rel, k_dc)
        with np.errstate(divide="ignore", invalid="ignore"):
            p = np.where(s > 0, k - p0, -k - p0) / s
        p[(cs._alive(case) == 0) | ~(p > 0)] = np.inf
        e = int(np.argmin(p))
        if p[e] < best:
            best, where = p[e], (H.case_label(g, case.outage), H.element_label(g, "thermal", e))
    return best, *where


@pytest.mark.parametrize("make", [lambda: GridModel.from_pandapower(pn.case39()),
                                  lambda: GridModel.from_layers(embedded_layers(), scenario="low-wind-peak-2030")],
                         ids=["case39", "nl-low-wind-peak-2030"])
def test_screen_equals_its_definition_case_by_case(make):
    model = make()
    table = model.hosting_screen(workers=2)
    assert len(table) == len(model._hosting_buses(None))
    binding = 0
    for bus in table.index:
        want, case, elem = _dc_definition(model, bus, 3000.0)
        got = table.loc[bus]
        assert got.screened_mw == pytest.approx(min(want, 3000.0), rel=2e-5, abs=1e-3), bus
        if want < 3000.0 * (1 - 1e-4):
            binding += 1
            assert got.constraint == "thermal"
            assert (got.limiting_case, got.limiting_element) == (case, elem), bus
        else:
            assert got.constraint == "cap" or want < 3000.0
    assert binding >= len(table) // 3  # (thermal limits bind at many buses of both networks)


def test_screen_is_the_same_on_any_threads_and_for_any_subset():
    model = GridModel.from_pandapower(pn.case39())
    all_buses = model.hosting_screen(workers=1)
    assert model.hosting_screen(workers=2).equals(all_buses)
    some = list(all_buses.index[::3])
    pd_some = model.hosting_screen(buses=some)
    assert pd_some.equals(all_buses.loc[some])


def test_screen_refuses_bad_arguments_by_name():
    model = GridModel.from_pandapower(pn.case39())
    with pytest.raises(ParameterError, match="max_mw"):
        model.hosting_screen(max_mw=-5.0)
    with pytest.raises(ParameterError, match="workers"):
        model.hosting_screen(workers=0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), nb=st.integers(1, 9))
def test_screen_block_equals_numpy_on_random_rooms(seed, nb):
    """The compiled block (vectorised over buses, outaged rows and relaxed pairs apart) against
    the same arithmetic in numpy: random rooms either way (some branches out: infinite), outage
    factors, islanding outages, pairs whose share falls either side of the threshold."""
    rng = np.random.default_rng(seed)
    c_n, m = 6, 11
    f32 = np.float32
    load = rng.normal(0.0, 0.1, (m, nb)).astype(f32)
    load[rng.random((m, nb)) < 0.1] = 0.0
    up = rng.uniform(0.0, 300.0, (c_n, m)).astype(f32)
    down = -rng.uniform(0.0, 300.0, (c_n, m)).astype(f32)
    out = rng.random((c_n, m)) < 0.1
    up[out], down[out] = np.inf, -np.inf
    lodf = rng.normal(0.0, 0.5, (c_n, m)).astype(f32)
    k_out = rng.integers(0, m, c_n)
    k_out[0] = -1
    plain = (k_out < 0) | (rng.random(c_n) < 0.2)
    lodf[plain] = 0.0
    k_out[plain] = -1
    keep = rng.choice([0.0, 0.5], c_n).astype(f32)
    denom = rng.uniform(0.5, 1.0, c_n).astype(f32)
    pairs = [np.flatnonzero(rng.random(m) < 0.2) for _ in range(c_n)]
    ptr = np.r_[0, np.cumsum([len(p) for p in pairs])].astype(np.int64)
    branch = np.concatenate(pairs).astype(np.int64)
    rows = np.repeat(np.arange(c_n), [len(p) for p in pairs])
    # a pair's plain rooms are the narrower ones (the rows hold the relaxed, wider ones)
    p_up = np.minimum(up[rows, branch], rng.uniform(0, 300, len(branch))).astype(f32)
    p_down = np.maximum(down[rows, branch], -rng.uniform(0, 300, len(branch))).astype(f32)
    share = f32(0.05)
    best, case, elem = np.empty(nb, f32), np.empty(nb, np.int64), np.empty(nb, np.int64)
    screen_block(load, f32(1000.0), up, down, lodf, k_out, keep, denom, plain, ptr, branch, p_up, p_down, share,
                 best, case, elem)
    for b in range(nb):
        want = f32(1000.0)
        for c in range(c_n):
            pk = f32(0.0) if plain[c] else load[k_out[c], b]
            s = (load[:, b] + lodf[c] * pk).astype(f32)
            if not plain[c]:
                s[k_out[c]] = f32(keep[c] * pk / denom[c])
            u, d = up[c].copy(), down[c].copy()
            for q in range(ptr[c], ptr[c + 1]):
                e = branch[q]
                if abs(s[e]) >= share:
                    u[e], d[e] = p_up[q], p_down[q]
            with np.errstate(divide="ignore", invalid="ignore"):
                p = np.where(s > 0, u, d) / s
            p = p[p > 0]
            if len(p) and p.min() < want:
                want = p.min()
        assert best[b] == pytest.approx(want, rel=1e-6), b
        assert (case[b] < 0) == (want >= 1000.0)
