"""Bad input at every entry point gets a clear error — never a traceback, a hang or a silent
wrong result (issue #13).

Three tables: the Python API (functions called with one bad argument), the command line (run
through click's CliRunner: exit 2, the flag named on stderr, no traceback, and no long
computation started), and configuration files (criteria, scenario and layer-set TOMLs written
here). Every case asserts the message with a regular expression. The checks run before any
computation, so the whole file is fast; an alarm fails a case that hangs instead of hanging.
"""

from __future__ import annotations

import inspect
import math
import re
import signal
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

import siting
from siting import _validate as V
from siting.cli import FLAGS, main
from siting.errors import ConfigError, LayerError, LayerFileError, ParameterError, SitingError
from siting.evaluate import Evaluation
from siting.grid import GridModel
from siting.grid.scenario import scenario_dir
from siting.candidates import candidates
from siting.climate import climate_field, free_cooling_netcdf
from siting.surface import locate, read_raster, surface

from .conftest import make_sites
from .grid_fixtures import embedded_layers

BUS = "maasvlakte-380"
NAN, INF = math.nan, math.inf


@pytest.fixture(autouse=True)
def _no_hang():
    """A case that would hang (e.g. a search with tolerance 0) fails after 30 s instead."""

    def hung(signum, frame):
        raise TimeoutError("hung: the bad input was not refused before the computation")

    old = signal.signal(signal.SIGALRM, hung)
    signal.alarm(30)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(scope="module")
def model() -> GridModel:
    return GridModel.from_layers(embedded_layers(), scenario="winter-peak-2026")


@pytest.fixture(scope="module")
def ev() -> Evaluation:
    """An Evaluation object for argument checks (they run before its content is used)."""
    return Evaluation(table=make_sites(2), metrics=pd.DataFrame(), criteria=siting.load_criteria())


@pytest.fixture(scope="module")
def ds() -> xr.Dataset:
    """A tiny surface (4 x 4 cells of 250 m) for locate()."""
    ones = np.ones((4, 4))
    return xr.Dataset({"hard_ok": (("y", "x"), ones.astype(bool)), "hard_conditional": (("y", "x"), ones.astype(bool)),
                       "score": (("y", "x"), ones * 0.5)},
                      coords={"x": 100_000 + 250 * np.arange(4), "y": 450_000 - 250 * np.arange(4)},
                      attrs={"resolution_m": 250.0, "crs": "EPSG:28992", "year": 2030})


# --------------------------------------------------------------------------------------- API
# (id, call(model, ev, ds, tmp_path), exception, message regex). Every message names the
# parameter and the value given (``name=value``), what is allowed, and a fix.

def _no_geometry_gdf():
    return gpd.GeoDataFrame({"id": ["a"], "wkt": ["POINT (0 0)"]})  # a GeoDataFrame with no geometry column


