"""Stage 4 — the grid: a pandapower model of the 380/220 kV grid, scenarios, AC power flow with
N-1, hosting capacity, direct coupling to offshore wind."""

from .model import CouplingResult, GridModel, LoadCheck
from .scenario import Scenario, list_scenarios, load_scenario
from .year import Situations

__all__ = ["CouplingResult", "GridModel", "LoadCheck", "Scenario", "Situations", "list_scenarios", "load_scenario"]
