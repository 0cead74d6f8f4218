"""DC N-1 hosting screen of every bus of a large grid: PTDF and outage factors, no AC.

:meth:`GridModel.hosting_capacity` answers in AC (every case it needs solved with the load), and
its screen takes first-order AC sensitivities from every case's Jacobian: a cost that grows with
cases × buses × the Jacobian's size. On the Continental European grid (4,659 buses, 5,653 N-1
cases) that is hours and hundreds of GB for every bus. This module is the first stage for such a
grid: for every bus, the load at which the base case or any single-circuit outage first takes a
branch to its limit, in the DC approximation — the flow change per MW of load from the PTDF
(distributed slack), updated per outage by its line-outage distribution factors (LODF), against
each case's active-power room at its limit with its reactive flow held (the same room and factors
as the DC part of the AC screen). No voltages, no losses: it ranks and shortlists; the AC answer
for a shortlist is :meth:`GridModel.hosting_capacity` (measured side by side in
``bench/scale_benchmark.py``).

Memory stays bounded: per case a row of rooms and outage factors (cases × branches, single
precision), and PTDF for a block of buses at a time; never buses × branches × outages. A block of buses
is one compiled pass over every case and branch (:func:`screen_block`; exact, no pruning: ~35 M
branch-cases a bus on the European grid), the blocks on every core (threads).

The same rooms and factors drive the DC-driven search of a large grid (the default there:
:data:`~siting.grid.hosting.DC_DRIVEN`): per case its DC limit at each bus of a chunk
(:func:`case_limits`), the voltage limits from the base case's AC change (:func:`voltage_limits`),
and which cases to AC-check at an answer (:func:`dc_near_cases`, over :class:`CaseBounds`;
:func:`strong_near` for the outages that carry much of the load).

Definition, as :meth:`GridModel.hosting_capacity`'s thermal one: a branch may reach its limit
(``max_loading_pct``; one over its rating without the load, that loading plus ``worsen_pp``), and
a branch over which the load moves under :data:`~siting.grid.hosting.ATTRIBUTION_SHARE` of its MW
is held only to what :func:`~siting.grid.hosting.attributed_limit` allows. Outages that split the
grid are skipped (listed), as there.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

from .._progress import progress
from ._parallel import available_workers
from .hosting import ATTRIBUTION_SHARE, CaseSet, attributed_limit, case_label, element_label

__all__ = ["CaseBounds", "DCScreen", "dc_near_cases", "screen_block"]

#: buses screened together (their PTDF: m × 64 in single precision, 1.6 MB on the European grid;
#: each case's rows are read once a block)
BLOCK_BUSES = 64
#: :func:`dc_near_cases` reads a strong outage's case at the branches where its factor (LODF) is
#: this or more (on the European grid ~90 of 6,248 a case) and finds its others in the per-branch
#: sorted bounds
LODF_LIST = 0.01
#: cases handled a block at a time in :class:`DCScreen` (their outages' transfer columns: never
#: m × m) and :class:`CaseBounds` (their voltage rooms written into its bus-major arrays at once:
#: one case's column at a time strides over every bus's row, a cache miss a bus)
CASE_BLOCK = 256


class DCScreen:
    """The DC N-1 screen of the cases `cs` (:class:`~siting.grid.hosting.CaseSet`, solved
    without the load): per case and branch the active-power room either way at its limit and the
    outage's factors, built once (single precision: ~0.4 GB on the European grid), then
    :meth:`run` for any buses."""

    def __init__(self, cs: CaseSet) -> None:
        self.cs = cs
        g = cs.grid
        c_n, m = len(cs.cases), g.m
        f32 = np.float32
        #: per case and branch the room [MW] for a flow change > 0 (up) and < 0 (down, negative);
        #: where attribution may relax the branch, the relaxed room (the plain one in the pairs)
        self.up, self.down = np.empty((c_n, m), dtype=f32), np.empty((c_n, m), dtype=f32)
        self.lodf = np.zeros((c_n, m), dtype=f32)
        self.k_out = np.full(c_n, -1, dtype=np.int64)
        self.keep = np.ones(c_n, dtype=f32)
        self.denom = np.ones(c_n, dtype=f32)
        self.plain = np.ones(c_n, dtype=np.bool_)
        # the pairs attribution may relax (CaseSet._attribution_pairs): their plain rooms kept
        # apart, the relaxed ones in the rows
        self.pair_ptr, self.pair_branch = cs._pair_ptr.astype(np.int64), cs._pairs[1].astype(np.int64)
        self.pair_up = np.empty(len(self.pair_branch), dtype=f32)
        self.pair_down = np.empty(len(self.pair_branch), dtype=f32)
        h_blk, at = None, -1  # (the transfer columns of a block of cases' outages: never m × m)
        for ci, case in enumerate(cs.cases):
            if ci % CASE_BLOCK == 0:
                ks = [c.outage for c in cs.cases[ci:ci + CASE_BLOCK] if c.outage is not None]
                h_blk = cs.dc.transfer_columns(np.array(ks, dtype=int)) if ks else None
                at = 0
            alive = cs._alive(case) != 0
            k_dc, p0 = cs._dc_room(case)
            up, down = np.where(alive, k_dc - p0, np.inf), np.where(alive, -k_dc - p0, -np.inf)
            s = slice(self.pair_ptr[ci], self.pair_ptr[ci + 1])
            pairs = self.pair_branch[s]
            if len(pairs):
                self.pair_up[s], self.pair_down[s] = up[pairs], down[pairs]
                relaxed = attributed_limit(case.pre.loading_pct, case.max_loading, True, cs.limits.worsen_pp)
                k_rel = cs._dc_room(case, limit=relaxed)[0]
                up[pairs], down[pairs] = k_rel[pairs] - p0[pairs], -k_rel[pairs] - p0[pairs]
            self.up[ci], self.down[ci] = up, down
            if case.outage is not None:
                lodf, keep, denom, island = cs.dc.outage_factors(case.outage, h_blk[:, at])
                at += 1
                if not island:  # (an outage that islands a bus leaves the factors as they are)
                    self.lodf[ci] = lodf
                    self.k_out[ci], self.keep[ci], self.denom[ci], self.plain[ci] = case.outage, keep, denom, False

    def run(self, buses: np.ndarray, max_mw: float, workers: int | None = None,
            desc: str = "DC screen") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per internal bus of `buses`: the screened limit [MW] (`max_mw` where none binds
        below it), the index of the limiting case in ``cs.cases`` and the limiting branch row
        (-1, -1 at the cap). Blocks of :data:`BLOCK_BUSES` buses on `workers` threads (default
        every core); the same numbers whatever the threads."""
        cs, g = self.cs, self.cs.grid
        buses = np.asarray(buses, dtype=int)
        out = np.empty(len(buses), dtype=np.float32)
        case = np.empty(len(buses), dtype=np.int64)
        elem = np.empty(len(buses), dtype=np.int64)
        slack_flow = cs.dc.flows(g.slack_w)
        args = (self.up, self.down, self.lodf, self.k_out, self.keep, self.denom, self.plain, self.pair_ptr,
                self.pair_branch, self.pair_up, self.pair_down, np.float32(ATTRIBUTION_SHARE))

        def one(lo: int) -> int:
            block = slice(lo, lo + BLOCK_BUSES)
            # a load: minus the injection's flow change (distributed slack); branches × buses
            load = np.ascontiguousarray(slack_flow[:, None] - cs.dc.ptdf(buses[block]), dtype=np.float32)
            # the kernel writes its results at every branch: into arrays of this thread's own (in
            # slices of the shared ones, two threads wrote one cache line: 2.5x the time)
            mine = np.empty(load.shape[1], dtype=np.float32), *(np.empty(load.shape[1], dtype=np.int64) for _ in "ce")
            screen_block(load, np.float32(max_mw), *args, *mine)
            out[block], case[block], elem[block] = mine
            return load.shape[1]

        starts = range(0, len(buses), BLOCK_BUSES)
        with ThreadPoolExecutor(max(1, workers or available_workers())) as pool:
            for _ in progress(_counted(pool.map(one, starts)), desc, total=len(buses)):
                pass
        return out.astype(float), case, elem

    def labels(self, case: int, elem: int) -> tuple[str, str]:
        """(limiting case, limiting element) of a :meth:`run` result, '' at the cap."""
        if case < 0:
            return "", ""
        g = self.cs.grid
        return case_label(g, self.cs.cases[case].outage), element_label(g, "thermal", int(elem))


