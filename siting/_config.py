"""Typed configuration from TOML: one reader for layer sets, scenarios and (later) criteria."""

from __future__ import annotations

import tomllib
from os import PathLike
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from ._origins import remember
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
    data = path.read_bytes()  # hashed as read: provenance records the file actually parsed
    try:
        raw = tomllib.loads(data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} file '{path}' is not valid TOML: {exc}") from exc
    try:
        obj = model.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(f"{what} file '{path}' is invalid:\n{pydantic_text(exc)}") from exc
    remember(obj, path, data)
    return obj


def load_named(ref: str | PathLike[str] | M, folder: Path, model: type[M], what: str) -> M:
    """A config object given as is, as a TOML path, or by the name of a shipped file in
    `folder` (``<name>.toml``); an unknown name lists the shipped ones."""
    if isinstance(ref, model):
        return ref
    path = Path(ref)
    if path.suffix != ".toml":
        shipped = {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}
        if str(ref) not in shipped:
            raise ConfigError(
                f"unknown {what} {str(ref)!r}; shipped: {', '.join(shipped) or 'none'}. "
                f"Fix: use one of those names, or give the path of a {what} TOML file."
            )
        path = shipped[str(ref)]
    return read_toml_model(path, model, what)
