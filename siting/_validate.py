"""Checks of user-given values: one function per concept, used by the API, the CLI and the
configuration files alike.

Every check returns the value in its canonical type (``float``, ``int``, ``Path`` ...) or raises
:class:`~siting.errors.ParameterError` naming the parameter, the value given, what is allowed
and a fix. The CLI renders the same error with its flag names (see ``siting.cli``). The rules:

- a **number** is a real, finite number: ``True`` is not a number, nor ``"300"``, NaN or ±inf;
- a **count** is a whole number (``int``, not ``2.5`` nor ``2.0``) ≥ 1;
- a **year** is a whole number in [2000, 2100];
- a **load** is a number of MW ≥ 0 and at most :data:`MAX_LOAD_MW`; an AIGF's IT load lies in
  [1, 5000] MW and its PUE in [1, 3];
- a **power factor** lies in [0.5, 1] (lagging);
- a **limit**: a loading limit is a number of percent in (0, 1000]; a voltage band is ordered,
  ``vm_min_pu < vm_max_pu``, both in [0.5, 1.5] pu;
- a **tolerance** of a search is a number of MW in [0.001, 100] (0 or less would never end);
- a **bus list** is ``None`` (every bus) or a non-empty list of bus ids (``str``) or indices
  (``int``);
- a **path** is a ``str`` or ``os.PathLike``; a file to read must exist;
- a **free-cooling threshold** is a dry-bulb temperature in [-30, 45] °C;
- **user rasters** are a dict ``{"raster_<name>": path or xarray.DataArray}``, each file
  existing.

Config files (criteria, scenarios) use :data:`Number` and :data:`Integer` in their pydantic
models, which apply the same number rules to TOML values.
"""

from __future__ import annotations

import math
import numbers
from os import PathLike
from pathlib import Path
from typing import Annotated, Any, Iterable

from pydantic import BeforeValidator

from .errors import ParameterError, type_phrase

__all__ = [
    "MAX_LOAD_MW", "YEAR_RANGE", "PF_RANGE", "PUE_RANGE", "IT_LOAD_RANGE_MW", "TOL_RANGE_MW", "LOADING_MAX_PCT",
    "VM_RANGE_PU", "RESOLUTION_RANGE_M", "FREE_COOLING_RANGE_C", "Number", "Integer",
    "number", "integer", "flag", "choice", "power_factor", "load_mw", "it_load_mw", "pue", "grid_load_mw",
    "tolerance_mw", "loading_pct", "voltage_band", "year", "count", "seed", "bus_ids", "path", "existing_file",
    "instance", "geo_frame", "crs", "free_cooling_c", "text", "rasters", "search_max_mw",
]

#: An added load above this is taken for a typo (the whole Dutch peak is ~20 GW) [MW].
MAX_LOAD_MW = 10_000.0
#: Study and grid years accepted.
YEAR_RANGE = (2000, 2100)
#: Power factor of a load (lagging).
PF_RANGE = (0.5, 1.0)
#: Power usage effectiveness of an AIGF.
PUE_RANGE = (1.0, 3.0)
#: IT load of one AIGF [MW] (the report: 200–300 MW).
IT_LOAD_RANGE_MW = (1.0, 5000.0)
#: Precision of a hosting-capacity search [MW].
TOL_RANGE_MW = (0.001, 100.0)
#: Largest loading limit accepted [%].
LOADING_MAX_PCT = 1000.0
#: Voltage limits accepted [pu].
VM_RANGE_PU = (0.5, 1.5)
#: Cell size of a suitability surface [m].
RESOLUTION_RANGE_M = (100.0, 5000.0)
#: Free-cooling dry-bulb threshold [°C] (as :func:`siting.climate.climate_field`).
FREE_COOLING_RANGE_C = (-30.0, 45.0)


# ----------------------------------------------------------------------------- numbers

def _num(x: float) -> str:
    """A bound as written: 1000000, not 1e+06."""
    return str(int(x)) if float(x).is_integer() and abs(x) < 1e15 else f"{x:g}"


