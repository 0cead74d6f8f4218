"""The examples run: every notebook cell on the embedded data, and the ranking script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# end-to-end runs of minutes: run by .ci/run (`python -m pytest -m slow`), not the default suite
pytestmark = pytest.mark.slow


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_notebook_runs(name, tmp_path):
    nb = nbformat.read(EXAMPLES / name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    # no warnings and no progress bars on stderr (Jupyter shows stderr as a red block under the cell)
    stderr = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.get("name") == "stderr")
    assert stderr == "", stderr[:2000]
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_rank_sites_script(tmp_path):
    proc = subprocess.run([sys.executable, str(EXAMPLES / "rank_sites.py"), str(tmp_path)], capture_output=True,
                          text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "top5_by_run.csv").read_text().count("\n") == 1 + 4 * 5
    assert "300 MW IT, high-wind-2030+low-wind-peak-2030:" in proc.stdout
