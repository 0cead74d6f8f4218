"""The report's conditions as criteria: data (``data/criteria/*.toml``), parsed into typed,
frozen objects that reject unknown keys, unknown metrics, inverted thresholds and bad weights.
A file is checked completely when it is loaded: numbers finite (the rules of
:mod:`siting._validate`), ``require`` only on yes/no metrics and ``min``/``max`` only on
numeric ones, and every ``fix`` template rendered once against its placeholders.

A **hard** criterion passes, is *conditional* (it passes on its ``conditional_metric`` — an
arrangement still to be made, e.g. a planned station or landing), or fails. A **soft** criterion
scores 0–1 through a transform (``step``, ``linear`` or ``piecewise`` over ``points``) and weighs
in the total score; soft weights sum to 1. Every criterion cites its report section.
"""

from __future__ import annotations

import math
import string
from os import PathLike
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ._config import load_named
from ._validate import Number
from .errors import ConfigError
from .metrics import METRICS

__all__ = ["Criterion", "CriteriaSet", "load_criteria", "criteria_dir", "FIX_FIELDS"]

#: The placeholders of a criterion's ``fix`` template, with the sample values it is rendered
#: against when the file is loaded (:meth:`Evaluation.what_it_would_take` fills them per site).
FIX_FIELDS = {"gap": 12.5, "value": 7.5, "threshold": 20.0, "unit": "km", "bus": "maasvlakte-380",
              "grid_load_mw": 360.0}


def _is_bool_metric(metric: str) -> bool:
    """True for a yes/no metric (unit ``bool`` in :data:`siting.metrics.METRICS`); user rasters
    (``raster_*``) are numeric."""
    return METRICS.get(metric, ("",))[0] == "bool"