API = [
    # --- GridModel.check_load: limits, loads, power factor (silent passes and wrong loads before)
    ("check_load max_loading_pct nan", lambda m, e, d, t: m.check_load(BUS, 300, max_loading_pct=NAN), ParameterError,
     r"max_loading_pct=nan: must be a finite number of percent in \(0, 1000\] \(NaN"),
    ("check_load max_loading_pct 0", lambda m, e, d, t: m.check_load(BUS, 300, max_loading_pct=0), ParameterError,
     r"max_loading_pct=0: .*too small.*Fix: use e.g. max_loading_pct=100"),
    ("check_load max_loading_pct negative", lambda m, e, d, t: m.check_load(BUS, 300, max_loading_pct=-5),
     ParameterError, r"max_loading_pct=-5: must be"),
    ("check_load max_loading_pct inf", lambda m, e, d, t: m.check_load(BUS, 300, max_loading_pct=INF), ParameterError,
     r"max_loading_pct=inf: .*not finite"),
    ("check_load max_loading_pct bool", lambda m, e, d, t: m.check_load(BUS, 300, max_loading_pct=True),
     ParameterError, r"max_loading_pct=True: .*a bool, not a number"),
    ("check_load voltage band inverted", lambda m, e, d, t: m.check_load(BUS, 300, vm_min_pu=1.1, vm_max_pu=0.9),
     ParameterError, r"vm_min_pu=1.1: must be below vm_max_pu=0.9 \(the voltage band is empty or inverted\)"),
    ("check_load voltage band empty", lambda m, e, d, t: m.check_load(BUS, 300, vm_min_pu=1.0, vm_max_pu=1.0),
     ParameterError, r"vm_min_pu=1.0: must be below vm_max_pu=1.0"),
    ("check_load vm_min nan", lambda m, e, d, t: m.check_load(BUS, 300, vm_min_pu=NAN), ParameterError,
     r"vm_min_pu=nan: must be a finite number of pu in \[0.5, 1.5\]"),
    ("check_load vm_max absurd", lambda m, e, d, t: m.check_load(BUS, 300, vm_max_pu=11), ParameterError,
     r"vm_max_pu=11: .*too large"),
    ("check_load p_mw nan", lambda m, e, d, t: m.check_load(BUS, NAN), ParameterError, r"p_mw=nan: must be a finite"),
    ("check_load p_mw negative", lambda m, e, d, t: m.check_load(BUS, -360), ParameterError, r"p_mw=-360: .*MW ≥ 0"),
    ("check_load p_mw absurd", lambda m, e, d, t: m.check_load(BUS, 1e6), ParameterError, r"absurd for one load"),
    ("check_load p_mw text", lambda m, e, d, t: m.check_load(BUS, "300"), ParameterError,
     r"p_mw='300': .*text; write the number without quotes"),
    ("check_load p_mw bool", lambda m, e, d, t: m.check_load(BUS, True), ParameterError, r"p_mw=True: .*bool"),
    ("check_load p_mw None", lambda m, e, d, t: m.check_load(BUS, None), ParameterError,
     r"p_mw=None: .*None is not a number"),
    ("check_load pf 0", lambda m, e, d, t: m.check_load(BUS, 300, pf=0), ParameterError,
     r"pf=0: must be a finite number in \[0.5, 1\].*Fix: use e.g. pf=0.98"),
    ("check_load pf above 1", lambda m, e, d, t: m.check_load(BUS, 300, pf=1.2), ParameterError, r"pf=1.2: .*too large"),
    ("check_load pf bool", lambda m, e, d, t: m.check_load(BUS, 300, pf=True), ParameterError, r"pf=True: .*bool"),
    ("check_load pf nan", lambda m, e, d, t: m.check_load(BUS, 300, pf=NAN), ParameterError, r"pf=nan"),
    ("check_load n_minus_1 text", lambda m, e, d, t: m.check_load(BUS, 300, n_minus_1="no"), ParameterError,
     r"n_minus_1='no': must be True or False \(a str is not a bool\)"),
    ("check_load unknown bus", lambda m, e, d, t: m.check_load("maasvlakt-380", 300), ConfigError,
     r"unknown bus 'maasvlakt-380'\. Did you mean 'maasvlakte-380'"),
    # --- GridModel.hosting_capacity: tolerances (hangs before), bus lists (tracebacks before)
    ("hosting tol_mw 0 (hung)", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=0), ParameterError,
     r"tol_mw=0: must be a finite number of MW in \[0.001, 100\].*0 or less would never end.*tol_mw=0.5"),
    ("hosting tol_mw negative (hung)", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=-1), ParameterError,
     r"tol_mw=-1: .*too small"),
    ("hosting tol_mw nan (0 MW before)", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=NAN),
     ParameterError, r"tol_mw=nan: .*NaN"),
    ("hosting tol_mw inf", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=INF), ParameterError,
     r"tol_mw=inf"),
    ("hosting tol_mw below float precision", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=1e-12),
     ParameterError, r"tol_mw=1e-12: .*too small"),
    ("hosting tol_mw over max_mw", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=50, max_mw=20),
     ParameterError, r"tol_mw=50.0: must be below max_mw=20"),
    ("hosting tol_mw bool", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], tol_mw=True), ParameterError,
     r"tol_mw=True: .*bool"),
    ("hosting buses empty", lambda m, e, d, t: m.hosting_capacity(buses=[]), ParameterError,
     r"buses=\[\]: must be a non-empty list of bus ids.*the list is empty"),
    ("hosting buses one string", lambda m, e, d, t: m.hosting_capacity(buses=BUS), ParameterError,
     r"buses='maasvlakte-380': .*one id as text.*Fix: use buses=\['maasvlakte-380'\]"),
    ("hosting buses bool item", lambda m, e, d, t: m.hosting_capacity(buses=[True]), ParameterError,
     r"buses=\[True\]: .*True is a bool"),
    ("hosting buses float item", lambda m, e, d, t: m.hosting_capacity(buses=[1.5]), ParameterError,
     r"buses=\[1.5\]: .*1.5 is a float"),
    ("hosting buses not a list", lambda m, e, d, t: m.hosting_capacity(buses=5), ParameterError,
     r"buses=5: .*an int is not a list"),
    ("hosting unknown bus", lambda m, e, d, t: m.hosting_capacity(buses=["nowhere-380"]), ConfigError,
     r"unknown bus 'nowhere-380'"),
    ("hosting max_mw 0", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], max_mw=0), ParameterError,
     r"max_mw=0: must be a finite number of MW in \(0, 10000\]"),
    ("hosting max_mw nan", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], max_mw=NAN), ParameterError,
     r"max_mw=nan"),
    ("hosting max_mw absurd", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], max_mw=1e7), ParameterError,
     r"max_mw=10000000.0: .*too large"),
    ("hosting pf 0.1", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], pf=0.1), ParameterError,
     r"pf=0.1: .*too small"),
    ("hosting max_loading_pct nan", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], max_loading_pct=NAN),
     ParameterError, r"max_loading_pct=nan"),
    ("hosting voltage band inverted", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], vm_min_pu=1.1, vm_max_pu=0.9),
     ParameterError, r"vm_min_pu=1.1: must be below vm_max_pu=0.9"),
    ("hosting redispatch text", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], redispatch="yes"), ParameterError,
     r"redispatch='yes': .*one id as text"),
    ("hosting redispatch None item", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], redispatch=[None]),
     ParameterError, r"redispatch=\[None\]: .*None is a NoneType"),
    ("hosting n_minus_1 int", lambda m, e, d, t: m.hosting_capacity(buses=[BUS], n_minus_1=1), ParameterError,
     r"n_minus_1=1: must be True or False"),
    # --- other GridModel entry points
    ("direct_coupling landing int", lambda m, e, d, t: m.direct_coupling(5, 360), ParameterError,
     r"landing=5: must be an offshore connection id \(str\).*ow-hkn"),
    ("direct_coupling p_mw nan", lambda m, e, d, t: m.direct_coupling("ow-hkn", NAN), ParameterError, r"p_mw=nan"),
    ("direct_coupling pf 2", lambda m, e, d, t: m.direct_coupling("ow-hkn", 360, pf=2), ParameterError, r"pf=2"),
    ("direct_coupling unknown landing", lambda m, e, d, t: m.direct_coupling("ow-nope", 360), ConfigError,
     r"no offshore connection 'ow-nope'"),
    ("secured target_pct 0", lambda m, e, d, t: m.secured(target_pct=0), ParameterError,
     r"target_pct=0: must be a finite number of percent"),
    ("secured target_pct nan", lambda m, e, d, t: m.secured(target_pct=NAN), ParameterError, r"target_pct=nan"),
    ("secured costs dict", lambda m, e, d, t: m.secured(costs={"plant": 1}), ParameterError,
     r"costs=\{'plant': 1\}: must be a RemedialCosts"),
    ("compare_capacity_map year text", lambda m, e, d, t: m.compare_capacity_map(year="2026"), ParameterError,
     r"year='2026': must be a whole year in \[2000, 2100\].*without quotes"),
    ("compare_capacity_map year float", lambda m, e, d, t: m.compare_capacity_map(year=2026.5), ParameterError,
     r"year=2026.5: .*not a whole number"),
    ("compare_capacity_map pf nan", lambda m, e, d, t: m.compare_capacity_map(pf=NAN), ParameterError, r"pf=nan"),
    ("compare_capacity_map hosting list", lambda m, e, d, t: m.compare_capacity_map(hosting=[1, 2]), ParameterError,
     r"hosting=\[1, 2\]: must be a hosting_capacity\(\) table"),
    # --- evaluate(): study parameters (silent wrong results before), types (tracebacks before)
    ("evaluate it_load_mw True (ran as 1 MW)", lambda m, e, d, t: siting.evaluate(it_load_mw=True), ParameterError,
     r"it_load_mw=True: must be a finite number of MW in \[1, 5000\] \(True is a bool, not a number"),
    ("evaluate it_load_mw negative", lambda m, e, d, t: siting.evaluate(it_load_mw=-300), ParameterError,
     r"it_load_mw=-300: .*too small.*Fix: use e.g. it_load_mw=300"),
    ("evaluate it_load_mw nan", lambda m, e, d, t: siting.evaluate(it_load_mw=NAN), ParameterError, r"it_load_mw=nan"),
    ("evaluate it_load_mw text", lambda m, e, d, t: siting.evaluate(it_load_mw="300"), ParameterError,
     r"it_load_mw='300'"),
    ("evaluate grid load absurd", lambda m, e, d, t: siting.evaluate(it_load_mw=5000, pue=3), ParameterError,
     r"it_load_mw=5000: must be such that IT load × PUE ≤ 10000 MW.*15000 MW"),
    ("evaluate pue below 1", lambda m, e, d, t: siting.evaluate(pue=0.5), ParameterError, r"pue=0.5: .*in \[1, 3\]"),
    ("evaluate pue nan", lambda m, e, d, t: siting.evaluate(pue=NAN), ParameterError, r"pue=nan"),
    ("evaluate pf 0", lambda m, e, d, t: siting.evaluate(pf=0), ParameterError, r"pf=0: "),
    ("evaluate year text (said: no shipped scenario)", lambda m, e, d, t: siting.evaluate(year="2030"), ParameterError,
     r"year='2030': must be a whole year .*'2030' is text; write the number without quotes.*year=2030"),
    ("evaluate year float", lambda m, e, d, t: siting.evaluate(year=2030.0), ParameterError,
     r"year=2030.0: .*a float; write 2030"),
    ("evaluate year bool", lambda m, e, d, t: siting.evaluate(year=True), ParameterError, r"year=True: .*bool"),
    ("evaluate year out of range", lambda m, e, d, t: siting.evaluate(year=1900), ParameterError,
     r"year=1900: .*too small"),
    ("evaluate year without shipped scenario", lambda m, e, d, t: siting.evaluate(year=2031), ParameterError,
     r"year=2031: must be a year with a shipped scenario \(2026, 2030, 2032\).*name the scenarios with scenario="),
    ("evaluate scenario empty list", lambda m, e, d, t: siting.evaluate(scenario=[]), ParameterError,
     r"scenario=\[\]: .*the list is empty"),
    ("evaluate scenario int", lambda m, e, d, t: siting.evaluate(scenario=5), ParameterError,
     r"scenario=5: .*an int is none of these"),
    ("evaluate scenario list of int", lambda m, e, d, t: siting.evaluate(scenario=[5]), ParameterError,
     r"scenario=\[5\]"),
    ("evaluate scenario unknown", lambda m, e, d, t: siting.evaluate(scenario="winter-2026"), ConfigError,
     r"unknown scenario 'winter-2026'; shipped: .*winter-peak-2026"),
    ("evaluate criteria int", lambda m, e, d, t: siting.evaluate(criteria=123), ParameterError,
     r"criteria=123: must be a shipped criteria name, the path of a criteria TOML file.*ecorys-2025"),
    ("evaluate criteria empty", lambda m, e, d, t: siting.evaluate(criteria=""), ParameterError, r"criteria='': .*empty"),
    ("evaluate criteria unknown", lambda m, e, d, t: siting.evaluate(criteria="ecorys"), ConfigError,
     r"unknown criteria 'ecorys'"),
    ("evaluate sites DataFrame", lambda m, e, d, t: siting.evaluate(sites=pd.DataFrame({"id": ["a"]})), ParameterError,
     r"sites=<DataFrame of shape \(1, 1\)>: .*a pandas DataFrame has no geometry.*GeoDataFrame\(df"),
    ("evaluate sites int", lambda m, e, d, t: siting.evaluate(sites=123), ParameterError,
     r"sites=123: must be a GeoDataFrame of sites or the path of a file"),
    ("evaluate sites GeoDataFrame without geometry", lambda m, e, d, t: siting.evaluate(sites=_no_geometry_gdf()),
     ParameterError, r"no active geometry column"),
    ("evaluate sites missing path", lambda m, e, d, t: siting.evaluate(sites=t / "nope.gpkg"), ParameterError,
     r"sites='.*nope\.gpkg': must be the path of an existing sites file .*\(no such file\)"),
    ("evaluate layers wrong type", lambda m, e, d, t: siting.evaluate(layers="layers.toml"), ParameterError,
     r"layers='layers.toml': must be a Layers"),
    ("evaluate rasters wrong type", lambda m, e, d, t: siting.evaluate(rasters="noise.tif"), ParameterError,
     r"rasters='noise.tif': must be a dict"),
    ("evaluate climate wrong type", lambda m, e, d, t: siting.evaluate(climate=5), ParameterError,
     r"climate=5: must be the path of a NetCDF file"),
    ("evaluate policy unknown", lambda m, e, d, t: siting.evaluate(policy="maybe"), ParameterError,
     r"policy='maybe': must be one of 'hard', 'soft', 'off' or None"),
    ("evaluate free_cooling_c absurd", lambda m, e, d, t: siting.evaluate(free_cooling_c=293.15), ParameterError,
     r"free_cooling_c=293.15: must be a finite number of °C in \[-30, 45\]"),
    ("evaluate free_cooling_c nan", lambda m, e, d, t: siting.evaluate(free_cooling_c=NAN), ParameterError,
     r"free_cooling_c=nan"),
    # --- Evaluation.sensitivity
    ("sensitivity n 0", lambda m, e, d, t: e.sensitivity(n=0), ParameterError,
     r"n=0: must be a whole number in \[1, 1000000\].*Monte Carlo.*n=500"),
    ("sensitivity n negative", lambda m, e, d, t: e.sensitivity(n=-5), ParameterError, r"n=-5"),
    ("sensitivity n float", lambda m, e, d, t: e.sensitivity(n=2.5), ParameterError, r"n=2.5: .*not a whole number"),
    ("sensitivity n bool", lambda m, e, d, t: e.sensitivity(n=True), ParameterError, r"n=True: .*bool"),
    ("sensitivity n huge", lambda m, e, d, t: e.sensitivity(n=10**9), ParameterError, r"n=1000000000: .*too large"),
    ("sensitivity seed negative", lambda m, e, d, t: e.sensitivity(seed=-1), ParameterError,
     r"seed=-1: must be a whole number ≥ 0"),
    ("sensitivity seed float", lambda m, e, d, t: e.sensitivity(seed=0.5), ParameterError, r"seed=0.5"),
    ("sensitivity top_k 0", lambda m, e, d, t: e.sensitivity(top_k=0), ParameterError,
     r"top_k=0: must be a whole number ≥ 1.*top_k=5"),
    ("sensitivity concentration 0", lambda m, e, d, t: e.sensitivity(concentration=0), ParameterError,
     r"concentration=0: must be a finite number > 0"),
    # --- surface() and locate()
    ("surface it_load_mw negative (ran with -360 MW)", lambda m, e, d, t: surface(it_load_mw=-300), ParameterError,
     r"it_load_mw=-300: must be a finite number of MW in \[1, 5000\]"),
    ("surface resolution too fine", lambda m, e, d, t: surface(resolution_m=10), ParameterError,
     r"resolution_m=10: must be a finite number of m in \[100, 5000\]"),
    ("surface resolution nan", lambda m, e, d, t: surface(resolution_m=NAN), ParameterError, r"resolution_m=nan"),
    ("surface resolution text", lambda m, e, d, t: surface(resolution_m="250"), ParameterError, r"resolution_m='250'"),
    ("surface year text", lambda m, e, d, t: surface(year="2030"), ParameterError, r"year='2030'"),
    ("surface pue 0", lambda m, e, d, t: surface(pue=0), ParameterError, r"pue=0"),
    ("surface pf nan", lambda m, e, d, t: surface(pf=NAN), ParameterError, r"pf=nan"),
    ("surface scenario empty", lambda m, e, d, t: surface(scenario=[]), ParameterError, r"scenario=\[\]"),
    ("surface criteria int", lambda m, e, d, t: surface(criteria=5), ParameterError, r"criteria=5"),
    ("surface exclusions DataFrame", lambda m, e, d, t: surface(exclusions=pd.DataFrame({"a": [1]})), ParameterError,
     r"exclusions=<DataFrame .*: must be a GeoDataFrame of excluded areas"),
    ("surface layers wrong type", lambda m, e, d, t: surface(layers=5), ParameterError, r"layers=5: must be a Layers"),
    ("locate n float", lambda m, e, d, t: locate(d, n=2.5), ParameterError,
     r"n=2.5: must be a whole number in \[1, 10000\] \(2.5 is not a whole number; the number of regions\)"),
    ("locate n 0", lambda m, e, d, t: locate(d, n=0), ParameterError, r"n=0: .*too small"),
    ("locate n bool", lambda m, e, d, t: locate(d, n=True), ParameterError, r"n=True"),
    ("locate min_ha 0", lambda m, e, d, t: locate(d, min_ha=0), ParameterError, r"min_ha=0: must be a finite number of ha"),
    ("locate min_ha nan", lambda m, e, d, t: locate(d, min_ha=NAN), ParameterError, r"min_ha=nan"),
    ("locate size range inverted", lambda m, e, d, t: locate(d, min_ha=70, max_ha=60), ParameterError,
     r"min_ha=70.0: must be at most max_ha=60 \(the size range is inverted\)"),
    ("locate separation negative", lambda m, e, d, t: locate(d, min_separation_m=-1), ParameterError,
     r"min_separation_m=-1: .*too small"),
    ("locate use_conditional text", lambda m, e, d, t: locate(d, use_conditional="yes"), ParameterError,
     r"use_conditional='yes': must be True or False"),
    ("locate ds None", lambda m, e, d, t: locate(None), ParameterError,
     r"ds=None: must be a suitability surface \(xarray.Dataset\) from siting.surface\(\) \(got None\)"),
    ("locate ds not a surface", lambda m, e, d, t: locate(xr.Dataset(attrs={"resolution_m": 250.0})), ParameterError,
     r"this Dataset lacks variable\(s\) hard_ok, hard_conditional, score"),
    # --- export(): its arguments
    ("export None", lambda m, e, d, t: siting.export(None, t / "out"), ParameterError,
     r"evaluation=None: must be an Evaluation \(the result of siting.evaluate\(\)\)"),
    ("export DataFrame", lambda m, e, d, t: siting.export(make_sites(1), t / "out"), ParameterError,
     r"evaluation=<GeoDataFrame of shape \(1, 6\)>: must be an Evaluation"),
    ("export out_dir None", lambda m, e, d, t: siting.export(e, None), ParameterError,
     r"out_dir=None: must be the path of a folder to create"),
    ("export out_dir int", lambda m, e, d, t: siting.export(e, 5), ParameterError, r"out_dir=5"),
    ("export formats text", lambda m, e, d, t: siting.export(e, t / "out", formats="csv"), ParameterError,
     r"formats='csv': must be a non-empty tuple of format names.*formats=\('csv',\)"),
    ("export formats empty", lambda m, e, d, t: siting.export(e, t / "out", formats=()), ParameterError,
     r"formats=\(\): must be a non-empty tuple"),
    ("export formats unknown", lambda m, e, d, t: siting.export(e, t / "out", formats=("pdf",)), ConfigError,
     r"unknown export format\(s\) \['pdf'\]"),
    ("export force text", lambda m, e, d, t: siting.export(e, t / "out", force="yes"), ParameterError,
     r"force='yes': must be True or False"),
    ("export sensitivity wrong type", lambda m, e, d, t: siting.export(e, t / "out", sensitivity=[1]), ParameterError,
     r"sensitivity=\[1\]: must be a DataFrame from Evaluation.sensitivity\(\)"),
    ("export surface wrong type", lambda m, e, d, t: siting.export(e, t / "out", surface="s.tif"), ParameterError,
     r"surface='s.tif': must be a suitability surface"),
    ("export layers wrong type", lambda m, e, d, t: siting.export(e, t / "out", layers={}), ParameterError,
     r"layers=\{\}: must be a Layers"),
    # --- load_layers(): argument types
    ("load_layers sites int", lambda m, e, d, t: siting.load_layers(sites=123), ParameterError,
     r"sites=123: must be the path of a layer file, a LayerSource or a dict of its options \(an int\)"),
    ("load_layers sites empty path", lambda m, e, d, t: siting.load_layers(sites=""), ParameterError,
     r"sites='': .*an empty path"),
    ("load_layers layer_set int", lambda m, e, d, t: siting.load_layers(5), ParameterError,
     r"layer_set=5: must be the path of a layer-set TOML file"),
    ("load_layers unknown layer", lambda m, e, d, t: siting.load_layers(stations="x.gpkg"), ConfigError,
     r"unknown layer name\(s\) \['stations'\]; valid names: .*substations"),
    ("load_layers bad source dict", lambda m, e, d, t: siting.load_layers(sites={"file": "x.gpkg"}), ConfigError,
     r"source of layer 'sites' is invalid"),
    # --- read_raster()
    ("read_raster missing", lambda m, e, d, t: read_raster(t / "nope.tif"), ParameterError,
     r"path='.*nope\.tif': must be the path of an existing raster file.*\(no such file\).*write_raster"),
    ("read_raster folder", lambda m, e, d, t: read_raster(t), ParameterError, r"\(it is a folder\)"),
    ("read_raster not a raster", lambda m, e, d, t: read_raster(_text_file(t / "x.tif")), LayerFileError,
     r"x\.tif.*cannot be read as a raster"),
    ("read_raster int", lambda m, e, d, t: read_raster(5), ParameterError, r"path=5: must be the path of"),
    # --- user rasters and climate files of a study: checked before any grid model is built
    ("evaluate rasters name without raster_", lambda m, e, d, t: siting.evaluate(rasters={"noise": "n.tif"}),
     ParameterError, r"rasters=\{'noise': 'n.tif'\}: .*raster metric names must start with 'raster_', got \['noise'\]"),
    ("evaluate rasters value int", lambda m, e, d, t: siting.evaluate(rasters={"raster_noise": 5}), ParameterError,
     r"the raster of 'raster_noise' is an int, not a path or a DataArray"),
    ("evaluate rasters missing file", lambda m, e, d, t: siting.evaluate(rasters={"raster_noise": str(t / "n.tif")}),
     ParameterError, r"the raster file of 'raster_noise', '.*n\.tif', does not exist"),
    ("evaluate raster criterion without raster", lambda m, e, d, t: siting.evaluate(criteria=_raster_criteria(t)),
     ParameterError, r"rasters=None: .*the criteria use raster metric\(s\) \['raster_noise'\], not given.*"
                     r"rasters=\{'raster_noise': 'file.tif'\}"),
    ("evaluate climate missing file", lambda m, e, d, t: siting.evaluate(climate=t / "nope.nc"), ParameterError,
     r"climate='.*nope\.nc': must be the path of an existing NetCDF file of hourly air temperature \(no such file\)"),
    ("surface rasters name without raster_", lambda m, e, d, t: surface(rasters={"noise": "n.tif"}), ParameterError,
     r"raster metric names must start with 'raster_'"),
    ("surface climate is a folder", lambda m, e, d, t: surface(climate=t), ParameterError, r"\(it is a folder\)"),
    ("climate_field threshold text (ran before)", lambda m, e, d, t: climate_field(None, threshold_c="20"),
     ParameterError, r"free_cooling_c='20': .*text; write the number without quotes"),
    ("climate_field threshold nan", lambda m, e, d, t: climate_field(None, threshold_c=NAN), ParameterError,
     r"free_cooling_c=nan"),
    ("free_cooling_netcdf path int", lambda m, e, d, t: free_cooling_netcdf(5), ParameterError,
     r"path=5: must be the path of a NetCDF file"),
    ("free_cooling_netcdf threshold absurd", lambda m, e, d, t: free_cooling_netcdf("x.nc", threshold_c=293.15),
     ParameterError, r"threshold_c=293.15: must be a finite number of °C in \[-30, 45\]"),
    ("free_cooling_netcdf variable int", lambda m, e, d, t: free_cooling_netcdf("x.nc", variable=2), ParameterError,
     r"variable=2: must be the name of the temperature variable"),
    ("free_cooling_netcdf units empty", lambda m, e, d, t: free_cooling_netcdf("x.nc", units=""), ParameterError,
     r"units='': must be a temperature unit \(str\), or None \(empty\). Fix: use e.g. units='K'"),
    # --- layers, grid models and capacity maps: argument types (tracebacks before)
    ("candidates year text", lambda m, e, d, t: candidates(None, year="2030"), ParameterError,
     r"year='2030': must be a whole year in \[2000, 2100\]"),
    ("read_layer layer int", lambda m, e, d, t: siting.read_layer("x.gpkg", 5), ParameterError,
     r"layer=5: must be a layer name: substations, .*\(an int\)"),
    ("validate_layer int", lambda m, e, d, t: siting.validate_layer(5, "sites"), ParameterError,
     r"gdf=5: must be a GeoDataFrame of sites features"),
    ("validate_layer DataFrame", lambda m, e, d, t: siting.validate_layer(pd.DataFrame({"id": ["a"]}), "sites"),
     ParameterError, r"a pandas DataFrame has no geometry"),
    ("LayerSet.from_toml int", lambda m, e, d, t: siting.LayerSet.from_toml(5), ParameterError,
     r"layer_set=5: must be the path of a layer-set TOML file"),
    ("GridModel.from_layers layers int", lambda m, e, d, t: GridModel.from_layers(5), ParameterError,
     r"layers=5: must be a Layers"),
    ("GridModel.from_layers grid_year text", lambda m, e, d, t: GridModel.from_layers(grid_year="2030"),
     ParameterError, r"grid_year='2030': must be a whole year"),
    ("GridModel.from_layers secure text", lambda m, e, d, t: GridModel.from_layers(secure="no"), ParameterError,
     r"secure='no': must be True or False"),
    ("GridModel.from_pandapower int", lambda m, e, d, t: GridModel.from_pandapower(5), ParameterError,
     r"net=5: must be a pandapower network"),
    ("read_capacity_map int", lambda m, e, d, t: siting.read_capacity_map(5), ParameterError,
     r"path=5: must be the path of a capacity-map JSON file"),
    ("compare_capacity_map cmap list", lambda m, e, d, t: m.compare_capacity_map(cmap=[1]), ParameterError,
     r"path=\[1\]: must be the path of a capacity-map JSON file"),
]


