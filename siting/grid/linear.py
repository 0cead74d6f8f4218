"""Linear (DC) sensitivities of a compiled grid: PTDF and one-circuit outage factors.

Shared by the hosting screen (:mod:`siting.grid.hosting`) and the security-constrained
redispatch (:mod:`siting.grid.secure`). Flows are active power in MW per MW of injection, from the
DC approximation (branch susceptance ``1 / (x · tap)``, no losses); the AC solver confirms.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from pandapower.pypower.idx_brch import BR_X, TAP
from scipy.sparse.linalg import splu

from .acpf import ACGrid, ACResult

__all__ = ["DCSensitivity", "ac_sensitivity", "ac_sensitivities", "loading_and_sensitivity", "loading_gradient",
           "sensitivity_rhs"]


class DCSensitivity:
    """PTDF of the compiled grid `grid` (reference-bus slack), and their update for the outage of
    one circuit of a branch (LODF, with parallel circuits: one of ``p`` circuits out)."""

    def __init__(self, grid: ACGrid) -> None:
        self.grid = g = grid
        x = g._branch[:, BR_X].real.astype(float)
        tap = g._branch[:, TAP].real.astype(float)
        tap[tap == 0] = 1.0
        on = g.branch_on.astype(float)
        b = np.where(x != 0, on / (x * tap), 0.0)
        m, n = g.m, g.n
        a = sp.csr_matrix(
            (np.r_[np.ones(m), -np.ones(m)], (np.r_[np.arange(m), np.arange(m)], np.r_[g.f, g.t])), shape=(m, n)
        )
        bf = sp.diags(b) @ a
        bbus = (a.T @ bf).tocsc()
        self.keep = np.setdiff1d(g.active, [g.ref])  # isolated buses take no part
        self._pos = {int(bus): i for i, bus in enumerate(self.keep)}
        self.bf = bf.tocsc()
        self._lu = splu(bbus[self.keep][:, self.keep].tocsc())
        self._h: np.ndarray | None = None

    def ptdf(self, cols: np.ndarray) -> np.ndarray:
        """Branch flow change per MW injected at internal buses `cols` (the reference bus takes
        it): m × len(cols)."""
        rhs = np.zeros((len(self.keep), len(cols)))
        for j, c in enumerate(cols):
            i = self._pos.get(int(c))
            if i is not None:  # the reference and isolated buses inject nothing here
                rhs[i, j] = 1.0
        return self._flows(rhs)

    def flows(self, inj: np.ndarray) -> np.ndarray:
        """Branch flow change for an injection vector over internal buses (n,) or (n, k); the
        reference bus balances."""
        inj = np.asarray(inj, dtype=float)
        return self._flows(inj[self.keep])

    def _flows(self, rhs: np.ndarray) -> np.ndarray:
        theta = np.zeros((self.grid.n,) + rhs.shape[1:])
        theta[self.keep] = self._lu.solve(rhs)
        return self.bf @ theta

    @property
    def transfer(self) -> np.ndarray:
        """m × m: column k is the flow change per MW transferred from the from-bus to the to-bus
        of branch k (the basis of the outage factors); kept once asked for (a grid of many
        branches asks :meth:`transfer_columns` a block at a time instead: 312 MB on the
        European grid)."""
        if self._h is None:
            self._h = self.transfer_columns(np.arange(self.grid.m))
        return self._h

    def transfer_columns(self, branches: np.ndarray) -> np.ndarray:
        """The columns `branches` of :attr:`transfer` (m × len(branches)), in one solve, without
        keeping them."""
        g = self.grid
        branches = np.asarray(branches, dtype=int)
        rhs = np.zeros((g.n, len(branches)))  # a MW in at each branch's from-bus, out at its to-bus
        cols = np.arange(len(branches))
        np.add.at(rhs, (g.f[branches], cols), 1.0)
        np.add.at(rhs, (g.t[branches], cols), -1.0)
        return self.flows(rhs)

    def after_outage(self, sens: np.ndarray, k: int) -> np.ndarray:
        """Sensitivities `sens` (m × B, flow per MW) with one circuit of branch `k` out: the flow
        it carried is shared by the others (LODF); the branch keeps ``(p−1)/p`` of its circuits.
        Returns `sens` itself when the outage would island a bus (denominator ~ 0)."""
        lodf, keep, denom, island = self.outage_factors(k)
        if island:
            return sens
        out = sens + np.outer(lodf, sens[k])
        out[k] = keep * sens[k] / denom
        return out

    def outage_factors(self, k: int, h_k: np.ndarray | None = None) -> tuple[np.ndarray, float, float, bool]:
        """One circuit of branch `k` out: the line-outage distribution factors (m), the share
        of its circuits kept, the denominator ``1 − d·h_kk`` and whether the outage islands a bus
        (:meth:`after_outage` then leaves the factors as they are). `h_k`: column k of
        :attr:`transfer`, where the caller has it (:meth:`transfer_columns`)."""
        g = self.grid
        h_k = self.transfer[:, k] if h_k is None else h_k
        d = 1.0 / g.parallel[k]
        denom = 1.0 - d * h_k[k]
        if abs(denom) <= 1e-9:
            return np.zeros(g.m), 1.0 - d, denom, True
        return d * h_k / denom, 1.0 - d, denom, False


def ac_sensitivity(grid: ACGrid, pre: ACResult, alive: np.ndarray, p_inj: np.ndarray,
                   q_inj: np.ndarray | None = None, lu=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-order AC sensitivities at a solved case.

    Parameters
    ----------
    grid : ACGrid
    pre : ACResult
        The case, solved with ``keep_jacobian=True`` (or any state of it, with `lu`).
    alive : ndarray
        Per branch, the share of its circuits in service in this case (0…1).
    p_inj, q_inj : ndarray
        n × K: active [MW] and reactive [Mvar] injection per internal bus for each of K
        directions (+ = generation; a load is negative). The distributed slack balances them.
    lu : SparseLU or scipy.sparse.linalg.SuperLU, optional
        The factorised Jacobian of the case, where the caller keeps it (``.solve``, ``.shape``).

    Returns
    -------
    dl, dv, da
        Branch loading [pp] (m × K), bus voltage magnitude [pu] (n × K) and angle [rad] (n × K)
        per unit of each direction.
    """
    dl, dv, da = ac_sensitivities(grid, [pre], alive[None, :], p_inj, q_inj, None if lu is None else [lu])
    return dl[0], dv[0], da[0]


