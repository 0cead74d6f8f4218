"""Fill the ``wkt`` column of ``data/nl/circuits.csv`` from ``data/nl/substations.csv``.

Each circuit corridor gets a straight WGS84 LINESTRING from the from-station's lon/lat to
the to-station's lon/lat, using exactly the coordinates in substations.csv, so the geometry
is reproducible and stays consistent when a station coordinate is corrected.

Usage::

    python scripts/build_circuit_wkt.py            # rewrite data/nl/circuits.csv in place
    python scripts/build_circuit_wkt.py --check    # exit 1 if any wkt value is out of date

Only the standard library is used. All other columns and the row order are kept unchanged.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data" / "nl"


def _fmt(value: str) -> str:
    """Coordinate as written in substations.csv, normalised (no trailing zeros)."""
    return f"{float(value):.6f}".rstrip("0").rstrip(".")


def build(substations: Path, circuits: Path) -> tuple[str, int]:
    """Return the new circuits.csv text and the number of rows whose wkt changed."""
    with substations.open(newline="", encoding="utf-8") as f:
        coords = {r["id"]: (_fmt(r["lon"]), _fmt(r["lat"])) for r in csv.DictReader(f)}

    with circuits.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    if "wkt" not in fields:
        raise SystemExit(f"{circuits}: no 'wkt' column")

    changed = 0
    for row in rows:
        missing = [k for k in ("from_id", "to_id") if row[k] not in coords]
        if missing:
            raise SystemExit(f"{circuits}: circuit {row['id']!r} references unknown substation(s) "
                             + ", ".join(row[k] for k in missing))
        (x0, y0), (x1, y1) = coords[row["from_id"]], coords[row["to_id"]]
        wkt = f"LINESTRING ({x0} {y0}, {x1} {y1})"
        if row.get("wkt") != wkt:
            changed += 1
            row["wkt"] = wkt

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue(), changed


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA, help="folder with substations.csv and circuits.csv")
    ap.add_argument("--check", action="store_true", help="only report whether wkt values are up to date")
    args = ap.parse_args(argv)

    circuits = args.data / "circuits.csv"
    text, changed = build(args.data / "substations.csv", circuits)
    if args.check:
        if changed:
            print(f"{changed} circuit geometries out of date; run scripts/build_circuit_wkt.py", file=sys.stderr)
            return 1
        print("circuit geometries up to date")
        return 0
    circuits.write_text(text, encoding="utf-8")
    print(f"wrote {circuits} ({changed} geometries updated)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
