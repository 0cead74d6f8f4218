"""Stage 6 — exports. Files are written atomically (a temporary file in the same folder, then
renamed) and never silently overwrite: an existing file is an error unless ``overwrite=True``."""

from __future__ import annotations

import os
import tempfile
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd

from .errors import ConfigError

__all__ = ["write_table", "TABLE_FORMATS"]

TABLE_FORMATS = {".csv": "CSV", ".gpkg": "GPKG", ".geojson": "GeoJSON"}


def write_table(table: pd.DataFrame, path: str | PathLike[str], *, overwrite: bool = False,
                layer: str = "siting") -> Path:
    """Write `table` to CSV, or — for a GeoDataFrame — GeoPackage or GeoJSON, by suffix.

    Raises
    ------
    ConfigError
        Unknown suffix, a spatial format for a table without geometry, an existing file without
        `overwrite`, or a missing folder.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise ConfigError(f"cannot write '{path}': unknown suffix {suffix!r}; use one of {', '.join(TABLE_FORMATS)}")
    if suffix != ".csv" and not isinstance(table, gpd.GeoDataFrame):
        raise ConfigError(f"cannot write '{path}' as {TABLE_FORMATS[suffix]}: the table has no geometry; use .csv")
    if path.exists() and not overwrite:
        raise ConfigError(f"'{path}' exists; not overwriting. Fix: choose another name or pass overwrite=True (--overwrite)")
    if not path.parent.is_dir():
        raise ConfigError(f"cannot write '{path}': folder '{path.parent}' does not exist")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        if suffix == ".csv":
            out = table.drop(columns="geometry") if isinstance(table, gpd.GeoDataFrame) else table
            out.to_csv(tmp, index=True, lineterminator="\n", float_format="%.6g")
        else:
            tmp.unlink()  # GDAL refuses to write into an existing empty file
            table.to_file(tmp, driver=TABLE_FORMATS[suffix], layer=layer, engine="pyogrio")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
