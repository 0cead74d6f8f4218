"""Hourly profiles for a year of situations: wind and solar capacity factors, the national
electricity demand shape, air temperature, and optional MW series.

Two entry points:

- :func:`load_profiles` — the shipped Netherlands table (``data/nl/profiles.csv``, derived from
  the Energy Transition Model's curves by ``scripts/derive_profiles.py``) laid on a study year.
- :func:`read_hourly` — a user's own hourly file (CSV or NetCDF) with a ``time`` column or
  coordinate, validated with the same rules.

Both return a DataFrame indexed by a tz-aware UTC :class:`pandas.DatetimeIndex` named ``time``,
one row per hour, 8,760 rows. Conventions (``docs/year.md``):

- a time stamp marks the *start* of its hour, in UTC;
- a year has 8,760 hours; in a leap year 29 February is left out (the shipped table is laid on
  the calendar with 29 February skipped, so 1 March stays 1 March; a user's file must leave the
  day out itself);
- columns: ``offshore_wind_cf``, ``offshore_wind_cf_<year>`` (weather years), ``wind_onshore_cf``,
  ``solar_pv_cf`` (capacity factors, fractions 0-1 of installed capacity), ``demand_shape``
  (hourly demand / annual mean, mean 1), ``temperature_c`` [°C], and any ``<name>_mw`` series
  [MW] (e.g. ``offshore_ijmuiden-ver-alpha_mw``).

Every problem raises a :class:`siting.errors.ProfileError` that names the file, the column, the
line (or hour) and time stamp, and the fix.
"""

from __future__ import annotations

import re
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError, ProfileFileError, ProfileSchemaError, ProfileTimeError, ProfileValueError

__all__ = [
    "HOURS_PER_YEAR",
    "PROFILE_COLUMNS",
    "load_profiles",
    "read_hourly",
    "study_index",
    "validate_profiles",
]

HOURS_PER_YEAR = 8760
#: The named profile columns (besides ``offshore_wind_cf_<year>`` and ``<name>_mw``).
PROFILE_COLUMNS = ("offshore_wind_cf", "wind_onshore_cf", "solar_pv_cf", "demand_shape", "temperature_c")
DEFAULT_YEAR = 2030
#: Above this an "MW" value is taken for kW: the whole Dutch system peaks near 19 GW.
MAX_MW = 100_000.0
#: Mean hour of solar output [UTC, hour-beginning stamps + 0.5] expected in the Netherlands
#: (solar noon 11:31-11:47 UTC over 3.3-7.2 °E; the equation of time averages out over a year),
#: and the tolerance before a file is called shifted.
SOLAR_CENTRE_UTC_H = 11.65
SOLAR_CENTRE_TOL_H = 0.6

_WEATHER_YEAR = re.compile(r"^offshore_wind_cf_(\d{4})$")
_MW = re.compile(r"^[a-z0-9][a-z0-9_.-]*_mw$")
_RENEWABLE = re.compile(r"(wind|solar|offshore|pv)")
_AWARE = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}(?::?\d{2})?|UTC)$", re.IGNORECASE)
_NETCDF = {".nc", ".nc4", ".netcdf", ".cdf"}
_LEAP_FIX = ("leave out 29 February, e.g. df = df[~((df.index.month == 2) & (df.index.day == 29))]; "
             "the library works on years of 8,760 hours")


def _is_cf(column: str) -> bool:
    return column in ("offshore_wind_cf", "wind_onshore_cf", "solar_pv_cf") or bool(_WEATHER_YEAR.match(column))


def _allowed(column: str) -> bool:
    return column in PROFILE_COLUMNS or bool(_WEATHER_YEAR.match(column)) or bool(_MW.match(column))


