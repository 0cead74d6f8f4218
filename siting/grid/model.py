"""`GridModel`: a pandapower network of the EHV grid with a scenario, and the checks on it.

>>> import siting
>>> model = siting.GridModel.from_layers(scenario="winter-peak-2026")
>>> result = model.check_load("maasvlakte-380", p_mw=300 * 1.2)
>>> table = model.hosting_capacity()
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
from dataclasses import dataclass, field
from functools import cached_property
from os import PathLike

import geopandas as gpd
import numpy as np
import pandapower as pp
import pandas as pd

from .. import _validate as V
from .._validate import MAX_LOAD_MW
from ..errors import ConfigError, ParameterError, SitingError
from ..layers import Layers, load_layers
from ._parallel import map_items
from ._threads import one_blas_thread
from .acpf import ACGrid, _refuse_unmodelled
from .build import build_network, import_by_headroom, rebalance_slack
from .hosting import (RATED_LOADING_PCT, SECURE_TOL_PP, CaseSet, HostingSearch, Limits, case_label, element_label,
                      thermal_limit)
from .scenario import Scenario, load_scenario
from .secure import (KINDS, RedispatchHosting, RemedialCosts, Resource, SecureResult, apply_redispatch,
                     constrained_units, redispatch_volume, resources_from_net, secure, shifted)

__all__ = ["GridModel", "LoadCheck", "CouplingResult", "MAX_LOAD_MW"]

@dataclass(frozen=True)
class LoadCheck:
    """Result of :meth:`GridModel.check_load`.

    ``passed`` is True when the load creates no violation, and worsens no existing one beyond
    the tolerance, in the base case and (with N-1) every single-circuit outage; a case that
    does not converge is a violation. ``violations`` has one row per violated constraint:
    ``element, case, kind (thermal|voltage|convergence), value, limit, unit (% | pu), before``
    (the value in that case without the load) and ``existing`` (True when the constraint was
    already violated before the load: the load may worsen it by at most 1 pp / 0.005 pu).
    ``worst_margin`` is the smallest distance to a thermal limit over every case with the load
    [percentage points]; negative when the check fails on a thermal limit.
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
    scenario: str = ""
    worst_element: str = ""
    worst_limit_pct: float = math.nan
    worst_before_pct: float = math.nan
    #: overloads the grid has without this load, or branches the securing holds at their rating,
    #: that it moves under 5 % of its MW over and takes over 100 %: (element, case, loading with
    #: the load [%]); not held against the load (an overload) or only to its rating + 1 pp
    unattributed: tuple = ()

    @property
    def worst_margin(self) -> float:
        return self.worst_limit_pct - self.worst_loading_pct

    def summary(self) -> str:
        """The check in one line (for tables and cards)."""
        return _summary(self)

    def __str__(self) -> str:
        where = f"{self.p_mw:.0f} MW at {self.bus}" + (f" (scenario {self.scenario})" if self.scenario else "")
        test = "N-1: the base case and every single-circuit outage" if self.n_minus_1 else "the base case only"
        if not self.converged:
            return (f"{where}: does NOT fit — the power flow does not converge with this load in some case "
                    f"(voltage collapse); checked {test}")
        base = (f"base case: highest loading {self.base_max_loading_pct:.1f} %, voltages "
                f"{self.base_vm_min_pu:.3f}–{self.base_vm_max_pu:.3f} pu")
        worst = ""
        if self.worst_element:
            case = "in the base case" if self.worst_case == "base" else f"with {self.worst_case.removeprefix('outage ')} out"
            worst = (f"; closest to a limit: {self.worst_element} at {self.worst_loading_pct:.1f} % of its rating "
                     f"{case} (limit {self.worst_limit_pct:.0f} %")
            if self.worst_before_pct > RATED_LOADING_PCT + SECURE_TOL_PP:
                worst += f"; already at {self.worst_before_pct:.1f} % before the load: it may add at most 1 pp"
            worst += ")"
        if self.unattributed:
            e, c, v = self.unattributed[0]
            worst += (f"; {e} at {v:.1f} % ({c}) is overloaded or held at its rating without this load, which "
                      "moves under 5 % of its MW over it, so it is not held to its rating (the grid's own overload: "
                      "not at all; a branch held at its rating: to 1 pp over it)")
        if self.passed:
            margin = f"; margin {self.worst_margin:.1f} pp" if math.isfinite(self.worst_margin) else ""
            return f"{where}: fits under {test}; {base}{worst}{margin}"
        v = self.violations
        new, old = v[~v["existing"]], v[v["existing"]]
        parts = []
        if len(new):
            r = new.iloc[0]
            parts.append(f"{len(new)} new violation(s), e.g. {_describe(r)}")
        if len(old):
            r = old.iloc[0]
            parts.append(f"{len(old)} already there before the load and worsened beyond the tolerance, e.g. "
                         f"{_describe(r)}")
        return f"{where}: does NOT fit under {test}: {'; '.join(parts)}; {base}"


def _summary(check: LoadCheck) -> str:
    """One line for tables: fits / does not fit, the margin or the first violation, units."""
    if not check.converged:
        return "does not fit: no convergence (voltage collapse)"
    if check.passed:
        text = "fits"
        if check.worst_element:
            case = "base case" if check.worst_case == "base" else check.worst_case.removeprefix("outage ") + " out"
            text += (f": closest {check.worst_element} {check.worst_loading_pct:.0f} % ({case}), "
                     f"margin {check.worst_margin:.1f} pp")
        if check.unattributed:
            e, _, v = check.unattributed[0]
            text += f"; {e} {v:.0f} %, congested without the load, not attributable to it"
        return text
    v = check.violations
    new = v[~v["existing"]]
    r = (new if len(new) else v).iloc[0]
    return f"does not fit: {len(v)} violation(s), e.g. {_describe(r)}"


