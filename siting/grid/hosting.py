"""N-1 checks and hosting capacity: linear screening (PTDF/LODF, Jacobian) + AC confirmation.

Definition (issue #3, §4.2/§5.3.1 of the report): the hosting capacity of a bus is the largest
added load P such that, in the base case and in every single-circuit outage that keeps the grid
connected, no branch exceeds ``max_loading_pct`` and no bus voltage leaves ``[vm_min, vm_max]``.
The load may not create a violation, however small. Exceptions, for what the case has without
the load: a branch over its rating (a voltage outside 0.9–1.1 pu) may move 1 pp (0.005 pu)
further (:func:`thermal_limit`, :func:`voltage_limits`), and is held against the load only
where the load moves at least 5 % of its MW over it; a load that moves less than that over a
branch may take it 1 pp beyond its loading without the load (:func:`attributed_limit`,
:meth:`CaseSet.attributed`). An AC case that does
not converge counts as a violation ("convergence"). The search stops at ``max_mw`` ("cap").

Method: every case is solved once without the added load (AC). Linear sensitivities then screen
all buses × all outages at once: DC power-transfer distribution factors with the distributed
slack, updated per outage with line-outage distribution factors (sparse LU of the B matrix), and
first-order AC sensitivities from each case's Jacobian (branch currents, voltages, angles). For
each bus, the base case and the outages screened lowest are searched with AC power flow
(bracketing and the Illinois variant of regula falsi to ``tol_mw``). At the answer, every other
outage whose first-order state lies near a thermal, voltage or angle limit is AC-confirmed (and
only those) — the bands widen with the
change predicted and with the base case's observed departure from its own linear estimate (for
voltages, scaled with the square of the change: an outage near the load bends its voltage more);
where that departure is small against the change (the load's effect nearly linear), each
element's band is its own: what the case's change differs from the base case's, and the base
case's departure at that element (:meth:`CaseSet.near_limit`); an
outage violated there is searched alone below the answer (lazy constraint generation). The
answer is thus the AC answer; the linear model only decides where to look.
"""

from __future__ import annotations

import dataclasses
import math
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from .._progress import progress
from ._compact import CompactScreen
from ._kernels import SparseLU, case_margins, near_cases, pair_changes, screen_case
from ._parallel import map_items
from .acpf import ACGrid, ACResult
from .linear import DCSensitivity, ac_sensitivity, loading_gradient, sensitivity_rhs

__all__ = ["Limits", "CaseSet", "HostingSearch", "case_label", "element_label", "thermal_limit", "attributed_limit",
           "attributed_pairs",
           "voltage_limits",
           "ATTRIBUTION_SHARE", "RATED_LOADING_PCT"]

#: At the answer, outages whose first-order AC state is near a limit are AC-confirmed: within
#: GUARD_PP (thermal, percentage points) or GUARD_PU (voltage) plus GUARD_REL × the predicted change.
GUARD_PP = 0.1
GUARD_PU = 0.001
GUARD_REL = 0.3
GUARD_ANGLE_RAD = math.radians(30.0)
GUARD_ANGLE_MOVE_RAD = math.radians(1.0)
#: the bands are per element (near_limit) only where the base case's AC departs from its
#: first-order estimate by at most this share of the largest change it estimates (loadings
#: and voltages alike): beyond, the linear model is unreliable at this load (IEEE 118 bus 99 at
#: 812 MW departs by 7.6 pp and 0.05 pu, and with line 140 out a voltage estimated at 1.017 pu
#: is 0.892 pu in AC) and every band widens by the largest departure
REFINE_MAX_REL = 0.2
#: the projected loading's departure counts towards the base case's linearisation error from
#: this loading with the load (:meth:`CaseSet._network_departure`)
DEPARTURE_MIN_LOADING_PCT = 50.0
#: a case with a branch in service beyond this angle without the load is past the steady-state
#: transfer limit (on the lower side of its nose): that it converges at a load says nothing of
#: the loads below, which it is searched up to in steps of at most CREEP_REL or CREEP_MW
#: (HostingSearch: case145, line 348 out, branch 136–144 at 131°, solves at 139 and 209 MW but
#: not at 143–208 MW from any start tried; jumping from 139 to 209, the search answered 209.0
#: at bus 136 where the loads up to it hold no interval; 142.1 stepping up)
PAST_LIMIT_RAD = math.pi / 2
CREEP_REL = 0.25
CREEP_MW = 25.0
_WATCH_FACTOR = 1.15  # outages whose screened limit is within this factor (+ _WATCH_MW) are searched
_WATCH_MW = 5.0
_WATCH_MAX = 4  # at most this many outages searched up front; the rest are generated lazily
#: from this many outages to confirm, they are AC-solved in order of their estimated margin
_CONFIRM_SORTED_FROM = 8
#: at each feasible step while the search brackets the answer from below, this many of the other
#: outages near a limit are AC-checked (HostingSearch._confirm)
_PROBE_CASES = 4
#: an overload present without the load is held against the load only where the load moves at
#: least this share of its MW over that branch (the flow-based 5 % threshold; see CaseSet.attributed)
ATTRIBUTION_SHARE = 0.05
#: an overload "the grid has anyway" is a branch over its rating (100 %) without the load,
#: whatever ``max_loading_pct`` the caller asks for: with the caller's limit instead, a looser
#: limit (105 %) turned a branch at 103 % from an overload the load is not held to (below the 5 %
#: share) into an ordinary branch it must keep under 105 %, and IEEE 39 bus 5's hosting fell from
#: 744 MW at 100 % to 205 MW at 105 % (#13: hosting must not fall when a limit is loosened)
RATED_LOADING_PCT = 100.0
#: a branch over its limit by at most this before the load is *at* its limit, not over it: the
#: securing step accepts AC loadings up to the limit plus this (``secure(tol_pct=...)``)
SECURE_TOL_PP = 0.05
#: the hosting search runs the numpy Newton where the compiled one failed from both starts (the
#: first-order one and the case's own state)? No: measured on the firm all-bus hosting of IEEE
#: 30, 39, 57, 118, Illinois 200 and the four NL scenarios (with redispatch), it ran 212 times
#: and never converged (a load past the nose), costing 1.7 s of IEEE 118's 3.9 s. A case that does
#: not converge is a violated case in the search either way; single checks keep the fallback
SEARCH_FALLBACK = False
#: the N-1 cases' Jacobians are kept in memory up to this many bytes in all; beyond, each is
#: rebuilt from its case's solved state when a sensitivity needs it (the Continental European
#: grid: 5,653 cases of ~1 MB each, 7.5 GB peak with them kept)
JACOBIAN_CACHE_BYTES = 2**30
#: the N-1 cases' factorised Jacobians (sparse LU) are kept up to this many bytes in each
#: process, so that a screen in several chunks of buses factorises each case once, not once a
#: chunk (case1354pegase: 0.44 MB and 2.9 ms a case, 4.1 s of an 8 s chunk of 16 buses)
LU_CACHE_BYTES = 2**30
#: the screen's per-case sensitivities (cases × (branches + 2 buses) × screened buses, 4 B each:
#: SENSITIVITY_DTYPE) are held for at most this many bytes at a time: more buses are screened in
#: consecutive blocks (case1354pegase: 27 MB a bus; all of them at once would take 36 GB)
SCREEN_BYTES = 2**30
#: buses screened together at most (dense screen): a worker screens whole chunks of them, and
#: each chunk factorises every case's Jacobian once (IEEE 118: two chunks)
SCREEN_CHUNK_BUSES = 64
#: buses screened together at most (compact screen): it keeps ~1 M (case, element) pairs a bus
#: on the Continental European grid at a 3,000 MW ceiling (34 M for 32 buses: the process 5.9
#: GB, a forked search worker 9.1 GB), so more buses than this are screened in chunks — the
#: memory that of one chunk, not growing with the buses asked for. Each chunk factorises every
#: case again (~45 core-seconds there, and a forked worker screens its chunk on one core): the
#: model's 39 Dutch buses took 75.8 s in one chunk (worker peak 8.3 GB) and 219 s in two (7.0
#: GB), so the bound sits above them
COMPACT_CHUNK_BUSES = 64
#: the dense screen keeps per case what it reads besides the Jacobian (:meth:`CaseSet._screen_constants`:
#: 8 numbers a branch) up to this many bytes in all
SCREEN_CONSTANTS_BYTES = 2**28
#: the dense screen keeps its first-order changes per case, element and bus in single precision
#: (computed in double): they only decide where to look, within bands of 0.1 pp and 30 %, and
#: the compiled pass that writes them ran 1.75× as fast with half the bytes to write
#: (case1354pegase, 16 buses, 0.78 -> 0.45 s)
SENSITIVITY_DTYPE = np.float32
#: a grid whose dense screen takes more than this a bus keeps a compact one (:mod:`._compact`;
#: 64 MB in double precision, the threshold the networks were measured with)
COMPACT_ABOVE_BYTES = 32 * 2**20
#: buses whose attributed cases are kept (the firm search and the redispatch of a bus share them)
_ATTRIB_KEEP = 2
#: a large grid's searches (one bus's dense screen over COMPACT_ABOVE_BYTES) read the DC screen
#: per case, no Jacobian per case (:meth:`CaseSet._screen_dc`); False: the compact screen
#: (:mod:`siting.grid._compact`: each case's exact first-order screen, as the dense path decides,
#: at ~2 s a bus on the European grid and ~2.5x the memory). Measured against the exact path on
#: every bus: IEEE 39, case57, IEEE 118, case300 and case1354pegase within 1 MW (1354pegase: max
#: 0.36 MW, 29.7 s against 55.4 s); case145 within 1 MW but at bus 136 (209.0 against 142.1 MW,
#: as the compact path: an outage at 131 degrees across a branch without the load, solved at
#: 209 MW but not at 143-208, so its feasible loads are no interval); case2869pegase, 10 buses,
#: against the compact path within 0.08 MW; Europe all 4,659 buses in ~5.5 min, brute force at
#: two buses within 0.15 MW (bench/results/scale-europe-all-*.md)
DC_DRIVEN = True
#: :func:`~siting.grid.dcscreen.dc_near_cases`: a case whose outage carries this share of the load's
#: MW or more is bounded branch by branch, the others from the branches' sorted bounds
DC_NEAR_EPS = 0.02
#: a case whose outage carries this share of the load's MW or more has its voltages' and
#: angles' change with the load updated for its outage (:meth:`CaseSet._near_strong`; IEEE 118
#: bus 0 with trafo 0 out, 54 % of the load: 25× the base case's change at bus 15; with the base
#: case's change alone, 57 of its 118 buses' answers were up to 2,421 MW too high)
DC_NEAR_STRONG = 0.05
#: that update's uncertainty, as a multiple of its difference from the base case's change
DC_STRONG_SPREAD = 1.0
#: the outages' updates (:meth:`CaseSet._outage_update`; Z in single precision: ~130 kB a case on
#: the European grid) kept per process for that test
UPDATE_CACHE_BYTES = 2**28
#: an attribution share of a DC-driven search (the base case's sensitivities updated for the
#: outage) within this fraction of ATTRIBUTION_SHARE is taken from the case's own Jacobian
DC_SHARE_BAND = 0.25
#: the attribution pairs' own-Jacobian weights kept per process (:meth:`CaseSet._pair_adjoints`)
PAIR_ADJOINT_BYTES = 2**29
#: those weights are solved iteratively (:meth:`CaseSet._transposed_solves`) to this relative
#: residual, in at most this many steps (then the case's own factors)
ADJOINT_RTOL = 1e-10
ADJOINT_STEPS = 20
#: cases solved together (their residuals and preconditioned steps: ~n × 8 × 4 B each)
ADJOINT_BATCH = 128
#: a DC-driven search solves an outage by the chord method on the base case's factorised Jacobian
#: corrected for the outage (:meth:`CaseSet._chord_update`; Newton where that does not converge)
DC_CHORD = True
#: those corrections kept per process
CHORD_UPDATE_BYTES = 2**26
#: from this many buses the N-1 cases are solved on every core (below, a fork costs more), their
#: outages by the chord method on the base case's corrected factors (:meth:`CaseSet._case_solver`)
PARALLEL_CASES_MIN_BUSES = 1000
CASES_BY_CHORD = True
#: "may not add to it" allows the power flow's numerical noise, no more: an AC solve with no
#: added load lands within ~1e-6 of the case's own state (Newton–Raphson to a 1e-9 pu mismatch)
NOISE_PP = 1e-3
NOISE_PU = 1e-5
#: a voltage outside this band without the load is a violation the grid has anyway (the
#: default limits: the reference for voltages that RATED_LOADING_PCT is for loadings)
VM_BAND_PU = (0.9, 1.1)
_SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Limits:
    """Operating limits and the tolerance for pre-existing violations."""

    max_loading_pct: float = 100.0
    vm_min_pu: float = 0.9
    vm_max_pu: float = 1.1
    worsen_pp: float = 1.0
    worsen_pu: float = 0.005


def thermal_limit(pre_pct: np.ndarray, limit_pct: float | np.ndarray, worsen_pp: float) -> np.ndarray:
    """The loading [%] each branch may reach with the added load: its limit; a branch over its
    rating without the load (:data:`RATED_LOADING_PCT` + :data:`SECURE_TOL_PP`: an overload no
    remedial action cleared) that loading plus `worsen_pp`; a branch over the caller's (tighter)
    limit but not over its rating, that loading (the load may not add to it). A branch below its
    limit gets no tolerance: the load may not create an overload, however small. Never falls
    when `limit_pct` rises. NaN (a branch out of service) stays NaN."""
    pre = np.asarray(pre_pct, dtype=float)
    with np.errstate(invalid="ignore"):
        out = np.maximum(limit_pct, np.where(pre > RATED_LOADING_PCT + SECURE_TOL_PP, pre + max(worsen_pp, NOISE_PP),
                                                       pre + NOISE_PP))
    return np.where(np.isnan(pre), np.nan, out)


