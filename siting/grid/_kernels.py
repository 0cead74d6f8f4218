"""Compiled loops (numba) for the hosting screen's two hot spots on large grids.

The dense screen (:meth:`siting.grid.hosting.CaseSet.screen`) turns each case's solved Jacobian
system into first-order loading, voltage and angle changes for every branch and bus, and the
two linear limits (first-order AC and DC with the outage factors); ``near_limit`` then asks, per
case, whether any element lies near its limit at a load. In numpy each is some twenty passes
over cases × elements arrays (case1354pegase: 2.2 ms a case for 16 buses, 52 ms a
``near_limit`` call); here each is one pass, and a case found near stops there. The operations
and their order are numpy's (no fast-math): the same numbers to the last bit.
"""

from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sp
from numba import njit
from scipy.sparse.linalg import splu

__all__ = ["screen_case", "near_cases", "case_margins", "SparseLU", "chord_solve", "pair_changes"]


#: the DC limit divides only where a product test admits an element: by a margin of 1e-12, far
#: beyond the rounding of either side, so every element the exact test would take is admitted
_ADMIT = 1.0 + 1e-12


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _dc_limit(s, k_dc, p0, alive, dc):
    """The smaller of `dc` and the load [MW] at which a branch whose flow [MW] changes by `s` a
    MW of load (`p0` without it) reaches its active-power room `k_dc` either way (where `s`
    and `alive`). The division only where the product test admits it, the exact test after it
    (the same result; the DC pass 2.5x as fast on case1354pegase: most of its elements are
    far from the best so far)."""
    r = (k_dc if s > 0 else -k_dc) - p0
    if (s != 0) & (alive != 0) & (r != 0) & ((r > 0) == (s > 0)) & (abs(r) < dc * abs(s) * _ADMIT):
        p = r / s
        dc = p if (p > 0) & (p < np.inf) & (p < dc) else dc
    return dc


@njit(cache=True, nogil=True, error_model="numpy")
def screen_case(ci, x, nonref, pq, coef, f, t, l0, lim, v0, vm_low, vm_high,
                ptdf, lodf, k_out, keep, denom, island, k_dc, p0, alive,
                dl_out, dv_out, da_out, row):
    """One case `ci` of the dense screen for B buses.

    `x` (B × rows): the Jacobian system's solution per bus (angle changes of the non-reference
    buses `nonref`, then magnitude changes of the PQ buses `pq`); `coef` (4 × m): the loading's
    gradient per branch (from-end angle and magnitude, to-end angle and magnitude); `l0`, `lim`
    (m): loading without the load (−inf: out) and limit (inf: none); `v0`, `vm_low`, `vm_high`
    (n); `ptdf` (B × m): DC flow per MW injected (distributed slack), `lodf` (m) with the
    outaged row `k_out` (−1: base case) keeping `keep` of its circuits (its flow ``keep`` × its
    PTDF / `denom`), `island`: the outage leaves the DC factors as they are; `k_dc`, `p0` (m): the DC limit's active-power room and
    flow. Writes ``dl_out[b, ci]``, ``dv_out[b, ci]``, ``da_out[b, ci]`` (double or single
    precision; computed in double) and ``row[b]``: the smaller of the first-order AC and the DC
    limit [MW]."""
    n_b = x.shape[0]
    m = f.shape[0]
    n = v0.shape[0]
    n_a = nonref.shape[0]
    da = np.empty(n)  # (in double: the outputs may be single precision)
    dv = np.empty(n)
    plain = k_out < 0 or island
    for b in range(n_b):
        dl = dl_out[b, ci]
        for i in range(n):
            da[i] = 0.0
            dv[i] = 0.0
        for i in range(n_a):
            da[nonref[i]] = -x[b, i]
        for i in range(pq.shape[0]):
            dv[pq[i]] = -x[b, n_a + i]
        for i in range(n):
            da_out[b, ci, i] = da[i]
            dv_out[b, ci, i] = dv[i]
        # (written without branches on the signs: a mispredicted branch per element cost more
        # than the divisions it saved)
        best = np.inf
        for e in range(m):
            fe, te = f[e], t[e]
            d = coef[0, e] * da[fe] + coef[1, e] * dv[fe] + coef[2, e] * da[te] + coef[3, e] * dv[te]
            d = d if math.isfinite(d) else 0.0
            dl[e] = d
            p = (lim[e] - l0[e]) / d
            best = p if (d > 0) & (p > 0) & (p < best) else best
        for i in range(n):
            d = dv[i]
            p = ((v0[i] - vm_low[i]) / -d) if d < 0 else ((vm_high[i] - v0[i]) / d)
            best = p if (d != 0) & (p > 0) & (p < best) else best
        # DC: the flow change per MW of load (a load: minus the injection's PTDF), outage factors;
        # the outaged row apart (no test for it in the loops)
        dc = np.inf
        if plain:
            for e in range(m):
                dc = _dc_limit(-ptdf[b, e], k_dc[e], p0[e], alive[e], dc)
        else:
            pk = ptdf[b, k_out]
            for e in range(k_out):
                dc = _dc_limit(-(ptdf[b, e] + lodf[e] * pk), k_dc[e], p0[e], alive[e], dc)
            dc = _dc_limit(-(keep * ptdf[b, k_out] / denom), k_dc[k_out], p0[k_out], alive[k_out], dc)
            for e in range(k_out + 1, m):
                dc = _dc_limit(-(ptdf[b, e] + lodf[e] * pk), k_dc[e], p0[e], alive[e], dc)
        row[b] = min(dc, best)