class _Where:
    """Names positions in the source: 'line 7157' (CSV), 'time index 7155' (NetCDF), ..."""

    def __init__(self, kind: str, path: Path | None):
        self.kind = kind
        self.path = path

    def __call__(self, pos: int) -> str:
        if self.kind == "csv":
            return f"line {pos + 2}"  # the header is line 1
        if self.kind == "netcdf":
            return f"time index {pos}"
        if self.kind == "hour":
            return f"hour {pos}"
        return f"row {pos}"


def _stamp(t: pd.Timestamp) -> str:
    return f"{t:%Y-%m-%d %H:%M} UTC"


# --------------------------------------------------------------------------- time axis
def study_index(year: int = DEFAULT_YEAR) -> pd.DatetimeIndex:
    """The 8,760 hours of a study year, UTC, hour-beginning; 29 February left out in a leap year.

    Parameters
    ----------
    year : int
        Calendar year (1900-2200).

    Returns
    -------
    pandas.DatetimeIndex
        8,760 tz-aware UTC stamps named ``time``, from 1 January 00:00 to 31 December 23:00.

    Examples
    --------
    >>> idx = study_index(2028)  # a leap year
    >>> len(idx), idx[1416 - 1], idx[1416]
    (8760, Timestamp('2028-02-28 23:00:00+0000', tz='UTC'), Timestamp('2028-03-01 00:00:00+0000', tz='UTC'))
    """
    if isinstance(year, bool) or not isinstance(year, (int, np.integer)) or not 1900 <= int(year) <= 2200:
        raise ConfigError(f"year must be a calendar year between 1900 and 2200, got {year!r}")
    year = int(year)
    idx = pd.date_range(f"{year}-01-01", f"{year + 1}-01-01", freq="h", tz="UTC", inclusive="left", name="time")
    idx = idx[~((idx.month == 2) & (idx.day == 29))]
    assert len(idx) == HOURS_PER_YEAR
    return idx


def _parse_strings(raw: pd.Series, where: _Where, path, tz: str | None) -> pd.DatetimeIndex:
    """Text stamps to UTC. Stamps with an offset ('Z', '+01:00') are converted; stamps without
    one need `tz`."""
    s = raw.astype("string").str.strip()
    if s.isna().any():
        pos = int(np.flatnonzero(s.isna().to_numpy())[0])
        raise ProfileTimeError(f"empty time stamp at {where(pos)}", path=path, column="time", row=where(pos),
                               fix="every row needs a time stamp")
    aware = s.str.contains(_AWARE, regex=True).to_numpy(dtype=bool)
    if aware.any() and not aware.all():
        pos = int(np.flatnonzero(~aware)[0])
        raise ProfileTimeError(
            f"time stamps mix zones: {where(pos)} ('{s.iloc[pos]}') has no UTC offset but others do",
            path=path, column="time", row=where(pos), fix="give every stamp an offset ('Z' or '+01:00')")
    parsed = pd.to_datetime(s, utc=bool(aware.all()), errors="coerce", format="ISO8601")
    if parsed.isna().any():
        parsed = pd.to_datetime(s, utc=bool(aware.all()), errors="coerce", format="mixed")
    if parsed.isna().any():
        pos = int(np.flatnonzero(parsed.isna().to_numpy())[0])
        raise ProfileTimeError(f"cannot read the time stamp '{s.iloc[pos]}' at {where(pos)}", path=path,
                               column="time", row=where(pos),
                               fix="write ISO 8601 stamps in UTC, e.g. 2030-01-01T00:00Z")
    idx = pd.DatetimeIndex(parsed)
    if idx.tz is not None:
        return idx.tz_convert("UTC")
    return _localize(idx, where, path, tz)


