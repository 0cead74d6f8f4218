"""Suitability surfaces: every cell of the Netherlands scored, the hard conditions as a mask.

``surface()`` builds an ``xarray.Dataset`` on a regular grid over Dutch land in EPSG:28992
(cell centres ``x``, ``y``; ``y`` descending, as in a GeoTIFF). Distance fields are vectorised:
exact KD-tree distances to point layers (``scipy.spatial.cKDTree``) and Euclidean distance
transforms of rasterised line and polygon layers (``scipy.ndimage.distance_transform_edt``;
error at most half a cell diagonal). The criteria are the same file as for listed sites,
applied cell by cell; the *space* condition applies to regions, not cells, and is left to
:func:`locate`. Grid metrics come from the hosting capacity of the nearest in-service
380/220 kV station, per scenario (AC, N-1).
"""

from __future__ import annotations

import math
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from rasterio import features
from rasterio.transform import from_origin
from scipy import ndimage
from scipy.spatial import cKDTree

from ._progress import progress
from .candidates import ehv_stations
from .climate import FREE_COOLING_C, climate_field
from .criteria import CriteriaSet, load_criteria
from .errors import ConfigError
from .layers import WORK_CRS, Layers, load_layers
from .metrics import CONGESTION_SCORE, FIBRE_KM_PER_MS, FIBRE_ROUTE_FACTOR, METRICS, _in_year, station_congestion

__all__ = ["surface", "locate", "write_raster", "read_raster"]

#: Cells within this distance of a population centre are excluded (housing buffer) [m].
HOUSING_BUFFER_M = 1_000.0


def _grid(boundary: gpd.GeoDataFrame, res: float):
    xmin, ymin, xmax, ymax = boundary.total_bounds
    xmin, ymin = math.floor(xmin / res) * res, math.floor(ymin / res) * res
    xmax, ymax = math.ceil(xmax / res) * res, math.ceil(ymax / res) * res
    width, height = int(round((xmax - xmin) / res)), int(round((ymax - ymin) / res))
    transform = from_origin(xmin, ymax, res, res)
    x = xmin + res * (np.arange(width) + 0.5)
    y = ymax - res * (np.arange(height) + 0.5)
    return transform, x, y


def _burn(geoms, shape, transform, all_touched=True) -> np.ndarray:
    geoms = [g for g in geoms if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(shape, dtype=bool)
    return features.rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0,
                              all_touched=all_touched, dtype="uint8").astype(bool)


def _edt_km(mask: np.ndarray, res: float) -> np.ndarray:
    """Distance [km] from every cell centre to the nearest burnt cell."""
    if not mask.any():
        return np.full(mask.shape, np.inf)
    return ndimage.distance_transform_edt(~mask) * res / 1000.0


