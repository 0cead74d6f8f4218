"""Published grid capacity as a layer: the Netbeheer Nederland capacity map (capaciteitskaart),
and its comparison with the model's hosting capacity.

The Dutch grid operators publish their capacity map as the data product
``dp-capaciteitskaart`` of Netbeheer Nederland (NBNL), a JSON file in which each operator's
region holds a list of *energy areas* of two kinds:

- ``congestion_area``: a congestion (supply) area, with yearly rows of available, quoted and
  queued capacity [MW] for demand (afname) and generation (invoeding), the number of queued
  requests, the expected relief years, and the investment-plan works (project, status, dates);
- ``energy_area``: one station (TenneT: a 110/150/220 kV station; a regional operator: an HV/MV
  station) with the congestion areas it belongs to for demand and generation and a colour per
  direction (e.g. ``red``, ``yellow``, ``transparant``).

:func:`read_capacity_map` reads schema version 2.1 (TenneT's file of 2026-04-23 and the regional
operators' files use it) into a :class:`CapacityMap` of three plain tables. Without a path it
returns the copy shipped with the project (``data/nl/capacity_map*.csv``, derived from TenneT's
file by ``scripts/build_capacity_map.py``; provenance in ``data/SOURCES.md``, key E54).

:func:`compare_capacity` sets the published demand capacity of each area beside the model's
hosting capacity at the 380/220 kV stations that feed the area (the sourced table
``data/nl/capacity_map_ehv.csv``, key E55) and says where and why they disagree.

What the published figures are (TenneT's wording): the transport capacity that can be used for
new initiatives, per area of 110/150 kV stations, taking TenneT's HV transport limits into
account. They are area totals; the model's hosting capacity is the largest single added load at
one 380/220 kV bus. The two measure different things, so the comparison is a sanity check with
named reasons, not a validation.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from os import PathLike
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationError

from .errors import (
    CapacityMapError,
    CapacityMapFileError,
    CapacityMapSchemaError,
    CapacityMapWarning,
    ConfigError,
)

__all__ = [
    "SUPPORTED_SCHEMA_VERSIONS",
    "CONFORMS_TO",
    "CapacityMap",
    "read_capacity_map",
    "write_capacity_map",
    "read_ehv_map",
    "compare_capacity",
    "AREA_COLUMNS",
    "STATION_COLUMNS",
    "WORK_COLUMNS",
    "EHV_MAP_COLUMNS",
    "COMPARE_COLUMNS",
]

#: Schema versions (major.minor) of ``dp-capaciteitskaart`` this reader understands.
SUPPORTED_SCHEMA_VERSIONS: tuple[str, ...] = ("2.1",)
#: The data product the JSON's ``conforms_to`` must name.
CONFORMS_TO = "http://data.netbeheernederland.nl/data-product/dp-capaciteitskaart"

#: Long table of congestion areas × year, with pandas dtypes. An area that publishes no yearly
#: figures keeps one row with an empty ``year`` (so its relief years and link are not lost).
AREA_COLUMNS: dict[str, str] = {
    "area": "string",
    "year": "Int64",
    "demand_available_mw": "float64",
    "demand_quoted_mw": "float64",
    "demand_queued_mw": "float64",
    "demand_queued_requests": "Int64",
    "generation_available_mw": "float64",
    "generation_quoted_mw": "float64",
    "generation_queued_mw": "float64",
    "generation_queued_requests": "Int64",
    "demand_relief_year": "Int64",
    "generation_relief_year": "Int64",
    "congestion_url": "string",
}
#: One row per station (``energy_area`` item).
STATION_COLUMNS: dict[str, str] = {
    "station": "string",
    "name": "string",
    "kv": "Int64",
    "demand_area": "string",
    "generation_area": "string",
    "demand_colour": "string",
    "generation_colour": "string",
    "colour_year": "Int64",
    "demand_available_mw": "float64",
    "generation_available_mw": "float64",
}
#: One row per investment-plan work and time schedule.
WORK_COLUMNS: dict[str, str] = {
    "area": "string",
    "project": "string",
    "status": "string",
    "source": "string",
    "schedule_year": "Int64",
    "schedule_start": "string",
    "schedule_end": "string",
    "mentions_380_220": "boolean",
}
#: The area → EHV station mapping (``data/nl/capacity_map_ehv.csv``); only the first two are
#: required.
EHV_MAP_COLUMNS: dict[str, str] = {
    "area": "string",
    "ehv_station": "string",
    "share": "float64",
    "basis": "string",
    "confidence": "string",
    "source": "string",
}
#: Output of :func:`compare_capacity`.
COMPARE_COLUMNS: dict[str, str] = {
    "area": "string",
    "year": "Int64",
    "published": "boolean",
    "ehv_stations": "string",
    "ehv_buses": "string",
    "mapping_confidence": "string",
    "published_demand_available_mw": "float64",
    "published_demand_quoted_mw": "float64",
    "published_demand_queued_mw": "float64",
    "model_firm_mw": "float64",
    "model_firm_bus": "string",
    "model_firm_sum_mw": "float64",
    "model_with_redispatch_mw": "float64",
    "model_with_redispatch_sum_mw": "float64",
    "ratio_firm_to_available": "float64",
    "flag": "boolean",
    "direction": "string",
    "likely_reason": "string",
    "note": "string",
}

# JSON field of a capacity row -> our column, for both directions.
_CAPACITY_FIELDS = {
    "available_capacity": "available_mw",
    "quoted_capacity": "quoted_mw",
    "capacity_in_queue": "queued_mw",
    "requests_in_queue": "queued_requests",
}
_AREA_KINDS = ("congestion_area", "energy_area")
_KV_RE = re.compile(r"(?<![\d/])(380|220|150|110|50)(?:\s*kv)?(?![\d/])", re.IGNORECASE)
_EHV_RE = re.compile(r"(?<!\d)(380|220)(?!\d)")
_VERSION_RE = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?$")
_SUFFIX_RE = re.compile(r"-\d{2,3}$")
_MANIFEST = "capacity_map.toml"
_EHV_MAP = "capacity_map_ehv.csv"


@dataclass(frozen=True, eq=False)
class CapacityMap:
    """A published capacity map as three plain tables.

    Attributes
    ----------
    areas : DataFrame
        Long table, one row per congestion area and year (columns :data:`AREA_COLUMNS`):
        ``area``, ``year``, ``demand_available_mw``, ``demand_quoted_mw``,
        ``demand_queued_mw`` [MW], ``demand_queued_requests`` [count], the same four for
        ``generation_*``, the expected relief years ``demand_relief_year`` and
        ``generation_relief_year`` (empty = none stated) and ``congestion_url``. An area without
        yearly figures has one row with an empty ``year``. Empty = not published, never zero.
    stations : DataFrame
        One row per station (columns :data:`STATION_COLUMNS`): ``station`` (the published
        short code), ``name`` (without a leading "Station "), ``kv`` (parsed from the name where
        it states a voltage, else empty), ``demand_area``, ``generation_area``,
        ``demand_colour``, ``generation_colour`` (as published, e.g. red / yellow /
        transparant), ``colour_year``, and station-level available MW where the operator
        publishes it.
    works : DataFrame
        Investment-plan works (columns :data:`WORK_COLUMNS`), one row per work and time schedule:
        ``area``, ``project``, ``status``, ``source``, ``schedule_year`` or
        ``schedule_start``/``schedule_end`` (ISO dates), ``mentions_380_220`` (the project name
        names 380 or 220 kV).
    operator : str
        The publishing operator(s) (the region description, e.g. ``"TenneT"``).
    updated : datetime.date or None
        The latest ``updated`` date in the file.
    schema_version : str
        As stated in the file (e.g. ``"2.1.0"``).
    source : str
        Where the map was read from.
    """

    areas: pd.DataFrame
    stations: pd.DataFrame
    works: pd.DataFrame
    operator: str
    updated: date | None
    schema_version: str
    source: str = ""

    @property
    def area_names(self) -> list[str]:
        """All congestion areas, in file order (including those without yearly figures)."""
        return list(dict.fromkeys(self.areas["area"].tolist()))

    def year(self, year: int) -> pd.DataFrame:
        """The rows of :attr:`areas` for one year, indexed by area."""
        return self.areas[self.areas["year"] == int(year)].set_index("area")

    def __repr__(self) -> str:
        published = self.areas.dropna(subset=["year"])
        years = (f"{int(published['year'].min())}–{int(published['year'].max())}"
                 if len(published) else "none")
        return (f"CapacityMap(operator={self.operator!r}, updated={self.updated}, "
                f"schema_version={self.schema_version!r}, areas={len(self.area_names)} "
                f"({published['area'].nunique()} with yearly figures, years {years}), "
                f"stations={len(self.stations)}, works={len(self.works)})")


# --------------------------------------------------------------------------------------------
# reading the NBNL JSON


def _clean(text: Any) -> Any:
    """Strings with surrounding whitespace removed and inner runs collapsed to one space."""
    if isinstance(text, str):
        return " ".join(text.split())
    return text


def _where(*parts: str | int) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


class _Reader:
    """Walks one JSON document; every error names the file, the JSON key and the fix."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, message: str, key: str | None = None, fix: str | None = None) -> CapacityMapSchemaError:
        return CapacityMapSchemaError(message, path=self.path, key=key, fix=fix)

    def need(self, obj: dict, name: str, where: str, kind: type | tuple[type, ...], what: str) -> Any:
        if name not in obj:
            raise self.fail(
                f"required key '{name}' is missing (keys present: {', '.join(map(str, obj)) or 'none'})",
                key=where or None,
                fix=f"give {where + '.' if where else ''}{name} ({what}) as the NBNL dp-capaciteitskaart "
                    f"v2.1 schema requires; check that the file is a complete export",
            )
        return self.typed(obj[name], _where(where, name) if where else name, kind, what)

    def typed(self, value: Any, key: str, kind: type | tuple[type, ...], what: str) -> Any:
        if isinstance(value, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
            ok = False
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise self.fail(
                f"expected {what}, got {type(value).__name__} {_short(value)}",
                key=key,
                fix=f"write {key} as {what} (NBNL dp-capaciteitskaart v2.1)",
            )
        return value

    def number(self, value: Any, key: str) -> float:
        if value is None:
            return math.nan
        self.typed(value, key, (int, float), "a number [MW] or null")
        return float(value)

    def count(self, value: Any, key: str) -> Any:
        if value is None:
            return pd.NA
        v = self.typed(value, key, (int, float), "a whole number or null")
        if not float(v).is_integer() or v < 0:
            raise self.fail(f"expected a whole non-negative number, got {v!r}", key=key,
                            fix=f"write {key} as a count of requests")
        return int(v)

    def text(self, value: Any, key: str) -> str | None:
        """Optional text: whitespace-normalised, None when null or empty."""
        if value is None:
            return None
        return _clean(self.typed(value, key, str, "text or null")) or None

    def year(self, value: Any, key: str, optional: bool = True) -> Any:
        if value is None and optional:
            return pd.NA
        v = self.typed(value, key, int, "a year (integer)")
        if not 1900 <= v <= 2200:
            raise self.fail(f"year {v} is out of range", key=key, fix="write a calendar year such as 2026")
        return v


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _load_json(path: Path) -> Any:
    if not path.exists():
        raise CapacityMapFileError(
            "file does not exist",
            path=path,
            fix="give the path of a capacity-map JSON file (NBNL dp-capaciteitskaart v2.1, e.g. "
                "TenneT_20260423_v21_update.json), or call read_capacity_map() without a path for "
                "the shipped copy",
        )
    if not path.is_file():
        raise CapacityMapFileError("is not a file", path=path, fix="give the path of the JSON file itself")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CapacityMapFileError(
            f"is not UTF-8 text (byte {exc.start}); a capacity map is a JSON file",
            path=path,
            fix="give the .json file of the capacity map, not a spreadsheet or archive",
        ) from exc
    if not text.strip():
        raise CapacityMapFileError("is empty", path=path, fix="download the capacity-map JSON again")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()) - 1 or _unclosed(text):
            msg = (f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}) and ends with a "
                   f"string or brackets still open: the file looks truncated")
            fix = "download or copy the complete file again (it is cut off)"
        else:
            msg = f"is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
            fix = "give the capacity map as exported (JSON); do not edit it by hand"
        raise CapacityMapFileError(msg, path=path, fix=fix) from exc


