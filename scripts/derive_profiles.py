"""Derive the shipped hourly profiles ``data/nl/profiles.csv`` from the ETSource curves.

Reads the hourly Dutch curves of the Energy Transition Model (ETSource, Quintel; MIT licence,
copyright notice in ``data/nl/LICENSE-etsource.txt``) from
``../shared/reference/etsource-curves/`` and writes ONE derived table of 8,760 rows::

    hour                  0..8759: hours of a non-leap year from 1 Jan 00:00 UTC (hour-beginning)
    offshore_wind_cf      offshore wind capacity factor, ETSource "default" weather year
    offshore_wind_cf_1987 the same for the weather years 1987, 1997 and 2004
    offshore_wind_cf_1997
    offshore_wind_cf_2004
    wind_onshore_cf       onshore wind capacity factor (ETSource's coastal/inland capacity mix)
    solar_pv_cf           solar PV capacity factor (ground-mounted, "on land")
    demand_shape          national electricity demand, hourly value / annual mean (mean 1)
    temperature_c         air temperature [°C] (De Bilt based)

Method (details and sources in ``data/SOURCES.md``, keys H1-H9, and ``docs/year.md``):

1. Every ETSource curve has 8,760 values. Supply and demand curves are *shapes* that sum to
   1/3600 (ETM convention, checked here to 1e-9); an hourly capacity factor is
   ``value x full-load hours x 3600``.
2. Full-load hours (FLH) of the "default" weather year are not in the reference folder: they are
   the FLH that ETSource's ``nl`` dataset (the dataset the curves come from) applies with these
   curves, ``datasets/nl/central_producers.csv`` at commit ``ETSOURCE_COMMIT`` (H2). The weather
   years' FLH are read from ``weather_<year>_weather_properties.csv`` in the reference folder.
3. Time: ETSource curves run from 1 Jan 00:00 CET (UTC+1, no daylight saving time), see H3. The
   table is in UTC: UTC hour ``t`` takes curve value ``t + 1``; the last UTC hour (31 Dec
   23:00 UTC = 1 Jan 00:00 CET of the next year) takes the curve's first value (the year wraps).
4. ``demand_shape`` = sum over sectors of (annual electricity use of the sector) x (its ETSource
   hourly shape), divided by its annual mean. Sector weights and the curve each uses: ``SECTORS``
   (H4-H7; every weight INDICATIVE).
5. Rounding: capacity factors to 4 decimals, the demand shape to 5 (then made to sum to exactly
   8,760.00000 by the largest-remainder method), temperature to 0.1 °C (the source's own
   precision).

The script is deterministic: re-running it on the same reference files writes the same bytes.

Usage::

    python scripts/derive_profiles.py           # (re)write data/nl/profiles.csv
    python scripts/derive_profiles.py --check   # exit 1 if the shipped table differs
    python scripts/derive_profiles.py --stats   # print annual statistics and the weights

Only numpy and pandas are used (both are dependencies of siting).
"""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference" / "etsource-curves"
OUT = REPO / "data" / "nl" / "profiles.csv"

HOURS = 8760
#: ETSource commit of the reference curves (see the reference README) and of every constant
#: below that is read from ETSource files outside the reference folder.
ETSOURCE_COMMIT = "54775b3d37feeef95a827e0182485489e4f5fe1e"

# --------------------------------------------------------------------------- full-load hours
#: FLH [h/yr] ETSource applies with the "default" weather curves of its ``nl`` dataset:
#: ``datasets/nl/central_producers.csv`` @ ETSOURCE_COMMIT, column ``full_load_hours`` (H2).
#: The same values stood in ``datasets/nl/curves/weather/default/weather_properties.csv``
#: (commit e9281aa, since removed) next to the weather years' files.
FLH_DEFAULT = {
    "energy_power_wind_turbine_offshore": 3500.0,
    "energy_power_wind_turbine_coastal": 2550.0,
    "energy_power_wind_turbine_inland": 1920.0,
    "energy_power_solar_pv_solar_radiation": 867.0,
}
#: Annual production [TJ] of the same nodes in the same file (column ``demand``); with the FLH
#: it gives installed capacity, MW = TJ / FLH / 3.6 x 1000 (as ETDataset's own scripts do).
#: Used only for the coastal/inland capacity mix of onshore wind (H2).
TJ_DEFAULT = {
    "energy_power_wind_turbine_coastal": 8994.61855670103,
    "energy_power_wind_turbine_inland": 14822.9072164948,
}
WEATHER_YEARS = (1987, 1997, 2004)


# --------------------------------------------------------------------------- demand sectors
@dataclass(frozen=True)
class Sector:
    name: str
    curve: str | None  # ETSource curve file in REFERENCE; None = flat (continuous process)
    pj: float  # annual electricity use [PJ], INDICATIVE
    source: str


