"""Command-line interface: ``siting layers`` (inventory, schema, checking a user file)."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from . import _validate as V
from .errors import ParameterError, SitingError, SitingWarning
from .schema import LAYER_NAMES

_SURFACE_FLAGS = {"resolution_m": "--resolution", "year": "--year", "it_load_mw": "--it-load", "pue": "--pue",
                  "scenario": "--scenario", "criteria": "--criteria", "climate": "--climate",
                  "free_cooling_c": "--free-cooling-c", "path": "--out"}

#: ``--dask`` without an address: a new local cluster
_LOCAL_CLUSTER = "local"


def _dask_options(what: str, then: str):
    """``--dask [ADDRESS]`` and ``--worker-memory`` of a command that does `what` on Dask."""
    def add(fn):
        fn = click.option("--worker-memory", default="4GB", show_default=True,
                          help="With --dask (local cluster): memory limit of each worker.")(fn)
        return click.option("--dask", "dask_address", default=None, is_flag=False, flag_value=_LOCAL_CLUSTER,
                            metavar="[ADDRESS]",
                            help=f"{what}: alone, on a new local cluster (one worker per core); with an address "
                                 f"(tcp://host:8786), on that scheduler's cluster. {then}")(fn)
    return add

#: The library's parameter names and the flags that set them, per command: a
#: :class:`~siting.errors.ParameterError` raised in API words (``n=0``) is shown in CLI words
#: (``--samples 0``). The one place where the two vocabularies meet.
FLAGS: dict[str, dict[str, str]] = {
    "layers": {"crs": "--crs", "layer_set": "--layer-set"},
    "scenarios": {},
    "hosting": {"scenario": "--scenario", "pf": "--pf", "max_mw": "--max-mw", "layer_set": "--layer-set",
                "path": "--out"},
    "grid-check": {"scenario": "--scenario", "year": "--year", "layer_set": "--layer-set", "path": "--out"},
    "rank": {"it_load_mw": "--it-load", "pue": "--pue", "pf": "--pf", "year": "--year", "scenario": "--scenario",
             "criteria": "--criteria", "sites": "--sites", "layer_set": "--layer-set", "policy": "--policy",
             "n": "--samples", "seed": "--seed", "top_k": "--top-k", "out_dir": "--out",
             "resolution_m": "--surface", "climate": "--climate", "free_cooling_c": "--free-cooling-c",
             "dask": "--dask", "worker_memory": "--worker-memory"},
    "surface": {**_SURFACE_FLAGS, "dask": "--dask", "worker_memory": "--worker-memory"},
    "locate": {**_SURFACE_FLAGS, "n": "--n", "min_ha": "--min-ha", "max_ha": "--max-ha",
               "min_separation_m": "--separation"},
    "year": {"year": "--year", "scenario": "--scenario", "weather_year": "--weather-year", "load_mw": "--load",
             "p_mw": "--load", "layer_set": "--layer-set", "path": "--out", "dask": "--dask",
             "worker_memory": "--worker-memory"},
    "flex": {"year": "--year", "weather_year": "--weather-year", "load_mw": "--load", "p_mw": "--load",
             "layer_set": "--layer-set", "path": "--out"},
}


def _flags() -> dict[str, str]:
    """FLAGS of the command being run (empty outside a command)."""
    ctx = click.get_current_context(silent=True)
    return FLAGS.get(ctx.info_name, {}) if ctx is not None else {}


def _fail(exc: BaseException) -> None:
    text = exc.render(_flags()) if isinstance(exc, ParameterError) else str(exc)
    click.echo(f"error: {text}", err=True)
    sys.exit(2)


def _exists(flag: str, path: Path | None, what: str) -> None:
    """A file option's file must exist (checked before any computation)."""
    if path is not None and not path.is_file():
        problem = f"is a folder, not a {what}" if path.is_dir() else f"the {what} does not exist"
        _fail(SitingError(f"{flag} {path}: {problem}. Fix: check the path (relative paths start from the working "
                          "folder)"))


def _existing(what: str):
    """Callback of a file option: the file must exist (checked before any computation)."""

    def check(ctx, param, path):
        _exists(param.opts[0], path, what)
        return path

    return check


def _target(out: Path | None, force: bool, kind: str = "file") -> None:
    """Check an --out target before any computation: its folder exists, and an existing target
    needs --force (which replaces a {kind} only)."""
    if out is None:
        return
    if not out.parent.is_dir():
        _fail(SitingError(f"--out {out}: the folder '{out.parent}' does not exist. Fix: create it first "
                          f"(mkdir -p {out.parent}) or choose another --out"))
    if out.exists() and out.is_dir() != (kind == "folder"):
        _fail(SitingError(f"--out {out}: exists and is a {'folder' if out.is_dir() else 'file'}, not a {kind}; "
                          f"--force replaces only a {kind}. Fix: choose another --out"))
    if out.exists() and not force:
        _fail(SitingError(f"--out {out}: the {kind} exists; not overwriting. Fix: choose another --out, or add --force "
                          "to replace it"))


