"""The GridKit importer beyond one country: countries by position, the Continental European
synchronous area and its documented snapshot (real reference data, read from ../shared/reference)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from siting.errors import ConfigError, LayerFileError
from siting.grid import GridModel
from siting.grid.gridkit import CONTINENTAL_EUROPE, HOURS_PER_YEAR, countries_at, country_polygons, gridkit_network
from siting.layers import embedded_data_dir


def test_country_by_position_inside_near_coast_and_nowhere():
    pts = gpd.GeoSeries(gpd.points_from_xy([5.12, 4.40, 6.95, -30.0], [52.09, 52.40, 50.94, 45.0]),
                        index=["utrecht", "north-sea-15km-off-noordwijk", "koeln", "mid-atlantic"], crs="EPSG:4326")
    code, how = countries_at(pts.to_crs("EPSG:3035"))  # any CRS
    assert code["utrecht"] == "NL" and how["utrecht"] == "position"
    assert code["north-sea-15km-off-noordwijk"] == "NL" and how["north-sea-15km-off-noordwijk"] == "nearest"
    assert code["koeln"] == "DE"
    assert pd.isna(code["mid-atlantic"]) and how["mid-atlantic"] == ""


def test_country_polygons_use_the_gridkit_codes():
    polys = country_polygons()
    assert polys["code"].is_unique
    assert {"UK", "NL", "DE", "TR", "MA"} <= set(polys["code"]) and "GB" not in set(polys["code"])
    assert (polys["pop_est"] > 0).all()


@pytest.mark.reference
def test_position_agrees_with_the_map_s_own_country_tags(reference_dir):
    """Where the map tags a bus with its country, the shipped polygons put 99 % of them there
    (the rest lie in disputed areas or on generalised borders: PS/IL, EH, XK...)."""
    b = pd.read_csv(reference_dir / "entsoe-gridkit" / "buses.csv", quotechar="'")
    tag = b["tags"].astype(str).str.extract(r'"country"=>"([A-Z]{2})"', expand=False)
    b = b[tag.notna()]
    code, _ = countries_at(gpd.GeoSeries(gpd.points_from_xy(b["x"], b["y"]), index=b.index, crs="EPSG:4326"))
    agree = float((code == tag[b.index]).mean())
    assert 0.99 <= agree < 1.0, agree


@pytest.mark.reference
def test_neighbours_are_complete_once_joints_are_placed(reference_dir):
    """NL+BE+DE gave 151 buses when only tagged buses counted (the joints cut every line
    through them); placed by position the three are one grid of several hundred."""
    g = gridkit_network(reference_dir / "entsoe-gridkit", countries=["NL", "BE", "DE"])
    c = g.composition
    assert set(c.index) == {"NL", "BE", "DE"}
    assert c["buses"].sum() == len(g.net.bus) > 600
    assert c.loc["DE", "buses_by_position"] > 100  # German joints
    assert c.loc["NL", "cross_border_lines"] >= 4  # Meeden, Hengelo, Doetinchem, Maasbracht, Zandvliet...
    assert g.points.crs.to_epsg() == 3035


@pytest.fixture(scope="module")
def europe(reference_dir):
    return GridModel.from_gridkit(reference_dir / "entsoe-gridkit",
                                  plants=reference_dir / "powerplantmatching" / "powerplants.csv")


@pytest.mark.reference
def test_continental_europe_builds_balances_and_solves(europe):
    c = europe.composition
    net = europe.net
    assert set(c.index) <= set(CONTINENTAL_EUROPE)
    assert {"DE", "FR", "ES", "IT", "PL", "NL", "TR", "UA"} <= set(c.index)
    assert 4000 <= len(net.bus) <= 6000 and len(net.line) > 5000 and len(net.trafo) > 400
    assert (c["buses"].sum(), c["transformers"].sum()) == (len(net.bus), len(net.trafo))
    # the islands joined by DC links (Great Britain is not even selected) and the Baltic and
    # North African parts not AC-tied in the 2018 map are outside the kept area
    assert c.attrs["dropped"]["DZ"] > 100 and "UK" not in c.index
    # average load from the cited demand, in proportion to the buses kept
    demand = pd.read_csv(embedded_data_dir() / "europe" / "demand.csv", comment="#").set_index("code")
    expect = demand.loc["NL", "twh"] * 1e6 / HOURS_PER_YEAR * c.loc["NL", "load_share"]
    assert c.loc["NL", "load_mw"] == pytest.approx(expect)
    assert net.load.loc[net.bus.loc[net.load["bus"], "zone"].to_numpy() == "NL", "p_mw"].sum() == pytest.approx(expect)
    # each country balances itself: listed plants first, unlisted generation for the rest
    np.testing.assert_allclose(c["plants_mw"] + c["unlisted_mw"], c["load_mw"], rtol=1e-12)
    assert (c["plants_mw"] <= c["capacity_mw"] + 1e-6).all()
    assert c.loc["TR", "unlisted_mw"] == pytest.approx(c.loc["TR", "load_mw"])  # no Turkish plants listed
    assert c.loc["FR", "unlisted_mw"] == 0.0
    gen = net.gen.groupby(net.bus.loc[net.gen["bus"], "zone"].to_numpy())["p_mw"].sum()
    np.testing.assert_allclose(gen.reindex(c.index).fillna(0.0), c["plants_mw"] + c["unlisted_mw"], rtol=1e-9)
    assert 300_000 < c["load_mw"].sum() < 420_000  # 2018 average load of the area's countries
    base = c.attrs["base_case"]
    assert base["converged"]
    assert 0.005 < base["losses_mw"] / c["load_mw"].sum() < 0.03
    assert 0.8 < base["vm_min_pu"] and base["vm_max_pu"] < 1.15


@pytest.mark.reference
def test_europe_errors(reference_dir, tmp_path):
    with pytest.raises(LayerFileError, match="power-plant list not found"):
        gridkit_network(reference_dir / "entsoe-gridkit", countries=["NL"], plants=tmp_path / "none.csv")
    bad = tmp_path / "plants.csv"
    pd.DataFrame({"Name": ["x"], "Capacity": [1.0]}).to_csv(bad, index=False)
    with pytest.raises(LayerFileError, match=r"lacks column\(s\) \['DateIn', 'DateOut', 'Fueltype'"):
        gridkit_network(reference_dir / "entsoe-gridkit", countries=["NL"], plants=bad)
    with pytest.raises(ConfigError, match="countries must name at least one"):
        gridkit_network(reference_dir / "entsoe-gridkit", countries=[])
