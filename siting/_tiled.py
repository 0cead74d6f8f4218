"""The surface tile by tile on a Dask cluster (``surface(..., client=)``, ``siting surface --dask``).

The national grid is cut into tiles of at most ``tile_cells`` × ``tile_cells`` cells (of even
size, :func:`tiles`). Every variable of a surface
is a function of the cell alone (:func:`siting.surface._window`) except the distance to
rasterised layers (built-up land, coast, water, heat sinks), which in one process is a
Euclidean distance transform of the whole grid. Here it is the same distance from a KD-tree on
the *edge cells* of each rasterised layer over the whole grid (burnt cells with an unburnt
4-neighbour: the nearest burnt cell of an unburnt cell is always one of them), so a tile needs
no halo and its values equal the single-process ones bit for bit:

1. *survey* (one task a tile): rasterise each layer on the tile and a one-cell rim, keep the
   edge cells; also whether each user raster gives a valid value and how many cells a climate
   grid misses, so that the checks and warnings of the single-process path apply to the whole
   grid. The edge cells are gathered into KD-trees, shipped to the workers once.
2. *tiles* (one task a tile, lazy): every variable of the tile, stacked as float32 (exact for
   the bool and uint8 variables too). The study (layers cut down to what each metric reads,
   the grid results per station, the criteria) is scattered to the workers once.

The result is an ``xarray.Dataset`` of dask arrays, one chunk per tile. :func:`windows`
computes it a few tiles at a time and yields them to the writer in the calling process, so
the whole grid is never held in one process and the workers need not see the output folder.
"""

from __future__ import annotations

import os
import uuid
import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import xarray as xr
from scipy import ndimage
from scipy.spatial import cKDTree

from ._progress import progress
from .errors import ClimateCoverageWarning, ConfigError, ParameterError, type_phrase

__all__ = ["check_client", "tiled_surface", "windows", "is_lazy", "dask_client", "band_sums", "completed_tasks", "local_cluster"]

#: Default memory limit of each worker of a local cluster (``--dask`` without an address).
WORKER_MEMORY = "4GB"

#: How long ``--dask ADDRESS`` tries to reach the scheduler.
CONNECT_TIMEOUT = "10s"


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise ConfigError("computing on Dask (client=, --dask) needs dask.distributed, which is not installed "
                          f"({exc}). Fix: pip install 'dask[distributed]'") from None
    return distributed


def check_client(client) -> None:
    """`client` must be a ``dask.distributed.Client``."""
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise ParameterError("client", client, "a dask.distributed.Client, or None for one process",
                             problem=f"got {type_phrase(client)}",
                             fix="use e.g. client=dask.distributed.Client(dask.distributed.LocalCluster())")


#: How long a computation waits for a first worker to join the client's cluster before scattering.
WORKER_WAIT_S = 60.0


def scatter_shared(client, data):
    """``client.scatter(data, broadcast=True, hash=False)`` once a worker has joined: a cluster
    just started may have none yet, and Dask then fails with "No valid workers found" (seen on
    a 2-worker in-process LocalCluster under load); none within WORKER_WAIT_S is a clear error."""
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except TimeoutError:
        raise ConfigError(f"no Dask worker joined the cluster of {client!r} within {WORKER_WAIT_S:.0f} s. "
                          "Fix: start workers for that scheduler, or pass client=None for one process") from None
    return client.scatter(data, broadcast=True, hash=False)