def _raster_criteria(folder: Path) -> Path:
    """A valid criteria file whose soft 'hub' criterion reads the user raster ``raster_noise``."""
    path = folder / "raster-criteria.toml"
    path.write_text(CRITERIA.replace('metric = "hub_dist_km"', 'metric = "raster_noise"'), encoding="utf-8")
    return path


def _text_file(path: Path) -> Path:
    path.write_text("not a raster\n")
    return path


@pytest.fixture
def api_no_long_computation(monkeypatch):
    """Loading the layers or building grid models inside evaluate(), surface() or
    GridModel.from_layers() means the arguments were not checked first."""

    def refuse(*args, **kwargs):
        raise AssertionError("a long computation started before the arguments were checked")

    for module in ("siting.evaluate", "siting.surface", "siting.grid.model"):
        monkeypatch.setattr(sys.modules[module], "load_layers", refuse)
    monkeypatch.setattr(sys.modules["siting.evaluate"], "_grid_models", refuse)


@pytest.mark.parametrize("case", API, ids=[c[0] for c in API])
def test_api_bad_input(case, model, ev, ds, tmp_path, api_no_long_computation):
    _, call, exc, pattern = case
    with pytest.raises(exc, match=pattern) as err:
        call(model, ev, ds, tmp_path)
    assert isinstance(err.value, SitingError)
    if isinstance(err.value, ParameterError):  # the full sentence: value, allowed, fix
        assert " must be " in str(err.value) and (". Fix: " in str(err.value) or "(" in str(err.value))