def _localize(idx: pd.DatetimeIndex, where: _Where, path, tz: str | None) -> pd.DatetimeIndex:
    if tz is None:
        raise ProfileTimeError(
            f"time stamps carry no time zone (e.g. '{idx[0]:%Y-%m-%d %H:%M}'): UTC or local time?",
            path=path, column="time", row=where(0),
            fix="write UTC stamps with 'Z' or an offset (2030-01-01T00:00Z, 2030-01-01T01:00+01:00), or state "
                "the zone: read_hourly(path, tz='UTC') or tz='Europe/Amsterdam'")
    try:
        return idx.tz_localize(tz, ambiguous="infer", nonexistent="raise").tz_convert("UTC")
    except Exception as exc:  # pytz/zoneinfo errors: ambiguous or nonexistent local times, bad zone
        raise ProfileTimeError(
            f"cannot place the stamps in time zone {tz!r}: {exc}", path=path, column="time",
            fix="a local-time year has one 23-hour and one 25-hour day (daylight saving time); write UTC stamps "
                "or stamps with offsets instead") from exc


def _check_time(idx: pd.DatetimeIndex, where: _Where, path) -> np.ndarray:
    """Check that `idx` is one year of hours; return the order that sorts it."""
    order = np.argsort(idx.asi8, kind="stable")
    t = idx[order]
    # duplicates
    dup = t.duplicated(keep=False)
    if dup.any():
        first = t[dup][0]
        rows = [where(int(order[i])) for i in np.flatnonzero(t == first)]
        raise ProfileTimeError(
            f"time {_stamp(first)} appears {len(rows)} times ({', '.join(rows)}); {int(t.duplicated().sum())} "
            "duplicate stamps in all", path=path, column="time", row=rows[0], time=first,
            fix="remove the duplicate rows; a local-time file labelled as UTC repeats the autumn "
                "daylight-saving hour: give offsets or read_hourly(path, tz='Europe/Amsterdam')")
    # on the hour
    off = (t.minute != 0) | (t.second != 0) | (t.microsecond != 0) | (t.nanosecond != 0)
    if off.any():
        i = int(np.flatnonzero(off)[0])
        raise ProfileTimeError(
            f"time stamp {t[i]:%Y-%m-%d %H:%M:%S} UTC at {where(int(order[i]))} is not on the hour", path=path,
            column="time", row=where(int(order[i])), time=t[i],
            fix="give hourly values stamped at the start of each hour; for 15-minute data: df.resample('h').mean()")
    # gaps (a leap day left out is allowed)
    step = np.diff(t.asi8) // 3_600_000_000_000
    gaps = np.flatnonzero(step != 1)
    leap_gap = [g for g in gaps if step[g] == 25 and _is_leap_day_gap(t[g], t[g + 1])]
    other = [g for g in gaps if g not in leap_gap]
    missing = int(sum(step[g] - 1 for g in other))
    n = len(t)
    gap_text = ""
    if other:
        g = other[0]
        gap_text = (f"; {missing} hour(s) missing, the first after {_stamp(t[g])} ({where(int(order[g]))}): "
                    f"{_stamp(t[g] + pd.Timedelta(hours=1))}")
    if n != HOURS_PER_YEAR:
        if n == HOURS_PER_YEAR + 24:
            fix = _LEAP_FIX
            what = "a leap year"
        elif n == HOURS_PER_YEAR - 1:
            fix = ("add the missing hour (often the last hour, 31 December 23:00, or the spring daylight-saving "
                   "hour of a local-time file): give stamps in UTC")
            what = "one short of a year"
        elif n > HOURS_PER_YEAR:
            fix = "give one year: cut the file to 8,760 hours"
            what = "more than a year"
        else:
            fix = "give a whole year of hourly values: 8,760 hours"
            what = "less than a year"
        raise ProfileTimeError(
            f"{n:,} hourly values from {_stamp(t[0])} to {_stamp(t[-1])} ({what}); a year has "
            f"{HOURS_PER_YEAR:,}{gap_text}", path=path, column="time",
            row=where(int(order[other[0]])) if other else None, time=t[other[0]] if other else None, fix=fix)
    if other:
        g = other[0]
        raise ProfileTimeError(
            f"missing time stamps: {missing} hour(s) absent between {_stamp(t[0])} and {_stamp(t[-1])}, the "
            f"first after {_stamp(t[g])} ({where(int(order[g]))}), {_stamp(t[g] + pd.Timedelta(hours=1))}",
            path=path, column="time", row=where(int(order[g])), time=t[g] + pd.Timedelta(hours=1),
            fix="fill the gap (e.g. interpolate), or check the time zone of the stamps")
    if len(leap_gap) > 1:
        raise ProfileTimeError("more than one leap day left out", path=path, column="time", fix=_LEAP_FIX)
    return order


