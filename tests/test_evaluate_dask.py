"""evaluate(..., client=): the grid models and their results on a Dask cluster, equal to one process."""

from __future__ import annotations

import multiprocessing as mp
import pickle
import sys
from collections import OrderedDict

import pandas as pd
import pytest

import siting
from siting import metrics
from siting.errors import ParameterError
from siting.grid import GridModel
from siting.grid._parallel import planned_workers

from .grid_fixtures import embedded_layers

distributed = pytest.importorskip("distributed")
E = sys.modules["siting.evaluate"]

STUDY = {"year": 2026, "scenario": "winter-peak-2026"}  # one scenario: two models (study year, planned grid)


@pytest.fixture
def fresh_cache(monkeypatch):
    """An empty model cache: every model is built (here or on the cluster), none reused."""
    monkeypatch.setattr(E, "_MODEL_CACHE", OrderedDict())
    return E._MODEL_CACHE


@pytest.fixture(scope="module")
def client():
    # worker processes, as --dask starts them: daemonic, each imports siting (~10 s to start)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                                  memory_limit="2GB") as cluster, distributed.Client(cluster) as c:
        yield c


def _worker_facts():
    import siting as s

    return s.__file__, mp.current_process().daemon, planned_workers(100)


def test_workers_import_this_siting_and_do_not_fork(client):
    for path, daemon, workers in client.run(_worker_facts).values():
        assert path == siting.__file__
        assert daemon and workers == 1  # the per-bus searches stay in the worker (no fork in a daemon)


def test_evaluate_on_dask_equals_one_process(client, fresh_cache):
    layers = embedded_layers()
    one = siting.evaluate(layers=layers, **STUDY)
    fresh_cache.clear()
    two = siting.evaluate(layers=layers, client=client, **STUDY)
    pd.testing.assert_frame_equal(two.table, one.table, check_exact=True)
    pd.testing.assert_frame_equal(two.metrics, one.metrics, check_exact=True)
    assert two.params == one.params and list(two.models) == list(one.models) == ["winter-peak-2026"]
    # the models came back from the workers with their results: nothing was solved here
    model = two.models["winter-peak-2026"]
    assert "_grid" not in model.__dict__ and len(model._hosting_memo) == 1 and len(metrics._CHECKS[model]) > 0
    # ... and joined the cache under _secured_model's keys: the study year's and the planned grid
    assert len(fresh_cache) == 2
    assert E._secured_model(layers, "winter-peak-2026", 2026)._hosting_memo is model._hosting_memo
    planned = E._secured_model(layers, "winter-peak-2026", E.PLANNED_GRID_YEAR)
    assert "_grid" not in planned.__dict__ and len(planned._hosting_memo) == 1
    # a new question is answered here on the rebuilt solver, as the single-process model answers it
    bus = two.table["bus"].iloc[0]
    assert model.check_load(bus, 500.0).summary() == one.models["winter-peak-2026"].check_load(bus, 500.0).summary()
    # models already built in this process are reused, not sent
    again = siting.evaluate(layers=layers, client=client, sites=layers.sites.iloc[:3], **STUDY)
    assert again.models["winter-peak-2026"]._hosting_memo is model._hosting_memo


def test_sensitivity_on_dask_equals_one_process(client, monkeypatch):
    """The draws come from the one seeded stream here and are judged in blocks on the workers:
    the table of one process, to the last bit (several blocks, the last one short)."""
    monkeypatch.setattr(E, "SENSITIVITY_BLOCK", 40)
    ev = siting.evaluate(layers=embedded_layers(), **STUDY)
    one = ev.sensitivity(n=130, seed=7)
    two = ev.sensitivity(n=130, seed=7, client=client)
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert two.attrs == one.attrs
    assert not one.equals(ev.sensitivity(n=130, seed=8))  # (the seed matters: the comparison can fail)
    with pytest.raises(ParameterError, match=r"client=.*a dask.distributed.Client"):
        ev.sensitivity(n=10, client="tcp://localhost:8786")