def _unclosed(text: str) -> bool:
    """True when the text ends inside a string or with brackets still open (a cut-off file)."""
    depth, in_string, escape = 0, False, False
    for ch in text:
        if in_string:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth < 0:
                return False
    return in_string or depth > 0


def _check_version(r: _Reader, doc: dict) -> str:
    conforms = r.need(doc, "conforms_to", "", str, "the data-product URI")
    if _clean(conforms).rstrip("/").rsplit("/", 1)[-1] != CONFORMS_TO.rsplit("/", 1)[-1]:
        raise r.fail(
            f"conforms_to is {conforms!r}, not the capacity-map data product {CONFORMS_TO!r}",
            key="conforms_to",
            fix="give a capacity-map (capaciteitskaart) file of Netbeheer Nederland",
        )
    version = _clean(r.need(doc, "version", "", str, "a version string such as '2.1.0'"))
    m = _VERSION_RE.match(version)
    supported = ", ".join(SUPPORTED_SCHEMA_VERSIONS)
    if not m or f"{m.group(1)}.{m.group(2)}" not in SUPPORTED_SCHEMA_VERSIONS:
        raise r.fail(
            f"schema version {version!r} is not supported; supported: {supported} (any patch "
            f"level, e.g. 2.1.0)",
            key="version",
            fix=f"give a file in dp-capaciteitskaart version {supported} (the operators' downloads "
                f"of 2026 use 2.1.0), or convert it to that version",
        )
    return version


