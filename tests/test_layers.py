"""Reading, validating and replacing layers: every supported format and every bad input."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

import siting
from siting.errors import (
    ConfigError,
    GeometryRepairedWarning,
    LayerCRSError,
    LayerError,
    LayerFileError,
    LayerGeometryError,
    LayerSchemaError,
    LayerValueError,
    SiteAreaWarning,
    SitingError,
    TruncatedFieldWarning,
)
from siting.layers import LayerSet, governing_area_ha, read_layer, validate_layer

from .conftest import make_sites

# ------------------------------------------------------------------------------- formats


def _write(gdf: gpd.GeoDataFrame, path):
    suffix = path.suffix
    if suffix == ".parquet":
        gdf.to_parquet(path)
    elif suffix == ".csv":
        pts = gdf.to_crs("EPSG:4326")
        df = pd.DataFrame(pts.drop(columns="geometry"))
        df["lon"] = pts.geometry.x
        df["lat"] = pts.geometry.y
        df.to_csv(path, index=False)
    else:
        driver = {".gpkg": "GPKG", ".geojson": "GeoJSON", ".shp": "ESRI Shapefile", ".fgb": "FlatGeobuf"}[suffix]
        gdf.to_file(path, driver=driver, engine="pyogrio")
    return path


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp", ".fgb", ".parquet"])
def test_read_polygon_formats(tmp_path, sites_gdf, suffix):
    path = _write(sites_gdf.to_crs("EPSG:4326") if suffix == ".geojson" else sites_gdf, tmp_path / f"sites{suffix}")
    got = read_layer(path, "sites")
    assert got.crs.to_epsg() == 28992
    # FlatGeobuf's spatial index reorders features on write: compare as sets
    assert sorted(got["id"]) == ["site-0", "site-1", "site-2"]
    assert got["area_ha"].dtype == "Float64"
    # geometry survives the round trip to the metre (GeoJSON goes through WGS84)
    np.testing.assert_allclose(got.area.to_numpy() / 10_000, 40.0, rtol=1e-4)


def test_read_csv_lonlat_points(tmp_path):
    pts = gpd.GeoDataFrame(
        {"id": ["a", "b"], "name": ["Alkmaar", "Zwolle"], "population": [110_000, 130_000], "source": ["t", "t"]},
        geometry=gpd.points_from_xy([4.75, 6.09], [52.63, 52.51]),
        crs="EPSG:4326",
    )
    got = read_layer(_write(pts, tmp_path / "pop.csv"), "population")
    assert got.crs.to_epsg() == 28992
    assert got["population"].dtype == "Int64"
    # Zwolle is around RD (203 km, 502 km)
    assert abs(got.geometry.x[1] - 203_000) < 3_000 and abs(got.geometry.y[1] - 502_000) < 3_000


def test_read_csv_xy_needs_and_accepts_crs(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"id": ["a"], "name": ["Utrecht"], "population": [360_000], "source": ["t"],
                  "x": [136_000.0], "y": [456_000.0]}).to_csv(path, index=False)
    with pytest.raises(LayerCRSError, match=r"(?s)x/y columns carry no CRS.*crs='EPSG:28992'"):
        read_layer(path, "population")
    got = read_layer(path, "population", crs="EPSG:28992")
    assert got.geometry.x[0] == pytest.approx(136_000.0)


def test_read_csv_wkt_lines(tmp_path):
    path = tmp_path / "circ.csv"
    pd.DataFrame(
        {
            "id": ["c1"], "from_id": ["a-380"], "to_id": ["b-380"], "kv": [380], "circuits": [2],
            "length_km": [20.0], "rating_mva": [1645], "type": ["overhead"], "r_ohm_per_km": [0.03],
            "x_ohm_per_km": [0.26], "c_nf_per_km": [13.5], "status": ["in_service"], "source": ["t"],
            "wkt": ["LINESTRING (5.0 52.0, 5.2 52.1)"],
        }
    ).to_csv(path, index=False)
    with pytest.raises(LayerCRSError, match="(?s)WKT column 'wkt' carries no CRS"):
        read_layer(path, "circuits")
    got = read_layer(path, "circuits", crs="EPSG:4326")
    assert got.geom_type.tolist() == ["LineString"]


def test_gpkg_layer_option(tmp_path, sites_gdf):
    path = tmp_path / "many.gpkg"
    sites_gdf.to_file(path, layer="plots", driver="GPKG")
    sites_gdf.iloc[:1].to_file(path, layer="other", driver="GPKG")
    got = read_layer(siting.LayerSource(path=path, layer="plots"), "sites")
    assert len(got) == 3


def test_validate_does_not_mutate_input(sites_gdf):
    before = sites_gdf.copy()
    validate_layer(sites_gdf.to_crs("EPSG:4326"), "sites")
    validate_layer(sites_gdf, "sites")
    pd.testing.assert_frame_equal(pd.DataFrame(sites_gdf), pd.DataFrame(before))


# ----------------------------------------------------------------------------- bad input


def test_missing_file(tmp_path):
    with pytest.raises(LayerFileError, match=r"(?s)layer 'sites', file '.*nope\.gpkg': file does not exist"):
        read_layer(tmp_path / "nope.gpkg", "sites")


def test_unsupported_format(tmp_path):
    path = tmp_path / "sites.xlsx"
    path.write_bytes(b"PK\x03\x04")
    with pytest.raises(LayerFileError, match=r"(?s)unsupported format '\.xlsx'.*Fix: convert it to one of"):
        read_layer(path, "sites")


def test_unreadable_file(tmp_path):
    path = tmp_path / "sites.gpkg"
    path.write_text("this is not a geopackage")
    with pytest.raises(LayerFileError, match=r"(?s)cannot be read as GeoPackage"):
        read_layer(path, "sites")


def test_non_utf8_csv(tmp_path):
    path = tmp_path / "pop.csv"
    path.write_bytes("id,name,population,source,lon,lat\na,'s-Hertogenbosch \xe9,1,t,5.3,51.7\n".encode("latin-1"))
    with pytest.raises(LayerFileError, match="(?s)is not UTF-8"):
        read_layer(path, "population")


def test_no_crs(tmp_path, sites_gdf):
    path = tmp_path / "sites.shp"
    sites_gdf.to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink()
    with pytest.raises(LayerCRSError, match=r"(?s)file '.*sites\.shp': the file has no CRS.*Fix: state it: crs="):
        read_layer(path, "sites")
    # stating the CRS makes the same file valid
    assert len(read_layer(path, "sites", crs="EPSG:28992")) == 3


def test_lonlat_swapped(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"id": ["a", "b"], "name": ["x", "y"], "population": [1, 2], "source": ["t", "t"],
                  "lon": [52.37, 51.92], "lat": [4.90, 4.48]}).to_csv(path, index=False)
    with pytest.raises(LayerCRSError, match="(?s)longitude and latitude appear swapped.*Fix: exchange the columns"):
        read_layer(path, "population")


def test_degrees_declared_as_rd(sites_gdf):
    wrong = sites_gdf.to_crs("EPSG:4326").set_crs("EPSG:28992", allow_override=True)
    with pytest.raises(LayerCRSError, match="(?s)no feature lies in the Netherlands.*CRS .* is probably wrong"):
        validate_layer(wrong, "sites")


def test_rd_declared_as_degrees(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"id": ["a"], "name": ["x"], "population": [1], "source": ["t"],
                  "lon": [155_000.0], "lat": [463_000.0]}).to_csv(path, index=False)
    with pytest.raises(LayerCRSError, match="(?s)no feature lies in the Netherlands"):
        read_layer(path, "population")


def test_some_features_outside_nl(sites_gdf):
    far = sites_gdf.copy()
    far.loc[2, "geometry"] = shapely.box(900_000, 900_000, 900_700, 900_700)  # northern Scandinavia-ish
    with pytest.raises(LayerCRSError, match=r"(?s)outside the Netherlands study area.*id\(s\) site-2"):
        validate_layer(far, "sites")


def test_missing_column_suggests_rename(sites_gdf):
    bad = sites_gdf.rename(columns={"area_ha": "area_hectare"})
    with pytest.raises(LayerSchemaError, match=r"(?s)column 'area_ha': required column missing.*rename 'area_hectare' to 'area_ha'"):
        validate_layer(bad, "sites")


def test_mistyped_column(sites_gdf):
    bad = sites_gdf.astype({"area_ha": object})
    bad.loc[1, "area_ha"] = "40 ha"
    with pytest.raises(LayerSchemaError, match=r"(?s)column 'area_ha': expected a number, got \['40 ha'\].*no units"):
        validate_layer(bad, "sites")


def test_mistyped_int_column(tmp_path):
    path = tmp_path / "pop.csv"
    pd.DataFrame({"id": ["a"], "name": ["x"], "population": [12.5], "source": ["t"],
                  "lon": [5.1], "lat": [52.1]}).to_csv(path, index=False)
    with pytest.raises(LayerSchemaError, match=r"(?s)column 'population': expected an integer"):
        read_layer(path, "population")


def test_empty_required_value(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[0, "name"] = None
    with pytest.raises(LayerSchemaError, match=r"(?s)column 'name': required values are empty in row\(s\) \[0\]"):
        validate_layer(bad, "sites")


def test_empty_layer(sites_gdf):
    with pytest.raises(LayerValueError, match="(?s)the layer is empty"):
        validate_layer(sites_gdf.iloc[0:0], "sites")


def test_empty_file(tmp_path, sites_gdf):
    path = tmp_path / "sites.gpkg"
    sites_gdf.iloc[0:0].to_file(path, driver="GPKG")
    with pytest.raises(LayerValueError, match=r"(?s)file '.*sites\.gpkg': the layer is empty"):
        read_layer(path, "sites")


def test_repairable_geometry_is_repaired_with_warning(sites_gdf):
    bowtie = shapely.Polygon([(127_000, 530_000), (127_700, 530_700), (127_700, 530_000), (127_000, 530_700)])
    bad = sites_gdf.copy()
    bad.loc[0, "geometry"] = bowtie
    bad.loc[0, "area_ha"] = 24.5  # the repaired bowtie's area: no declared-area warning
    with pytest.warns(GeometryRepairedWarning, match=r"(?s)repaired invalid geometry of id\(s\) site-0.*Self-intersection"):
        got = validate_layer(bad, "sites")
    assert got.is_valid.all()
    assert got.geom_type[0] == "MultiPolygon"
    assert got.area[0] == pytest.approx(0.5 * 700 * 700, rel=1e-9)


def test_wrong_geometry_type(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[1, "geometry"] = shapely.LineString([(128_000, 531_000), (129_000, 531_000)])
    with pytest.raises(LayerGeometryError, match=r"(?s)geometry type \['LineString'\] not allowed for id\(s\) site-1; allowed: Polygon, MultiPolygon \(or Point with area_ha\)"):
        validate_layer(bad, "sites")
    pts = gpd.GeoDataFrame({"id": ["a"], "name": ["x"], "population": [1], "source": ["t"]},
                           geometry=[shapely.LineString([(128_000, 531_000), (129_000, 531_000)])], crs="EPSG:28992")
    with pytest.raises(LayerGeometryError, match=r"(?s)geometry type \['LineString'\] not allowed.*allowed: Point, Polygon, MultiPolygon\n"):
        validate_layer(pts, "population")


def test_missing_geometry(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[2, "geometry"] = None
    with pytest.raises(LayerGeometryError, match=r"(?s)missing or empty geometry for id\(s\) site-2"):
        validate_layer(bad, "sites")


def test_duplicate_ids(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[2, "id"] = "site-0"
    with pytest.raises(LayerValueError, match=r"(?s)column 'id': duplicate ids: \['site-0'\]"):
        validate_layer(bad, "sites")


def test_negative_area(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[1, "area_ha"] = -5.0
    with pytest.raises(LayerValueError, match=r"(?s)column 'area_ha': negative values \[-5.0\] for id\(s\) site-1.*>= 0 ha"):
        validate_layer(bad, "sites")


def test_negative_capacity(tmp_path):
    layers = siting.load_layers()
    off = layers.offshore.copy()
    off.loc[0, "capacity_mw"] = -700.0
    with pytest.raises(LayerValueError, match=r"(?s)column 'capacity_mw': negative values"):
        validate_layer(off, "offshore")


def test_unknown_code(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[0, "category"] = "farm"
    with pytest.raises(LayerValueError, match=r"(?s)column 'category': unknown value\(s\) \['farm'\].*use one of: industrial_estate"):
        validate_layer(bad, "sites")


def test_unknown_layer_name(sites_gdf):
    with pytest.raises(ConfigError, match="(?s)unknown layer 'site'.*Did you mean 'sites'"):
        validate_layer(sites_gdf, "site")
    with pytest.raises(ConfigError, match=r"(?s)unknown layer name\(s\) \['plots'\]"):
        siting.load_layers(plots="x.gpkg")


def test_reference_to_unknown_substation(tmp_path):
    layers = siting.load_layers()
    off = layers.offshore.to_crs("EPSG:4326").copy()
    off.loc[0, "substation_id"] = "atlantis-380"
    path = tmp_path / "offshore.gpkg"
    off.to_file(path, driver="GPKG")
    with pytest.raises(LayerValueError, match=r"(?s)layer 'offshore'.*column 'substation_id': refers to substations.id values that do not exist: \['atlantis-380'\]"):
        siting.load_layers(offshore=path)


def test_errors_are_one_family():
    for cls in (LayerFileError, LayerCRSError, LayerSchemaError, LayerGeometryError, LayerValueError, ConfigError):
        assert issubclass(cls, SitingError)
    assert issubclass(LayerFileError, LayerError)


# ------------------------------------------------------------------------------ layer sets


def test_layer_set_toml_with_rename(tmp_path, sites_gdf):
    sub = tmp_path / "user"
    sub.mkdir()
    sites_gdf.rename(columns={"name": "naam", "area_ha": "netto_ha"}).to_file(sub / "plots.gpkg", layer="plots", driver="GPKG")
    toml = sub / "layers.toml"
    toml.write_text('[layers.sites]\npath = "plots.gpkg"\nlayer = "plots"\ncolumns = { naam = "name", netto_ha = "area_ha" }\n')
    layers = siting.load_layers(toml)
    assert layers.sites["name"].tolist() == ["Test site 0", "Test site 1", "Test site 2"]
    assert layers.sources["sites"].path == sub / "plots.gpkg"
    inv = layers.inventory().set_index("layer")
    assert inv.loc["sites", "source"] == str(sub / "plots.gpkg")
    assert inv.loc["substations", "source"] == "embedded:nl/substations.csv"


def test_layer_set_shorthand_and_kwargs_win(tmp_path, sites_gdf):
    sites_gdf.to_file(tmp_path / "a.gpkg", driver="GPKG")
    make_sites(5).to_file(tmp_path / "b.gpkg", driver="GPKG")
    toml = tmp_path / "set.toml"
    toml.write_text('[layers]\nsites = "a.gpkg"\n')
    assert len(siting.load_layers(toml).sites) == 3
    assert len(siting.load_layers(toml, sites=tmp_path / "b.gpkg").sites) == 5


@pytest.mark.parametrize(
    "text, match",
    [
        ('[layers.sites]\npath = "a.gpkg"\ncolour = "red"\n', r"layers\.sites\.colour: Extra inputs are not permitted"),
        ('[layers.plots]\npath = "a.gpkg"\n', r"unknown layer\(s\) \['plots'\]"),
        ('[layers.sites]\npath = "a.gpkg"\ncrs = "EPSG:999999"\n', r"unknown CRS 'EPSG:999999'"),
        ("[layers.sites\n", "not valid TOML"),
    ],
)
def test_bad_layer_set(tmp_path, text, match):
    toml = tmp_path / "set.toml"
    toml.write_text(text)
    with pytest.raises(ConfigError, match=match):
        LayerSet.from_toml(toml)


def test_missing_layer_set(tmp_path):
    with pytest.raises(ConfigError, match="(?s)does not exist"):
        siting.load_layers(tmp_path / "none.toml")


def test_rename_of_absent_column(tmp_path, sites_gdf):
    sites_gdf.to_file(tmp_path / "a.gpkg", driver="GPKG")
    with pytest.raises(LayerSchemaError, match=r"(?s)column rename names columns the file does not have: \['naam'\]"):
        read_layer(siting.LayerSource(path=tmp_path / "a.gpkg", columns={"naam": "name"}), "sites")


# --------------------------------------------------------------------------- properties


_nl_lon = st.floats(3.4, 7.1, allow_nan=False)
_nl_lat = st.floats(50.8, 53.5, allow_nan=False)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(_nl_lon, _nl_lat), min_size=1, max_size=20))
def test_swapped_lonlat_always_detected_and_true_order_accepted(points):
    lon, lat = np.array(points).T
    base = {"id": [f"p{i}" for i in range(len(lon))], "name": "x", "population": 1, "source": "t"}
    ok = gpd.GeoDataFrame(base, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    got = validate_layer(ok, "population")
    back = got.to_crs("EPSG:4326")
    np.testing.assert_allclose(back.geometry.x, lon, atol=1e-7)
    np.testing.assert_allclose(back.geometry.y, lat, atol=1e-7)
    swapped = gpd.GeoDataFrame(base, geometry=gpd.points_from_xy(lat, lon), crs="EPSG:4326")
    with pytest.raises(LayerCRSError, match="(?s)swapped"):
        validate_layer(swapped, "population")


@settings(max_examples=25, deadline=None)
@given(st.permutations(list(range(6))))
def test_validation_is_row_order_independent(order):
    sites = make_sites(6)
    a = validate_layer(sites, "sites").set_index("id").sort_index()
    b = validate_layer(sites.iloc[list(order)], "sites").set_index("id").sort_index()
    pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b))


def test_no_warning_on_valid_input(sites_gdf):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_layer(sites_gdf, "sites")


# ------------------------------------------------------------- sites as planners have them


def _point_csv(path, rows, header="name,area_ha,lon,lat"):
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in r) for r in rows) + "\n", encoding="utf-8")
    return path


def test_csv_lonlat_points_become_indicative_square_footprints(tmp_path):
    """The README's path: a CSV of lon/lat points with area_ha, no id, no source."""
    path = _point_csv(tmp_path / "plots.csv", [("Plot Middenmeer", 40, 5.02, 52.81), ("Plot Middenmeer", 35.5, 5.05, 52.82),
                                               ("Eemshaven Süd", 60, 6.85, 53.43)])
    got = read_layer(path, "sites")
    assert got.geom_type.tolist() == ["Polygon"] * 3
    np.testing.assert_allclose(got.area.to_numpy() / 10_000, [40, 35.5, 60], rtol=1e-9)
    assert got["footprint_indicative"].tolist() == [True, True, True]
    assert got["id"].tolist() == ["plot-middenmeer", "plot-middenmeer-2", "eemshaven-sud"]
    assert (got["source"] == "user file plots.csv").all()
    # a square centred on the point
    centre = gpd.GeoSeries(gpd.points_from_xy([5.02], [52.81]), crs="EPSG:4326").to_crs("EPSG:28992").iloc[0]
    assert got.geometry.iloc[0].centroid.distance(centre) < 1e-6
    minx, miny, maxx, maxy = got.geometry.iloc[0].bounds
    assert maxx - minx == pytest.approx(maxy - miny) == pytest.approx((40 * 10_000) ** 0.5)


