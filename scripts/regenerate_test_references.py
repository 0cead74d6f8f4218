"""Recompute the brute-force references the fast tests compare against, and store them.

Run:  python scripts/regenerate_test_references.py

Writes tests/references/brute_force_hosting.json: the firm hosting capacity of a few IEEE 118 buses
by plain AC bisection (every N-1 case solved at every step, no screening; 0.5 MW), which takes
about half a minute — too slow for the default test suite, which checks the library against these
stored values. ``python -m pytest -m slow`` recomputes them and checks they still hold.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

OUT = ROOT / "tests" / "references" / "brute_force_hosting.json"
IEEE118_BUSES = (0, 58, 116)


def compute() -> dict:
    import pandapower
    import pandapower.networks as pn

    import siting
    from siting.grid import GridModel
    from siting.grid._threads import single_blas_thread
    from tests.test_grid_model import brute_force_hosting

    with single_blas_thread():
        model = GridModel.from_pandapower(pn.case118())
        values = {str(b): round(brute_force_hosting(model, b), 3) for b in IEEE118_BUSES}
    return {
        "what": "firm N-1 hosting capacity [MW] by AC bisection over every case (tests/test_grid_model.py::"
                "brute_force_hosting): limits 100 %, 0.9-1.1 pu, pf 0.98, cap 3000 MW, tolerance 0.5 MW",
        "network": "pandapower.networks.case118()",
        "versions": {"siting": siting.__version__, "pandapower": pandapower.__version__},
        "ieee118": values,
    }


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(compute(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
