"""The published capacity map (NBNL dp-capaciteitskaart v2.1) as a layer, and its comparison
with the model's hosting capacity."""

from __future__ import annotations

import copy
import importlib.util
import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import siting
from siting.capacity_map import (
    COMPARE_COLUMNS,
    compare_capacity,
    read_capacity_map,
    read_ehv_map,
    write_capacity_map,
)
from siting.errors import (
    CapacityMapFileError,
    CapacityMapSchemaError,
    CapacityMapWarning,
    ConfigError,
    LayerFileError,
    SitingError,
)
from siting.layers import embedded_data_dir

REPO = Path(__file__).resolve().parents[1]
TENNET = "tennet-capaciteitskaart-2026-04"
JSON_NAME = "TenneT_20260423_v21_update.json"


@cache
def shipped():
    return read_capacity_map()


def _script():
    spec = importlib.util.spec_from_file_location("build_capacity_map", REPO / "scripts" / "build_capacity_map.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ---------------------------------------------------------------------------------------------
# a small v2.1 document made by the tests


def _doc() -> dict:
    def year(y, avail, quoted, queued, req):
        return {"capacity_interval": {"year": y}, "demand_available_capacity": avail,
                "demand_quoted_capacity": quoted, "demand_capacity_in_queue": queued,
                "demand_requests_in_queue": req, "generation_available_capacity": None}

    return {
        "conforms_to": "http://data.netbeheernederland.nl/data-product/dp-capaciteitskaart",
        "contact_point": "Test CCC",
        "version": "2.1.0",
        "geographical_regions": [{"description": "Netherlands", "regions": [{
            "description": " TestNet ",
            "energy_areas": [
                {"short_code": "Polder  Noord ", "type": "congestion_area", "demand_alleviation_year": 2031,
                 "congestion_url": "https://example.org/polder ",
                 "area_capacity": [year(2027, 500.0, 100.0, 50.0, 2.0), year(2026, 400.0, 450.0, 300.0, 3.0)],
                 "works": [{"project_name": "Polder 380/150 kV realiseren station", "status_kind": "scheduled",
                            "source": "Investeringsplan",
                            "time_schedules": [{"schedule_interval": {"start": "2030-01-01", "end": "2031-12-31"}}]}]},
                {"short_code": "Haven", "type": "congestion_area", "area_capacity": []},
                {"short_code": "Station Polder 150 kV", "type": "energy_area",
                 "demand_energy_area_short_code": "Polder Noord", "generation_energy_area_short_code": "Polder Noord ",
                 "area_capacity": [{"capacity_interval": {"year": 2025}, "demand_constraint": "red",
                                    "generation_constraint": "transparant", "demand_available_capacity": None}]},
                {"short_code": "Station Haven", "type": "energy_area",
                 "demand_energy_area_short_code": "Haven", "generation_energy_area_short_code": "Haven",
                 "area_capacity": []},
            ]}]}],
        "updated": [{"type": "KI", "date": "2026-03-01"}, {"type": "ATC", "date": "2026-03-05"}],
    }


def _write(tmp_path: Path, doc, name: str = "map.json") -> Path:
    path = tmp_path / name
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc), encoding="utf-8")
    return path


def test_reads_a_small_document_and_normalises_names(tmp_path):
    cmap = read_capacity_map(_write(tmp_path, _doc()))
    assert cmap.operator == "TestNet" and str(cmap.updated) == "2026-03-05" and cmap.schema_version == "2.1.0"
    assert cmap.area_names == ["Polder Noord", "Haven"]
    polder = cmap.areas[cmap.areas["area"] == "Polder Noord"]
    assert polder["year"].tolist() == [2026, 2027]  # sorted by year
    assert polder["demand_available_mw"].tolist() == [400.0, 500.0]
    assert polder["demand_queued_requests"].tolist() == [3, 2]
    assert polder["demand_relief_year"].tolist() == [2031, 2031]
    assert polder["generation_available_mw"].isna().all()  # null = not published, never zero
    assert polder["congestion_url"].iloc[0] == "https://example.org/polder"
    haven = cmap.areas[cmap.areas["area"] == "Haven"]
    assert len(haven) == 1 and haven["year"].isna().all()
    s = cmap.stations.set_index("station")
    assert s.loc["Station Polder 150 kV", "generation_area"] == "Polder Noord"
    assert s.loc["Station Polder 150 kV", "kv"] == 150 and pd.isna(s.loc["Station Haven", "kv"])
    assert s.loc["Station Polder 150 kV", "name"] == "Polder 150 kV"
    assert s.loc["Station Polder 150 kV", "demand_colour"] == "red"
    w = cmap.works.iloc[0]
    assert (w["schedule_start"], w["schedule_end"], bool(w["mentions_380_220"])) == ("2030-01-01", "2031-12-31", True)


