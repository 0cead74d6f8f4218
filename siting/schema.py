"""Layer schemas, read from ``layer_schema.toml`` (the single source for validation and docs).

Each layer's required columns, types, units, allowed codes, references and geometry types are
data, in the package file ``siting/layer_schema.toml``; this module parses it into frozen,
typed objects and renders it as a Markdown reference.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["Column", "LayerSpec", "layer_specs", "LAYER_NAMES", "schema_markdown"]

Dtype = Literal["str", "int", "float", "bool"]
GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


class Column(BaseModel):
    """One column of a layer schema."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    dtype: Dtype
    unit: str = ""
    required: bool = True
    description: str
    min: float | None = None
    max: float | None = None
    allowed: tuple[str | int, ...] | None = None
    references: str | None = Field(default=None, pattern=r"^[a-z_]+\.[a-z_]+$")


class LayerSpec(BaseModel):
    """Schema of one layer: what a valid layer of this name holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str
    geometry: tuple[GeometryType, ...]
    section: str
    columns: tuple[Column, ...]
    footprint_from: str | None = Field(default=None, description="points become square footprints of this area column [ha]")
    within_boundary_m: float | None = Field(default=None, ge=0, description="features must lie within this distance of the boundary layer [m]")

    @field_validator("columns")
    @classmethod
    def _id_and_source(cls, columns: tuple[Column, ...]) -> tuple[Column, ...]:
        names = [c.name for c in columns]
        for needed in ("id", "source"):
            if needed not in names:
                raise ValueError(f"every layer needs a '{needed}' column")
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate column names in {names}")
        return columns

    @model_validator(mode="after")
    def _footprint_column(self) -> LayerSpec:
        if self.footprint_from is not None and self.footprint_from not in [c.name for c in self.columns]:
            raise ValueError(f"footprint_from names '{self.footprint_from}', which is not a column")
        return self

    def column(self, name: str) -> Column:
        """The column called `name` (KeyError if the schema has none)."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required columns."""
        return tuple(c.name for c in self.columns if c.required)


@cache
def layer_specs() -> dict[str, LayerSpec]:
    """All layer schemas, keyed by layer name, in the schema file's order."""
    text = resources.files("siting").joinpath("layer_schema.toml").read_text(encoding="utf-8")
    raw = tomllib.loads(text)
    return {name: LayerSpec(name=name, **body) for name, body in raw.items()}


LAYER_NAMES: tuple[str, ...] = tuple(layer_specs())


def schema_markdown() -> str:
    """The layer schema as a Markdown reference (one table per layer)."""
    out = ["# Layer reference", "", "Generated from `siting/layer_schema.toml`.", ""]
    for spec in layer_specs().values():
        out += [
            f"## `{spec.name}`",
            "",
            spec.description,
            "",
            f"Geometry: {', '.join(spec.geometry)}"
            + (f" (or Point with `{spec.footprint_from}`: an indicative square footprint of that area)" if spec.footprint_from else "")
            + (f"; within {spec.within_boundary_m / 1000:g} km of the boundary layer" if spec.within_boundary_m is not None else "")
            + f". Report sections: {spec.section}.",
            "",
            "| column | type | unit | required | rule | description |",
            "|---|---|---|---|---|---|",
        ]
        for c in spec.columns:
            rule = []
            if c.min is not None:
                rule.append(f">= {c.min:g}")
            if c.max is not None:
                rule.append(f"<= {c.max:g}")
            if c.allowed is not None:
                rule.append("one of " + ", ".join(str(a) for a in c.allowed))
            if c.references:
                rule.append(f"in {c.references}")
            out.append(
                f"| {c.name} | {c.dtype} | {c.unit} | {'yes' if c.required else 'no'} "
                f"| {'; '.join(rule)} | {c.description} |"
            )
        out.append("")
    return "\n".join(out)