# --------------------------------------------------------------------------------------- CLI
# (args, the flag the message must name, message regex). The checks run before any layer is
# loaded or model built: load_layers and GridModel.from_layers are made to fail if called.

CLI = [
    (["rank", "--samples", "0"], "--samples", r"--samples 0: must be a whole number in \[1, 1000000\].*--samples 500"),
    (["rank", "--samples", "-5"], "--samples", r"--samples -5: .*too small"),
    (["rank", "--samples", "2.5"], "--samples", r"'--samples'.*2.5"),  # click's own type check
    (["rank", "--top-k", "0"], "--top-k", r"--top-k 0: must be a whole number ≥ 1.*--top-k 5"),
    (["rank", "--seed", "-1"], "--seed", r"--seed -1: must be a whole number ≥ 0"),
    (["rank", "--it-load", "-300"], "--it-load", r"--it-load -300: must be a finite number of MW in \[1, 5000\]"),
    (["rank", "--it-load", "nan"], "--it-load", r"--it-load nan: .*NaN"),
    (["rank", "--it-load", "inf"], "--it-load", r"--it-load inf: .*not finite"),
    (["rank", "--it-load", "0"], "--it-load", r"--it-load 0: .*too small.*--it-load 300"),
    (["rank", "--it-load", "4000", "--pue", "3"], "--it-load", r"IT load × PUE ≤ 10000 MW.*lower --it-load or --pue"),
    (["rank", "--pue", "0.5"], "--pue", r"--pue 0.5: .*in \[1, 3\].*--pue 1.2"),
    (["rank", "--pue", "nan"], "--pue", r"--pue nan"),
    (["rank", "--pf", "0"], "--pf", r"--pf 0: must be a finite number in \[0.5, 1\].*--pf 0.98"),
    (["rank", "--pf", "1.5"], "--pf", r"--pf 1.5: .*too large"),
    (["rank", "--year", "1900"], "--year", r"--year 1900: must be a whole year in \[2000, 2100\]"),
    (["rank", "--year", "2031"], "--year",
     r"--year 2031: must be a year with a shipped scenario.*name the scenarios with --scenario \(shipped"),
    (["rank", "--year", "2030.5"], "--year", r"'--year'.*2030.5"),  # click's own type check
    (["rank", "--scenario", "nope"], "--scenario", r"--scenario nope: must be a shipped scenario name.*unknown scenario 'nope'; shipped: .*winter-peak-2026"),
    (["rank", "--criteria", "nope"], "--criteria", r"--criteria nope: .*unknown criteria 'nope'; shipped: ecorys-2025"),
    (["rank", "--free-cooling-c", "293"], "--free-cooling-c", r"--free-cooling-c 293: .*°C in \[-30, 45\]"),
    (["rank", "--surface", "10"], "--surface", r"--surface 10: must be a finite number of m in \[100, 5000\]"),
    (["rank", "--sites", "nope.gpkg"], "--sites", r"--sites nope.gpkg: the sites file does not exist"),
    (["rank", "--climate", "nope.nc"], "--climate", r"--climate nope.nc: the climate file does not exist"),
    (["rank", "--layer-set", "nope.toml"], "--layer-set", r"--layer-set nope.toml: the layer-set TOML file does not"),
    (["rank", "--policy", "maybe"], "--policy", r"'--policy'.*'maybe' is not one of"),  # click's own choice
    (["rank", "--out", "missing/deeper/out"], "--out", r"--out missing/deeper/out: the folder 'missing/deeper' does not"),
    (["rank", "--out", "{existing_dir}"], "--out", r"the folder exists; not overwriting.*--force"),
    (["rank", "--out", "{existing_file}", "--force"], "--out", r"exists and is a file, not a folder"),
    (["rank", "--out", "{existing_file}"], "--out", r"exists and is a file, not a folder"),
    (["hosting", "--pf", "0"], "--pf", r"--pf 0: must be a finite number in \[0.5, 1\]"),
    (["hosting", "--max-mw", "0"], "--max-mw", r"--max-mw 0: must be a finite number of MW in \(0, 10000\]"),
    (["hosting", "--max-mw", "nan"], "--max-mw", r"--max-mw nan"),
    (["hosting", "--max-mw", "1e9"], "--max-mw", r"--max-mw 1000000000: .*too large"),
    (["hosting", "--scenario", "nope"], "--scenario", r"unknown scenario 'nope'"),
    (["hosting", "--out", "hosting.txt"], "--out", r"--out hosting.txt: must end in one of .csv, .gpkg, .geojson"),
    (["hosting", "--out", "{existing_file}"], "--out", r"the file exists; not overwriting.*--force"),
    (["hosting", "--out", "{existing_dir}", "--force"], "--out", r"exists and is a folder, not a file"),
    (["hosting", "--layer-set", "{existing_dir}"], "--layer-set", r"is a folder, not a layer-set TOML file"),
    (["grid-check", "--year", "1900"], "--year", r"--year 1900: must be a whole year"),
    (["grid-check", "--year", "3000"], "--year", r"--year 3000: .*too large"),
    (["grid-check", "--capacity-map", "nope.json"], "--capacity-map",
     r"--capacity-map nope.json: the capacity-map JSON file does not exist"),
    (["grid-check", "--scenario", "nope"], "--scenario", r"unknown scenario 'nope'"),
    (["grid-check", "--out", "cmp.xlsx"], "--out", r"--out cmp.xlsx: must end in one of"),
    (["surface", "--resolution", "10", "--out", "s.tif"], "--resolution",
     r"--resolution 10: must be a finite number of m in \[100, 5000\].*cell size.*--resolution 250"),
    (["surface", "--resolution", "nan", "--out", "s.tif"], "--resolution", r"--resolution nan"),
    (["surface", "--it-load", "-300", "--out", "s.tif"], "--it-load", r"--it-load -300: "),
    (["surface", "--pue", "9", "--out", "s.tif"], "--pue", r"--pue 9: .*too large"),
    (["surface", "--year", "1900", "--out", "s.tif"], "--year", r"--year 1900"),
    (["surface", "--year", "2031", "--out", "s.tif"], "--year", r"--year 2031: .*--scenario"),
    (["surface", "--criteria", "nope", "--out", "s.tif"], "--criteria", r"unknown criteria 'nope'"),
    (["surface", "--free-cooling-c", "-100", "--out", "s.tif"], "--free-cooling-c", r"--free-cooling-c -100: .*°C in \[-30, 45\]"),
    (["surface", "--out", "s.png"], "--out", r"--out s.png: must end in .tif .* or .nc"),
    (["surface", "--out", "missing/s.tif"], "--out", r"--out missing/s.tif: the folder 'missing' does not exist"),
    (["surface", "--out", "{existing_file}"], "--out", r"the file exists; not overwriting"),
    (["surface", "--climate", "nope.nc", "--out", "s.tif"], "--climate", r"the climate file does not exist"),
    (["locate", "--n", "0", "--out", "r.gpkg"], "--n", r"--n 0: must be a whole number in \[1, 10000\].*--n 10"),
    (["locate", "--min-ha", "0", "--out", "r.gpkg"], "--min-ha", r"--min-ha 0: must be a finite number of ha"),
    (["locate", "--min-ha", "70", "--max-ha", "60", "--out", "r.gpkg"], "--min-ha",
     r"--min-ha 70: must be at most --max-ha 60 \(the size range is inverted\).*--min-ha 30 and --max-ha 60"),
    (["locate", "--separation", "-1", "--out", "r.gpkg"], "--separation", r"--separation -1: .*too small"),
    (["locate", "--resolution", "6000", "--out", "r.gpkg"], "--resolution", r"--resolution 6000: .*too large"),
    (["locate", "--out", "r.tif"], "--out", r"--out r.tif: must end in one of .csv, .gpkg, .geojson"),
    (["layers", "--crs", "EPSG:99999", "--check", "{existing_file}", "--layer", "sites"], "--crs",
     r"--crs EPSG:99999: must be a CRS pyproj knows.*\(pyproj does not know it\).*--crs EPSG:28992"),
    (["layers", "--crs", "RD New", "--check", "{existing_file}", "--layer", "sites"], "--crs", r"--crs 'RD New': "),
    (["layers", "--layer-set", "nope.toml"], "--layer-set", r"the layer-set TOML file does not exist"),
    (["layers", "--layer", "stations", "--check", "x.gpkg"], "--layer", r"'--layer'.*'stations' is not one of"),
    (["rank", "--criteria", "mine.toml"], "--criteria", r"--criteria mine.toml: .*criteria file 'mine.toml' does not exist"),
    (["rank", "--scenario", "{existing_dir}/x.toml"], "--scenario", r"scenario file '.*x.toml' does not exist"),
    (["rank", "--criteria", "{raster_criteria}"], "--criteria",
     r"--criteria .*raster-criteria.toml: uses the user raster metric\(s\) raster_noise, which the command line does not"),
    (["surface", "--criteria", "{raster_criteria}", "--out", "s.tif"], "--criteria", r"uses the user raster metric"),
    (["rank", "--free-cooling-c", "nan"], "--free-cooling-c", r"--free-cooling-c nan: .*NaN"),
    (["hosting", "--max-mw", "-5"], "--max-mw", r"--max-mw -5: .*too small.*--max-mw 3000"),
    (["locate", "--max-ha", "nan", "--out", "r.gpkg"], "--max-ha", r"--max-ha nan: must be a finite number of ha"),
    (["grid-check", "--capacity-map", "{existing_dir}"], "--capacity-map", r"is a folder, not a capacity-map JSON"),
    (["layers", "--check", "nope.gpkg", "--layer", "sites"], "--check", r"--check nope.gpkg: the layer file does not exist"),
    (["layers", "--check", "{existing_file}"], "--check", r"--check and --layer go together"),
]