def _is_leap_day_gap(before: pd.Timestamp, after: pd.Timestamp) -> bool:
    """24 hours missing whose middle falls on 29 February UTC (a local 29 February left out)."""
    middle = before + pd.Timedelta(hours=12, minutes=30)
    return middle.month == 2 and middle.day == 29


# --------------------------------------------------------------------------- values
def _check_values(df: pd.DataFrame, where: _Where, path, solar_time_check: bool) -> pd.DataFrame:
    """Column names and values; returns float columns. `df` is indexed by UTC time, in order of
    time; `where` positions refer to the row order of `df` (mapped by the caller)."""
    data_cols = [c for c in df.columns]
    if not data_cols:
        raise ProfileSchemaError("no data column besides the time", path=path,
                                 fix=f"add at least one of {', '.join(PROFILE_COLUMNS)} or a <name>_mw column")
    unknown = [c for c in data_cols if not _allowed(str(c))]
    if unknown:
        raise ProfileSchemaError(
            f"unknown column(s) {unknown}; profiles have {', '.join(PROFILE_COLUMNS)}, offshore_wind_cf_<year> "
            "and <name>_mw series", path=path, column=str(unknown[0]),
            fix="rename the column (units in the name: capacity factors end in _cf, MW series in _mw) or drop it")
    out = {}
    for c in data_cols:
        raw = df[c]
        x = pd.to_numeric(raw, errors="coerce")
        bad = x.isna() & raw.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise ProfileValueError(f"'{raw.iloc[i]}' at {where(i)} ({_stamp(df.index[i])}) is not a number",
                                    path=path, column=c, row=where(i), time=df.index[i],
                                    fix="use plain numbers with a decimal point, no units or thousands separators")
        v = x.to_numpy(dtype=float)
        nan = ~np.isfinite(v)
        if nan.any():
            i = int(np.flatnonzero(nan)[0])
            raise ProfileValueError(
                f"{int(nan.sum())} missing or infinite value(s), the first at {where(i)} ({_stamp(df.index[i])})",
                path=path, column=c, row=where(i), time=df.index[i],
                fix="fill the gaps, e.g. df.interpolate(limit=3) for short ones, or give the hours their real values")
        _check_column(c, v, df.index, where, path)
        out[c] = v
    res = pd.DataFrame(out, index=df.index)
    if solar_time_check and "solar_pv_cf" in res and res["solar_pv_cf"].sum() > 0:
        _check_solar_time(res["solar_pv_cf"], path)
    return res


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _check_column(c: str, v: np.ndarray, index: pd.DatetimeIndex, where: _Where, path) -> None:
    def err(message: str, i: int, fix: str):
        raise ProfileValueError(message, path=path, column=c, row=where(i), time=index[i], fix=fix)

    if _is_cf(c):
        if (v < -1e-6).any():
            i = _first(v < -1e-6)
            err(f"negative output {v[i]:g} at {where(i)} ({_stamp(index[i])}); {int((v < -1e-6).sum())} negative "
                "value(s) in all", i,
                "a capacity factor is the output as a fraction 0-1 of installed capacity; clip at zero "
                "(df.clip(lower=0)) if these are the plant's own night-time consumption")
        if (v > 1 + 1e-6).any():
            i = int(np.argmax(v))
            unit = ("percent (divide by 100)" if v.max() <= 100 else
                    "MW or kW, not a fraction (divide by the installed capacity, or name the column <name>_mw)")
            err(f"capacity factor {v[i]:g} at {where(i)} ({_stamp(index[i])}) is above 1: these look like {unit}",
                i, "give output as a fraction 0-1 of installed capacity")
    elif c == "demand_shape":
        if (v < 0).any():
            i = _first(v < 0)
            err(f"negative demand {v[i]:g} at {where(i)} ({_stamp(index[i])})", i,
                "a demand shape is hourly demand divided by its annual mean: all values >= 0")
        mean = float(v.mean())
        if abs(mean - 1) > 1e-3:
            hint = " (this looks like MW: name the column demand_mw)" if mean > 100 else ""
            err(f"mean {mean:,.6g}, not 1{hint}", 0, "divide the column by its mean (df.demand_shape /= "
                "df.demand_shape.mean())")
    elif c == "temperature_c":
        lo, hi = float(v.min()), float(v.max())
        if lo < -50 or hi > 50:
            i = int(np.argmax(np.abs(v)))
            mean = float(v.mean())
            if 200 <= mean <= 330:
                hint = "kelvin: subtract 273.15"
            elif hi <= 500:
                hint = "tenths of a degree (as in KNMI hourly files): divide by 10"
            else:
                hint = "not °C"
            err(f"temperature {v[i]:g} at {where(i)} ({_stamp(index[i])}) is outside -50..50 °C: looks like {hint}",
                i, "give air temperature in °C")
    else:  # <name>_mw
        big = np.abs(v) > MAX_MW
        if big.any():
            i = int(np.argmax(np.abs(v)))
            err(f"{v[i]:,.0f} 'MW' at {where(i)} ({_stamp(index[i])}): more than the whole Dutch power system "
                "(peak about 19 GW); these look like kW", i, "divide by 1,000 to give MW")
        if _RENEWABLE.search(c) and (v < -1e-6).any():
            i = _first(v < -1e-6)
            err(f"negative output {v[i]:g} MW at {where(i)} ({_stamp(index[i])})", i,
                "wind and solar output is >= 0 MW; clip at zero if these are the plant's own consumption")