@njit(cache=True, nogil=True, error_model="numpy")
def near_cases(dl, dl0, l0, max_loading, dv, dv0, vm0, vm_low, vm_high, da, va0, amax0, on, f, t,
               p, err_pp, err_pu, curvature, per_element, per_l, per_v, guard, near):
    """``CaseSet.near_limit`` of the dense screen for one bus: per case c (rows of `dl` C × m,
    `dv`, `da` C × n: first-order changes per MW), whether an element lies near its limit with
    `p` MW. `guard`: floor [pp], floor [pu], relative band, angle [rad], angle move [rad]."""
    g_pp, g_pu, g_rel, g_ang, g_move = guard[0], guard[1], guard[2], guard[3], guard[4]
    n_c, m = dl.shape
    n = dv.shape[1]
    for c in range(n_c):
        hit = False
        for e in range(m):
            d = dl[c, e] * p
            if per_element:
                band = min(g_pp, abs(d)) + g_rel * (abs(dl[c, e] - dl0[e]) * p) + (1.0 + g_rel) * per_l[e]
            else:
                band = g_pp + g_rel * abs(d) + err_pp
            if l0[c, e] + d >= max_loading[c, e] - band:
                hit = True
                break
        if not hit:
            for i in range(n):
                d = dv[c, i] * p
                if per_element:
                    band = (min(g_pu, abs(d)) + g_rel * (abs(dv[c, i] - dv0[i]) * p)
                            + max((1.0 + g_rel) * per_v[i], curvature * d**2))
                else:
                    band = g_pu + g_rel * abs(d) + max(err_pu, curvature * d**2)
                v = vm0[c, i] + d
                if v <= vm_low[c, i] + band or v >= vm_high[c, i] - band:
                    hit = True
                    break
        if not hit:
            # an angle across a branch in service may reach the guard only where the widest one
            # without the load and twice the largest bus angle change reach it
            moved = 0.0
            for i in range(n):
                a = abs(da[c, i] * p)
                if a > moved:
                    moved = a
            moved *= 2.0
            if amax0[c] + moved >= g_ang * (1.0 - 1e-9) and (not per_element or moved >= g_move * (1.0 - 1e-9)):
                for e in range(m):
                    if not on[c, e]:
                        continue
                    a_f = da[c, f[e]] * p
                    a_t = da[c, t[e]] * p
                    if abs((va0[c, f[e]] + a_f) - (va0[c, t[e]] + a_t)) >= g_ang and (
                            not per_element or abs(a_f - a_t) >= g_move):
                        hit = True
                        break
        near[c] = hit