def _table_target(out: Path | None) -> None:
    """An --out table must end in a format write_table knows."""
    from .exports import TABLE_FORMATS

    if out is not None and out.suffix.lower() not in TABLE_FORMATS:
        _fail(SitingError(f"--out {out}: must end in one of {', '.join(TABLE_FORMATS)}. Fix: e.g. --out table.csv"))


def _cli_criteria(criteria: str) -> None:
    """A criteria set for the command line: loaded (checked completely), and without user
    raster metrics, which only the Python API can supply (``rasters=``)."""
    from .criteria import load_criteria

    crits = load_criteria(criteria)
    used = sorted({m for c in crits.criterion for m in (c.metric, c.conditional_metric) if m and m.startswith("raster_")})
    if used:
        raise SitingError(f"--criteria {criteria}: uses the user raster metric(s) {', '.join(used)}, which the command "
                          "line does not read. Fix: run the study from Python, siting.evaluate(criteria=..., "
                          f"rasters={{'{used[0]}': 'file.tif'}}), or use criteria without them")


def _checked(*checks) -> None:
    """Run cheap argument checks (callables) before any computation; a failure exits 2 with the
    message in CLI words."""
    try:
        for check in checks:
            check()
    except SitingError as exc:
        _fail(exc)


#: ``--layer-set FILE`` (every command that reads layers)
_layer_set_option = click.option("--layer-set", type=click.Path(path_type=Path), default=None,
                                 callback=_existing("layer-set TOML file"), help="TOML layer set replacing embedded layers.")


def _force_option(help_text: str):
    """``--force`` (replace existing output), with ``--overwrite`` kept as a hidden, deprecated
    alias of it."""

    def warn(ctx, param, value):
        if value:
            click.echo("warning: --overwrite is deprecated; use --force", err=True)
        return value

    def decorate(f):
        f = click.option("--overwrite", "overwrite_deprecated", is_flag=True, hidden=True, callback=warn,
                         expose_value=True, help="Deprecated alias of --force.")(f)
        return click.option("--force", is_flag=True, help=help_text)(f)

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="siting")
@click.option("--quiet", "-q", is_flag=True, help="No progress bars (for scripts and logs).")
def main(quiet: bool) -> None:
    """siting: where in the Netherlands an AI gigafactory can connect and be built.

    Exit codes: 0 done; 2 bad input or a failed step, with the reason on stderr (no traceback).
    """
    from ._progress import set_quiet

    if quiet:
        set_quiet(True)


@main.command()
@click.option("--check", "check_path", type=click.Path(path_type=Path), default=None,
              help="Validate this file as layer --layer (with the embedded layers for references).")
@click.option("--layer", "layer_name", type=click.Choice(LAYER_NAMES), default=None,
              help="Layer name the checked file stands for.")
@click.option("--crs", default=None, help="CRS to assume when the checked file has none, e.g. EPSG:28992.")
@_layer_set_option
@click.option("--schema", "show_schema", is_flag=True, help="Print the layer schema (Markdown) and exit.")
def layers(check_path: Path | None, layer_name: str | None, crs: str | None,
           layer_set: Path | None, show_schema: bool) -> None:
    """Inventory of the layers (rows, geometry, CRS, source, date), or check a user file."""
    from .layers import LayerSource, load_layers
    from .schema import schema_markdown

    if show_schema:
        click.echo(schema_markdown())
        return
    if (check_path is None) != (layer_name is None):
        _fail(SitingError("--check and --layer go together: siting layers --check FILE --layer NAME"))
    _exists("--check", check_path, "layer file")
    _checked(lambda: V.crs(crs))
    overrides = {}
    if check_path is not None:
        overrides[layer_name] = LayerSource(path=check_path, crs=crs)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SitingWarning)
        try:
            loaded = load_layers(layer_set, **overrides)
        except SitingError as exc:
            _fail(exc)
        except Exception as exc:  # noqa: BLE001 - the CLI never shows a traceback
            _fail(SitingError(f"unexpected failure while loading layers: {type(exc).__name__}: {exc}"))
    shown = [w for w in caught if issubclass(w.category, SitingWarning)]
    for w in shown:
        click.echo(f"warning: {w.message}", err=True)
    if check_path is not None:
        gdf = loaded[layer_name]
        # a file read only after a repair or a reinterpretation (cut field names, an area the
        # polygon overrules) is valid, but not as written: say so on the ok line too
        noted = f"; read with {len(shown)} warning{'s' if len(shown) != 1 else ''} (above)" if shown else ""
        click.echo(f"ok: '{check_path}' is a valid '{layer_name}' layer: {len(gdf)} rows, "
                   f"{', '.join(sorted(set(gdf.geom_type)))}, reprojected to {gdf.crs.to_string()}{noted}")
        return
    inv = loaded.inventory()
    click.echo(inv.to_string(index=False))