def test_csv_xy_points_with_stated_crs(tmp_path):
    path = _point_csv(tmp_path / "rd.csv", [("A7 plot", 30, 127_500.0, 530_500.0)], header="name,area_ha,x,y")
    with pytest.raises(LayerCRSError, match="x/y columns carry no CRS"):
        read_layer(path, "sites")
    got = read_layer(path, "sites", crs="EPSG:28992")
    assert got.geometry.iloc[0].centroid.x == pytest.approx(127_500.0)
    assert got.area.iloc[0] == pytest.approx(300_000.0)


@pytest.mark.parametrize("suffix", [".geojson", ".gpkg"])
def test_point_files_become_footprints(tmp_path, suffix):
    pts = gpd.GeoDataFrame({"name": ["Delfzijl plot", "Moerdijk plot"], "area_ha": [45.0, 30.0]},
                           geometry=gpd.points_from_xy([6.95, 4.59], [53.31, 51.68]), crs="EPSG:4326")
    path = tmp_path / f"plots{suffix}"
    pts.to_file(path, engine="pyogrio")
    got = read_layer(path, "sites")
    np.testing.assert_allclose(got.area.to_numpy() / 10_000, [45.0, 30.0], rtol=1e-9)
    assert got["footprint_indicative"].all() and got["id"].tolist() == ["delfzijl-plot", "moerdijk-plot"]


