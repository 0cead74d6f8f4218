"""The `siting` command line: inventory, schema, checking user files — never a traceback."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from siting import LAYER_NAMES
from siting.cli import main

from .conftest import make_sites


def test_layers_inventory_lists_all_sixteen():
    result = CliRunner().invoke(main, ["layers"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["layer", "rows", "geometry", "crs", "source", "date"]
    listed = [line.split()[0] for line in lines[1:]]
    assert listed == list(LAYER_NAMES)
    assert len(listed) == 16
    assert all("EPSG:28992" in line and "embedded:nl/" in line for line in lines[1:])


def test_layers_schema_markdown():
    result = CliRunner().invoke(main, ["layers", "--schema"])
    assert result.exit_code == 0
    for name in LAYER_NAMES:
        assert f"## `{name}`" in result.output


def test_check_valid_file(tmp_path):
    path = tmp_path / "plots.gpkg"
    make_sites(4).to_file(path, driver="GPKG")
    result = CliRunner().invoke(main, ["layers", "--check", str(path), "--layer", "sites"])
    assert result.exit_code == 0, result.output
    assert "is a valid 'sites' layer: 4 rows" in result.output


def test_check_invalid_file_exits_nonzero_with_message(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"id": ["a"], "naam": ["x"], "population": [1], "source": ["t"],
                  "lon": [5.1], "lat": [52.1]}).to_csv(path, index=False)
    result = CliRunner().invoke(main, ["layers", "--check", str(path), "--layer", "population"])
    assert result.exit_code == 2
    assert "column 'name': required column missing" in result.output
    assert "rename 'naam' to 'name'" in result.output
    assert "Traceback" not in result.output


def test_check_needs_layer(tmp_path):
    result = CliRunner().invoke(main, ["layers", "--check", str(tmp_path / "x.gpkg")])
    assert result.exit_code == 2
    assert "--check and --layer go together" in result.output


def test_check_missing_file_in_a_real_process(tmp_path):
    """The installed entry point's behaviour, in a separate interpreter: message, no traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "siting", "layers", "--check", str(tmp_path / "gone.geojson"), "--layer", "sites"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2
    assert "file does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout


def test_scenarios_command_lists_totals():
    result = CliRunner().invoke(main, ["--quiet", "scenarios"])
    assert result.exit_code == 0, result.output
    for name in ("winter-peak-2026", "high-wind-2030", "low-wind-peak-2030"):
        assert name in result.output
    assert "demand_mw" in result.output and "offshore_mw" in result.output


