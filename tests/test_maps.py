"""Static maps a planner can read: every site numbered and listed in full, labels that never
overlap, verdicts drawn best on top, towns, stations, open water and a legend of what is drawn."""

from __future__ import annotations

import types

import geopandas as gpd
import numpy as np
import pytest
import shapely

from siting._labels import Label, overlapping_pairs, place_labels
from siting.evaluate import VERDICT_COLOURS, Evaluation

from .grid_fixtures import embedded_layers

PARAMS = {"it_load_mw": 300.0, "pue": 1.2, "grid_load_mw": 360.0, "year": 2030,
          "scenarios": ["high-wind-2030"], "criteria": "ecorys-2025"}


def _ranked(sites: gpd.GeoDataFrame, verdicts) -> Evaluation:
    """An evaluation-shaped result over `sites` (the maps read only the ranked table)."""
    table = sites[["id", "name", "geometry"]].copy()
    table["verdict"] = [verdicts[i % len(verdicts)] for i in range(len(table))]
    order = {"suitable": 0, "conditional": 1, "unsuitable": 2}
    table = table.sort_values(by="verdict", key=lambda v: v.map(order), kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return Evaluation(table=gpd.GeoDataFrame(table, crs=sites.crs), metrics=None, criteria=None, params=dict(PARAMS))


@pytest.fixture(scope="module")
def crowded():
    """The 31 embedded sites plus a cluster of 12 plots with long names within 3 km of
    Eemshaven: the worst case for labels."""
    layers = embedded_layers()
    eh = layers.substations.set_index("id").loc["eemshaven-oudeschip-380", "geometry"]
    extra = gpd.GeoDataFrame(
        {"id": [f"cluster-{i}" for i in range(12)],
         "name": [f"Eemshaven cluster plot number {i} with a deliberately long name" for i in range(12)]},
        geometry=[shapely.box(eh.x - 1500 + 250 * i, eh.y - 1500 + 200 * (i % 4), eh.x - 1300 + 250 * i,
                              eh.y - 1300 + 200 * (i % 4)) for i in range(12)],
        crs=layers.sites.crs,
    )
    sites = gpd.GeoDataFrame(
        gpd.pd.concat([layers.sites[["id", "name", "geometry"]], extra], ignore_index=True), crs=layers.sites.crs)
    return _ranked(sites, ["conditional", "unsuitable", "unsuitable"])


def test_national_map_labels_never_overlap_and_every_site_is_numbered_and_listed(crowded):
    from matplotlib.collections import PathCollection

    from siting.maps import national_figure

    fig, labels = national_figure(crowded, embedded_layers())
    renderer = fig.canvas.get_renderer()
    texts = labels["map"] + labels["list"]
    assert overlapping_pairs(texts, renderer) == []
    assert labels["missing"] == []
    on_map = [t.get_text() for t in labels["map"]]
    assert {str(r) for r in crowded.table["rank"]} <= set(on_map)  # every site's rank on the map
    listed = " ".join(" ".join(t.get_text().split()) for t in labels["list"])
    for _, row in crowded.table.iterrows():  # every full name, uncut (long ones wrapped), in the list
        assert f"{row['rank']} {row['name']} ({row['verdict']})" in listed
    fig_box = fig.bbox
    for t in labels["list"]:
        box = t.get_window_extent(renderer)
        assert box.x1 <= fig_box.x1 and box.y0 >= fig_box.y0, t.get_text()
    assert {"Amsterdam", "Rotterdam", "Groningen"} <= set(on_map)  # the larger towns
    assert "Maasvlakte" in on_map or "Eemshaven Oudeschip" in on_map  # 380 kV station names
    # every label box lies inside the map frame
    frame = fig.axes[0].get_window_extent(renderer)
    for t in labels["map"]:
        box = t.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1
    # the legend: only the verdicts present, each layer drawn
    entries = [t.get_text() for t in labels["legend"].get_texts()]
    assert "site: conditional" in entries and "site: unsuitable" in entries and "site: suitable" not in entries
    for name in ("open water (sea, lakes, estuaries)", "380 kV circuit", "220 kV circuit", "380/220 kV station",
                 "offshore-wind landing (in service / grid-ready)", "AMS-IX point of presence"):
        assert name in entries, name
    # draw order: conditional markers above unsuitable ones
    z = {}
    for coll in fig.axes[0].collections:
        if isinstance(coll, PathCollection) and len(coll.get_offsets()):
            colour = "#{:02x}{:02x}{:02x}".format(*(int(round(c * 255)) for c in coll.get_facecolor()[0][:3]))
            z[colour] = coll.get_zorder()
    assert z[VERDICT_COLOURS["conditional"]] > z[VERDICT_COLOURS["unsuitable"]]
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_open_water_and_built_up_are_drawn_when_present():
    from matplotlib.patches import Patch

    from siting.maps import draw_context, open_water

    layers = embedded_layers()
    water = open_water(layers)
    assert set(water["kind"]) <= {"sea", "lake", "estuary"} and len(water)
    assert "IJsselmeer" in set(water["name"])
    town = gpd.GeoDataFrame({"id": ["t"], "name": ["Town"], "source": ["test"]},
                            geometry=[shapely.box(120_000, 480_000, 125_000, 485_000)], crs="EPSG:28992")
    with_towns = types.SimpleNamespace(**({n: layers[n] for n in layers.names} | {"built_up": town}))
    import matplotlib.pyplot as plt

    box = (110_000, 470_000, 160_000, 520_000)  # IJsselmeer's south-west shore and the town
    fig, ax = plt.subplots()
    handles = draw_context(ax, with_towns, box)
    labels = [h.get_label() for h in handles]
    assert "built-up land" in labels and "open water (sea, lakes, estuaries)" in labels
    assert all(isinstance(h, Patch) for h in handles if h.get_label() == "built-up land")
    fig2, ax2 = plt.subplots()
    without = types.SimpleNamespace(**{n: layers[n] for n in layers.names if n != "built_up"})
    assert "built-up land" not in [h.get_label() for h in draw_context(ax2, without, box)]  # absent: skipped silently
    plt.close("all")


def test_card_map_is_large_has_water_and_towns_and_no_overlap(tmp_path, crowded):
    from PIL import Image

    from siting.cards import _site_map, card_figure

    layers = embedded_layers()
    row = crowded.table[crowded.table["id"] == "eemshaven-port"].iloc[0]
    fig, texts = card_figure(row, layers, crowded.table)
    assert overlapping_pairs(texts, fig.canvas.get_renderer()) == []
    names = [t.get_text() for t in texts]
    assert row["name"] in names and any("(380 kV)" in n for n in names)
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "open water (sea, lakes, estuaries)" in legend and "town" in legend
    _site_map(row, layers, tmp_path / "card.png", crowded.table)
    assert min(Image.open(tmp_path / "card.png").size) >= 1000


def test_label_layout_keeps_clear_of_obstacles_and_reports_what_does_not_fit():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2, 2))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 10)
    fig.canvas.draw()
    obstacle = ax.transData.transform([(4, 4), (6, 6)]).ravel()
    labels = [Label(5, 5, f"label {i}", {"fontsize": 9}, required=True) for i in range(40)]
    texts, missing = place_labels(ax, labels, obstacles=[obstacle])
    renderer = fig.canvas.get_renderer()
    assert texts and missing and len(texts) + len(missing) == 40  # a small axes cannot hold 40
    assert overlapping_pairs(texts, renderer) == []
    for t in texts:
        b = t.get_window_extent(renderer)
        assert b.x1 <= obstacle[0] or b.x0 >= obstacle[2] or b.y1 <= obstacle[1] or b.y0 >= obstacle[3]
    plt.close(fig)