@pytest.mark.parametrize("version", ["1.0", "3.0", "2.0.1", "2.2.0", "two"])
def test_other_schema_versions_are_refused_naming_the_supported_one(tmp_path, version):
    doc = _doc()
    doc["version"] = version
    path = _write(tmp_path, doc)
    with pytest.raises(CapacityMapSchemaError, match=rf"schema version '{version}' is not supported; supported: 2\.1"):
        read_capacity_map(path)


@pytest.mark.parametrize("version", ["2.1", "2.1.0", "2.1.7", "v2.1.0"])
def test_every_2_1_patch_level_is_read(tmp_path, version):
    doc = _doc()
    doc["version"] = version
    assert read_capacity_map(_write(tmp_path, doc)).schema_version == version


def test_another_data_product_is_refused(tmp_path):
    doc = _doc()
    doc["conforms_to"] = "http://data.netbeheernederland.nl/data-product/dp-aansluitingen"
    with pytest.raises(CapacityMapSchemaError, match="not the capacity-map data product"):
        read_capacity_map(_write(tmp_path, doc))


@pytest.mark.parametrize("cut", ["half", "inside a string", "last byte"])
def test_truncated_json_says_so_and_names_the_file(tmp_path, cut):
    text = json.dumps(_doc(), indent=2)
    at = {"half": len(text) // 2, "inside a string": text.index("Investeringsplan") + 5, "last byte": len(text) - 1}[cut]
    path = _write(tmp_path, text[:at])
    with pytest.raises(CapacityMapFileError, match=r"truncated") as err:
        read_capacity_map(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_not_json_and_missing_file(tmp_path):
    with pytest.raises(CapacityMapFileError, match=r"is not valid JSON: .* line 1"):
        read_capacity_map(_write(tmp_path, "area,year\nNoord-Holland,2026\n", "map.csv"))
    with pytest.raises(CapacityMapFileError, match="does not exist") as err:
        read_capacity_map(tmp_path / "nothere.json")
    assert isinstance(err.value, (LayerFileError, SitingError))
    with pytest.raises(CapacityMapFileError, match="is empty"):
        read_capacity_map(_write(tmp_path, "  \n"))


def _drop(doc: dict, path: tuple) -> dict:
    doc = copy.deepcopy(doc)
    obj = doc
    for p in path[:-1]:
        obj = obj[p]
    del obj[path[-1]]
    return doc


EA = ("geographical_regions", 0, "regions", 0, "energy_areas")


@pytest.mark.parametrize(
    ("path", "key"),
    [
        (("version",), "version"),
        (("conforms_to",), "conforms_to"),
        (("geographical_regions",), "geographical_regions"),
        (("geographical_regions", 0, "regions", 0, "energy_areas"), "energy_areas"),
        ((*EA, 0, "short_code"), "short_code"),
        ((*EA, 1, "type"), "type"),
        ((*EA, 0, "area_capacity", 1, "capacity_interval"), "capacity_interval"),
    ],
)
def test_missing_required_keys_are_named(tmp_path, path, key):
    with pytest.raises(CapacityMapSchemaError, match=rf"required key '{key}' is missing") as err:
        read_capacity_map(_write(tmp_path, _drop(_doc(), path)))
    assert "Fix:" in str(err.value)


@pytest.mark.parametrize(
    ("value", "match"),
    [
        ({"capacity_interval": {"year": 2026}}, r"area 'Polder Noord': yearly rows must be a list"),
        ("2026: 400 MW", r"area 'Polder Noord': yearly rows must be a list"),
        ([2026, 2027], r"area 'Polder Noord': yearly row 0 must be an object"),
        ([{"capacity_interval": {"year": "2026"}}], r"area_capacity\[0\]\.capacity_interval\.year': expected a year"),
        ([{"capacity_interval": {"year": 2026}, "demand_available_capacity": "4140"}],
         r"demand_available_capacity': expected a number \[MW\] or null, got str"),
        ([{"capacity_interval": {"year": 2026}, "demand_requests_in_queue": 2.5}], r"expected a whole"),
        ([{"capacity_interval": {"year": 2026}}, {"capacity_interval": {"year": 2026}}], r"year 2026 appears twice"),
    ],
)
def test_an_area_with_yearly_rows_of_the_wrong_type(tmp_path, value, match):
    doc = _doc()
    doc["geographical_regions"][0]["regions"][0]["energy_areas"][0]["area_capacity"] = value
    path = _write(tmp_path, doc)
    with pytest.raises(CapacityMapSchemaError, match=match) as err:
        read_capacity_map(path)
    assert str(path) in str(err.value) and "Fix:" in str(err.value)


def test_unknown_area_kind_and_duplicate_area(tmp_path):
    doc = _doc()
    doc["geographical_regions"][0]["regions"][0]["energy_areas"][1]["type"] = "postcode_area"
    with pytest.raises(CapacityMapSchemaError, match="allowed: congestion_area, energy_area"):
        read_capacity_map(_write(tmp_path, doc))
    doc = _doc()
    doc["geographical_regions"][0]["regions"][0]["energy_areas"][1]["short_code"] = " Polder Noord"
    with pytest.raises(CapacityMapSchemaError, match="'Polder Noord' appears twice"):
        read_capacity_map(_write(tmp_path, doc))


def test_a_station_naming_an_undefined_area_warns(tmp_path):
    doc = _doc()
    doc["geographical_regions"][0]["regions"][0]["energy_areas"][3]["demand_energy_area_short_code"] = "Elders"
    with pytest.warns(CapacityMapWarning, match="Elders"):
        cmap = read_capacity_map(_write(tmp_path, doc))
    assert "Elders" in set(cmap.stations["demand_area"])


def test_derived_copy_round_trips_byte_for_byte(tmp_path):
    cmap = read_capacity_map(_write(tmp_path, _doc()))
    written = write_capacity_map(cmap, tmp_path / "copy", source="test")
    back = read_capacity_map(written[0])
    for table in ("areas", "stations", "works"):
        pd.testing.assert_frame_equal(getattr(back, table), getattr(cmap, table))
    assert (back.operator, back.updated, back.schema_version) == (cmap.operator, cmap.updated, cmap.schema_version)
    again = write_capacity_map(back, tmp_path / "again", source="test")
    assert [p.read_bytes() for p in written] == [p.read_bytes() for p in again]


# ---------------------------------------------------------------------------------------------
# the shipped copy and the area -> EHV station table


def test_shipped_copy_holds_tennets_map():
    cmap = siting.read_capacity_map()
    assert isinstance(cmap, siting.CapacityMap)
    assert (cmap.operator, str(cmap.updated), cmap.schema_version) == ("TenneT", "2026-04-23", "2.1.0")
    assert len(cmap.area_names) == 22
    assert cmap.areas.dropna(subset=["year"])["area"].nunique() == 17
    y = cmap.year(2026)
    assert y.loc["Noord-Holland", ["demand_available_mw", "demand_quoted_mw", "demand_queued_mw"]].tolist() == [
        4140.0, 4288.0, 4902.0]
    assert y.loc["Eemshaven Midden", "demand_available_mw"] == 370.0
    assert len(cmap.stations) == 271
    assert cmap.stations["kv"].value_counts().to_dict() == {150: 181, 110: 85, 220: 3}
    assert not cmap.stations["generation_area"].str.contains(r"^\s|\s$").any()


def test_ehv_table_covers_every_area_with_known_stations_and_sources():
    cmap, emap = shipped(), read_ehv_map()
    assert set(emap["area"]) == set(cmap.area_names)
    subs = pd.read_csv(embedded_data_dir() / "nl" / "substations.csv")
    assert set(emap["ehv_station"].dropna()) <= set(subs["station"])
    assert emap["basis"].notna().all() and emap["confidence"].notna().all()
    unmapped = emap[emap["ehv_station"].isna()]
    assert unmapped["area"].tolist() == ["Musselkanaal"]
    sources = (embedded_data_dir() / "SOURCES.md").read_text(encoding="utf-8")
    keys = set(re.findall(r"\b([A-Z]{1,2}\d+)\b", sources))
    used = {k for cell in emap["source"] for k in cell.split(";")}
    assert used <= keys, used - keys
    shares = emap.dropna(subset=["share"]).groupby("area")["share"].sum()
    assert np.allclose(shares, 1.0, atol=0.011), shares[~np.isclose(shares, 1.0, atol=0.011)]


# ---------------------------------------------------------------------------------------------
# compare_capacity


def _hosting(**firm) -> pd.DataFrame:
    return pd.DataFrame({"firm_mw": list(firm.values())},
                        index=[k.replace("_", "-") + "-380" for k in firm])


def test_largest_single_bus_and_the_sum_are_both_given():
    hosting = pd.DataFrame({"firm_mw": [1200.0, 900.0, np.nan], "with_redispatch_mw": [1500.0, 1700.0, 800.0]},
                           index=["diemen-380", "oostzaan-380", "vijfhuizen-380"])
    out = compare_capacity(shipped(), hosting, 2026)
    assert list(out.columns) == list(COMPARE_COLUMNS) and out["area"].tolist() == shipped().area_names
    nh = out.set_index("area").loc["Noord-Holland"]
    assert nh["model_firm_mw"] == 1200.0 and nh["model_firm_bus"] == "diemen-380"
    assert nh["model_firm_sum_mw"] == 2100.0
    assert nh["model_with_redispatch_mw"] == 1700.0 and nh["model_with_redispatch_sum_mw"] == 4000.0
    assert nh["ratio_firm_to_available"] == pytest.approx(1200 / 4140)
    assert nh["flag"] and nh["direction"] == "model_lower"
    assert "one point load at one bus" in nh["likely_reason"]
    assert "sum over the area's EHV stations (2,100 MW) is within a factor 2" in nh["likely_reason"]
    assert "beverwijk" in nh["note"] and "not in the hosting table" in nh["note"]
    assert nh["ehv_buses"] == "diemen-380, oostzaan-380, vijfhuizen-380"


def test_model_higher_with_a_claimed_queue():
    out = compare_capacity(shipped(), _hosting(vierverlaten=2000.0, weiwerd=300.0), 2026).set_index("area")
    gw = out.loc["Groningen West"]  # 2026: available 742, quoted 513, queued 1672 MW
    assert gw["direction"] == "model_higher" and gw["flag"]
    assert "110/150 kV transport and transformer limits" in gw["likely_reason"]
    assert "quoted + queued = 2,185 MW vs available 742 MW" in gw["likely_reason"]


def test_within_a_factor_two_is_not_flagged():
    out = compare_capacity(shipped(), _hosting(borssele=1000.0), 2026).set_index("area")
    z = out.loc["Zeeland"]
    assert z["direction"] == "within_2x" and not z["flag"] and z["likely_reason"] == "within a factor 2"


def test_an_area_that_maps_to_no_ehv_station_gives_a_clear_row():
    emap = read_ehv_map().astype(object)
    emap = emap[emap["area"] != "Noord-Holland"].to_dict("records") + [
        {"area": "Noord-Holland", "ehv_station": None, "basis": "fed only via the 150 kV grid of a station outside the model"}]
    emap = pd.DataFrame(emap)
    out = compare_capacity(shipped(), _hosting(diemen=1000.0), 2026, ehv_map=emap).set_index("area")
    nh = out.loc["Noord-Holland"]
    assert nh["direction"] == "not_comparable" and not nh["flag"] and nh["published"]
    assert nh["likely_reason"] == ("not comparable: the area is fed by no EHV station of the model "
                                   "(fed only via the 150 kV grid of a station outside the model)")
    assert pd.isna(nh["model_firm_mw"]) and pd.isna(nh["ehv_stations"])
    mus = out.loc["Musselkanaal"]  # the shipped table's own unmapped area
    assert mus["direction"] == "not_comparable" and "publishes no yearly figures" in mus["likely_reason"]


def test_area_missing_from_the_mapping_and_station_missing_from_hosting():
    emap = read_ehv_map()
    out = compare_capacity(shipped(), _hosting(diemen=1000.0), 2026,
                           ehv_map=emap[emap["area"] != "Zeeland"]).set_index("area")
    assert "not in the area → EHV station table" in out.loc["Zeeland", "likely_reason"]
    assert out.loc["Limburg", "likely_reason"] == ("not comparable: mapped EHV station(s) maasbracht, boxmeer "
                                                   "not in the hosting table")


def test_generation_only_and_unpublished_years():
    out = compare_capacity(shipped(), _hosting(zeyerveen=500.0, diemen=3000.0), 2026).set_index("area")
    assert out.loc["Drenthe", "likely_reason"] == ("not comparable: the area publishes generation (feed-in) "
                                                   "figures only for 2026")
    later = compare_capacity(shipped(), _hosting(diemen=3000.0), 2040).set_index("area")
    assert later.loc["Noord-Holland", "likely_reason"].startswith("not comparable: no published figures for 2040 "
                                                                 "(published years 2026–")
    assert not later["published"].any()


def test_station_of_a_bus_from_column_or_mapping():
    hosting = pd.DataFrame({"firm_mw": [1000.0, 1500.0], "station": ["borssele", None]}, index=["bsl-a", "bus-7"])
    out = compare_capacity(shipped(), hosting, 2026, bus_station={"bus-7": "Rilland"}).set_index("area")
    z = out.loc["Zeeland"]
    assert z["ehv_buses"] == "bsl-a, bus-7" and z["model_firm_bus"] == "bus-7" and z["model_firm_sum_mw"] == 2500.0


def test_limit_outside_the_area_is_named():
    hosting = pd.DataFrame({"firm_mw": [80.0], "limiting_element": ["line:lelystad-diemen-380"],
                            "limiting_case": ["outage line:lelystad-diemen-380"]}, index=["borssele-380"])
    z = compare_capacity(shipped(), hosting, 2026).set_index("area").loc["Zeeland"]
    assert z["likely_reason"].startswith("the limit at borssele-380 is outside the area (line:lelystad-diemen-380, "
                                         "outage line:lelystad-diemen-380)")
    hosting.index = ["diemen-380"]
    nh = compare_capacity(shipped(), hosting, 2026).set_index("area").loc["Noord-Holland"]
    assert "outside the area" not in nh["likely_reason"]
    assert nh["likely_reason"].endswith("limiting element at diemen-380: line:lelystad-diemen-380, "
                                        "outage line:lelystad-diemen-380")


def test_firm_missing_uses_with_redispatch_and_cap_is_noted():
    hosting = pd.DataFrame({"firm_mw": [np.nan], "with_redispatch_mw": [9000.0]}, index=["borssele-380"])
    z = compare_capacity(shipped(), hosting, 2026).set_index("area").loc["Zeeland"]
    assert z["direction"] == "model_higher" and "with-redispatch" in z["note"]
    assert pd.isna(z["ratio_firm_to_available"])
    capped = pd.DataFrame({"firm_mw": [3000.0], "constraint": ["cap"]}, index=["borssele-380"])
    z = compare_capacity(shipped(), capped, 2026).set_index("area").loc["Zeeland"]
    assert "search cap (at least 3,000 MW)" in z["note"]


@pytest.mark.parametrize(
    ("hosting", "year", "match"),
    [
        (pd.DataFrame({"hosting_mw": [1.0]}, index=["diemen-380"]), 2026, r"rename hosting_mw to firm_mw"),
        (pd.DataFrame({"firm_mw": ["a lot"]}, index=["diemen-380"]), 2026, r"'firm_mw' must be numbers"),
        (pd.DataFrame({"firm_mw": [1.0, 2.0]}, index=["diemen-380", "diemen-380"]), 2026, r"duplicate bus ids"),
        ([1.0], 2026, r"hosting must be a DataFrame"),
        (pd.DataFrame({"firm_mw": [1.0]}, index=["diemen-380"]), "2026a", r"year must be an integer"),
    ],
)
def test_bad_comparison_input_is_a_config_error(hosting, year, match):
    with pytest.raises(ConfigError, match=match):
        compare_capacity(shipped(), hosting, year)


def test_bad_ehv_map_is_named(tmp_path):
    with pytest.raises(CapacityMapSchemaError, match="lacks column"):
        compare_capacity(shipped(), _hosting(diemen=1.0), 2026, ehv_map=pd.DataFrame({"area": ["x"]}))
    path = tmp_path / "ehv.csv"
    path.write_text("area,ehv_station,confidence\nZeeland,borssele,sure\n", encoding="utf-8")
    with pytest.raises(CapacityMapSchemaError, match=r"confidence values \['sure'\]"):
        read_ehv_map(path)


@cache
def shipped_ehv():
    return read_ehv_map()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(0, 20_000)), min_size=4, max_size=4))