# Annual final electricity use per sector, the Netherlands, 2023 [PJ] (H4): ETSource
# ``datasets/nl2023/energy_balance.open_access.csv`` @ ETSOURCE_COMMIT, column ``Electricity``
# (IEA-format national energy balance in TJ, open-access statistics compiled by Quintel; shown
# here rounded to 0.1 PJ). Splits inside a sector use ETSource nl2023 shares
# (``datasets/nl2023/shares/energy/*_parent_share.csv`` @ ETSOURCE_COMMIT, H5), rounded to 3
# decimals. Cross-checks against CBS: data/SOURCES.md, key H6.
_RES = 76.8  # Residential
_SERV = 133.9  # Commercial and public services (incl. ICT / data centres)
_ICT_SHARE = 0.150  # buildings_local_production_electricity_parent_share: industry_..._ict
_SERV_REST = _SERV * (1 - _ICT_SHARE)
_RAIL = 6.0  # Rail

SECTORS: tuple[Sector, ...] = (
    # households: residences_final_demand_electricity_parent_share (nl2023)
    Sector("households: appliances, lighting, cooking", "households_appliances.csv",
           _RES * (0.629 + 0.097 + 0.037), "balance Residential 76.8 PJ x 0.763 (H4, H5)"),
    Sector("households: cooling", "households_cooling.csv", _RES * 0.017,
           "balance Residential x 0.017 (H4, H5)"),
    Sector("households: hot water", "households_hot_water.csv", _RES * 0.079,
           "balance Residential x 0.079 (H4, H5)"),
    Sector("households: space heating (heat pumps, resistive)", "weather_default_buildings_heating.csv",
           _RES * 0.141, "balance Residential x 0.141 (H4, H5); ETSource buildings heating curve as proxy (H7)"),
    # services: buildings_final_demand_electricity_parent_share (nl2023)
    Sector("services: appliances and lighting", "buildings_appliances.csv", _SERV_REST * (0.368 + 0.268),
           "balance Commercial and public services 133.9 PJ x (1 - 0.150 ICT) x 0.636 (H4, H5)"),
    Sector("services: cooling", "buildings_cooling.csv", _SERV_REST * 0.144,
           "services excl. ICT x 0.144 (H4, H5)"),
    Sector("services: space heating", "weather_default_buildings_heating.csv", _SERV_REST * 0.220,
           "services excl. ICT x 0.220 (H4, H5)"),
    Sector("ICT and data centres", "industry_ict.csv", _SERV * _ICT_SHARE,
           "balance Commercial and public services x 0.150 ICT share (H4, H5); CBS: 18.4 PJ data centres 2024 (H6)"),
    Sector("agriculture (incl. greenhouses)", "agriculture_electricity.csv", 26.4,
           "balance Agriculture/forestry 26.4 PJ (H4)"),
    # industry: balance rows (final consumption) and energy-sector own use
    Sector("industry: chemicals and fertilisers", "industry_chemicals_electricity.csv", 43.2,
           "balance Chemical and petrochemical 43.2 PJ (H4)"),
    Sector("industry: metals", "industry_metals_electricity.csv", 6.9 + 3.8 + 0.7,
           "balance Iron and steel 6.9 + Non-ferrous metals 3.8 + own use blast furnaces and coke ovens 0.7 PJ (H4)"),
    Sector("industry: refineries", "industry_refineries_electricity.csv", 9.6,
           "balance own use Oil refineries 9.6 PJ (H4)"),
    Sector("industry: food, paper, machinery, minerals, other", "industry_other_electricity.csv",
           3.9 + 1.9 + 11.1 + 0.9 + 24.2 + 5.9 + 1.1 + 4.1 + 1.4 + 6.9,
           "balance Non-metallic minerals 3.9, Transport equipment 1.9, Machinery 11.1, Mining 0.9, Food 24.2, "
           "Paper 5.9, Wood 1.1, Construction 4.1, Textile 1.4, Non-specified industry 6.9 PJ (H4)"),
    Sector("energy sector own use: oil and gas extraction, nuclear, other", None, 5.4 + 0.6 + 1.0,
           "balance own use Oil and gas extraction 5.4, Nuclear industry 0.6, Non-specified energy 1.0 PJ (H4); flat"),
    # transport: transport_final_demand_electricity / transport_rail_mixer_electricity shares
    Sector("transport: road (electric vehicles)", "electric_vehicle_profile_1.csv", 7.9,
           "balance Road 7.9 PJ (H4); CBS 2024: transport 17 PJ (H6)"),
    Sector("transport: passenger rail and trams", "passenger_trains.csv", _RAIL * (0.820 + 0.078),
           "balance Rail 6.0 PJ x 0.898 (H4, H5)"),
    Sector("transport: freight rail", "freight_trains.csv", _RAIL * 0.102, "balance Rail x 0.102 (H4, H5)"),
)
# Left out on purpose (H4): own use of power plants (13.7 PJ; netted from their output) and grid
# losses (18.1 PJ; close to proportional to the load, so they do not change a normalised shape).