def _scenario_totals(name: str) -> tuple[dict, object]:
    from .grid import GridModel

    model = GridModel.from_layers(scenario=name)
    sc = model.scenario
    bal = model.balance.groupby("component")["p_mw"].sum()
    sec = model.security
    row = {
        "scenario": sc.name,
        "year": sc.year,
        "demand_mw": round(sc.demand.total_mw),
        "offshore_mw": round(float(bal.get("offshore wind", 0.0))),
        "dispatch_mw": round(float(bal[[c for c in bal.index if c.startswith(("dispatch", "must-run"))]].sum())),
        "import_mw": round(float(bal.get("HVDC import", 0.0) + bal.get("AC import", 0.0))),
        "buses": len(model.net.bus),
        "n1_before_pct": round(sec.worst_before_pct, 1),
        "redispatch_mw": round(sec.volume_up_mw),
        "curtailed_mw": round(sec.curtailed_mw),
        "n1_after_pct": round(sec.worst_after_pct, 1),
        "secure": "yes" if sec.secured else f"NO ({len(sec.remaining)} overloads)",
    }
    return row, model


@main.command()
@click.option("--detail", is_flag=True, help="Also list each scenario's redispatch and any overload left.")
def scenarios(detail: bool) -> None:
    """List the shipped dispatch scenarios: totals [MW] and the N-1 secure operating point (AC):
    the worst N-1 loading of the market dispatch, the preventive redispatch that secures it
    (MW up, of which wind curtailed), and the worst N-1 loading after it."""
    import pandas as pd

    from .grid import list_scenarios

    try:
        done = [_scenario_totals(n) for n in list_scenarios()]
    except SitingError as exc:
        _fail(exc)
    click.echo(pd.DataFrame([r for r, _ in done]).to_string(index=False))
    for row, model in done:
        sec = model.security
        if not (detail or not sec.secured):
            continue
        click.echo(f"\n{row['scenario']}: {sec}")
        if detail and len(sec.redispatch):
            shown = sec.redispatch.round({"p_before_mw": 0, "delta_mw": 0, "p_after_mw": 0})
            click.echo(shown.to_string(index=False))
        if not sec.secured:
            click.echo("overloads no remedial action clears (AC, N-1):")
            click.echo(sec.remaining.round({"loading_pct": 1, "limit_pct": 1}).to_string(index=False))


@main.command()
@click.option("--scenario", "scenario_name", default="winter-peak-2026", show_default=True,
              help="Shipped scenario name (see `siting scenarios`) or a scenario TOML path.")
@click.option("--n-1/--no-n-1", "n_minus_1", default=True, show_default=True, help="Check every single-circuit outage.")
@click.option("--pf", default=0.98, show_default=True, type=float, help="Power factor of the added load.")
@click.option("--max-mw", default=3000.0, show_default=True, type=float,
              help="Search cap [MW]; a value equal to the cap means 'at least'.")
@click.option("--redispatch/--firm-only", "redispatch", default=True, show_default=True,
              help="Also compute the hosting capacity with a preventive redispatch for the load.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Write the table: .csv, or .gpkg/.geojson with bus points.")
@_force_option("Replace an existing --out file.")
@_layer_set_option
def hosting(scenario_name: str, n_minus_1: bool, pf: float, max_mw: float, redispatch: bool, out: Path | None,
            force: bool, overwrite_deprecated: bool, layer_set: Path | None) -> None:
    """Hosting capacity of every EHV bus [MW] in a scenario (AC power flow, N-1, on the N-1
    secure base case): firm (no remedial action for the load) and with redispatch."""
    import geopandas as gpd

    from .exports import write_table
    from .grid import GridModel, load_scenario
    from .layers import load_layers

    _target(out, force or overwrite_deprecated)
    _table_target(out)
    _checked(lambda: V.power_factor(pf),
             lambda: V.search_max_mw(max_mw),
             lambda: load_scenario(scenario_name))
    try:
        model = GridModel.from_layers(load_layers(layer_set), scenario=scenario_name)
        table = model.hosting_capacity(pf=pf, n_minus_1=n_minus_1, max_mw=max_mw, redispatch=redispatch)
        table = table.round({"firm_mw": 1, "screened_mw": 1, "with_redispatch_mw": 1, "redispatch_mw": 1})
        if out is not None:
            if out.suffix.lower() in (".gpkg", ".geojson"):
                pts = model.bus_points.loc[table.index]
                table = gpd.GeoDataFrame(table, geometry=pts.to_numpy(), crs=pts.crs)
            write_table(table, out, overwrite=force or overwrite_deprecated, layer="hosting")
    except SitingError as exc:
        _fail(exc)
    notes = [c for c in ("reactive_limits", "redispatch_reactive_limits") if c in table.columns]
    shown = table.drop(columns=[c for c in ("geometry", "screened_mw", *notes) if c in table.columns])
    sec = model.security
    click.echo(f"scenario {model.scenario.name}: hosting capacity [MW], {'N-1' if n_minus_1 else 'base case'}, "
               f"pf {pf}; base case {sec}")
    click.echo("firm = no remedial action for the load; with_redispatch = a preventive redispatch makes room "
               "(redispatch_mw = the volume it needs); a value equal to --max-mw means 'at least'")
    click.echo(shown.sort_values("firm_mw").to_string())
    for col in notes:  # a voltage-limited value whose answer takes generators beyond their reactive range
        for bus, note in table[col].items():
            if note:
                click.echo(f"{bus} ({'with redispatch' if col.startswith('redispatch') else 'firm'}): {note}")
    skipped = table.attrs.get("skipped_outages", [])
    if skipped:
        click.echo(f"skipped outages (split the grid or fail without the load): {', '.join(skipped)}")
    if out is not None:
        click.echo(f"wrote {out}")


