"""The compiled AC solver reproduces pandapower's power flow (distributed slack) exactly."""

from __future__ import annotations

import copy

import numpy as np
import pandapower as pp
import pandapower.networks as pn
import pytest

from siting.grid.acpf import ACGrid

from .grid_fixtures import embedded_net


def _pandapower_case(net, element, idx, bus, p_mw, q_mvar):
    n2 = copy.deepcopy(net)
    if element is not None:
        table = n2[element]
        if table.at[idx, "parallel"] > 1:
            table.at[idx, "parallel"] -= 1
        else:
            table.at[idx, "in_service"] = False
    if p_mw:
        pp.create_load(n2, bus, p_mw=p_mw, q_mvar=q_mvar)
    pp.runpp(n2, distributed_slack=True, numba=False)
    loading = np.concatenate([n2.res_line.loading_percent.to_numpy(), n2.res_trafo.loading_percent.to_numpy()])
    return n2, loading


NETS = {
    "case39": pn.case39,
    "case118": pn.case118,
    "nl-winter-peak-2026": lambda: embedded_net("winter-peak-2026"),
    "nl-high-wind-2030": lambda: embedded_net("high-wind-2030"),
}


@pytest.mark.parametrize("name", list(NETS))
def test_solver_matches_pandapower_with_outages_and_added_load(name):
    net = NETS[name]()
    grid = ACGrid(copy.deepcopy(net))
    ok, split = grid.contingencies()
    assert ok
    sample = ok[:: max(1, len(ok) // 5)][:6]
    for n, k in enumerate(sample):
        element, idx = grid.element[k]
        bus = net.bus.index[(n * 11) % len(net.bus)]
        mine = grid.solve(outage=k, bus=int(grid.bus_lookup[bus]), p_mw=150.0, q_mvar=30.0)
        ref, loading = _pandapower_case(net, element, idx, bus, 150.0, 30.0)
        assert mine.converged
        np.testing.assert_allclose(mine.vm_pu[grid.bus_lookup[ref.bus.index]], ref.res_bus.vm_pu, atol=1e-6)
        ok_mask = ~np.isnan(mine.loading_pct)
        np.testing.assert_allclose(mine.loading_pct[ok_mask], loading[ok_mask], atol=1e-3)


def test_islanding_outages_are_detected():
    grid = ACGrid(pn.case39())
    ok, split = grid.contingencies()
    # case39 has radial generator step-up transformers: taking one out islands its generator
    assert len(split) >= 9
    assert set(ok).isdisjoint(split)
    assert len(ok) + len(split) == grid.m


def test_voltage_collapse_is_reported_not_raised():
    grid = ACGrid(pn.case39())
    res = grid.solve(bus=int(grid.bus_lookup[3]), p_mw=60_000.0)
    assert not res.converged
    assert np.isnan(res.vm_pu).all()
