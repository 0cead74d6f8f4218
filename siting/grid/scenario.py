"""Dispatch scenarios for the power flow, as data (``data/scenarios/*.toml``).

A scenario says which year the grid is taken in (planned stations and circuits with a year up to
it are in, rows whose ``until_year`` is before it are out), how much demand the EHV grid serves
and how it is spread over the stations (a documented key), what the plants, offshore wind and
interconnectors produce, and how a change in load is balanced (distributed slack).

Users add a scenario by adding a file to ``data/scenarios/`` or by passing a path.
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .._config import load_named
from .._validate import Integer, Number
from ..errors import ConfigError

__all__ = ["Scenario", "Remedial", "load_scenario", "list_scenarios", "scenario_dir"]

FUELS = ("coal", "gas", "nuclear", "biomass", "waste", "wind_onshore", "solar", "other")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Demand(_Frozen):
    """National demand served from the EHV grid and the key that spreads it over stations.

    The key: ``industry_share`` of ``total_mw`` goes to stations by the weights in ``industry``;
    the rest goes to stations in proportion to the inhabitants (CBS 2023) of the municipalities
    whose representative point is nearest to them among the in-service EHV stations (at a
    station with two levels, to its 220 kV bus).
    """

    total_mw: Number = Field(gt=0, le=100_000, description="Demand served from the 380/220 kV grid [MW].")
    power_factor: Number = Field(default=0.98, ge=0.5, le=1, description="lagging, as siting._validate.PF_RANGE")
    industry_share: Number = Field(default=0.3, ge=0, le=1)
    industry: dict[str, Number] = Field(default_factory=dict, description="station slug -> weight")


class Dispatch(_Frozen):
    """Plant output: fixed fractions of capacity for must-run fuels, then a merit order that
    fills the residual demand up to the available fraction of each dispatchable fuel."""

    must_run: dict[str, Number] = Field(default_factory=dict, description="fuel -> fraction of capacity")
    merit_order: tuple[str, ...] = ("biomass", "coal", "gas", "other")
    available: dict[str, Number] = Field(default_factory=dict, description="fuel -> max fraction")

    @model_validator(mode="after")
    def _fuels(self) -> Dispatch:
        for table in (self.must_run, self.available):
            for fuel, frac in table.items():
                if fuel not in FUELS:
                    raise ValueError(f"unknown fuel {fuel!r}; use one of {', '.join(FUELS)}")
                if not 0 <= frac <= 1:
                    raise ValueError(f"fraction for {fuel} must be in [0, 1], got {frac}")
        for fuel in self.merit_order:
            if fuel not in FUELS:
                raise ValueError(f"unknown fuel {fuel!r} in merit_order; use one of {', '.join(FUELS)}")
        return self


class Offshore(_Frozen):
    """Offshore-wind output as a fraction of each connection's capacity, and which connections
    inject: ``basis = "producing"`` (default) once the wind farm produces (``producing_year`` of
    the offshore layer; grid-ready is not producing), ``"grid_ready"`` once the connection is in
    service (a planning view)."""

    capacity_factor: Number = Field(ge=0, le=1)
    basis: Literal["producing", "grid_ready"] = "producing"
    include: tuple[str, ...] = Field(default=(), description="connection ids that inject whatever their year "
                                     "and status (e.g. a planning view of a programme since delayed)")
    per_connection: dict[str, Number] = Field(default_factory=dict, description="offshore id -> fraction")


class Exchange(_Frozen):
    """Interconnector exchanges, + = import into NL [MW].

    ``hvdc`` fixes each HVDC link (by interconnector id). ``ac_import_mw`` is the net import over
    the AC ties, spread over the boundary-equivalent nodes in proportion to the tie ratings.
    """

    hvdc: dict[str, Number] = Field(default_factory=dict)
    ac_import_mw: Number = 0.0


class Slack(_Frozen):
    """How a change in load (the AIGF) and the losses are balanced: distributed slack over the
    dispatchable plants that run (weight ∝ capacity) and the AC boundary equivalents, which
    together take ``import_share`` of it; ``reference`` is the angle reference node."""

    reference: str = "xb-niederrhein-de-380"
    import_share: Number = Field(default=0.5, ge=0, le=1)


class Remedial(_Frozen):
    """The remedial actions the operator may take to make the scenario N-1 secure (and to make
    room for a load "with redispatch"), and what each costs per MW (relative units; the securing
    LP minimises the total). See :mod:`siting.grid.secure`."""

    target_loading_pct: Number = Field(default=100.0, gt=0, le=200,
                                      description="Loading every branch must stay within, in every N-1 case [%].")
    countertrade_max_mw: Number = Field(default=1000.0, ge=0,
                                       description="Largest change of the net AC import by countertrading [MW].")
    curtail: tuple[str, ...] = Field(default=("offshore_wind", "wind_onshore"),
                                     description="Technologies that may be curtailed (last resort).")
    cost_phase_shifter: Number = Field(default=0.1, ge=0)
    cost_plant: Number = Field(default=1.0, ge=0)
    cost_hvdc: Number = Field(default=1.5, ge=0)
    cost_countertrade: Number = Field(default=3.0, ge=0)
    cost_curtailment: Number = Field(default=10.0, ge=0)

    @model_validator(mode="after")
    def _curtail_known(self) -> Remedial:
        for tech in self.curtail:
            if tech not in ("offshore_wind", *FUELS):
                raise ValueError(f"unknown technology {tech!r} in remedial.curtail; use offshore_wind or one of "
                                 f"{', '.join(FUELS)}")
        return self


class Scenario(_Frozen):
    """One dispatch scenario. See ``data/scenarios/*.toml`` for documented examples."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    year: Integer = Field(ge=2000, le=2100)
    description: str = ""
    sources: str = ""
    demand: Demand
    dispatch: Dispatch
    offshore: Offshore
    exchange: Exchange = Exchange()
    slack: Slack = Slack()
    remedial: Remedial = Remedial()
    vm_gen_pu: Number = Field(default=1.03, gt=0.9, lt=1.1, description="voltage set point of plants")
    vm_boundary_pu: Number = Field(default=1.02, gt=0.9, lt=1.1, description="voltage of boundary equivalents")


def scenario_dir() -> Path:
    """Folder of the shipped scenarios."""
    from ..layers import embedded_data_dir

    return embedded_data_dir() / "scenarios"


def list_scenarios() -> list[str]:
    """Names of the shipped scenarios."""
    folder = scenario_dir()
    return [p.stem for p in sorted(folder.glob("*.toml"))] if folder.is_dir() else []


def load_scenario(scenario: str | PathLike[str] | Scenario) -> Scenario:
    """A scenario by shipped name (``"winter-peak-2026"``), by TOML path, or as given.

    Raises
    ------
    ConfigError
        Unknown name (the message lists the shipped ones), unreadable or invalid file.
    """
    return load_named(scenario, scenario_dir(), Scenario, "scenario")
