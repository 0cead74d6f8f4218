"""Stage 5 — evaluate: criteria turn metrics and grid results into verdicts, scores and ranks.

Verdicts mirror the report's decision logic (§7.1, fig. 7.2): **unsuitable** when a hard
condition fails and cannot be arranged; **conditional** when every hard condition holds, some
only with an arrangement still to be made (a planned station or landing); **suitable** when all
hold now. Soft criteria give a score in [0, 1] that ranks sites within a verdict and never lifts
a site over a failed hard condition.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from . import _validate as V
from ._progress import progress
from .candidates import candidates
from .climate import FREE_COOLING_C, climate_field
from .criteria import CriteriaSet, Criterion, load_criteria
from .errors import ConfigError, ParameterError, SitingError, type_phrase
from .grid import GridModel, list_scenarios, load_scenario
from .grid.scenario import Scenario
from .layers import Layers, load_layers, read_layer
from .metrics import METRICS, grid_metrics, spatial_metrics, year_metrics
from .rasters import zonal_mean

__all__ = ["evaluate", "Evaluation", "VERDICTS"]

#: Grid year that puts every dated planned reinforcement in service (the investment plan).
PLANNED_GRID_YEAR = 2100

#: Verdicts, best first.
VERDICTS = ("suitable", "conditional", "unsuitable")
#: Map and table colours of the verdicts (ColorBrewer RdYlGn).
VERDICT_COLOURS = {"suitable": "#1a9641", "conditional": "#fdae61", "unsuitable": "#d7191c"}
_PASS, _COND, _FAIL = 2, 1, 0
_STATUS = {_PASS: "pass", _COND: "conditional", _FAIL: "fail"}


def _fmt(value, unit: str) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "no data"
    if isinstance(value, str):
        return value
    unit = "" if unit in ("bool", "0-1") else f" {unit}"
    return f"{value:,.1f}{unit}" if abs(value) < 1000 else f"{value:,.0f}{unit}"


def _hard_status(crit: Criterion, metrics: pd.DataFrame, threshold: float | None = None) -> np.ndarray:
    ok = crit.judge(metrics[crit.metric], threshold)
    status = np.where(ok, _PASS, _FAIL)
    if crit.conditional_metric is not None:
        cond = crit.judge(metrics[crit.conditional_metric], threshold)
        status = np.where(~ok & cond, _COND, status)
    return status


def _judge(crits: CriteriaSet, metrics: pd.DataFrame, thresholds: dict | None = None,
           points: dict | None = None, weights: dict | None = None) -> tuple[np.ndarray, np.ndarray, dict, dict]:
    """Verdict codes (0 suitable, 1 conditional, 2 unsuitable), scores, hard statuses and soft
    scores per criterion, for all sites at once."""
    thresholds, points, weights = thresholds or {}, points or {}, weights or {}
    hard = {c.id: _hard_status(c, metrics, thresholds.get(c.id)) for c in crits.hard}
    soft = {c.id: c.score(metrics[c.metric], points.get(c.id)) for c in crits.soft}
    stack = np.vstack(list(hard.values()))
    verdict = np.where((stack == _FAIL).any(axis=0), 2, np.where((stack == _COND).any(axis=0), 1, 0))
    score = np.zeros(len(metrics))
    for c in crits.soft:
        score += weights.get(c.id, c.weight) * soft[c.id]
    return verdict, score, hard, soft


def _rank(verdict: np.ndarray, score: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Rank 1..n: verdict first (suitable best), then score (higher first), then id."""
    order = np.lexsort((ids, -np.round(score, 12), verdict))
    rank = np.empty(len(order), dtype=int)
    rank[order] = np.arange(1, len(order) + 1)
    return rank


