"""Suitability surfaces: every cell of the Netherlands scored, the hard conditions as a mask.

``surface()`` builds an ``xarray.Dataset`` on a regular grid over Dutch land in EPSG:28992
(cell centres ``x``, ``y``; ``y`` descending, as in a GeoTIFF). Distance fields are vectorised:
exact KD-tree distances to point layers (``scipy.spatial.cKDTree``) and Euclidean distance
transforms of rasterised line and polygon layers (``scipy.ndimage.distance_transform_edt``;
error at most half a cell diagonal). Land is the boundary layer minus the water layer's
lakes, estuaries and sea; built-up residential land (the ``built_up`` layer) and a buffer set by
the criteria file (``built_up_buffer_m``) are excluded. The criteria are the same file as for listed sites,
applied cell by cell; the *space* condition applies to regions, not cells, and is left to
:func:`locate`. Grid metrics come from the hosting capacity of the nearest in-service
380/220 kV station, per scenario (AC, N-1).
"""

from __future__ import annotations

import errno
import math
import shutil
from dataclasses import dataclass
from functools import cache
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import xarray as xr
from affine import Affine
from rasterio import features
from rasterio.transform import from_origin
from scipy import ndimage
from scipy.spatial import cKDTree

from . import _validate as V
from ._progress import progress
from .candidates import ehv_stations
from .climate import FREE_COOLING_C, climate_field
from .criteria import CriteriaSet, load_criteria
from .errors import ConfigError, LayerFileError, ParameterError, type_phrase
from .layers import WORK_CRS, Layers, load_layers, read_layer
from .metrics import CONGESTION_SCORE, FIBRE_KM_PER_MS, FIBRE_ROUTE_FACTOR, METRICS, _in_year, station_congestion

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["surface", "locate", "write_raster", "read_raster", "OPEN_WATER_KINDS"]

#: Kinds of the water layer that are open water: never land in a surface.
OPEN_WATER_KINDS = ("lake", "estuary", "sea")

#: The finest cell size [m] of a surface computed with Dask (``client=``, ``--dask``); in one
#: process the finest is 100 m (about 3.5 GB; 25 m would need about 56 GB).
DISTRIBUTED_MIN_RESOLUTION_M = 10.0


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
    geoms = [g for g in _near(geoms, shape, transform) if g is not None and not g.is_empty]
    if not geoms:
        return np.zeros(shape, dtype=bool)
    return features.rasterize(((g, 1) for g in geoms), out_shape=shape, transform=transform, fill=0,
                              all_touched=all_touched, dtype="uint8").astype(bool)


def _near(geoms, shape, transform):
    """The geometries whose bounding box reaches the raster of `shape` and `transform` (widened by
    a cell): the only ones that can burn a cell of it (a tile of a surface burns only its own)."""
    geoms = np.asarray(geoms, dtype=object)
    if len(geoms) == 0:
        return geoms
    h, w = shape
    x0, x1 = sorted((transform.c - transform.a, transform.c + transform.a * (w + 1)))
    y0, y1 = sorted((transform.f - transform.e, transform.f + transform.e * (h + 1)))
    b = shapely.bounds(geoms)  # NaN for None and empty geometries: never near
    return geoms[(b[:, 0] <= x1) & (b[:, 2] >= x0) & (b[:, 1] <= y1) & (b[:, 3] >= y0)]


