"""Climate: free-cooling hours per year (S6, §4.1) — from the embedded KNMI station normals or
from a user's hourly temperature NetCDF (ERA5 or KNMI style), for sites and surfaces.

*Free-cooling hours* are the hours of a year in which the outdoor dry-bulb temperature is below a
threshold, so that dry coolers or an (indirect) air-side economiser carry the whole heat load
without chillers. The default threshold, :data:`FREE_COOLING_C` = 20 °C, is this project's
indicative choice: facility water of ASHRAE liquid-cooling class W27 (supply ≤ 27 °C) from dry
coolers with a ~7 K approach. Pass another with ``free_cooling_c=``.

From normals (the embedded ``climate`` layer: monthly mean daily maximum ``tx_MM`` and minimum
``tn_MM`` per KNMI station), hourly temperature on a day of month *m* is modelled as a sinusoidal
daily cycle between the month's mean minimum (at 03 h) and maximum (at 15 h), shifted as a whole
by a day-to-day anomaly drawn from a normal distribution with standard deviation
:data:`DAY_SIGMA_K`::

    T(h) = (tx_m + tn_m)/2 + (tx_m - tn_m)/2 · cos(2π (h - 15) / 24) + δ,   δ ~ N(0, σ²)
    hours below θ = Σ_m days_m · Σ_h Φ((θ - (tx_m + tn_m)/2 - (tx_m - tn_m)/2 · cos(...)) / σ)

The same model gives the number of summer days (daily maximum ≥ 25 °C), which KNMI publishes
per station; σ is calibrated on those (see ``docs/climate.md``, and the test that checks the
model against the published counts). Between stations, hours are interpolated by inverse
distance weighting (power 2) in EPSG:28992.

From a user NetCDF of hourly temperature the hours are counted, per grid cell or station, over
the whole years the file covers (missing hours excluded, scaled to 8766 h per year), with
xarray, one year at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import xarray as xr
from scipy.special import ndtr
from scipy.spatial import cKDTree

from ._plausible import TEMPERATURE_RANGE_C, likely_units, temperature_problem
from .errors import ClimateCoverageWarning, ConfigError, LayerFileError, LayerValueError
from .layers import WORK_CRS
from . import _validate as V

__all__ = [
    "FREE_COOLING_C",
    "DAY_SIGMA_K",
    "hours_below",
    "summer_days",
    "station_free_cooling",
    "free_cooling_netcdf",
    "ClimateField",
    "climate_field",
]

#: Default dry-bulb threshold for free cooling [°C] (indicative; see the module text).
FREE_COOLING_C = 20.0
#: Standard deviation of the day-to-day temperature anomaly [K], calibrated on KNMI's
#: 1991–2020 summer-day normals (docs/climate.md).
DAY_SIGMA_K = 4.0
#: Mean hours per year (365.25 days).
HOURS_PER_YEAR = 8766.0
#: Days per month of a 365.25-day year (February 28.25).
DAYS = np.array([31, 28.25, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
MONTHS = [f"{m:02d}" for m in range(1, 13)]
_PHASE = np.cos(2.0 * np.pi * (np.arange(24) + 0.5 - 15.0) / 24.0)


def _check_normals(tx: np.ndarray, tn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    tx, tn = np.asarray(tx, float), np.asarray(tn, float)
    if tx.shape != tn.shape or tx.shape[-1] != 12:
        raise ConfigError(f"monthly normals need 12 values per station, got shapes {tx.shape} and {tn.shape}")
    found = temperature_problem(np.concatenate([tx.ravel(), tn.ravel()]), "degC")
    if found is not None:
        lo, hi, hint = found
        raise ConfigError(
            f"monthly temperature normals from {lo:g} to {hi:g} °C lie outside the plausible "
            f"{TEMPERATURE_RANGE_C[0]:g} to {TEMPERATURE_RANGE_C[1]:g} °C: {hint}. Fix: give tx and tn in °C")
    return tx, tn


def hours_below(tx, tn, threshold_c: float = FREE_COOLING_C, sigma_k: float = DAY_SIGMA_K) -> np.ndarray:
    """Expected hours per year with dry-bulb temperature below `threshold_c`, from monthly
    normals of the daily maximum `tx` and minimum `tn` [°C] (last axis: the 12 months)."""
    tx, tn = _check_normals(tx, tn)
    if not sigma_k > 0:
        raise ConfigError(f"sigma_k must be positive, got {sigma_k!r}")
    mid, amp = (tx + tn) / 2.0, (tx - tn) / 2.0
    z = (float(threshold_c) - mid[..., None] - amp[..., None] * _PHASE) / sigma_k  # (..., 12, 24)
    return (ndtr(z).sum(axis=-1) * DAYS).sum(axis=-1)


def summer_days(tx, sigma_k: float = DAY_SIGMA_K, threshold_c: float = 25.0) -> np.ndarray:
    """Expected days per year with a daily maximum of at least `threshold_c` (KNMI *zomerse
    dag* at 25 °C, *tropische dag* at 30 °C), from monthly normals of the daily maximum."""
    tx = np.asarray(tx, float)
    return (ndtr((tx - float(threshold_c)) / sigma_k) * DAYS).sum(axis=-1)


def _normals(climate: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    cols_x, cols_n = [f"tx_{m}" for m in MONTHS], [f"tn_{m}" for m in MONTHS]
    tx, tn = climate[cols_x].to_numpy(float), climate[cols_n].to_numpy(float)
    found = temperature_problem(np.concatenate([tx.ravel(), tn.ravel()]), "degC")
    if found is not None:
        lo, hi, hint = found
        raise LayerValueError(
            f"temperature normals from {lo:g} to {hi:g} °C lie outside the plausible {TEMPERATURE_RANGE_C[0]:g} to "
            f"{TEMPERATURE_RANGE_C[1]:g} °C: {hint}", layer="climate",
            fix="give tx_MM and tn_MM in °C (K − 273.15; (°F − 32) × 5/9; KNMI tenths ÷ 10)")
    bad = ~(tx >= tn)
    if bad.any():
        row, month = np.argwhere(bad)[0]
        raise LayerValueError(
            f"station {climate['id'].iloc[row]!r}: mean daily maximum {tx[row, month]} below the minimum "
            f"{tn[row, month]} in month {month + 1}", layer="climate", column=f"tx_{MONTHS[month]}",
            fix="tx_MM is the mean daily maximum and tn_MM the mean daily minimum [°C]; check for swapped columns")
    return tx, tn


def station_free_cooling(climate: gpd.GeoDataFrame, threshold_c: float = FREE_COOLING_C,
                         sigma_k: float = DAY_SIGMA_K) -> gpd.GeoDataFrame:
    """The climate layer's stations with ``free_cooling_hours``, and the model's days per year
    with a daily maximum of at least 20, 25 and 30 °C (``days_tx20_model``,
    ``summer_days_model``, ``tropical_days_model``) beside KNMI's counts where the layer has them."""
    tx, tn = _normals(climate)
    out = climate[["id", "name", "geometry"]].copy()
    out["free_cooling_hours"] = hours_below(tx, tn, threshold_c, sigma_k)
    for col, thr in (("days_tx20", 20.0), ("summer_days", 25.0), ("tropical_days", 30.0)):
        out[f"{col}_model"] = summer_days(tx, sigma_k, thr)
        if col in climate.columns:
            out[col] = climate[col].to_numpy(float)
    return out


