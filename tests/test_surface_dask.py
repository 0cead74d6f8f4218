"""The surface tile by tile on a Dask cluster (siting._tiled): equal to the single-process one."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from click.testing import CliRunner
from scipy.spatial import cKDTree

from siting import _tiled
from siting.cli import main
from siting.errors import ConfigError, ParameterError
from siting.surface import _edge_km, _edt_km, read_raster, surface, write_raster

from .grid_fixtures import embedded_layers

distributed = pytest.importorskip("distributed")

RES_M = 2000  # 133 x 157 cells: 9 tiles of up to 64 cells, each cut by the coast or a border
TILE = 64


@pytest.fixture(scope="module")
def client():
    # worker threads: a cluster of processes takes 10 s to start (each imports siting); the slow
    # CLI test below runs one, which also ships the study between processes
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0",
                                  memory_limit="2GB") as cluster, distributed.Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def pair(client) -> tuple[xr.Dataset, xr.Dataset]:
    layers = embedded_layers()
    one = surface(layers=layers, resolution_m=RES_M, scenario="high-wind-2030")
    tiled = surface(layers=layers, resolution_m=RES_M, scenario="high-wind-2030", client=client, tile_cells=TILE)
    return one, tiled.persist()  # still dask arrays, one chunk a tile: the tests share one computation


def test_tiled_surface_is_lazy_and_equals_the_single_process_one(pair):
    one, tiled = pair
    assert _tiled.is_lazy(tiled) and not _tiled.is_lazy(one)
    assert max(tiled.chunks["x"]) <= TILE and len(tiled.chunks["x"]) * len(tiled.chunks["y"]) == 9
    assert list(tiled.data_vars) == list(one.data_vars) and tiled.attrs == one.attrs
    got = tiled.compute()
    for v in one.data_vars:
        assert got[v].dtype == one[v].dtype, v
        np.testing.assert_array_equal(got[v].values, one[v].values, err_msg=v)  # bit for bit, NaN where NaN
        assert got[v].attrs == one[v].attrs
    np.testing.assert_array_equal(got.x, one.x)
    np.testing.assert_array_equal(got.y, one.y)
    assert int(got["hard_ok"].sum()) > 0  # a real comparison: cells pass and fail


def test_tiled_surface_written_tile_by_tile_equals_the_single_process_file(pair, tmp_path):
    one, tiled = pair
    a, b = write_raster(one, tmp_path / "one.tif"), write_raster(tiled, tmp_path / "tiled.tif")
    ra, rb = read_raster(a), read_raster(b)
    assert list(rb.data_vars) == list(ra.data_vars) and list(ra.data_vars)[0] == "score"
    for v in ra.data_vars:
        np.testing.assert_array_equal(rb[v].values, ra[v].values, err_msg=v)
    assert rb.attrs == ra.attrs
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.tif", "tiled.tif"]  # no staging left
    assert _tiled.band_sums(b, ["hard_ok"]) == [int(one["hard_ok"].sum())]
    with pytest.raises(ConfigError, match="tile by tile to GeoTIFF only; use .tif"):
        write_raster(tiled, tmp_path / "tiled.nc")
    assert not (tmp_path / "tiled.nc").exists()


def test_disk_full_while_the_tiles_become_a_cog_is_an_output_error_and_leaves_nothing(pair, tmp_path):
    """A disk with room for the staged tiles but not for the COG beside them: GDAL's copy fails
    (with NUM_THREADS it failed silently and an incomplete COG was put in place)."""
    import errno

    from siting.errors import OutputError

    from .test_faults import _tmpfs

    tiled = pair[1]
    size = write_raster(tiled, tmp_path / "probe.tif").stat().st_size  # staged tiles: about as large
    with _tmpfs(tmp_path / "full", f"{int(1.5 * size) // 1024}k") as disk:
        with pytest.raises(OutputError, match=r"(?s)no space left on the device.*nothing was written") as info:
            write_raster(tiled, disk / "s.tif")
        assert info.value.errno == errno.ENOSPC
        assert list(disk.iterdir()) == []


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distance_from_the_edge_cells_equals_the_distance_transform_bit_for_bit(seed):
    rng = np.random.default_rng(seed)
    burnt = rng.random((90, 70)) < [0.002, 0.05, 0.4][seed]
    burnt[30:50, 10:40] = seed == 2  # a large block: interior cells are not edges
    whole = _edt_km(burnt, 25.0)
    edges = np.argwhere(_tiled.edge_cells(burnt)).astype(float)
    tree = cKDTree(edges, balanced_tree=False, compact_nodes=False)
    for rows, cols in [t for line in _tiled.tiles(burnt.shape, 32) for t in line]:
        np.testing.assert_array_equal(_edge_km(burnt[rows, cols], tree, rows, cols, 25.0), whole[rows, cols])


@pytest.mark.parametrize("burnt", [False, True])
def test_distance_without_edges_nothing_or_everything_burnt(burnt):
    mask = np.full((5, 4), burnt)
    assert not _tiled.edge_cells(mask).any()
    np.testing.assert_array_equal(_edge_km(mask[1:3], None, slice(1, 3), slice(0, 4), 100.0), _edt_km(mask, 100.0)[1:3])


def test_bad_client_and_resolution():
    with pytest.raises(ParameterError, match=r"client=.*a dask.distributed.Client, or None"):
        surface(layers=embedded_layers(), resolution_m=1000, client="tcp://localhost:8786")
    with pytest.raises(ConfigError, match=r"resolution_m=25: .*\[100, 5000\].*down to 10 m with Dask"):
        surface(layers=embedded_layers(), resolution_m=25)


def test_cli_dask_errors_name_the_option(tmp_path, monkeypatch):
    monkeypatch.setattr(_tiled, "CONNECT_TIMEOUT", "1s")
    out = tmp_path / "s.tif"
    bad = CliRunner().invoke(main, ["surface", "--resolution", "5000", "--scenario", "high-wind-2030", "--out", str(out),
                                    "--dask", "tcp://127.0.0.1:9"])
    assert bad.exit_code == 2 and "--dask tcp://127.0.0.1:9" in bad.output and "cannot connect" in bad.output
    assert "without an address for a local cluster" in bad.output and not out.exists()
    nc = CliRunner().invoke(main, ["surface", "--resolution", "5000", "--out", str(tmp_path / "s.nc"), "--dask"])
    assert nc.exit_code == 2 and "GeoTIFF only" in nc.output
    fine = CliRunner().invoke(main, ["surface", "--resolution", "25", "--out", str(out)])
    assert fine.exit_code == 2 and "--resolution 25" in fine.output and "--dask" in fine.output
    mem = CliRunner().invoke(main, ["surface", "--resolution", "5000", "--scenario", "high-wind-2030", "--out", str(out),
                                    "--dask", "--worker-memory", "lots"])
    assert mem.exit_code == 2 and "--worker-memory lots" in mem.output


@pytest.mark.slow
def test_cli_dask_local_cluster_writes_the_surface(tmp_path, monkeypatch):
    monkeypatch.setattr(_tiled, "_local_workers", lambda: 2)
    out = tmp_path / "s.tif"
    result = CliRunner().invoke(main, ["--quiet", "surface", "--resolution", "5000", "--scenario", "high-wind-2030",
                                       "--out", str(out), "--dask", "--worker-memory", "1GB"])
    assert result.exit_code == 0, result.output
    got = read_raster(out)
    assert list(got.data_vars)[0] == "score" and got.sizes["x"] * got.sizes["y"] > 1000
    ok, cond = int(np.nansum(got["hard_ok"].values)), int(np.nansum(got["hard_conditional"].values))
    assert f"{ok} cells meet every hard condition now, {cond} with planned elements" in result.output


def test_a_cluster_without_workers_is_a_clear_error_not_dask_s(monkeypatch):
    """Shared data goes to the workers once one has joined (a cluster just started may have
    none yet: Dask's scatter then fails with "No valid workers found"); a cluster where none
    joins in time is a ConfigError saying what to do."""
    from siting import _tiled
    from siting.errors import ConfigError

    monkeypatch.setattr(_tiled, "WORKER_WAIT_S", 0.5)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as c:
        with pytest.raises(ConfigError, match="no Dask worker joined.*Fix: start workers"):
            _tiled.scatter_shared(c, {"a": 1})
        cluster.scale(1)
        monkeypatch.setattr(_tiled, "WORKER_WAIT_S", 60.0)
        got = _tiled.scatter_shared(c, {"a": 1})  # (waits for the worker, then scatters)
        assert c.submit(lambda d: d["a"] + 1, got).result() == 2