#: cases whose Jacobian systems are solved in one call by :func:`ac_sensitivities`
_BATCH = 64


def ac_sensitivities(grid: ACGrid, states: list[ACResult], alive: np.ndarray, p_inj: np.ndarray,
                     q_inj: np.ndarray | None = None, lus: list | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`ac_sensitivity` of several solved cases at once (`alive`: C × m): C × m × K,
    C × n × K, C × n × K. On a small (dense) grid the C Jacobian systems are solved in one
    batched LAPACK call, which saves the per-call overhead that dominates at this size. `lus`:
    the cases' factorised Jacobians (``splu``), where the caller keeps them (the states then need
    none)."""
    g = grid
    if len(states) > _BATCH:  # bounded memory: a stack of Jacobians per batch
        parts = [ac_sensitivities(g, states[i:i + _BATCH], alive[i:i + _BATCH], p_inj, q_inj,
                                  None if lus is None else lus[i:i + _BATCH])
                 for i in range(0, len(states), _BATCH)]
        return tuple(np.concatenate(x) for x in zip(*parts))
    c_n = len(states)
    n_a, pq = len(g.nonref), g.pq
    k = p_inj.shape[1]
    rhs = sensitivity_rhs(g, p_inj, q_inj, lus[0].shape[0] if lus is not None else states[0].jacobian.shape[0])
    if lus is not None:
        dx = -np.stack([lu.solve(rhs) for lu in lus])
    elif all(isinstance(s.jacobian, np.ndarray) for s in states):
        dx = -np.linalg.solve(np.stack([s.jacobian for s in states]), np.broadcast_to(rhs, (c_n,) + rhs.shape))
    else:
        dx = -np.stack([splu(sp.csc_matrix(s.jacobian)).solve(rhs) for s in states])
    dva = np.zeros((c_n, g.n, k))
    dvm = np.zeros((c_n, g.n, k))
    dva[:, g.nonref] = dx[:, :n_a]
    dvm[:, pq] = dx[:, n_a : n_a + len(pq)]
    v = np.stack([s.vm_pu for s in states]) * np.exp(1j * np.stack([s.va_rad for s in states]))
    _, dl = loading_and_sensitivity(g, v, alive, dva, dvm)
    return dl, dvm, dva


def sensitivity_rhs(grid: ACGrid, p_inj: np.ndarray, q_inj: np.ndarray | None, rows: int) -> np.ndarray:
    """The right-hand sides (rows × K) of the Jacobian systems of :func:`ac_sensitivities` for
    the injection directions `p_inj`, `q_inj` (n × K; MW, Mvar)."""
    g = grid
    n_p = len(g.active)
    rhs = np.zeros((rows, p_inj.shape[1]))
    rhs[:n_p] = -p_inj[g.active] / g.base_mva
    if q_inj is not None:
        rhs[n_p:n_p + len(g.pq)] = -q_inj[g.pq] / g.base_mva
    return rhs


def loading_gradient(grid: ACGrid, v: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per case, branch loading [%] at complex bus voltages `v` (C × n; NaN for a branch fully
    out; `alive`: C × m) and its gradient (C × 4 × m): per branch, pp per rad of its from-end
    angle, per pu of its from-end magnitude, then the same at its to-end (see
    :func:`loading_and_sensitivity`)."""
    g = grid
    y_ff, y_ft, y_tf, y_tt = g._end_y.T
    vf, vt = v[:, g.f], v[:, g.t]
    rated = np.maximum(alive, 1e-12)
    i_f = (y_ff * vf + y_ft * vt) * alive
    i_t = (y_tf * vf + y_tt * vt) * alive
    scale_f = g.i_base_f_ka / (g.i_rated_f_ka * rated)
    scale_t = g.i_base_t_ka / (g.i_rated_t_ka * rated)
    from_end = np.abs(i_f) * scale_f >= np.abs(i_t) * scale_t
    i_end = np.where(from_end, i_f, i_t)
    scale = np.where(from_end, scale_f, scale_t)
    loading = 100.0 * np.abs(i_end) * scale
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = 100.0 * scale * alive / np.abs(i_end)  # pp per unit of Re(conj(I) dI) / alive
    factor[~np.isfinite(factor) | (alive == 0)] = 0.0
    c = np.conj(i_end) * factor
    a_f = c * np.where(from_end, y_ff, y_tf) * vf  # d loading = Re(a_f (j dθ_f + d|V_f| / |V_f|)) + (t)
    a_t = c * np.where(from_end, y_ft, y_tt) * vt
    loading[alive == 0] = np.nan
    return loading, np.stack([-a_f.imag, a_f.real / np.abs(vf), -a_t.imag, a_t.real / np.abs(vt)], axis=1)


def loading_and_sensitivity(grid: ACGrid, v: np.ndarray, alive: np.ndarray, dva: np.ndarray,
                            dvm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per case: branch loading [%] at complex bus voltages `v` (C × n; NaN for a branch fully
    out; `alive`: C × m), and its first-order change [pp] per unit of each column of the
    voltage-angle and magnitude changes `dva`, `dvm` (C × n × K, rad and pu), at the end whose
    current sets the loading.

    With ``I = alive · (y₁ V_f + y₂ V_t)`` at that end (a branch's current depends on its two
    end buses only), ``d|I| = Re(conj(I) dI) / |I|`` and ``dV = V (j dθ + d|V| / |V|)``: the
    loading's gradient has two nonzero entries per branch in θ and two in |V|, applied to the K
    directions gathered at the branch ends (C × m × K) — no product with the m × n branch
    admittance matrices."""
    g = grid
    loading, grad = loading_gradient(g, v, alive)
    dl = (grad[:, 0, :, None] * dva[:, g.f] + grad[:, 1, :, None] * dvm[:, g.f]
          + grad[:, 2, :, None] * dva[:, g.t] + grad[:, 3, :, None] * dvm[:, g.t])
    dl[~np.isfinite(dl)] = 0.0
    return loading, dl
