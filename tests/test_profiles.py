"""Hourly profiles: the shipped table (data/nl/profiles.csv), its derivation from the ETSource
reference curves, and the loader's errors on bad user files (made here, in tmp_path)."""

from __future__ import annotations

import functools
import importlib.util
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

import siting
from siting.errors import (
    ConfigError,
    ProfileError,
    ProfileFileError,
    ProfileSchemaError,
    ProfileTimeError,
    ProfileValueError,
    SitingError,
)
from siting.layers import embedded_data_dir
from siting.profiles import HOURS_PER_YEAR, load_profiles, read_hourly, study_index, validate_profiles

from .conftest import REPO

COLUMNS = ["offshore_wind_cf", "offshore_wind_cf_1987", "offshore_wind_cf_1997", "offshore_wind_cf_2004",
           "wind_onshore_cf", "solar_pv_cf", "demand_shape", "temperature_c"]
CF = [c for c in COLUMNS if "_cf" in c]


@pytest.fixture(scope="module")
def shipped() -> pd.DataFrame:
    return load_profiles()


@functools.lru_cache(maxsize=1)
def _derive_module():
    spec = importlib.util.spec_from_file_location("derive_profiles", REPO / "scripts" / "derive_profiles.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------ the shipped table
def test_shipped_table_shape_and_columns(shipped):
    raw = pd.read_csv(embedded_data_dir() / "nl" / "profiles.csv")
    assert list(raw.columns) == ["hour", *COLUMNS]
    assert len(raw) == HOURS_PER_YEAR and raw["hour"].tolist() == list(range(HOURS_PER_YEAR))
    assert list(shipped.columns) == COLUMNS and len(shipped) == HOURS_PER_YEAR
    assert str(shipped.index.tz) == "UTC" and shipped.index.name == "time"
    assert shipped.index[0] == pd.Timestamp("2030-01-01 00:00", tz="UTC")
    assert shipped.index[-1] == pd.Timestamp("2030-12-31 23:00", tz="UTC")
    assert shipped.attrs["year"] == 2030
    assert siting.load_profiles is load_profiles


def test_capacity_factors_plausible_against_published_nl_values(shipped):
    """Annual capacity factors against published Dutch values:
    - offshore: CBS "productiefactor" of wind at sea 41 % (Nederland in cijfers 2022, on 2020);
      CBS reported 3,381 full-load hours (CF 0.39) for 2013 (quoted by ETDataset's weather-year
      README); newer farms do better, to about 0.50. ETSource's default 3,500 h gives 0.40.
    - onshore: CBS "productiefactor" on land 29 % (same source); the ETSource nl fleet (2015)
      gives 0.24 - older, smaller turbines.
    - solar: CBS monitoring protocol 875 kWh/kWp (CF 0.10; CBS note on solar production
      factors, 2023).
    The weather years 1987/1997/2004 are modelled with an 80 m hub (ETDataset), hence lower."""
    m = shipped[CF].mean()
    assert 0.38 <= m["offshore_wind_cf"] <= 0.55
    for year in (1987, 1997, 2004):
        assert 0.30 <= m[f"offshore_wind_cf_{year}"] <= 0.45
    assert 0.20 <= m["wind_onshore_cf"] <= 0.35
    assert 0.09 <= m["solar_pv_cf"] <= 0.13
    assert (shipped[CF] >= 0).all().all() and (shipped[CF] <= 1).all().all()
    # winter wind, summer sun
    month = shipped.index.month
    assert shipped["offshore_wind_cf"][month.isin([12, 1, 2])].mean() > shipped["offshore_wind_cf"][month.isin([6, 7, 8])].mean()
    assert shipped["solar_pv_cf"][month.isin([6, 7])].mean() > 4 * shipped["solar_pv_cf"][month.isin([12, 1])].mean()


def test_offshore_mean_equals_etsource_full_load_hours(shipped):
    """Consistency the issue asks for: mean CF = FLH / 8,760 within the 4-decimal rounding
    (ETSource: default 3,500 h in datasets/nl/central_producers.csv; 1987/1997/2004 from the
    weather-properties files: 2,905, 3,025, 3,334 h)."""
    flh = {"offshore_wind_cf": 3500, "offshore_wind_cf_1987": 2905, "offshore_wind_cf_1997": 3025,
           "offshore_wind_cf_2004": 3334}
    for col, h in flh.items():
        assert shipped[col].mean() == pytest.approx(h / 8760, abs=5e-5), col
    assert shipped["solar_pv_cf"].sum() == pytest.approx(867, abs=0.5)


def test_time_convention_solar_noon_in_utc(shipped):
    """ETSource curves are in CET; the table is UTC: solar output centres on solar noon in the
    Netherlands, about 11:40 UTC (5.3 °E), not 12:40."""
    cf = shipped["solar_pv_cf"]
    centre = float((cf * (cf.index.hour + 0.5)).sum() / cf.sum())
    assert 11.3 <= centre <= 12.0
    assert (cf[cf.index.hour.isin([0, 1, 2, 21, 22, 23])] == 0).all()  # dark at night in UTC


def test_demand_shape_mean_one_and_winter_peak(shipped):
    """Mean exactly 1 (to the 5 decimals written); the peak is on a winter weekday. Peak/mean
    against TenneT: a national peak of about 19 GW (Monitor Leveringszekerheid 2022) over an
    average load of about 13 GW (113-117 TWh/yr, CBS) = 1.45; the sum of ETSource's sector
    profiles peaks higher (1.67, docs/year.md). Minimum/mean of Dutch load is about 0.6-0.7."""
    raw = pd.read_csv(embedded_data_dir() / "nl" / "profiles.csv", dtype={"demand_shape": str})
    assert sum(int(v.replace(".", "")) for v in raw["demand_shape"]) == 8760 * 10**5  # exactly 8,760.00000
    d = shipped["demand_shape"]
    assert d.mean() == pytest.approx(1.0, abs=1e-9)
    peak = d.idxmax()
    assert peak.month in (12, 1, 2)
    assert 1.3 <= d.max() <= 1.8
    assert 0.5 <= d.min() <= 0.75
    # winter demand above summer demand; evenings (17-20 local) above the small hours
    month, hour = d.index.month, d.index.hour
    assert d[month.isin([12, 1, 2])].mean() > d[month.isin([6, 7, 8])].mean()
    assert d[hour.isin([16, 17, 18, 19])].mean() > 1.3 * d[hour.isin([1, 2, 3, 4])].mean()


def test_temperature_plausible_for_de_bilt(shipped):
    t = shipped["temperature_c"]
    assert 9.5 <= t.mean() <= 12.0  # KNMI De Bilt annual means 1991-2020 about 10.5-11 °C
    assert t[t.index.month == 7].mean() > t[t.index.month == 1].mean() + 10
    assert (t.round(1) == t).all()


def test_leap_study_year_drops_29_february():
    p = load_profiles(year=2028)
    assert len(p) == HOURS_PER_YEAR and not ((p.index.month == 2) & (p.index.day == 29)).any()
    assert p.index[1416] == pd.Timestamp("2028-03-01 00:00", tz="UTC")  # 1 March stays 1 March
    base = load_profiles(year=2030)
    assert np.array_equal(p.to_numpy(), base.to_numpy())
    assert len(study_index(2030)) == len(study_index(2028)) == HOURS_PER_YEAR
    with pytest.raises(ConfigError, match="calendar year"):
        load_profiles(year=30)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=50.0, allow_nan=False), min_size=2, max_size=300)
       .filter(lambda v: sum(v) > 1e-3))