@pytest.fixture
def no_long_computation(monkeypatch):
    """Loading layers or building a grid model means the arguments were not checked first."""

    def refuse(*args, **kwargs):
        raise AssertionError("a long computation started before the arguments were checked")

    monkeypatch.setattr("siting.layers.load_layers", refuse)
    monkeypatch.setattr(GridModel, "from_layers", classmethod(refuse))


@pytest.mark.parametrize("case", CLI, ids=[" ".join(c[0]) for c in CLI])
def test_cli_bad_input(case, tmp_path, monkeypatch, no_long_computation):
    args, flag, pattern = case
    (tmp_path / "existing").mkdir()
    (tmp_path / "existing.csv").write_text("a\n1\n")
    fill = {"{existing_dir}": str(tmp_path / "existing"), "{existing_file}": str(tmp_path / "existing.csv"),
            "{raster_criteria}": str(_raster_criteria(tmp_path))}
    for key, value in fill.items():
        args = [a.replace(key, value) for a in args]
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["--quiet", *args])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert re.search(pattern, result.stderr, re.S), result.stderr
    assert flag in result.stderr
    # CLI words only: no Python argument spelling such as n=, top_k=, scenario=...
    assert not re.search(r"\b(n|top_k|it_load_mw|resolution_m|min_separation_m|scenario|year|pf|max_mw)=", result.stderr)


