"""Hourly situations (issue 11): the balance closes every hour, the profiles drive what they
should, surplus and scarcity are reported, direct coupling is consistent with the landing's
capacity factor."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from siting.errors import ConfigError
from siting.grid import GridModel
from siting.grid.year import AC_TIE_USE, base_scenario, build_situations, coupling, offshore_column
from siting.layers import load_layers

HOURS = 24 * 14  # two weeks: enough to hold calm and storm, fast to build


def _profiles(hours: int = HOURS, seed: int = 7, offshore=None, onshore=None, demand=None) -> pd.DataFrame:
    """Synthetic hourly profiles: a daily demand cycle and wind with calm and storm spells."""
    rng = np.random.default_rng(seed)
    t = np.arange(hours)
    shape = 1.0 + 0.25 * np.sin(2 * np.pi * (t % 24 - 6) / 24) + 0.02 * rng.standard_normal(hours)
    wind = np.clip(0.5 + 0.45 * np.sin(2 * np.pi * t / 97.0), 0.0, 0.98)
    return pd.DataFrame(
        {
            "demand_shape": shape if demand is None else demand,
            "wind_onshore_cf": 0.6 * wind if onshore is None else onshore,
            "offshore_wind_cf": wind if offshore is None else offshore,
            "offshore_wind_cf_1987": np.roll(wind, 13),
        },
        index=pd.date_range("2030-01-01", periods=hours, freq="h", tz="UTC"),
    )


@pytest.fixture(scope="module")
def model():
    return GridModel.from_layers(load_layers(), scenario="low-wind-peak-2030", secure=False)


@pytest.fixture(scope="module")
def sit(model):
    return build_situations(model, _profiles())


def test_balance_closes_every_hour(sit):
    total = sit.data["p_mw"].sum("bus").to_numpy()
    # injections sum to zero in every hour (losses go to the slack); unserved demand is cut
    assert np.abs(total).max() < 1e-6
    t = sit.totals()
    supply = t["must_run_mw"] + t["offshore_mw"] + t["onshore_mw"] + t["thermal_mw"] + t["import_mw"]
    np.testing.assert_allclose(supply, t["demand_mw"], atol=1e-6)


def test_demand_peak_is_the_scenarios_and_follows_the_shape(model, sit):
    t = sit.totals()
    prof = _profiles()
    assert t["demand_mw"].max() == pytest.approx(model.scenario.demand.total_mw)
    shape = prof["demand_shape"].to_numpy()
    np.testing.assert_allclose(t["demand_mw"].to_numpy(), model.scenario.demand.total_mw * shape / shape.max())


def test_offshore_follows_the_capacity_factor_per_connection(model, sit):
    cf = _profiles()["offshore_wind_cf"].to_numpy()
    producing = model.balance[model.balance["component"] == "offshore wind"]
    assert len(producing) >= 5
    for r in producing.itertuples():
        series = sit.offshore(r.id).to_numpy()
        cap = sit.data[f"offshore_{r.id}_mw"].attrs["capacity_mw"]
        np.testing.assert_allclose(series, cf * cap)
        # the scenario's own output is its capacity factor times the same capacity
        cf0 = model.scenario.offshore.per_connection.get(r.id, model.scenario.offshore.capacity_factor)
        assert r.p_mw == pytest.approx(cf0 * cap)


def test_calm_hours_use_plants_then_imports_and_storm_hours_export(sit):
    t = sit.totals()
    calm = t["offshore_mw"].idxmin()
    storm = t["offshore_mw"].idxmax()
    assert t.at[calm, "thermal_mw"] > t.at[storm, "thermal_mw"]
    assert t.at[storm, "import_mw"] <= t.at[calm, "import_mw"]
    assert t["import_mw"].min() < 0  # the windiest hours export


def test_surplus_beyond_the_links_is_curtailed_and_reported(model):
    hours = 48
    sit = build_situations(model, _profiles(hours, offshore=np.full(hours, 1.0), onshore=np.full(hours, 1.0),
                                            demand=np.r_[np.full(hours - 1, 0.05), 1.0]))
    t = sit.totals()
    assert t["curtailed_mw"].iloc[:-1].min() > 500
    # what is left is exported at the links' capacity, not more
    cap = sit.data.attrs["link_capacity_mw"]
    assert 8_000 < cap < 15_000
    np.testing.assert_allclose(t["import_mw"].iloc[:-1], -cap)
    assert t["curtailed_mw"].iloc[-1] == 0
    assert np.abs(sit.data["p_mw"].sum("bus").to_numpy()).max() < 1e-6
    assert sit.data.attrs["ac_tie_use"] == AC_TIE_USE


def test_scarcity_beyond_plants_and_links_is_unserved_not_hidden(model):
    hours = 24
    prof = _profiles(hours, offshore=np.zeros(hours), onshore=np.zeros(hours))
    sit = build_situations(model, prof, ac_tie_use=0.01)  # ties nearly closed: a calm peak runs short
    t = sit.totals()
    peak = t["demand_mw"].add(t["unserved_mw"]).idxmax()
    assert t.at[peak, "unserved_mw"] > 100
    assert t.at[peak, "import_mw"] == pytest.approx(sit.data.attrs["link_capacity_mw"])
    # every plant in the merit order runs at its available maximum before anything is unserved
    avail = sum(float(model.net[tb].at[i, "max_p_mw"]) for tb in ("gen", "sgen") for i in model.net[tb].index
                if bool(model.net[tb].get("dispatchable", False) is not False and model.net[tb].at[i, "dispatchable"])
                and model.net[tb].at[i, "type"] in model.scenario.dispatch.merit_order)
    assert t.at[peak, "thermal_mw"] == pytest.approx(avail)
    # the balance still closes: unserved demand is cut, not left to the slack
    assert np.abs(sit.data["p_mw"].sum("bus").to_numpy()).max() < 1e-6
    served = model.scenario.demand.total_mw * prof["demand_shape"] / prof["demand_shape"].max() - t["unserved_mw"]
    np.testing.assert_allclose(t["demand_mw"], served)


def test_coupling_share_is_the_capacity_factor_at_the_connections_capacity(model, sit):
    conn = model.balance[model.balance["component"] == "offshore wind"]["id"].iloc[0]
    cap = sit.data[f"offshore_{conn}_mw"].attrs["capacity_mw"]
    out = model.coupling(sit, conn, cap)
    mean_cf = _profiles()["offshore_wind_cf"].mean()
    # a load as large as the connection: every MWh the connection produces goes to the load
    assert out["offshore_share"] == pytest.approx(mean_cf, rel=1e-9)
    assert out["capacity_factor"] == pytest.approx(mean_cf, rel=1e-9)
    small = coupling(sit, conn, 0.1 * cap)
    assert small["offshore_share"] > out["offshore_share"]
    assert small["hours_fully_covered"] > 0
    res = out["residual_import_mw"]
    assert len(res) == HOURS and res.min() >= 0
    assert out["residual_import_peak_mw"] == pytest.approx(res.max())
    assert out["residual_import_mwh"] == pytest.approx(res.sum())


def test_weather_year_column(model):
    prof = _profiles()
    assert offshore_column(prof, None) == "offshore_wind_cf"
    assert offshore_column(prof, 1987) == "offshore_wind_cf_1987"
    with pytest.raises(ConfigError, match="weather year 1990.*available: default, 1987"):
        offshore_column(prof, 1990)
    sit = model.situations(prof, weather_year=1987)
    assert sit.data.attrs["offshore_column"] == "offshore_wind_cf_1987"


def test_base_scenario_of_a_year():
    assert base_scenario(2030) == "low-wind-peak-2030"
    assert base_scenario(2026) == "winter-peak-2026"
    with pytest.raises(ConfigError, match="no shipped scenario for the year 2041.*2026, 2030, 2032"):
        base_scenario(2041)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda p: p.drop(columns="wind_onshore_cf"), "lack the column.*wind_onshore_cf"),
        (lambda p: p.assign(offshore_wind_cf=np.r_[np.nan, p["offshore_wind_cf"].to_numpy()[1:]]),
         "offshore_wind_cf.*missing or infinite.*hour 0"),
        (lambda p: p.assign(wind_onshore_cf=p["wind_onshore_cf"] * 1000), "wind_onshore_cf.*0…1"),
        (lambda p: p.assign(demand_shape=-p["demand_shape"]), "demand_shape must be positive"),
    ],
)
def test_bad_profiles_are_named(model, change, match):
    with pytest.raises(ConfigError, match=match):
        build_situations(model, change(_profiles(48)))


def test_unknown_connection_lists_the_known(sit):
    with pytest.raises(ConfigError, match="no offshore connection 'ow-nowhere'.*ow-"):
        sit.offshore("ow-nowhere")


def test_secured_model_gives_the_same_situations(model):
    """The hourly dispatch starts from the scenario's market dispatch, whatever securing did."""
    secured = model.secured()
    a = build_situations(model, _profiles(48))
    b = build_situations(secured, _profiles(48))
    np.testing.assert_allclose(a.data["p_mw"].to_numpy(), b.data["p_mw"].to_numpy(), atol=1e-9)


