"""Stage 1 — layers: load and validate the GIS layers into one working CRS (EPSG:28992).

The default is the embedded Netherlands dataset (``data/nl``, listed in
``data/nl/layers.toml``). Any layer can be replaced by the user's own file — GeoPackage,
GeoJSON, Shapefile, FlatGeobuf, GeoParquet, or CSV with lon/lat (or WKT) columns — through
keyword arguments or a TOML layer set. Every layer is validated against its schema
(:mod:`siting.schema`); bad input raises a :class:`~siting.errors.LayerError` naming the file,
layer, column and the fix.
"""

from __future__ import annotations

import datetime as _dt
import difflib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, fields
from functools import cache
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator
from pyproj import CRS
from pyproj.exceptions import CRSError

from ._config import pydantic_text, read_toml_model
from .errors import (
    ConfigError,
    GeometryRepairedWarning,
    LayerError,
    LayerCRSError,
    LayerFileError,
    LayerGeometryError,
    LayerSchemaError,
    LayerValueError,
    SiteAreaWarning,
    TruncatedFieldWarning,
)
from ._plausible import DBF_NAME_LEN, dbf_truncations, temperature_problem
from .schema import LAYER_NAMES, LayerSpec, layer_specs

__all__ = [
    "WORK_CRS",
    "LayerSource",
    "LayerSet",
    "Layers",
    "load_layers",
    "read_layer",
    "validate_layer",
    "embedded_data_dir",
    "SUPPORTED_FORMATS",
    "AREA_TOLERANCE",
    "governing_area_ha",
]

#: A declared area may exceed its polygon's area by this share before the polygon's area governs
#: the space condition (with a :class:`~siting.errors.SiteAreaWarning`).
AREA_TOLERANCE = 0.10

#: Working CRS of every layer: RD New (Amersfoort / RD New), metres.
WORK_CRS = "EPSG:28992"

#: File suffixes the loader reads, and the format each means.
SUPPORTED_FORMATS: dict[str, str] = {
    ".gpkg": "GeoPackage",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".shp": "Shapefile",
    ".fgb": "FlatGeobuf",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
    ".csv": "CSV",
}

# The Netherlands in RD New (about x 0..280 km, y 300..625 km), widened by 60 km so that the
# offshore strip and the boundary-equivalent nodes of neighbouring grids fit. A feature wholly
# outside this box is not a Dutch feature: a wrong CRS or wrong coordinates.
_STUDY_BOX_RD = shapely.box(-60_000.0, 240_000.0, 340_000.0, 685_000.0)
# Lon/lat box of the same area, to spot swapped coordinates.
_LON_RANGE = (2.5, 8.0)
_LAT_RANGE = (50.5, 54.2)

_LON_NAMES = ("lon", "longitude", "lng", "x")
_LAT_NAMES = ("lat", "latitude", "y")
_WKT_NAMES = ("wkt", "geometry", "geom")


class LayerSource(BaseModel):
    """Where one layer comes from, and how to read it.

    Parameters
    ----------
    path : Path
        The file. Relative paths are resolved against the layer-set file's folder.
    layer : str, optional
        Layer name inside a multi-layer file (GeoPackage).
    crs : str, optional
        CRS to assume when the file carries none (e.g. ``"EPSG:28992"``); required for CSV
        files with ``x``/``y`` or WKT columns. Files that carry a CRS are reprojected from it.
    columns : dict, optional
        Renames from the file's column names to the schema's, e.g. ``{"naam": "name"}``.
    lon, lat : str, optional
        CSV coordinate columns, when not called lon/lat, longitude/latitude or x/y.
    wkt : str, optional
        CSV column with WKT geometry, when not called wkt/geometry.
    date : str, optional
        Date of the data (shown in the inventory); default: the file's modification date.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    path: Path
    layer: str | None = None
    crs: str | None = None
    columns: dict[str, str] = {}
    lon: str | None = None
    lat: str | None = None
    wkt: str | None = None
    date: str | None = None

    @field_validator("crs")
    @classmethod
    def _crs_known(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                CRS.from_user_input(value)
            except CRSError as exc:
                raise ValueError(f"unknown CRS {value!r} ({exc}); use e.g. 'EPSG:28992'") from exc
        return value


class LayerSet(BaseModel):
    """A set of layer sources, usually read from a TOML file.

    Example TOML::

        [layers]
        population = "cbs_kernen.gpkg"          # shorthand: just a path

        [layers.sites]
        path = "plots.gpkg"
        layer = "bedrijventerreinen"
        columns = { naam = "name", netto_ha = "area_ha" }

    Layers not named keep the embedded default.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    layers: dict[str, LayerSource]

    @field_validator("layers", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: ({"path": v} if isinstance(v, (str, PathLike)) else v) for k, v in value.items()}
        return value

    @field_validator("layers")
    @classmethod
    def _known_layers(cls, value: dict[str, LayerSource]) -> dict[str, LayerSource]:
        unknown = sorted(set(value) - set(LAYER_NAMES))
        if unknown:
            raise ValueError(f"unknown layer(s) {unknown}; valid names: {', '.join(LAYER_NAMES)}")
        return value

    @classmethod
    def from_toml(cls, path: str | PathLike[str]) -> LayerSet:
        """Read a layer set from a TOML file; relative paths are resolved against its folder."""
        from ._validate import path as _path

        path = _path(path, "layer_set", what="layer-set TOML file")
        parsed = read_toml_model(path, cls, "layer-set")
        base = path.parent
        return cls(
            layers={
                name: src.model_copy(update={"path": (base / src.path) if not src.path.is_absolute() else src.path})
                for name, src in parsed.layers.items()
            }
        )