def test_evaluate_reads_sites_given_as_a_path(tmp_path, monkeypatch):
    """evaluate(sites=<path>) reads the file like the sites layer (it was a traceback)."""
    path = tmp_path / "plots.gpkg"
    make_sites(2).to_file(path, driver="GPKG")
    seen = {}

    def stop(layers, year, sites):
        seen["sites"] = sites
        raise SitingError("stop")

    module = sys.modules["siting.evaluate"]  # (siting.evaluate is also the function)
    monkeypatch.setattr(module, "_grid_models", lambda layers, year, scenario: ({}, {}))
    monkeypatch.setattr(module, "candidates", stop)
    with pytest.raises(SitingError, match="stop"):
        siting.evaluate(sites=str(path), scenario="winter-peak-2026")
    assert isinstance(seen["sites"], gpd.GeoDataFrame) and list(seen["sites"]["id"]) == ["site-0", "site-1"]
    assert seen["sites"].crs.to_epsg() == 28992


def test_cli_flags_table_names_real_options():
    """FLAGS, the one map from the library's parameter names to the CLI's flags, names only
    options the commands have."""
    for command, flags in FLAGS.items():
        opts = {o for p in main.commands[command].params for o in getattr(p, "opts", [])}
        assert set(flags.values()) <= opts, (command, set(flags.values()) - opts)
    assert set(FLAGS) == set(main.commands)


