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
    LayerCRSError,
    LayerFileError,
    LayerGeometryError,
    LayerSchemaError,
    LayerValueError,
)
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
]

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
        path = Path(path)
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
    ``offshore``, ``interconnectors``, ``ix``, ``sites``, ``population``, ``water``,
    ``heat_sinks``, ``climate``, ``boundary``, ``congestion``. ``sources`` maps each name to the
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
    water: gpd.GeoDataFrame
    heat_sinks: gpd.GeoDataFrame
    climate: gpd.GeoDataFrame
    boundary: gpd.GeoDataFrame
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
    return validate_layer(gdf, layer, path=src.path)


def _spec(layer: str) -> LayerSpec:
    specs = layer_specs()
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
    gdf: gpd.GeoDataFrame, layer: str, *, path: str | PathLike[str] | None = None
) -> gpd.GeoDataFrame:
    """Validate a GeoDataFrame against the schema of `layer` and return it in EPSG:28992.

    Checks, in order: not empty; a CRS; lon/lat not swapped; every feature inside the
    Netherlands study area; geometry present, of an allowed type, valid (repairable geometry is
    repaired with :func:`shapely.make_valid` and a :class:`GeometryRepairedWarning`); required
    columns present; types; allowed codes; lower bounds; unique ids.

    Parameters
    ----------
    gdf : GeoDataFrame
        The layer, in any CRS.
    layer : str
        Layer name whose schema applies.
    path : path, optional
        File it came from, named in errors.

    Returns
    -------
    GeoDataFrame
        A validated copy: schema columns coerced to their types, ``id`` as string, in
        EPSG:28992, index 0..n-1. The input is not modified.
    """
    spec = _spec(layer)
    ctx = {"layer": layer, "path": path}
    if len(gdf) == 0:
        raise LayerValueError("the layer is empty", fix="give a file with at least one feature", **ctx)
    if gdf.crs is None:
        raise LayerCRSError("the layer has no CRS", fix="call .set_crs(...) with the data's CRS", **ctx)
    gdf = gdf.copy().reset_index(drop=True)
    gdf = _check_schema_columns(gdf, spec, ctx)
    ids = gdf["id"]
    gdf = _check_geometry(gdf, spec, ctx, ids)
    gdf = _to_work_crs(gdf, ctx, ids)
    _check_values(gdf, spec, ctx)
    return gdf


def _ids_text(ids: pd.Series, mask: np.ndarray | pd.Series, limit: int = 8) -> str:
    picked = [str(i) for i in ids[np.asarray(mask)].tolist()]
    more = f" and {len(picked) - limit} more" if len(picked) > limit else ""
    return ", ".join(picked[:limit]) + more


def _check_schema_columns(gdf: gpd.GeoDataFrame, spec: LayerSpec, ctx: dict) -> gpd.GeoDataFrame:
    present = [str(c) for c in gdf.columns if c != gdf.geometry.name]
    for col in spec.required:
        if col not in gdf.columns:
            close = difflib.get_close_matches(col, present, n=1)
            hint = f"rename '{close[0]}' to '{col}'" if close else f"add a column '{col}'"
            raise LayerSchemaError(
                f"required column missing ({spec.column(col).description})",
                column=col,
                fix=f"{hint} (columns present: {', '.join(present)}); a layer set can rename "
                f'with columns = {{ yours = "{col}" }}',
                **ctx,
            )
    for col in spec.columns:
        if col.name not in gdf.columns:
            continue
        gdf[col.name] = _coerce(gdf[col.name], col.dtype, col.name, col.required, ctx)
    return gdf


_TRUE = {"true", "yes", "1", "y", "t", "ja"}
_FALSE = {"false", "no", "0", "n", "f", "nee"}


