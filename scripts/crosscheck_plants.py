"""Cross-check ``data/nl/plants.csv`` against powerplantmatching and write the comparison.

Reads the powerplantmatching list (PyPSA/powerplantmatching ``powerplants.csv``, CC BY 4.0,
attribute "powerplantmatching, Gotzens et al. 2019"), keeps the Dutch units, matches them to the
rows of ``data/nl/plants.csv`` and writes ``data/nl/plants_crosscheck.csv``: one row per
plants.csv row and one per unmatched Dutch powerplantmatching plant of 100 MW or more. The
reference file itself is not copied; the derived table holds only the comparison (names, MW and
years side by side, the difference, and what was done about it).

Usage::

    python scripts/crosscheck_plants.py [REFERENCE_CSV]          # rewrite the table
    python scripts/crosscheck_plants.py [REFERENCE_CSV] --check  # exit 1 if it is out of date

``REFERENCE_CSV`` defaults to ``../shared/reference/powerplantmatching/powerplants.csv``
relative to the repository root.

Matching rule
-------------
1. Reference units: ``Country == "Netherlands"``.
2. A (plant, unit) pair is a *candidate* when the unit's fuel is compatible with the plant's
   (``COMPATIBLE``: e.g. our ``gas`` ~ Natural Gas/Oil/Other, our ``biomass`` ~ Solid Biomass
   or Hard Coal, because converted coal units keep their coal record) and
   a. the unit lies within ``NEAR_KM`` (3 km) of the plant and has at least ``MIN_SHARE``
      (10 %) of its MW (so that small neighbours on an industrial site are not absorbed), or
   b. plant and unit share a distinctive name token (``_tokens``: lower-case words of 3+
      letters minus generic words such as "centrale", "wind", "farm") and lie within
      ``NAME_KM`` (25 km; several reference coordinates are kilometres off).
   Fuel records that are wrong in the reference (the Borssele nuclear unit is filed as Hard
   Coal) are matched by ``ASSIGN`` and reported as a fuel disagreement.
3. Each unit goes to its best-scoring candidate plant. Score = 3 (shared name token)
   + 2 (same fuel class) + 2 (DateIn within 2 years of ``commissioned_year``)
   + 2 (DateOut within 1 year of ``closure_year``) + capacity closeness
   (1 - |ln(unit MW / plant MW)|, floored at -1) - distance / 5 km. Ties go to the
   earlier plants.csv row. ``ASSIGN`` overrides the assignment of units whose record merges several plants
   (each override says why).
4. A plant's reference MW is the sum over the units assigned to it. ``mw_ratio`` = our MW /
   reference MW.
5. Unmatched units of 100 MW or more get their own row (no ``plant_id``); offshore wind farms
   among them are pointed at their ``offshore.csv`` connection (``OFFSHORE``).

The ``action`` column comes from ``ACTIONS`` (keyed by plant id, or ``ppm:<id>`` for unmatched
reference units): what was changed in plants.csv after the cross-check, or why nothing was.
Rows that agree within ``AGREE_PCT`` and have no entry get ``AGREES_TEXT``.

Only numpy and pandas are used (both are dependencies of siting).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data" / "nl"
DEFAULT_REFERENCE = REPO.parent / "shared" / "reference" / "powerplantmatching" / "powerplants.csv"
OUTPUT = DATA / "plants_crosscheck.csv"

NEAR_KM = 3.0
NAME_KM = 25.0
MIN_SHARE = 0.1
UNMATCHED_MIN_MW = 100.0
AGREE_PCT = 15.0
AGREES_TEXT = "none needed: agrees within 15 %"

#: our fuel -> powerplantmatching Fueltypes a candidate unit may have (rule 2)
COMPATIBLE: dict[str, set[str]] = {
    "coal": {"Hard Coal", "Lignite"},
    "gas": {"Natural Gas", "Oil", "Other"},
    "other": {"Natural Gas", "Oil", "Other"},
    "nuclear": {"Nuclear"},
    "biomass": {"Solid Biomass", "Biogas", "Hard Coal", "Waste"},
    "waste": {"Solid Biomass", "Biogas", "Waste"},
    "wind_onshore": {"Wind"},
    "solar": {"Solar"},
}
#: powerplantmatching Fueltype -> our fuel class (for the "same fuel" score and fuel_agrees)
FUEL_CLASS: dict[str, str] = {
    "Hard Coal": "coal", "Lignite": "coal", "Natural Gas": "gas", "Oil": "gas", "Nuclear": "nuclear",
    "Solid Biomass": "biomass", "Biogas": "biomass", "Waste": "waste", "Wind": "wind_onshore",
    "Solar": "solar", "Other": "other",
}
_FUEL_EQUIV = {("waste", "biomass"), ("other", "gas")}  # ppm files waste-to-energy as Solid Biomass

_GENERIC = {
    "centrale", "central", "power", "plant", "station", "wind", "farm", "park", "windpark", "energie",
    "energy", "solar", "offshore", "onshore", "the", "van", "units", "unit", "and", "gas", "coal",
    "steg", "ccgt", "chp", "wkc", "windmolenpark", "netherlands", "nederland", "zonnepark", "engie",
    "rwe", "uniper", "vattenfall", "eneco", "nuon", "essent", "ex", "gdf", "suez", "e.on", "eon",
}

#: reference unit id -> plant id (or "" for "matches no plants.csv row"), with the reason
ASSIGN: dict[int, tuple[str, str]] = {
    15176: ("", "GEM-only aggregate 'Maasvlakte Uniper' (2,306 MW, DateIn 1987) double-counts the Uniper "
                "Maasvlakte units (MV1/MV2 closed 2017, MPP3 = ppm id 223); not a separate plant"),
    223: ("plant-maasvlakte-mpp3", "ENTSO-E EIC 49W000000000102B with BEYOND-NL-10 = MPP3 (ppm DateIn 1975 is wrong)"),
    6896: ("plant-maasvlakte-onyx", "BEYOND-NL-11/NL-6 only, 802 MW at the Onyx site (ex Engie Maasvlakte, ~800 MW in 2014)"),
    8624: ("plant-borssele-12", "GEM Borssele coal unit, DateOut 2015 = Borssele 12"),
    0: ("plant-borssele-nuclear", "Borssele nuclear unit filed as Hard Coal (known ppm issue, see its README)"),
    793: ("plant-amer-8", "coal record 'Amer' mixes Amer 8 (DateIn 1979) with Amer 9's coal end (DateOut 2024)"),
    6482: ("plant-claus-a", "OPSD OEU-123 'Clauscentrale' Other 510 MW: the older Claus A unit of the 2015 list"),
    6691: ("plant-merwedekanaal-12", "'Mk' = Merwedekanaal (Utrecht) second record, same OPSD site"),
    338: ("plant-eemscentrale", "'Eems' = Eemscentrale (six ENTSO-E EICs of the EC units; 'eems' is not a token of ours)"),
    519: ("plant-claus-c", "ENTSO-E EIC 49W000000000069K, 1,304 MW = Claus C as repowered in 2012 (DateIn 1977 is "
                           "the original Claus plant, which drew the score to Claus A)"),
    16869: ("", "'Pernis Refinery' (Shell) steam-turbine CHP is the refinery's own plant, not Pergen"),
    4887: ("plant-windpark-noordoostpolder", "'Westermeerwind' (144 MW, 2017) is part of Windpark Noordoostpolder; its "
                                             "reference position lies ~80 km west, in the North Sea"),
    17345: ("plant-windpark-wieringermeer", "'Prinses Ariane Windpark' = Windpark Wieringermeer, renamed at its opening "
                                            "(Sep 2020); reference point 7.5 km from our polder-centre point"),
    8475: ("", "'Bmc Moerdijk' (36 MW biogas, poultry litter) is a separate plant next to AEC Moerdijk"),
    22761: ("plant-windplanblauw", "'Windplanblauw Offshore Wind Farm' (132 MW, 2024) has a North Sea position; "
                                   "Windplanblauw is on land and in the IJsselmeer (Flevoland)"),
}

#: reference name fragment (lower case) -> offshore.csv id(s) for unmatched offshore wind farms
OFFSHORE: dict[str, str] = {
    "hollandse kust noord": "ow-hkn",
    "hollandse kust zuid": "ow-hkz-alpha;ow-hkz-beta",
    "borssele offshore": "ow-borssele-alpha;ow-borssele-beta",
    "gemini": "ow-gemini",
    "luchterduinen": "ow-luchterduinen",
    "egmond aan zee": "ow-owez",
}

#: action per plants.csv id, or per "ppm:<id>" for an unmatched reference unit. Source keys (E#) are
#: those of data/SOURCES.md; "ppm" = powerplantmatching (E38).
_OFFSHORE_ACTION = "none: offshore wind farms are modelled by their grid connection in offshore.csv"
_SOLAR_ACTION = ("not added: solar park on the 110 kV/MV grid, ~0 MW at the winter-evening peak the scenarios model; "
                 "solar stays out of the plants layer until a sourced pass in MWp")
ACTIONS: dict[str, str] = {
    "plant-eemshaven-rwe": "none: agrees; closure_year 2029 (coal ban, E7) = ppm DateOut 2029",
    "plant-maasvlakte-mpp3": "none: MW and closure 2029 agree; ppm DateIn 1975 is wrong (opened 2016, E9)",
    "plant-maasvlakte-onyx": (
        "status kept 'mothballed' (low confidence): ppm lists it operating to 2029; it stopped supplying power in "
        "May 2022, restarted when gas prices rose (E42) and was later described as standing idle (E8); notes updated"),
    "plant-maasvlakte-mv1-mv2": (
        "notes: closure in Jul 2017 now sourced (E49); ppm has no separate record (its GEM aggregate 'Maasvlakte "
        "Uniper', id 15176, double-counts these units)"),
    "plant-amer-9": (
        "none to MW (agrees); notes: RWE ends heat supply from 1 Jan 2027 (E41); closure_year left empty: no "
        "closure announced, SDE co-firing subsidy runs to ~2027"),
    "plant-amer-8": ("none: closed end 2015 (E6); ppm's coal record mixes Amer 8 (DateIn 1979) with the end of coal "
                     "at Amer 9 (DateOut 2024)"),
    "plant-hemweg-8": ("none: closed Dec 2019 = ppm DateOut 2019; ppm's 1,090 MW record combines two OPSD units "
                       "(OEU-106, OEU-108), more than Hemweg 8's 630-650 MW"),
    "plant-diemen-33-34": "commissioned_year 1995 (DM33) from ppm; MW agrees",
    "plant-velsen-ijmond": (
        "none: ours 725 MWe is the 2024/25 figure with VN24 as back-up (E14); ppm's 869 + 144 MW (IJmuiden Steel "
        "Works) = 1,013 MW are 2015-list unit sizes"),
    "plant-magnum": "capacity 1,311 -> 1,410 MW and operator Vattenfall -> RWE (sale 30 Sep 2022, E39); now agrees",
    "plant-eemscentrale": (
        "none: two of the five 364 MW units closed on 1 Jan 2017 and a third was mothballed end 2017 (E10, E49); "
        "ppm's 1,931 MW is the whole 2015-list plant"),
    "plant-delesto": (
        "commissioned_year 1987 from ppm; MW kept at 530 (2015 list): ppm's 343 MW may reflect a unit out of "
        "service, but no source dates that (known difference, low confidence)"),
    "plant-rijnmond-energie": "commissioned_year 2004 from ppm; MW agrees",
    "plant-maasstroom": "commissioned_year 2010 from ppm; MW agrees",
    "plant-pergen": (
        "commissioned_year 2008 from ppm; MW kept at 300 (ENTSO-E map, E3): ppm's 260 MW differs by 15 %, neither "
        "figure confirmed by the operator (known difference)"),
    "plant-borssele-nuclear": ("none: ppm files the nuclear unit as Hard Coal (known ppm issue); its DateOut 2034 vs "
                               "our legal end date 2033 (E34)"),
    "plant-borssele-12": "commissioned_year 1988 from ppm; MW and closure 2015 agree",
    "plant-moerdijk-1": (
        "none: ppm merges Moerdijk 1 + 2 into one 766 MW unit (ours 339 + 426 = 765 MW, agrees); MD1 is mothballed "
        "since 1 Feb 2018 (E13), which ppm does not show"),
    "plant-moerdijk-2": ("none: covered by the merged ppm unit 936 (766 MW = MD1 + MD2), which the rule assigns to "
                         "plant-moerdijk-1; RWE runs MD2 (E49)"),
    "plant-claus-c": "none: MW agrees; ppm DateIn 1977 is the original Claus plant, ours 2012 is the repowering (E12)",
    "plant-claus-a": (
        "none: ppm's 'Clauscentrale' (Other, 510 MW, no DateOut) is the 2015-list Claus A record; the old Claus "
        "plant stayed idle (RWE 2016, E49) and only Claus C restarted (2020, E12)"),
    "plant-swentibold": "commissioned_year 1999 from ppm; MW agrees",
    "plant-lage-weide-6": (
        "closure_year 2029 = end of Eneco's availability contract with TenneT/Stedin (option to 2034, E40); "
        "commissioned_year 1995 from ppm; ppm has no DateOut"),
    "plant-merwedekanaal-12": (
        "closure_year 2029 as Lage Weide (E40); ppm's two records (224 + 103 MW) agree with ours; ppm DateIn 1976 "
        "not adopted (it dates the site, the unit's year was not verified)"),
    "plant-ecw-middenmeer": "none: no ppm record by position or name; ours is the ENTSO-E map value (E3), low confidence",
    "plant-nam-schoonebeek": "commissioned_year 2010 from ppm; MW agrees",
    "plant-bergum": ("none: MW agrees (4 x 40 MW gas turbines vs ppm 144 MW); ppm DateIn 2019 not adopted (our 1976 "
                     "dates the site; the turbines' year was not verified)"),
    "plant-windpark-noordoostpolder": ("name now lists the three parts (Westermeerwind, NOP Agrowind, Zuidwester); "
                                       "ppm's units sum to 444 MW vs ours 429, agrees"),
    "plant-windpark-wieringermeer": "name updated to Prinses Ariane Windpark (E48); MW agrees (295 vs 301)",
    "plant-windpark-zeewolde": "none: ours 320 MW (83 turbines, E15); ppm's 247.4 MW covers only part of the park",
    "plant-windpark-krammer": "none: agrees (the ppm point is ~23 km off, matched by name)",
    "plant-windpark-westereems": "commissioned_year 2009 from ppm; MW within 15 %",
    "plant-aec-moerdijk": "added (E43): own ~120 MWe turbine since 2018; ppm 125 MW",
    "plant-aeb-amsterdam": "added (E44; MW from ppm)",
    "plant-avr-rozenburg": "added (MW from ppm; status after the Sep 2023 fire per E45)",
    "plant-roca": "added from ppm (MW, year, position); status not verified (E47)",
    "plant-den-haag-uniper": "added from ppm (MW, year, position); Uniper still ran its Dutch gas CHPs in 2022 (E46)",
    "plant-windplan-groen": ("added (E48): 515 MW opened 2024; ppm has no Windplan Groen record, only units in the area "
                             "(e.g. Hoge Vaart Zuid 60 MW)"),
    "plant-windplanblauw": "added (E48): ~340 MW; ppm's 132 MW record (2024) is partial and placed in the North Sea",
    "plant-windpark-prinses-alexia": "added (E48); agrees with ppm",
    "plant-windpark-drentse-monden": "added (E48): 175 MW per the initiators vs ppm 156.8 MW, within 15 %",
    "plant-windpark-n33": ("added (E48): 150 MW; ppm double counts (unnamed 'Wind Farm' 150 MW = whole park, 'Vermeer' "
                           "86 MW = its Eurus part)"),
    # unmatched reference plants >= 100 MW
    **{f"ppm:{i}": _OFFSHORE_ACTION for i in (12962, 8625, 8626, 8627, 12963, 12964, 999, 3604, 15093, 3605)},
    **{f"ppm:{i}": _SOLAR_ACTION for i in (11338, 16145, 22457, 11574, 15534, 21197)},
    "ppm:15176": "none: double count (see the difference)",
    "ppm:16869": ("not added: the refinery's own steam-turbine CHP (ppm only, 269 MW, 1981); grid export not "
                  "verified"),
    "ppm:8092": ("not added: no Dutch offshore wind farm of 350 MW commissioned in 2009 is known; unidentified ppm "
                 "record with a North Sea position"),
    "ppm:3461": "not added: the IJssel plant at Harculo (Zwolle) was out of operation by 2016 (E49); ppm has no DateOut",
    "ppm:10430": ("not added: ppm only (264 MW, no year); the Delfzijl Zuid park and its 16-turbine extension "
                  "(~50-65 MW) do not confirm that figure; regional 110 kV"),
    "ppm:12403": "not added: ppm only (159 MW, 2008), not verified; regional 110 kV in the Eemshaven",
    "ppm:10429": "not added: ppm only (141 MW, 2014), not verified; regional 110 kV near Delfzijl",
    "ppm:909": ("not added: a second 'Prinses Alexia' record with a North Sea position and DateIn 2007 - it fits the "
                "offshore Prinses Amalia farm (120 MW, 2008), which is in offshore.csv as ow-prinses-amalia"),
    "ppm:1444": "not added: closed (ppm DateOut 2018)",
    "ppm:12532": ("not added: a single GE Haliade-X prototype turbine (12-14 MW) at the Maasvlakte; ppm's 112 MW is "
                  "wrong by an order of magnitude"),
    "ppm:8209": "not added: RWE closed its Bergen op Zoom CHP on 1 Dec 2016 (E49); ppm DateOut 2020",
    "ppm:14144": "not added: closed (ppm DateOut 2022)",
    "ppm:19507": "not added: ppm only; no source found for a 107 MW gas plant at Schiphol (2023)",
    "ppm:7088": ("not added: ppm only; its position is on the Amer site in Geertruidenberg, which does not fit an "
                 "AkzoNobel salt plant; not verified"),
}

COLUMNS = [
    "plant_id", "plant_name", "fuel", "status", "capacity_mw", "commissioned_year", "closure_year",
    "ppm_ids", "ppm_names", "ppm_fueltypes", "ppm_mw", "ppm_date_in", "ppm_date_retrofit", "ppm_date_out",
    "dist_km", "match_basis", "fuel_agrees", "mw_ratio", "difference", "action",
]


def load_reference(path: Path) -> pd.DataFrame:
    """Dutch units of the powerplantmatching list, with the columns the cross-check uses."""
    if not path.is_file():
        raise SystemExit(f"reference file not found: {path} (pass its path as the first argument)")
    ref = pd.read_csv(path)
    need = {"id", "Name", "Fueltype", "Country", "Capacity", "DateIn", "DateRetrofit", "DateOut", "lat", "lon"}
    missing = sorted(need - set(ref.columns))
    if missing:
        raise SystemExit(f"{path}: not a powerplantmatching file, missing column(s) {missing}")
    nl = ref[ref["Country"] == "Netherlands"].copy()
    nl["id"] = nl["id"].astype(int)
    return nl[sorted(need - {"Country"})].reset_index(drop=True)


def _tokens(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", str(text).lower().replace("é", "e"))
    return {w for w in words if len(w) >= 3 and not w.isdigit() and w not in _GENERIC}


def _km(lat1, lon1, lat2, lon2) -> np.ndarray:
    """Great-circle distance [km] (haversine, R = 6371 km); broadcasts."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi, dlmb = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0 * np.arcsin(np.sqrt(a))


