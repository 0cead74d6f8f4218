"""A compact AC Newton–Raphson power flow with distributed slack, for many cases of one network.

pandapower converts the network (lines, transformers, generators, loads, parallel circuits) to
its internal per-unit case once; this module solves that case again and again — with an added
load at any bus and with any single circuit out — without pandapower's per-call conversion, so
that N-1 screening of every bus is fast. Its results equal ``pandapower.runpp(net,
distributed_slack=True)`` (tested to 1e-6 pu and 1e-3 % loading).

A contingency takes **one circuit** of a branch out: a branch of ``p`` parallel circuits keeps
``(p-1)/p`` of its admittance and rating; a single-circuit branch is removed. Contingencies that
split the network are reported and skipped.

Two Newton engines solve the same equations (the distributed-slack formulation of pandapower):
lightsim2grid's compiled Newton–Raphson with KLU (``engine="lightsim2grid"``, the default when it
is installed; on the embedded Dutch grid an N-1 solve with its loadings takes 0.27 ms against
1.0 ms) and this module's own numpy Newton (``engine="numpy"``), which halves a step that would
take a voltage out of 0.3–2 pu and is the fallback whenever the compiled solve does not converge.
Where both converge they agree to 1e-9 pu (tested in every N-1 case). :meth:`ACGrid.solve_many`
solves several cases at one load together (the work around the compiled Newton done once for all
of them: on the embedded grid 135 µs a case against 250 µs for one :meth:`ACGrid.solve` each,
measured side by side).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import networkx as nx
import numpy as np
import pandapower as pp
import scipy.sparse as sp
from pandapower.pypower.dSbus_dV import dSbus_dV
from pandapower.pypower.idx_brch import BR_STATUS, F_BUS, T_BUS
from pandapower.pypower.idx_bus import BASE_KV, BUS_TYPE, NONE, PD, PQ, PV, QD, REF, SL_FAC, VA, VM
from pandapower.pd2ppc import _pd2ppc
from pandapower.pypower.idx_gen import GEN_BUS, GEN_STATUS, PG, QMAX, QMIN, VG
from pandapower.pypower.makeYbus import branch_vectors, makeYbus
from scipy.sparse.csgraph import connected_components
from scipy.sparse.linalg import splu

from ..errors import SitingError
from ._kernels import chord_solve

__all__ = ["ACGrid", "ACResult"]

_SQRT3 = math.sqrt(3.0)
#: Networks up to this many buses are solved with dense linear algebra (faster when small).
DENSE_MAX_BUSES = 400
#: at most this many steps of the chord method (:meth:`ACGrid.solve_chord`) before Newton takes over
CHORD_MAX_ITER = 20
_NO_UPDATE = (np.zeros((0, 0)), np.zeros((0, 0)), np.zeros(0, dtype=np.int64))  # (solve_chord without one)
#: the Newton engines (see the module notes); "auto" takes lightsim2grid when it is installed
ENGINES = ("auto", "lightsim2grid", "numpy")
#: admittance entries kept in the per-outage matrices of the compiled engine (16 bytes each:
#: 64 MB), so that a case solved again reuses its matrix; beyond it they are rebuilt per solve
_CACHE_ENTRIES = 4_000_000


#: the numpy Newton gives up when its smallest mismatch has not fallen by 10 % in this many
#: iterations (measured on IEEE 118: every such fallback failed anyway, after ~21 iterations)
_STALL_ITERS = 5


def _compiled_newton():
    """lightsim2grid's KLU Newton–Raphson (a new instance), or None when it is not installed."""
    try:
        from lightsim2grid.algorithm import NR_KLU
    except ImportError:
        try:  # a build without KLU
            from lightsim2grid.algorithm import NR_SparseLU as NR_KLU
        except ImportError:
            return None
    return NR_KLU()


@dataclass(frozen=True)
class ACResult:
    """One solved case: voltages and branch loadings (or the reason it did not converge)."""

    converged: bool
    iterations: int
    vm_pu: np.ndarray  # per internal bus
    va_rad: np.ndarray
    loading_pct: np.ndarray  # per branch (line rows, then trafo rows); NaN for an open branch
    p_from_mw: np.ndarray
    q_from_mvar: np.ndarray
    slack_mw: float  # total balancing taken by the distributed slack [MW]
    jacobian: np.ndarray | sp.csc_matrix | None = None