def test_bad_client_is_named():
    with pytest.raises(ParameterError, match=r"client=.*a dask.distributed.Client, or None for one process"):
        siting.evaluate(client="tcp://localhost:8786", **STUDY)


def test_grid_model_pickles_without_its_solver():
    model = GridModel.from_layers(embedded_layers(), scenario="winter-peak-2026")
    buses = list(model.buses()["bus"].iloc[:2])
    table = model.hosting_capacity(buses=buses, redispatch=False)
    blob = pickle.dumps(model)
    assert len(blob) < 500_000  # ~100 kB: network, scenario, securing, the hosting memo
    back = pickle.loads(blob)
    assert "_grid" not in back.__dict__ and back._cases == {}
    pd.testing.assert_frame_equal(back.hosting_capacity(buses=buses, redispatch=False), table, check_exact=True)
    assert "_grid" not in back.__dict__  # from the memo
    other = list(model.buses()["bus"].iloc[2:4])
    pd.testing.assert_frame_equal(back.hosting_capacity(buses=other), model.hosting_capacity(buses=other),
                                  check_exact=True)  # the solver rebuilt: the same numbers
    assert "_grid" in back.__dict__
    a, b = back.check_load(other[0], 400.0), model.check_load(other[0], 400.0)
    assert (a.passed, a.worst_loading_pct, a.summary()) == (b.passed, b.worst_loading_pct, b.summary())


RANK = ["--quiet", "rank", "--year", "2026", "--scenario", "winter-peak-2026", "--samples", "20"]


def test_cli_rank_on_a_running_scheduler_prints_the_same_ranking(client, fresh_cache, tmp_path):
    from click.testing import CliRunner

    from siting.cli import main

    from .conftest import make_sites

    make_sites(3).to_file(tmp_path / "sites.gpkg")  # three sites: a quick study
    rank = [*RANK, "--sites", str(tmp_path / "sites.gpkg")]
    one = CliRunner().invoke(main, rank)
    assert one.exit_code == 0, one.output
    fresh_cache.clear()
    two = CliRunner().invoke(main, [*rank, "--dask", client.scheduler.address])
    assert two.exit_code == 0, two.output
    assert two.output == one.output and "verdicts:" in one.output
    assert len(fresh_cache) == 2 and all("_grid" not in m.__dict__ for m in fresh_cache.values())  # built there


def test_cli_rank_dask_errors_name_the_option(monkeypatch):
    from click.testing import CliRunner

    from siting import _tiled
    from siting.cli import main

    monkeypatch.setattr(_tiled, "CONNECT_TIMEOUT", "1s")
    bad = CliRunner().invoke(main, [*RANK, "--dask", "tcp://127.0.0.1:9"])
    assert bad.exit_code == 2 and "--dask tcp://127.0.0.1:9" in bad.output and "cannot connect" in bad.output
    mem = CliRunner().invoke(main, [*RANK, "--dask", "--worker-memory", "lots"])
    assert mem.exit_code == 2 and "--worker-memory lots" in mem.output


@pytest.mark.slow
def test_cli_rank_dask_local_cluster_writes_the_same_files(tmp_path, monkeypatch, fresh_cache):
    from click.testing import CliRunner

    from siting import _tiled
    from siting.cli import main

    monkeypatch.setattr(_tiled, "_local_workers", lambda: 2)
    one = CliRunner().invoke(main, [*RANK, "--out", str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    fresh_cache.clear()
    two = CliRunner().invoke(main, [*RANK, "--out", str(tmp_path / "two"), "--dask", "--worker-memory", "1GB"])
    assert two.exit_code == 0, two.output
    assert two.output.replace("/two/", "/one/") == one.output
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "two") for p in (tmp_path / "two").rglob("*") if p.is_file())
    for f in files:
        if f.name != "provenance.json":  # it records when it was written
            assert (tmp_path / "two" / f).read_bytes() == (tmp_path / "one" / f).read_bytes(), f


