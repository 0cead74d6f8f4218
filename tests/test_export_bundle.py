"""The planner's bundle: GeoPackage with QGIS styles, GeoJSON, CSV, PNG map, report cards,
provenance; atomic, deterministic, never overwriting."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from xml.etree import ElementTree

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
    assert {"sites", "stations", "circuits", "offshore", "amsix", "water", "layer_styles", "provenance"} <= set(layers)
    with sqlite3.connect(out / "ranking.gpkg") as db:
        styles = {name: (qml, default) for name, qml, default in
                  db.execute("select f_table_name, styleQML, useAsDefault from layer_styles")}
    # every spatial layer has a default QGIS style, and each is well-formed XML
    assert set(styles) == {name for name, geom in layers.items() if geom}
    for name, (qml, default) in styles.items():
        assert default == 1 and ElementTree.fromstring(qml).find("renderer-v2") is not None, name
    assert 'attr="verdict"' in styles["sites"][0] and 'value="unsuitable"' in styles["sites"][0]
    assert "&quot;kv&quot; = 380" in styles["circuits"][0] and 'value="dash"' in styles["circuits"][0]
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
    assert "N-1 check of 360 MW" in card and ("fits" in card or "does not fit" in card) and "firm hosting capacity" in card
    # the HTML card has what the Markdown card has: the N-1 table, the sensitivity, the sources
    page = (out / "sites" / "site-0.html").read_text()
    for text in ("N-1 check of 360 MW", "firm hosting capacity", "What it would take", "Sensitivity",
                 "Sources", "Ecorys (2025)", "Staatsblad 2023, 492"):
        assert text in card and text in page, text
    spread = ("What moves its rank most", "Its rank is the same in every draw")
    assert any(t in card for t in spread) and any(t in page for t in spread)
    assert "shared/facts" not in card + page and "S92" not in card + page
    sens = pd.read_csv(out / "sensitivity.csv")
    assert {"rank_driver", "driver", "driver_rho", "on_threshold", "threshold_note"} <= set(sens.columns)
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
    """Headless Chromium, offline: the page draws the sites, labels them, names towns and
    stations, shows the legend, and highlights the site named in the address."""
    import subprocess

    from PIL import Image

    from siting.webmap import html_map

    browser = _chromium()
    if browser is None:
        pytest.skip("chromium not installed")
    page = html_map(small_eval, embedded_layers(), tmp_path / "map.html")
    text = page.read_text()
    assert "http://" not in text.replace("http://www.w3.org/2000/svg", "").replace("http://mrcc.com", "")
    assert "https://" not in text
    shot = tmp_path / "shot.png"
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         f"--user-data-dir={tmp_path / 'profile'}", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--proxy-server=127.0.0.1:9", "--virtual-time-budget=3000", "--window-size=1200,900",
         f"--screenshot={shot}", "--dump-dom", page.as_uri() + "#site=site-1"],
        capture_output=True, text=True, timeout=120,
    )
    dom = proc.stdout
    assert 'data-sites-drawn="3"' in dom, proc.stderr[-2000:]
    assert dom.count('class="site') >= 6
    # every site labelled (its rank, and its name where there is room), towns and stations named
    import re

    site_labels = re.findall(r'<text class="label site-label[^"]*" data-id="(site-\d)"[^>]*?(style="display: none;")?[^>]*>([^<]*)<', dom)
    assert sorted(i for i, hidden, _ in site_labels if not hidden) == ["site-0", "site-1", "site-2"]
    assert any(t.startswith("1. Test site") for _, _, t in site_labels)
    shown = re.findall(r'<text class="label (town|station)"[^>]*>([^<]*)</text>', dom)
    assert {"Amsterdam", "Rotterdam"} <= {t for k, t in shown if k == "town"}
    assert any(k == "station" for k, _ in shown)
    # the legend: each layer drawn, only the verdicts present
    legend = re.findall(r'class="legend-item"><svg[^>]*>.*?</svg>([^<]+)</div>', dom)
    verdicts = set(small_eval.table["verdict"])
    for item in ("380 kV circuit", "220 kV circuit", "380/220 kV station", "offshore-wind landing (in service / grid-ready)",
                 "AMS-IX point of presence", "open water (sea, lakes, estuaries)", "town"):
        assert item in legend, item
    assert {i for i in legend if i.startswith("site: ")} == {f"site: {v}" for v in verdicts}
    # the site in the address is highlighted and described
    assert 'data-selected="site-1"' in dom and 'class="site selected" data-id="site-1"' in dom
    assert "Test site 1</h3>" in dom
    # the screenshot shows land, water and the highlight colour
    img = Image.open(shot).convert("RGB")
    colours = {c for _, c in img.getcolors(img.width * img.height)}
    for hexcol in ("#f4f4f0", "#b3d3ee", "#00a2ff"):
        rgb = tuple(int(hexcol[k:k + 2], 16) for k in (1, 3, 5))
        assert any(max(abs(a - b) for a, b in zip(rgb, c)) <= 6 for c in colours), hexcol


@pytest.fixture(scope="module")
def coarse_surface():
    from siting.surface import surface

    return surface(layers=embedded_layers(), resolution_m=1000, scenario="high-wind-2030")


def test_export_with_a_surface(tmp_path, small_eval, coarse_surface):
    from siting.surface import read_raster

    ds = coarse_surface
    out = export(small_eval, tmp_path / "out", layers=embedded_layers(), surface=ds, formats=("png", "html"))
    assert sorted(p.name for p in out.iterdir()) == ["map.html", "map.png", "surface.tif"]
    assert "data:image/png;base64," in (out / "map.html").read_text()
    assert set(read_raster(out / "surface.tif").data_vars) >= {"score", "hard_ok"}


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_outputs_follow_the_umask(tmp_path, small_eval, coarse_surface, umask):
    """Files 0666 & ~umask, folders 0777 & ~umask (tempfile would make them 0600/0700)."""
    from siting.exports import write_table
    from siting.surface import write_raster

    old = os.umask(umask)
    try:
        out = export(small_eval, tmp_path / "out", layers=embedded_layers(), formats=("csv", "provenance"))
        table = write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
        tif = write_raster(coarse_surface, tmp_path / "s.tif", variables=["score"])
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o777 & ~umask
    for path in [*out.iterdir(), table, tif]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path.name


def test_surface_tif_has_score_as_band_one_and_every_band_described(tmp_path, coarse_surface):
    import rasterio

    from siting.surface import write_raster

    ds = coarse_surface
    path = write_raster(ds, tmp_path / "s.tif")
    with rasterio.open(path) as src:
        assert src.descriptions[0] == "score"
        assert all(src.descriptions) and len(set(src.descriptions)) == src.count == len(
            [v for v in ds.data_vars if ds[v].dims == ("y", "x")])
        assert src.tags(src.descriptions.index("ehv_dist_km") + 1)["unit"] == "km"