def test_demand_rounding_keeps_the_mean_exactly_one(values):
    """Invariant of the script's largest-remainder rounding: any non-negative series comes out
    with 5 decimals, within 1e-5 of the exact shape, summing to exactly its length."""
    dp = _derive_module()
    x = np.asarray(values)
    r = dp.round_to_mean_one(x, 5)
    assert int(np.round(r * 10**5).sum()) == len(x) * 10**5
    assert np.abs(r - x * len(x) / x.sum()).max() <= 1e-5 + 1e-9
    assert (r >= 0).all()


@pytest.mark.reference
def test_rederived_table_is_identical(reference_dir):
    """scripts/derive_profiles.py on ../shared/reference/etsource-curves writes the shipped bytes."""
    dp = _derive_module()
    text = dp.to_csv_text(dp.derive(reference_dir / "etsource-curves"))
    assert text == (embedded_data_dir() / "nl" / "profiles.csv").read_text(encoding="utf-8"), \
        "run: python scripts/derive_profiles.py"


@pytest.mark.reference
def test_flh_agree_with_the_curves_own_maxima(reference_dir):
    """ETDataset scales each weather-year curve so that its maximum is exactly full load at the
    stated FLH: max(value) x FLH x 3600 = 1 (checks the FLH read and the 3600 convention)."""
    dp = _derive_module()
    for year in dp.WEATHER_YEARS:
        shape = dp.read_curve(f"weather_{year}_wind_offshore_baseline.csv", reference_dir / "etsource-curves")
        flh = dp.read_flh(year, reference=reference_dir / "etsource-curves")
        assert shape.max() * flh * 3600 == pytest.approx(1.0, abs=1e-3)