def _describe(r) -> str:
    """One violation in words, with units."""
    case = "in the base case" if r["case"] == "base" else f"with {str(r['case']).removeprefix('outage ')} out"
    if r["kind"] == "convergence":
        return f"no convergence {case}"
    unit = " %" if r["unit"] == "%" else " pu"
    what = "loading" if r["kind"] == "thermal" else "voltage"
    before = f", {r['before']:.{1 if unit == ' %' else 3}f}{unit} without the load" if pd.notna(r["before"]) else ""
    return (f"{r['element']} {what} {r['value']:.{1 if unit == ' %' else 3}f}{unit} {case} "
            f"(limit {r['limit']:.{0 if unit == ' %' else 3}f}{unit}{before})")


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
        #: remedial resources (from_layers: the scenario's; else derived from the network)
        self.resources: list[Resource] | None = None
        #: per country: buses, lines, transformers, load, generation (from_gridkit only)
        self.composition: pd.DataFrame | None = None
        #: what securing did (:meth:`secured`); None for a model that was not secured
        self.security: SecureResult | None = None
        self._cases: dict[tuple, CaseSet] = {}
        self._hosting_memo: dict[tuple, pd.DataFrame] = {}  # hosting tables by their arguments
        self._hourly_memo: dict[tuple, tuple] = {}  # hourly grids by situations and arguments
        self._situations_memo: dict = {}  # the shipped profiles' situations, by weather year

    #: what a pickled model leaves out: the compiled grid (lightsim2grid's solver does not pickle)
    #: and what is built on it — rebuilt on first use, to the same numbers (tested) — and the
    #: hourly memos (large, rebuilt on request)
    _UNPICKLED = {"_grid": None, "_cases": dict, "_hourly_memo": dict, "_situations_memo": dict}

    def __getstate__(self) -> dict:
        """The model without its solver state (see :attr:`_UNPICKLED`): the network, scenario,
        securing and the hosting memo, so that a model computed on a Dask worker answers
        :meth:`hosting_capacity` here from its memo."""
        state = dict(self.__dict__)
        for name, empty in self._UNPICKLED.items():
            state.pop(name, None)
            if empty is not None:
                state[name] = empty()
        return state

    def __copy__(self) -> GridModel:
        """A shallow copy sharing the solver state and memos (as before pickling was defined)."""
        new = self.__class__.__new__(self.__class__)
        new.__dict__.update(self.__dict__)
        return new

    # ------------------------------------------------------------------- builders

    @classmethod
    @one_blas_thread
    def from_layers(cls, layers: Layers | None = None, scenario: str | PathLike[str] | Scenario = "winter-peak-2026",
                    grid_year: int | None = None, secure: bool = True) -> GridModel:
        """Build from substation, circuit, transformer, plant, offshore and interconnector
        layers in a scenario (name of a shipped scenario, a TOML path, or a Scenario).

        Parameters
        ----------
        grid_year : int, optional
            Selects the grid (default: the scenario's year); a later year adds the planned
            reinforcements up to it under the same dispatch.
        secure : bool
            Start from an N-1 secure operating point (default, TSO practice): the scenario's
            remedial actions (redispatch of plants, HVDC set points, phase shifters,
            countertrading, curtailment as the last resort) are applied at least cost; what was
            done is in ``model.security``. A scenario that cannot be secured is still returned,
            with ``model.security.secured`` False and the overloads left in
            ``model.security.remaining``. ``secure=False`` keeps the market dispatch.

        See :mod:`siting.grid.build` for the modelling assumptions and :mod:`siting.grid.secure`
        for the securing step."""
        V.instance(layers, "layers", Layers, what="a Layers (siting.load_layers())",
                   fix="use e.g. layers=siting.load_layers()")
        grid_year = V.year(grid_year, "grid_year", allow_none=True)
        secure = V.flag(secure, "secure")
        sc = load_scenario(scenario)
        layers = layers if layers is not None else load_layers()
        built = build_network(layers, sc, grid_year=grid_year)
        subs = layers.substations.set_index("id")
        names = built.net.bus["name"]
        points = gpd.GeoSeries(subs.loc[names, "geometry"].to_numpy(), index=names.to_numpy(), crs=layers.substations.crs)
        model = cls(built.net, scenario=sc, bus_points=points, description=f"embedded layers, scenario {sc.name}")
        model.balance = built.balance
        model.resources = list(built.resources)
        return model.secured() if secure else model

    @one_blas_thread
    def secured(self, target_pct: float | None = None, costs: RemedialCosts | None = None) -> GridModel:
        """A copy of this model at the least-cost N-1 secure operating point (see
        :mod:`siting.grid.secure`), with ``security`` describing the redispatch, the worst N-1
        loading before and after (AC) and any overload no remedial action clears.

        Parameters
        ----------
        target_pct : float, optional
            Loading every branch must stay within in every N-1 case [%] (default: the scenario's
            ``remedial.target_loading_pct``, else 100).
        costs : RemedialCosts, optional
            Cost per MW by kind of action (default: the scenario's ``[remedial]`` costs).

        Networks from :meth:`from_pandapower` use their controllable generators (``max_p_mw``,
        ``min_p_mw``) as the resources."""
        rem = self.scenario.remedial if self.scenario is not None else None
        if target_pct is not None:
            V.loading_pct(target_pct, "target_pct")
        target = float(target_pct if target_pct is not None else (rem.target_loading_pct if rem else 100.0))
        V.instance(costs, "costs", RemedialCosts, what="a RemedialCosts",
                   fix="use e.g. costs=RemedialCosts(plant=1.0) from siting.grid.secure, or leave it out")
        costs = costs or self._costs()
        original = resources = self._resources()
        net = copy.deepcopy(self.net)
        total: SecureResult | None = None
        moved = np.zeros(len(resources))
        grid = self._grid
        def run(grid, rounds):
            try:
                return secure(grid, net, resources, costs, target_pct=target, max_rounds=rounds)
            except RuntimeError as exc:
                raise SitingError(f"the scenario's base case does not converge: {exc}") from exc

        # re-secure on the rebuilt grid (the slack weights follow the redispatch) until nothing
        # moves; the last round's 'after' is then the AC N-1 state of the returned model
        for _ in range(4):
            result, delta = run(grid, 8)
            total = result if total is None else _merge_security(total, result)
            if np.max(np.abs(delta), initial=0.0) < 0.5:
                break
            apply_redispatch(net, resources, delta)
            moved += delta
            held = {r.name for r, d in zip(resources, moved) if r.kind == "plant" and d < -0.5}
            rebalance_slack(net, held=held)
            resources = [shifted(r, d) for r, d in zip(resources, delta)]
            grid = ACGrid(copy.deepcopy(net))
        else:
            total = _merge_security(total, run(grid, 0)[0])
        # a new load is met by units that can ramp without overloading what the secure state
        # uses to its limit; the others are held where the operator put them
        held_behind = constrained_units(grid, net, total.binding)
        reweighted = import_by_headroom(grid, net)
        if held_behind or reweighted:
            held = {r.name for r, d in zip(resources, moved) if r.kind == "plant" and d < -0.5} | set(held_behind)
            rebalance_slack(net, held=held)
            for table in ("gen", "ext_grid"):
                t = net[table]
                hold = t["name"].isin(held_behind) & ((t["type"] == "boundary") if table == "gen" else True)
                t.loc[hold, "slack_weight"] = 0.0
            if net.gen["slack_weight"].sum() + net.ext_grid["slack_weight"].sum() <= 0:
                net.ext_grid["slack_weight"] = 1.0  # every unit is constrained: the reference balances
            grid = ACGrid(copy.deepcopy(net))
            # the slack now spreads the losses differently: a last securing round on this grid
            result, delta = run(grid, 8)
            if np.max(np.abs(delta), initial=0.0) >= 0.5:
                apply_redispatch(net, resources, delta)
                moved += delta
                resources = [shifted(r, d) for r, d in zip(resources, delta)]
                grid = ACGrid(copy.deepcopy(net))
                result = run(grid, 0)[0]
            total = _merge_security(total, result)  # the state of the returned model
        total = dataclasses.replace(total, held=held_behind)
        out = GridModel(net, scenario=self.scenario, bus_points=self.bus_points, description=self.description)
        out.balance = self.balance
        out.resources = resources
        out.__dict__["_grid"] = grid
        out.security = _final_security(total, original, moved, out)
        return out

    @classmethod
    def from_pandapower(cls, net: pp.pandapowerNet, description: str = "pandapower network") -> GridModel:
        """Wrap any pandapower network (copied). It needs exactly one ext_grid; slack weights
        (``slack_weight``) are used when set, else the ext_grid balances."""
        V.instance(net, "net", pp.pandapowerNet, what="a pandapower network", allow_none=False,
                   fix="use e.g. GridModel.from_pandapower(pandapower.networks.case39())")
        if len(net.ext_grid) != 1:
            raise ConfigError(f"the network needs exactly one ext_grid (angle reference); it has {len(net.ext_grid)}")
        _refuse_unmodelled(net)  # now, not at the first power flow
        return cls(copy.deepcopy(net), description=description)

    @classmethod
    def from_gridkit(cls, path: str | PathLike[str], countries: tuple[str, ...] | list[str] | None = None,
                     plants: str | PathLike[str] | None = None, **kwargs) -> GridModel:
        """Build from the ENTSO-E GridKit extract (folder with buses.csv, lines.csv,
        transformers.csv): the listed countries (ISO codes as the extract writes them), or with
        ``countries=None`` the Continental European synchronous area. With `plants`
        (powerplantmatching's ``powerplants.csv``) the network carries a documented snapshot
        (average load, dispatchable plants) and its base case is solved once; without it,
        only what you add. ``model.composition`` lists buses, lines, transformers, load and
        generation per country. See :mod:`siting.grid.gridkit` for the assumptions."""
        from .gridkit import gridkit_network

        built = gridkit_network(path, countries=countries, plants=plants, **kwargs)
        area = ", ".join(countries) if countries else "Continental Europe"
        model = cls(built.net, bus_points=built.points,
                    description=f"GridKit extract {area}" + (" with the average-load snapshot" if plants is not None else ""))
        model.composition = built.composition
        return model

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

    def _bus_names(self) -> dict[str, int]:
        """Bus name -> pandapower index (an unnamed bus by its index)."""
        return {self._bus_name(i): i for i in self.net.bus.index}

    def _resolve_bus(self, bus: str | int, names: dict[str, int] | None = None) -> int:
        """`bus` (a name or a pandapower index) as its index; `names`: :meth:`_bus_names`, where
        the caller resolves many."""
        names = self._bus_names() if names is None else names
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

    def _connected_bus(self, bus: str | int, names: dict[str, int] | None = None,
                       isolated: set[int] | None = None) -> int:
        """Resolve `bus` and refuse one that is not connected to the grid's reference (`names`,
        `isolated`: :meth:`_bus_names` and the grid's isolated buses, where the caller resolves
        many)."""
        b = self._resolve_bus(bus, names)
        isolated = set(self._grid.isolated.tolist()) if isolated is None else isolated
        if int(self._grid.bus_lookup[b]) in isolated or not self.net.bus.at[b, "in_service"]:
            raise ConfigError(
                f"bus {self._bus_name(b)!r} is islanded or out of service: it is not connected to the "
                "grid's reference, so no load can be supplied there. Fix: connect it, or pick another bus"
            )
        return b

    def _hosting_buses(self, buses: list | None) -> list[int]:
        """pandapower bus indices of `buses` (each must be connected; a bus named twice, by
        name or index, counts once, in first-named order), or by default every in-service bus
        connected to the reference except the boundary equivalents (``xb-*``)."""
        isolated = set(self._grid.isolated.tolist())
        if buses is not None:  # (the names mapped once: case1354pegase's 1,354 buses took ~6 s one by one)
            names = self._bus_names()
            return list(dict.fromkeys(self._connected_bus(b, names, isolated) for b in buses))
        return [i for i in self.net.bus.index if not self._bus_name(i).startswith("xb-")
                and int(self._grid.bus_lookup[i]) not in isolated and self.net.bus.at[i, "in_service"]]

    @staticmethod
    def _check_mw(p_mw: float, name: str = "p_mw") -> float:
        return V.load_mw(p_mw, name)

    @staticmethod
    def _check_pf(pf: float) -> float:
        return V.power_factor(pf)

    @staticmethod
    def _check_limits(n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu) -> tuple[bool, float, float, float]:
        """The operating limits of a check, validated (see :mod:`siting._validate`)."""
        n1 = V.flag(n_minus_1, "n_minus_1")
        loading = V.loading_pct(max_loading_pct)
        vm_min, vm_max = V.voltage_band(vm_min_pu, vm_max_pu)
        return n1, loading, vm_min, vm_max

    def _caseset(self, limits: Limits, n_minus_1: bool) -> CaseSet:
        key = (limits, n_minus_1)
        if key not in self._cases:
            try:
                self._cases[key] = CaseSet(self._grid, limits, n_minus_1=n_minus_1)
            except RuntimeError as exc:
                raise SitingError(f"the scenario's base case does not converge: {exc}") from exc
        return self._cases[key]

    # ----------------------------------------------------------------------- checks

    @one_blas_thread
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
        p = self._check_mw(p_mw)
        pf = self._check_pf(pf)
        n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu = self._check_limits(n_minus_1, max_loading_pct,
                                                                              vm_min_pu, vm_max_pu)
        b = self._connected_bus(bus)
        q = p * math.tan(math.acos(pf))
        cs = self._caseset(Limits(max_loading_pct, vm_min_pu, vm_max_pu), n_minus_1)
        ib = int(cs.grid.bus_lookup[b])
        with cs.attributed(ib, math.tan(math.acos(pf))):
            return self._check_load(cs, b, ib, p, q, n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu)

    def _check_load(self, cs, b, ib, p, q, n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu) -> LoadCheck:
        rows = []
        base_res = None
        worst_case, worst_loading = "base", -math.inf
        converged = True
        worst_elem, worst_limit, worst_before, worst_margin = "", math.nan, math.nan, math.inf
        unattributed: list[tuple[str, str, float]] = []
        for case in cs.cases:
            res = cs.grid.solve(outage=case.outage, bus=ib, p_mw=p, q_mvar=q,
                                v_init=case.pre.vm_pu * np.exp(1j * case.pre.va_rad))
            label = case_label(cs.grid, case.outage)
            if case.outage is None:
                base_res = res
            if not res.converged:
                converged = False
            else:
                with np.errstate(invalid="ignore"):
                    margin = np.where(np.isfinite(case.max_loading), case.max_loading - res.loading_pct, np.inf)
                margin = np.nan_to_num(margin, nan=np.inf)
                k = int(np.argmin(margin))
                if np.isfinite(margin[k]) and margin[k] < worst_margin:
                    worst_margin = float(margin[k])
                    worst_case, worst_loading = label, float(res.loading_pct[k])
                    worst_elem = element_label(cs.grid, "thermal", k)
                    worst_limit = float(case.max_loading[k])
                    worst_before = float(case.pre.loading_pct[k])
                held = thermal_limit(case.pre.loading_pct, cs.limits.max_loading_pct, cs.limits.worsen_pp)
                with np.errstate(invalid="ignore"):
                    relaxed = np.nan_to_num(case.max_loading, nan=-np.inf) > np.nan_to_num(held, nan=np.inf)
                for kk in np.flatnonzero(relaxed & (np.nan_to_num(res.loading_pct) > RATED_LOADING_PCT)):
                    unattributed.append((element_label(cs.grid, "thermal", int(kk)), label, float(res.loading_pct[kk])))
            for kind, elem, value, limit in cs.violations(case, res):
                before = math.nan
                existing = False
                if kind == "thermal":
                    before = float(case.pre.loading_pct[elem])
                    existing = before > max_loading_pct
                elif kind == "voltage":
                    before = float(case.pre.vm_pu[elem])
                    existing = not (vm_min_pu <= before <= vm_max_pu)
                rows.append({"element": element_label(cs.grid, kind, elem), "case": label, "kind": kind,
                             "value": value, "limit": limit, "unit": "%" if kind == "thermal" else "pu" if kind == "voltage" else "",
                             "before": before, "existing": existing})
        violations = pd.DataFrame(rows, columns=["element", "case", "kind", "value", "limit", "unit", "before", "existing"])
        violations["existing"] = violations["existing"].astype(bool)
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
            scenario=self.scenario.name if self.scenario else "",
            worst_element=worst_elem, worst_limit_pct=worst_limit, worst_before_pct=worst_before,
            unattributed=tuple(sorted(unattributed, key=lambda u: -u[2])),
        )

    @one_blas_thread
    def hosting_capacity(self, buses: list[str | int] | None = None, pf: float = 0.98, n_minus_1: bool = True,
                         max_loading_pct: float = 100.0, vm_min_pu: float = 0.9, vm_max_pu: float = 1.1,
                         max_mw: float = 3000.0, tol_mw: float = 0.5,
                         redispatch: bool | list[str | int] = True, workers: int | None = None,
                         client=None) -> pd.DataFrame:
        """Hosting capacity per bus, two definitions: the largest added load that creates no
        violation in the base case and every single-circuit outage (N-1) — **firm**, with no
        remedial action for the load, and **with redispatch**, when a preventive redispatch of
        the scenario's remedial resources may make room for it.

        Parameters
        ----------
        buses : list, optional
            Bus ids or indices; default every bus of the grid except boundary equivalents
            (``xb-*``).
        pf : float
            Power factor of the added load (lagging), default 0.98 as :meth:`check_load`.
        max_mw : float
            Upper end of the search; a value equal to ``max_mw`` means "at least max_mw".
        tol_mw : float
            Precision of the answer [MW].
        redispatch : bool or list
            Also compute the hosting capacity with redispatch (default True), or only at these
            buses (the others get NaN).
        workers : int, optional
            Processes for the per-bus searches (default: every core this process may use; 1 =
            this process only). On Linux they are forked from this process and inherit the
            solved cases; elsewhere, and for fewer than 8 buses, the work stays here. The result
            does not depend on it.
        client : dask.distributed.Client, optional
            Run the per-bus searches on this Dask cluster instead (``workers`` does not apply):
            one task per chunk of buses the screen is cut in (a grid's every bus on a large
            grid: case1354pegase 85 chunks), the model sent to each worker once and its N-1
            cases solved there once. The same table as in one process, to the last bit.

        Returns
        -------
        DataFrame
            Indexed by bus id:

            - ``firm_mw``, ``limiting_element``, ``limiting_case``, ``constraint`` (thermal |
              voltage | convergence | cap), ``screened_mw`` (the linear estimate);
            - ``with_redispatch_mw`` (≥ ``firm_mw``), ``redispatch_mw`` (the upward redispatch
              volume that load needs [MW]), ``redispatch_limiting_element``,
              ``redispatch_limiting_case``, ``redispatch_constraint`` (thermal | voltage | cap |
              firm = no redispatch helps).

            ``attrs``: ``skipped_outages`` (outages that split the grid, skipped by
            definition, or that do not converge even without the load), ``ac_solves``,
            ``scenario``, ``secured`` (whether the base case is N-1 secure).

        Notes
        -----
        A branch may not exceed ``max_loading_pct``, a bus voltage must stay in ``[vm_min_pu,
        vm_max_pu]``; only a branch or voltage already beyond its limit without the load may move
        by at most 1 pp / 0.005 pu further (:func:`~siting.grid.hosting.thermal_limit`) — on a
        secured base case (:meth:`from_layers`) no branch is over its limit before the load, so
        the tolerance applies only to overloads no remedial action clears. The load is met by
        the distributed slack (see :mod:`siting.grid.build`). Method: linear screening
        (PTDF/LODF and the AC Jacobian) of all buses × all outages with AC confirmation
        (:mod:`siting.grid.hosting`); with redispatch, a linear programme per bus confirmed with
        AC (:mod:`siting.grid.secure`).

        References
        ----------
        Ecorys (2025) §4.2, §5.3.1 (connection without extra congestion), §7.1 (a firm
        agreement with TenneT).
        """
        buses = V.bus_ids(buses)
        pf = self._check_pf(pf)
        n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu = self._check_limits(n_minus_1, max_loading_pct,
                                                                              vm_min_pu, vm_max_pu)
        max_mw = V.search_max_mw(max_mw)
        tol_mw = V.tolerance_mw(tol_mw)
        if workers is not None:
            workers = V.count(workers, "workers", hi=1024, why="processes for the per-bus searches", example=2)
        if client is not None:
            from .._tiled import check_client

            check_client(client)
        if tol_mw >= max_mw:
            raise ParameterError("tol_mw", tol_mw, f"below {{=max_mw:{max_mw:g}}}",
                                   problem="a precision coarser than the whole search range",
                                   fix="use e.g. {=tol_mw:0.5}")
        if redispatch is None:
            redispatch = False
        elif isinstance(redispatch, (bool, np.bool_)):
            redispatch = bool(redispatch)
        elif not (isinstance(redispatch, (list, tuple)) and len(redispatch) == 0):
            redispatch = V.bus_ids(redispatch, "redispatch", allow_none=False)
        key = (None if buses is None else tuple(buses), pf, n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu, max_mw,
               tol_mw, redispatch if isinstance(redispatch, bool) else tuple(redispatch))
        try:
            cached = self._hosting_memo.get(key)
        except TypeError:  # unhashable bus ids: no memo
            key, cached = None, None
        if cached is not None:
            out = cached.copy()
            out.attrs = dict(cached.attrs)
            return out
        table = self._hosting_capacity(buses, pf, n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu, max_mw, tol_mw,
                                       redispatch, workers, client)
        if key is not None:
            self._hosting_memo[key] = table.copy()
            self._hosting_memo[key].attrs = dict(table.attrs)
        return table

    def _hosting_capacity(self, buses, pf, n_minus_1, max_loading_pct, vm_min_pu, vm_max_pu, max_mw, tol_mw,
                          redispatch, workers=None, client=None) -> pd.DataFrame:
        idx = self._hosting_buses(buses)
        limits = Limits(max_loading_pct, vm_min_pu, vm_max_pu)
        cs = self._caseset(limits, n_minus_1)
        internal = np.array([int(cs.grid.bus_lookup[i]) for i in idx])
        names = [self._bus_name(i) for i in idx]
        wanted = None
        if redispatch is not False and redispatch is not None:
            by_name = self._bus_names() if redispatch is not True else None
            wanted = set(names) if redispatch is True else {self._bus_name(self._resolve_bus(b, by_name)) for b in redispatch}
        args = (limits, n_minus_1, pf, max_mw, tol_mw, internal, names, wanted)
        if client is None:
            rows = _BusRows(self, *args)
            rows.search.prepare(internal)
            rows = map_items(rows.one, len(idx), workers, "hosting capacity (buses)", chunks=rows.search.chunks)
        else:
            rows = _hosting_on(client, self, args, HostingSearch(cs, pf=pf, max_mw=max_mw, tol_mw=tol_mw), len(idx))
        table = pd.DataFrame([r[0] for r in rows]).set_index("bus").rename(columns={"hosting_mw": "firm_mw"})
        if wanted is not None:
            table = table.join(pd.DataFrame([r[1] for r in rows], index=table.index))
        solves = sum(r[2] for r in rows)
        table.attrs["skipped_outages"] = [case_label(cs.grid, k) for k in cs.split + cs.failed_pre]
        table.attrs["ac_solves"] = solves
        table.attrs["scenario"] = self.scenario.name if self.scenario else ""
        table.attrs["secured"] = bool(self.security.secured) if self.security is not None else None
        return table

    @one_blas_thread
    def hosting_screen(self, buses: list[str | int] | None = None, n_minus_1: bool = True,
                       max_loading_pct: float = 100.0, max_mw: float = 3000.0,
                       workers: int | None = None) -> pd.DataFrame:
        """DC N-1 screen of every bus: the added load at which the base case or a single-circuit
        outage first takes a branch to its limit, in the DC approximation — the first stage for
        a grid too large for :meth:`hosting_capacity` at every bus (the Continental European
        grid from :meth:`from_gridkit`: all 4,659 buses in well under a minute, against hours).
        Shortlist with it, then ask :meth:`hosting_capacity` the AC answer at the shortlist.

        Parameters
        ----------
        buses : list, optional
            Bus ids or indices; default every bus (as :meth:`hosting_capacity`).
        n_minus_1, max_loading_pct : as :meth:`hosting_capacity`.
        max_mw : float
            Loads at or above this are not screened further: ``max_mw`` means "at least".
        workers : int, optional
            Threads (default every core this process may use); the result does not depend on it.

        Returns
        -------
        DataFrame
            Indexed by bus id: ``screened_mw``, ``limiting_element``, ``limiting_case``,
            ``constraint`` (``thermal`` | ``cap``). ``attrs``: ``method``, ``skipped_outages``,
            ``scenario``.

        Notes
        -----
        The flow change per MW of load comes from the PTDF with the distributed slack, updated
        per outage by its LODF, against each case's active-power room at its limit with its
        reactive flow held, each case solved in AC without the load; a branch over which the
        load moves under 5 % of its MW is held as :meth:`hosting_capacity` holds it
        (:func:`~siting.grid.hosting.attributed_limit`). Voltages and losses are not seen, and
        the reactive power of the load is not: the value is neither a bound on the AC hosting
        capacity nor equal to it (measured against it in ``bench/scale_benchmark.py``). See
        :mod:`siting.grid.dcscreen`.

        References
        ----------
        Ecorys (2025) §4.2, §5.3.1 (connection without extra congestion).
        """
        buses = V.bus_ids(buses)
        n_minus_1, max_loading_pct, _, _ = self._check_limits(n_minus_1, max_loading_pct, 0.9, 1.1)
        max_mw = V.search_max_mw(max_mw)
        if workers is not None:
            workers = V.count(workers, "workers", hi=1024, why="threads for the screen", example=2)
        idx = self._hosting_buses(buses)
        cs = self._caseset(Limits(max_loading_pct), n_minus_1)
        screen = cs.dc_screen()
        internal = np.array([int(cs.grid.bus_lookup[i]) for i in idx], dtype=int)
        mw, case, elem = screen.run(internal, max_mw, workers)
        labels = [screen.labels(int(c), int(e)) for c, e in zip(case, elem)]
        table = pd.DataFrame({"bus": [self._bus_name(i) for i in idx], "screened_mw": mw,
                              "limiting_element": [lab[1] for lab in labels],
                              "limiting_case": [lab[0] for lab in labels],
                              "constraint": np.where(case >= 0, "thermal", "cap")}).set_index("bus")
        table.attrs["method"] = ("DC N-1 screen: PTDF (distributed slack) and LODF against each case's active-power "
                                 "room; thermal limits only, no voltages or losses")
        table.attrs["skipped_outages"] = [case_label(cs.grid, k) for k in cs.split + cs.failed_pre]
        table.attrs["scenario"] = self.scenario.name if self.scenario else ""
        return table

    @one_blas_thread
    def compare_capacity_map(self, cmap=None, year: int | None = None, hosting: pd.DataFrame | None = None,
                             pf: float = 0.98) -> pd.DataFrame:
        """The published capacity map beside this model's hosting capacity, per congestion area.

        Parameters
        ----------
        cmap : CapacityMap or path, optional
            The Netbeheer Nederland capacity-map data (schema v2.1 JSON path, or
            :func:`siting.read_capacity_map`'s result); default the shipped TenneT map of
            2026-04-23.
        year : int, optional
            Year of the published figures (default the scenario's year).
        hosting : DataFrame, optional
            A :meth:`hosting_capacity` table to reuse (default: computed for every bus, firm and
            with redispatch).

        Returns
        -------
        DataFrame
            One row per area: published demand available / quoted / queued [MW], the model's
            firm and with-redispatch hosting at the area's EHV buses, their ratio, a flag where
            they disagree by more than a factor 2 and the likely reason (see
            :func:`siting.compare_capacity`). ``attrs["scenario"]`` names the scenario.
        """
        from ..capacity_map import CapacityMap, compare_capacity, read_capacity_map

        year = V.year(year, allow_none=True)
        pf = self._check_pf(pf)
        V.instance(hosting, "hosting", pd.DataFrame, what="a hosting_capacity() table (DataFrame)",
                   fix="use e.g. hosting=model.hosting_capacity(), or leave it out")
        cm = cmap if isinstance(cmap, CapacityMap) else read_capacity_map(cmap)
        if year is None:
            if self.scenario is None:
                raise ConfigError("year is needed for a network without a scenario, e.g. year=2026")
            year = self.scenario.year
        table = hosting if hosting is not None else self.hosting_capacity(pf=pf)
        out = compare_capacity(cm, table, year)
        out.attrs["scenario"] = self.scenario.name if self.scenario else ""
        return out

    def _resources(self) -> list[Resource]:
        return self.resources if self.resources is not None else resources_from_net(self.net)

    def _costs(self) -> RemedialCosts:
        rem = self.scenario.remedial if self.scenario is not None else None
        return RemedialCosts(**{k: getattr(rem, f"cost_{k}") for k in KINDS}) if rem else RemedialCosts()

    @one_blas_thread
    def situations(self, profiles: pd.DataFrame | None = None, weather_year: int | None = None):
        """A year of hourly situations of this model's scenario (see :mod:`siting.grid.year`):
        hourly demand, offshore and onshore wind, merit-order dispatch and exchanges, as bus
        injections.

        Parameters
        ----------
        profiles : DataFrame, optional
            Hourly profiles (``demand_shape``, ``wind_onshore_cf``, ``offshore_wind_cf[_<year>]``;
            index: time, UTC); default the shipped ETSource-derived profiles for the scenario's
            year (:func:`siting.load_profiles`).
        weather_year : int, optional
            Offshore wind of another weather year (1987, 1997, 2004); default ETSource's default.

        Returns
        -------
        Situations
            With the shipped profiles, built once per model and weather year and shared by later
            calls (and by :meth:`hourly`'s memo): treat it as read-only.
        """
        from .year import build_situations, offshore_column

        if self.scenario is None or self.balance is None:
            raise ConfigError("hourly situations need a model built from layers in a scenario (GridModel.from_layers)")
        if profiles is None:  # the shipped profiles: built once per model and weather year
            from ..profiles import load_profiles

            if weather_year not in self._situations_memo:
                shipped = load_profiles(year=self.scenario.year)
                self._situations_memo[weather_year] = build_situations(
                    self, shipped, offshore_cf_column=offshore_column(shipped, weather_year))
            return self._situations_memo[weather_year]
        return build_situations(self, profiles, offshore_cf_column=offshore_column(profiles, weather_year))

    def hourly(self, situations, n_minus_1: bool = True, max_mw: float = 3000.0, secure: bool = True):
        """The year of `situations` on this model's grid, each hour secured (DC, N-1; see
        :mod:`siting.grid.hourly`): hosting per bus and hour, firm and flexible capacity. Kept
        per situations, so later calls reuse the securing."""
        from .hourly import HourlyGrid

        key = (id(situations), bool(n_minus_1), float(max_mw), bool(secure))
        memo = self._hourly_memo
        if key not in memo or memo[key][0] is not situations:
            memo[key] = (situations, HourlyGrid(self, situations, n_minus_1=n_minus_1, max_mw=max_mw, secure=secure))
        return memo[key][1]

    def firm_capacity(self, situations, buses: list[str | int] | None = None, confirm_ac: bool = True,
                      n_minus_1: bool = True, max_mw: float = 3000.0, client=None) -> pd.DataFrame:
        """Firm and flexible connection capacity per bus over a year of hourly situations
        (Ecorys 2025 §7.1; §4.1 hours of grid stress).

        Parameters
        ----------
        situations : Situations
            From :meth:`situations` (or :func:`siting.situations`).
        buses : list, optional
            Bus names or indices (default every EHV bus).
        confirm_ac : bool
            AC-correct the hours that decide each firm value and each curtailment threshold, and
            add the AC N-1 hosting of those hours beside them (``ac_mw``, ``ac_diff_mw``,
            ``ac_diff_pct``, ``firm_confirmed_mw``; ``ac_at_50h`` … ``ac_at_500h``; how many agree
            within 5 % in ``attrs["ac_agreement"]``); default True.
        client : dask.distributed.Client, optional
            Solve that AC hosting on the client's cluster, one task per hour (the same values).

        Returns
        -------
        DataFrame
            One row per bus: ``firm_mw`` (fits in every hour), ``mw_at_50h`` / ``_100h`` /
            ``_200h`` / ``_500h`` (fits but for at most that many curtailment hours a year),
            ``median_mw``, ``zero_hours``, ``deciding_hour`` (UTC), ``deciding_outage``,
            ``deciding_element``. ``attrs``: scenario, year, hours, secured and unresolved hours.
        """
        hg = self.hourly(situations, n_minus_1=n_minus_1, max_mw=self._check_mw(max_mw, "max_mw"))
        if client is not None:
            from .._tiled import check_client

            check_client(client)
        hosting = hg.hosting_ac_corrected(buses, client=client) if confirm_ac else hg.hosting(buses)
        table = hg.firm_capacity(hosting=hosting)
        if confirm_ac:
            table = hg.confirm_ac(table, hosting=hosting, client=client)
        table.attrs["corrected_hours"] = len(hosting.attrs.get("corrected_hours", []))
        return table

    def curtailment(self, situations, bus: str | int, p_mw: float) -> dict:
        """Hours a year a connection of `p_mw` [MW] at `bus` must give way (its hosting capacity
        in that hour is lower), and the energy it gives up [MWh a year] and its share of the
        load's energy: ``bus, p_mw, hours, mwh, share_of_energy``."""
        hg = self.hourly(situations)
        name = self._bus_name(self._connected_bus(bus))
        return hg.curtailment(name, self._check_mw(p_mw))

    def coupling(self, situations, landing: str, p_mw: float) -> dict:
        """Hourly direct coupling (§7.1) of a load of `p_mw` [MW] to the offshore connection
        `landing` (its id): the share of the load's energy the connection's hourly output
        covers, the hours it covers the whole load, and the residual grid import per hour
        (``residual_import_mw``, a Series), its peak and its energy [MWh]. See
        :func:`siting.grid.year.coupling`."""
        from .year import coupling

        return coupling(situations, landing, self._check_mw(p_mw))

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
        V.instance(landing, "landing", str, what="an offshore connection id (str)", allow_none=False,
                   fix="use e.g. landing='ow-hkn'; the offshore layer lists them")
        p = self._check_mw(p_mw)
        pf = self._check_pf(pf)
        n_minus_1 = V.flag(n_minus_1, "n_minus_1")
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


