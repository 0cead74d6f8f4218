"""The screen of a large grid, kept compact: per screened bus only the (case, element) pairs that a
load up to the search's ceiling could bring near a limit.

The dense screen (:meth:`siting.grid.hosting.CaseSet.screen`) keeps every case's first-order
loading, voltage and angle change for every branch and bus: cases × (branches + 2 buses) × 4 B a
screened bus — 0.3 MB on IEEE 118, 27 MB on case1354pegase, 0.35 GB on the Continental European
grid. Most of those numbers can never matter: a load in the Netherlands moves a branch in Spain
by thousandths of a percent. :class:`CompactScreen` keeps, per bus, a (case, element) pair only
where the first-order estimate *at the ceiling* ``p_max`` — widened by the guard bands of
:meth:`~siting.grid.hosting.CaseSet.near_limit` with the base case's observed linearisation
errors up to :data:`ERR_CAP_PP`, :data:`ERR_CAP_PU` and :data:`CURVATURE_CAP` — could reach the
limit. Every test of ``near_limit`` is monotone in the load and in those errors, so a pair left
out is not near at any load up to the ceiling; where the observed errors exceed the caps, every
case counts as near (AC checks them all: slower, never less safe). Limits are the cases' own
(attribution only raises them), so the kept pairs are a superset for every bus's attribution.

What else the search reads per case is kept densely only for the base case (its sensitivities,
for :meth:`~siting.grid.hosting.CaseSet.linear_error`) and for the branches attribution may relax
(:meth:`~siting.grid.hosting.CaseSet.attributed`). The Newton starts of the other cases move
their own states by the base case's first-order voltage change (the dense screen uses each
case's own): the same solutions, sometimes one iteration more.
"""

from __future__ import annotations

import numpy as np

#: the base case's observed linearisation errors up to which the kept pairs are complete
ERR_CAP_PP = 10.0
ERR_CAP_PU = 0.05
CURVATURE_CAP = 5000.0