def test_polygons_keep_geometry_and_flag(sites_gdf):
    sites = sites_gdf.copy()
    sites["footprint_indicative"] = [None, True, None]
    sites.loc[0, "id"] = None  # generated from the name, without clashing with the given ids
    got = validate_layer(sites, "sites")
    assert got["footprint_indicative"].tolist() == [False, True, False]
    assert got["id"].tolist() == ["test-site-0", "site-1", "site-2"]
    assert got.geometry.iloc[1].equals_exact(sites_gdf.geometry.iloc[1], 1e-9)
    assert (got["source"] == "test").all()


def test_point_without_area_is_refused(tmp_path):
    path = _point_csv(tmp_path / "plots.csv", [("a", 40, 5.02, 52.81), ("b", "", 5.05, 52.82)])
    with pytest.raises(LayerSchemaError, match=r"(?s)column 'area_ha': required values are empty in row\(s\) \[1\]"):
        read_layer(path, "sites")
    path = _point_csv(tmp_path / "plots.csv", [("a", 40, 5.02, 52.81), ("b", 0, 5.05, 52.82)])
    with pytest.raises(LayerGeometryError, match=r"(?s)column 'area_ha': point\(s\) without a positive area_ha for id\(s\) b"):
        read_layer(path, "sites")


def test_every_problem_of_a_file_is_reported_at_once(tmp_path):
    path = tmp_path / "plots.csv"
    pd.DataFrame({"naam": ["x", "y"], "oppervlakte": [40, 50], "category": ["farm", "port_area"],
                  "existing_hub": ["maybe", "yes"], "lon": [5.02, 5.05], "lat": [52.81, 52.82]}).to_csv(path, index=False)
    with pytest.raises(LayerSchemaError) as info:
        read_layer(path, "sites")
    text = str(info.value)
    assert text.startswith(f"layer 'sites', file '{path}': 4 problems:")
    for part in (r"column 'name': required column missing", r"column 'area_ha': required column missing",
                 r"column 'existing_hub': expected true/false, got \['maybe'\]",
                 r"column 'category': unknown value\(s\) \['farm'\]"):
        assert __import__("re").search(part, text), part
    assert text.count("Fix:") == 4