# ----------------------------------------------------------------- the hourly grid


@pytest.fixture(scope="module")
def hourly(model, sit):
    return model.hourly(sit)


def test_every_insecure_hour_is_secured(hourly):
    assert hourly.secured_hours > 0  # the synthetic fortnight has insecure hours (market dispatch)
    assert not hourly.overload  # and the remedial actions clear every one
    load = hourly.loading()
    over = np.abs(load) - hourly.LIMIT[:, :, None]
    assert np.nanmax(np.where(np.isfinite(over), over, -np.inf)) < 0.1
    sec = hourly.security()
    assert (sec["redispatch_mw"] > 0).sum() <= hourly.secured_hours
    assert sec["worst_before_pct"].max() > 100


def test_redispatch_stays_within_each_hours_room(hourly):
    up, down = hourly._bounds(hourly.resources)
    assert (hourly.delta <= up + 1e-6).all()
    assert (-hourly.delta <= down + 1e-6).all()


def test_firm_and_flexible_capacity_are_ordered_and_consistent(model, sit, hourly):
    h = hourly.hosting(["maasvlakte-380", "vierverlaten-220", "eemshaven-oudeschip-380"])
    table = hourly.firm_capacity(hosting=h, hours=(10, 50, 100))
    assert list(table.index) == ["maasvlakte-380", "vierverlaten-220", "eemshaven-oudeschip-380"]
    v = table[["firm_mw", "mw_at_10h", "mw_at_50h", "mw_at_100h", "median_mw"]].to_numpy()
    assert (np.diff(v, axis=1) >= -1e-9).all()
    assert ((h.to_numpy() >= 0) & (h.to_numpy() <= hourly.max_mw)).all()
    for bus, row in table.iterrows():
        # a connection of the firm value never gives way; one of mw_at_50h at most 50 hours
        assert model.curtailment(sit, bus, row["firm_mw"])["hours"] == 0
        assert hourly.curtailment(bus, row["mw_at_50h"], hosting=h)["hours"] <= 50
        assert hourly.curtailment(bus, row["mw_at_50h"] + 1.0, hosting=h)["hours"] >= 50 or row["mw_at_50h"] >= 3000
        if row["firm_mw"] < hourly.max_mw:
            t = sit.time.get_loc(row["deciding_hour"])
            assert h.sel(bus=bus).to_numpy()[t] == pytest.approx(row["firm_mw"])
            assert row["deciding_element"].startswith(("line:", "trafo:"))


