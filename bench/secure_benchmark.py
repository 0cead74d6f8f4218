"""Benchmark (issue #10): securing each NL scenario, and all-bus hosting capacity firm + with
redispatch, beside independent checks measured in the same run.

Run:  python bench/secure_benchmark.py [--sample N]

Per shipped scenario:
- ``secure_s``: ``GridModel.from_layers`` (build + securing + the rebuilt model), median of 3;
- ``firm_s``: ``hosting_capacity(redispatch=False)`` for every bus (the N-1 case set included,
  the model build not), median of 3 on fresh models;
- ``both_s``: ``hosting_capacity()`` (firm and with redispatch) for every bus, likewise, on the
  machine's cores (forked workers, the default), and ``both_1_s`` in one process (``workers=1``);
- ``sweep_ls_ms`` / ``sweep_np_ms``: one N-1 sweep (every outage, no added load) with the
  compiled engine (lightsim2grid) and the numpy Newton (``engine="numpy"``);
- ``brute_firm_s``: plain AC bisection (every N-1 case at every step, no screening) on a sample
  of buses, scaled to all buses; ``max_err_firm_mw`` its largest difference from ``firm_mw``;
- ``independent_rd_s``: least-cost LP redispatch + AC check in every case + bisection on the load
  (the check in tests/test_grid_secure.py) on the same sample, scaled; ``max_err_rd_mw`` its
  largest difference from ``with_redispatch_mw``.
Ratios are against the baselines of the same run (the machine is shared and noisy). Results go to
bench/results/secure-<date>.md.
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402

import siting  # noqa: E402
from siting._progress import set_quiet  # noqa: E402
from siting.grid import GridModel  # noqa: E402
from siting.grid._parallel import available_workers  # noqa: E402
from siting.grid.acpf import ACGrid  # noqa: E402
from tests.test_grid_model import brute_force_hosting  # noqa: E402
from tests.test_grid_secure import independent_with_redispatch  # noqa: E402


def median_time(fn, n: int = 3, setup=None):
    """Median wall time of `fn` (called with `setup()`'s result when given, which is not timed)."""
    times, out = [], None
    for _ in range(n):
        arg = setup() if setup is not None else None
        t = time.perf_counter()
        out = fn(arg) if setup is not None else fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=4, help="buses checked by the brute-force references")
    args = ap.parse_args()
    set_quiet(True)
    layers = siting.load_layers()
    rows = []
    for sc in siting.list_scenarios():
        secure_s, model = median_time(lambda: GridModel.from_layers(layers, scenario=sc))
        firm_s, _ = median_time(lambda m: m.hosting_capacity(redispatch=False), setup=lambda: _fresh(layers, sc))
        both_s, both = median_time(lambda m: m.hosting_capacity(), setup=lambda: _fresh(layers, sc))
        both_1_s, _ = median_time(lambda m: m.hosting_capacity(workers=1), setup=lambda: _fresh(layers, sc))
        sweep_ls, sweep_np = _sweeps(model.net)
        buses = list(both.index)
        step = max(1, len(buses) // args.sample)
        sample = buses[::step][: args.sample]
        t = time.perf_counter()
        err_firm = max(abs(brute_force_hosting(model, b) - both.at[b, "firm_mw"]) for b in sample)
        brute_firm_s = (time.perf_counter() - t) / len(sample) * len(buses)
        t = time.perf_counter()
        err_rd = max(abs(independent_with_redispatch(model, b, float(both.at[b, "firm_mw"]))
                         - both.at[b, "with_redispatch_mw"]) for b in sample)
        indep_s = (time.perf_counter() - t) / len(sample) * len(buses)
        sec = model.security
        rows.append({
            "scenario": sc, "buses": len(buses), "secured": sec.secured,
            "n1_before_pct": sec.worst_before_pct, "n1_after_pct": sec.worst_after_pct,
            "redispatch_mw": sec.volume_up_mw, "curtailed_mw": sec.curtailed_mw,
            "secure_s": secure_s, "firm_s": firm_s, "both_s": both_s, "both_1_s": both_1_s,
            "sweep_ls_ms": sweep_ls, "sweep_np_ms": sweep_np, "ac_solves": both.attrs["ac_solves"],
            "brute_firm_s": brute_firm_s, "max_err_firm_mw": err_firm,
            "independent_rd_s": indep_s, "max_err_rd_mw": err_rd, "sample": len(sample),
        })
        r = rows[-1]
        print(f"{sc}: secure {secure_s:.2f}s, firm {firm_s:.2f}s, firm+redispatch {both_s:.2f}s (1 process {both_1_s:.2f}s) "
              f"({r['ac_solves']} AC solves); brute firm {brute_firm_s:.1f}s (err {err_firm:.2f} MW), "
              f"independent with-redispatch {indep_s:.1f}s (err {err_rd:.2f} MW)")
    lines = _report.header("Securing and hosting capacity (firm and with redispatch), NL scenarios",
                           ("siting", "pandapower", "numpy", "highspy", "lightsim2grid"))
    lines += [
        "| scenario | buses | N-1 worst before → after [%] | redispatch / curtailed [MW] | secure [s] | firm, all buses [s] | "
        "firm + with redispatch [s] | same, 1 process [s] | AC solves | N-1 sweep lightsim2grid / numpy [ms] | "
        "brute-force firm [s] (× firm) | max diff firm [MW] | "
        "independent with-redispatch [s] (× both) | max diff with redispatch [MW] |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['scenario']} | {r['buses']} | {r['n1_before_pct']:.1f} → {r['n1_after_pct']:.1f}"
            f"{'' if r['secured'] else ' (not securable)'} | {r['redispatch_mw']:.0f} / {r['curtailed_mw']:.0f} | "
            f"{r['secure_s']:.2f} | {r['firm_s']:.2f} | {r['both_s']:.2f} | {r['both_1_s']:.2f} | {r['ac_solves']} | "
            f"{r['sweep_ls_ms']:.1f} / {r['sweep_np_ms']:.1f} ({r['sweep_np_ms'] / r['sweep_ls_ms']:.1f}×) | "
            f"{r['brute_firm_s']:.1f} ({r['brute_firm_s'] / r['firm_s']:.0f}×) | {r['max_err_firm_mw']:.2f} | "
            f"{r['independent_rd_s']:.1f} ({r['independent_rd_s'] / r['both_s']:.0f}×) | {r['max_err_rd_mw']:.2f} |")
    lines += ["", f"Brute-force references on {rows[0]['sample']} buses per scenario (spread over the list), "
              "scaled to all buses. Medians of 3 runs for the library's timings. Default runs use "
              f"{available_workers()} forked worker(s) for the per-bus searches; the AC engine is "
              "lightsim2grid's compiled Newton (the sweep column compares it with the numpy Newton)."]
    _report.write("secure", lines)


def _sweeps(net, repeat: int = 5) -> tuple[float, float]:
    """One N-1 sweep (every outage, no added load) with each engine [ms], best of `repeat`."""
    out = []
    for engine in ("lightsim2grid", "numpy"):
        grid = ACGrid(copy.deepcopy(net), engine=engine)
        ok, _ = grid.contingencies()
        best = math.inf
        for _ in range(repeat):
            t = time.perf_counter()
            for k in ok:
                grid.solve(outage=k)
            best = min(best, time.perf_counter() - t)
        out.append(best * 1e3)
    return out[0], out[1]


def _fresh(layers, sc):
    return GridModel.from_layers(layers, scenario=sc)


if __name__ == "__main__":
    main()