# --------------------------------------------------------------------------- reading
def read_curve(name: str, reference: Path = REFERENCE, *, shape: bool = True) -> np.ndarray:
    """One ETSource curve: 8,760 floats; for a shape, checks the ETM normalisation (sum 1/3600)."""
    path = reference / name
    values = np.loadtxt(path, dtype=float, ndmin=1)
    if values.shape != (HOURS,):
        raise SystemExit(f"{path}: {values.size} values, expected {HOURS}")
    if not np.isfinite(values).all():
        raise SystemExit(f"{path}: non-finite values")
    if shape:
        if values.min() < 0:
            raise SystemExit(f"{path}: negative values in a shape")
        if abs(values.sum() * 3600 - 1) > 1e-9:
            raise SystemExit(f"{path}: sums to {values.sum() * 3600:.12f}/3600, not 1/3600: not an ETM shape")
    return values


def read_flh(year: int, key: str = "flh_of_energy_power_wind_turbine_offshore",
             reference: Path = REFERENCE) -> float:
    """Full-load hours of `key` in ``weather_<year>_weather_properties.csv``."""
    props = pd.read_csv(reference / f"weather_{year}_weather_properties.csv")
    row = props.loc[props["key"] == key]
    if len(row) != 1 or row["unit"].iloc[0] != "hours":
        raise SystemExit(f"weather_{year}_weather_properties.csv: no single '{key}' in hours")
    return float(row["value"].iloc[0])


def to_utc(values: np.ndarray) -> np.ndarray:
    """ETSource hour i is [i, i+1) CET = UTC+1: UTC hour t is curve hour t+1; the year wraps."""
    return np.roll(values, -1)


def onshore_mix() -> tuple[float, float]:
    """(coastal capacity share, mixed FLH) of ETSource's nl onshore fleet (H2)."""
    mw = {k: TJ_DEFAULT[k] / FLH_DEFAULT[k] / 3.6 * 1000 for k in TJ_DEFAULT}
    coastal = mw["energy_power_wind_turbine_coastal"] / sum(mw.values())
    flh = (coastal * FLH_DEFAULT["energy_power_wind_turbine_coastal"]
           + (1 - coastal) * FLH_DEFAULT["energy_power_wind_turbine_inland"])
    return coastal, flh


def capacity_factor(shape: np.ndarray, flh: float) -> np.ndarray:
    """value x FLH x 3600, at most 1 (the weather-year curves reach 1 + 1e-5 because ETSource
    rounds their FLH to whole hours)."""
    cf = shape * flh * 3600.0
    if cf.max() > 1.001:
        raise SystemExit(f"capacity factor reaches {cf.max():.4f} with {flh} full-load hours: wrong FLH for the curve")
    return np.minimum(cf, 1.0)


def demand_shape(reference: Path = REFERENCE) -> np.ndarray:
    """Sector shapes weighted by annual electricity use, normalised to mean 1 (not rounded)."""
    total = np.zeros(HOURS)
    for s in SECTORS:
        fraction = np.full(HOURS, 1.0 / HOURS) if s.curve is None else read_curve(s.curve, reference) * 3600.0
        total += s.pj * fraction
    return total / total.mean()


def round_to_mean_one(x: np.ndarray, decimals: int = 5) -> np.ndarray:
    """Round to `decimals` so that the rounded values sum to exactly len(x) (mean exactly 1):
    largest-remainder rounding, ties to the earlier hour (deterministic)."""
    scale = 10**decimals
    scaled = x * (len(x) / x.sum()) * scale
    floor = np.floor(scaled).astype(np.int64)
    need = len(x) * scale - int(floor.sum())
    order = np.argsort(-(scaled - floor), kind="stable")
    floor[order[:need]] += 1
    return floor / scale


