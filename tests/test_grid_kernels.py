"""The compiled screen and near test (siting.grid._kernels) against their numpy definitions: the
same numbers to the last bit, on a dense (IEEE 39) and a sparse (IEEE 118 compiled as a large
grid) Jacobian; and the base case's linearisation error that widens the bands."""

from __future__ import annotations

import copy

import numpy as np
import pandapower.networks as pn
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import siting.grid.acpf as A
import siting.grid.hosting as H
from siting.grid import GridModel


def _screened(make, monkeypatch, sparse: bool, step: int):
    """The case set of `make()` (its Jacobians sparse where `sparse`), every `step`-th bus
    screened densely: (case set, buses, screened limits)."""
    if sparse:
        monkeypatch.setattr(A, "DENSE_MAX_BUSES", 50)
    model = GridModel.from_pandapower(copy.deepcopy(make()))
    cs = model._caseset(H.Limits(), True)
    assert cs.grid.dense is not sparse
    buses = np.arange(0, cs.grid.n, step)
    return cs, buses, cs.screen(buses, 0.2, 3000.0, compact=False)


@pytest.mark.parametrize("make, sparse", [(pn.case39, False), (pn.case118, True)])
def test_screen_equals_the_numpy_sensitivities_and_limits(make, sparse, monkeypatch):
    cs, buses, out = _screened(make, monkeypatch, sparse, 3)
    g = cs.grid
    ptdf = cs.dc.ptdf(buses) - cs.dc.flows(g.slack_w)[:, None]
    for ci, case in enumerate(cs.cases):
        dl, dv, da = cs._ac_sensitivity(case, buses, 0.2)  # numpy: ac_sensitivity
        kept = cs._dl.dtype  # (kept in single precision, computed in double: H.SENSITIVITY_DTYPE)
        np.testing.assert_array_equal(cs._dl[:, ci], dl.T.astype(kept))
        np.testing.assert_array_equal(cs._dv[:, ci], dv.T.astype(kept))
        np.testing.assert_array_equal(cs._da[:, ci], da.T.astype(kept))
        sens = ptdf if case.outage is None else cs.dc.after_outage(ptdf, case.outage)
        np.testing.assert_array_equal(out[ci], np.minimum(_dc_thermal(cs, case, -sens), _first_order(case, dl, dv)))
    assert np.isfinite(out).any() and (out > 0).all()


def _dc_thermal(cs, case, dflow_per_mw: np.ndarray) -> np.ndarray:
    """The DC limit's definition in numpy: P [MW] per bus at which a branch reaches its limit,
    from the AC state without the load and the DC flow change (m × B), reactive flow held."""
    alive = cs._alive(case)
    k, p0 = (a[:, None] for a in cs._dc_room(case))
    s = dflow_per_mw
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(s > 0, (k - p0) / s, np.where(s < 0, (-k - p0) / s, np.inf))
    p = np.where((p > 0) & np.isfinite(p), p, np.inf)
    p[alive == 0] = np.inf
    return p.min(axis=0)


def _first_order(case, dl: np.ndarray, dv: np.ndarray) -> np.ndarray:
    """The first-order AC limit's definition in numpy: P [MW] per bus at which a loading
    (m × B change per MW) or a voltage (n × B) reaches its limit."""
    pre = case.pre
    lim = np.where(np.isnan(case.max_loading), np.inf, case.max_loading)[:, None]
    l0 = np.nan_to_num(pre.loading_pct, nan=-np.inf)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_th = np.where(dl > 0, (lim - l0) / dl, np.inf)
        v0 = pre.vm_pu[:, None]
        p_v = np.where(dv < 0, (v0 - case.vm_low[:, None]) / -dv,
                       np.where(dv > 0, (case.vm_high[:, None] - v0) / dv, np.inf))
    return np.minimum(np.where(p_th > 0, p_th, np.inf).min(axis=0), np.where(p_v > 0, p_v, np.inf).min(axis=0))


def _near_numpy(cs, j: int, p: float, err_pp: float, err_pu: float, curvature: float, per) -> np.ndarray:
    """``near_limit``'s definition in numpy (the module notes of siting.grid.hosting)."""
    with np.errstate(invalid="ignore"):  # (an infinite curvature where the base case diverged)
        return _near(cs, j, p, err_pp, err_pu, curvature, per)