@njit(cache=True, nogil=True, error_model="numpy")
def case_margins(dl, l0, max_loading, dv, vm0, vm_low, vm_high, p, out):
    """Per case (rows of `dl` C × m, `dv` C × n: first-order changes per MW), its first-order
    margin with `p` MW: the smallest of (limit − loading) / 100 over its branches and of the
    distances to the voltage band / 0.1 over its buses (``CaseSet.judge``'s margin, estimated)."""
    n_c, m = dl.shape
    n = dv.shape[1]
    for c in range(n_c):
        best = np.inf
        for e in range(m):
            r = (max_loading[c, e] - (l0[c, e] + dl[c, e] * p)) / 100.0
            best = r if r < best else best  # (NaN: a branch out, no limit)
        for i in range(n):
            v = vm0[c, i] + dv[c, i] * p
            r = min(v - vm_low[c, i], vm_high[c, i] - v) / 0.1
            best = r if r < best else best
        out[c] = best


#: right-hand sides a block of :meth:`SparseLU.solve_rows` when many are solved at once (``blocked=True``):
#: the European grid's Jacobian, 7,869 rows: 23 µs a column in blocks of 32, 33 in 128, 42-47 in
#: 256-512 — the block leaves the cache. (Opt-in: the dense screen's solves, 16-64 buses at once,
#: were measured without it.)
LU_SOLVE_BLOCK = 32


class SparseLU:
    """A sparse matrix factorised by SuperLU (``scipy.sparse.linalg.splu``, COLAMD ordering),
    its factors kept as plain CSC arrays and solved by a compiled loop for many right-hand sides
    at once (:func:`lu_solve`: each factor entry updates a row of all of them) — 3.6-4.7× SuperLU's
    own solve a right-hand side on case1354pegase's Jacobian (2,448 rows; 16 and 64 at once: 8.8
    and 6.4 µs against 32 and 30), 3-4× on the Continental European grid's (38 and 29 µs against
    119 and 114), to 1e-15 of it (measured side by side). The screen solves every case's Jacobian
    for a chunk of buses; this was half of its time."""

    def __init__(self, a) -> None:
        lu = splu(sp.csc_matrix(a))
        # CSC, L without its unit diagonal, U without its diagonal and the diagonal apart; unsorted
        # (a column's entries update distinct rows: their order does not change a bit of the result)
        low, up = sp.tril(lu.L, -1, format="csc"), lu.U
        self.n = lu.shape[0]
        self._d = up.diagonal().copy()
        up = sp.triu(up, 1, format="csc")
        self._l = (low.indptr.astype(np.int64), low.indices.astype(np.int64), low.data)
        self._u = (up.indptr.astype(np.int64), up.indices.astype(np.int64), up.data)
        self._perm_r = lu.perm_r.astype(np.int64)
        self._perm_c = lu.perm_c.astype(np.int64)

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, self.n

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.factors()))

    def factors(self) -> tuple[np.ndarray, ...]:
        """The arrays the compiled solves read: L's and U's strict parts (CSC pointers, indices,
        values), U's diagonal, the row and column permutations."""
        return (*self._l, *self._u, self._d, self._perm_r, self._perm_c)

    def solve_rows(self, b: np.ndarray, blocked: bool = False) -> np.ndarray:
        """The solutions of ``A x = b[:, j]`` for every column j of `b` (n × k), as rows (k × n);
        `blocked`: in blocks of LU_SOLVE_BLOCK columns (each column's arithmetic is its own: the
        same bits either way). One right-hand side: :func:`lu_solve_one`."""
        b = np.asarray(b, dtype=float).reshape(self.n, -1)
        out = np.empty((b.shape[1], self.n))
        if b.shape[1] == 1:
            lu_solve_one(*self.factors(), np.ascontiguousarray(b[:, 0]), out[0], np.empty(self.n))
            return out
        block = LU_SOLVE_BLOCK if blocked else max(b.shape[1], 1)
        for at in range(0, b.shape[1], block):
            part = np.ascontiguousarray(b[:, at:at + block])
            lu_solve(*self.factors(), part, out[at:at + block], np.empty_like(part))
        return out

    def solve(self, b: np.ndarray, blocked: bool = False) -> np.ndarray:
        """``A x = b`` for a vector or the columns of a matrix `b` (as ``SuperLU.solve``);
        `blocked`: see :meth:`solve_rows`."""
        x = self.solve_rows(b, blocked).T
        return x[:, 0].copy() if np.ndim(b) == 1 else x


