"""Plausibility of user data: the ranges a value can take in this study, and the likely mistake
behind a value outside them (a unit, a truncated field name).

Shared by :mod:`siting.layers` (files checked on load) and :mod:`siting.climate` (normals
passed as arrays, hourly NetCDF files).
"""

from __future__ import annotations

import numpy as np

#: Air temperatures a Dutch (or any European lowland) climate series can hold [°C]: the
#: Netherlands' records are -27.4 °C (1942) and 40.7 °C (2019); a value outside this range
#: after unit conversion is a unit mistake or an undeclared fill value, not weather.
TEMPERATURE_RANGE_C = (-40.0, 50.0)

# raw value -> °C for the units a temperature file plausibly holds
_UNIT_TO_C = {
    "K": ("Kelvin", lambda v: v - 273.15),
    "degC": ("°C", lambda v: v),
    "degF": ("°F", lambda v: (v - 32.0) * 5.0 / 9.0),
    "0.1 degC": ("tenths of °C (KNMI raw)", lambda v: v / 10.0),
}


def likely_units(raw_min: float, raw_max: float, declared: str) -> list[str]:
    """The units other than `declared` (``"K"``, ``"degC"``, ``"degF"``, ``"0.1 degC"``) in which
    raw temperatures from `raw_min` to `raw_max` are all plausible, most likely first."""
    lo_c, hi_c = TEMPERATURE_RANGE_C
    return [unit for unit, (_, to_c) in _UNIT_TO_C.items()
            if unit != declared and lo_c <= to_c(float(raw_min)) and to_c(float(raw_max)) <= hi_c]


def temperature_unit_hint(raw_min: float, raw_max: float, declared: str) -> str:
    """Words naming the unit mistake that would explain raw temperatures from `raw_min` to
    `raw_max` read as `declared`: every other unit in which the whole range is plausible, with
    the °C it would give."""
    fits = [f"{_UNIT_TO_C[u][0]} (then {_UNIT_TO_C[u][1](float(raw_min)):.1f} to "
            f"{_UNIT_TO_C[u][1](float(raw_max)):.1f} °C)" for u in likely_units(raw_min, raw_max, declared)]
    if fits:
        return "the values look like " + "; or ".join(fits) + f" — not {_UNIT_TO_C[declared][0]}"
    return ("no temperature unit explains them: look for fill values (e.g. -9999) not declared as missing, "
            "or another quantity in this field")


def temperature_problem(raw: np.ndarray, declared: str) -> tuple[float, float, str] | None:
    """``(raw_min, raw_max, hint)`` when any finite value of `raw`, read in unit `declared`, lies
    outside :data:`TEMPERATURE_RANGE_C` after conversion to °C; None when all are plausible."""
    raw = np.asarray(raw, dtype=float)
    finite = raw[np.isfinite(raw)]
    if finite.size == 0:
        return None
    lo, hi = float(finite.min()), float(finite.max())
    to_c = _UNIT_TO_C[declared][1]
    lo_c, hi_c = TEMPERATURE_RANGE_C
    if lo_c <= to_c(lo) and to_c(hi) <= hi_c:
        return None
    return lo, hi, temperature_unit_hint(lo, hi, declared)


# ----------------------------------------------------------------- Shapefile (DBF) field names

#: A dBASE (.dbf) field name holds at most this many characters; GDAL cuts longer names when it
#: writes a Shapefile.
DBF_NAME_LEN = 10


def dbf_collision_names(cut: str) -> list[str]:
    """The names GDAL gives further fields whose cut-down name is already taken: ``cut[:8]_1``
    … ``cut[:8]_9``, then ``cut[:7]_10`` … ``cut[:7]_99`` (OGR Shapefile driver, CreateField)."""
    return [f"{cut[:8]}_{i}" for i in range(1, 10)] + [f"{cut[:7]}_{i:02d}" for i in range(10, 100)]


def dbf_truncations(names: list[str] | tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Every cut-down field name a Shapefile can hold for the longer `names`, mapped to the
    names it may stand for: ``{"reuse_plan": ("reuse_plant_site",), ...}``. A cut name shared
    by several names (``producing_`` for ``producing_year`` and ``producing_mw``), and GDAL's
    numbered variants of it (``producin_1``), map to all of them."""
    groups: dict[str, list[str]] = {}
    for name in names:
        if len(name) > DBF_NAME_LEN:
            groups.setdefault(name[:DBF_NAME_LEN], []).append(name)
    out: dict[str, tuple[str, ...]] = {cut: tuple(full) for cut, full in groups.items()}
    for cut, full in groups.items():  # numbered variants never shadow a real cut-down name
        for variant in dbf_collision_names(cut):
            out.setdefault(variant, tuple(full))
    return out