@main.command("grid-check")
@click.option("--capacity-map", "capacity_map", type=click.Path(path_type=Path), default=None,
              callback=_existing("capacity-map JSON file"),
              help="Netbeheer Nederland capacity-map JSON (schema v2.1); default: TenneT's map of 2026-04-23 (shipped).")
@click.option("--scenario", "scenario_name", default="winter-peak-2026", show_default=True,
              help="Shipped scenario name or a scenario TOML path.")
@click.option("--year", "year", type=int, default=None, help="Year of the published figures (default: the scenario's).")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None, help="Write the comparison as CSV.")
@click.option("--force", is_flag=True, help="Replace an existing --out file.")
@_layer_set_option
def grid_check(capacity_map: Path | None, scenario_name: str, year: int | None, out: Path | None, force: bool,
               layer_set: Path | None) -> None:
    """TenneT's published capacity per congestion area beside the model's hosting capacity
    (firm and with redispatch) at the EHV stations that feed it; flags a disagreement beyond a
    factor 2 with its likely reason."""
    from .capacity_map import read_capacity_map
    from .exports import write_table
    from .grid import GridModel, load_scenario
    from .layers import load_layers

    _target(out, force)
    _table_target(out)
    _checked(lambda: V.year(year, allow_none=True), lambda: load_scenario(scenario_name))
    try:
        cmap = read_capacity_map(capacity_map)
        model = GridModel.from_layers(load_layers(layer_set), scenario=scenario_name)
        table = model.compare_capacity_map(cmap, year=year)
        if out is not None:
            write_table(table, out, overwrite=force)
    except SitingError as exc:
        _fail(exc)
    y = table["year"].iloc[0] if len(table) else year
    click.echo(f"capacity map {cmap.operator} {cmap.updated} (year {y}) vs model, scenario {model.scenario.name}; "
               "model = largest single-point load at one of the area's EHV buses [MW]")
    shown = table[["area", "published_demand_available_mw", "model_firm_mw", "model_with_redispatch_mw",
                   "ratio_firm_to_available", "direction", "likely_reason"]].rename(columns={
        "published_demand_available_mw": "published_mw", "model_firm_mw": "firm_mw",
        "model_with_redispatch_mw": "with_redispatch_mw", "ratio_firm_to_available": "ratio"})
    with pd_options():
        click.echo(shown.round({"firm_mw": 0, "with_redispatch_mw": 0, "ratio": 2}).to_string(index=False))
    if out is not None:
        click.echo(f"wrote {out}")


def pd_options():
    import pandas as pd

    return pd.option_context("display.width", 250, "display.max_colwidth", 140)


def _climate_options(f):
    f = click.option("--climate", "climate", type=click.Path(path_type=Path), default=None,
                     callback=_existing("climate file"),
                     help="NetCDF of hourly air temperature (ERA5 t2m or KNMI ta) for free-cooling hours; "
                          "default: the embedded KNMI normals.")(f)
    f = click.option("--free-cooling-c", "free_cooling_c", default=20.0, show_default=True, type=float,
                     help="Dry-bulb threshold of free cooling [°C].")(f)
    return f


@main.command()
@click.option("--it-load", "it_load", default=300.0, show_default=True, type=float, help="IT load of the AIGF [MW].")
@click.option("--pue", default=1.2, show_default=True, type=float, help="Power usage effectiveness (grid load = IT × PUE).")
@click.option("--pf", default=0.98, show_default=True, type=float, help="Power factor of the grid load.")
@click.option("--year", default=2030, show_default=True, type=int, help="Study year.")
@click.option("--scenario", "scenarios", multiple=True, help="Scenario name or TOML (repeatable); default: all of the study year.")
@click.option("--criteria", default="ecorys-2025", show_default=True, help="Criteria set name or TOML file.")
@click.option("--sites", "sites", type=click.Path(path_type=Path), default=None, callback=_existing("sites file"),
              help="Your sites file (any layer format).")