# ------------------------------------------------------------------------ hourly NetCDF

_TEMP_NAMES = ("t2m", "tas", "ta", "T", "t", "temperature", "air_temperature", "temp")
_TIME_NAMES = ("time", "valid_time")
_KELVIN = {"k", "kelvin", "degk", "deg_k"}
_CELSIUS = {"degc", "°c", "c", "celsius", "deg_c", "degree_celsius", "degrees_celsius", "degreec", "degrees c",
            "degree c", "deg c"}


def _units_fix(name) -> str:
    """How to declare the unit of temperature variable `name`: in the file (what the command
    line reads) or, in Python, by the ``units`` argument of :func:`free_cooling_netcdf`."""
    return (f"set the 'units' attribute of {name!s} to 'K' or 'degC' (e.g. ncatted -a units,{name!s},o,c,K file.nc), "
            "or in Python declare it: free_cooling_netcdf(path, units='K')")


def _temperature_variable(ds: xr.Dataset, variable: str | None, path: Path) -> xr.DataArray:
    if variable is not None:
        if variable not in ds.data_vars:
            raise LayerFileError(f"no variable {variable!r}; variables: {sorted(ds.data_vars)}", path=path,
                                 fix="pass variable= one of these")
        return ds[variable]
    by_std = [v for v in ds.data_vars if ds[v].attrs.get("standard_name") == "air_temperature"]
    by_name = [v for v in _TEMP_NAMES if v in ds.data_vars]
    found = by_std or by_name
    if not found:
        raise LayerFileError(f"no air-temperature variable (standard_name 'air_temperature' or one of "
                             f"{', '.join(_TEMP_NAMES)}); variables: {sorted(ds.data_vars)}", path=path,
                             fix="give the temperature variable the attribute standard_name = 'air_temperature' "
                                 "(e.g. ncatted -a standard_name,<name>,o,c,air_temperature file.nc), or in Python "
                                 "name it: free_cooling_netcdf(path, variable='<name>')")
    return ds[found[0]]