# --------------------------------------------------------------------------------------- config files
# A minimal valid criteria file; each case changes one line and must fail when it is loaded.

CRITERIA = """\
name = "test"
title = "Test criteria"
source = "tests"
built_up_buffer_m = 500.0

[[criterion]]
id = "ehv"
title = "EHV connection"
metric = "ehv_dist_km"
kind = "hard"
max = 10.0
range = [5.0, 20.0]
conditional_metric = "ehv_dist_any_km"
section = "§4.2"
rationale = "test"
fix = "a station within {threshold:.0f} {unit} (now {value:.1f} {unit}, {gap:.1f} too far; {grid_load_mw:.0f} MW at {bus})"

[[criterion]]
id = "hub"
title = "Hub"
metric = "hub_dist_km"
kind = "soft"
transform = "linear"
points = [[0.0, 1.0], [50.0, 0.0]]
weight = 0.6
jitter = 0.1
section = "§5.3.2"
rationale = "test"

[[criterion]]
id = "reuse"
title = "Reuse"
metric = "reuse_plant_site"
kind = "soft"
transform = "step"
points = [[0.5, 1.0]]
weight = 0.4
section = "§5.3.1"
rationale = "test"
"""

CRITERIA_CASES = [
    ("max = 10.0", "max = nan", r"criterion\.0\.max: nan is not a finite number; write a plain number \(criterion 'ehv'\)"),
    ("max = 10.0", "max = inf", r"criterion\.0\.max: inf is not a finite number"),
    ("max = 10.0", "max = true", r"criterion\.0\.max: True is a bool, not a number"),
    ("max = 10.0", 'max = "10"', r"criterion\.0\.max: '10' is text; write the number without quotes"),
    ("max = 10.0\nrange = [5.0, 20.0]", "min = nan", r"criterion\.0\.min: nan is not a finite number"),
    ("range = [5.0, 20.0]", "range = [5.0, nan]", r"criterion\.0\.range\.1: nan is not a finite number"),
    ("range = [5.0, 20.0]", "range = [20.0, 5.0]", r"range \[20.0, 5.0\] is inverted"),
    ("range = [5.0, 20.0]", "range = [11.0, 20.0]", r"must contain the threshold 10.0"),
    ("max = 10.0\nrange = [5.0, 20.0]", "require = true",
     r"criterion 'ehv': require = true applies to a yes/no metric, but 'ehv_dist_km' is a number \(km\)"),
    ('metric = "reuse_plant_site"\nkind = "soft"\ntransform = "step"\npoints = [[0.5, 1.0]]\nweight = 0.4',
     'metric = "reuse_plant_site"\nkind = "hard"\nmin = 0.5', r"'reuse_plant_site' is a yes/no metric; write require"),
    ('conditional_metric = "ehv_dist_any_km"', 'conditional_metric = "existing_hub"',
     r"'existing_hub' is a yes/no metric"),
    ("{gap:.1f} too far", "{gaap:.1f} too far",
     r"criterion 'ehv': fix template has unknown placeholder \{gaap:.1f\}|unknown placeholder \{gaap\}"),
    ("{gap:.1f} too far", "{} too far", r"fix template has an empty placeholder \{\}"),
    ("{gap:.1f} too far", "{gap too far", r"fix template .* is malformed"),
    ("{gap:.1f} too far", "{unit:.1f} too far", r"fix template .* cannot be rendered"),
    ("{gap:.1f} too far", "{gap:.1q} too far", r"fix template .* cannot be rendered"),
    ("{gap:.1f} too far", "{0} too far", r"unknown placeholder \{0\}"),
    ("points = [[0.0, 1.0], [50.0, 0.0]]", "points = [[0.0, 1.0], [nan, 0.0]]",
     r"criterion\.1\.points\.1\.0: nan is not a finite number"),
    ("points = [[0.0, 1.0], [50.0, 0.0]]", "points = [[50.0, 1.0], [0.0, 0.0]]", r"must increase strictly"),
    ("points = [[0.0, 1.0], [50.0, 0.0]]", "points = [[0.0, 1.5], [50.0, 0.0]]", r"must lie in \[0, 1\]"),
    ("weight = 0.6", "weight = nan", r"criterion\.1\.weight: nan is not a finite number"),
    ("weight = 0.6", "weight = 0.7", r"soft weights sum to 1.1000, not 1"),
    ("weight = 0.6", "weight = -0.6", r"weight -0.6 is negative"),
    ("jitter = 0.1", "jitter = nan", r"criterion\.1\.jitter: nan is not a finite number"),
    ("jitter = 0.1", "jitter = 1.5", r"criterion\.1\.jitter: Input should be less than 1"),
    ("built_up_buffer_m = 500.0", "built_up_buffer_m = nan", r"built_up_buffer_m: nan is not a finite number"),
    ('metric = "hub_dist_km"', 'metric = "hub_km"', r"unknown metric 'hub_km'"),
    ('kind = "hard"', 'kind = "strict"', r"criterion\.0\.kind: Input should be 'hard' or 'soft'"),
    ('section = "§4.2"', 'section = "§4.2"\nthreshold = 3', r"criterion\.0\.threshold: Extra inputs are not"),
]