def test_comparison_invariants(values):
    buses = ["diemen-380", "oostzaan-380", "vijfhuizen-380", "beverwijk-380"]
    firm = [math.nan if v is None else v for v in values]
    row = compare_capacity(shipped(), pd.DataFrame({"firm_mw": firm}, index=buses), 2026,
                           ehv_map=shipped_ehv()).set_index("area").loc["Noord-Holland"]
    known = [v for v in firm if not math.isnan(v)]
    if not known:
        assert row["direction"] == "not_comparable" and not row["flag"]
        return
    assert row["model_firm_mw"] == max(known) and row["model_firm_sum_mw"] == pytest.approx(sum(known))
    assert row["model_firm_sum_mw"] >= row["model_firm_mw"]
    ratio = max(known) / 4140.0
    assert row["ratio_firm_to_available"] == pytest.approx(ratio)
    assert bool(row["flag"]) == (ratio < 0.5 or ratio > 2)
    assert row["direction"] == ("model_lower" if ratio < 0.5 else "model_higher" if ratio > 2 else "within_2x")


# ---------------------------------------------------------------------------------------------
# against the third-party reference (TenneT's JSON and its flattened CSVs)


@pytest.mark.reference
def test_reader_on_tennets_json(reference_dir):
    cmap = read_capacity_map(reference_dir / TENNET / JSON_NAME)
    assert (cmap.operator, str(cmap.updated), cmap.schema_version) == ("TenneT", "2026-04-23", "2.1.0")
    assert len(cmap.area_names) == 22
    with_figures = cmap.areas.dropna(subset=["year"])
    assert with_figures["area"].nunique() == 17
    assert set(cmap.area_names) - set(with_figures["area"]) == {
        "Crayestein", "Groningen 220/20", "Maasvlakte", "Musselkanaal", "Westland"}
    assert (with_figures["year"].min(), with_figures["year"].max()) == (2026, 2036)
    nh = cmap.year(2026).loc["Noord-Holland"]
    assert (nh["demand_available_mw"], nh["demand_quoted_mw"], nh["demand_queued_mw"],
            nh["demand_queued_requests"]) == (4140.0, 4288.0, 4902.0, 37)
    assert cmap.year(2026).loc["Eemshaven Midden", "demand_available_mw"] == 370.0
    assert len(cmap.stations) == 271 and cmap.stations["kv"].isna().sum() == 2
    assert "Groningen Oost" in set(cmap.stations["generation_area"])
    assert len(cmap.works) == 159 and int(cmap.works["mentions_380_220"].sum()) == 56