def test_duplicate_ids_and_bad_values_listed_together(sites_gdf):
    bad = sites_gdf.copy()
    bad.loc[2, "id"] = "site-0"
    bad.loc[1, "area_ha"] = -5.0
    with pytest.raises(LayerValueError, match=r"(?s)2 problems:.*duplicate ids: \['site-0'\].*negative values \[-5.0\]"):
        validate_layer(bad, "sites")


def test_antwerp_is_refused_and_a_coastal_plot_accepted(tmp_path):
    path = _point_csv(tmp_path / "plots.csv", [("Antwerp port", 40, 4.40, 51.27), ("Middenmeer", 40, 5.02, 52.81)])
    with pytest.raises(LayerValueError, match=r"(?s)outside the boundary.*antwerp-port \([0-9.]+ km\).*at most 2 km.*"
                                              r"pass your own boundary"):
        read_layer(path, "sites")
    # a plot 1.5 km off the coast (a landing site on reclaimed land) is accepted, 3 km is not
    nl = siting.load_layers().boundary.union_all()
    probe = shapely.Point(70_000, 455_000)  # North Sea off Den Haag
    for dist, ok in ((1_500.0, True), (3_000.0, False)):
        ring = nl.buffer(dist).exterior if nl.buffer(dist).geom_type == "Polygon" else max(nl.buffer(dist).geoms, key=lambda g: g.area).exterior
        p = ring.interpolate(ring.project(probe))
        sites = gpd.GeoDataFrame({"name": ["coastal"], "area_ha": [30.0]}, geometry=[p], crs="EPSG:28992")
        if ok:
            assert validate_layer(sites, "sites")["id"].tolist() == ["coastal"]
        else:
            with pytest.raises(LayerValueError, match="outside the boundary"):
                validate_layer(sites, "sites")


