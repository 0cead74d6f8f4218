"""One BLAS thread for the grid's many small dense solves.

The AC solver factorises matrices of a few hundred rows thousands of times. A multi-threaded BLAS
gains nothing on matrices that small and, when the machine is busy (another process, a notebook
kernel beside the tests), its threads wait on each other: measured on IEEE 118, an N-1 solve took
27 ms with OpenBLAS's default threads under load against 3 ms with one thread. The grid's public
entry points run inside :func:`single_blas_thread`; the caller's setting is restored afterwards.
"""

from __future__ import annotations

import functools

from threadpoolctl import threadpool_limits

__all__ = ["single_blas_thread", "one_blas_thread"]


def single_blas_thread():
    """Context manager: BLAS limited to one thread, restored on exit."""
    return threadpool_limits(limits=1, user_api="blas")


def one_blas_thread(fn):
    """Decorator: run `fn` with one BLAS thread."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with single_blas_thread():
            return fn(*args, **kwargs)

    return wrapper