def _same_fuel(ours: str, ppm_fueltype: str) -> bool:
    cls = FUEL_CLASS.get(ppm_fueltype, "other")
    return cls == ours or (ours, cls) in _FUEL_EQUIV


def match(plants: pd.DataFrame, ref: pd.DataFrame) -> pd.DataFrame:
    """Assign reference units to plants (rule in the module docstring).

    Returns one row per assigned unit: ``ppm_id``, ``plant_id``, ``dist_km``, ``basis``
    ("near+fuel", "name", "near+fuel+name" or "override").
    """
    dist = _km(plants["lat"].to_numpy()[:, None], plants["lon"].to_numpy()[:, None],
               ref["lat"].to_numpy()[None, :], ref["lon"].to_numpy()[None, :])
    ptok = [_tokens(n) | _tokens(i.removeprefix("plant-")) for n, i in zip(plants["name"], plants["id"])]
    rtok = [_tokens(n) for n in ref["Name"]]
    rows = []
    for j, unit in ref.iterrows():
        if int(unit["id"]) in ASSIGN:
            target = ASSIGN[int(unit["id"])][0]
            if target:
                i = int(np.flatnonzero(plants["id"].to_numpy() == target)[0])
                rows.append({"ppm_id": int(unit["id"]), "plant_id": target, "dist_km": dist[i, j], "basis": "override"})
            continue
        best, best_score, best_basis = None, -math.inf, ""
        for i, plant in enumerate(plants.itertuples()):
            d = dist[i, j]
            if unit["Fueltype"] not in COMPATIBLE.get(plant.fuel, set()):
                continue
            near = d <= NEAR_KM and unit["Capacity"] >= MIN_SHARE * plant.capacity_mw
            named = bool(ptok[i] & rtok[j]) and d <= NAME_KM
            if not (near or named):
                continue
            score = 3.0 * named + 2.0 * _same_fuel(plant.fuel, unit["Fueltype"]) - d / 5.0
            if pd.notna(plant.commissioned_year) and pd.notna(unit["DateIn"]):
                score += 2.0 * (abs(plant.commissioned_year - unit["DateIn"]) <= 2)
            if pd.notna(plant.closure_year) and pd.notna(unit["DateOut"]):
                score += 2.0 * (abs(plant.closure_year - unit["DateOut"]) <= 1)
            if unit["Capacity"] > 0 and plant.capacity_mw > 0:
                score += max(-1.0, 1.0 - abs(math.log(unit["Capacity"] / plant.capacity_mw)))
            if score > best_score:
                best, best_score = plant.id, score
                best_basis = "+".join(b for b, on in (("near+fuel", near), ("name", named)) if on)
        if best is not None:
            i = int(np.flatnonzero(plants["id"].to_numpy() == best)[0])
            rows.append({"ppm_id": int(unit["id"]), "plant_id": best, "dist_km": dist[i, j], "basis": best_basis})
    return pd.DataFrame(rows, columns=["ppm_id", "plant_id", "dist_km", "basis"])