def _near(cs, j, p, err_pp, err_pu, curvature, per):
    g = cs.grid
    max_loading, vm_low, vm_high = cs._limit_stack()
    sdl, sdv, sda = (a[j].astype(float) for a in (cs._dl, cs._dv, cs._da))  # (the kept values, in double)
    dl, dv, da = sdl * p, sdv * p, sda * p
    moved = 2.0 * np.abs(da).max(axis=1, initial=0.0)
    rows = cs._amax0 + moved >= H.GUARD_ANGLE_RAD * (1.0 - 1e-9)
    if per is not None:
        rows &= moved >= H.GUARD_ANGLE_MOVE_RAD * (1.0 - 1e-9)
    va = cs._va0 + da
    wide = np.abs(va[:, g.f] - va[:, g.t]) >= H.GUARD_ANGLE_RAD
    if per is not None:
        band_l = (np.minimum(H.GUARD_PP, np.abs(dl)) + H.GUARD_REL * (np.abs(sdl - sdl[0]) * p)
                  + (1.0 + H.GUARD_REL) * per[0])
        band = (np.minimum(H.GUARD_PU, np.abs(dv)) + H.GUARD_REL * (np.abs(sdv - sdv[0]) * p)
                + np.maximum((1.0 + H.GUARD_REL) * per[1], curvature * dv**2))
        wide &= np.abs(da[:, g.f] - da[:, g.t]) >= H.GUARD_ANGLE_MOVE_RAD
    else:
        band_l = H.GUARD_PP + H.GUARD_REL * np.abs(dl) + err_pp
        band = H.GUARD_PU + H.GUARD_REL * np.abs(dv) + np.maximum(err_pu, curvature * dv**2)
    near = np.any(cs._l0 + dl >= max_loading - band_l, axis=1)
    near |= np.any(cs._vm0 + dv <= vm_low + band, axis=1) | np.any(cs._vm0 + dv >= vm_high - band, axis=1)
    near |= rows & np.any(wide & cs._on, axis=1)
    return near


@pytest.mark.parametrize("make, sparse", [(pn.case39, False), (pn.case118, True)])
def test_near_limit_equals_its_numpy_definition(make, sparse, monkeypatch):
    cs, buses, _ = _screened(make, monkeypatch, sparse, 7)
    checked = per_element = 0
    for j, b in enumerate(buses):
        with cs.attributed(int(b), 0.2):
            for p in (5.0, 80.0, 400.0, 1500.0):
                for errors in (cs.linear_error(int(b), j, p, 0.2 * p), (0.0, 0.0, 0.0), (2.0, 0.02, 50.0)):
                    got = cs.near_limit(j, p, *errors)
                    per = cs._element_errors[1:] if cs._nearly_linear(j, p, errors[0], errors[1]) else None
                    np.testing.assert_array_equal(got, _near_numpy(cs, j, p, *errors, per))
                    checked += int(got.sum())
                    per_element += per is not None
    assert checked and per_element  # (near cases, and both kinds of bands, were compared)


def test_linearisation_error_leaves_out_a_lightly_loaded_branch_the_load_turns():
    """The error that widens every band: the grid's own departure everywhere, the projected
    loading's only at branches loaded 50 % or more with or without the load. IEEE 39 bus 1 at
    137 MW turns a branch loaded under 50 %: 3.9 pp off its projected estimate; the grid departs
    0.4 pp — the bands are each element's own, and fewer cases are near."""
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    g = cs.grid
    tan = H.HostingSearch(cs, pf=0.98, max_mw=3000.0).tan
    cs.screen(np.array([int(g.bus_lookup[b]) for b in range(39)]), tan, 3000.0, compact=False)
    for b, p in [(1, 137.3), *[(b, 300.0) for b in range(0, 39, 4)]]:
        ib = int(g.bus_lookup[b])
        err_pp, err_pu, curv = cs.linear_error(ib, b, p, p * tan)
        projected = cs._element_errors[1]
        res = g.solve(bus=ib, p_mw=p, q_mvar=p * tan)
        loaded = np.fmax(np.nan_to_num(res.loading_pct), np.nan_to_num(cs.cases[0].pre.loading_pct)) >= 50.0
        assert err_pp <= projected.max() + 1e-12
        assert err_pp >= projected[loaded].max(initial=0.0)
        if b == 1:
            assert projected.max() > 3.0 and not loaded[projected.argmax()] and err_pp < 0.5
            assert cs._nearly_linear(b, p, err_pp, err_pu)
            assert not cs._nearly_linear(b, p, projected.max(), err_pu)
            assert cs.near_limit(b, p, err_pp, err_pu, curv).sum() < cs.near_limit(b, p, projected.max(), err_pu,
                                                                                    curv).sum()


