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

__all__ = ["write_table", "export", "provenance", "TABLE_FORMATS", "EXPORT_FORMATS"]

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


# ---------------------------------------------------------------------- evaluation bundle

EXPORT_FORMATS = ("gpkg", "geojson", "csv", "png", "html", "cards", "provenance", "capacity")

_QML = """<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28" styleCategories="Symbology">
 <renderer-v2 type="categorizedSymbol" attr="verdict" symbollevels="0" enableorderby="0" forceraster="0">
  <categories>
{categories}
  </categories>
  <symbols>
{symbols}
  </symbols>
 </renderer-v2>
</qgis>"""


def _qml(colours: dict[str, str]) -> str:
    cats, syms = [], []
    for i, (value, hexcol) in enumerate(colours.items()):
        r, g, b = (int(hexcol[k:k + 2], 16) for k in (1, 3, 5))
        cats.append(f'   <category symbol="{i}" value="{value}" label="{value}" render="true"/>')
        syms.append(
            f'   <symbol type="fill" name="{i}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
            f'    <layer class="SimpleFill" enabled="1" locked="0" pass="0">\n'
            f'     <Option type="Map">\n'
            f'      <Option type="QString" name="color" value="{r},{g},{b},255"/>\n'
            f'      <Option type="QString" name="outline_color" value="35,35,35,255"/>\n'
            f'      <Option type="QString" name="outline_width" value="0.4"/>\n'
            f'      <Option type="QString" name="style" value="solid"/>\n'
            f'     </Option>\n    </layer>\n   </symbol>'
        )
    return _QML.format(categories="\n".join(cats), symbols="\n".join(syms))


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as f:  # in chunks: user climate files can be gigabytes
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _inputs(params: dict) -> dict:
    """The user's climate file and rasters, with hashes."""
    named = dict(params.get("rasters") or {})
    climate = params.get("climate")
    if climate and Path(climate).is_file():
        named["climate"] = climate
    return {k: {"path": Path(v).name, "sha256": _sha256(Path(v)) if Path(v).is_file() else None} for k, v in named.items()}


def provenance(evaluation, layers) -> dict:
    """Library version, data files with hashes and dates, criteria hash, scenarios, parameters."""
    import datetime as dt

    from . import __version__
    from .criteria import criteria_dir
    from .grid.scenario import scenario_dir

    files = {}
    for name, src in layers.sources.items():
        p = Path(src.path)
        files[name] = {"path": p.name, "sha256": _sha256(p) if p.is_file() else None, "date": src.date}
    crit = criteria_dir() / f"{evaluation.criteria.name}.toml"
    scen = {s: _sha256(scenario_dir() / f"{s}.toml") for s in evaluation.params["scenarios"]
            if (scenario_dir() / f"{s}.toml").is_file()}
    return {
        "library": "siting",
        "version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": evaluation.params,
        "criteria": {"name": evaluation.criteria.name, "sha256": _sha256(crit) if crit.is_file() else None},
        "scenarios": scen,
        "layers": files,
        "inputs": _inputs(evaluation.params),
        "report": "Ecorys (2025), Meerwaarde van een AI-gigafabriek in Nederland",
    }


