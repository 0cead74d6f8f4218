"""The plant-matching rule of scripts/crosscheck_plants.py on small tables made here."""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from .conftest import REPO


@pytest.fixture(scope="module")
def cc():
    path = REPO / "scripts" / "crosscheck_plants.py"
    spec = importlib.util.spec_from_file_location("crosscheck_plants", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _plants(*rows):
    cols = ["id", "name", "fuel", "capacity_mw", "status", "commissioned_year", "closure_year", "lon", "lat"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


def _ref(*rows):
    cols = ["id", "Name", "Fueltype", "Technology", "Capacity", "DateIn", "DateRetrofit", "DateOut", "lat", "lon"]
    return pd.DataFrame([dict(zip(cols, r)) for r in rows], columns=cols)


# two plants 0.03 deg (~3.3 km) apart in longitude at 52 N
PLANTS = _plants(
    ("plant-a", "Centrale Alpha", "gas", 800.0, "operating", 2010, None, 5.00, 52.0),
    ("plant-b", "Windpark Beta", "wind_onshore", 150.0, "operating", 2020, None, 5.05, 52.0),
)


def test_near_unit_of_compatible_fuel_matches(cc):
    ref = _ref((900001, "Something Else", "Natural Gas", "CCGT", 780.0, 2010, None, None, 52.0, 5.01))
    pairs = cc.match(PLANTS, ref)
    assert pairs[["ppm_id", "plant_id", "basis"]].values.tolist() == [[900001, "plant-a", "near+fuel"]]
    assert pairs["dist_km"].iloc[0] == pytest.approx(0.686, abs=0.01)  # 0.01 deg of longitude at 52 N


def test_incompatible_fuel_small_neighbour_and_far_unit_do_not_match(cc):
    ref = _ref(
        (900002, "Solar Park Alpha", "Solar", "PV", 50.0, 2020, None, None, 52.0, 5.001),  # wrong fuel
        (900003, "Chemie WKK", "Natural Gas", "CCGT", 40.0, 1990, None, None, 52.0, 5.002),  # < 10 % of 800 MW
        (900004, "Centrale Gamma", "Natural Gas", "CCGT", 800.0, 2010, None, None, 52.3, 5.0),  # 33 km, no name
    )
    assert cc.match(PLANTS, ref).empty


def test_shared_name_matches_within_25_km_and_fuel_record_errors_need_an_override(cc):
    ref = _ref(
        (900005, "Beta Wind Farm", "Wind", "Onshore", 148.0, 2020, None, None, 52.15, 5.05),  # 16.7 km, name
        (900006, "Alpha", "Hard Coal", "Steam Turbine", 800.0, 2010, None, None, 52.0, 5.0),  # wrong fuel record
    )
    pairs = cc.match(PLANTS, ref)
    assert pairs[["ppm_id", "plant_id", "basis"]].values.tolist() == [[900005, "plant-b", "name"]]


def test_each_unit_goes_to_its_best_plant_and_mw_are_summed(cc):
    plants = _plants(
        ("plant-c1", "Centrale Delta 1", "gas", 340.0, "mothballed", 1997, None, 4.58, 51.68),
        ("plant-c2", "Centrale Delta 2", "gas", 430.0, "operating", 2012, None, 4.58, 51.68),
    )
    ref = _ref(
        (900007, "Delta", "Natural Gas", "CCGT", 425.0, 2012, None, None, 51.68, 4.58),
        (900008, "Delta", "Natural Gas", "CCGT", 340.0, 1997, None, None, 51.68, 4.58),
        (900009, "Delta Peaker", "Oil", "OCGT", 90.0, 2012, None, None, 51.681, 4.58),
    )
    pairs = cc.match(plants, ref).sort_values("ppm_id")
    assert pairs["plant_id"].tolist() == ["plant-c2", "plant-c1", "plant-c2"]
    table = cc.crosscheck(plants, ref)
    row = table.set_index("plant_id").loc["plant-c2"]
    assert row["ppm_mw"] == pytest.approx(515.0) and row["mw_ratio"] == pytest.approx(430 / 515, abs=1e-3)
    assert row["difference"].startswith("MW differ: ours 430 vs ppm 515")


def test_table_rows_and_difference_texts(cc):
    ref = _ref(
        (900010, "Alpha", "Natural Gas", "CCGT", 790.0, 2009, None, 2024.0, 52.0, 5.0),
        (900011, "Unrelated Park", "Wind", "Onshore", 120.0, 2015, None, None, 53.0, 6.0),  # unmatched, listed
        (900012, "Tiny", "Natural Gas", "CCGT", 60.0, 2015, None, None, 53.0, 6.5),  # unmatched, < 100 MW
    )
    table = cc.crosscheck(PLANTS, ref)
    assert table.columns.tolist() == cc.COLUMNS
    assert table["plant_id"].tolist()[:2] == ["plant-a", "plant-b"] and len(table) == 3
    a = table.set_index("plant_id").loc["plant-a"]
    assert a["difference"] == "closure: ours empty vs ppm DateOut 2024" and a["fuel_agrees"] == "yes"
    assert table.iloc[1]["difference"] == "no ppm unit matched"
    assert table.iloc[2]["ppm_ids"] == "900011" and table.iloc[2]["difference"] == "not in plants.csv"


def test_missing_reference_file_is_a_clear_error(cc, tmp_path):
    with pytest.raises(SystemExit, match="reference file not found"):
        cc.load_reference(tmp_path / "nope.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(SystemExit, match=r"not a powerplantmatching file, missing column\(s\)"):
        cc.load_reference(bad)