def _declared_unit(da: xr.DataArray, units: str | None, path: Path) -> str:
    """The temperature unit of `da` (``units`` argument, else its attribute): ``"K"``,
    ``"degC"`` or ``"0.1 degC"``."""
    raw = units if units is not None else da.attrs.get("units")
    if raw is None:
        raise LayerFileError(f"variable {da.name!r} has no 'units' attribute", path=path,
                             fix=_units_fix(da.name))
    u = str(raw).strip().lower().replace("degrees", "degree")
    if u in _KELVIN:
        return "K"
    if u in _CELSIUS or u.replace(" ", "_") in _CELSIUS:
        return "degC"
    if u in ("0.1 degc", "0.1 °c", "0.1 c"):  # KNMI station files
        return "0.1 degC"
    raise LayerFileError(f"variable {da.name!r} has units {raw!r}, not a temperature unit this reads", path=path,
                         fix=_units_fix(da.name))


def _to_celsius(da, unit: str):
    return da - 273.15 if unit == "K" else da / 10.0 if unit == "0.1 degC" else da


def _check_plausible(raw: xr.DataArray, unit: str, declared: str, path: Path, year: int) -> None:
    """Temperatures outside the plausible range after conversion: an error naming the likely
    unit mistake (Kelvin labelled °C gives 0 free-cooling hours, °F too few)."""
    found = temperature_problem(raw.values, unit)
    if found is None:
        return
    lo, hi, hint = found
    lo_c, hi_c = _to_celsius(lo, unit), _to_celsius(hi, unit)
    likely = likely_units(lo, hi, unit)
    if not likely:
        fix = (f"declare fill values as missing (e.g. ncatted -a _FillValue,{raw.name},o,f,-9999 file.nc) or remove "
               "them")
    elif likely[0] in ("K", "degC", "0.1 degC"):
        quoted = f'"{likely[0]}"' if " " in likely[0] else likely[0]
        fix = (f"correct the variable's 'units' attribute to {likely[0]!r} (e.g. ncatted -a units,{raw.name},o,c,"
               f"{quoted} file.nc); fill values must be declared as _FillValue")
    else:
        fix = "convert the values to K or °C; fill values must be declared as _FillValue"
    raise LayerValueError(
        f"variable {raw.name!r} holds {year} temperatures from {lo:g} to {hi:g} in units {declared!r}, i.e. "
        f"{lo_c:.1f} to {hi_c:.1f} °C, outside the plausible {TEMPERATURE_RANGE_C[0]:g} to "
        f"{TEMPERATURE_RANGE_C[1]:g} °C: {hint}",
        path=path,
        fix=fix,
    )


