"""Stage 6 — exports. Every output is written atomically and never lost (see
:func:`siting._atomic.atomic_output`): built beside its target and renamed into place when
complete; an existing output is replaced only with ``force``/``overwrite`` (and deleted only
after the new one is in place); two runs into one target cannot both succeed; failures on
input/output (read-only or full disk, missing folder) are :class:`~siting.errors.OutputError`
and leave nothing behind."""

from __future__ import annotations

from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import geopandas as gpd
import pandas as pd

from ._atomic import atomic_output, pause_point
from ._origins import file_sha256
from .errors import ConfigError

__all__ = ["write_table", "export", "provenance", "layer_styles", "TABLE_FORMATS", "EXPORT_FORMATS"]

TABLE_FORMATS = {".csv": "CSV", ".gpkg": "GPKG", ".geojson": "GeoJSON"}


def write_table(table: pd.DataFrame, path: str | PathLike[str], *, overwrite: bool = False,
                layer: str = "siting") -> Path:
    """Write `table` to CSV, or — for a GeoDataFrame — GeoPackage or GeoJSON, by suffix.

    The file is written in a private folder beside `path` and renamed into place when complete:
    `path` is at every moment absent, the earlier file or the complete new one. With
    `overwrite`, an earlier file is deleted only after the new one is in place. Two runs writing
    the same `path` cannot both succeed. The file gets the permissions of the user's umask.

    Raises
    ------
    ConfigError
        Unknown suffix, or a spatial format for a table without geometry.
    OutputError
        An existing `path` without `overwrite` (or a folder there), another run writing it, a
        missing or read-only folder, a full disk; nothing is left behind.
    """
    shown = path
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in TABLE_FORMATS:
        raise ConfigError(f"cannot write '{shown}': unknown suffix {suffix!r}; use one of {', '.join(TABLE_FORMATS)}")
    if suffix != ".csv" and not isinstance(table, gpd.GeoDataFrame):
        raise ConfigError(f"cannot write '{shown}' as {TABLE_FORMATS[suffix]}: the table has no geometry; use .csv")
    with atomic_output(path, folder=False, force=overwrite, what="table",
                       option="overwrite=True (--force)") as tmp:
        if suffix == ".csv":
            out = table.drop(columns="geometry") if isinstance(table, gpd.GeoDataFrame) else table
            out.to_csv(tmp, index=True, lineterminator="\n", float_format="%.6g")
        else:
            table.to_file(tmp, driver=TABLE_FORMATS[suffix], layer=layer, engine="pyogrio")
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


#: files that belong to a Shapefile beside its .shp (the attributes live in the .dbf)
_SHAPEFILE_PARTS = (".shx", ".dbf", ".prj", ".cpg", ".qix", ".sbn", ".sbx")


def _shipped(path: Path) -> bool:
    from .layers import embedded_data_dir

    try:
        return path.resolve().is_relative_to(embedded_data_dir().resolve())
    except OSError:
        return False


def _file_record(path, **extra) -> dict:
    """``{"path": name, "sha256": …}`` of the file at `path` as it is now: a folder (e.g. a file
    geodatabase) hashed over its files, a Shapefile with its parts, a file inside an archive
    (``/vsizip/…``, ``zip://…!…``) by the archive's hash; ``"missing": true`` when it is gone."""
    text = str(path)
    if "\n" in text or text.startswith("<"):  # an in-memory object, not a path
        return {"path": None, "sha256": None, "given": "in memory (no file)", **extra}
    p = Path(text)
    record: dict = {"path": p.name}
    if p.is_file():
        record["sha256"] = file_sha256(p)
        if p.suffix.lower() == ".shp":
            parts = {q.name: file_sha256(q) for q in sorted(p.parent.glob(f"{p.stem}.*"))
                     if q.suffix.lower() in _SHAPEFILE_PARTS and q.is_file()}
            if parts:
                record["parts"] = parts
    elif p.is_dir():
        import hashlib

        digest = hashlib.sha256()
        for q in sorted(x for x in p.rglob("*") if x.is_file()):
            digest.update(q.relative_to(p).as_posix().encode() + b"\0" + file_sha256(q).encode() + b"\n")
        record.update(sha256=digest.hexdigest(), kind="folder")
    else:
        archive = _archive_of(text)
        if archive is not None:
            record.update(path=f"{archive.name}/{p.name}", sha256=file_sha256(archive), kind="archive member")
        else:
            record.update(sha256=None, missing=True)
    if _shipped(p):
        record["shipped"] = True
    record.update(extra)
    return record