def test_own_boundary_admits_sites_beyond_the_netherlands(tmp_path):
    path = _point_csv(tmp_path / "plots.csv", [("Antwerp port", 40, 4.40, 51.27)])
    flanders = gpd.GeoDataFrame({"id": ["be-north"], "source": ["test"]},
                                geometry=[shapely.box(3.0, 50.9, 5.5, 51.5)], crs="EPSG:4326")
    got = read_layer(path, "sites", boundary=flanders)
    assert got["id"].tolist() == ["antwerp-port"]
    flanders.to_file(tmp_path / "boundary.geojson", engine="pyogrio")
    layers = siting.load_layers(sites=path, boundary=tmp_path / "boundary.geojson")
    assert layers.sites["id"].tolist() == ["antwerp-port"]


def test_declared_area_above_the_polygon_warns_and_the_polygon_governs(sites_gdf):
    sites = sites_gdf.copy()  # 40 ha squares
    sites["area_ha"] = [43.9, 60.0, 60.0]  # +9.75 % (no warning), +50 %, +50 % but declared governs
    sites["area_declared_governs"] = [None, None, True]
    with pytest.warns(SiteAreaWarning, match=r"(?s)declared area_ha exceeds the polygon's area by more than 10% for "
                                             r"site-1 \(60 ha declared, 40.0 ha drawn\); the polygon's area governs"):
        got = validate_layer(sites, "sites")
    np.testing.assert_allclose(governing_area_ha(got).to_numpy(), [43.9, 40.0, 60.0], rtol=1e-9)