def test_curtailed_energy_is_the_shortfall(hourly):
    h = hourly.hosting(["maasvlakte-380"])
    vals = h.to_numpy()[0]
    p = float(np.percentile(vals, 30))
    out = hourly.curtailment("maasvlakte-380", p, hosting=h)
    assert out["mwh"] == pytest.approx(np.maximum(p - vals, 0).sum())
    assert out["hours"] == int((vals < p - 1e-6).sum())
    assert 0 < out["share_of_energy"] < 1


def test_ac_corrected_firm_value_agrees_with_ac(model, sit):
    """The firm value at its deciding hour (DC screen, AC-corrected: the hour's AC loadings and
    the AC secant of the load there) beside the AC N-1 hosting of that hour: within 5 % (1 MW
    near zero, where only MW are meaningful). Before the secant, the screen was 3-19 % high
    (the load's current grows faster than its MW). bench/year_benchmark.py measures every bus
    of the real year."""
    hg = model.hourly(sit)
    buses = ["maasvlakte-380", "ens-380", "vierverlaten-220"]
    h = hg.hosting_ac_corrected(buses)
    assert h.attrs["corrected_hours"]
    table = hg.confirm_ac(hg.firm_capacity(hosting=h))
    assert table["ac_mw"].notna().all()
    assert (table["firm_mw"] < hg.max_mw).all()  # a real test: no value at the cap
    tol = np.maximum(0.05 * table["ac_mw"], 1.0)
    assert (table["ac_diff_mw"].abs() <= tol).all(), table[["firm_mw", "ac_mw", "ac_diff_pct"]]
    assert (table["firm_confirmed_mw"] == np.fmin(table["firm_mw"], table["ac_mw"])).all()
    # the secant was taken where each value is decided, within 1 % of it
    for j, bus in enumerate(hg._buses(buses)[1]):
        t = int(np.argmin(h.values[j]))
        ci = int(h.attrs["case"][j, t])
        if h.values[j, t] >= 1.0:
            assert hg._slope_at[(bus, t, ci)] == pytest.approx(h.values[j, t], rel=0.01)


