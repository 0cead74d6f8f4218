"""A year of hourly situations of the 380/220 kV grid, and hourly direct coupling.

Ecorys (2025) §4.1 names the hours of grid stress; §7.1 says an AIGF can be flexible (pause
training when the grid is stressed), should couple to offshore wind, preferably directly, and
needs a hard agreement with TenneT. Three snapshots cannot say how much of a load an offshore
landing covers hour by hour, or how many hours a year a connection would have to give way; a
year of hourly situations can.

**Situations** (:func:`build_situations`): the network, the demand key and the plant fleet are
those of a base scenario of the study year; per hour, national demand follows the demand shape
(scaled so that its peak hour is the scenario's ``demand.total_mw``), offshore wind the hourly
capacity factor on each connection producing in the scenario, onshore wind its capacity factor;
must-run plants keep the scenario's output; the residual is met by the scenario's merit order up
to each fuel's available capacity, then by imports (HVDC links and AC ties in proportion to
their capacity, the AC ties at :data:`AC_TIE_USE` of their thermal rating); a surplus is exported the same way, and what the links cannot take is
curtailed (wind, pro rata). Demand that neither plants nor links can meet is reported as
unserved, never hidden.

**Direct coupling** (:func:`coupling`): with the AIGF at, or wired to, an offshore landing, the
share of the load's energy the connection's hourly output covers and the residual grid import.

Limits (see ``docs/year.md``): the base scenario's plant availability all year (no maintenance,
no seasonal CHP); demand spread by one key all year; distribution-connected solar left out of the
EHV balance; a market dispatch, not yet secured hour by hour: the hourly hosting capacity (firm
and flexible connections) needs the securing step per hour and is not part of this module yet.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError

__all__ = ["AC_TIE_USE", "Situations", "base_scenario", "build_situations", "coupling", "offshore_column",
           "situations"]

#: share of the AC ties' thermal rating available to trade (INDICATIVE): import capacity from
#: Germany 5,000 MW (ACM) plus the lower end of Belgium's 3.5–4.5 GW (Elia) = 8,500 MW, over the
#: 20,550 MVA thermal rating of the model's six tie nodes = 0.41 (SC6 in data/SOURCES.md;
#: capacities are flow-based today, not fixed)
AC_TIE_USE = 0.41


@dataclass(frozen=True)
class Situations:
    """Hourly situations of one study year.

    ``data`` is an :class:`xarray.Dataset` with dimensions ``time`` (hourly, UTC) and ``bus``
    (the network's bus names):

    - ``p_mw`` (time × bus): scheduled net injection per bus [MW], + = into the grid (the
      distributed slack balances the rest: losses are not modelled);
    - ``element_p_mw`` (time × element): output of each generating element of the network
      (``"gen:<index>"`` / ``"sgen:<index>"`` of ``net``) [MW];
    - national totals per hour [MW]: ``demand_mw``, ``offshore_mw``, ``onshore_mw``,
      ``must_run_mw``, ``thermal_mw``, ``import_mw`` (HVDC + AC, + = import),
      ``curtailed_mw`` (wind the links could not export), ``unserved_mw`` (demand neither plants
      nor imports could meet);
    - ``offshore_<id>_mw`` per offshore connection: its available hourly output (before any
      curtailment), with ``attrs["capacity_mw"]``.

    ``attrs``: ``year``, ``scenario`` (the base scenario), ``offshore_column`` (the weather year's
    profile), ``ac_tie_use`` and ``link_capacity_mw`` (the most the links import or export).
    """

    data: xr.Dataset
    scenario: str = ""

    @property
    def time(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.data["time"].to_numpy()).tz_localize("UTC")

    @property
    def n_hours(self) -> int:
        return int(self.data.sizes["time"])

    def totals(self) -> pd.DataFrame:
        """National totals per hour [MW] (one row per hour, UTC)."""
        cols = ["demand_mw", "offshore_mw", "onshore_mw", "must_run_mw", "thermal_mw", "import_mw", "curtailed_mw",
                "unserved_mw"]
        return pd.DataFrame({c: self.data[c].to_numpy() for c in cols}, index=self.time)

    def offshore(self, connection: str) -> pd.Series:
        """Hourly output [MW] of one offshore connection (by its id in the offshore layer)."""
        var = f"offshore_{connection}_mw"
        if var not in self.data:
            known = sorted(v.removeprefix("offshore_").removesuffix("_mw") for v in self.data.data_vars
                           if v.startswith("offshore_") and v != "offshore_mw")
            raise ConfigError(f"no offshore connection {connection!r} produces in these situations; "
                              f"those that do: {', '.join(known) or 'none'}")
        return pd.Series(self.data[var].to_numpy(), index=self.time, name=var)

    def __repr__(self) -> str:
        t = self.totals()
        return (f"Situations({self.data.attrs.get('year')}, base scenario {self.scenario!r}, {self.n_hours} h: demand "
                f"{t['demand_mw'].min():,.0f}–{t['demand_mw'].max():,.0f} MW, offshore up to "
                f"{t['offshore_mw'].max():,.0f} MW, net import {t['import_mw'].min():,.0f}…{t['import_mw'].max():,.0f} MW)")


def _check_profiles(profiles: pd.DataFrame, columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in profiles.columns]
    if missing:
        raise ConfigError(f"hourly profiles lack the column(s) {missing}; they need {list(columns)} "
                          "(see siting.load_profiles)")
    for c in columns:
        v = profiles[c].to_numpy(float)
        if not np.all(np.isfinite(v)):
            raise ConfigError(f"hourly profiles: column {c!r} has missing or infinite values (first at hour "
                              f"{int(np.flatnonzero(~np.isfinite(v))[0])})")
        if c.endswith("_cf") and (v.min() < 0 or v.max() > 1):
            raise ConfigError(f"hourly profiles: capacity factor {c!r} must lie in 0…1, found {v.min():g}…{v.max():g}")
    if profiles["demand_shape"].min() <= 0:
        raise ConfigError("hourly profiles: demand_shape must be positive in every hour")


def build_situations(model, profiles: pd.DataFrame, offshore_cf_column: str = "offshore_wind_cf",
                     ac_tie_use: float = AC_TIE_USE) -> Situations:
    """Hourly situations from a grid model built on layers (:meth:`GridModel.from_layers`; the
    scenario's market dispatch is used, before any securing) and hourly profiles.

    Parameters
    ----------
    model : GridModel
        The base scenario's model: network, demand key, plant fleet, links.
    profiles : DataFrame
        One row per hour (index: time, UTC) with ``demand_shape`` (any positive scale),
        ``wind_onshore_cf`` and the offshore capacity-factor column (0…1).
    offshore_cf_column : str
        Which offshore column to use (a weather year, e.g. ``offshore_wind_cf_1987``).
    ac_tie_use : float
        Share of the AC ties' rating available for imports and exports (0…1].
    """
    if model.scenario is None or model.balance is None:
        raise ConfigError("hourly situations need a model built from layers in a scenario (GridModel.from_layers)")
    if not 0 < ac_tie_use <= 1:
        raise ConfigError(f"ac_tie_use must be in (0, 1], got {ac_tie_use!r}")
    _check_profiles(profiles, ("demand_shape", "wind_onshore_cf", offshore_cf_column))
    sc = model.scenario
    net = model.net
    bus_names = net.bus["name"].astype(str).to_numpy()
    pos = {int(i): k for k, i in enumerate(net.bus.index)}
    n, t_len = len(bus_names), len(profiles)
    p = np.zeros((t_len, n))
    elements: dict[str, np.ndarray] = {}  # "gen:<idx>" / "sgen:<idx>" -> hourly output [MW]

    def add(bus: int, series) -> None:
        p[:, pos[int(bus)]] += series

    def put(table: str, idx: int, series) -> None:
        series = np.broadcast_to(np.asarray(series, dtype=float), (t_len,))
        add(net[table].at[idx, "bus"], series)
        key = f"{table}:{int(idx)}"
        elements[key] = elements.get(key, 0.0) + series

    # demand: the scenario's key, scaled so the peak hour is the scenario's total
    shape = profiles["demand_shape"].to_numpy(float)
    demand = sc.demand.total_mw * shape / shape.max()
    loads = net.load
    key = loads["p_mw"].to_numpy(float) / loads["p_mw"].sum()
    for b, k in zip(loads["bus"], key):
        add(b, -demand * k)

    sg, gen = net.sgen, net.gen
    # the market dispatch of the scenario (before any securing), from the build's balance
    bal = model.balance

    def element(name: str) -> tuple[str, int]:
        for table in ("gen", "sgen"):
            hit = net[table].index[net[table]["name"].astype(str) == name]
            if len(hit):
                return table, int(hit[0])
        raise ConfigError(f"the model's network has no element {name!r} of its own balance")

    # offshore connections producing in the scenario: hourly capacity factor x output capacity
    off_cf = profiles[offshore_cf_column].to_numpy(float)
    offshore_by = {}
    base_cf = sc.offshore.capacity_factor
    for r in bal[bal["component"] == "offshore wind"].itertuples():
        name = str(r.id)
        cf0 = sc.offshore.per_connection.get(name, base_cf)
        # the scenario's output / its capacity factor = the output capacity that produces now
        cap = float(r.p_mw) / cf0 if cf0 > 0 else 0.0
        offshore_by[name] = (element(name), off_cf * cap, cap)
    offshore_raw = sum((s for _, s, _ in offshore_by.values()), np.zeros(t_len))

    # onshore wind (hourly capacity factor x capacity) and the other must-run plants (constant)
    on_cf = profiles["wind_onshore_cf"].to_numpy(float)
    onshore_units, must = [], np.zeros(t_len)
    for r in bal[bal["component"].astype(str).str.startswith("must-run ")].itertuples():
        fuel = str(r.component).removeprefix("must-run ")
        where = element(str(r.id))
        if fuel == "wind_onshore":
            frac = sc.dispatch.must_run.get("wind_onshore", 0.0)
            onshore_units.append((where, float(r.p_mw) / frac if frac > 0 else 0.0))
        else:
            put(*where, float(r.p_mw))
            must += float(r.p_mw)
    onshore_raw = sum((cap * on_cf for _, cap in onshore_units), np.zeros(t_len))

    # links: HVDC capacities, AC ties (boundary equivalents) by their tie share
    hvdc = [("sgen", int(i), float(sg.at[i, "sn_mva"])) for i in sg.index[sg["type"] == "hvdc"]]
    boundary = [("gen", int(i)) for i in gen.index[gen["type"] == "boundary"]]
    boundary += [("sgen", int(i)) for i in sg.index[sg["type"] == "boundary"]]
    tie = _tie_ratings(net, {int(net[t].at[i, "bus"]) for t, i in boundary})
    ac_cap = ac_tie_use * sum(tie.values())
    hvdc_cap = sum(c for _, _, c in hvdc)
    link_cap = ac_cap + hvdc_cap

    residual = demand - must - offshore_raw - onshore_raw
    # a surplus beyond the links is curtailed (wind, pro rata)
    wind = offshore_raw + onshore_raw
    curtailed = np.clip(-residual - link_cap, 0.0, wind)
    keep = np.where(wind > 0, 1.0 - curtailed / np.where(wind > 0, wind, 1.0), 1.0)
    residual = residual + curtailed
    for where, s, _ in offshore_by.values():
        put(*where, s * keep)
    for where, cap in onshore_units:
        put(*where, cap * on_cf * keep)

    # merit order of the dispatchable plants, then imports
    thermal = np.zeros(t_len)
    rest = np.maximum(residual, 0.0)
    disp = [(t, i) for t in ("gen", "sgen") for i in net[t].index
            if bool(net[t].get("dispatchable", pd.Series(False, index=net[t].index)).at[i])]
    for fuel in sc.dispatch.merit_order:
        units = [(t, i) for t, i in disp if net[t].at[i, "type"] == fuel]
        avail = sum(float(net[t].at[i, "max_p_mw"]) for t, i in units)
        if not units or avail <= 0:
            continue
        take = np.minimum(rest, avail)
        for t, i in units:
            put(t, i, take * float(net[t].at[i, "max_p_mw"]) / avail)
        thermal += take
        rest -= take
    imports = np.clip(rest, 0.0, link_cap) + np.clip(np.minimum(residual, 0.0), -link_cap, 0.0)
    unserved = rest - np.clip(rest, 0.0, link_cap)
    total_tie = sum(tie.values()) or 1.0
    for t, i, c in hvdc:
        put(t, i, imports * c / link_cap if link_cap > 0 else 0.0)
    for t, i in boundary:
        share = tie.get(int(net[t].at[i, "bus"]), 0.0) / total_tie
        put(t, i, imports * (ac_cap / link_cap if link_cap > 0 else 0.0) * share)
    # an hour whose demand plants and links cannot meet: the demand is cut (reported)
    if unserved.any():
        for b, k in zip(loads["bus"], key):
            add(b, unserved * k)

    time = pd.DatetimeIndex(profiles.index)
    if time.tz is not None:
        time = time.tz_convert("UTC").tz_localize(None)
    names = sorted(elements)
    data = xr.Dataset(
        {
            "p_mw": (("time", "bus"), p),
            "element_p_mw": (("time", "element"), np.column_stack([elements[k] for k in names]) if names
                             else np.zeros((t_len, 0))),
            "demand_mw": ("time", demand - unserved),
            "offshore_mw": ("time", offshore_raw * keep),
            "onshore_mw": ("time", onshore_raw * keep),
            "must_run_mw": ("time", must),
            "thermal_mw": ("time", thermal),
            "import_mw": ("time", imports),
            "curtailed_mw": ("time", curtailed),
            "unserved_mw": ("time", unserved),
            **{f"offshore_{k}_mw": ("time", s, {"capacity_mw": cap, "note": "available output (before any curtailment)"})
               for k, (_, s, cap) in offshore_by.items()},
        },
        coords={"time": time.to_numpy(), "bus": bus_names, "element": names},
        attrs={"year": int(sc.year), "scenario": sc.name, "offshore_column": offshore_cf_column,
               "ac_tie_use": float(ac_tie_use), "link_capacity_mw": float(link_cap)},
    )
    return Situations(data, scenario=sc.name)


def _tie_ratings(net, boundary_buses: set[int]) -> dict[int, float]:
    """Thermal rating [MVA] of the lines ending at each boundary bus (all circuits)."""
    out = {b: 0.0 for b in boundary_buses}
    vn = net.bus["vn_kv"]
    for row in net.line.itertuples():
        for end in (row.from_bus, row.to_bus):
            if end in out:
                out[end] += math.sqrt(3) * float(vn.at[end]) * float(row.max_i_ka) * float(row.df) * float(row.parallel)
    return out


def coupling(situations: Situations, connection: str, p_mw: float) -> dict:
    """Hourly direct coupling of a load of `p_mw` to one offshore connection: the share of the
    load's energy the connection's hourly output covers, and the residual grid import (per hour,
    its peak and its energy)."""
    out = situations.offshore(connection).to_numpy()
    cap = float(situations.data[f"offshore_{connection}_mw"].attrs.get("capacity_mw", out.max()))
    load = float(p_mw)
    covered = np.minimum(out, load)
    residual = load - covered
    return {
        "connection": connection,
        "p_mw": load,
        "offshore_share": float(covered.sum() / (load * len(out))) if load > 0 else 0.0,
        "capacity_factor": float(out.mean() / cap) if cap > 0 else 0.0,
        "residual_import_peak_mw": float(residual.max()),
        "residual_import_mwh": float(residual.sum()),
        "hours_fully_covered": int(np.count_nonzero(residual <= 1e-6)),
        "residual_import_mw": pd.Series(residual, index=situations.time, name="residual_import_mw"),
    }


def base_scenario(year: int) -> str:
    """The shipped scenario a year's hourly situations start from: the one of that year with the
    peak demand (its name has "peak"), else the first of that year."""
    from .scenario import list_scenarios, load_scenario

    names = list_scenarios()
    of_year = [n for n in names if load_scenario(n).year == int(year)]
    if not of_year:
        years = sorted({load_scenario(n).year for n in names})
        raise ConfigError(f"no shipped scenario for the year {year}; shipped years: {', '.join(map(str, years))} "
                          "(or pass scenario= a TOML file of your own for that year)")
    peak = [n for n in of_year if "peak" in n]
    return (peak or of_year)[0]


def offshore_column(profiles: pd.DataFrame, weather_year: int | None) -> str:
    """The offshore capacity-factor column of a weather year (None: the default year)."""
    col = "offshore_wind_cf" if weather_year is None else f"offshore_wind_cf_{int(weather_year)}"
    if col not in profiles.columns:
        have = sorted(c.removeprefix("offshore_wind_cf_") for c in profiles.columns if c.startswith("offshore_wind_cf_"))
        raise ConfigError(f"no offshore wind profile for the weather year {weather_year}; available: default"
                          f"{', ' + ', '.join(have) if have else ''}")
    return col


def situations(year: int = 2030, scenario=None, profiles: pd.DataFrame | None = None, weather_year: int | None = None,
               layers=None) -> Situations:
    """A year of hourly situations of the Dutch EHV grid (see the module notes).

    Parameters
    ----------
    year : int
        Study year; picks the shipped scenario of that year with the peak demand
        (:func:`base_scenario`) unless `scenario` is given.
    scenario : str, path or Scenario, optional
        The base scenario (network year, demand level and key, plant fleet, links).
    profiles : DataFrame, optional
        Hourly profiles; default the shipped ones (:func:`siting.load_profiles`).
    weather_year : int, optional
        Offshore wind of another weather year (1987, 1997, 2004).
    layers : Layers, optional
        Default: the embedded Netherlands layers.
    """
    from .model import GridModel

    if isinstance(year, bool) or not isinstance(year, (int, np.integer)):
        raise ConfigError(f"year must be a whole number such as 2030, got {year!r}")
    name = scenario if scenario is not None else base_scenario(int(year))
    model = GridModel.from_layers(layers, scenario=name, secure=False)
    return model.situations(profiles=profiles, weather_year=weather_year)