# ------------------------------------------------------------------ user files: good input
def _year(start="2030-01-01", n=HOURS_PER_YEAR):
    return pd.date_range(start, periods=n, freq="h", tz="UTC")


def _frame(index, **cols) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    hour = index.hour.to_numpy()
    solar = np.clip(np.sin((hour + 0.5 - 5.65) / 12 * np.pi), 0, None) * 0.4
    base = {"offshore_wind_cf": rng.uniform(0, 1, len(index)).round(4), "solar_pv_cf": solar.round(4),
            "demand_shape": np.ones(len(index)), "temperature_c": 10.0, "offshore_test_mw": 350.0}
    base.update(cols)
    return pd.DataFrame(base, index=index)


def _csv(tmp_path, df: pd.DataFrame, name="p.csv", naive: bool = False) -> str:
    """`df` as CSV with ISO stamps: '2030-01-01T00:00Z', or '2030-01-01T00:00' if `naive`."""
    out = df.copy()
    stamps = np.datetime_as_string(df.index.tz_convert("UTC").tz_localize(None).to_numpy(), unit="m")
    out.insert(0, "time", stamps if naive else np.char.add(stamps.astype(str), "Z"))
    path = tmp_path / name
    out.to_csv(path, index=False)
    return path


def test_read_hourly_csv_utc_and_offsets(tmp_path):
    df = _frame(_year())
    got = read_hourly(_csv(tmp_path, df))
    assert got.index.equals(df.index.rename("time")) and np.allclose(got.to_numpy(), df.to_numpy())
    # the same hours written in Dutch local time with offsets (+01:00 / +02:00) read back as UTC
    local = df.copy()
    local.index = df.index.tz_convert("Europe/Amsterdam")
    path = tmp_path / "local.csv"
    pd.DataFrame({"time": local.index.map(lambda t: t.isoformat()), **{c: local[c] for c in local}}).to_csv(path, index=False)
    back = read_hourly(path)
    assert back.index.equals(got.index) and np.allclose(back.to_numpy(), got.to_numpy())


def test_read_hourly_naive_with_stated_zone(tmp_path):
    """Naive stamps are accepted when the caller names the zone; a local year (with its 23- and
    25-hour days) converts to 8,760 consecutive UTC hours starting 31 Dec 23:00."""
    utc = _year("2029-12-31 23:00")
    df = _frame(utc)
    local_naive = utc.tz_convert("Europe/Amsterdam").tz_localize(None)
    path = tmp_path / "naive_local.csv"
    stamps = np.datetime_as_string(local_naive.to_numpy(), unit="m")
    pd.DataFrame({"time": stamps, **{c: df[c].to_numpy() for c in df}}).to_csv(path, index=False)
    got = read_hourly(path, tz="Europe/Amsterdam")
    assert got.index[0] == pd.Timestamp("2029-12-31 23:00", tz="UTC") and len(got) == HOURS_PER_YEAR
    assert read_hourly(_csv(tmp_path, _frame(_year()), naive=True), tz="UTC").index[0].hour == 0