@dataclass(frozen=True)
class Layers:
    """Every layer of a study, validated, in EPSG:28992, reachable by name.

    Attributes are GeoDataFrames: ``substations``, ``circuits``, ``transformers``, ``plants``,
    ``offshore``, ``interconnectors``, ``ix``, ``sites``, ``population``, ``built_up``,
    ``water``, ``heat_sinks``, ``climate``, ``boundary``, ``municipalities``, ``congestion``. ``sources`` maps each name to the
    :class:`LayerSource` it was read from.
    """

    substations: gpd.GeoDataFrame
    circuits: gpd.GeoDataFrame
    transformers: gpd.GeoDataFrame
    plants: gpd.GeoDataFrame
    offshore: gpd.GeoDataFrame
    interconnectors: gpd.GeoDataFrame
    ix: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    population: gpd.GeoDataFrame
    built_up: gpd.GeoDataFrame
    water: gpd.GeoDataFrame
    heat_sinks: gpd.GeoDataFrame
    climate: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
    municipalities: gpd.GeoDataFrame
    congestion: gpd.GeoDataFrame
    sources: Mapping[str, LayerSource]

    @property
    def names(self) -> tuple[str, ...]:
        """Layer names, in schema order."""
        return LAYER_NAMES

    def __getitem__(self, name: str) -> gpd.GeoDataFrame:
        if name not in LAYER_NAMES:
            raise KeyError(f"no layer {name!r}; valid names: {', '.join(LAYER_NAMES)}")
        return getattr(self, name)

    def __iter__(self):
        return iter(LAYER_NAMES)

    def inventory(self) -> pd.DataFrame:
        """One row per layer: rows, geometry types, CRS, source file, date.

        Returns
        -------
        DataFrame
            Columns ``layer, rows, geometry, crs, source, date``.
        """
        rows = []
        for name in LAYER_NAMES:
            gdf = self[name]
            src = self.sources[name]
            rows.append(
                {
                    "layer": name,
                    "rows": len(gdf),
                    "geometry": ", ".join(sorted(set(gdf.geom_type.dropna()))),
                    "crs": gdf.crs.to_string() if gdf.crs is not None else "",
                    "source": _display_path(src.path),
                    "date": src.date or _file_date(src.path),
                }
            )
        return pd.DataFrame(rows)


def _display_path(path: Path) -> str:
    try:
        return "embedded:" + path.resolve().relative_to(embedded_data_dir().resolve()).as_posix()
    except ValueError:
        return str(path)


def _file_date(path: Path) -> str:
    try:
        return _dt.date.fromtimestamp(path.stat().st_mtime).isoformat()
    except OSError:
        return ""


# --------------------------------------------------------------------------- embedded data


def embedded_data_dir() -> Path:
    """Folder of the embedded dataset: ``siting/data`` in an installed wheel, ``data/`` in a
    source checkout."""
    installed = resources.files("siting").joinpath("data")
    if installed.is_dir():
        return Path(str(installed))
    checkout = Path(__file__).resolve().parent.parent / "data"
    if checkout.is_dir():
        return checkout
    raise LayerFileError(
        "the embedded dataset is missing (neither siting/data nor data/ beside the package)",
        fix="reinstall the package with `pip install .` from a complete clone",
    )


@cache
def _embedded_layer_set() -> LayerSet:
    return LayerSet.from_toml(embedded_data_dir() / "nl" / "layers.toml")


# --------------------------------------------------------------------------------- reading


def _as_source(value: str | PathLike[str] | LayerSource | Mapping[str, Any], name: str) -> LayerSource:
    if isinstance(value, LayerSource):
        return value
    if not isinstance(value, (str, PathLike, Mapping)) or not str(value).strip():
        from .errors import ParameterError, type_phrase

        raise ParameterError(name, value, "the path of a layer file, a LayerSource or a dict of its options",
                             problem=f"{type_phrase(value)}" if not isinstance(value, str) else "an empty path",
                             fix=f"use e.g. {name}='{name}.gpkg' or {name}={{'path': '{name}.gpkg', 'crs': 'EPSG:28992'}}")
    try:
        if isinstance(value, Mapping):
            return LayerSource.model_validate(value)
        return LayerSource(path=Path(value))
    except ValidationError as exc:
        raise ConfigError(f"source of layer '{name}' is invalid:\n{pydantic_text(exc)}") from exc


