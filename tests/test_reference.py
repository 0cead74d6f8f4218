"""The embedded grid against third-party reference data in ../shared/reference (read, not copied).

Each embedded 380/220 kV station must lie within 3 km of a reference station of the same voltage
in the ENTSO-E GridKit extract or the OSM/SciGRID Dutch graph, or be listed with a reason under
"Stations not matched in the reference data" in data/SOURCES.md.
"""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

import siting
from siting.layers import embedded_data_dir

pytestmark = pytest.mark.reference

MATCH_M = 3_000.0


@pytest.fixture(scope="module")
def reference_points(reference_dir) -> gpd.GeoDataFrame:
    """Reference station points with their voltage (kV), from both datasets, in RD New."""
    buses = pd.read_csv(reference_dir / "entsoe-gridkit" / "buses.csv", quotechar="'")
    buses = buses[(buses["dc"] == "f") & buses["voltage"].isin([220, 380])]
    gk = pd.DataFrame({"kv": buses["voltage"].astype(int), "lon": buses["x"], "lat": buses["y"], "ref": "gridkit"})
    osm = []
    for name in ("highvoltage_vertices.csv", "heuristic_vertices.csv"):
        v = pd.read_csv(reference_dir / "osm-scigrid-nl" / name, sep="#", dtype=str)
        volts = v["voltage"].fillna("")
        for kv in (380, 220):
            sel = volts.str.contains(f"{kv}000")
            osm.append(pd.DataFrame({"kv": kv, "lon": v.loc[sel, "lon"].astype(float),
                                     "lat": v.loc[sel, "lat"].astype(float), "ref": "osm"}))
    ref = pd.concat([gk, *osm], ignore_index=True)
    return gpd.GeoDataFrame(ref, geometry=gpd.points_from_xy(ref["lon"], ref["lat"]), crs="EPSG:4326").to_crs(28992)


@pytest.fixture(scope="module")
def explained() -> set[str]:
    text = (embedded_data_dir() / "SOURCES.md").read_text(encoding="utf-8")
    match = re.search(r"#+ Stations not matched in the reference data\n(.*?)(?:\n#+ |\Z)", text, re.S)
    assert match, "data/SOURCES.md needs a section 'Stations not matched in the reference data'"
    return set(re.findall(r"^[-*] `([a-z0-9-]+)`", match.group(1), re.M))


def test_reference_data_is_read(reference_points):
    counts = reference_points.groupby(["ref", "kv"]).size()
    assert counts[("gridkit", 380)] > 1000 and counts[("osm", 380)] > 20 and counts[("osm", 220)] > 10


def test_each_station_near_a_reference_station_of_its_voltage(reference_points, explained):
    subs = siting.load_layers().substations
    unmatched = {}
    for kv in (380, 220):
        mine = subs[subs["kv"] == kv]
        ref = reference_points[reference_points["kv"] == kv]
        joined = gpd.sjoin_nearest(mine[["id", "geometry"]], ref[["ref", "geometry"]], distance_col="dist_m")
        dist = joined.groupby("id")["dist_m"].min()
        unmatched.update({i: round(d) for i, d in dist.items() if d > MATCH_M})
    unexplained = {i: d for i, d in unmatched.items() if i not in explained}
    assert not unexplained, f"stations > 3 km from any reference station, not explained in SOURCES.md: {unexplained}"
    # the explanation list holds only stations that need it, and only real ids
    assert explained <= set(subs["id"]), sorted(explained - set(subs["id"]))
    assert len(unmatched) <= len(subs) // 5, "more than a fifth unmatched: coordinates are suspect"


def test_station_count_agrees_with_reference_order_of_magnitude(reference_dir):
    """GridKit's 2017 map holds 29 NL 380 kV and 11 NL 220 kV buses (several split per station);
    the embedded set must be of the same size, not a toy subset."""
    buses = pd.read_csv(reference_dir / "entsoe-gridkit" / "buses.csv", quotechar="'")
    nl = buses[buses["tags"].str.contains('"country"=>"NL"', na=False) & (buses["dc"] == "f")]
    subs = siting.load_layers().substations
    subs = subs[~subs["id"].str.startswith("xb-") & (subs["status"] == "in_service")]
    for kv in (380, 220):
        ref_n = int((nl["voltage"] == kv).sum())
        assert 0.7 * ref_n <= int((subs["kv"] == kv).sum()) <= 1.6 * ref_n, kv
    assert np.isfinite(subs.geometry.x).all()


def test_gridkit_importer_builds_a_solvable_nl_model(reference_dir):
    from siting.grid import GridModel

    model = GridModel.from_gridkit(reference_dir / "entsoe-gridkit", countries=["NL"])
    net = model.net
    assert set(net.bus["vn_kv"]) <= {220.0, 380.0}
    assert 30 <= len(net.bus) <= 44  # 40 NL AC buses in the extract, stubs dropped
    assert len(net.line) >= 30 and len(net.trafo) >= 3
    table = model.hosting_capacity(buses=list(net.bus.index[:4]))
    assert (table["firm_mw"] > 0).all()
    assert model.bus_points.crs.to_epsg() == 28992


