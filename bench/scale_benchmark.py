"""Benchmark: firm N-1 hosting capacity on large grids — case1354pegase and the Continental
European grid (GridKit extract with the average-load snapshot) — on a sample of buses, beside a
brute-force AC bisection over every case at some of them.

Run:  python bench/scale_benchmark.py [--buses N | --all] [--brute K] [--only NAME] [--dask] [--compact]

Measured in the same run, on the same machine (2 cores):
- building the model (GridKit: import, dispatch, base case) and compiling the AC grid;
- solving the N-1 cases once (every core from 1,000 buses);
- ``hosting_screen()``: the DC N-1 screen of every bus (``siting.grid.dcscreen``), its time and
  the process's peak memory after it, and how it compares with the AC answer at the sample;
- ``hosting_capacity(buses=sample)`` (``--all``: every bus): screen (on the European grid the
  DC-driven search, ``hosting.DC_DRIVEN``; with ``--compact`` the compact screen) and searches,
  with the AC solves it made;
- peak memory of this process and of the largest worker (ru_maxrss), and the peak of all of
  them together while hosting runs (the sum of their proportional set sizes, PSS: shared pages
  counted once; sampled at most every 0.2 s and at a duty cycle of at most 5 % of one core — a
  sample walks every page table: ~195 ms for the European run's three processes (7.8 GB), so a
  sample every 0.2 s took half a core from the run it measured);
- with ``--dask``: the same ``hosting_capacity`` on a 2-worker Dask LocalCluster
  (``client=``: a task per chunk of buses, each worker solving the N-1 cases itself), its time
  and whether the table equals the forked run's to the last bit;
- brute force (``hosting_benchmark.brute_own``: bisection to 0.5 MW on [0, 3000] MW, every case
  AC-solved at every step with the same compiled solver, no screening) at `--brute` buses spread
  over the sample, two at a time (a process each): time per bus and the difference [MW].
Results go to bench/results/scale-<net>[-all][-compact]-<date>.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandapower.networks as pn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402
from hosting_benchmark import brute_own  # noqa: E402

from siting._progress import set_quiet  # noqa: E402
from siting.grid import GridModel  # noqa: E402
from siting.grid.hosting import Limits  # noqa: E402

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


def _mb() -> tuple[float, float]:
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


class PeakPss:
    """The peak, while in the block, of the memory of this process and its children together:
    the sum of their proportional set sizes (Linux ``/proc/<pid>/smaps_rollup``; pages shared
    after a fork counted once). 0 where /proc does not say.

    A sample walks every process's page tables — ~195 ms for the three processes of the European
    all-bus run (7.8 GB) — kernel time taken from the run being measured: samples are at least
    INTERVAL_S apart and take at most DUTY of one core (the wait after a sample is its own time /
    DUTY); ``samples`` and ``sample_ms`` say what it cost. (Every 0.2 s, the sampler took half a
    core: that run's all-bus hosting 302.7 s, at this duty cycle 238.9 s, same code; the peak
    7,817 against 7,787 MB.)"""

    INTERVAL_S = 0.2
    DUTY = 0.05

    def __init__(self) -> None:
        self.mb = 0.0
        self.samples = 0
        self.sample_s = 0.0
        self._stop = threading.Event()

    @property
    def sample_ms(self) -> float:
        return 1000.0 * self.sample_s / max(self.samples, 1)

    @staticmethod
    def now_mb() -> float:
        me = os.getpid()
        try:
            pids = [me, *map(int, open(f"/proc/{me}/task/{me}/children").read().split())]
        except OSError:
            return 0.0
        kb = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/smaps_rollup") as f:
                    kb += sum(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            except OSError:  # (a worker gone)
                pass
        return kb / 1024

    def _sample(self) -> float:
        t = time.perf_counter()
        self.mb = max(self.mb, self.now_mb())
        dt = time.perf_counter() - t
        self.samples += 1
        self.sample_s += dt
        return dt

    def _run(self) -> None:
        wait = self.INTERVAL_S
        while not self._stop.wait(wait):
            wait = max(self.INTERVAL_S, self._sample() / self.DUTY)

    def __enter__(self):
        self._sample()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


def europe(n: int | None):
    """The European grid and `n` of its Dutch buses (None: every bus)."""
    model = GridModel.from_gridkit(REFERENCE / "entsoe-gridkit", plants=REFERENCE / "powerplantmatching" / "powerplants.csv")
    if n is None:
        return model, [model._bus_name(b) for b in model.net.bus.index]
    nl = [b for b in model.net.bus.index if model.net.bus.at[b, "zone"] == "NL"]
    return model, [model._bus_name(b) for b in nl[:: max(1, len(nl) // n)][:n]]


def pegase(n: int | None):
    model = GridModel.from_pandapower(pn.case1354pegase())
    buses = list(model.net.bus.index)
    return model, buses if n is None else buses[:: max(1, len(buses) // n)][:n]


_BRUTE_MODEL = None  # (the model the forked brute-force processes read)


def _brute_one(bus) -> tuple[float, float]:
    t = time.perf_counter()
    return brute_own(_BRUTE_MODEL, bus), time.perf_counter() - t


def on_dask(model, buses: list, table) -> tuple[float, bool]:
    """hosting_capacity(client=) on a fresh 2-worker LocalCluster (as ``--dask`` starts it:
    ``siting._tiled.local_cluster``): seconds (cluster start excluded) and whether the table
    equals `table` exactly."""
    import distributed
    import pandas as pd

    from siting._tiled import local_cluster

    with local_cluster(2, "8GB") as cluster, distributed.Client(cluster) as client:
        model._hosting_memo.clear()
        t = time.perf_counter()
        dask_table = model.hosting_capacity(buses=buses, redispatch=False, client=client)
        sec = time.perf_counter() - t
    try:
        pd.testing.assert_frame_equal(dask_table, table, check_exact=True)
        return sec, True
    except AssertionError:
        return sec, False


def measure(name: str, make, n: int, n_brute: int, dask: bool = False) -> dict:
    t = time.perf_counter()
    model, buses = make(n)
    grid = model._grid
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    cs = model._caseset(Limits(), True)
    t_cases = time.perf_counter() - t
    t = time.perf_counter()
    screen = model.hosting_screen()  # the DC N-1 screen of every bus, first (its memory measured alone)
    t_screen = time.perf_counter() - t
    screen_mb = _mb()[0]
    t = time.perf_counter()
    with PeakPss() as pss:
        table = model.hosting_capacity(buses=buses, redispatch=False)
    t_host = time.perf_counter() - t
    import siting.grid.hosting as hosting

    # (the screens are the workers': read what this grid gets, not this process's last screen)
    kind = ("DC-driven" if hosting.DC_DRIVEN else "compact") if cs.wants_compact(3000.0) else "dense"
    row = {"network": name, "buses": grid.n, "branches": grid.m, "cases": len(cs.cases), "sample": len(buses),
           "build_s": t_build, "cases_s": t_cases, "hosting_s": t_host, "solves": table.attrs["ac_solves"],
           "kind": kind, "peak_mb": _mb(), "pss_mb": pss.mb, "pss_samples": (pss.samples, pss.sample_ms), "brute": [], "screen": screen, "screen_s": t_screen,
           "screen_mb": screen_mb}
    print(f"{name}: hosting of {len(buses)} buses {t_host:.1f} s, peak of all processes {pss.mb:.0f} MB", flush=True)
    idx = list(table.index)
    sample = idx[:: max(1, len(idx) // n_brute)][:n_brute] if n_brute else []  # spread over the sample
    global _BRUTE_MODEL
    _BRUTE_MODEL = model
    import multiprocessing as mp

    with ProcessPoolExecutor(2, mp_context=mp.get_context("fork")) as pool:
        for b, (ref, sec) in zip(sample, pool.map(_brute_one, [b if isinstance(b, str) else int(b) for b in sample])):
            row["brute"].append((b, float(table.at[b, "firm_mw"]), ref, sec))
            print(f"  {name} {b}: fast {table.at[b, 'firm_mw']:.2f} MW, brute force {ref:.2f} MW ({sec:.0f} s)",
                  flush=True)
    row["table"] = table
    if dask:
        row["dask"] = on_dask(model, buses, table)
        print(f"  {name} on Dask (2 workers): {row['dask'][0]:.1f} s, same table: {row['dask'][1]}", flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--buses", type=int, default=8, help="buses sampled per network (case1354pegase: 1354 = all)")
    ap.add_argument("--all", action="store_true", help="every bus (instead of --buses)")
    ap.add_argument("--dc-driven", action="store_true", help="the DC-driven search (hosting.DC_DRIVEN; the default)")
    ap.add_argument("--compact", action="store_true", help="the compact screen instead (hosting.DC_DRIVEN = False)")
    ap.add_argument("--brute", type=int, default=1, help="of which checked by brute force")
    ap.add_argument("--only", choices=["case1354pegase", "europe"], default=None)
    ap.add_argument("--dask", action="store_true", help="also on a 2-worker Dask LocalCluster (client=)")
    args = ap.parse_args()
    set_quiet(True)
    import siting.grid.hosting as hosting

    hosting.DC_DRIVEN = not args.compact
    nets = {"case1354pegase": pegase, "europe": europe}
    rows = []
    for name, make in nets.items():
        if args.only and name != args.only:
            continue
        r = measure(name, make, None if args.all else args.buses, args.brute, args.dask)
        rows.append(r)
        print(f"{name}: DC screen of every bus {r['screen_s']:.1f} s (peak {r['screen_mb']:.0f} MB)", flush=True)
        print(f"{name}: build {r['build_s']:.1f} s, N-1 cases {r['cases_s']:.1f} s, hosting of {r['sample']} buses "
              f"{r['hosting_s']:.1f} s ({r['solves']} AC solves), peak {r['peak_mb'][0]:.0f} MB "
              f"(largest worker {r['peak_mb'][1]:.0f} MB)", flush=True)
    lines = _report.header("Hosting capacity on large grids (firm, N-1, sample of buses)",
                           ("numpy", "scipy", "pandapower", "lightsim2grid")) + [
        *_report.table("network", "buses", "branches", "N-1 cases", "build [s]", "N-1 cases solved [s]", "sampled buses",
                       "hosting [s]", "build + cases + hosting [s]", "per bus [s]", "AC solves", "screen", "peak MB (process / largest worker)",
                       "peak MB, all processes (PSS)"),
    ]
    for r in rows:
        lines.append(
            f"| {r['network']} | {r['buses']} | {r['branches']} | {r['cases']} | {r['build_s']:.1f} | {r['cases_s']:.1f} | "
            f"{r['sample']} | {r['hosting_s']:.1f} | {r['build_s'] + r['cases_s'] + r['hosting_s']:.1f} | "
            f"{r['hosting_s'] / r['sample']:.3f} | {r['solves']} | "
            f"{r['kind']} | {r['peak_mb'][0]:.0f} / {r['peak_mb'][1]:.0f} | {r['pss_mb']:.0f} |")
    lines += ["", "PSS sampled " + "; ".join(
        f"{r['network']}: {r['pss_samples'][0]} times, {r['pss_samples'][1]:.0f} ms a sample" for r in rows)
        + f" (at most {PeakPss.DUTY:.0%} of one core, at least {PeakPss.INTERVAL_S} s apart)."]
    if any("dask" in r for r in rows):
        lines += ["", "The same on a 2-worker Dask LocalCluster (`hosting_capacity(client=)`, cluster start excluded):",
                  "", *_report.table("network", "sampled buses", "forked workers [s]", "Dask [s]", "same table")]
        for r in rows:
            if "dask" in r:
                lines.append(f"| {r['network']} | {r['sample']} | {r['hosting_s']:.1f} | {r['dask'][0]:.1f} | "
                             f"{'yes, to the last bit' if r['dask'][1] else 'NO'} |")
    lines += ["", "DC N-1 screen of every bus (`GridModel.hosting_screen`: PTDF/LODF against each case's room, "
              "thermal only; the N-1 cases solved before, as above), and against the AC firm hosting at the sample:",
              "", *_report.table("network", "buses screened", "screen [s]", "process peak after it [MB]",
                                 "sample: median |DC − AC| [MW]", "within 5 MW", "within 20 %",
                                 "same limiting case", "rank correlation (Spearman)")]
    for r in rows:
        sc, t = r["screen"], r["table"]
        dc = sc.loc[t.index, "screened_mw"]
        diff = (dc - t["firm_mw"]).abs()
        rel = diff / t["firm_mw"].clip(lower=1.0)
        same = (sc.loc[t.index, "limiting_case"] == t["limiting_case"]).mean()
        rho = dc.rank().corr(t["firm_mw"].rank())
        lines.append(f"| {r['network']} | {len(sc)} | {r['screen_s']:.1f} | {r['screen_mb']:.0f} | {diff.median():.1f} | "
                     f"{(diff <= 5.0).sum()} of {len(t)} | {(rel <= 0.2).sum()} of {len(t)} | {same:.0%} | {rho:.2f} |")
    for r in rows:
        q = r["screen"]["screened_mw"].quantile([0.0, 0.5, 1.0])
        kinds = ", ".join(f"{k} {n}" for k, n in r["screen"]["constraint"].value_counts().items())
        lines.append(f"- {r['network']} screened: min {q[0.0]:.1f}, median {q[0.5]:.1f}, max {q[1.0]:.1f} MW; {kinds}")
    lines += ["", "Brute force (bisection over every case, same compiled solver, no screening):", "",
              *_report.table("network", "bus", "fast [MW]", "brute force [MW]", "Δ [MW]", "brute force [s]")]
    for r in rows:
        for b, fast, ref, sec in r["brute"]:
            lines.append(f"| {r['network']} | {b} | {fast:.2f} | {ref:.2f} | {fast - ref:+.2f} | {sec:.0f} |")
    lines += ["", "Sampled answers (the first 16; then their spread):", ""]
    for r in rows:
        t = r["table"]
        lines.append(f"- {r['network']}: " + ", ".join(f"{b} {v:.0f} MW ({c})" for b, v, c in
                                                   zip(t.index[:16], t["firm_mw"][:16], t["limiting_case"][:16])))
        q = t["firm_mw"].quantile([0.0, 0.5, 1.0])
        kinds = ", ".join(f"{k or 'cap'} {n}" for k, n in t["constraint"].value_counts().items())
        lines.append(f"  {len(t)} buses: min {q[0.0]:.1f}, median {q[0.5]:.1f}, max {q[1.0]:.1f} MW; limited by {kinds}")
    name = f"scale-{args.only}" if args.only else "scale"
    _report.write(name + ("-all" if args.all else "") + ("-compact" if args.compact else ""), lines)


if __name__ == "__main__":
    main()
