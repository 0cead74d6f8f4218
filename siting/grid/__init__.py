"""Stage 4 — the grid: a pandapower model of the 380/220 kV grid, scenarios, AC power flow with
N-1, hosting capacity."""

from .scenario import Scenario, list_scenarios, load_scenario

__all__ = ["Scenario", "list_scenarios", "load_scenario"]