def _archive_of(text: str) -> Path | None:
    """The archive file behind a GDAL virtual path (``/vsizip/a.zip/b.shp``, ``zip://a.zip!b.shp``)."""
    for prefix in ("/vsizip/", "/vsitar/", "/vsigzip/", "zip://", "tar://"):
        if text.startswith(prefix):
            text = text[len(prefix):].split("!")[0]
            q = Path(text)
            for cand in (q, *q.parents):
                if cand.is_file():
                    return cand
    return None


def _config_record(obj, origin) -> dict:
    from ._origins import content_sha256

    if origin is None:
        record = {"path": None, "sha256": None, "given": "as an object (no file)"}
    else:
        record = {"path": origin.path.name, "sha256": origin.sha256}
        if _shipped(origin.path):
            record["shipped"] = True
    record["content_sha256"] = content_sha256(obj)
    return record


def _criteria_record(evaluation) -> dict:
    """The criteria file read for `evaluation`: found by identity or content, or — with a policy
    mode or a kind of study applied — as the file whose set, so applied, equals the evaluation's."""
    from ._origins import origin_of, read_from
    from .criteria import CriteriaSet

    crit = evaluation.criteria
    policy = evaluation.params.get("policy")
    kind = "year" if evaluation.params.get("situations") else "snapshots"
    origin = origin_of(crit)
    if origin is None:
        for obj, o in read_from(CriteriaSet):
            if obj.for_situations(kind).with_policy(policy) == crit:
                origin = o
                break
    return {"name": crit.name, "policy": policy, **_config_record(crit, origin)}


def _scenario_records(evaluation) -> dict:
    from ._origins import origin_of

    models = getattr(evaluation, "models", None) or {}
    out = {}
    for name in evaluation.params.get("scenarios", []):
        model = models.get(name)
        if model is None:
            out[name] = {"path": None, "sha256": None, "given": "unknown (no grid model kept)"}
        else:
            out[name] = _config_record(model.scenario, origin_of(model.scenario))
    return out


def _sites_from_layers(evaluation, layers) -> bool:
    """Whether the evaluation judged the sites of ``layers.sites`` (else sites given as a table)."""
    mine = layers.sites.sort_values("id")
    theirs = evaluation.table.sort_values("id")
    if len(mine) != len(theirs) or list(mine["id"].astype(str)) != list(theirs["id"].astype(str)):
        return False
    return bool(mine.geometry.reset_index(drop=True).geom_equals_exact(theirs.geometry.reset_index(drop=True),
                                                                       tolerance=1e-6).all())


def _table_sha256(table) -> str:
    """SHA-256 of a table's site ids and geometries (WKB), in id order."""
    import hashlib

    t = table.sort_values("id")
    digest = hashlib.sha256()
    for i, wkb in zip(t["id"].astype(str), t.geometry.to_wkb()):
        digest.update(i.encode() + b"\0" + wkb)
    return digest.hexdigest()


def _inputs(params: dict) -> dict:
    """The user's climate file and rasters, with hashes."""
    named = dict(params.get("rasters") or {})
    climate = params.get("climate")
    if climate and not str(climate).startswith("embedded"):
        named["climate"] = climate
    return {k: _file_record(v) for k, v in named.items()}


