"""Free-cooling hours (S6, §4.1): the normals model, its check against KNMI's day counts, hourly
NetCDF input (ERA5 grid and KNMI-style stations), and the metric at sites and on surfaces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import given, settings
from hypothesis import strategies as st

from siting.climate import (
    DAY_SIGMA_K,
    HOURS_PER_YEAR,
    climate_field,
    free_cooling_netcdf,
    hours_below,
    station_free_cooling,
    summer_days,
)
from siting.errors import ClimateCoverageWarning, ConfigError, LayerFileError, LayerValueError
from siting.evaluate import evaluate
from siting.layers import validate_layer

from .conftest import make_sites
from .grid_fixtures import embedded_layers

DE_BILT_TX = [6.1, 7.0, 10.5, 14.8, 18.3, 20.9, 23.1, 22.9, 19.5, 14.8, 9.9, 6.7]
DE_BILT_TN = [0.9, 0.7, 2.4, 4.5, 8.0, 10.8, 13.0, 12.5, 10.0, 7.1, 3.9, 1.6]

normals = st.lists(st.floats(-5.0, 30.0), min_size=12, max_size=12)


# ------------------------------------------------------------------------ the model


@settings(max_examples=60, deadline=None)
@given(normals, st.lists(st.floats(0.0, 15.0), min_size=12, max_size=12), st.floats(-10.0, 35.0), st.floats(0.1, 5.0))
def test_hours_below_is_bounded_and_monotone_in_the_threshold(tn, spread, threshold, step):
    tx = np.add(tn, spread)
    h = hours_below(tx, tn, threshold)
    assert 0.0 <= h <= HOURS_PER_YEAR + 1e-6
    assert hours_below(tx, tn, threshold + step) >= h - 1e-9
    # a warmer climate never has more free-cooling hours
    assert hours_below(tx + step, np.add(tn, step), threshold) <= h + 1e-9


def test_hours_below_limits_and_a_hand_computed_case():
    tx, tn = np.full(12, 10.0), np.full(12, 10.0)  # constant 10 °C: half the hours below 10 °C
    assert hours_below(tx, tn, 10.0) == pytest.approx(HOURS_PER_YEAR / 2)
    assert hours_below(tx, tn, 40.0) == pytest.approx(HOURS_PER_YEAR, rel=1e-9)
    assert hours_below(tx, tn, -20.0) == pytest.approx(0.0, abs=1e-6)
    # one σ above a constant climate: Φ(1) of the year
    assert hours_below(tx, tn, 10.0 + DAY_SIGMA_K) == pytest.approx(0.841345 * HOURS_PER_YEAR, rel=1e-5)
    with pytest.raises(ConfigError, match="12 values"):
        hours_below(tx[:11], tn[:11])


def test_the_model_agrees_with_hourly_series_drawn_from_it(tmp_path):
    """The closed form equals counting hours in a long synthetic series built the same way."""
    rng = np.random.default_rng(7)
    times = pd.date_range("1991-01-01", "2020-12-31 23:00", freq="h")
    tx, tn = np.array(DE_BILT_TX), np.array(DE_BILT_TN)
    day = times.normalize()
    anomaly = pd.Series(rng.normal(0.0, DAY_SIGMA_K, len(day.unique())), index=day.unique()).reindex(day).to_numpy()
    m = times.month.to_numpy() - 1
    hour = times.hour.to_numpy() + 0.5
    temp = (tx[m] + tn[m]) / 2 + (tx[m] - tn[m]) / 2 * np.cos(2 * np.pi * (hour - 15) / 24) + anomaly
    nc = tmp_path / "synthetic.nc"
    xr.Dataset({"ta": (("station", "time"), temp[None, :] + 273.15, {"units": "K"})},
               coords={"time": times, "station": ["260"], "lat": ("station", [52.1]), "lon": ("station", [5.18])}).to_netcdf(nc)
    counted = float(free_cooling_netcdf(nc, 20.0).sel(station="260"))
    expected = float(hours_below(tx, tn, 20.0))
    assert counted == pytest.approx(expected, abs=60.0)  # 30 years of daily anomalies: sampling error ~20 h


def test_model_reproduces_knmi_day_counts_of_the_embedded_stations():
    """σ is calibrated on summer days (Tx ≥ 25 °C); the counts at 20 and 30 °C check it."""
    st_ = station_free_cooling(embedded_layers().climate)
    assert len(st_) >= 25
    err25 = st_["summer_days_model"] - st_["summer_days"]
    err20 = st_["days_tx20_model"] - st_["days_tx20"]
    err30 = st_["tropical_days_model"] - st_["tropical_days"]
    assert np.sqrt(np.mean(err25**2)) < 2.0 and err25.abs().max() < 3.5
    # at 20 °C the symmetric model over-estimates warm days a little (skewed daily maxima):
    # free-cooling hours are, if anything, under-estimated
    assert np.sqrt(np.mean(err20**2)) < 6.0 and (err20.abs() / st_["days_tx20"]).max() < 0.2
    assert 0.0 < err20.mean() < 6.0
    assert -3.0 < err30.mean() < 0.5  # normal tails: tropical days slightly under-estimated
    # the warm south-east has fewer free-cooling hours than the coast and the Wadden islands
    h = st_.set_index("id")["free_cooling_hours"]
    assert h["knmi-391"] < h["knmi-260"] < h["knmi-235"] < h["knmi-251"]
    assert 7500 < h.min() and h.max() < 8300


def test_summer_days_of_de_bilt():
    assert summer_days(DE_BILT_TX) == pytest.approx(28.4, abs=2.0)  # KNMI 1991–2020: 28.4


def test_swapped_normals_are_a_clear_error():
    climate = embedded_layers().climate.copy()
    climate.loc[0, "tx_07"], climate.loc[0, "tn_07"] = climate.loc[0, "tn_07"], climate.loc[0, "tx_07"]
    with pytest.raises(LayerValueError, match=r"(?s)layer 'climate', column 'tx_07'.*knmi-215.*Fix: tx_MM"):
        station_free_cooling(climate)


def test_climate_layer_validates_and_needs_every_month():
    climate = embedded_layers().climate.to_crs("EPSG:4326")
    assert len(validate_layer(climate, "climate")) == len(climate)
    with pytest.raises(Exception, match="tn_03"):
        validate_layer(climate.drop(columns="tn_03"), "climate")


# ------------------------------------------------------------------------ hourly NetCDF


def _era5(path, years=(2019, 2020), name="t2m", tdim="valid_time", units="K", gap=False):
    """ERA5-like hourly t2m on a 0.25° grid over central NL: t = 10 + 0.5·lon_index °C + sinusoid."""
    times = pd.date_range(f"{years[0]}-01-01", f"{years[-1]}-12-31 23:00", freq="h")
    lat = np.array([52.5, 52.25, 52.0])
    lon = np.array([4.5, 4.75, 5.0, 5.25])
    season = 8.0 * np.sin(2 * np.pi * (times.dayofyear.to_numpy() - 110) / 365.25)
    t = 10.0 + season[:, None, None] + 0.5 * np.arange(4)[None, None, :] + np.zeros((1, 3, 1))
    if gap:
        t[:1000, 0, 0] = np.nan
    if units == "K":
        t = t + 273.15
    attrs = {"units": units} if units else {}
    xr.Dataset({name: ((tdim, "latitude", "longitude"), t.astype("float32"), attrs)},
               coords={tdim: times, "latitude": lat, "longitude": lon}).to_netcdf(path)
    return path, times, t


def test_era5_grid_hours_are_counted_exactly(tmp_path):
    path, times, t = _era5(tmp_path / "era5.nc", gap=True)
    hours = free_cooling_netcdf(path, threshold_c=15.0)
    assert hours.dims == ("latitude", "longitude") and hours.attrs["years"] == "2019-2020"
    tc = t - 273.15
    for j in range(4):
        col = tc[:, 1, j]
        expected = (col < 15.0).sum() / len(col) * HOURS_PER_YEAR
        assert float(hours[1, j]) == pytest.approx(expected, rel=1e-6)
    valid = ~np.isnan(tc[:, 0, 0])
    assert float(hours[0, 0]) == pytest.approx((tc[valid, 0, 0] < 15.0).sum() / valid.sum() * HOURS_PER_YEAR, rel=1e-6)
    assert (np.diff(hours.values[1]) < 0).all()  # warmer to the east, fewer hours


def test_era5_in_evaluate_and_surface_samples_the_grid(tmp_path):
    path, _, _ = _era5(tmp_path / "era5.nc")
    layers = embedded_layers()
    field = climate_field(layers, 15.0, climate=path)
    assert field.grid is not None and field.source == str(path)
    sites = make_sites(2)  # near Middenmeer, ~52.8 °N: north of the grid
    with pytest.warns(ClimateCoverageWarning, match="does not cover 2 of 2 sites"):
        outside = field.at_sites(sites)
    np.testing.assert_allclose(outside, climate_field(layers, 15.0).at_sites(sites))  # the normals fill in
    inside = sites.copy()
    inside["geometry"] = inside.geometry.translate(0, -60_000)  # ~52.27 °N, inside the grid
    got = field.at_sites(inside)
    grid = free_cooling_netcdf(path, 15.0)
    lon = inside.to_crs("EPSG:4326").geometry.representative_point().x.to_numpy()
    cells = grid.sel(latitude=52.25, longitude=lon, method="nearest").values
    np.testing.assert_allclose(got, cells, rtol=1e-6)
    ev = evaluate(layers=layers, sites=inside, climate=path, free_cooling_c=15.0, scenario="high-wind-2030")
    assert ev.params["climate"] == str(path) and ev.params["free_cooling_c"] == 15.0
    assert set(np.round(ev.metrics["free_cooling_hours"].to_numpy(), 6)) <= set(np.round(cells, 6))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "precip"}, "no air-temperature variable"),
        ({"units": None}, "has no 'units' attribute"),
        ({"units": "furlongs"}, "not a temperature unit"),
        ({"years": (2020,), "tdim": "time"}, None),
    ],
)
def test_bad_hourly_files_are_clear_errors(tmp_path, kwargs, message):
    path, _, _ = _era5(tmp_path / "bad.nc", **kwargs)
    if message is None:  # one whole year is enough
        assert free_cooling_netcdf(path).sizes["longitude"] == 4
        return
    with pytest.raises(LayerFileError, match=message) as err:
        free_cooling_netcdf(path)
    assert str(path) in str(err.value)


def test_hourly_file_must_be_hourly_and_cover_a_year(tmp_path):
    daily = tmp_path / "daily.nc"
    times = pd.date_range("2020-01-01", periods=800, freq="D")
    xr.Dataset({"tas": (("time",), np.full(800, 285.0), {"units": "K"})}, coords={"time": times}).to_netcdf(daily)
    with pytest.raises(LayerFileError, match="not hourly"):
        free_cooling_netcdf(daily)
    short = tmp_path / "short.nc"
    times = pd.date_range("2020-01-01", periods=24 * 100, freq="h")
    xr.Dataset({"tas": (("time",), np.full(len(times), 12.0), {"units": "degC"})}, coords={"time": times}).to_netcdf(short)
    with pytest.raises(LayerFileError, match="whole years"):
        free_cooling_netcdf(short)
    with pytest.raises(LayerFileError, match="does not exist"):
        free_cooling_netcdf(tmp_path / "missing.nc")
    with pytest.raises(ConfigError, match="free_cooling_c"):
        climate_field(embedded_layers(), threshold_c=99.0)


def test_knmi_station_file_is_interpolated_between_stations(tmp_path):
    """Two stations, KNMI style (station × time, degC): sites take the inverse-distance mean."""
    times = pd.date_range("2020-01-01", "2020-12-31 23:00", freq="h")
    cold = np.full(len(times), 10.0)
    warm = np.where(np.arange(len(times)) % 2 == 0, 10.0, 30.0)  # half the hours above 20 °C
    path = tmp_path / "knmi.nc"
    xr.Dataset({"ta": (("station", "time"), np.vstack([cold, warm]), {"units": "degC"})},
               coords={"time": times, "station": ["235", "380"], "lat": ("station", [52.927, 50.905]),
                       "lon": ("station", [4.781, 5.762])}).to_netcdf(path)
    field = climate_field(embedded_layers(), 20.0, climate=path)
    assert field.stations is not None and len(field.stations) == 2
    h = field.stations.set_index("id")["free_cooling_hours"]
    assert h["235"] == pytest.approx(HOURS_PER_YEAR) and h["380"] == pytest.approx(HOURS_PER_YEAR / 2)
    st_xy = field.stations.geometry
    got = field.at_points(st_xy.x.to_numpy(), st_xy.y.to_numpy())
    np.testing.assert_allclose(got, h.to_numpy(), rtol=1e-6)  # exact at the stations
    mid = field.at_points(np.array([(st_xy.x.iloc[0] + st_xy.x.iloc[1]) / 2]), np.array([(st_xy.y.iloc[0] + st_xy.y.iloc[1]) / 2]))
    assert mid[0] == pytest.approx(0.75 * HOURS_PER_YEAR, rel=1e-6)


# ------------------------------------------------------------------------ sites and surfaces


def test_a_higher_threshold_gives_more_hours_at_every_site():
    layers, sites = embedded_layers(), make_sites(3)
    low = climate_field(layers, 18.0).at_sites(sites)
    high = climate_field(layers, 22.0).at_sites(sites)
    assert (high > low + 100).all()


# ------------------------------------------------------------------ plausibility (#13 item 2)


def _hourly(path, values_c, units, convert):
    """One year of hourly temperatures at one point, written in `convert`(°C) labelled `units`."""
    times = pd.date_range("2021-01-01", "2021-12-31 23:00", freq="h")
    t = np.resize(np.asarray(values_c, float), len(times))
    xr.Dataset({"tas": (("time",), convert(t), {"units": units})}, coords={"time": times}).to_netcdf(path)
    return path


_SERIES_C = np.concatenate([np.linspace(-5.0, 25.0, 12), np.linspace(25.0, -5.0, 12)])


@pytest.mark.parametrize(
    ("units", "convert", "match"),
    [
        ("degC", lambda t: t + 273.15, r"from 268\.15 to 298\.15 in units 'degC'.*look like Kelvin \(then -5\.0 to 25\.0 °C\)"
                                       r".*Fix: correct the variable's 'units' attribute to 'K'"),
        ("degC", lambda t: t * 9 / 5 + 32, r"look like °F \(then -5\.0 to 25\.0 °C\).*Fix: convert the values"),
        ("degC", lambda t: t * 10, r"look like tenths of °C.*units' attribute to '0\.1 degC'"),
        ("K", lambda t: t, r"-278\.1 to -248\.1 °C.*look like °C.*units' attribute to 'degC'"),
        ("degC", lambda t: np.where(np.arange(len(t)) == 7, -9999.0, t), r"no temperature unit explains them.*"
                                                                           r"Fix: declare fill values as missing"),
    ],
    ids=["kelvin-as-degC", "fahrenheit-as-degC", "tenths-as-degC", "degC-as-kelvin", "undeclared-fill"],
)
def test_hourly_temperatures_in_the_wrong_unit_are_refused(tmp_path, units, convert, match):
    path = _hourly(tmp_path / "t.nc", _SERIES_C, units, convert)
    with pytest.raises(LayerValueError, match=r"(?s)file '.*t\.nc': variable 'tas' holds 2021 temperatures .*" + match) as err:
        free_cooling_netcdf(path)
    assert "outside the plausible -40 to 50 °C" in str(err.value)


def test_the_same_hourly_data_in_kelvin_and_celsius_give_the_same_hours(tmp_path):
    kelvin = free_cooling_netcdf(_hourly(tmp_path / "k.nc", _SERIES_C, "K", lambda t: t + 273.15))
    celsius = free_cooling_netcdf(_hourly(tmp_path / "c.nc", _SERIES_C, "degC", lambda t: t))
    tenths = free_cooling_netcdf(_hourly(tmp_path / "d.nc", _SERIES_C, "0.1 degC", lambda t: t * 10))
    assert float(kelvin) == pytest.approx(float(celsius)) == pytest.approx(float(tenths))
    assert 0 < float(celsius) < HOURS_PER_YEAR


def test_normals_in_kelvin_are_refused_by_the_model():
    with pytest.raises(ConfigError, match=r"normals from 273\.85 to 296\.25 °C.*look like Kelvin"):
        hours_below(np.array(DE_BILT_TX) + 273.15, np.array(DE_BILT_TN) + 273.15)
    climate = embedded_layers().climate.copy()
    climate["tx_07"] = climate["tx_07"] + 273.15  # a frame that skipped validation
    with pytest.raises(LayerValueError, match=r"layer 'climate'.*temperature normals from"):
        station_free_cooling(climate)
