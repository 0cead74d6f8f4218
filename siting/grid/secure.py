"""Preventive security-constrained redispatch: a secure N-1 operating point, and the largest load
a secure redispatch can still make room for.

TSO practice: a connection study starts from a base case that is N-1 secure after the remedial
actions the operator has. A scenario's market dispatch (merit order, scheduled exchanges) need not
be: this module moves the **remedial resources** —

- dispatchable plants within ``[0, available × capacity]`` (up and down),
- HVDC set points within ± the link's capacity,
- phase-shifting transformers on AC ties (the MW their angle range can move between the ties),
- countertrading: the net AC import over the ties, within ``± countertrade_max_mw``,
- and, as the last resort, curtailment of offshore (and onshore) wind,

at the least cost (cost per MW by kind, from the scenario's ``[remedial]`` table), so that in the
base case and every single-circuit outage every branch stays within its thermal limit.

Method
------
A linear programme (HiGHS, through its Python interface ``highspy``) on first-order AC
sensitivities: the loading of branch ℓ in case c (base case or one circuit out) is that case's
**AC** loading plus the change the redispatch makes to it to first order (the case's AC
Jacobian, distributed slack included: reactive flows and voltages move with it, unlike a DC
estimate). Rows are generated lazily (only those near a limit enter the LP). The redispatch is
then confirmed with AC power flow in every case; where AC exceeds a limit, that row's limit is
tightened by the excess and the LP solved again. Overloads that no remedial action can clear are
found with penalised slack variables and reported with the reason.

References
----------
Ecorys (2025) §7.1: a "harde afspraak" (firm agreement) with TenneT; congestion management by
redispatch is what TenneT applies before it refuses a connection (GOTORK, Netcode elektriciteit).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .acpf import ACGrid, ACResult
from .linear import DCSensitivity, ac_sensitivities, ac_sensitivity, loading_and_sensitivity

__all__ = ["Resource", "RemedialCosts", "SecureResult", "RedispatchLP", "resources_from_net", "secure",
           "apply_redispatch", "shifted", "n1_cases", "constrained_units", "redispatch_volume", "KINDS"]

#: kinds of remedial resource, in the order a TSO reaches for them
KINDS = ("phase_shifter", "plant", "hvdc", "countertrade", "curtailment")

#: rows within this many percentage points of their limit after securing count as binding: units
#: whose ramping would load them do not balance a new load (see constrained_units)
BINDING_BAND_PP = 5.0
_PENALTY = 1e4  # cost per percentage point of overload left (elastic rows): far above any resource
_ROW_BAND_PP = 25.0  # rows within this many percentage points of their limit enter the LP first
_PAD_PP = 0.05  # an AC correction tightens a row by its excess plus this
_GAP_BAND_PP = 5.0  # rows this close to their limit (AC or first order) get an AC correction
_REFINE_MW = 4.0  # the refinement of the hosting with redispatch stops within this
#: a case is linearised exactly at the firm load once its first-order state comes this close to
#: a thermal limit [pp] or voltage band [pu] (RedispatchHosting._linearise)
_EXACT_BAND_PP = 20.0
_EXACT_BAND_PU = 0.03
#: searches with more cases made exact before every case is (RedispatchHosting.run)
_RECHECKS = 2
#: rows this close to the closest one at the answer count as binding with it [pp]
_TIE_PP = 1e-4


@dataclass(frozen=True)
class RemedialCosts:
    """Cost per MW of each kind of remedial action (relative units: the LP minimises the sum).
    Defaults: phase shifters nearly free, plant redispatch 1, HVDC set points 1.5, countertrading
    3, curtailment 10 (the last resort)."""

    phase_shifter: float = 0.1
    plant: float = 1.0
    hvdc: float = 1.5
    countertrade: float = 3.0
    curtailment: float = 10.0

    def of(self, kind: str) -> float:
        return float(getattr(self, kind))


@dataclass(frozen=True)
class Resource:
    """One remedial resource: a change ``Δ`` [MW] within ``[-down_mw, up_mw]`` that adds
    ``weight × Δ`` to the active power of each element in `elements`
    (``(table, index, weight)``, pandapower tables ``gen`` / ``sgen``)."""

    name: str
    kind: str
    p_mw: float  # output before the redispatch [MW] (for countertrade: the scheduled AC import)
    up_mw: float
    down_mw: float
    elements: tuple[tuple[str, int, float], ...]
    #: for the angle reference (ext_grid) as a resource: its bus; its change is not applied to any
    #: element, the slack takes it (valid when the reference is the only slack)
    slack_bus: int | None = None

    def pattern(self, net, grid: ACGrid) -> np.ndarray:
        """Injection per internal bus per MW of Δ."""
        out = np.zeros(grid.n)
        for table, idx, w in self.elements:
            out[int(grid.bus_lookup[int(net[table].at[idx, "bus"])])] += w
        if self.slack_bus is not None:
            out[int(grid.bus_lookup[int(self.slack_bus)])] += 1.0
        return out


def resources_from_net(net) -> list[Resource]:
    """Remedial resources of a network that carries no ``siting`` build information (e.g. from
    :meth:`GridModel.from_pandapower`): every in-service, controllable ``gen`` and ``sgen`` with a
    finite ``max_p_mw`` may move within ``[min_p_mw (default 0), max_p_mw]``. The ext_grid is the
    slack: it is a resource only when it balances alone (no generator carries a slack weight) and
    declares ``max_p_mw``; its change is then left to the slack."""
    out = []
    for table in ("gen", "sgen"):
        t = net[table]
        if t.empty or "max_p_mw" not in t.columns:
            continue
        for idx, row in t.iterrows():
            if not bool(row.get("in_service", True)):
                continue
            if "controllable" in t.columns and row.get("controllable") is False:
                continue
            hi = row.get("max_p_mw")
            if hi is None or not np.isfinite(hi):
                continue
            lo = row.get("min_p_mw", 0.0)
            lo = 0.0 if lo is None or not np.isfinite(lo) else float(lo)
            p = float(row["p_mw"])
            name = row.get("name")
            name = str(name) if isinstance(name, str) and name else f"{table} {idx}"
            out.append(Resource(name, "plant", p, max(float(hi) - p, 0.0), max(p - lo, 0.0), ((table, int(idx), 1.0),)))
    ext = net.ext_grid
    sole = len(ext) == 1 and not (net.gen.get("slack_weight", pd.Series(dtype=float)).fillna(0) > 0).any()
    if sole and "max_p_mw" in ext.columns and np.isfinite(ext["max_p_mw"].iloc[0]):
        import copy

        import pandapower as pp

        solved = copy.deepcopy(net)
        try:
            pp.runpp(solved, numba=False, lightsim2grid=False)
        except pp.LoadflowNotConverged:
            return out
        p = float(solved.res_ext_grid["p_mw"].iloc[0])
        hi = float(ext["max_p_mw"].iloc[0])
        lo = float(ext["min_p_mw"].iloc[0]) if "min_p_mw" in ext.columns and np.isfinite(ext["min_p_mw"].iloc[0]) else 0.0
        name = ext["name"].iloc[0]
        name = str(name) if isinstance(name, str) and name else "ext_grid"
        out.append(Resource(name, "plant", p, max(hi - p, 0.0), max(p - lo, 0.0), (),
                            slack_bus=int(ext["bus"].iloc[0])))
    return out


@dataclass
class _Case:
    outage: int | None
    pre: ACResult
    limit_pct: np.ndarray  # per branch: the loading the case may reach [%]


@dataclass(frozen=True)
class SecureResult:
    """What securing a scenario did.

    ``redispatch`` has one row per resource moved: ``resource, kind, p_before_mw, delta_mw,
    p_after_mw``. ``remaining`` lists the N-1 overloads no remedial action clears: ``element,
    case, loading_pct, limit_pct, reason``. Loadings are AC."""

    secured: bool
    redispatch: pd.DataFrame
    volume_up_mw: float
    volume_down_mw: float
    curtailed_mw: float
    worst_before_pct: float
    worst_before: str
    worst_after_pct: float
    worst_after: str
    remaining: pd.DataFrame
    iterations: int
    target_pct: float
    delta: dict[str, float] = field(repr=False, default_factory=dict)
    #: units that may not balance a new load: ramping them would load an element the secure
    #: state uses to its limit (unit name -> that element and case)
    held: dict[str, str] = field(repr=False, default_factory=dict)
    #: (outage, branch row, flow sign) of the rows at their limit after securing (internal)
    binding: tuple = field(repr=False, default=())

    def __str__(self) -> str:
        head = (f"{'secured' if self.secured else 'NOT securable'}: worst N-1 loading {self.worst_before_pct:.1f} % "
                f"({self.worst_before}) -> {self.worst_after_pct:.1f} % ({self.worst_after}); redispatch "
                f"{self.volume_up_mw:.0f} MW up / {self.volume_down_mw:.0f} MW down")
        if self.curtailed_mw > 0:
            head += f", of which {self.curtailed_mw:.0f} MW wind curtailed"
        if not self.secured:
            head += f"; {len(self.remaining)} overload(s) no remedial action clears"
        return head


class RedispatchLP:
    """The security-constrained redispatch LP of one compiled grid and its N-1 cases, in loading
    space: ``loading = AC loading of the case + S · Δ (+ s_load · load) ≤ limit`` per branch.

    Parameters
    ----------
    grid : ACGrid
        The compiled network.
    cases : list of _Case
        ``(outage, pre, limit_pct)`` per case: the outage branch row (None = base case), its AC
        state without any redispatch or added load (solved with ``keep_jacobian=True``), and the
        loading each branch may reach [%].
    resources : list of Resource
    costs : RemedialCosts
    patterns : ndarray
        n × R: each resource's injection per internal bus per MW.
    """

    def __init__(self, grid: ACGrid, cases: list[_Case], resources: list[Resource], costs: RemedialCosts,
                 patterns: np.ndarray, sens: np.ndarray | None = None) -> None:
        self.grid = g = grid
        self.cases = cases
        self.resources = resources
        self.costs = costs
        self.patterns = patterns  # n × R
        n_r = len(resources)
        self._cost = np.array([costs.of(r.kind) for r in resources])
        self._up = np.array([r.up_mw for r in resources])
        self._down = np.array([r.down_mw for r in resources])
        if not cases:
            sens, l0, lim = np.zeros((0, g.m, n_r)), np.zeros((0, g.m)), np.zeros((0, g.m))
        else:
            alive = np.stack([g.alive(c.outage) for c in cases])
            if sens is None:
                sens = np.stack([ac_sensitivity(g, c.pre, a, patterns)[0] if n_r else np.zeros((g.m, 0))
                                 for c, a in zip(cases, alive)])
            l0 = np.stack([c.pre.loading_pct for c in cases])
            l0[np.isnan(l0)] = -np.inf
            lim = np.where(alive > 0, np.stack([np.broadcast_to(c.limit_pct, (g.m,)) for c in cases]), np.inf)
        #: C × m × R loading change [pp] per MW of each resource; C × m loadings and limits [%]
        self.S = np.array(sens, dtype=float)  # a copy: the hosting search changes rows in place
        self.L0 = l0
        self.LIMIT = lim

    # ------------------------------------------------------------------ LP

    def solve(self, load_sens: np.ndarray | None = None, load_mw: float | None = None,
              maximise_load: bool = False, max_load_mw: float = 0.0, tighten: dict | None = None,
              elastic: bool = False, session: _Session | None = None) -> dict:
        """Least-cost redispatch (or the largest load) that keeps every row within its limit.

        `load_sens` (C × m: loading change [pp] per MW of the load, its balancing included) with
        `load_mw` fixed, or with `maximise_load` the load is a variable in ``[0, max_load_mw]``
        maximised first (then the cost). `tighten` maps ``(case, branch)`` to percentage points
        taken off that row's limit (AC correction). With `elastic`, rows may be exceeded at a
        penalty (to find what cannot be cleared). Rows enter lazily: those near their limit at
        the start, then any the solution violates. Pass the `session` of an earlier call with the
        same load to warm-start from it (only `tighten` may differ).

        Returns a dict: ``status`` ("optimal" | "infeasible"), ``delta`` (R-vector, MW), ``load``
        (MW), ``overload`` ({(case, branch): pp} left with `elastic`), ``session``.
        """
        tighten = tighten or {}
        fixed = 0.0 if load_sens is None or maximise_load else float(load_mw or 0.0)
        if session is None:
            session = _Session(self, load_sens, fixed, maximise_load, max_load_mw, elastic)
            start = max_load_mw if maximise_load else fixed
            session.add(self._rows_near(load_sens, start, tighten, _ROW_BAND_PP), tighten)
        else:
            session.retighten(tighten)
        for _ in range(50):
            sol = session.run()
            if sol["status"] != "optimal":
                return sol
            added = self._rows_near(load_sens, sol["load"], tighten, 0.0, sol["delta"]) - set(session.rows)
            if not added:
                return sol
            session.add(added, tighten)
        return sol

    def loadings(self, delta: np.ndarray | None, load_sens, load: float) -> np.ndarray:
        """First-order loading per case and branch (C × m) [%] after redispatch `delta` and `load`
        MW at the load's bus — signed: negative where the current would reverse, so the loading
        is its absolute value."""
        out = self.L0 if delta is None or not len(delta) else self.L0 + self.S @ delta
        if load_sens is not None and load:
            out = out + np.asarray(load_sens) * load
        return out

    def _limits(self, tighten: dict) -> np.ndarray:
        lim = self.LIMIT
        if tighten:
            lim = lim.copy()
            for (c, k), pp in tighten.items():
                lim[c, k] -= pp
        return lim

    def _rows_near(self, load_sens, load: float, tighten: dict, band_pp: float,
                   delta: np.ndarray | None = None) -> set:
        """Rows whose first-order loading is within `band_pp` of their limit (or beyond it)."""
        est = self.loadings(delta, load_sens, load)
        lim = self._limits(tighten)
        with np.errstate(invalid="ignore"):
            over = np.isfinite(lim) & (np.abs(est) > lim - band_pp + (1e-6 if band_pp == 0 else 0.0))
        return set(zip(*(a.tolist() for a in np.nonzero(over))))

    # ------------------------------------------------------------------ AC

    def injection(self, delta: np.ndarray) -> np.ndarray:
        """Injection change per internal bus [MW] of a redispatch."""
        return self.patterns @ delta

    def ac_check(self, delta: np.ndarray, bus: int | None = None, p_mw: float = 0.0, q_mvar: float = 0.0,
                 cases: list[int] | None = None, starts: np.ndarray | None = None) -> list[tuple[int, ACResult]]:
        """AC power flow of the redispatch (and an added load) in the given cases (default all),
        from each case's own state or from `starts` (C × n complex voltages, e.g. a first-order
        estimate of the answer; the case's own state is the retry where Newton fails from
        there)."""
        ids = list(range(len(self.cases))) if cases is None else list(cases)
        own = np.stack([self.cases[ci].pre.vm_pu * np.exp(1j * self.cases[ci].pre.va_rad) for ci in ids]) \
            if ids else None
        results = self.grid.solve_many([self.cases[ci].outage for ci in ids], bus=bus, p_mw=p_mw, q_mvar=q_mvar,
                                       dp_mw=self.injection(delta), starts=own if starts is None else starts[ids],
                                       retry=None if starts is None else own)
        return list(zip(ids, results))

    def ac_excess(self, results: list[tuple[int, ACResult]], tol_pct: float = 0.0) -> dict:
        """{(case, branch): percentage points over the limit} from AC results (a case that does
        not converge is reported under branch -1, at +inf)."""
        out = {}
        for ci, res in results:
            if not res.converged:
                out[(ci, -1)] = math.inf
                continue
            over = res.loading_pct - self.cases[ci].limit_pct
            for k in np.flatnonzero(np.nan_to_num(over, nan=-np.inf) > tol_pct):
                out[(ci, int(k))] = float(over[k])
        return out


# ---------------------------------------------------------------------------- securing


def n1_cases(grid: ACGrid, limit_pct: float, n_minus_1: bool = True) -> tuple[list[_Case], list[int], list[int]]:
    """The base case and every single-circuit outage that keeps the grid connected, solved (AC)
    without any redispatch; returns the cases, the outages that split the grid and those that do
    not converge."""
    ok, split = grid.contingencies() if n_minus_1 else ([], [])
    cases, failed = [], []
    for outage in [None, *ok]:
        pre = grid.solve(outage=outage, keep_jacobian=True)
        if not pre.converged:
            if outage is None:
                raise RuntimeError("base case does not converge")
            failed.append(outage)
            continue
        cases.append(_Case(outage, pre, np.full(grid.m, float(limit_pct))))
    return cases, split, failed


def redispatch_volume(resources: list[Resource], delta: np.ndarray) -> tuple[float, float]:
    """Upward and downward redispatch [MW] (phase-shifter moves are shifts between ties, not
    volume, and are left out)."""
    d = np.array([x for r, x in zip(resources, delta) if r.kind != "phase_shifter"], dtype=float)
    return float(d[d > 0].sum()), float(-d[d < 0].sum())


def shifted(r: Resource, delta: float) -> Resource:
    """The resource after it moved by `delta` [MW]: its room up and down follow."""
    import dataclasses

    return dataclasses.replace(r, p_mw=r.p_mw + delta, up_mw=max(r.up_mw - delta, 0.0), down_mw=max(r.down_mw + delta, 0.0))


def apply_redispatch(net, resources: list[Resource], delta: np.ndarray) -> None:
    """Add each resource's change to its elements' ``p_mw`` in `net` (in place)."""
    for r, d in zip(resources, delta):
        if d == 0.0:
            continue
        for table, idx, w in r.elements:
            net[table].at[idx, "p_mw"] = float(net[table].at[idx, "p_mw"]) + w * float(d)


def secure(grid: ACGrid, net, resources: list[Resource], costs: RemedialCosts, target_pct: float = 100.0,
           n_minus_1: bool = True, max_rounds: int = 8, tol_pct: float = 0.05) -> tuple[SecureResult, np.ndarray]:
    """Least-cost preventive redispatch that makes `grid` N-1 secure (AC-confirmed).

    Returns the :class:`SecureResult` and the change per resource [MW] (apply it with
    :func:`apply_redispatch`). Rows the LP cannot clear stay overloaded at the least penalty and
    are listed in ``remaining`` with the reason."""
    from .hosting import case_label, element_label

    cases, _, _ = n1_cases(grid, target_pct, n_minus_1)
    patterns = np.column_stack([r.pattern(net, grid) for r in resources]) if resources else np.zeros((grid.n, 0))
    lp = RedispatchLP(grid, cases, resources, costs, patterns)

    def worst(results):
        top, where = -math.inf, ""
        for ci, res in results:
            if not res.converged:
                return math.inf, f"{case_label(grid, cases[ci].outage)} (does not converge)"
            k = int(np.nanargmax(res.loading_pct))
            if res.loading_pct[k] > top:
                top = float(res.loading_pct[k])
                where = f"{element_label(grid, 'thermal', k)} in {case_label(grid, cases[ci].outage)}"
        return top, where

    before = [(ci, c.pre) for ci, c in enumerate(cases)]
    worst_before, where_before = worst(before)
    tighten: dict[tuple[int, int], float] = {}
    delta = np.zeros(len(resources))
    results = before
    rounds = 0
    sol = {"overload": {}, "session": None}
    for rounds in range(1, max_rounds + 1):
        sol = lp.solve(tighten=tighten, elastic=True, session=sol["session"])
        if sol["status"] != "optimal":  # pragma: no cover - the elastic LP is always feasible
            break
        delta = sol["delta"]
        results = lp.ac_check(delta)
        excess = lp.ac_excess(results, tol_pct)
        new = {key: mw for key, mw in excess.items() if key[1] >= 0 and key not in sol["overload"]}
        if not new:
            break
        for key, pp in new.items():
            tighten[key] = tighten.get(key, 0.0) + pp + _PAD_PP
    worst_after, where_after = worst(results)
    binding = []
    for ci, res in results:
        if res.converged:
            near = np.nan_to_num(res.loading_pct, nan=-np.inf) >= cases[ci].limit_pct - BINDING_BAND_PP
            binding += [(cases[ci].outage, int(k), 1.0 if res.p_from_mw[k] >= 0 else -1.0) for k in np.flatnonzero(near)]
    # what is left: AC overloads after the last round
    rows = []
    excess = lp.ac_excess(results, tol_pct)
    res_of = dict(results)
    for (ci, k), mw in sorted(excess.items(), key=lambda kv: -kv[1]):
        res = res_of[ci]
        rows.append({
            "element": element_label(grid, "thermal", k) if k >= 0 else "",
            "case": case_label(grid, cases[ci].outage),
            "loading_pct": float(res.loading_pct[k]) if k >= 0 and res.converged else math.nan,
            "limit_pct": float(cases[ci].limit_pct[k]) if k >= 0 else math.nan,
            "reason": _why_not_cleared(lp, ci, k, delta) if k >= 0 else "the case does not converge",
        })
    remaining = pd.DataFrame(rows, columns=["element", "case", "loading_pct", "limit_pct", "reason"])
    moved = [
        {"resource": r.name, "kind": r.kind, "p_before_mw": r.p_mw, "delta_mw": float(d), "p_after_mw": r.p_mw + float(d)}
        for r, d in zip(resources, delta) if abs(d) >= 0.05
    ]
    redispatch = pd.DataFrame(moved, columns=["resource", "kind", "p_before_mw", "delta_mw", "p_after_mw"]).astype(
        {"p_before_mw": float, "delta_mw": float, "p_after_mw": float})
    redispatch = redispatch.sort_values(["kind", "delta_mw"], key=lambda s: s if s.name != "kind" else
                                        s.map({k: i for i, k in enumerate(KINDS)})).reset_index(drop=True)
    up, down = redispatch_volume(resources, delta)
    curtailed = float(sum(-d for r, d in zip(resources, delta) if r.kind == "curtailment" and d < 0))
    result = SecureResult(
        secured=remaining.empty, redispatch=redispatch, volume_up_mw=up, volume_down_mw=down, curtailed_mw=curtailed,
        worst_before_pct=worst_before, worst_before=where_before, worst_after_pct=worst_after, worst_after=where_after,
        remaining=remaining, iterations=rounds, target_pct=target_pct,
        delta={r.name: float(d) for r, d in zip(resources, delta) if d != 0.0}, binding=tuple(binding),
    )
    return result, delta


def constrained_units(grid: ACGrid, net, binding, dc: DCSensitivity | None = None,
                      threshold: float = 0.02) -> dict[str, str]:
    """Units of the distributed slack (generators and boundary equivalents with a weight) that
    sit behind a constraint the secure state uses to its limit: ramping the unit up to meet
    national demand (the scenario's loads) moves at least `threshold` of its MW onto a binding
    row in the direction that overloads it. Returns ``{unit name: "element in case"}``."""
    from .hosting import case_label, element_label

    if not binding:
        return {}
    dc = dc or DCSensitivity(grid)
    demand = np.zeros(grid.n)
    for _, row in net.load.iterrows():
        if row.get("in_service", True):
            demand[int(grid.bus_lookup[int(row["bus"])])] += float(row["p_mw"])
    if demand.sum() <= 0:
        return {}
    units = []
    for table in ("gen", "ext_grid"):
        t = net[table]
        for idx, row in t.iterrows():
            if row.get("in_service", True) and float(row.get("slack_weight", 0.0) or 0.0) > 0:
                units.append((table, idx, str(row.get("name", idx)), int(grid.bus_lookup[int(row["bus"])])))
    if not units:
        return {}
    sink = dc.flows(demand / demand.sum())
    shift = dc.ptdf(np.array([u[3] for u in units])) - sink[:, None]  # m × U: unit -> national demand
    out: dict[str, str] = {}
    by_outage: dict = {}
    for outage, k, sign in binding:
        by_outage.setdefault(outage, []).append((k, sign))
    for outage, rows in by_outage.items():
        sens = shift if outage is None else dc.after_outage(shift, outage)
        for k, sign in rows:
            for j in np.flatnonzero(sign * sens[k] > threshold):
                name = units[j][2]
                out.setdefault(name, f"{element_label(grid, 'thermal', k)} in {case_label(grid, outage)}")
    return out


def _why_not_cleared(lp: RedispatchLP, ci: int, k: int, delta: np.ndarray) -> str:
    """Why the remedial actions leave branch `k` overloaded in case `ci`: no resource moves its
    loading, or those that relieve it are at their limits, or relieving it overloads another."""
    s = lp.S[ci, k]
    helpful = []
    for j, r in enumerate(lp.resources):
        relief = -s[j]  # percentage points of relief per MW of increase
        if abs(relief) < 2e-4:  # less than 0.02 pp per 100 MW
            continue
        at_limit = (relief > 0 and delta[j] >= r.up_mw - 1e-3) or (relief < 0 and -delta[j] >= r.down_mw - 1e-3)
        helpful.append((abs(relief), r.name, at_limit))
    if not helpful:
        return ("no remedial resource changes this loading (it feeds demand radially or is set by fixed "
                "injections); only a grid reinforcement or less demand behind it clears it")
    ranked = sorted(helpful, reverse=True)
    free = [name for _, name, at in ranked if not at]
    if not free:
        return f"every resource that relieves it is at its limit ({', '.join(name for _, name, _ in ranked[:4])})"
    return ("relieving it further would overload another branch in some outage, or needs generation that is "
            f"exhausted elsewhere (the constraints conflict); resources not at their limit: {', '.join(free[:4])}")


# ------------------------------------------------------------------- hosting with redispatch


class RedispatchHosting:
    """Hosting capacity **with redispatch**: the largest added load at a bus for which a
    preventive redispatch (the same remedial resources as the securing step) keeps every N-1
    case within its limits, and the redispatch volume it needs.

    The load is balanced like the firm hosting's (the distributed slack); the redispatch comes on
    top of that and sums to zero. Method, per bus:

    1. every case near a limit is solved (AC) with the firm hosting capacity at the bus — where
       the grid sits at its limit without redispatch — and linearised there (first-order AC
       sensitivities of the loadings to each resource and to more load): a large load makes the
       grid nonlinear, and a linearisation at no load would be optimistic. The other cases start
       from a first-order state and are linearised by AC as soon as an LP answer brings them
       within 20 pp / 0.03 pu of a limit (:meth:`_linearise`);
    2. the LP maximises the extra load above firm, then minimises the cost;
    3. AC power flow confirms it in every case whose corrected first-order loading (corrected
       branch by branch by the base case's AC − first-order difference at the answer) is near a
       limit; a row AC finds over is tightened by its gap and the LP solved again; a final check
       covers every case within 10 pp of a limit;
    4. when a correction was needed, regula falsi between the confirmed and the rejected load,
       with the least-cost redispatch at each trial load, refines the answer to 4 MW (the answer
       is the confirmed end: never above an AC-confirmed load);
    5. the answer is accepted only once AC holds in every case still linearised to first order;
       where it does not, those cases are linearised by AC and steps 2–4 repeat (after two such
       rounds with every case linearised by AC).

    A voltage or convergence limit (no LP row) is handled by the same refinement.
    """

    def __init__(self, cs, resources: list[Resource], costs: RemedialCosts, net, pf_tan: float,
                 max_mw: float, tol_mw: float = 0.5) -> None:
        self.cs = cs
        g = cs.grid
        self.resources = resources
        self.costs = costs
        self.patterns = np.column_stack([r.pattern(net, g) for r in resources]) if resources else np.zeros((g.n, 0))
        self.tan = pf_tan
        self.max_mw = max_mw
        self.tol = tol_mw
        self.ac_solves = 0
        self._shared = None

    def _linearise(self, bus: int, base_mw: float, exact_all: bool = False) -> tuple[RedispatchLP, np.ndarray]:
        """The redispatch LP linearised with `base_mw` at `bus`, and the load's sensitivities
        (C × m, pp per MW) there.

        A case is linearised *exactly* — AC-solved with `base_mw` and differentiated there —
        when `exact_all`, when its first-order state at `base_mw` has a branch within
        :data:`_EXACT_BAND_PP` of its limit or a voltage within :data:`_EXACT_BAND_PU` of its
        band, and (:meth:`_upgrade`) as soon as an LP answer brings it that near. The others
        start from their state without the load with the voltages moved to first order by
        `base_mw` (branch loadings evaluated at those voltages), and the resources'
        sensitivities without the load (the same for every bus). Their estimates can be far off
        at a large load, so an answer is accepted only after AC in every such case
        (:meth:`_unsafe_cases`)."""
        cs, g = self.cs, self.cs.grid
        # a compact screen (a large grid) keeps no per-case voltage sensitivities: every case exact
        col = None if getattr(cs, "_compact", None) is not None else getattr(cs, "_screened", {}).get(int(bus))
        n_c = len(cs.cases)
        n_r = self.patterns.shape[1]
        if exact_all or col is None or base_mw <= 0:
            volt = (np.zeros((n_c, g.n, n_r)), np.zeros((n_c, g.n)))
            lp, sens = self._assemble([c.pre for c in cs.cases], np.zeros((n_c, g.m, n_r)), np.zeros((n_c, g.m)),
                                      *volt, *(a.copy() for a in volt))
            self._make_exact(lp, sens, bus, base_mw, range(n_c))
            return lp, sens
        shared = self._noload()
        alive = np.stack([g.alive(c.outage) for c in cs.cases])
        dv = cs._dv[col].copy()
        da = cs._da[col].copy()
        states, sens_l = _first_order_states(g, [c.pre for c in cs.cases], alive, dv, da, base_mw)
        lp, sens = self._assemble(states, shared[0], sens_l, shared[1].copy(), dv, shared[2].copy(), da)
        # (the LP copies S; DV and DA are its own)
        with np.errstate(invalid="ignore"):
            near = (np.abs(lp.L0) >= lp.LIMIT - _EXACT_BAND_PP).any(axis=1)
            near |= ((lp.V0 <= lp.VLOW + _EXACT_BAND_PU) | (lp.V0 >= lp.VHIGH - _EXACT_BAND_PU)).any(axis=1)
        near[0] = True  # the base case: its AC − first-order difference corrects the others' estimates
        self._make_exact(lp, sens, bus, base_mw, np.flatnonzero(near))
        return lp, sens

    def _assemble(self, states, sens_r, sens_l, volt_r, volt_l, angle_r, angle_l) -> tuple[RedispatchLP, np.ndarray]:
        """The LP of the cases at `states`, none of them linearised exactly yet: loading,
        voltage and angle sensitivities to the resources (C × m × R, C × n × R, C × n × R) and
        to the load (C × m, C × n, C × n)."""
        cs, g = self.cs, self.cs.grid
        cases = [_Case(c.outage, s, c.max_loading) for c, s in zip(cs.cases, states)]
        lp = RedispatchLP(g, cases, self.resources, self.costs, self.patterns, sens=sens_r)
        lp.exact = np.zeros(len(cases), dtype=bool)
        # first-order voltages too (n per case): the AC check also looks where a voltage nears its band
        lp.V0 = np.stack([c.pre.vm_pu for c in cases])
        lp.DV = volt_r
        lp.DV_LOAD = volt_l
        # and angles: the AC checks start from the first-order state of the answer
        lp.A0 = np.stack([c.pre.va_rad for c in cases])
        lp.DA = angle_r
        lp.DA_LOAD = angle_l
        lp.VLOW = np.stack([c.vm_low for c in cs.cases])
        lp.VHIGH = np.stack([c.vm_high for c in cs.cases])
        return lp, sens_l

    def _make_exact(self, lp: RedispatchLP, sens: np.ndarray, bus: int, base_mw: float, which) -> None:
        """Linearise the cases `which` exactly (AC at `base_mw`), in `lp` and `sens` in place."""
        cs, g = self.cs, self.cs.grid
        which = [int(ci) for ci in which if not lp.exact[int(ci)]]
        if not which:
            return
        n_r = self.patterns.shape[1]
        p_inj = np.zeros((g.n, n_r + 1))
        p_inj[:, :n_r] = self.patterns
        p_inj[bus, n_r] = -1.0
        q_inj = np.zeros_like(p_inj)
        q_inj[bus, n_r] = -self.tan
        states = [cs.cases[ci].pre for ci in which]
        if base_mw > 0:  # from the first-order state at base_mw where screened (fewer iterations), else their own
            results = cs.solve_cases(which, bus, base_mw, base_mw * self.tan, keep_jacobian=True)
            self.ac_solves += len(which)
            states = [res if res.converged else pre for res, pre in zip(results, states)]
        alive = np.stack([g.alive(cs.cases[ci].outage) for ci in which])
        dl, dv, da = ac_sensitivities(g, states, alive, p_inj, q_inj)
        for j, ci in enumerate(which):
            lp.cases[ci] = _Case(cs.cases[ci].outage, states[j], cs.cases[ci].max_loading)
            lp.S[ci] = dl[j, :, :n_r]
            lp.L0[ci] = np.nan_to_num(states[j].loading_pct, nan=-np.inf)
            lp.V0[ci] = states[j].vm_pu
            lp.DV[ci] = dv[j, :, :n_r]
            lp.DV_LOAD[ci] = dv[j, :, n_r]
            lp.A0[ci] = states[j].va_rad
            lp.DA[ci] = da[j, :, :n_r]
            lp.DA_LOAD[ci] = da[j, :, n_r]
            sens[ci] = dl[j, :, n_r]
            lp.exact[ci] = True

    def _solve(self, lp: RedispatchLP, sens: np.ndarray, bus: int, base_mw: float, session, **kw) -> dict:
        """``lp.solve(load_sens=sens, session=session, **kw)``, solved again from a new LP while
        its answer brings cases near a limit that are not yet linearised exactly (:meth:`_upgrade`
        linearises them; their rows change)."""
        while True:
            sol = lp.solve(load_sens=sens, session=session, **kw)
            if sol["status"] != "optimal" or not self._upgrade(lp, sens, bus, base_mw, sol):
                return sol
            session = None

    def _upgrade(self, lp: RedispatchLP, sens: np.ndarray, bus: int, base_mw: float, sol: dict) -> bool:
        """Linearise exactly every case the LP answer `sol` brings near a limit; whether any."""
        if lp.exact.all():
            return False
        with np.errstate(invalid="ignore"):
            est = np.abs(lp.loadings(sol["delta"], sens, sol["load"]))
            near = (est >= lp.LIMIT - _EXACT_BAND_PP).any(axis=1)
            v = _first_order_vm(lp, sol)
            near |= ((v <= lp.VLOW + _EXACT_BAND_PU) | (v >= lp.VHIGH - _EXACT_BAND_PU)).any(axis=1)
        todo = np.flatnonzero(near & ~lp.exact)
        self._make_exact(lp, sens, bus, base_mw, todo)
        return bool(len(todo))

    def _unsafe_cases(self, lp: RedispatchLP, sol: dict, bus: int, base_mw: float) -> list[int]:
        """The cases not linearised exactly in which AC finds the answer `sol` (``load`` MW
        above `base_mw`, redispatch ``delta``) infeasible."""
        todo = np.flatnonzero(~lp.exact).tolist()
        if not todo:
            return []
        load = base_mw + sol["load"]
        results = lp.ac_check(sol["delta"], bus=bus, p_mw=load, q_mvar=load * self.tan, cases=todo,
                              starts=_first_order_voltages(lp, sol))
        self.ac_solves += len(todo)
        return np.asarray(todo)[~self.cs.feasible(todo, [res for _, res in results])].tolist()

    def _noload(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The resources' loading (C × m × R), voltage and angle (C × n × R) sensitivities in the
        cases without the load (the same for every bus)."""
        if self._shared is None:
            g = self.cs.grid
            alive = np.stack([g.alive(c.outage) for c in self.cs.cases])
            self._shared = ac_sensitivities(g, [self.cs.pre_with_jacobian(c) for c in self.cs.cases], alive, self.patterns,
                                            np.zeros_like(self.patterns))
        return self._shared

    def load_sens(self, bus: int) -> np.ndarray:
        """Per case (C × m): loading change [pp] per MW of load at internal bus `bus` (at the
        load's power factor) from the cases without load, balanced by the distributed slack."""
        return self._linearise(int(bus), 0.0)[1]

    def run(self, bus: int, firm_mw: float) -> dict:
        """``with_redispatch_mw``, ``redispatch_mw`` (volume up), limiting element and case."""
        from .hosting import case_label, element_label, reactive_note

        none = {"with_redispatch_mw": firm_mw, "redispatch_mw": 0.0, "redispatch_limiting_element": "",
                "redispatch_limiting_case": "", "redispatch_constraint": "firm", "redispatch_reactive_limits": ""}
        if firm_mw >= self.max_mw - self.tol:
            return none | {"redispatch_constraint": "cap"}
        lp, sens = self._linearise(bus, firm_mw)
        room = self.max_mw - firm_mw
        for attempt in range(_RECHECKS + 1):
            best = self._largest(lp, sens, bus, firm_mw, room)
            if best is None or best["load"] <= self.tol:
                return none
            # accepted only once AC holds in every case still linearised to first order
            bad = self._unsafe_cases(lp, best, bus, firm_mw)
            if not bad:
                break
            self._make_exact(lp, sens, bus, firm_mw, range(len(lp.cases)) if attempt >= _RECHECKS - 1 else bad)
        load = firm_mw + min(best["load"], room)
        note = ""
        if best["load"] >= room - 1e-6:
            elem, case, kind = "", "", "cap"
        elif best.get("kind") in ("voltage", "convergence") and getattr(self, "_other_at", None):
            ci, kind, k = self._other_at
            elem = element_label(self.cs.grid, kind, k) if kind == "voltage" else ""
            case = case_label(self.cs.grid, self.cs.cases[ci].outage)
            if kind == "voltage":  # the generators the answer takes beyond their reactive range
                res = lp.ac_check(best["delta"], bus=bus, p_mw=load, q_mvar=load * self.tan, cases=[ci])[0][1]
                self.ac_solves += 1
                note = reactive_note(self.cs.grid, res, outage=self.cs.cases[ci].outage, bus=bus,
                                     q_mvar=load * self.tan)
        else:
            ci, k = self._binding(lp, best, sens, best.get("tighten", {}))
            elem = element_label(self.cs.grid, "thermal", k) if k >= 0 else ""
            case = case_label(self.cs.grid, self.cs.cases[ci].outage) if ci >= 0 else ""
            kind = best.get("kind", "thermal")
        up, _ = redispatch_volume(self.resources, best["delta"])
        return {"with_redispatch_mw": load, "redispatch_mw": up, "redispatch_limiting_element": elem,
                "redispatch_limiting_case": case, "redispatch_constraint": kind, "redispatch_reactive_limits": note}

    def _largest(self, lp, sens, bus, base, room) -> dict | None:
        """The largest extra load above `base` (at most `room`) whose redispatch passes the AC
        check, to :data:`_REFINE_MW`: the LP's answer, refined when AC corrections were needed."""
        self._other_at = None
        best, hi, hi_excess, other = self._search(lp, sens, bus, base, room, {})
        lo = best["load"] if best is not None else 0.0
        if math.isfinite(hi) and hi - lo > max(2.0 * self.tol, _REFINE_MW):
            refined = self._refine(lp, sens, bus, base, lo, hi, hi_excess, bool(other))
            if refined is not None and (best is None or refined["load"] > best["load"]):
                best = refined | ({"kind": other} if other else {})
        return best

    def _search(self, lp, sens, bus, base, room, tighten: dict):
        """LP for the largest extra load, AC-corrected until the quick AC check agrees; returns
        (best or None, the smallest rejected load, its worst excess, a voltage/convergence
        limit met)."""
        tighten = dict(tighten)
        best, session = None, None
        hi, hi_excess, other = math.inf, math.inf, False
        for _ in range(10):
            sol = self._solve(lp, sens, bus, base, session, maximise_load=True, max_load_mw=room, tighten=tighten)
            session = sol["session"]
            if sol["status"] != "optimal":
                break
            check = self._ac(lp, sol, sens, bus, base)
            if check["ok"]:
                best = sol | {"tighten": dict(tighten)}
                break
            if sol["load"] < hi:
                hi, hi_excess = sol["load"], check["worst"]
            if check["other"]:  # a voltage or convergence limit: the LP has no row for it
                other = check["other"]
                break
            self._correct(tighten, check)
        return best, hi, hi_excess, other

    def at_load(self, bus: int, load: float, firm_mw: float = 0.0) -> dict | None:
        """The least-cost redispatch that lets `load` MW connect at internal bus `bus`
        (linearised at `firm_mw`, where the grid holds without redispatch), AC-confirmed; None
        when there is none. The dict has ``delta`` (MW per resource) and ``load`` (MW above
        `firm_mw`)."""
        base = min(float(firm_mw), float(load))
        lp, sens = self._linearise(int(bus), base)
        while True:  # each round linearises at least one more case exactly
            sol = self._trial(lp, sens, int(bus), base, float(load) - base)[0]
            bad = [] if sol is None else self._unsafe_cases(lp, sol, int(bus), base)
            if not bad:
                return sol
            self._make_exact(lp, sens, int(bus), base, bad)

    def _refine(self, lp, sens, bus, base, lo: float, hi: float, hi_excess: float, other: bool) -> dict | None:
        """Largest extra load in (lo, hi] whose least-cost redispatch passes AC, to 4 MW: regula
        falsi on the worst AC excess [pp] (bisection where it is not usable, and after two
        confirmed trials in a row: the least-cost redispatch holds some row at its limit, so the
        margin at `lo` is near zero and regula falsi would creep up from `lo` in minimal steps)."""
        best = None
        lo_margin = None  # worst AC margin below the limits at lo (>= 0), once known
        step = max(2.0 * self.tol, _REFINE_MW)
        ok_in_row = 0
        while hi - lo > step:
            if lo_margin is not None and math.isfinite(hi_excess) and hi_excess > 0 and not other and ok_in_row < 2:
                mid = lo + (hi - lo) * lo_margin / (lo_margin + hi_excess)
                mid = min(max(mid, lo + 0.5 * step), hi - 0.5 * step)
            else:
                mid = 0.5 * (lo + hi)
            sol, worst = self._trial(lp, sens, bus, base, mid)
            if sol is not None:
                lo, best, lo_margin = mid, sol, max(-worst, 0.0)
                ok_in_row += 1
            else:
                hi, hi_excess = mid, worst
                ok_in_row = 0
        return best

    def _trial(self, lp, sens, bus, base, extra: float) -> tuple[dict | None, float]:
        """The least-cost redispatch for `extra` MW above `base` with AC corrections; (solution
        or None, worst AC excess over the limits [pp], negative = margin)."""
        tighten: dict = {}
        session = None
        worst = math.inf
        for _ in range(8):
            sol = self._solve(lp, sens, bus, base, session, load_mw=extra, tighten=tighten)
            session = sol["session"]
            if sol["status"] != "optimal":
                return None, math.inf
            check = self._ac(lp, sol, sens, bus, base)
            worst = check["worst"]
            if check["ok"]:
                return sol | {"tighten": tighten}, worst
            if check["other"]:
                return None, math.inf
            self._correct(tighten, check)
        return None, worst

    def _ac(self, lp, sol, sens, bus, base) -> dict:
        """AC check of the LP answer (`base` + the LP's load at `bus`): the base case, then every
        case whose first-order loading, corrected branch by branch by the base case's observed
        AC − first-order difference at this answer, is within a guard band of a limit (1 pp plus
        half that difference); when those pass, every case within 10 pp. Returns thermal
        excesses and AC − first-order gaps per row [pp], the worst AC excess, and whether a
        voltage or convergence limit is hit."""
        cs = self.cs
        load = base + sol["load"]
        est = np.abs(lp.loadings(sol["delta"], sens, sol["load"]))
        v_est = _first_order_vm(lp, sol)
        starts = _first_order_voltages(lp, sol, v_est)
        first = lp.ac_check(sol["delta"], bus=bus, p_mw=load, q_mvar=load * self.tan, cases=[0], starts=starts)
        corr = np.zeros(lp.L0.shape[1])
        if first[0][1].converged:
            with np.errstate(invalid="ignore"):
                corr = np.nan_to_num(first[0][1].loading_pct - est[0], nan=0.0, posinf=0.0, neginf=0.0)
        v_corr = first[0][1].vm_pu - v_est[0] if first[0][1].converged else 0.0
        checked = {0}
        out = self._judge(lp, first, est)
        for band, vband in ((1.0, 0.01), (10.0, 0.03)):
            if not out["ok"]:
                break
            with np.errstate(invalid="ignore"):
                near = (est + corr >= lp.LIMIT - (band + 0.5 * np.abs(corr))).any(axis=1)
                v = v_est + v_corr
                vb = vband + 0.5 * np.abs(v_corr)
                near |= ((v <= lp.VLOW + vb) | (v >= lp.VHIGH - vb)).any(axis=1)
            pick = [ci for ci in np.flatnonzero(near).tolist() if ci not in checked]
            checked |= set(pick)
            more = self._judge(lp, lp.ac_check(sol["delta"], bus=bus, p_mw=load, q_mvar=load * self.tan, cases=pick,
                                               starts=starts), est)
            out = _merge_checks(out, more)
        self.ac_solves += len(checked)
        return out

    def _judge(self, lp, results, est) -> dict:
        cs = self.cs
        excess, gap, other = {}, {}, False
        worst = -math.inf
        ids = [ci for ci, _ in results]
        feasible = cs.feasible(ids, [res for _, res in results])
        conv = [j for j, (_, res) in enumerate(results) if res.converged]
        kinds = {j: "convergence" for j, (_, res) in enumerate(results) if not res.converged}  # the last one counts
        if kinds:
            worst = math.inf
        if conv:
            rows = [ids[j] for j in conv]
            loading = np.stack([results[j][1].loading_pct for j in conv])
            over = loading - np.stack([cs.cases[ci].max_loading for ci in rows])
            worst = max(worst, float(np.nanmax(over)))
            with np.errstate(invalid="ignore"):  # NaN (a branch out) compares False
                near = np.fmax(loading, est[rows]) >= lp.LIMIT[rows] - _GAP_BAND_PP
            for r, k in zip(*(a.tolist() for a in np.nonzero(near))):
                gap[(rows[r], k)] = float(loading[r, k] - est[rows[r]][k])
            for r, j in enumerate(conv):
                if feasible[j]:
                    continue
                ci, res = results[j]
                ev = cs.judge(cs.cases[ci], res)
                if ev.kind != "thermal":
                    kinds[j] = ev.kind
                    self._other_at = (ci, ev.kind, ev.element)
                    continue
                with np.errstate(invalid="ignore"):
                    for k in np.flatnonzero(over[r] > 0).tolist():
                        excess[(ci, k)] = float(over[r, k])
                        gap[(ci, k)] = float(loading[r, k] - est[ci][k])
        if kinds:
            other = kinds[max(kinds)]
        return {"ok": not excess and not other, "excess": excess, "gap": gap, "other": other, "worst": worst}

    @staticmethod
    def _correct(tighten: dict, check: dict) -> None:
        """Tighten each row AC found over its limit: by at least its AC − first-order gap at
        this answer (so a row the LP thought slack becomes binding), and by at least the
        previous correction plus the excess."""
        for key, pp in check["excess"].items():
            need = max(tighten.get(key, 0.0) + pp, check["gap"].get(key, 0.0))
            tighten[key] = need + _PAD_PP

    def _binding(self, lp, sol, sens, tighten) -> tuple[int, int]:
        """The row that stops the load: of the rows at their limit at the answer (within
        :data:`_TIE_PP` of the closest — the LP holds several there at once, and which of them
        comes out closest is solver noise), the one the load loads most per MW."""
        with np.errstate(invalid="ignore"):
            margin = lp._limits(tighten) - np.abs(lp.loadings(sol["delta"], sens, sol["load"]))
        margin = np.where(np.isfinite(margin), margin, np.inf)
        if not margin.size or not np.isfinite(margin.min()):
            return -1, -1
        tied = margin <= margin.min() + _TIE_PP
        ci, k = np.unravel_index(int(np.argmax(np.where(tied, np.abs(sens), -1.0))), margin.shape)
        return int(ci), int(k)


def _first_order_vm(lp: RedispatchLP, sol: dict) -> np.ndarray:
    """Per case (C × n), the bus voltage magnitudes [pu] of the LP answer `sol` to first order."""
    return lp.V0 + lp.DV @ sol["delta"] + lp.DV_LOAD * sol["load"]


def _first_order_voltages(lp: RedispatchLP, sol: dict, vm: np.ndarray | None = None) -> np.ndarray:
    """Per case (C × n), the complex bus voltages of the LP answer `sol` to first order (`vm`:
    its :func:`_first_order_vm`, when the caller has it): where its AC check starts (a few Newton
    iterations fewer than from the case without it)."""
    vm = _first_order_vm(lp, sol) if vm is None else vm
    return vm * np.exp(1j * (lp.A0 + lp.DA @ sol["delta"] + lp.DA_LOAD * sol["load"]))


def _merge_checks(a: dict, b: dict) -> dict:
    return {"ok": a["ok"] and b["ok"], "excess": a["excess"] | b["excess"], "gap": a["gap"] | b["gap"],
            "other": a["other"] or b["other"], "worst": max(a["worst"], b["worst"])}


# ----------------------------------------------------------------------------- LP session

_BANNER_SHOWN = False


def _highs():
    """A silent HiGHS instance (the library prints a banner to stdout on its first instance in a
    process; that is kept off the user's terminal)."""
    import os
    import sys

    import highspy

    global _BANNER_SHOWN
    if _BANNER_SHOWN:
        h = highspy.Highs()
    else:
        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as null:
                os.dup2(null.fileno(), 1)
                h = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _BANNER_SHOWN = True
    h.silent()
    # one thread: the LPs are small, and a HiGHS without worker threads is safe to use in the
    # forked processes of the all-bus hosting capacity (siting.grid._parallel)
    h.setOptionValue("threads", 1)
    h.setOptionValue("presolve", "off")
    return h


class _Session:
    """One redispatch LP in HiGHS, grown row by row and re-solved warm.

    Columns: increases (R), decreases (R), [the load], [one overload slack per row when
    elastic]. Rows: the balance (the resources' changes sum to zero), then one ranged row per
    (case, branch) on the signed first-order loading (the current's direction in the case):
    ``−(limit − tighten) − loading₀ ≤ S·(up − down) + s_L·load − σ⁺ + σ⁻ ≤ limit − tighten − loading₀``.
    """

    def __init__(self, lp: RedispatchLP, load_sens, load_mw: float, maximise: bool, max_load_mw: float,
                 elastic: bool) -> None:
        import highspy

        self.lp = lp
        self.load_sens = None if load_sens is None else np.asarray(load_sens)
        self.load_mw = load_mw
        self.maximise = maximise
        self.elastic = elastic
        self.inf = highspy.kHighsInf
        self.h = h = _highs()
        n_r = len(lp.resources)
        self.n_r = n_r
        cost = lp._cost * (1e-4 if maximise else 1.0)  # the load first, then the least redispatch
        h.addVars(2 * n_r, np.zeros(2 * n_r), np.r_[lp._up, lp._down])
        if n_r:
            h.changeColsCost(2 * n_r, np.arange(2 * n_r, dtype=np.int32), np.r_[cost, cost])
        self.i_load = -1
        if maximise:
            self.i_load = 2 * n_r
            h.addVars(1, np.array([0.0]), np.array([float(max_load_mw)]))
            h.changeColsCost(1, np.array([self.i_load], dtype=np.int32), np.array([-1.0]))
        self.n_col = 2 * n_r + (1 if maximise else 0)
        tot = lp.patterns.sum(axis=0)
        idx = np.arange(2 * n_r, dtype=np.int32)
        h.addRows(1, np.array([0.0]), np.array([0.0]), 2 * n_r, np.array([0], dtype=np.int32), idx, np.r_[tot, -tot])
        self.rows: dict[tuple[int, int], int] = {}
        self.slack_col: dict[tuple[int, int], int] = {}
        self._l0: dict[tuple[int, int], float] = {}
        self._tight: dict[tuple[int, int], float] = {}  # the correction each row's bounds hold

    def _bounds(self, keys, tighten) -> tuple[np.ndarray, np.ndarray]:
        """Row bounds of `keys` ((case, branch) pairs) with `tighten` taken off their limits."""
        ci = np.array([key[0] for key in keys], dtype=int)
        kk = np.array([key[1] for key in keys], dtype=int)
        lim = np.maximum(self.lp.LIMIT[ci, kk] - np.array([tighten.get(key, 0.0) for key in keys]), 0.0)
        l0 = np.array([self._l0[key] for key in keys])
        return -lim - l0, lim - l0

    def add(self, keys, tighten: dict) -> None:
        lp, h = self.lp, self.h
        keys = sorted(k for k in keys if k not in self.rows)
        if not keys:
            return
        if self.elastic:
            n_new = 2 * len(keys)
            h.addVars(n_new, np.zeros(n_new), np.full(n_new, self.inf))
            cols = np.arange(self.n_col, self.n_col + n_new, dtype=np.int32)
            h.changeColsCost(n_new, cols, np.full(n_new, _PENALTY))
        ci = np.array([key[0] for key in keys])
        kk = np.array([key[1] for key in keys])
        sens = lp.S[ci, kk]  # rows × R
        l0 = lp.L0[ci, kk].copy()
        if self.load_sens is not None and not self.maximise:
            l0 += self.load_sens[ci, kk] * self.load_mw
        for key, v in zip(keys, l0.tolist()):
            self._l0[key] = v
            self._tight[key] = tighten.get(key, 0.0)
        lo, hi = self._bounds(keys, tighten)
        blocks = [sens, -sens]
        if self.maximise:
            blocks.append(self.load_sens[ci, kk][:, None])
        if self.elastic:
            pair = np.zeros((len(keys), 2 * len(keys)))
            pair[np.arange(len(keys)), 2 * np.arange(len(keys))] = -1.0
            pair[np.arange(len(keys)), 2 * np.arange(len(keys)) + 1] = 1.0
            blocks.append(pair)
            for j, key in enumerate(keys):
                self.slack_col[key] = self.n_col + 2 * j
        dense = np.hstack(blocks)
        cols = np.r_[np.arange(2 * self.n_r), [self.i_load] if self.maximise else [],
                     np.arange(self.n_col, self.n_col + 2 * len(keys)) if self.elastic else []].astype(np.int32)
        nz = dense != 0.0
        starts = np.r_[0, np.cumsum(nz.sum(axis=1))[:-1]].astype(np.int32)
        index = np.broadcast_to(cols, dense.shape)[nz].astype(np.int32)
        value = dense[nz]
        first = h.getNumRow()
        h.addRows(len(keys), lo, hi, len(index), starts, index, value)
        for j, key in enumerate(keys):
            self.rows[key] = first + j
        if self.elastic:
            self.n_col += 2 * len(keys)

    def retighten(self, tighten: dict) -> None:
        """Row bounds for the corrections `tighten` (rows whose correction changed, and rows
        for corrections not in the LP yet)."""
        changed = [key for key in self.rows if tighten.get(key, 0.0) != self._tight.get(key, 0.0)]
        if changed:
            lo, hi = self._bounds(changed, tighten)
            rows = np.array([self.rows[key] for key in changed], dtype=np.int32)
            self.h.changeRowsBounds(len(rows), rows, lo, hi)
        missing = [k for k in tighten if k not in self.rows]
        if missing:
            self.add(missing, tighten)
        self._tight = dict(tighten)

    def run(self) -> dict:
        import highspy

        h = self.h
        h.run()
        n_r = self.n_r
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return {"status": "infeasible", "delta": np.zeros(n_r), "load": 0.0, "overload": {}, "session": self,
                    "message": str(h.getModelStatus())}
        x = np.asarray(h.getSolution().col_value)
        delta = x[:n_r] - x[n_r:2 * n_r]
        delta[np.abs(delta) < 1e-6] = 0.0
        overload = {key: float(x[c] + x[c + 1]) for key, c in self.slack_col.items() if x[c] + x[c + 1] > 1e-4}
        load = float(x[self.i_load]) if self.maximise else float(self.load_mw)
        return {"status": "optimal", "delta": delta, "load": load, "overload": overload, "session": self}


def _first_order_states(grid: ACGrid, pres: list[ACResult], alive: np.ndarray, dv: np.ndarray, da: np.ndarray,
                        p_mw: float) -> tuple[list[ACResult], np.ndarray]:
    """The cases `pres` with their voltages moved to first order by `p_mw` of load (magnitude
    and angle sensitivities per MW `dv`, `da`: C × n), the branch loadings *at* those voltages —
    not extrapolated: a branch carrying almost nothing before the load has a loading slope of
    arbitrary sign there (robbenplaat–eemshaven-oost with its twin out: 0.016 %, extrapolated to
    −20 % at 880 MW where AC gives 100 %) — and the loadings' slope per MW of load there (C × m)."""
    vm = np.stack([p.vm_pu for p in pres]) + dv * p_mw
    va = np.stack([p.va_rad for p in pres]) + da * p_mw
    loading, dl = loading_and_sensitivity(grid, vm * np.exp(1j * va), alive, da[:, :, None], dv[:, :, None])
    states = [dataclasses.replace(p, vm_pu=vm[i], va_rad=va[i], loading_pct=loading[i], jacobian=None)
              for i, p in enumerate(pres)]
    return states, dl[:, :, 0]