def _check_solar_time(cf: pd.Series, path) -> None:
    """Solar output must centre near solar noon in UTC: catches local time labelled as UTC."""
    hours = cf.index.hour.to_numpy() + 0.5
    centre = float((cf.to_numpy() * hours).sum() / cf.sum())
    if abs(centre - SOLAR_CENTRE_UTC_H) > SOLAR_CENTRE_TOL_H:
        late = centre - SOLAR_CENTRE_UTC_H
        raise ProfileTimeError(
            f"solar output centres on {int(centre):02d}:{round(centre % 1 * 60) % 60:02d} UTC, but in the "
            f"Netherlands the sun is highest at about 11:40 UTC: the stamps look {abs(late):.1f} h "
            f"{'late' if late > 0 else 'early'} (local time labelled as UTC, or stamps at the end of the hour)",
            path=path, column="solar_pv_cf",
            fix="give UTC stamps at the start of each hour (or offsets, or tz='Europe/Amsterdam' for local stamps); "
                "for data from far outside the Netherlands pass solar_time_check=False")


# --------------------------------------------------------------------------- public API
def validate_profiles(df: pd.DataFrame, *, solar_time_check: bool = True, source: str | None = None) -> pd.DataFrame:
    """Check a profiles DataFrame that is already indexed by time; return a clean copy.

    Parameters
    ----------
    df : pandas.DataFrame
        Index: tz-aware :class:`pandas.DatetimeIndex` (converted to UTC) of one year of hours;
        columns as in :data:`PROFILE_COLUMNS`, ``offshore_wind_cf_<year>`` or ``<name>_mw``.
    solar_time_check : bool
        Check that ``solar_pv_cf`` centres near solar noon in UTC (Netherlands).
    source : str, optional
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Float columns, sorted by time, UTC index named ``time``.
    """
    where = _Where("frame", None)
    if not isinstance(df.index, pd.DatetimeIndex):
        raise ProfileTimeError("the index is not a DatetimeIndex", path=source,
                               fix="df = df.set_index(pd.to_datetime(df['time'], utc=True))")
    if df.index.tz is None:
        raise ProfileTimeError("the time index carries no time zone", path=source,
                               fix="df.index = df.index.tz_localize('UTC') (or the zone the stamps are in)")
    idx = df.index.tz_convert("UTC")
    order = _check_time(idx, where, source)
    sorted_df = df.iloc[order].copy()
    sorted_df.index = idx[order].rename("time")
    return _check_values(sorted_df, _Where("frame", None), source, solar_time_check)