class CaseBounds:
    """What the searches of a large grid read instead of each case's Jacobian (built once per
    :class:`~siting.grid.hosting.CaseSet`, single precision): per case and branch its flows
    without the load and 100 / its rating [MVA], and the bound of :func:`dc_near_cases` (also per
    branch sorted over the cases); per bus and case its voltage room down and up to its band.
    On the Continental European grid (5,653 cases, 6,248 branches, 4,659 buses): 1.0 GB."""

    def __init__(self, cs: CaseSet) -> None:
        g = cs.grid
        c_n, m, n = len(cs.cases), g.m, g.n
        f32 = np.float32
        self.pf, self.qf, self.inv_r, self.bound = (np.empty((c_n, m), dtype=f32) for _ in range(4))
        self.lo_room, self.hi_room = np.empty((n, c_n), dtype=f32), np.empty((n, c_n), dtype=f32)
        with cs._plain_cases():
            lim = cs._limit_stack()[0]
        base = cs.cases[0]
        scr = cs.dc_screen()
        lo_blk, hi_blk = np.empty((CASE_BLOCK, n), dtype=f32), np.empty((CASE_BLOCK, n), dtype=f32)
        for ci, case in enumerate(cs.cases):
            pre = case.pre
            p0, q0 = np.nan_to_num(pre.p_from_mw), np.nan_to_num(pre.q_from_mvar)
            rating = cs._rating_mva(case) * cs._alive(case)
            with np.errstate(divide="ignore", invalid="ignore"):
                inv = np.where(rating > 0, 100.0 / rating, 0.0)
            l_pre = inv * np.hypot(p0, q0)
            if ci == 0:
                #: the base case's loading [%] from its flows (as the cases'), flows and 100 / rating
                self.l00, self.p00, self.q00, self.inv_r0 = l_pre, p0, q0, inv
            self.pf[ci], self.qf[ci], self.inv_r[ci] = p0, q0, inv
            self.bound[ci] = np.where(np.isfinite(lim[ci]) & (inv > 0), lim[ci] - (l_pre - self.l00), np.inf)
            at = ci % CASE_BLOCK
            lo_blk[at], hi_blk[at] = pre.vm_pu - case.vm_low, case.vm_high - pre.vm_pu
            if at == CASE_BLOCK - 1 or ci == c_n - 1:  # (a block of cases' columns at once: n × C, bus-major)
                self.lo_room[:, ci - at:ci + 1] = lo_blk[:at + 1].T
                self.hi_room[:, ci - at:ci + 1] = hi_blk[:at + 1].T
        self.vm0 = base.pre.vm_pu
        #: per case whether its outage islands a bus in DC (no factors) though not in AC
        self.blind = scr.plain & np.array([c.outage is not None for c in cs.cases], dtype=bool)
        #: per branch over the cases: the largest 100 / rating and |LODF|
        self.inv_r_max = self.inv_r.max(axis=0).astype(float)
        self.lodf_max = np.abs(scr.lodf).max(axis=0).astype(float)
        #: per case the branches its outage's factor reaches LODF_LIST at (CSR: ``big_idx[big_ptr[c]:
        #: big_ptr[c + 1]]``, ascending), for :func:`dc_near_cases`
        counts, idx = np.zeros(c_n, dtype=np.int64), []
        for lo in range(0, c_n, CASE_BLOCK):
            rows, cols = np.nonzero(np.abs(scr.lodf[lo:lo + CASE_BLOCK]) >= LODF_LIST)
            counts[lo:lo + CASE_BLOCK] = np.bincount(rows, minlength=min(CASE_BLOCK, c_n - lo))
            idx.append(cols.astype(np.int32))
        self.big_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.big_idx = np.concatenate(idx) if idx else np.zeros(0, dtype=np.int32)
        with np.errstate(invalid="ignore"):
            self.lo_min = np.nanmin(np.where(np.isnan(self.lo_room), np.inf, self.lo_room), axis=1).astype(float)
            self.hi_min = np.nanmin(np.where(np.isnan(self.hi_room), np.inf, self.hi_room), axis=1).astype(float)
        order = np.empty((m, c_n), dtype=np.int32)
        b_sorted = np.empty((m, c_n), dtype=f32)

        def block(lo: int) -> None:  # (the transposed bounds, C × 256 at a time; numpy sorts without the GIL)
            blk = np.ascontiguousarray(self.bound[:, lo:lo + 256].T)
            order[lo:lo + 256] = np.argsort(blk, axis=1, kind="stable")
            b_sorted[lo:lo + 256] = np.take_along_axis(blk, order[lo:lo + 256], axis=1)

        with ThreadPoolExecutor(max(1, available_workers())) as pool:
            list(pool.map(block, range(0, m, 256)))
        self.order, self.b_sorted = order, b_sorted


