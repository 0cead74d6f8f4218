"""Benchmark: national suitability surface at 250 m and 100 m — time and peak memory.

Run:  python bench/surface_benchmark.py

Each resolution runs in a fresh process (peak RSS from getrusage). The baseline, measured in
the same run, is the plain vectorised-GEOS way to get one distance field (shapely.distance
from every cell centre to the station points) against the KD-tree used by the surface.
Results: bench/results/surface-<date>.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
import numpy as np, shapely, siting
from siting._progress import set_quiet
from siting.surface import surface, _grid, _kd_km
set_quiet(True)
res = float(sys.argv[1])
layers = siting.load_layers()
t = time.perf_counter(); ds = surface(layers=layers, resolution_m=res); total = time.perf_counter() - t
peak_surface = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baseline below
t = time.perf_counter(); regions = siting.locate(ds, n=10); t_locate = time.perf_counter() - t
transform, x, y = _grid(layers.boundary, res)
xx, yy = np.meshgrid(x, y)
subs = layers.substations
t = time.perf_counter(); kd, _ = _kd_km(subs.geometry, xx, yy); t_kd = time.perf_counter() - t
pts = shapely.points(xx.ravel(), yy.ravel()); target = shapely.union_all(subs.geometry.to_numpy())
t = time.perf_counter(); base = shapely.distance(pts, target); t_geos = time.perf_counter() - t
err = float(np.max(np.abs(base / 1000 - kd.ravel())))
print(json.dumps({"resolution_m": res, "cells": int(ds.sizes["x"] * ds.sizes["y"]), "land_cells": int(ds["land"].sum()),
                  "surface_s": total, "peak_surface_mb": peak_surface, "locate_s": t_locate, "regions": len(regions),
                  "kdtree_s": t_kd, "geos_s": t_geos, "max_diff_km": err,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def main() -> None:
    rows = []
    for res in (250, 100):
        out = subprocess.run([sys.executable, "-c", CHILD, str(res), str(ROOT)], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(row, flush=True)
    lines = _report.header("Surface benchmark", ("numpy", "scipy", "pandas", "xarray")) + [
        "| resolution | cells | land cells | surface [s] | peak RSS, surface [MB] | locate 10 [s] | station distance: KD-tree [s] | GEOS distance [s] | × | max diff [km] | peak RSS incl. GEOS baseline [MB] |",
        "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['resolution_m']:.0f} m | {r['cells']:,} | {r['land_cells']:,} | {r['surface_s']:.1f} | "
                     f"{r['peak_surface_mb']:.0f} | {r['locate_s']:.2f} ({r['regions']}) | {r['kdtree_s']:.2f} | {r['geos_s']:.2f} | "
                     f"{r['geos_s'] / r['kdtree_s']:.0f} | {r['max_diff_km']:.1e} | {r['peak_rss_mb']:.0f} |")
    _report.write("surface", lines)


if __name__ == "__main__":
    main()