def _range_text(lo, hi, lo_open: bool, hi_open: bool) -> str:
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{_num(lo)}, {_num(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '≥'} {_num(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '≤'} {_num(hi)}"
    return ""


def _not_a_number(value: Any) -> str | None:
    """Why `value` is not a number, or None when it is a real number (finite or not)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return f"{value!r} is a bool, not a number"
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return f"{value!r} is text, not a number"
        return f"{value!r} is text; write the number without quotes"
    if not isinstance(value, numbers.Real):
        return f"{type_phrase(value)} is not a number"
    return None


def number(value: Any, name: str, *, lo: float | None = None, hi: float | None = None, lo_open: bool = False,
           hi_open: bool = False, unit: str = "", why: str = "", example: Any = None) -> float:
    """`value` as a finite float in the range, else :class:`ParameterError`.

    Parameters
    ----------
    lo, hi : float, optional
        Bounds (inclusive unless `lo_open` / `hi_open`).
    unit : str
        Unit in words for the message (``"MW"``, ``"percent"``).
    why : str
        What the parameter means or what goes wrong with a bad value, for the message.
    example : object
        A valid value for the fix (default: a bound).
    """
    allowed = f"a finite number{' of ' + unit if unit else ''}"
    rng = _range_text(lo, hi, lo_open, hi_open)
    if rng:
        allowed += f" {rng}"
    if example is None:
        example = (lo if not lo_open else lo + 1) if lo is not None else hi if hi is not None else 0
    fix = f"use e.g. {{={name}:{example:g}}}" if isinstance(example, (int, float)) else f"use e.g. {{={name}:{example}}}"

    def fail(problem: str) -> ParameterError:
        return ParameterError(name, value, allowed, problem="; ".join(p for p in (problem, why) if p), fix=fix)

    reason = _not_a_number(value)
    if reason:
        raise fail(reason)
    x = float(value)
    if math.isnan(x):
        raise fail("NaN is not a number: every comparison with it is false")
    if math.isinf(x):
        raise fail("not finite")
    if lo is not None and (x < lo or (lo_open and x == lo)):
        raise fail("too small")
    if hi is not None and (x > hi or (hi_open and x == hi)):
        raise fail("too large")
    return x


def integer(value: Any, name: str, *, lo: int | None = None, hi: int | None = None, what: str = "a whole number",
            why: str = "", example: Any = None) -> int:
    """`value` as an int in [lo, hi] (inclusive); floats, even ``2.0``, bools and text are
    refused."""
    rng = _range_text(lo, hi, False, False)
    allowed = f"{what}{' ' + rng if rng else ''}"
    example = example if example is not None else (lo if lo is not None else 0)
    fix = f"use e.g. {{={name}:{example}}}"

    def fail(problem: str) -> ParameterError:
        return ParameterError(name, value, allowed, problem="; ".join(p for p in (problem, why) if p), fix=fix)

    reason = _not_a_number(value)
    if reason:
        raise fail(reason)
    if not isinstance(value, numbers.Integral):
        x = float(value)
        raise fail(f"{value!r} is not a whole number" if not x.is_integer() else f"{value!r} is a float; write {int(x)}")
    v = int(value)
    if lo is not None and v < lo:
        raise fail("too small")
    if hi is not None and v > hi:
        raise fail("too large")
    return v


def flag(value: Any, name: str) -> bool:
    """`value` as a bool: ``True`` or ``False`` only (``"no"`` would count as true)."""
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return bool(value)
    raise ParameterError(name, value, "True or False", problem=f"{type_phrase(value)} is not a bool",
                         fix=f"use {{={name}:True}} or {{={name}:False}}")


def choice(value: Any, name: str, choices: Iterable[Any], *, allow_none: bool = True) -> Any:
    """`value` if it is one of `choices` (or None when allowed)."""
    choices = tuple(choices)
    if value is None and allow_none:
        return None
    if isinstance(value, str) and value in choices:
        return value
    shown = ", ".join(repr(c) for c in choices) + (" or None" if allow_none else "")
    raise ParameterError(name, value, f"one of {shown}", fix=f"use e.g. {{={name}:{choices[0]!r}}}")


# ----------------------------------------------------------------------------- grid quantities

def power_factor(value: Any, name: str = "pf") -> float:
    """Power factor of a load (lagging), in [0.5, 1]."""
    return number(value, name, lo=PF_RANGE[0], hi=PF_RANGE[1], example=0.98,
                  why="the power factor of the load, lagging")


def load_mw(value: Any, name: str = "p_mw", *, positive: bool = False) -> float:
    """A load [MW]: finite, ≥ 0 (> 0 when `positive`), at most :data:`MAX_LOAD_MW`."""
    x = number(value, name, lo=0.0, lo_open=positive, unit="MW", example=360)
    if x > MAX_LOAD_MW:
        raise ParameterError(name, value, f"a number of MW in [0, {MAX_LOAD_MW:g}]",
                             problem=f"{x:g} MW is absurd for one load: the whole Dutch peak is ~20,000 MW",
                             fix=f"an AIGF's grid load is IT MW × PUE, e.g. {{={name}:360}} (300 × 1.2)")
    return x


def it_load_mw(value: Any, name: str = "it_load_mw") -> float:
    """IT load of an AIGF [MW], in [1, 5000] (the report: 200–300 MW)."""
    return number(value, name, lo=IT_LOAD_RANGE_MW[0], hi=IT_LOAD_RANGE_MW[1], unit="MW", example=300,
                  why="the IT load of the AIGF; the report's AIGF has 200–300 MW")


def pue(value: Any, name: str = "pue") -> float:
    """Power usage effectiveness, in [1, 3]."""
    return number(value, name, lo=PUE_RANGE[0], hi=PUE_RANGE[1], example=1.2,
                  why="power usage effectiveness: grid load = IT load × PUE")


def grid_load_mw(it_load: Any, pue_: Any, names: tuple[str, str] = ("it_load_mw", "pue")) -> float:
    """The grid load IT × PUE [MW] of checked inputs; at most :data:`MAX_LOAD_MW`."""
    it = it_load_mw(it_load, names[0])
    p = pue(pue_, names[1])
    if it * p > MAX_LOAD_MW:
        raise ParameterError(names[0], it_load, f"such that IT load × PUE ≤ {MAX_LOAD_MW:g} MW",
                             problem=f"{it:g} MW × {p:g} = {it * p:g} MW of grid load is absurd for one site",
                             fix=f"lower {{={names[0]}}} or {{={names[1]}}}")
    return it * p


def tolerance_mw(value: Any, name: str = "tol_mw") -> float:
    """Precision of a search [MW], in [0.001, 100]: 0 or less would never end."""
    return number(value, name, lo=TOL_RANGE_MW[0], hi=TOL_RANGE_MW[1], unit="MW", example=0.5,
                  why="the precision of the search; 0 or less would never end")


def search_max_mw(value: Any, name: str = "max_mw") -> float:
    """Upper end of a hosting-capacity search [MW], in (0, :data:`MAX_LOAD_MW`]."""
    return number(value, name, lo=0.0, lo_open=True, hi=MAX_LOAD_MW, unit="MW", example=3000,
                  why="the upper end of the search")


def loading_pct(value: Any, name: str = "max_loading_pct") -> float:
    """A loading limit [%], in (0, 1000]."""
    return number(value, name, lo=0.0, lo_open=True, hi=LOADING_MAX_PCT, unit="percent", example=100,
                  why="the loading limit of a branch, % of its rating")


def voltage_band(vm_min: Any, vm_max: Any, names: tuple[str, str] = ("vm_min_pu", "vm_max_pu")) -> tuple[float, float]:
    """A voltage band [pu]: both in [0.5, 1.5] and ordered, ``vm_min < vm_max``."""
    lo = number(vm_min, names[0], lo=VM_RANGE_PU[0], hi=VM_RANGE_PU[1], unit="pu", example=0.9,
                why="the lowest voltage allowed")
    hi = number(vm_max, names[1], lo=VM_RANGE_PU[0], hi=VM_RANGE_PU[1], unit="pu", example=1.1,
                why="the highest voltage allowed")
    if not lo < hi:
        raise ParameterError(names[0], vm_min, f"below {{={names[1]}:{vm_max!r}}}",
                             problem="the voltage band is empty or inverted",
                             fix=f"order the band, e.g. {{={names[0]}:0.9}} and {{={names[1]}:1.1}}")
    return lo, hi


def free_cooling_c(value: Any, name: str = "free_cooling_c") -> float:
    """Dry-bulb threshold of free cooling [°C], in [-30, 45]."""
    return number(value, name, lo=FREE_COOLING_RANGE_C[0], hi=FREE_COOLING_RANGE_C[1], unit="°C", example=20,
                  why="the dry-bulb temperature below which an hour counts as free cooling")


# ----------------------------------------------------------------------------- whole numbers

def year(value: Any, name: str = "year", *, allow_none: bool = False) -> int | None:
    """A year: a whole number in [2000, 2100] (``"2030"`` is text, not a year)."""
    if value is None and allow_none:
        return None
    return integer(value, name, lo=YEAR_RANGE[0], hi=YEAR_RANGE[1], what="a whole year", example=2030)


def count(value: Any, name: str, *, hi: int | None = None, why: str = "", example: int = 10) -> int:
    """A count: a whole number ≥ 1 (at most `hi`)."""
    return integer(value, name, lo=1, hi=hi, why=why, example=example)


def seed(value: Any, name: str = "seed") -> int:
    """A random seed: a whole number ≥ 0."""
    return integer(value, name, lo=0, why="the seed of the random draws", example=0)


def bus_ids(value: Any, name: str = "buses", *, allow_none: bool = True) -> list | None:
    """A list of bus ids (``str``) or pandapower indices (``int``): non-empty; None when
    allowed (every bus)."""
    if value is None and allow_none:
        return None
    allowed = "a non-empty list of bus ids (str) or bus indices (int)" + (", or None for every bus" if allow_none else "")
    fix = f"use e.g. {{={name}:['maasvlakte-380']}}; model.buses() lists them"
    if isinstance(value, (str, bytes)):
        raise ParameterError(name, value, allowed, problem="one id as text, not a list", fix=f"use {{={name}:[{value!r}]}}")
    try:
        items = list(value)
    except TypeError:
        raise ParameterError(name, value, allowed, problem=f"{type_phrase(value)} is not a list", fix=fix) from None
    if not items:
        raise ParameterError(name, value, allowed, problem="the list is empty: no bus to compute",
                             fix=f"name at least one bus, or leave {{={name}}} out (None) for every bus")
    bad = [b for b in items if isinstance(b, bool) or not isinstance(b, (str, numbers.Integral))]
    if bad:
        raise ParameterError(name, value, allowed, problem=f"{bad[0]!r} is a {type(bad[0]).__name__}", fix=fix)
    return items


# ----------------------------------------------------------------------------- files and objects

def path(value: Any, name: str, *, what: str = "file", allow_none: bool = False) -> Path | None:
    """`value` as a Path: a ``str`` or ``os.PathLike``."""
    if value is None and allow_none:
        return None
    if isinstance(value, (str, PathLike)) and str(value).strip():
        return Path(value)
    raise ParameterError(name, value, f"the path of a {what} (str or pathlib.Path)" + (", or None" if allow_none else ""),
                         problem=f"{type_phrase(value)}" if not isinstance(value, str) else "an empty path",
                         fix=f"use e.g. {{={name}:'{what.split()[0]}.gpkg'}}" if "folder" not in what
                         else f"use e.g. {{={name}:'out'}}")


def existing_file(value: Any, name: str, *, what: str = "file", hint: str = "") -> Path:
    """`value` as the Path of an existing file."""
    p = path(value, name, what=what)
    if p.is_file():
        return p
    problem = "it is a folder" if p.is_dir() else "no such file"
    raise ParameterError(name, value, f"the path of an existing {what}", problem=problem,
                         fix=hint or "check the path (relative paths start from the working folder)")


def text(value: Any, name: str, *, what: str, example: str, allow_none: bool = True) -> str | None:
    """`value` if it is a non-empty ``str`` (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, str) and value.strip():
        return value
    raise ParameterError(name, value, what + (", or None" if allow_none else ""),
                         problem=type_phrase(value) if not isinstance(value, str) else "empty",
                         fix=f"use e.g. {{={name}:{example!r}}}")


def rasters(value: Any, name: str = "rasters") -> dict:
    """User rasters: a dict ``{"raster_<name>": path or xarray.DataArray}``, every file existing;
    None is an empty dict."""
    if value is None:
        return {}
    allowed = "a dict {'raster_<name>': path of a GeoTIFF or NetCDF file, or an xarray.DataArray}"
    fix = f"use e.g. {name}={{'raster_noise': 'noise.tif'}} (the metric raster_noise of a criteria file)"
    if not isinstance(value, dict):
        raise ParameterError(name, value, allowed, problem=f"got {type_phrase(value)}", fix=fix)
    bad = sorted(str(k) for k in value if not (isinstance(k, str) and k.startswith("raster_") and len(k) > 7))
    if bad:
        raise ParameterError(name, value, allowed, fix=fix,
                             problem=f"raster metric names must start with 'raster_', got {bad}")
    import xarray as xr

    for key, source in value.items():
        if isinstance(source, xr.DataArray):
            continue
        if not isinstance(source, (str, PathLike)) or not str(source).strip():
            raise ParameterError(name, value, allowed, fix=fix,
                                 problem=f"the raster of {key!r} is {type_phrase(source)}, not a path or a DataArray")
        if not Path(source).is_file():
            raise ParameterError(name, value, allowed, fix="check the path (relative paths start from the working "
                                 "folder)", problem=f"the raster file of {key!r}, '{source}', does not exist")
    return dict(value)


def instance(value: Any, name: str, types: type | tuple[type, ...], *, what: str, fix: str,
             allow_none: bool = True) -> Any:
    """`value` if it is an instance of `types` (or None when allowed); `what` says what is
    allowed in words."""
    if (value is None and allow_none) or (value is not None and isinstance(value, types)):
        return value
    raise ParameterError(name, value, what + (", or None" if allow_none else ""),
                         problem=f"got {type_phrase(value)}", fix=fix)


def geo_frame(value: Any, name: str, *, what: str = "sites", allow_path: bool = True, allow_none: bool = True):
    """A GeoDataFrame with a geometry column, or (when `allow_path`) the Path of a file to read
    (the caller reads it), or None when allowed."""
    import geopandas as gpd
    import pandas as pd

    if value is None and allow_none:
        return None
    allowed = f"a GeoDataFrame of {what}" + (" or the path of a file of them" if allow_path else "") + \
        (", or None" if allow_none else "")
    if allow_path and isinstance(value, (str, PathLike)):
        return path(value, name, what=f"{what} file")
    if isinstance(value, gpd.GeoDataFrame):
        try:
            value.geometry  # noqa: B018 - raises when no active geometry column is set
        except AttributeError:
            raise ParameterError(name, value, allowed, problem="the GeoDataFrame has no active geometry column",
                                 fix="set it with gdf.set_geometry('<column>')") from None
        return value
    if isinstance(value, pd.DataFrame):
        raise ParameterError(name, value, allowed, problem="a pandas DataFrame has no geometry",
                             fix="make it spatial, e.g. geopandas.GeoDataFrame(df, geometry=geopandas.points_from_xy("
                                 "df.lon, df.lat), crs='EPSG:4326')" + (", or pass the file's path" if allow_path else ""))
    raise ParameterError(name, value, allowed, problem=f"got {type_phrase(value)}",
                         fix=f"read it with siting.read_layer(path, {what!r})" if allow_path else "pass a GeoDataFrame")


def crs(value: Any, name: str = "crs", *, allow_none: bool = True) -> str | None:
    """A coordinate reference system pyproj knows (``"EPSG:28992"``), as given."""
    from pyproj import CRS
    from pyproj.exceptions import CRSError

    if value is None and allow_none:
        return None
    allowed = "a CRS pyproj knows, e.g. 'EPSG:28992' (RD New) or 'EPSG:4326' (lon/lat)"
    if not isinstance(value, str) or not value.strip():
        raise ParameterError(name, value, allowed, problem=f"{type_phrase(value)}" if not isinstance(value, str)
                             else "empty", fix=f"use e.g. {{={name}:'EPSG:28992'}}")
    try:
        CRS.from_user_input(value)
    except CRSError:
        raise ParameterError(name, value, allowed, problem="pyproj does not know it",
                             fix=f"use e.g. {{={name}:'EPSG:28992'}}") from None
    return value


# ----------------------------------------------------------------------------- config files (pydantic)

def _config_number(value: Any) -> Any:
    reason = _not_a_number(value)
    if reason:
        raise ValueError(reason if "write" in reason else f"{reason}; write a plain number")
    if not math.isfinite(float(value)):
        raise ValueError(f"{value!r} is not a finite number; write a plain number")
    return value


def _config_integer(value: Any) -> Any:
    reason = _not_a_number(value)
    if reason:
        raise ValueError(reason if "write" in reason else f"{reason}; write a whole number")
    if not isinstance(value, numbers.Integral):
        raise ValueError(f"{value!r} is not a whole number; write e.g. 2030")
    return value


#: A float field of a config file: a finite number (not a bool, nor text, NaN or inf).
Number = Annotated[float, BeforeValidator(_config_number)]
#: An int field of a config file: a whole number (not a bool, a float or text).
Integer = Annotated[int, BeforeValidator(_config_integer)]
