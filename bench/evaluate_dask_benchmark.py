"""Benchmark: ``evaluate(..., client=)`` on a Dask LocalCluster against one process.

Run:  python bench/evaluate_dask_benchmark.py [--repeats 3] [--no-year]

The default study (every shipped scenario of 2030, every candidate site) in this process, and
on a local cluster of 2 single-threaded worker processes (4 GB each, as ``siting rank --dask``
starts it), alternately, ``--repeats`` times each; the model cache is emptied before every run,
so each run builds and secures all its grid models (the workers keep none). Each Dask run's
table and metrics are compared with the single-process ones (exactly). Then once each with
``situations="year"`` (the year of hourly situations runs in this process either way). Also:
the size of each returned model pickled (with its hosting memo) and the cluster's start-up time.

One process is not one core: its per-bus hosting searches run on forked workers, one a core.
On the cluster each task (a model) runs in one daemonic worker process, so the searches stay in
it. Results: bench/results/evaluate-dask-<date>.md.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import sys
import time
from collections import OrderedDict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-year", action="store_true", help="skip the runs with situations='year'")
    args = ap.parse_args()

    import pandas as pd
    from distributed import Client

    import siting
    from siting._progress import set_quiet
    from siting._tiled import local_cluster

    E = sys.modules["siting.evaluate"]
    set_quiet(True)
    layers = siting.load_layers()

    def run(client, **kw) -> tuple[float, object]:
        E._MODEL_CACHE.clear()
        t0 = time.perf_counter()
        ev = siting.evaluate(layers=layers, client=client, **kw)
        return time.perf_counter() - t0, ev

    def same(a, b) -> None:
        pd.testing.assert_frame_equal(b.table, a.table, check_exact=True)
        pd.testing.assert_frame_equal(b.metrics, a.metrics, check_exact=True)

    t0 = time.perf_counter()
    cluster = local_cluster(2, "4GB")  # as siting rank --dask starts it
    client = Client(cluster)
    client.run(lambda: __import__("siting.evaluate"))  # the workers import siting: part of the start-up
    start_s = time.perf_counter() - t0
    assert all(p == siting.__file__ for p in client.run(lambda: __import__("siting").__file__).values())

    loads, one_t, dask_t, dask_evs = [], [], [], []
    ref = None
    for k in range(args.repeats):  # alternately, so that a change in the machine's load hits both
        for c in ([None, client] if k % 2 == 0 else [client, None]):
            t, ev = run(c)
            loads.append(os.getloadavg()[0])
            if c is None:
                one_t.append(t)
                ref = ref or ev
            else:
                dask_t.append(t)
                dask_evs.append(ev)
    for ev in dask_evs:
        same(ref, ev)
    ev_dask = dask_evs[-1]
    sizes = {f"{name} ({ev_dask.params['year']})": len(pickle.dumps(m)) for name, m in ev_dask.models.items()}
    planned = {k: v for k, v in E._MODEL_CACHE.items() if k[2] == E.PLANNED_GRID_YEAR}
    for key, m in planned.items():
        sizes[f"{m.scenario.name} (planned grid)"] = len(pickle.dumps(m))
    bare = pickle.loads(pickle.dumps(next(iter(ev_dask.models.values()))))
    bare._hosting_memo = {}
    bare_kb = len(pickle.dumps(bare)) / 1e3
    n_models = 2 * len(ev_dask.models)
    n_sites, n_buses = len(ev_dask.table), ev_dask.table["bus"].nunique()

    year_rows = []
    if not args.no_year:
        t1, y1 = run(None, situations="year")
        loads.append(os.getloadavg()[0])
        t2, y2 = run(client, situations="year")
        loads.append(os.getloadavg()[0])
        same(y1, y2)
        year_rows = [t1, t2]
    client.close()
    cluster.close()

    m1, m2 = statistics.median(one_t), statistics.median(dask_t)
    lines = _report.header("evaluate() on Dask (LocalCluster) against one process",
                           ("numpy", "pandapower", "lightsim2grid", "dask", "distributed"))
    lines += [
        f"Study: `siting.evaluate()` defaults — year 2030, scenarios {', '.join(ev_dask.params['scenarios'])} "
        f"({n_models} grid models: each scenario on the 2030 grid and on the planned grid), {n_sites} sites at "
        f"{n_buses} distinct buses. Model cache emptied before every run. Dask: a LocalCluster of 2 single-threaded "
        f"worker processes of 4 GB each, started once ({start_s:.1f} s including the workers' import of siting; not "
        "in the times below). One process: its per-bus hosting searches run on 2 forked workers (one a core); on "
        "the cluster a task (one model) stays in its daemonic worker.",
        "",
        f"**The machine has 2 cores and was shared** (another engineer's benchmarks): load average (1 min) after the "
        f"runs {min(loads):.1f}–{max(loads):.1f}. Read the ratios, measured alternately in the same run, not the "
        "absolute seconds.",
        "",
        *_report.table("run", "runs", "wall [s] (each)", "median [s]", "× one process"),
        f"| one process | {len(one_t)} | {', '.join(f'{t:.1f}' for t in one_t)} | {m1:.1f} | 1.00 |",
        f"| Dask, 2 workers | {len(dask_t)} | {', '.join(f'{t:.1f}' for t in dask_t)} | {m2:.1f} | {m2 / m1:.2f} |",
    ]
    if year_rows:
        t1, t2 = year_rows
        lines += [f"| one process, situations=\"year\" | 1 | {t1:.1f} | {t1:.1f} | {t1 / m1:.2f} |",
                  f"| Dask, situations=\"year\" | 1 | {t2:.1f} | {t2:.1f} | {t2 / m1:.2f} (vs one process with "
                  f"the year: {t2 / t1:.2f}) |"]
    lines += [
        "",
        f"* Every Dask result equal to the single-process one: `assert_frame_equal(check_exact=True)` on "
        f"`Evaluation.table` and `.metrics` ({len(dask_evs) + (1 if year_rows else 0)} comparisons).",
        "* Pickled model as it comes back from a worker (network, scenario, securing, hosting memo; no solver): "
        + ", ".join(f"{k} {v / 1e3:.0f} kB" for k, v in sizes.items()) + f"; without the memo {bare_kb:.0f} kB.",
    ]
    _report.write("evaluate-dask", lines)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