@dataclass
class Evaluation:
    """Result of :func:`evaluate`: ``table`` (one row per site, GeoDataFrame), the raw
    ``metrics``, the ``criteria`` applied and the parameters."""

    table: gpd.GeoDataFrame
    metrics: pd.DataFrame
    criteria: CriteriaSet
    params: dict = field(default_factory=dict)
    layers: Layers | None = field(default=None, repr=False)
    models: dict = field(default_factory=dict, repr=False)  # scenario -> GridModel of the study year
    #: with situations="year": {"hosting": bus × hour MW (xarray), "firm": firm capacity per bus}
    year: dict | None = field(default=None, repr=False)

    def capacity_check(self, cmap=None) -> pd.DataFrame:
        """TenneT's published capacity per congestion area (study year) beside the model's
        hosting capacity at the area's EHV buses, worst scenario of the study (see
        :meth:`GridModel.compare_capacity_map` and :func:`siting.compare_capacity`).
        ``cmap``: a :class:`~siting.CapacityMap` or a capacity-map JSON path; default the shipped
        TenneT map. Cached for the default map."""
        from .capacity_map import compare_capacity, read_capacity_map

        if cmap is None and "_capacity_check" in self.__dict__:
            return self.__dict__["_capacity_check"]
        if not self.models:
            raise ConfigError("this evaluation holds no grid models (made by an older version?); run evaluate() again")
        from .capacity_map import read_ehv_map

        cm = cmap if hasattr(cmap, "areas") else read_capacity_map(cmap)
        year = int(self.params["year"])
        # with redispatch only where the map publishes a demand figure for the year (the rest is
        # not comparable); firm everywhere
        pub = cm.areas[(cm.areas["year"] == year) & cm.areas["demand_available_mw"].notna()]["area"]
        emap = read_ehv_map()
        stations = set(emap.loc[emap["area"].isin(pub), "ehv_station"].dropna())
        tables = {}
        for name, m in self.models.items():
            buses = [b for b in m.buses()["bus"] if b.rsplit("-", 1)[0] in stations]
            tables[name] = m.hosting_capacity(pf=self.params.get("pf", 0.98), redispatch=buses)
        worst = _worst_hosting(tables)
        out = compare_capacity(cm, worst, year)
        out.insert(2, "scenarios", ", ".join(tables))
        if cmap is None:
            self.__dict__["_capacity_check"] = out
        return out

    def not_met(self) -> pd.Series:
        """Per site (index ``id``): the hard conditions that do not hold now, comma-separated."""
        hard = self.criteria.hard
        return pd.Series(
            [", ".join(c.id for c in hard if row[f"{c.id}_result"] != "pass") or "-" for _, row in self.table.iterrows()],
            index=pd.Index(self.table["id"], name="id"),
        )

    def _repr_html_(self) -> str:
        """A ranked HTML table for notebooks: verdict coloured, score, conditions not met now and
        the reasons in full (not cut)."""
        import html

        p = self.params
        rows = []
        not_met = self.not_met()
        for _, r in self.table.iterrows():
            colour = VERDICT_COLOURS[r["verdict"]]
            rows.append(
                f"<tr><td>{r['rank']}</td><td>{html.escape(r['id'])}</td><td>{html.escape(r['name'])}</td>"
                f"<td style='background:{colour};color:white;font-weight:bold'>{r['verdict']}</td>"
                f"<td>{r['score']:.3f}</td><td>{html.escape(str(r['bus']))}</td>"
                f"<td>{html.escape(not_met[r['id']])}</td>"
                f"<td style='text-align:left;white-space:normal;min-width:30em'>{html.escape(str(r['reasons']))}</td></tr>"
            )
        head = (f"<p><b>AIGF {p['it_load_mw']:.0f} MW IT × PUE {p['pue']} = {p['grid_load_mw']:.0f} MW</b>, "
                f"{p['year']}, scenarios {html.escape(', '.join(p['scenarios']))}, criteria {html.escape(p['criteria'])}</p>")
        return (head + "<table><thead><tr><th>rank</th><th>id</th><th>name</th><th>verdict</th><th>score</th>"
                "<th>bus</th><th>not met now</th><th>reasons</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>")

    def explore(self, **kwargs):
        """Interactive map (folium): EHV circuits by voltage, stations, offshore landings and
        AMS-IX points (with the study's layers), then the sites coloured by verdict with a popup
        listing every condition's value, rule and report section. Loads the Leaflet library and
        tiles from the web when shown; for an offline map use :func:`siting.export` (map.html).
        Needs the maps extra: ``python -m pip install ".[maps]"`` from a clone."""
        try:
            import folium
            import mapclassify  # noqa: F401 - geopandas' explore() needs it for the colours
        except ModuleNotFoundError as exc:
            raise SitingError(
                f"explore() needs the optional package {exc.name!r}: install the maps extra with "
                "`python -m pip install \".[maps]\"` (from a clone) or `python -m pip install folium mapclassify`; "
                "siting.export(ev, folder) writes an offline map.html without it"
            ) from None

        m = None
        if self.layers is not None:
            L = self.layers
            circ = L.circuits[~L.circuits["to_id"].str.startswith("xb-")].to_crs("EPSG:4326")
            for kv, colour in ((380, "#3f007d"), (220, "#6baed6")):
                sel = circ[circ["kv"] == kv][["id", "circuits", "rating_mva", "status", "geometry"]]
                if len(sel):
                    m = sel.explore(m=m, color=colour, name=f"{kv} kV circuits", tooltip=["id", "circuits", "status"])
            subs = L.substations[~L.substations["id"].str.startswith("xb-")].to_crs("EPSG:4326")
            m = subs[["id", "name", "kv", "status", "geometry"]].explore(
                m=m, color="black", name="380/220 kV stations", marker_kwds={"radius": 3})
            m = L.offshore.to_crs("EPSG:4326")[["name", "capacity_mw", "year", "status", "geometry"]].explore(
                m=m, color="#01665e", name="offshore-wind landings", marker_kwds={"radius": 5})
            ix = L.ix[L.ix["kind"] == "amsix_pop"].to_crs("EPSG:4326")
            m = ix[["name", "amsix", "geometry"]].explore(m=m, color="#6a3d9a", name="AMS-IX", marker_kwds={"radius": 4})
        cols = ["id", "name", "verdict", "score", "rank", "bus", "geometry"] + [f"{c.id}_why" for c in self.criteria.criterion]
        gdf = self.table[cols].to_crs("EPSG:4326")
        kwargs.setdefault("column", "verdict")
        kwargs.setdefault("cmap", [VERDICT_COLOURS[v] for v in sorted(set(gdf["verdict"]))])
        kwargs.setdefault("tooltip", ["rank", "name", "verdict", "score"])
        kwargs.setdefault("popup", [c for c in cols if c != "geometry"])
        kwargs.setdefault("name", "sites")
        m = gdf.explore(m=m, **kwargs)
        folium.LayerControl().add_to(m)
        return m

    def what_it_would_take(self) -> pd.DataFrame:
        """For every site that is not suitable, the smallest change per failed or conditional
        hard condition: ``id, name, criterion, status, value, threshold, gap, unit, section,
        what``."""
        rows = []
        for crit in self.criteria.hard:
            status = self.table[f"{crit.id}_result"]
            unit = METRICS.get(crit.metric, ("", ""))[0]
            for i in np.flatnonzero((status != "pass").to_numpy()):
                site = self.table.iloc[i]
                value = self.metrics.iloc[i][crit.metric]
                gap = math.nan
                if crit.threshold is not None and not pd.isna(value):
                    gap = (crit.threshold - float(value)) if crit.min is not None else (float(value) - crit.threshold)
                text = crit.fix.format(gap=gap, value=float(value) if not pd.isna(value) and crit.require is None else 0.0,
                                       threshold=crit.threshold or 0.0, unit=unit, bus=site["bus"],
                                       grid_load_mw=self.params["grid_load_mw"]) if crit.fix else crit.title
                if status.iloc[i] == "conditional":
                    text = f"arrange: {text} — passes only with a planned element ({crit.conditional_metric})"
                rows.append({"id": site["id"], "name": site["name"], "criterion": crit.id, "status": status.iloc[i],
                             "value": value, "threshold": crit.threshold, "gap": gap, "unit": unit,
                             "section": crit.section, "what": text})
        return pd.DataFrame(rows, columns=["id", "name", "criterion", "status", "value", "threshold", "gap", "unit",
                                           "section", "what"])

    def sensitivity(self, n: int = 500, seed: int = 0, top_k: int = 5, concentration: float = 100.0,
                    client=None) -> pd.DataFrame:
        """Monte Carlo over soft weights (Dirichlet around the file's weights, ``concentration``
        = sum of its parameters), hard thresholds (uniform in each ``range``) and soft x points
        (scaled by a factor uniform in ``1 ± jitter``), seeded; and what explains each site's
        spread.

        Returns
        -------
        DataFrame
            Per site (index ``id``):

            - ``p_top_k``: probability of a rank ≤ `top_k`; ``p_suitable``;
              ``rank_median``, ``rank_p05``, ``rank_p95``;
            - ``rank_driver``: what moves the site's rank most, in words. When the site's own
              verdict changes in at least 5 % of the draws, the varied hard threshold whose
              draws flip it most often ("space threshold (varied 30–40 ha) changes its verdict
              in 100 % of draws"); otherwise the varied parameter (a soft weight, a hard
              threshold, a soft transform's x scale) whose draws correlate most with the
              site's rank (Spearman ρ), or "-" when the rank never changes;
            - ``driver``: that parameter as a code (``threshold:<criterion>``,
              ``weight:<criterion>``, ``points:<criterion>``, or ``-``) and ``driver_rho``:
              its rank correlation with the site's rank (NaN for a verdict flip);
            - ``on_threshold``: True when a hard condition's result for this site depends on
              where in its ``range`` the threshold is drawn (the site's value lies inside the
              varied interval), with ``threshold_note`` naming the condition, the value and the
              interval ("" when not).

            ``attrs`` holds ``n``, ``seed``, ``top_k`` and ``concentration``.

        With a Dask `client` (``dask.distributed.Client``), the draws are judged on its cluster
        in blocks of :data:`SENSITIVITY_BLOCK` (drawn here first, from the one seeded stream):
        the same table as in one process, to the last bit.

        Notes
        -----
        A site sitting on a threshold has a verdict, and so a rank, that the analysis can move
        for reasons unrelated to its merit: e.g. a 30.0 ha plot passes the space condition
        (≥ 30 ha) only at the lowest threshold drawn from 30–40 ha, so in nearly every draw it
        fails it and falls in the ranking.
        """
        n, seed, top_k, concentration = check_sensitivity(n, seed, top_k, concentration)
        if client is not None:
            from ._tiled import check_client

            check_client(client)
        rng = np.random.default_rng(seed)
        crits = self.criteria
        soft = crits.soft
        base_w = np.array([c.weight for c in soft])
        ids = self.table["id"].to_numpy()
        base_verdict, _, base_hard, _ = _judge(crits, self.metrics)
        ranged = [c for c in crits.hard if c.range is not None]
        jittered = [c for c in soft if c.jitter]
        # the varied parameters, one column per draw: weights, thresholds, x-point scale factors
        names = ([f"weight:{c.id}" for c in soft] if len(soft) and base_w.sum() > 0 else []) \
            + [f"threshold:{c.id}" for c in ranged] + [f"points:{c.id}" for c in jittered]
        draws = np.empty((n, len(names)))
        drawn = []  # per draw: thresholds, points, weights
        for k in range(n):  # every draw from the one seeded stream, in order, wherever it is judged
            row, params = _draw(rng, crits, base_w, concentration, ranged, jittered)
            draws[k] = row
            drawn.append(params)
        blocks = [drawn[i:i + SENSITIVITY_BLOCK] for i in range(0, n, SENSITIVITY_BLOCK)]
        if client is None:
            parts = [_judge_draws(crits, self.metrics, ids, base_verdict, base_hard, b)
                     for b in progress(blocks, "sensitivity (draws)", min_items=200 // SENSITIVITY_BLOCK)]
        else:
            from ._tiled import scatter_shared

            crits_f, metrics_f = scatter_shared(client, [crits, self.metrics])
            futures = [client.submit(_judge_draws, crits_f, metrics_f, ids, base_verdict, base_hard, b, pure=False)
                       for b in blocks]
            parts = client.gather(futures)
        ranks = np.concatenate([p[0] for p in parts])
        suitable = sum(p[1] for p in parts)  # (counts: exact in any order)
        verdict_changed = sum(p[2] for p in parts)
        flips = sum(p[3] for p in parts)
        out = pd.DataFrame(
            {
                "p_top_k": (ranks <= top_k).mean(axis=0),
                "p_suitable": suitable / n,
                "rank_median": np.median(ranks, axis=0),
                "rank_p05": np.percentile(ranks, 5, axis=0),
                "rank_p95": np.percentile(ranks, 95, axis=0),
            },
            index=pd.Index(ids, name="id"),
        )
        driver, rho_out, text = _drivers(crits, names, draws, ranks, flips, verdict_changed, n)
        out["rank_driver"] = text
        out["driver"] = driver
        out["driver_rho"] = rho_out
        on, notes = _on_threshold(ranged, self.metrics, base_hard)
        out["on_threshold"] = on
        out["threshold_note"] = notes
        out.attrs.update({"n": int(n), "seed": int(seed), "top_k": int(top_k), "concentration": float(concentration)})
        return out


#: draws judged together (one Dask task each with a client)
SENSITIVITY_BLOCK = 100


def _draw(rng: np.random.Generator, crits: CriteriaSet, base_w: np.ndarray, concentration: float, ranged: list,
          jittered: list) -> tuple[list[float], tuple[dict, dict, dict]]:
    """One Monte Carlo draw of :meth:`Evaluation.sensitivity`: its row of varied values and
    (thresholds, points, weights) for :func:`_judge`."""
    soft = crits.soft
    weights = {}
    row = []
    if len(soft) and base_w.sum() > 0:
        alpha = np.maximum(base_w * concentration, 1e-3)
        weights = dict(zip([c.id for c in soft], rng.dirichlet(alpha)))
        row += list(weights.values())
    thresholds = {c.id: rng.uniform(*c.range) for c in crits.hard if c.range is not None}
    row += [thresholds[c.id] for c in ranged]
    points = {}
    factors = {}
    for c in soft:
        pts = np.asarray(c.points, dtype=float).copy()
        if c.jitter and c.transform != "step":
            factors[c.id] = 1.0 + rng.uniform(-c.jitter, c.jitter)
            pts[:, 0] *= factors[c.id]
        elif c.jitter:
            factors[c.id] = 1.0 + rng.uniform(-c.jitter, c.jitter)
            pts[0, 0] *= factors[c.id]
        points[c.id] = pts
    row += [factors[c.id] for c in jittered]
    return row, (thresholds, points, weights)


def _judge_draws(crits: CriteriaSet, metrics: pd.DataFrame, ids: np.ndarray, base_verdict: np.ndarray,
                 base_hard: dict, drawn: list[tuple[dict, dict, dict]]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per draw of a block, the sites' ranks (draws × sites); per site, the draws it is suitable
    in, the draws its verdict changed from `base_verdict` in, and per varied threshold those of
    them where that threshold's result changed from `base_hard` too (thresholds × sites)."""
    ranged = [c for c in crits.hard if c.range is not None]
    ranks = np.empty((len(drawn), len(ids)), dtype=int)
    suitable = np.zeros(len(ids))
    verdict_changed = np.zeros(len(ids))
    flips = np.zeros((len(ranged), len(ids)))
    for k, (thresholds, points, weights) in enumerate(drawn):
        verdict, score, hard, _ = _judge(crits, metrics, thresholds, points, weights)
        ranks[k] = _rank(verdict, score, ids)
        suitable += verdict == 0
        changed = verdict != base_verdict
        verdict_changed += changed
        for i, c in enumerate(ranged):
            flips[i] += changed & (hard[c.id] != base_hard[c.id])
    return ranks, suitable, verdict_changed, flips


def _param_text(crits: CriteriaSet, name: str) -> str:
    kind, cid = name.split(":", 1)
    c = next(x for x in crits.criterion if x.id == cid)
    unit = METRICS.get(c.metric, ("", ""))[0]
    unit = "" if unit in ("bool", "0-1") else f" {unit}"
    if kind == "threshold":
        return f"{c.id} threshold (varied {c.range[0]:g}–{c.range[1]:g}{unit})"
    if kind == "weight":
        return f"weight of {c.id} (file {c.weight:.2f})"
    return f"{c.id} scoring points (x scaled by 1 ± {c.jitter:g})"


def _drivers(crits: CriteriaSet, names: list[str], draws: np.ndarray, ranks: np.ndarray, flips: np.ndarray,
             verdict_changed: np.ndarray, n: int) -> tuple[list, np.ndarray, list]:
    """Per site: the parameter that drives its rank spread (code, Spearman ρ, words)."""
    from scipy.stats import rankdata

    ranged = [x for x in names if x.startswith("threshold:")]
    rho = np.full((len(names), ranks.shape[1]), np.nan)
    if len(names) and n > 2:
        a = rankdata(draws, axis=0)
        b = rankdata(ranks, axis=0)
        a = (a - a.mean(axis=0)) / np.where(a.std(axis=0) > 0, a.std(axis=0), np.nan)
        b = (b - b.mean(axis=0)) / np.where(b.std(axis=0) > 0, b.std(axis=0), np.nan)
        rho = a.T @ b / n  # (parameters, sites); NaN where a rank or a parameter never varies
    codes, rhos, texts = [], np.full(ranks.shape[1], np.nan), []
    for j in range(ranks.shape[1]):
        share = verdict_changed[j] / n
        if share >= 0.05 and len(ranged) and flips[:, j].max() > 0:
            i = int(np.argmax(flips[:, j]))
            codes.append(ranged[i])
            texts.append(f"{_param_text(crits, ranged[i])} changes its verdict in {share:.0%} of draws")
            continue
        col = rho[:, j]
        if ranks[:, j].min() == ranks[:, j].max() or not np.isfinite(col).any():
            codes.append("-")
            texts.append("-" if ranks[:, j].min() == ranks[:, j].max() else "no single parameter")
            continue
        i = int(np.nanargmax(np.abs(col)))
        codes.append(names[i])
        rhos[j] = round(float(col[i]), 3)
        way = "a higher value worsens its rank" if col[i] > 0 else "a higher value improves its rank"
        texts.append(f"{_param_text(crits, names[i])}: Spearman ρ = {col[i]:+.2f} with its rank ({way})")
    return codes, rhos, texts


#: A site sits on a threshold when its result on a hard condition changes for at least this share
#: of the condition's varied threshold range.
ON_THRESHOLD_SHARE = 0.25


def _on_threshold(ranged: list[Criterion], metrics: pd.DataFrame, base_hard: dict,
                  steps: int = 100) -> tuple[np.ndarray, list]:
    """Sites whose result on a ranged hard condition changes over a material share of its range
    (the probability that a uniform threshold draw flips it)."""
    on = np.zeros(len(metrics), dtype=bool)
    notes = [[] for _ in range(len(metrics))]
    for c in ranged:
        lo, hi = c.range
        grid = lo + (np.arange(steps) + 0.5) / steps * (hi - lo)
        base = base_hard[c.id]
        share = np.mean([_hard_status(c, metrics, t) != base for t in grid], axis=0)
        unit = METRICS.get(c.metric, ("", ""))[0]
        op = "≥" if c.min is not None else "≤"
        for i in np.flatnonzero(share >= ON_THRESHOLD_SHARE):
            on[i] = True
            value = metrics[c.metric].iloc[i]
            notes[i].append(f"{c.title}: {_fmt(value, unit)} against {op} {c.threshold:g} {unit} (varied "
                            f"{lo:g}–{hi:g} {unit}); {_STATUS[int(base[i])]} now, but its result changes over "
                            f"{share[i]:.0%} of that range")
    return on, ["; ".join(x) for x in notes]


def _with_rasters(metrics, rasters: dict | None, crits: CriteriaSet, sample):
    """Add user-raster metrics (``raster_<name>``) via `sample(path)`; criteria naming a raster
    metric that was not given are an error."""
    rasters = rasters or {}
    bad = sorted(k for k in rasters if not str(k).startswith("raster_"))
    if bad:
        raise ConfigError(f"raster metric names must start with 'raster_', got {bad}")
    for name, path in rasters.items():
        metrics[name] = sample(path)
    missing = sorted({c.metric for c in crits.criterion if c.metric.startswith("raster_")} - set(rasters))
    if missing:
        raise ConfigError(f"the criteria use raster metric(s) {missing}; pass rasters={{name: path}} for them")
    return metrics


def study_scenarios(year: int, scenario=None) -> list:
    """The scenarios of a study, checked and loaded: `scenario` (a shipped name, a TOML path or
    a :class:`~siting.grid.Scenario`, or a non-empty list of them), or every shipped scenario
    of `year` when None. Cheap: callers check before any long computation."""
    if scenario is None:
        shipped = {n: load_scenario(n).year for n in list_scenarios()}
        names = [n for n, y in shipped.items() if y == year]
        if not names:
            years = ", ".join(str(y) for y in sorted(set(shipped.values())))
            raise ParameterError(
                "year", year, f"a year with a shipped scenario ({years}) when no scenario is named",
                problem=f"no shipped scenario for {year}",
                fix=f"name the scenarios with {{=scenario}} (shipped: {', '.join(shipped)}), or pick one of those years")
        return names
    allowed = ("a shipped scenario name, a scenario TOML path or a Scenario, or a non-empty list of them "
               "(None: the shipped scenarios of the study year)")
    items = list(scenario) if isinstance(scenario, (list, tuple)) else [scenario]
    if not items:
        raise ParameterError("scenario", scenario, allowed, problem="the list is empty",
                             fix="name at least one, e.g. {=scenario:'high-wind-2030'}, or leave it out (None)")
    for item in items:
        if not isinstance(item, (str, PathLike, Scenario)):
            raise ParameterError("scenario", scenario, allowed, problem=f"{type_phrase(item)} is none of these",
                                 fix="use e.g. {=scenario:'high-wind-2030'}; siting.list_scenarios() lists them")
    for item in items:
        load_scenario(item)  # unknown names and invalid files fail here, before any grid model is built
    return items


def _grid_models(layers: Layers, year: int, scenario, client=None, buses=None, grid_load_mw: float | None = None,
                 pf: float | None = None) -> tuple[dict, dict]:
    """Grid models per scenario on the study year's grid, and on the grid with every dated
    planned reinforcement (same dispatch). Default scenarios: the shipped ones of `year`.
    Built models are reused within the process (see :func:`_secured_model`).

    With a Dask `client`, each model not yet built in this process is built on the cluster
    together with the grid results :func:`~siting.metrics.grid_metrics` asks of it at `buses`
    (the candidates' connection buses) for a load of `grid_load_mw` at `pf`: one task per model
    (:func:`_grid_task`). The models come back without their solver state (rebuilt here on
    first use) but with those results memoised, so ``grid_metrics`` reads them as it would
    here, and join this process's model cache."""
    names = study_scenarios(year, scenario)
    if client is not None:
        return _grid_models_on(client, layers, names, year, buses, grid_load_mw, pf)
    models, planned = {}, {}
    for s in progress(names, "grid models (scenarios)", min_items=1):
        model = _secured_model(layers, s, year)
        models[model.scenario.name] = model
        planned[model.scenario.name] = _secured_model(layers, s, PLANNED_GRID_YEAR)
    return models, planned


def _grid_task(layers: Layers, scenario: Scenario, grid_year: int, buses: list, grid_load_mw: float, pf: float,
               study: bool) -> tuple[GridModel, dict]:
    """On a Dask worker: the secured model of `scenario` on the grid of `grid_year`, with the
    results of :func:`~siting.metrics.grid_metrics` at `buses` computed and memoised — on the
    study year's grid (`study`) hosting firm and with redispatch and the N-1 check of the
    load, on the planned grid firm hosting. Returns the model and its load checks (the
    :data:`siting.metrics._CHECKS` memo). A Dask worker is a daemonic process, so the per-bus
    searches stay in it (:mod:`siting.grid._parallel`); its progress bars are off."""
    from . import metrics
    from ._progress import quiet_here

    with quiet_here():  # the caller shows one bar for the tasks
        model = GridModel.from_layers(layers, scenario=scenario, grid_year=grid_year, secure=True)
        metrics._grid_at_buses(model, pd.DataFrame({"bus": buses}), grid_load_mw, pf, with_checks=study,
                               redispatch=study)
    return model, dict(metrics._CHECKS.get(model, {}))


def _grid_models_on(client, layers: Layers, names: list, year: int, buses, grid_load_mw: float,
                    pf: float) -> tuple[dict, dict]:
    """:func:`_grid_models` with the models this process has not built yet built on `client`."""
    from . import metrics
    from ._tiled import completed_tasks

    buses = sorted(set(pd.Series(buses, dtype=object).dropna()))
    fingerprint = _grid_fingerprint(layers)
    found: dict[tuple, GridModel] = {}  # (scenario index, grid year) -> model
    jobs = []
    for i, s in enumerate(names):
        sc = load_scenario(s)
        for grid_year, study in ((year, True), (PLANNED_GRID_YEAR, False)):
            key = _model_key(fingerprint, sc, grid_year, True)
            if key in _MODEL_CACHE:  # built here before: as without a client
                found[i, grid_year] = _secured_model(layers, sc, grid_year)
            else:
                jobs.append(((i, grid_year), key, sc, study))
    calls = [(sc, where[1], buses, grid_load_mw, pf, study) for where, _, sc, study in jobs]
    for i, (model, checks) in completed_tasks(client, _grid_task, layers, calls, "grid models (Dask tasks)",
                                              "grid-model"):
        where, key, sc, _ = jobs[i]
        model.scenario = sc  # the scenario as read here (equal content), as _secured_model keeps it
        metrics._CHECKS.setdefault(model, {}).update(checks)
        _cache_model(key, model)
        found[where] = model
    models, planned = {}, {}
    for i in range(len(names)):
        model = found[i, year]
        models[model.scenario.name] = model
        planned[model.scenario.name] = found[i, PLANNED_GRID_YEAR]
    return models, planned


_MODEL_CACHE: OrderedDict = OrderedDict()
_MODEL_CACHE_SIZE = 12
#: the layers a grid model is built from (plus the embedded municipalities of the demand key)
_GRID_LAYERS = ("substations", "circuits", "transformers", "plants", "offshore", "interconnectors")


def _grid_fingerprint(layers: Layers) -> str:
    """A digest of the layers a grid model depends on: equal digests, equal models."""
    import hashlib

    h = hashlib.sha256()
    for name in _GRID_LAYERS:
        gdf = layers[name]
        h.update(name.encode())
        h.update(pd.util.hash_pandas_object(gdf.drop(columns="geometry").astype(str), index=True).to_numpy().tobytes())
        h.update(b"".join(gdf.geometry.to_wkb().tolist()))
    return h.hexdigest()


def _model_key(fingerprint: str, sc: Scenario, grid_year: int, secure: bool) -> tuple:
    """The model cache's key: layer content, scenario content, grid year and securing."""
    return fingerprint, sc.model_dump_json(), grid_year, bool(secure)


def _cache_model(key: tuple, model: GridModel) -> None:
    _MODEL_CACHE[key] = model
    _MODEL_CACHE.move_to_end(key)
    while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
        _MODEL_CACHE.popitem(last=False)


def _secured_model(layers: Layers, scenario, grid_year: int, secure: bool = True) -> GridModel:
    """``GridModel.from_layers(layers, scenario, grid_year, secure=secure)``, built once per
    process for the same layer content, scenario content, grid year and securing — an
    evaluation builds four models (five with a year) and a study script runs many evaluations
    on the same grid. The model is shared: its checks do not change it (it keeps its hosting
    tables, and its year of situations and hourly grid). Models built on a Dask cluster
    (``evaluate(..., client=)``) join the same cache."""
    sc = load_scenario(scenario)
    key = _model_key(_grid_fingerprint(layers), sc, grid_year, secure)
    if key in _MODEL_CACHE:
        _MODEL_CACHE.move_to_end(key)
        model = _MODEL_CACHE[key]
        if model.scenario is not sc:  # same content read again (maybe from another file): the
            import copy  # evaluation's model carries what was read now, for provenance

            model = copy.copy(model)
            model.scenario = sc
        return model
    model = GridModel.from_layers(layers, scenario=sc, grid_year=grid_year, secure=secure)
    _cache_model(key, model)
    return model


def check_study(it_load_mw, pue, pf, year, policy=None, free_cooling_c=FREE_COOLING_C) -> tuple:
    """The study parameters shared by :func:`evaluate` and :func:`siting.surface`, checked
    (:mod:`siting._validate`): ``(grid_load_mw, it_load_mw, pue, pf, year, free_cooling_c)``
    in their canonical types."""
    grid_load = V.grid_load_mw(it_load_mw, pue)
    pf = V.power_factor(pf)
    year = V.year(year)
    V.choice(policy, "policy", ("hard", "soft", "off"))
    free_cooling_c = V.free_cooling_c(free_cooling_c)
    return grid_load, float(it_load_mw), float(pue), pf, year, free_cooling_c


def check_rasters(rasters, crits: CriteriaSet) -> dict:
    """User rasters checked (:func:`siting._validate.rasters`: names ``raster_<name>``, files
    that exist) and matched to the criteria: every raster metric a criterion uses is given.
    Cheap: callers check before any long computation."""
    rasters = V.rasters(rasters)
    used = {m for c in crits.criterion for m in (c.metric, c.conditional_metric) if m and m.startswith("raster_")}
    missing = sorted(used - set(rasters))
    if missing:
        raise ParameterError("rasters", rasters or None, "a dict {'raster_<name>': path} with every raster metric "
                             "the criteria use", problem=f"the criteria use raster metric(s) {missing}, not given",
                             fix=f"add them, e.g. rasters={{{missing[0]!r}: 'file.tif'}}, or use criteria without them")
    return rasters


def check_climate(climate) -> Path | None:
    """The hourly climate file of a study: None (the embedded normals) or an existing file."""
    if climate is None:
        return None
    return V.existing_file(climate, "climate", what="NetCDF file of hourly air temperature",
                           hint="check the path, or leave it out (None) for the embedded KNMI normals")


def check_situations(situations) -> str:
    """'snapshots' (None or "snapshots") or 'year' ("year" or a Situations); anything else named."""
    from .grid.year import Situations

    if situations is None or (isinstance(situations, str) and situations == "snapshots"):
        return "snapshots"
    if isinstance(situations, Situations) or (isinstance(situations, str) and situations == "year"):
        return "year"
    raise ParameterError("situations", situations, "'year', a Situations (siting.situations(...)) or None",
                         problem=(f"{situations!r} is not one of them" if isinstance(situations, str)
                                  else f"{type_phrase(situations)} is none of these"),
                         fix="use {=situations:'year'} for the study year's hourly situations, or leave it out "
                             "for the dispatch snapshots")


def _year_situations(situations, layers: Layers, year: int, scenario):
    """The year's situations and the model they run on: the given Situations' scenario, or the
    study year's base scenario (the first named one when `scenario` is given), on the study
    year's grid with the market dispatch — each hour is secured by itself (as ``siting year``),
    not by the snapshot's redispatch."""
    from .grid.year import Situations, base_scenario

    if isinstance(situations, Situations):
        name = situations.scenario
    else:
        name = base_scenario(year) if scenario is None else study_scenarios(year, scenario)[0]
    model = _secured_model(layers, name, year, secure=False)
    return (situations if isinstance(situations, Situations) else model.situations()), model


def check_sensitivity(n, seed=0, top_k=5, concentration=100.0) -> tuple[int, int, int, float]:
    """The arguments of :meth:`Evaluation.sensitivity`, checked (:mod:`siting._validate`)."""
    n = V.count(n, "n", hi=1_000_000, why="the number of Monte Carlo draws", example=500)
    seed = V.seed(seed)
    top_k = V.count(top_k, "top_k", why="k of the probability of a rank ≤ k", example=5)
    concentration = V.number(concentration, "concentration", lo=0.0, lo_open=True, example=100,
                             why="the sum of the Dirichlet parameters of the weights")
    return n, seed, top_k, concentration


def evaluate(
    it_load_mw: float = 300.0,
    pue: float = 1.2,
    pf: float = 0.98,
    year: int = 2030,
    scenario: str | PathLike[str] | list | None = None,
    criteria: str | PathLike[str] | CriteriaSet = "ecorys-2025",
    layers: Layers | None = None,
    sites: gpd.GeoDataFrame | None = None,
    policy: str | None = None,
    rasters: dict | None = None,
    climate: str | PathLike[str] | None = None,
    free_cooling_c: float = FREE_COOLING_C,
    situations=None,
    client=None,
) -> Evaluation:
    """Judge every candidate site against the report's conditions.

    Parameters
    ----------
    it_load_mw : float
        IT load of the AIGF [MW] (report: 200–300 MW).
    pue : float
        Power usage effectiveness; the grid load is ``it_load_mw × pue`` [MW].
    pf : float
        Power factor of the grid load (lagging).
    year : int
        Study year: stations and offshore landings in service by then count now; later or
        undated ones make a condition *conditional*.
    scenario : str, path or list, optional
        Dispatch scenario(s) for the grid check; the grid condition must hold in all. Default:
        every shipped scenario of the study year.
    criteria : str, path or CriteriaSet
        Criteria file (default the shipped ``ecorys-2025``).
    layers : Layers, optional
        Default: the embedded Netherlands layers.
    sites : GeoDataFrame or path, optional
        Sites to judge instead of ``layers.sites``: a GeoDataFrame, or the path of a file read
        like the sites layer (:func:`siting.read_layer`).
    policy : {"hard", "soft", "off"}, optional
        Treatment of the national hyperscale policy criterion; default as in the criteria file.
    rasters : dict, optional
        ``{"raster_<name>": path}``: user rasters (GeoTIFF or NetCDF) as metrics, the zonal mean
        over each site; criteria may name them.
    climate : path, optional
        NetCDF of hourly air temperature (ERA5 ``t2m`` or KNMI-style station ``ta``) for the
        free-cooling hours; default the embedded KNMI normals (``layers.climate``).
    free_cooling_c : float
        Dry-bulb threshold of free cooling [°C] (default 20, indicative; see
        :mod:`siting.climate`).
    situations : "year" or Situations, optional
        A year of hourly situations beside the snapshots (Ecorys 2025 §4.1, §7.1): ``"year"``
        builds the study year's (:meth:`GridModel.situations` on its base scenario, the shipped
        profiles); or pass your own :class:`~siting.grid.year.Situations`. Adds
        ``grid_curtailment_hours``, ``grid_year_firm_mw`` and ``offshore_energy_share``, and
        applies the criteria marked ``situations = "year"`` instead of those marked
        ``"snapshots"`` (shipped: S8 on curtailment hours instead of the share of scenarios, and
        the offshore energy share of a directly coupled site). Default: the snapshots only.
    client : dask.distributed.Client, optional
        Build the grid models on this Dask cluster: one task per scenario and grid (the study
        year's and the planned one), each securing its model and computing the hosting capacity
        and N-1 load checks at the candidates' connection buses. The result equals the
        single-process one exactly (the same code runs on the workers). Models already built
        in this process are reused, not sent; the models that come back join this process's
        cache and ``Evaluation.models`` (their solver is rebuilt here on first use, e.g. by
        :meth:`Evaluation.capacity_check`). With `situations`, the AC hosting of the hours
        that decide the year's values runs there too, one task per hour; the rest of the year,
        the spatial metrics and the judging run in this process. The workers must be able to
        import ``siting``.

    Returns
    -------
    Evaluation
        ``.table``: GeoDataFrame, one row per site, sorted by rank: ``id``, ``name``,
        ``verdict``, ``score``, ``rank``, ``reasons``, the connection ``bus``, and per criterion
        ``<id>`` (metric value), ``<id>_result`` (pass/conditional/fail, or the soft score) and
        ``<id>_why`` (explanation citing the report section).

    Examples
    --------
    >>> import siting
    >>> ev = siting.evaluate(year=2026, scenario="winter-peak-2026")  # doctest: +SKIP
    >>> from dask.distributed import Client, LocalCluster  # the grid models on a cluster
    >>> with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:  # doctest: +SKIP
    ...     ev = siting.evaluate(client=client)
    """
    grid_load, it_load_mw, pue, pf, year, free_cooling_c = check_study(it_load_mw, pue, pf, year, policy,
                                                                       free_cooling_c)
    V.instance(layers, "layers", Layers, what="a Layers (siting.load_layers())", fix="use e.g. layers=siting.load_layers()")
    sites = V.geo_frame(sites, "sites")
    if sites is not None and not isinstance(sites, gpd.GeoDataFrame):
        V.existing_file(sites, "sites", what="sites file (GeoPackage, GeoJSON, Shapefile, FlatGeobuf, GeoParquet, CSV)")
    check_climate(climate)
    kind = check_situations(situations)
    if client is not None:
        from ._tiled import check_client

        check_client(client)
    crits = load_criteria(criteria).for_situations(kind).with_policy(policy)
    rasters = check_rasters(rasters, crits)
    study_scenarios(year, scenario)
    layers = layers if layers is not None else load_layers()
    if not isinstance(sites, (gpd.GeoDataFrame, type(None))):
        sites = read_layer(sites, "sites", boundary=layers.boundary)
    cands = candidates(layers, year=year, sites=sites)
    models, planned = _grid_models(layers, year, scenario, client=client, buses=cands["bus"], grid_load_mw=grid_load,
                                   pf=pf)
    grid = grid_metrics(cands, models, grid_load, pf, planned=planned)
    field_ = climate_field(layers, free_cooling_c, climate)
    metrics = spatial_metrics(cands, layers, year, grid_load, climate=field_).join(grid)
    year_info, year_data = None, None
    if kind == "year":
        sit, base = _year_situations(situations, layers, year, scenario)
        ym, year_data = year_metrics(cands, metrics, base, sit, grid_load, client=client)
        metrics = metrics.join(ym)
        year_info = f"{sit.n_hours} hours of {year}, base scenario {sit.scenario}"
    metrics = _with_rasters(metrics, rasters, crits, lambda path: zonal_mean(path, cands))
    verdict, score, hard, soft = _judge(crits, metrics)
    ids = cands["id"].astype(str).to_numpy()
    rank = _rank(verdict, score, ids)

    table = gpd.GeoDataFrame(
        {
            "id": ids,
            "name": cands["name"].astype(str).to_numpy(),
            "verdict": [VERDICTS[v] for v in verdict],
            "score": np.round(score, 4),
            "rank": rank,
            "grid_load_mw": grid_load,
            "bus": cands["bus"].to_numpy(),
            "bus_kv": cands["bus_kv"].to_numpy(),
            "bus_dist_km": np.round(cands["bus_dist_km"].to_numpy(float), 2),
        },
        geometry=cands.geometry.to_numpy(),
        crs=cands.crs,
        index=cands.index,
    )
    reasons = [[] for _ in range(len(table))]
    for c in crits.criterion:
        unit = METRICS.get(c.metric, ("", ""))[0]
        values = metrics[c.metric]
        table[c.id] = values.to_numpy()
        if c.kind == "hard":
            status = hard[c.id]
            table[f"{c.id}_result"] = [_STATUS[s] for s in status]
            op = "≥" if c.min is not None else "≤" if c.max is not None else "="
            target = _fmt(c.threshold, unit) if c.require is None else ("yes" if c.require else "no")
            whys = []
            for i, (v, s) in enumerate(zip(values, status)):
                why = f"{c.title}: {_fmt(v, unit)} (needs {op} {target}) → {_STATUS[s]} [{c.section}]"
                if s == _COND:
                    why += "; " + _conditional_why(c, metrics, i, unit)
                whys.append(why)
                if s != _PASS:
                    reasons[i].append(why)
            table[f"{c.id}_why"] = whys
        else:
            table[f"{c.id}_result"] = np.round(soft[c.id], 4)
            table[f"{c.id}_why"] = [f"{c.title}: {_fmt(v, unit)} → score {sc:.2f} × weight {c.weight:.2f} [{c.section}]"
                                    for v, sc in zip(values, soft[c.id])]
    for name in models:
        for col in (f"firm_mw@{name}", f"with_redispatch_mw@{name}", f"redispatch_mw@{name}", f"grid_limit@{name}",
                    f"grid_check@{name}"):
            table[col] = metrics[col].to_numpy()
    table.insert(5, "reasons", ["; ".join(r) if r else "all hard conditions hold now" for r in reasons])
    table.insert(6, "borderline", _borderline(crits, metrics, grid_load))
    table = table.sort_values("rank").reset_index(drop=True)
    metrics = metrics.assign(id=ids).set_index("id").loc[table["id"]]
    params = {"it_load_mw": float(it_load_mw), "pue": float(pue), "grid_load_mw": grid_load, "pf": float(pf),
              "year": year, "scenarios": list(models), "criteria": crits.name, "policy": policy,
              "free_cooling_c": field_.threshold_c, "climate": field_.source, "situations": year_info,
              "rasters": {k: str(v) for k, v in (rasters or {}).items()}}
    return Evaluation(table=table, metrics=metrics.reset_index(drop=True), criteria=crits, params=params, layers=layers,
                      models=models, year=year_data)


def _conditional_why(c: Criterion, metrics: pd.DataFrame, i: int, unit: str) -> str:
    """What makes a hard criterion conditional for row `i`, in words."""
    if c.conditional_metric == "grid_headroom_conditional_mw":
        parts = []
        rd = metrics["grid_headroom_redispatch_mw"].iloc[i]
        pl = metrics["grid_headroom_planned_mw"].iloc[i]
        if rd >= 0:
            parts.append(f"holds with a preventive redispatch for the load (headroom {_fmt(rd, unit)}; a non-firm "
                         "arrangement with TenneT)")
        if pl >= 0:
            parts.append(f"holds once the planned reinforcements are in service (headroom {_fmt(pl, unit)})")
        return "; ".join(parts)
    return f"holds with planned elements ({_fmt(metrics[c.conditional_metric].iloc[i], unit)})"


def _worst_hosting(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per bus, the scenario with the lowest firm hosting (and its limit), the lowest
    with-redispatch hosting over the scenarios; ``limiting_case`` names the scenario."""
    rows = []
    for bus in next(iter(tables.values())).index:
        firm = {s: t.at[bus, "firm_mw"] for s, t in tables.items() if bus in t.index}
        s_min = min(firm, key=firm.get)
        t = tables[s_min]
        rows.append({
            "bus": bus, "firm_mw": firm[s_min],
            "with_redispatch_mw": np.nanmin([tt.at[bus, "with_redispatch_mw"] for tt in tables.values() if bus in tt.index])
            if any(pd.notna(tt.at[bus, "with_redispatch_mw"]) for tt in tables.values() if bus in tt.index) else np.nan,
            "limiting_element": t.at[bus, "limiting_element"],
            "limiting_case": f"{t.at[bus, 'limiting_case']} ({s_min})" if t.at[bus, "limiting_case"] else "",
            "constraint": t.at[bus, "constraint"],
        })
    return pd.DataFrame(rows).set_index("bus")


#: a result within this share of the load (grid headroom) or of a threshold could flip
BORDERLINE_SHARE = 0.10


def _borderline(crits: CriteriaSet, metrics: pd.DataFrame, grid_load_mw: float) -> list[str]:
    """Per site, the hard conditions whose verdict would flip within ±10 % of the grid load (for
    headroom metrics, in MW of load) or of the threshold (others), in words; empty when none.
    One entry per condition: the first of its metrics (main, then conditional) that is near."""
    out = [[] for _ in range(len(metrics))]
    for c in crits.hard:
        if c.threshold is None:
            continue
        seen: set[int] = set()
        for metric in filter(None, (c.metric, c.conditional_metric)):
            if metric not in metrics:
                continue
            v = metrics[metric].to_numpy(dtype=float, na_value=np.nan)
            if metric.startswith("grid_headroom"):
                band = BORDERLINE_SHARE * grid_load_mw
                what = f"within ±10 % of the load ({band:.0f} MW) of flipping"
            else:
                band = BORDERLINE_SHARE * max(abs(c.threshold), 1e-9)
                what = f"within ±10 % of the threshold {_fmt(c.threshold, METRICS.get(c.metric, ('', ''))[0])}"
            unit = METRICS.get(metric, ("", ""))[0]
            near = np.abs(v - c.threshold) <= band
            for i in np.flatnonzero(near):
                if i in seen:
                    continue
                seen.add(i)
                label = "" if metric == c.metric else " (planned/conditional value)"
                out[i].append(f"{c.title}: {_fmt(v[i], unit)}{label} is {what}")
    return ["; ".join(x) for x in out]