@_layer_set_option
@click.option("--policy", type=click.Choice(["hard", "soft", "off"]), default=None,
              help="National hyperscale policy criterion: hard, soft or off (default: as in the criteria file).")
@click.option("--samples", default=500, show_default=True, type=int, help="Monte Carlo draws for the sensitivity analysis.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the sensitivity analysis.")
@click.option("--top-k", default=5, show_default=True, type=int, help="k of the 'probability of top k' column.")
@click.option("--out", "out", type=click.Path(path_type=Path), default=None,
              help="Output folder: ranking.gpkg (QGIS-styled), .geojson, .csv, map.png, sites/ report cards, "
                   "sensitivity.csv, what_it_would_take.csv, provenance.json.")
@_force_option("Replace an existing --out folder.")
@click.option("--surface", "surface_res", type=float, default=None,
              help="Also compute a suitability surface at this resolution [m]: maps show it, surface.tif is written.")
@click.option("--situations", "situations", type=click.Choice(["snapshots", "year"]), default="snapshots",
              show_default=True,
              help="year: also a year of hourly situations (curtailment hours, year-firm capacity, hourly offshore "
                   "share; S8 on curtailment hours); adds ~1 min.")
@_climate_options
@_dask_options("Build the grid models (one per scenario and grid) and judge the sensitivity draws with Dask",
               "Same results.")
def rank(it_load: float, pue: float, pf: float, year: int, scenarios: tuple[str, ...], criteria: str,
         sites: Path | None, layer_set: Path | None, policy: str | None, samples: int, seed: int, top_k: int,
         out: Path | None, force: bool, overwrite_deprecated: bool, surface_res: float | None, situations: str,
         climate: Path | None, free_cooling_c: float, dask_address: str | None, worker_memory: str) -> None:
    """Rank candidate sites against the report's conditions: verdict, score, reasons."""
    from .evaluate import check_sensitivity, check_study, evaluate, study_scenarios
    from .exports import export
    from .layers import LayerSource, load_layers, read_layer
    from .surface import check_resolution

    _target(out, force or overwrite_deprecated, kind="folder")
    _checked(lambda: check_study(it_load, pue, pf, year, policy, free_cooling_c),
             lambda: check_sensitivity(samples, seed, top_k),
             lambda: surface_res is None or check_resolution(surface_res),
             lambda: _cli_criteria(criteria),
             lambda: study_scenarios(year, list(scenarios) or None))
    try:
        layers = load_layers(layer_set)
        user_sites = read_layer(LayerSource(path=sites), "sites") if sites is not None else None
        with _cluster(dask_address, worker_memory) as client:
            ev = evaluate(it_load_mw=it_load, pue=pue, pf=pf, year=year, scenario=list(scenarios) or None,
                          criteria=criteria, layers=layers, sites=user_sites, policy=policy, climate=climate,
                          free_cooling_c=free_cooling_c, situations=None if situations == "snapshots" else situations,
                          client=client)
            sens = ev.sensitivity(n=samples, seed=seed, top_k=top_k, client=client)
        table = ev.table.join(sens, on="id")
        if out is not None:
            ds = None
            if surface_res is not None:
                from .surface import surface as make_surface

                ds = make_surface(layers=layers, criteria=criteria, resolution_m=surface_res, year=year,
                                  it_load_mw=it_load, pue=pue, pf=pf, scenario=list(scenarios) or None, policy=policy,
                                  climate=climate, free_cooling_c=free_cooling_c)
            export(ev, out, layers=layers, sensitivity=sens, surface=ds, force=force or overwrite_deprecated,
                   sources={"sites": sites} if sites is not None else None)
    except SitingError as exc:
        _fail(exc)
    p = ev.params
    click.echo(f"AIGF {p['it_load_mw']:.0f} MW IT × PUE {p['pue']} = {p['grid_load_mw']:.0f} MW grid load, "
               f"{p['year']}, scenarios {', '.join(p['scenarios'])}, criteria {p['criteria']}")
    click.echo(f"verdicts: {', '.join(f'{n} {v}' for v, n in table['verdict'].value_counts().items())}; "
               f"grid: firm hosting capacity (no remedial action) must cover the grid load in every scenario")
    import textwrap

    for _, r in table.iterrows():
        click.echo(f"{r['rank']:>3}. {r['id']} — {r['verdict']}, score {r['score']:.3f}, bus {r['bus']}, "
                   f"P(top {top_k}) {r['p_top_k']:.2f}")
        lines = [r["reasons"]] + ([f"borderline: {r['borderline']}"] if r.get("borderline") else [])
        for line in lines:
            click.echo(textwrap.fill(line, width=110, initial_indent="     ", subsequent_indent="       "))
    if out is not None:
        click.echo(f"wrote {out}/: ranking.gpkg, ranking.geojson, ranking.csv, map.png, map.html, sites/, sensitivity.csv, "
                   "what_it_would_take.csv, provenance.json")