def test_space_metric_uses_the_governing_area(sites_gdf):
    from siting.candidates import candidates
    from siting.metrics import spatial_metrics

    from .grid_fixtures import embedded_layers

    sites = sites_gdf.copy()
    sites["area_ha"] = [40.0, 80.0, 80.0]
    sites["area_declared_governs"] = [False, False, True]
    with pytest.warns(SiteAreaWarning, match="site-1"):
        cands = candidates(embedded_layers(), 2030, sites=sites)
    m = spatial_metrics(cands, embedded_layers(), 2030, 360.0)
    np.testing.assert_allclose(m["area_ha"], [40.0, 40.0, 80.0], rtol=1e-9)
    np.testing.assert_allclose(m["area_declared_ha"], [40.0, 80.0, 80.0])


# ------------------------------------------------------------------ plausibility (#13 item 2)


def _to_shapefile(gdf: gpd.GeoDataFrame, path):
    with warnings.catch_warnings():  # GDAL says it cuts the names: that is the point
        warnings.simplefilter("ignore")
        gdf.to_file(path, driver="ESRI Shapefile", engine="pyogrio")
    return path


def _flagged_sites() -> gpd.GeoDataFrame:
    sites = make_sites(3)
    sites["municipality"] = ["Hollands Kroon"] * 3
    sites["footprint_indicative"] = [True, False, True]
    sites["reuse_plant_site"] = [True, False, False]
    sites["existing_hub"] = [False, True, False]
    sites["hyperscale_zone"] = [True, True, False]
    return sites