def _merge_security(first: SecureResult, second: SecureResult) -> SecureResult:
    """Two securing rounds as one: the first's 'before', the second's 'after'."""
    import dataclasses

    return dataclasses.replace(second, worst_before_pct=first.worst_before_pct, worst_before=first.worst_before,
                               iterations=first.iterations + second.iterations)


def _final_security(total: SecureResult, resources: list[Resource], moved: np.ndarray, model: GridModel) -> SecureResult:
    """The securing summary with the redispatch of every round added up, against the market
    dispatch."""
    import dataclasses

    rows = [
        {"resource": r.name, "kind": r.kind, "p_before_mw": r.p_mw, "delta_mw": float(d), "p_after_mw": r.p_mw + float(d)}
        for r, d in zip(resources, moved) if abs(d) >= 0.05
    ]
    order = {k: i for i, k in enumerate(KINDS)}
    red = pd.DataFrame(rows, columns=["resource", "kind", "p_before_mw", "delta_mw", "p_after_mw"]).astype(
        {"p_before_mw": float, "delta_mw": float, "p_after_mw": float})
    red = red.sort_values(["kind", "delta_mw"], key=lambda s: s.map(order) if s.name == "kind" else s).reset_index(drop=True)
    return dataclasses.replace(
        total, redispatch=red,
        volume_up_mw=redispatch_volume(resources, moved)[0], volume_down_mw=redispatch_volume(resources, moved)[1],
        curtailed_mw=float(sum(-d for r, d in zip(resources, moved) if r.kind == "curtailment" and d < 0)),
        delta={r.name: float(d) for r, d in zip(resources, moved) if d != 0.0},
    )