def read_hourly(path: str | PathLike[str], *, tz: str | None = None, solar_time_check: bool = True) -> pd.DataFrame:
    """Read a user's own hourly profiles (CSV or NetCDF) and validate them.

    Parameters
    ----------
    path : str or PathLike
        ``.csv`` with a ``time`` column, or NetCDF (``.nc``) with a ``time`` coordinate and
        variables along ``time`` only. Columns / variables: ``offshore_wind_cf``,
        ``offshore_wind_cf_<year>``, ``wind_onshore_cf``, ``solar_pv_cf`` (capacity factors,
        0-1), ``demand_shape`` (mean 1), ``temperature_c`` [°C], ``<name>_mw`` [MW].
    tz : str, optional
        Time zone of stamps written *without* an offset (e.g. ``"UTC"``,
        ``"Europe/Amsterdam"``); stamps with an offset (``Z``, ``+01:00``) are converted
        whatever `tz` says. Without `tz`, stamps without an offset are an error (UTC or local
        time cannot be told apart). NetCDF time decoded by CF conventions is UTC.
    solar_time_check : bool
        Check that ``solar_pv_cf`` peaks near solar noon in UTC, which catches local time
        labelled as UTC; switch off for data from far outside the Netherlands.

    Returns
    -------
    pandas.DataFrame
        8,760 rows indexed by a tz-aware UTC DatetimeIndex ``time`` (hour-beginning), float
        columns; ``df.attrs["source"]`` is the path.

    Raises
    ------
    siting.errors.ProfileError
        Naming file, column, line and time stamp, and the fix: a year of 8,759 or 8,784 hours,
        duplicate or missing stamps, stamps without a zone, NaN, negative wind or solar output,
        capacity factors above 1 (MW or kW given as a fraction), MW values whose size says kW,
        solar output shifted in time.

    Notes
    -----
    A year is 8,760 consecutive hours, starting at any hour (a year in local time starts at
    23:00 UTC the day before); a leap year must leave out 29 February. Values are not
    resampled, interpolated or rescaled: a file that needs it is refused with the fix.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> t = pd.date_range("2030-01-01", periods=8760, freq="h", tz="UTC")
    >>> f = os.path.join(tempfile.mkdtemp(), "farm.csv")
    >>> pd.DataFrame({"time": t.strftime("%Y-%m-%dT%H:%MZ"), "offshore_x_mw": 700.0}).to_csv(f, index=False)
    >>> float(read_hourly(f)["offshore_x_mw"].sum())
    6132000.0
    """
    path = Path(path)
    if not path.is_file():
        raise ProfileFileError("file does not exist", path=path, fix="check the path")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        where = _Where("csv", path)
        try:
            raw = pd.read_csv(path, dtype={"time": "string"})
        except Exception as exc:
            raise ProfileFileError(f"cannot be read as CSV: {exc}", path=path) from exc
        if "time" not in raw.columns:
            raise ProfileSchemaError(f"no 'time' column (columns: {list(raw.columns)})", path=path,
                                     fix="add a 'time' column of ISO 8601 UTC stamps, e.g. 2030-01-01T00:00Z")
        idx = _parse_strings(raw["time"], where, path, tz)
        data = raw.drop(columns=["time"])
    elif suffix in _NETCDF:
        where = _Where("netcdf", path)
        data, idx = _read_netcdf(path, where, tz)
    else:
        raise ProfileFileError(f"unsupported file type '{suffix}'", path=path,
                               fix="give a .csv file with a 'time' column or a NetCDF (.nc) file with a 'time' coordinate")
    order = _check_time(idx, where, path)
    data = data.iloc[order].reset_index(drop=True)
    data.index = idx[order].rename("time")
    positions = order  # data row i came from file row order[i]

    class _Mapped(_Where):
        def __call__(self, pos: int) -> str:
            return where(int(positions[pos]))

    out = _check_values(data, _Mapped(where.kind, path), path, solar_time_check)
    out.attrs["source"] = str(path)
    return out