def test_dbf_truncations_are_derived_from_the_schema():
    from siting._plausible import dbf_truncations
    from siting.schema import layer_specs

    for spec in layer_specs().values():
        cuts = dbf_truncations([c.name for c in spec.columns])
        for col in spec.columns:
            if len(col.name) > 10:
                assert col.name in cuts[col.name[:10]]
            else:
                assert col.name not in cuts
    sites = dbf_truncations([c.name for c in layer_specs()["sites"].columns])
    assert sites["reuse_plan"] == ("reuse_plant_site",) and sites["existing_h"] == ("existing_hub",)
    assert sites["hyperscale"] == ("hyperscale_zone",)
    offshore = dbf_truncations([c.name for c in layer_specs()["offshore"].columns])
    assert offshore["producing_"] == offshore["producin_1"] == ("producing_year", "producing_mw", "producing_basis")


def test_shapefile_cut_field_names_are_read_back_with_a_warning(tmp_path):
    sites = _flagged_sites()
    path = _to_shapefile(sites, tmp_path / "plots.shp")
    assert {"reuse_plan", "existing_h", "hyperscale"} <= set(gpd.read_file(path).columns)
    with pytest.warns(TruncatedFieldWarning, match=r"(?s)plots\.shp.*cut to 10 characters.*'reuse_plan' as "
                                                   r"'reuse_plant_site'.*'hyperscale' as 'hyperscale_zone'"):
        got = read_layer(path, "sites")
    for col in ("municipality", "footprint_indicative", "reuse_plant_site", "existing_hub", "hyperscale_zone"):
        assert got[col].tolist() == sites[col].tolist(), col
    # the same frame read by the user and passed in memory: restored too
    with pytest.warns(TruncatedFieldWarning, match="read from a Shapefile"):
        mem = validate_layer(gpd.read_file(path), "sites")
    assert mem["reuse_plant_site"].tolist() == [True, False, False]
    # renames named in a layer set: nothing left to guess, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        named = read_layer({"path": path, "columns": {"reuse_plan": "reuse_plant_site", "existing_h": "existing_hub",
                                                      "hyperscale": "hyperscale_zone", "municipali": "municipality",
                                                      "footprint_": "footprint_indicative"}}, "sites")
    assert named["hyperscale_zone"].tolist() == [True, True, False]


def test_other_formats_keep_their_column_names(tmp_path):
    sites = _flagged_sites().rename(columns={"reuse_plant_site": "reuse_plan"})
    path = tmp_path / "plots.gpkg"
    sites.to_file(path, driver="GPKG")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = read_layer(path, "sites")  # a GeoPackage has no name limit: 'reuse_plan' is the user's own column
    assert "reuse_plant_site" not in got.columns and "reuse_plan" in got.columns


def test_cut_names_that_cannot_be_told_apart_are_an_error(tmp_path):
    sites = _flagged_sites()
    sites["reuse_plant_note"] = ["closed 2015", "", ""]  # -> 'reuse_pl_1': which one is the flag?
    path = _to_shapefile(sites, tmp_path / "plots.shp")
    with pytest.raises(LayerSchemaError, match=r"(?s)plots\.shp.*column 'reuse_plan': field names in the Shapefile "
                                               r"are cut to 10 characters and cannot be told apart: 'reuse_plan' and "
                                               r"'reuse_pl_1' may each be 'reuse_plant_site'.*Fix: name them in a layer set"):
        read_layer(path, "sites")
    offshore = gpd.GeoDataFrame(
        {"id": ["o1"], "name": ["Test"], "capacity_mw": [700.0], "status": ["in_service"], "source": ["t"],
         "producing_year": [2023], "producing_mw": [760.0]},
        geometry=[shapely.Point(60_000, 445_000)], crs="EPSG:28992")
    path = _to_shapefile(offshore, tmp_path / "offshore.shp")
    with pytest.raises(LayerSchemaError, match=r"'producing_' and 'producin_1' may each be 'producing_year' or "
                                               r"'producing_mw' or 'producing_basis'"):
        read_layer(path, "offshore")


