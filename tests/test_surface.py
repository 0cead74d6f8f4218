"""Suitability surfaces: the grid, the hard mask, rasters out and back, located regions."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.errors import ConfigError
from siting.surface import locate, read_raster, surface, write_raster

from .grid_fixtures import embedded_layers

#: Land area of the Netherlands, 2023: the sum of the CBS land area (land_area_km2) of the 342
#: municipalities (CBS/Kadaster via ../shared/reference/cbs-gemeenten-2023; data/SOURCES.md P84).
CBS_LAND_KM2 = 33_647.2


@pytest.fixture(scope="module")
def coarse() -> xr.Dataset:
    return surface(layers=embedded_layers(), resolution_m=1000, scenario="high-wind-2030")


def test_surface_grid_and_variables(coarse):
    ds = coarse
    assert ds.attrs["crs"] == "EPSG:28992" and ds.attrs["resolution_m"] == 1000
    assert np.allclose(np.diff(ds.x), 1000) and np.allclose(np.diff(ds.y), -1000)
    land = ds["land"].values
    assert 30_000 < land.sum() < 40_000
    for v in ("ehv_dist_km", "offshore_cover_dist_km", "amsix_rtt_ms", "grid_headroom_mw", "score", "hard_ok"):
        assert v in ds
    assert np.isnan(ds["score"].values[~land]).all()
    s = ds["score"].values[land]
    assert (s >= 0).all() and (s <= 1 + 1e-6).all()
    assert not (ds["hard_ok"].values & ~land).any()


def test_surface_free_cooling_matches_the_sites_and_the_stations(coarse):
    from siting.climate import climate_field

    fc = coarse["free_cooling_hours"].values[coarse["land"].values]
    assert 7600 < fc.min() and fc.max() < 8200 and coarse.attrs["free_cooling_c"] == 20.0
    assert "free_cooling_score" in coarse and coarse["free_cooling_hours"].attrs["units"] == "h/yr"
    # a cell samples the same field as a site at the cell centre
    field = climate_field(embedded_layers())
    cell = coarse.isel(x=120, y=150)
    assert float(cell["free_cooling_hours"]) == pytest.approx(
        field.at_points(np.array([float(cell.x)]), np.array([float(cell.y)]))[0], rel=1e-5)


def test_surface_distances_are_exact_at_stations(coarse):
    subs = embedded_layers().substations.set_index("id")
    p = subs.loc["maasvlakte-380", "geometry"]
    cell = coarse.sel(x=p.x, y=p.y, method="nearest")
    assert float(cell["ehv_dist_km"]) <= 0.71  # at most half a 1 km cell diagonal
    # KD-tree distance equals the straight-line distance to the station
    far = coarse.isel(x=10, y=10)
    d = np.hypot(float(far.x) - np.array([g.x for g in subs.geometry]), float(far.y) - np.array([g.y for g in subs.geometry]))
    assert float(far["ehv_dist_any_km"]) == pytest.approx(d.min() / 1000, rel=1e-6)


def test_hard_mask_follows_the_criteria(coarse):
    ds = coarse
    ok = ds["hard_ok"].values
    assert ok.sum() > 0  # in high wind 2030 the grid holds near Eemshaven/Maasvlakte
    assert (ds["ehv_dist_km"].values[ok] <= 10).all()
    assert (ds["offshore_cover_dist_km"].values[ok] <= 20).all()
    assert (ds["grid_headroom_mw"].values[ok] >= 0).all()
    assert not ds["excluded"].values[ok].any()


def test_user_exclusions(coarse):
    everything = gpd.GeoDataFrame(geometry=[shapely.box(0, 300_000, 300_000, 650_000)], crs="EPSG:28992")
    ds = surface(layers=embedded_layers(), resolution_m=1000, scenario="high-wind-2030", exclusions=everything)
    assert ds["hard_ok"].sum() == 0
    with pytest.raises(ConfigError, match="exclusions has no CRS"):
        surface(layers=embedded_layers(), resolution_m=1000, scenario="high-wind-2030",
                exclusions=gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]))
    with pytest.raises(ConfigError, match=r"resolution_m=10: must be a finite number of m in \[100, 5000\]"):
        surface(layers=embedded_layers(), resolution_m=10)


@pytest.mark.parametrize("suffix", [".tif", ".nc"])
def test_rasters_round_trip_bit_exact(tmp_path, coarse, suffix):
    names = ["score", "ehv_dist_km", "grid_headroom_mw"]
    path = write_raster(coarse, tmp_path / f"surface{suffix}", variables=names)
    back = read_raster(path)
    for v in names:
        a, b = coarse[v].values.astype("float32"), back[v].values.astype("float32")
        assert np.array_equal(np.isnan(a), np.isnan(b)) and np.array_equal(a[~np.isnan(a)], b[~np.isnan(b)]), v
    np.testing.assert_allclose(back.x, coarse.x)
    np.testing.assert_allclose(back.y, coarse.y)
    with pytest.raises(ConfigError, match="exists; not overwriting"):
        write_raster(coarse, path, variables=names)


def test_cog_has_crs_band_names_and_overviews(tmp_path):
    import rasterio

    ds = surface(layers=embedded_layers(), resolution_m=250, scenario="high-wind-2030")
    path = write_raster(ds, tmp_path / "s.tif", variables=["score", "hard_ok"])
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 28992
        assert src.descriptions == ("score", "hard_ok")
        assert src.overviews(1)  # cloud-optimised: internal overviews
        assert np.isnan(src.nodata)


def test_locate_regions_feed_evaluate(coarse):
    from siting.evaluate import evaluate

    regions = locate(coarse, n=3, min_ha=30, max_ha=200)
    assert 1 <= len(regions) <= 3
    assert (regions["area_ha"] >= 30).all() and (regions["area_ha"] <= 200).all()
    assert regions["score"].is_monotonic_decreasing
    ev = evaluate(layers=embedded_layers(), sites=regions, scenario="high-wind-2030")
    assert len(ev.table) == len(regions)
    assert set(ev.table["space_result"]) == {"pass"}
    with pytest.raises(ConfigError, match=r"min_ha=60.0: must be at most max_ha=30 \(the size range is inverted\)"):
        locate(coarse, min_ha=60, max_ha=30)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5_000, 25_000), st.floats(-5_000, 25_000), st.floats(0, 900)), min_size=0, max_size=6),
       st.floats(500, 8_000))
def test_window_sum_equals_the_brute_force_sum(points, radius):
    from siting.surface import _within_sum

    x = 250.0 * (np.arange(80) + 0.5)
    y = 20_000.0 - 250.0 * (np.arange(80) + 0.5)
    px, py, v = (np.array(c, dtype=float) for c in zip(*points)) if points else (np.array([]),) * 3
    xx, yy = np.meshgrid(x, y)
    brute = np.zeros(xx.shape)
    for qx, qy, val in zip(px, py, v):
        brute += np.where((xx - qx) ** 2 + (yy - qy) ** 2 <= radius**2, val, 0.0)
    np.testing.assert_allclose(_within_sum(px, py, v, x, y, radius), brute, rtol=1e-5, atol=1e-3)


def _toy_surface(mask, score, res=100.0):
    h, w = mask.shape
    x = res * (np.arange(w) + 0.5)
    y = res * h - res * (np.arange(h) + 0.5)
    return xr.Dataset({"hard_conditional": (("y", "x"), mask), "hard_ok": (("y", "x"), mask),
                       "score": (("y", "x"), score.astype("float32"))}, coords={"x": x, "y": y},
                      attrs={"resolution_m": res, "crs": "EPSG:28992"})


def test_locate_finds_several_separated_regions_in_one_large_area():
    """One 6 km x 3 km suitable block with two score peaks, and a 20 ha patch (too small)."""
    h, w = 40, 80
    mask = np.zeros((h, w), dtype=bool)
    mask[5:35, 5:65] = True
    mask[2:4, 70:80] = True  # 20 cells = 20 ha: never a region
    yy, xx = np.mgrid[0:h, 0:w]
    score = 0.5 + 0.4 * np.exp(-((xx - 15) ** 2 + (yy - 20) ** 2) / 50) + 0.3 * np.exp(-((xx - 55) ** 2 + (yy - 20) ** 2) / 50)
    regions = locate(_toy_surface(mask, score), n=4, min_ha=30, max_ha=60, min_separation_m=1000)
    assert len(regions) == 4
    assert (regions["area_ha"] == 30).all() and regions["score"].is_monotonic_decreasing
    # the best region sits on the higher peak; all regions are inside the block and 1 km apart
    best = regions.geometry.iloc[0].centroid
    assert abs(best.x - 1550) < 600 and abs(best.y - (4000 - 2050)) < 600
    block = shapely.box(500, 4000 - 3500, 6500, 4000 - 500)
    assert all(block.buffer(1e-6).contains(g) for g in regions.geometry)
    gaps = [regions.geometry.iloc[i].distance(regions.geometry.iloc[j]) for i in range(4) for j in range(i + 1, 4)]
    assert min(gaps) >= 1000 - 1e-6
    assert locate(_toy_surface(mask, score), n=1, min_separation_m=0).geometry.iloc[0].area == pytest.approx(300_000)
    with pytest.raises(ConfigError, match="more than max_ha"):
        locate(_toy_surface(mask, score, res=500.0), min_ha=30, max_ha=40)


# ------------------------------------------------------------- land, water and built-up land


def _open_water_union():
    from siting.surface import _open_water

    return _open_water(embedded_layers().water).union_all()


def test_land_area_within_5_pct_of_the_cbs_land_area(coarse):
    land_km2 = float(coarse["land"].sum()) * 1.0  # 1 km cells
    assert abs(land_km2 / CBS_LAND_KM2 - 1) < 0.05, land_km2
    # the IJsselmeer and Markermeer (~1,830 km2) are not land any more
    assert land_km2 < 35_500


def test_no_land_cell_in_open_water(coarse):
    xx, yy = np.meshgrid(coarse.x.values, coarse.y.values)
    land = coarse["land"].values
    inside = shapely.contains_xy(_open_water_union(), xx[land], yy[land])
    assert not inside.any()
    ijssel = embedded_layers().water.set_index("id").loc["ijsselmeer", "geometry"]
    assert ijssel.area > 1_000e6  # the real lake, not a sketch


def test_land_mask_subtracts_open_water_from_a_boundary_that_holds_lakes():
    """A user boundary like Natural Earth's, with the lakes as land: the water layer masks them."""
    from siting.surface import _grid, _land_mask, _open_water

    layers = embedded_layers()
    ow = _open_water(layers.water)
    lakes = ow[ow["kind"] == "lake"]
    filled = gpd.GeoDataFrame({"id": ["nl"], "source": ["t"]},
                              geometry=[shapely.union_all([layers.boundary.union_all(), lakes.union_all()])], crs=28992)
    transform, x, y = _grid(filled, 1000.0)
    shape = (len(y), len(x))
    with_lakes = _land_mask(filled, ow.iloc[0:0], shape, transform)
    masked = _land_mask(filled, ow, shape, transform)
    assert with_lakes.sum() - masked.sum() > 1_800  # IJsselmeer + Markermeer + Randmeren ...
    xx, yy = np.meshgrid(x, y)
    assert not shapely.contains_xy(lakes.union_all(), xx[masked], yy[masked]).any()