def export(evaluation, out_dir: str | PathLike[str], *, layers=None, formats: tuple[str, ...] = EXPORT_FORMATS,
           sensitivity: pd.DataFrame | None = None, surface=None, force: bool = False) -> Path:
    """Write an evaluation for planners into `out_dir`, all at once and atomically.

    Files: ``ranking.gpkg`` (layers ``sites`` with every metric, criterion and verdict — styled
    by verdict for QGIS through a ``layer_styles`` table —, ``stations``, ``circuits``,
    ``offshore``), ``ranking.geojson``, ``ranking.csv``, ``what_it_would_take.csv``,
    ``map.png`` (300 dpi), ``map.html`` (interactive, self-contained: works offline),
    ``sites/<id>.md`` and ``.html`` report cards, ``capacity_check.csv`` (TenneT's published
    capacity per congestion area beside the model's hosting capacity, study year, worst
    scenario: :meth:`Evaluation.capacity_check`) and ``provenance.json`` (also in the
    GeoPackage as a ``provenance`` table). With `sensitivity` (from
    :meth:`Evaluation.sensitivity`), its columns join the ranking and ``sensitivity.csv`` is
    written. With `surface` (from :func:`siting.surface`), both maps show its score beneath the
    sites and ``surface.tif`` is written.

    The folder is built beside `out_dir` and renamed into place: a failure leaves nothing
    half-written. An existing `out_dir` is refused unless ``force=True``. The same inputs give
    the same bytes, except the timestamp in ``provenance.json``.
    """
    import json
    import shutil

    import pyogrio

    from .evaluate import VERDICT_COLOURS
    from .layers import load_layers

    out = Path(out_dir)
    unknown = sorted(set(formats) - set(EXPORT_FORMATS))
    if unknown:
        raise ConfigError(f"unknown export format(s) {unknown}; choose from {', '.join(EXPORT_FORMATS)}")
    if out.exists() and not force:
        raise ConfigError(f"output folder '{out}' exists; not overwriting. Fix: choose a new folder or pass force=True (--force)")
    if not out.parent.is_dir():
        raise ConfigError(f"cannot write '{out}': folder '{out.parent}' does not exist")
    layers = layers if layers is not None else (evaluation.layers or load_layers())
    table = evaluation.table
    if sensitivity is not None:
        table = table.join(sensitivity, on="id")
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        prov = provenance(evaluation, layers)
        if "gpkg" in formats:
            pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": "2000-01-01T00:00:00.000Z"})
            gpkg = tmp / "ranking.gpkg"
            stable = {k: v for k, v in prov.items() if k != "created"}  # keeps the GeoPackage deterministic
            table.to_file(gpkg, layer="sites", driver="GPKG", engine="pyogrio",
                          dataset_metadata={"siting_provenance": json.dumps(stable, sort_keys=True)})
            subs = layers.substations[~layers.substations["id"].str.startswith("xb-")]
            subs.to_file(gpkg, layer="stations", driver="GPKG", engine="pyogrio")
            layers.circuits.to_file(gpkg, layer="circuits", driver="GPKG", engine="pyogrio")
            layers.offshore.to_file(gpkg, layer="offshore", driver="GPKG", engine="pyogrio")
            styles = pd.DataFrame([{
                "f_table_catalog": "", "f_table_schema": "", "f_table_name": "sites", "f_geometry_column": "geom",
                "styleName": "verdict", "styleQML": _qml(VERDICT_COLOURS), "styleSLD": "", "useAsDefault": 1,
                "description": "sites coloured by verdict (siting)", "owner": "siting", "ui": "",
                "update_time": "2000-01-01T00:00:00Z",
            }])
            pyogrio.write_dataframe(styles, gpkg, layer="layer_styles", driver="GPKG")
            pyogrio.write_dataframe(pd.DataFrame([{"key": "provenance", "json": json.dumps(stable, sort_keys=True)}]),
                                    gpkg, layer="provenance", driver="GPKG")
        if "geojson" in formats:
            table.to_crs("EPSG:4326").to_file(tmp / "ranking.geojson", driver="GeoJSON", layer="ranking", engine="pyogrio")
        if "csv" in formats:
            table.drop(columns="geometry").to_csv(tmp / "ranking.csv", index=False, lineterminator="\n", float_format="%.6g")
            evaluation.what_it_would_take().to_csv(tmp / "what_it_would_take.csv", index=False, lineterminator="\n",
                                                   float_format="%.6g")
        if sensitivity is not None:
            sensitivity.to_csv(tmp / "sensitivity.csv", lineterminator="\n", float_format="%.6g")
        if "capacity" in formats and getattr(evaluation, "models", None):
            evaluation.capacity_check().to_csv(tmp / "capacity_check.csv", index=False, lineterminator="\n",
                                               float_format="%.6g")
        if "png" in formats:
            from .maps import static_map

            static_map(evaluation, layers, tmp / "map.png", surface=surface)
        if "html" in formats:
            from .webmap import html_map

            html_map(evaluation, layers, tmp / "map.html", surface=surface)
        if "cards" in formats:
            from .cards import site_cards

            site_cards(evaluation, tmp / "sites", layers=layers)
        if surface is not None:
            from .surface import write_raster

            write_raster(surface, tmp / "surface.tif")
        if "provenance" in formats:
            (tmp / "provenance.json").write_text(json.dumps(prov, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out