def voltage_limits(pre_pu: np.ndarray, limits: Limits) -> tuple[np.ndarray, np.ndarray]:
    """The band [pu] each bus voltage must stay in with the added load: ``[vm_min, vm_max]``;
    a voltage outside :data:`VM_BAND_PU` without the load (a violation there anyway) may move
    ``worsen_pu`` further; one outside the caller's tighter band but inside that, not further.
    The load may not create a violation; the band never narrows when the caller's widens."""
    lo, hi = VM_BAND_PU
    w = max(limits.worsen_pu, NOISE_PU)
    low = np.minimum(limits.vm_min_pu, np.where(pre_pu < lo, pre_pu - w, pre_pu - NOISE_PU))
    high = np.maximum(limits.vm_max_pu, np.where(pre_pu > hi, pre_pu + w, pre_pu + NOISE_PU))
    return low, high


def attributed_limit(pre_pct: np.ndarray, limit_pct: np.ndarray, small: np.ndarray, worsen_pp: float) -> np.ndarray:
    """`limit_pct` (from :func:`thermal_limit`) for a load that moves under
    :data:`ATTRIBUTION_SHARE` of its MW over a branch (`small`): not held to an overload the grid
    has without it (inf), and it may take any other branch `worsen_pp` beyond its loading without
    the load (``max(limit, pre + worsen_pp)``): a branch the securing holds at its rating takes
    a few MW more from a load that is not a critical contributor (the operator's congestion
    management that holds it there absorbs them, as flow-based capacity calculation leaves such a
    branch out for such a transfer). Elsewhere unchanged."""
    pre = np.asarray(pre_pct, dtype=float)
    if not np.any(small):
        return np.asarray(limit_pct)
    with np.errstate(invalid="ignore"):  # NaN (a branch out) compares False; fmax passes the limit
        over = pre > RATED_LOADING_PCT + SECURE_TOL_PP
    return np.where(small & over, np.inf, np.where(small, np.fmax(limit_pct, pre + worsen_pp), limit_pct))


def attributed_pairs(dl: np.ndarray, rating_mva: np.ndarray, pre_pct: np.ndarray, limit_pct: np.ndarray,
                     worsen_pp: float) -> tuple[np.ndarray, np.ndarray]:
    """:func:`attributed_limit` at (case, branch) pairs where attribution may relax (an overload
    without the load, or a branch at its limit): the pairs over which the load moves under
    :data:`ATTRIBUTION_SHARE` of its MW (`dl`: the first-order loading change [pp/MW]; the share
    ``|dl|`` × `rating_mva` / 100), and their limits."""
    with np.errstate(invalid="ignore"):  # (NaN: a branch out compares False, fmax passes the limit)
        small = np.flatnonzero(np.abs(dl) * rating_mva / 100.0 < ATTRIBUTION_SHARE)
        pre, lim = pre_pct[small], limit_pct[small]
        vals = np.where(pre > RATED_LOADING_PCT + SECURE_TOL_PP, np.inf,
                        np.where(np.isnan(pre), lim, np.fmax(lim, pre + float(worsen_pp))))
    return small, vals


@dataclass
class Case:
    """One case (base or one outage) solved without the added load, with its limits."""

    outage: int | None
    pre: ACResult
    max_loading: np.ndarray = field(repr=False)
    vm_low: np.ndarray = field(repr=False)
    vm_high: np.ndarray = field(repr=False)


@dataclass(frozen=True)
class CaseResult:
    """An AC evaluation of one case with the added load."""

    feasible: bool
    margin: float  # >= 0 feasible; normalised slack of the tightest constraint
    kind: str  # thermal | voltage | convergence | "" when feasible
    element: int  # branch row (thermal) or internal bus (voltage); -1 otherwise
    value: float
    limit: float