def _counted(sizes):
    """One item per bus of each finished block (for the progress bar)."""
    for k in sizes:
        yield from range(k)


@njit(cache=True, nogil=True, error_model="numpy")
def screen_block(load, cap, up, down, lodf, k_out, keep, denom, plain, pair_ptr, pair_branch, pair_up,
                 pair_down, share, best, b_case, b_elem):
    """:meth:`DCScreen.run` for a block of buses: `load` (m × B) the flow change [MW] of each
    branch per MW of load at each bus, in the base case. Per case c (rows of `up`, `down`,
    `lodf`), the flow change ``load[e] + lodf[c, e] × load[k]`` with branch ``k = k_out[c]`` out
    (the row itself keeping ``keep[c]`` of its circuits: ``keep × load[k] / denom``), against
    the case's rooms: the load at which the first branch reaches its own, per bus the smallest
    over cases and branches (``best``, with its case and branch; `cap`, -1, -1 where none binds
    below `cap`). The rows hold the relaxed rooms at the pairs attribution may relax
    (``pair_*``: per case its branches and their plain rooms): a pair over which the load moves
    at least `share` of its MW is then taken at its plain room, which only lowers its load (the
    relaxed room is the wider one).

    Each case's limits (:func:`case_limits`), the smallest kept: the first case's at a tie."""
    c_n = up.shape[0]
    nb = load.shape[1]
    lim = np.empty((c_n, nb), dtype=np.float32)
    elem = np.empty((c_n, nb), dtype=np.int64)
    case_limits(load, cap, up, down, lodf, k_out, keep, denom, plain, pair_ptr, pair_branch, pair_up, pair_down,
                share, lim, elem)
    for b in range(nb):
        best[b] = cap
        b_case[b] = -1
        b_elem[b] = -1
    for c in range(c_n):
        for b in range(nb):
            if lim[c, b] < best[b]:
                best[b] = lim[c, b]
                b_case[b] = c
                b_elem[b] = elem[c, b]


