"""User rasters as metrics: GeoTIFF (rasterio) or NetCDF (xarray), sampled at sites (zonal
mean over each polygon) and resampled onto a surface grid — CRS and nodata checked.

A criterion can use such a metric by naming it ``raster_<name>`` in the criteria file and
passing ``rasters={"raster_<name>": path}`` to :func:`siting.evaluate` or :func:`siting.surface`.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import xarray as xr

from .errors import LayerCRSError, LayerFileError

__all__ = ["open_raster", "zonal_mean", "resample_to"]


def open_raster(path: str | PathLike[str], crs: str | None = None) -> tuple[np.ndarray, object, str]:
    """(values as float64 with nodata → NaN, affine transform, CRS) of the first band/variable.

    NetCDF files need x/y coordinates and a CRS (a ``crs`` attribute, a CF ``grid_mapping``
    with ``crs_wkt``, or the `crs` argument)."""
    import rasterio
    from affine import Affine

    path = Path(path)
    if not path.is_file():
        raise LayerFileError("raster file does not exist", path=path, fix="check the path")
    if path.suffix.lower() in (".nc", ".nc4", ".cdf"):
        try:
            ds = xr.open_dataset(path, engine="scipy") if path.suffix.lower() == ".nc" else xr.open_dataset(path)
        except Exception as exc:  # noqa: BLE001
            raise LayerFileError(f"cannot be read as NetCDF: {exc}", path=path) from exc
        names = [v for v in ds.data_vars if {"x", "y"} <= set(ds[v].dims)]
        if not names:
            raise LayerFileError("no variable on x/y coordinates", path=path,
                                 fix="give the raster x and y coordinates (projected, metres)")
        da = ds[names[0]]
        found = crs or ds.attrs.get("crs") or da.attrs.get("crs")
        gm = da.attrs.get("grid_mapping")
        if found is None and gm in ds:
            found = ds[gm].attrs.get("crs_wkt") or ds[gm].attrs.get("spatial_ref")
        if found is None:
            raise LayerCRSError("the NetCDF raster has no CRS", path=path,
                                fix="add a 'crs' attribute or a CF grid_mapping, or pass crs='EPSG:28992'")
        x, y = da["x"].values.astype(float), da["y"].values.astype(float)
        dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
        transform = Affine(dx, 0, x[0] - dx / 2, 0, dy, y[0] - dy / 2)
        values = da.transpose("y", "x").values.astype(float)
        fill = da.attrs.get("_FillValue", da.encoding.get("_FillValue"))
        if fill is not None:
            values[values == fill] = np.nan
        return values, transform, str(found)
    try:
        src = rasterio.open(path)
    except Exception as exc:  # noqa: BLE001
        raise LayerFileError(f"cannot be read as a raster: {exc}", path=path, fix="use GeoTIFF or NetCDF") from exc
    with src:
        if src.crs is None and crs is None:
            raise LayerCRSError("the raster has no CRS", path=path,
                                fix="set it (gdal_edit.py -a_srs EPSG:28992 file.tif) or pass crs='EPSG:28992'")
        values = src.read(1).astype(float)
        if src.nodata is not None and not np.isnan(src.nodata):
            values[values == src.nodata] = np.nan
        return values, src.transform, crs or src.crs.to_string()


def zonal_mean(path: str | PathLike[str], sites: gpd.GeoDataFrame, crs: str | None = None) -> np.ndarray:
    """Mean of the raster's valid cells inside each site polygon (cells whose centre lies
    inside; the cell under the site's centre for sites smaller than a cell). NaN where none."""
    from rasterio import features

    values, transform, rcrs = open_raster(path, crs)
    geoms = sites.to_crs(rcrs).geometry
    ids = features.rasterize(((g, i + 1) for i, g in enumerate(geoms)), out_shape=values.shape,
                             transform=transform, fill=0, dtype="int32")
    valid = ~np.isnan(values) & (ids > 0)
    sums = np.bincount(ids[valid], weights=values[valid], minlength=len(geoms) + 1)
    counts = np.bincount(ids[valid], minlength=len(geoms) + 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (sums / counts)[1:]
    # sites smaller than a cell: sample at the representative point
    from rasterio.transform import rowcol

    for i in np.flatnonzero(counts[1:] == 0):
        p = geoms.iloc[i].representative_point()
        row, col = rowcol(transform, p.x, p.y)
        if 0 <= row < values.shape[0] and 0 <= col < values.shape[1]:
            out[i] = values[row, col]
    return out


def resample_to(path: str | PathLike[str], ds: xr.Dataset, crs: str | None = None) -> np.ndarray:
    """The raster resampled (bilinear) onto the grid of surface `ds` (EPSG:28992)."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    values, transform, rcrs = open_raster(path, crs)
    out = np.full((ds.sizes["y"], ds.sizes["x"]), np.nan)
    reproject(values, out, src_transform=transform, src_crs=rcrs, src_nodata=np.nan,
              dst_transform=rasterio.Affine.from_gdal(*ds.attrs["transform"]), dst_crs=ds.attrs["crs"],
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    return out