def _years(values: pd.Series) -> str:
    vals = sorted({int(v) for v in values.dropna()})
    return "/".join(str(v) for v in vals)


def _year(value) -> str:
    return "" if pd.isna(value) else str(int(value))


def _difference(plant: pd.Series, units: pd.DataFrame, mw: float) -> str:
    parts = []
    ratio = plant["capacity_mw"] / mw
    if abs(ratio - 1) * 100 > AGREE_PCT:
        parts.append(f"MW differ: ours {plant['capacity_mw']:.0f} vs ppm {mw:.0f} ({(ratio - 1) * 100:+.0f} %)")
    bad = sorted({f for f in units["Fueltype"] if not _same_fuel(plant["fuel"], f)})
    if bad:
        parts.append(f"fuel differs: ours {plant['fuel']} vs ppm {'/'.join(bad)}")
    ins = units["DateIn"].dropna()
    if pd.notna(plant["commissioned_year"]) and len(ins) and (abs(ins - plant["commissioned_year"]) > 2).all():
        parts.append(f"commissioned: ours {int(plant['commissioned_year'])} vs ppm {_years(ins)}")
    elif pd.isna(plant["commissioned_year"]) and len(ins):
        parts.append(f"commissioned: ours empty vs ppm {_years(ins)}")
    outs = units["DateOut"].dropna()
    closed = plant["status"] == "closed"
    if pd.notna(plant["closure_year"]) and len(outs) and (abs(outs - plant["closure_year"]) > 1).all():
        parts.append(f"closure: ours {int(plant['closure_year'])} vs ppm DateOut {_years(outs)}")
    elif pd.notna(plant["closure_year"]) and not len(outs):
        parts.append(f"closure: ours {int(plant['closure_year'])} vs ppm none")
    elif pd.isna(plant["closure_year"]) and len(outs):
        parts.append(f"closure: ours empty vs ppm DateOut {_years(outs)}")
    if closed and not len(outs):
        parts.append("status: ours closed, ppm lists it without DateOut")
    return "; ".join(parts) if parts else "agrees"


