"""Exports are atomic and never silently overwrite."""

from __future__ import annotations

import pandas as pd
import pytest

from siting.errors import ConfigError
from siting.exports import write_table

from .conftest import make_sites


def test_write_and_refuse_overwrite(tmp_path):
    path = tmp_path / "t.csv"
    write_table(pd.DataFrame({"a": [1, 2]}), path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="exists; not overwriting"):
        write_table(pd.DataFrame({"a": [3]}), path)
    assert path.read_bytes() == before
    write_table(pd.DataFrame({"a": [3]}), path, overwrite=True)
    assert pd.read_csv(path, index_col=0)["a"].tolist() == [3]
    assert [p.name for p in tmp_path.iterdir()] == ["t.csv"]  # no temporary left behind


def test_failed_write_leaves_nothing(tmp_path):
    class Boom(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_table(Boom({"a": [1]}), tmp_path / "t.csv")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "name, table, match",
    [
        ("t.xlsx", pd.DataFrame({"a": [1]}), "unknown suffix"),
        ("t.gpkg", pd.DataFrame({"a": [1]}), "has no geometry"),
        ("missing/t.csv", pd.DataFrame({"a": [1]}), "does not exist"),
    ],
)
def test_bad_targets(tmp_path, name, table, match):
    with pytest.raises(ConfigError, match=match):
        write_table(table, tmp_path / name)


def test_geojson_is_byte_for_byte_deterministic(tmp_path):
    sites = make_sites()
    a = write_table(sites, tmp_path / "a.geojson")
    b = write_table(sites, tmp_path / "b.geojson")
    assert a.read_bytes() == b.read_bytes()
