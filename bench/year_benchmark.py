"""Benchmark (issue #11): a year of hourly situations on the Dutch EHV grid — every bus, 8,760
hours, N-1 — beside AC power flow measured in the same run.

Run:  python bench/year_benchmark.py [--year 2030] [--sample-hours 120]

Measured:
- ``build_s`` situations from the shipped profiles; ``secure_s`` every insecure hour secured
  (DC LP); ``screen_s`` hosting of every bus in every hour; ``correct_s`` the deciding hours
  AC-corrected (rounds until stable); ``confirm_s`` AC N-1 hosting of each deciding hour;
  peak resident memory of the process;
- the AC comparison: AC N-1 firm hosting (the library's snapshot method) of sampled hours
  (evenly spread) at sampled buses, beside the DC screen of the same hours (uncorrected and
  corrected), and the AC time per hour scaled to the year — the baseline of the speed ratio;
- agreement of the AC-corrected firm value with AC hosting of its deciding hour, all buses;
- the snapshot scenarios of the year (firm hosting, AC, secured) against the hourly range.
Results go to bench/results/year-<date>.md.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
import _report  # noqa: E402

from siting._progress import set_quiet  # noqa: E402
from siting.grid import GridModel, list_scenarios, load_scenario  # noqa: E402
from siting.grid.hourly import CURTAILMENT_HOURS  # noqa: E402
from siting.grid.year import base_scenario  # noqa: E402
from siting.layers import load_layers  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--year", type=int, default=2030)
    ap.add_argument("--sample-hours", type=int, default=120)
    ap.add_argument("--buses", nargs="*", default=["maasvlakte-380", "eindhoven-oost-380", "vierverlaten-220",
                                                     "eemshaven-oudeschip-380", "diemen-380"])
    args = ap.parse_args()
    set_quiet(True)
    layers = load_layers()
    name = base_scenario(args.year)
    lines = _report.header(f"A year of hourly situations, {args.year} (base scenario {name})",
                           ("siting", "pandapower", "numpy", "highspy", "xarray"))
    rss0 = peak_rss_mb()
    t0 = time.perf_counter()
    model = GridModel.from_layers(layers, scenario=name, secure=False)
    t_model = time.perf_counter() - t0
    t0 = time.perf_counter()
    sit = model.situations()
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    hg = model.hourly(sit)
    t_secure = time.perf_counter() - t0
    t0 = time.perf_counter()
    raw = hg.hosting()
    t_screen = time.perf_counter() - t0
    t0 = time.perf_counter()
    corrected = hg.hosting_ac_corrected()
    t_correct = time.perf_counter() - t0
    table = hg.firm_capacity(hosting=corrected)
    t0 = time.perf_counter()
    table = hg.confirm_ac(table, hosting=corrected)
    t_confirm = time.perf_counter() - t0
    total = t_build + t_secure + t_screen + t_correct + t_confirm
    peak = peak_rss_mb()
    tot = sit.totals()
    lines += [
        f"Situations: {sit.n_hours} hours, demand {tot['demand_mw'].min():,.0f}–{tot['demand_mw'].max():,.0f} MW "
        f"(mean {tot['demand_mw'].mean():,.0f} MW, {tot['demand_mw'].sum() / 1e6:,.1f} TWh), offshore "
        f"{tot['offshore_mw'].sum() / 1e6:,.1f} TWh, net import {tot['import_mw'].sum() / 1e6:,.1f} TWh, curtailed "
        f"{tot['curtailed_mw'].sum() / 1e3:,.0f} GWh, unserved {tot['unserved_mw'].sum() / 1e3:,.1f} GWh; "
        f"{hg.secured_hours} hours not N-1 secure under the market dispatch, secured by redispatch; "
        f"{len(hg.overload)} not securable.",
        "",
        "| step | time [s] |",
        "|---|---|",
        f"| model (build, not part of the year) | {t_model:.1f} |",
        f"| situations | {t_build:.2f} |",
        f"| securing {hg.secured_hours} hours (DC LP) | {t_secure:.1f} |",
        f"| DC screen, {len(raw['bus'])} buses × {sit.n_hours} h × {len(hg.outages)} cases | {t_screen:.1f} |",
        f"| AC correction of {len(hg.corrections)} hours, secants, AC check of the thresholds | {t_correct:.1f} |",
        f"| AC confirmation of the firm values and the curtailment thresholds (reported) | {t_confirm:.1f} |",
        f"| **year total (situations to confirmed firm values)** | **{total:.1f}** |",
        "",
        f"Peak resident memory {peak:,.0f} MB (process, {rss0:,.0f} MB before the model).",
        "",
    ]

    # AC N-1 hosting of sampled hours at sampled buses, against the DC screen of those hours
    hours = np.linspace(0, sit.n_hours - 1, args.sample_hours).round().astype(int)
    buses = [b for b in args.buses if b in set(raw["bus"].to_numpy())]
    rows = []
    t0 = time.perf_counter()
    for t in hours:
        try:
            m = hg.hour_model(int(t))
            ac = m.hosting_capacity(buses=buses, redispatch=False)
        except Exception as exc:  # noqa: BLE001 - counted, not fatal
            rows.append({"hour": int(t), "bus": "", "ac_mw": np.nan, "error": str(exc)})
            continue
        for b in buses:
            rows.append({"hour": int(t), "bus": b, "ac_mw": float(ac.at[b, "firm_mw"]),
                         "dc_mw": float(raw.sel(bus=b).to_numpy()[t]),
                         "dc_corrected_mw": float(corrected.sel(bus=b).to_numpy()[t])})
    t_ac = time.perf_counter() - t0
    per_hour = t_ac / len(hours)
    cmp_ = pd.DataFrame(rows).dropna(subset=["ac_mw"])
    cmp_ = cmp_[cmp_["bus"] != ""]
    cmp_["err_mw"] = cmp_["dc_mw"] - cmp_["ac_mw"]
    cmp_["corr_err_mw"] = cmp_["dc_corrected_mw"] - cmp_["ac_mw"]
    both_capped = (cmp_["ac_mw"] >= 2999) & (cmp_["dc_mw"] >= 2999)
    c = cmp_[~both_capped]
    rel = (c["err_mw"].abs() / c["ac_mw"].clip(lower=1.0))
    within = ((c["err_mw"].abs() <= np.maximum(0.05 * c["ac_mw"], 25.0))).mean() if len(c) else float("nan")
    cc = cmp_[~((cmp_["ac_mw"] >= 2999) & (cmp_["dc_corrected_mw"] >= 2999))]
    within_c = ((cc["corr_err_mw"].abs() <= np.maximum(0.05 * cc["ac_mw"], 25.0))).mean() if len(cc) else float("nan")
    lines += [
        f"## DC screen against AC N-1 hosting, {len(hours)} sampled hours × {len(buses)} buses",
        "",
        f"AC hosting costs {per_hour:.2f} s per hour for these {len(buses)} buses (hour network, N-1 cases, "
        f"search); for every bus and all {sit.n_hours} hours that is about "
        f"{per_hour * sit.n_hours / 60:,.0f} min (scaled), against {total:.0f} s for the year here: "
        f"**{per_hour * sit.n_hours / max(total, 1e-9):,.0f}×** faster.",
        "",
        f"Uncorrected DC screen vs AC on the {len(c)} (hour, bus) pairs below the cap: median |error| "
        f"{c['err_mw'].abs().median():.0f} MW ({100 * rel.median():.1f} %), 90th percentile "
        f"{c['err_mw'].abs().quantile(0.9):.0f} MW; within 5 % or 25 MW: {100 * within:.0f} %; DC lower (conservative) "
        f"in {100 * (c['err_mw'] < 0).mean():.0f} %.",
        "",
        f"The product's screen (AC corrections, secants and borrowed ratios; these hours are not the ones "
        f"it checks in AC) vs AC on the {len(cc)} pairs below the cap: median |error| "
        f"{cc['corr_err_mw'].abs().median():.0f} MW, within 5 % or 25 MW: {100 * within_c:.0f} %; lower "
        f"(conservative) in {100 * (cc['corr_err_mw'] < 0).mean():.0f} %.",
        "",
        "| bus | hours | AC median [MW] | DC median [MW] | median error [MW] | worst error [MW] | screen median error [MW] |",
        "|---|---|---|---|---|---|---|",
    ]
    for b, g in cmp_.groupby("bus"):
        e = g["err_mw"]
        lines.append(f"| {b} | {len(g)} | {g['ac_mw'].median():.0f} | {g['dc_mw'].median():.0f} | {e.median():+.0f} | "
                     f"{e.iloc[int(np.argmax(e.abs().to_numpy()))]:+.0f} | {g['corr_err_mw'].median():+.0f} |")
    lines.append("")

    # firm values against AC at their deciding hours
    ok = table["ac_mw"].notna()
    tol = np.maximum(0.05 * table["ac_mw"], 25.0)
    good = (table["ac_diff_mw"].abs() <= tol) & ok
    worst = table.loc[ok, "ac_diff_pct"].abs().idxmax() if ok.any() else ""
    lines += [
        "## Firm values (AC-corrected) against AC hosting of their deciding hour, every bus",
        "",
        f"{int(good.sum())} of {int(ok.sum())} buses within 5 % or 25 MW; within 5 %: "
        f"{int((table.loc[ok, 'ac_diff_pct'].abs() <= 5).sum())}; worst "
        f"{table.at[worst, 'ac_diff_pct']:+.1f} % ({worst}: {table.at[worst, 'firm_mw']:.0f} vs "
        f"{table.at[worst, 'ac_mw']:.0f} MW)." if ok.any() else "no AC result",
        "",
        "| bus | firm [MW] | AC [MW] | diff [%] | 50 h | 100 h | 200 h | 500 h | median | zero h | deciding hour | element |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for b, r in table.iterrows():
        lines.append(f"| {b} | {r['firm_mw']:.0f} | {r['ac_mw']:.0f} | {r['ac_diff_pct']:+.1f} | {r['mw_at_50h']:.0f} | "
                     f"{r['mw_at_100h']:.0f} | {r['mw_at_200h']:.0f} | {r['mw_at_500h']:.0f} | {r['median_mw']:.0f} | "
                     f"{int(r['zero_hours'])} | {r['deciding_hour']} | {r['deciding_element']} |")
    lines.append("")

    # the curtailment thresholds (mw_at_<H>h) against AC hosting of their hours (confirm_ac), every bus
    thr = pd.concat([pd.DataFrame({"bus": table.index, "h": hh, "screen": table[f"mw_at_{hh}h"],
                                   "ac": table[f"ac_at_{hh}h"]}) for hh in CURTAILMENT_HOURS]).dropna()
    thr["pct"] = 100.0 * (thr["screen"] - thr["ac"]) / thr["ac"].clip(lower=1.0)
    thr["ok5"] = (thr["screen"] - thr["ac"]).abs() <= np.maximum(0.05 * thr["ac"], 1.0)
    agree = table.attrs["ac_agreement"]
    w = agree["worst"]
    lines += ["## Curtailment thresholds (mw_at_<H>h, screen with AC corrections and secants) against AC hosting "
              "of their hour, every bus (confirm_ac)", "",
              f"With the firm values: {agree['within_5pct']} of {agree['checked']} checked values within 5 % "
              f"(1 MW near zero); worst {w['bus']} {w['value']}: {w['screen_mw']:.0f} vs {w['ac_mw']:.0f} MW "
              f"({w['diff_pct']:+.1f} %).", "",
              "| H | buses below the cap | within 5 % (1 MW near zero) | worst [%] | worst bus |", "|---|---|---|---|---|"]
    for hh, g in thr.groupby("h"):
        w = g.loc[g["pct"].abs().idxmax()]
        lines.append(f"| {hh} | {len(g)} | {int(g['ok5'].sum())} | {w['pct']:+.1f} | {w['bus']} ({w['screen']:.0f} vs "
                     f"{w['ac']:.0f} MW) |")
    lines.append("")

    # the year's snapshots against the hourly range
    snaps = [n for n in list_scenarios() if load_scenario(n).year == args.year]
    lines += [f"## The {args.year} snapshots against the hourly range (firm hosting, AC, secured snapshot)", ""]
    lo, hi = corrected.min("time").to_pandas(), corrected.max("time").to_pandas()
    for s in snaps:
        snap = GridModel.from_layers(layers, scenario=s, secure=True).hosting_capacity(redispatch=False)
        common = snap.index.intersection(lo.index)
        inside = ((snap.loc[common, "firm_mw"] >= lo[common] - 25) & (snap.loc[common, "firm_mw"] <= hi[common] + 25))
        below = snap.loc[common, "firm_mw"] < lo[common] - 25
        firm = snap["firm_mw"]
        under = ", ".join(f"{b} ({firm[b]:.0f} < {lo[b]:.0f})" for b in common[below]) or "none"
        lines.append(f"- {s}: {int(inside.sum())} of {len(common)} buses within the hourly range (±25 MW); "
                     f"below it: {under}; above it: {int((~inside & ~below).sum())}.")
    lines.append("")
    _report.write("year", lines)


if __name__ == "__main__":
    main()
