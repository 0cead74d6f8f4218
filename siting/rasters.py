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


_XY = (("x", "y"), ("longitude", "latitude"), ("lon", "lat"))


def open_raster(source: str | PathLike[str] | xr.DataArray, crs: str | None = None) -> tuple[np.ndarray, object, str]:
    """(values as float64 with nodata → NaN, affine transform, CRS) of the first band/variable.

    `source` is a GeoTIFF (or other GDAL raster), a NetCDF file or an ``xarray.DataArray``.
    NetCDF variables and DataArrays need ``x``/``y`` coordinates and a CRS (a ``crs``
    attribute, a CF ``grid_mapping`` with ``crs_wkt``, or the `crs` argument), or
    ``longitude``/``latitude`` (``lon``/``lat``) coordinates, read as WGS84 (EPSG:4326)."""
    import rasterio

    if isinstance(source, xr.DataArray):
        return _from_dataarray(source, crs, None, {})
    path = Path(source)
    if not path.is_file():
        raise LayerFileError("raster file does not exist", path=path, fix="check the path")
    if path.suffix.lower() in (".nc", ".nc4", ".cdf"):
        try:
            ds = xr.open_dataset(path)
        except Exception as exc:  # noqa: BLE001
            raise LayerFileError(f"cannot be read as NetCDF: {exc}", path=path) from exc
        with ds:
            names = [v for v in ds.data_vars if any(set(xy) <= set(ds[v].dims) for xy in _XY)]
            if not names:
                raise LayerFileError("no variable on x/y (or longitude/latitude) coordinates", path=path,
                                     fix="give the raster x and y coordinates (projected, metres) and a CRS")
            return _from_dataarray(ds[names[0]].load(), crs, path, ds)
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


def _from_dataarray(da: xr.DataArray, crs: str | None, path: Path | None, ds) -> tuple[np.ndarray, object, str]:
    from affine import Affine

    xname, yname = next((xy for xy in _XY if set(xy) <= set(da.dims)), (None, None))
    if xname is None:
        raise LayerFileError(f"no x/y or longitude/latitude dimensions (dims {da.dims})", path=path,
                             fix="give the raster x and y coordinates (projected, metres) and a CRS")
    extra = [d for d in da.dims if d not in (xname, yname)]
    if extra:
        raise LayerFileError(f"unexpected dimension(s) {extra}; a raster metric is one 2-D field", path=path,
                             fix=f"select or reduce them first, e.g. da.isel({extra[0]}=0)")
    attrs = getattr(ds, "attrs", {})
    found = crs or attrs.get("crs") or da.attrs.get("crs")
    gm = da.attrs.get("grid_mapping")
    if found is None and gm is not None and gm in ds:
        found = ds[gm].attrs.get("crs_wkt") or ds[gm].attrs.get("spatial_ref")
    if found is None and xname != "x":
        found = "EPSG:4326"  # CF longitude/latitude coordinates
    if found is None:
        raise LayerCRSError("the NetCDF raster has no CRS", path=path,
                            fix="add a 'crs' attribute or a CF grid_mapping, or pass crs='EPSG:28992'")
    da = da.transpose(yname, xname)
    x, y = da[xname].values.astype(float), da[yname].values.astype(float)
    if len(x) < 2 or len(y) < 2:
        raise LayerFileError(f"the raster needs at least 2 x 2 cells, got {len(y)} x {len(x)}", path=path)
    values = da.values.astype(float)
    if y[1] > y[0]:  # south-up: flip to north-up as GDAL expects
        y, values = y[::-1], values[::-1]
    dx, dy = float(x[1] - x[0]), float(y[1] - y[0])
    transform = Affine(dx, 0, x[0] - dx / 2, 0, dy, y[0] - dy / 2)
    fill = da.attrs.get("_FillValue", da.encoding.get("_FillValue"))
    if fill is not None:
        values[values == fill] = np.nan
    return values, transform, str(found)


def zonal_mean(path: str | PathLike[str] | xr.DataArray, sites: gpd.GeoDataFrame, crs: str | None = None) -> np.ndarray:
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


def resample_to(path: str | PathLike[str] | xr.DataArray, ds: xr.Dataset, crs: str | None = None) -> np.ndarray:
    """The raster resampled (bilinear) onto the grid of surface `ds` (EPSG:28992)."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    values, transform, rcrs = open_raster(path, crs)
    out = np.full((ds.sizes["y"], ds.sizes["x"]), np.nan)
    reproject(values, out, src_transform=transform, src_crs=rcrs, src_nodata=np.nan,
              dst_transform=rasterio.Affine.from_gdal(*ds.attrs["transform"]), dst_crs=ds.attrs["crs"],
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    return out