class CaseSet:
    """All N-1 cases of a compiled grid, solved without the added load, plus sensitivities."""

    def __init__(self, grid: ACGrid, limits: Limits, n_minus_1: bool = True) -> None:
        self.grid = grid
        self.limits = limits
        ok, split = grid.contingencies() if n_minus_1 else ([], [])
        self.split = split
        self.cases: list[Case] = []
        self.failed_pre: list[int] = []  # outages that do not converge even without the load
        keep = (len(ok) + 1) * _jacobian_bytes(grid) <= JACOBIAN_CACHE_BYTES
        outages = [None, *ok]
        if grid.n >= PARALLEL_CASES_MIN_BUSES:  # solved on every core (forked workers; same states)
            solve = self._case_solver(keep)
            states = map_items(lambda i: solve(outages[i]), len(outages), desc="N-1 cases")
        else:
            states = (grid.solve(outage=o, keep_jacobian=keep) for o in progress(outages, "N-1 cases", min_items=200))
        for outage, pre in zip(outages, states):
            if not pre.converged:
                if outage is None:
                    raise RuntimeError("base case does not converge")
                self.failed_pre.append(outage)
                continue
            max_loading = thermal_limit(pre.loading_pct, limits.max_loading_pct, limits.worsen_pp)
            vm_low, vm_high = voltage_limits(pre.vm_pu, limits)
            self.cases.append(Case(outage, pre, max_loading, vm_low, vm_high))
        # the limits stacked (C × m, C × n), each case's its rows (one copy: 0.7 GB on the
        # European grid)
        stacks = tuple(np.stack([getattr(c, a) for c in self.cases]) for a in ("max_loading", "vm_low", "vm_high"))
        for i, c in enumerate(self.cases):
            c.max_loading, c.vm_low, c.vm_high = (st[i] for st in stacks)
        self._prepare_dc()
        #: per case, the branches :meth:`attributed` may relax (where :func:`attributed_limit`
        #: for a load moving under 5 % over them exceeds their limit)
        self._existing = [attributed_limit(c.pre.loading_pct, c.max_loading, True, limits.worsen_pp)
                          > np.nan_to_num(c.max_loading, nan=np.inf) for c in self.cases]
        self._with_existing = np.flatnonzero([e.any() for e in self._existing])
        self._pairs = self._attribution_pairs()
        #: (bus, pf tan) -> the attributed cases, and the pairs relaxed with their limits (the last few buses)
        self._attrib: dict[tuple[int, float], tuple[list[Case], np.ndarray, np.ndarray]] = {}
        #: the attributed cases' loading limits (C × m): the plain ones with the pairs of one key
        #: (:attr:`_attrib`) written in place (:meth:`_apply`); that key
        self._work: np.ndarray | None = None
        self._work_key: tuple[int, float] | None = None
        self._plain = self.cases  # the list without attribution
        self._stacks: dict[int, tuple] = {id(self.cases): (self.cases, *stacks)}
        self._lus: dict[int | None, object] = {}  # outage -> its case's Jacobian factorised (LU_CACHE_BYTES)
        self._lu_bytes = 0
        self._adjoints: dict[int, np.ndarray] = {}  # pair -> its weights (:meth:`_pair_adjoints`)
        self._adjoint_bytes = 0
        self._updates: dict[int, tuple | None] = {}  # case -> its outage update (:meth:`_strong_changes`)
        self._update_bytes = 0
        self._chord_updates: dict[int, tuple | None] = {}  # case -> its update for the chord (:meth:`_chord_update`)
        self._chord_bytes = 0

    def _case_solver(self, keep: bool):
        """How a large grid's N-1 cases are solved (without the load): the base case by Newton,
        each outage by the chord method on the base case's factorised Jacobian corrected for the
        outage (:meth:`ACGrid.solve_chord` with its Woodbury update, as the searches' outage
        solves: :meth:`_chord_update`) from the base case's state — Newton where that does not
        converge, or where the cases keep their Jacobians (`keep`). The same equations and
        convergence test as Newton's (a 1e-9 pu mismatch): the European grid's 5,653 cases in
        10.8 s against 24.4 s by Newton (which factorises at every step; two workers), the states
        within 2.5e-10 pu and rad of Newton's, the loadings within 1e-7 %; median 4 steps."""
        g = self.grid
        base = g.solve(keep_jacobian=True)
        if not base.converged or keep or not CASES_BY_CHORD:
            return lambda o: base if o is None and not keep else g.solve(outage=o, keep_jacobian=keep)
        v0, lu0 = self._upd_base = _factorised(base)  # (what the searches' outage updates correct: the same state)
        base = dataclasses.replace(base, jacobian=None)

        def solve(outage: int | None) -> ACResult:
            if outage is None:
                return base
            up = woodbury_updates(lu0, [g.jacobian_change(outage, v0)])[0]
            res = None if up is None else g.solve_chord(outage, lu0, v0, base.slack_mw, update=up)
            return g.solve(outage=outage) if res is None else res

        return solve

    def pre_with_jacobian(self, case: Case) -> ACResult:
        """The case's solved state with its Jacobian (rebuilt from the state where the cases
        are too many to keep theirs: :data:`JACOBIAN_CACHE_BYTES`)."""
        pre = case.pre
        if pre.jacobian is None:
            g = self.grid
            pre = dataclasses.replace(pre, jacobian=g._jacobian(g._ybus(case.outage), pre.vm_pu * np.exp(1j * pre.va_rad)))
        return pre

    def factorised(self, case: Case):
        """The case's Jacobian factorised (:class:`._kernels.SparseLU`; kept while the cache holds under
        :data:`LU_CACHE_BYTES`), or None where the grid's Jacobians are dense (a small grid: its
        sensitivities come from one batched LAPACK call)."""
        lu = self._lus.get(case.outage)
        if lu is not None:
            return lu
        jac = self.pre_with_jacobian(case).jacobian
        if isinstance(jac, np.ndarray):
            return None
        lu = SparseLU(jac)
        size = lu.nbytes
        if self._lu_bytes + size <= LU_CACHE_BYTES:
            self._lus[case.outage] = lu
            self._lu_bytes += size
        return lu

    def wants_compact(self, p_max: float) -> bool:
        """Whether a screen with a ceiling `p_max` is compact: where one bus's dense screen takes
        more than :data:`COMPACT_ABOVE_BYTES`. (Not where only all of them together exceed
        :data:`SCREEN_BYTES`: on case1354pegase, whose every outage a 3,000 MW ceiling could
        bring near a limit, the compact screen of all its buses kept nearly every pair and grew
        past 16 GB; dense, it is screened in blocks, each factorising every case's Jacobian.)"""
        return math.isfinite(p_max) and self._bytes_per_bus() > COMPACT_ABOVE_BYTES

    def screen_block(self, p_max: float = math.inf) -> int:
        """How many buses one screen holds within :data:`SCREEN_BYTES` (a compact screen: the
        sensitivities of one case for all of them at a time, four times)."""
        g = self.grid
        if self.wants_compact(p_max):
            return max(1, int(SCREEN_BYTES // (4 * 8 * (g.m + 2 * g.n))))
        return max(1, int(SCREEN_BYTES // self._bytes_per_bus()))

    @contextmanager
    def attributed(self, bus: int, pf_tan: float):
        """Within the block, ``cases`` are those of a load at internal bus `bus`: an overload
        that exists without the load is held against it (at most ``worsen_pp`` more), and a branch
        at its limit is held to it, only where the load moves at least :data:`ATTRIBUTION_SHARE`
        of its MW over that branch (elsewhere: :func:`attributed_limit`) — the 5 %
        threshold TSOs use to decide which critical branches a transfer affects (flow-based
        market coupling, ACER decision 02/2019 on the Core capacity calculation). A load far
        away that shifts a fraction of a percent onto an overload the grid had anyway is not
        refused for it.

        "Exists without the load" means over the branch's rating (:data:`RATED_LOADING_PCT`),
        not over ``max_loading_pct``: so the hosting capacity never falls when the limit is
        loosened. It can fall when a *rating* is raised past such an overload — the branch is
        then no longer overloaded before the load and the load is held to its limit like any
        other's. On a grid with no overload before the load (secured: :meth:`GridModel.from_layers`,
        unless an overload no remedial action clears remains) it never falls when a rating rises.

        The relaxed cases' limits are rows of one work array holding the last bus entered
        (:meth:`_apply`): read ``cases`` within the block, or before another bus's block."""
        if not len(self._with_existing):
            yield
            return
        key = (int(bus), round(float(pf_tan), 9))
        got = self._attrib.get(key)
        if got is None:
            while len(self._attrib) >= _ATTRIB_KEEP:  # the oldest, not the one the work array holds
                self._attrib.pop(next(k for k in self._attrib if k != self._work_key))
            got = self._attrib[key] = self._cases_for(int(bus), pf_tan)
        saved, before = self.cases, self._work_key
        self._apply(key)
        self.cases = got[0]
        try:
            yield
        finally:
            self.cases = saved
            if saved is not self._plain and before is not None and before != key:
                self._apply(before)  # (an enclosing block's cases read the work array's rows)

    def _attribution_pairs(self) -> tuple[np.ndarray, ...]:
        """The (case, branch) pairs attribution may relax (an overload without the load, or a
        branch at its limit: :attr:`_existing`), case by case, with what does not depend on the
        bus: each one's rating [MVA] at its case's voltage, its loading without the load and its
        limit — a few per case (case1354pegase: 81,617 of 2.8 M), so a bus's attribution reads
        those, not every case's every branch."""
        pc, pe = np.nonzero(np.stack(self._existing))  # (the base case is always there)
        #: where each case's pairs start (case by case, branches ascending), C + 1
        self._pair_ptr = np.searchsorted(pc, np.arange(len(self.cases) + 1))
        rating, pre, lim = (np.empty(len(pc)) for _ in range(3))
        for ci in self._with_existing:
            c, s = self.cases[ci], slice(self._pair_ptr[ci], self._pair_ptr[ci + 1])
            rating[s] = (self._rating_mva(c) * self._alive(c))[pe[s]]
            pre[s] = c.pre.loading_pct[pe[s]]
            lim[s] = c.max_loading[pe[s]]
        return pc, pe, rating, pre, lim

    def _cases_for(self, bus: int, pf_tan: float) -> tuple[list[Case], np.ndarray, np.ndarray]:
        """The cases with the limits of a load at `bus` (:meth:`attributed`), and the pairs
        (:meth:`_attribution_pairs`) where the load moves under :data:`ATTRIBUTION_SHARE` of its
        MW (their indices and limits): :func:`attributed_limit` on those pairs alone. The cases are
        one list for every bus, built once: a case with pairs is a :class:`Case` whose limits are
        its row of the work array (:meth:`_apply`: the plain limits where the bus relaxes none),
        the others the plain list's. (Every case's every branch, C × m a bus, took 7.8 ms a bus
        on case1354pegase; the pairs, ~1 ms; a list of its own a bus, 15 ms on the European
        grid.)"""
        pc, pe, rating, pre, lim = self._pairs
        small, vals = attributed_pairs(self._pair_dl(bus, pf_tan), rating, pre, lim, self.limits.worsen_pp)
        if self._work is None:
            with self._plain_cases():
                self._work = self._limit_stack()[0].copy()
            self._work_cases = list(self._plain)
            for ci in np.unique(pc).tolist():
                c = self._plain[ci]
                self._work_cases[ci] = Case(c.outage, c.pre, self._work[ci], c.vm_low, c.vm_high)
        return self._work_cases, small, vals

    def _apply(self, key: tuple[int, float]) -> None:
        """Write the attributed limits of `key` into the work array (the previous key's pairs
        back to their plain limits first)."""
        if self._work_key == key:
            return
        lim = self._pairs[4]
        flat, work = self._pair_flat(), self._work.reshape(-1)  # (one index a pair: 2x the speed of two)
        _, idx, vals = self._attrib[key]
        if self._work_key in self._attrib:
            # only the pairs that change: a pair's relaxed limit does not depend on the bus
            # (attributed_pairs), and most pairs are relaxed at most buses (2 ms a bus, all
            # rewritten, on the European grid)
            old = self._attrib[self._work_key][1]
            was, now = np.zeros(len(lim), dtype=bool), np.zeros(len(lim), dtype=bool)
            was[old], now[idx] = True, True
            back = old[~now[old]]
            work[flat[back]] = lim[back]
            idx, vals = idx[~was[idx]], vals[~was[idx]]
        elif self._work_key is not None:  # (its pairs dropped: every pair back)
            work[flat] = lim
        work[flat[idx]] = vals
        self._work_key = key

    def _pair_flat(self) -> np.ndarray:
        """The attribution pairs' indices in the flattened work array."""
        got = self.__dict__.get("_pair_flat_idx")
        if got is None:
            got = self._pair_flat_idx = self._pairs[0] * self.grid.m + self._pairs[1]
        return got

    def _pair_dl(self, bus: int, pf_tan: float) -> np.ndarray:
        """The first-order loading change [pp/MW] of a load at `bus` at each attribution pair:
        from the screen where the bus was screened, else from each case's Jacobian."""
        pc, pe = self._pairs[:2]
        col = getattr(self, "_screened", {}).get(bus)
        if col is not None and getattr(self, "_dcd", None) is not None:
            return self._pair_dl_dc(col, bus, pf_tan)
        if col is not None and self._base_only():
            return self._existing_dl[:, col]
        dense = getattr(self, "_dl", None)
        if col is not None and dense is not None and dense.shape[1] == len(self.cases):
            return dense[col][pc, pe]
        out = np.empty(len(pc))
        for ci in self._with_existing:
            s = slice(self._pair_ptr[ci], self._pair_ptr[ci + 1])
            out[s] = self._ac_sensitivity(self.cases[ci], np.array([bus]), pf_tan)[0][pe[s], 0]
        return out

    # ------------------------------------------------------------------- evaluation

    def evaluate(self, ci: int, bus: int, p_mw: float, q_mvar: float, fallback: bool = True) -> CaseResult:
        """AC-solve case `ci` with the added load and compare with its limits. Newton starts from
        the case's voltages moved to first order by the load where the bus was screened (one or
        two iterations fewer than from the case itself at a large load; the case's own state is
        the retry), else from the case's own; `fallback`: see :meth:`solve_cases`."""
        res = self.solve_cases([ci], bus, p_mw, q_mvar, fallback=fallback)[0]
        return self.judge(self.cases[ci], res)

    def first_violated(self, case_ids: list[int], bus: int, p_mw: float, q_mvar: float,
                       fallback: bool = True, known: dict[int, float] | None = None) -> tuple[int, CaseResult | None, int]:
        """:meth:`evaluate` of the cases `case_ids` in order until one is violated, solved in
        batches (:meth:`ACGrid.solve_many`) of 4, 8, 16, … cases (a violation found early wastes
        few solves; none found costs few batches): the first violated case and its evaluation,
        or (-1, None), and the cases solved. `known`: per case, the largest load found feasible
        so far (updated here) — a case feasible at that load or more is not solved again (a
        case's feasible loads are taken to be an interval from 0)."""
        if known is not None:
            case_ids = [c for c in case_ids if known.get(c, -1.0) < p_mw]
        done, size = 0, 4
        while done < len(case_ids):
            batch = case_ids[done:done + size]
            results = self.solve_cases(batch, bus, p_mw, q_mvar, fallback=fallback)
            done += len(batch)
            ok = self.feasible(batch, results)
            if known is not None:
                for c in np.asarray(batch)[ok]:
                    known[int(c)] = max(known.get(int(c), -1.0), p_mw)
            bad = np.flatnonzero(~ok)
            if len(bad):
                i = int(bad[0])
                return batch[i], self.judge(self.cases[batch[i]], results[i]), done
            size *= 2
        return -1, None, done

    def solve_cases(self, case_ids: list[int], bus: int, p_mw: float, q_mvar: float,
                    keep_jacobian: bool = False, fallback: bool = True) -> list[ACResult]:
        """AC results of the cases `case_ids` with the load added at `bus`, solved together
        (:meth:`ACGrid.solve_many`) from :meth:`starts_at`, the cases' own states the retry;
        `fallback=False`: a case the compiled Newton fails from both is not converged, without
        the numpy Newton (see :data:`SEARCH_FALLBACK`). A case whose Jacobian is kept factorised
        (a large grid's, after its screen) is first solved by the chord method on it
        (:meth:`ACGrid.solve_chord`: the same solution, a third to a half of the time); Newton
        where that does not converge. A DC-driven grid's outages (no factors of their own) are
        solved by the chord method on the base case's factors corrected for the outage
        (:meth:`_chord_update`, DC_CHORD), then by the compiled Newton's chord steps
        (``solve_many(chord=True)``) where that does not converge."""
        starts, own = self.starts_at(case_ids, bus, p_mw)
        out: list[ACResult | None] = [None] * len(case_ids)
        if not keep_jacobian and self._lus:
            for i, ci in enumerate(case_ids):
                case = self.cases[ci]
                lu = self._lus.get(case.outage)
                if lu is not None:
                    out[i] = self.grid.solve_chord(case.outage, lu, starts[i], case.pre.slack_mw, bus=bus, p_mw=p_mw,
                                                   q_mvar=q_mvar)
        if not keep_jacobian and DC_CHORD and getattr(self, "_dcd", None) is not None:
            lu0 = self._update_base()[1]
            for i, ci in enumerate(case_ids):
                case = self.cases[ci]
                if out[i] is None and case.outage is not None:
                    up = self._chord_update(ci)
                    if up is not None:
                        out[i] = self.grid.solve_chord(case.outage, lu0, starts[i], case.pre.slack_mw, bus=bus,
                                                       p_mw=p_mw, q_mvar=q_mvar, update=up)
        rest = [i for i, r in enumerate(out) if r is None]
        if rest:
            solved = self.grid.solve_many([self.cases[case_ids[i]].outage for i in rest], bus=bus, p_mw=p_mw,
                                          q_mvar=q_mvar, starts=starts[rest], retry=None if own is None else own[rest],
                                          keep_jacobian=keep_jacobian, fallback=fallback,
                                          chord=getattr(self, "_dcd", None) is not None)
            for i, r in zip(rest, solved):
                out[i] = r
        return out

    def starts_at(self, case_ids: list[int], bus: int, p_mw: float) -> tuple[np.ndarray, np.ndarray | None]:
        """Newton starts of the cases with `p_mw` added at `bus` (C × n complex): their voltages
        moved to first order by the load where the bus was screened, else their own; and their
        own as the retry (None where the starts are their own)."""
        col = getattr(self, "_screened", {}).get(int(bus))
        if col is None:
            pre = [self.cases[ci].pre for ci in case_ids]
            return np.stack([p.vm_pu * np.exp(1j * p.va_rad) for p in pre]), None
        if self._base_only():  # each case's own state moved as the base case's
            vm = np.stack([self.cases[ci].pre.vm_pu for ci in case_ids])
            va = np.stack([self.cases[ci].pre.va_rad for ci in case_ids])
            dv, da = self._base_sens[1][:, col], self._base_sens[2][:, col]
        else:
            vm, va = self._vm0[case_ids], self._va0[case_ids]
            dv, da = self._dv[col, case_ids], self._da[col, case_ids]
        own = vm * np.exp(1j * va)
        return (vm + dv * p_mw) * np.exp(1j * (va + da * p_mw)), own

    def judge(self, case: Case, res: ACResult) -> CaseResult:
        if not res.converged:
            return CaseResult(False, -math.inf, "convergence", -1, math.nan, math.nan)
        with np.errstate(invalid="ignore"):
            th = (case.max_loading - res.loading_pct) / 100.0
        th[np.isnan(th)] = np.inf
        lo = (res.vm_pu - case.vm_low) / 0.1
        hi = (case.vm_high - res.vm_pu) / 0.1
        k = int(th.argmin())
        margin, kind, value, limit = th[k], "thermal", res.loading_pct, case.max_loading
        for arr, lim in ((lo, case.vm_low), (hi, case.vm_high)):  # the first smallest margin wins
            j = int(arr.argmin())
            if arr[j] < margin:
                margin, kind, k, value, limit = arr[j], "voltage", j, res.vm_pu, lim
        feasible = margin >= 0
        return CaseResult(bool(feasible), float(margin), "" if feasible else kind, k, float(value[k]), float(limit[k]))

    def feasible(self, case_ids, results) -> np.ndarray:
        """Per case ``case_ids[i]`` with result ``results[i]``, whether :meth:`judge` finds it
        feasible (converged, no loading over its limit, no voltage out of its band): for all at
        once."""
        ok = np.array([r.converged for r in results], dtype=bool)
        idx = np.flatnonzero(ok)
        if not len(idx):
            return ok
        rows = np.asarray(case_ids)[idx]
        max_loading, vm_low, vm_high = self._limit_stack()
        loading = np.stack([results[i].loading_pct for i in idx])
        vm = np.stack([results[i].vm_pu for i in idx])
        with np.errstate(invalid="ignore"):  # NaN (a branch out, no limit) compares False
            bad = (loading > max_loading[rows]).any(axis=1)
        bad |= (vm < vm_low[rows]).any(axis=1) | (vm > vm_high[rows]).any(axis=1)
        ok[idx] = ~bad
        return ok

    def _limit_stack(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The cases' loading limits (C × m) and voltage bands (C × n, low and high), stacked
        once per case list (:meth:`attributed` swaps the list): the plain list's, and of an
        attributed one the plain list's with its changed rows (its voltage bands are the plain
        ones); the plain list's and the current one's are kept."""
        cases = self.cases
        got = self._stacks.get(id(cases))
        if got is None or got[0] is not cases:
            attrib = next((a for a in self._attrib.values() if a[0] is cases), None)
            if attrib is not None and cases is not self._plain:
                with self._plain_cases():
                    plain = self._limit_stack()
                got = (cases, self._work, plain[1], plain[2])
            else:
                got = (cases, np.stack([c.max_loading for c in cases]), np.stack([c.vm_low for c in cases]),
                       np.stack([c.vm_high for c in cases]))
            self._stacks = {k: v for k, v in self._stacks.items() if v[0] is self._plain}
            self._stacks[id(cases)] = got
        return got[1:]

    @contextmanager
    def _plain_cases(self):
        saved, self.cases = self.cases, self._plain
        try:
            yield
        finally:
            self.cases = saved

    def violations(self, case: Case, res: ACResult) -> list[tuple[str, int, float, float]]:
        """Every violated constraint of an evaluated case: (kind, element, value, limit)."""
        if not res.converged:
            return [("convergence", -1, math.nan, math.nan)]
        out = []
        over = np.flatnonzero(np.nan_to_num(res.loading_pct, nan=-np.inf) > case.max_loading)
        out += [("thermal", int(k), float(res.loading_pct[k]), float(case.max_loading[k])) for k in over]
        for i in np.flatnonzero(res.vm_pu < case.vm_low):
            out.append(("voltage", int(i), float(res.vm_pu[i]), float(case.vm_low[i])))
        for i in np.flatnonzero(res.vm_pu > case.vm_high):
            out.append(("voltage", int(i), float(res.vm_pu[i]), float(case.vm_high[i])))
        return out

    # ----------------------------------------------------------------- linear screen

    def _prepare_dc(self) -> None:
        self.dc = DCSensitivity(self.grid)
        self._zeros_m = np.zeros(self.grid.m)  # (no outage factors; no per-branch departures)
        self._zeros_n = np.zeros(self.grid.n)
        self._guards = np.array([GUARD_PP, GUARD_PU, GUARD_REL, GUARD_ANGLE_RAD, GUARD_ANGLE_MOVE_RAD])
        self._constants: dict = {}  # outage -> (case, what the dense screen reads of it)

    def _bytes_per_bus(self) -> int:
        """Memory of the dense screen of one bus [B]."""
        return SENSITIVITY_DTYPE().itemsize * max(len(self.cases), 1) * (self.grid.m + 2 * self.grid.n + 1)

    def screen(self, buses: np.ndarray, pf_tan: float, p_max: float = math.inf,
               compact: bool | None = None) -> np.ndarray:
        """Screened limit [MW] per case × bus: the smaller of two linear estimates of the added
        load at which the case reaches a limit — DC (PTDF with the distributed slack, LODF per
        outage) for branch flows, and first-order AC (the case's Jacobian) for branch currents
        and voltages. Also keeps the AC sensitivities for :meth:`near_limit`: all of them, or
        with a finite ceiling `p_max` for the searched load and where `compact` (default:
        :meth:`wants_compact`), those that matter up to it
        (:class:`~siting.grid._compact.CompactScreen`)."""
        self._compact = None
        self._dcd = None
        if compact is None:
            compact = self.wants_compact(p_max)
        if compact and math.isfinite(p_max):
            return self._screen_dc(buses, pf_tan) if DC_DRIVEN else self._screen_compact(buses, pf_tan, p_max)
        g = self.grid
        dc = self.dc
        self._screened = {int(b): j for j, b in enumerate(buses)}
        ptdf_b = dc.ptdf(buses)  # m × B, reference-bus slack
        ptdf_b = ptdf_b - dc.flows(g.slack_w)[:, None]  # distributed slack
        out = np.full((len(self.cases), len(buses)), np.inf)
        c_n, b_n = len(self.cases), len(buses)
        #: per screened bus × case × branch or bus: first-order loading [pp/MW], voltage [pu/MW] and
        #: angle [rad/MW] change with the load (a bus's C × m block contiguous: near_limit reads it
        #: whole); the buffers of the first screen are reused by the next chunk (a fresh 1 GB took
        #: 1.8 s of page faults a chunk on case1354pegase)
        buf = getattr(self, "_buffers", None)
        if buf is None or buf[0].shape[0] < b_n or buf[0].shape[1] != c_n:
            self._dl = self._dv = self._da = None  # (freed before the new ones are taken)
            buf = self._buffers = tuple(np.empty((b_n, c_n, k), dtype=SENSITIVITY_DTYPE) for k in (g.m, g.n, g.n))
        self._dl, self._dv, self._da = (a[:b_n] for a in buf)
        # per case, what near_limit reads on every call: loadings without NaN, branch ends in service
        self._l0 = np.stack([np.nan_to_num(c.pre.loading_pct, nan=-np.inf) for c in self.cases])  # C × m
        self._vm0 = np.stack([c.pre.vm_pu for c in self.cases])  # C × n (the same under attribution)
        self._va0 = np.stack([c.pre.va_rad for c in self.cases])
        self._on = np.stack([self._alive(c) > 0 for c in self.cases])  # C × m: branch in service
        # per case, the widest angle across a branch in service without the load (near_limit
        # computes the angles with the load only for the cases this and the load's largest
        # angle change can take to GUARD_ANGLE_RAD)
        self._amax0 = np.where(self._on, np.abs(self._va0[:, g.f] - self._va0[:, g.t]), 0.0).max(axis=1, initial=0.0)
        # each case's Jacobian system solved for every bus, then one compiled pass over its
        # branches and buses per bus (:func:`._kernels.screen_case`: the numpy operations in order)
        rhs = self._screen_rhs(buses, pf_tan)
        ptdf_t = np.ascontiguousarray(ptdf_b.T)
        for ci, case in enumerate(self.cases):
            self._screen_case(case, rhs, ptdf_t, (self._dl, self._dv, self._da), ci, out[ci])
        return out

    def _screen_rhs(self, buses: np.ndarray, pf_tan: float) -> np.ndarray:
        """The Jacobian systems' right-hand sides for a load of 1 MW (and `pf_tan` Mvar) at each
        of `buses` (:func:`sensitivity_rhs`)."""
        g = self.grid
        p_inj = np.zeros((g.n, len(buses)))
        p_inj[buses, np.arange(len(buses))] = -1.0  # a load: -1 MW of injection
        return sensitivity_rhs(g, p_inj, pf_tan * p_inj, len(g.active) + len(g.pq))

    def _screen_case(self, case: Case, rhs: np.ndarray, ptdf_t: np.ndarray, out: tuple, slot: int,
                     row: np.ndarray) -> None:
        """`case`'s screen for the buses of `rhs` (:meth:`_screen_rhs`; `ptdf_t`: their DC flow
        changes, B × m): its Jacobian system solved for every bus, then one compiled pass over
        its branches and buses per bus (:func:`._kernels.screen_case`: the numpy operations in
        order), writing ``out[k][bus, slot]`` (loading, voltage and angle changes) and `row`."""
        g = self.grid
        lu = self.factorised(case)
        x = lu.solve_rows(rhs) if lu is not None else np.linalg.solve(self.pre_with_jacobian(case).jacobian, rhs).T
        coef, k_dc, p0, lim, l0 = self._screen_constants(case)
        if case.outage is None:
            lodf, keep, denom, island, k_out = self._zeros_m, 1.0, 1.0, True, -1
        else:
            (lodf, keep, denom, island), k_out = self.dc.outage_factors(case.outage), case.outage
        screen_case(slot, np.ascontiguousarray(x), g.nonref, g.pq, coef, g.f, g.t, l0, lim, case.pre.vm_pu,
                    case.vm_low, case.vm_high, ptdf_t, lodf, k_out, keep, denom, island, k_dc, p0, self._alive(case), *out, row)

    def _screen_constants(self, case: Case) -> tuple[np.ndarray, ...]:
        """What the dense screen reads of `case` besides its Jacobian: its loading's gradient
        (4 × m, :func:`loading_gradient`), the DC limit's active-power room and flow per branch
        (:meth:`_dc_room`), its loading limits (inf: none) and loadings without the load (-inf:
        out); kept per case while they fit in :data:`SCREEN_CONSTANTS_BYTES` (a screen in chunks
        reads them once a chunk)."""
        got = self._constants.get(case.outage)
        if got is not None and got[0] is case:
            return got[1]
        g = self.grid
        pre = case.pre
        v = (pre.vm_pu * np.exp(1j * pre.va_rad))[None, :]
        coef = np.ascontiguousarray(loading_gradient(g, v, self._alive(case)[None, :])[1][0])
        k_dc, p0 = self._dc_room(case)
        lim = np.where(np.isnan(case.max_loading), np.inf, case.max_loading)
        got = (coef, k_dc, p0, lim, np.nan_to_num(pre.loading_pct, nan=-np.inf))
        if (len(self._constants) + 1) * 8 * 8 * g.m <= SCREEN_CONSTANTS_BYTES:
            self._constants[case.outage] = (case, got)
        return got

    def case_bounds(self):
        """:class:`~siting.grid.dcscreen.CaseBounds` of these cases, built once."""
        got = self.__dict__.get("_case_bounds")
        if got is None:
            from .dcscreen import CaseBounds

            got = self._case_bounds = CaseBounds(self)
        return got

    def _pair_dl_dc(self, col: int, bus: int, pf_tan: float) -> np.ndarray:
        """:meth:`_pair_dl` of a DC-driven screen (column `col`): each pair's first-order AC
        loading change [pp/MW] in its case, from the base case's sensitivities updated for the
        case's outage (:meth:`_pair_update`: the base case's Jacobian with the outaged branch's
        part removed, a rank-≤4 correction by the Woodbury identity; the loading gradient at the
        case's own state). (The DC share read instead relaxed what the AC shares hold: IEEE 39
        bus 13, line 2 with line 31 out, carries 7.1 % of the load by its own Jacobian, 6.3 % so
        updated, 4.8 % in DC — 125.5 MW answered against 71.4; measured on IEEE 39 bus 13 and
        case145 bus 44, the 5 % rule decided as by each case's own Jacobian at every pair, by the
        DC shares not at 1 and 4.) Where that share lies within DC_SHARE_BAND of the 5 % (the
        update is at the base case's state, not the case's own: case145 bus 53, trafo 46 with
        trafo 3 out, 4.9 % so updated, 5.8 % by the case's own Jacobian), the case's own Jacobian
        decides where the outage carries DC_NEAR_STRONG of the load or more (the pair's weights
        solved by the case's transposed Jacobian once, for every bus: :meth:`_pair_adjoints`)."""
        rows, z, a_c, cols, grad, case_of = self._pair_update()
        g = self.grid
        n_a = len(g.nonref)
        x = np.zeros(n_a + len(g.pq) + 1)  # the base case's change per MW [rad, pu]; a zero at the end (padding)
        x[:n_a] = self._base_sens[2][g.nonref, col]
        x[n_a:n_a + len(g.pq)] = self._base_sens[1][g.pq, col]
        dl = np.empty(len(rows))
        pair_changes(x, rows, z, a_c, cols, grad, case_of, dl)
        pc, pe, rating = self._pairs[:3]
        share = np.abs(dl) * rating / 100.0
        scr = self.dc_screen()
        load = self._dc_load[:, col]
        near_out = ~scr.plain & (np.abs(load[np.maximum(scr.k_out, 0)]) >= DC_NEAR_STRONG)  # per case
        # (a far outage leaves the share as the base case's, which the update has exactly: a branch
        # at 5 % in every case put all 5,600 European cases here at two buses, ~55 s each)
        unsure = np.flatnonzero((np.abs(share / ATTRIBUTION_SHARE - 1.0) <= DC_SHARE_BAND) & near_out[pc])
        if len(unsure):
            y = self._pair_adjoints(unsure, bus)  # (k × 2: per pair, its share's weights at the bus's P and Q rows)
            dl[unsure] = -(y[:, 0] + pf_tan * y[:, 1]) / g.base_mva
        self._pair_last = ((int(bus), round(float(pf_tan), 9)), self._dc_load, dl)  # (:meth:`_near_pairs`)
        return dl

    def _pair_adjoints(self, pairs: np.ndarray, bus: int | None = None) -> np.ndarray:
        """For :meth:`_pair_dl_dc`: per attribution pair (indices `pairs`), ``y = J⁻ᵀ g`` — its
        case's own Jacobian J (at the case's state) transposed, solved for the pair's loading
        gradient g — at the rows of every bus's active and reactive balance (k × 2 × n; zero
        where a bus has no such row). A load at bus b (its right-hand side: 1 and tan φ per
        base MVA at b's rows) then changes the pair's loading by ``−(y[0, b] + tan φ y[1, b]) /
        base MVA`` per MW: each case's own first-order answer for every bus from one solve a
        pair. Kept while PAIR_ADJOINT_BYTES holds (a pair is unsure at many buses near its case:
        the European grid's 4,659 buses, every fourth sampled, asked 35,565 case Jacobians for
        8,497 distinct pairs of 2,329 cases; a factorised Jacobian is 2.7 MB, a pair's weights
        in single precision 37 kB). `bus`: the weights at that internal bus alone (k × 2)."""
        import scipy.sparse as sp
        from scipy.sparse.linalg import splu

        g = self.grid
        cache = self._adjoints
        fresh: dict[int, np.ndarray] = {}
        todo = np.array([q for q in pairs.tolist() if q not in cache], dtype=np.int64)
        if len(todo):
            rows, _, _, _, grad, _ = self._pair_update()
            pc = self._pairs[0]
            n_p, pad = len(g.active), len(g.nonref) + len(g.pq)
            p_row = np.full(g.n, -1)
            p_row[g.active] = np.arange(n_p)
            q_row = np.full(g.n, -1)
            q_row[g.pq] = n_p + np.arange(len(g.pq))
            cases, ats, jacs, gms = np.unique(pc[todo]).tolist(), [], [], []
            for ci in cases:
                at = todo[pc[todo] == ci]
                jac = self.pre_with_jacobian(self.cases[ci]).jacobian
                gm = np.zeros((jac.shape[0] + 1, len(at)))  # (the padding row `pad`, then dropped)
                np.add.at(gm, (rows[at].ravel(), np.repeat(np.arange(len(at)), 4)), grad[at].ravel())
                ats.append(at)
                jacs.append(jac)
                gms.append(np.delete(gm, pad, axis=0))
            if isinstance(jacs[0], np.ndarray):  # a small grid: LAPACK
                ys = [np.linalg.solve(jac.T, gm) for jac, gm in zip(jacs, gms)]
            else:  # (in batches of cases: bounded memory)
                ys = [y for at in range(0, len(cases), ADJOINT_BATCH) for y in self._transposed_solves(
                    [self.cases[ci].outage for ci in cases[at:at + ADJOINT_BATCH]], jacs[at:at + ADJOINT_BATCH],
                    gms[at:at + ADJOINT_BATCH])]
            for at, y in zip(ats, ys):
                y = np.vstack([y, np.zeros((1, len(at)))])  # (row −1: a bus without that row)
                got = np.stack([y[p_row].T, y[q_row].T], axis=1).astype(np.float32)
                for q, w in zip(at.tolist(), got):
                    if self._adjoint_bytes + w.nbytes <= PAIR_ADJOINT_BYTES:
                        cache[q] = w
                        self._adjoint_bytes += w.nbytes
                    fresh[q] = w
        got = [fresh[q] if q in fresh else cache[q] for q in pairs.tolist()]
        if bus is not None:  # (not every bus's weights stacked to read one: 2 × 4,659 a pair on the European grid)
            return np.array([w[:, bus] for w in got], dtype=float).reshape(len(got), 2)
        return np.stack(got).astype(float)

    def _transposed_solves(self, outages: list, jacs: list, rhs: list) -> list[np.ndarray]:
        """``J_c⁻ᵀ G_c`` for each case's sparse Jacobian J_c (at its own state) and right-hand
        sides G_c (n × k_c), all together: preconditioned Richardson steps ``Y += M⁻ᵀ (G − J_cᵀ
        Y)`` with M the base case's Jacobian plus the outage's own change at the base case's
        state (:meth:`ACGrid.jacobian_change`; the base factors transposed, a rank-≤4 Woodbury
        correction), every case's steps through one multi-right-hand-side solve, until each
        residual is below ADJOINT_RTOL of its right-hand side; a case still above it after
        ADJOINT_STEPS steps is factorised itself. (The European grid, 470 cases of two buses:
        2–9 steps, median 4, to 1e-10; 4.0 ms a case one at a time against 8.8 ms for its own
        factorisation, which the outlier buses asked for ~240 at once.)"""
        import scipy.sparse as sp
        from scipy.sparse.linalg import splu

        g = self.grid
        lu0t = self.__dict__.get("_adj_base")  # (the base case's Jacobian transposed, factorised)
        if lu0t is None:
            lu0t = self._adj_base = SparseLU(sp.csc_matrix(self.pre_with_jacobian(self.cases[0]).jacobian).T.tocsc())
        v0 = self._update_base()[0]
        # per case, the transposed outage change (rows c, columns r, block Dᵀ): W = J₀⁻ᵀ E_c and its A
        changes = [g.jacobian_change(o, v0) for o in outages]
        pre = woodbury_updates(lu0t, [None if ch is None else (ch[1], ch[0], ch[2].T) for ch in changes])

        def precondition(b: np.ndarray, which: list[int]) -> np.ndarray:
            u = lu0t.solve(np.concatenate([b[i] for i in which], axis=1), blocked=True)
            out, at = [], 0
            for i in which:
                ui = u[:, at:at + b[i].shape[1]]
                at += b[i].shape[1]
                if pre[i] is not None:
                    w, a, r = pre[i]
                    ui = ui - w @ (a @ ui[r])
                out.append(ui)
            return out

        jts = [sp.csc_matrix(j).T for j in jacs]

        def residual(i: int) -> np.ndarray:  # G − J_cᵀ Y of case i
            return rhs[i] - jts[i] @ ys[i]

        k = len(jacs)
        ys = [np.ascontiguousarray(y) for y in precondition(rhs, list(range(k)))]
        norm = [np.maximum(np.linalg.norm(b, axis=0), 1e-300) for b in rhs]
        todo = list(range(k))
        for _ in range(ADJOINT_STEPS):
            res = {i: residual(i) for i in todo}
            todo = [i for i in todo if np.max(np.linalg.norm(res[i], axis=0) / norm[i]) > ADJOINT_RTOL]
            if not todo:
                break
            for i, dy in zip(todo, precondition(res, todo)):
                ys[i] = np.ascontiguousarray(ys[i] + dy)
        else:
            todo = [i for i in todo if np.max(np.linalg.norm(residual(i), axis=0) / norm[i]) > ADJOINT_RTOL]
        for i in todo:  # (not converged: the case's own factors)
            ys[i] = splu(sp.csc_matrix(jacs[i])).solve(rhs[i], trans="T")
        return ys

    def _outage_update(self, ci: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Case `ci`'s first-order sensitivities from the base case's, by the Woodbury identity:
        ``(J₀ + ΔJ)⁻¹ = J₀⁻¹ − Z (I + ΔJ_r Z)⁻¹ ΔJ_r J₀⁻¹`` with ΔJ the change the outage makes
        to the base case's Jacobian J₀ at the base case's state (nonzero on rows r, ≤ 4 for a
        branch: :meth:`ACGrid.jacobian_change`) and Z = J₀⁻¹ E_r. Returns Z (the angle and
        magnitude rows, pad × |r|), A = (I + ΔJ_r Z)⁻¹ ΔJ_r on the columns c it touches, and c
        — so that a change x of the base case becomes ``x − Z (A x[c])`` in the case — or None
        where the outage changes nothing."""
        return self._outage_updates([ci])[0]

    def _update_base(self) -> tuple[np.ndarray, SparseLU]:
        """The base case's voltages and its Jacobian there, factorised: what the outage updates
        (:meth:`_outage_update`, :meth:`_chord_update`) correct."""
        got = self.__dict__.get("_upd_base")
        if got is None:
            got = self._upd_base = _factorised(self.pre_with_jacobian(self.cases[0]))
        return got

    def _chord_update(self, ci: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Case `ci`'s :meth:`_outage_update` over every row of the Jacobian (the distributed
        slack's too), for :meth:`ACGrid.solve_chord` on the base case's factors; kept while
        CHORD_UPDATE_BYTES holds (a search solves the same outage at several loads)."""
        kept = self._chord_updates
        if ci in kept:
            return kept[ci]
        v0, lu0 = self._update_base()
        up = woodbury_updates(lu0, [self.grid.jacobian_change(self.cases[ci].outage, v0)])[0]
        size = 0 if up is None else up[0].nbytes
        if self._chord_bytes + size <= CHORD_UPDATE_BYTES:
            kept[ci] = up
            self._chord_bytes += size
        return up

    def _outage_updates(self, cis: list[int]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
        """:meth:`_outage_update` of the cases `cis`, their Z solved together
        (:func:`woodbury_updates`)."""
        g = self.grid
        v0, lu0 = self._update_base()
        pad = len(g.nonref) + len(g.pq)  # (the distributed slack's variable, if any, is not needed)
        return woodbury_updates(lu0, [g.jacobian_change(self.cases[ci].outage, v0) for ci in cis], pad)

    def _pair_update(self) -> tuple[np.ndarray, ...]:
        """For :meth:`_pair_dl_dc`, built once: per attribution pair the rows of its branch's end
        angles and magnitudes among the Jacobian's variables (θ of the non-reference buses, |V|
        of the PQ buses; the padding index where a bus has none) and those rows of Z = J₀⁻¹E
        (E: the rows the outage changes in the base case's Jacobian at its own state, J₀), its
        case's (I + ΔJ Z)⁻¹ ΔJ on the columns ΔJ touches, and the loading gradient of the pair's
        branch at its case's own state (:func:`loading_gradient`; pp per rad and pu at the
        from end, then the to end)."""
        got = self.__dict__.get("_pair_upd")
        if got is not None:
            return got
        g = self.grid
        n_a, n_pq = len(g.nonref), len(g.pq)
        pad = n_a + n_pq
        theta_row = np.full(g.n, pad)
        theta_row[g.nonref] = np.arange(n_a)
        vm_row = np.full(g.n, pad)
        vm_row[g.pq] = n_a + np.arange(n_pq)
        pc, pe = self._pairs[:2]
        cases = np.unique(pc)
        slot = np.full(len(self.cases), -1)
        slot[cases] = np.arange(len(cases))
        f, t = g.f[pe], g.t[pe]
        rows = np.stack([theta_row[f], vm_row[f], theta_row[t], vm_row[t]], axis=1)
        a_c = np.zeros((len(cases), 4, 4))  # (a branch's outage changes ≤ 4 rows and columns: its ends' P, Q; θ, |V|)
        cols = np.full((len(cases), 4), pad)
        z_pairs = np.zeros((len(pc), 4, 4))
        grad = np.zeros((len(pc), 4))
        updates: list = []
        for i, ci in enumerate(cases.tolist()):
            sel = np.flatnonzero(pc == ci)
            case = self.cases[ci]
            v = case.pre.vm_pu * np.exp(1j * case.pre.va_rad)
            grad[sel] = np.nan_to_num(loading_gradient(g, v[None], self._alive(case)[None])[1][0][:, pe[sel]].T)
            if i % ADJOINT_BATCH == 0:  # (a batch's updates at a time: ~250 kB a case on the European grid)
                updates = self._outage_updates(cases[i:i + ADJOINT_BATCH].tolist())
            up = updates[i % ADJOINT_BATCH]
            if up is not None:
                z, a, c = up
                if a.shape[0] > a_c.shape[1] or len(c) > a_c.shape[2]:  # (not a plain branch's: grown)
                    r, k = max(a.shape[0], a_c.shape[1]), max(len(c), a_c.shape[2])
                    a_c = np.pad(a_c, ((0, 0), (0, r - a_c.shape[1]), (0, k - a_c.shape[2])))
                    cols = np.pad(cols, ((0, 0), (0, k - cols.shape[1])), constant_values=pad)
                    z_pairs = np.pad(z_pairs, ((0, 0), (0, 0), (0, r - z_pairs.shape[2])))
                a_c[i, :a.shape[0], :len(c)] = a
                cols[i, :len(c)] = c
                zz = np.vstack([z, np.zeros((1, z.shape[1]))])  # (the padding row)
                z_pairs[sel, :, :z.shape[1]] = zz[rows[sel]]
        got = self._pair_upd = (rows, z_pairs, a_c, cols, grad, slot[pc])
        return got

    def _base_only(self) -> bool:
        """Whether the screen kept the base case's AC sensitivities alone (compact or DC-driven:
        a large grid), not every case's."""
        return getattr(self, "_compact", None) is not None or getattr(self, "_dcd", None) is not None

    def _screen_dc(self, buses: np.ndarray, pf_tan: float) -> np.ndarray:
        """:meth:`screen` of a large grid without a Jacobian per case: per case and bus the load
        at which a branch reaches its limit in DC (:func:`~siting.grid.dcscreen.case_limits`,
        the rooms and factors of the DC screen) or a voltage its band, the base case's
        first-order AC change applied to the case's voltages
        (:func:`~siting.grid.dcscreen.voltage_limits`); the base case's AC sensitivities (the
        starts and the linearisation error) and the attribution pairs' DC shares of the load."""
        from .dcscreen import case_limits, voltage_limits

        g = self.grid
        scr, cb = self.dc_screen(), self.case_bounds()
        buses = np.asarray(buses)
        self._screened = {int(b): j for j, b in enumerate(buses)}
        self._dl = self._dv = self._da = self._buffers = None
        load = np.ascontiguousarray(self.dc.flows(g.slack_w)[:, None] - self.dc.ptdf(buses), dtype=np.float32)
        h = np.empty((len(self.cases), len(buses)), dtype=np.float32)
        case_limits(load, np.float32(np.inf), scr.up, scr.down, scr.lodf, scr.k_out, scr.keep, scr.denom, scr.plain,
                    scr.pair_ptr, scr.pair_branch, scr.pair_up, scr.pair_down, np.float32(ATTRIBUTION_SHARE), h,
                    np.empty(h.shape, dtype=np.int64))
        self._base_sens = self._ac_sensitivity(self.cases[0], buses, pf_tan)
        out = h.astype(float)
        voltage_limits(np.ascontiguousarray(self._base_sens[1]), cb.lo_room, cb.hi_room, out)
        self._dcd = out
        self._dc_load = load
        return out

    def _screen_compact(self, buses: np.ndarray, pf_tan: float, p_max: float) -> np.ndarray:
        """:meth:`screen` keeping only what matters up to `p_max` (see :mod:`siting.grid._compact`)."""
        g = self.grid
        dc = self.dc
        self._screened = {int(b): j for j, b in enumerate(buses)}
        ptdf_b = dc.ptdf(buses) - dc.flows(g.slack_w)[:, None]
        out = np.full((len(self.cases), len(buses)), np.inf)
        comp = CompactScreen(len(buses), p_max, (GUARD_PP, GUARD_PU, GUARD_REL, GUARD_ANGLE_RAD))
        self._dl = self._dv = self._da = self._buffers = None
        rhs = self._screen_rhs(buses, pf_tan)
        ptdf_t = np.ascontiguousarray(ptdf_b.T)
        bufs: list = []  # one case's sensitivities for every bus, reused case after case (in each process)
        base = [np.empty((len(buses), 1, k)) for k in (g.m, g.n, g.n)]  # the base case's, first (pieces read them)
        self._screen_case(self.cases[0], rhs, ptdf_t, base, 0, np.empty(len(buses)))
        base = (base[0][:, 0].T, base[1][:, 0].T)

        def one(ci: int):
            """Case `ci`: screened limits, the kept pairs, the loading change where attribution may
            relax, and (base case) its sensitivities."""
            case = self.cases[ci]
            if not bufs:
                bufs.extend(np.empty((len(buses), 1, k)) for k in (g.m, g.n, g.n))
            row = np.empty(len(buses))
            self._screen_case(case, rhs, ptdf_t, bufs, 0, row)
            dl, dv, da = (np.array(b[:, 0].T) if ci == 0 else b[:, 0].T for b in bufs)
            l0 = np.nan_to_num(case.pre.loading_pct, nan=-np.inf)  # (as _screen_constants)
            kept = comp.pieces(ci, case, l0, self._alive(case) > 0, dl, dv, da, g.f, g.t, base)
            return row, kept, np.flatnonzero(l0 == -np.inf), dl[self._existing[ci]], (dl, dv, da) if ci == 0 else None

        self._existing_dl = []  # per case: the loading change at the branches attribution may relax
        for ci, (row, kept, gone, existing, base) in enumerate(map_items(one, len(self.cases), desc="screen")):
            out[ci] = row
            comp.add(kept, gone)
            self._existing_dl.append(existing)
            if base is not None:
                self._base_sens = base
        # in the order of the attribution pairs (:meth:`_attribution_pairs`: case by case)
        self._existing_dl = np.concatenate(self._existing_dl, axis=0) if self._existing_dl else np.zeros((0, len(buses)))
        comp.finish(len(self.cases), g.m, g.n)
        self._compact = comp
        return out

    def _alive(self, case: Case) -> np.ndarray:
        return self.grid.alive(case.outage)

    def _rating_mva(self, case: Case) -> np.ndarray:
        """Per branch, its rating [MVA] at `case`'s from-end voltage, all circuits in service."""
        g = self.grid
        return _SQRT3 * g.base_kv[g.f] * case.pre.vm_pu[g.f] * g.i_rated_f_ka

    def dc_screen(self):
        """The DC N-1 screen of these cases (:class:`~siting.grid.dcscreen.DCScreen`), built once."""
        got = self.__dict__.get("_dc_screen")
        if got is None:
            from .dcscreen import DCScreen

            got = self._dc_screen = DCScreen(self)
        return got

    def _dc_room(self, case: Case, limit: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Per branch of `case`: the active power [MW] at which it reaches its limit (`limit`
        [%], default the case's) with its reactive flow held, and its active flow [MW] without
        the load."""
        pre = case.pre
        rating_mva = self._rating_mva(case) * np.maximum(self._alive(case), 1e-12)
        p0 = np.nan_to_num(pre.p_from_mw)
        q0 = np.nan_to_num(pre.q_from_mvar)
        limit = case.max_loading if limit is None else limit
        lim = np.where(np.isnan(limit), np.inf, limit)
        return np.sqrt(np.maximum((lim * rating_mva / 100.0) ** 2 - q0**2, 0.0)), p0

    def _ac_sensitivity(self, case: Case, buses: np.ndarray, pf_tan: float) -> tuple[np.ndarray, ...]:
        """First-order change per MW of added load at each bus: branch loading [pp/MW] (m × B),
        bus voltage magnitude [pu/MW] (n × B) and bus voltage angle [rad/MW] (n × B), from the
        case's AC Jacobian."""
        g = self.grid
        p_inj = np.zeros((g.n, len(buses)))
        p_inj[buses, np.arange(len(buses))] = -1.0  # a load: -1 MW of injection
        lu = self.factorised(case)
        return ac_sensitivity(g, case.pre if lu is not None else self.pre_with_jacobian(case), self._alive(case),
                              p_inj, pf_tan * p_inj, lu=lu)

    def linear_error(self, bus: int, j: int, p_mw: float, q_mvar: float,
                     solved: ACResult | None = None) -> tuple[float, float, float]:
        """How far the first-order estimate of the base case is from AC at `p_mw`: the largest
        loading [pp] and voltage [pu] differences, and the voltage error per squared voltage
        change [1/pu] (the largest error over the largest change, squared) — measures of how
        nonlinear the grid's response to this load is, used to widen the guard bands of the
        other cases. `solved`: the base case already solved with that load (else solved here)."""
        base = self.cases[0]
        res = solved if solved is not None and solved.converged else self.grid.solve(
            bus=bus, p_mw=p_mw, q_mvar=q_mvar, v_init=base.pre.vm_pu * np.exp(1j * base.pre.va_rad))
        if not res.converged:
            return math.inf, math.inf, math.inf
        if not self._base_only():
            dl0, dv0, da0 = self._dl[j, 0], self._dv[j, 0], self._da[j, 0]
        else:
            dl0, dv0, da0 = (s[:, j] for s in self._base_sens)
        l_lin = np.nan_to_num(base.pre.loading_pct) + dl0 * p_mw
        dv = dv0 * p_mw
        err_v = np.abs(res.vm_pu - (base.pre.vm_pu + dv))
        err_pu = float(np.max(err_v))
        #: per branch and bus, the base case's departure from its first-order estimate (what a
        #: compact screen widens each element's band by, instead of the largest of them)
        err_l = np.nan_to_num(np.abs(res.loading_pct - l_lin))
        self._element_errors = (p_mw, err_l, err_v)
        self._base_ac = (p_mw, res)
        largest = float(np.max(np.abs(dv)))
        curvature = err_pu / largest**2 if largest > 1e-6 else 0.0
        return self._network_departure(res, dv, da0 * p_mw, err_l), err_pu, curvature

    def _network_departure(self, res: ACResult, dv: np.ndarray, da: np.ndarray, err_l: np.ndarray) -> float:
        """The largest loading departure [pp] of the base case's AC `res` from its first-order
        estimate that says something of the other cases: how far its loadings are from those of
        the voltages moved to first order (`dv`, `da`: the estimated change), at every branch
        — a branch current is linear in the voltages, so this is the grid's own nonlinearity —
        and, at the branches loaded at least :data:`DEPARTURE_MIN_LOADING_PCT` with or without
        the load, from the loading's own first-order estimate (`err_l`). Below that on both
        sides, the loading's estimate (the current's change projected on the current) departs
        as the current turns, however linear the grid: a branch at 0.07 % whose current a 15 MW
        load turns reaches 2.5 % where 0 % was estimated (case1354pegase bus 441), which widened
        every band of every case by 2.5 pp and put all 1,429 cases near; a case's own branch
        near its limit carries a current large against the change, where that departure is
        small. (A current the load reverses counts: IEEE 39 bus 10 at 656 MW takes a branch from
        67 % to 49 % where -44 % was estimated, and two outages take it over its limit.)"""
        g = self.grid
        base = self.cases[0]
        v_lin = (base.pre.vm_pu + dv) * np.exp(1j * (base.pre.va_rad + da))
        l_v = g._flows(v_lin, *g._end_scales(None), self._alive(base))[0]
        grid_err = np.nan_to_num(np.abs(res.loading_pct - l_v))
        loaded = np.fmax(np.nan_to_num(res.loading_pct), np.nan_to_num(base.pre.loading_pct)) >= DEPARTURE_MIN_LOADING_PCT
        return float(max(np.max(grid_err, initial=0.0), np.max(err_l[loaded], initial=0.0)))

    def near_limit(self, j: int, p_mw: float, err_pp: float = 0.0, err_pu: float = 0.0,
                   curvature: float = 0.0) -> np.ndarray:
        """Per case, whether it is, with `p_mw` added at screened bus column `j`, by first-order
        AC estimate near a limit: within ``GUARD_PP`` + ``GUARD_REL`` × the estimated change of a
        thermal limit, or ``GUARD_PU`` + ``GUARD_REL`` × the change of a voltage limit (the
        error of a linear estimate grows with the change it predicts), widened by the base
        case's observed errors `err_pp`, `err_pu` — for voltages by `curvature` × the change
        squared where that is more: an outage that weakens the load's bus bends its voltage more
        than the base case does (IEEE 39 bus 11 with trafo 4 out: estimated 0.927 pu, 0.8996 pu
        in AC, half the change off; the base case was 0.009 pu off) — or with an angle across a
        branch in service of at least ``GUARD_ANGLE_RAD`` (near the transfer limit, where a
        linear estimate of voltages fails: collapse comes before any voltage limit). All cases
        at once (C × m and C × n arrays).

        Where the base case's departures are at most :data:`REFINE_MAX_REL` of the largest
        change estimated (:meth:`_nearly_linear`; its per-element departures from
        :meth:`linear_error` at this load), each element's band is its own instead: the floor
        (``GUARD_PP``, ``GUARD_PU``) at most the element's estimated change, ``GUARD_REL`` × what
        the case's change differs from the base case's, and 1 + ``GUARD_REL`` × the base case's
        departure at that element (for voltages, or the curvature term); and an angle counts
        only where the load moves it by ``GUARD_ANGLE_MOVE_RAD``. A branch every case has at its
        limit that the load moves a little no longer puts every case near (case1354pegase bus
        507 at 3 MW: 1,422 cases confirmed in AC for one branch at 115 %, all feasible). Measured
        on 11 of pandapower's networks (868 buses) and the NL scenarios: the same answers to the
        last bit, with up to 4.7× fewer AC solves."""
        if getattr(self, "_dcd", None) is not None:
            return self._near_dc(j, p_mw)
        if getattr(self, "_compact", None) is not None:
            per = getattr(self, "_element_errors", None)
            per = per[1:] if per is not None and per[0] == p_mw and err_pp > 0 else None
            return self._compact.near(j, self.cases, p_mw, err_pp, err_pu, curvature, per, plain=self._plain,
                                      local=per is not None and self._nearly_linear(j, p_mw, err_pp, err_pu),
                                      angle_move=GUARD_ANGLE_MOVE_RAD * (1.0 - 1e-9))
        g = self.grid
        max_loading, vm_low, vm_high = self._limit_stack()
        per = getattr(self, "_element_errors", None)
        per_element = per is not None and per[0] == p_mw and self._nearly_linear(j, p_mw, err_pp, err_pu)
        if not per_element:
            per = (p_mw, self._zeros_m, self._zeros_n)
        near = np.empty(len(self.cases), dtype=bool)
        # per case, one compiled pass that stops at its first element near a limit
        # (:func:`._kernels.near_cases`: the bands above, in numpy's operations and order, in
        # double precision from the kept single-precision changes: the base case's row in double,
        # so that each difference is taken in double too)
        near_cases(self._dl[j], self._dl[j, 0].astype(float), self._l0, max_loading, self._dv[j],
                   self._dv[j, 0].astype(float), self._vm0, vm_low,
                   vm_high, self._da[j], self._va0, self._amax0, self._on, g.f, g.t, float(p_mw), float(err_pp),
                   float(err_pu), float(curvature), per_element, per[1], per[2], self._guards, near)
        return near

    def _near_dc(self, j: int, p_mw: float) -> np.ndarray:
        """:meth:`near_limit` of a DC-screened grid (:func:`~siting.grid.dcscreen.dc_near_cases`):
        each case estimated as the base case's AC state with the load (solved by
        :meth:`linear_error`) plus its own difference from it — without the load in AC, with it
        in DC, that part scaled per branch by the base case's AC over DC change (0.5–5: the DC
        change alone misses the reactive flows the load draws)."""
        from .dcscreen import LODF_LIST, dc_near_cases

        near = np.zeros(len(self.cases), dtype=bool)
        if p_mw <= 0:
            return near
        base = getattr(self, "_base_ac", None)
        if base is None or base[0] != p_mw or not base[1].converged:
            return ~near  # (no base case in AC at this load: every case near)
        res, scr, cb = base[1], self._dc_screen, self._case_bounds
        load = self._dc_load[:, j].astype(float)
        l_ac = np.nan_to_num(res.loading_pct)
        with np.errstate(divide="ignore", invalid="ignore"):
            f0 = cb.p00 + load * p_mw
            d0 = cb.inv_r0 * np.hypot(f0, cb.q00) - cb.l00  # the base case's DC change
            d_ac = l_ac - np.nan_to_num(self.cases[0].pre.loading_pct)
            ratio = np.where(np.abs(d0) >= 1e-3, np.clip(d_ac / d0, 0.5, 5.0), 1.0)
        ratio = np.nan_to_num(ratio, nan=1.0)
        w = ratio * cb.inv_r_max * p_mw * (1.0 + 2.0 * GUARD_REL)
        u0 = l_ac + NOISE_PP + (1.0 + GUARD_REL) * ratio * (cb.inv_r_max * p_mw * np.abs(load) + np.abs(d0))
        dc_near_cases(load, float(p_mw), scr.lodf, scr.k_out, scr.keep, scr.denom, scr.plain, cb.pf, cb.qf, cb.inv_r,
                   self._limit_stack()[0], cb.bound, cb.b_sorted, cb.order, l_ac, cb.l00, d0, ratio, u0, w, DC_NEAR_EPS,
                   cb.lodf_max, cb.big_ptr, cb.big_idx, LODF_LIST, NOISE_PP, GUARD_REL, res.vm_pu - cb.vm0, cb.lo_room,
                   cb.hi_room, cb.lo_min, cb.hi_min,
                   GUARD_PU, NOISE_PU, cb.blind, near)
        self._near_strong(j, p_mw, res, near)
        self._near_pairs(j, p_mw, res, near)
        return near

    def _near_pairs(self, j: int, p_mw: float, res: ACResult, near: np.ndarray) -> None:
        """Mark near the cases with an attribution pair (a branch overloaded or at its limit
        without the load: its limit is its loading then + ``worsen_pp``, or none where the load
        moves under 5 % over it) that may reach its limit, estimated as the base case's AC
        loading with the load plus the case's own difference — without the load, and its
        first-order AC change (:meth:`_pair_dl_dc`, the change the 5 % rule reads) less the base
        case's — within NOISE_PP + GUARD_REL of that difference. (The DC estimate of
        :meth:`_near_dc` misses this by a fraction of a point — case1354pegase bus 286, line 349
        out: branch 1805 at 164.23 % held to 165.23 %, reached at 10.8 MW, estimated 0.26 pp
        short at 11.85 MW, the answer 1.07 MW too high — and a point is all such a limit leaves.
        With GUARD_REL of the whole change instead of the difference, European buses had every
        case near: gk-2117, branch 6009 at 99.97 % in 1,540 cases, 1,582 AC solves against 43.)"""
        key = self._work_key
        got = self.__dict__.get("_pair_last")
        if self.cases is self._plain or key is None or self._screened.get(key[0]) != j:
            return  # (outside a bus's attributed block: no pairs)
        if got is None or got[0] != key or got[1] is not self._dc_load:
            self._pair_dl_dc(j, key[0], key[1])
            got = self._pair_last
        dl = got[2]
        pc, pe, _, pre, _ = self._pairs
        lim_all = self._limit_stack()[0]
        lim = lim_all.reshape(-1)[self._pair_flat()]
        pre0 = self.cases[0].pre.loading_pct[pe]
        l_ac = res.loading_pct[pe]  # the base case in AC with the load
        gap = dl * p_mw - self._base_sens[0][pe, j] * p_mw  # the case's first-order change less the base case's
        unc = NOISE_PP + GUARD_REL * np.abs(gap)
        scr = self._dc_screen
        far = (scr.plain | (np.abs(self._dc_load[np.maximum(scr.k_out, 0), j]) < DC_NEAR_EPS))[pc]
        lim0 = lim_all[0, pe]
        with np.errstate(invalid="ignore"):  # (NaN: a branch out, not near)
            hit = l_ac + (pre - pre0) + gap >= lim - unc
            # a far outage's pair no nearer its limit than the base case's branch (held in AC)
            # beyond the noise: the base case decides (case1354pegase bus 405: branch 1782 at
            # 114.9 % in every case put all 1,420 near, 1,423 AC solves for 4.36 MW)
            hit &= ~(far & (l_ac <= lim0) & ((pre - pre0) + gap - (lim - lim0) + unc <= 2 * NOISE_PP))
        near[pc[hit]] = True

    def _near_strong(self, j: int, p_mw: float, res: ACResult, near: np.ndarray) -> None:
        """Mark near the cases whose outage carries DC_NEAR_STRONG of the load at screened bus
        column `j` or more and whose voltages or angles, with `p_mw` added, may reach a limit:
        each such case's first-order change differs from the base case's (the outage reroutes
        the load: IEEE 118 bus 0 with trafo 0 out, 54 % of the load, 25× the base case's voltage
        change at bus 15) by the base case's sensitivities updated for the outage
        (:meth:`_outage_update`) — taken on the base case's AC change with the load (`res`), and
        held within DC_STRONG_SPREAD × that difference + GUARD_REL of the change (the update is
        at the base case's state, not the case's: 0.1–3 % off in the median, up to ~95 % at an
        element). A voltage within GUARD_PU of its band, or an angle across a branch in service
        at GUARD_ANGLE_RAD (moved GUARD_ANGLE_MOVE_RAD by the load: near the transfer limit),
        puts the case near. (With this, case145 buses 19, 138 and 139 answer as the exact path;
        the 10× factor it replaced answered 5.6 against 3.2 MW and 3,000 against 2,037 and
        2,578.)"""
        from .dcscreen import strong_near

        cases, ddv, dda, d_max, da_max, a_max = self._strong_changes(j)
        if not len(cases):
            return
        g, cb = self.grid, self._case_bounds
        x_v, x_a = res.vm_pu - cb.vm0, res.va_rad - self.cases[0].pre.va_rad
        # per case, a bound on |its angle move| + its uncertainty at any branch: a case below the
        # angle guards with it at every branch is not checked branch by branch
        xa = float(np.max(np.abs(x_a[g.f] - x_a[g.t]))) if g.m else 0.0
        dm = 2.0 * da_max * abs(p_mw)
        bound = xa + dm + DC_STRONG_SPREAD * dm + GUARD_REL * (xa + dm) + 1e-12
        ang = np.flatnonzero(~near[cases] & (bound >= GUARD_ANGLE_MOVE_RAD) & (a_max + bound >= GUARD_ANGLE_RAD))
        va = np.stack([self.cases[c].pre.va_rad for c in cases[ang].tolist()]) if len(ang) else np.zeros((0, g.n))
        on = np.stack([self._alive(self.cases[c]) > 0 for c in cases[ang].tolist()]) if len(ang) else \
            np.zeros((0, g.m), dtype=bool)
        strong_near(cases, ddv, dda, x_v, x_a, float(p_mw), cb.lo_room, cb.hi_room, d_max, cb.lo_min, cb.hi_min, ang,
                    va, on, g.f, g.t, DC_STRONG_SPREAD, GUARD_REL, GUARD_PU, GUARD_ANGLE_RAD, GUARD_ANGLE_MOVE_RAD, near)

    def _strong_changes(self, j: int) -> tuple[np.ndarray, ...]:
        """For :meth:`_near_strong`, per screened bus column `j` (the last one kept): the cases
        whose outage carries DC_NEAR_STRONG of the load or more, per MW the difference of their
        first-order voltage magnitude and angle changes from the base case's (k × n each, by
        :meth:`_outage_update`), the largest of those per bus (n) and per case (k), and each
        case's largest angle across a branch in service without the load (k)."""
        got = self.__dict__.get("_strong")
        if got is not None and got[0] == j and got[1] is self._dc_load:
            return got[2]
        g, scr = self.grid, self._dc_screen
        load = self._dc_load[:, j]
        cases = np.flatnonzero(~scr.plain & (np.abs(load[np.maximum(scr.k_out, 0)]) >= DC_NEAR_STRONG))
        n_a, pad = len(g.nonref), len(g.nonref) + len(g.pq)
        x = np.zeros(pad)
        x[:n_a] = self._base_sens[2][g.nonref, j]
        x[n_a:] = self._base_sens[1][g.pq, j]
        ddv, dda = np.zeros((len(cases), g.n)), np.zeros((len(cases), g.n))  # (case by case: contiguous writes)
        keep = np.ones(len(cases), dtype=bool)
        kept = self._updates
        missing = [ci for ci in cases.tolist() if ci not in kept]
        # (Z in single precision, used so whether kept or not: the test's bands are 30 % wide)
        fresh = {ci: None if up is None else (up[0].astype(np.float32), up[1], up[2])
                 for ci, up in zip(missing, self._outage_updates(missing))}
        for ci, up in fresh.items():
            size = 0 if up is None else sum(a.nbytes for a in up)
            if self._update_bytes + size <= UPDATE_CACHE_BYTES:
                kept[ci] = up
                self._update_bytes += size
        for i, ci in enumerate(cases.tolist()):
            up = fresh[ci] if ci in fresh else kept[ci]
            if up is None:
                keep[i] = False
                continue
            z, a, c = up
            dx = -(z @ (a @ x[c]).astype(np.float32))
            dda[i, g.nonref] = dx[:n_a]
            ddv[i, g.pq] = dx[n_a:]
        cases = cases[keep]
        ddv, dda = ddv[keep], dda[keep]
        out = (cases, ddv, dda, np.abs(ddv).max(axis=0) if len(cases) else np.zeros(g.n),
               np.abs(dda).max(axis=1) if len(cases) else np.zeros(0), self._angle_max(cases))
        self._strong = (j, self._dc_load, out)
        return out

    def _angle_max(self, cases: np.ndarray) -> np.ndarray:
        """Per case, the largest angle across a branch in service without the load [rad]
        (kept for every case asked)."""
        got = self.__dict__.get("_angle_maxima")
        if got is None:
            got = self._angle_maxima = np.full(len(self.cases), np.nan)
        g = self.grid
        for c in cases[np.isnan(got[cases])].tolist():
            va = self.cases[c].pre.va_rad
            diff = np.abs(va[g.f] - va[g.t])[self._alive(self.cases[c]) > 0]
            diff = diff[np.isfinite(diff)]  # (a bus without a result: strong_near's test is False there)
            got[c] = float(diff.max()) if len(diff) else 0.0
        return got[cases]

    def past_limit(self) -> np.ndarray:
        """Per case whether a branch in service is beyond PAST_LIMIT_RAD without the load (past
        the steady-state transfer limit; the largest such angle of each case kept: :meth:`_angle_max`).
        """
        got = self.__dict__.get("_past_limit")
        if got is None:
            got = self._past_limit = self._angle_max(np.arange(len(self.cases))) > PAST_LIMIT_RAD
        return got

    def estimated_margins(self, j: int, p_mw: float) -> np.ndarray:
        """Per case, its margin (:meth:`judge`'s) with `p_mw` added at screened bus column `j`,
        estimated to first order (on a compact screen, over the pairs it kept)."""
        if getattr(self, "_dcd", None) is not None:
            return self._dcd[:, j] - p_mw
        if getattr(self, "_compact", None) is not None:
            return self._compact.margins(j, self.cases, p_mw)
        max_loading, vm_low, vm_high = self._limit_stack()
        out = np.empty(len(self.cases))
        case_margins(self._dl[j], self._l0, max_loading, self._dv[j], self._vm0, vm_low, vm_high, float(p_mw), out)
        return out

    def _nearly_linear(self, j: int, p_mw: float, err_pp: float, err_pu: float) -> bool:
        """Whether the base case's AC at `p_mw` departs from its first-order estimate by at most
        :data:`REFINE_MAX_REL` of the largest loading and voltage change estimated."""
        dl0, dv0 = (self._base_sens[0][:, j], self._base_sens[1][:, j]) if self._base_only() else \
            (self._dl[j, 0], self._dv[j, 0])
        moved_l = float(np.max(np.abs(dl0))) * p_mw
        moved_v = float(np.max(np.abs(dv0))) * p_mw
        return err_pp <= REFINE_MAX_REL * moved_l and err_pu <= REFINE_MAX_REL * moved_v


class HostingSearch:
    """Hosting capacity of buses by screening + AC confirmation (see the module notes)."""

    def __init__(self, cases: CaseSet, pf: float, max_mw: float, tol_mw: float = 0.5) -> None:
        self.cs = cases
        self.tan = math.tan(math.acos(pf))
        self.max_mw = max_mw
        self.tol = tol_mw
        self.ac_solves = 0

    def _eval_set(self, case_ids: list[int], bus: int, p: float) -> tuple[CaseResult, int]:
        """The worst evaluation of the cases `case_ids` with `p` MW and its case, solved one by
        one until one is violated: the one violated last first (it usually is again), then in
        the watch list's (screened) order; an outage found feasible at `p` or more is not solved
        again (feasible loads are an interval from 0; the base case always is: the linear error
        at the answer reads it; and a case past the transfer limit: :data:`PAST_LIMIT_RAD`)."""
        worst, worst_c = None, -1
        first = [self._last_bad] if self._last_bad in case_ids else []
        ordered = first + [c for c in case_ids if c != self._last_bad]
        past = self.cs.past_limit()  # (no interval there: solved again)
        todo = [c for c in ordered if c == 0 or past[c] or self._known.get(c, -1.0) < p] or ordered[:1]
        for ci in todo:
            res = self.cs.solve_cases([ci], bus, p, p * self.tan, fallback=SEARCH_FALLBACK)[0]
            self._solved[(ci, p)] = res  # the answer's linear error and reactive note read them again
            ev = self.cs.judge(self.cs.cases[ci], res)
            self.ac_solves += 1
            if worst is None or ev.margin < worst.margin:
                worst, worst_c = ev, ci
            if not ev.feasible:  # one violated case decides
                self._last_bad = ci
                break
            self._known[ci] = max(self._known.get(ci, -1.0), p)
        return worst, worst_c

    def prepare(self, buses: np.ndarray) -> None:
        """Screen every case × `buses` (internal indices); :meth:`row` then searches one. More
        than :data:`SCREEN_CHUNK_BUSES` buses (or more than fit in :data:`SCREEN_BYTES`) are
        screened in :attr:`chunks` (lists of row numbers: every k-th bus, so that each holds
        cheap and costly buses alike) when a row first needs its chunk — give a worker whole
        chunks (``map_items(..., chunks=search.chunks)``): the workers screen their own chunks,
        in parallel, rather than this process all of them first (IEEE 118: 0.6 s of a 3 s
        all-bus run). The chunks do not depend on the cores or workers: a screen of other buses
        rounds differently (1e-11 MW in the answers), so the same chunks give the same table to
        the last bit on any machine, forked or not (a Dask worker may not fork)."""
        self.layout(buses)
        if not self.chunks:
            self._current = 0
            self._screen = self.cs.screen(self._buses, self.tan, self.max_mw, self._use_compact)  # cases × B

    def layout(self, buses: np.ndarray, n_chunks: int | None = None) -> None:
        """:meth:`prepare` without screening anything yet (every chunk is screened when a row
        first needs it); `n_chunks`: that many chunks (default: as many as the screen's memory
        needs) — a Dask worker is given the caller's."""
        self._buses = np.asarray(buses)
        n = len(self._buses)
        self._use_compact = self.cs.wants_compact(self.max_mw)
        if self._use_compact and DC_DRIVEN:
            self.cs.case_bounds()  # (before the workers fork: built once)
            self.cs._pair_update()
        self.cs.past_limit()  # (likewise)
        if n_chunks is None:
            block = self.cs.screen_block(self.max_mw)
            block = min(block, COMPACT_CHUNK_BUSES if self._use_compact else SCREEN_CHUNK_BUSES)
            n_chunks = max(-(-n // max(block, 1)), 1)
        self.chunks = [list(range(k, n, n_chunks)) for k in range(n_chunks)] if n_chunks > 1 else []
        self._chunk_of = np.arange(n) % n_chunks
        self._current, self._screen = -1, None
        self._col = np.arange(n) // n_chunks  # a row's column in its chunk's screen

    def _column(self, j: int) -> int:
        """`j`'s column in the current screen, screening its chunk first if need be."""
        k = int(self._chunk_of[j])
        if k != self._current:
            rows = self.chunks[k] if self.chunks else slice(None)
            self._screen = self.cs.screen(self._buses[rows], self.tan, self.max_mw, self._use_compact)
            self._current = k
        return int(self._col[j])

    def row(self, j: int, name: str) -> dict:
        """The firm hosting capacity of the `j`-th prepared bus (independent of the others)."""
        bus = int(self._buses[j])
        jj = self._column(j)
        col = self._screen[:, jj]
        p_lin = float(np.min(col))
        with self.cs.attributed(bus, self.tan):
            row = self._one(bus, jj, col, p_lin)
        return row | {"bus": name, "screened_mw": min(p_lin, self.max_mw)}

    def _one(self, bus: int, j: int, screen_col: np.ndarray, p_lin: float) -> dict:
        """Lazy constraint generation: search the base case and the outages screened lowest;
        at the answer, AC-check the outages that the screen puts near a limit; when one is
        violated, the answer lies below: search that outage alone below the current answer
        (every case's feasible loads are taken to be an interval [0, its limit])."""
        cs = self.cs
        self._solved: dict[tuple[int, float], ACResult] = {}  # the search's AC results of this bus
        self._known: dict[int, float] = {}  # per case, the largest load AC found feasible (this bus)
        self._last_bad = -1  # the case violated last
        self._probed: set[int] = set()  # the outages probed while stepping up (HostingSearch._confirm)
        self._laddered: set[int] = set()  # past-limit cases checked up to the answer (_below_past_limit)
        order = self._order = [int(c) for c in np.argsort(screen_col, kind="stable")]
        self._j = j
        start = min(p_lin, self.max_mw) if np.isfinite(p_lin) else self.max_mw
        watch = [c for c in order if screen_col[c] <= _WATCH_FACTOR * start + _WATCH_MW][:_WATCH_MAX]
        if 0 not in watch:
            watch.insert(0, 0)  # the base case is always searched
        lo, hi, hi_ev, hi_case = self._search(bus, watch, start, 0.0, math.inf, None, -1)
        while True:
            # confirm the other outages that the screen puts near a limit at `lo`; the guard
            # bands widen with the base case's observed departure from its linear estimate (for
            # voltages with the square of each case's predicted change; see near_limit)
            bad, bad_ev = self._confirm(bus, lo, watch)
            if bad_ev is None:
                bad, bad_ev, at = self._below_past_limit(bus, lo, watch)
                if bad_ev is None:
                    break
                watch.append(bad)
                lo, hi, hi_ev, hi_case = self._search(bus, [bad], at, 0.0, at, bad_ev, bad)
                continue
            watch.append(bad)
            # the answer is below lo: the new case alone decides it (the watched ones hold at lo)
            lo, hi, hi_ev, hi_case = self._search(bus, [bad], lo, 0.0, lo, bad_ev, bad)
        if hi_ev is None or lo >= self.max_mw:
            return {"hosting_mw": self.max_mw, "limiting_element": "", "limiting_case": "", "constraint": "cap",
                    "reactive_limits": ""}
        return {
            "hosting_mw": lo,
            "limiting_element": element_label(cs.grid, hi_ev.kind, hi_ev.element),
            "limiting_case": case_label(cs.grid, cs.cases[hi_case].outage),
            "constraint": hi_ev.kind,
            "reactive_limits": self._reactive_note(bus, hi_case, lo) if hi_ev.kind == "voltage" else "",
        }

    def _confirm(self, bus: int, p: float, watch: list[int], most: int | None = None) -> tuple[int, CaseResult | None]:
        """AC-check, at `p` (feasible for the `watch`ed cases), the other outages that the
        screen puts near a limit there — the guard bands widen with the base case's observed
        departure from its linear estimate (for voltages with the square of each case's
        predicted change; see :meth:`CaseSet.near_limit`) — until one is violated: that case
        and its evaluation, or (-1, None). `most`: check at most this many of them (a probe).

        (The cases screened to bind within max(5 MW, 15 %) above the answer were confirmed too:
        on 8 of pandapower's cases and IEEE 118 the same answers without them, with up to 41 %
        fewer AC solves; on case1354pegase, where every outage screens a few MW as the answer,
        they were all of its 1,429 cases at every bus.)"""
        cs, j = self.cs, self._j
        solved = self._solved.get((0, p))
        err_pp, err_pu, curv = cs.linear_error(bus, j, p, p * self.tan, solved) if p > 0 else (0.0, 0.0, 0.0)
        self.ac_solves += int(p > 0 and solved is None)
        near = cs.near_limit(j, p, err_pp, err_pu, curv)
        extra = [c for c in self._order if near[c] and c not in watch and (most is None or c not in self._probed)]
        if len(extra) > _CONFIRM_SORTED_FROM and cs._nearly_linear(j, p, err_pp, err_pu):
            # many near, and the linear model trusted here: in turns, the next in screened order
            # and the next most violated by estimate (case1354pegase bus 305 at 4.2 MW: 1,422
            # cases near, and in screened order 1,020 AC-solved before a violated one; by
            # estimate alone, case145 bus 138 at 3,000 MW solved all 434 before the one that
            # does not converge — no estimate sees a nose; where the model is not trusted, the
            # estimates mislead: IEEE 118 bus 88 at 912 MW, 218 -> 770 AC solves)
            margin = cs.estimated_margins(j, p)
            by_margin = [extra[i] for i in np.argsort(margin[extra], kind="stable")]
            extra = list(dict.fromkeys(c for pair in zip(extra, by_margin) for c in pair))
        if most is not None:  # a probe checks an outage once (a near one that holds is near on every step)
            extra = extra[:most]
            self._probed.update(extra)
        bad, bad_ev, solved = cs.first_violated(extra, bus, p, p * self.tan, fallback=SEARCH_FALLBACK,
                                                known=self._known)
        self.ac_solves += solved
        return bad, bad_ev

    def _creeps(self, watch) -> bool:
        """Whether a watched case is past the transfer limit (:data:`PAST_LIMIT_RAD`): then no
        load is tried more than a creep step above the largest found feasible."""
        past = self.cs.past_limit()
        return any(past[c] for c in watch)

    @staticmethod
    def _creep(lo: float) -> float:
        """The largest load a creeping search tries above the feasible `lo`."""
        return max(lo * (1.0 + CREEP_REL), lo + CREEP_MW)

    def _below_past_limit(self, bus: int, p: float, watch: list[int]) -> tuple[int, CaseResult | None, float]:
        """The cases past the transfer limit that the confirmation found feasible at `p`
        (:attr:`_known`), not searched: each AC-solved from 0 up to `p` in creep steps — the
        first violated (case, evaluation, load), or (-1, None, p)."""
        past = self.cs.past_limit()
        for c in [c for c in self._known if past[c] and c not in watch and c not in self._laddered]:
            self._laddered.add(c)
            q = self._creep(0.0)
            while q < p:
                ev, _ = self._eval_set([c], bus, q)
                if not ev.feasible:
                    return c, ev, q
                q = self._creep(q)
        return -1, None, p

    def _reactive_note(self, bus: int, ci: int, p_mw: float) -> str:
        """For a voltage-limited answer: the generators whose reactive output at the answer (in
        the limiting case) is beyond their range, which the engine does not enforce (as
        ``pandapower.runpp``'s default) — where one is, the value is optimistic. '' if none."""
        cs = self.cs
        g = cs.grid
        res = self._solved.get((ci, p_mw))
        if res is None or not res.converged:
            res = cs.solve_cases([ci], bus, p_mw, p_mw * self.tan)[0]
            self.ac_solves += 1
        return reactive_note(g, res, outage=cs.cases[ci].outage, bus=bus, q_mvar=p_mw * self.tan)

    @staticmethod
    def _step_up(p_prev: float, m_prev: float | None, lo: float, m_lo: float) -> float:
        """The next load to try above the feasible `lo` (margin `m_lo`; `p_prev`, `m_prev` the
        point before): where the margin falls linearly to zero — the secant through the two, an
        overestimate, as the margin is concave in the load — at least 25 % or 25 MW up and at
        most 4× (a margin that does not fall: 4×; the Illinois search then brackets the answer
        within). The European grid's Dutch bus gk-5105, screened at 1.4 MW and hosting 842 MW,
        took 14 steps of 25 % (7 AC solves each with the probes)."""
        least, most = max(lo * 1.25, lo + 25.0), lo * 4.0
        if m_prev is None or not m_prev > m_lo:
            return max(least, most)
        root = lo + m_lo * (lo - p_prev) / (m_prev - m_lo)
        return min(max(root, least), max(least, most))

    def _margin_at_zero(self, watch) -> float:
        """The watched cases' smallest margin without the added load (their own solved states:
        no AC solve), the search's known point at 0 MW."""
        return min(self.cs.judge(self.cs.cases[c], self.cs.cases[c].pre).margin for c in watch)

    def _search(self, bus, watch, start, lo, hi, hi_ev, hi_case):
        """Largest feasible P on the watched cases, to tol: returns lo, hi, hi's evaluation and
        case. A bracketing search on the margin of the watched cases (concave in the load: a
        voltage or loading limit is approached ever faster): the Illinois variant of regula
        falsi — the end kept twice in a row has its margin halved, so the interpolant crosses
        to the other side instead of creeping up in small steps from the feasible one (plain
        regula falsi on IEEE 118 bus 10: 226, 235, 237.6, 238.5 MW) — starting from the known
        margin at 0 MW; bisection where the infeasible end did not converge (past the nose)."""
        max_mw = self.max_mw
        m_lo = self._margin_at_zero(watch) if lo == 0.0 else None
        creep = self._creeps(watch)
        if not math.isfinite(hi):
            guess = max(min(start, max_mw, self._creep(lo) if creep else math.inf), self.tol)
            ev, c = self._eval_set(watch, bus, guess)
            p = guess
            p_prev, m_prev = 0.0, m_lo
            while ev.feasible:
                # a few of the other outages near a limit here, most likely violated first: the
                # search's answer is the watched cases' only until the confirmation finds
                # another below it (case1354pegase bus 235: the watched ones searched up to 829
                # MW in 20 steps, then an outage at 271 MW and another at 34.7 MW)
                bad, bad_ev = self._confirm(bus, p, watch, most=_PROBE_CASES) if _PROBE_CASES else (-1, None)
                if bad_ev is not None:  # the answer is below p: that case alone decides it (as in _one)
                    watch.append(bad)
                    return self._search(bus, [bad], p, 0.0, p, bad_ev, bad)
                lo, m_lo = p, ev.margin
                if lo >= max_mw:
                    return max_mw, math.inf, None, -1
                p = min(max_mw, self._step_up(p_prev, m_prev, lo, m_lo), self._creep(lo) if creep else math.inf)
                p_prev, m_prev = lo, m_lo
                ev, c = self._eval_set(watch, bus, p)
            hi, hi_ev, hi_case = p, ev, c
        w_lo = w_hi = 1.0  # Illinois weights of the two ends' margins
        kept = 0  # +k: lo moved k times in a row; -k: hi did
        while hi - lo > self.tol:
            m_hi = hi_ev.margin if hi_ev is not None else -math.inf
            if m_lo is not None and m_lo > 0 > m_hi and math.isfinite(m_hi):
                a, b = w_lo * m_lo, w_hi * m_hi
                p = lo + (hi - lo) * a / (a - b)
                p = min(max(p, lo + 0.25 * self.tol), hi - 0.25 * self.tol)
            else:
                p = 0.5 * (lo + hi)
            if creep:
                p = min(p, self._creep(lo))
            ev, c = self._eval_set(watch, bus, p)
            if ev.feasible:
                lo, m_lo = p, ev.margin
                kept = max(kept, 0) + 1
                w_lo = 1.0
                w_hi = w_hi * 0.5 if kept >= 2 else 1.0
            else:
                hi, hi_ev, hi_case = p, ev, c
                kept = min(kept, 0) - 1
                w_hi = 1.0
                w_lo = w_lo * 0.5 if kept <= -2 else 1.0
        return lo, hi, hi_ev, hi_case


def _factorised(res: ACResult) -> tuple[np.ndarray, SparseLU]:
    """A solved state's complex voltages and its Jacobian (kept in `res`) factorised."""
    return res.vm_pu * np.exp(1j * res.va_rad), SparseLU(res.jacobian)


def woodbury_updates(lu: SparseLU, changes: list, rows: int | None = None) -> list:
    """For each low-rank change ``(r, c, D)`` of the matrix M factorised in `lu` (M + E_r D E_cᵀ;
    None: no change): ``(Z, A, c)`` with Z = M⁻¹ E_r (its first `rows` rows; all where None) and
    A = (I + D Z[c])⁻¹ D — so that ``(M + E_r D E_cᵀ)⁻¹ b = x − Z (A x[c])`` for x = M⁻¹ b (the
    Woodbury identity; c < `rows`). The Z's of ADJOINT_BATCH changes at a time in one blocked
    solve (a multi-right-hand-side solve costs a fraction a column)."""
    out: list = []
    for at in range(0, len(changes), ADJOINT_BATCH):
        batch = changes[at:at + ADJOINT_BATCH]
        widths = np.array([0 if ch is None else len(ch[0]) for ch in batch], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(widths)])
        e_r = np.zeros((lu.n, starts[-1]))
        for i, ch in enumerate(batch):
            if ch is not None:
                e_r[ch[0], starts[i] + np.arange(widths[i])] = 1.0
        z_all = (lu.solve(e_r, blocked=True) if starts[-1] else e_r)[:rows]
        for i, ch in enumerate(batch):
            if ch is None:
                out.append(None)
                continue
            _, c, d = ch
            z = np.ascontiguousarray(z_all[:, starts[i]:starts[i + 1]])
            out.append((z, np.linalg.solve(np.eye(len(ch[0])) + d @ z[c], d), c))
    return out


def reactive_note(grid: ACGrid, res: ACResult, **kw) -> str:
    """'' or, for the solved answer `res` of a voltage-limited result (:meth:`ACGrid.generator_q`
    keywords `kw`), the generators it takes beyond their reactive range: their limits are not
    modelled (as in ``pandapower.runpp``'s default), so the value is an upper bound."""
    over = grid.reactive_excess(res, **kw)
    if not over:
        return ""
    items = ", ".join(f"bus {grid.bus_names[b]} {q:.0f} Mvar ({'max' if q > lim else 'min'} {lim:.0f})"
                      for b, q, lim in over[:4])
    more = f" and {len(over) - 4} more" if len(over) > 4 else ""
    return (f"generators beyond their reactive range at the answer: {items}{more}; their limits are not "
            "modelled, so this voltage-limited value is an upper bound (optimistic)")


def case_label(grid: ACGrid, outage: int | None) -> str:
    """'base' or 'outage <kind>:<name>' for a case."""
    if outage is None:
        return "base"
    kind, idx = grid.element[outage]
    return f"outage {kind}:{grid.names[(kind, idx)]}"


def element_label(grid: ACGrid, kind: str, element: int) -> str:
    """'<line|trafo>:<name>' for a thermal constraint, 'bus:<name>' for a voltage one."""
    if kind == "thermal":
        k, idx = grid.element[element]
        return f"{k}:{grid.names[(k, idx)]}"
    if kind == "voltage":
        return f"bus:{grid.bus_names[element]}"
    return ""


def _jacobian_bytes(grid: ACGrid) -> int:
    """Memory of one case's Jacobian [B]: dense on a small grid, else sparse (about four
    nonzeros per admittance entry, 12 B each)."""
    rows = len(grid.active) + len(grid.pq)
    return 8 * rows * (rows + 1) if grid.dense else 48 * int(grid.ybus.nnz)
