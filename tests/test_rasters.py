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
