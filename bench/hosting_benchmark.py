"""Benchmark: hosting capacity of every bus, screening + AC confirmation vs brute-force bisection.

Run:  python bench/hosting_benchmark.py [--quick]

Measured in the same run, on the same machine:
- ``fast``: ``GridModel.hosting_capacity()`` for every bus (all N-1 cases), including building
  the case set (every case solved once) — median of 3 runs on a fresh model each.
- ``brute (own AC)``: bisection to 0.5 MW on [0, 3000] MW, every case solved at every step with
  the same compiled AC solver, no screening — all buses (IEEE 118: a sample, scaled per bus).
- ``brute (pandapower)``: the same bisection with ``pandapower.runpp`` for every case — what a
  user without this library would run; measured on a sample of buses and reported per bus and
  scaled to all buses (it takes minutes per scenario otherwise).
Also records the largest difference between fast and brute-force answers [MW].
Results go to bench/results/hosting-<date>.md with machine and versions; figures are ratios
against the baselines measured in the same run (shared machines are noisy).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandapower as pp
import pandapower.networks as pn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402

import siting  # noqa: E402
from siting.grid import GridModel  # noqa: E402
from siting.grid.hosting import Limits  # noqa: E402

MAX_MW, TOL = 3000.0, 0.5
TAN = float(np.tan(np.arccos(0.98)))  # the hosting default power factor


def bisect(ok) -> float:
    if ok(MAX_MW):
        return MAX_MW
    lo, hi = 0.0, MAX_MW
    while hi - lo > TOL:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if ok(mid) else (lo, mid)
    return lo


def _cases(model: GridModel, bus):
    """The N-1 cases with the limits of the definition for a load at `bus` (an overload the
    grid has without the load is held against it only where it moves >= 5 % of its MW over it)."""
    cs = model._caseset(Limits(), True)
    ib = int(cs.grid.bus_lookup[model._resolve_bus(bus)])
    with cs.attributed(ib, TAN):
        return cs, ib, list(cs.cases)


def brute_own(model: GridModel, bus) -> float:
    cs, ib, cases = _cases(model, bus)
    return bisect(lambda p: all(cs.judge(c, cs.grid.solve(outage=c.outage, bus=ib, p_mw=p, q_mvar=p * TAN)).feasible
                                for c in cases))


def brute_pandapower(model: GridModel, bus) -> float:
    """Bisection with pandapower.runpp for every case and step; limits as in the definition."""
    cs, _, cases = _cases(model, bus)
    b = model._resolve_bus(bus)
    base = copy.deepcopy(model.net)
    load = pp.create_load(base, b, p_mw=0.0, name="probe")

    def ok(p):
        base.load.at[load, "p_mw"] = p
        base.load.at[load, "q_mvar"] = p * TAN
        for case in cases:
            net = base
            if case.outage is not None:
                net = copy.deepcopy(base)
                kind, idx = cs.grid.element[case.outage]
                if net[kind].at[idx, "parallel"] > 1:
                    net[kind].at[idx, "parallel"] -= 1
                else:
                    net[kind].at[idx, "in_service"] = False
            try:
                pp.runpp(net, distributed_slack=True, numba=False, lightsim2grid=False)
            except pp.LoadflowNotConverged:
                return False
            loading = np.concatenate([net.res_line.loading_percent.to_numpy(), net.res_trafo.loading_percent.to_numpy()])
            vm = net.res_bus.vm_pu.to_numpy()[np.argsort(cs.grid.bus_lookup[net.bus.index])]
            if np.any(np.nan_to_num(loading, nan=-1) > case.max_loading + 1e-9):
                return False
            if np.any(vm < case.vm_low - 1e-9) or np.any(vm > case.vm_high + 1e-9):
                return False
        return True

    return bisect(ok)


def measure(name: str, make, n_pp: int, own_step: int) -> dict:
    times = []
    for _ in range(3):
        model = make()
        t = time.perf_counter()
        table = model.hosting_capacity(buses=None if name.startswith("nl") else list(model.net.bus.index),
                                       redispatch=False)
        times.append(time.perf_counter() - t)
    fast = statistics.median(times)
    buses = list(table.index)
    model = make()
    sample_own = buses[::own_step]
    t = time.perf_counter()
    err_own = max(abs(brute_own(model, b if name.startswith("nl") else int(b)) - table.at[b, "firm_mw"]) for b in sample_own)
    own = (time.perf_counter() - t) / len(sample_own) * len(buses)
    sample_pp = buses[:: max(1, len(buses) // n_pp)][:n_pp]
    t = time.perf_counter()
    err_pp = max(abs(brute_pandapower(model, b if name.startswith("nl") else int(b)) - table.at[b, "firm_mw"]) for b in sample_pp)
    per_bus_pp = (time.perf_counter() - t) / len(sample_pp)
    return {
        "network": name, "buses": len(buses), "cases": len(model._caseset(Limits(), True).cases),
        "fast_s": fast, "ac_solves": table.attrs["ac_solves"],
        "brute_own_s": own, "own_sampled": len(sample_own), "max_err_own_mw": err_own,
        "brute_pp_per_bus_s": per_bus_pp, "brute_pp_all_s": per_bus_pp * len(buses), "pp_sampled": len(sample_pp),
        "max_err_pp_mw": err_pp,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer pandapower samples")
    args = ap.parse_args()
    layers = siting.load_layers()
    n_pp = 1 if args.quick else 2
    nets = {f"nl-{s}": (lambda s=s: GridModel.from_layers(layers, scenario=s)) for s in siting.list_scenarios()}
    nets["ieee39"] = lambda: GridModel.from_pandapower(pn.case39())
    nets["ieee118"] = lambda: GridModel.from_pandapower(pn.case118())
    rows = []
    for name, make in nets.items():
        row = measure(name, make, n_pp, own_step=8 if name == "ieee118" else 1)
        rows.append(row)
        print(f"{name}: fast {row['fast_s']:.2f} s; brute own {row['brute_own_s']:.1f} s "
              f"({row['brute_own_s'] / row['fast_s']:.0f}x); brute pandapower {row['brute_pp_all_s']:.0f} s "
              f"({row['brute_pp_all_s'] / row['fast_s']:.0f}x); max err {max(row['max_err_own_mw'], row['max_err_pp_mw']):.2f} MW",
              flush=True)
    lines = _report.header("Hosting-capacity benchmark", ("numpy", "scipy", "pandas", "pandapower", "lightsim2grid")) + [
        "| network | buses | N-1 cases | fast [s] | AC solves | brute own AC [s] | × | brute pandapower [s] (scaled) | × | max |Δ| [MW] |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['buses']} | {r['cases']} | {r['fast_s']:.2f} | {r['ac_solves']} | "
            f"{r['brute_own_s']:.1f} ({r['own_sampled']} sampled) | {r['brute_own_s'] / r['fast_s']:.0f} | "
            f"{r['brute_pp_all_s']:.0f} ({r['pp_sampled']} sampled, {r['brute_pp_per_bus_s']:.1f} s/bus) | "
            f"{r['brute_pp_all_s'] / r['fast_s']:.0f} | {max(r['max_err_own_mw'], r['max_err_pp_mw']):.2f} |"
        )
    _report.write("hosting", lines)


if __name__ == "__main__":
    main()