class Criterion(BaseModel):
    """One condition of the report as a measurable criterion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    metric: str
    kind: Literal["hard", "soft"]
    section: str = Field(min_length=1, description="report section(s), e.g. '§5.3.1', or 'policy'")
    rationale: str = Field(min_length=1)
    policy: bool = Field(default=False, description="true for conditions beyond the report (national policy)")
    references: tuple[str, ...] = Field(default=(), description="public sources beyond the report: title, publisher, date")
    # hard
    min: Number | None = None
    max: Number | None = None
    require: bool | None = None
    conditional_metric: str | None = None
    range: tuple[Number, Number] | None = Field(default=None, description="threshold uncertainty for sensitivity")
    fix: str = Field(default="", description="what it would take, with {gap} {value} {threshold} {unit} {bus} {grid_load_mw}")
    # soft
    transform: Literal["step", "linear", "piecewise"] | None = None
    points: tuple[tuple[Number, Number], ...] | None = None
    weight: Number | None = None
    jitter: Number = Field(default=0.0, ge=0, lt=1, description="relative jitter of the x points for sensitivity")
    situations: Literal["snapshots", "year"] | None = Field(
        default=None, description="only in a study of the dispatch snapshots, or only with a year of hourly situations "
                                  "(evaluate(situations='year')); default both")

    @field_validator("metric", "conditional_metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in METRICS and not value.startswith("raster_"):
            raise ValueError(f"unknown metric {value!r}; known metrics: {', '.join(METRICS)}, "
                             "or raster_<name> for a user raster passed as rasters={...}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Criterion:
        self._check_fix()
        if self.kind == "hard":
            given = [x is not None for x in (self.min, self.max, self.require)]
            if sum(given) != 1:
                raise ValueError(f"hard criterion '{self.id}' needs exactly one of min, max or require")
            for metric in filter(None, (self.metric, self.conditional_metric)):
                if self.require is not None and not _is_bool_metric(metric):
                    raise ValueError(
                        f"criterion '{self.id}': require = {str(self.require).lower()} applies to a yes/no metric, "
                        f"but {metric!r} is a number ({METRICS.get(metric, ('', ''))[0] or 'user raster'}); "
                        f"write a threshold instead, e.g. min = ... or max = ...")
                if self.require is None and _is_bool_metric(metric):
                    raise ValueError(
                        f"criterion '{self.id}': {metric!r} is a yes/no metric; write require = true (or false) "
                        "instead of a min or max")
            if self.transform or self.points or self.weight is not None:
                raise ValueError(f"hard criterion '{self.id}' takes no transform, points or weight; make it soft to score it")
            if self.range is not None:
                lo, hi = self.range
                threshold = self.min if self.min is not None else self.max
                if threshold is None:
                    raise ValueError(f"criterion '{self.id}': range applies to a min or max threshold")
                if not lo < hi:
                    raise ValueError(f"criterion '{self.id}': range [{lo}, {hi}] is inverted; write [low, high]")
                if not lo <= threshold <= hi:
                    raise ValueError(f"criterion '{self.id}': range [{lo}, {hi}] must contain the threshold {threshold}")
        else:
            if self.transform is None or self.points is None or self.weight is None:
                raise ValueError(f"soft criterion '{self.id}' needs transform, points and weight")
            if self.weight < 0:
                raise ValueError(f"criterion '{self.id}': weight {self.weight} is negative")
            if any(x is not None for x in (self.min, self.max, self.require, self.conditional_metric, self.range)):
                raise ValueError(f"soft criterion '{self.id}' takes no min/max/require/conditional_metric/range")
            xs = [p[0] for p in self.points]
            ys = [p[1] for p in self.points]
            need = 1 if self.transform == "step" else 2
            if len(self.points) < need or (self.transform == "linear" and len(self.points) != 2):
                raise ValueError(f"criterion '{self.id}': a {self.transform} transform needs "
                                 f"{'one point [threshold, score above]' if need == 1 else 'two points' if self.transform == 'linear' else 'two or more points'}")
            if any(b <= a for a, b in zip(xs, xs[1:])):
                raise ValueError(f"criterion '{self.id}': point x values {xs} must increase strictly (thresholds inverted?)")
            if any(not 0 <= y <= 1 for y in ys):
                raise ValueError(f"criterion '{self.id}': scores {ys} must lie in [0, 1]")
        return self

    def _check_fix(self) -> None:
        """Render the ``fix`` template once against :data:`FIX_FIELDS`: an unknown placeholder
        or a bad format is found when the file is loaded, not after the study has run."""
        if not self.fix:
            return
        known = ", ".join("{" + k + "}" for k in FIX_FIELDS)
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.fix) if f is not None]
        except ValueError as exc:
            raise ValueError(f"criterion '{self.id}': fix template {self.fix!r} is malformed ({exc}); write "
                             "literal braces as {{ and }}") from None
        for f in fields:
            root = f.split(".")[0].split("[")[0]
            if root not in FIX_FIELDS:
                what = "an empty placeholder {}" if not f else f"unknown placeholder {{{f}}}"
                raise ValueError(f"criterion '{self.id}': fix template has {what}; the placeholders are {known} "
                                 "(literal braces are written {{ and }})")
        try:
            self.fix.format(**FIX_FIELDS)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:
            raise ValueError(f"criterion '{self.id}': fix template {self.fix!r} cannot be rendered ({exc}); "
                             f"e.g. gap, value, threshold and grid_load_mw are numbers ({{gap:.0f}}), unit and bus "
                             "text ({bus})") from None

    @property
    def threshold(self) -> float | None:
        return self.min if self.min is not None else self.max

    def judge(self, values: pd.Series, threshold: float | None = None) -> np.ndarray:
        """Hard: boolean pass per value (NaN fails). `threshold` overrides min/max."""
        v = values.to_numpy(dtype=float, na_value=np.nan) if self.require is None else values.to_numpy(dtype=object)
        if self.require is not None:
            return np.array([bool(x) == self.require if x is not None and x is not pd.NA else False for x in v])
        t = self.threshold if threshold is None else threshold
        with np.errstate(invalid="ignore"):
            return np.nan_to_num(v >= t if self.min is not None else v <= t, nan=False).astype(bool)

    def score(self, values: pd.Series, points: np.ndarray | None = None) -> np.ndarray:
        """Soft: score in [0, 1] per value (NaN scores 0). `points` overrides the file's."""
        pts = np.asarray(self.points if points is None else points, dtype=float)
        v = values.astype(float).to_numpy(dtype=float, na_value=np.nan)
        if self.transform == "step":
            threshold, above = pts[0]
            out = np.where(v >= threshold, above, 1.0 - above)
        else:
            out = np.interp(v, pts[:, 0], pts[:, 1])
        return np.where(np.isnan(v), 0.0, out)


