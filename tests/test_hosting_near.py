"""The confirmation's guard bands (CaseSet.near_limit): every outage that AC finds violated with
the load is flagged near a limit by its first-order state (or is searched anyway), on grids
whose answers are thermal, voltage and angle limited."""

from __future__ import annotations

import numpy as np
import pandapower.networks as pn
import pytest

import siting.grid.hosting as H
from siting.grid import GridModel


def _watched(search: H.HostingSearch, start: float) -> set[int]:
    """The cases the search AC-searches from the start (as HostingSearch._one picks them)."""
    col = search._screen[:, 0]
    order = [int(c) for c in np.argsort(col, kind="stable")]
    return set([c for c in order if col[c] <= H._WATCH_FACTOR * start + H._WATCH_MW][:H._WATCH_MAX] + [0])


def _misses(model: GridModel, buses: list[int], factors=(1.02, 1.25)) -> tuple[list, int, int]:
    """(bus, load, case) AC-violated but neither watched nor near, at loads just above and well
    above each bus's firm hosting capacity; and the violated and near counts."""
    table = model.hosting_capacity(buses=buses, redispatch=False, workers=1)
    cs = model._caseset(H.Limits(), True)
    g = cs.grid
    missed, violated, near_n = [], 0, 0
    for b in buses:
        answer = float(table["firm_mw"].iloc[buses.index(b)])
        if not 0 < answer < 3000:
            continue
        ib = int(g.bus_lookup[b])
        search = H.HostingSearch(cs, pf=0.98, max_mw=3000.0)
        search.prepare(np.array([ib]))
        search._column(0)
        watched = _watched(search, min(float(search._screen[:, 0].min()), 3000.0))
        with cs.attributed(ib, search.tan):
            for f in factors:
                p = answer * f + 0.5
                errors = cs.linear_error(ib, 0, p, p * search.tan)
                near = cs.near_limit(0, p, *errors)
                results = cs.solve_cases(list(range(len(cs.cases))), ib, p, p * search.tan, fallback=False)
                bad = ~cs.feasible(list(range(len(cs.cases))), results)
                violated += int(bad.sum())
                near_n += int(near.sum())
                missed += [(b, round(p, 1), H.case_label(g, cs.cases[c].outage)) for c in np.flatnonzero(bad & ~near)
                           if c not in watched and results[c].converged]
    return missed, violated, near_n


@pytest.mark.parametrize("make, buses", [
    (pn.case39, list(range(39))),  # thermal and voltage limited
    (pn.case118, [84, 99, 10, 40, 60, 75, 95, 110]),  # voltage limited; bus 99: the linear model fails at 812 MW
])
def test_every_violated_outage_is_near_or_searched(make, buses):
    missed, violated, near = _misses(GridModel.from_pandapower(make()), buses)
    assert violated > len(buses)  # (the loads do violate cases: the check can fail)
    assert missed == []
    assert near < len(buses) * 2 * len(GridModel.from_pandapower(make())._caseset(H.Limits(), True).cases)


def test_per_element_bands_only_where_the_base_case_is_nearly_linear():
    """IEEE 118 bus 99 at 812 MW departs from its linear estimate by 7.6 pp and 0.05 pu: the
    bands of every element widen by the largest departure there; at 10 MW (0.002 pp against a
    0.04 pp change) the per-element ones."""
    model = GridModel.from_pandapower(pn.case118())
    cs = model._caseset(H.Limits(), True)
    ib = int(cs.grid.bus_lookup[99])
    search = H.HostingSearch(cs, pf=0.98, max_mw=3000.0)
    search.prepare(np.array([ib]))
    search._column(0)
    far = cs.linear_error(ib, 0, 812.0, 812.0 * search.tan)
    assert not cs._nearly_linear(0, 812.0, far[0], far[1])
    close = cs.linear_error(ib, 0, 10.0, 10.0 * search.tan)
    assert cs._nearly_linear(0, 10.0, close[0], close[1])


def test_a_case_found_feasible_is_not_solved_again_below():
    """first_violated(known=): a case AC found feasible at a load is taken as feasible below it
    (feasible loads an interval from 0) and not solved; what it solves and finds feasible is
    recorded; a violated case is not."""
    model = GridModel.from_pandapower(pn.case39())
    cs = model._caseset(H.Limits(), True)
    ib = int(cs.grid.bus_lookup[10])
    ids = list(range(1, len(cs.cases)))
    known: dict[int, float] = {}
    with cs.attributed(ib, 0.2):  # (the cases as the search sees them at bus 10: firm 524 MW)
        bad, ev, solved = cs.first_violated(ids, ib, 300.0, 60.0, known=known)
        assert bad == -1 and solved == len(ids) and all(known[c] == 300.0 for c in ids)
        bad, ev, solved = cs.first_violated(ids, ib, 250.0, 50.0, known=known)
        assert (bad, solved) == (-1, 0)  # all feasible at 300 MW: none solved at 250
        bad, ev, solved = cs.first_violated(ids, ib, 900.0, 180.0, known=known)
        assert bad > 0 and not ev.feasible and known[bad] == 300.0
        assert 0 < solved <= len(ids) and set(known.values()) <= {300.0, 900.0}