@pytest.mark.slow  # end to end (CI runs it with -m slow); keeps the default suite under 5 min
def test_hosting_command_writes_csv_and_gpkg(tmp_path):
    import geopandas as gpd

    csv = tmp_path / "hosting.csv"
    result = CliRunner().invoke(main, ["hosting", "--scenario", "high-wind-2030", "--no-n-1", "--out", str(csv)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(csv, index_col="bus")
    assert {"firm_mw", "limiting_element", "limiting_case", "constraint"} <= set(table.columns)
    assert "maasvlakte-380" in table.index and not any(i.startswith("xb-") for i in table.index)
    # never silently overwrite
    again = CliRunner().invoke(main, ["hosting", "--scenario", "high-wind-2030", "--no-n-1", "--out", str(csv)])
    assert again.exit_code == 2 and "exists; not overwriting" in again.output and "--force" in again.output
    # one flag name across commands: --force; --overwrite still works, hidden and deprecated
    forced = CliRunner().invoke(main, ["hosting", "--scenario", "high-wind-2030", "--no-n-1", "--out", str(csv), "--force"])
    assert forced.exit_code == 0 and "deprecated" not in forced.output
    old = CliRunner().invoke(main, ["hosting", "--scenario", "high-wind-2030", "--no-n-1", "--out", str(csv), "--overwrite"])
    assert old.exit_code == 0 and "--overwrite is deprecated; use --force" in old.output
    for command in ("hosting", "rank", "surface", "locate"):
        shown = CliRunner().invoke(main, [command, "--help"]).output
        assert "--force" in shown and "--overwrite" not in shown, command
    gpkg = tmp_path / "hosting.gpkg"
    result = CliRunner().invoke(main, ["hosting", "--scenario", "high-wind-2030", "--no-n-1", "--out", str(gpkg)])
    assert result.exit_code == 0, result.output
    pts = gpd.read_file(gpkg, layer="hosting")
    assert pts.crs.to_epsg() == 28992 and len(pts) == len(table)
    assert set(pts.geom_type) == {"Point"}


def test_hosting_command_unknown_scenario():
    result = CliRunner().invoke(main, ["hosting", "--scenario", "summer-2040"])
    assert result.exit_code == 2
    assert "unknown scenario 'summer-2040'" in result.output and "Traceback" not in result.output


@pytest.mark.slow  # end to end (CI runs it with -m slow); keeps the default suite under 5 min
def test_rank_command_writes_ranking_files(tmp_path):
    import geopandas as gpd

    from .conftest import make_sites

    sites = tmp_path / "plots.gpkg"
    make_sites(3).to_file(sites, driver="GPKG")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["rank", "--sites", str(sites), "--samples", "20", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "360 MW grid load" in result.output and "verdict" in result.output
    ranking = pd.read_csv(out / "ranking.csv")
    assert {"id", "name", "verdict", "score", "rank", "p_top_k", "space_result", "space_why"} <= set(ranking.columns)
    assert sorted(ranking["rank"]) == [1, 2, 3]
    gdf = gpd.read_file(out / "ranking.gpkg", layer="sites")
    assert gdf.crs.to_epsg() == 28992 and len(gdf) == 3
    assert (out / "what_it_would_take.csv").is_file() and (out / "sensitivity.csv").is_file()
    again = CliRunner().invoke(main, ["rank", "--sites", str(sites), "--samples", "20", "--out", str(out)])
    assert again.exit_code == 2 and "not overwriting" in again.output
    assert (out / "map.png").is_file() and (out / "sites").is_dir() and (out / "provenance.json").is_file()


def test_rank_command_bad_criteria_file(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('name = "x"\ntitle = "x"\nsource = "x"\n')
    result = CliRunner().invoke(main, ["rank", "--criteria", str(bad), "--samples", "5"])
    assert result.exit_code == 2
    assert "criteria file" in result.output and "criterion: Field required" in result.output
    assert "Traceback" not in result.output


@pytest.mark.slow  # end to end (CI runs it with -m slow); keeps the default suite under 5 min
def test_surface_and_locate_commands(tmp_path):
    tif = tmp_path / "surface.tif"
    result = CliRunner().invoke(main, ["--quiet", "surface", "--resolution", "1000", "--scenario", "high-wind-2030",
                                       "--out", str(tif)])
    assert result.exit_code == 0, result.output
    assert tif.is_file() and "cells meet every hard condition now" in result.output
    gpkg = tmp_path / "regions.gpkg"
    result = CliRunner().invoke(main, ["--quiet", "locate", "--resolution", "1000", "--scenario", "high-wind-2030",
                                       "--n", "3", "--max-ha", "200", "--out", str(gpkg)])
    assert result.exit_code == 0, result.output
    import geopandas as gpd

    regions = gpd.read_file(gpkg, layer="regions")
    assert 1 <= len(regions) <= 3 and (regions["area_ha"] >= 30).all()


def test_surface_command_with_hourly_climate(tmp_path):
    from siting.surface import read_raster

    from .test_climate import _era5

    from siting.errors import ClimateCoverageWarning

    nc, _, _ = _era5(tmp_path / "era5.nc")
    tif = tmp_path / "s.tif"
    with pytest.warns(ClimateCoverageWarning, match="does not cover"):  # a small grid: normals elsewhere
        result = CliRunner().invoke(main, ["--quiet", "surface", "--resolution", "2000", "--scenario", "high-wind-2030",
                                           "--climate", str(nc), "--free-cooling-c", "15", "--out", str(tif)])
    assert result.exit_code == 0, result.output
    ds = read_raster(tif)
    fc = ds["free_cooling_hours"].values[ds["land"].values == 1]
    assert np.isfinite(fc).all() and fc.max() <= 8766
    bad = CliRunner().invoke(main, ["--quiet", "surface", "--resolution", "2000", "--climate", str(tmp_path / "nope.nc"),
                                    "--out", str(tmp_path / "t.tif")])
    assert bad.exit_code == 2 and "climate file does not exist" in bad.output and "Traceback" not in bad.output