def _open_water(water: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The water layer's lake, estuary and sea polygons."""
    return water[water["kind"].isin(OPEN_WATER_KINDS) & water.geom_type.isin(["Polygon", "MultiPolygon"])]


def _land_mask(boundary, open_water, shape, transform) -> np.ndarray:
    """Cells whose centre lies on the boundary and not in open water (GeoDataFrames or arrays of
    geometries)."""
    return _burn(getattr(boundary, "geometry", boundary), shape, transform, all_touched=False) & ~_burn(
        getattr(open_water, "geometry", open_water), shape, transform, all_touched=False)


def _edt_km(mask: np.ndarray, res: float) -> np.ndarray:
    """Distance [km] from every cell centre to the nearest burnt cell."""
    if not mask.any():
        return np.full(mask.shape, np.inf, dtype=np.float32)
    d = ndimage.distance_transform_edt(~mask, return_indices=False)
    d *= res / 1000.0
    return d.astype(np.float32)


def _kd_km(points: gpd.GeoSeries | np.ndarray, xx: np.ndarray, yy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distance [km] to, and index of, the nearest point (a GeoSeries or (n, 2) coordinates),
    for every cell."""
    if len(points) == 0:
        return np.full(xx.shape, np.inf, dtype=np.float32), np.full(xx.shape, -1)
    tree = cKDTree(points if isinstance(points, np.ndarray) else np.column_stack([points.x, points.y]))
    d, i = tree.query(np.column_stack([xx.ravel(), yy.ravel()]))
    return (d / 1000.0).astype(np.float32).reshape(xx.shape), i.reshape(xx.shape)


def _within_sum(px: np.ndarray, py: np.ndarray, values: np.ndarray, x: np.ndarray, y: np.ndarray,
                radius_m: float) -> np.ndarray:
    """Sum of `values` of the points within `radius_m` of every cell centre (each point touches
    only the window of cells around it)."""
    out = np.zeros((len(y), len(x)), dtype=np.float32)
    for qx, qy, v in zip(px, py, values):
        c0, c1 = np.searchsorted(x, qx - radius_m, "left"), np.searchsorted(x, qx + radius_m, "right")
        r0, r1 = np.searchsorted(-y, -(qy + radius_m), "left"), np.searchsorted(-y, -(qy - radius_m), "right")  # y descends
        if c0 >= c1 or r0 >= r1:
            continue
        inside = (x[None, c0:c1] - qx) ** 2 + (y[r0:r1, None] - qy) ** 2 <= radius_m**2
        out[r0:r1, c0:c1] += np.where(inside, np.float32(v), np.float32(0.0))
    return out


@dataclass(frozen=True)
class _Study:
    """Everything a window of a surface needs, prepared once: the national grid, the layers cut
    down to the geometries and points each metric reads, the grid results per station, the
    criteria. Small enough to ship to Dask workers once (see :mod:`siting._tiled`)."""

    res: float
    transform: object  # affine.Affine of the national grid
    x: np.ndarray  # cell centres of the national grid [m]
    y: np.ndarray
    points: dict  # metric -> (n, 2) points whose KD-tree distance it is
    masks: dict  # metric -> geometries whose rasterised distance (EDT) it is
    boundary: np.ndarray
    open_water: np.ndarray
    excluded: tuple  # (geometries, all_touched) burnt into ``excluded``
    flags: dict  # site flag -> geometries
    ren_xy: np.ndarray
    ren_mw: np.ndarray
    congestion: np.ndarray  # per in-service station (float32)
    grid: dict  # metric -> per in-service station (float64), before the cast to float32
    climate: object  # ClimateField
    rasters: dict | None
    crits: CriteriaSet
    attrs: dict

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.y), len(self.x)


def _xy(points) -> np.ndarray:
    return np.column_stack([points.x, points.y]) if len(points) else np.empty((0, 2))


def _study(layers: Layers, crits: CriteriaSet, res: float, year: int, grid_load: float, it_load_mw: float, pue: float,
           pf: float, scenario, exclusions, rasters, climate, free_cooling_c) -> _Study:
    """The inputs of :func:`surface` for :func:`_window`: layer selections, grid results."""
    from .evaluate import _grid_models

    transform, x, y = _grid(layers.boundary, res)
    shape = (len(y), len(x))
    water = layers.water
    open_water = _open_water(water)
    now = ehv_stations(layers, year)
    every = ehv_stations(layers, year, in_service_only=False)
    pts = {"ehv_dist_km": _xy(now.geometry), "ehv_dist_any_km": _xy(every.geometry)}
    subs = layers.substations
    subs = subs[~subs["id"].str.startswith("xb-")]
    live = _in_year(subs, year)
    for kv in (380, 220):
        pts[f"dist_{kv}_km"] = _xy(subs[live & (subs["kv"] == kv)].geometry)
    off = layers.offshore
    off_live = _in_year(off, year, live=("in_service", "grid_ready"))
    covers = off["capacity_mw"] >= grid_load
    pts["offshore_dist_km"] = _xy(off[off_live].geometry)
    pts["offshore_cover_dist_km"] = _xy(off[off_live & covers].geometry)
    pts["offshore_cover_dist_any_km"] = _xy(off[covers].geometry)
    ix = layers.ix
    amsix = ix[(ix["kind"] == "amsix_pop") & ix["amsix"].isin(["yes", "likely"])]
    pts["amsix_dist_km"] = _xy(amsix.geometry)
    pts["hub_dist_km"] = _xy(ix[ix["kind"] == "data_hub"].geometry)
    pts["population_dist_km"] = _xy(layers.population.geometry.representative_point())
    masks = {"built_up_dist_km": layers.built_up.geometry.to_numpy(),
             "coast_dist_km": water[water["kind"] == "coastline"].geometry.to_numpy(),
             "water_dist_km": water[water["kind"] != "coastline"].geometry.to_numpy(),
             "heat_dist_km": layers.heat_sinks.geometry.to_numpy()}
    wind = layers.plants[(layers.plants["fuel"] == "wind_onshore") & (layers.plants["status"] == "operating")]
    ren = pd.concat([off.loc[off_live, ["capacity_mw", "geometry"]], wind[["capacity_mw", "geometry"]]])
    sites = layers.sites
    flags = {}
    for flag in ("reuse_plant_site", "existing_hub", "hyperscale_zone"):
        sel = sites[sites[flag].fillna(False).astype(bool)] if flag in sites.columns else sites.iloc[0:0]
        flags[flag] = sel.geometry.to_numpy()
    congestion = now["station"].map(station_congestion(layers)).fillna("unknown").map(CONGESTION_SCORE).to_numpy(float)

    # grid: hosting capacity of each in-service station's bus, per scenario; a cell takes its
    # nearest station's values
    models, planned = _grid_models(layers, year, scenario)
    heads, heads_rd, passes = [], [], []
    for name, model in progress(models.items(), "hosting capacity (scenarios)", min_items=1):
        table = model.hosting_capacity(pf=pf)
        hv = now["id"].map(table["firm_mw"]).to_numpy(float)
        heads.append(hv - grid_load)
        heads_rd.append(now["id"].map(table["with_redispatch_mw"]).to_numpy(float) - grid_load)
        passes.append(hv >= grid_load)
    grid = {"grid_headroom_mw": np.min(heads, axis=0), "grid_headroom_redispatch_mw": np.min(heads_rd, axis=0),
            "grid_pass_share": np.mean(passes, axis=0)}
    heads = []
    for model in planned.values():
        h = model.hosting_capacity(pf=pf, redispatch=False)["firm_mw"]
        heads.append(now["id"].map(h).to_numpy(float) - grid_load)
    grid["grid_headroom_planned_mw"] = np.min(heads, axis=0)

    # exclusions: built-up land and its buffer (any cell touching it), open water (also off the
    # land mask), cells reaching beyond the boundary, the user's areas
    buffer_m = crits.built_up_buffer_m
    built = layers.built_up.geometry
    grid_box = shapely.box(transform.c, transform.f - shape[0] * res, transform.c + shape[1] * res, transform.f)
    outside = grid_box.difference(layers.boundary.union_all())
    excluded = [((built.buffer(buffer_m, quad_segs=4) if buffer_m > 0 else built).to_numpy(), True),
                (open_water.geometry.to_numpy(), True), (np.array([outside], dtype=object), True)]
    if exclusions is not None:
        if exclusions.crs is None:
            raise ConfigError("exclusions has no CRS; set it with .set_crs(...)")
        excluded.append((exclusions.to_crs(WORK_CRS).geometry.to_numpy(), True))
    field_ = climate_field(layers, free_cooling_c, climate)
    attrs = dict(crs=WORK_CRS, resolution_m=res, transform=list(transform.to_gdal()), year=year,
                 it_load_mw=float(it_load_mw), pue=float(pue), grid_load_mw=grid_load,
                 scenarios=",".join(models), criteria=crits.name, free_cooling_c=field_.threshold_c,
                 built_up_buffer_m=float(buffer_m), climate=field_.source, Conventions="CF-1.8",
                 title="siting suitability surface (Ecorys 2025 conditions)")
    return _Study(res=res, transform=transform, x=x, y=y, points=pts, masks=masks,
                  boundary=layers.boundary.geometry.to_numpy(), open_water=open_water.geometry.to_numpy(),
                  excluded=tuple(excluded), flags=flags, ren_xy=_xy(ren.geometry),
                  ren_mw=ren["capacity_mw"].to_numpy(float), congestion=congestion.astype(np.float32), grid=grid,
                  climate=field_, rasters=rasters, crits=crits, attrs=attrs)


def _window(study: _Study, rows: slice, cols: slice, edges: dict | None = None) -> dict[str, np.ndarray]:
    """The surface's variables on the cells ``[rows, cols]`` of the national grid.

    Every value is a function of the cell alone (its centre, the layers, the criteria), so a
    window equals the same cells of the whole grid. The one exception is the distance to
    rasterised layers: without `edges` it is the Euclidean distance transform of the window,
    which is exact only when the window is the whole grid; with `edges` (the edge cells of each
    rasterised layer on the whole grid in KD-trees, from :func:`siting._tiled.survey`) it is the same
    distance by a KD-tree on those cells, exact on any window."""
    from .evaluate import _hard_status, _with_rasters
    from .rasters import resample_to

    res, crits = study.res, study.crits
    x, y = study.x[cols], study.y[rows]
    shape = (len(y), len(x))
    transform = study.transform @ Affine.translation(cols.start, rows.start)
    xx, yy = np.meshgrid(x, y)
    land = _land_mask(study.boundary, study.open_water, shape, transform)
    m: dict[str, np.ndarray] = {}
    nearest_bus = None
    for k, xy in study.points.items():
        m[k], i = _kd_km(xy, xx, yy)
        if k == "ehv_dist_km":
            nearest_bus = i
        if k == "amsix_dist_km":
            m["amsix_rtt_ms"] = 2.0 * m["amsix_dist_km"] * FIBRE_ROUTE_FACTOR / FIBRE_KM_PER_MS
    for k, geoms in study.masks.items():
        burnt = _burn(geoms, shape, transform)
        m[k] = _edt_km(burnt, res) if edges is None else _edge_km(burnt, edges[k], rows, cols, res)
    proto = xr.Dataset(coords={"x": x, "y": y}, attrs={"transform": list(transform.to_gdal()), "crs": WORK_CRS})
    m["free_cooling_hours"] = study.climate.on_grid(proto).astype(np.float32)
    m["renewable_mw_20km"] = _within_sum(study.ren_xy[:, 0], study.ren_xy[:, 1], study.ren_mw, x, y, 20_000.0)
    for flag, geoms in study.flags.items():
        m[flag] = _burn(geoms, shape, transform)
    m["congestion_score"] = study.congestion[nearest_bus]
    for k, per_station in study.grid.items():
        m[k] = per_station[nearest_bus].astype(np.float32)
    m["grid_headroom_conditional_mw"] = np.fmax(m["grid_headroom_redispatch_mw"], m["grid_headroom_planned_mw"])
    m["area_ha"] = np.full(shape, np.nan, dtype=np.float32)  # space is judged on regions (locate), not cells
    excluded = np.zeros(shape, dtype=bool)
    for geoms, all_touched in study.excluded:
        excluded |= _burn(geoms, shape, transform, all_touched=all_touched)

    # user rasters resampled onto the grid; criteria naming a raster that was not given fail here
    cover = edges is None  # (the tiled path checks the cover on the whole grid, in its survey)
    m.update(_with_rasters({}, study.rasters, crits, lambda path: resample_to(path, proto, require_cover=cover)))
    flat = pd.DataFrame({k: v.ravel() for k, v in m.items()})
    data = {k: v.astype("float32", copy=False) if v.dtype != bool else v for k, v in m.items()}
    hard_ok = land & ~excluded
    hard_cond = hard_ok.copy()
    for c in crits.hard:
        if c.metric == "area_ha":
            continue
        st = _hard_status(c, flat).reshape(shape)
        data[f"{c.id}_status"] = st.astype("uint8")
        hard_ok &= st == 2
        hard_cond &= st >= 1
    score = np.zeros(shape)
    for c in crits.soft:
        sc = c.score(flat[c.metric]).reshape(shape)
        data[f"{c.id}_score"] = sc.astype("float32")
        score += c.weight * sc
    data["land"] = land
    data["excluded"] = excluded & land
    data["hard_ok"] = hard_ok
    data["hard_conditional"] = hard_cond
    data["score"] = np.where(land, score, np.nan).astype("float32")
    return data


def _edge_km(burnt: np.ndarray, edges: cKDTree | None, rows: slice, cols: slice, res: float) -> np.ndarray:
    """Distance [km] from the cells ``[rows, cols]`` to the nearest burnt cell of the whole grid,
    given a KD-tree on that grid's edge cells (burnt cells with an unburnt 4-neighbour, as
    (row, column); the nearest burnt cell of an unburnt cell is always one of them) and the
    window's own burnt cells. Computed in cell units like :func:`_edt_km` (the square root of a
    whole number, then × `res`), so the two agree to the last bit."""
    if edges is None:  # no edge: nothing burnt anywhere, or everything
        return np.where(burnt, np.float32(0.0), np.float32(np.inf))
    r, c = np.nonzero(~burnt)  # burnt cells are at 0
    d = np.zeros(burnt.shape)
    d[r, c], _ = edges.query(np.column_stack([r + float(rows.start), c + float(cols.start)]))
    d *= res / 1000.0
    return d.astype(np.float32)


def _dataset(study: _Study, data: dict, x: np.ndarray, y: np.ndarray) -> xr.Dataset:
    """The surface Dataset of `data` (numpy or dask arrays on cells `x`, `y`)."""
    ds = xr.Dataset({k: (("y", "x"), v) for k, v in data.items()},
                    coords={"x": ("x", x, {"units": "m", "standard_name": "projection_x_coordinate"}),
                            "y": ("y", y, {"units": "m", "standard_name": "projection_y_coordinate"})})
    for k in data:
        if k in METRICS:
            ds[k].attrs.update(units=METRICS[k][0], long_name=METRICS[k][1])
    ds.attrs.update(study.attrs)
    return ds


def surface(layers: Layers | None = None, criteria: str | PathLike[str] | CriteriaSet = "ecorys-2025",
            resolution_m: float = 250.0, year: int = 2030, it_load_mw: float = 300.0, pue: float = 1.2,
            pf: float = 0.98, scenario: str | list | None = None, exclusions: gpd.GeoDataFrame | None = None,
            policy: str | None = None, rasters: dict | None = None, climate: str | PathLike[str] | None = None,
            free_cooling_c: float = FREE_COOLING_C, client: Client | None = None,
            tile_cells: int = 1024) -> xr.Dataset:
    """Score every cell of Dutch land against the report's conditions.

    Parameters
    ----------
    resolution_m : float
        Cell size [m]; 100–5000 in one process (100 m gives about 6 million cells and needs
        about 3.5 GB), 10–5000 with `client`.
    exclusions : GeoDataFrame, optional
        Areas the user excludes (Natura 2000, plans…); any geometry, any CRS.
    client : dask.distributed.Client, optional
        Compute the surface tile by tile on this Dask cluster. The result is then lazy (dask
        arrays, one chunk per tile) and equal to the single-process one; write it with
        :func:`write_raster`, which fetches and writes one tile at a time, so the whole grid is
        never held in one process. None (default): one process, numpy arrays.
    tile_cells : int
        With `client`: tile edge [cells] (a tile of 1024 × 1024 cells takes about 0.5 GB while
        it is computed).
    Others as :func:`siting.evaluate`.

    Returns
    -------
    xarray.Dataset
        Variables: one per metric used by the criteria, ``<criterion>`` soft scores and hard
        statuses (2 pass, 1 conditional, 0 fail), ``land`` (cell centre on the boundary layer and
        not in open water), ``excluded`` (cells touching built-up land or the
        criteria's ``built_up_buffer_m`` around it, cells touching open water or reaching
        beyond the boundary, the user's exclusions), ``hard_ok`` (every
        hard condition but space holds now), ``hard_conditional`` (holds, some with planned
        elements), ``score`` (weighted soft score, NaN off land). Attributes: ``crs``,
        ``resolution_m``, ``transform`` (GDAL order), parameters.

    Notes
    -----
    With `client`, see :mod:`siting._tiled`: the distances to rasterised layers come from a
    KD-tree on the edge cells of those layers over the whole grid (found in a first pass over
    the tiles) instead of a distance transform of the tile, so that no tile needs a halo and
    every value equals the single-process one.
    """
    from .evaluate import check_climate, check_rasters, check_study, study_scenarios

    if client is not None:
        from ._tiled import check_client

        check_client(client)
        tile_cells = V.integer(tile_cells, "tile_cells", lo=16, hi=16_384, why="the tile edge in cells", example=1024)
    res = check_resolution(resolution_m, distributed=client is not None)
    grid_load, it_load_mw, pue, pf, year, free_cooling_c = check_study(it_load_mw, pue, pf, year, policy,
                                                                       free_cooling_c)
    V.instance(layers, "layers", Layers, what="a Layers (siting.load_layers())", fix="use e.g. layers=siting.load_layers()")
    V.geo_frame(exclusions, "exclusions", what="excluded areas", allow_path=False)
    check_climate(climate)
    crits = load_criteria(criteria).for_situations("snapshots").with_policy(policy)
    rasters = check_rasters(rasters, crits)
    study_scenarios(year, scenario)
    layers = layers if layers is not None else load_layers()
    study = _study(layers, crits, res, year, grid_load, it_load_mw, pue, pf, scenario, exclusions, rasters, climate,
                   free_cooling_c)
    if client is not None:
        from ._tiled import tiled_surface

        return tiled_surface(study, client, tile_cells)
    data = _window(study, slice(0, len(study.y)), slice(0, len(study.x)))
    return _dataset(study, data, study.x, study.y)


def check_resolution(resolution_m, distributed: bool = False) -> float:
    """A surface's cell size [m], checked (:mod:`siting._validate`); finer than 100 m only with
    the distributed engine (`distributed`)."""
    lo, hi = (DISTRIBUTED_MIN_RESOLUTION_M if distributed else V.RESOLUTION_RANGE_M[0]), V.RESOLUTION_RANGE_M[1]
    why = "the cell size; 100 m gives about 6 million cells" + (
        "" if distributed else f"; down to {DISTRIBUTED_MIN_RESOLUTION_M:g} m with Dask (client=, --dask)")
    return V.number(resolution_m, "resolution_m", lo=lo, hi=hi, unit="m", example=250, why=why)


def check_locate(n, min_ha, max_ha, min_separation_m) -> tuple[int, float, float, float]:
    """The region arguments of :func:`locate`, checked (:mod:`siting._validate`)."""
    n = V.count(n, "n", hi=10_000, why="the number of regions", example=10)
    min_ha = V.number(min_ha, "min_ha", lo=0.0, lo_open=True, hi=100_000.0, unit="ha", example=30,
                      why="the smallest region")
    max_ha = V.number(max_ha, "max_ha", lo=0.0, lo_open=True, hi=100_000.0, unit="ha", example=60,
                      why="the largest region")
    if min_ha > max_ha:
        raise ParameterError("min_ha", min_ha, f"at most {{=max_ha:{max_ha:g}}}", problem="the size range is inverted",
                             fix="order it, e.g. {=min_ha:30} and {=max_ha:60}")
    min_separation_m = V.number(min_separation_m, "min_separation_m", lo=0.0, hi=100_000.0, unit="m", example=1000,
                                why="the least distance between two regions, edge to edge")
    return n, min_ha, max_ha, min_separation_m


def locate(ds: xr.Dataset, n: int = 10, min_ha: float = 30.0, max_ha: float = 60.0,
           use_conditional: bool = True, min_separation_m: float = 1000.0,
           layers: Layers | None = None) -> gpd.GeoDataFrame:
    """The best contiguous regions of `ds` that meet the hard mask, as polygons for
    :func:`siting.evaluate` (``sites=``).

    Regions are grown from seeds taken best cell first over the mask (``hard_conditional``
    when `use_conditional`, else ``hard_ok``): from the seed, the best-scoring neighbour is
    added until the region reaches `min_ha` (never beyond `max_ha`). Each region then claims
    the cells within `min_separation_m` of it, so that one large part of the mask can yield
    several distinct regions, and parts too small for `min_ha` yield none. Of the first ``2n``
    regions grown, the `n` with the best mean score are returned with ``id``, ``name``,
    ``area_ha``, ``score``, ``municipality``, ``nearest_station``, ``nearest_station_km``,
    ``source``.

    Each region is named by the municipality its representative point lies in (the nearest
    one when in none) and the nearest 380/220 kV station in service in the surface's year, e.g.
    "Region 3 — Eemsdelta, near Eemshaven Oudeschip 380 kV". Names come from `layers`
    (``municipalities``, ``substations``); default the embedded layers. The mask already keeps
    regions off open water and off built-up land with its buffer (see :func:`surface`).
    """
    _check_surface(ds, "ds")
    n, min_ha, max_ha, min_separation_m = check_locate(n, min_ha, max_ha, min_separation_m)
    use_conditional = V.flag(use_conditional, "use_conditional")
    V.instance(layers, "layers", Layers, what="a Layers (siting.load_layers())", fix="use e.g. layers=siting.load_layers()")
    res = float(ds.attrs["resolution_m"])
    cell_ha = res * res / 10_000.0
    need = max(1, math.ceil(min_ha / cell_ha))  # regions stop at min_ha, so never exceed max_ha
    if need * cell_ha > max_ha:
        raise ConfigError(f"at {res:g} m a region of {min_ha} ha takes {need} cells = {need * cell_ha:g} ha, more than "
                          f"max_ha {max_ha}; use a finer resolution or a larger max_ha")
    mask = ds["hard_conditional" if use_conditional else "hard_ok"].values.astype(bool)
    score = np.nan_to_num(ds["score"].values.astype(float), nan=-1.0)
    labels, _ = ndimage.label(mask)
    sizes = np.bincount(labels.ravel())
    avail = mask & (sizes[labels] >= need)
    h, w = mask.shape
    # cells whose edge lies closer than min_separation_m to a cell of the region (edge to edge)
    sep = int(math.ceil(min_separation_m / res)) + 1 if min_separation_m > 0 else 0
    off = np.maximum(np.abs(np.mgrid[-sep:sep + 1, -sep:sep + 1]) - 1, 0) * res
    disk = np.hypot(off[0], off[1]) < min_separation_m
    transform = from_origin(float(ds.x[0]) - res / 2, float(ds.y[0]) + res / 2, res, res)
    flat = np.flatnonzero(avail)
    seeds = flat[np.argsort(-score.ravel()[flat], kind="stable")]
    regions = []
    for seed in seeds:
        if len(regions) >= 2 * n:
            break
        r0, c0 = divmod(int(seed), w)
        if not avail[r0, c0]:
            continue
        chosen = _grow(r0, c0, avail, score, need)
        rows, cols = np.array([rc[0] for rc in chosen]), np.array([rc[1] for rc in chosen])
        if len(chosen) < need:  # the seed's remaining part is too small: all of it was reached
            avail[rows, cols] = False
            continue
        # claim the region and the cells within min_separation_m of it
        ra, rb, ca, cb = max(rows.min() - sep, 0), min(rows.max() + sep + 1, h), max(cols.min() - sep, 0), min(cols.max() + sep + 1, w)
        block = np.zeros((rb - ra, cb - ca), dtype=bool)
        block[rows - ra, cols - ca] = True
        if sep > 0:
            block = ndimage.binary_dilation(block, structure=disk)
        avail[ra:rb, ca:cb] &= ~block
        grid = np.zeros(mask.shape, dtype="uint8")
        grid[rows, cols] = 1
        polys = [shapely.geometry.shape(g) for g, v in features.shapes(grid, mask=grid == 1, transform=transform) if v == 1]
        regions.append({"geometry": shapely.union_all(polys), "area_ha": len(chosen) * cell_ha,
                        "score": float(score[rows, cols].mean())})
    if not regions:
        return gpd.GeoDataFrame({"id": [], "name": [], "area_ha": [], "score": [], "municipality": [],
                                 "nearest_station": [], "nearest_station_km": [], "source": []},
                                geometry=[], crs=ds.attrs["crs"])
    out = gpd.GeoDataFrame(regions, geometry="geometry", crs=ds.attrs["crs"]).sort_values(
        ["score", "area_ha"], ascending=[False, False], kind="stable").head(n).reset_index(drop=True)
    municipality, station, station_km = _place_names(out, layers, int(ds.attrs.get("year", 2030)))
    out.insert(0, "id", [f"region-{i + 1:02d}" for i in range(len(out))])
    out.insert(1, "name", [f"Region {i + 1} — {mu}, near {st}" for i, (mu, st) in enumerate(zip(municipality, station))])
    out["municipality"] = municipality
    out["nearest_station"] = station
    out["nearest_station_km"] = np.round(station_km, 2)
    out["source"] = f"siting.locate on a {res:g} m surface"
    out["footprint_indicative"] = True
    return out


def _check_surface(ds, name: str) -> xr.Dataset:
    """`ds` if it is a surface made by :func:`surface` (or read back by :func:`read_raster`)."""
    need = ("hard_ok", "hard_conditional", "score")
    if not isinstance(ds, xr.Dataset):
        raise ParameterError(name, ds, "a suitability surface (xarray.Dataset) from siting.surface()",
                             problem=f"got {type_phrase(ds)}",
                             fix="make one with ds = siting.surface(...) or read one with siting.read_raster(path)")
    missing = [v for v in need if v not in ds.data_vars]
    if missing or "resolution_m" not in ds.attrs:
        what = f"variable(s) {', '.join(missing)}" if missing else "the attribute resolution_m"
        raise ParameterError(name, ds, "a suitability surface (xarray.Dataset) from siting.surface()",
                             problem=f"this Dataset lacks {what}",
                             fix="make one with ds = siting.surface(...) or read one with siting.read_raster(path)")
    return ds


@cache
def _embedded_naming_layers() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    from .layers import _embedded_layer_set

    sources = _embedded_layer_set().layers
    return read_layer(sources["municipalities"], "municipalities"), read_layer(sources["substations"], "substations")


def _place_names(regions: gpd.GeoDataFrame, layers: Layers | None, year: int) -> tuple[list[str], list[str], np.ndarray]:
    """Municipality (containing, else nearest) and nearest in-service EHV station of each region."""
    from .metrics import _in_year

    if layers is not None:
        mun, subs = layers.municipalities, layers.substations
    else:
        mun, subs = _embedded_naming_layers()
    subs = subs[~subs["id"].str.startswith("xb-") & _in_year(subs, year)]
    subs = subs.sort_values(["station", "kv"], ascending=[True, False]).drop_duplicates("station")
    pts = gpd.GeoDataFrame(geometry=regions.geometry.representative_point(), crs=regions.crs).to_crs(WORK_CRS)
    hit = gpd.sjoin_nearest(pts, mun.to_crs(WORK_CRS)[["name", "geometry"]], how="left")
    hit = hit[~hit.index.duplicated(keep="first")]
    near = gpd.sjoin_nearest(gpd.GeoDataFrame(geometry=regions.geometry, crs=regions.crs).to_crs(WORK_CRS),
                             subs[["name", "kv", "geometry"]], how="left", distance_col="dist_m")
    near = near[~near.index.duplicated(keep="first")]
    stations = [f"{nm} {int(kv)} kV" for nm, kv in zip(near["name"], near["kv"])]
    return hit["name"].astype(str).tolist(), stations, near["dist_m"].to_numpy(float) / 1000.0


def _grow(r0: int, c0: int, avail: np.ndarray, score: np.ndarray, need: int) -> list[tuple[int, int]]:
    """Cells of a region grown from (r0, c0) over `avail`, best-scoring neighbour first (ties:
    lowest row, then column), until `need` cells or no neighbour is left."""
    import heapq

    h, w = avail.shape
    chosen = [(r0, c0)]
    seen = {(r0, c0)}
    heap: list[tuple[float, int, int]] = []

    def push(r, c):
        for rr, cc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if 0 <= rr < h and 0 <= cc < w and avail[rr, cc] and (rr, cc) not in seen:
                seen.add((rr, cc))
                heapq.heappush(heap, (-score[rr, cc], rr, cc))

    push(r0, c0)
    while len(chosen) < need and heap:
        _, r, c = heapq.heappop(heap)
        chosen.append((r, c))
        push(r, c)
    return chosen


#: The tiles of a Dask surface are staged band-interleaved: GDAL's COG copy then decompresses one
#: band's block per band it reads. Staged pixel-interleaved, every band read decompressed the block
#: of all 48 bands, and unless a row of those blocks fit GDAL's block cache (5 % of RAM) it did so
#: again for every band: at 25 m (1 GB a row) the copy re-read the 12 GB of staged tiles for 40+ min
#: (387 GB read); the 100 m surface with a 128 MB cache took over 16 min pixel-, 65 s band-staged
#: (40 s with room). (The COG itself stays pixel-interleaved: GDAL 3.10's COG driver has no choice.)
#: DEFLATE level of a written COG: 1 rather than GDAL's 6 — measured on the 48-band 250 m NL
#: surface, 1.4x faster to write for a file 1.3 % larger. (Not with every core compressing,
#: NUM_THREADS: 2.1x, but GDAL then no longer reports a full disk: the file was left incomplete)
_DEFLATE_LEVEL = 1


def write_raster(ds: xr.Dataset, path: str | PathLike[str], variables: list[str] | None = None,
                 overwrite: bool = False) -> Path:
    """Write `ds` as a Cloud-Optimised GeoTIFF (``.tif``: one float32 band per variable, each
    band described by its variable's name, CRS, nodata NaN, overviews) or CF NetCDF (``.nc``).
    Read back with :func:`read_raster`.

    Without `variables`, every (y, x) variable is written with ``score`` first, so that a GIS
    showing band 1 shows the suitability score.

    The file is written in a private folder beside `path` and renamed into place when complete
    (see :mod:`siting._atomic`): `path` is at every moment absent, the earlier file or the
    complete new one; with `overwrite` the earlier file is deleted only after the new one is in
    place; two runs writing `path` cannot both succeed; the file gets the permissions of the
    user's umask.

    Raises
    ------
    ConfigError
        A suffix other than ``.tif``/``.tiff``/``.nc``.
    OutputError
        An existing `path` without `overwrite` (or a folder there), another run writing it, a
        missing or read-only folder, a full disk; nothing is left behind.
    """
    import rasterio

    from ._atomic import atomic_output

    shown = path
    path = Path(path)
    if path.suffix.lower() not in (".tif", ".tiff", ".nc"):
        raise ConfigError(f"cannot write '{shown}': use .tif (COG) or .nc (NetCDF)")
    names = variables or [v for v in ds.data_vars if ds[v].dims == ("y", "x")]
    if variables is None and "score" in names:
        names = ["score"] + [v for v in names if v != "score"]
    lazy = _tiled_is_lazy(ds)
    if lazy and path.suffix.lower() == ".nc":
        raise ConfigError(f"cannot write '{shown}': a surface computed with Dask (client=, --dask) is written tile by "
                          "tile to GeoTIFF only; use .tif")
    with atomic_output(path, folder=False, force=overwrite, what="raster", option="overwrite=True (--force)") as tmp:
        if lazy:
            _write_tiles(ds, names, tmp)
        elif path.suffix.lower() == ".nc":
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
                               compress="deflate", level=_DEFLATE_LEVEL) as dst:
                dst.write(stack)
                _describe_bands(dst, ds, names)
    return path


def _describe_bands(dst, ds: xr.Dataset, names: list[str]) -> None:
    for i, v in enumerate(names, start=1):
        dst.set_band_description(i, v)
        unit, meaning = METRICS.get(v, ("", ds[v].attrs.get("long_name", "")))
        tags = {k: val for k, val in (("unit", unit), ("meaning", meaning)) if val}
        if tags:
            dst.update_tags(i, **tags)


def _tiled_is_lazy(ds: xr.Dataset) -> bool:
    from ._tiled import is_lazy

    return is_lazy(ds)


def _write_tiles(ds: xr.Dataset, names: list[str], tmp: Path) -> None:
    """Write the lazy surface `ds` (see :mod:`siting._tiled`) as a COG at `tmp`, one tile at a time:
    the tiles go into a tiled GeoTIFF beside `tmp` as they are computed, which GDAL then copies
    into a COG (with overviews) block by block."""
    import rasterio
    import rasterio.shutil

    from ._tiled import windows

    stage = tmp.with_name(f".tiles-{tmp.name}")
    transform = rasterio.Affine.from_gdal(*ds.attrs["transform"])
    with rasterio.open(stage, "w", driver="GTiff", width=ds.sizes["x"], height=ds.sizes["y"], count=len(names),
                       dtype="float32", crs=ds.attrs["crs"], transform=transform, nodata=np.nan, tiled=True,
                       blockxsize=512, blockysize=512, compress="deflate", zlevel=1, bigtiff="IF_SAFER",
                       interleave="band") as dst:
        for window, values in windows(ds, names):
            dst.write(values, window=window)
        _describe_bands(dst, ds, names)
    # (one thread: with NUM_THREADS, GDAL reported no error when the disk filled during the copy,
    # and the incomplete COG was put in place)
    try:
        rasterio.shutil.copy(stage, tmp, driver="COG", compress="deflate", level=_DEFLATE_LEVEL, bigtiff="IF_SAFER")
    except Exception as exc:  # (GDAL's CPLE_* errors are no RasterioErrors)
        need = stage.stat().st_size  # the COG holds the same blocks, plus overviews
        if shutil.disk_usage(tmp.parent).free < need:  # (GDAL says only "Write error at scanline 0")
            raise OSError(errno.ENOSPC, f"the COG needs about {need / 1e6:.0f} MB beside its {need / 1e6:.0f} MB of "
                                        f"staged tiles: {exc}") from exc
        raise
    stage.unlink()


def read_raster(path: str | PathLike[str]) -> xr.Dataset:
    """Read a file written by :func:`write_raster` back into a Dataset (float32 bands)."""
    import rasterio

    path = V.existing_file(path, "path", what="raster file (.tif or .nc)",
                           hint="check the path; write one with siting.write_raster(ds, path) or `siting surface --out`")
    try:
        if path.suffix.lower() == ".nc":
            with xr.open_dataset(path, engine="scipy") as nc:
                return nc.load()
        src = rasterio.open(path)
    except (OSError, ValueError, TypeError, rasterio.errors.RasterioError) as exc:
        raise LayerFileError(f"cannot be read as a raster: {exc}", path=path,
                             fix="give a GeoTIFF (.tif) or NetCDF (.nc) written by siting.write_raster") from None
    with src:
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
