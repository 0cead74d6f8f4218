"""Progress bars (tqdm) for steps that can take more than a few seconds; switched off by
``set_quiet(True)``, the CLI's ``--quiet`` or ``SITING_QUIET=1``.

In a terminal the bar goes to stderr, as usual. In a Jupyter kernel it is a widget when
ipywidgets is installed (``python -m pip install ".[notebook]"``), and otherwise plain text on
stdout: never tqdm's "IProgress not found" warning, never a red stderr block under every cell.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")
_state = {"quiet": os.environ.get("SITING_QUIET", "") not in ("", "0")}
_thread = threading.local()  # quiet in this thread only (a task on a Dask worker)


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) progress bars."""
    _state["quiet"] = bool(quiet)


@contextmanager
def quiet_here():
    """No progress bars from this thread within the block (e.g. a Dask task, whose bars would
    interleave with the caller's); other threads keep theirs."""
    before = getattr(_thread, "quiet", False)
    _thread.quiet = True
    try:
        yield
    finally:
        _thread.quiet = before


def in_notebook() -> bool:
    """True inside a Jupyter kernel (IPython's ZMQ shell, e.g. JupyterLab, VS Code, nbclient)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    try:
        shell = ipython.get_ipython()
    except Exception:  # noqa: BLE001 - an odd IPython must never break a computation
        return False
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _has_widgets() -> bool:
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return False
    return True


def _bar(items, desc: str, total: int):
    """A tqdm bar for where we run: widget or plain text in a notebook, stderr in a terminal."""
    options = {"desc": desc, "total": total, "leave": False, "mininterval": 0.5}
    if in_notebook():
        if _has_widgets():
            from tqdm import notebook

            # tqdm leaves IProgress None when it cannot use the installed ipywidgets; building a
            # bar then would fail, and its clean-up would print to stderr: plain text instead
            if getattr(notebook, "IProgress", None) is not None:
                return notebook.tqdm(items, **options)
        from tqdm.std import tqdm as text_tqdm

        return text_tqdm(items, file=sys.stdout, ascii=True, ncols=80, **options)
    from tqdm.std import tqdm as text_tqdm

    return text_tqdm(items, **options)


def progress(items: Iterable[T], desc: str, total: int | None = None, min_items: int = 8) -> Iterator[T]:
    """`items` with a progress bar when not quiet and there are at least `min_items`."""
    items = list(items) if total is None else items
    n = len(items) if total is None else total
    if _state["quiet"] or getattr(_thread, "quiet", False) or n < min_items:
        yield from items
        return
    yield from _bar(items, desc, n)