def free_cooling_netcdf(path: str | PathLike[str], threshold_c: float = FREE_COOLING_C, variable: str | None = None,
                        units: str | None = None) -> xr.DataArray:
    """Free-cooling hours per year from a NetCDF of hourly air temperature.

    Accepts ERA5 (``t2m`` in K on ``latitude``/``longitude``, time ``time`` or ``valid_time``),
    KNMI-style station files (``ta`` in degC on ``station`` with ``lat``/``lon``) and projected
    grids (``x``/``y`` with a CRS). Counts, per cell or station, the hours below `threshold_c`
    over the whole years covered, divided by the valid hours and scaled to 8766 h per year.

    Returns
    -------
    xarray.DataArray
        ``free_cooling_hours`` without the time dimension; attributes ``threshold_c``,
        ``years`` (first–last) and ``source``.
    """
    path = V.path(path, "path", what="NetCDF file of hourly air temperature")
    threshold_c = V.free_cooling_c(threshold_c, "threshold_c")
    V.text(variable, "variable", what="the name of the temperature variable (str)", example="t2m")
    V.text(units, "units", what="a temperature unit (str)", example="K")
    if not path.is_file():
        raise LayerFileError("climate file does not exist", path=path, fix="check the path")
    try:
        ds = xr.open_dataset(path)
    except Exception as exc:  # noqa: BLE001
        raise LayerFileError(f"cannot be read as NetCDF: {exc}", path=path) from exc
    with ds:
        da = _temperature_variable(ds, variable, path)
        tdim = next((d for d in _TIME_NAMES if d in da.dims), None)
        if tdim is None:
            raise LayerFileError(f"variable {da.name!r} has no time dimension (dims {da.dims})", path=path,
                                 fix="give hourly data with a 'time' (or ERA5 'valid_time') dimension")
        times = pd.DatetimeIndex(da[tdim].values)
        if len(times) < 2 or not times.is_monotonic_increasing:
            raise LayerFileError("the time axis must hold at least two increasing steps", path=path)
        step = pd.Series(times).diff().median()
        if step != pd.Timedelta(hours=1):
            raise LayerFileError(f"time step is {step}, not hourly", path=path,
                                 fix="give hourly temperatures (ERA5 'reanalysis-era5-single-levels', KNMI hourly)")
        span = times[-1] - times[0] + pd.Timedelta(hours=1)
        if span < pd.Timedelta(days=365):
            raise LayerFileError(f"covers only {span.days} days; free-cooling hours need whole years", path=path,
                                 fix="give at least one full year of hourly data")
        extra = [d for d in da.dims if d != tdim and d not in ("latitude", "longitude", "lat", "lon", "x", "y", "station")]
        if extra:
            raise LayerFileError(f"unexpected dimension(s) {extra} besides time and space", path=path,
                                 fix="select one level/member first, e.g. ds.isel(expver=0)")
        unit = _declared_unit(da, units, path)
        below = valid = None
        for year in sorted(set(times.year)):
            raw = da.sel({tdim: str(year)}).load()
            _check_plausible(raw, unit, str(units if units is not None else da.attrs.get("units")), path, year)
            chunk = _to_celsius(raw, unit)
            b = (chunk < float(threshold_c)).sum(tdim)
            v = chunk.notnull().sum(tdim)
            below, valid = (b, v) if below is None else (below + b, valid + v)
    with np.errstate(invalid="ignore", divide="ignore"):
        hours = (below / valid.where(valid > 0)) * HOURS_PER_YEAR
    hours.name = "free_cooling_hours"
    hours.attrs = {"units": "h/yr", "threshold_c": float(threshold_c), "years": f"{times[0].year}-{times[-1].year}",
                   "source": str(path), "long_name": f"hours per year below {threshold_c:g} °C dry bulb"}
    for name in ("crs", "spatial_ref"):
        if name in ds.attrs:
            hours.attrs[name] = ds.attrs[name]
    return hours


# ------------------------------------------------------------------------ fields for sites and surfaces