def read_layer(
    source: str | PathLike[str] | LayerSource,
    layer: str,
    *,
    crs: str | None = None,
    boundary: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Read one layer file and validate it against the schema of `layer`.

    Parameters
    ----------
    source : path or LayerSource
        The file (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, or CSV with
        lon/lat or WKT columns), or a :class:`LayerSource` with reading options.
    layer : str
        Layer name whose schema applies, e.g. ``"sites"``.
    crs : str, optional
        CRS to assume when the file has none (overrides ``source.crs``).
    boundary : GeoDataFrame, optional
        The area the features of a layer with ``within_boundary_m`` (sites) must lie in;
        default the embedded Netherlands boundary.

    Returns
    -------
    GeoDataFrame
        Validated, in EPSG:28992. References to other layers are not checked here (see
        :func:`load_layers`).

    Raises
    ------
    LayerError
        With the file, layer, column and fix named.
    """
    spec = _spec(layer)
    src = _as_source(source, layer)
    if crs is not None:
        src = src.model_copy(update={"crs": crs})
    gdf = _read_file(src, spec)
    return validate_layer(gdf, layer, path=src.path, boundary=boundary)


def _spec(layer: str) -> LayerSpec:
    specs = layer_specs()
    if not isinstance(layer, str):
        from .errors import ParameterError, type_phrase

        raise ParameterError("layer", layer, f"a layer name: {', '.join(specs)}", problem=type_phrase(layer),
                             fix="use e.g. layer='sites'")
    if layer not in specs:
        close = difflib.get_close_matches(layer, specs, n=1)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        raise ConfigError(f"unknown layer {layer!r}; valid names: {', '.join(specs)}.{hint}")
    return specs[layer]


def _read_file(src: LayerSource, spec: LayerSpec) -> gpd.GeoDataFrame:
    path = src.path
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_FORMATS:
        raise LayerFileError(
            f"unsupported format '{suffix or '(no suffix)'}'",
            layer=spec.name,
            path=path,
            fix=f"convert it to one of: {', '.join(sorted(set(SUPPORTED_FORMATS)))}",
        )
    if not path.exists():
        raise LayerFileError(
            "file does not exist",
            layer=spec.name,
            path=path,
            fix="check the path (relative paths in a layer set are relative to the TOML file)",
        )
    try:
        if suffix == ".csv":
            gdf = _read_csv(src, spec)
        elif suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path, layer=src.layer, engine="pyogrio")
    except (LayerFileError, LayerCRSError, LayerSchemaError, LayerGeometryError):
        raise
    except Exception as exc:  # noqa: BLE001 - any reader failure is the file's fault
        raise LayerFileError(
            f"cannot be read as {SUPPORTED_FORMATS[suffix]}: {exc}",
            layer=spec.name,
            path=path,
            fix="open it in QGIS or ogrinfo to check it is a valid file of that format",
        ) from exc
    if not isinstance(gdf, gpd.GeoDataFrame) or gdf.geometry.name not in gdf.columns:
        raise LayerGeometryError("the file has no geometry column", layer=spec.name, path=path)
    if src.columns:
        missing = sorted(set(src.columns) - set(gdf.columns))
        if missing:
            raise LayerSchemaError(
                f"column rename names columns the file does not have: {missing}",
                layer=spec.name,
                path=path,
                fix=f"the file's columns are: {', '.join(map(str, gdf.columns))}",
            )
        gdf = gdf.rename(columns=src.columns)
    if gdf.crs is None:
        if src.crs is None:
            raise LayerCRSError(
                "the file has no CRS",
                layer=spec.name,
                path=path,
                fix="state it: crs='EPSG:28992' (or the right code) as argument or in the layer set",
            )
        gdf = gdf.set_crs(src.crs)
    return gdf


def _pick(columns: pd.Index, explicit: str | None, candidates: tuple[str, ...]) -> str | None:
    if explicit is not None:
        return explicit
    lower = {str(c).lower(): c for c in columns}
    for cand in candidates:
        if cand in lower:
            return lower[cand]
    return None


def _read_csv(src: LayerSource, spec: LayerSpec) -> gpd.GeoDataFrame:
    path = src.path
    try:
        df = pd.read_csv(path, keep_default_na=False, na_values=[""], encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise LayerFileError(f"is not UTF-8 text: {exc}", layer=spec.name, path=path,
                             fix="save the CSV as UTF-8") from exc
    wkt_col = _pick(df.columns, src.wkt, _WKT_NAMES)
    lon_col = _pick(df.columns, src.lon, _LON_NAMES)
    lat_col = _pick(df.columns, src.lat, _LAT_NAMES)
    for given, col in ((src.wkt, wkt_col), (src.lon, lon_col), (src.lat, lat_col)):
        if given is not None and given not in df.columns:
            raise LayerSchemaError(
                f"coordinate column '{given}' not found",
                layer=spec.name,
                path=path,
                fix=f"the file's columns are: {', '.join(map(str, df.columns))}",
            )
    if wkt_col is not None:
        crs = src.crs
        if crs is None:
            raise LayerCRSError(
                f"WKT column '{wkt_col}' carries no CRS",
                layer=spec.name,
                path=path,
                fix="state it: crs='EPSG:4326' (or the right code) as argument or in the layer set",
            )
        try:
            geom = shapely.from_wkt(df[wkt_col].astype("string").fillna("").replace("", None).to_numpy(object))
        except shapely.errors.ShapelyError as exc:
            raise LayerGeometryError(f"unparseable WKT in column '{wkt_col}': {exc}",
                                     layer=spec.name, path=path, column=wkt_col) from exc
        return gpd.GeoDataFrame(df.drop(columns=[wkt_col]), geometry=geom, crs=crs)
    if lon_col is None or lat_col is None:
        raise LayerSchemaError(
            "CSV has no coordinates",
            layer=spec.name,
            path=path,
            fix="add lon/lat columns (WGS84 degrees) or a WKT column 'wkt'; "
            f"the file's columns are: {', '.join(map(str, df.columns))}",
        )
    coords = {}
    for col in (lon_col, lat_col):
        values = pd.to_numeric(df[col], errors="coerce")
        bad = df[col].notna() & values.isna()
        if bad.any() or values.isna().any():
            rows = [int(r) + 2 for r in np.flatnonzero(bad | values.isna())[:5]]
            raise LayerSchemaError(
                f"coordinates must be numbers; empty or non-numeric on line(s) {rows}",
                layer=spec.name, path=path, column=col,
                fix="fill in decimal-degree numbers (dot as decimal separator)",
            )
        coords[col] = values.to_numpy(float)
    geographic = str(lon_col).lower() != "x"
    crs = src.crs or ("EPSG:4326" if geographic else None)
    if crs is None:
        raise LayerCRSError(
            "x/y columns carry no CRS",
            layer=spec.name,
            path=path,
            fix="state it: crs='EPSG:28992' (or the right code) as argument or in the layer set",
        )
    geom = gpd.points_from_xy(coords[lon_col], coords[lat_col])
    return gpd.GeoDataFrame(df.drop(columns=[lon_col, lat_col]), geometry=geom, crs=crs)


# ------------------------------------------------------------------------------ validation


def validate_layer(
    gdf: gpd.GeoDataFrame,
    layer: str,
    *,
    path: str | PathLike[str] | None = None,
    boundary: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Validate a GeoDataFrame against the schema of `layer` and return it in EPSG:28992.

    Checks, in order: not empty; a CRS; optional ``id`` and ``source`` filled in (``id`` from
    ``name``, ``source`` = "user file <name>"); required columns present, types, allowed codes,
    lower bounds and unique ids — every problem of these found is reported in one error; lon/lat
    not swapped; every feature inside the Netherlands study area; geometry present, of an allowed
    type, valid (repairable geometry is repaired with :func:`shapely.make_valid` and a
    :class:`GeometryRepairedWarning`). For the sites layer (schema keys ``footprint_from`` and
    ``within_boundary_m``): points become square footprints of their ``area_ha`` flagged
    ``footprint_indicative``; every site must lie within 2 km of `boundary`; a declared area more
    than 10 % above the polygon's area gives a :class:`SiteAreaWarning`.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, in any CRS.
    layer : str
        Layer name whose schema applies.
    path : path, optional
        File it came from, named in errors.
    boundary : GeoDataFrame, optional
        Area the features of a ``within_boundary_m`` layer must lie in (any CRS); default the
        embedded Netherlands boundary. Pass your own boundary to study sites elsewhere in the
        study area (the Netherlands ± 60 km), together with your own grid layers.

    Returns
    -------
    GeoDataFrame
        A validated copy: schema columns coerced to their types, ``id`` as string, in
        EPSG:28992, index 0..n-1. The input is not modified.
    """
    spec = _spec(layer)
    ctx = {"layer": layer, "path": path}
    if not isinstance(gdf, gpd.GeoDataFrame):
        from ._validate import geo_frame

        geo_frame(gdf, "gdf", what=f"{layer} features", allow_path=False, allow_none=False)  # raises
    if len(gdf) == 0:
        raise LayerValueError("the layer is empty", fix="give a file with at least one feature", **ctx)
    if gdf.crs is None:
        raise LayerCRSError("the layer has no CRS", fix="call .set_crs(...) with the data's CRS", **ctx)
    gdf = gdf.copy().reset_index(drop=True)
    if path is None or Path(path).suffix.lower() == ".shp":
        gdf = _restore_dbf_names(gdf, spec, ctx)
    gdf = _fill_defaults(gdf, spec, path)
    gdf = _check_columns_and_values(gdf, spec, ctx)
    ids = gdf["id"]
    gdf = _check_geometry(gdf, spec, ctx, ids)
    gdf = _to_work_crs(gdf, ctx, ids)
    if spec.footprint_from is not None:
        gdf = _point_footprints(gdf, spec)
        _check_declared_area(gdf, spec, ctx)
    if spec.within_boundary_m is not None:
        check_within_boundary(gdf, boundary if boundary is not None else _embedded_boundary(),
                              spec.within_boundary_m, layer=layer, path=path)
    return gdf


def _restore_dbf_names(gdf: gpd.GeoDataFrame, spec: LayerSpec, ctx: dict) -> gpd.GeoDataFrame:
    """Read schema columns whose names a Shapefile cut to 10 characters (``reuse_plan``) under
    their full names, with a :class:`TruncatedFieldWarning`; a cut name that may stand for more
    than one column (``producing_``, or GDAL's numbered ``producin_1``) is an error naming it.
    Applies to Shapefiles and to GeoDataFrames given without a file."""
    cuts = dbf_truncations([c.name for c in spec.columns])
    schema = {c.name for c in spec.columns}
    columns = {str(c) for c in gdf.columns}
    found: dict[tuple[str, ...], list[str]] = {}
    for name in gdf.columns:
        if name != gdf.geometry.name and str(name) not in schema and str(name) in cuts:
            found.setdefault(cuts[str(name)], []).append(str(name))
    renames: dict[str, str] = {}
    unclear: list[tuple[list[str], list[str]]] = []
    for full, cut_names in found.items():
        missing = [f for f in full if f not in columns]
        if not missing:
            continue  # the full names are there: the cut ones are other fields
        if len(cut_names) == 1 and len(missing) == 1 and cut_names[0] == missing[0][:DBF_NAME_LEN]:
            renames[cut_names[0]] = missing[0]
        else:
            unclear.append((cut_names, missing))
    source = "the Shapefile" if ctx["path"] is not None else "the data (read from a Shapefile?)"
    if unclear:
        text = "; ".join(f"{' and '.join(repr(c) for c in cut)} may each be {' or '.join(repr(m) for m in full)}"
                         for cut, full in unclear)
        example = ", ".join(f'{c} = "{m}"' for c, m in zip(*unclear[0]))
        raise LayerSchemaError(
            f"field names in {source} are cut to 10 characters and cannot be told apart: {text}",
            column=unclear[0][0][0],
            fix=f"name them in a layer set, after checking which is which in the attribute table, e.g. "
            f"columns = {{ {example} }}, or save the layer as GeoPackage (no name limit)",
            **ctx,
        )
    if renames:
        where = f"layer '{ctx['layer']}'" + (f", file '{ctx['path']}'" if ctx["path"] else "")
        warnings.warn(
            f"{where}: field names in {source} are cut to 10 characters (dBASE limit); read "
            + ", ".join(f"'{c}' as '{f}'" for c, f in renames.items())
            + ". Fix: save the layer as GeoPackage (no name limit), or name the renames in a layer set: "
            + "columns = { " + ", ".join(f'{c} = "{f}"' for c, f in renames.items()) + " }",
            TruncatedFieldWarning,
            stacklevel=4,
        )
        gdf = gdf.rename(columns=renames)
    return gdf


def _slug(text: str) -> str:
    import re
    import unicodedata

    ascii_ = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-") or "site"


def _empty(values: pd.Series) -> pd.Series:
    return values.isna() | (values.astype("string").str.strip() == "")


def _fill_defaults(gdf: gpd.GeoDataFrame, spec: LayerSpec, path) -> gpd.GeoDataFrame:
    """Fill optional ``source`` ("user file <name>") and ``id`` (slug of ``name``, unique)."""
    names = {c.name: c for c in spec.columns}
    if not names["source"].required:
        default = f"user file {Path(path).name}" if path is not None else "user data"
        if "source" not in gdf.columns:
            gdf["source"] = default
        else:
            gdf["source"] = gdf["source"].astype(object).where(~_empty(gdf["source"]), default)
    if not names["id"].required and "name" in gdf.columns:
        given = gdf["id"] if "id" in gdf.columns else pd.Series(pd.NA, index=gdf.index, dtype=object)
        missing = _empty(given)
        if missing.any():
            used = {str(v).strip() for v in given[~missing]}
            ids = given.astype(object).copy()
            for i in np.flatnonzero(missing.to_numpy()):
                name = gdf["name"].iloc[i]
                base = _slug(name) if not pd.isna(name) and str(name).strip() else f"row-{i}"
                sid, k = base, 2
                while sid in used:
                    sid, k = f"{base}-{k}", k + 1
                used.add(sid)
                ids.iloc[i] = sid
            gdf["id"] = ids
    return gdf


def _ids_text(ids: pd.Series, mask: np.ndarray | pd.Series, limit: int = 8) -> str:
    picked = [str(i) for i in ids[np.asarray(mask)].tolist()]
    more = f" and {len(picked) - limit} more" if len(picked) > limit else ""
    return ", ".join(picked[:limit]) + more


class _Problem:
    __slots__ = ("kind", "column", "message", "fix")

    def __init__(self, kind: type[LayerError], column: str | None, message: str, fix: str) -> None:
        self.kind, self.column, self.message, self.fix = kind, column, message, fix


def _raise_problems(problems: list[_Problem], ctx: dict) -> None:
    """One error for every problem found: the single problem as before, or a list of all."""
    if not problems:
        return
    if len(problems) == 1:
        p = problems[0]
        raise p.kind(p.message, column=p.column, fix=p.fix, **ctx)
    kind = LayerSchemaError if any(p.kind is LayerSchemaError for p in problems) else LayerValueError
    lines = [f"{len(problems)} problems:"]
    for p in problems:
        where = f"column '{p.column}': " if p.column else ""
        lines.append(f"  - {where}{p.message}\n      Fix: {p.fix}")
    raise kind("\n".join(lines), **ctx)


def _check_columns_and_values(gdf: gpd.GeoDataFrame, spec: LayerSpec, ctx: dict) -> gpd.GeoDataFrame:
    """Required columns, types, empty required values, lower bounds, codes and duplicate ids,
    all checked before any error is raised."""
    problems: list[_Problem] = []
    present = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    for col in spec.required:
        if col not in gdf.columns:
            close = difflib.get_close_matches(col, present, n=1)
            hint = f"rename '{close[0]}' to '{col}'" if close else f"add a column '{col}'"
            problems.append(_Problem(
                LayerSchemaError, col, f"required column missing ({spec.column(col).description})",
                f"{hint} (columns present: {', '.join(present)}); a layer set can rename "
                f'with columns = {{ yours = "{col}" }}'))
    typed: set[str] = set()
    for col in spec.columns:
        if col.name not in gdf.columns:
            continue
        values, problem = _coerce(gdf[col.name], col.dtype, col.name, col.required)
        if problem is not None:
            problems.append(problem)
            continue
        gdf[col.name] = values
        typed.add(col.name)
    ids = gdf["id"].astype("string") if "id" in gdf.columns else pd.Series([f"row {i}" for i in range(len(gdf))])
    if "id" in typed:
        dup = ids.duplicated(keep=False).fillna(False).to_numpy()
        if dup.any():
            problems.append(_Problem(LayerValueError, "id", f"duplicate ids: {sorted(set(ids[dup].astype(str)))[:10]}",
                                     "make every id unique"))
    temperatures: list[str] = []  # degC columns out of their plausible range: one problem, with the unit hint
    for col in spec.columns:
        if col.name not in typed:
            continue
        values = gdf[col.name]
        present_mask = values.notna().to_numpy()
        if col.dtype in ("int", "float"):
            number = values.to_numpy(dtype=float, na_value=np.nan)
            infinite = present_mask & np.isinf(number)
            if infinite.any():
                problems.append(_Problem(
                    LayerValueError, col.name, f"infinite values for id(s) {_ids_text(ids, infinite)}",
                    f"give finite numbers in {col.unit or 'the column'}, or leave the cell empty where the column "
                    "is optional"))
                continue
            if col.unit == "degC" and (present_mask & ((number < (col.min if col.min is not None else -np.inf))
                                                       | (number > (col.max if col.max is not None else np.inf)))).any():
                temperatures.append(col.name)
                continue
        if col.min is not None:
            low = present_mask & (values.fillna(col.min).to_numpy(float) < col.min)
            if low.any():
                word = "negative" if col.min == 0 else f"below {col.min:g}"
                problems.append(_Problem(
                    LayerValueError, col.name, f"{word} values {values[low].tolist()[:5]} for id(s) {_ids_text(ids, low)}",
                    f"{col.name} must be >= {col.min:g} {col.unit}".rstrip()))
        if col.max is not None:
            high = present_mask & (values.fillna(col.max).to_numpy(float) > col.max)
            if high.any():
                problems.append(_Problem(
                    LayerValueError, col.name,
                    f"implausibly large values {values[high].tolist()[:5]} for id(s) {_ids_text(ids, high)}",
                    f"{col.name} must be <= {col.max:g} {col.unit}; check the unit and the decimal separator"
                    .replace(" ;", ";")))
        if col.allowed is not None:
            allowed = {str(a) for a in col.allowed}
            bad = present_mask & ~values.astype("string").isin(allowed).fillna(False).to_numpy()
            if bad.any():
                problems.append(_Problem(
                    LayerValueError, col.name,
                    f"unknown value(s) {sorted(set(values[bad].astype(str)))[:5]} for id(s) {_ids_text(ids, bad)}",
                    f"use one of: {', '.join(str(a) for a in col.allowed)}"))
    if temperatures:
        problems.append(_temperature_columns_problem(gdf, spec, temperatures))
    _raise_problems(problems, ctx)
    return gdf


def _temperature_columns_problem(gdf: gpd.GeoDataFrame, spec: LayerSpec, names: list[str]) -> _Problem:
    """One problem for the °C columns out of their plausible range: the likely unit mistake when
    many values are out (a whole file in K or °F), else the cells (a typo)."""
    every = [c for c in spec.columns if c.unit == "degC" and c.name in gdf.columns]
    col = spec.column(names[0])
    cells = []
    for c in every:
        v = gdf[c.name].to_numpy(dtype=float, na_value=np.nan)
        out = (v < (c.min if c.min is not None else -np.inf)) | (v > (c.max if c.max is not None else np.inf))
        cells += [(str(i), c.name, x) for i, x in zip(gdf["id"].to_numpy()[out], v[out])]
    raw = np.concatenate([gdf[c.name].to_numpy(dtype=float, na_value=np.nan) for c in every])
    shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
    where = f"{col.min:g} to {col.max:g} °C"
    found = temperature_problem(raw, "degC")
    if found is not None and len(cells) > 0.1 * np.isfinite(raw).sum():
        lo, hi, hint = found
        return _Problem(
            LayerValueError, names[0] if len(names) == 1 else None,
            f"temperatures outside the plausible {where} in column(s) {shown} (values from {lo:g} to {hi:g}); {hint}",
            "give the temperatures in °C (K − 273.15; (°F − 32) × 5/9; KNMI tenths ÷ 10)")
    listed = ", ".join(f"{i} {c} = {x:g}" for i, c, x in cells[:8]) + (f" and {len(cells) - 8} more" if len(cells) > 8 else "")
    return _Problem(
        LayerValueError, names[0] if len(names) == 1 else None,
        f"temperatures outside the plausible {where}: {listed}",
        "correct these cells (a typo or a misplaced decimal point?); temperatures are in °C")


_TRUE = {"true", "yes", "1", "y", "t", "ja"}
_FALSE = {"false", "no", "0", "n", "f", "nee"}


def _coerce(values: pd.Series, dtype: str, name: str, required: bool) -> tuple[pd.Series, _Problem | None]:
    missing = _empty(values)
    if required and missing.any():
        rows = [int(r) for r in np.flatnonzero(missing.to_numpy())[:5]]
        return values, _Problem(LayerSchemaError, name, f"required values are empty in row(s) {rows} (0-based)",
                                "fill in every row of this column")
    if dtype == "str":
        out = values.astype("string").str.strip()
        return out.mask(missing, pd.NA), None
    if dtype == "bool":
        text = values.astype("string").str.strip().str.lower()
        bad = ~missing & ~text.isin(_TRUE | _FALSE)
        if bad.any():
            return values, _Problem(LayerSchemaError, name, f"expected true/false, got {sorted(set(values[bad].astype(str)))[:5]}",
                                    "use true/false (or yes/no, 1/0)")
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[~missing] = text[~missing].isin(_TRUE)
        return out, None
    numeric = pd.to_numeric(values.where(~missing), errors="coerce")
    bad = ~missing & numeric.isna()
    if bad.any():
        return values, _Problem(
            LayerSchemaError, name,
            f"expected {'an integer' if dtype == 'int' else 'a number'}, got {sorted(set(values[bad].astype(str)))[:5]}",
            "use plain numbers with a dot as decimal separator and no units in the cell")
    if dtype == "int":
        frac = ~missing & (numeric.fillna(0) % 1 != 0)
        if frac.any():
            return values, _Problem(LayerSchemaError, name, f"expected an integer, got {sorted(set(values[frac].astype(str)))[:5]}",
                                    "round to whole numbers")
        return numeric.astype("Int64"), None
    return numeric.astype("Float64"), None


def _check_geometry(gdf: gpd.GeoDataFrame, spec: LayerSpec, ctx: dict, ids: pd.Series) -> gpd.GeoDataFrame:
    geom = gdf.geometry.array
    empty = np.asarray(gdf.geometry.isna() | gdf.geometry.is_empty)
    if empty.any():
        raise LayerGeometryError(
            f"missing or empty geometry for id(s) {_ids_text(ids, empty)}",
            fix="give every feature a geometry, or drop those rows",
            **ctx,
        )
    invalid = ~np.asarray(gdf.geometry.is_valid)
    if invalid.any():
        repaired = shapely.make_valid(np.asarray(geom)[invalid])
        reasons = shapely.is_valid_reason(np.asarray(geom)[invalid])
        fixed = [_keep_dimension(g, spec.geometry) for g in repaired]
        broken = [i for i, g in enumerate(fixed) if g is None]
        if broken:
            bad_ids = ids[np.flatnonzero(invalid)[broken]].astype(str).tolist()
            raise LayerGeometryError(
                f"invalid geometry that cannot be repaired for id(s) {', '.join(bad_ids)} "
                f"({reasons[broken[0]]})",
                fix="fix the geometry in a GIS (e.g. QGIS 'Fix geometries')",
                **ctx,
            )
        gdf.loc[invalid, gdf.geometry.name] = fixed
        warnings.warn(
            f"layer '{ctx['layer']}'"
            + (f", file '{ctx['path']}'" if ctx["path"] else "")
            + f": repaired invalid geometry of id(s) {_ids_text(ids, invalid)} "
            f"({reasons[0]}) with shapely.make_valid; check the result",
            GeometryRepairedWarning,
            stacklevel=4,
        )
    types = gdf.geom_type
    allowed = spec.geometry + (("Point",) if spec.footprint_from is not None else ())
    wrong = ~types.isin(allowed)
    if wrong.any():
        also = f" (or Point with {spec.footprint_from})" if spec.footprint_from else ""
        raise LayerGeometryError(
            f"geometry type {sorted(set(types[wrong]))} not allowed for id(s) {_ids_text(ids, wrong)}; "
            f"allowed: {', '.join(spec.geometry)}{also}",
            fix=f"give this layer {' or '.join(spec.geometry)} geometries{also}",
            **ctx,
        )
    if spec.footprint_from is not None:
        points = np.asarray(types == "Point")
        area = gdf[spec.footprint_from]
        no_area = points & ~(area.notna() & (area.fillna(0) > 0)).to_numpy()
        if no_area.any():
            raise LayerGeometryError(
                f"point(s) without a positive {spec.footprint_from} for id(s) {_ids_text(ids, no_area)}: a point "
                "needs an area to become a footprint",
                column=spec.footprint_from,
                fix=f"give {spec.footprint_from} for every point, or draw the plot as a polygon",
                **{k: v for k, v in ctx.items()},
            )
    return gdf


def _point_footprints(gdf: gpd.GeoDataFrame, spec: LayerSpec) -> gpd.GeoDataFrame:
    """Points become axis-aligned squares (EPSG:28992) of their declared area, centred on the
    point, flagged ``footprint_indicative``; polygons keep their flag (False when empty)."""
    points = np.asarray(gdf.geom_type == "Point")
    flag = gdf["footprint_indicative"] if "footprint_indicative" in gdf.columns else pd.Series(pd.NA, index=gdf.index)
    flag = flag.astype("boolean").fillna(False)
    if points.any():
        pts = gdf.geometry[points]
        half = np.sqrt(gdf.loc[points, spec.footprint_from].to_numpy(float) * 10_000.0) / 2.0
        squares = shapely.box(pts.x - half, pts.y - half, pts.x + half, pts.y + half)
        gdf.loc[points, gdf.geometry.name] = squares
        flag[points] = True
    gdf["footprint_indicative"] = flag.astype("boolean")
    return gdf


def governing_area_ha(sites: gpd.GeoDataFrame) -> pd.Series:
    """The area [ha] that governs the space condition, per site: the declared ``area_ha``,
    unless it exceeds the polygon's area by more than :data:`AREA_TOLERANCE` and the row does not
    set ``area_declared_governs``; then the polygon's area (EPSG:28992)."""
    declared = sites["area_ha"].astype(float)
    polygon = pd.Series(np.asarray(sites.to_crs(WORK_CRS).area) / 10_000.0, index=sites.index)
    governs = (sites["area_declared_governs"].astype("boolean").fillna(False).astype(bool)
               if "area_declared_governs" in sites.columns else pd.Series(False, index=sites.index))
    too_big = (declared > polygon * (1.0 + AREA_TOLERANCE)) & ~governs
    return declared.where(~too_big, polygon)


def _check_declared_area(gdf: gpd.GeoDataFrame, spec: LayerSpec, ctx: dict) -> None:
    declared = gdf[spec.footprint_from].astype(float)
    governing = governing_area_ha(gdf)
    smaller = (governing < declared - 1e-9).to_numpy()
    if smaller.any():
        drawn = [f"{g:.1f} ha" if g >= 0.05 else f"{g * 10_000:.2g} m²" for g in governing[smaller]]  # 1 m², not 0.0 ha
        rows = [f"{i} ({d:g} ha declared, {g} drawn)" for i, d, g in zip(gdf["id"][smaller], declared[smaller], drawn)]
        more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
        warnings.warn(
            f"layer '{ctx['layer']}'" + (f", file '{ctx['path']}'" if ctx["path"] else "")
            + f": declared {spec.footprint_from} exceeds the polygon's area by more than "
            f"{AREA_TOLERANCE:.0%} for {', '.join(rows[:8])}{more}; the polygon's area governs the space "
            "condition. Fix: correct area_ha or the polygon, or set area_declared_governs = true for "
            "rows whose declared area is right",
            SiteAreaWarning,
            stacklevel=4,
        )


@cache
def _embedded_boundary() -> gpd.GeoDataFrame:
    return read_layer(_embedded_layer_set().layers["boundary"], "boundary")


def check_within_boundary(gdf: gpd.GeoDataFrame, boundary: gpd.GeoDataFrame, tolerance_m: float, *,
                          layer: str = "sites", path: str | PathLike[str] | None = None) -> None:
    """Raise a :class:`LayerValueError` naming every feature of `gdf` farther than
    `tolerance_m` [m] from `boundary` (both in any CRS; distances in EPSG:28992)."""
    area = boundary.to_crs(WORK_CRS).union_all()
    geoms = gdf.to_crs(WORK_CRS).geometry
    dist = np.asarray(geoms.distance(area))
    outside = dist > tolerance_m
    if outside.any():
        ids = gdf["id"].astype(str).to_numpy()
        rows = [f"{i} ({d / 1000:.1f} km)" for i, d in zip(ids[outside], dist[outside])]
        more = f" and {len(rows) - 8} more" if len(rows) > 8 else ""
        raise LayerValueError(
            f"site(s) outside the boundary (the Netherlands unless you gave your own): {', '.join(rows[:8])}{more} "
            f"from the boundary; at most {tolerance_m / 1000:g} km is accepted (coastal plots)",
            layer=layer,
            path=path,
            fix="drop these rows or correct their coordinates; to study sites outside the Netherlands, pass your "
            "own boundary layer (and your own grid layers: substations, circuits, ...) with load_layers(boundary=...)",
        )


def _keep_dimension(geom: shapely.Geometry, allowed: tuple[str, ...]) -> shapely.Geometry | None:
    """After make_valid: keep the parts of the allowed dimension (a polygon repair can return a
    collection with stray lines)."""
    if geom.geom_type in allowed:
        return geom
    if geom.geom_type == "GeometryCollection":
        for wanted, multi in (("Polygon", "MultiPolygon"), ("LineString", "MultiLineString"), ("Point", "MultiPoint")):
            parts = [g for g in geom.geoms if g.geom_type in (wanted, multi)]
            if parts and (wanted in allowed or multi in allowed):
                merged = shapely.union_all(parts)
                if merged.geom_type in allowed:
                    return merged
                if multi in allowed and merged.geom_type == wanted:
                    return getattr(shapely, multi)([merged])
    if geom.geom_type == "Polygon" and "MultiPolygon" in allowed:
        return shapely.MultiPolygon([geom])
    return None


def _to_work_crs(gdf: gpd.GeoDataFrame, ctx: dict, ids: pd.Series) -> gpd.GeoDataFrame:
    crs = CRS.from_user_input(gdf.crs)
    if crs.is_geographic:
        _check_swapped(gdf, ctx)
    try:
        out = gdf.to_crs(WORK_CRS)
    except Exception as exc:  # noqa: BLE001
        raise LayerCRSError(f"cannot reproject from {crs.to_string()} to {WORK_CRS}: {exc}",
                            fix="check the CRS stated for the data", **ctx) from exc
    bounds = out.geometry.bounds.to_numpy()
    finite = np.isfinite(bounds).all(axis=1)
    inside = finite & np.asarray(out.geometry.intersects(_STUDY_BOX_RD))
    if not inside.all():
        outside = ~inside
        if outside.all():
            hint = (
                f"no feature lies in the Netherlands; the data's CRS ({crs.to_string()}) is probably "
                "wrong — e.g. degrees declared as RD metres, or RD metres declared as degrees"
            )
        else:
            hint = "these features lie outside the Netherlands study area (NL ± 60 km)"
        raise LayerCRSError(
            f"{hint}: id(s) {_ids_text(ids, outside)}",
            fix="state the CRS the coordinates are really in (crs=...), or correct the coordinates",
            **ctx,
        )
    return out


def _check_swapped(gdf: gpd.GeoDataFrame, ctx: dict) -> None:
    reps = gdf.geometry.representative_point()
    x, y = reps.x.to_numpy(), reps.y.to_numpy()
    in_nl = (x >= _LON_RANGE[0]) & (x <= _LON_RANGE[1]) & (y >= _LAT_RANGE[0]) & (y <= _LAT_RANGE[1])
    swapped = (y >= _LON_RANGE[0]) & (y <= _LON_RANGE[1]) & (x >= _LAT_RANGE[0]) & (x <= _LAT_RANGE[1])
    if swapped.sum() > in_nl.sum():
        raise LayerCRSError(
            f"longitude and latitude appear swapped ({int(swapped.sum())} of {len(x)} features have "
            f"x≈{np.median(x):.2f}, y≈{np.median(y):.2f}: a latitude as x)",
            fix="exchange the columns (x/lon = east, about 3.3–7.2 in NL; y/lat = north, about 50.7–53.6)",
            **ctx,
        )


def _check_references(layers: Mapping[str, gpd.GeoDataFrame], sources: Mapping[str, LayerSource]) -> None:
    for name, spec in layer_specs().items():
        gdf = layers[name]
        for col in spec.columns:
            if not col.references or col.name not in gdf.columns:
                continue
            target_layer, target_col = col.references.split(".")
            known = set(layers[target_layer][target_col].dropna().astype(str))
            values = gdf[col.name]
            bad = values.notna() & ~values.astype("string").isin(known).fillna(False)
            if bad.any():
                raise LayerValueError(
                    f"refers to {target_layer}.{target_col} values that do not exist: "
                    f"{sorted(set(values[bad].astype(str)))[:8]} (rows {_ids_text(gdf['id'], bad)})",
                    layer=name,
                    path=sources[name].path,
                    column=col.name,
                    fix=f"use ids of the '{target_layer}' layer (file '{sources[target_layer].path}'), "
                    "or leave the cell empty where the column is optional",
                )


# --------------------------------------------------------------------------------- loading


def load_layers(
    layer_set: str | PathLike[str] | LayerSet | None = None,
    **overrides: str | PathLike[str] | LayerSource | Mapping[str, Any],
) -> Layers:
    """Load and validate every layer: the embedded Netherlands default, with any layer replaced.

    Parameters
    ----------
    layer_set : path or LayerSet, optional
        A TOML layer set (see :class:`LayerSet`) naming replacement files.
    **overrides : path, LayerSource or dict
        Replacement per layer, e.g. ``sites="plots.gpkg"`` or
        ``sites={"path": "plots.gpkg", "columns": {"naam": "name"}}``; wins over `layer_set`.

    Returns
    -------
    Layers
        Every layer as a validated GeoDataFrame in EPSG:28992, by name
        (``layers.substations``) and with ``layers.inventory()``.

    Raises
    ------
    LayerError
        A layer failed to load or validate; cross-layer references (e.g. an offshore
        connection's ``substation_id``) must exist.
    ConfigError
        An unknown layer name or an invalid layer set.

    Examples
    --------
    >>> import siting
    >>> layers = siting.load_layers()
    >>> layers.substations.crs.to_epsg()
    28992
    """
    unknown = sorted(set(overrides) - set(LAYER_NAMES))
    if unknown:
        raise ConfigError(f"unknown layer name(s) {unknown}; valid names: {', '.join(LAYER_NAMES)}")
    sources: dict[str, LayerSource] = dict(_embedded_layer_set().layers)
    if layer_set is not None and not isinstance(layer_set, (str, PathLike, LayerSet)):
        from .errors import ParameterError, type_phrase

        raise ParameterError("layer_set", layer_set, "the path of a layer-set TOML file, a LayerSet, or None",
                             problem=f"{type_phrase(layer_set)}", fix="use e.g. layer_set='my-layers.toml'")
    if layer_set is not None:
        chosen = layer_set if isinstance(layer_set, LayerSet) else LayerSet.from_toml(layer_set)
        sources.update(chosen.layers)
    sources.update({name: _as_source(value, name) for name, value in overrides.items()})
    missing = [n for n in LAYER_NAMES if n not in sources]
    if missing:
        raise ConfigError(f"no source for layer(s) {missing}; the embedded layer set is incomplete")
    boundary = read_layer(sources["boundary"], "boundary")
    loaded = {name: boundary if name == "boundary" else read_layer(sources[name], name, boundary=boundary)
              for name in LAYER_NAMES}
    _check_references(loaded, sources)
    kwargs = {f.name: loaded[f.name] for f in fields(Layers) if f.name != "sources"}
    return Layers(**kwargs, sources=dict(sources))
