"""`GridModel`: a pandapower network of the EHV grid with a scenario, and the checks on it.

>>> import siting
>>> model = siting.GridModel.from_layers(scenario="winter-peak-2026")
>>> result = model.check_load("maasvlakte-380", p_mw=300 * 1.2)
>>> table = model.hosting_capacity()
"""

from __future__ import annotations

import copy
import difflib
import math
from dataclasses import dataclass, field
from functools import cached_property
from os import PathLike

import geopandas as gpd
import numpy as np
import pandapower as pp
import pandas as pd

from ..errors import ConfigError, SitingError
from ..layers import Layers, load_layers
from .acpf import ACGrid
from .build import build_network
from .hosting import CaseSet, HostingSearch, Limits, case_label, element_label
from .scenario import Scenario, load_scenario

__all__ = ["GridModel", "LoadCheck", "CouplingResult", "MAX_LOAD_MW"]

#: An added load above this is taken for a typo (the whole Dutch peak is ~20 GW).
MAX_LOAD_MW = 10_000.0


@dataclass(frozen=True)
class LoadCheck:
    """Result of :meth:`GridModel.check_load`.

    ``passed`` is True when the load creates no violation, and worsens no existing one beyond
    the tolerance, in the base case and (with N-1) every single-circuit outage; a case that
    does not converge is a violation. ``violations`` has one row per violated constraint:
    ``element, case, kind (thermal|voltage|convergence), value, limit``.
    """

    bus: str
    p_mw: float
    q_mvar: float
    n_minus_1: bool
    passed: bool
    converged: bool
    base_max_loading_pct: float
    base_vm_min_pu: float
    base_vm_max_pu: float
    worst_case: str
    worst_loading_pct: float
    violations: pd.DataFrame = field(repr=False)
    skipped_outages: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = (
            f"{self.p_mw:.0f} MW at {self.bus}: {'PASSES' if self.passed else 'FAILS'}"
            f" ({'N-1' if self.n_minus_1 else 'base case only'})"
        )
        if not self.converged:
            return head + " — the power flow did not converge with this load (voltage collapse)"
        body = (
            f"; base case max loading {self.base_max_loading_pct:.1f} %, voltages "
            f"{self.base_vm_min_pu:.3f}–{self.base_vm_max_pu:.3f} pu; worst case {self.worst_case} "
            f"at {self.worst_loading_pct:.1f} %"
        )
        if not self.passed:
            first = self.violations.iloc[0]
            body += f"; {len(self.violations)} violation(s), e.g. {first['kind']} {first['element']} in {first['case']}: {first['value']:.3f} > limit {first['limit']:.3f}"
        return head + body


@dataclass(frozen=True)
class CouplingResult:
    """Result of :meth:`GridModel.direct_coupling` (§7.1: couple directly to large-scale
    production so existing transport links are not loaded extra)."""

    landing: str
    bus: str
    capacity_mw: float
    output_mw: float
    load_mw: float
    residual_import_mw: float
    surplus_mw: float
    covers_load: bool
    check: LoadCheck

    @property
    def fits(self) -> bool:
        """The residual import fits the grid (N-1 check of the load at the landing bus, where
        the connection's output is netted)."""
        return self.check.passed


