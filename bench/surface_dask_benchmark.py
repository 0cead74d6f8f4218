"""Benchmark: the surface on a Dask LocalCluster (``siting surface --dask``) against one process.

Run:  python bench/surface_dask_benchmark.py [--fine 25] [--fine-timeout-min 40]

Every run is the command a user types (``siting --quiet surface ... --out X.tif``), in a fresh
process; a sampler reads the resident memory (RSS) of that process and of each of its child
processes (the Dask workers) four times a second. Measured in the same run:

* one process at 250 m and 100 m (the baseline),
* Dask, a local cluster of 2 single-threaded workers of 4 GB each, at 250 m: time, and the
  written COG compared band by band with the single-process one (max abs difference),
* Dask at the fine resolution (default 25 m; 50 m when the 25 m run is over the time limit):
  time, peak RSS per worker (≤ 4 GB?), and of the calling process.

Results: bench/results/surface-dask-<date>.md.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORKER_GB = 4.0


def run(args: list[str], timeout_s: float | None = None) -> dict:
    """Run `siting` with `args`; wall time, peak RSS of the process and of each child [MB]."""
    cmd = [sys.executable, "-c", "import sys; from siting.cli import main; sys.exit(main())", "--quiet", *args]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peaks: dict[int, float] = {}
    names: dict[int, str] = {}
    done = threading.Event()

    def sample():
        root = psutil.Process(proc.pid)
        while not done.is_set():
            try:
                for p in [root, *root.children(recursive=True)]:
                    try:
                        rss = p.memory_info().rss / 2**20
                        peaks[p.pid] = max(peaks.get(p.pid, 0.0), rss)
                        if p.pid not in names:  # Dask's nannies spawn their workers; the grid's pool forks
                            names[p.pid] = "worker" if "spawn_main" in " ".join(p.cmdline()) else "other"
                    except psutil.Error:
                        pass
            except psutil.Error:
                pass
            done.wait(0.25)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, err = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        done.set()
        th.join()
        for p in psutil.Process(proc.pid).children(recursive=True):  # the run's own workers
            p.kill()
        proc.kill()
        proc.communicate()
        timed_out = True
    else:
        timed_out = False
    finally:
        done.set()
        th.join()
    wall = time.perf_counter() - t0
    if not timed_out and proc.returncode != 0:
        raise RuntimeError(f"siting {' '.join(args)} failed:\n{err[-3000:]}")
    workers = [mb for pid, mb in peaks.items() if pid != proc.pid and names.get(pid) == "worker"]
    others = [mb for pid, mb in peaks.items() if pid != proc.pid and names.get(pid) != "worker"]
    return {"timeout": timed_out, "wall_s": wall, "main_mb": peaks.get(proc.pid, 0.0), "workers_mb": sorted(workers),
            "others_mb": max(others, default=0.0), "stdout": "" if timed_out else out.strip(),
            "load_1min": os.getloadavg()[0]}


def max_diff(a: Path, b: Path) -> tuple[float, int, int]:
    """Largest absolute difference over every band, the number of differing cells (NaN = NaN),
    and the number of bands."""
    from siting.surface import read_raster

    ra, rb = read_raster(a), read_raster(b)
    assert list(ra.data_vars) == list(rb.data_vars)
    worst, n = 0.0, 0
    for v in ra.data_vars:
        x, y = ra[v].values, rb[v].values
        same = (x == y) | (np.isnan(x) & np.isnan(y))
        n += int((~same).sum())
        if (~same).any():
            worst = max(worst, float(np.nanmax(np.abs(x - y)[~same])) if np.isfinite(x[~same] - y[~same]).any() else np.inf)
    return worst, n, len(ra.data_vars)


def cells(res: float) -> int:
    sys.path.insert(0, str(ROOT))
    import siting
    from siting.surface import _grid

    _, x, y = _grid(siting.load_layers().boundary, res)
    return len(x) * len(y)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fine", type=float, default=25.0)
    ap.add_argument("--fine-timeout-min", type=float, default=40.0)
    opts = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="surface-dask-bench-"))
    dask = ["--dask", "--worker-memory", f"{WORKER_GB:g}GB"]
    rows = {}
    for key, res, extra in (("single-250", 250, []), ("dask-250", 250, dask), ("single-100", 100, [])):
        rows[key] = run(["surface", "--resolution", str(res), "--out", str(tmp / f"{key}.tif"), *extra])
        print(key, {k: v for k, v in rows[key].items() if k != "stdout"}, flush=True)
    diff, ndiff, nbands = max_diff(tmp / "single-250.tif", tmp / "dask-250.tif")
    print("250 m max abs diff", diff, ndiff, flush=True)
    fine = opts.fine
    got = run(["surface", "--resolution", f"{fine:g}", "--out", str(tmp / "dask-fine.tif"), *dask],
              timeout_s=opts.fine_timeout_min * 60)
    note = ""
    if got["timeout"] and fine < 50:
        w = ", ".join(f"{m:.0f}" for m in got["workers_mb"])
        note = (f"The {fine:g} m run ({cells(fine):,} cells) did not finish within {opts.fine_timeout_min:g} min and "
                f"was stopped; until then the peak RSS per Dask worker was {w} MB, the calling process "
                f"{got['main_mb']:.0f} MB (load average {got['load_1min']:.1f} at the stop). The last row is at 50 m.")
        print(note, flush=True)
        fine = 50.0
        got = run(["surface", "--resolution", "50", "--out", str(tmp / "dask-fine.tif"), *dask])
    size_gb = (tmp / "dask-fine.tif").stat().st_size / 1e9 if not got["timeout"] else float("nan")
    print("fine", fine, {k: v for k, v in got.items() if k != "stdout"}, flush=True)

    s250, d250, s100 = rows["single-250"], rows["dask-250"], rows["single-100"]
    c250, c100, cfine = cells(250), cells(100), cells(fine)
    rate = lambda r, c: c / r["wall_s"] / 1e6  # noqa: E731 - million cells a second
    loads = ", ".join(f"{r['load_1min']:.1f}" for r in (s250, d250, s100, got))
    lines = _report.header("Surface on Dask (LocalCluster) against one process",
                           ("numpy", "scipy", "xarray", "rasterio", "dask", "distributed")) + [
        f"Every run is `siting --quiet surface --resolution R --out X.tif` in a fresh process (`--dask --worker-memory "
        f"{WORKER_GB:g}GB`: a local cluster of {len(d250['workers_mb'])} single-threaded worker processes); wall time "
        "includes start-up, the grid's hosting capacity, the surface and writing the COG (all variables). Peak RSS "
        "sampled every 0.25 s: the calling process (client, scheduler, writer), each Dask worker process, and the "
        "largest other child process (the pool the grid's hosting capacity runs in, before the tiles). The machine "
        f"was shared: load average (1 min) at the end of the four runs {loads} on {os.cpu_count()} cores.", "",
        "| run | resolution | cells | wall [s] | × single 250 m | M cells/s | peak RSS main [MB] | peak RSS per Dask worker [MB] | largest other child [MB] |",
        "|---|---|---|---|---|---|---|---|---|"]

    def row(name, r, res, c):
        w = ", ".join(f"{m:.0f}" for m in r["workers_mb"]) or "–"
        lines.append(f"| {name} | {res:g} m | {c:,} | {r['wall_s']:.1f} | {r['wall_s'] / s250['wall_s']:.2f} | "
                     f"{rate(r, c):.3f} | {r['main_mb']:.0f} | {w} | {r['others_mb']:.0f} |")

    row("one process", s250, 250, c250)
    row("Dask, 2 workers", d250, 250, c250)
    row("one process", s100, 100, c100)
    row("Dask, 2 workers", got, fine, cfine)
    worst_worker = max(got["workers_mb"]) / 1024
    lines += ["",
              f"* 250 m, Dask vs one process: {nbands} bands of the written COGs compared cell by cell: "
              f"{ndiff} cells differ, max abs difference {diff:g}. Time ratio Dask/one process "
              f"{d250['wall_s'] / s250['wall_s']:.2f}.",
              f"* {fine:g} m on Dask: {got['wall_s'] / 60:.1f} min; {cfine / c250:.0f}× the cells of 250 m in "
              f"{got['wall_s'] / s250['wall_s']:.1f}× the single-process 250 m time; throughput "
              f"{rate(got, cfine) / rate(s100, c100):.2f}× that of one process at 100 m. Peak RSS per worker "
              f"{worst_worker:.2f} GB ({'within' if worst_worker <= WORKER_GB else 'OVER'} the {WORKER_GB:g} GB limit); "
              f"calling process {got['main_mb'] / 1024:.2f} GB. COG {size_gb:.2f} GB.",
              f"* Output of the {fine:g} m run: {got['stdout']}"]
    if note:
        lines += ["", note]
    _report.write("surface-dask", lines)


if __name__ == "__main__":
    main()