@njit(cache=True, nogil=True)
def lu_solve_one(l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, u_diag, perm_r, perm_c, b, out, w):
    """:func:`lu_solve` of one right-hand side `b` (n) into `out` (n), the same arithmetic in the
    same order (a zero entry's column skipped: it subtracts zeros) — 128 against 313 µs on the
    European grid's Jacobian (the chord method's every step)."""
    n = b.shape[0]
    for i in range(n):
        w[perm_r[i]] = b[i]
    for j in range(n):
        wj = w[j]
        if wj != 0.0:
            for p in range(l_ptr[j], l_ptr[j + 1]):
                w[l_idx[p]] -= l_val[p] * wj
    for j in range(n - 1, -1, -1):
        wj = w[j] / u_diag[j]
        w[j] = wj
        if wj != 0.0:
            for p in range(u_ptr[j], u_ptr[j + 1]):
                w[u_idx[p]] -= u_val[p] * wj
    for i in range(n):
        out[i] = w[perm_c[i]]


@njit(cache=True, nogil=True)
def lu_solve(l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, u_diag, perm_r, perm_c, b, out, w):
    """:class:`SparseLU`'s solve: ``Pr A Pc = L U`` with `L` unit lower and `U` upper triangular
    (CSC, their strict parts; U's diagonal `u_diag`): ``w = Pr b``, forward then backward
    substitution on the rows of `w` (n × k, all right-hand sides together), ``out = (Pc w)ᵀ``."""
    n, k = b.shape
    for i in range(n):
        wi = perm_r[i]
        for c in range(k):
            w[wi, c] = b[i, c]
    for j in range(n):
        for p in range(l_ptr[j], l_ptr[j + 1]):
            r = l_idx[p]
            v = l_val[p]
            for c in range(k):
                w[r, c] -= v * w[j, c]
    for j in range(n - 1, -1, -1):
        d = u_diag[j]
        for c in range(k):
            w[j, c] /= d
        for p in range(u_ptr[j], u_ptr[j + 1]):
            r = u_idx[p]
            v = u_val[p]
            for c in range(k):
                w[r, c] -= v * w[j, c]
    for i in range(n):
        src = perm_c[i]
        for c in range(k):
            out[c, i] = w[src, c]


