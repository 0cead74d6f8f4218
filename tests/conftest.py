"""Shared fixtures: small layers made by the tests themselves, and the reference-data path."""

from __future__ import annotations

import os
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread():
    """The reference computations in the tests (brute-force bisections) solve the same small
    systems as the library: one BLAS thread, as the library's grid entry points use (see
    siting/grid/_threads.py); many threads on small matrices stall on a busy 2-core machine."""
    from siting.grid._threads import single_blas_thread

    with single_blas_thread():
        yield


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """../shared/reference beside the repository (CI has it); skipped only outside CI."""
    if not REFERENCE.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"reference data missing at {REFERENCE}: CI must have ../shared beside the repo")
        pytest.skip(f"reference data not found at {REFERENCE}")
    return REFERENCE


def make_sites(n: int = 3) -> gpd.GeoDataFrame:
    """`n` square sites of 40 ha along the A7 near Middenmeer, in RD New."""
    side = (40 * 10_000) ** 0.5
    geoms = [shapely.box(127_000 + i * 2_000, 530_000, 127_000 + i * 2_000 + side, 530_000 + side) for i in range(n)]
    return gpd.GeoDataFrame(
        {
            "id": [f"site-{i}" for i in range(n)],
            "name": [f"Test site {i}" for i in range(n)],
            "area_ha": [40.0] * n,
            "category": ["industrial_estate"] * n,
            "source": ["test"] * n,
        },
        geometry=geoms,
        crs="EPSG:28992",
    )


@pytest.fixture
def sites_gdf() -> gpd.GeoDataFrame:
    return make_sites()