def test_curtailment_thresholds_get_the_ac_secant_and_are_confirmed_in_ac(model, sit):
    """`mw_at_<H>h` is the screen's value at the (H+1)-th lowest hour; that hour's deciding
    case is AC-corrected and the load's AC secant taken there as for the firm value, and
    confirm_ac(hosting=...) puts the AC N-1 hosting of that hour beside it (``ac_at_<H>h``,
    equal to that of the hour's own pandapower network): at Maasvlakte and Ens (380 kV) the 50-
    and 100-hour values agree with it within 5 % (the year: bench/year_benchmark.py), and
    ``attrs["ac_agreement"]`` counts them with the firm values."""
    from siting.grid.hourly import _ranked

    hg = model.hourly(sit)
    buses = ["maasvlakte-380", "ens-380"]
    h = hg.hosting_ac_corrected(buses)
    table = hg.confirm_ac(hg.firm_capacity(hosting=h, hours=(50, 100)), hosting=h)
    checked = 0
    for j, bus in enumerate(buses):
        for hh in (50, 100):
            t = _ranked(h.values[j], (hh,))[0]
            assert h.values[j, t] == pytest.approx(table.at[bus, f"mw_at_{hh}h"])
            if h.values[j, t] >= hg.max_mw:
                assert np.isnan(table.at[bus, f"ac_at_{hh}h"])
                continue
            ac = GridModel(hg.hour_network(t), scenario=model.scenario).hosting_capacity(buses=[bus], redispatch=False)
            assert table.at[bus, f"ac_at_{hh}h"] == pytest.approx(float(ac.at[bus, "firm_mw"]), abs=1e-6)
            assert h.values[j, t] == pytest.approx(float(ac.at[bus, "firm_mw"]), rel=0.05), (bus, hh)
            checked += 1
    assert checked >= 2  # the 50-hour values (this fortnight's 100-hour ones are at or near the cap)
    agreement = table.attrs["ac_agreement"]
    assert agreement["checked"] == checked + int(table["ac_mw"].notna().sum())
    assert agreement["within_5pct"] == agreement["checked"]


def test_agreement_counts_within_five_percent_or_one_mw_and_names_the_worst():
    """The agreement of screen and AC: within 5 % of AC, or 1 MW where AC is near zero; the
    worst is the largest difference for that tolerance (not the largest per cent of a
    near-zero value)."""
    from siting.grid.hourly import _agreement

    t = pd.DataFrame({"firm_mw": [100.0, 1.6, 50.0], "ac_mw": [96.0, 0.8, np.nan],
                      "mw_at_50h": [500.0, 210.0, 300.0], "ac_at_50h": [560.0, 200.0, 298.0]}, index=["a", "b", "c"])
    got = _agreement(t, [("firm_mw", "ac_mw"), ("mw_at_50h", "ac_at_50h")])
    assert got["checked"] == 5 and got["within_5pct"] == 4  # b's 0.8 MW is within 1 MW; a's 500 vs 560 is not
    assert got["worst"] == {"bus": "a", "value": "mw_at_50h", "screen_mw": 500.0, "ac_mw": 560.0,
                            "diff_pct": pytest.approx(-100 * 60 / 560)}


def test_hourly_refuses_situations_of_another_network(model, sit):
    from siting.grid.year import Situations

    other = Situations(sit.data.isel(bus=slice(0, -1)), scenario=sit.scenario)
    with pytest.raises(ConfigError, match="another network"):
        model.hourly(other)
    with pytest.raises(ConfigError, match="must be a Situations"):
        model.hourly(sit.data)