@njit(cache=True, nogil=True, error_model="numpy")
def case_limits(load, cap, up, down, lodf, k_out, keep, denom, plain, pair_ptr, pair_branch, pair_up, pair_down,
                share, out, out_elem):
    """:func:`screen_block` per case: ``out[c, b]`` the load at which case c first takes a
    branch (``out_elem[c, b]``) to its room at bus b (`cap`, -1 where none below it).

    The innermost loop runs over the block's buses without branching (selects, a division
    each): vectorised, it reads each case's rows once a block (~0.2 ns a case, branch and bus
    measured; the Continental European grid's 5,653 × 6,248 × 4,659 in ~35 core-seconds)."""
    c_n, m = up.shape
    nb = load.shape[1]
    pc = np.zeros(nb, dtype=np.float32)
    for c in range(c_n):
        k = k_out[c]
        best, b_elem = out[c], out_elem[c]
        for b in range(nb):
            pc[b] = 0.0 if plain[c] else load[k, b]
            best[b] = cap
            b_elem[b] = -1
        for e in range(m):
            if e == k:
                continue
            u, d, f, row = up[c, e], down[c, e], lodf[c, e], load[e]
            for b in range(nb):
                s = row[b] + f * pc[b]
                p = (u if s > 0 else d) / s  # (s = 0: ±inf or NaN, neither taken)
                ok = (p > 0) & (p < best[b])
                best[b] = p if ok else best[b]
                b_elem[b] = e if ok else b_elem[b]
        if not plain[c]:
            u, d = up[c, k], down[c, k]
            for b in range(nb):
                s = keep[c] * pc[b] / denom[c]
                p = (u if s > 0 else d) / s
                ok = (p > 0) & (p < best[b])
                best[b] = p if ok else best[b]
                b_elem[b] = k if ok else b_elem[b]
        for q in range(pair_ptr[c], pair_ptr[c + 1]):
            e = pair_branch[q]
            for b in range(nb):
                s = keep[c] * pc[b] / denom[c] if e == k else load[e, b] + lodf[c, e] * pc[b]
                if abs(s) >= share:
                    p = (pair_up[q] if s > 0 else pair_down[q]) / s
                    if (p > 0) & (p < best[b]):
                        best[b] = p
                        b_elem[b] = e