@dataclass(frozen=True)
class ClimateField:
    """Free-cooling hours, ready to sample at sites or on a surface grid: station values
    (interpolated by inverse distance) or a gridded DataArray (zonal mean / bilinear). Where a
    grid does not reach, `fallback` (the embedded normals) fills in, with a
    :class:`~siting.errors.ClimateCoverageWarning`."""

    threshold_c: float
    stations: gpd.GeoDataFrame | None = None
    grid: xr.DataArray | None = None
    source: str = "embedded climate layer (KNMI normals)"
    fallback: ClimateField | None = None

    def _fill(self, values: np.ndarray, where: str, fill) -> np.ndarray:
        """Fill places the user's file does not cover from the embedded normals, with a warning."""
        gap = ~np.isfinite(values)
        if self.fallback is None or not gap.any():
            return values
        self.warn_gaps(int(gap.sum()), gap.size, where, stacklevel=3)
        values = values.copy()
        values[gap] = fill(gap)
        return values

    def warn_gaps(self, n_gap: int, n: int, where: str, stacklevel: int = 2) -> None:
        """The warning that `n_gap` of `n` places (`where`) take the embedded normals."""
        import warnings

        warnings.warn(f"the climate file '{self.source}' does not cover {n_gap} of {n} {where}; "
                      "free-cooling hours there come from the embedded KNMI normals", ClimateCoverageWarning,
                      stacklevel=stacklevel + 1)

    def at_points(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Hours per year at EPSG:28992 points (station fields only)."""
        st = self.stations
        xy = np.column_stack([st.geometry.x, st.geometry.y])
        values = st["free_cooling_hours"].to_numpy(float)
        k = min(len(st), 8)
        tree = cKDTree(xy)
        pts = np.column_stack([np.ravel(x), np.ravel(y)])
        out = np.empty(len(pts))
        for start in range(0, len(pts), 500_000):  # bounded memory on 100 m national grids
            d, i = tree.query(pts[start:start + 500_000], k=k)
            d, i = d.reshape(len(d), -1), i.reshape(len(i), -1)
            w = 1.0 / np.maximum(d, 1.0) ** 2
            out[start:start + len(d)] = (w * values[i]).sum(axis=1) / w.sum(axis=1)
        return out.reshape(np.shape(x))

    def at_sites(self, sites: gpd.GeoDataFrame) -> np.ndarray:
        """Hours per year for each site (station fields: at the representative point; grids:
        mean of the cells inside the polygon, or the cell under a small site)."""
        if self.grid is not None:
            from .rasters import zonal_mean

            got = zonal_mean(self.grid, sites, require_cover=False)  # gaps: the normals fill in
            return self._fill(got, "sites", lambda gap: self.fallback.at_sites(sites[gap]))
        pts = sites.to_crs(WORK_CRS).geometry.representative_point()
        return self.at_points(pts.x.to_numpy(), pts.y.to_numpy())

    def on_grid(self, proto: xr.Dataset) -> np.ndarray:
        """Hours per year on the cells of surface grid `proto` (x, y in EPSG:28992)."""
        x, y = proto["x"].values, proto["y"].values
        if self.grid is not None:
            from .rasters import resample_to

            got = resample_to(self.grid, proto, require_cover=False)

            def normals_at(gap):  # row-major, the order values[gap] takes
                rows, cols = np.nonzero(gap)
                return self.fallback.at_points(x[cols], y[rows])

            return self._fill(got, "surface cells", normals_at)
        xx, yy = np.meshgrid(x, y)
        return self.at_points(xx, yy)


def climate_field(layers, threshold_c: float = FREE_COOLING_C, climate: str | PathLike[str] | None = None,
                  variable: str | None = None) -> ClimateField:
    """The free-cooling field of a study: from `climate` (hourly NetCDF) when given, else from
    the ``climate`` layer of `layers`."""
    threshold_c = V.free_cooling_c(threshold_c)  # named as in evaluate() and surface(), which call this
    if climate is None:
        return ClimateField(threshold_c, stations=station_free_cooling(layers.climate, threshold_c))
    hours = free_cooling_netcdf(climate, threshold_c, variable=variable)
    if "station" in hours.dims:
        lat = next((c for c in ("lat", "latitude") if c in hours.coords), None)
        lon = next((c for c in ("lon", "longitude") if c in hours.coords), None)
        if lat is None or lon is None:
            raise LayerFileError("station data without lat/lon coordinates", path=climate,
                                 fix="give each station 'lat' and 'lon' (WGS84) coordinates")
        ok = np.isfinite(hours.values)
        st = gpd.GeoDataFrame({"id": [str(s) for s in hours["station"].values[ok]], "free_cooling_hours": hours.values[ok]},
                              geometry=gpd.points_from_xy(hours[lon].values[ok], hours[lat].values[ok]),
                              crs="EPSG:4326").to_crs(WORK_CRS)
        if st.empty:
            raise LayerFileError("no station has valid hourly temperatures", path=climate)
        return ClimateField(threshold_c, stations=st, source=str(climate))
    normals = ClimateField(threshold_c, stations=station_free_cooling(layers.climate, threshold_c))
    return ClimateField(threshold_c, grid=hours, source=str(climate), fallback=normals)