# ----------------------------------------------------------------------- the CLI


def _cli(*args):
    from click.testing import CliRunner

    from siting.cli import main

    return CliRunner().invoke(main, ["year", *args])


@pytest.mark.parametrize(
    "args, match",
    [
        (["--load", "-5"], r"--load -5"),
        (["--year", "2041"], r"no shipped scenario for the year 2041"),
        (["--site", "nowhere"], r"--site nowhere: not in the sites layer"),
        (["--bus", "atlantis-380"], r"atlantis-380"),
        (["--profiles", "missing.csv"], r"--profiles missing.csv"),
    ],
)
def test_year_command_bad_input_is_named_before_the_year_is_computed(args, match):
    res = _cli(*args)
    assert res.exit_code == 2, res.output
    assert re.search(match, res.output), res.output
    assert "Traceback" not in res.output


@pytest.mark.parametrize(
    "args, match",
    [
        ([], r"Missing option '--site'"),
        (["--site", "nowhere"], r"--site nowhere: not in the sites layer"),
        (["--site", "maasvlakte-2", "--load", "-5"], r"--load -5"),
        (["--site", "maasvlakte-2", "--year", "2041"], r"no shipped scenario for the year 2041"),
    ],
)
def test_flex_command_names_bad_input_before_the_year_is_computed(args, match):
    """``siting flex --site ID`` is ``siting year --site ID`` for one site's flexible connection."""
    from click.testing import CliRunner

    from siting.cli import main

    res = CliRunner().invoke(main, ["flex", *args])
    assert res.exit_code == 2, res.output
    assert re.search(match, res.output), res.output
    assert "Traceback" not in res.output


@pytest.mark.slow
def test_year_command_writes_tables_and_duration_curves(tmp_path):
    out = tmp_path / "year"
    res = _cli("--site", "maasvlakte-2", "--bus", "vierverlaten-220", "--out", str(out))
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == ["duration-amaliahaven-380.png", "duration-vierverlaten-220.png",
                                                     "firm_capacity.csv", "hourly_hosting.csv", "security.csv"]
    table = pd.read_csv(out / "firm_capacity.csv", index_col="bus")
    assert list(table.index) == ["vierverlaten-220", "amaliahaven-380"]
    hourly = pd.read_csv(out / "hourly_hosting.csv", index_col="time_utc")
    assert len(hourly) == 8760
    assert table.loc["amaliahaven-380", "firm_mw"] == pytest.approx(hourly["amaliahaven-380"].min(), abs=0.06)
    assert (table["ac_diff_mw"].abs() <= np.maximum(0.05 * table["ac_mw"], 25.0)).all()
    # a second run into the same folder needs --force, and leaves the first intact
    again = _cli("--bus", "vierverlaten-220", "--no-ac", "--out", str(out))
    assert again.exit_code == 2 and "--force" in again.output
    assert (out / "duration-amaliahaven-380.png").exists()
    # siting flex --site: the same year for the site, its curve and table
    from click.testing import CliRunner

    from siting.cli import main

    flex = CliRunner().invoke(main, ["flex", "--site", "maasvlakte-2", "--out", str(tmp_path / "flex")])
    assert flex.exit_code == 0, flex.output
    assert (tmp_path / "flex" / "duration-amaliahaven-380.png").stat().st_size > 0
    again = pd.read_csv(tmp_path / "flex" / "firm_capacity.csv", index_col="bus")
    assert list(again.index) == ["amaliahaven-380"]
    assert again.at["amaliahaven-380", "firm_mw"] == pytest.approx(table.at["amaliahaven-380", "firm_mw"], abs=0.06)
    assert again.at["amaliahaven-380", "hours_short_at_360mw"] >= 0


