"""Shared by the benchmarks: the machine line and writing bench/results/<name>-<date>.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return getattr(__import__(module), "__version__", "?")


def header(title: str, modules: tuple[str, ...]) -> list[str]:
    """Title with timestamp, then machine, Python and the versions of `modules`."""
    versions = ", ".join(f"{m} {_version(m)}" for m in modules)
    return [f"# {title}, {dt.datetime.now().isoformat(timespec='seconds')}", "",
            f"Machine: {platform.platform()}, {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
            f"Python {platform.python_version()}; {versions}", ""]


def table(*columns: str) -> list[str]:
    """A markdown table's header and separator rows."""
    return ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]


def write(name: str, lines: list[str]) -> Path:
    """Write `lines` to bench/results/<name>-<today>.md and say where."""
    out = Path(__file__).parent / "results" / f"{name}-{dt.date.today().isoformat()}.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {out}")
    return out