def test_gridkit_importer_errors(reference_dir, tmp_path):
    from siting.errors import ConfigError, LayerFileError
    from siting.grid import GridModel

    with pytest.raises(ConfigError, match=r"unknown country code\(s\) \['XX'\]"):
        GridModel.from_gridkit(reference_dir / "entsoe-gridkit", countries=["XX"])
    with pytest.raises(LayerFileError, match="GridKit file missing: expected buses.csv"):
        GridModel.from_gridkit(tmp_path)


def test_embedded_380kv_corridors_agree_with_gridkit_lengths(reference_dir):
    """The embedded in-service 380 kV corridor length (NL, ties excluded) is within 25 % of the
    GridKit 2017 map's NL 380 kV line length (which counts parallel routes once per line)."""
    buses = pd.read_csv(reference_dir / "entsoe-gridkit" / "buses.csv", quotechar="'")
    lines = pd.read_csv(reference_dir / "entsoe-gridkit" / "lines.csv", quotechar="'")
    nl = set(buses.loc[buses["tags"].str.contains('"country"=>"NL"', na=False), "bus_id"])
    gk = lines[lines["bus0"].isin(nl) & lines["bus1"].isin(nl) & (lines["voltage"] == 380)]
    gk_km = gk["length"].sum() / 1000
    circ = siting.load_layers().circuits
    mine = circ[(circ["kv"] == 380) & (circ["status"] == "in_service") & ~circ["to_id"].str.startswith("xb-")]
    assert 0.75 * gk_km <= mine["length_km"].sum() <= 1.25 * gk_km


# ------------------------------------------------ generation fleet vs powerplantmatching


@pytest.fixture(scope="module")
def plant_crosscheck(reference_dir):
    """scripts/crosscheck_plants.py re-run on the reference list: (module, comparison table)."""
    import importlib.util
    import sys

    from .conftest import REPO

    spec = importlib.util.spec_from_file_location("crosscheck_plants", REPO / "scripts" / "crosscheck_plants.py")
    cc = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = cc
    spec.loader.exec_module(cc)
    data = embedded_data_dir() / "nl"
    ref = cc.load_reference(reference_dir / "powerplantmatching" / "powerplants.csv")
    table = cc.crosscheck(pd.read_csv(data / "plants.csv"), ref, set(pd.read_csv(data / "offshore.csv")["id"]))
    return cc, ref, table


def test_plants_crosscheck_table_is_current(plant_crosscheck):
    """The shipped comparison is what the script writes from today's plants.csv and the reference."""
    _, ref, table = plant_crosscheck
    assert len(ref) == 448 and round(ref["Capacity"].sum() / 1000, 1) == 43.0  # the README's Dutch subset
    on_disk = (embedded_data_dir() / "nl" / "plants_crosscheck.csv").read_text(encoding="utf-8")
    assert table.to_csv(index=False, lineterminator="\n") == on_disk, "run: python scripts/crosscheck_plants.py"


def test_matching_pairs_known_units(plant_crosscheck):
    cc, ref, table = plant_crosscheck
    ids = table.set_index("plant_id")["ppm_ids"]
    # unambiguous single-unit plants, by ENTSO-E/OPSD identity of the reference record
    assert ids["plant-eemshaven-rwe"] == "222" and ids["plant-magnum"] == "339"
    assert ids["plant-hemweg-9"] == "12770" and ids["plant-sloecentrale"] == "341"
    assert ids["plant-borssele-nuclear"] == "0"  # filed as Hard Coal: matched by override, reported
    assert table.set_index("plant_id").loc["plant-borssele-nuclear", "fuel_agrees"] == "no"
    matched = table["plant_id"].notna() & table["ppm_ids"].notna()
    assert matched.sum() >= 40


def test_large_operating_plants_agree_with_powerplantmatching_or_say_why(plant_crosscheck):
    """Every operating plant of 300 MW or more is within 15 % of the reference MW, or its row in
    plants_crosscheck.csv documents what was done (or why not)."""
    cc, _, table = plant_crosscheck
    big = table[(table["status"] == "operating") & (table["capacity_mw"].astype(float) >= 300)]
    assert len(big) >= 15
    ratio = big["capacity_mw"].astype(float) / pd.to_numeric(big["ppm_mw"])
    agree = (ratio - 1).abs() <= 0.15
    documented = big["action"].fillna("").str.strip().ne("") & big["action"].ne(cc.AGREES_TEXT)
    unexplained = big.loc[~agree & ~documented, ["plant_id", "capacity_mw", "ppm_mw"]]
    assert unexplained.empty, unexplained.to_string()
    assert agree.sum() >= 0.6 * len(big), "most large plants should agree: is the matching broken?"