def test_hosting_capacity_on_dask_equals_one_process(client):
    """GridModel.hosting_capacity(client=): one task per chunk of buses (IEEE 118: two), each
    worker solving the N-1 cases of the model it was sent — the same table to the last bit; with
    redispatch too (IEEE 39, one chunk)."""
    import pandapower.networks as pn

    for make, kw in ((pn.case118, {"redispatch": False}), (pn.case39, {})):
        one = GridModel.from_pandapower(make()).hosting_capacity(workers=1, **kw)
        two = GridModel.from_pandapower(make()).hosting_capacity(client=client, **kw)
        pd.testing.assert_frame_equal(two, one, check_exact=True)
        assert two.attrs == one.attrs
    with pytest.raises(ParameterError, match="client"):
        GridModel.from_pandapower(pn.case39()).hosting_capacity(client="tcp://127.0.0.1:8786")


def test_year_firm_capacity_on_dask_equals_one_process(client):
    """GridModel.firm_capacity(client=): the AC hosting of the hours that decide the year's values
    (the firm value and each curtailment threshold, hosting_ac_corrected and confirm_ac) solved
    on the cluster, one task per hour — the same table to the last bit, from a fresh hourly grid
    each time (nothing memoised from the other run)."""
    from siting.grid.year import build_situations
    from siting.layers import load_layers

    from .test_year import _profiles

    model = GridModel.from_layers(load_layers(), scenario="low-wind-peak-2030", secure=False)
    sit = build_situations(model, _profiles())
    buses = ["maasvlakte-380", "ens-380"]
    one = model.firm_capacity(sit, buses=buses)
    assert one["ac_mw"].notna().all() and one.filter(like="ac_at_").notna().any().any()  # AC ran for hours
    model._hourly_memo.clear()
    two = model.firm_capacity(sit, buses=buses, client=client)
    pd.testing.assert_frame_equal(two, one, check_exact=True)
    assert two.attrs == one.attrs
    with pytest.raises(ParameterError, match="client"):
        model.firm_capacity(sit, buses=buses, client="tcp://127.0.0.1:8786")


def test_cli_year_dask_errors_name_the_option_before_the_year_is_computed(monkeypatch):
    from click.testing import CliRunner

    from siting import _tiled
    from siting.cli import main

    monkeypatch.setattr(_tiled, "CONNECT_TIMEOUT", "1s")
    monkeypatch.setattr("siting.grid.model.GridModel.situations", None)  # (reaching the year would fail otherwise)
    bad = CliRunner().invoke(main, ["year", "--bus", "maasvlakte-380", "--dask", "tcp://127.0.0.1:9"])
    assert bad.exit_code == 2 and "--dask tcp://127.0.0.1:9" in bad.output and "cannot connect" in bad.output
    mem = CliRunner().invoke(main, ["year", "--dask", "--worker-memory", "lots"])
    assert mem.exit_code == 2 and "--worker-memory lots" in mem.output


def test_local_cluster_workers_reuse_large_arrays(monkeypatch):
    """The local cluster of --dask: its workers' C allocator keeps arrays up to 32 MB and trims
    from 1 GB (Dask's default, a 64 kB trim, page-faulted every array over 128 kB in again: the
    all-bus hosting of 340 case1354pegase buses 57.5 s on 2 workers, 40.8 s so) — also where
    this process's environment has Dask's setting (an earlier local cluster's nannies put it
    there), and this process's environment is left as it was; the surface's cluster keeps Dask's."""
    import os

    from siting._tiled import WORKER_MALLOC, dask_client

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "65536")
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    with dask_client(None, "1GB", n_workers=1) as c:
        (env,) = c.run(lambda: {k: os.environ.get(k) for k in WORKER_MALLOC}).values()
    assert env == {k: str(v) for k, v in WORKER_MALLOC.items()}
    assert os.environ["MALLOC_TRIM_THRESHOLD_"] == "65536" and "MALLOC_MMAP_THRESHOLD_" not in os.environ
    with dask_client(None, "1GB", n_workers=1, allocator=False) as c:
        (env,) = c.run(lambda: {k: os.environ.get(k) for k in WORKER_MALLOC}).values()
    assert env["MALLOC_TRIM_THRESHOLD_"] == "65536" and env["MALLOC_MMAP_THRESHOLD_"] is None