def _updated(r: _Reader, doc: dict) -> date | None:
    items = doc.get("updated")
    if items is None:
        return None
    r.typed(items, "updated", list, "a list of {type, date} objects")
    dates = []
    for i, item in enumerate(items):
        key = _where("updated", i)
        r.typed(item, key, dict, "an object with 'type' and 'date'")
        d = r.need(item, "date", key, str, "an ISO date (YYYY-MM-DD)")
        try:
            dates.append(date.fromisoformat(d.strip()[:10]))
        except ValueError as exc:
            raise r.fail(f"date {d!r} is not an ISO date", key=_where(key, "date"),
                         fix="write the date as YYYY-MM-DD") from exc
    return max(dates) if dates else None


def _capacity_rows(r: _Reader, item: dict, key: str, name: str) -> list[dict]:
    rows = item.get("area_capacity", [])
    ckey = _where(key, "area_capacity")
    if rows is None:
        return []
    if not isinstance(rows, list):
        raise r.fail(
            f"area {name!r}: yearly rows must be a list of objects, got {type(rows).__name__} {_short(rows)}",
            key=ckey,
            fix="write area_capacity as a list of {capacity_interval: {year: ...}, ...} objects "
                "(an empty list when nothing is published)",
        )
    out = []
    seen: set[int] = set()
    for j, row in enumerate(rows):
        rkey = _where(ckey, j)
        if not isinstance(row, dict):
            raise r.fail(
                f"area {name!r}: yearly row {j} must be an object, got {type(row).__name__} {_short(row)}",
                key=rkey,
                fix="write each area_capacity item as an object with capacity_interval.year and the "
                    "capacity fields",
            )
        interval = r.need(row, "capacity_interval", rkey, dict, "an object with 'year'")
        year = r.year(r.need(interval, "year", _where(rkey, "capacity_interval"), int, "a year (integer)"),
                      _where(rkey, "capacity_interval", "year"), optional=False)
        if year in seen:
            raise r.fail(f"area {name!r}: year {year} appears twice", key=rkey,
                         fix="give one area_capacity row per year")
        seen.add(year)
        out.append({"year": year, "row": row, "key": rkey})
    return out


def _figures(r: _Reader, row: dict, key: str) -> dict:
    out = {}
    for side in ("demand", "generation"):
        for field, col in _CAPACITY_FIELDS.items():
            name = f"{side}_{field}"
            value = row.get(name)
            fkey = _where(key, name)
            out[f"{side}_{col}"] = r.count(value, fkey) if col == "queued_requests" else r.number(value, fkey)
    return out


def _parse_kv(name: str) -> Any:
    found = [int(m.group(1)) for m in _KV_RE.finditer(name)]
    return max(found) if found else pd.NA


