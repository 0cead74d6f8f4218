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
    "ParameterError",
    "ConfigError",
    "OutputError",
    "CapacityMapError",
    "CapacityMapFileError",
    "CapacityMapSchemaError",
    "ProfileError",
    "ProfileFileError",
    "ProfileSchemaError",
    "ProfileTimeError",
    "ProfileValueError",
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


class OutputError(ConfigError, OSError):
    """An output could not be written: the target exists (without ``force``), another run is
    writing it, its folder is missing, read-only or full, or a file stands where a folder is
    expected (or the reverse). Nothing partial is left and an earlier output is unchanged.

    Also an :class:`OSError`: ``errno`` is set where the system gave one (e.g. ``errno.ENOSPC``).
    A subclass of :class:`ConfigError` because the fix
    is usually another output path or ``force``.
    """


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


class ParameterError(ConfigError):
    """A function argument or command-line option has a value that is not allowed.

    The message names the parameter, the value given, what is allowed and a fix. The same
    error reads in API words (``n=0``) or, through :meth:`render` with the command's flags, in
    CLI words (``--samples 0``): fix texts may name parameters as ``{=name}`` or, with an
    example value, ``{=name:500}`` (rendered ``n=500`` or ``--samples 500``).

    Attributes
    ----------
    param : str
        Parameter name in the Python API (e.g. ``"tol_mw"``).
    value : object
        The value given.
    allowed : str
        What is allowed, in words (e.g. ``"a number of MW > 0"``).
    problem : str
        What is wrong with the value, when "not allowed" does not say enough.
    fix : str
        How to fix it (may name parameters as ``{=name}`` / ``{=name:example}``).
    """

    def __init__(self, param: str, value: object, allowed: str, *, problem: str = "", fix: str = "") -> None:
        self.param = param
        self.value = value
        self.allowed = allowed
        self.problem = problem
        self.fix = fix
        super().__init__(self.render())

    def render(self, flags: dict[str, str] | None = None) -> str:
        """The message, with parameters named by `flags` (``{"n": "--samples"}``) where given:
        the CLI's words."""
        flags = flags or {}
        flag = flags.get(self.param)
        head = f"{flag} {_cli_value(self.value)}" if flag else f"{self.param}={_api_value(self.value)}"
        text = f"{head}: must be {_names(self.allowed, flags)}"
        if self.problem:
            text += f" ({_names(self.problem, flags)})"
        if self.fix:
            text += f". Fix: {_names(self.fix, flags)}"
        return text


def type_phrase(value: object) -> str:
    """``"an int"``, ``"a str"``, ``"None"``: the type of `value` for a message."""
    if value is None:
        return "None"
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"


def _api_value(value: object) -> str:
    """`value` as a reader of Python code would write it (objects by their type and size)."""
    if isinstance(value, str):
        return repr(value if len(value) <= 80 else value[:77] + "...")
    if value is None or isinstance(value, (bool, int, float, tuple, list, dict)) and len(repr(value)) <= 80:
        return repr(value)
    if isinstance(value, Path):
        return repr(str(value))
    if type(value).__module__.startswith("numpy") and hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return repr(value.item())
    shape = getattr(value, "shape", None)
    size = f" of shape {tuple(shape)}" if shape is not None else ""
    return f"<{type(value).__name__}{size}>"


def _cli_value(value: object) -> str:
    """`value` as typed on a command line."""
    if isinstance(value, (str, Path)):
        text = str(value)
        return repr(text) if not text or any(c.isspace() for c in text) else text
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))  # as typed: --it-load 300, not 300.0
    return _api_value(value)


def _names(text: str, flags: dict[str, str]) -> str:
    """Replace ``{=name}`` / ``{=name:example}`` in `text` by ``name=example`` (API) or
    ``--flag example`` (CLI, when `flags` has the name)."""
    import re

    def sub(m: re.Match) -> str:
        name, example = m.group(1), m.group(2)
        flag = flags.get(name)
        if flag:
            if example is None:
                return flag
            if len(example) >= 2 and example[0] == example[-1] and example[0] in "'\"":
                example = example[1:-1]
            return f"{flag} {example}"
        return f"{name}={example}" if example is not None else f"{name}=..."

    return re.sub(r"\{=(\w+)(?::([^{}]*))?\}", sub, text)


class ProfileError(LayerError):
    """An hourly profile file (capacity factors, demand shape, temperature, MW series) could not
    be read or breaks the rules of :mod:`siting.profiles`.

    Attributes
    ----------
    row : str or None
        Where in the file: ``"line 7157"`` of a CSV, ``"time index 7155"`` of a NetCDF file,
        ``"hour 5"`` of an hour-indexed table, ``"row 12"`` of a DataFrame.
    time : pandas.Timestamp or None
        The offending time stamp [UTC], where one is to blame.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        column: str | None = None,
        row: str | None = None,
        time=None,
        fix: str | None = None,
    ) -> None:
        self.row = row
        self.time = time
        super().__init__(message, layer="profiles", path=path, column=column, fix=fix)


class ProfileFileError(ProfileError, LayerFileError):
    """The profile file is missing, unreadable, or not CSV / NetCDF."""


class ProfileSchemaError(ProfileError, LayerSchemaError):
    """No ``time`` (or ``hour``) column, no data column, or a column name the profiles do not
    know."""


class ProfileTimeError(ProfileError, LayerValueError):
    """The time axis is not one year of hours in UTC: wrong length (8,759, 8,784, ...),
    duplicate or missing stamps, stamps off the hour, stamps without a time zone, or a shift
    (e.g. local time labelled as UTC)."""


class ProfileValueError(ProfileError, LayerValueError):
    """Values break the rules: NaN, negative wind or solar output, capacity factors above 1
    (MW or kW given as a fraction), a demand shape whose mean is not 1, a temperature that is not
    °C, or MW values whose size says kW."""


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