def test_read_hourly_netcdf(tmp_path):
    df = _frame(_year())
    ds = xr.Dataset({c: ("time", df[c].to_numpy()) for c in df}, coords={"time": df.index.tz_localize(None)})
    path = tmp_path / "p.nc"
    ds.to_netcdf(path)
    got = read_hourly(path)
    assert str(got.index.tz) == "UTC" and np.allclose(got.to_numpy(), df.to_numpy())
    assert load_profiles(path, year=2030)["offshore_test_mw"].iloc[0] == 350.0


def test_read_hourly_leap_year_with_29_february_left_out(tmp_path):
    idx = pd.date_range("2028-01-01", "2029-01-01", freq="h", tz="UTC", inclusive="left")
    idx = idx[~((idx.month == 2) & (idx.day == 29))]
    got = read_hourly(_csv(tmp_path, _frame(idx)))
    assert len(got) == HOURS_PER_YEAR and got.attrs["source"].endswith("p.csv")


# ------------------------------------------------------------------ user files: one error each
def test_error_8759_hours(tmp_path):
    with pytest.raises(ProfileTimeError, match=r"(?s)8,759 hourly values .*one short of a year.*\n  Fix: add the missing hour"):
        read_hourly(_csv(tmp_path, _frame(_year(n=8759))))


def test_error_8784_hours(tmp_path):
    idx = pd.date_range("2028-01-01", periods=8784, freq="h", tz="UTC")
    with pytest.raises(ProfileTimeError, match=r"(?s)8,784 hourly values .*a leap year.*Fix: leave out 29 February"):
        read_hourly(_csv(tmp_path, _frame(idx)))


def test_error_hour_table_8784_hours(tmp_path):
    raw = pd.read_csv(embedded_data_dir() / "nl" / "profiles.csv")
    extra = raw.iloc[:24].assign(hour=range(8760, 8784))
    path = tmp_path / "hours.csv"
    pd.concat([raw, extra]).to_csv(path, index=False)
    with pytest.raises(ProfileTimeError, match=r"(?s)8,784 hours; a year has 8,760 .*8760.*Fix: leave out 29 February"):
        load_profiles(path)


def test_error_duplicate_timestamp(tmp_path):
    """A local-time file labelled as UTC repeats the autumn hour: named with both lines."""
    idx = _year()
    i = idx.get_loc(pd.Timestamp("2030-10-27 01:00", tz="UTC"))  # 02:00 CET, the repeated local hour
    dup = idx.insert(i, idx[i])[:HOURS_PER_YEAR]
    with pytest.raises(ProfileTimeError, match=r"time 2030-10-27 01:00 UTC appears 2 times \(line 7179, line 7180\)"):
        read_hourly(_csv(tmp_path, _frame(dup)))


def test_error_missing_timestamps(tmp_path):
    idx = _year(n=HOURS_PER_YEAR + 1).delete(2000)
    with pytest.raises(ProfileTimeError, match=r"missing time stamps: 1 hour\(s\) absent.*first after "
                                               r"2030-03-25 07:00 UTC \(line 2001\), 2030-03-25 08:00 UTC"):
        read_hourly(_csv(tmp_path, _frame(idx)))


def test_error_nan(tmp_path):
    df = _frame(_year())
    df.iloc[100, 0] = np.nan
    with pytest.raises(ProfileValueError, match=r"(?s)column 'offshore_wind_cf': 1 missing or infinite value\(s\), the first "
                                                r"at line 102 \(2030-01-05 04:00 UTC\).*Fix: fill the gaps"):
        read_hourly(_csv(tmp_path, df))


def test_error_negative_wind_output(tmp_path):
    df = _frame(_year())
    df.iloc[50, 0] = -0.02
    with pytest.raises(ProfileValueError, match=r"column 'offshore_wind_cf': negative output -0.02 at line 52"):
        read_hourly(_csv(tmp_path, df))
    mw = _frame(_year(), offshore_test_mw=350.0)
    mw.iloc[7, mw.columns.get_loc("offshore_test_mw")] = -5.0
    with pytest.raises(ProfileValueError, match=r"column 'offshore_test_mw': negative output -5 MW"):
        read_hourly(_csv(tmp_path, mw))


