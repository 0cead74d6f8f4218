"""User rasters as metrics: GeoTIFF (rasterio) or NetCDF (xarray), sampled at sites (zonal
mean over each polygon) and resampled onto a surface grid — CRS and nodata checked.

A criterion can use such a metric by naming it ``raster_<name>`` in the criteria file and
passing ``rasters={"raster_<name>": path}`` to :func:`siting.evaluate` or :func:`siting.surface`.
"""

from __future__ import annotations

from os import PathLike
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import xarray as xr

from .errors import LayerCRSError, LayerFileError, LayerValueError, RasterCoverageWarning

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


def _raster_bounds(values: np.ndarray, transform) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a north-up raster, in its own CRS."""
    x0, y0 = transform.c, transform.f
    x1, y1 = x0 + transform.a * values.shape[1], y0 + transform.e * values.shape[0]
    return min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)


def _fmt_bounds(b) -> str:
    return f"x {b[0]:.6g} to {b[2]:.6g}, y {b[1]:.6g} to {b[3]:.6g}"


def _name(path) -> str:
    """How a message names the raster (a file's path is named by the error itself)."""
    return "the raster (an in-memory DataArray)" if isinstance(path, xr.DataArray) else "the raster"


def _check_overlap(path, values: np.ndarray, transform, rcrs: str, target_bounds_rd, what: str) -> None:
    """A raster whose extent misses `target_bounds_rd` (xmin, ymin, xmax, ymax in EPSG:28992:
    the sites or the surface) is an error naming the file, its bounds and its CRS — mostly a
    wrong CRS (degrees declared as metres, or the reverse)."""
    from pyproj import CRS
    from rasterio.warp import transform_bounds

    rb = _raster_bounds(values, transform)
    try:
        tb = transform_bounds("EPSG:28992", rcrs, *target_bounds_rd, densify_pts=21)
    except Exception:  # noqa: BLE001 - no overlap can be shown in that CRS
        tb = (np.nan,) * 4
    if all(np.isfinite(tb)) and rb[0] < tb[2] and tb[0] < rb[2] and rb[1] < tb[3] and tb[1] < rb[3]:
        return
    crs = CRS.from_user_input(rcrs)
    name = crs.to_string() if crs.to_epsg() is None else f"EPSG:{crs.to_epsg()}"
    degrees = -180 <= rb[0] and rb[2] <= 360 and -90 <= rb[1] and rb[3] <= 90
    if crs.is_geographic and not degrees:
        hint = "; its bounds are not degrees although its CRS is geographic: probably metres (e.g. EPSG:28992)"
    elif not crs.is_geographic and degrees and (rb[2] - rb[0]) < 400 and (rb[3] - rb[1]) < 200:
        hint = "; its bounds look like degrees although its CRS is projected: probably EPSG:4326"
    else:
        hint = ""
    shown = _fmt_bounds(tb) if all(np.isfinite(tb)) else "(not expressible in that CRS)"
    raise LayerCRSError(
        f"{_name(path)} does not overlap the {what}: it covers {_fmt_bounds(rb)} in {name}, the "
        f"{what} lie at {shown} in that CRS{hint}",
        path=path if not isinstance(path, xr.DataArray) else None,
        fix="give the raster its real CRS (gdal_edit.py -a_srs EPSG:28992 file.tif; for NetCDF a 'crs' attribute "
        f"or crs=...), or a raster that covers the {what}",
    )


def zonal_mean(path: str | PathLike[str] | xr.DataArray, sites: gpd.GeoDataFrame, crs: str | None = None,
               require_cover: bool = True) -> np.ndarray:
    """Mean of the raster's valid cells inside each site polygon (cells whose centre lies
    inside; the cell under the site's centre for sites smaller than a cell). NaN where none.

    With `require_cover` (default), a raster that does not overlap the sites, or has no valid
    value at any of them, is a :class:`~siting.errors.LayerCRSError` /
    :class:`~siting.errors.LayerValueError`, and sites it leaves without a value get a
    :class:`~siting.errors.RasterCoverageWarning` (NaN fails a hard criterion, scores 0 on a
    soft one)."""
    from rasterio import features

    values, transform, rcrs = open_raster(path, crs)
    if require_cover:
        _check_overlap(path, values, transform, rcrs, tuple(sites.to_crs("EPSG:28992").total_bounds), "sites")
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
    if require_cover:
        _check_sampled(path, out, sites)
    return out


def _check_sampled(path, out: np.ndarray, sites: gpd.GeoDataFrame) -> None:
    gap = np.isnan(out)
    if not gap.any():
        return
    ids = (sites["id"].astype(str).to_numpy() if "id" in sites.columns else np.array([f"row {i}" for i in range(len(out))]))
    if gap.all():
        raise LayerValueError(
            f"{_name(path)} has no valid value at any of the {len(out)} site(s): every cell there is "
            "nodata (or NaN)",
            path=path if not isinstance(path, xr.DataArray) else None,
            fix="check the raster's nodata value and that it holds data where the sites are",
        )
    shown = ", ".join(ids[gap][:8]) + (f" and {int(gap.sum()) - 8} more" if gap.sum() > 8 else "")
    warnings.warn(
        f"{_name(path) if isinstance(path, xr.DataArray) else f'the raster {str(path)!r}'} gives no value "
        f"(outside it, or nodata) for {int(gap.sum())} of {len(out)} "
        f"site(s): {shown}; they fail a hard criterion on it and score 0 on a soft one",
        RasterCoverageWarning,
        stacklevel=3,
    )


def resample_to(path: str | PathLike[str] | xr.DataArray, ds: xr.Dataset, crs: str | None = None,
                require_cover: bool = True) -> np.ndarray:
    """The raster resampled (bilinear) onto the grid of surface `ds` (EPSG:28992).

    With `require_cover` (default), a raster that does not overlap the surface, or gives no
    valid value on it, is an error naming the file, its bounds and its CRS; cells it does not
    reach are NaN (a regional raster)."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    values, transform, rcrs = open_raster(path, crs)
    dst = rasterio.Affine.from_gdal(*ds.attrs["transform"])
    if require_cover:
        _check_overlap(path, values, transform, rcrs, _grid_bounds(dst, (ds.sizes["y"], ds.sizes["x"])), "surface")
    out = np.full((ds.sizes["y"], ds.sizes["x"]), np.nan)
    reproject(values, out, src_transform=transform, src_crs=rcrs, src_nodata=np.nan,
              dst_transform=dst, dst_crs=ds.attrs["crs"],
              dst_nodata=np.nan, resampling=Resampling.bilinear)
    if require_cover:
        check_some_valid(path, not np.isnan(out).all())
    return out


def _grid_bounds(transform, shape) -> tuple[float, float, float, float]:
    return _raster_bounds(np.empty(shape, dtype=bool), transform)


def check_overlaps_grid(path: str | PathLike[str] | xr.DataArray, transform, shape: tuple[int, int],
                        crs: str | None = None) -> None:
    """The overlap check of :func:`resample_to` for a surface grid given by its `transform` and
    `shape` (rows, columns), without resampling (the tiled surface resamples tile by tile)."""
    values, rtransform, rcrs = open_raster(path, crs)
    _check_overlap(path, values, rtransform, rcrs, _grid_bounds(transform, shape), "surface")


def check_some_valid(path, any_valid: bool) -> None:
    """A raster that gives no valid value on the surface grid is an error."""
    if not any_valid:
        raise LayerValueError(
            f"{_name(path)} gives no valid value on the surface grid: every cell it reaches is nodata "
            "(or NaN)",
            path=path if not isinstance(path, xr.DataArray) else None,
            fix="check the raster's nodata value and that it holds data in the Netherlands",
        )