@pytest.mark.parametrize("connection, station", [("ow-gemini", "eemshaven-oudeschip-380"), ("ow-hkz-alpha", "maasvlakte-380")])
def test_direct_coupling_at_eemshaven_and_maasvlakte_matches_the_capacity_factor(model, connection, station):
    """Issue 11's consistency check on the shipped profiles: a load as large as the landing's
    connection takes all its output, so its offshore share is the connection's capacity factor
    over the year; a smaller load is covered more."""
    from siting.profiles import load_profiles

    sit = model.situations()
    assert sit.n_hours == 8760
    cf = load_profiles(year=2030)["offshore_wind_cf"].mean()
    var = sit.data[f"offshore_{connection}_mw"]
    bus = model.net.bus.at[model.net.sgen.set_index("name").at[connection, "bus"], "name"]
    assert bus == station
    full = model.coupling(sit, connection, var.attrs["capacity_mw"])
    assert full["offshore_share"] == pytest.approx(cf, abs=1e-6)
    assert full["capacity_factor"] == pytest.approx(cf, abs=1e-6)
    half = model.coupling(sit, connection, 0.5 * var.attrs["capacity_mw"])
    assert cf < half["offshore_share"] < 1
    assert half["residual_import_peak_mw"] == pytest.approx(0.5 * var.attrs["capacity_mw"], rel=0.05)


def test_ac_correction_updates_only_the_corrected_hours(model, sit):
    """The corrected screen, updated hour by hour, equals a full screen with the corrections;
    the compiled-network AC loading of an hour equals the hour's own pandapower network."""
    from siting.grid.acpf import ACGrid

    hg = model.hourly(sit)
    h = hg.hosting_ac_corrected(["maasvlakte-380", "vierverlaten-220"])
    full = hg.hosting(["maasvlakte-380", "vierverlaten-220"])
    np.testing.assert_allclose(h.values, full.values)
    below = h.values < hg.max_mw  # at the cap no case decides (the value is the cap)
    np.testing.assert_array_equal(h.attrs["case"][below], full.attrs["case"][below])
    t = sorted(hg.corrections)[0]
    fast, _ = hg.ac_loading(t)
    g = ACGrid(hg.hour_network(t))
    own = np.array([g.solve(outage=k).loading_pct for k in hg.outages])
    np.testing.assert_allclose(fast, own, atol=1e-6)


def test_situations_of_a_year_from_the_package():
    """`siting.situations(year)`: the shipped profiles on the year's base scenario (the
    interface the issue names); a year that is not a whole number is refused by name."""
    import siting

    sit = siting.situations(2030)
    assert isinstance(sit, siting.Situations)
    assert sit.n_hours == 8760 and sit.scenario == base_scenario(2030)
    assert np.abs(sit.data["p_mw"].sum("bus").to_numpy()).max() < 1e-6
    with pytest.raises(ConfigError, match="year must be a whole number"):
        siting.situations("2030")


def test_an_hour_without_its_own_secant_takes_the_one_of_its_load_level():
    """The load's nonlinearity grows with its size: an hour without its own AC secant takes the
    secant of its (bus, outage) taken at the load level nearest its value (not the latest), and an
    hour with its own keeps it."""
    from types import SimpleNamespace

    from siting.grid.hourly import HourlyGrid

    # one branch at 0 %, limit 100 %; the load moves it 1 pp/MW in hour 0 and 0.1 pp/MW in hour 1
    dj = np.array([[1.0, 0.1, 1.0]])
    f, le = np.zeros((1, 3)), np.full((1, 3), 100.0)
    own = {7: np.array([0.5]), 9: np.array([2.0])}  # secants: ×0.5 taken at 200 MW, ×2 at 1,000 MW
    fake = SimpleNamespace(_slope_at={(3, 7, 0): 200.0, (3, 9, 0): 1000.0}, _column=HourlyGrid._column)
    hours = np.array([0, 1, 9])  # hour 9 has its own secant
    ratio = HourlyGrid._secant_ratios(fake, own, 3, 0, np.array([0]), hours, dj, f, le)
    # hour 0: ×0.5 gives 200 MW (its level), ×2 gives 50 MW (far from 1,000): ×0.5
    # hour 1: ×0.5 gives 2,000 MW (10× its level), ×2 gives 500 MW (half of 1,000): ×2
    np.testing.assert_array_equal(ratio, [[0.5, 2.0, 2.0]])
    # one secant only: every hour takes it
    one = HourlyGrid._secant_ratios(fake, {7: own[7]}, 3, 0, np.array([0]), hours, dj, f, le)
    np.testing.assert_array_equal(one, [[0.5, 0.5, 0.5]])


