"""Importer for the ENTSO-E transmission map extract processed by GridKit (PyPSA's
``entsoegridkit``: buses.csv, lines.csv, transformers.csv; quote character ``'``; hstore tags).

The extract carries topology, voltage levels, circuit counts and lengths, but no impedances,
ratings, loads or dispatch. Modelling assumptions (documented, as PyPSA-Eur does for this data):

- AC buses of the selected countries (bus tag ``country``) at or above ``min_kv``; lines with
  both ends among them (cross-border lines are cut at the border); under-construction lines and
  DC links left out unless asked.
- Per-circuit line parameters by voltage level, the standard bundled-conductor types that PyPSA
  derives from pandapower's library: 220 kV "Al/St 240/40 2-bundle" r 0.06, x 0.301 Ω/km,
  1.29 kA; 300 kV "3-bundle" r 0.04, x 0.265 Ω/km, 1.935 kA; 380 kV "4-bundle" r 0.03,
  x 0.246 Ω/km, 2.58 kA; capacitance 11.5 / 12.5 / 13.8 nF/km (indicative). Other voltages take
  the nearest of these. Lengths: the extract's ``length`` [m].
- Transformers (derived by GridKit between voltage levels of a station): 600 MVA per unit,
  vk 12 %, vkr 0.25 % (indicative).
- No loads or generation: the network carries only what the user adds. The angle reference
  (ext_grid) is the highest-voltage bus with the most connections; it balances any added load.
"""

from __future__ import annotations

import math
import re
from os import PathLike
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandapower as pp
import pandapower.toolbox  # noqa: F401  (pp.toolbox.drop_buses)
import pandapower.topology as top
import pandas as pd

from ..errors import ConfigError, LayerFileError

__all__ = ["gridkit_network", "LINE_TYPES"]

#: kV -> (r ohm/km, x ohm/km, c nF/km, max_i_ka) per circuit
LINE_TYPES: dict[float, tuple[float, float, float, float]] = {
    220.0: (0.06, 0.301, 11.5, 1.29),
    300.0: (0.04, 0.265, 12.5, 1.935),
    380.0: (0.03, 0.246, 13.8, 2.58),
}

_COUNTRY = re.compile(r'"country"=>"([A-Z]{2})"')


def _read(folder: Path, name: str) -> pd.DataFrame:
    path = folder / name
    if not path.is_file():
        raise LayerFileError(f"GridKit file missing: expected {name} in '{folder}'", path=path,
                             fix="point to the folder holding buses.csv, lines.csv and transformers.csv")
    try:
        return pd.read_csv(path, quotechar="'", low_memory=False)
    except Exception as exc:  # noqa: BLE001
        raise LayerFileError(f"cannot read GridKit file: {exc}", path=path) from exc


def gridkit_network(path: str | PathLike[str], countries=("NL",), min_kv: float = 220.0,
                    include_under_construction: bool = False) -> tuple[pp.pandapowerNet, gpd.GeoSeries]:
    """A pandapower network of the selected countries from a GridKit extract folder.

    Returns the network (bus names ``gk-<bus_id>``) and the bus points (EPSG:28992 when the
    area is Dutch, EPSG:3035 otherwise).
    """
    folder = Path(path)
    countries = tuple(countries)
    if not countries:
        raise ConfigError("countries must name at least one ISO code, e.g. ('NL',)")
    buses = _read(folder, "buses.csv")
    lines = _read(folder, "lines.csv")
    trafos = _read(folder, "transformers.csv")
    buses["country"] = buses["tags"].astype(str).str.extract(_COUNTRY, expand=False)
    known = sorted(buses["country"].dropna().unique())
    unknown = sorted(set(countries) - set(known))
    if unknown:
        raise ConfigError(f"unknown country code(s) {unknown} in the GridKit extract; it has: {', '.join(known)}")
    sel = buses[buses["country"].isin(countries) & (buses["dc"] == "f") & (buses["voltage"] >= min_kv)]
    if sel.empty:
        raise ConfigError(f"no AC buses >= {min_kv:g} kV for {countries} in the GridKit extract")
    lines = lines[lines["bus0"].isin(sel["bus_id"]) & lines["bus1"].isin(sel["bus_id"])]
    if not include_under_construction:
        lines = lines[~lines["under_construction"].astype(str).str.lower().isin(["t", "true"])]
    trafos = trafos[trafos["bus0"].isin(sel["bus_id"]) & trafos["bus1"].isin(sel["bus_id"])]

    net = pp.create_empty_network(name=f"GridKit {'+'.join(countries)}", f_hz=50.0, sn_mva=100.0)
    bus_of: dict[int, int] = {}
    for row in sel.itertuples():
        bus_of[int(row.bus_id)] = pp.create_bus(net, vn_kv=float(row.voltage), name=f"gk-{int(row.bus_id)}",
                                                geodata=(float(row.x), float(row.y)), zone=row.country)
    levels = np.array(sorted(LINE_TYPES))
    for row in lines.itertuples():
        kv = float(row.voltage)
        r, x, c, imax = LINE_TYPES[float(levels[np.argmin(np.abs(levels - kv))])]
        pp.create_line_from_parameters(
            net, bus_of[int(row.bus0)], bus_of[int(row.bus1)], length_km=max(float(row.length) / 1000.0, 0.01),
            r_ohm_per_km=r, x_ohm_per_km=x, c_nf_per_km=c, max_i_ka=imax, parallel=max(int(row.circuits), 1),
            name=f"gk-line-{int(row.line_id)}",
        )
    for row in trafos.itertuples():
        lv, hv = bus_of[int(row.bus0)], bus_of[int(row.bus1)]
        vn_lv, vn_hv = net.bus.at[lv, "vn_kv"], net.bus.at[hv, "vn_kv"]
        if vn_lv == vn_hv:
            continue
        if vn_lv > vn_hv:
            lv, hv, vn_lv, vn_hv = hv, lv, vn_hv, vn_lv
        pp.create_transformer_from_parameters(
            net, hv, lv, sn_mva=600.0, vn_hv_kv=vn_hv, vn_lv_kv=vn_lv, vkr_percent=0.25, vk_percent=12.0,
            pfe_kw=0.0, i0_percent=0.0, name=f"gk-trafo-{int(row.transformer_id)}",
        )
    # keep the largest connected part (the extract has stray stubs)

    graph = top.create_nxgraph(net, respect_switches=False)
    parts = sorted(top.connected_components(graph), key=len, reverse=True)
    keep = parts[0]
    drop = [b for b in net.bus.index if b not in keep]
    if drop:
        pp.toolbox.drop_buses(net, drop)
    degree = pd.concat([net.line["from_bus"], net.line["to_bus"], net.trafo["hv_bus"], net.trafo["lv_bus"]]).value_counts()
    top_kv = net.bus["vn_kv"].max()
    cand = degree[degree.index.isin(net.bus.index[net.bus["vn_kv"] == top_kv])]
    pp.create_ext_grid(net, int(cand.idxmax()), vm_pu=1.0, name="reference")
    lon = sel.set_index("bus_id").loc[[int(n[3:]) for n in net.bus["name"]], "x"].to_numpy()
    lat = sel.set_index("bus_id").loc[[int(n[3:]) for n in net.bus["name"]], "y"].to_numpy()
    crs = "EPSG:28992" if set(countries) <= {"NL"} else "EPSG:3035"
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), index=net.bus["name"].to_numpy(), crs="EPSG:4326").to_crs(crs)
    if not math.isfinite(float(net.line["length_km"].sum())):
        raise LayerFileError("GridKit line lengths are not numbers", path=folder / "lines.csv")
    return net, points
