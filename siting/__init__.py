"""siting — where in the Netherlands can an AI gigafactory connect and be built, and why not
elsewhere.

Stages (one way): layers → candidates → metrics → grid checks → evaluate → exports.
Conditions are those of Ecorys (2025), *Meerwaarde van een AI-gigafabriek in Nederland*.
"""

from __future__ import annotations

from .capacity_map import CapacityMap, compare_capacity, read_capacity_map
from .climate import free_cooling_netcdf
from .criteria import CriteriaSet, load_criteria
from .errors import SitingError
from .evaluate import Evaluation, evaluate
from .exports import export
from .grid import GridModel, list_scenarios, load_scenario
from .grid.year import Situations, situations
from .layers import (
    WORK_CRS,
    Layers,
    LayerSet,
    LayerSource,
    embedded_data_dir,
    load_layers,
    read_layer,
    validate_layer,
)
from .profiles import load_profiles, read_hourly
from .schema import LAYER_NAMES, layer_specs
from .surface import locate, read_raster, surface, write_raster

__version__ = "0.1.0"

__all__ = [
    "WORK_CRS",
    "LAYER_NAMES",
    "CapacityMap",
    "CriteriaSet",
    "Evaluation",
    "GridModel",
    "Layers",
    "LayerSet",
    "LayerSource",
    "SitingError",
    "Situations",
    "compare_capacity",
    "embedded_data_dir",
    "evaluate",
    "export",
    "free_cooling_netcdf",
    "layer_specs",
    "load_criteria",
    "list_scenarios",
    "load_layers",
    "load_profiles",
    "load_scenario",
    "locate",
    "read_capacity_map",
    "read_hourly",
    "read_raster",
    "surface",
    "write_raster",
    "read_layer",
    "situations",
    "validate_layer",
    "__version__",
]