@pytest.mark.reference
def test_reader_agrees_with_the_flattened_reference_csvs(reference_dir):
    cmap = read_capacity_map(reference_dir / TENNET / JSON_NAME)
    ref = pd.read_csv(reference_dir / TENNET / "area_capacity_long.csv")
    ours = cmap.areas.dropna(subset=["year"]).astype({"area": object, "year": int})
    both = ref.merge(ours, left_on=["area_id", "year"], right_on=["area", "year"], validate="one_to_one")
    assert len(both) == len(ref) == len(ours) == 145
    pairs = {"demand_available_capacity": "demand_available_mw", "demand_quoted_capacity": "demand_quoted_mw",
             "demand_capacity_in_queue": "demand_queued_mw", "demand_requests_in_queue": "demand_queued_requests",
             "generation_available_capacity": "generation_available_mw",
             "generation_quoted_capacity": "generation_quoted_mw",
             "generation_capacity_in_queue": "generation_queued_mw",
             "generation_requests_in_queue": "generation_queued_requests"}
    for theirs, mine in pairs.items():
        np.testing.assert_array_equal(both[theirs].to_numpy(float), both[mine].astype(float).to_numpy(), err_msg=mine)
    stations = pd.read_csv(reference_dir / TENNET / "stations.csv").set_index("station_id")
    s = cmap.stations.set_index("station")
    assert (s["demand_area"].to_numpy() == stations.loc[s.index, "demand_area"].to_numpy()).all()
    assert (s["generation_colour"].to_numpy() == stations.loc[s.index, "generation_constraint"].to_numpy()).all()


@pytest.mark.reference
def test_shipped_copy_is_the_reference_rebuilt(reference_dir):
    assert _script().check(reference_dir / TENNET / JSON_NAME, embedded_data_dir() / "nl") == []


@pytest.mark.reference
def test_ehv_shares_are_reproduced_from_the_osm_graph(reference_dir):
    got = _script().osm_shares(reference_dir / TENNET / JSON_NAME, reference_dir / "osm-scigrid-nl",
                               embedded_data_dir() / "nl")
    shipped_map = read_ehv_map().fillna({"ehv_station": ""})
    merged = shipped_map.merge(got, on=["area", "ehv_station"], suffixes=("", "_osm"), validate="one_to_one")
    assert len(merged) == len(shipped_map)
    np.testing.assert_allclose(merged["share"].to_numpy(float), merged["share_osm"].to_numpy(float), equal_nan=True)