class GridModel:
    """The 380/220 kV grid as a pandapower network in one scenario, with N-1 checks.

    Build with :meth:`from_layers` (the embedded or your layers), :meth:`from_pandapower` (any
    pandapower network) or :meth:`from_gridkit` (the ENTSO-E GridKit extract). The pandapower
    network is ``model.net``; it is not changed by the checks.
    """

    def __init__(self, net: pp.pandapowerNet, *, scenario: Scenario | None = None,
                 bus_points: gpd.GeoSeries | None = None, description: str = "") -> None:
        self.net = net
        self.scenario = scenario
        self.bus_points = bus_points
        self.description = description
        #: the scenario's balance by component [MW] (from_layers only)
        self.balance: pd.DataFrame | None = None
        self._cases: dict[tuple, CaseSet] = {}

    # ------------------------------------------------------------------- builders

    @classmethod
    def from_layers(cls, layers: Layers | None = None, scenario: str | PathLike[str] | Scenario = "winter-peak-2026",
                    grid_year: int | None = None) -> GridModel:
        """Build from substation, circuit, transformer, plant, offshore and interconnector
        layers in a scenario (name of a shipped scenario, a TOML path, or a Scenario).
        `grid_year` (default the scenario's year) selects the grid; a later year adds the
        planned reinforcements up to it under the same dispatch. See
        :mod:`siting.grid.build` for the modelling assumptions."""
        layers = layers if layers is not None else load_layers()
        sc = load_scenario(scenario)
        built = build_network(layers, sc, grid_year=grid_year)
        subs = layers.substations.set_index("id")
        names = built.net.bus["name"]
        points = gpd.GeoSeries(subs.loc[names, "geometry"].to_numpy(), index=names.to_numpy(), crs=layers.substations.crs)
        model = cls(built.net, scenario=sc, bus_points=points, description=f"embedded layers, scenario {sc.name}")
        model.balance = built.balance
        return model

    @classmethod
    def from_pandapower(cls, net: pp.pandapowerNet, description: str = "pandapower network") -> GridModel:
        """Wrap any pandapower network (copied). It needs exactly one ext_grid; slack weights
        (``slack_weight``) are used when set, else the ext_grid balances."""
        if len(net.ext_grid) != 1:
            raise ConfigError(f"the network needs exactly one ext_grid (angle reference); it has {len(net.ext_grid)}")
        return cls(copy.deepcopy(net), description=description)

    @classmethod
    def from_gridkit(cls, path: str | PathLike[str], countries: tuple[str, ...] | list[str] = ("NL",), **kwargs) -> GridModel:
        """Build from the ENTSO-E GridKit extract (folder with buses.csv, lines.csv,
        transformers.csv). See :func:`siting.grid.gridkit.gridkit_network`."""
        from .gridkit import gridkit_network

        net, points = gridkit_network(path, countries=countries, **kwargs)
        return cls(net, bus_points=points, description=f"GridKit extract {', '.join(countries)}")

    # ------------------------------------------------------------------ inspection

    def buses(self) -> pd.DataFrame:
        """The model's buses: ``bus`` (id), ``vn_kv``, ``station`` (where known)."""
        b = self.net.bus
        out = pd.DataFrame({"bus": [self._bus_name(i) for i in b.index], "vn_kv": b["vn_kv"].to_numpy()}, index=b.index)
        if "station" in b.columns:
            out["station"] = b["station"].to_numpy()
        return out

    def _bus_name(self, idx: int) -> str:
        name = self.net.bus.at[idx, "name"]
        return str(name) if isinstance(name, str) and name else str(idx)

    @cached_property
    def _grid(self) -> ACGrid:
        return ACGrid(copy.deepcopy(self.net))

    def _resolve_bus(self, bus: str | int) -> int:
        names = {self._bus_name(i): i for i in self.net.bus.index}
        if isinstance(bus, (int, np.integer)) and not isinstance(bus, bool) and int(bus) in self.net.bus.index:
            return int(bus)
        if isinstance(bus, str) and bus in names:
            return names[bus]
        close = difflib.get_close_matches(str(bus), list(names), n=3)
        hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        raise ConfigError(
            f"unknown bus {bus!r}.{hint} Buses are named like {next(iter(names))!r}; "
            "list them with model.buses()"
        )

    def _connected_bus(self, bus: str | int) -> int:
        """Resolve `bus` and refuse one that is not connected to the grid's reference."""
        b = self._resolve_bus(bus)
        if int(self._grid.bus_lookup[b]) in set(self._grid.isolated.tolist()) or not self.net.bus.at[b, "in_service"]:
            raise ConfigError(
                f"bus {self._bus_name(b)!r} is islanded or out of service: it is not connected to the "
                "grid's reference, so no load can be supplied there. Fix: connect it, or pick another bus"
            )
        return b

    @staticmethod
    def _check_mw(p_mw: float, name: str = "p_mw") -> float:
        try:
            value = float(p_mw)
        except (TypeError, ValueError):
            raise ConfigError(f"{name} must be a number of MW, got {p_mw!r}") from None
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"{name} must be a finite, non-negative number of MW, got {p_mw!r}")
        if value > MAX_LOAD_MW:
            raise ConfigError(
                f"{name} = {value:g} MW is absurd for one load (the whole Dutch peak is ~20,000 MW); "
                f"use at most {MAX_LOAD_MW:g} MW — an AIGF's grid load is IT MW × PUE, e.g. 300 × 1.2 = 360"
            )
        return value

    @staticmethod
    def _check_pf(pf: float) -> float:
        if not (isinstance(pf, (int, float)) and 0 < pf <= 1):
            raise ConfigError(f"pf (power factor) must be in (0, 1], got {pf!r}; e.g. 0.98 lagging")
        return float(pf)

    def _caseset(self, limits: Limits, n_minus_1: bool) -> CaseSet:
        key = (limits, n_minus_1)
        if key not in self._cases:
            try:
                self._cases[key] = CaseSet(self._grid, limits, n_minus_1=n_minus_1)
            except RuntimeError as exc:
                raise SitingError(f"the scenario's base case does not converge: {exc}") from exc
        return self._cases[key]

    # ----------------------------------------------------------------------- checks

    def check_load(self, bus: str | int, p_mw: float, pf: float = 0.98, n_minus_1: bool = True,
                   max_loading_pct: float = 100.0, vm_min_pu: float = 0.9, vm_max_pu: float = 1.1) -> LoadCheck:
        """Can a load of `p_mw` at `bus` connect? AC power flow in the base case and every
        single-circuit outage (N-1).

        Parameters
        ----------
        bus : str or int
            Bus id (e.g. ``"maasvlakte-380"``) or pandapower bus index.
        p_mw : float
            Added load [MW]: the AIGF's grid load, IT load × PUE.
        pf : float
            Power factor of the load (lagging), default 0.98.
        n_minus_1 : bool
            Check every single-circuit outage that keeps the grid connected (default True).

        Returns
        -------
        LoadCheck
            ``passed``, ``converged``, base-case loading and voltage band with the load, the
            worst case and its loading, and every violation. A non-converged case is a
            violation of kind ``convergence``, not an exception.

        References
        ----------
        Ecorys (2025) §4.2, §5.3.1, §7.1: no extra congestion from the AIGF's load.
        """
        b = self._connected_bus(bus)
        p = self._check_mw(p_mw)
        pf = self._check_pf(pf)
        q = p * math.tan(math.acos(pf))
        cs = self._caseset(Limits(max_loading_pct, vm_min_pu, vm_max_pu), n_minus_1)
        ib = int(cs.grid.bus_lookup[b])
        rows = []
        base_res = None
        worst_case, worst_loading = "base", -math.inf
        converged = True
        for case in cs.cases:
            res = cs.grid.solve(outage=case.outage, bus=ib, p_mw=p, q_mvar=q,
                                v_init=case.pre.vm_pu * np.exp(1j * case.pre.va_rad))
            label = case_label(cs.grid, case.outage)
            if case.outage is None:
                base_res = res
            if not res.converged:
                converged = False
            else:
                top = float(np.nanmax(res.loading_pct))
                if top > worst_loading:
                    worst_case, worst_loading = label, top
            for kind, elem, value, limit in cs.violations(case, res):
                rows.append({"element": element_label(cs.grid, kind, elem), "case": label, "kind": kind,
                             "value": value, "limit": limit})
        violations = pd.DataFrame(rows, columns=["element", "case", "kind", "value", "limit"])
        ok_base = base_res is not None and base_res.converged
        return LoadCheck(
            bus=self._bus_name(b), p_mw=p, q_mvar=q, n_minus_1=n_minus_1, passed=violations.empty,
            converged=converged,
            base_max_loading_pct=float(np.nanmax(base_res.loading_pct)) if ok_base else math.nan,
            base_vm_min_pu=float(np.min(base_res.vm_pu)) if ok_base else math.nan,
            base_vm_max_pu=float(np.max(base_res.vm_pu)) if ok_base else math.nan,
            worst_case=worst_case if math.isfinite(worst_loading) else "",
            worst_loading_pct=worst_loading if math.isfinite(worst_loading) else math.nan,
            violations=violations,
            skipped_outages=tuple(case_label(cs.grid, k) for k in cs.split + cs.failed_pre),
        )

    def hosting_capacity(self, buses: list[str | int] | None = None, pf: float = 1.0, n_minus_1: bool = True,
                         max_loading_pct: float = 100.0, vm_min_pu: float = 0.9, vm_max_pu: float = 1.1,
                         max_mw: float = 3000.0, tol_mw: float = 0.5) -> pd.DataFrame:
        """Hosting capacity per bus: the largest added load that creates no violation in the
        base case and every single-circuit outage (N-1).

        Parameters
        ----------
        buses : list, optional
            Bus ids or indices; default every bus of the grid except boundary equivalents
            (``xb-*``).
        pf : float
            Power factor of the added load (1.0 = active power only).
        max_mw : float
            Upper end of the search; ``hosting_mw == max_mw`` means "at least max_mw".
        tol_mw : float
            Precision of the answer [MW].

        Returns
        -------
        DataFrame
            Indexed by bus id: ``hosting_mw``, ``limiting_element``, ``limiting_case``,
            ``constraint`` (thermal | voltage | convergence | cap), ``screened_mw`` (the linear
            estimate). ``df.attrs["skipped_outages"]`` lists outages that would split the grid
            (skipped by definition) or that do not converge even without the load.

        Notes
        -----
        A branch may not exceed ``max(max_loading_pct, its loading without the load + 1 pp)``,
        a bus voltage must stay in ``[min(vm_min_pu, pre − 0.005), max(vm_max_pu, pre + 0.005)]``
        — the load may not create a violation nor worsen an existing one beyond that tolerance.
        Method: linear screening (PTDF/LODF and the AC Jacobian) of all buses × all outages,
        AC power flow to confirm; see :mod:`siting.grid.hosting`.
        """
        pf = self._check_pf(pf)
        max_mw = self._check_mw(max_mw, "max_mw")
        if max_mw <= 0:
            raise ConfigError("max_mw must be > 0")
        if buses is None:
            isolated = set(self._grid.isolated.tolist())
            idx = [i for i in self.net.bus.index if not self._bus_name(i).startswith("xb-")
                   and int(self._grid.bus_lookup[i]) not in isolated and self.net.bus.at[i, "in_service"]]
        else:
            idx = [self._connected_bus(b) for b in buses]
        cs = self._caseset(Limits(max_loading_pct, vm_min_pu, vm_max_pu), n_minus_1)
        internal = np.array([int(cs.grid.bus_lookup[i]) for i in idx])
        search = HostingSearch(cs, pf=pf, max_mw=max_mw, tol_mw=tol_mw)
        table = search.run(internal, [self._bus_name(i) for i in idx])
        table.attrs["skipped_outages"] = [case_label(cs.grid, k) for k in cs.split + cs.failed_pre]
        table.attrs["ac_solves"] = search.ac_solves
        table.attrs["scenario"] = self.scenario.name if self.scenario else ""
        return table

    def direct_coupling(self, landing: str, p_mw: float, pf: float = 0.98, n_minus_1: bool = True) -> CouplingResult:
        """A load at an offshore-wind landing station with that connection's output netted
        first (§7.1: direct coupling to large-scale production).

        Parameters
        ----------
        landing : str
            Offshore connection id (e.g. ``"ow-hkn"``) in this model's scenario.
        p_mw : float
            The AIGF's grid load [MW].

        Returns
        -------
        CouplingResult
            The connection's capacity and scenario output, the residual grid import
            (``max(0, load − output)``), the surplus, whether the capacity covers the load,
            and the N-1 check of the load at the landing bus — where the power flow nets the
            connection's output against the load, so the grid carries only the residual.
        """
        p = self._check_mw(p_mw)
        sg = self.net.sgen
        rows = sg[(sg["name"] == landing) & (sg["type"] == "offshore_wind")] if "type" in sg else sg.iloc[0:0]
        if rows.empty:
            known = sorted(sg.loc[sg.get("type", pd.Series(dtype=str)) == "offshore_wind", "name"].astype(str))
            raise ConfigError(
                f"no offshore connection {landing!r} in this model's scenario; connections in the model: "
                f"{', '.join(known) or 'none'} (a connection not yet in service in the scenario year is absent)"
            )
        row = rows.iloc[0]
        bus = int(row["bus"])
        output = float(row["p_mw"])
        capacity = float(row["sn_mva"]) if pd.notna(row.get("sn_mva")) else output
        check = self.check_load(bus, p, pf=pf, n_minus_1=n_minus_1)
        return CouplingResult(
            landing=landing, bus=self._bus_name(bus), capacity_mw=capacity, output_mw=output, load_mw=p,
            residual_import_mw=max(0.0, p - output), surplus_mw=max(0.0, output - p),
            covers_load=capacity >= p, check=check,
        )