def _read_netcdf(path: Path, where: _Where, tz: str | None) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    import xarray as xr

    try:
        ds = xr.open_dataset(path)
    except Exception as exc:
        raise ProfileFileError(f"cannot be read as NetCDF: {exc}", path=path) from exc
    with ds:
        if "time" not in ds.coords and "time" not in ds.variables:
            raise ProfileSchemaError(f"no 'time' coordinate (variables: {sorted(ds.variables)})", path=path,
                                     fix="name the time coordinate 'time' (CF units, e.g. 'hours since 2030-01-01')")
        other = {n: v.dims for n, v in ds.data_vars.items() if v.dims != ("time",)}
        if other:
            name, dims = next(iter(other.items()))
            raise ProfileSchemaError(f"variable '{name}' has dimensions {dims}; profiles are series along 'time' only",
                                     path=path, column=name, fix="select one location or sum over space first")
        data = pd.DataFrame({n: ds[n].values for n in ds.data_vars})
        t = ds["time"].values
    if np.issubdtype(np.asarray(t).dtype, np.datetime64):
        # CF conventions: a reference time without a zone is UTC (xarray applies stated offsets).
        idx = pd.DatetimeIndex(t).tz_localize("UTC")
    else:
        idx = _parse_strings(pd.Series(np.asarray(t).astype(str)), where, path, tz)
    return data, idx


def load_profiles(path: str | PathLike[str] | None = None, *, year: int | None = None,
                  solar_time_check: bool = True) -> pd.DataFrame:
    """The hourly profiles of a study year: the shipped Netherlands table by default.

    Parameters
    ----------
    path : str or PathLike, optional
        Default: ``data/nl/profiles.csv`` (ETSource curves, ``scripts/derive_profiles.py``).
        A table in the same form (an ``hour`` column 0-8759) is laid on `year` like the
        default; a file with a ``time`` column or coordinate is read by :func:`read_hourly`.
    year : int, optional
        Study year the 8,760 hours are laid on (default 2030). In a leap year 29 February is
        left out: the index jumps from 28 February 23:00 to 1 March 00:00 UTC, so dates keep
        their season. For a file with its own time stamps, `year` must match them if given.
    solar_time_check : bool
        See :func:`read_hourly`.

    Returns
    -------
    pandas.DataFrame
        8,760 rows indexed by a tz-aware UTC DatetimeIndex ``time`` (hour-beginning).
        Columns of the shipped table: ``offshore_wind_cf`` (ETSource default weather year),
        ``offshore_wind_cf_1987``, ``_1997``, ``_2004`` (weather years), ``wind_onshore_cf``,
        ``solar_pv_cf`` (capacity factors, fractions of installed capacity), ``demand_shape``
        (national electricity demand / annual mean; mean 1), ``temperature_c`` [°C].
        ``df.attrs`` holds ``source`` and ``year``.

    Notes
    -----
    The shipped hours are not one coherent weather year (ETSource combines wind, solar,
    temperature and sector demand curves of different years; ``docs/year.md``). Weekdays of
    the demand shape do not follow the study year's calendar.

    Examples
    --------
    >>> p = load_profiles(year=2030)
    >>> len(p), str(p.index.tz), round(float(p["demand_shape"].mean()), 6)
    (8760, 'UTC', 1.0)
    """
    if path is None:
        from .layers import embedded_data_dir

        path = embedded_data_dir() / "nl" / "profiles.csv"
    path = Path(path)
    if not path.is_file():
        raise ProfileFileError("file does not exist", path=path, fix="check the path")
    if path.suffix.lower() in _NETCDF:
        return _with_year(read_hourly(path, solar_time_check=solar_time_check), year, path)
    try:
        header = pd.read_csv(path, nrows=0).columns
    except Exception as exc:
        raise ProfileFileError(f"cannot be read as CSV: {exc}", path=path) from exc
    if "time" in header:
        return _with_year(read_hourly(path, solar_time_check=solar_time_check), year, path)
    if "hour" not in header:
        raise ProfileSchemaError(f"neither an 'hour' nor a 'time' column (columns: {list(header)})", path=path,
                                 fix="give 'hour' 0..8759 (hours of the year from 1 Jan 00:00 UTC) or 'time' stamps")
    year = DEFAULT_YEAR if year is None else year
    index = study_index(year)
    raw = pd.read_csv(path)
    where = _Where("csv", path)
    hours = _check_hours(raw["hour"], where, path)
    data = raw.drop(columns=["hour"]).iloc[np.argsort(hours, kind="stable")].reset_index(drop=True)
    data.index = index
    order = np.argsort(hours, kind="stable")

    class _Mapped(_Where):
        def __call__(self, pos: int) -> str:
            return where(int(order[pos]))

    out = _check_values(data, _Mapped("csv", path), path, solar_time_check)
    out.attrs.update(source=str(path), year=int(year))
    return out