class CriteriaSet(BaseModel):
    """A criteria file: its criteria, whose soft weights sum to 1."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    title: str
    source: str
    built_up_buffer_m: Number = Field(default=500.0, ge=0, le=10_000,
                                     description="surfaces exclude built-up land and this buffer around it [m]")
    criterion: tuple[Criterion, ...]

    @model_validator(mode="after")
    def _weights(self) -> CriteriaSet:
        ids = [c.id for c in self.criterion]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"duplicate criterion ids {dup}")
        for mode, total in _soft_totals(self.criterion).items():
            if total is not None and not math.isclose(total, 1.0, abs_tol=1e-6):
                which = f" of a study with situations = '{mode}'" if mode else ""
                raise ValueError(f"soft weights{which} sum to {total:.4f}, not 1; scale them so they add up to 1"
                                 + (" (criteria with situations = 'snapshots' or 'year' count only in that study; "
                                    "each kind of study must add up to 1)" if mode else ""))
        if not any(c.kind == "hard" for c in self.criterion):
            raise ValueError("a criteria set needs at least one hard criterion")
        return self

    @property
    def hard(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criterion if c.kind == "hard")

    @property
    def soft(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criterion if c.kind == "soft")

    def for_situations(self, situations: Literal["snapshots", "year"]) -> CriteriaSet:
        """The criteria of a study of the dispatch snapshots (``"snapshots"``) or of a year of
        hourly situations (``"year"``): those marked for the other kind dropped, the rest kept
        (unmarked). The set itself when no criterion is marked."""
        if situations not in ("snapshots", "year"):
            raise ConfigError(f"situations must be 'snapshots' or 'year', got {situations!r}")
        if all(c.situations is None for c in self.criterion):
            return self
        kept = tuple(c.model_copy(update={"situations": None}) for c in self.criterion
                     if c.situations in (None, situations))
        return CriteriaSet(name=self.name, title=self.title, source=self.source,
                           built_up_buffer_m=self.built_up_buffer_m, criterion=kept)

    def with_policy(self, mode: Literal["hard", "soft", "off"] | None) -> CriteriaSet:
        """The same set with the policy criteria (``policy = true``, beyond the report) made
        hard, soft (a step on the flag, weight 0.1 before renormalising), dropped (``off``), or
        as in the file (None). Soft weights are renormalised to sum to 1."""
        if mode is None:
            return self
        if mode not in ("hard", "soft", "off"):
            raise ConfigError(f"policy mode must be 'hard', 'soft' or 'off', got {mode!r}")
        out = []
        for c in self.criterion:
            if not c.policy or c.kind == mode:
                out.append(c)
            elif mode == "hard":
                out.append(c.model_copy(update={"kind": "hard", "require": True, "transform": None, "points": None,
                                                "weight": None, "jitter": 0.0}))
            elif mode == "soft":
                out.append(c.model_copy(update={"kind": "soft", "require": None, "min": None, "max": None,
                                                "conditional_metric": None, "range": None, "transform": "step",
                                                "points": ((0.5, 1.0),), "weight": 0.1}))
        totals = [t or 0.0 for t in _soft_totals(out).values()]
        if any(not math.isclose(t, totals[0], rel_tol=1e-9) for t in totals):
            raise ConfigError("with_policy cannot renormalise the soft weights of both kinds of study at once "
                              "(the policy criterion weighs differently in each): call for_situations('snapshots') "
                              "or for_situations('year') first")
        total = totals[0]
        out = [c.model_copy(update={"weight": c.weight / total}) if c.kind == "soft" and total > 0 else c for c in out]
        return CriteriaSet(name=self.name, title=self.title, source=self.source,
                           built_up_buffer_m=self.built_up_buffer_m, criterion=tuple(out))


def _soft_totals(criteria) -> dict[str | None, float | None]:
    """Sum of the soft weights per kind of study the criteria are marked for (``{None: ...}``
    when none is marked); None where a kind has no soft criterion."""
    modes = sorted({c.situations for c in criteria if c.situations is not None}) or [None]
    out: dict[str | None, float | None] = {}
    for mode in modes:
        soft = [c.weight for c in criteria if c.kind == "soft" and c.situations in (None, mode)]
        out[mode] = sum(soft) if soft else None
    return out


def criteria_dir() -> Path:
    from .layers import embedded_data_dir

    return embedded_data_dir() / "criteria"


def load_criteria(criteria: str | PathLike[str] | CriteriaSet = "ecorys-2025") -> CriteriaSet:
    """A criteria set by shipped name (``"ecorys-2025"``), TOML path, or as given. To adapt
    it, copy ``data/criteria/ecorys-2025.toml`` and pass the copy's path."""
    return load_named(criteria, criteria_dir(), CriteriaSet, "criteria")
