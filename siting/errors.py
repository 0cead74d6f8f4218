"""One exception family for `siting`.

Every error names the object (file, layer, column, parameter), the bad value, what is allowed,
and how to fix it. Catch :class:`SitingError` to handle all of them.
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "SitingError",
    "LayerError",
    "LayerFileError",
    "LayerCRSError",
    "LayerSchemaError",
    "LayerGeometryError",
    "LayerValueError",
    "ConfigError",
    "CapacityMapError",
    "CapacityMapFileError",
    "CapacityMapSchemaError",
    "SitingWarning",
    "GeometryRepairedWarning",
    "CapacityMapWarning",
    "SiteAreaWarning",
    "ClimateCoverageWarning",
    "TruncatedFieldWarning",
    "RasterCoverageWarning",
]


class SitingError(Exception):
    """Base class of every error raised by `siting`."""


class ConfigError(SitingError, ValueError):
    """A configuration file or parameter (TOML layer set, criteria, scenario) is invalid."""


class LayerError(SitingError, ValueError):
    """A GIS layer could not be loaded or failed validation.

    Attributes
    ----------
    layer : str or None
        Layer name (e.g. ``"substations"``).
    path : Path or None
        File the layer was read from.
    column : str or None
        Offending column, where one is to blame.
    """

    def __init__(
        self,
        message: str,
        *,
        layer: str | None = None,
        path: str | Path | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.layer = layer
        self.path = Path(path) if path is not None else None
        self.column = column
        self.fix = fix
        where = []
        if layer:
            where.append(f"layer '{layer}'")
        if path is not None:
            where.append(f"file '{path}'")
        if column:
            where.append(f"column '{column}'")
        text = f"{', '.join(where)}: {message}" if where else message
        if fix:
            text += f"\n  Fix: {fix}"
        super().__init__(text)


class LayerFileError(LayerError):
    """The file is missing, unreadable or in an unsupported format."""


class LayerCRSError(LayerError):
    """The layer has no CRS, a wrong CRS, swapped lon/lat, or lies outside the Netherlands."""


class LayerSchemaError(LayerError):
    """A required column is missing or has the wrong type."""


class LayerGeometryError(LayerError):
    """Geometries are missing, of the wrong type, or invalid beyond repair."""


class LayerValueError(LayerError):
    """Values break the schema: empty layer, duplicate ids, negative quantities, unknown codes,
    or references to ids that do not exist."""


class CapacityMapError(LayerError):
    """A published capacity map (Netbeheer Nederland ``dp-capaciteitskaart``) could not be read
    or breaks its schema.

    Attributes
    ----------
    key : str or None
        JSON path of the offending value (e.g.
        ``geographical_regions[0].regions[0].energy_areas[3].area_capacity``), where one is to
        blame.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        key: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.key = key
        if key:
            message = f"key '{key}': {message}"
        super().__init__(message, layer="capacity_map", path=path, fix=fix)


class CapacityMapFileError(CapacityMapError, LayerFileError):
    """The capacity-map file is missing, unreadable, not JSON, or truncated."""


class CapacityMapSchemaError(CapacityMapError, LayerSchemaError):
    """The capacity-map file is JSON but not the supported schema: another data product or
    version, a missing required key, or a value of the wrong type."""


class SitingWarning(UserWarning):
    """Base class of warnings issued by `siting`."""


class GeometryRepairedWarning(SitingWarning):
    """Invalid geometries were repaired with :func:`shapely.make_valid`."""


class ClimateCoverageWarning(SitingWarning):
    """The user's climate file does not cover some sites or cells; the embedded normals were
    used there."""


class CapacityMapWarning(SitingWarning):
    """A capacity map is readable but inconsistent (e.g. a station names an area the file does
    not define); the reader kept what it could."""


class SiteAreaWarning(SitingWarning):
    """A site's declared ``area_ha`` exceeds its polygon's area by more than 10 %: the polygon's
    area governs the space condition unless the row sets ``area_declared_governs``."""


class TruncatedFieldWarning(SitingWarning):
    """Field names cut to 10 characters by the Shapefile (dBASE) format were read as the
    schema's full names (e.g. ``reuse_plan`` as ``reuse_plant_site``)."""


class RasterCoverageWarning(SitingWarning):
    """A user raster covers some sites but not all: those get no value (NaN), which fails a hard
    criterion and scores 0 on a soft one."""