def _check_hours(col: pd.Series, where: _Where, path) -> np.ndarray:
    h = pd.to_numeric(col, errors="coerce")
    bad = h.isna() | (h != np.floor(h))
    if bad.any():
        i = _first(bad.to_numpy())
        raise ProfileTimeError(f"hour '{col.iloc[i]}' at {where(i)} is not a whole number", path=path, column="hour",
                               row=where(i), fix="'hour' counts the hours of the year 0..8759")
    h = h.to_numpy(dtype=np.int64)
    dup = pd.Series(h).duplicated(keep=False).to_numpy()
    if dup.any():
        first = h[dup][0]
        rows = [where(int(i)) for i in np.flatnonzero(h == first)]
        raise ProfileTimeError(f"hour {first} appears {len(rows)} times ({', '.join(rows)})", path=path,
                               column="hour", row=rows[0], fix="each hour 0..8759 once")
    n = len(h)
    expected = np.arange(HOURS_PER_YEAR)
    missing = np.setdiff1d(expected, h)
    outside = np.setdiff1d(h, expected)
    if n != HOURS_PER_YEAR or len(missing) or len(outside):
        detail = []
        if len(missing):
            detail.append(f"missing hour(s) {', '.join(map(str, missing[:5]))}{' ...' if len(missing) > 5 else ''}")
        if len(outside):
            detail.append(f"hour(s) outside 0..8759: {', '.join(map(str, outside[:5]))}")
        fix = _LEAP_FIX if n == HOURS_PER_YEAR + 24 else "give each hour 0..8759 of the year once"
        raise ProfileTimeError(f"{n:,} hours; a year has {HOURS_PER_YEAR:,}" + (f" ({'; '.join(detail)})" if detail else ""),
                               path=path, column="hour", fix=fix)
    return h


def _with_year(df: pd.DataFrame, year: int | None, path: Path) -> pd.DataFrame:
    counts = pd.Series(df.index.year).value_counts()
    file_year = int(counts.idxmax())
    if year is not None and int(year) != file_year:
        raise ConfigError(f"{path}: the file's stamps are in {file_year}, not the requested year {year}; "
                          "omit year= for a file with its own time stamps, or use a file of that year")
    df.attrs["year"] = file_year
    return df