class ACGrid:
    """The pandapower network `net`, compiled for repeated AC solves.

    Parameters
    ----------
    net : pandapowerNet
        Solved or not; it is solved once here (``distributed_slack=True``, from a DC start as
        pandapower does by default for transmission grids: a flat start failed on case1888rte
        and found a collapsed 0.02 pu solution on case2848rte) to obtain the internal case. Not
        modified beyond pandapower's own result tables. Elements the engine does not model
        (:data:`UNMODELLED`, voltage-dependent loads) are refused by name.
    """

    def __init__(self, net: pp.pandapowerNet, engine: str = "auto") -> None:
        if engine not in ENGINES:
            from ..errors import ConfigError

            raise ConfigError(f"engine={engine!r} is not an AC engine; use one of {', '.join(ENGINES)}")
        _refuse_unmodelled(net)
        try:
            pp.runpp(net, distributed_slack=True, numba=False, init="dc", lightsim2grid=False)
        except pp.LoadflowNotConverged as exc:
            raise SitingError(
                "the base case of the network does not converge in pandapower; "
                "check the scenario (demand, dispatch, exchanges) and the network data"
            ) from exc
        solved = net._ppc
        # a fresh conversion holds the scheduled injections (the solved case holds results)
        ppc, _ = _pd2ppc(net)
        lookup = net._pd2ppc_lookups
        self.base_mva = float(ppc["baseMVA"])
        bus = ppc["bus"]
        gen = ppc["gen"]
        branch = ppc["branch"]
        self.n = bus.shape[0]
        self.bus_lookup = np.asarray(lookup["bus"])  # pandapower bus index -> internal bus
        btype = bus[:, BUS_TYPE].astype(int)
        refs = np.flatnonzero(btype == REF)
        if len(refs) != 1:
            raise SitingError(f"the network must have exactly one angle reference (ext_grid); it has {len(refs)}")
        self.ref = int(refs[0])
        self.pv = np.flatnonzero(btype == PV)
        self.pq = np.flatnonzero(btype == PQ)
        # isolated buses (pandapower marks them NONE) take no part in the equations
        self.active = np.flatnonzero(btype != NONE)
        self.isolated = np.flatnonzero(btype == NONE)
        self.nonref = np.flatnonzero((btype != REF) & (btype != NONE))
        self.p_row = np.full(self.n, -1)
        self.p_row[self.active] = np.arange(len(self.active))
        self.base_kv = bus[:, BASE_KV].real.astype(float)
        on = gen[:, GEN_STATUS].real > 0
        gbus = gen[on, GEN_BUS].real.astype(int)
        sched = np.zeros(self.n, dtype=complex)
        np.add.at(sched, gbus, gen[on, PG].real)
        # Q of PV/REF generators is free; only loads' (and sgens') Q is scheduled
        sched -= bus[:, PD].real + 1j * bus[:, QD].real
        self.p_sched = sched.real / self.base_mva
        self.q_sched = sched.imag / self.base_mva
        w = bus[:, SL_FAC].real.astype(float)
        if w.sum() <= 0:
            w = np.zeros(self.n)
            w[self.ref] = 1.0
        self.slack_w = w / w.sum()
        # voltage set points: generator VG at PV/REF buses
        self.v_set = np.ones(self.n)
        self.v_set[gbus] = gen[on, VG].real
        # reactive range of the generators at each PV bus [Mvar] (summed; not enforced, as in
        # runpp's default: reactive_excess reports where a solved state leaves it)
        qmax = np.nan_to_num(gen[on, QMAX].real.astype(float), nan=np.inf)
        qmin = np.nan_to_num(gen[on, QMIN].real.astype(float), nan=-np.inf)
        self.q_max_mvar = np.zeros(self.n)
        self.q_min_mvar = np.zeros(self.n)
        np.add.at(self.q_max_mvar, gbus, qmax)
        np.add.at(self.q_min_mvar, gbus, qmin)
        self.v0 = solved["bus"][:, VM].real * np.exp(1j * np.deg2rad(solved["bus"][:, VA].real))
        self.v0[~np.isfinite(self.v0)] = 1.0  # isolated buses have no result
        self._branch = branch.copy()
        self.ybus, self.yf, self.yt = (m.tocsr() for m in makeYbus(self.base_mva, bus, branch))
        self.f = branch[:, F_BUS].real.astype(int)
        self.t = branch[:, T_BUS].real.astype(int)
        self.m = branch.shape[0]
        self.branch_on = branch[:, BR_STATUS].real > 0
        # element behind each branch row, and its parallel count and rated currents
        self.element: list[tuple[str, int]] = [("", -1)] * self.m
        self.parallel = np.ones(self.m)
        self.i_rated_f_ka = np.full(self.m, np.inf)
        self.i_rated_t_ka = np.full(self.m, np.inf)
        for kind in ("line", "trafo"):
            if kind not in lookup["branch"]:
                continue
            s, e = lookup["branch"][kind]
            table = net[kind]
            self.element[s:e] = [(kind, int(i)) for i in table.index]
            self.parallel[s:e] = table["parallel"].to_numpy(float)
            self.i_rated_f_ka[s:e], self.i_rated_t_ka[s:e] = _rated_currents(kind, table)
        # each branch's own admittance contribution (its 2 × 2 stamp: yff, yft, ytf, ytt at rows
        # f, f, t, t and columns f, t, f, t), to take circuits out cheaply
        ytt, yff, yft, ytf = branch_vectors(branch, self.m)
        self._stamp = np.stack([yff, yft, ytf, ytt], axis=1)
        self._stamp_rows = np.stack([self.f, self.f, self.t, self.t], axis=1)
        self._stamp_cols = np.stack([self.f, self.t, self.f, self.t], axis=1)
        self.dense = self.n <= DENSE_MAX_BUSES
        self._ybus_dense = self.ybus.toarray() if self.dense else None
        # the branch-current matrices as the loadings use them: dense when small (a product
        # costs a microsecond instead of scipy's call overhead); stacked (from ends, then to
        # ends) for one product per solve
        self._yf_yt = (self.yf.toarray(), self.yt.toarray()) if self.dense else (self.yf, self.yt)
        self._y_ends = np.vstack(self._yf_yt) if self.dense else sp.vstack([self.yf, self.yt]).tocsr()
        # each branch row's two entries in Yf and Yt (its from- and to-end currents are
        # y_ff·V_f + y_ft·V_t and y_tf·V_f + y_tt·V_t): m × 4, zero for a branch out of service
        rows = np.arange(self.m)
        self._end_y = np.stack([np.asarray(y[rows, col]).ravel() for y, col in
                                ((self.yf, self.f), (self.yf, self.t), (self.yt, self.f), (self.yt, self.t))], axis=1)
        self._all_active = len(self.active) == self.n
        # Jacobian block indices, built once (the dense Jacobian is assembled per iteration)
        self._jac_ix = (np.ix_(self.active, self.nonref), np.ix_(self.active, self.pq),
                        np.ix_(self.pq, self.nonref), np.ix_(self.pq, self.pq))
        self.names: dict[tuple[str, int], str] = {}
        for kind in ("line", "trafo"):
            for idx, name in net[kind]["name"].items():
                self.names[(kind, int(idx))] = str(name) if isinstance(name, str) and name else str(idx)
        self.bus_names = [""] * self.n
        for idx, name in net.bus["name"].items():
            self.bus_names[int(self.bus_lookup[idx])] = str(name) if isinstance(name, str) and name else str(idx)
        self.i_base_f_ka = self.base_mva / (_SQRT3 * self.base_kv[self.f])
        self.i_base_t_ka = self.base_mva / (_SQRT3 * self.base_kv[self.t])
        self._fixed_v = np.r_[self.pv, self.ref].astype(int)  # buses whose voltage magnitude is set
        self._scales: dict = {}
        self._compiled = None if engine == "numpy" else self._prepare_compiled()
        if engine == "lightsim2grid" and self._compiled is None:
            from ..errors import ConfigError

            raise ConfigError("engine='lightsim2grid' needs the lightsim2grid package (pip install lightsim2grid) "
                              "and slack weights only at generator buses; use engine='auto' or 'numpy'")
        self.engine = "numpy" if self._compiled is None else "lightsim2grid"

    def _prepare_compiled(self):
        """What the compiled engine needs: the CSC admittance matrix, and for every branch the
        positions of its 2 × 2 stamp in that matrix's data, so that an outage changes values in
        place of a copy and the sparsity pattern (and KLU's symbolic analysis) stays the same.
        None when lightsim2grid is not installed or a slack weight sits at a load bus (its
        distributed slack takes weights at generator buses only)."""
        solver = _compiled_newton()
        weighted = np.flatnonzero(self.slack_w)
        if solver is None or np.isin(weighted, self.pq).any():
            return None
        csc = self.ybus.tocsc()
        csc.sort_indices()
        rows, cols = self._stamp_rows, self._stamp_cols
        pos = np.empty_like(rows)
        for k in range(self.m):
            for j in range(4):
                lo, hi = csc.indptr[cols[k, j]], csc.indptr[cols[k, j] + 1]
                pos[k, j] = lo + np.searchsorted(csc.indices[lo:hi], rows[k, j])
        if self.m and not np.array_equal(csc.indices[np.minimum(pos, csc.nnz - 1)], rows):
            return None  # a stamp entry missing from the pattern (cannot happen for makeYbus output)
        slack = np.r_[self.ref, weighted[weighted != self.ref]].astype(np.int32)  # angle reference first
        return {
            "solver": solver, "csc": csc, "pos": pos, "slack": slack, "w": self.slack_w.astype(float),
            "pv": np.setdiff1d(self.pv, slack).astype(np.int32), "pq": self.pq.astype(np.int32),
            "cache": {},
        }

    def _ybus_csc(self, outage: int | None):
        """The CSC admittance matrix with one circuit of branch row `outage` out, in the base
        case's sparsity pattern (a removed branch leaves explicit zeros)."""
        c = self._compiled
        if outage is None:
            return c["csc"]
        cached = c["cache"].get(outage)
        if cached is not None:
            return cached
        data = c["csc"].data.copy()
        np.subtract.at(data, c["pos"][outage], self._fraction_removed(outage) * self._stamp[outage])
        out = sp.csc_matrix((data, c["csc"].indices, c["csc"].indptr), shape=c["csc"].shape)
        if (len(c["cache"]) + 1) * c["csc"].nnz <= _CACHE_ENTRIES:
            c["cache"][outage] = out
        return out

    def _newton_compiled(self, outage, v: np.ndarray, p: np.ndarray, q: np.ndarray, tol: float, max_iter: int):
        """Solve with lightsim2grid; (v, slack [pu], iterations), or None when it does not converge
        to a state with every voltage within 0.3–2 pu (the numpy Newton then takes over)."""
        c = self._compiled
        ybus = self._ybus_csc(outage)
        solver = c["solver"]
        try:
            ok = solver.compute_pf(ybus, v, p + 1j * q, c["slack"], c["w"], c["pv"], c["pq"], max_iter, tol)
        except Exception:  # noqa: BLE001 - a singular Jacobian is reported as an exception by some builds
            return None
        if not ok:
            return None
        out = solver.get_V().copy()  # a view of the solver's buffer, overwritten by the next solve
        cur = self._currents(outage, out, ybus)
        if not self._all_active:
            act = self.active
            out_a, cur, p = out[act], cur[act], p[act]
        else:
            out_a = out
        if not ((vm := np.abs(out_a)) > 0.3).all() or not (vm <= 2.0).all():  # also for NaN
            return None
        # the slack weights sum to 1, every other bus balances: the slack takes the total mismatch
        lam = np.vdot(out_a, cur).real - p.sum()
        return out, float(lam), int(solver.get_nb_iter())

    # ------------------------------------------------------------------ contingencies

    def contingencies(self) -> tuple[list[int], list[int]]:
        """Line and transformer rows whose one-circuit outage keeps the network connected, and
        those that would split it (skipped). Other branch types (impedances, three-winding
        transformers) stay in service."""
        ok, split = [], []
        # only a bridge of the in-service graph (one circuit, no other branch between its buses)
        # can split it: the others are ok without a connectivity check each (Continental Europe:
        # a few dozen bridges among ~6,000 branches)
        on = np.flatnonzero(self.branch_on)
        pairs = np.sort(np.column_stack([self.f[on], self.t[on]]), axis=1)
        uniq, count = np.unique(pairs, axis=0, return_counts=True)
        graph = nx.Graph()
        graph.add_edges_from(map(tuple, uniq.tolist()))
        single = {tuple(p) for p, c in zip(uniq.tolist(), count) if c == 1}
        bridges = {tuple(sorted(e)) for e in nx.bridges(graph)} & single  # (a pair of rows is no bridge)
        for k in range(self.m):
            if not self.branch_on[k] or self.element[k][0] not in ("line", "trafo"):
                continue
            if self.parallel[k] > 1 or tuple(sorted((int(self.f[k]), int(self.t[k])))) not in bridges:
                ok.append(k)
                continue
            keep = self.branch_on.copy()
            keep[k] = False
            g = sp.coo_matrix((np.ones(keep.sum()), (self.f[keep], self.t[keep])), shape=(self.n, self.n))
            _, labels = connected_components(g, directed=False)
            # connected when every active bus shares the reference's component
            (ok if np.all(labels[self.active] == labels[self.ref]) else split).append(k)
        return ok, split

    def _fraction_removed(self, k: int) -> float:
        return 1.0 / self.parallel[k]

    # ------------------------------------------------------------------------- solve

    def solve(
        self,
        outage: int | None = None,
        bus: int | None = None,
        p_mw: float = 0.0,
        q_mvar: float = 0.0,
        v_init: np.ndarray | None = None,
        tol: float = 1e-9,
        max_iter: int = 30,
        keep_jacobian: bool = False,
        dp_mw: np.ndarray | None = None,
        dq_mvar: np.ndarray | None = None,
        fallback: bool = True,
    ) -> ACResult:
        """Solve with an added load (`p_mw`, `q_mvar`) at internal bus `bus`, one circuit of
        branch row `outage` out, and the scheduled injections changed by `dp_mw` (MW per internal
        bus, + = more generation; e.g. a redispatch) and `dq_mvar` (Mvar per internal bus, + = more
        injection; e.g. loads' reactive power in another hour).

        The added load, any imbalance of `dp_mw` and the losses are balanced by the distributed
        slack. Where the compiled Newton fails, the numpy Newton takes over unless `fallback` is
        False (a caller with another start to try first: the numpy Newton runs once, from there).
        """
        p, q = self._injections(bus, p_mw, q_mvar, dp_mw, dq_mvar)
        v = self._start(v_init)
        got = None if self._compiled is None else self._newton_compiled(outage, v, p, q, tol, max_iter)
        ybus = None
        if got is not None:
            v, lam, it = got
            converged = True
        elif self._compiled is not None and not fallback:
            it, converged = max_iter, False
        else:
            ybus = self._ybus(outage)
            v, lam, it, converged = self._newton(ybus, v, p, q, tol, max_iter)
        jac = None
        if converged and keep_jacobian:
            jac = self._jacobian(self._ybus(outage) if ybus is None else ybus, v)
        if not converged:
            nan_m = np.full(self.m, np.nan)
            return ACResult(False, it, np.full(self.n, np.nan), np.full(self.n, np.nan), nan_m, nan_m, nan_m, math.nan)
        loading, s_f = self._flows(v, *self._end_scales(outage), self._branch_scales(outage)[0])
        return ACResult(True, it, np.abs(v), np.angle(v), loading, s_f.real, s_f.imag, lam * self.base_mva, jac)

    def solve_many(self, outages, bus: int | None = None, p_mw: float = 0.0, q_mvar: float = 0.0,
                   dp_mw: np.ndarray | None = None, dq_mvar: np.ndarray | None = None,
                   starts: np.ndarray | None = None, retry: np.ndarray | None = None, tol: float = 1e-9,
                   max_iter: int = 30, keep_jacobian: bool = False, fallback: bool = True,
                   chord: bool = False) -> list[ACResult]:
        """:meth:`solve` of the same added load and injection changes in several cases: branch
        row ``outages[i]`` out (None: none), Newton from ``starts[i]`` (complex voltages per
        internal bus; default the base case's) and, where that does not converge, once more
        from ``retry[i]`` when given (e.g. the case's own state); the numpy Newton after that
        unless `fallback` is False.

        The results are those of one :meth:`solve` per case; the work around the compiled
        Newton — injections, starts, the convergence check, currents, loadings and flows — is
        done once for all the cases instead of once per case (a third of a solve's time on the
        embedded Dutch grid).

        `chord`: the compiled Newton factorises the Jacobian once a case and takes chord steps on
        it (lightsim2grid's ``Chord`` refactor policy; Newton's equations and convergence test,
        the same solution to ~1e-10 pu): on the European grid from a first-order start 6.1
        against 7.6 ms a case (4.6 steps against 3 — each Newton step factorises anew). A case
        where it fails is solved as without it."""
        outages = list(outages)
        kw = {"bus": bus, "p_mw": p_mw, "q_mvar": q_mvar, "dp_mw": dp_mw, "dq_mvar": dq_mvar, "tol": tol,
              "max_iter": max_iter, "keep_jacobian": keep_jacobian}
        if self._compiled is None or not outages:
            return [self._solve_retry(o, kw, None if starts is None else starts[i], None if retry is None else retry[i],
                                      tried=False, fallback=fallback) for i, o in enumerate(outages)]
        p, q = self._injections(bus, p_mw, q_mvar, dp_mw, dq_mvar)
        s = p + 1j * q
        v = self._start(np.broadcast_to(self.v0, (len(outages), self.n)) if starts is None else starts)
        c = self._compiled
        solver = c["solver"]
        ok = np.zeros(len(outages), dtype=bool)
        its = [0] * len(outages)
        chord = chord and hasattr(solver, "set_refactor_policy")
        if chord:
            from lightsim2grid.algorithm import RefactorPolicyType

            solver.set_refactor_policy(RefactorPolicyType.Chord)
        try:
            for i, outage in enumerate(outages):
                try:
                    ok[i] = solver.compute_pf(self._ybus_csc(outage), v[i], s, c["slack"], c["w"], c["pv"], c["pq"],
                                              max_iter, tol)
                except Exception:  # noqa: BLE001 - as in _newton_compiled
                    continue
                if ok[i]:
                    v[i] = solver.get_V()
                    its[i] = int(solver.get_nb_iter())
        finally:
            if chord:
                solver.set_refactor_policy(RefactorPolicyType.AlwaysRefactor)
        # as _newton_compiled: every active voltage within 0.3–2 pu, the slack takes the mismatch
        cur = self._currents_many(outages, v)
        act = slice(None) if self._all_active else self.active
        vm = np.abs(v[:, act])
        ok &= (vm > 0.3).all(axis=1) & (vm <= 2.0).all(axis=1)
        lam = np.einsum("ij,ij->i", np.conj(v[:, act]), cur[:, act]).real - p[act].sum()
        out: list[ACResult | None] = [None] * len(outages)
        good = np.flatnonzero(ok).tolist()
        if good:
            scales = [self._end_scales(outages[i]) for i in good]
            loading, s_f = self._flows(v[good], np.stack([sc[0] for sc in scales]), np.stack([sc[1] for sc in scales]),
                                       np.stack([self._branch_scales(outages[i])[0] for i in good]))
            vm, va, p_f, q_f = np.abs(v[good]), np.angle(v[good]), s_f.real.copy(), s_f.imag.copy()
            for j, i in enumerate(good):
                jac = self._jacobian(self._ybus(outages[i]), v[i]) if keep_jacobian else None
                out[i] = ACResult(True, its[i], vm[j], va[j], loading[j], p_f[j], q_f[j], float(lam[i]) * self.base_mva,
                                  jac)
        for i in np.flatnonzero(~ok).tolist():  # the compiled Newton (or chord) failed from the start
            out[i] = self._solve_retry(outages[i], kw, None if starts is None else starts[i],
                                       None if retry is None else retry[i], tried=not chord, fallback=fallback)
        return out

    def solve_chord(self, outage, lu, start: np.ndarray, slack_mw: float, bus: int | None = None, p_mw: float = 0.0,
                    q_mvar: float = 0.0, tol: float = 1e-9, max_iter: int = CHORD_MAX_ITER,
                    update: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> ACResult | None:
        """:meth:`solve` by the chord method: Newton steps with one Jacobian, factorised once —
        `lu`, the case's own (without the added load; ``.solve`` as :class:`._kernels.SparseLU`)
        — from `start` (complex voltages per internal bus) and the slack `slack_mw`. The same
        equations and convergence test as Newton's, so the same solution (loadings within
        ~1e-8 %); converges linearly, where the state is close to the factorised one: None when
        it does not reach `tol` in `max_iter` steps, stops halving its mismatch after the second
        step, or leaves 0.3–2 pu (the caller then runs Newton). The steps are compiled
        (:func:`._kernels.chord_solve`): on the Continental European grid 2.1–2.6 ms a case (4–5
        steps on its own factors, 300–800 MW added) against 7.0–7.5 ms for the compiled Newton
        (which builds and factorises the Jacobian at every step), measured side by side; on
        case1354pegase, in numpy, 0.5–1.7 ms against 1.8–2.4 ms. `update`: `lu` is another
        state's (and case's) Jacobian, corrected by ``(Z, A, c)`` to the outage's (a step ``x − Z
        (A x[c])``; Z over every row, the distributed slack's too: ``CaseSet._chord_update``),
        its steps Anderson-accelerated (depth 1) and given up where the mismatch falls by less
        than 10 % a step: on 59 sampled European buses 113 of ~700 such solves went to Newton
        plain (steps up to 19), 5 accelerated (steps up to 12); on 292 buses the searches'
        solving took 9.0 s instead of 13.5."""
        p, q = self._injections(bus, p_mw, q_mvar, None, None)
        ybus = self._ybus_csc(outage) if self._compiled is not None else sp.csc_matrix(self._ybus(outage))
        v = self._start(start)
        status, it, lam = chord_solve(ybus.indptr, ybus.indices, ybus.data, v, p, q, self.active, self.pq, self.nonref,
                                      self.slack_w[self.active], slack_mw / self.base_mva, *lu.factors(),
                                      *(_NO_UPDATE if update is None else update), tol, max_iter,
                                      update is not None)
        if status != 1:
            return None
        loading, s_f = self._flows(v, *self._end_scales(outage), self._branch_scales(outage)[0])
        return ACResult(True, it, np.abs(v), np.angle(v), loading, s_f.real, s_f.imag, lam * self.base_mva)

    def _solve_retry(self, outage, kw: dict, start, retry, tried: bool, fallback: bool = True) -> ACResult:
        """One case of :meth:`solve_many`: from `start` (the compiled Newton only, when there is
        a `retry`; skipped when it was `tried` already), then from `retry` with the numpy Newton
        as the fallback (unless `fallback` is False) — the numpy Newton runs once, from the last
        start (on IEEE 118's all-bus hosting it never converged where the compiled one had
        failed: 412 tries, ~8 iterations each)."""
        res = None
        if not tried or retry is None:
            res = self.solve(outage=outage, v_init=start, fallback=fallback and retry is None, **kw)
        if (res is None or not res.converged) and retry is not None:
            res = self.solve(outage=outage, v_init=retry, fallback=fallback, **kw)
        return res

    def rebased(self, dp_mw: np.ndarray, dq_mvar: np.ndarray) -> ACGrid | None:
        """This grid with the injection changes `dp_mw`, `dq_mvar` [MW, Mvar per internal bus]
        as its scheduled injections and their solved state as its base case: what compiling the
        network with those injections would give (an hour of a year: the network's elements at
        their hourly output), without compiling it again. The admittances, the compiled engine
        and its caches are shared (they do not depend on the injections). None when the new
        base case does not converge."""
        res = self.solve(dp_mw=dp_mw, dq_mvar=dq_mvar)
        if not res.converged:
            return None
        out = copy.copy(self)
        out.p_sched, out.q_sched = self._injections(None, 0.0, 0.0, dp_mw, dq_mvar)
        out.v0 = res.vm_pu * np.exp(1j * res.va_rad)
        return out

    def _injections(self, bus, p_mw, q_mvar, dp_mw, dq_mvar) -> tuple[np.ndarray, np.ndarray]:
        """Scheduled injections [pu] with an added load and injection changes (see solve)."""
        p = self.p_sched.copy()
        q = self.q_sched.copy()
        if dp_mw is not None:
            p += np.asarray(dp_mw, dtype=float) / self.base_mva
        if dq_mvar is not None:
            q += np.asarray(dq_mvar, dtype=float) / self.base_mva
        if bus is not None:
            p[bus] -= p_mw / self.base_mva
            q[bus] -= q_mvar / self.base_mva
        return p, q

    def _start(self, v_init) -> np.ndarray:
        """A copy of the start `v_init` (one or several: ... × n; default the base case's) with
        the generator set points applied, angles kept."""
        v = np.array(self.v0 if v_init is None else v_init, dtype=complex)
        fixed = self._fixed_v
        v[..., fixed] *= self.v_set[fixed] / np.abs(v[..., fixed])
        return v

    def _flows(self, v: np.ndarray, scale_f: np.ndarray, scale_t: np.ndarray, alive: np.ndarray):
        """Branch loadings [%] and from-end complex flows [MVA] at bus voltages `v` (n, or C × n
        for several cases), with the cases' :meth:`_end_scales` and circuits in service."""
        m = self.m
        cur = v @ self._y_ends.T if self.dense else (self._y_ends @ v.T).T  # one circuit, from then to ends
        mag = np.abs(cur)
        loading = np.maximum(mag[..., :m] * scale_f, mag[..., m:] * scale_t)  # NaN: branch out
        return loading, v[..., self.f] * np.conj(cur[..., :m]) * (alive * self.base_mva)

    def generator_q(self, res: ACResult, outage: int | None = None, bus: int | None = None, q_mvar: float = 0.0,
                    dq_mvar: np.ndarray | None = None) -> np.ndarray:
        """Reactive output [Mvar] of the generators at each PV bus (summed per bus; NaN at the
        other buses) in the solved state `res` of the case with `outage`, the added load's
        `q_mvar` at `bus` and the reactive injection changes `dq_mvar` it was solved with."""
        v = res.vm_pu * np.exp(1j * res.va_rad)
        q_calc = (v * np.conj(self._ybus(outage) @ v)).imag
        q_other = self._injections(bus, 0.0, q_mvar, None, dq_mvar)[1]  # loads, static generators, the load
        out = np.full(self.n, np.nan)
        out[self.pv] = (q_calc[self.pv] - q_other[self.pv]) * self.base_mva
        return out

    def reactive_excess(self, res: ACResult, **kw) -> list[tuple[int, float, float]]:
        """The PV buses whose generators' reactive output in `res` (:meth:`generator_q`, same
        keywords) is outside their range: (internal bus, Q [Mvar], the limit passed). The engine
        holds their voltage regardless (generator Q limits are not enforced, as in
        ``pandapower.runpp``'s default): a voltage-limited result is optimistic there."""
        if not res.converged:
            return []
        q = self.generator_q(res, **kw)
        out = []
        for b in self.pv.tolist():
            if q[b] > self.q_max_mvar[b] + 1e-3:
                out.append((b, float(q[b]), float(self.q_max_mvar[b])))
            elif q[b] < self.q_min_mvar[b] - 1e-3:
                out.append((b, float(q[b]), float(self.q_min_mvar[b])))
        return out

    def alive(self, outage: int | None) -> np.ndarray:
        """Per branch row, the share of its circuits in service with one circuit of `outage` out
        (read-only; cached)."""
        return self._branch_scales(outage)[0]

    def _branch_scales(self, outage: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per branch with one circuit of `outage` out: the share of circuits in service, and the
        factors from the from- and to-end current of the circuits in service [pu] to loading
        [%] (NaN for a branch fully out); cached per outage."""
        got = self._scales.get(outage)
        if got is None:
            alive = np.ones(self.m)
            if outage is not None:
                alive[outage] = 1.0 - self._fraction_removed(outage)
            rated = np.maximum(alive, 1e-12)
            scale_f = 100.0 * self.i_base_f_ka / (self.i_rated_f_ka * rated)
            scale_t = 100.0 * self.i_base_t_ka / (self.i_rated_t_ka * rated)
            scale_f[alive == 0] = np.nan
            scale_t[alive == 0] = np.nan
            for a in (alive, scale_f, scale_t):
                a.setflags(write=False)
            got = self._scales[outage] = (alive, scale_f, scale_t)
        return got

    def _end_scales(self, outage: int | None) -> tuple[np.ndarray, np.ndarray]:
        """Per branch with one circuit of `outage` out: the factors from the from- and to-end
        current of *one* circuit [pu] to loading [%] (NaN for a branch fully out); cached."""
        got = self._scales.get(("ends", outage))
        if got is None:
            alive, scale_f, scale_t = self._branch_scales(outage)
            got = self._scales[("ends", outage)] = (scale_f * alive, scale_t * alive)
        return got

    def _currents(self, outage: int | None, v: np.ndarray, ybus_csc) -> np.ndarray:
        """Bus current injections ``Y v`` with one circuit of `outage` out: from the dense base
        matrix and the outage's 2 × 2 stamp on a small grid (scipy's call overhead exceeds the
        product there), else from `ybus_csc`."""
        if not self.dense:
            return ybus_csc @ v
        cur = self._ybus_dense @ v
        if outage is not None:
            got = self._scales.get(("stamp", outage))
            if got is None:  # as Python numbers: cheaper than numpy scalars in what follows
                got = self._scales[("stamp", outage)] = (
                    int(self.f[outage]), int(self.t[outage]),
                    *(complex(y) for y in self._stamp[outage] * self._fraction_removed(outage)))
            f, t, yff, yft, ytf, ytt = got
            vf, vt = complex(v[f]), complex(v[t])
            cur[f] -= yff * vf + yft * vt
            cur[t] -= ytf * vf + ytt * vt
        return cur

    def _currents_many(self, outages: list, v: np.ndarray) -> np.ndarray:
        """:meth:`_currents` of several cases (C × n) at once."""
        if not self.dense:
            return np.stack([self._ybus_csc(o) @ v[i] for i, o in enumerate(outages)])
        cur = v @ self._ybus_dense.T
        rows = np.array([i for i, o in enumerate(outages) if o is not None], dtype=int)
        if len(rows):
            k = np.array([outages[i] for i in rows], dtype=int)
            y = self._stamp[k] / self.parallel[k][:, None]  # the circuit out: yff, yft, ytf, ytt
            f, t = self.f[k], self.t[k]
            vf, vt = v[rows, f], v[rows, t]
            cur[rows, f] -= y[:, 0] * vf + y[:, 1] * vt
            cur[rows, t] -= y[:, 2] * vf + y[:, 3] * vt
        return cur

    def _ybus(self, outage: int | None):
        """The admittance matrix with one circuit of branch row `outage` out, as the numpy
        Newton and the Jacobian use it: dense for small networks, else sparse."""
        if self.dense:
            ybus = self._ybus_dense
            if outage is not None:
                ybus = ybus.copy()
                np.subtract.at(ybus, (self._stamp_rows[outage], self._stamp_cols[outage]),
                               self._fraction_removed(outage) * self._stamp[outage])
            return ybus
        if self._compiled is not None:
            return self._ybus_csc(outage)
        if outage is None:
            return self.ybus
        dy = sp.csr_matrix((self._fraction_removed(outage) * self._stamp[outage],
                            (self._stamp_rows[outage], self._stamp_cols[outage])), shape=(self.n, self.n))
        return (self.ybus - dy).tocsr()

    def _newton(self, ybus, v: np.ndarray, p: np.ndarray, q: np.ndarray, tol: float, max_iter: int):
        """The numpy Newton–Raphson from `v`: (v, slack [pu], iterations, converged)."""
        vm = np.abs(v)
        va = np.angle(v)
        pq = self.pq
        n_a, n_v = len(self.nonref), len(pq)
        lam = 0.0
        converged = False
        it = 0
        best = []  # the smallest mismatch so far, per iteration
        for it in range(1, max_iter + 1):
            s_calc = v * np.conj(ybus @ v)
            act = self.active
            f = np.concatenate([s_calc.real[act] - (p[act] + self.slack_w[act] * lam), s_calc.imag[pq] - q[pq]])
            if not np.all(np.isfinite(f)):
                break
            err = float(np.max(np.abs(f)))
            if err < tol:
                converged = True
                break
            best.append(min(err, best[-1]) if best else err)
            if len(best) > _STALL_ITERS and best[-1] > 0.9 * best[-1 - _STALL_ITERS]:
                break  # no progress in _STALL_ITERS iterations: past the nose (collapse), not slow
            jac = self._jacobian(ybus, v)
            try:
                dx = np.linalg.solve(jac, -f) if self.dense else splu(jac).solve(-f)
            except (np.linalg.LinAlgError, RuntimeError):  # singular Jacobian: voltage collapse
                break
            # a step that would take a voltage out of 0.3–2 pu is halved (up to 4 times) before
            # the case is given up: a long first step from a far start (an outage that moves
            # the state a lot) otherwise ends a solve pandapower completes
            scale = 1.0
            for _ in range(5):
                trial = vm[pq] + scale * dx[n_a : n_a + n_v]
                if trial.size == 0 or (trial.min() > 0.3 and trial.max() <= 2.0):
                    break
                scale *= 0.5
            else:
                break
            va[self.nonref] += scale * dx[:n_a]
            vm[pq] += scale * dx[n_a : n_a + n_v]
            lam += scale * dx[-1]
            v = vm * np.exp(1j * va)
        return v, lam, it, converged

    def _jacobian(self, ybus, v: np.ndarray):
        """Power-flow Jacobian with the distributed-slack column: rows ΔP (all buses), ΔQ (PQ);
        columns θ (non-reference), |V| (PQ), λ."""
        nonref, pq, act = self.nonref, self.pq, self.active
        w = self.slack_w[act]
        if self.dense:
            ibus = ybus @ v
            vnorm = v / np.abs(v)
            ycv = np.conj(ybus) * np.conj(v)[None, :]  # conj(Y_ij V_j)
            ds_dva = -1j * v[:, None] * ycv
            ds_dva.flat[:: self.n + 1] += 1j * v * np.conj(ibus)
            ds_dvm = v[:, None] * ycv / np.abs(v)[None, :]
            ds_dvm.flat[:: self.n + 1] += np.conj(ibus) * vnorm
            a_nr, a_pq, q_nr, q_pq = self._jac_ix
            n_a, n_nr, n_pq = len(act), len(nonref), len(pq)
            jac = np.zeros((n_a + n_pq, n_nr + n_pq + 1))
            jac[:n_a, :n_nr] = ds_dva.real[a_nr]
            jac[:n_a, n_nr:n_nr + n_pq] = ds_dvm.real[a_pq]
            jac[:n_a, -1] = -w
            jac[n_a:, :n_nr] = ds_dva.imag[q_nr]
            jac[n_a:, n_nr:n_nr + n_pq] = ds_dvm.imag[q_pq]
            return jac
        fast = self._jacobian_pattern(ybus)
        if fast is not None:
            return self._jacobian_on_pattern(fast, ybus, v)
        ds_dvm, ds_dva = dSbus_dV(ybus, v)
        ds_dva = sp.csc_matrix(ds_dva)
        ds_dvm = sp.csc_matrix(ds_dvm)
        return sp.bmat(
            [[ds_dva.real[act][:, nonref], ds_dvm.real[act][:, pq], sp.csc_matrix(-w.reshape(-1, 1))],
             [ds_dva.imag[pq][:, nonref], ds_dvm.imag[pq][:, pq], None]],
            format="csc",
        )

    def jacobian_change(self, outage: int | None, v: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """The change one circuit of branch row `outage` out makes to :meth:`_jacobian` at the
        voltages `v` (the Jacobian is linear in the admittances at fixed voltages): its rows r
        and columns c where it is nonzero (sorted) and the block there (|r| × |c|, ≤ 4 × 4: the
        ends' active and reactive balance against their angles and magnitudes) — from the
        branch's 2 × 2 stamp alone, instead of two whole Jacobians subtracted (the European
        grid's: 2 ms against ~10 µs). None where it changes nothing."""
        if outage is None:
            return None
        ix = self.__dict__.get("_jac_rows_cols")
        if ix is None:
            n_a, n_nr = len(self.active), len(self.nonref)
            ix = np.full((4, self.n), -1)  # P row, Q row, θ column, |V| column of each bus
            ix[0, self.active] = np.arange(n_a)
            ix[1, self.pq] = n_a + np.arange(len(self.pq))
            ix[2, self.nonref] = np.arange(n_nr)
            ix[3, self.pq] = n_nr + np.arange(len(self.pq))
            self._jac_rows_cols = ix
        dy = -self._fraction_removed(outage) * self._stamp[outage]  # yff, yft, ytf, ytt
        i, k = self._stamp_rows[outage], self._stamp_cols[outage]
        yv = dy * v[k]
        ends = np.array([self.f[outage], self.t[outage]])
        di = np.array([yv[0] + yv[1], yv[2] + yv[3]])  # the ends' injected current change
        vi, vb = v[i], v[ends]
        # MATPOWER's dSbus_dV per entry, the ends' diagonal terms after the branch's four
        rows = np.concatenate([i, ends])
        cols = np.concatenate([k, ends])
        d_va = np.concatenate([-1j * vi * np.conj(yv), 1j * vb * np.conj(di)])
        d_vm = np.concatenate([vi * np.conj(yv / np.abs(v[k])), np.conj(di) * vb / np.abs(vb)])
        jr = np.concatenate([ix[0, rows], ix[0, rows], ix[1, rows], ix[1, rows]])
        jc = np.concatenate([ix[2, cols], ix[3, cols], ix[2, cols], ix[3, cols]])
        val = np.concatenate([d_va.real, d_vm.real, d_va.imag, d_vm.imag])
        keep = (jr >= 0) & (jc >= 0)
        jr, jc, val = jr[keep], jc[keep], val[keep]
        r, r_at = np.unique(jr, return_inverse=True)
        c, c_at = np.unique(jc, return_inverse=True)
        block = np.zeros((len(r), len(c)))
        np.add.at(block, (r_at, c_at), val)
        nz_r, nz_c = np.any(block != 0, axis=1), np.any(block != 0, axis=0)
        if not nz_r.any():
            return None
        return r[nz_r], c[nz_c], block[np.ix_(nz_r, nz_c)]

    def _jacobian_pattern(self, ybus):
        """For a sparse `ybus` in the compiled base pattern (every outage keeps it): where each
        of its entries goes in the Jacobian, built once; None otherwise (or where a bus lacks its
        diagonal entry), and the general assembly runs."""
        c = self._compiled
        if c is None or not sp.issparse(ybus) or ybus.format != "csc" or ybus.nnz != c["csc"].nnz:
            return None
        if ybus.indices is not c["csc"].indices and not (np.array_equal(ybus.indptr, c["csc"].indptr)
                                                         and np.array_equal(ybus.indices, c["csc"].indices)):
            return None
        got = c.get("jac")
        if got is not None or "jac" in c:
            return got
        csc = c["csc"]
        rows = csc.indices.astype(np.int64)
        cols = np.repeat(np.arange(self.n), np.diff(csc.indptr))
        diag = np.full(self.n, -1)
        on_diag = np.flatnonzero(rows == cols)
        diag[rows[on_diag]] = on_diag
        if np.any(diag[self.active] < 0):
            c["jac"] = None
            return None
        act, nonref, pq = self.active, self.nonref, self.pq
        n_a, n_nr, n_pq = len(act), len(nonref), len(pq)
        row_p = np.full(self.n, -1)
        row_p[act] = np.arange(n_a)
        row_q = np.full(self.n, -1)
        row_q[pq] = n_a + np.arange(n_pq)
        col_a = np.full(self.n, -1)
        col_a[nonref] = np.arange(n_nr)
        col_v = np.full(self.n, -1)
        col_v[pq] = n_nr + np.arange(n_pq)
        parts = []  # (which derivative, entry indices, J rows, J cols)
        for k, (r_of, c_of) in enumerate(((row_p, col_a), (row_p, col_v), (row_q, col_a), (row_q, col_v))):
            keep = np.flatnonzero((r_of[rows] >= 0) & (c_of[cols] >= 0))
            parts.append((k, keep, r_of[rows[keep]], c_of[cols[keep]]))
        w = self.slack_w[act]
        lam_rows = np.flatnonzero(w != 0)
        j_rows = np.concatenate([p[2] for p in parts] + [lam_rows])
        j_cols = np.concatenate([p[3] for p in parts] + [np.full(len(lam_rows), n_nr + n_pq)])
        shape = (n_a + n_pq, n_nr + n_pq + 1)
        order = sp.csc_matrix((np.arange(1, len(j_rows) + 1, dtype=float), (j_rows, j_cols)), shape=shape)
        order.sort_indices()
        got = {"rows": rows, "cols": cols, "diag": on_diag, "parts": [(k, keep) for k, keep, _, _ in parts],
               "lam": -w[lam_rows], "perm": order.data.astype(np.int64) - 1, "indices": order.indices,
               "indptr": order.indptr, "shape": shape}
        c["jac"] = got
        return got

    def _jacobian_on_pattern(self, pat, ybus, v: np.ndarray):
        """The Jacobian of :meth:`_jacobian` from `ybus`'s entries on the pattern `pat`:
        ∂S/∂|V| and ∂S/∂θ per admittance entry (MATPOWER's dSbus_dV), scattered in place."""
        rows, cols = pat["rows"], pat["cols"]
        y = ybus.data
        vr = v[rows]
        yv = y * v[cols]
        ds_dvm = vr * np.conj(yv / np.abs(v[cols]))
        ds_dva = -1j * vr * np.conj(yv)
        ibus = ybus @ v
        d = pat["diag"]
        b = rows[d]
        ds_dvm[d] += np.conj(ibus[b]) * v[b] / np.abs(v[b])
        ds_dva[d] += 1j * v[b] * np.conj(ibus[b])
        src = (ds_dva.real, ds_dvm.real, ds_dva.imag, ds_dvm.imag)
        vals = np.concatenate([src[k][keep] for k, keep in pat["parts"]] + [pat["lam"]])
        return sp.csc_matrix((vals[pat["perm"]], pat["indices"], pat["indptr"]), shape=pat["shape"])


#: pandapower elements this engine does not model, with how to represent them instead: a network
#: with one in service is refused (pandapower's runpp treats them otherwise; on IEEE 9 a DC line
#: moved voltages by 0.025 pu and loadings by 20 pp, an SVC by 0.025 pu)
UNMODELLED = {
    "dcline": "a load at its from bus and a static generator at its to bus with the link's set power",
    "svc": "a generator with its reactive range (or a shunt at its operating point)",
    "tcsc": "a line or impedance with its series reactance at the operating point",
    "ssc": "a generator with its reactive range",
    "vsc": "loads and static generators at its AC buses",
    "vsc_stacked": "loads and static generators at its AC buses",
    "vsc_bipolar": "loads and static generators at its AC buses",
    "line_dc": "loads and static generators at the AC ends of the DC system",
}


def _refuse_unmodelled(net) -> None:
    """Refuse, naming every one, the in-service elements the engine would treat differently from
    ``pandapower.runpp``: the tables in :data:`UNMODELLED` and voltage-dependent (ZIP) loads
    (constant impedance or current shares: on IEEE 9 50 % constant impedance moved loadings by
    0.9 pp). Everything else matches runpp (tested element by element)."""
    from ..errors import ConfigError

    found = []
    for table, instead in UNMODELLED.items():
        t = net.get(table) if hasattr(net, "get") else None
        if t is None or not hasattr(t, "empty") or t.empty:
            continue
        on = t[t["in_service"].fillna(True).astype(bool)] if "in_service" in t.columns else t
        if len(on):
            names = [str(n) if isinstance(n, str) and n else str(i) for i, n in zip(on.index, on.get("name", on.index))]
            found.append(f"{table} {', '.join(names[:5])}{' …' if len(names) > 5 else ''} (model it as {instead})")
    loads = net.load[net.load["in_service"].fillna(True).astype(bool)] if len(net.load) else net.load
    zip_cols = [c for c in ("const_z_p_percent", "const_i_p_percent", "const_z_q_percent", "const_i_q_percent",
                            "const_z_percent", "const_i_percent") if c in loads.columns]
    if zip_cols and len(loads):
        vd = loads[(loads[zip_cols].fillna(0.0).abs() > 0).any(axis=1)]
        if len(vd):
            found.append(f"voltage-dependent loads {', '.join(map(str, vd.index[:5]))}{' …' if len(vd) > 5 else ''} "
                         f"(set {', '.join(zip_cols)} to 0: constant power, as in a planning study of the EHV grid)")
    if found:
        raise ConfigError("the network has elements the AC engine does not model, so its results would differ from "
                          "pandapower.runpp: " + "; ".join(found) + ". Fix: represent them as said, or take them "
                          "out of service")


def _rated_currents(kind: str, table) -> tuple[np.ndarray, np.ndarray]:
    """Rated current [kA] at the from and to ends of every line or transformer (all parallel
    circuits), as pandapower computes loading: lines ``max_i_ka × df × parallel``,
    transformers ``sn_mva × df × parallel / (√3 × vn_kv)`` at each side (the derating factor
    ``df`` was ignored before 2026-11-29: a derated transformer's loading was under-reported)."""
    par = table["parallel"].to_numpy(float)
    if kind == "line":
        rated = table["max_i_ka"].to_numpy(float) * table["df"].to_numpy(float) * par
        return rated, rated
    df = table["df"].to_numpy(float) if "df" in table.columns else np.ones(len(table))
    sn = table["sn_mva"].to_numpy(float) * df * par
    return sn / (_SQRT3 * table["vn_hv_kv"].to_numpy(float)), sn / (_SQRT3 * table["vn_lv_kv"].to_numpy(float))
