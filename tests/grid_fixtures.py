"""Grid fixtures built from the embedded layers (cached: layers load once per session)."""

from __future__ import annotations

from functools import cache

import siting
from siting.grid.build import build_network
from siting.grid.scenario import load_scenario


@cache
def embedded_layers() -> siting.Layers:
    return siting.load_layers()


def embedded_net(scenario: str):
    return build_network(embedded_layers(), load_scenario(scenario)).net