def provenance(evaluation, layers, *, sources: Mapping[str, str | PathLike[str]] | None = None) -> dict:
    """Library version, every file read with its SHA-256, parameters.

    Every file is recorded with the SHA-256 of its bytes: layer files (a Shapefile with its
    ``.dbf`` and other parts, under ``parts``), the criteria and scenario files (hashed as they
    were parsed, so a user's file is told apart from a shipped one of the same name), the
    climate file and rasters. ``shipped: true`` marks the package's own data. The criteria and
    scenarios also get ``content_sha256``, the hash of what was applied (criteria after the
    policy mode); an object built in code has no file (``path`` null, ``given`` says so). Sites
    passed to :func:`siting.evaluate` as a table are recorded as such, or by their file when
    `sources` names it (``{"sites": path}``).

    Layer files, the climate file and rasters are hashed when this runs (an export: right after
    the evaluation); a file changed in between is recorded as it is now.
    """
    import datetime as dt

    from . import __version__

    files = {}
    for name, src in layers.sources.items():
        files[name] = _file_record(src.path, date=src.date)
    if not _sites_from_layers(evaluation, layers):
        files["sites"] = {"path": None, "sha256": None, "given": "as a table (evaluate(sites=...))",
                          "content_sha256": _table_sha256(evaluation.table)}
    for name, path in (sources or {}).items():
        files[name] = _file_record(path, given="read by the caller")
    return {
        "library": "siting",
        "version": __version__,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "parameters": evaluation.params,
        "criteria": _criteria_record(evaluation),
        "scenarios": _scenario_records(evaluation),
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
           sensitivity: pd.DataFrame | None = None, surface=None, force: bool = False,
           sources: Mapping[str, str | PathLike[str]] | None = None) -> Path:
    """Write an evaluation for planners into `out_dir`, all at once and atomically.

    Files: ``ranking.gpkg`` (layers ``sites`` with every metric, criterion and verdict,
    ``stations``, ``circuits``, ``offshore``, ``amsix`` and ``water``, each with a default QGIS
    style in the ``layer_styles`` table, see :func:`layer_styles`), ``ranking.geojson``,
    ``ranking.csv``, ``what_it_would_take.csv``, ``map.png`` (300 dpi, see
    :func:`siting.maps.static_map`), ``map.html`` (interactive, self-contained: works offline),
    ``sites/<id>.md`` and ``.html`` report cards, ``capacity_check.csv`` (TenneT's published
    capacity per congestion area beside the model's hosting capacity, study year, worst
    scenario: :meth:`Evaluation.capacity_check`) and ``provenance.json`` (also in the GeoPackage
    as a ``provenance`` table; see :func:`provenance`). With `sensitivity` (from
    :meth:`Evaluation.sensitivity`), its columns join the ranking, the cards show them and
    ``sensitivity.csv`` is written. With `surface` (from :func:`siting.surface`), both maps show
    its score beneath the sites and ``surface.tif`` is written (band 1 the score).

    `sources` names files the caller read layers from outside `layers` (e.g. ``{"sites": path}``
    when the sites were read with :func:`siting.read_layer` and passed to
    :func:`siting.evaluate` as a table): provenance records them with their SHA-256.

    Guarantees (see :mod:`siting._atomic`): the folder is built beside `out_dir` (hidden,
    ``.NAME.siting-new-XXXX``) and renamed into place when complete, so `out_dir` is at every
    moment absent, the earlier folder, or the complete new one. An existing `out_dir` is
    refused unless ``force=True``; then it is renamed aside and deleted only after the new
    folder is in place (with whatever else it held). Two runs into one folder cannot both
    succeed. What killed runs left is cleaned up by the next run; SIGINT and SIGTERM clean up
    before they end the process. Files and folders get the permissions of the user's umask (not
    the private 0600/0700 of temporary files). The same inputs give the same bytes, except the
    timestamp in ``provenance.json``.

    Raises
    ------
    ConfigError
        Unknown export format.
    OutputError
        `out_dir` exists (without `force`) or is a file, another run is writing it, its folder is
        missing or read-only, or the disk is full; nothing is left behind and an earlier folder is
        unchanged.
    """
    _check_export_args(evaluation, out_dir, layers, formats, sensitivity, surface, force)

    import json

    import pyogrio

    from .layers import load_layers
    from .maps import open_water

    unknown = sorted(set(formats) - set(EXPORT_FORMATS))
    if unknown:
        raise ConfigError(f"unknown export format(s) {unknown}; choose from {', '.join(EXPORT_FORMATS)}")
    layers = layers if layers is not None else (evaluation.layers or load_layers())
    table = evaluation.table
    if sensitivity is not None:
        table = table.join(sensitivity, on="id")
    with atomic_output(out_dir, folder=True, force=force, what="output folder") as tmp:
        prov = provenance(evaluation, layers, sources=sources)
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
            pause_point("export:gpkg")
        if "geojson" in formats:
            table.to_crs("EPSG:4326").to_file(tmp / "ranking.geojson", driver="GeoJSON", layer="ranking", engine="pyogrio")
        if "csv" in formats:
            table.drop(columns="geometry").to_csv(tmp / "ranking.csv", index=False, lineterminator="\n", float_format="%.6g")
            pause_point("export:csv")
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
    return Path(out_dir)