def _missing(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _frame(records: list[dict], columns: dict[str, str]) -> pd.DataFrame:
    """Records → DataFrame with exactly `columns` and their dtypes (missing keys → NA)."""
    data = {}
    for col, dtype in columns.items():
        values = [r.get(col) for r in records]
        if dtype == "float64":
            data[col] = pd.array([math.nan if _missing(v) else float(v) for v in values], dtype="float64")
        else:
            data[col] = pd.array([None if _missing(v) else v for v in values], dtype=dtype)
    return pd.DataFrame(data, index=pd.RangeIndex(len(records)))


def _read_json(path: Path) -> CapacityMap:
    doc = _load_json(path)
    r = _Reader(path)
    r.typed(doc, "(top level)", dict, "a JSON object")
    version = _check_version(r, doc)
    updated = _updated(r, doc)
    geo = r.need(doc, "geographical_regions", "", list, "a list of geographical regions")
    if not geo:
        raise r.fail("the list is empty", key="geographical_regions",
                     fix="give a file with at least one region and its energy_areas")

    operators: list[str] = []
    area_recs: list[dict] = []
    station_recs: list[dict] = []
    work_recs: list[dict] = []
    area_where: dict[str, str] = {}
    station_where: dict[str, str] = {}
    for g, geo_item in enumerate(geo):
        gkey = _where("geographical_regions", g)
        r.typed(geo_item, gkey, dict, "an object with 'regions'")
        regions = r.need(geo_item, "regions", gkey, list, "a list of regions")
        for k, region in enumerate(regions):
            rkey = _where(gkey, "regions", k)
            r.typed(region, rkey, dict, "an object with 'energy_areas'")
            op = (r.text(region.get("description"), _where(rkey, "description"))
                  or r.text(doc.get("contact_point"), "contact_point") or "")
            if op and op not in operators:
                operators.append(op)
            items = r.need(region, "energy_areas", rkey, list, "a list of energy areas")
            for i, item in enumerate(items):
                key = _where(rkey, "energy_areas", i)
                r.typed(item, key, dict, "an energy-area object")
                name = _clean(r.need(item, "short_code", key, str, "the area's name (short_code)"))
                if not name:
                    raise r.fail("short_code is empty", key=_where(key, "short_code"),
                                 fix="give every energy area a name")
                kind = _clean(r.need(item, "type", key, str, "'congestion_area' or 'energy_area'"))
                if kind not in _AREA_KINDS:
                    raise r.fail(
                        f"energy area {name!r} has type {kind!r}; allowed: {', '.join(_AREA_KINDS)}",
                        key=_where(key, "type"),
                        fix="use one of the schema's EnergyAreaKind values",
                    )
                rows = _capacity_rows(r, item, key, name)
                if kind == "congestion_area":
                    if name in area_where:
                        raise r.fail(f"congestion area {name!r} appears twice (also at {area_where[name]})",
                                     key=key, fix="give each congestion area once")
                    area_where[name] = key
                    base = {
                        "area": name,
                        "demand_relief_year": r.year(item.get("demand_alleviation_year"),
                                                     _where(key, "demand_alleviation_year")),
                        "generation_relief_year": r.year(item.get("generation_alleviation_year"),
                                                         _where(key, "generation_alleviation_year")),
                        "congestion_url": r.text(item.get("congestion_url"), _where(key, "congestion_url")),
                    }
                    if rows:
                        for row in sorted(rows, key=lambda x: x["year"]):
                            area_recs.append({**base, "year": row["year"], **_figures(r, row["row"], row["key"])})
                    else:
                        area_recs.append({**base, "year": pd.NA})
                    work_recs.extend(_works(r, item, key, name))
                else:
                    if name in station_where:
                        raise r.fail(f"station {name!r} appears twice (also at {station_where[name]})",
                                     key=key, fix="give each station once")
                    station_where[name] = key
                    station_recs.append(_station(r, item, key, name, rows))

    areas = _frame(area_recs, AREA_COLUMNS)
    stations = _frame(station_recs, STATION_COLUMNS)
    works = _frame(work_recs, WORK_COLUMNS)
    known = set(area_where)
    unknown = sorted({a for col in ("demand_area", "generation_area") for a in stations[col].dropna()} - known)
    if unknown:
        warnings.warn(
            f"capacity map '{path}': stations name area(s) not defined as congestion areas in the "
            f"file: {', '.join(unknown)}; those stations keep the name, with no figures",
            CapacityMapWarning,
            stacklevel=3,
        )
    return CapacityMap(
        areas=areas,
        stations=stations,
        works=works,
        operator="; ".join(operators),
        updated=updated,
        schema_version=version,
        source=str(path),
    )


def _station(r: _Reader, item: dict, key: str, name: str, rows: list[dict]) -> dict:
    rec: dict[str, Any] = {
        "station": name,
        "name": re.sub(r"^station\s+", "", name, flags=re.IGNORECASE),
        "kv": _parse_kv(name),
    }
    for side in ("demand", "generation"):
        rec[f"{side}_area"] = r.text(item.get(f"{side}_energy_area_short_code"),
                                     _where(key, f"{side}_energy_area_short_code"))
    if rows:
        last = max(rows, key=lambda x: x["year"])
        row, rkey = last["row"], last["key"]
        rec["colour_year"] = last["year"]
        for side in ("demand", "generation"):
            colour = r.text(row.get(f"{side}_constraint"), _where(rkey, f"{side}_constraint"))
            rec[f"{side}_colour"] = colour.lower() if colour else None
            rec[f"{side}_available_mw"] = r.number(row.get(f"{side}_available_capacity"),
                                                   _where(rkey, f"{side}_available_capacity"))
    return rec


def _works(r: _Reader, item: dict, key: str, area: str) -> list[dict]:
    works = item.get("works") or []
    wkey = _where(key, "works")
    r.typed(works, wkey, list, "a list of works")
    out = []
    for w, work in enumerate(works):
        k = _where(wkey, w)
        r.typed(work, k, dict, "a work object")
        project = _clean(r.need(work, "project_name", k, str, "the project name"))
        base = {
            "area": area,
            "project": project,
            "status": r.text(work.get("status_kind"), _where(k, "status_kind")),
            "source": r.text(work.get("source"), _where(k, "source")),
            "mentions_380_220": bool(_EHV_RE.search(project)),
        }
        schedules = work.get("time_schedules") or []
        r.typed(schedules, _where(k, "time_schedules"), list, "a list of time schedules")
        if not schedules:
            out.append({**base, "schedule_year": pd.NA})
        for s, sched in enumerate(schedules):
            skey = _where(k, "time_schedules", s)
            r.typed(sched, skey, dict, "an object with 'schedule_interval'")
            interval = r.need(sched, "schedule_interval", skey, dict, "an object with year or start/end")
            ikey = _where(skey, "schedule_interval")
            rec = {**base, "schedule_year": r.year(interval.get("year"), _where(ikey, "year"))}
            for end in ("start", "end"):
                v = interval.get(end)
                if v is not None:
                    r.typed(v, _where(ikey, end), str, "an ISO date (YYYY-MM-DD)")
                    try:
                        v = date.fromisoformat(v.strip()[:10]).isoformat()
                    except ValueError as exc:
                        raise r.fail(f"{v!r} is not an ISO date", key=_where(ikey, end),
                                     fix="write dates as YYYY-MM-DD") from exc
                rec[f"schedule_{end}"] = v
            out.append(rec)
    return out


# --------------------------------------------------------------------------------------------
# the derived copy (CSV tables + a small TOML manifest)


class _Manifest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    conforms_to: str
    schema_version: str
    operator: str
    updated: date | None = None
    source: str
    areas: str
    stations: str
    works: str


def _read_csv(path: Path, columns: dict[str, str], what: str) -> pd.DataFrame:
    if not path.is_file():
        raise CapacityMapFileError(f"the {what} table is missing", path=path,
                                   fix="rebuild the derived copy with scripts/build_capacity_map.py")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise CapacityMapSchemaError(
            f"the {what} table lacks column(s) {', '.join(missing)} (has: {', '.join(df.columns)})",
            path=path, fix="rebuild the derived copy with scripts/build_capacity_map.py")
    df = df[list(columns)]
    for col, dtype in columns.items():
        try:
            if dtype == "boolean":
                df[col] = df[col].str.lower().map({"true": True, "false": False}).astype("boolean")
            elif dtype == "Int64":
                df[col] = pd.to_numeric(df[col]).astype("Int64")
            elif dtype == "float64":
                df[col] = pd.to_numeric(df[col]).astype("float64")
            else:
                df[col] = df[col].astype("string")
        except (ValueError, TypeError) as exc:
            raise CapacityMapSchemaError(f"column '{col}' does not hold {dtype} values: {exc}", path=path,
                                         fix="rebuild the derived copy with scripts/build_capacity_map.py") from exc
    return df


def _read_manifest(path: Path) -> CapacityMap:
    from ._config import read_toml_model

    try:
        manifest = read_toml_model(path, _Manifest, "capacity-map manifest")
    except ConfigError as exc:
        raise CapacityMapFileError(str(exc), path=path,
                                   fix="rebuild the derived copy with scripts/build_capacity_map.py") from exc
    r = _Reader(path)
    _check_version(r, {"conforms_to": manifest.conforms_to, "version": manifest.schema_version})
    folder = path.parent
    return CapacityMap(
        areas=_read_csv(folder / manifest.areas, AREA_COLUMNS, "areas"),
        stations=_read_csv(folder / manifest.stations, STATION_COLUMNS, "stations"),
        works=_read_csv(folder / manifest.works, WORK_COLUMNS, "works"),
        operator=manifest.operator,
        updated=manifest.updated,
        schema_version=manifest.schema_version,
        source=f"{manifest.source} (derived copy {path})",
    )


def _embedded(name: str) -> Path:
    from .layers import embedded_data_dir

    return embedded_data_dir() / "nl" / name


def read_capacity_map(path: str | PathLike[str] | None = None) -> CapacityMap:
    """Read a published capacity map (Netbeheer Nederland ``dp-capaciteitskaart``, schema 2.1).

    Parameters
    ----------
    path : str or path-like, optional
        The capacity-map JSON as published by TenneT or a regional operator, or the TOML
        manifest of a derived copy written by :func:`write_capacity_map`. Default: the copy
        shipped with the project (TenneT, 2026-04-23; ``data/nl/capacity_map.toml``).

    Returns
    -------
    CapacityMap
        ``areas`` (long: area × year, MW and request counts, relief years), ``stations``,
        ``works``, plus ``operator``, ``updated`` and ``schema_version``.

    Raises
    ------
    CapacityMapFileError
        The file is missing, not UTF-8, not JSON, or truncated.
    CapacityMapSchemaError
        Another data product or schema version (supported: :data:`SUPPORTED_SCHEMA_VERSIONS`),
        a required key missing (``conforms_to``, ``version``, ``geographical_regions``,
        ``regions``, ``energy_areas``, ``short_code``, ``type``, ``capacity_interval.year``), or
        a value of the wrong type (e.g. an area's ``area_capacity`` that is not a list of
        objects, or a capacity that is text instead of a number).

    Notes
    -----
    The structure is read generally: every region of every geographical region, every
    ``energy_areas`` item by its ``type`` (``congestion_area`` → :attr:`CapacityMap.areas` and
    :attr:`CapacityMap.works`; ``energy_area`` → :attr:`CapacityMap.stations`). Names are
    whitespace-normalised (TenneT's file has ``"Groningen Oost "``). Fields this reader does not
    use (e.g. regional operators' ``postcode_areas``) are ignored. Null means *not published* and
    stays empty, never zero. A station naming an area the file does not define gives a
    :class:`~siting.errors.CapacityMapWarning`.

    Examples
    --------
    >>> cmap = read_capacity_map()
    >>> cmap.operator, str(cmap.updated), cmap.schema_version
    ('TenneT', '2026-04-23', '2.1.0')
    >>> float(cmap.year(2026).loc["Noord-Holland", "demand_available_mw"])
    4140.0
    """
    if path is None:
        return _read_manifest(_embedded(_MANIFEST))
    from ._validate import path as _path

    p = _path(path, "path", what="capacity-map JSON file")
    if p.suffix.lower() == ".toml":
        if not p.is_file():
            raise CapacityMapFileError("file does not exist", path=p,
                                       fix="give the path of a capacity-map manifest or JSON file")
        return _read_manifest(p)
    return _read_json(p)


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    out = df.copy()
    for col in out.columns:
        if str(out[col].dtype) == "boolean":
            out[col] = out[col].map({True: "true", False: "false"}, na_action="ignore")
    text = out.to_csv(index=False, float_format="%.10g", lineterminator="\n")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def write_capacity_map(cmap: CapacityMap, folder: str | PathLike[str], source: str,
                       prefix: str = "capacity_map") -> list[Path]:
    """Write `cmap` as a derived copy: ``<prefix>_areas.csv``, ``<prefix>_stations.csv``,
    ``<prefix>_works.csv`` and the manifest ``<prefix>.toml`` in `folder` (read back with
    ``read_capacity_map(folder / "<prefix>.toml")``). `source` says where the map came from.
    Byte-for-byte deterministic; files are replaced atomically. Returns the paths written."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    names = {t: f"{prefix}_{t}.csv" for t in ("areas", "stations", "works")}
    paths = []
    for table, name in names.items():
        _write_csv(getattr(cmap, table), folder / name)
        paths.append(folder / name)

    def q(s: str) -> str:
        return json.dumps(s, ensure_ascii=False)

    lines = [
        "# Derived copy of a published capacity map (Netbeheer Nederland dp-capaciteitskaart),",
        "# written by scripts/build_capacity_map.py via siting.capacity_map.write_capacity_map.",
        "# Read it with siting.read_capacity_map(); provenance in data/SOURCES.md.",
        f"conforms_to = {q(CONFORMS_TO)}",
        f"schema_version = {q(cmap.schema_version)}",
        f"operator = {q(cmap.operator)}",
    ]
    if cmap.updated is not None:
        lines.append(f"updated = {cmap.updated.isoformat()}")
    lines += [f"source = {q(source)}"] + [f"{t} = {q(n)}" for t, n in names.items()]
    manifest = folder / f"{prefix}.toml"
    tmp = manifest.with_name(manifest.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(manifest)
    return [manifest, *paths]


# --------------------------------------------------------------------------------------------
# area -> EHV station mapping


def read_ehv_map(path: str | PathLike[str] | None = None) -> pd.DataFrame:
    """The area → EHV station mapping: which 380/220 kV stations of the model feed each
    congestion area of the capacity map.

    Parameters
    ----------
    path : str or path-like, optional
        A CSV with columns ``area`` (as in the map) and ``ehv_station`` (a ``station`` slug of
        the substations layer, empty where the area is fed by no EHV station of the model), and
        optionally ``share``, ``basis``, ``confidence`` (high / medium / low), ``source``.
        Default: ``data/nl/capacity_map_ehv.csv`` (for TenneT's map of 2026-04-23; key E55).

    Returns
    -------
    DataFrame
        Columns :data:`EHV_MAP_COLUMNS` (optional ones empty when not given).
    """
    p = _embedded(_EHV_MAP) if path is None else Path(path)
    if not p.is_file():
        raise CapacityMapFileError("the area → EHV station table does not exist", path=p,
                                   fix="give a CSV with columns area, ehv_station (see data/nl/capacity_map_ehv.csv)")
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CapacityMapFileError(f"is not a readable CSV: {exc}", path=p,
                                   fix="save the table as UTF-8 CSV with a header row") from exc
    return _check_ehv_map(df, str(p))


def _check_ehv_map(df: pd.DataFrame, where: str = "ehv_map") -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise ConfigError(f"ehv_map must be a DataFrame, got {type(df).__name__}. "
                          f"Fix: pass read_ehv_map(path) or a DataFrame with columns area, ehv_station.")
    missing = [c for c in ("area", "ehv_station") if c not in df.columns]
    if missing:
        raise CapacityMapSchemaError(
            f"the area → EHV station table lacks column(s) {', '.join(missing)} (has: {', '.join(map(str, df.columns))})",
            path=where if where != "ehv_map" else None,
            fix="give columns area (as in the capacity map) and ehv_station (a station slug, or empty)")
    records: list[dict] = [{} for _ in range(len(df))]
    for col, dtype in EHV_MAP_COLUMNS.items():
        values = df[col].tolist() if col in df.columns else [None] * len(df)
        for rec, v in zip(records, values):
            if dtype == "float64":
                try:
                    rec[col] = math.nan if _missing(v) or v == "" else float(v)
                except (ValueError, TypeError) as exc:
                    raise CapacityMapSchemaError(
                        f"column 'share' must be numbers, got {v!r}", path=where if where != "ehv_map" else None,
                        fix="write share as a number between 0 and 1, or leave it empty") from exc
            else:
                text = _clean(str(v)) if not _missing(v) else ""
                rec[col] = (text.lower() if col == "ehv_station" else text) or None
    out = _frame(records, EHV_MAP_COLUMNS)
    if out["area"].isna().any():
        raise CapacityMapSchemaError("a row has no area", path=where if where != "ehv_map" else None,
                                     fix="name the capacity-map area on every row")
    dup = out.dropna(subset=["ehv_station"]).duplicated(["area", "ehv_station"])
    if dup.any():
        first = out.dropna(subset=["ehv_station"])[dup].iloc[0]
        raise CapacityMapSchemaError(f"area {first['area']!r} lists station {first['ehv_station']!r} twice",
                                     path=where if where != "ehv_map" else None, fix="list each station once per area")
    bad = sorted(set(out["confidence"].dropna()) - {"high", "medium", "low"})
    if bad:
        raise CapacityMapSchemaError(f"confidence values {bad} are not high / medium / low",
                                     path=where if where != "ehv_map" else None, fix="use high, medium or low")
    return out


# --------------------------------------------------------------------------------------------
# comparison with the model's hosting capacity


def _check_hosting(hosting: pd.DataFrame, bus_station: Mapping[str, str] | pd.Series | None) -> pd.DataFrame:
    if not isinstance(hosting, pd.DataFrame):
        raise ConfigError(f"hosting must be a DataFrame indexed by bus id, got {type(hosting).__name__}. "
                          f"Fix: pass the model's hosting table (columns firm_mw, with_redispatch_mw).")
    cols = [c for c in ("firm_mw", "with_redispatch_mw") if c in hosting.columns]
    if not cols:
        hint = " (rename hosting_mw to firm_mw)" if "hosting_mw" in hosting.columns else ""
        raise ConfigError(
            f"hosting has neither 'firm_mw' nor 'with_redispatch_mw' (columns: "
            f"{', '.join(map(str, hosting.columns)) or 'none'}). Fix: give the hosting capacity per bus "
            f"[MW] in firm_mw and/or with_redispatch_mw{hint}.")
    dup = hosting.index.astype(str).duplicated()
    if dup.any():
        raise ConfigError(f"hosting has duplicate bus ids, e.g. {hosting.index[dup][0]!r}. Fix: give one row per bus.")
    h = pd.DataFrame(index=hosting.index.astype(str))
    for c in ("firm_mw", "with_redispatch_mw"):
        try:
            h[c] = pd.to_numeric(hosting[c]).to_numpy(dtype=float) if c in hosting.columns else math.nan
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"hosting column '{c}' must be numbers [MW]: {exc}. Fix: convert it to float "
                              f"(NaN where unknown).") from exc
    if "limiting_element" in hosting.columns:
        h["limiting_element"] = hosting["limiting_element"].astype("string").to_numpy()
    for col in ("limiting_case", "constraint"):
        if col in hosting.columns:
            h[col] = hosting[col].astype("string").to_numpy()
    given = {str(k): v for k, v in bus_station.items()} if bus_station is not None else {}
    own = hosting["station"].astype("string").to_numpy() if "station" in hosting.columns else [None] * len(h)
    stations = []
    for bus, st in zip(h.index, own):
        s = given.get(bus)
        if s is None or (isinstance(s, float) and math.isnan(s)):
            s = st if isinstance(st, str) and st else _SUFFIX_RE.sub("", bus)
        stations.append(str(s).strip().lower())
    h["station"] = stations
    return h


def _ratio(model_mw: float, published_mw: float) -> float:
    """model / published; inf when nothing is published available but the model has room."""
    if math.isnan(model_mw) or math.isnan(published_mw):
        return math.nan
    if published_mw > 0:
        return model_mw / published_mw
    return math.inf if model_mw > 0 else math.nan


def _fmt_mw(x: float) -> str:
    return f"{x:,.0f}"


def compare_capacity(
    cmap: CapacityMap,
    hosting: pd.DataFrame,
    year: int,
    ehv_map: pd.DataFrame | None = None,
    bus_station: Mapping[str, str] | pd.Series | None = None,
) -> pd.DataFrame:
    """Set the published demand capacity of each area beside the model's hosting capacity at
    the EHV stations that feed it.

    Parameters
    ----------
    cmap : CapacityMap
        The published map (:func:`read_capacity_map`).
    hosting : DataFrame
        Indexed by bus id (e.g. ``diemen-380``), with ``firm_mw`` and/or ``with_redispatch_mw``
        [MW] (NaN where unknown); optionally ``station`` (the station slug of each bus),
        ``limiting_element``, ``limiting_case`` and ``constraint`` (``"cap"`` = the value is the
        search cap, i.e. *at least*), as :meth:`GridModel.hosting_capacity` gives them.
    year : int
        Year of the published figures to compare (the map has 2026 onwards).
    ehv_map : DataFrame, optional
        The area → EHV station mapping (:func:`read_ehv_map`); default the shipped table.
    bus_station : dict or Series, optional
        Bus id → station slug, for buses whose station is neither in ``hosting["station"]`` nor
        the bus id without its voltage suffix (``diemen-380`` → ``diemen``). Takes precedence.

    Returns
    -------
    DataFrame
        One row per area of the map, in file order (columns :data:`COMPARE_COLUMNS`):
        ``area``, ``year``, ``published`` (a demand figure exists for `year`), ``ehv_stations``
        and ``ehv_buses`` (comma lists; buses = those of the mapped stations found in
        `hosting`), ``mapping_confidence`` (lowest of the area's mapping rows),
        ``published_demand_available_mw``, ``published_demand_quoted_mw``,
        ``published_demand_queued_mw`` [MW], ``model_firm_mw`` (largest single-bus firm hosting
        among the area's buses) and ``model_firm_bus``, ``model_firm_sum_mw`` (sum over the
        area's stations of each station's largest bus), ``model_with_redispatch_mw`` and
        ``model_with_redispatch_sum_mw`` likewise, ``ratio_firm_to_available``
        (``model_firm_mw / published_demand_available_mw``), ``flag`` (they disagree by more
        than a factor 2), ``direction`` (``model_higher`` / ``model_lower`` / ``within_2x`` /
        ``not_comparable``), ``likely_reason`` and ``note``.

    Notes
    -----
    *What is compared.* The published figure is a total per area of 110/150 kV stations of the
    capacity available for new demand, within TenneT's HV transport limits. The model's hosting
    capacity is the largest **single point load** at **one** 380/220 kV bus that the grid takes
    without violation (firm: base case and N-1; with redispatch: after remedial actions). So the
    headline model figure is the largest single-bus hosting among the area's EHV buses; the sum
    is given as a second column only as an upper bound (loads at several buses share
    constraints and are not additive). The sum takes one value per station, its largest bus:
    a station's 380 and 220 kV buses share its transformers. A factor of 2 either way is within
    what the two definitions can explain; beyond that the row is flagged. ``share`` in the
    mapping is informative only and not used as a weight.

    *Rules for* ``likely_reason`` (first that applies; reasons can be combined with "; "):

    1. No published demand figure for `year` → ``not comparable``, saying whether the area
       publishes generation figures only or none at all.
    2. The area is missing from the mapping, maps to no EHV station of the model (the mapping's
       ``basis`` is quoted), or none of its stations is in `hosting` → ``not comparable``.
    3. No model figure at the area's buses (NaN) → ``not comparable``.
    4. ``model_higher`` (ratio > 2): the published figure includes 110/150 kV transport and
       transformer limits the model (380/220 kV only) does not have; and, when quoted + queued
       ≥ available, that the published room is already claimed by quoted and queued requests,
       which the model does not know.
    5. ``model_lower`` (ratio < 0.5): first, when `hosting` names a ``limiting_element`` that
       involves none of the area's EHV stations, that the model's figure is set by a constraint
       elsewhere in the scenario's grid, not by the area's own feed (with redispatch it may
       lift); then that the model's circuit and transformer ratings are indicative and its
       figure is one point load at one bus while the published figure is a total over the
       area's N stations; when the sum over the area's EHV stations is within a factor 2 of the
       published figure, that the area total spreads over several feeding stations; else the
       limiting element (and ``limiting_case``) where `hosting` names them.
    6. Otherwise ``within a factor 2``.

    ``note`` adds: a low-confidence mapping, mapped stations not in `hosting`, a model value at
    the search cap (a lower bound), and a ratio taken on the with-redispatch figure where the
    firm one is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> hosting = pd.DataFrame({"firm_mw": [2500.0, 900.0], "with_redispatch_mw": [2800.0, 1100.0]},
    ...                        index=["diemen-380", "oostzaan-380"])
    >>> out = compare_capacity(read_capacity_map(), hosting, 2026).set_index("area")
    >>> row = out.loc["Noord-Holland"]
    >>> row["model_firm_bus"], float(row["model_firm_mw"]), float(row["model_firm_sum_mw"]), row["direction"]
    ('diemen-380', 2500.0, 3400.0, 'within_2x')
    """
    if not isinstance(cmap, CapacityMap):
        raise ConfigError(f"cmap must be a CapacityMap, got {type(cmap).__name__}. Fix: pass read_capacity_map(...).")
    try:
        if isinstance(year, bool) or float(year) != int(year):
            raise ValueError
        year = int(year)
    except (TypeError, ValueError):
        raise ConfigError(f"year must be an integer such as 2026, got {year!r}.") from None
    h = _check_hosting(hosting, bus_station)
    emap = read_ehv_map() if ehv_map is None else _check_ehv_map(ehv_map)

    figures: dict[str, dict[int, dict]] = {}
    for rec in cmap.areas.dropna(subset=["year"]).to_dict("records"):
        figures.setdefault(rec["area"], {})[int(rec["year"])] = rec
    mapping: dict[str, list[dict]] = {}
    for rec in emap.to_dict("records"):
        mapping.setdefault(rec["area"], []).append(rec)
    buses_of: dict[str, list[dict]] = {}
    for bus, rec in zip(h.index, h.to_dict("records")):
        rec["bus"] = bus
        buses_of.setdefault(rec["station"], []).append(rec)
    n_stations = cmap.stations["demand_area"].value_counts().to_dict()
    rows = [_compare_area(area, year, figures.get(area, {}), mapping.get(area), buses_of,
                          int(n_stations.get(area, 0)))
            for area in cmap.area_names]
    return _frame(rows, COMPARE_COLUMNS)


def _num(x: Any) -> float:
    return float(x) if x is not None and pd.notna(x) else math.nan


def _str(x: Any) -> str:
    return str(x).strip() if x is not None and pd.notna(x) else ""


_RANK = {"low": 0, "medium": 1, "high": 2}


def _best(found: list[dict], col: str) -> tuple[float, str | None]:
    """Largest value of `col` among `found` buses, and its bus (first on ties)."""
    best, bus = math.nan, None
    for b in found:
        v = b[col]
        if not math.isnan(v) and (bus is None or v > best):
            best, bus = v, b["bus"]
    return best, bus


def _station_sum(stations: list[str], buses_of: dict[str, list[dict]], col: str) -> float:
    """Sum over stations of each station's largest bus value (NaN when none is known)."""
    total, any_known = 0.0, False
    for s in stations:
        vals = [b[col] for b in buses_of.get(s, []) if not math.isnan(b[col])]
        if vals:
            total += max(vals)
            any_known = True
    return total if any_known else math.nan


def _compare_area(area: str, year: int, years: dict[int, dict], mrows: list[dict] | None,
                  buses_of: dict[str, list[dict]], n_stations: int) -> dict[str, Any]:
    """One row of :func:`compare_capacity` (the rules are documented there)."""
    rec: dict[str, Any] = {"area": area, "year": year}
    notes: list[str] = []
    fig = years.get(year)
    avail = _num(fig["demand_available_mw"]) if fig else math.nan
    quoted = _num(fig["demand_quoted_mw"]) if fig else math.nan
    queued = _num(fig["demand_queued_mw"]) if fig else math.nan
    rec.update(published=not math.isnan(avail), published_demand_available_mw=avail,
               published_demand_quoted_mw=quoted, published_demand_queued_mw=queued)

    mrows = mrows or []
    stations = list(dict.fromkeys(_str(m["ehv_station"]) for m in mrows if _str(m["ehv_station"])))
    conf = [_str(m["confidence"]) for m in mrows if _str(m["confidence"]) in _RANK]
    rec["mapping_confidence"] = min(conf, key=_RANK.get) if conf else None
    rec["ehv_stations"] = ", ".join(stations) or None
    found = [b for s in stations for b in buses_of.get(s, [])]
    absent = [s for s in stations if s not in buses_of]
    rec["ehv_buses"] = ", ".join(b["bus"] for b in found) or None

    firm_best, firm_bus = _best(found, "firm_mw")
    red_best, red_bus = _best(found, "with_redispatch_mw")
    rec.update(
        model_firm_mw=firm_best,
        model_firm_bus=firm_bus,
        model_firm_sum_mw=_station_sum(stations, buses_of, "firm_mw"),
        model_with_redispatch_mw=red_best,
        model_with_redispatch_sum_mw=_station_sum(stations, buses_of, "with_redispatch_mw"),
        ratio_firm_to_available=_ratio(firm_best, avail),
    )

    reason = None
    if not rec["published"]:
        if not years:
            reason = "not comparable: the area publishes no yearly figures"
        elif fig is None:
            reason = (f"not comparable: no published figures for {year} "
                      f"(published years {min(years)}–{max(years)})")
        elif not math.isnan(_num(fig["generation_available_mw"])):
            reason = f"not comparable: the area publishes generation (feed-in) figures only for {year}"
        else:
            reason = f"not comparable: no published demand figure for {year}"
    if reason is None and not mrows:
        reason = ("not comparable: the area is not in the area → EHV station table "
                  "(add a row to data/nl/capacity_map_ehv.csv or the ehv_map given)")
    if reason is None and not stations:
        basis = [_str(m["basis"]) for m in mrows if _str(m["basis"])]
        reason = "not comparable: the area is fed by no EHV station of the model" + (
            f" ({basis[0]})" if basis else "")
    if reason is None and not found:
        reason = f"not comparable: mapped EHV station(s) {', '.join(stations)} not in the hosting table"
    if absent and found:
        notes.append(f"mapped station(s) {', '.join(absent)} not in the hosting table")
    ratio = rec["ratio_firm_to_available"]
    basis_name = "firm"
    if reason is None and math.isnan(firm_best):
        if math.isnan(red_best):
            reason = f"not comparable: no model hosting figure at {rec['ehv_buses']}"
        else:
            ratio = _ratio(red_best, avail)
            basis_name = "with_redispatch"
            notes.append("no firm figure: flag and direction use the with-redispatch hosting")

    if reason is not None:
        direction = "not_comparable"
    elif ratio > 2:
        direction = "model_higher"
        parts = ["published figure includes 110/150 kV transport and transformer limits that the model "
                 "(380/220 kV only) does not have"]
        claimed = (0 if math.isnan(quoted) else quoted) + (0 if math.isnan(queued) else queued)
        if claimed >= avail:
            parts.append(f"the published room is already claimed by quoted and queued requests "
                         f"(quoted + queued = {_fmt_mw(claimed)} MW vs available {_fmt_mw(avail)} MW), "
                         f"which the model does not know")
        reason = "; ".join(parts)
    elif ratio < 0.5:
        direction = "model_lower"
        parts = []
        bus = firm_bus if basis_name == "firm" else red_bus
        limit = next(b for b in found if b["bus"] == bus)
        element, outage = _str(limit.get("limiting_element")), _str(limit.get("limiting_case"))
        where = f"{element}{f', {outage}' if outage else ''}"
        outside = element and not any(re.search(rf"(?<![a-z]){re.escape(s)}(?![a-z])", element) for s in stations)
        if outside:
            parts.append(f"the limit at {bus} is outside the area ({where}): the model's figure is set by a "
                         f"constraint elsewhere in the scenario's grid, not by the area's own feed"
                         + (" (with redispatch this may lift; no with-redispatch figure given)"
                            if math.isnan(red_best) else ""))
        parts.append("the model's circuit and transformer ratings are indicative and its figure is one point "
                     "load at one bus, while the published figure is an area total"
                     + (f" over {n_stations} 110/150 kV stations" if n_stations else ""))
        total = rec["model_firm_sum_mw"] if basis_name == "firm" else rec["model_with_redispatch_sum_mw"]
        if not math.isnan(total) and avail > 0 and 0.5 <= total / avail <= 2:
            parts.append(f"the sum over the area's EHV stations ({_fmt_mw(total)} MW) is within a factor 2: "
                         f"the area total spreads over several feeding stations")
        if element and not outside:
            parts.append(f"limiting element at {bus}: {where}")
        reason = "; ".join(parts)
    else:
        direction = "within_2x"
        reason = "within a factor 2"
    if firm_bus is not None:
        capped = next(b for b in found if b["bus"] == firm_bus)
        if _str(capped.get("constraint")) == "cap":
            notes.append(f"model value at {firm_bus} is the search cap (at least {_fmt_mw(firm_best)} MW)")
    if rec["mapping_confidence"] == "low":
        notes.append("mapping confidence low")
    rec.update(flag=direction in ("model_higher", "model_lower"), direction=direction,
               likely_reason=reason, note="; ".join(notes) or None)
    return rec