def _coerce(values: pd.Series, dtype: str, name: str, required: bool, ctx: dict) -> pd.Series:
    missing = values.isna() | (values.astype("string").str.strip() == "")
    if required and missing.any():
        rows = [int(r) for r in np.flatnonzero(missing.to_numpy())[:5]]
        raise LayerSchemaError(
            f"required values are empty in row(s) {rows} (0-based)",
            column=name,
            fix="fill in every row of this column",
            **ctx,
        )
    if dtype == "str":
        out = values.astype("string").str.strip()
        return out.mask(missing, pd.NA)
    if dtype == "bool":
        text = values.astype("string").str.strip().str.lower()
        bad = ~missing & ~text.isin(_TRUE | _FALSE)
        if bad.any():
            raise LayerSchemaError(
                f"expected true/false, got {sorted(set(values[bad].astype(str)))[:5]}",
                column=name,
                fix="use true/false (or yes/no, 1/0)",
                **ctx,
            )
        out = pd.Series(pd.NA, index=values.index, dtype="boolean")
        out[~missing] = text[~missing].isin(_TRUE)
        return out
    numeric = pd.to_numeric(values.where(~missing), errors="coerce")
    bad = ~missing & numeric.isna()
    if bad.any():
        raise LayerSchemaError(
            f"expected {'an integer' if dtype == 'int' else 'a number'}, got "
            f"{sorted(set(values[bad].astype(str)))[:5]}",
            column=name,
            fix="use plain numbers with a dot as decimal separator and no units in the cell",
            **ctx,
        )
    if dtype == "int":
        frac = ~missing & (numeric.fillna(0) % 1 != 0)
        if frac.any():
            raise LayerSchemaError(
                f"expected an integer, got {sorted(set(values[frac].astype(str)))[:5]}",
                column=name,
                fix="round to whole numbers",
                **ctx,
            )
        return numeric.astype("Int64")
    return numeric.astype("Float64")


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
    wrong = ~types.isin(spec.geometry)
    if wrong.any():
        raise LayerGeometryError(
            f"geometry type {sorted(set(types[wrong]))} not allowed for id(s) {_ids_text(ids, wrong)}; "
            f"allowed: {', '.join(spec.geometry)}",
            fix=f"give this layer {' or '.join(spec.geometry)} geometries",
            **ctx,
        )
    return gdf


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


def _check_values(gdf: gpd.GeoDataFrame, spec: LayerSpec, ctx: dict) -> None:
    ids = gdf["id"]
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise LayerValueError(
            f"duplicate ids: {sorted(set(ids[dup].astype(str)))[:10]}",
            column="id",
            fix="make every id unique",
            **ctx,
        )
    for col in spec.columns:
        if col.name not in gdf.columns:
            continue
        values = gdf[col.name]
        present = values.notna().to_numpy()
        if col.min is not None:
            low = present & (values.fillna(col.min).to_numpy(float) < col.min)
            if low.any():
                word = "negative" if col.min == 0 else f"below {col.min:g}"
                raise LayerValueError(
                    f"{word} values {values[low].tolist()[:5]} for id(s) {_ids_text(ids, low)}",
                    column=col.name,
                    fix=f"{col.name} must be >= {col.min:g} {col.unit}".rstrip(),
                    **ctx,
                )
        if col.allowed is not None:
            allowed = {str(a) for a in col.allowed}
            bad = present & ~values.astype("string").isin(allowed).fillna(False).to_numpy()
            if bad.any():
                raise LayerValueError(
                    f"unknown value(s) {sorted(set(values[bad].astype(str)))[:5]} for id(s) {_ids_text(ids, bad)}",
                    column=col.name,
                    fix=f"use one of: {', '.join(str(a) for a in col.allowed)}",
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
    if layer_set is not None:
        chosen = layer_set if isinstance(layer_set, LayerSet) else LayerSet.from_toml(layer_set)
        sources.update(chosen.layers)
    sources.update({name: _as_source(value, name) for name, value in overrides.items()})
    missing = [n for n in LAYER_NAMES if n not in sources]
    if missing:
        raise ConfigError(f"no source for layer(s) {missing}; the embedded layer set is incomplete")
    loaded = {name: read_layer(sources[name], name) for name in LAYER_NAMES}
    _check_references(loaded, sources)
    kwargs = {f.name: loaded[f.name] for f in fields(Layers) if f.name != "sources"}
    return Layers(**kwargs, sources=dict(sources))