class _BusRows:
    """The per-bus rows of :meth:`GridModel.hosting_capacity` — firm and, at the `wanted` bus
    names, with redispatch — on one model's case set: here, in forked workers, or on a Dask
    worker (:func:`_hosting_on`)."""

    _EMPTY = {"with_redispatch_mw": math.nan, "redispatch_mw": math.nan, "redispatch_limiting_element": "",
              "redispatch_limiting_case": "", "redispatch_constraint": "", "redispatch_reactive_limits": ""}

    def __init__(self, model: GridModel, limits: Limits, n_minus_1: bool, pf: float, max_mw: float, tol_mw: float,
                 internal: np.ndarray, names: list[str], wanted: set[str] | None) -> None:
        self.cs = cs = model._caseset(limits, n_minus_1)
        self.internal, self.names, self.wanted = internal, names, wanted
        self.tan = math.tan(math.acos(pf))
        self.search = HostingSearch(cs, pf=pf, max_mw=max_mw, tol_mw=tol_mw)
        self.rh = None if wanted is None else RedispatchHosting(cs, model._resources(), model._costs(), model.net,
                                                                   self.tan, max_mw, tol_mw=tol_mw)

    def one(self, j: int) -> tuple[dict, dict, int]:
        """Firm and (where wanted) with-redispatch hosting of bus `j`, and the AC solves."""
        search, rh = self.search, self.rh
        before = search.ac_solves + (rh.ac_solves if rh else 0)
        firm = search.row(j, self.names[j])
        rd = self._EMPTY
        if rh is not None and self.names[j] in self.wanted:
            with self.cs.attributed(int(self.internal[j]), self.tan):
                rd = rh.run(int(self.internal[j]), float(firm["hosting_mw"]))
        return firm, rd, search.ac_solves + (rh.ac_solves if rh else 0) - before


