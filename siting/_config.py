"""Typed configuration from TOML: one reader for layer sets, scenarios and (later) criteria."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from .errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def pydantic_text(exc: ValidationError) -> str:
    """One line per validation error: ``  - dotted.location: message``."""
    return "\n".join(f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())


def read_toml_model(path: Path, model: type[M], what: str) -> M:
    """Parse TOML file `path` into `model` (frozen, unknown keys rejected); every failure is a
    :class:`ConfigError` naming the file (`what` says which kind of file it is)."""
    if not path.is_file():
        raise ConfigError(f"{what} file '{path}' does not exist. Fix: give the path of a TOML file.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file '{path}' is not valid TOML: {exc}") from exc
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{what} file '{path}' is invalid:\n{pydantic_text(exc)}") from exc
