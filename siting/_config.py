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


def pydantic_text(exc: ValidationError, raw: object = None) -> str:
    """One line per validation error: ``  - dotted.location: message``; with the `raw` input, an
    error inside a list item that has an ``id`` (or ``name``) also names it
    (``  - criterion.3.min: ... (criterion 'space')``)."""
    return "\n".join(f"  - {'.'.join(str(p) for p in e['loc'])}: {e['msg'].removeprefix('Value error, ')}"
                     f"{_item_label(e['loc'], raw)}" for e in exc.errors())


def _item_label(loc: tuple, raw: object) -> str:
    """`` (criterion 'space')`` for an error located in a list item with an id, else ``""``."""
    node, key, label = raw, None, ""
    for p in loc:
        if isinstance(p, int) and isinstance(node, list) and 0 <= p < len(node):
            node = node[p]
            name = node.get("id", node.get("name")) if isinstance(node, dict) else None
            if isinstance(name, str) and key is not None:
                label = f" ({key} {name!r})"
        elif isinstance(node, dict):
            node, key = node.get(p), p
        else:
            break
    return label


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
        raise ConfigError(f"{what} file '{path}' is invalid:\n{pydantic_text(exc, raw)}") from exc
    remember(obj, path, data)
    return obj


def load_named(ref: str | PathLike[str] | M, folder: Path, model: type[M], what: str) -> M:
    """A config object given as is, as a TOML path, or by the name of a shipped file in
    `folder` (``<name>.toml``); an unknown name lists the shipped ones. `what` is also the
    parameter's name in errors (``scenario``, ``criteria``)."""
    from .errors import ParameterError, type_phrase

    if isinstance(ref, model):
        return ref
    shipped = {p.stem: p for p in sorted(folder.glob("*.toml"))} if folder.is_dir() else {}
    allowed = f"a shipped {what} name, the path of a {what} TOML file, or a {model.__name__}"
    fix = (f"use one of the shipped names ({', '.join(shipped) or 'none'}) or the path of a {what} TOML file, "
           f"e.g. {{={what}:'my-{what}.toml'}}")
    if not isinstance(ref, (str, PathLike)) or not str(ref).strip():
        raise ParameterError(what, ref, allowed, problem=type_phrase(ref) if not isinstance(ref, str) else "empty",
                             fix=fix)
    path = Path(ref)
    if path.suffix != ".toml":
        if str(ref) not in shipped:
            raise ParameterError(what, ref, allowed, fix=fix,
                                 problem=f"unknown {what} {str(ref)!r}; shipped: {', '.join(shipped) or 'none'}")
        path = shipped[str(ref)]
    elif not path.is_file():
        raise ParameterError(what, ref, allowed, fix="check the path (relative paths start from the working folder)",
                             problem=f"{what} file '{path}' does not exist" if not path.is_dir() else f"'{path}' is a folder")
    return read_toml_model(path, model, what)