def crosscheck(plants: pd.DataFrame, ref: pd.DataFrame, offshore_ids: set[str] | None = None) -> pd.DataFrame:
    """The comparison table (``COLUMNS``): one row per plant, then unmatched units >= 100 MW."""
    pairs = match(plants, ref)
    by_id = ref.set_index("id")
    out = []
    for _, plant in plants.iterrows():
        sel = pairs[pairs["plant_id"] == plant["id"]]
        row = {
            "plant_id": plant["id"], "plant_name": plant["name"], "fuel": plant["fuel"], "status": plant["status"],
            "capacity_mw": f"{plant['capacity_mw']:g}", "commissioned_year": _year(plant["commissioned_year"]),
            "closure_year": _year(plant["closure_year"]),
        }
        if sel.empty:
            row.update(difference="no ppm unit matched", fuel_agrees="", match_basis="")
        else:
            units = by_id.loc[sel["ppm_id"]]
            mw = float(units["Capacity"].sum())
            row.update(
                ppm_ids=";".join(str(i) for i in sel["ppm_id"]),
                ppm_names=";".join(units["Name"].astype(str)),
                ppm_fueltypes=";".join(units["Fueltype"].astype(str)),
                ppm_mw=round(mw, 1),
                ppm_date_in=_years(units["DateIn"]), ppm_date_retrofit=_years(units["DateRetrofit"]),
                ppm_date_out=_years(units["DateOut"]),
                dist_km=round(float(sel["dist_km"].min()), 1),
                match_basis=";".join(sorted(set(sel["basis"]))),
                fuel_agrees="yes" if all(_same_fuel(plant["fuel"], f) for f in units["Fueltype"]) else "no",
                mw_ratio=round(plant["capacity_mw"] / mw, 3) if mw > 0 else "",
                difference=_difference(plant, units.reset_index(), mw),
            )
        row["action"] = ACTIONS.get(plant["id"], "")
        if not row["action"] and row["difference"] == "agrees":
            row["action"] = AGREES_TEXT
        out.append(row)
    rest = ref[~ref["id"].isin(set(pairs["ppm_id"])) & (ref["Capacity"] >= UNMATCHED_MIN_MW)]
    rest = rest.sort_values(["Capacity", "id"], ascending=[False, True])
    for _, unit in rest.iterrows():
        name = str(unit["Name"]).lower()
        off = next((v for k, v in OFFSHORE.items() if k in name), None)
        diff = "not in plants.csv"
        if int(unit["id"]) in ASSIGN:
            diff = f"not matched on purpose: {ASSIGN[int(unit['id'])][1]}"
        elif off is not None:
            diff = f"offshore wind farm: in offshore.csv as {off}" if off else "offshore wind farm, no offshore.csv row"
        out.append({
            "ppm_ids": str(int(unit["id"])), "ppm_names": unit["Name"], "ppm_fueltypes": unit["Fueltype"],
            "ppm_mw": round(float(unit["Capacity"]), 1), "ppm_date_in": _year(unit["DateIn"]),
            "ppm_date_retrofit": _year(unit["DateRetrofit"]), "ppm_date_out": _year(unit["DateOut"]),
            "difference": diff, "action": ACTIONS.get(f"ppm:{int(unit['id'])}", ""),
        })
    table = pd.DataFrame(out, columns=COLUMNS)
    if offshore_ids is not None:
        named = {i for cell in table["difference"] for i in re.findall(r"\bow-[a-z0-9-]+", cell)}
        unknown = sorted(named - offshore_ids)
        if unknown:
            raise SystemExit(f"OFFSHORE names offshore.csv ids that do not exist: {unknown}")
    return table