def test_surface_excludes_built_up_land_and_its_buffer(coarse):
    built = embedded_layers().built_up
    tree = shapely.STRtree(built.geometry.values)
    xx, yy = np.meshgrid(coarse.x.values, coarse.y.values)
    land = coarse["land"].values
    pts = shapely.points(xx[land], yy[land])
    near = np.zeros(len(pts), dtype=bool)
    near[np.unique(tree.query(pts, predicate="dwithin", distance=500.0)[0])] = True
    assert near.sum() > 1_000
    assert coarse["excluded"].values[land][near].all()
    assert not coarse["hard_ok"].values[land][near].any()
    assert coarse.attrs["built_up_buffer_m"] == 500.0
    # S3 scores housing distance to the built-up edge
    assert "built_up_dist_km" in coarse and (coarse["built_up_dist_km"].values[land][near] <= 1.0).all()


def test_located_regions_are_named_and_clear_of_built_up_land_and_water(coarse):
    import re

    layers = embedded_layers()
    regions = locate(coarse, n=3, min_ha=30, max_ha=200, layers=layers)
    assert len(regions) >= 1
    for _, r in regions.iterrows():
        assert re.fullmatch(r"Region \d+ — [^,]+, near .+ (380|220) kV", r["name"]), r["name"]
        assert r["municipality"] in set(layers.municipalities["name"])
    assert (regions.distance(layers.built_up.union_all()) >= 500.0 - 1e-6).all()
    assert (regions.intersection(_open_water_union()).area < 1.0).all()
    assert regions.within(layers.boundary.union_all().buffer(1.0)).all()
    # the same names from the embedded layers by default
    assert locate(coarse, n=3, min_ha=30, max_ha=200)["name"].tolist() == regions["name"].tolist()


def test_criteria_set_the_built_up_buffer(tmp_path):
    from siting.criteria import criteria_dir, load_criteria

    assert load_criteria().built_up_buffer_m == 500.0
    text = (criteria_dir() / "ecorys-2025.toml").read_text(encoding="utf-8")
    bad = tmp_path / "c.toml"
    bad.write_text(text.replace("built_up_buffer_m = 500.0", "built_up_buffer_m = -1.0"), encoding="utf-8")
    with pytest.raises(ConfigError, match="built_up_buffer_m"):
        load_criteria(bad)
    assert load_criteria().with_policy("off").built_up_buffer_m == 500.0