def tiles(shape: tuple[int, int], tile_cells: int) -> list[list[tuple[slice, slice]]]:
    """The tiles of a grid of `shape` as rows of (rows, columns) slices: as few per axis as keep
    them at most `tile_cells` cells, of even size (a multiple of 16 cells, the last one smaller),
    so that no worker gets a sliver and another a whole tile."""
    def cuts(n: int) -> list[slice]:
        k = -(-n // tile_cells)  # ceil
        even = -(-n // k)
        size = min(tile_cells, -(-even // 16) * 16) if k > 1 else n
        return [slice(a, min(a + size, n)) for a in range(0, n, size)]

    h, w = shape
    return [[(r, c) for c in cuts(w)] for r in cuts(h)]


def survey(study, rows: slice, cols: slice) -> dict:
    """What a tile contributes to the whole-grid inputs: the edge cells of each rasterised layer
    (global (row, column) pairs, int32), whether each user raster gives a valid value, and how
    many cells a climate grid misses."""
    from .rasters import resample_to
    from .surface import _burn

    h, w = study.shape
    ra, rb = max(rows.start - 1, 0), min(rows.stop + 1, h)  # a one-cell rim: an edge needs its neighbours
    ca, cb = max(cols.start - 1, 0), min(cols.stop + 1, w)
    transform = study.transform @ _translation(ca, ra)
    inner = (slice(rows.start - ra, rows.stop - ra), slice(cols.start - ca, cols.stop - ca))
    edges = {}
    for k, geoms in study.masks.items():
        r, c = np.nonzero(edge_cells(_burn(geoms, (rb - ra, cb - ca), transform))[inner])
        edges[k] = np.column_stack([r + rows.start, c + cols.start]).astype(np.int32)
    out = {"edges": edges, "valid": {}, "climate_gaps": 0}
    if study.rasters or study.climate.grid is not None:
        x, y = study.x[cols], study.y[rows]
        proto = xr.Dataset(coords={"x": x, "y": y}, attrs={
            "transform": list((study.transform @ _translation(cols.start, rows.start)).to_gdal()),
            "crs": study.attrs["crs"]})
        for name, path in (study.rasters or {}).items():
            out["valid"][name] = bool(not np.isnan(resample_to(path, proto, require_cover=False)).all())
        if study.climate.grid is not None:
            out["climate_gaps"] = int((~np.isfinite(resample_to(study.climate.grid, proto, require_cover=False))).sum())
    return out


def edge_cells(burnt: np.ndarray) -> np.ndarray:
    """Burnt cells with an unburnt 4-neighbour. Cells beyond the array count as burnt (no cell
    whose distance is asked lies there); an array cut from a larger one is right except on its
    outer ring, which :func:`survey` drops."""
    return burnt & ~ndimage.binary_erosion(burnt, structure=ndimage.generate_binary_structure(2, 1), border_value=1)


def _translation(cols: int, rows: int):
    from affine import Affine

    return Affine.translation(cols, rows)


def _stack(study, trees: dict, rows: slice, cols: slice, names: tuple[str, ...]) -> np.ndarray:
    """Every variable of a tile, stacked as float32 (names, rows, columns)."""
    from .surface import _window

    with _no_gap_warning(study):
        data = _window(study, rows, cols, trees)
    out = np.empty((len(names), rows.stop - rows.start, cols.stop - cols.start), dtype=np.float32)
    for i, k in enumerate(names):
        out[i] = data.pop(k)
    return out


@contextmanager
def _no_gap_warning(study):
    """No climate-gap warning from a tile: the survey counted the gaps on the whole grid. (Only
    where there can be one: ``catch_warnings`` is not thread-safe, and workers may be threads.)"""
    if study.climate.grid is None:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ClimateCoverageWarning)
        yield


def tiled_surface(study, client, tile_cells: int) -> xr.Dataset:
    """The surface of `study` as a lazy Dataset computed tile by tile on `client`."""
    import dask
    import dask.array as da

    from .rasters import check_overlaps_grid, check_some_valid
    from .surface import _dataset, _window

    grid = tiles(study.shape, tile_cells)
    flat = [t for row in grid for t in row]
    for path in (study.rasters or {}).values():  # before any task: a wrong CRS is found at once
        check_overlaps_grid(path, study.transform, study.shape)
    study_f = scatter_shared(client, study)
    found = [client.submit(survey, study_f, r, c, key=f"siting-survey-{uuid.uuid4().hex}") for r, c in flat]
    edges: dict[str, list] = {k: [] for k in study.masks}
    valid = {name: False for name in study.rasters or {}}
    gaps = 0
    for fut in progress(_as_completed(found), "surface survey (tiles)", total=len(found)):
        got = fut.result()
        fut.release()
        for k, e in got["edges"].items():
            edges[k].append(e)
        for name, ok in got["valid"].items():
            valid[name] |= ok
        gaps += got["climate_gaps"]
    for name, path in (study.rasters or {}).items():
        check_some_valid(path, valid[name])
    if gaps:
        study.climate.warn_gaps(gaps, study.shape[0] * study.shape[1], "surface cells", stacklevel=4)
    trees = {}
    for k, parts in edges.items():
        e = np.concatenate(parts) if parts else np.empty((0, 2), dtype=np.int32)
        # sliding-midpoint splits: edge cells lie on curves, and for cells far from them (most of the
        # country is far from the coast) the median splits made queries 10-20 times slower
        trees[k] = cKDTree(e.astype(float), balanced_tree=False, compact_nodes=False) if len(e) else None
    trees_f = scatter_shared(client, trees)

    # the variables and their types, from one cell (the same code as every tile)
    with _no_gap_warning(study):
        probe = _window(study, slice(0, 1), slice(0, 1), trees)
    names = tuple(probe)
    token = uuid.uuid4().hex
    blocks = []
    for row in grid:
        line = []
        for r, c in row:
            task = dask.delayed(_stack, pure=False)(study_f, trees_f, r, c, names,
                                                    dask_key_name=f"siting-tile-{token}-{r.start}-{c.start}")
            line.append(da.from_delayed(task, shape=(len(names), r.stop - r.start, c.stop - c.start),
                                        dtype=np.float32))
        blocks.append(line)
    stacked = da.concatenate([da.concatenate(line, axis=2) for line in blocks], axis=1)
    data = {k: stacked[i].astype(probe[k].dtype) for i, k in enumerate(names)}
    return _dataset(study, data, study.x, study.y)


def _as_completed(futures):
    return _distributed().as_completed(futures)


def completed_tasks(client, fn, shared, calls: list[tuple], desc: str, name: str) -> Iterator[tuple[int, object]]:
    """``fn(shared, *calls[i])`` for every i on the Dask `client`'s cluster, one task each, with
    `shared` sent to every worker once: yields ``(i, result)`` as each task finishes (a progress
    bar labelled `desc`; task keys ``siting-<name>-<i>-<token>``). An error, or a caller that
    stops early, cancels the tasks still running."""
    if not calls:
        return
    shared_f = scatter_shared(client, shared)
    token = uuid.uuid4().hex
    futures = {}
    for i, call in enumerate(calls):
        fut = client.submit(fn, shared_f, *call, key=f"siting-{name}-{i}-{token}")
        futures[fut.key] = (fut, i)
    try:
        for fut in progress(_as_completed([f for f, _ in futures.values()]), desc, total=len(futures), min_items=1):
            _, i = futures.pop(fut.key)
            result = fut.result()
            fut.release()
            yield i, result
    finally:
        for fut, _ in futures.values():
            fut.cancel()
        del shared_f


def is_lazy(ds: xr.Dataset) -> bool:
    """Whether `ds` holds dask arrays (a surface computed with ``client=``)."""
    return any(v.chunks is not None for v in ds.data_vars.values())


def windows(ds: xr.Dataset, names: list[str], in_flight: int | None = None) -> Iterator[tuple[object, np.ndarray]]:
    """(rasterio Window, float32 array (names, rows, columns)) for each chunk of the lazy `ds`,
    in the order they complete, with at most `in_flight` chunks computed or waiting at a time
    (default: twice the workers). With a distributed client the chunks are computed on its
    cluster, else on dask's default scheduler, one at a time."""
    import dask
    import dask.array as da
    from rasterio.windows import Window

    chunks = next(ds[v].chunks for v in names if ds[v].chunks is not None)
    arrays = [ds[v].data.rechunk(chunks) if ds[v].chunks is not None else da.from_array(ds[v].values, chunks=chunks)
              for v in names]
    rows, cols = chunks
    r_off, c_off = np.cumsum((0,) + rows), np.cumsum((0,) + cols)
    jobs = [(i, j) for i in range(len(rows)) for j in range(len(cols))]

    def window_of(i, j):
        return Window(int(c_off[j]), int(r_off[i]), int(cols[j]), int(rows[i]))

    def block(i, j):
        return da.stack([a.blocks[i, j].astype(np.float32) for a in arrays])

    client = _current_client()
    if client is None:
        for i, j in progress(jobs, "surface tiles", min_items=2):
            (values,) = dask.compute(block(i, j))
            yield window_of(i, j), values
        return
    in_flight = in_flight or 2 * max(1, len(client.scheduler_info().get("workers", {})))
    queue = _distributed().as_completed()
    where = {}

    def start(job):
        fut = client.compute(block(*job))
        where[fut.key] = job
        queue.add(fut)

    for job in jobs[:in_flight]:
        start(job)
    later = iter(jobs[in_flight:])
    for fut in progress(queue, "surface tiles", total=len(jobs), min_items=2):
        values = fut.result()
        job = where.pop(fut.key)
        fut.release()
        nxt = next(later, None)
        if nxt is not None:
            start(nxt)
        yield window_of(*job), values


def _current_client():
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:
        return None


def _local_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


#: the C allocator's settings of the worker processes of a local cluster started here: Dask's
#: default trims the heap at 64 kB, which also fixes the size from which an array is mapped
#: afresh from the system at 128 kB, so every array of more than 128 kB is page-faulted in
#: again each time; here arrays up to 32 MB are reused and the heap is trimmed from 1 GB. The
#: all-bus hosting of 340 buses of case1354pegase on 2 workers took 57.5 s with Dask's setting,
#: 40.8 s with these (27.6 s on 2 forked workers, which also solve the N-1 cases only once).
#: Not for the surface's tiles (``siting surface --dask``), whose memory was measured under
#: Dask's setting
WORKER_MALLOC = {"MALLOC_TRIM_THRESHOLD_": 2**30, "MALLOC_MMAP_THRESHOLD_": 2**25}


def local_cluster(n_workers: int, memory_limit, allocator: bool = True, **kw):
    """A ``distributed.LocalCluster`` of `n_workers` single-threaded worker processes, with
    :data:`WORKER_MALLOC` where `allocator` (``dask_client`` and the benchmarks start theirs so;
    the surface's tiles keep Dask's setting, under which their memory was measured)."""
    import dask

    distributed = _distributed()
    env = {f"distributed.nanny.pre-spawn-environ.{k}": v for k, v in WORKER_MALLOC.items()} if allocator else {}
    # (a variable already in this process's environment overrides Dask's setting, and a local
    # cluster's nannies, which run here, put Dask's there: set for the start, then restored)
    saved = {k: os.environ.get(k) for k in WORKER_MALLOC}
    if allocator:
        os.environ.update({k: str(v) for k, v in WORKER_MALLOC.items()})
    try:
        with dask.config.set(env):
            return distributed.LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                                            memory_limit=memory_limit, dashboard_address=":0", **kw)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def dask_client(address: str | None, memory_limit: str = WORKER_MEMORY, n_workers: int | None = None,
                allocator: bool = True):
    """A Dask client for the CLI's ``--dask [ADDRESS]``: a new local cluster (one single-threaded
    worker process per core, each limited to `memory_limit`; `allocator`: :data:`WORKER_MALLOC`)
    when `address` is None, else the scheduler at `address` (e.g. ``tcp://host:8786``). Closed at
    the end."""
    distributed = _distributed()
    if address is None:
        from dask.utils import parse_bytes

        try:
            limit = parse_bytes(memory_limit)
        except (ValueError, TypeError):
            raise ParameterError("worker_memory", memory_limit, "a size such as 4GB or 2.5GiB",
                                 fix="give a size with its unit, e.g. {=worker_memory:4GB}") from None
        if limit < 256 * 2**20:
            raise ParameterError("worker_memory", memory_limit, "at least 256MB",
                                 problem="a worker needs room for a tile",
                                 fix="give more, e.g. {=worker_memory:4GB}")
        cluster = local_cluster(n_workers or _local_workers(), limit, allocator)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT)
    except (OSError, ValueError, TypeError) as exc:
        raise ParameterError("dask", address, "the address of a running Dask scheduler, e.g. tcp://host:8786, "
                             "or nothing for a local cluster", problem=f"cannot connect ({type(exc).__name__}: {exc})",
                             fix="start one (dask scheduler; dask worker tcp://host:8786) and give its address, or "
                             "give {=dask} without an address for a local cluster") from None
    with client:
        yield client


def band_sums(path, names: list[str]) -> list[int]:
    """Sums of the bands `names` (by description) of the GeoTIFF `path`, read a block at a time."""
    import rasterio

    with rasterio.open(path) as src:
        bands = [src.descriptions.index(n) + 1 for n in names]
        total = [0] * len(names)
        for _, window in src.block_windows(1):
            for i, b in enumerate(bands):
                total[i] += int(np.nansum(src.read(b, window=window)))
    return total