def build(reference: Path) -> str:
    plants = pd.read_csv(DATA / "plants.csv")
    offshore_ids = set(pd.read_csv(DATA / "offshore.csv")["id"])
    table = crosscheck(plants, load_reference(reference), offshore_ids)
    keys = set(table["plant_id"].dropna()) | {f"ppm:{i}" for i in table.loc[table["plant_id"].isna(), "ppm_ids"]}
    stale = sorted(set(ACTIONS) - keys)
    if stale:
        raise SystemExit(f"ACTIONS has entries for rows the table no longer has: {stale}")
    return table.to_csv(index=False, lineterminator="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", nargs="?", type=Path, default=DEFAULT_REFERENCE,
                        help="powerplantmatching powerplants.csv (default: %(default)s)")
    parser.add_argument("--check", action="store_true", help="exit 1 if the table on disk is out of date")
    args = parser.parse_args(argv)
    text = build(args.reference)
    if args.check:
        current = OUTPUT.read_text(encoding="utf-8") if OUTPUT.is_file() else ""
        if current != text:
            print(f"{OUTPUT.relative_to(REPO)} is out of date: run python scripts/crosscheck_plants.py", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(text, encoding="utf-8")
    n = text.count("\n") - 1
    print(f"wrote {OUTPUT.relative_to(REPO)} ({n} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