def _hosting_rows(model: GridModel, args: tuple, n_chunks: int, rows: list[int]) -> list[tuple[dict, dict, int]]:
    """On a Dask worker: the rows `rows` of :meth:`GridModel.hosting_capacity`, the buses cut in
    the caller's `n_chunks` chunks (the same screens, the same numbers). The model's case set is
    solved once per worker (it stays with the model the worker holds for the call)."""
    from threadpoolctl import threadpool_limits

    from .._progress import quiet_here

    with threadpool_limits(1), quiet_here():  # (the caller shows one bar for the tasks)
        out = _BusRows(model, *args)
        out.search.layout(args[5], n_chunks)
        return [out.one(j) for j in rows]


def _hosting_on(client, model: GridModel, args: tuple, search: HostingSearch, n: int) -> list:
    """:meth:`GridModel.hosting_capacity`'s rows on the Dask `client`'s cluster: one task per
    chunk of buses (:meth:`HostingSearch.layout`: each screens its own chunk), the model sent
    to every worker once; in bus order."""
    from .._tiled import completed_tasks

    search.layout(args[5])
    chunks = search.chunks or [list(range(n))]
    out: list = [None] * n
    calls = [(args, max(len(search.chunks), 1), rows) for rows in chunks]
    for k, rows in completed_tasks(client, _hosting_rows, model, calls, "hosting capacity (Dask tasks)", "hosting"):
        for j, row in zip(chunks[k], rows):
            out[j] = row
    return out

