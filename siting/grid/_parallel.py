"""Independent per-bus work on every core of the machine.

All-bus hosting capacity is one independent search per bus once the N-1 cases are solved and
screened. :func:`map_items` runs such a search for every item on worker processes *forked* from
this one: they inherit the solved cases, the screen and the compiled solver as they are (nothing
is pickled but the small result rows), so it costs a fork, not a rebuild. The answers are those
of a run in this process (each item's search depends on the item only; tested).

What the workers run keeps no threads of its own to lose in the fork: the HiGHS LPs run with one
thread, the BLAS with one (:mod:`siting.grid._threads`; OpenBLAS also shuts its pool down across a
fork), lightsim2grid has none. It falls back to this process where forking is not available or
not safe: outside Linux (macOS and Windows spawn processes, which would have to rebuild the
model), inside a daemonic worker (a Dask worker process), outside the main thread (a Dask
worker thread: a fork copies the other threads' locks as they are, and two threads' pools would
share :data:`_TASK`), with one core, or for fewer than :data:`MIN_ITEMS` items (a fork is not
worth it). What is shared per chunk of items is laid out by the caller, not by the cores (see
:meth:`siting.grid.hosting.HostingSearch.prepare`), so the answer is the same either way.
A worker that fails makes its items run again here, so an error is raised as it would be
without workers.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed

from .._progress import progress

__all__ = ["available_workers", "map_items", "planned_workers"]

#: fewer items than this run in this process
MIN_ITEMS = 8
#: chunks per worker (smaller chunks balance better — one bus can cost ten times another —
#: and each costs a round trip of well under a millisecond)
CHUNKS_PER_WORKER = 32

_TASK: Callable[[int], object] | None = None  # what the forked workers run (inherited at fork)


def available_workers() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    return (sys.platform.startswith("linux") and "fork" in mp.get_all_start_methods()
            and not mp.current_process().daemon and threading.current_thread() is threading.main_thread())


def planned_workers(n: int, workers: int | None = None) -> int:
    """How many processes :func:`map_items` would use for `n` items (1: this one)."""
    workers = available_workers() if workers is None else int(workers)
    workers = min(workers, max(n // 2, 1))
    return 1 if workers <= 1 or n < MIN_ITEMS or not _can_fork() else workers


def _run_chunk(items: list[int]) -> list[object]:
    assert _TASK is not None
    return [_TASK(i) for i in items]


def map_items(fn: Callable[[int], object], n: int, workers: int | None = None, desc: str = "",
              chunks: list[list[int]] | None = None) -> list[object]:
    """``[fn(0), …, fn(n-1)]``, on `workers` forked processes (default: every available core)
    when that pays, with a progress bar labelled `desc`. A worker gets whole `chunks` (lists of
    items that share work prepared per chunk, e.g. a screen of those buses); else interleaved
    items, which balance better."""
    global _TASK
    workers = planned_workers(n, workers)
    if workers <= 1:  # chunk by chunk (each chunk's shared work done once)
        order = [i for c in chunks for i in c] if chunks else range(n)
        out_here: list[object] = [None] * n
        for i in progress(order, desc, total=n):
            out_here[i] = fn(i)
        return out_here
    if chunks:
        chunks = [list(c) for c in chunks]
    else:
        n_chunks = min(n, workers * CHUNKS_PER_WORKER)
        chunks = [list(range(n))[c::n_chunks] for c in range(n_chunks)]
    out: list[object] = [None] * n
    failed: list[list[int]] = []
    _TASK = fn
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("fork")) as pool:
            futures = {pool.submit(_run_chunk, chunk): chunk for chunk in chunks}

            def finished():
                for fut in as_completed(futures):
                    chunk = futures[fut]
                    try:
                        results = fut.result()
                    except Exception:  # noqa: BLE001 - re-run here, where the error is raised as is
                        failed.append(chunk)
                        results = None
                    if results is not None:
                        for i, r in zip(chunk, results):
                            out[i] = r
                    yield from chunk

            for _ in progress(finished(), desc, total=n):
                pass
    finally:
        _TASK = None
    for chunk in failed:
        for i in chunk:
            out[i] = fn(i)
    return out