def _criteria_file(tmp_path: Path, old: str, new: str) -> Path:
    assert old in CRITERIA, old
    path = tmp_path / "criteria.toml"
    path.write_text(CRITERIA.replace(old, new, 1), encoding="utf-8")
    return path


def test_criteria_template_is_valid(tmp_path):
    crits = siting.load_criteria(_criteria_file(tmp_path, "name", "name"))
    assert [c.id for c in crits.criterion] == ["ehv", "hub", "reuse"]


@pytest.mark.parametrize("old,new,pattern", CRITERIA_CASES, ids=[c[1].splitlines()[-1] for c in CRITERIA_CASES])
def test_criteria_file_checked_when_loaded(tmp_path, old, new, pattern):
    path = _criteria_file(tmp_path, old, new)
    with pytest.raises(ConfigError, match=rf"(?s)criteria file '.*criteria\.toml' is invalid:.*{pattern}"):
        siting.load_criteria(path)


def test_criteria_errors_in_cli_words(tmp_path, monkeypatch, no_long_computation):
    """A criteria file with a bad fix template fails `siting rank` before the study runs."""
    path = _criteria_file(tmp_path, "{gap:.1f} too far", "{gaap} too far")
    result = CliRunner().invoke(main, ["--quiet", "rank", "--criteria", str(path)])
    assert result.exit_code == 2 and "unknown placeholder {gaap}" in result.stderr and "Traceback" not in result.output


SCENARIO_CASES = [
    ("total_mw = 17500", "total_mw = nan", r"demand\.total_mw: nan is not a finite number"),
    ("total_mw = 17500", "total_mw = true", r"demand\.total_mw: True is a bool, not a number"),
    ("total_mw = 17500", "total_mw = -1", r"demand\.total_mw: Input should be greater than 0"),
    ("total_mw = 17500", "total_mw = 1e9", r"demand\.total_mw: Input should be less than or equal to 100000"),
    ("power_factor = 0.98", "power_factor = 0.3", r"demand\.power_factor: Input should be greater than or equal to 0.5"),
    ("year = 2026", 'year = "2026"', r"year: '2026' is text; write the number without quotes"),
    ("year = 2026", "year = 2026.5", r"year: 2026.5 is not a whole number"),
    ("year = 2026", "year = 1900", r"year: Input should be greater than or equal to 2000"),
    ("capacity_factor = 0.35", "capacity_factor = nan", r"offshore\.capacity_factor: nan is not a finite number"),
    ("ic-norned = 700", "ic-norned = inf", r"exchange\.hvdc\.ic-norned: inf is not a finite number"),
    ("ac_import_mw = 1000", "ac_import_mw = true", r"exchange\.ac_import_mw: True is a bool"),
    ("import_share = 0.5", "import_share = nan", r"slack\.import_share: nan is not a finite number"),
    ("nuclear = 1.0", "nuclear = 1.5", r"fraction for nuclear must be in \[0, 1\]"),
    ("maasvlakte = 3.0 ", "maasvlakte = nan ", r"demand\.industry\.maasvlakte: nan is not a finite number"),
    ("vm_gen_pu = 1.03", "vm_gen_pu = nan", r"vm_gen_pu: nan is not a finite number"),
]


@pytest.mark.parametrize("old,new,pattern", SCENARIO_CASES, ids=[c[1] for c in SCENARIO_CASES])
def test_scenario_file_number_rules(tmp_path, old, new, pattern):
    text = (scenario_dir() / "winter-peak-2026.toml").read_text(encoding="utf-8")
    assert old in text, old
    path = tmp_path / "my-scenario.toml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"(?s)scenario file '.*my-scenario\.toml' is invalid:.*{pattern}"):
        siting.load_scenario(path)


LAYER_SET_CASES = [
    ('[layers]\nstations = "x.gpkg"\n', ConfigError, r"unknown layer"),
    ('[layers.sites]\npath = "x.gpkg"\nfile = "y.gpkg"\n', ConfigError, r"Extra inputs are not permitted"),
    ('[layers.sites]\npath = "x.gpkg"\ncrs = "EPSG:99999"\n', ConfigError, r"unknown CRS 'EPSG:99999'"),
    ('[layers]\nsites = "missing.gpkg"\n', LayerError, r"missing\.gpkg.*does not exist"),
    ("[layers\nsites = 1\n", ConfigError, r"is not valid TOML"),
    ("[layers]\nsites = 5\n", ConfigError, r"layers\.sites"),
]


@pytest.mark.parametrize("text,exc,pattern", LAYER_SET_CASES, ids=[c[2] for c in LAYER_SET_CASES])
def test_layer_set_file(tmp_path, text, exc, pattern):
    path = tmp_path / "layers.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(exc, match=f"(?s){pattern}"):
        siting.load_layers(path)


def test_case_count():
    """The issue asks for at least 120 bad inputs."""
    total = len(API) + len(CLI) + len(CRITERIA_CASES) + len(SCENARIO_CASES) + len(LAYER_SET_CASES)
    assert total >= 120, total


# --------------------------------------------------------------------------------------- the rules themselves

@pytest.mark.parametrize("value", [True, np.bool_(False), "1", None, [1], NAN, INF, -INF])
def test_number_rule_refuses_non_numbers(value):
    with pytest.raises(ParameterError, match=r"x=.*: must be a finite number"):
        V.number(value, "x")


@pytest.mark.parametrize("value", [1, 1.5, np.float32(2.5), np.int64(3)])
def test_number_rule_accepts_numbers(value):
    assert V.number(value, "x") == float(value) and type(V.number(value, "x")) is float


def test_count_and_year_accept_numpy_ints():
    assert V.count(np.int64(3), "n") == 3 and V.year(np.int32(2030)) == 2030


def test_render_in_cli_words():
    err = ParameterError("n", 0, "a whole number ≥ 1", fix="use e.g. {=n:500}; see also {=top_k}")
    assert str(err) == "n=0: must be a whole number ≥ 1. Fix: use e.g. n=500; see also top_k=..."
    assert err.render({"n": "--samples", "top_k": "--top-k"}) == (
        "--samples 0: must be a whole number ≥ 1. Fix: use e.g. --samples 500; see also --top-k")
    quoted = ParameterError("scenario", "x y", "a name", fix="use {=scenario:'high-wind-2030'}")
    assert quoted.render({"scenario": "--scenario"}) == "--scenario 'x y': must be a name. Fix: use --scenario high-wind-2030"
    assert str(quoted).endswith("use scenario='high-wind-2030'")


def test_default_power_factor_is_one_for_the_library():
    """Every entry point defaults to the grid load's pf 0.98 (issue #13 item 4)."""
    from siting.cli import hosting, rank

    entry = [siting.evaluate, surface, GridModel.check_load, GridModel.hosting_capacity, GridModel.direct_coupling,
             GridModel.compare_capacity_map]
    for f in entry:
        assert inspect.signature(f).parameters["pf"].default == 0.98, f.__qualname__
    for command in (hosting, rank):
        assert next(p for p in command.params if p.name == "pf").default == 0.98
    assert siting.load_scenario("winter-peak-2026").demand.power_factor == 0.98
