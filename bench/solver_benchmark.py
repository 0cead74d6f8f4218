"""Benchmark: one AC solve of an N-1 case, per engine, on IEEE 118, case1354pegase and the
Continental European grid (GridKit extract with the average-load snapshot).

Run:  python bench/solver_benchmark.py [--sample N]

Measured in the same run, on the same machine, on the same outages (every N-1 outage of IEEE
118; an evenly spaced sample of `--sample` outages on the larger grids), each from the base
state as the hosting search starts:
- ``compiled``: `ACGrid` with lightsim2grid's KLU Newton–Raphson (the default engine);
- ``own``: `ACGrid(engine="numpy")`, the library's own Newton–Raphson (dense below
  ``DENSE_MAX_BUSES`` buses, SuperLU above);
- ``pandapower``: `pandapower.runpp` on a copy of the network with the circuit out (a few
  outages; what a user without the library would run).
Reported: milliseconds per solve, the N-1 sweep they imply (× the outages that keep the grid
connected), and the largest voltage difference between the engines [pu]. And the hosting
search's repeated solve — a case solved again with 100 MW (pf 0.98) added at a load bus, from the
case's own state — by the compiled Newton and by the chord method on the case's own factorised
Jacobian (``ACGrid.solve_chord``, compiled steps), with the factorisation the chord pays once a
case. Results go to
bench/results/solver-<date>.md; figures are ratios against the compiled engine measured in the
same run (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import copy
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402

from siting.grid.acpf import ACGrid  # noqa: E402
from siting.grid.gridkit import gridkit_network  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def europe():
    return gridkit_network(REFERENCE / "entsoe-gridkit", plants=REFERENCE / "powerplantmatching" / "powerplants.csv").net


def _per_solve(grid: ACGrid, outages: list[int], start) -> tuple[float, list]:
    t = time.perf_counter()
    out = [grid.solve(outage=k, v_init=start) for k in outages]
    return (time.perf_counter() - t) / len(outages), out


def _pandapower(net, grid: ACGrid, outages: list[int]) -> tuple[float, list]:
    out = []
    t = time.perf_counter()
    for k in outages:
        n = copy.deepcopy(net)
        kind, idx = grid.element[k]
        if n[kind].at[idx, "parallel"] > 1:
            n[kind].at[idx, "parallel"] -= 1
        else:
            n[kind].at[idx, "in_service"] = False
        try:
            pp.runpp(n, distributed_slack=True, numba=False, init="results", lightsim2grid=False)
            out.append(n.res_bus.vm_pu.to_numpy()[np.argsort(grid.bus_lookup[n.bus.index])])
        except pp.LoadflowNotConverged:
            out.append(None)
    return (time.perf_counter() - t) / len(outages), out


def _chord(grid: ACGrid, outages: list[int]) -> tuple:
    """(cases, factorise ms, Newton ms, chord ms, chord converged, max |ΔV| [pu]) for the search's
    repeated solve (see the module notes); where the chord does not converge the search runs
    Newton (counted as not converged here)."""
    from siting.grid._kernels import SparseLU

    bus = int(grid.pq[len(grid.pq) // 2])
    states = [grid.solve(outage=k, keep_jacobian=True) for k in outages]
    t = time.perf_counter()
    lus = [SparseLU(st.jacobian) if not isinstance(st.jacobian, np.ndarray) else None for st in states]
    t_f = (time.perf_counter() - t) / len(outages)
    if any(lu is None for lu in lus):  # (a small grid's Jacobians are dense: no factors kept)
        return len(outages), float("nan"), float("nan"), float("nan"), 0, float("nan")
    own = [st.vm_pu * np.exp(1j * st.va_rad) for st in states]
    t = time.perf_counter()
    newton = [grid.solve(outage=k, bus=bus, p_mw=100.0, q_mvar=20.3, v_init=v) for k, v in zip(outages, own)]
    t_n = (time.perf_counter() - t) / len(outages)
    t = time.perf_counter()
    chord = [grid.solve_chord(k, lu, v, st.slack_mw, bus=bus, p_mw=100.0, q_mvar=20.3)
             for k, lu, v, st in zip(outages, lus, own, states)]
    t_c = (time.perf_counter() - t) / len(outages)
    dv = max((float(np.max(np.abs(a.vm_pu - b.vm_pu))) for a, b in zip(newton, chord) if b is not None and a.converged),
             default=float("nan"))
    return len(outages), 1e3 * t_f, 1e3 * t_n, 1e3 * t_c, sum(c is not None for c in chord), dv


def measure(name: str, make, sample: int, n_pp: int) -> dict:
    net = make()
    compiled = ACGrid(copy.deepcopy(net))
    own = ACGrid(copy.deepcopy(net), engine="numpy")
    ok, _ = compiled.contingencies()
    outages = ok if len(ok) <= sample else [ok[i] for i in np.linspace(0, len(ok) - 1, sample).astype(int)]
    base = compiled.solve()
    start = base.vm_pu * np.exp(1j * base.va_rad)
    t_c, r_c = _per_solve(compiled, outages, start)
    t_o, r_o = _per_solve(own, outages, start)
    pp_outages = outages[:: max(1, len(outages) // n_pp)][:n_pp]
    t_p, r_p = _pandapower(net, compiled, pp_outages)
    both = [(a, b) for a, b in zip(r_c, r_o) if a.converged and b.converged]
    dv_own = max((float(np.max(np.abs(a.vm_pu - b.vm_pu))) for a, b in both), default=float("nan"))
    by_k = dict(zip(outages, r_c))
    pairs = [(by_k[k].vm_pu, v) for k, v in zip(pp_outages, r_p) if v is not None and by_k[k].converged]
    dv_pp = max((float(np.max(np.abs(a - b))) for a, b in pairs), default=float("nan"))
    chord = _chord(compiled, outages[: min(len(outages), 100)])
    return {"network": name, "buses": compiled.n, "branches": compiled.m, "outages": len(ok), "sampled": len(outages),
            "chord": chord,
            "compiled_ms": 1e3 * t_c, "own_ms": 1e3 * t_o, "pp_ms": 1e3 * t_p, "pp_sampled": len(pp_outages),
            "converged": (sum(r.converged for r in r_c), sum(r.converged for r in r_o)),
            "dv_own": dv_own, "dv_pp": dv_pp}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=200, help="outages timed on the larger grids")
    args = ap.parse_args()
    nets = {"ieee118": pn.case118, "case1354pegase": pn.case1354pegase, "continental-europe (GridKit)": europe}
    rows = []
    for name, make in nets.items():
        r = measure(name, make, args.sample if name != "ieee118" else 10**6, n_pp=20 if name == "ieee118" else 5)
        rows.append(r)
        print(f"{name}: compiled {r['compiled_ms']:.2f} ms, own {r['own_ms']:.2f} ms, pandapower {r['pp_ms']:.1f} ms "
              f"per solve; converged {r['converged']}; max |dV| own {r['dv_own']:.1e}, pandapower {r['dv_pp']:.1e}",
              flush=True)
    lines = _report.header("AC solver benchmark (one N-1 case per solve)",
                           ("numpy", "scipy", "pandapower", "lightsim2grid")) + [
        *_report.table("network", "buses", "branches", "N-1 outages", "timed", "compiled [ms]", "own [ms]", "×",
                       "pandapower [ms]", "×", "N-1 sweep compiled / own / pandapower [s]", "converged compiled / own",
                       "max |ΔV| own, pandapower [pu]"),
    ]
    for r in rows:
        sweep = " / ".join(f"{r[k] * r['outages'] / 1e3:.2f}" for k in ("compiled_ms", "own_ms", "pp_ms"))
        lines.append(
            f"| {r['network']} | {r['buses']} | {r['branches']} | {r['outages']} | {r['sampled']} "
            f"(pandapower {r['pp_sampled']}) | {r['compiled_ms']:.2f} | {r['own_ms']:.2f} | "
            f"{r['own_ms'] / r['compiled_ms']:.1f} | {r['pp_ms']:.1f} | {r['pp_ms'] / r['compiled_ms']:.0f} | {sweep} | "
            f"{r['converged'][0]} / {r['converged'][1]} of {r['sampled']} | {r['dv_own']:.1e}, {r['dv_pp']:.1e} |")
    lines += ["", "The hosting search's repeated solve (a case again with 100 MW added at a load bus, from its own "
              "state): compiled Newton against the chord method on the case's own factorised Jacobian "
              "(compiled steps; the factorisation paid once a case):", "",
              *_report.table("network", "cases", "factorise once [ms]", "compiled Newton [ms]", "chord [ms]", "×",
                             "chord converged", "max |ΔV| [pu]")]
    for r in rows:
        n, t_f, t_n, t_c, conv, dv = r["chord"]
        if not np.isfinite(t_f):
            lines.append(f"| {r['network']} | {n} | — | — | — | — | dense Jacobians: the search keeps no factors | — |")
            continue
        lines.append(f"| {r['network']} | {n} | {t_f:.2f} | {t_n:.2f} | {t_c:.2f} | {t_n / t_c:.1f} | {conv} of {n} | "
                     f"{dv:.1e} |")
    lines += ["", f"Peak memory of the run: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB."]
    _report.write("solver", lines)


if __name__ == "__main__":
    main()
