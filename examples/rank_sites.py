"""Scripted ranking: the national ranking for several loads and scenario sets, written to CSV.

Usage:  python examples/rank_sites.py [OUT_DIR]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import pandas as pd

import siting


def main(out_dir: Path) -> pd.DataFrame:
    layers = siting.load_layers()  # load once, reuse for every run
    runs = []
    for it_load in (200.0, 300.0):
        for scenarios in (["high-wind-2030"], ["high-wind-2030", "low-wind-peak-2030"]):
            ev = siting.evaluate(it_load_mw=it_load, pue=1.2, year=2030, scenario=scenarios, layers=layers)
            top = ev.table.head(5)[["rank", "id", "verdict", "score"]].assign(
                it_load_mw=it_load, scenarios="+".join(scenarios))
            runs.append(top)
            print(f"{it_load:.0f} MW IT, {'+'.join(scenarios)}: "
                  + ", ".join(f"{r.id} ({r.verdict})" for r in top.itertuples()))
    table = pd.concat(runs, ignore_index=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_csv(out_dir / "top5_by_run.csv", index=False)
    return table


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()))