def test_layers_check_reports_cut_shapefile_names(tmp_path):
    from click.testing import CliRunner

    from siting.cli import main

    path = _to_shapefile(_flagged_sites(), tmp_path / "plots.shp")
    result = CliRunner().invoke(main, ["layers", "--check", str(path), "--layer", "sites"])
    assert result.exit_code == 0, result.output
    assert "warning: layer 'sites'" in result.output and "'existing_h' as 'existing_hub'" in result.output
    assert "is a valid 'sites' layer: 3 rows" in result.output
    assert "read with 1 warning (above)" in result.output


def test_layers_check_reports_a_declared_area_the_polygon_overrules(tmp_path):
    from click.testing import CliRunner

    from siting.cli import main

    sites = make_sites(3)
    sites["geometry"] = [shapely.box(127_000, 530_000, 127_001, 530_001), *sites.geometry[1:]]  # 1 m²
    sites["area_ha"] = [60.0, 40.0, 40.0]
    path = tmp_path / "plots.gpkg"
    sites.to_file(path, driver="GPKG")
    result = CliRunner().invoke(main, ["layers", "--check", str(path), "--layer", "sites"])
    assert result.exit_code == 0, result.output
    assert "warning: layer 'sites', file" in result.output
    assert "site-0 (60 ha declared, 1 m² drawn); the polygon's area governs the space condition" in result.output
    assert "is a valid 'sites' layer: 3 rows, Polygon, reprojected to EPSG:28992; read with 1 warning (above)" \
        in result.output


@pytest.mark.parametrize("area", [1e12, 1e5, float("inf")])
def test_implausible_declared_area_is_refused(sites_gdf, area):
    sites = sites_gdf.copy()
    sites["area_ha"] = [40.0, area, 40.0]
    sites["area_declared_governs"] = [None, True, None]  # not even when the declared area is said to govern
    match = "infinite values for id" if area == float("inf") else r"(?s)implausibly large values.*site-1.*<= 10000 ha"
    with pytest.raises(LayerValueError, match=match):
        validate_layer(sites, "sites")
    point = gpd.GeoDataFrame({"name": ["p"], "area_ha": [area]}, geometry=[shapely.Point(127_000, 530_000)],
                             crs="EPSG:28992")
    with pytest.raises(LayerValueError, match="area_ha"):
        validate_layer(point, "sites")  # no 100,000 km square footprint


def test_a_tiny_polygon_declaring_a_large_area_fails_space(sites_gdf):
    from siting.candidates import candidates
    from siting.criteria import load_criteria
    from siting.metrics import spatial_metrics

    from .grid_fixtures import embedded_layers

    sites = sites_gdf.copy()
    sites["geometry"] = [shapely.box(127_000, 530_000, 127_001, 530_001), *sites.geometry[1:]]  # 1 m²
    sites["area_ha"] = [60.0, 40.0, 40.0]
    with pytest.warns(SiteAreaWarning, match=r"site-0 \(60 ha declared, 1 m² drawn\)"):
        cands = candidates(embedded_layers(), 2030, sites=sites)
    m = spatial_metrics(cands, embedded_layers(), 2030, 360.0)
    space = next(c for c in load_criteria().criterion if c.id == "space")
    assert space.judge(m["area_ha"]).tolist() == [False, True, True]


def _climate_csv(tmp_path, name, change):
    df = pd.read_csv(siting.embedded_data_dir() / "nl" / "climate.csv")
    cols = [c for c in df.columns if c[:3] in ("tx_", "tn_")]
    df = change(df, cols)
    df.to_csv(tmp_path / name, index=False)
    return tmp_path / name


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda df, cols: df.assign(**{c: df[c] + 273.15 for c in cols}), r"the values look like Kelvin \(then -?\d"),
        (lambda df, cols: df.assign(**{c: df[c] * 9 / 5 + 32 for c in cols}), r"the values look like °F"),
        (lambda df, cols: df.assign(**{c: df[c] * 10 for c in cols}), r"the values look like tenths of °C"),
        (lambda df, cols: df.assign(tx_07=np.where(df.index == 2, 61.0, df["tx_07"])),
         r"outside the plausible -40 to 50 °C: knmi-\d+ tx_07 = 61.*a typo"),
    ],
    ids=["kelvin", "fahrenheit", "tenths", "typo"],
)
def test_climate_normals_in_the_wrong_unit_are_refused(tmp_path, change, match):
    path = _climate_csv(tmp_path, "normals.csv", change)
    with pytest.raises(LayerValueError, match=r"(?s)layer 'climate', file '.*normals\.csv'.*" + match):
        read_layer(path, "climate")