#: options `siting year` and `siting flex` share
_YEAR_STUDY = click.option("--year", default=2030, show_default=True, type=int,
                           help="Study year (its shipped peak scenario is the base).")
_WEATHER_YEAR = click.option("--weather-year", "weather_year", default=None, type=int,
                             help="Offshore wind of another weather year (1987, 1997, 2004); default ETSource's default "
                                  "year.")
_YEAR_OUT = click.option("--out", "out", type=click.Path(path_type=Path), default=None,
                         help="Output folder: firm_capacity.csv, hourly_hosting.csv, security.csv, duration-<bus>.png.")


@main.command()
@_YEAR_STUDY
@click.option("--scenario", "scenario_name", default=None,
              help="Base scenario name or TOML (network, demand level and key, plants, links); default: the year's.")
@_WEATHER_YEAR
@click.option("--profiles", "profiles_path", type=click.Path(path_type=Path), default=None,
              callback=_existing("hourly profiles file"), help="Your hourly profiles (CSV or NetCDF); default: shipped.")
@click.option("--bus", "buses", multiple=True, help="EHV bus id (repeatable); default: every bus.")
@click.option("--site", "sites", multiple=True, help="Site id of the sites layer (repeatable): its connection bus.")
@click.option("--load", "load_mw", default=360.0, show_default=True, type=float,
              help="Grid load drawn on the duration curves and counted in curtailment hours [MW].")
@click.option("--ac/--no-ac", "confirm_ac", default=True, show_default=True,
              help="AC-correct the deciding hours and check each firm value with AC N-1 hosting.")
@_YEAR_OUT
@_force_option("Replace an existing --out folder.")
@_layer_set_option
@_dask_options("Solve the AC hosting of the deciding hours with Dask, one task per hour", "Same results.")
def year(year: int, scenario_name: str | None, weather_year: int | None, profiles_path: Path | None,
         buses: tuple[str, ...], sites: tuple[str, ...], load_mw: float, confirm_ac: bool, out: Path | None,
         force: bool, overwrite_deprecated: bool, layer_set: Path | None, dask_address: str | None = None,
         worker_memory: str = "4GB") -> None:
    """A year of hourly situations: firm and flexible connection capacity per EHV bus (N-1, each
    hour secured), the hours and MWh a connection of --load MW gives way, duration curves."""
    import pandas as pd

    from .grid import GridModel, load_scenario
    from .grid.hourly import CURTAILMENT_HOURS, duration_curve
    from .grid.year import base_scenario
    from .layers import load_layers

    _target(out, force or overwrite_deprecated, kind="folder")
    _checked(lambda: V.year(year), lambda: V.load_mw(load_mw, "load_mw"),
             lambda: load_scenario(scenario_name if scenario_name is not None else base_scenario(year)))
    try:
        with _cluster(dask_address, worker_memory) as client:
            layers = load_layers(layer_set)
            name = scenario_name if scenario_name is not None else base_scenario(year)
            wanted = list(buses)
            if sites:
                from .candidates import candidates

                cands = candidates(layers, year=load_scenario(name).year).set_index("id")
                unknown = [s for s in sites if s not in cands.index]
                if unknown:
                    raise SitingError(f"--site {', '.join(unknown)}: not in the sites layer. Fix: use a site id such as "
                                      f"{', '.join(map(str, cands.index[:6]))} (all: siting rank)")
                wanted += [str(cands.at[s, "bus"]) for s in sites]
            profiles = None
            if profiles_path is not None:
                from .profiles import read_hourly

                profiles = read_hourly(profiles_path)
            model = GridModel.from_layers(layers, scenario=name, secure=False)
            for b in wanted:
                model._connected_bus(b)  # an unknown bus: a clear error before the year is computed
            sit = model.situations(profiles=profiles, weather_year=weather_year)
            wanted = list(dict.fromkeys(wanted)) or None
            hg = model.hourly(sit)
            hosting = hg.hosting_ac_corrected(wanted, client=client) if confirm_ac else hg.hosting(wanted)
            table = hg.firm_capacity(hosting=hosting)
            if confirm_ac:
                table = hg.confirm_ac(table, hosting=hosting, client=client)
            curt = pd.DataFrame([hg.curtailment(b, load_mw, hosting=hosting) for b in table.index]).set_index("bus")
            table[f"hours_short_at_{load_mw:g}mw"] = curt["hours"]
            table[f"mwh_short_at_{load_mw:g}mw"] = curt["mwh"].round(0)
            if out is not None:
                _write_year(out, force or overwrite_deprecated, table, hosting, hg, load_mw, duration_curve,
                            curves=wanted is not None or len(table) <= 12)
    except SitingError as exc:
        _fail(exc)
    t = sit.totals()
    click.echo(f"{sit.data.attrs['year']}, base scenario {sit.scenario}, {sit.n_hours} hours: demand "
               f"{t['demand_mw'].min():,.0f}-{t['demand_mw'].max():,.0f} MW, offshore up to {t['offshore_mw'].max():,.0f} MW; "
               f"{hg.secured_hours} hours secured by redispatch, {len(hg.overload)} not securable")
    click.echo(f"firm = fits in every hour; mw_at_<H>h = fits but for at most H hours a year "
               f"({', '.join(map(str, CURTAILMENT_HOURS))}); hours_short = hours a {load_mw:g} MW load gives way; "
               "DC N-1 screen" + (", deciding hours AC-corrected, ac_mw = AC hosting in that hour" if confirm_ac else ""))
    shown = table.drop(columns=[c for c in table.columns if c == "deciding_outage" or c.startswith("ac_at_")]).round(1)
    click.echo(shown.to_string())
    if confirm_ac:
        a = table.attrs["ac_agreement"]
        w = a["worst"]
        click.echo(f"screen against AC N-1 hosting in the hours that decide the firm values and thresholds: "
                   f"{a['within_5pct']} of {a['checked']} within 5 %"
                   + (f"; worst {w['bus']} {w['value']} {w['screen_mw']:,.0f} MW, AC {w['ac_mw']:,.0f} MW "
                      f"({w['diff_pct']:+.1f} %)" if w else "") + " (ac_at_<H>h in the CSV)")
    if out is not None:
        click.echo(f"wrote {out}/: firm_capacity.csv, hourly_hosting.csv, security.csv, duration-*.png")


