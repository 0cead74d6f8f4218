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

__all__ = ["write_table", "export", "provenance", "layer_styles", "TABLE_FORMATS", "EXPORT_FORMATS"]

TABLE_FORMATS = {".csv": "CSV", ".gpkg": "GPKG", ".geojson": "GeoJSON"}


def _umask() -> int:
    """The process's umask (read without changing it where the system allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _share(path: Path) -> None:
    """Give `path` — and, for a folder, everything in it — the permissions the user's umask gives
    new files and folders (``0666 & ~umask``, ``0777 & ~umask``): temporary files and folders
    (``tempfile``) are created private (0600/0700), which would hide the outputs from colleagues
    on a shared drive."""
    mask = _umask()
    path = Path(path)
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o777 & ~mask)
            for f in files:
                os.chmod(os.path.join(root, f), 0o666 & ~mask)
        os.chmod(path, 0o777 & ~mask)
    else:
        os.chmod(path, 0o666 & ~mask)


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
        raise ConfigError(f"'{path}' exists; not overwriting. Fix: choose another name or pass overwrite=True (--force)")
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
        _share(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


# ---------------------------------------------------------------------- evaluation bundle

EXPORT_FORMATS = ("gpkg", "geojson", "csv", "png", "html", "cards", "provenance", "capacity")

_QML = """<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>
<qgis version="3.28" styleCategories="Symbology">
{renderer}
</qgis>"""


def _rgba(hexcol: str, alpha: int = 255) -> str:
    r, g, b = (int(hexcol[k:k + 2], 16) for k in (1, 3, 5))
    return f"{r},{g},{b},{alpha}"


def _symbol(name: str, geom: str, colour: str, **opts) -> str:
    """One QGIS symbol: ``fill`` (SimpleFill), ``line`` (SimpleLine) or ``marker`` (SimpleMarker)."""
    if geom == "fill":
        cls, options = "SimpleFill", {"color": _rgba(colour), "outline_color": "35,35,35,255", "outline_width": "0.4",
                                      "style": "solid"}
    elif geom == "line":
        cls, options = "SimpleLine", {"line_color": _rgba(colour), "line_width": str(opts.pop("width", 0.6)),
                                      "line_style": opts.pop("style", "solid"), "capstyle": "round",
                                      "joinstyle": "round"}
    else:
        cls, options = "SimpleMarker", {"color": _rgba(colour), "name": opts.pop("shape", "circle"),
                                        "size": str(opts.pop("size", 2.0)), "outline_color": "255,255,255,255",
                                        "outline_width": "0.2"}
    options.update({k: str(v) for k, v in opts.items()})
    body = "".join(f'      <Option type="QString" name="{k}" value="{v}"/>\n' for k, v in options.items())
    return (f'   <symbol type="{geom}" name="{name}" alpha="1" clip_to_extent="1" force_rhr="0">\n'
            f'    <layer class="{cls}" enabled="1" locked="0" pass="0">\n     <Option type="Map">\n{body}'
            f'     </Option>\n    </layer>\n   </symbol>')


def _qml(colours: dict[str, str], attr: str = "verdict", geom: str = "fill") -> str:
    """A categorised QGIS style: one symbol per value of `attr`."""
    cats = "\n".join(f'   <category symbol="{i}" value="{v}" label="{v}" render="true"/>' for i, v in enumerate(colours))
    syms = "\n".join(_symbol(str(i), geom, c) for i, c in enumerate(colours.values()))
    return _QML.format(renderer=(
        f' <renderer-v2 type="categorizedSymbol" attr="{attr}" symbollevels="0" enableorderby="0" forceraster="0">\n'
        f"  <categories>\n{cats}\n  </categories>\n  <symbols>\n{syms}\n  </symbols>\n </renderer-v2>"))


def _qml_rules(rules: list[tuple[str, str, str, dict]], geom: str) -> str:
    """A rule-based QGIS style: ``(label, filter expression, colour, symbol options)`` per rule."""
    from xml.sax.saxutils import quoteattr

    items = "\n".join(f'   <rule key="r{i}" symbol="{i}" label={quoteattr(label)} filter={quoteattr(expr)}/>'
                       for i, (label, expr, _, _) in enumerate(rules))
    syms = "\n".join(_symbol(str(i), geom, colour, **dict(opts)) for i, (_, _, colour, opts) in enumerate(rules))
    return _QML.format(renderer=(
        ' <renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">\n'
        f'  <rules key="root">\n{items}\n  </rules>\n  <symbols>\n{syms}\n  </symbols>\n </renderer-v2>'))


def _qml_single(geom: str, colour: str, **opts) -> str:
    return _QML.format(renderer=(
        ' <renderer-v2 type="singleSymbol" symbollevels="0" enableorderby="0" forceraster="0">\n'
        f"  <symbols>\n{_symbol('0', geom, colour, **opts)}\n  </symbols>\n </renderer-v2>"))


def layer_styles() -> dict[str, tuple[str, str]]:
    """QGIS styles of the GeoPackage layers: ``{layer: (description, QML)}``, the colours of the
    PNG and HTML maps."""
    from .evaluate import VERDICT_COLOURS
    from .maps import _KV_STYLE, IX_COLOUR, LANDING_COLOUR, WATER_COLOUR

    circuit_rules = []
    for kv, (colour, width) in _KV_STYLE.items():
        circuit_rules.append((f"{kv} kV circuit", f"\"kv\" = {kv} AND \"status\" = 'in_service'", colour,
                              {"width": round(0.35 * width, 2)}))
        circuit_rules.append((f"{kv} kV circuit, planned / under construction", f"\"kv\" = {kv} AND \"status\" <> 'in_service'",
                              colour, {"width": round(0.35 * width, 2), "style": "dash"}))
    return {
        "sites": ("sites coloured by verdict (siting)", _qml(VERDICT_COLOURS)),
        "stations": ("380/220 kV stations (siting)", _qml_rules([
            ("380 kV station", "\"kv\" = 380", "#000000", {"size": 2.4}),
            ("220 kV station", "\"kv\" = 220", "#555555", {"size": 1.8})], "marker")),
        "circuits": ("380/220 kV circuits by voltage, planned dashed (siting)", _qml_rules(circuit_rules, "line")),
        "offshore": ("offshore-wind landings by status (siting)", _qml_rules([
            ("in service / grid-ready", "\"status\" IN ('in_service', 'grid_ready')", LANDING_COLOUR,
             {"shape": "triangle", "size": 3.0}),
            ("under construction / planned / concept", "\"status\" NOT IN ('in_service', 'grid_ready')", "#80cdc1",
             {"shape": "triangle", "size": 2.6})], "marker")),
        "amsix": ("AMS-IX points of presence (siting)", _qml_single("marker", IX_COLOUR, shape="diamond", size=2.2)),
        "water": ("open water: sea, lakes, estuaries (siting)", _qml_single("fill", WATER_COLOUR)),
    }


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


def _check_export_args(evaluation, out_dir, layers, formats, sensitivity, surface, force) -> None:
    """export()'s arguments checked (see :mod:`siting._validate`) before anything is written."""
    import xarray as xr

    from . import _validate as V
    from .errors import ParameterError
    from .evaluate import Evaluation
    from .layers import Layers

    V.instance(evaluation, "evaluation", Evaluation, what="an Evaluation (the result of siting.evaluate())",
               allow_none=False, fix="use e.g. siting.export(siting.evaluate(), 'out')")
    V.path(out_dir, "out_dir", what="folder to create")
    V.instance(layers, "layers", Layers, what="a Layers (siting.load_layers())", fix="use e.g. layers=siting.load_layers()")
    if isinstance(formats, str) or not all(isinstance(f, str) for f in _iter_or_empty(formats)) or not formats:
        raise ParameterError("formats", formats, f"a non-empty tuple of format names out of {', '.join(EXPORT_FORMATS)}",
                             problem="one name as text" if isinstance(formats, str) else "",
                             fix=f"use e.g. formats=({formats!r},)" if isinstance(formats, str) else "use e.g. formats=('csv',)")
    V.instance(sensitivity, "sensitivity", pd.DataFrame, what="a DataFrame from Evaluation.sensitivity()",
               fix="use e.g. sensitivity=ev.sensitivity(), or leave it out")
    V.instance(surface, "surface", xr.Dataset, what="a suitability surface (xarray.Dataset) from siting.surface()",
               fix="use e.g. surface=siting.surface(), or leave it out")
    V.flag(force, "force")


