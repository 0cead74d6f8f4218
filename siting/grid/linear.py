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

from .acpf import ACGrid

__all__ = ["DCSensitivity"]


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
        of branch k (the basis of the outage factors)."""
        if self._h is None:
            g = self.grid
            self._h = self.ptdf(g.f) - self.ptdf(g.t)
        return self._h

    def after_outage(self, sens: np.ndarray, k: int) -> np.ndarray:
        """Sensitivities `sens` (m × B, flow per MW) with one circuit of branch `k` out: the flow
        it carried is shared by the others (LODF); the branch keeps ``(p−1)/p`` of its circuits.
        Returns `sens` itself when the outage would island a bus (denominator ~ 0)."""
        g = self.grid
        h = self.transfer
        d = 1.0 / g.parallel[k]
        denom = 1.0 - d * h[k, k]
        if abs(denom) <= 1e-9:
            return sens
        lodf = d * h[:, k] / denom
        out = sens + np.outer(lodf, sens[k])
        out[k] = (1.0 - d) * sens[k] / denom
        return out