class CompactScreen:
    """Per screened bus (column j): the kept thermal, voltage and angle pairs with what
    ``near_limit`` needs of them; built case by case with :meth:`add`, then :meth:`finish`."""

    def __init__(self, n_buses: int, p_max: float, guard: tuple[float, float, float, float]) -> None:
        self.p_max = float(p_max)
        self.guard_pp, self.guard_pu, self.guard_rel, self.guard_angle = guard
        self._parts: list[list[dict]] = [[] for _ in range(n_buses)]
        self._out: list[np.ndarray] = []  # per case, the branches out of service
        self.cols: list[dict] = []
        self._limits: dict[tuple[int, int], np.ndarray] = {}

    def add(self, pieces: list[tuple[int, dict]], out: np.ndarray) -> None:
        """Keep what :meth:`pieces` found (cases in order); `out`: the branches out in that case."""
        for j, piece in pieces:
            self._parts[j].append(piece)
        self._out.append(out)

    def pieces(self, ci: int, case, l0: np.ndarray, on: np.ndarray, dl: np.ndarray, dv: np.ndarray, da: np.ndarray,
               f: np.ndarray, t: np.ndarray, base: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, dict]]:
        """Case `ci`'s pairs that matter, per column j of `dl` (m × B), `dv`, `da` (n × B);
        `base`: the base case's `dl` and `dv`. A pair is kept where the estimate at the ceiling,
        widened by either kind of band (:meth:`near`, local or not) at the caps, reaches the
        limit: the local band's ``GUARD_REL`` × the change's difference from the base case's is
        at most ``GUARD_REL`` × (|change| + |base change|)."""
        p = self.p_max
        grow = 1.0 + self.guard_rel
        dl0, dv0 = base
        lim = np.where(np.isnan(case.max_loading), np.inf, case.max_loading)
        vm0, va0 = case.pre.vm_pu, case.pre.va_rad
        reach_l = (l0[:, None] + grow * np.abs(dl) * p + self.guard_rel * np.abs(dl0) * p + self.guard_pp
                   + grow * ERR_CAP_PP >= lim[:, None])
        dvp = np.abs(dv) * p
        band = (self.guard_pu + grow * dvp + self.guard_rel * np.abs(dv0) * p
                + np.maximum(grow * ERR_CAP_PU, CURVATURE_CAP * dvp**2))
        reach_v = (vm0[:, None] - band <= case.vm_low[:, None]) | (vm0[:, None] + band >= case.vm_high[:, None])
        ang0 = (va0[f] - va0[t])[:, None]
        dang = da[f] - da[t]
        reach_a = on[:, None] & (np.abs(ang0) + np.abs(dang) * p >= self.guard_angle)
        out = []
        for j in range(dl.shape[1]):
            tl = np.flatnonzero(reach_l[:, j])
            tv = np.flatnonzero(reach_v[:, j])
            ta = np.flatnonzero(reach_a[:, j])
            if len(tl) or len(tv) or len(ta):
                out.append((j, {
                    "ci": ci, "tl": tl, "tl0": l0[tl], "tdl": dl[tl, j], "tdl0": dl0[tl, j],
                    "tv": tv, "v0": vm0[tv], "dv": dv[tv, j], "dv0": dv0[tv, j], "vlow": case.vm_low[tv],
                    "vhigh": case.vm_high[tv], "ta0": ang0[ta, 0], "tda": dang[ta, j]}))
        return out

    def finish(self, n_cases: int, n_branches: int, n_buses: int) -> None:
        # a branch out in a case cannot be near a limit there: it counts as kept
        self.out_case = np.concatenate([np.full(len(o), ci) for ci, o in enumerate(self._out)]).astype(np.int64) \
            if self._out else np.zeros(0, dtype=np.int64)
        self.out_branch = np.concatenate(self._out).astype(np.int64) if self._out else np.zeros(0, dtype=np.int64)
        out = np.bincount(self.out_branch, minlength=n_branches)
        for parts in self._parts:
            cat = {}
            for key in ("tl", "tl0", "tdl", "tdl0", "tv", "v0", "dv", "dv0", "vlow", "vhigh", "ta0", "tda"):
                cat[key] = np.concatenate([q[key] for q in parts]) if parts else np.zeros(0)
            for key, src in (("tc", "tl"), ("vc", "tv"), ("ac", "ta0")):
                cat[key] = np.concatenate([np.full(len(q[src]), q["ci"]) for q in parts]).astype(np.int64) \
                    if parts else np.zeros(0, dtype=np.int64)
            cat["tl"] = cat["tl"].astype(np.int64)
            cat["tv"] = cat["tv"].astype(np.int64)
            # the elements kept in every case: their own departure may exceed the caps
            cat["all_l"] = np.bincount(cat["tl"], minlength=n_branches) + out >= n_cases
            cat["all_v"] = np.bincount(cat["tv"], minlength=n_buses) >= n_cases
            self.cols.append(cat)
        self._parts, self._out = [], []

    def pairs(self) -> int:
        """Pairs kept over all columns (a measure of the memory)."""
        return int(sum(len(c["tl"]) + len(c["v0"]) + len(c["ta0"]) for c in self.cols))

    def _thermal_limits(self, j: int, cases: list) -> np.ndarray:
        """The kept thermal pairs' limits in `cases` (a bus's attributed case list; cached)."""
        key = (j, id(cases))
        got = self._limits.get(key)
        if got is None:
            c = self.cols[j]
            tc, tl = c["tc"], c["tl"]
            got = np.empty(len(tl))
            if len(tl):
                starts = np.flatnonzero(np.r_[True, tc[1:] != tc[:-1]])
                ends = np.r_[starts[1:], len(tc)]
                for s, e in zip(starts, ends):
                    got[s:e] = cases[int(tc[s])].max_loading[tl[s:e]]
            got = np.where(np.isnan(got), np.inf, got)
            self._limits = {k: v for k, v in self._limits.items() if k[0] == j}  # one bus at a time
            self._limits[key] = got
        return got

    def near(self, j: int, cases: list, p_mw: float, err_pp: float, err_pu: float, curvature: float,
             per_element: tuple[np.ndarray, np.ndarray] | None = None, plain: list | None = None,
             local: bool = False, angle_move: float = 0.0) -> np.ndarray:
        """``near_limit`` of the dense screen, on the kept pairs (all True beyond the caps).

        With `per_element` (the base case's departure from its first-order estimate per branch
        [pp] and per bus [pu] at this load), each element's band widens by its own departure
        instead of the largest one: on a continental grid a load's nonlinearity is local, and
        the largest departure (16.6 pp at a branch next to a 1.8 GW load in the Netherlands)
        added to every branch of every case would put every case near a limit. An element whose
        own departure exceeds the cap puts near the cases where the screen did not keep it and
        that its being left out does not clear (:meth:`_unkept_branch_near`, :meth:`_unkept_bus_near`; `plain`: the cases
        without attribution, whose limits the screen kept the pairs for).

        `local` (with `per_element`, where the base case is nearly linear): each band's floor is
        at most the element's own estimated change, and an angle counts only where the load moves
        it by `angle_move` [rad] — as the dense screen's per-element bands: an element the load
        hardly moves stays put in AC, and a branch every case has near its limit no longer puts
        every case near (the European grid's Dutch bus gk-5749 at 60 MW: all 5,653 cases, 5,647
        AC-solved and feasible). The bands only narrow, so the kept pairs still suffice."""
        n = len(cases)
        c = self.cols[j]
        if (curvature > CURVATURE_CAP or p_mw > self.p_max
                or (per_element is None and (err_pp > ERR_CAP_PP or err_pu > ERR_CAP_PU))):
            return np.ones(n, dtype=bool)
        near = np.zeros(n, dtype=bool)
        if per_element is None:
            e_l, e_v = err_pp, err_pu
        else:
            # an element whose own departure exceeds the cap is judged where the screen kept it;
            # a case where it was not kept (nor out) cannot be judged: near
            e_branch, e_bus = per_element
            plain = cases if plain is None else plain
            for b in np.flatnonzero((e_branch > ERR_CAP_PP) & ~c["all_l"]):
                unkept = np.flatnonzero(~_cases_in(n, c["tc"][c["tl"] == b], self.out_case[self.out_branch == b]))
                near[unkept[self._unkept_branch_near(plain, unkept, int(b), p_mw, float(e_branch[b]))]] = True
            for b in np.flatnonzero((e_bus > ERR_CAP_PU) & ~c["all_v"]):
                unkept = np.flatnonzero(~_cases_in(n, c["vc"][c["tv"] == b]))
                near[unkept[self._unkept_bus_near(plain, unkept, int(b), p_mw, float(e_bus[b]), curvature)]] = True
            e_l, e_v = e_branch[c["tl"]], e_bus[c["tv"]]
        local = local and per_element is not None
        grow = 1.0 + self.guard_rel
        dl = c["tdl"] * p_mw
        if local:  # the dense screen's per-element bands (CaseSet.near_limit)
            band = (np.minimum(self.guard_pp, np.abs(dl)) + self.guard_rel * (np.abs(c["tdl"] - c["tdl0"]) * p_mw)
                    + grow * e_l)
        else:
            band = self.guard_pp + self.guard_rel * np.abs(dl) + e_l
        hit = c["tl0"] + dl >= self._thermal_limits(j, cases) - band
        near[c["tc"][hit]] = True
        dv = c["dv"] * p_mw
        v = c["v0"] + dv
        if local:
            band = (np.minimum(self.guard_pu, np.abs(dv)) + self.guard_rel * (np.abs(c["dv"] - c["dv0"]) * p_mw)
                    + np.maximum(grow * e_v, curvature * dv**2))
        else:
            band = self.guard_pu + self.guard_rel * np.abs(dv) + np.maximum(e_v, curvature * dv**2)
        near[c["vc"][(v <= c["vlow"] + band) | (v >= c["vhigh"] - band)]] = True
        wide = np.abs(c["ta0"] + c["tda"] * p_mw) >= self.guard_angle
        if local:
            wide &= np.abs(c["tda"] * p_mw) >= angle_move
        near[c["ac"][wide]] = True
        return near

    def margins(self, j: int, cases: list, p_mw: float) -> np.ndarray:
        """Per case, the first-order margin of ``CaseSet.estimated_margins`` over the kept pairs
        (inf where none is kept: such a case is never near)."""
        c = self.cols[j]
        out = np.full(len(cases), np.inf)
        with np.errstate(invalid="ignore"):  # (NaN: a branch out, no limit)
            r = (self._thermal_limits(j, cases) - (c["tl0"] + c["tdl"] * p_mw)) / 100.0
        np.minimum.at(out, c["tc"], np.where(np.isnan(r), np.inf, r))
        v = c["v0"] + c["dv"] * p_mw
        np.minimum.at(out, c["vc"], np.minimum(v - c["vlow"], c["vhigh"] - v) / 0.1)
        return out

    def _unkept_branch_near(self, cases: list, ids: np.ndarray, k: int, p_mw: float, err: float) -> np.ndarray:
        """Of the cases `ids` where the screen did not keep branch `k`, those that may be near its
        limit at `p_mw` with the departure `err` there (over the cap). Not keeping a pair bounds
        its sensitivity: at the ceiling its estimate, widened by the caps, stayed short of the
        limit, so ``(1 + GUARD_REL) |d| p_max < A - cap`` with ``A`` the room the case leaves it
        (limit − loading without the load − floor); at ``p = r p_max`` the estimate moves by less
        than ``r (A - cap)``, so it may be near only where ``A (1 - r) + cap r <= err``. Exact (no
        case that can be near is left out), and without the sensitivities (Continental Europe at
        817 MW in the Netherlands: one branch 20.8 pp off its estimate put all 5,653 cases near)."""
        r = p_mw / self.p_max
        l0 = np.array([cases[i].pre.loading_pct[k] for i in ids], dtype=float)
        lim = np.array([cases[i].max_loading[k] for i in ids], dtype=float)
        room = np.where(np.isnan(lim), np.inf, lim) - l0 - self.guard_pp
        # (the local bands: A (1 - r) + (1 + GUARD_REL) cap r <= (1 + GUARD_REL) err, the pair kept
        # at (1 + GUARD_REL) cap; near under either kind where the smaller left side reaches err)
        return ~(room * (1.0 - r) / (1.0 + self.guard_rel) + ERR_CAP_PP * r > err + 1e-9)  # (NaN: near)

    def _unkept_bus_near(self, cases: list, ids: np.ndarray, k: int, p_mw: float, err: float,
                         curvature: float) -> np.ndarray:
        """:meth:`_unkept_branch_near` for bus `k`'s voltage: with ``A`` the distance to the nearer
        limit, near only where ``A <= floor + (1 + GUARD_REL) X + max(err, curvature X²)``,
        ``X = r (A - floor - cap) / (1 + GUARD_REL)`` bounding the estimated change."""
        grow = 1.0 + self.guard_rel
        vm0 = np.array([cases[i].pre.vm_pu[k] for i in ids])
        dist = np.minimum(vm0 - np.array([cases[i].vm_low[k] for i in ids]),
                          np.array([cases[i].vm_high[k] for i in ids]) - vm0)
        x = p_mw / self.p_max * np.maximum(dist - self.guard_pu - ERR_CAP_PU, 0.0) / grow
        # (the local bands take (1 + GUARD_REL) err: near under either kind)
        return ~(dist > self.guard_pu + grow * x + np.maximum(grow * err, curvature * x**2) + 1e-12)


def _cases_in(n: int, *case_ids: np.ndarray) -> np.ndarray:
    """Boolean mask of length `n`, True at the given case indices."""
    out = np.zeros(n, dtype=bool)
    for ids in case_ids:
        out[ids] = True
    return out
