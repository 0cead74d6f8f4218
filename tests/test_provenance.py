"""Provenance tells the truth (#13 item 5): every file is recorded with the SHA-256 of the file
actually read — a user's criteria or scenario file with a shipped name gets its own hash, user
files never get ``sha256: null``."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from siting.criteria import load_criteria
from siting.evaluate import evaluate
from siting.exports import _file_record, provenance
from siting.grid.scenario import load_scenario
from siting.layers import embedded_data_dir, read_layer

from .conftest import make_sites
from .grid_fixtures import embedded_layers

SHIPPED_CRITERIA = embedded_data_dir() / "criteria" / "ecorys-2025.toml"
SHIPPED_SCENARIO = embedded_data_dir() / "scenarios" / "high-wind-2030.toml"


def _sha(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _copies(folder: Path, *, same_content: bool) -> tuple[Path, Path]:
    """User copies of the shipped criteria and scenario files, under the shipped names: a
    comment only (same content, other bytes) or, for the criteria, an edited rationale too."""
    crit = SHIPPED_CRITERIA.read_text(encoding="utf-8")
    if not same_content:
        assert 'rationale = "The temperate sea climate' in crit
        crit = crit.replace('rationale = "The temperate sea climate', 'rationale = "(my edit) The temperate sea climate')
    (folder / "ecorys-2025.toml").write_text("# my copy\n" + crit, encoding="utf-8")
    scen = SHIPPED_SCENARIO.read_text(encoding="utf-8")
    (folder / "high-wind-2030.toml").write_text("# my copy, same content\n" + scen, encoding="utf-8")
    return folder / "ecorys-2025.toml", folder / "high-wind-2030.toml"


def test_origin_is_the_file_parsed_not_the_shipped_one_of_the_same_name(tmp_path):
    from siting._origins import origin_of

    crit_path, scen_path = _copies(tmp_path, same_content=True)
    shipped, mine = load_criteria("ecorys-2025"), load_criteria(crit_path)
    assert shipped == mine  # same content ...
    assert origin_of(mine).sha256 == _sha(crit_path) != _sha(SHIPPED_CRITERIA)  # ... each its own file
    assert origin_of(shipped).sha256 == _sha(SHIPPED_CRITERIA)
    assert origin_of(load_scenario(scen_path)).path == scen_path.absolute()
    assert origin_of(load_scenario("high-wind-2030")).path == SHIPPED_SCENARIO.absolute()


@pytest.fixture(scope="module")
def user_study(tmp_path_factory):
    folder = tmp_path_factory.mktemp("user")
    crit_path, scen_path = _copies(folder, same_content=False)
    make_sites(3).to_file(folder / "sites.gpkg", engine="pyogrio")
    layers = embedded_layers()
    shipped = evaluate(layers=layers, sites=make_sites(3), scenario=["high-wind-2030"])  # fills the model cache
    mine = evaluate(layers=layers, sites=read_layer(folder / "sites.gpkg", "sites"), criteria=crit_path,
                    scenario=[scen_path], policy="soft")
    return folder, shipped, mine


def test_user_criteria_scenario_and_sites_get_their_own_sha256(user_study):
    folder, _, ev = user_study
    prov = provenance(ev, embedded_layers(), sources={"sites": folder / "sites.gpkg"})
    crit = prov["criteria"]
    assert crit["sha256"] == _sha(folder / "ecorys-2025.toml") != _sha(SHIPPED_CRITERIA)
    assert crit["policy"] == "soft" and "shipped" not in crit  # traced through the policy mode
    scen = prov["scenarios"]["high-wind-2030"]  # same content as shipped: a cached grid model
    assert scen["sha256"] == _sha(folder / "high-wind-2030.toml") and "shipped" not in scen
    assert prov["layers"]["sites"]["sha256"] == _sha(folder / "sites.gpkg")
    nulls = [name for name, rec in prov["layers"].items() if rec.get("sha256") is None]
    assert nulls == []


def test_shipped_files_are_marked_and_a_table_in_code_says_so(user_study):
    _, ev, _ = user_study  # evaluated before the user's copies, on the same cached grid model
    prov = provenance(ev, embedded_layers())
    assert prov["criteria"]["sha256"] == _sha(SHIPPED_CRITERIA) and prov["criteria"]["shipped"]
    assert prov["scenarios"]["high-wind-2030"]["sha256"] == _sha(SHIPPED_SCENARIO)
    assert prov["layers"]["substations"]["shipped"] and len(prov["layers"]["substations"]["sha256"]) == 64
    sites = prov["layers"]["sites"]
    assert sites["sha256"] is None and "as a table" in sites["given"] and len(sites["content_sha256"]) == 64


def test_shapefile_parts_folders_and_archive_members_are_hashed(tmp_path):
    make_sites(2).to_file(tmp_path / "s.shp", engine="pyogrio")
    rec = _file_record(tmp_path / "s.shp")
    assert rec["sha256"] == _sha(tmp_path / "s.shp")
    assert rec["parts"]["s.dbf"] == _sha(tmp_path / "s.dbf")  # the attributes live in the .dbf
    with zipfile.ZipFile(tmp_path / "s.zip", "w") as z:
        for part in sorted(tmp_path.glob("s.*")):
            if part.suffix != ".zip":
                z.write(part, part.name)
    rec = _file_record(f"/vsizip/{tmp_path / 's.zip'}/s.shp")
    assert rec["sha256"] == _sha(tmp_path / "s.zip") and rec["kind"] == "archive member"
    gdb = tmp_path / "data.gdb"
    gdb.mkdir()
    (gdb / "a").write_bytes(b"1")
    first = _file_record(gdb)["sha256"]
    (gdb / "a").write_bytes(b"2")
    assert _file_record(gdb)["sha256"] != first and len(first) == 64
    assert _file_record(tmp_path / "gone.gpkg")["missing"] is True