@njit(cache=True, nogil=True, error_model="numpy")
def chord_solve(y_ptr, y_idx, y_val, v, p, q, act, pq, nonref, w, lam, l_ptr, l_idx, l_val, u_ptr, u_idx, u_val,
                u_diag, perm_r, perm_c, z_up, a_up, c_up, tol, max_iter, accel=False):
    """``ACGrid.solve_chord``'s iterations, compiled: Newton's equations (the distributed-slack
    mismatch of the active buses' P and the PQ buses' Q; the admittance matrix CSC `y_*`) solved
    with one factorised Jacobian (:class:`SparseLU`'s arrays) from the voltages `v` (complex,
    updated in place) and the slack `lam` [pu] — that Jacobian plus a low-rank change where `z_up`
    has columns (Woodbury: a step ``x − z_up (a_up x[c_up])``; ``CaseSet._chord_update``). Returns
    (status, steps, lam): status 1 converged to `tol`, 0 not within `max_iter` steps or its
    mismatch not halved a step from the second one (`accel`: not cut by 10 %), -1 a voltage out
    of 0.3–2 pu. `accel`: Anderson acceleration of depth 1 (the step and update of the step
    before mixed in: a chord on another state's Jacobian converges linearly, slowly)."""
    n = v.shape[0]
    n_act, n_pq, n_a = act.shape[0], pq.shape[0], nonref.shape[0]
    rows = n_act + n_pq
    vm = np.abs(v)
    va = np.empty(n)
    for i in range(n):
        va[i] = math.atan2(v[i].imag, v[i].real)
    cur = np.empty(n, dtype=np.complex128)
    f = np.empty(rows)
    dx = np.empty(rows)
    work = np.empty(rows)
    s_prev = np.zeros(rows)  # (Anderson: the previous chord step and the update applied)
    u_prev = np.zeros(rows)
    prev = np.inf
    for it in range(max_iter + 1):
        for i in range(n):
            cur[i] = 0.0
        for j in range(n):
            vj = v[j]
            for k in range(y_ptr[j], y_ptr[j + 1]):
                cur[y_idx[k]] += y_val[k] * vj
        err = 0.0
        for a in range(n_act):
            i = act[a]
            s = v[i] * np.conj(cur[i])
            f[a] = s.real - (p[i] + w[a] * lam)
            err = max(err, abs(f[a])) if not math.isnan(f[a]) else np.inf
        for a in range(n_pq):
            i = pq[a]
            s = v[i] * np.conj(cur[i])
            f[n_act + a] = s.imag - q[i]
            err = max(err, abs(f[n_act + a])) if not math.isnan(f[n_act + a]) else np.inf
        if err < tol:
            return 1, it, lam
        if it == max_iter or not math.isfinite(err) or (it >= 2 and not err < (0.9 if accel else 0.5) * prev):
            return 0, it, lam
        prev = err
        lu_solve_one(l_ptr, l_idx, l_val, u_ptr, u_idx, u_val, u_diag, perm_r, perm_c, f, dx, work)
        for r in range(z_up.shape[1]):
            t = 0.0
            for c in range(c_up.shape[0]):
                t += a_up[r, c] * dx[c_up[c]]
            work[r] = t
        for r in range(z_up.shape[1]):
            t = work[r]
            for i in range(rows):
                dx[i] -= z_up[i, r] * t
        if accel:  # Anderson depth 1: x + s − γ (Δx + Δs), γ = Δs·s / Δs·Δs (the step s = −dx)
            num = 0.0
            den = 0.0
            if it >= 1:
                for i in range(rows):
                    ds = -dx[i] - s_prev[i]
                    num += ds * -dx[i]
                    den += ds * ds
            gam = num / den if den > 0.0 else 0.0
            for i in range(rows):
                si = -dx[i]
                ui = si - gam * (u_prev[i] + si - s_prev[i])
                s_prev[i] = si
                u_prev[i] = ui
                dx[i] = -ui
        for a in range(n_a):
            va[nonref[a]] -= dx[a]
        for a in range(n_pq):
            vm[pq[a]] -= dx[n_a + a]
        lam -= dx[rows - 1]
        for i in range(n):
            if not (vm[i] > 0.3 and vm[i] <= 2.0):
                return -1, it, lam
            v[i] = vm[i] * complex(math.cos(va[i]), math.sin(va[i]))
    return 0, max_iter, lam


@njit(cache=True, nogil=True, error_model="numpy")
def pair_changes(x, rows, z, a_c, cols, grad, case_of, out):
    """``CaseSet._pair_dl_dc``'s first-order loading changes, one pass over the pairs: per case
    ``u = A x[cols]`` (its outage's ``(I + ΔJ Z)⁻¹ ΔJ`` on the columns it touches), then per
    pair p ``out[p] = grad[p] · (x[rows[p]] − Z[p] u[case_of[p]])`` — the base case's change `x`
    updated for the case's outage (Woodbury), at the pair's branch ends, times its loading
    gradient. (Three einsums and their gathers took ~10 ms a bus on the European grid.)"""
    n_c, n_r, n_k = a_c.shape
    u = np.empty((n_c, n_r))
    for c in range(n_c):
        for r in range(n_r):
            s = 0.0
            for k in range(n_k):
                s += a_c[c, r, k] * x[cols[c, k]]
            u[c, r] = s
    for p in range(rows.shape[0]):
        c = case_of[p]
        s = 0.0
        for k in range(rows.shape[1]):
            d = x[rows[p, k]]
            for r in range(n_r):
                d -= z[p, k, r] * u[c, r]
            s += grad[p, k] * d
        out[p] = s
