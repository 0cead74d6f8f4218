"""Evaluation against the report's conditions: verdicts, scores, ranks, sensitivity, fixes."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siting.criteria import CriteriaSet, load_criteria
from siting.errors import ConfigError
from siting.evaluate import VERDICTS, _judge, evaluate
from siting.grid import GridModel

from .grid_fixtures import embedded_layers


@pytest.fixture(scope="module")
def national():
    return evaluate(layers=embedded_layers())


def _square(x, y, area_ha, crs="EPSG:28992"):
    side = (area_ha * 10_000) ** 0.5
    return shapely.box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


@pytest.fixture(scope="module")
def test_sites():
    """Three sites made here: a 10 ha plot at Eemshaven, a 40 ha plot on Texel (far from any
    EHV station), and a 50 ha plot next to Maasvlakte 380 kV."""
    layers = embedded_layers()
    subs = layers.substations.set_index("id")
    mv = subs.loc["maasvlakte-380", "geometry"]
    eh = subs.loc["eemshaven-oudeschip-380", "geometry"]
    texel = gpd.GeoSeries.from_xy([4.80], [53.06], crs="EPSG:4326").to_crs(28992).iloc[0]
    return gpd.GeoDataFrame(
        {"id": ["tiny-eemshaven", "texel", "maasvlakte-50"], "name": ["Tiny plot", "Texel", "Maasvlakte 50 ha"],
         "area_ha": [10.0, 40.0, 50.0], "source": ["test"] * 3},
        geometry=[_square(eh.x + 1500, eh.y - 1500, 10), _square(texel.x, texel.y, 40), _square(mv.x + 1200, mv.y, 50)],
        crs="EPSG:28992",
    )


def test_table_has_verdict_score_rank_and_traceable_reasons(national):
    t = national.table
    assert len(t) == len(embedded_layers().sites)
    assert set(t["verdict"]) <= set(VERDICTS)
    assert sorted(t["rank"]) == list(range(1, len(t) + 1))
    assert ((t["score"] >= 0) & (t["score"] <= 1)).all()
    for c in national.criteria.criterion:
        assert {c.id, f"{c.id}_result", f"{c.id}_why"} <= set(t.columns)
        assert t[f"{c.id}_why"].str.contains(r"\[(?:§|policy)").all()
    # verdicts are sorted best first, and score orders sites within a verdict
    codes = t["verdict"].map(VERDICTS.index).to_numpy()
    assert (np.diff(codes) >= 0).all()
    for _, group in t.groupby("verdict"):
        assert (np.diff(group["score"].to_numpy()) <= 1e-12).all()
    unsuitable = t[t["verdict"] == "unsuitable"]
    assert (unsuitable["reasons"].str.contains("→ fail")).all()


def test_eemshaven_and_maasvlakte_meet_ehv_offshore_and_space_in_2030(national):
    t = national.table.set_index("id")
    for site in ("eemshaven-port", "maasvlakte-2"):
        for crit in ("ehv_connection", "offshore_coupling", "space"):
            assert t.at[site, f"{crit}_result"] == "pass", (site, crit)


def test_far_site_unsuitable_and_small_site_fails_space(test_sites):
    ev = evaluate(layers=embedded_layers(), sites=test_sites)
    t = ev.table.set_index("id")
    assert t.at["texel", "verdict"] == "unsuitable"
    assert t.at["texel", "ehv_connection"] >= 40.0
    assert t.at["texel", "ehv_connection_result"] == "fail"
    assert t.at["tiny-eemshaven", "space_result"] == "fail"
    assert t.at["tiny-eemshaven", "verdict"] == "unsuitable"
    assert t.at["maasvlakte-50", "space_result"] == "pass"
    fixes = ev.what_it_would_take().set_index(["id", "criterion"])
    assert fixes.loc[("tiny-eemshaven", "space"), "gap"] == pytest.approx(20.0)
    assert fixes.loc[("tiny-eemshaven", "space"), "what"] == "20 ha more land"
    assert "380/220 kV connection point within 10 km" in fixes.loc[("texel", "ehv_connection"), "what"]
    # every site that is not suitable gets at least one fix, suitable ones none
    not_ok = set(t.index[t["verdict"] != "suitable"])
    assert set(fixes.index.get_level_values("id")) == not_ok


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.floats(0.01, 1.0), min_size=12, max_size=12))
def test_soft_weights_never_change_a_verdict(national, raw):
    crits = national.criteria
    assert len(raw) == len(crits.soft), "update min_size/max_size to the number of soft criteria"
    weights = dict(zip([c.id for c in crits.soft], np.array(raw) / sum(raw)))
    base_verdict, _, _, _ = _judge(crits, national.metrics)
    verdict, score, _, _ = _judge(crits, national.metrics, weights=weights)
    assert (verdict == base_verdict).all()
    assert ((score >= -1e-12) & (score <= 1 + 1e-12)).all()


def test_raising_the_it_load_never_improves_the_grid_criterion(test_sites):
    order = {"pass": 2, "conditional": 1, "fail": 0}
    results = []
    for it in (100.0, 300.0, 600.0):
        t = evaluate(it_load_mw=it, layers=embedded_layers(), sites=test_sites.iloc[[0, 2]]).table.set_index("id")
        results.append((t["grid_capacity_result"].map(order), t["grid_capacity"]))
    for (r_lo, h_lo), (r_hi, h_hi) in zip(results, results[1:]):
        assert (r_hi <= r_lo).all()
        assert (h_hi <= h_lo + 1e-6).all()


def test_sensitivity_is_seeded_and_bounded(national):
    a = national.sensitivity(n=200, seed=7, top_k=5)
    b = national.sensitivity(n=200, seed=7, top_k=5)
    assert a.equals(b)
    assert ((a[["p_top_k", "p_suitable"]] >= 0) & (a[["p_top_k", "p_suitable"]] <= 1)).all().all()
    assert (a["rank_p05"] <= a["rank_median"]).all() and (a["rank_median"] <= a["rank_p95"]).all()
    assert a["p_top_k"].sum() == pytest.approx(5.0)
    c = national.sensitivity(n=200, seed=8, top_k=5)
    assert not a.equals(c)


def test_sensitivity_names_the_driver_and_flags_sites_on_a_threshold(national):
    """A conditional site whose plot is exactly the 30 ha the space condition needs fails it for
    every threshold drawn from 30-40 ha: the analysis says so, and names the space threshold."""
    from siting.evaluate import Evaluation

    first = national.table.index[national.table["verdict"] != "unsuitable"][0]
    site = national.table.loc[first, "id"]
    area = np.where(np.arange(len(national.table)) == first, 30.0, 60.0)
    ev = Evaluation(table=national.table, metrics=national.metrics.assign(area_ha=area), criteria=national.criteria,
                    params=national.params)
    s = ev.sensitivity(n=200, seed=1)
    row = s.loc[site]
    assert row["on_threshold"] and "30.0 ha against ≥ 30 ha (varied 30–40 ha)" in row["threshold_note"]
    assert "changes over 100% of that range" in row["threshold_note"]
    assert row["driver"] == "threshold:space" and np.isnan(row["driver_rho"])
    assert row["rank_driver"] == "space threshold (varied 30–40 ha) changes its verdict in 100% of draws"
    assert row["p_suitable"] == 0 and row["rank_p95"] > national.table.loc[first, "rank"]
    others = s.drop(index=site)
    assert not others["threshold_note"].str.contains("Space").any()  # 60 ha: far from the threshold
    moved = others[others["rank_p05"] < others["rank_p95"]]
    assert moved["driver"].str.match(r"^(weight|threshold|points):").all()
    rho = moved["driver_rho"].dropna()
    assert ((rho >= -1) & (rho <= 1)).all()
    assert s.attrs == {"n": 200, "seed": 1, "top_k": 5, "concentration": 100.0}


def test_notebook_table_shows_reasons_in_full(national):
    html = national._repr_html_()
    longest = max(national.table["reasons"], key=len)
    assert len(longest) > 100
    import html as html_lib

    assert html_lib.escape(longest) in html and "<th>reasons</th>" in html


def test_policy_modes(national):
    crits = national.criteria
    hard = crits.with_policy("hard")
    assert "hyperscale_policy" in [c.id for c in hard.hard]
    off = crits.with_policy("off")
    assert "hyperscale_policy" not in [c.id for c in off.criterion]
    assert sum(c.weight for c in off.soft) == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="policy mode must be"):
        crits.with_policy("maybe")


def _criteria_text(**replace) -> str:
    from siting.criteria import criteria_dir

    text = (criteria_dir() / "ecorys-2025.toml").read_text(encoding="utf-8")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.mark.parametrize(
    "old, new, match",
    [
        ('max = 10.0\n', 'max = 10.0\ncolour = "red"\n', r"criterion\.0\.colour: Extra inputs are not permitted"),
        ('metric = "area_ha"', 'metric = "area_acres"', r"unknown metric 'area_acres'; known metrics: area_ha"),
        ('points = [[0.0, 1.0], [100.0, 0.0]]', 'points = [[100.0, 1.0], [0.0, 0.0]]', "must increase strictly"),
        ("range = [5.0, 20.0]", "range = [20.0, 5.0]", r"range \[20.0, 5.0\] is inverted"),
        ("weight = 0.05\njitter = 0.3\nsection = \"§4.1\"", "weight = -0.05\njitter = 0.3\nsection = \"§4.1\"",
         "weight -0.05 is negative"),
        ("weight = 0.05\njitter = 0.3\nsection = \"§4.1\"", "weight = 0.15\njitter = 0.3\nsection = \"§4.1\"",
         r"soft weights( of a study with situations = '\w+')? sum to 1.1000, not 1"),
        ("min = 30.0\n", "min = 30.0\nmax = 60.0\n", "needs exactly one of min, max or require"),
    ],
)
def test_bad_criteria_files(tmp_path, old, new, match):
    path = tmp_path / "criteria.toml"
    path.write_text(_criteria_text(**{old: new}))
    with pytest.raises(ConfigError, match=rf"(?s)criteria file '.*criteria\.toml' is invalid.*{match}"):
        load_criteria(path)


def test_shipped_criteria_cite_sections():
    crits = load_criteria("ecorys-2025")
    assert isinstance(crits, CriteriaSet)
    assert {c.id for c in crits.hard} >= {"ehv_connection", "grid_capacity", "offshore_coupling", "space", "digital_cap"}
    for c in crits.criterion:
        assert c.section.startswith(("§", "policy")), c.id
    with pytest.raises(ConfigError, match="unknown criteria 'nope'; shipped: ecorys-2025"):
        load_criteria("nope")


def test_bad_parameters():
    with pytest.raises(ConfigError, match=r"pue=0.5: must be a finite number in \[1, 3\]"):
        evaluate(pue=0.5, layers=embedded_layers())
    with pytest.raises(ConfigError, match=r"year=2041: .*no shipped scenario for 2041"):
        evaluate(year=2041, layers=embedded_layers())


def test_notebook_html_and_map(national):
    html = national._repr_html_()
    assert html.count("<tr>") == len(national.table) + 1
    assert "#d7191c" in html or "#fdae61" in html or "#1a9641" in html
    assert "360 MW" in html
    m = national.explore()
    out = m.get_root().render()
    assert "Leaflet" in out or "leaflet" in out
    assert national.table["id"].iloc[0] in out


def test_explore_draws_grid_layers_and_sites(national):
    html = national.explore().get_root().render()
    for name in ("380 kV circuits", "380/220 kV stations", "offshore-wind landings", "AMS-IX", "sites"):
        assert name in html, name


@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_progress_in_a_notebook_is_plain_text_on_stdout_without_warnings(capsys, monkeypatch):
    """No ipywidgets (or one tqdm cannot use): plain text on stdout, no TqdmWarning, nothing
    on stderr (Jupyter paints stderr red)."""
    import warnings

    from siting import _progress

    monkeypatch.setattr(_progress, "in_notebook", lambda: True)
    _progress.set_quiet(False)
    for widgets in (False, True):
        monkeypatch.setattr(_progress, "_has_widgets", lambda w=widgets: w)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if widgets:  # a widget bar needs a live kernel; here tqdm.notebook fails and falls back
                monkeypatch.setattr("tqdm.notebook.IProgress", None, raising=False)
            assert list(_progress.progress(range(10), "demo", min_items=1)) == list(range(10))
        out, err = capsys.readouterr()
        assert err == "" and "demo" in out


def test_progress_bars_follow_quiet(capsys):
    from siting._progress import progress, set_quiet

    set_quiet(False)
    assert list(progress(range(10), "demo", min_items=1)) == list(range(10))
    shown = capsys.readouterr().err
    set_quiet(True)
    assert list(progress(range(10), "demo", min_items=1)) == list(range(10))
    assert capsys.readouterr().err == ""
    set_quiet(False)
    assert "demo" in shown


def test_free_cooling_is_a_metric_and_the_s6_criterion_scores_it(national):
    m = national.metrics
    assert m["free_cooling_hours"].between(7500, 8300).all()
    crit = next(c for c in national.criteria.soft if c.id == "free_cooling")
    assert crit.section == "§4.1" and crit.metric == "free_cooling_hours"
    assert "free_cooling_why" in national.table.columns
    assert national.table["free_cooling_result"].between(0.3, 0.9).all()


def test_grid_verdict_responds_to_the_load_and_flags_borderline_results(test_sites):
    """The grid condition depends on the load (on a secure base case); a site whose firm headroom
    lies within ±10 % of the load is flagged borderline, one far from it is not; a plot of 31 ha
    sits within 10 % of the 30 ha space threshold."""
    sites = test_sites.iloc[[2]].copy()  # Maasvlakte, 50 ha
    layers = embedded_layers()
    low = evaluate(it_load_mw=100.0, layers=layers, sites=sites).table.set_index("id").loc["maasvlakte-50"]
    high = evaluate(it_load_mw=1500.0, layers=layers, sites=sites).table.set_index("id").loc["maasvlakte-50"]
    assert low["grid_capacity_result"] == "pass"
    assert high["grid_capacity_result"] in {"conditional", "fail"}
    firm = low["grid_capacity"] + 100.0 * 1.2  # the worst scenario's firm hosting at the bus [MW]
    tight = evaluate(it_load_mw=firm / 1.05 / 1.2, layers=layers, sites=sites).table.set_index("id").loc["maasvlakte-50"]
    assert tight["grid_capacity_result"] == "pass" and "Grid capacity" in tight["borderline"]
    assert "Grid capacity" not in low["borderline"]
    small = sites.assign(area_ha=31.0, geometry=[_square(sites.geometry.iloc[0].centroid.x,
                                                          sites.geometry.iloc[0].centroid.y, 31.0)])
    t = evaluate(layers=layers, sites=small).table.set_index("id")
    assert t.loc["maasvlakte-50", "borderline"].count("Space:") == 1


# ----------------------------------------------------------------- a year of hourly situations

def test_criteria_of_each_kind_of_study():
    """The shipped file marks S8 on the share of scenarios for the snapshots, S8 on curtailment
    hours and the hourly offshore share for a year; each kind's soft weights sum to 1; a file
    whose year weights do not is refused with the kind named; with_policy needs one kind."""
    crits = load_criteria()
    snap, year = crits.for_situations("snapshots"), crits.for_situations("year")
    assert "grid_flexibility" in {c.id for c in snap.soft} and "grid_flexibility_year" not in {c.id for c in snap.soft}
    assert {"grid_flexibility_year", "offshore_energy_share"} <= {c.id for c in year.soft}
    assert "grid_flexibility" not in {c.id for c in year.soft}
    for s in (snap, year):
        assert sum(c.weight for c in s.soft) == pytest.approx(1.0)
        assert all(c.situations is None for c in s.criterion)
    assert {c.id for c in snap.hard} == {c.id for c in year.hard}
    data = crits.model_dump()
    for c in data["criterion"]:
        if c["id"] == "offshore_energy_share":
            c["weight"] = 0.15
    with pytest.raises(ValueError, match="situations = 'year' sum to 1.1000"):
        CriteriaSet.model_validate(data)
    # a policy mode applies to both kinds alike (the policy criterion counts in both)
    for mode in ("off", "hard"):
        both = crits.with_policy(mode)
        for kind, alone in (("year", year), ("snapshots", snap)):
            a, b = both.for_situations(kind).with_policy(None), alone.with_policy(mode)
            assert [(c.id, c.kind) for c in a.criterion] == [(c.id, c.kind) for c in b.criterion]
            assert [c.weight for c in a.soft] == pytest.approx([c.weight for c in b.soft])
    with pytest.raises(ConfigError, match="'snapshots' or 'year'"):
        crits.for_situations("hourly")


@pytest.mark.parametrize("bad", ["hourly", 2030, ["year"]])
def test_bad_situations_are_named(bad):
    from siting.errors import ParameterError

    with pytest.raises(ParameterError, match=r"situations=.*must be 'year', a Situations"):
        evaluate(layers=embedded_layers(), situations=bad)


def test_year_of_situations_feeds_the_flexibility_criteria(test_sites, tmp_path):
    """evaluate(situations=<a fortnight>): curtailment hours at the grid load and the firm value
    over the fortnight per site, equal to the hourly grid's own; the hourly offshore share of a
    direct cable for the site beside a landing (0 beyond 20 km); S8 scored on the hours."""
    from siting.grid.year import build_situations, coupling

    from .test_year import _profiles

    layers = embedded_layers()
    base = GridModel.from_layers(layers, scenario="low-wind-peak-2030", secure=False)
    sit = build_situations(base, _profiles())
    ev = evaluate(layers=layers, sites=test_sites, situations=sit)
    t, m = ev.table.set_index("id"), ev.metrics.assign(id=ev.table["id"].to_numpy()).set_index("id")
    assert "grid_flexibility" not in t.columns and {"grid_flexibility_year", "offshore_energy_share"} <= set(t.columns)
    assert ev.params["situations"].startswith(f"{sit.n_hours} hours")
    hg = base.hourly(sit)
    for sid, row in t.iterrows():
        if row["bus"] is None or row["bus"] != row["bus"]:
            continue
        own = hg.curtailment(row["bus"], row["grid_load_mw"], hosting=hg.hosting_ac_corrected([row["bus"]]))
        assert m.at[sid, "grid_curtailment_hours"] == own["hours"]
        assert 0 <= m.at[sid, "grid_year_firm_mw"] <= 3000
        score = np.interp(own["hours"], [0.0, 500.0], [1.0, 0.0])
        assert row["grid_flexibility_year_result"] == pytest.approx(score, abs=1e-4)
    near = m["offshore_dist_km"] <= 20.0
    assert near.any() and (~near).any()
    assert (m.loc[~near, "offshore_energy_share"] == 0).all()
    for sid in m.index[near]:
        expect = coupling(sit, m.at[sid, "offshore_id"], t.at[sid, "grid_load_mw"])["offshore_share"]
        assert m.at[sid, "offshore_energy_share"] == pytest.approx(expect)
        assert 0 < expect < 1
    # the report cards carry the year: curtailment hours, the firm value and the duration curve
    from siting.cards import site_cards

    site_cards(ev, tmp_path)
    connected = t.index[t["bus"].isin(list(ev.year["hosting"]["bus"].to_numpy()))]
    assert len(connected)
    for sid in connected:
        text = (tmp_path / f"{sid}.md").read_text()
        assert "A year of hourly situations" in text and f"{sid}-year.png" in text
        assert f"gives way {m.at[sid, 'grid_curtailment_hours']:,.0f} hour" in text
        assert (tmp_path / f"{sid}-year.png").stat().st_size > 10_000