def test_error_capacity_factor_above_one_says_mw(tmp_path):
    df = _frame(_year())
    df["offshore_wind_cf"] = df["offshore_wind_cf"] * 700  # MW of a 700 MW farm given as a CF
    with pytest.raises(ProfileValueError, match=r"capacity factor .* is above 1: these look like MW or kW, not a fraction"):
        read_hourly(_csv(tmp_path, df))


def test_error_naive_time_zone(tmp_path):
    with pytest.raises(ProfileTimeError, match=r"(?s)time stamps carry no time zone .*Fix: write UTC stamps .*tz='UTC'"):
        read_hourly(_csv(tmp_path, _frame(_year()), naive=True))


def test_error_local_time_labelled_as_utc(tmp_path):
    """A time-zone shift: Dutch local clock times written with a 'Z' — the solar check sees the
    sun peak an hour (winter) or two (summer) late."""
    df = _frame(_year())
    shifted = df.copy()
    shifted.index = df.index.tz_convert("Europe/Amsterdam").tz_localize(None).tz_localize("UTC", ambiguous="NaT",
                                                                                          nonexistent="NaT")
    keep = ~shifted.index.isna() & ~shifted.index.duplicated()
    shifted = shifted[keep]
    shifted = shifted.reindex(pd.date_range(shifted.index[0], periods=HOURS_PER_YEAR, freq="h", tz="UTC")).ffill().bfill()
    with pytest.raises(ProfileTimeError, match=r"solar output centres on 1[23]:\d\d UTC.*look 1\.\d h late"):
        read_hourly(_csv(tmp_path, shifted))
    assert len(read_hourly(_csv(tmp_path, shifted), solar_time_check=False)) == HOURS_PER_YEAR


def test_error_mw_column_in_kw(tmp_path):
    df = _frame(_year(), offshore_test_mw=700_000.0)  # a 700 MW farm written in kW
    with pytest.raises(ProfileValueError, match=r"(?s)column 'offshore_test_mw': 700,000 'MW' .*look like kW.*divide by 1,000"):
        read_hourly(_csv(tmp_path, df))


def test_error_other_bad_input(tmp_path):
    with pytest.raises(ProfileFileError, match="file does not exist"):
        read_hourly(tmp_path / "absent.csv")
    (tmp_path / "p.xlsx").write_text("x")
    with pytest.raises(ProfileFileError, match="unsupported file type '.xlsx'"):
        read_hourly(tmp_path / "p.xlsx")
    (tmp_path / "notime.csv").write_text("hour_of_year,solar_pv_cf\n0,0.0\n")
    with pytest.raises(ProfileSchemaError, match="no 'time' column"):
        read_hourly(tmp_path / "notime.csv")
    with pytest.raises(ConfigError, match="stamps are in 2030, not the requested year 2031"):
        load_profiles(_csv(tmp_path, _frame(_year())), year=2031)
    # value rules on a DataFrame (no file): the same checks as for files
    df = _frame(_year())
    with pytest.raises(ProfileSchemaError, match=r"unknown column\(s\) \['solar_cf'\]"):
        validate_profiles(df.rename(columns={"solar_pv_cf": "solar_cf"}))
    with pytest.raises(ProfileValueError, match=r"demand_shape.*mean 13,000, not 1 \(this looks like MW"):
        validate_profiles(_frame(_year(), demand_shape=13_000.0))
    with pytest.raises(ProfileValueError, match="looks like kelvin"):
        validate_profiles(_frame(_year(), temperature_c=283.0))
    with pytest.raises(ProfileValueError, match=r"look like percent \(divide by 100\)"):
        validate_profiles(df.assign(solar_pv_cf=df["solar_pv_cf"] * 100))
    with pytest.raises(ProfileTimeError, match="no time zone"):
        validate_profiles(df.tz_localize(None))
    ok = validate_profiles(df.tz_convert("Europe/Amsterdam").iloc[::-1])  # any zone, any order: sorted UTC
    assert str(ok.index.tz) == "UTC" and ok.index.is_monotonic_increasing
    # one family: every profile error is a SitingError and a ValueError
    assert issubclass(ProfileError, SitingError) and issubclass(ProfileTimeError, ValueError)
