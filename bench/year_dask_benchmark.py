"""Benchmark: a year's firm and flexible capacity with its AC hosting on Dask, against one process.

Run:  python bench/year_dask_benchmark.py [--year 2030] [--repeats 2] [--buses N]

``GridModel.firm_capacity(situations, buses)`` on the shipped year (every EHV bus by default;
``--buses N``: the first N), in this process and with ``client=`` a local cluster of 2
single-threaded worker processes (4 GB each, as ``siting year --dask`` starts it), alternately,
``--repeats`` times each, from a fresh hourly grid each time (securing, screen, corrections and
AC hosting all redone). The part that runs on the cluster is the AC N-1 hosting of the hours that
decide the firm values and the curtailment thresholds (one task per hour); the DC screen, the
corrections and the secants stay in this process. Each Dask table is compared with the
single-process one exactly. Also: the hours sent as tasks and the cluster's start-up time.
Results: bench/results/year-dask-<date>.md.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import _report  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2030)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--buses", type=int, default=None)
    args = ap.parse_args()

    import pandas as pd
    from distributed import Client

    from siting._progress import set_quiet
    from siting._tiled import local_cluster
    from siting.grid import GridModel
    from siting.grid.year import base_scenario
    from siting.layers import load_layers

    set_quiet(True)
    name = base_scenario(args.year)
    model = GridModel.from_layers(load_layers(), scenario=name, secure=False)
    sit = model.situations()
    buses = None if args.buses is None else list(model.net.bus["name"])[: args.buses]
    hours = []

    def run(client) -> tuple[float, pd.DataFrame]:
        model._hourly_memo.clear()
        t0 = time.perf_counter()
        table = model.firm_capacity(sit, buses=buses, client=client)
        sec = time.perf_counter() - t0
        hours.append(len({t for t, _ in model.hourly(sit)._ac_memo}))
        return sec, table

    t0 = time.perf_counter()
    cluster = local_cluster(2, "4GB")
    client = Client(cluster)
    t_start = time.perf_counter() - t0
    one_s, dask_s, same = [], [], True
    try:
        for _ in range(args.repeats):
            s, one = run(None)
            one_s.append(s)
            s, two = run(client)
            dask_s.append(s)
            try:
                pd.testing.assert_frame_equal(two, one, check_exact=True)
            except AssertionError:
                same = False
    finally:
        client.close()
        cluster.close()
    lines = _report.header(f"A year's firm capacity with its AC hosting on Dask, {args.year} (base scenario {name})",
                           ("siting", "pandapower", "numpy", "distributed"))
    m1, m2 = statistics.median(one_s), statistics.median(dask_s)
    lines += [f"Buses: {len(one)}; hours whose AC N-1 hosting was solved (one Dask task each): {hours[0]}; "
              f"local cluster of 2 single-threaded workers, start-up {t_start:.1f} s (not included).", ""]
    lines += _report.table("run", "one process [s]", "2-worker local cluster [s]", "Dask / one process")
    for i, (a, b) in enumerate(zip(one_s, dask_s)):
        lines.append(f"| {i + 1} | {a:.1f} | {b:.1f} | {b / a:.2f} |")
    lines.append(f"| median | {m1:.1f} | {m2:.1f} | {m2 / m1:.2f} |")
    lines += ["", f"Tables equal to the last bit: {'yes' if same else 'NO'} (every run)."]
    print("\n".join(lines))
    print(_report.write("year-dask", lines))


if __name__ == "__main__":
    main()