def test_hours_ac_did_not_solve_take_their_cases_ac_dc_ratio(model, sit):
    """A branch's AC/DC loading ratio in an outage hardly changes from hour to hour, so the
    hours AC has not solved in a case take the mean ratio of the case's corrected hours: their
    screened loading is the DC loading times that ratio, and closer to AC than DC is."""
    hg = model.hourly(sit)
    hg.hosting_ac_corrected(["maasvlakte-380", "ens-380"])
    ratio = hg._borrowed()
    ci, b = np.unravel_index(np.argmax(hg._n_measured), hg._n_measured.shape)  # the most measured pair
    assert hg._n_measured[ci, b] >= 3 and abs(ratio[ci, b] - 1.0) > 0.005
    todo = np.array([t for t in range(sit.n_hours) if (t, ci) not in hg._done])
    dc = np.abs(hg._dc_loading(ci, todo)[b])
    hours = todo[dc >= 50.0][:: max(1, int((dc >= 50.0).sum()) // 5)][:5]
    assert len(hours) >= 3
    dc = np.abs(hg._dc_loading(ci, hours)[b])
    screen = np.abs(hg.loading_case(ci, hours)[b])
    np.testing.assert_allclose(screen, dc * ratio[ci, b])
    ac = np.array([hg.ac_loading(int(t), [ci])[0][ci, b] for t in hours])
    assert np.abs(screen - ac).max() < 0.5 * np.abs(dc - ac).max(), (dc, screen, ac)


def test_thresholds_agree_with_ac_where_the_load_reverses_a_transformers_flow(model, sit):
    """Meeden and Weiwerd (220 kV), where this fortnight's thresholds are decided by a
    transformer or line whose flow the load first unloads and then reverses (|loading| goes
    through zero) and by a case AC solved after its secant was taken: the secant is of the
    signed loading, keeps the AC change it measured when the hour's case is corrected later, and
    each threshold is checked against AC hosting of its hour and taken again at the AC value
    until they agree (before: 8–13 % high). Every threshold within 5 %."""
    from siting.grid.hourly import HourlyGrid

    hg = HourlyGrid(model, sit)  # its own: the module's shared one carries other tests' corrections
    buses = ["meeden-220", "weiwerd-220"]
    h = hg.hosting_ac_corrected(buses)
    table = hg.confirm_ac(hg.firm_capacity(hosting=h), hosting=h)
    agreement = table.attrs["ac_agreement"]
    assert agreement["checked"] >= 8
    assert agreement["within_5pct"] == agreement["checked"], table.filter(like="_at_")
    # the reversal is there: a deciding case where the load's effect runs against the hour's flow
    reversed_ = 0
    for j, bus in enumerate(hg._buses(buses)[1]):
        for t in np.unique(np.argsort(h.values[j])[[50, 100, 200]]):
            ci, k = int(h.attrs["case"][j, t]), int(h.attrs["branch"][j, t])
            sens = hg.PTDF[ci]
            effect = -(sens[k, bus] - sens[k] @ hg.grid.slack_w)
            reversed_ += effect * hg.loading_case(ci, np.array([t]))[k, 0] < 0
    assert reversed_ >= 1


def test_a_single_bus_thresholds_agree_with_ac_where_hundreds_of_hours_tie():
    """The shipped 2030 year at Maasvlakte 380 kV alone: with one circuit of the Vierverlaten
    380/220 kV transformer out, the other's DC flow is the same in every hour, and over 500 hours
    screen the same 763.99 MW. Corrected one at a time, each threshold's hour handed its rank to
    the next tied one and every threshold stayed at 764 MW, up to 30 % below AC (1 of 5 values
    within 5 %); the tied hours are now corrected together: each threshold within 5 % of the AC
    hosting of its hour, as in the all-bus run (which gives 638 / 726 / 870 / 1,034 MW)."""
    model = GridModel.from_layers(load_layers(), scenario=base_scenario(2030), secure=False)
    table = model.firm_capacity(model.situations(), buses=["maasvlakte-380"])
    row = table.loc["maasvlakte-380"]
    thresholds = [row[f"mw_at_{h}h"] for h in (50, 100, 200, 500)]
    assert len(set(np.round(thresholds, 3))) == 4  # no longer one tied value
    agreement = table.attrs["ac_agreement"]
    assert agreement["checked"] == 5 and agreement["within_5pct"] == 5, agreement