@main.command()
@click.option("--site", "sites", multiple=True, required=True,
              help="Site id of the sites layer (repeatable): the connection bus whose year is shown.")
@_YEAR_STUDY
@click.option("--load", "load_mw", default=360.0, show_default=True, type=float,
              help="The connection's grid load [MW]: the hours and MWh a year it gives way.")
@_WEATHER_YEAR
@_YEAR_OUT
@_force_option("Replace an existing --out folder.")
@_layer_set_option
@click.pass_context
def flex(ctx, sites: tuple[str, ...], year: int, load_mw: float, weather_year: int | None, out: Path | None,
         force: bool, overwrite_deprecated: bool, layer_set: Path | None) -> None:
    """A site's flexible (non-firm) connection over a year: the MW that connect firm and with at
    most 50/100/200/500 curtailment hours, the hours and MWh a --load MW connection gives way,
    and its duration curve (the same as ``siting year --site``, §7.1)."""
    ctx.invoke(main.commands["year"], year=year, scenario_name=None, weather_year=weather_year, profiles_path=None,
               buses=(), sites=sites, load_mw=load_mw, confirm_ac=True, out=out, force=force,
               overwrite_deprecated=overwrite_deprecated, layer_set=layer_set)


def _cluster(dask_address: str | None, worker_memory: str, allocator: bool = True):
    """The Dask client of ``--dask [ADDRESS]`` (a context; None without the option); a local
    cluster's workers with :data:`siting._tiled.WORKER_MALLOC` where `allocator`."""
    if dask_address is None:
        from contextlib import nullcontext

        return nullcontext(None)
    from ._tiled import dask_client

    return dask_client(None if dask_address == _LOCAL_CLUSTER else dask_address, worker_memory, allocator=allocator)


def _write_year(out: Path, force: bool, table, hosting, hg, load_mw: float, curve, curves: bool) -> None:
    """The year's outputs into `out`, claimed and published whole (:mod:`siting._atomic`)."""
    from ._atomic import atomic_output

    with atomic_output(out, folder=True, force=force, what="year output folder", option="--force") as tmp:
        t = table.copy()
        t["deciding_hour"] = t["deciding_hour"].astype(str)
        t.to_csv(tmp / "firm_capacity.csv")
        frame = hosting.to_pandas().T
        frame.index = hg.sit.time
        frame.round(1).to_csv(tmp / "hourly_hosting.csv", index_label="time_utc")
        hg.security().round(2).to_csv(tmp / "security.csv", index_label="time_utc")
        if curves:
            for bus, row in table.iterrows():
                curve(hosting, bus, load_mw, tmp / f"duration-{bus}.png", row=row)


def _surface_options(f):
    f = _climate_options(f)
    f = click.option("--resolution", default=250.0, show_default=True, type=float, help="Cell size [m].")(f)
    f = click.option("--year", default=2030, show_default=True, type=int, help="Study year.")(f)
    f = click.option("--it-load", "it_load", default=300.0, show_default=True, type=float, help="IT load [MW].")(f)
    f = click.option("--pue", default=1.2, show_default=True, type=float, help="Power usage effectiveness.")(f)
    f = click.option("--scenario", "scenarios", multiple=True, help="Scenario(s); default: all of the study year.")(f)
    f = click.option("--criteria", default="ecorys-2025", show_default=True, help="Criteria set name or TOML file.")(f)
    return f