def _kd_km(points: gpd.GeoSeries, xx: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance [km] to, and index of, the nearest point, for every cell."""
    if len(points) == 0:
        return np.full(xx.shape, np.inf), np.full(xx.shape, -1)
    tree = cKDTree(np.column_stack([points.x, points.y]))
    d, i = tree.query(np.column_stack([xx.ravel(), yy.ravel()]))
    return (d / 1000.0).reshape(xx.shape), i.reshape(xx.shape)


def surface(layers: Layers | None = None, criteria: str | PathLike[str] | CriteriaSet = "ecorys-2025",
            resolution_m: float = 250.0, year: int = 2030, it_load_mw: float = 300.0, pue: float = 1.2,
            pf: float = 0.98, scenario: str | list | None = None, exclusions: gpd.GeoDataFrame | None = None,
            policy: str | None = None, rasters: dict | None = None, climate: str | PathLike[str] | None = None,
            free_cooling_c: float = FREE_COOLING_C) -> xr.Dataset:
    """Score every cell of Dutch land against the report's conditions.

    Parameters
    ----------
    resolution_m : float
        Cell size [m]; 100–1000. 100 m gives about 6 million cells.
    exclusions : GeoDataFrame, optional
        Areas the user excludes (Natura 2000, plans…); any geometry, any CRS.
    Others as :func:`siting.evaluate`.

    Returns
    -------
    xarray.Dataset
        Variables: one per metric used by the criteria, ``<criterion>`` soft scores and hard
        statuses (2 pass, 1 conditional, 0 fail), ``land``, ``excluded``, ``hard_ok`` (every
        hard condition but space holds now), ``hard_conditional`` (holds, some with planned
        elements), ``score`` (weighted soft score, NaN off land). Attributes: ``crs``,
        ``resolution_m``, ``transform`` (GDAL order), parameters.
    """
    from .evaluate import _grid_models, _hard_status, _with_rasters
    from .rasters import resample_to

    if not 100.0 <= float(resolution_m) <= 5000.0:
        raise ConfigError(f"resolution_m must be between 100 and 5000 m, got {resolution_m!r}")
    res = float(resolution_m)
    layers = layers if layers is not None else load_layers()
    crits = load_criteria(criteria).with_policy(policy)
    grid_load = float(it_load_mw) * float(pue)
    transform, x, y = _grid(layers.boundary, res)
    shape = (len(y), len(x))
    xx, yy = np.meshgrid(x, y)
    land = _burn(layers.boundary.geometry, shape, transform, all_touched=False)
    m: dict[str, np.ndarray] = {}

    now = ehv_stations(layers, year)
    every = ehv_stations(layers, year, in_service_only=False)
    m["ehv_dist_km"], nearest_bus = _kd_km(now.geometry, xx, yy)
    m["ehv_dist_any_km"], _ = _kd_km(every.geometry, xx, yy)
    subs = layers.substations
    subs = subs[~subs["id"].str.startswith("xb-")]
    live = _in_year(subs, year)
    for kv in (380, 220):
        m[f"dist_{kv}_km"], _ = _kd_km(subs[live & (subs["kv"] == kv)].geometry, xx, yy)
    off = layers.offshore
    off_live = _in_year(off, year, live=("in_service", "grid_ready"))
    covers = off["capacity_mw"] >= grid_load
    m["offshore_dist_km"], _ = _kd_km(off[off_live].geometry, xx, yy)
    m["offshore_cover_dist_km"], _ = _kd_km(off[off_live & covers].geometry, xx, yy)
    m["offshore_cover_dist_any_km"], _ = _kd_km(off[covers].geometry, xx, yy)
    ix = layers.ix
    amsix = ix[(ix["kind"] == "amsix_pop") & ix["amsix"].isin(["yes", "likely"])]
    m["amsix_dist_km"], _ = _kd_km(amsix.geometry, xx, yy)
    m["amsix_rtt_ms"] = 2.0 * m["amsix_dist_km"] * FIBRE_ROUTE_FACTOR / FIBRE_KM_PER_MS
    m["hub_dist_km"], _ = _kd_km(ix[ix["kind"] == "data_hub"].geometry, xx, yy)
    m["population_dist_km"], _ = _kd_km(layers.population.geometry.representative_point(), xx, yy)
    water = layers.water
    m["coast_dist_km"] = _edt_km(_burn(water[water["kind"] == "coastline"].geometry, shape, transform), res)
    m["water_dist_km"] = _edt_km(_burn(water[water["kind"] != "coastline"].geometry, shape, transform), res)
    m["heat_dist_km"] = _edt_km(_burn(layers.heat_sinks.geometry, shape, transform), res)
    proto = xr.Dataset(coords={"x": x, "y": y}, attrs={"transform": list(transform.to_gdal()), "crs": WORK_CRS})
    field_ = climate_field(layers, free_cooling_c, climate)
    m["free_cooling_hours"] = field_.on_grid(proto)
    wind = layers.plants[(layers.plants["fuel"] == "wind_onshore") & (layers.plants["status"] == "operating")]
    ren = pd.concat([off.loc[off_live, ["capacity_mw", "geometry"]], wind[["capacity_mw", "geometry"]]])
    total = np.zeros(shape)
    for px, py, mw in zip(ren.geometry.x, ren.geometry.y, ren["capacity_mw"].astype(float)):
        total += np.where((xx - px) ** 2 + (yy - py) ** 2 <= 20_000.0**2, mw, 0.0)
    m["renewable_mw_20km"] = total
    sites = layers.sites
    for flag in ("reuse_plant_site", "existing_hub", "hyperscale_zone"):
        sel = sites[sites[flag].fillna(False).astype(bool)] if flag in sites.columns else sites.iloc[0:0]
        m[flag] = _burn(sel.geometry, shape, transform)
    score_of = now["station"].map(station_congestion(layers)).fillna("unknown").map(CONGESTION_SCORE).to_numpy(float)
    m["congestion_score"] = score_of[nearest_bus]

    # grid: hosting capacity of the nearest in-service station's bus, per scenario
    models, planned = _grid_models(layers, year, scenario)
    heads, passes = [], []
    for name, model in progress(models.items(), "hosting capacity (scenarios)", min_items=1):
        h = model.hosting_capacity(pf=pf)["hosting_mw"]
        hv = now["id"].map(h).to_numpy(float)[nearest_bus]
        heads.append(hv - grid_load)
        passes.append(hv >= grid_load)
    m["grid_headroom_mw"] = np.min(heads, axis=0)
    m["grid_pass_share"] = np.mean(passes, axis=0)
    heads = []
    for model in planned.values():
        h = model.hosting_capacity(pf=pf)["hosting_mw"]
        heads.append(now["id"].map(h).to_numpy(float)[nearest_bus] - grid_load)
    m["grid_headroom_planned_mw"] = np.min(heads, axis=0)
    m["area_ha"] = np.full(shape, np.nan)  # space is judged on regions (locate), not cells

    # exclusions: open water and sea (off the land mask), housing buffers, the user's areas
    excluded = m["population_dist_km"] * 1000.0 < HOUSING_BUFFER_M
    excluded |= _burn(water[water["kind"].isin(["lake", "estuary", "sea"])].geometry, shape, transform, all_touched=False)
    if exclusions is not None:
        if exclusions.crs is None:
            raise ConfigError("exclusions has no CRS; set it with .set_crs(...)")
        excluded |= _burn(exclusions.to_crs(WORK_CRS).geometry, shape, transform)

    # user rasters resampled onto the grid; criteria naming a raster that was not given fail here
    m.update(_with_rasters({}, rasters, crits, lambda path: resample_to(path, proto)))
    flat = pd.DataFrame({k: v.ravel() for k, v in m.items()})
    data = {k: (("y", "x"), v.astype("float32") if v.dtype != bool else v) for k, v in m.items()}
    hard_ok = land & ~excluded
    hard_cond = hard_ok.copy()
    for c in crits.hard:
        if c.metric == "area_ha":
            continue
        st = _hard_status(c, flat).reshape(shape)
        data[f"{c.id}_status"] = (("y", "x"), st.astype("uint8"))
        hard_ok &= st == 2
        hard_cond &= st >= 1
    score = np.zeros(shape)
    for c in crits.soft:
        sc = c.score(flat[c.metric]).reshape(shape)
        data[f"{c.id}_score"] = (("y", "x"), sc.astype("float32"))
        score += c.weight * sc
    data["land"] = (("y", "x"), land)
    data["excluded"] = (("y", "x"), excluded & land)
    data["hard_ok"] = (("y", "x"), hard_ok)
    data["hard_conditional"] = (("y", "x"), hard_cond)
    data["score"] = (("y", "x"), np.where(land, score, np.nan).astype("float32"))
    ds = xr.Dataset(data, coords={"x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate"}),
                                  "y": ("y", y, {"units": "m", "standard_name": "projection_y_coordinate"})})
    for k in m:
        if k in METRICS:
            ds[k].attrs.update(units=METRICS[k][0], long_name=METRICS[k][1])
    ds.attrs.update(crs=WORK_CRS, resolution_m=res, transform=list(transform.to_gdal()), year=year,
                    it_load_mw=float(it_load_mw), pue=float(pue), grid_load_mw=grid_load,
                    scenarios=",".join(models), criteria=crits.name, free_cooling_c=field_.threshold_c,
                    climate=field_.source, Conventions="CF-1.8",
                    title="siting suitability surface (Ecorys 2025 conditions)")
    return ds


def locate(ds: xr.Dataset, n: int = 10, min_ha: float = 30.0, max_ha: float = 60.0,
           use_conditional: bool = True) -> gpd.GeoDataFrame:
    """The best contiguous regions of `ds` that meet the hard mask, as polygons for
    :func:`siting.evaluate` (``sites=``).

    Each connected part of the mask (``hard_conditional`` when `use_conditional`, else
    ``hard_ok``) large enough for `min_ha` yields one region: grown from its best cell by
    adding the best-scoring neighbour until the region reaches `min_ha` (never beyond
    `max_ha`). Regions are ranked by mean score; the best `n` are returned with ``id``,
    ``name``, ``area_ha``, ``score``, ``source``.
    """
    if not 0 < min_ha <= max_ha:
        raise ConfigError(f"need 0 < min_ha <= max_ha, got {min_ha}, {max_ha}")
    res = float(ds.attrs["resolution_m"])
    cell_ha = res * res / 10_000.0
    need = max(1, math.ceil(min_ha / cell_ha))
    cap = max(need, math.floor(max_ha / cell_ha))
    mask = ds["hard_conditional" if use_conditional else "hard_ok"].values.astype(bool)
    score = np.nan_to_num(ds["score"].values.astype(float), nan=-1.0)
    labels, count = ndimage.label(mask)
    sizes = np.bincount(labels.ravel())
    transform = from_origin(float(ds.x[0]) - res / 2, float(ds.y[0]) + res / 2, res, res)
    regions = []
    for lab in range(1, count + 1):
        if sizes[lab] < need:
            continue
        cells = np.argwhere(labels == lab)
        best = cells[np.argmax(score[cells[:, 0], cells[:, 1]])]
        chosen = {tuple(best)}
        frontier = {}
        def add_neighbours(r, c):
            for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                rr, cc = r + dr, c + dc
                if 0 <= rr < mask.shape[0] and 0 <= cc < mask.shape[1] and labels[rr, cc] == lab and (rr, cc) not in chosen:
                    frontier[(rr, cc)] = score[rr, cc]
        add_neighbours(*best)
        while len(chosen) < need and frontier:
            nxt = max(sorted(frontier), key=lambda k: frontier[k])
            del frontier[nxt]
            chosen.add(nxt)
            add_neighbours(*nxt)
        if len(chosen) < need or len(chosen) > cap:
            continue
        grid = np.zeros(mask.shape, dtype="uint8")
        rows, cols = zip(*chosen)
        grid[list(rows), list(cols)] = 1
        polys = [shapely.geometry.shape(g) for g, v in features.shapes(grid, mask=grid == 1, transform=transform) if v == 1]
        geom = shapely.union_all(polys)
        regions.append({"geometry": geom, "area_ha": len(chosen) * cell_ha,
                        "score": float(np.mean([score[r, c] for r, c in chosen]))})
    if not regions:
        return gpd.GeoDataFrame({"id": [], "name": [], "area_ha": [], "score": [], "source": []},
                                geometry=[], crs=ds.attrs["crs"])
    out = gpd.GeoDataFrame(regions, geometry="geometry", crs=ds.attrs["crs"]).sort_values(
        ["score", "area_ha"], ascending=[False, False], kind="stable").head(n).reset_index(drop=True)
    out.insert(0, "id", [f"region-{i + 1:02d}" for i in range(len(out))])
    out.insert(1, "name", [f"Located region {i + 1} ({a:.0f} ha)" for i, a in enumerate(out["area_ha"])])
    out["source"] = f"siting.locate on a {res:g} m surface"
    out["footprint_indicative"] = True
    return out


def write_raster(ds: xr.Dataset, path: str | PathLike[str], variables: list[str] | None = None,
                 overwrite: bool = False) -> Path:
    """Write `ds` as a Cloud-Optimised GeoTIFF (``.tif``: one float32 band per variable, band
    names, CRS, nodata NaN, overviews) or CF NetCDF (``.nc``); atomically, never overwriting
    silently. Read back with :func:`read_raster`."""
    import os
    import tempfile

    import rasterio

    path = Path(path)
    if path.exists() and not overwrite:
        raise ConfigError(f"'{path}' exists; not overwriting. Fix: choose another name or pass overwrite=True")
    if path.suffix.lower() not in (".tif", ".tiff", ".nc"):
        raise ConfigError(f"cannot write '{path}': use .tif (COG) or .nc (NetCDF)")
    names = variables or [v for v in ds.data_vars if ds[v].dims == ("y", "x")]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        if path.suffix.lower() == ".nc":
            out = ds[names].copy()
            for v in names:
                if out[v].dtype == bool:
                    out[v] = out[v].astype("uint8")
                out[v].attrs["grid_mapping"] = "spatial_ref"
            out["spatial_ref"] = xr.DataArray(0, attrs={"crs_wkt": _wkt(ds.attrs["crs"]), "spatial_ref": _wkt(ds.attrs["crs"]),
                                                        "GeoTransform": " ".join(str(t) for t in ds.attrs["transform"])})
            out.attrs = {k: (",".join(map(str, v)) if isinstance(v, list) else v) for k, v in ds.attrs.items()}
            out.to_netcdf(tmp, engine="scipy")
        else:
            t = ds.attrs["transform"]
            transform = rasterio.Affine.from_gdal(*t)
            stack = np.stack([ds[v].values.astype("float32") for v in names])
            with rasterio.open(tmp, "w", driver="COG", width=stack.shape[2], height=stack.shape[1], count=len(names),
                               dtype="float32", crs=ds.attrs["crs"], transform=transform, nodata=np.nan,
                               compress="deflate") as dst:
                dst.write(stack)
                for i, v in enumerate(names, start=1):
                    dst.set_band_description(i, v)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def read_raster(path: str | PathLike[str]) -> xr.Dataset:
    """Read a file written by :func:`write_raster` back into a Dataset (float32 bands)."""
    import rasterio

    path = Path(path)
    if path.suffix.lower() == ".nc":
        return xr.open_dataset(path, engine="scipy").load()
    with rasterio.open(path) as src:
        if src.crs is None:
            raise ConfigError(f"raster '{path}' has no CRS; set it (e.g. gdal_edit.py -a_srs EPSG:28992)")
        arr = src.read()
        t = src.transform
        x = t.c + t.a * (np.arange(src.width) + 0.5)
        y = t.f + t.e * (np.arange(src.height) + 0.5)
        names = [d or f"band{i + 1}" for i, d in enumerate(src.descriptions)]
        ds = xr.Dataset({n: (("y", "x"), arr[i]) for i, n in enumerate(names)}, coords={"x": x, "y": y})
        ds.attrs.update(crs=src.crs.to_string(), transform=list(t.to_gdal()), resolution_m=float(t.a))
    return ds


def _wkt(crs: str) -> str:
    from pyproj import CRS

    return CRS.from_user_input(crs).to_wkt()
