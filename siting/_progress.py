"""Progress bars (tqdm: terminals and notebooks) for steps that can take more than a few
seconds; switched off by ``set_quiet(True)``, the CLI's ``--quiet`` or ``SITING_QUIET=1``."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
_state = {"quiet": os.environ.get("SITING_QUIET", "") not in ("", "0")}


def set_quiet(quiet: bool = True) -> None:
    """Silence (or restore) progress bars."""
    _state["quiet"] = bool(quiet)


def progress(items: Iterable[T], desc: str, total: int | None = None, min_items: int = 8) -> Iterator[T]:
    """`items` with a progress bar when not quiet and there are at least `min_items`."""
    items = list(items) if total is None else items
    n = len(items) if total is None else total
    if _state["quiet"] or n < min_items:
        yield from items
        return
    from tqdm.auto import tqdm

    yield from tqdm(items, desc=desc, total=n, leave=False, mininterval=0.5)