# --------------------------------------------------------------------------- the table
def derive(reference: Path = REFERENCE) -> pd.DataFrame:
    """The profiles table (unrounded columns are rounded here, once)."""
    df = pd.DataFrame({"hour": np.arange(HOURS, dtype=np.int64)})
    off = read_curve("weather_default_wind_offshore_baseline.csv", reference)
    df["offshore_wind_cf"] = capacity_factor(off, FLH_DEFAULT["energy_power_wind_turbine_offshore"])
    for year in WEATHER_YEARS:
        shape = read_curve(f"weather_{year}_wind_offshore_baseline.csv", reference)
        df[f"offshore_wind_cf_{year}"] = capacity_factor(shape, read_flh(year, reference=reference))
    inland = read_curve("weather_default_wind_inland_baseline.csv", reference)
    coastal = read_curve("weather_default_wind_coastal_baseline.csv", reference)
    share, flh_on = onshore_mix()
    # ETSource's coastal and inland default curves are the same shape; weight them anyway, so a
    # future reference with two shapes is mixed correctly.
    onshore = (share * FLH_DEFAULT["energy_power_wind_turbine_coastal"] * coastal
               + (1 - share) * FLH_DEFAULT["energy_power_wind_turbine_inland"] * inland) / flh_on
    df["wind_onshore_cf"] = capacity_factor(onshore, flh_on)
    solar = read_curve("weather_default_solar_pv_on_land.csv", reference)
    df["solar_pv_cf"] = capacity_factor(solar, FLH_DEFAULT["energy_power_solar_pv_solar_radiation"])
    df["demand_shape"] = demand_shape(reference)
    df["temperature_c"] = read_curve("weather_default_air_temperature.csv", reference, shape=False)

    for col in df.columns[1:]:
        df[col] = to_utc(df[col].to_numpy())
    cf = [c for c in df.columns if c.endswith("_cf") or "_cf_" in c]
    df[cf] = df[cf].round(4)
    df["demand_shape"] = round_to_mean_one(df["demand_shape"].to_numpy(), 5)
    df["temperature_c"] = df["temperature_c"].round(1)
    return df


def to_csv_text(df: pd.DataFrame) -> str:
    """The exact text written to disk (fixed float formats, LF line ends)."""
    formats = {c: "{:.4f}" for c in df.columns if c.endswith("_cf") or "_cf_" in c}
    formats |= {"demand_shape": "{:.5f}", "temperature_c": "{:.1f}", "hour": "{:d}"}
    buf = io.StringIO()
    buf.write(",".join(df.columns) + "\n")
    cols = [df[c].map(formats[c].format) for c in df.columns]
    for row in zip(*cols):
        buf.write(",".join(row) + "\n")
    return buf.getvalue()


def stats(df: pd.DataFrame) -> str:
    """Annual statistics of the table and the sector weights (for the report and docs)."""
    lines = ["annual means (capacity factors) and FLH:"]
    for c in df.columns[1:]:
        if c.endswith("_cf") or "_cf_" in c:
            lines.append(f"  {c:24s} mean {df[c].mean():.4f}  FLH {df[c].sum():7.1f} h  max {df[c].max():.4f}")
    d = df["demand_shape"]
    peak = int(d.idxmax())
    day, hr = divmod(peak, 24)
    stamp = pd.Timestamp("2030-01-01", tz="UTC") + pd.Timedelta(hours=peak)
    lines.append(f"demand_shape: mean {d.mean():.6f}, max {d.max():.4f} at hour {peak} ({stamp:%d %b %H:%M} UTC, "
                 f"{stamp.tz_convert('Europe/Amsterdam'):%a %H:%M} local in 2030), min {d.min():.4f}, "
                 f"peak/mean {d.max():.3f}, min/mean {d.min():.3f}")
    t = df["temperature_c"]
    lines.append(f"temperature_c: mean {t.mean():.2f}, min {t.min():.1f}, max {t.max():.1f}")
    share, flh_on = onshore_mix()
    lines.append(f"onshore mix: coastal share {share:.4f}, inland {1 - share:.4f}, FLH {flh_on:.1f}")
    total = sum(s.pj for s in SECTORS)
    lines.append(f"demand weights (total {total:.1f} PJ):")
    for s in SECTORS:
        lines.append(f"  {s.name:55s} {s.pj:6.2f} PJ {100 * s.pj / total:5.1f} %  {s.curve or 'flat'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reference", type=Path, default=REFERENCE, help="folder of the ETSource curves")
    ap.add_argument("--check", action="store_true", help="exit 1 if data/nl/profiles.csv differs from a rebuild")
    ap.add_argument("--stats", action="store_true", help="print annual statistics and the sector weights")
    args = ap.parse_args(argv)
    if not args.reference.is_dir():
        print(f"reference folder not found: {args.reference}", file=sys.stderr)
        return 2
    df = derive(args.reference)
    text = to_csv_text(df)
    if args.stats:
        print(stats(df))
    if args.check:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.relative_to(REPO)}: {'up to date' if same else 'DIFFERS from a rebuild'}")
        return 0 if same else 1
    if not args.stats:
        OUT.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {OUT.relative_to(REPO)} ({len(df)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
