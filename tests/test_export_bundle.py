"""The planner's bundle: GeoPackage with QGIS styles, GeoJSON, CSV, PNG map, report cards,
provenance; atomic, deterministic, never overwriting."""

from __future__ import annotations

import json
import sqlite3

import pandas as pd
import pyogrio
import pytest

import siting
from siting.errors import ConfigError
from siting.evaluate import evaluate
from siting.exports import export

from .conftest import make_sites
from .grid_fixtures import embedded_layers


@pytest.fixture(scope="module")
def small_eval():
    return evaluate(layers=embedded_layers(), sites=make_sites(3))


def test_export_writes_every_file(tmp_path, small_eval):
    out = export(small_eval, tmp_path / "out", layers=embedded_layers(), sensitivity=small_eval.sensitivity(n=20))
    names = sorted(p.name for p in out.iterdir())
    assert names == ["capacity_check.csv", "map.html", "map.png", "provenance.json", "ranking.csv", "ranking.geojson",
                     "ranking.gpkg", "sensitivity.csv", "sites", "what_it_would_take.csv"]
    cap = pd.read_csv(out / "capacity_check.csv")
    assert len(cap) == 22 and set(cap["year"]) == {2030}  # TenneT's 22 areas, the study year
    nh = cap.set_index("area").loc["Noord-Holland"]
    assert nh["published_demand_available_mw"] == 4900  # TenneT's 2030 figure
    assert nh["model_firm_mw"] > 0 and nh["direction"] in {"within_2x", "model_higher", "model_lower"}
    layers = dict(pyogrio.list_layers(out / "ranking.gpkg"))
    assert {"sites", "stations", "circuits", "offshore", "layer_styles", "provenance"} <= set(layers)
    with sqlite3.connect(out / "ranking.gpkg") as db:
        name, qml, default = db.execute("select f_table_name, styleQML, useAsDefault from layer_styles").fetchone()
    assert name == "sites" and default == 1 and 'attr="verdict"' in qml and 'value="unsuitable"' in qml
    sites = pyogrio.read_dataframe(out / "ranking.gpkg", layer="sites")
    assert {"verdict", "score", "rank", "p_top_k", "space_why"} <= set(sites.columns)
    assert (out / "map.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    cards = sorted(p.name for p in (out / "sites").iterdir())
    assert cards == sorted([f"site-{i}.{ext}" for i in range(3) for ext in ("md", "html", "png")])
    card = (out / "sites" / "site-0.md").read_text()
    assert "**Verdict:" in card and "§5.1" in card and "## What it would take" in card
    assert "![map of site-0](site-0.png)" in card
    meta = pyogrio.read_info(out / "ranking.gpkg", layer="sites")["dataset_metadata"]
    assert json.loads(meta["siting_provenance"])["version"] == siting.__version__
    assert "N-1 check of 360 MW" in card and "base case max loading" in card
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["version"] == siting.__version__
    assert len(prov["layers"]["substations"]["sha256"]) == 64
    assert prov["parameters"]["grid_load_mw"] == pytest.approx(360.0)


def test_export_is_deterministic_and_refuses_to_overwrite(tmp_path, small_eval):
    a = export(small_eval, tmp_path / "a", layers=embedded_layers())
    b = export(small_eval, tmp_path / "b", layers=embedded_layers())
    for path in sorted(a.rglob("*")):
        if path.is_file() and path.name != "provenance.json":
            assert path.read_bytes() == (b / path.relative_to(a)).read_bytes(), path.name
    with pytest.raises(ConfigError, match="exists; not overwriting"):
        export(small_eval, a, layers=embedded_layers())
    export(small_eval, a, layers=embedded_layers(), force=True, formats=("csv",))
    assert sorted(p.name for p in a.iterdir()) == ["ranking.csv", "what_it_would_take.csv"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def test_failed_export_leaves_nothing(tmp_path, small_eval, monkeypatch):
    import siting.maps

    def boom(*args, **kwargs):
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(siting.maps, "static_map", boom)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        export(small_eval, tmp_path / "out", layers=embedded_layers())
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ConfigError, match=r"unknown export format\(s\) \['pdf'\]"):
        export(small_eval, tmp_path / "out", layers=embedded_layers(), formats=("pdf",))


def _chromium() -> str | None:
    import os
    import shutil

    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None and os.environ.get("CI"):
        pytest.fail("chromium is missing: .ci/run must install it (apt-get install chromium)")
    return found


def test_html_map_renders_offline_in_headless_chromium(tmp_path, small_eval):
    import subprocess

    from siting.webmap import html_map

    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not installed")
    page = html_map(small_eval, embedded_layers(), tmp_path / "map.html")
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "").replace("http://mrcc.com", "")
    assert "https://" not in text
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=127.0.0.1:9", "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    assert 'data-sites-drawn="3"' in proc.stdout, proc.stderr[-2000:]
    assert proc.stdout.count('class="site"') >= 3


def test_export_with_a_surface(tmp_path, small_eval):
    from siting.surface import read_raster, surface

    ds = surface(layers=embedded_layers(), resolution_m=1000, scenario="high-wind-2030")
    out = export(small_eval, tmp_path / "out", layers=embedded_layers(), surface=ds, formats=("png", "html"))
    assert sorted(p.name for p in out.iterdir()) == ["map.html", "map.png", "surface.tif"]
    assert "data:image/png;base64," in (out / "map.html").read_text()
    assert set(read_raster(out / "surface.tif").data_vars) >= {"score", "hard_ok"}