def _iter_or_empty(values) -> list:
    try:
        return list(values)
    except TypeError:
        return [None]


def export(evaluation, out_dir: str | PathLike[str], *, layers=None, formats: tuple[str, ...] = EXPORT_FORMATS,
           sensitivity: pd.DataFrame | None = None, surface=None, force: bool = False) -> Path:
    """Write an evaluation for planners into `out_dir`, all at once and atomically.

    Files: ``ranking.gpkg`` (layers ``sites`` with every metric, criterion and verdict,
    ``stations``, ``circuits``, ``offshore``, ``amsix`` and ``water``, each with a default QGIS
    style in the ``layer_styles`` table, see :func:`layer_styles`), ``ranking.geojson``,
    ``ranking.csv``, ``what_it_would_take.csv``, ``map.png`` (300 dpi, see
    :func:`siting.maps.static_map`), ``map.html`` (interactive, self-contained: works offline),
    ``sites/<id>.md`` and ``.html`` report cards, ``capacity_check.csv`` (TenneT's published
    capacity per congestion area beside the model's hosting capacity, study year, worst
    scenario: :meth:`Evaluation.capacity_check`) and ``provenance.json`` (also in the GeoPackage
    as a ``provenance`` table). With `sensitivity` (from :meth:`Evaluation.sensitivity`), its
    columns join the ranking, the cards show them and ``sensitivity.csv`` is written. With
    `surface` (from :func:`siting.surface`), both maps show its score beneath the sites and
    ``surface.tif`` is written (band 1 the score).

    The folder is built beside `out_dir` and renamed into place: a failure leaves nothing
    half-written. An existing `out_dir` is refused unless ``force=True``. Files and folders get
    the permissions of the user's umask (not the private 0600/0700 of temporary files). The
    same inputs give the same bytes, except the timestamp in ``provenance.json``.
    """
    _check_export_args(evaluation, out_dir, layers, formats, sensitivity, surface, force)

    import json
    import shutil

    import pyogrio

    from .layers import load_layers
    from .maps import open_water

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
            extra = {"stations": subs, "circuits": layers.circuits, "offshore": layers.offshore,
                     "amsix": layers.ix[layers.ix["kind"] == "amsix_pop"], "water": open_water(layers)}
            for name, gdf in extra.items():
                gdf.to_file(gpkg, layer=name, driver="GPKG", engine="pyogrio")
            styles = pd.DataFrame([{
                "f_table_catalog": "", "f_table_schema": "", "f_table_name": name, "f_geometry_column": "geom",
                "styleName": name, "styleQML": qml, "styleSLD": "", "useAsDefault": 1,
                "description": description, "owner": "siting", "ui": "", "update_time": "2000-01-01T00:00:00Z",
            } for name, (description, qml) in layer_styles().items()])
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

            html_map(evaluation, layers, tmp / "map.html", surface=surface, card_links="cards" in formats)
        if "cards" in formats:
            from .cards import site_cards

            site_cards(evaluation, tmp / "sites", layers=layers, sensitivity=sensitivity)
        if surface is not None:
            from .surface import write_raster

            write_raster(surface, tmp / "surface.tif")
        if "provenance" in formats:
            (tmp / "provenance.json").write_text(json.dumps(prov, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        _share(tmp)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return out