def _surface_checks(resolution, year, it_load, pue, free_cooling_c, criteria, scenarios,
                    distributed: bool = False) -> None:
    """The arguments of `siting surface` and `siting locate`, checked before any computation."""
    from .evaluate import check_study, study_scenarios
    from .surface import check_resolution

    _checked(lambda: check_resolution(resolution, distributed=distributed),
             lambda: check_study(it_load, pue, 0.98, year, None, free_cooling_c),
             lambda: _cli_criteria(criteria),
             lambda: study_scenarios(year, list(scenarios) or None))


@main.command()
@_surface_options
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="surface.tif (COG) or surface.nc.")
@_dask_options("Compute tile by tile with Dask", "Needed below 100 m; writes .tif only.")
@_force_option("Replace an existing --out file.")
def surface(resolution: float, year: int, it_load: float, pue: float, scenarios: tuple[str, ...], criteria: str,
            climate: Path | None, free_cooling_c: float, out: Path, dask_address: str | None, worker_memory: str,
            force: bool, overwrite_deprecated: bool) -> None:
    """Score every cell of Dutch land (score, hard mask, metrics) and write it as a raster."""
    from .surface import surface as make_surface
    from .surface import write_raster

    _target(out, force or overwrite_deprecated)
    _surface_checks(resolution, year, it_load, pue, free_cooling_c, criteria, scenarios,
                    distributed=dask_address is not None)
    if out.suffix.lower() not in (".tif", ".tiff", ".nc"):
        _fail(SitingError(f"--out {out}: must end in .tif (Cloud-Optimised GeoTIFF) or .nc (NetCDF). "
                          "Fix: e.g. --out surface.tif"))
    if dask_address is not None and out.suffix.lower() == ".nc":
        _fail(SitingError(f"--out {out}: with --dask the surface is written tile by tile to GeoTIFF only. "
                          "Fix: e.g. --out surface.tif"))
    try:
        with _cluster(dask_address, worker_memory, allocator=False) as client:  # (its memory measured so)
            ds = make_surface(criteria=criteria, resolution_m=resolution, year=year, it_load_mw=it_load, pue=pue,
                              scenario=list(scenarios) or None, climate=climate, free_cooling_c=free_cooling_c,
                              client=client)
            write_raster(ds, out, overwrite=force or overwrite_deprecated)
    except SitingError as exc:
        _fail(exc)
    if client is None:
        ok, cond = int(ds["hard_ok"].sum()), int(ds["hard_conditional"].sum())
    else:  # counted in the file, a block at a time: the surface was never in memory here
        from ._tiled import band_sums

        ok, cond = band_sums(out, ["hard_ok", "hard_conditional"])
    click.echo(f"wrote {out}: {ds.sizes['x']} x {ds.sizes['y']} cells of {resolution:g} m; "
               f"{ok} cells meet every hard condition now, {cond} with planned elements")


@main.command()
@_surface_options
@click.option("--n", "n", default=10, show_default=True, type=int, help="Number of regions.")
@click.option("--min-ha", default=30.0, show_default=True, type=float, help="Smallest region [ha].")
@click.option("--max-ha", default=60.0, show_default=True, type=float, help="Largest region [ha].")
@click.option("--separation", default=1000.0, show_default=True, type=float,
              help="Least distance between two regions, edge to edge [m].")
@click.option("--out", "out", type=click.Path(path_type=Path), required=True, help="regions.gpkg (or .geojson).")
@_force_option("Replace an existing --out file.")
def locate(resolution: float, year: int, it_load: float, pue: float, scenarios: tuple[str, ...], criteria: str,
           climate: Path | None, free_cooling_c: float, n: int, min_ha: float, max_ha: float, separation: float,
           out: Path, force: bool, overwrite_deprecated: bool) -> None:
    """Find the best contiguous 30–60 ha regions of the surface that meet the hard mask."""
    from .exports import write_table
    from .surface import check_locate
    from .surface import locate as find_regions
    from .surface import surface as make_surface

    _target(out, force or overwrite_deprecated)
    _surface_checks(resolution, year, it_load, pue, free_cooling_c, criteria, scenarios)
    _checked(lambda: check_locate(n, min_ha, max_ha, separation))
    _table_target(out)
    try:
        ds = make_surface(criteria=criteria, resolution_m=resolution, year=year, it_load_mw=it_load, pue=pue,
                          scenario=list(scenarios) or None, climate=climate, free_cooling_c=free_cooling_c)
        regions = find_regions(ds, n=n, min_ha=min_ha, max_ha=max_ha, min_separation_m=separation)
        write_table(regions, out, overwrite=force or overwrite_deprecated, layer="regions")
    except SitingError as exc:
        _fail(exc)
    click.echo(regions.drop(columns="geometry").to_string(index=False) if len(regions) else "no region meets the hard mask")
    click.echo(f"wrote {out}; rank them with: siting rank --sites {out}")


if __name__ == "__main__":  # pragma: no cover
    main()