@njit(cache=True, nogil=True, error_model="numpy")
def voltage_limits(dv, lo_room, hi_room, out):
    """Lower ``out[c, b]`` (C × B, holding each case's thermal limits) to the load at which a
    voltage of case c reaches its band, moved by the base case's first-order change `dv`
    (n × B, pu per MW) from its own without the load: ``lo_room``/``hi_room`` (n × C) its room
    down and up. A bus and case whose nearest limit at the steepest of the block's changes lies
    beyond the case's largest limit in ``out`` is skipped (it lowers none)."""
    n, c_n = lo_room.shape
    nb = dv.shape[1]
    top = np.empty(c_n)
    for c in range(c_n):
        top[c] = out[c].max()
    for i in range(n):
        row = dv[i]
        down = max(0.0, -row.min())
        up = max(0.0, row.max())
        if down == 0.0 and up == 0.0:
            continue
        for c in range(c_n):
            lo, hi = lo_room[i, c], hi_room[i, c]
            if min(lo / down, hi / up) >= top[c]:  # (x / 0: inf; NaN rooms: False, checked)
                continue
            best = out[c]
            for b in range(nb):
                d = row[b]
                p = (lo / -d) if d < 0 else (hi / d)
                best[b] = p if (p > 0) & (p < best[b]) else best[b]


@njit(cache=True, nogil=True, inline="always", error_model="numpy")
def _thermal_near(c, e, s, load_e, p, pf, qf, inv_r, lim, l_ac, l00, d0, ratio, g_pp, g_rel, far):
    """Whether branch e of case c is near its limit `lim[c, e]` with `p` MW added (`s`: its DC
    flow change a MW in the case, `load_e` in the base case): the base case's AC loading with
    the load (`l_ac`) plus the case's difference from it — its own loading without the load
    less the base case's (`l00`), and its DC change with the load less the base case's (`d0`),
    scaled by the base case's AC over DC change (`ratio`) — within `g_pp` + `g_rel` × (that
    change difference + the flow the outage moves onto the branch). Not where the case's outage
    is `far` from the load (carries under :data:`~siting.grid.hosting.DC_NEAR_EPS` of its MW)
    and the case is, so estimated, at most `g_pp` nearer its limit than the base case is to its
    own, which holds there in AC: the base case, searched first, decides (a transformer that
    alone feeds the bus carries the load alike in every case — 5,655 cases near, each solved, at
    7 buses of the European grid; an outage on the load's path changes its voltages, and the
    loading with them, beyond what DC sees: gk-5063 0.13 MW lower with line gk-line-8751 out)."""
    ir = inv_r[c, e]
    lc = lim[c, e]
    if not (ir > 0) or not (lc < np.inf):
        return False
    pc, qc = np.float64(pf[c, e]), np.float64(qf[c, e])
    fc = pc + s * p
    l_c0 = ir * math.sqrt(pc * pc + qc * qc)
    rt = ratio[e]
    dd = (ir * math.sqrt(fc * fc + qc * qc) - l_c0 - d0[e]) * rt
    moved = ir * abs(s - load_e) * p
    unc = g_rel * (abs(dd) + moved * rt)
    if far and l_ac[e] <= lim[0, e] and (l_c0 - l00[e]) + dd - (lc - lim[0, e]) + unc <= g_pp:
        return False  # no nearer its limit than the base case (held in AC) beyond the noise
    return l_ac[e] + (l_c0 - l00[e]) + dd >= lc - (g_pp + unc)


