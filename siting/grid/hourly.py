"""Hosting capacity in every hour of a year: each hour secured first, then screened.

The three snapshots answer "does X MW fit in this situation"; a year answers how many MW fit
*firm* (in every hour), how many more if the load gives way in H hours a year (a flexible,
non-firm connection, Ecorys 2025 §7.1), and which hours and outages decide it (§4.1: hours of
grid stress).

Method, per hour of :class:`~siting.grid.year.Situations` (DC, linear; see ``docs/year.md``):

1. **Flows**: DC power flow of the hour's injections in the intact grid and with one circuit of
   each branch out (PTDF, LODF), as loading of each branch's DC limit: its thermal rating times
   its active-power share of the apparent power in the AC solution of the base scenario
   (reactive flow held).
2. **Securing**: an hour with an N-1 overload is secured by the least-cost preventive
   redispatch of the scenario's remedial resources within that hour's room (a plant between 0
   and its available output, an HVDC link within its rating, countertrading, phase shifters,
   wind curtailment last) — the LP of the snapshot securing
   (:class:`~siting.grid.secure.RedispatchLP`) on the hour's DC flows. What no action clears
   stays, and is reported.
3. **Hosting** per bus and hour: the largest load that keeps every branch within its limit in
   every case of the secured hour, the load balanced by the scenario's distributed slack — the
   definition of the snapshot's firm hosting capacity (:class:`~siting.grid.hosting.CaseSet`):
   a branch may reach its limit, or, when it is over its limit without the load, that loading
   plus ``worsen_pp`` (:func:`~siting.grid.hosting.thermal_limit`); an overload that is there
   without the load (one no remedial action cleared) is held against the load only where the
   load moves at least 5 % of its MW over it (the flow-based 5 % threshold,
   :data:`~siting.grid.hosting.ATTRIBUTION_SHARE`).
4. **AC correction** (:meth:`HourlyGrid.hosting_ac_corrected`): the hours that decide each
   bus's firm value are solved in AC (every case) and their DC loadings replaced by the AC
   ones, branch by branch, with the load's effect scaled by the branch's P/S there; the screen
   is repeated until the deciding hours are all corrected. Then, for each bus, the deciding
   (hour, outage) is solved in AC with the screened load at the bus, and the load's effect on
   every branch there is scaled to the AC secant between no load and that load (a load's
   current grows faster than its MW: its reactive power, the voltage drop); screened again
   until the secant is taken within 1 % of the bus's value (the secant method on the hosting
   value: 3–5 % too high before, at 300–600 MW); likewise, in two passes, at the hour of each
   curtailment threshold (``mw_at_<H>h``). An hour without a secant of its own takes the one of
   its outage taken at the load level nearest its value; an (hour, outage) AC has not solved
   takes its outage's mean AC/DC loading ratio per branch from the corrected hours
   (:meth:`HourlyGrid.refresh_borrowed`). Last, each threshold is checked against the AC N-1
   hosting of its hour (:meth:`HourlyGrid.ac_hosting`, what ``confirm_ac`` reports), and where
   they differ by more than 5 % the secant is taken again there at the AC value, in the case
   that limits AC and in the screen's, until they agree (at most
   :data:`THRESHOLD_CONFIRM_ROUNDS` rounds).

:meth:`HourlyGrid.firm_capacity` then gives per bus the firm value (the smallest hourly value),
the MW that fit with at most H curtailment hours a year (the H+1-th smallest), and the hour and
outage that decide the firm value; :meth:`HourlyGrid.curtailment` the hours and MWh a year a
connection of X MW gives way.

Limits: DC flows (no voltage limits or losses); the new load does not itself get redispatch
(firm in each hour on the secured grid); see :mod:`siting.grid.year` for the situations' own.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError
from .hosting import (ATTRIBUTION_SHARE, SECURE_TOL_PP, Limits, attributed_limit, case_label, element_label,
                      thermal_limit)
from .linear import DCSensitivity
from .secure import RedispatchLP, RemedialCosts
from .year import Situations

__all__ = ["CURTAILMENT_HOURS", "HourlyGrid", "duration_curve"]

#: curtailment hours a year for which the hosting capacity is reported (issue 11)
CURTAILMENT_HOURS = (50, 100, 200, 500)
#: passes over the curtailment thresholds in hosting_ac_corrected before they are checked against
#: AC (2030, every bus, with the borrowed ratios: 210 of 214 within 5 % after 2 passes, 206 after
#: 4 — the threshold hours move on as they are corrected)
THRESHOLD_PASSES = 2
#: the (hour, case) pairs not solved in AC borrow the AC/DC ratio of their case's corrected
#: hours (HourlyGrid._borrowed), from branches loaded at least this much there [%]
BORROW_MIN_PCT = 50.0
#: a branch the load turns (its active flow reverses) gets the secant of its signed loading only
#: from this loading without the load [%] (see HourlyGrid._secant)
TURN_MIN_PCT = 10.0
#: the year's DC loading of every case is kept when it fits in this (2030 NL: 59 cases × 58
#: branches × 8,760 hours, 240 MB)
DC_CACHE_BYTES = 512 * 2**20
#: the borrowed ratios are taken again (and every hour screened again) when the corrected pairs
#: grew this many times since they were last taken
BORROW_GROWTH = 4
#: rounds of the threshold check in hosting_ac_corrected: the thresholds against AC hosting of
#: their hour, the secant again at the AC value where they differ by more than 5 % (2030: 215 of
#: 215 values within 5 % after the rounds; 4 rounds left one at +10.9 %)
THRESHOLD_CONFIRM_ROUNDS = 8
#: hours whose screened values lie within this share of each other in one case are corrected
#: together at a curtailment threshold (:func:`_tied`)
TIE_REL = 1e-3


class HourlyGrid:
    """The N-1 DC model of a :class:`~siting.grid.year.Situations` year, secured hour by hour.

    Parameters
    ----------
    model : GridModel
        The model the situations were built from (:meth:`GridModel.situations`).
    situations : Situations
    limits : Limits, optional
        Loading limit and the tolerance for pre-existing overloads (default: 100 %, 1 pp).
    n_minus_1 : bool
        Every one-circuit outage too (default), or the intact grid only.
    max_mw : float
        Search cap [MW]: more is reported as the cap.
    secure : bool
        Secure every insecure hour first (default; TSO practice). ``False`` screens the market
        dispatch as it is.
    """

    def __init__(self, model, situations: Situations, limits: Limits | None = None, n_minus_1: bool = True,
                 max_mw: float = 3000.0, secure: bool = True, costs: RemedialCosts | None = None) -> None:
        if not isinstance(situations, Situations):
            raise ConfigError(f"situations must be a Situations (GridModel.situations()), got {type(situations).__name__}")
        if list(situations.data["bus"].to_numpy()) != list(model.net.bus["name"].astype(str)):
            raise ConfigError("the situations belong to another network; build them with this model "
                              "(model.situations())")
        self.model = model
        self.sit = situations
        self.limits = limits or Limits()
        self.max_mw = float(max_mw)
        g = self.grid = model._grid
        dc = self.dc = DCSensitivity(g)
        order = np.array([int(g.bus_lookup[i]) for i in model.net.bus.index])
        p = np.zeros((g.n, situations.n_hours))
        np.add.at(p, order, situations.data["p_mw"].to_numpy().T)
        # what does not balance (unserved demand cut already; only rounding) goes to the slack
        p -= np.outer(g.slack_w, p.sum(axis=0))
        self._p = p
        ok, split = g.contingencies() if n_minus_1 else ([], [])
        self.outages: list[int | None] = [None, *ok]
        self.split = split
        ptdf = dc.ptdf(np.arange(g.n))
        lim_mw = self._dc_limits()
        self._alive = np.stack([g.alive(k) for k in self.outages])  # C × m: share of circuits in service
        #: C × m × n, MW of flow per MW injected (reference slack)
        self.PTDF = np.stack([ptdf if k is None else dc.after_outage(ptdf, k) for k in self.outages])
        with np.errstate(divide="ignore"):  # C × m, pp of loading per MW of flow
            self.SCALE = np.where(self._alive > 0, 100.0 / (lim_mw * np.maximum(self._alive, 1e-12)), 0.0)
        self.LIMIT = np.where(self._alive > 0, self.limits.max_loading_pct, np.inf)  # C × m [%]
        self.delta = np.zeros((0, situations.n_hours))
        #: per AC-corrected hour: C × m, AC − DC loading magnitude [pp] of every branch in every case
        self.corrections: dict[int, np.ndarray] = {}
        #: per AC-corrected hour: C × m, AC loading change per DC loading change of the branch
        self.factors: dict[int, np.ndarray] = {}
        #: per AC-corrected hour: C × m, each branch's P/S there (the load's share of a branch's
        #: current is its share of the active power times P/S, as the AC attribution measures it)
        self.ps: dict[int, np.ndarray] = {}
        #: per AC-corrected hour: C, the cases AC solved there (the others keep the borrowed ratio)
        self.measured: dict[int, np.ndarray] = {}
        # per case and branch: the sum of the AC/DC loading ratio over the corrected hours where
        # the branch is loaded (see _borrowed), and their count
        self._sum_ratio = np.zeros((0, 0))
        self._n_measured = np.zeros((0, 0))
        self._borrow = None  # C × m: the AC/DC ratios the pairs not AC-solved take (refresh_borrowed)
        self._done: set[tuple[int, int]] = set()  # (hour, case) pairs AC-corrected
        # AC hosting [MW] and the case that limits it (its label), by (hour, bus name): ac_hosting
        self._ac_memo: dict[tuple[int, str], tuple[float, str]] = {}
        self._stack = None  # the corrections stacked, with their hours sorted (see _stacked)
        self._stack_version = -1  # the count of changes the stacked copy holds
        self._version = 0  # counts changes to the corrections
        #: per (bus, case): {hour: m-vector}, the AC secant of a load at that internal bus per
        #: screened change of each branch's loading, and the load [MW] it was taken at
        self.slopes: dict[tuple[int, int], dict[int, np.ndarray]] = {}
        self._slope_at: dict[tuple[int, int, int], float] = {}
        self.overload: dict[int, dict] = {}
        self.secured_hours = 0
        self.resources: list = []
        self._patterns = np.zeros((g.n, 0))
        self.worst_before_pct = np.full(situations.n_hours, np.nan)
        # the loads' buses, shares and reactive power in the base network (for the hours' AC solves)
        loads = model.net.load
        self._load_at = g.bus_lookup[loads["bus"].to_numpy(int)]
        self._load_key = loads["p_mw"].to_numpy(float) / loads["p_mw"].sum()
        self._demand_mw = situations.data["demand_mw"].to_numpy()
        self._q_base = np.zeros(g.n)
        np.add.at(self._q_base, self._load_at, -loads["q_mvar"].to_numpy(float))
        if secure:
            self._secure(costs or model._costs())
        fits = len(self.outages) * g.m * situations.n_hours * 8 <= DC_CACHE_BYTES
        self._year_cache: dict[int, np.ndarray] | None = {} if fits else None  # per case: the year's DC loading

    # ------------------------------------------------------------------ flows

    def _dc_limits(self) -> np.ndarray:
        """Per branch, the DC flow [MW] at 100 % loading: rating × the branch's P/S ratio in the
        AC base case (branches under 20 % loaded: the median ratio)."""
        g = self.grid
        pre = g.solve()
        rating = math.sqrt(3.0) * g.base_kv[g.f] * g.i_rated_f_ka * pre.vm_pu[g.f]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(pre.p_from_mw) / (rating * pre.loading_pct / 100.0)
        good = np.isfinite(ratio) & (pre.loading_pct >= 20.0)
        fill = float(np.median(ratio[good])) if good.any() else 0.95
        self._ratio = np.where(good, np.clip(ratio, 0.8, 1.0), fill)
        return rating * self._ratio

    def loading(self, hours=None) -> np.ndarray:
        """Signed DC loading [%] (C × m × hours) of the (secured) hours."""
        t = np.arange(self.sit.n_hours) if hours is None else np.atleast_1d(hours)
        flows = np.einsum("cmn,nt->cmt", self.PTDF, self._p[:, t])
        if self.delta.size:
            flows += np.einsum("cmr,rt->cmt", self._res_sens, self.delta[:, t])
        return flows * self.SCALE[:, :, None]

    # --------------------------------------------------------------- securing

    def _secure(self, costs: RemedialCosts) -> None:
        model, g = self.model, self.grid
        resources = model._resources()
        self.resources = resources
        patterns = np.column_stack([r.pattern(model.net, g) for r in resources]) if resources else np.zeros((g.n, 0))
        self._patterns = patterns
        self._res_sens = np.einsum("cmn,nr->cmr", self.PTDF, patterns)  # C × m × R, MW per MW
        up, down = self._bounds(resources)
        t_len = self.sit.n_hours
        self.delta = np.zeros((len(resources), t_len))
        base = self.loading()  # before securing (delta is zero)
        with np.errstate(invalid="ignore"):
            worst = np.nanmax(np.where(np.isfinite(self.LIMIT[:, :, None]), np.abs(base) - self.LIMIT[:, :, None],
                                       -np.inf), axis=(0, 1))
        insecure = np.flatnonzero(worst > SECURE_TOL_PP)  # over its limit by more than this
        self.worst_before_pct = worst + self.limits.max_loading_pct
        lp = object.__new__(RedispatchLP)  # the snapshot securing LP, on one hour's DC loadings
        lp.grid, lp.resources, lp.costs, lp.patterns = g, resources, costs, patterns
        lp._cost = np.array([costs.of(r.kind) for r in resources])
        lp.S = self._res_sens * self.SCALE[:, :, None]
        lp.LIMIT = self.LIMIT
        for t in insecure:
            lp.L0 = base[:, :, t]
            lp._up, lp._down = up[:, t], down[:, t]
            sol = lp.solve(elastic=True)
            if sol["status"] != "optimal":  # pragma: no cover - the elastic LP is always feasible
                continue
            self.delta[:, t] = sol["delta"]
            if sol["overload"]:
                self.overload[int(t)] = sol["overload"]
        self.secured_hours = len(insecure)

    def _bounds(self, resources) -> tuple[np.ndarray, np.ndarray]:
        """Room up and down [MW] of each resource in each hour (R × T), from the hour's
        dispatch."""
        el = self.sit.data["element_p_mw"]
        keys = {str(k): j for j, k in enumerate(el["element"].to_numpy())}
        out = el.to_numpy()
        t_len = self.sit.n_hours
        net = self.model.net
        up, down = np.zeros((len(resources), t_len)), np.zeros((len(resources), t_len))
        for i, r in enumerate(resources):
            single = len(r.elements) == 1
            key = f"{r.elements[0][0]}:{r.elements[0][1]}" if single else None
            p = out[:, keys[key]] if key in keys else np.zeros(t_len)
            if r.kind == "plant" and single:
                top = float(net[r.elements[0][0]].at[r.elements[0][1], "max_p_mw"])
                up[i], down[i] = np.maximum(top - p, 0.0), np.maximum(p, 0.0)
            elif r.kind == "hvdc" and single:
                cap = float(net.sgen.at[r.elements[0][1], "sn_mva"])
                up[i], down[i] = np.maximum(cap - p, 0.0), np.maximum(cap + p, 0.0)
            elif r.kind == "curtailment" and single:
                up[i], down[i] = 0.0, np.maximum(p, 0.0)
            else:  # countertrading, phase shifters: the scenario's range in every hour
                up[i], down[i] = r.up_mw, r.down_mw
        return up, down

    def security(self) -> pd.DataFrame:
        """Per hour: worst N-1 loading before securing [%], redispatch volume [MW], curtailment
        by the securing [MW], and the overload no action clears [pp, sum] (0 when secure)."""
        kinds = np.array([r.kind for r in self.resources])
        up = np.clip(self.delta, 0, None).sum(axis=0) if self.delta.size else np.zeros(self.sit.n_hours)
        curt = (-np.clip(self.delta[kinds == "curtailment"], None, 0)).sum(axis=0) if self.delta.size else 0.0
        left = np.zeros(self.sit.n_hours)
        for t, o in self.overload.items():
            left[t] = sum(o.values())
        return pd.DataFrame({"worst_before_pct": self.worst_before_pct,
                             "redispatch_mw": up, "curtailed_mw": curt, "unresolved_pp": left}, index=self.sit.time)

    # ----------------------------------------------------------------- hosting

    def _buses(self, buses) -> tuple[list[str], list[int]]:
        m = self.model
        idx = m._hosting_buses(buses)
        return [m._bus_name(i) for i in idx], [int(self.grid.bus_lookup[i]) for i in idx]

    def hosting(self, buses: list | None = None, hours: np.ndarray | None = None) -> xr.DataArray:
        """Hosting capacity [MW] per bus and hour (``bus × time``) on the secured hours; the
        deciding case per bus and hour (index into :attr:`outages`) and branch row are in
        ``attrs["case"]`` and ``attrs["branch"]``."""
        g = self.grid
        names, internal = self._buses(buses)
        hours = np.arange(self.sit.n_hours) if hours is None else np.asarray(hours, dtype=int)
        t_len = len(hours)
        best = np.full((len(internal), t_len), np.inf)
        best_case = np.zeros((len(internal), t_len), dtype=np.int32)
        best_branch = np.full((len(internal), t_len), -1, dtype=np.int32)
        w = self.limits.worsen_pp
        at = self._corrected_at(hours)
        for ci in range(len(self.outages)):
            sens = self.PTDF[ci]
            d_mw = -(sens[:, internal] - (sens @ g.slack_w)[:, None])  # m × B, MW of flow per MW of load
            d = d_mw * self.SCALE[ci][:, None]  # pp per MW
            flows = self.loading_case(ci, hours, at)  # m × T [%], signed
            absf = np.abs(flows)
            peak = absf.max(axis=1)[:, None] if t_len else np.zeros((g.m, 1))
            limit = self.LIMIT[ci][:, None]
            # a branch can bind for bus j only if its worst hour plus the load's effect reaches the limit
            reach = peak + np.abs(d) * self.max_mw >= limit
            cols, k_of = at
            fac_c = ps_c = None
            if self.factors and len(cols):
                _, fac_all, ps_all, _ = self._stacked()
                fac_c, ps_c = fac_all[k_of, ci].T, ps_all[k_of, ci].T  # m × corrected hours
                reach |= peak + np.abs(d) * np.maximum(1.0, fac_c.max(axis=1))[:, None] * self.max_mw >= limit
            sel = np.flatnonzero(np.isfinite(self.LIMIT[ci]) & reach.any(axis=1))  # the branches any bus may meet
            if not len(sel):
                continue
            f_sel = flows[sel]
            lim_eff = thermal_limit(absf[sel], limit[sel], w)  # as the snapshot's CaseSet
            factor = np.ones_like(f_sel)
            ps = np.ones_like(f_sel)
            if fac_c is not None:
                factor[:, cols] = fac_c[sel]
                ps[:, cols] = ps_c[sel]
            for j in range(len(internal)):
                local = np.flatnonzero(reach[sel, j])
                if not len(local):
                    continue
                rows = sel[local]
                dj = d[rows, j][:, None] * factor[local]
                f = f_sel[local]
                # the 5 % rule on overloads and branches held at their rating (CaseSet.attributed)
                small = np.abs(d_mw[rows, j])[:, None] * ps[local] < ATTRIBUTION_SHARE
                le = attributed_limit(np.abs(f), lim_eff[local], small, w)
                own = self.slopes.get((internal[j], ci))
                if own:  # the AC secants of this bus and case (see _secant)
                    dj = dj * self._secant_ratios(own, internal[j], ci, rows, hours, dj, f, le)
                x, k = _room(dj, f, le)
                better = x < best[j]
                best[j] = np.where(better, x, best[j])
                best_case[j] = np.where(better, ci, best_case[j])
                best_branch[j] = np.where(better, rows[k], best_branch[j])
        best = np.clip(best, 0.0, self.max_mw)
        out = xr.DataArray(best, dims=("bus", "time"), coords={"bus": names, "time": self.sit.data["time"].to_numpy()[hours]},
                           name="hosting_mw", attrs={"units": "MW"})
        out.attrs["case"] = best_case
        out.attrs["branch"] = best_branch
        return out

    def _secant_ratios(self, own: dict, bus: int, ci: int, rows, hours, dj, f, le) -> np.ndarray:
        """Per branch `rows` × hour, the AC secant factor of the load's effect: an hour's own
        secant where it has one; elsewhere the secant taken at the load level nearest to the
        hour's value with that secant (the load's nonlinearity grows with its size: a secant
        taken at 2 GW is not that of 500 MW)."""
        t_len = dj.shape[1]
        cands = list(own.items())
        if len(cands) == 1:
            ratio = np.repeat(cands[0][1][rows][:, None], t_len, axis=1)
        else:
            miss = np.empty((len(cands), t_len))
            for i, (t, r) in enumerate(cands):
                level = max(self._slope_at[(bus, t, ci)], 1.0)
                miss[i] = np.abs(_room(dj * r[rows][:, None], f, le)[0] - level) / level
            ratio = np.stack([r[rows] for _, r in cands], axis=1)[:, np.argmin(miss, axis=0)]
        for t, r in cands:
            col = self._column(hours, t)
            if col is not None:
                ratio[:, col] = r[rows]
        return ratio

    @staticmethod
    def _column(hours: np.ndarray, t: int) -> int | None:
        """Position of hour `t` in the sorted-or-not `hours`, None when absent."""
        pos = np.flatnonzero(hours == t)
        return int(pos[0]) if len(pos) else None

    def _secant(self, h: xr.DataArray, internal: list[int], ranks: tuple[int, ...] = (0,), pf: float = 0.98,
                at: list[tuple[int, int, float, int]] | None = None) -> set[int]:
        """For each bus of `h` and its hours of the given `ranks` (0: the lowest, the firm
        value; H: the (H+1)-th lowest, ``mw_at_<H>h``) — or at the (position in `h`, hour, load
        [MW], case; -1: the screen's deciding) entries `at` — whose value (below the cap, above 1 MW)
        is not yet backed by an AC secant taken within 1 % of it: solve the deciding (hour,
        case) in AC without and with that load at the bus (power factor `pf`) and keep, per
        branch, the AC loading change per screened change (clipped to 0.25–4; 1 where the
        screen sees no change or the signs differ), for that hour and — until they have their
        own — the case's other hours near that load level (:meth:`_secant_ratios`). Returns the
        positions (in `h`) of the buses that got a new secant."""
        g = self.grid
        tan = math.tan(math.acos(pf))
        vals, cases = h.to_numpy(), h.attrs["case"]
        changed: set[int] = set()
        if at is None:
            at = [(j, t, float(vals[j, t]), -1) for j in range(len(internal)) for t in _ranked(vals[j], ranks)]
        for j, t, x, ci in at:
            bus = internal[j]
            ci = int(cases[j, t]) if ci < 0 else int(ci)
            if not (1.0 <= x < self.max_mw):
                continue
            taken = self._slope_at.get((bus, t, ci))
            if taken is not None and abs(taken - x) <= 0.01 * x:
                continue
            dp, dq = self._hour_injections(t)
            k = self.outages[ci]
            base = g.solve(outage=k, dp_mw=dp, dq_mvar=dq)
            if not base.converged:
                continue
            res = g.solve(outage=k, bus=bus, p_mw=x, q_mvar=x * tan, dp_mw=dp, dq_mvar=dq,
                          v_init=base.vm_pu * np.exp(1j * base.va_rad))
            if not res.converged:
                continue
            sens = self.PTDF[ci]
            d = -(sens[:, bus] - sens @ g.slack_w) * self.SCALE[ci]  # pp per MW, signed
            factor = self.factors[t][ci] if t in self.factors else np.ones(g.m)
            sign = np.where(self.loading_case(ci, np.array([t]))[:, 0] < 0, -1.0, 1.0)  # the screen's direction
            # the AC loading signed as the screen's flow, flipped where the load reverses the flow
            # (a transformer feeding the 220 kV side up turns to feed the load: |loading| goes
            # through zero, and only the signed change is the load's effect) — only for a flow
            # that was there (at least TURN_MIN_PCT loaded) with active power carrying the
            # loading on both sides: a small or mostly reactive flow turns its active part back
            # and forth without the load's doing, and its secant is not the load's
            turned = ((np.sign(res.p_from_mw) * np.sign(base.p_from_mw) < 0) & (base.loading_pct >= TURN_MIN_PCT)
                      & (np.abs(base.p_from_mw) >= 0.5 * np.hypot(base.p_from_mw, base.q_from_mvar))
                      & (np.abs(res.p_from_mw) >= 0.5 * np.hypot(res.p_from_mw, res.q_from_mvar)))
            change = sign * (np.where(turned, -1.0, 1.0) * res.loading_pct - base.loading_pct)
            screened = d * factor  # signed change of the screen's loading per MW
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = change / x / screened
            ratio = np.where(np.isfinite(ratio) & (ratio > 0) & (np.abs(screened) > 1e-9), np.clip(ratio, 0.25, 4.0), 1.0)
            self.slopes.setdefault((bus, ci), {})[t] = ratio
            self._slope_at[(bus, t, ci)] = x
            changed.add(j)
        return changed

    def loading_case(self, ci: int, hours: np.ndarray | None = None, at=None) -> np.ndarray:
        """Signed DC loading [%] (m × hours; default every hour) of case `ci` in the secured
        hours, with the AC correction of the hours that have one (:meth:`correct`); `at`: the
        hours' :meth:`_corrected_at`, when the caller has it."""
        t = np.arange(self.sit.n_hours) if hours is None else np.asarray(hours, dtype=int)
        raw = self._dc_loading(ci, t)
        flows = raw * self._borrowed()[ci][:, None]
        if self.corrections:
            cols, k_of = self._corrected_at(t) if at is None else at
            if len(cols):
                corr, _, _, meas = self._stacked()
                hit = meas[k_of, ci]
                cols, k_of = cols[hit], k_of[hit]
                sign = np.where(raw[:, cols] < 0, -1.0, 1.0)
                flows[:, cols] = raw[:, cols] + sign * corr[k_of, ci].T
        return flows

    def _dc_loading(self, ci: int, t: np.ndarray) -> np.ndarray:
        """Signed DC loading [%] (m × hours) of case `ci` in the secured hours `t`, as the DC
        flows give it (no AC correction); the whole year's kept per case where all cases' fit
        in :data:`DC_CACHE_BYTES` (the screen of a few buses is otherwise mostly these flows)."""
        if len(t) == self.sit.n_hours and self._year_cache is not None:
            got = self._year_cache.get(ci)
            if got is None:
                got = self._year_cache[ci] = self._dc_loading_of(ci, t)
                got.flags.writeable = False
            return got if np.array_equal(t, np.arange(len(t))) else got[:, t]
        return self._dc_loading_of(ci, t)

    def _dc_loading_of(self, ci: int, t: np.ndarray) -> np.ndarray:
        flows = self.PTDF[ci] @ self._p[:, t]
        if self.delta.size:
            flows = flows + self._res_sens[ci] @ self.delta[:, t]
        return flows * self.SCALE[ci][:, None]

    def _borrowed(self) -> np.ndarray:
        """For the (hour, case) pairs not AC-solved: per case and branch (C × m), the AC/DC
        loading ratio taken by the last :meth:`refresh_borrowed` (1 before)."""
        if self._borrow is None:
            self._borrow = np.ones((len(self.outages), self.grid.m))
        return self._borrow

    def refresh_borrowed(self) -> None:
        """Take, per case and branch, the mean AC/DC loading ratio of the case's corrected hours
        where the branch is loaded at least :data:`BORROW_MIN_PCT` (1 where there are none), for
        the hours AC has not solved in that case (:meth:`loading_case`). The ratio is a property
        of the branch and the outage far more than of the hour (2030: across 1,800 loaded
        branch-hours, within a case and branch a median standard deviation of 0.1 % of the
        ratio, against 2 % over all), so a corrected hour tells its case's other hours; without
        it the screen held DC's 4–5 % too high loading of a line in the hours AC did not solve,
        and the 500-hour values came out up to 19 % low. Every screen after this sees the new
        ratios (screen again what was screened before)."""
        n = self._n_measured
        with np.errstate(divide="ignore", invalid="ignore"):
            self._borrow = np.where(n > 0, self._sum_ratio / n, 1.0) if n.size else None

    def _stacked(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The corrections, factors and P/S of the corrected hours, stacked (K × C × m, hours in
        :attr:`corrections` order), and which cases AC solved there (K × C); rebuilt when an hour
        is corrected."""
        if self._stack is None or self._stack_version != self._version:
            hrs = np.array(list(self.corrections), dtype=int)
            order = np.argsort(hrs)
            self._stack = (hrs[order], order,
                           tuple(np.stack([d[h] for h in hrs.tolist()])
                                 for d in (self.corrections, self.factors, self.ps, self.measured)))
            self._stack_version = self._version
        return self._stack[2]

    def _corrected_at(self, hours: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Of `hours`, the positions of those with an AC correction and their index in
        :meth:`_stacked`."""
        if not self.corrections:
            return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
        self._stacked()
        srt, order = self._stack[0], self._stack[1]
        pos = np.minimum(np.searchsorted(srt, hours), len(srt) - 1)
        hit = srt[pos] == hours
        return np.flatnonzero(hit), order[pos[hit]]

    def _hour_injections(self, hour: int) -> tuple[np.ndarray, np.ndarray]:
        """The hour's change against the compiled base network, per internal bus: active power
        [MW] (every element's output, demand, the securing redispatch) and the loads' reactive
        power [Mvar]."""
        g, t = self.grid, int(hour)
        p = self._p[:, t].copy()
        if self.delta.size:
            p += self._patterns @ self.delta[:, t]
        tan = math.tan(math.acos(self.model.scenario.demand.power_factor))
        q_hour = np.zeros(g.n)
        np.add.at(q_hour, self._load_at, -float(self._demand_mw[t]) * self._load_key * tan)
        return p - g.p_sched * g.base_mva, q_hour - self._q_base

    def ac_loading(self, hour: int, cases=None) -> tuple[np.ndarray, np.ndarray] | None:
        """AC loading [%] (C × m) of every branch in the cases `cases` (default all; the others
        NaN) of one secured hour, and each branch's active-power share of its apparent power
        there (P/S, C × m), solved on the compiled network with the hour's injections; None when
        the hour's intact grid does not solve in AC."""
        g = self.grid
        dp, dq = self._hour_injections(hour)
        load = np.full((len(self.outages), g.m), np.nan)
        ps = np.full_like(load, np.nan)
        base = g.solve(dp_mw=dp, dq_mvar=dq)
        if not base.converged:
            return None
        v0 = base.vm_pu * np.exp(1j * base.va_rad)
        rating = math.sqrt(3.0) * g.base_kv[g.f] * g.i_rated_f_ka
        ids = list(range(len(self.outages))) if cases is None else sorted(set(cases))
        out = [ci for ci in ids if self.outages[ci] is not None]  # the outages, solved together
        solved = dict(zip(out, g.solve_many([self.outages[ci] for ci in out], dp_mw=dp, dq_mvar=dq,
                                            starts=np.broadcast_to(v0, (len(out), g.n)))))
        for ci in ids:
            r = solved.get(ci, base)
            if r.converged:
                load[ci] = r.loading_pct
                with np.errstate(divide="ignore", invalid="ignore"):
                    ps[ci] = np.abs(r.p_from_mw) / (rating * r.vm_pu[g.f] * self._alive[ci] * r.loading_pct / 100.0)
        return load, ps

    def correct(self, hours) -> list[int]:
        """AC-correct every case of `hours` (see :meth:`correct_cases`). Returns the hours AC
        could not solve (left DC)."""
        return self.correct_cases([(int(t), ci) for t in np.atleast_1d(hours) for ci in range(len(self.outages))])

    def correct_cases(self, pairs) -> list[int]:
        """AC-correct the DC loadings of (hour, case) `pairs`, branch by branch: later screens
        see the AC loading of that case in that hour, and a load's effect on a branch at the
        branch's P/S there (the DC screen's loading is of the P limit; the AC loading of the
        apparent power). The hour is solved on the compiled network with its injections
        (:meth:`ac_loading`). Returns the hours whose intact grid AC could not solve (left DC)."""
        shape = (len(self.outages), self.grid.m)
        by_hour: dict[int, list[int]] = {}
        for t, ci in pairs:
            if (int(t), int(ci)) not in self._done:
                by_hour.setdefault(int(t), []).append(int(ci))
        failed = []
        for t in by_hour:
            if t not in self.corrections:
                self.corrections[t] = np.zeros(shape)
                self.factors[t] = np.ones(shape)
                self.ps[t] = np.ones(shape)
                self.measured[t] = np.zeros(shape[0], dtype=bool)
        if not self._n_measured.size:
            self._sum_ratio, self._n_measured = np.zeros(shape), np.zeros(shape)
        for t, cases in sorted(by_hour.items()):
            self._done.update((t, ci) for ci in cases)
            solved = self.ac_loading(t, cases)
            if solved is None:
                failed.append(t)
                self._done.update((t, ci) for ci in range(len(self.outages)))
                continue
            load, ps_all = solved
            for ci in sorted(set(cases)):
                ac = load[ci]
                if np.isnan(ac).all():  # this outage does not converge: left DC
                    continue
                dc = np.abs(self._dc_loading(ci, np.array([t]))[:, 0])
                ps = np.where(np.isfinite(ps_all[ci]) & (np.nan_to_num(ac) >= 5.0), np.clip(ps_all[ci], 0.2, 1.0),
                              self._ratio)
                self.corrections[t][ci] = np.nan_to_num(ac - dc, nan=0.0, posinf=0.0, neginf=0.0)
                # DC pp per MW × (base P/S) × (the hour's P/S) = AC pp per MW (reactive flow held)
                before = self.factors[t][ci].copy()
                self.factors[t][ci] = self._ratio * ps
                # a secant taken here before keeps the AC change it measured (it is relative to the factor)
                for (b, c), own in self.slopes.items():
                    if c == ci and t in own:
                        own[t] = own[t] * before / self.factors[t][ci]
                self.ps[t][ci] = ps
                self.measured[t][ci] = True
                use = (dc >= BORROW_MIN_PCT) & np.isfinite(ac)
                with np.errstate(divide="ignore", invalid="ignore"):
                    self._sum_ratio[ci] += np.where(use, ac / dc, 0.0)
                self._n_measured[ci] += use
        self._version += 1
        return failed

    def hosting_ac_corrected(self, buses: list | None = None, band: float = 0.25, per_bus: int = 40,
                             rounds: int = 60, client=None) -> xr.DataArray:
        """:meth:`hosting` with the (hour, case) pairs that decide each bus's firm value
        AC-corrected: in each round, for every bus, the hours whose hosting is within `band`
        (share) + 25 MW of its lowest value, lowest first, have their deciding case corrected (at
        most `per_bus` a bus a round), and those hours are screened again; until the deciding
        pair of every such hour is corrected (lazy constraint generation, over hours and
        outages); then the AC secant of the load at each bus's deciding pair (:meth:`_secant`),
        and both again until each bus's secant was taken within 1 % of its value. `client`: the
        thresholds' AC hosting (:meth:`ac_hosting`) on that Dask cluster."""
        h = self.hosting(buses)
        _, internal = self._buses(buses)

        def rescreen(hours) -> None:  # only corrected hours change: screen them again, in place
            new = sorted(hours)
            part = self.hosting(buses, hours=np.array(new))
            h.values[:, new] = part.values
            h.attrs["case"][:, new] = part.attrs["case"]
            h.attrs["branch"][:, new] = part.attrs["branch"]

        def rescreen_buses(rows) -> None:  # buses with a new secant: screened again, every hour
            part = self.hosting([str(b) for b in h["bus"].to_numpy()[rows]])
            h.values[rows] = part.values
            h.attrs["case"][rows] = part.attrs["case"]
            h.attrs["branch"][rows] = part.attrs["branch"]

        taken = [0]  # corrected pairs when the borrowed ratios were last taken

        def borrow() -> None:  # the ratios again, and every hour screened again, when the corrections grew enough
            if len(self._done) >= BORROW_GROWTH * taken[0] + 1:
                taken[0] = len(self._done)
                self.refresh_borrowed()
                rescreen_buses(np.arange(len(internal)))

        def settle() -> None:  # the firm values: corrections and secants until they hold
            for _ in range(8):
                for _ in range(rounds):
                    vals = h.to_numpy()
                    cases = h.attrs["case"]
                    want = set()
                    for j, row in enumerate(vals):
                        low = row.min()
                        if low >= self.max_mw:
                            continue
                        cand = np.flatnonzero(row <= low * (1.0 + band) + 25.0)
                        cand = cand[np.argsort(row[cand], kind="stable")]
                        fresh = [(int(t), int(cases[j, t])) for t in cand if (int(t), int(cases[j, t])) not in self._done]
                        want.update(fresh[:per_bus])
                    if not want:
                        break
                    self.correct_cases(sorted(want))
                    rescreen({t for t, _ in want})
                    borrow()
                # the hour that decides each firm value: every case in AC (another may bind there)
                deciding = {int(np.argmin(row)) for row in h.to_numpy() if row.min() < self.max_mw}
                missing = [(t, ci) for t in deciding for ci in range(len(self.outages)) if (t, ci) not in self._done]
                if missing:
                    self.correct_cases(missing)
                    rescreen(deciding)
                    continue
                # the load's own nonlinearity at each deciding (hour, case): the AC secant
                moved = sorted(self._secant(h, internal))
                if not moved:
                    break
                rescreen_buses(moved)

        settle()
        # each curtailment threshold (mw_at_<H>h): its hour's deciding case AC-corrected and the
        # secant taken there; twice (the threshold hours shift as they change)
        for _ in range(THRESHOLD_PASSES):
            vals, cases = h.to_numpy(), h.attrs["case"]
            pairs = {(t, int(cases[j, t])) for j in range(len(vals)) for t in _ranked(vals[j], CURTAILMENT_HOURS)
                     if vals[j, t] < self.max_mw}
            if pairs - self._done:
                self.correct_cases(sorted(pairs - self._done))
                rescreen({t for t, _ in pairs})
                borrow()
            moved = sorted(self._secant(h, internal, ranks=CURTAILMENT_HOURS))
            if not moved:
                break
            rescreen_buses(moved)
        settle()  # a threshold's secant may have moved a firm value (another hour of its case)
        # each threshold against the AC N-1 hosting of its hour (what confirm_ac reports); where
        # they differ by more than 5 %, the secant again at that hour, taken at the AC value in
        # the case that limits AC there (the screen may have another deciding)
        names = [str(b) for b in h["bus"].to_numpy()]
        for _ in range(2):  # the firm values settled after the rounds may move a threshold: once more
            acted = False
            for _ in range(THRESHOLD_CONFIRM_ROUNDS):
                vals, cases = h.to_numpy(), h.attrs["case"]
                need = [(j, t) for j in range(len(names)) for t in _ranked(vals[j], CURTAILMENT_HOURS)
                        if 1.0 <= vals[j, t] < self.max_mw]
                ac = self.ac_hosting([(t, names[j]) for j, t in need], client=client)
                # — and in the screen's deciding case, where that is another (AC at the cap: the
                # secant just below it, where the screen then reaches the cap too)
                off = []
                for j, t in need:
                    x = ac[(t, names[j])]
                    if np.isfinite(x) and abs(vals[j, t] - x) > max(0.05 * x, 1.0):
                        screened = int(cases[j, t])
                        limiting = self._limiting_case(t, names[j], screened)
                        off += [(j, t, min(x, 0.999 * self.max_mw), ci) for ci in dict.fromkeys((limiting, screened)) if ci >= 0]
                if not off:
                    break
                pairs = {(t, ci) for _, t, _, ci in off}
                pairs |= {(int(s), int(cases[j, t])) for j, t, _, _ in off for s in _tied(vals[j], cases[j], t)}
                if pairs - self._done:  # the hour's AC loadings in that case first (the secant's base)
                    self.correct_cases(sorted(pairs - self._done))
                    rescreen({t for t, _ in pairs})
                moved = sorted(self._secant(h, internal, at=off))
                if not moved:
                    break
                acted = True
                rescreen_buses(moved)
            if not acted:
                break
            settle()  # the secants may have moved a firm value too
        h.attrs["corrected_hours"] = sorted(self.corrections)
        h.attrs["corrected_cases"] = len(self._done)
        return h

    def firm_capacity(self, buses: list | None = None, hours: tuple[int, ...] = CURTAILMENT_HOURS,
                      hosting: xr.DataArray | None = None) -> pd.DataFrame:
        """One row per bus: ``firm_mw`` (fits in every hour), ``mw_at_<H>h`` (fits but for at
        most H hours a year, curtailed then), ``median_mw``, ``zero_hours`` (hours with less than
        1 MW of room), the ``deciding_hour`` (UTC; the first, where several hours tie),
        ``deciding_outage`` and ``deciding_element`` of the firm value."""
        h = hosting if hosting is not None else self.hosting(buses)
        vals = h.to_numpy()
        srt = np.sort(vals, axis=1)
        time = self.sit.time
        rows = []
        for j, name in enumerate(h["bus"].to_numpy()):
            t = int(np.argmin(vals[j]))
            row = {"bus": str(name), "firm_mw": float(srt[j, 0])}
            for hh in hours:
                row[f"mw_at_{hh}h"] = float(srt[j, min(int(hh), srt.shape[1] - 1)])
            row["median_mw"] = float(np.median(vals[j]))
            row["zero_hours"] = int(np.count_nonzero(vals[j] < 1.0))  # hours with no room at all (< 1 MW)
            capped = srt[j, 0] >= self.max_mw
            row["deciding_hour"] = pd.NaT if capped else time[t]
            row["deciding_outage"] = "" if capped else case_label(self.grid, self.outages[int(h.attrs["case"][j, t])])
            k = int(h.attrs["branch"][j, t])
            row["deciding_element"] = "" if capped or k < 0 else element_label(self.grid, "thermal", k)
            rows.append(row)
        out = pd.DataFrame(rows).set_index("bus")
        out.attrs.update(scenario=self.sit.scenario, year=self.sit.data.attrs.get("year"), hours=self.sit.n_hours,
                         secured_hours=self.secured_hours, unresolved_hours=len(self.overload))
        return out

    def curtailment(self, bus, p_mw: float, hosting: xr.DataArray | None = None) -> dict:
        """Hours a year a connection of `p_mw` [MW] at `bus` exceeds the hosting capacity and
        gives way, and the energy it gives up [MWh] (down to the hosting capacity in each such
        hour)."""
        h = hosting.sel(bus=str(bus)).to_numpy() if hosting is not None else self.hosting([bus]).to_numpy()[0]
        short = np.maximum(float(p_mw) - h, 0.0)
        energy = float(p_mw) * len(h)
        return {"bus": str(bus), "p_mw": float(p_mw), "hours": int(np.count_nonzero(short > 1e-6)),
                "mwh": float(short.sum()), "share_of_energy": float(short.sum() / energy) if energy > 0 else 0.0}

    # ----------------------------------------------------------- AC confirmation

    def hour_network(self, hour: int):
        """The pandapower network of one hour: demand by the key, every generating element at
        its hourly output, the hour's securing redispatch applied."""
        import copy

        from .secure import apply_redispatch

        t = int(hour)
        net = copy.deepcopy(self.model.net)
        sc = self.model.scenario
        demand = float(self.sit.data["demand_mw"][t])
        key = net.load["p_mw"] / net.load["p_mw"].sum()
        net.load["p_mw"] = demand * key
        net.load["q_mvar"] = net.load["p_mw"] * math.tan(math.acos(sc.demand.power_factor))
        el = self.sit.data["element_p_mw"]
        for name, p in zip(el["element"].to_numpy(), el[t].to_numpy()):
            table, idx = str(name).split(":")
            net[table].at[int(idx), "p_mw"] = float(p)
        if self.delta.size:
            apply_redispatch(net, self.resources, self.delta[:, t])
        return net

    def ac_hosting(self, pairs, client=None) -> dict[tuple[int, str], float]:
        """The AC N-1 hosting capacity [MW] (the library's firm hosting on :meth:`hour_model`,
        with this grid's limits and cap) of each (hour, bus name) of `pairs`, solved once each
        (kept, with the case that limits it); NaN where the hour does not solve in AC. With a
        Dask `client`, on its cluster: one task per hour, the model sent to every worker once
        (the same values: a worker compiles the model's network as this process did)."""
        memo = self._ac_memo
        todo: dict[int, list[str]] = {}
        for t, bus in pairs:
            if (int(t), str(bus)) not in memo:
                todo.setdefault(int(t), []).append(str(bus))
        jobs = [(t, *self._hour_injections(t), sorted(set(buses))) for t, buses in sorted(todo.items())]
        kw = {"max_mw": self.max_mw, "vm_min_pu": self.limits.vm_min_pu, "vm_max_pu": self.limits.vm_max_pu,
              "max_loading_pct": self.limits.max_loading_pct}
        if client is None:
            done = ((i, _hour_hosting(self.model, self.grid, *job[1:], kw)) for i, job in enumerate(jobs))
        else:
            from .._tiled import check_client, completed_tasks

            check_client(client)
            done = completed_tasks(client, _hour_hosting_task, self.model, [(*job[1:], kw) for job in jobs],
                                   "AC hosting of hours (Dask tasks)", "hour-hosting")
        for i, got in done:
            t = jobs[i][0]
            for b, value in got.items():
                memo[(t, b)] = value
        return {(int(t), str(b)): memo[(int(t), str(b))][0] for t, b in pairs}

    def _limiting_case(self, hour: int, bus: str, screened: int) -> int:
        """The case (index into :attr:`outages`) that limits the AC hosting of `bus` in `hour`
        (:meth:`ac_hosting`): the screen's deciding case `screened` when it carries that label
        (the circuits of a double line share one), else the first case that does; -1 when none
        (AC at the cap)."""
        label = self._ac_memo[(int(hour), str(bus))][1]
        if case_label(self.grid, self.outages[screened]) == label:
            return screened
        return next((i for i, k in enumerate(self.outages) if case_label(self.grid, k) == label), -1)

    def hour_model(self, hour: int):
        """A :class:`GridModel` of one secured hour (what :meth:`hour_network` gives), on the
        compiled network with the hour's injections instead of compiling that network again
        (the same values to 1e-9 MW, about half the time of an AC hosting check of a few
        buses); None when the hour does not solve in AC."""
        return _hour_model(self.model, self.grid, *self._hour_injections(hour))

    def confirm_ac(self, table: pd.DataFrame, buses: list | None = None,
                   hosting: xr.DataArray | None = None, client=None) -> pd.DataFrame:
        """AC check of the screen: for each bus (default every row of `table`, a
        :meth:`firm_capacity` result), the AC N-1 hosting capacity (the library's firm hosting,
        :meth:`GridModel.hosting_capacity`) in the hour that decides its firm value, beside it;
        with `hosting` (the hourly values `table` came from) also in the hour of each
        curtailment threshold ``mw_at_<H>h`` of the table.

        Adds ``ac_mw``, ``ac_diff_mw`` (DC − AC), ``ac_diff_pct`` (of AC; NaN where AC does not
        solve) and ``firm_confirmed_mw`` (the smaller of the two: the value to plan with; where
        the firm value is about zero — a branch the hour's securing uses to its limit — compare
        MW, not per cent); with `hosting`, ``ac_at_<H>h`` (AC hosting in that threshold's hour;
        NaN where the value is the search cap). ``attrs["ac_agreement"]``: how many values were
        checked, how many agree within 5 % of AC (1 MW near zero), and the worst. `client`: the
        AC hosting on that Dask cluster (:meth:`ac_hosting`)."""
        out = table.copy()
        rows = list(out.index) if buses is None else [str(b) for b in buses]
        time = self.sit.time
        wanted: dict[int, dict[str, list[str]]] = {}  # hour -> bus -> columns to fill there
        for bus, when in out.loc[rows, "deciding_hour"].dropna().items():
            wanted.setdefault(int(time.get_loc(when)), {}).setdefault(bus, []).append("ac_mw")
        out["ac_mw"] = np.nan
        ranks = [int(c[6:-1]) for c in out.columns if c.startswith("mw_at_") and c.endswith("h")] if hosting is not None else []
        if ranks:
            vals = hosting.sel(bus=rows).to_numpy()
            for hh in ranks:
                out[f"ac_at_{hh}h"] = np.nan
            for j, bus in enumerate(rows):
                for hh in ranks:
                    t = _ranked(vals[j], (hh,))[0]
                    if vals[j, t] < self.max_mw:
                        wanted.setdefault(t, {}).setdefault(bus, []).append(f"ac_at_{hh}h")
        ac = self.ac_hosting([(t, bus) for t, cols in wanted.items() for bus in cols], client=client)
        for t, cols in wanted.items():
            for bus, targets in cols.items():
                for col in targets:
                    out.at[bus, col] = ac[(t, bus)]
        out["ac_diff_mw"] = out["firm_mw"] - out["ac_mw"]
        # the value to plan with: never above what AC confirms in the deciding hour
        out["firm_confirmed_mw"] = np.fmin(out["firm_mw"], out["ac_mw"])
        with np.errstate(divide="ignore", invalid="ignore"):
            out["ac_diff_pct"] = 100.0 * out["ac_diff_mw"] / out["ac_mw"]
        out.attrs["ac_agreement"] = _agreement(out.loc[rows], [("firm_mw", "ac_mw")] +
                                               [(f"mw_at_{hh}h", f"ac_at_{hh}h") for hh in ranks])
        return out


def _hour_model(model, grid, dp_mw: np.ndarray, dq_mvar: np.ndarray):
    """:meth:`HourlyGrid.hour_model` of the hour whose injections differ by `dp_mw`, `dq_mvar`
    from `grid`'s (`model`'s compiled network); None when it does not solve in AC."""
    from .model import GridModel

    hour_grid = grid.rebased(dp_mw, dq_mvar)
    if hour_grid is None:
        return None
    m = GridModel(model.net, scenario=model.scenario)
    m.__dict__["_grid"] = hour_grid
    return m


def _hour_hosting(model, grid, dp_mw: np.ndarray, dq_mvar: np.ndarray, buses: list[str],
                  kw: dict) -> dict[str, tuple[float, str]]:
    """Per bus of `buses`, the AC N-1 hosting capacity [MW] and the case that limits it in the
    hour of :func:`_hour_model` (`kw`: the limits and cap); (NaN, "") where the hour does not
    solve in AC."""
    try:
        m = _hour_model(model, grid, dp_mw, dq_mvar)
        ac = None if m is None else m.hosting_capacity(buses=buses, redispatch=False, **kw)
    except Exception:  # noqa: BLE001 - an hour AC cannot solve is reported (NaN), not raised
        ac = None
    return {b: (float("nan"), "") if ac is None else (float(ac.at[b, "firm_mw"]), str(ac.at[b, "limiting_case"]))
            for b in buses}


def _hour_hosting_task(model, dp_mw: np.ndarray, dq_mvar: np.ndarray, buses: list[str],
                       kw: dict) -> dict[str, tuple[float, str]]:
    """On a Dask worker: :func:`_hour_hosting` on the model's network as this worker compiles it
    (once: it stays with the model the worker holds), one BLAS thread, no progress bars."""
    from threadpoolctl import threadpool_limits

    from .._progress import quiet_here

    with threadpool_limits(1), quiet_here():
        return _hour_hosting(model, model._grid, dp_mw, dq_mvar, buses, kw)


def _tied(row: np.ndarray, cases: np.ndarray, t: int) -> np.ndarray:
    """The hours of a bus's `row` (values per hour; `cases`: their deciding cases) whose value
    ties with hour `t`'s (within :data:`TIE_REL`) in the same case, `t` among them: a threshold
    hour corrected alone hands its rank to the next of them. (2030, Maasvlakte 380 kV alone:
    with one circuit of the Vierverlaten 380/220 kV transformer out, the other's DC flow is the
    same in every hour and over 500 hours screened 763.99 MW; correcting a few a round left
    every threshold there, 30 % below AC.)"""
    v = row[t]
    return np.flatnonzero((np.abs(row - v) <= TIE_REL * max(abs(v), 1.0)) & (cases == cases[t]))


def _agreement(table: pd.DataFrame, pairs: list[tuple[str, str]]) -> dict:
    """Of the (screen, AC) column `pairs` of `table`: the values AC checked, those within 5 % of
    AC (1 MW near zero), and the worst (the largest difference for that tolerance)."""
    checked = within = 0
    worst, worst_score = None, -1.0
    for screen, ac in pairs:
        both = table[[screen, ac]].dropna()
        diff = both[screen] - both[ac]
        score = diff.abs() / np.maximum(0.05 * both[ac], 1.0)  # 1 at the tolerance
        checked += len(both)
        within += int((score <= 1.0).sum())
        if len(score) and score.max() > worst_score:
            bus = score.idxmax()
            worst_score = float(score.max())
            worst = {"bus": str(bus), "value": screen, "screen_mw": float(both.at[bus, screen]),
                     "ac_mw": float(both.at[bus, ac]),
                     "diff_pct": float(100.0 * diff[bus] / max(both.at[bus, ac], 1.0))}
    return {"checked": checked, "within_5pct": within, "worst": worst}


def _room(dj: np.ndarray, f: np.ndarray, le: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per hour, the load [MW] at which the first of the branches reaches its limit `le` from
    its signed loading `f` with the load's effect `dj` [pp/MW] (branches × hours), and which."""
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(dj > 1e-12, (le - f) / dj, np.where(dj < -1e-12, (-le - f) / dj, np.inf))
    room = np.where(np.isinf(le), np.inf, np.maximum(room, 0.0))
    k = np.argmin(room, axis=0)
    return room[k, np.arange(room.shape[1])], k


def _ranked(row: np.ndarray, ranks) -> list[int]:
    """The hours of `row` (a bus's hosting per hour) at the given ranks, lowest first (rank H:
    the (H+1)-th lowest), each once."""
    order = np.argsort(row, kind="stable")
    return list(dict.fromkeys(int(order[min(r, len(order) - 1)]) for r in ranks))


def duration_curve(hosting: xr.DataArray, bus: str, load_mw: float | None, path, row: pd.Series | None = None) -> None:
    """A PNG of one bus's hourly hosting capacity sorted over the year (the duration curve),
    with the load drawn in and the hours it would give way shaded."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    vals = np.sort(hosting.sel(bus=bus).to_numpy())[::-1]
    hours = np.arange(1, len(vals) + 1)
    fig, ax = plt.subplots(figsize=(7.5, 4.0), dpi=120)
    ax.plot(hours, vals, color="#1f4e79", lw=1.6, label="hosting capacity, hours sorted")
    if load_mw is not None:
        ax.axhline(load_mw, color="#b03a2e", lw=1.2, ls="--", label=f"load {load_mw:,.0f} MW")
        short = vals < load_mw
        if short.any():
            ax.fill_between(hours, vals, load_mw, where=short, color="#b03a2e", alpha=0.2,
                            label=f"gives way {int(short.sum()):,} h/yr")
    if row is not None:
        confirmed = pd.notna(row.get("firm_confirmed_mw", np.nan))
        firm = float(row["firm_confirmed_mw"] if confirmed else row["firm_mw"])
        ax.axhline(firm, color="#555555", lw=0.8, ls=":",
                   label=f"firm {firm:,.0f} MW" + (" (AC-confirmed)" if confirmed else ""))
    ax.set_xlim(0, len(vals))
    ax.set_ylim(0, max(float(vals.max()), load_mw or 0.0) * 1.08 + 1)
    ax.set_xlabel("hours of the year (sorted)")
    ax.set_ylabel("MW")
    ax.set_title(f"{bus}: N-1 hosting capacity over the year", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
