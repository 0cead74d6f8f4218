"""The embedded Netherlands dataset: complete, consistent, sourced."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

import siting
from siting.layers import embedded_data_dir


@pytest.fixture(scope="module")
def layers() -> siting.Layers:
    return siting.load_layers()


@pytest.fixture(scope="module")
def sources_md() -> str:
    return (embedded_data_dir() / "SOURCES.md").read_text(encoding="utf-8")


def _nl(subs):
    return subs[~subs["id"].str.startswith("xb-")]


def test_all_layers_load_in_rd_new(layers):
    for name in layers:
        gdf = layers[name]
        assert gdf.crs.to_epsg() == 28992, name
        assert len(gdf) > 0, name
        assert gdf["id"].is_unique, name
        assert gdf["source"].notna().all(), name


def test_at_least_35_in_service_ehv_stations(layers):
    subs = _nl(layers.substations)
    in_service = subs[subs["status"] == "in_service"]
    assert in_service["station"].nunique() >= 35
    assert set(in_service["kv"]) == {380, 220}
    assert (subs["id"] == subs["station"] + "-" + subs["kv"].astype(str)).all()


@pytest.mark.parametrize("station", ["amaliahaven", "sloegebied"])
def test_planned_offshore_stations_are_marked_planned_with_year(layers, station):
    row = layers.substations.set_index("station").loc[station]
    assert row["status"] in ("planned", "under_construction")
    assert row["year"] >= 2026


def test_planned_rows_have_a_year(layers):
    for name in ("substations", "circuits"):
        gdf = layers[name]
        future = gdf[gdf["status"] != "in_service"]
        assert future["year"].notna().all(), future.loc[future["year"].isna(), "id"].tolist()


def _components(nodes, edges):
    index = {n: i for i, n in enumerate(nodes)}
    rows = [index[a] for a, b in edges]
    cols = [index[b] for a, b in edges]
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(nodes)))
    return connected_components(graph, directed=False)


def test_380kv_grid_is_one_connected_component(layers):
    subs = layers.substations
    on = subs[(subs["status"] == "in_service") & (subs["kv"] == 380)]
    circ = layers.circuits
    circ = circ[(circ["status"] == "in_service") & (circ["kv"] == 380)]
    assert set(circ["from_id"]) | set(circ["to_id"]) <= set(on["id"]), "in-service circuit to a station not in service"
    n, labels = _components(on["id"].tolist(), list(zip(circ["from_id"], circ["to_id"])))
    assert n == 1, dict(zip(on["id"], labels))


def test_whole_ehv_grid_is_connected_through_transformers(layers):
    subs = layers.substations[layers.substations["status"] == "in_service"]
    circ = layers.circuits[layers.circuits["status"] == "in_service"]
    trafo = layers.transformers[layers.transformers["status"] == "in_service"]
    edges = list(zip(circ["from_id"], circ["to_id"])) + list(zip(trafo["hv_id"], trafo["lv_id"]))
    n, labels = _components(subs["id"].tolist(), edges)
    assert n == 1, dict(zip(subs["id"], labels))


def test_circuits_join_buses_of_their_voltage_and_end_at_them(layers):
    subs = layers.substations.set_index("id")
    for row in layers.circuits.itertuples():
        assert subs.loc[row.from_id, "kv"] == row.kv == subs.loc[row.to_id, "kv"], row.id
        assert row.from_id != row.to_id, row.id
        start, end = shapely.get_point(row.geometry, 0), shapely.get_point(row.geometry, -1)
        assert start.distance(subs.loc[row.from_id, "geometry"]) < 1.0, row.id
        assert end.distance(subs.loc[row.to_id, "geometry"]) < 1.0, row.id
        # a route is never shorter than the straight line between its stations
        assert row.length_km * 1000 >= 0.98 * row.geometry.length, row.id


def test_transformers_couple_380_to_220_of_one_station(layers):
    subs = layers.substations.set_index("id")
    assert len(layers.transformers) >= 3
    for row in layers.transformers.itertuples():
        assert subs.loc[row.hv_id, "kv"] == 380 and subs.loc[row.lv_id, "kv"] == 220, row.id
        assert subs.loc[row.hv_id, "station"] == subs.loc[row.lv_id, "station"], row.id


def test_offshore_connections_point_to_existing_stations(layers):
    off = layers.offshore
    ids = set(layers.substations["id"])
    assert off["substation_id"].dropna().isin(ids).all()
    seven = off[(off["capacity_mw"] == 700) & (off["ac_dc"] == "AC") & off["status"].isin(["in_service", "grid_ready"])]
    assert len(seven) >= 7, seven["name"].tolist()
    assert seven["substation_id"].notna().all()
    dc = off[off["ac_dc"] == "DC"]
    assert len(dc) >= 6 and (dc["capacity_mw"] == 2000).all()
    # a landing that counts must have a year or be marked as not yet planned in time
    undated = off[off["year"].isna()]
    assert undated["status"].isin(["planned", "concept"]).all()


def test_plants_point_to_existing_stations(layers):
    plants = layers.plants
    ids = set(layers.substations["id"])
    assert plants["substation_id"].dropna().isin(ids).all()
    assert plants["nearest_ehv_id"].notna().all()
    assert (plants["capacity_mw"] >= 100).all()
    assert {"coal", "gas", "nuclear"} <= set(plants["fuel"])
    assert (plants["status"] == "closed").sum() >= 3


def test_plants_crosscheck_table_is_consistent_with_plants(layers):
    """data/nl/plants_crosscheck.csv (scripts/crosscheck_plants.py) has one row per plants.csv row,
    in order, with the same MW and status, then only reference plants >= 100 MW; every row says
    what was done about it and no reference unit is used twice."""
    table = pd.read_csv(embedded_data_dir() / "nl" / "plants_crosscheck.csv", dtype=str)
    plants = layers.plants
    ours = table[table["plant_id"].notna()]
    assert ours["plant_id"].tolist() == plants["id"].tolist(), "re-run python scripts/crosscheck_plants.py"
    np.testing.assert_allclose(ours["capacity_mw"].astype(float), plants["capacity_mw"].astype(float))
    assert ours["status"].tolist() == plants["status"].tolist()
    assert ours.index.max() < table[table["plant_id"].isna()].index.min()
    others = table[table["plant_id"].isna()]
    assert (others["ppm_mw"].astype(float) >= 100).all() and others["ppm_ids"].notna().all()
    assert table["action"].fillna("").str.strip().ne("").all()
    units = [u for cell in table["ppm_ids"].dropna() for u in cell.split(";")]
    assert len(units) == len(set(units))
    # a plant that disagrees with the reference by more than 15 % is never marked as agreeing
    ratio = ours["mw_ratio"].astype(float)
    assert not (ours["action"].str.startswith("none needed") & ((ratio - 1).abs() > 0.15)).any()


def test_offshore_producing_year_follows_the_grid(layers):
    """A wind farm produces at full capacity no earlier than its connection is ready, and only
    connections with a dated grid have a producing year."""
    off = layers.offshore
    both = off[off["producing_year"].notna() & off["year"].notna()]
    assert len(both) >= 10
    assert (both["producing_year"] >= both["year"]).all(), both[["id", "year", "producing_year"]]
    assert off.loc[off["year"].isna(), "producing_year"].isna().all()
    mw = off[off["producing_mw"].notna()]
    assert len(mw) >= 5 and (mw["producing_mw"] > 0).all()
    # the farm behind a 700 MW AC connection is overplanted by at most ~15 %
    ac = mw[mw["ac_dc"] == "AC"]
    assert ((ac["producing_mw"] / ac["capacity_mw"]).between(1.0, 1.15)).all()
    assert off["producing_basis"].notna().all()


def test_interconnectors_and_ix(layers):
    ic = layers.interconnectors
    for name in ("NorNed", "BritNed", "COBRA"):
        assert ic["name"].str.contains(name, case=False).any(), name
    assert (ic["kind"] == "ac").sum() >= 5
    ix = layers.ix
    assert (ix["kind"] == "amsix_pop").sum() >= 5
    assert (ix["amsix"] == "yes").sum() >= 4


def test_sites(layers):
    sites = layers.sites
    assert len(sites) >= 25
    assert (sites["area_ha"] > 0).all()
    for flag in ("reuse_plant_site", "existing_hub", "hyperscale_zone", "footprint_indicative"):
        assert sites[flag].notna().all(), flag
    assert sites["reuse_plant_site"].sum() >= 3
    assert sites["hyperscale_zone"].sum() >= 2
    # an indicative footprint is drawn at the stated area (±5 %)
    ind = sites[sites["footprint_indicative"]]
    np.testing.assert_allclose(ind.area.to_numpy() / 10_000, ind["area_ha"].to_numpy(float), rtol=0.05)


def test_points_lie_in_the_netherlands(layers):
    land = layers.boundary.union_all().buffer(3_000)  # generalised coast
    lakes = layers.water[layers.water["kind"].isin(["lake", "estuary"])].union_all()
    for name in ("sites", "population", "ix", "plants"):
        gdf = layers[name]
        # plants may stand in a lake (Windpark Fryslan in the IJsselmeer)
        outside = gdf[~gdf.intersects(land) & ~(gdf.intersects(lakes) if name == "plants" else False)]
        assert outside.empty, (name, outside["id"].tolist())
    assert layers.plants.set_index("id").loc["plant-windpark-fryslan", "geometry"].within(
        layers.water.set_index("id").loc["ijsselmeer", "geometry"])


def test_land_boundary_excludes_the_large_waters(layers):
    from pyproj import Transformer

    land = layers.boundary.union_all()
    to_rd = Transformer.from_crs("EPSG:4326", "EPSG:28992", always_xy=True)
    # IJsselmeer, Markermeer, Veluwemeer, Haringvliet, Grevelingen, Oosterschelde, Waddenzee
    for lon, lat in [(5.3, 52.8), (5.2, 52.5), (5.70, 52.40), (4.2, 51.80), (3.95, 51.74), (3.95, 51.58), (5.5, 53.3)]:
        assert not land.contains(shapely.Point(*to_rd.transform(lon, lat))), (lon, lat)
    # Amsterdam, Maasvlakte 2 (built 2008-2013), Lelystad, Vlissingen are land
    for lon, lat in [(4.9, 52.37), (3.99, 51.96), (5.47, 52.51), (3.58, 51.45)]:
        assert land.contains(shapely.Point(*to_rd.transform(lon, lat))), (lon, lat)
    water = layers.water.set_index("id")
    for wid in ("ijsselmeer", "markermeer", "veluwe-randmeren", "grevelingen", "oosterschelde", "waddenzee",
                "haringvliet-hollands-diep"):
        assert water.loc[wid, "kind"] in ("lake", "estuary") and water.loc[wid, "geometry"].area > 15e6, wid
        geom = water.loc[wid, "geometry"]
        assert geom.intersection(land).area < 1e-3 * geom.area, wid  # slivers of the 1 m rounding only


def test_municipalities(layers):
    mun = layers.municipalities
    assert len(mun) == 342 and mun["id"].str.match(r"^GM\d{4}$").all()
    assert 17.5e6 < mun["inhabitants"].sum() < 18.2e6
    # the boundary is their union
    assert mun.union_all().symmetric_difference(layers.boundary.union_all()).area < 0.001 * layers.boundary.area.sum()


def test_built_up_land(layers):
    built = layers.built_up
    assert len(built) > 1_000 and (built["kind"] == "residential").all()
    km2 = built.area.sum() / 1e6
    assert 1_500 < km2 < 3_000  # CBS residential land: 2,414 km2 (2017)
    assert built.within(layers.boundary.union_all().buffer(25.0)).all()  # clipped, then simplified at 20 m
    assert built.set_index("id").loc["amsterdam", "geometry"].contains(shapely.Point(121_400, 487_300))  # Dam square
    # the metric: distance from a site's edge to the nearest built-up polygon, km
    from siting.candidates import candidates
    from siting.metrics import spatial_metrics

    cands = candidates(layers, 2030)
    m = spatial_metrics(cands, layers, 2030, 360.0)
    expected = cands.distance(built.union_all()).to_numpy() / 1000.0
    np.testing.assert_allclose(m["built_up_dist_km"].to_numpy(), expected, atol=1e-9)
    assert (m["built_up_dist_km"] > 1.0).sum() >= 15


def test_congestion_is_dated_per_station(layers):
    cong = layers.congestion
    subs = layers.substations
    nl = _nl(subs)
    in_service_nl = set(nl.loc[nl["status"] == "in_service", "id"])
    assert in_service_nl <= set(cong["substation_id"])
    assert cong["date"].str.match(r"^\d{4}-\d{2}(-\d{2})?$").all()


def test_water_has_coastline_sea_and_inland_waters(layers):
    kinds = set(layers.water["kind"])
    assert {"coastline", "sea", "lake", "river"} <= kinds


def test_heat_sinks_have_both_kinds(layers):
    kinds = layers.heat_sinks["kind"].value_counts()
    assert kinds.get("district_heating", 0) >= 8 and kinds.get("greenhouse", 0) >= 5


def test_sources_md_covers_every_file_and_key(layers, sources_md):
    data_files = sorted(p.name for p in (embedded_data_dir() / "nl").iterdir() if p.is_file())
    for name in data_files:
        assert name in sources_md, f"{name} not described in data/SOURCES.md"
    keys = set(re.findall(r"\b([A-Z]{1,2}\d+)\b", sources_md))
    for name in layers:
        used = {k.strip() for cell in layers[name]["source"] for k in str(cell).split(";") if k.strip()}
        missing = sorted(used - keys)
        assert not missing, (name, missing)