@njit(cache=True, nogil=True, error_model="numpy")
def dc_near_cases(load, p, lodf, k_out, keep, denom, plain, pf, qf, inv_r, lim, bound, b_sorted, order, l_ac, l00, d0,
               ratio, u0, w, eps, lodf_max, big_ptr, big_idx, phi, g_pp, g_rel, dv_ac, lo_room, hi_room, lo_min,
               hi_min, g_pu, noise_pu, blind, near):
    """Per case whether, with `p` MW added at a bus (`load`: its DC flow change a MW per branch),
    an element lies near its limit (:func:`_thermal_near`; a voltage: the base case's AC change
    `dv_ac` from its own without the load, on the case's own, within `g_pu` of its band — unless,
    as for a branch, the outage is far and the case has, less `noise_pu`, the room of the base
    case, which holds: a bus the base case holds within `g_pu` of its band at the answer put
    every case near, 5,653 AC solves at gk-4395, where the answer is an outage's thermal limit). Exact
    where it may hold, found without testing every case's every branch: the test's left side is
    at most ``u0[e] + |lodf[c, e] × load[k]| × w[e]`` (k the case's outage), against
    ``bound[c, e]`` (the limit less the case's own loading change from the base case's, without
    the load; the plain limit, which attribution only raises). A case whose outaged branch
    carries `eps` or more of the load's MW is bounded branch by branch; the others per branch
    from its cases sorted by bound (``b_sorted[e]``, ``order[e]``) up to
    ``u0 + eps × lodf_max × w``: the few cases there. A case bounded branch by branch reads only
    the branches where its outage's factor is `phi` or more (``big_idx[big_ptr[c]:big_ptr[c +
    1]]``: ~90 of 6,248 on the European grid); its others come from the same sorted lists, up to
    ``u0 + phi × (its largest share) × w`` (every branch of ~600 such cases a bus took 10 ms a bus
    there, memory-bound; the same cases near). A case whose outage DC cannot represent
    (`blind`: it islands a bus in DC, not in AC — case145's trafo 3, the limit at three of its
    buses that the search answered 5.6× too high for) is always near."""
    c_n, m = lodf.shape
    slack = 1e-3  # (the single-precision bounds' rounding, ~1e-5 pp)
    apk_max = 0.0  # the largest share of the load an outage bounded branch by branch carries
    for c in range(c_n):
        near[c] = blind[c]  # (an outage DC cannot represent: always AC-checked)
        if plain[c]:
            continue
        k = k_out[c]
        pk = load[k]
        apk = abs(pk)
        if apk >= eps:
            apk_max = max(apk_max, apk)
        if _thermal_near(c, k, keep[c] * pk / denom[c], load[k], p, pf, qf, inv_r, lim, l_ac, l00, d0, ratio, g_pp,
                         g_rel, apk < eps):  # the outaged row itself, where a circuit of it remains
            near[c] = True
            continue
        if apk < eps:
            continue
        row_f, row_b = lodf[c], bound[c]
        for q in range(big_ptr[c], big_ptr[c + 1]):  # (its factors of phi or more; the others below)
            e = big_idx[q]
            f = row_f[e]
            if e == k or u0[e] + abs(f) * apk * w[e] + slack < row_b[e]:
                continue
            if _thermal_near(c, e, load[e] + f * pk, load[e], p, pf, qf, inv_r, lim, l_ac, l00, d0, ratio, g_pp,
                             g_rel, False):
                near[c] = True
                break
    for e in range(m):
        reach_far = u0[e] + eps * lodf_max[e] * w[e] + slack
        reach = max(reach_far, u0[e] + phi * apk_max * w[e] + slack)
        srt = b_sorted[e]
        for idx in range(c_n):
            if srt[idx] > reach:
                break
            c = order[e, idx]
            k = k_out[c]
            if near[c] or e == k:
                continue
            pk = 0.0 if plain[c] else load[k]
            f = lodf[c, e]
            if abs(pk) >= eps:  # a case bounded branch by branch, at a branch of a factor under phi
                if abs(f) >= phi or u0[e] + abs(f) * abs(pk) * w[e] + slack < srt[idx]:
                    continue
                if _thermal_near(c, e, load[e] + f * pk, load[e], p, pf, qf, inv_r, lim, l_ac, l00, d0, ratio,
                                 g_pp, g_rel, False):
                    near[c] = True
                continue
            if srt[idx] > reach_far:
                continue
            if _thermal_near(c, e, load[e] + f * pk, load[e], p, pf, qf, inv_r, lim, l_ac, l00, d0, ratio,
                             g_pp, g_rel, True):
                near[c] = True
    far = np.empty(c_n, dtype=np.bool_)
    for c in range(c_n):
        far[c] = plain[c] or abs(load[k_out[c]]) < eps
    for i in range(lo_room.shape[0]):
        x = dv_ac[i]
        if x + lo_min[i] > g_pu and hi_min[i] - x > g_pu:
            continue
        lo, hi = lo_room[i], hi_room[i]
        lo_ok, hi_ok = x + lo[0] >= 0.0, hi[0] - x >= 0.0  # (the base case holds there)
        for c in range(c_n):
            if x + lo[c] <= g_pu and not (far[c] and lo_ok and lo[c] >= lo[0] - noise_pu):
                near[c] = True
            if hi[c] - x <= g_pu and not (far[c] and hi_ok and hi[c] >= hi[0] - noise_pu):
                near[c] = True


