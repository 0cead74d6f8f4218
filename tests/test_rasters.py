"""User rasters as metrics: GeoTIFF and NetCDF, CRS checks, zonal means, surface resampling."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import xarray as xr
from rasterio.transform import from_origin

from siting.criteria import Criterion, load_criteria
from siting.errors import ConfigError, LayerCRSError
from siting.evaluate import evaluate
from siting.rasters import open_raster, zonal_mean

from .conftest import make_sites
from .grid_fixtures import embedded_layers


def _gradient_tif(path, crs="EPSG:28992"):
    """Value = x / 1000 (km east) on 100 m cells around the test sites."""
    x0, y1, res, w, h = 120_000, 540_000, 100.0, 200, 200
    xs = x0 + res * (np.arange(w) + 0.5)
    values = np.tile(xs / 1000.0, (h, 1)).astype("float32")
    values[:5, :5] = -9999
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs,
                       transform=from_origin(x0, y1, res, res), nodata=-9999) as dst:
        dst.write(values, 1)
    return path


def test_zonal_mean_of_a_geotiff(tmp_path):
    sites = make_sites(3)
    got = zonal_mean(_gradient_tif(tmp_path / "g.tif"), sites)
    expected = sites.geometry.centroid.x.to_numpy() / 1000.0
    np.testing.assert_allclose(got, expected, atol=0.06)  # mean of cell centres inside
    values, _, _ = open_raster(tmp_path / "g.tif")
    assert np.isnan(values[:5, :5]).all()


def test_raster_without_crs_is_a_clear_error(tmp_path):
    path = tmp_path / "nocrs.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32",
                       transform=from_origin(0, 4, 1, 1)) as dst:
        dst.write(np.zeros((4, 4), dtype="float32"), 1)
    with pytest.raises(LayerCRSError, match=r"(?s)the raster has no CRS.*Fix: set it"):
        open_raster(path)
    nc = tmp_path / "nocrs.nc"
    xr.Dataset({"v": (("y", "x"), np.zeros((3, 3)))}, coords={"x": [0.5, 1.5, 2.5], "y": [2.5, 1.5, 0.5]}).to_netcdf(nc, engine="scipy")
    with pytest.raises(LayerCRSError, match="the NetCDF raster has no CRS"):
        open_raster(nc)
    values, _, crs = open_raster(nc, crs="EPSG:28992")
    assert crs == "EPSG:28992" and values.shape == (3, 3)


def test_raster_criterion_in_evaluate_and_surface(tmp_path):
    tif = _gradient_tif(tmp_path / "g.tif")
    base = load_criteria()
    flood = Criterion(id="flood_proxy", title="Test raster criterion", metric="raster_east_km", kind="hard",
                      max=129.0, section="§ test", rationale="test")
    crits = base.model_copy(update={"criterion": (*base.criterion, flood)})
    sites = make_sites(3)  # centroids at about 127.3, 129.3 and 131.3 km east
    ev = evaluate(layers=embedded_layers(), sites=sites, criteria=crits, rasters={"raster_east_km": tif},
                  scenario="high-wind-2030")
    t = ev.table.set_index("id")
    assert t.at["site-0", "flood_proxy_result"] == "pass"
    assert t.at["site-2", "flood_proxy_result"] == "fail" and t.at["site-2", "verdict"] == "unsuitable"
    import hashlib

    from siting.exports import provenance

    prov = provenance(ev, embedded_layers())["inputs"]  # the user's raster is traced by its hash
    assert prov == {"raster_east_km": {"path": "g.tif", "sha256": hashlib.sha256(tif.read_bytes()).hexdigest()}}
    with pytest.raises(ConfigError, match=r"the criteria use raster metric\(s\) \['raster_east_km'\]"):
        evaluate(layers=embedded_layers(), sites=sites, criteria=crits, scenario="high-wind-2030")
    with pytest.raises(ConfigError, match="must start with 'raster_'"):
        evaluate(layers=embedded_layers(), sites=sites, rasters={"east": tif}, scenario="high-wind-2030")
    from siting.surface import surface

    ds = surface(layers=embedded_layers(), criteria=crits, resolution_m=1000, scenario="high-wind-2030",
                 rasters={"raster_east_km": tif})
    east = ds["raster_east_km"].values
    inside = ~np.isnan(east)
    assert inside.any() and not inside.all()  # only where the raster covers
    xs = np.broadcast_to(ds.x.values / 1000.0, east.shape)
    np.testing.assert_allclose(east[inside], xs[inside], atol=0.6)


# ------------------------------------------------------------------ plausibility (#13 item 2)


def _constant_tif(path, crs, x0, y1, res, value=1.0, w=40, h=40):
    with rasterio.open(path, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs=crs,
                       transform=from_origin(x0, y1, res, res), nodata=-9999) as dst:
        dst.write(np.full((h, w), value, dtype="float32"), 1)
    return path


def _surface_proto():
    """An empty surface grid (1 km cells over North Holland), as siting.surface builds it."""
    from rasterio.transform import from_origin as fo

    x = 100_500.0 + 1_000.0 * np.arange(40)
    y = 559_500.0 - 1_000.0 * np.arange(40)
    return xr.Dataset(coords={"x": x, "y": y},
                      attrs={"transform": list(fo(100_000, 560_000, 1_000, 1_000).to_gdal()), "crs": "EPSG:28992"})


@pytest.mark.parametrize(
    ("crs", "x0", "y1", "res", "match"),
    [
        ("EPSG:4326", 120_000, 540_000, 100.0, r"in EPSG:4326.*its bounds are not degrees although its CRS is geographic"),
        ("EPSG:28992", 4.5, 53.0, 0.01, r"covers x 4\.5 to 4\.9, y 52\.6 to 53 in EPSG:28992.*look like degrees although "
                                        r"its CRS is projected: probably EPSG:4326"),
        ("EPSG:28992", 200_000, 400_000, 100.0, r"covers x 200000 to 204000, y 396000 to 400000 in EPSG:28992, the sites "
                                                r"lie at x 127000 to"),
    ],
    ids=["metres-labelled-degrees", "degrees-labelled-metres", "elsewhere"],
)
def test_a_raster_that_misses_the_sites_or_the_surface_is_an_error(tmp_path, crs, x0, y1, res, match):
    from siting.rasters import resample_to

    tif = _constant_tif(tmp_path / "r.tif", crs, x0, y1, res)
    with pytest.raises(LayerCRSError, match=r"(?s)file '.*r\.tif': the raster does not overlap the sites: .*" + match
                       + r".*Fix: give the raster its real CRS"):
        zonal_mean(tif, make_sites(3))
    with pytest.raises(LayerCRSError, match="does not overlap the surface"):
        resample_to(tif, _surface_proto())


def test_a_raster_with_no_valid_value_at_the_sites_is_an_error(tmp_path):
    from siting.errors import LayerValueError
    from siting.rasters import resample_to

    tif = _constant_tif(tmp_path / "nodata.tif", "EPSG:28992", 120_000, 540_000, 500.0, value=-9999)
    with pytest.raises(LayerValueError, match=r"no valid value at any of the 3 site\(s\).*nodata"):
        zonal_mean(tif, make_sites(3))
    with pytest.raises(LayerValueError, match="no valid value on the surface grid"):
        resample_to(tif, _surface_proto())
    da = xr.DataArray(np.full((3, 3), np.nan), dims=("y", "x"), coords={"x": [127e3, 128e3, 129e3], "y": [532e3, 531e3, 530e3]},
                      attrs={"crs": "EPSG:28992"})
    with pytest.raises(LayerValueError, match=r"the raster \(an in-memory DataArray\) has no valid value"):
        zonal_mean(da, make_sites(2))


def test_sites_a_raster_does_not_reach_get_a_warning(tmp_path):
    from siting.errors import RasterCoverageWarning

    tif = _constant_tif(tmp_path / "part.tif", "EPSG:28992", 126_000, 531_000, 100.0, value=7.0)  # x 126-130 km
    with pytest.warns(RasterCoverageWarning, match=r"part\.tif' gives no value .* for 1 of 3 site\(s\): site-2; they fail"):
        got = zonal_mean(tif, make_sites(3))
    assert got[:2].tolist() == [7.0, 7.0] and np.isnan(got[2])


def test_the_same_raster_in_another_crs_gives_the_same_zonal_mean(tmp_path):
    """A smooth field in RD and reprojected to WGS84: the sites' means agree to the cell size."""
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    src = _gradient_tif(tmp_path / "rd.tif")
    with rasterio.open(src) as s:
        transform, w, h = calculate_default_transform(s.crs, "EPSG:4326", s.width, s.height, *s.bounds)
        out = np.full((h, w), np.nan, dtype="float32")
        reproject(s.read(1), out, src_transform=s.transform, src_crs=s.crs, src_nodata=s.nodata, dst_transform=transform,
                  dst_crs="EPSG:4326", dst_nodata=np.nan, resampling=Resampling.bilinear)
    wgs = tmp_path / "wgs.tif"
    with rasterio.open(wgs, "w", driver="GTiff", width=w, height=h, count=1, dtype="float32", crs="EPSG:4326",
                       transform=transform, nodata=np.nan) as dst:
        dst.write(out, 1)
    sites = make_sites(3)
    np.testing.assert_allclose(zonal_mean(wgs, sites), zonal_mean(src, sites), atol=0.1)  # km east, 100 m cells
