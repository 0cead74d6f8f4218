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


def test_screen_in_blocks_gives_the_same_table(plain, monkeypatch):
    cs_bytes = 8 * 36 * (46 + 2 * 39 + 1)  # one bus's screen on IEEE 39 (36 cases)
    seen = []
    real = H.CaseSet.screen

    def spy(self, buses, pf_tan):
        seen.append(len(buses))
        return real(self, buses, pf_tan)

    monkeypatch.setattr(H.CaseSet, "screen", spy)
    blocks = _table(monkeypatch, SCREEN_BYTES=7 * cs_bytes)
    assert seen and max(seen) <= 7 and sum(seen) == len(plain)  # every bus screened once, in blocks
    pd.testing.assert_frame_equal(blocks, plain)


@pytest.mark.skipif(available_workers() < 2, reason="needs two cores")
def test_blocks_on_workers_give_the_same_table(plain, monkeypatch):
    cs_bytes = 8 * 36 * (46 + 2 * 39 + 1)
    pd.testing.assert_frame_equal(_table(monkeypatch, workers=2, SCREEN_BYTES=10 * cs_bytes), plain)


def test_jacobians_rebuilt_when_too_many_to_keep(plain, monkeypatch):
    monkeypatch.setattr(H, "JACOBIAN_CACHE_BYTES", 0)
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    assert all(c.pre.jacobian is None for c in cs.cases)
    table = model.hosting_capacity(redispatch=False, workers=1)
    np.testing.assert_allclose(table["firm_mw"], plain["firm_mw"], atol=1e-6)
    assert (table["limiting_case"] == plain["limiting_case"]).all()


def test_cases_solved_on_workers_equal_one_process(monkeypatch):
    model = GridModel.from_pandapower(pn.case39())
    one = model._caseset(H.Limits(), True)
    monkeypatch.setattr(H, "PARALLEL_CASES_MIN_BUSES", 1)
    many = H.CaseSet(model._grid, H.Limits(), True)
    assert [c.outage for c in many.cases] == [c.outage for c in one.cases]
    for a, b in zip(many.cases, one.cases):
        np.testing.assert_array_equal(a.pre.vm_pu, b.pre.vm_pu)
        np.testing.assert_array_equal(a.pre.loading_pct, b.pre.loading_pct)