def test_sparse_lu_solves_like_a_dense_solve():
    """SparseLU (SuperLU's factors, the compiled substitution) against numpy's dense solve on a
    power-flow Jacobian (IEEE 118, distributed slack: non-symmetric, pivoting) and a random
    sparse matrix, for one and for many right-hand sides; a column's solution does not depend on
    the others solved with it (to the last bit: the screen solves buses in chunks)."""
    import scipy.sparse as sp

    from siting.grid._kernels import SparseLU

    g = GridModel.from_pandapower(pn.case118())._grid
    jac = g.solve(keep_jacobian=True).jacobian
    rng = np.random.default_rng(3)
    rand = sp.random(300, 300, density=0.02, random_state=4, format="csc") + sp.diags(rng.uniform(0.5, 2.0, 300))
    for a in (sp.csc_matrix(jac), rand):
        dense = a.toarray()
        lu = SparseLU(a)
        assert lu.shape == dense.shape and lu.nbytes > 0
        b = rng.standard_normal((a.shape[0], 7))
        x = lu.solve(b)
        np.testing.assert_allclose(x, np.linalg.solve(dense, b), rtol=1e-9, atol=1e-12)
        np.testing.assert_array_equal(lu.solve_rows(b), x.T)
        np.testing.assert_array_equal(lu.solve(b[:, 3]), x[:, 3])  # (one right-hand side: its own kernel)
        many = rng.standard_normal((a.shape[0], 70))  # (in blocks of 32 and at once: the same bits)
        np.testing.assert_array_equal(lu.solve(many, blocked=True), lu.solve(many))
        np.testing.assert_allclose(lu.solve(many), np.linalg.solve(dense, many), rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_attributed_pairs_equal_the_attribution_of_every_branch(seed):
    """The attribution at the pairs that may be relaxed (CaseSet._cases_for) against its
    definition on every case's every branch (share of the load over each branch, then
    attributed_limit), bit for bit: with branches out (NaN loading and limit), overloads
    without the load, shares either side of 5 %."""
    rng = np.random.default_rng(seed)
    c, m = 7, 23
    pre = rng.uniform(0.0, 130.0, (c, m))
    pre[rng.random((c, m)) < 0.1] = np.nan
    max_loading = H.thermal_limit(pre, rng.choice([90.0, 100.0, 105.0]), 1.0)
    existing = H.attributed_limit(pre, max_loading, True, 1.0) > np.nan_to_num(max_loading, nan=np.inf)
    dl = rng.normal(0.0, 0.01, (c, m)).astype(rng.choice([np.float32, np.float64]))
    rating = rng.uniform(100.0, 2000.0, (c, m))
    relax = existing & (np.abs(dl) * rating / 100.0 < H.ATTRIBUTION_SHARE)
    want = H.attributed_limit(pre, max_loading, relax, 1.0)
    pc, pe = np.nonzero(existing)
    small, vals = H.attributed_pairs(dl[pc, pe], rating[pc, pe], pre[pc, pe], max_loading[pc, pe], 1.0)
    out = max_loading.copy()
    out[pc[small], pe[small]] = vals
    np.testing.assert_array_equal(out, want)
    hit = np.zeros(c, dtype=bool)
    hit[pc[small]] = True
    np.testing.assert_array_equal(hit, relax.any(axis=1))


_EDGE = st.sampled_from([0.0, -0.0, 1e-300, -1e-300, 1e300, np.inf, -np.inf, np.nan])
_VALUE = st.one_of(st.floats(-1e4, 1e4), _EDGE)


@settings(max_examples=400, deadline=None)
@given(s=_VALUE, k_dc=st.one_of(st.floats(0.0, 1e4), _EDGE), p0=_VALUE, alive=st.sampled_from([0.0, 0.5, 1.0]),
       dc=st.one_of(st.floats(0.0, 1e4), st.just(np.inf)))
def test_dc_limit_admits_what_the_exact_test_takes(s, k_dc, p0, alive, dc):
    """The screen's DC limit divides only where a product test admits an element: the result is
    the exact test's (divide, then compare) for any flow change, room, flow and best so far —
    zeros of either sign, denormal-scale and huge values, infinities and NaN."""
    from siting.grid._kernels import _dc_limit

    s, k_dc, p0 = np.float64(s), np.float64(k_dc), np.float64(p0)
    with np.errstate(all="ignore"):  # (numpy's division: inf where it overflows, as compiled)
        p = ((k_dc if s > 0 else -k_dc) - p0) / s if s != 0 else np.nan
    want = p if (s != 0) and alive != 0 and p > 0 and p < np.inf and p < dc else dc
    got = _dc_limit(s, k_dc, p0, alive, dc)
    assert got == want or (np.isnan(got) and np.isnan(want))