@njit(cache=True, nogil=True, error_model="numpy")
def strong_near(cases, ddv, dda, x_v, x_a, p, lo_room, hi_room, d_max, lo_min, hi_min, ang, va, on, f, t, spread, g_rel,
                g_pu, g_ang, g_move, near):
    """``CaseSet._near_strong``: per case ``cases[i]`` (not yet `near`) whose outage carries much
    of the load, whether with `p` MW a voltage or an angle may reach its limit. Its change with
    the load: the base case's AC change (`x_v`, `x_a`, per bus) plus the case's first-order
    difference from the base case's (``ddv[i]``, ``dda[i]`` per MW), held within `spread` × that
    difference + `g_rel` of the change; a voltage within `g_pu` of its band (rooms ``lo_room``,
    ``hi_room`` n × C), or an angle across a branch in service (``on[a]``) from the case's own
    (``va[a]``) at `g_ang`, having moved `g_move`, puts it near. The voltages bus by bus,
    skipping a bus that no case can bring near (``d_max[b]``: the largest |ddv[:, b]|; ``lo_min``,
    ``hi_min``: the smallest rooms of any case); the angles of the cases ``cases[ang[a]]`` alone
    (the others cannot reach `g_ang`: ``CaseSet._near_strong``)."""
    n = x_v.shape[0]
    m = f.shape[0]
    k = cases.shape[0]
    hit = np.zeros(k, dtype=np.bool_)
    for i in range(k):
        hit[i] = near[cases[i]]
    for b in range(n):
        xb = x_v[b]
        dm = d_max[b] * abs(p)
        wm = spread * dm + g_rel * (abs(xb) + dm) + 1e-12
        if xb - dm - wm + lo_min[b] > g_pu and hi_min[b] - xb - dm - wm > g_pu:
            continue  # (every case's estimate and band as below: none within g_pu)
        lo_b, hi_b = lo_room[b], hi_room[b]
        for i in range(k):
            if hit[i]:
                continue
            c = cases[i]
            d = ddv[i, b] * p
            est = xb + d
            w = spread * abs(d) + g_rel * abs(est)
            if est - w + lo_b[c] <= g_pu or hi_b[c] - est - w <= g_pu:  # (NaN rooms: False)
                hit[i] = True
    for a in range(ang.shape[0]):
        i = ang[a]
        if hit[i]:
            continue
        for e in range(m):
            if not on[a, e]:
                continue
            d = (dda[i, f[e]] - dda[i, t[e]]) * p
            move = x_a[f[e]] - x_a[t[e]] + d
            w = spread * abs(d) + g_rel * abs(move)
            if abs(move) + w >= g_move and abs(va[a, f[e]] - va[a, t[e]] + move) + w >= g_ang:
                hit[i] = True
                break
    for i in range(k):
        near[cases[i]] = hit[i]
