"""Where a configuration object came from: the file read and the SHA-256 of the bytes parsed.

:func:`siting._config.read_toml_model` records every criteria, scenario and layer-set file it
parses here; :func:`siting.exports.provenance` asks :func:`origin_of` for the file behind the
objects an evaluation used. The lookup is by identity first, then by content (an object equal
to one read from a file — e.g. the scenario of a cached grid model — is traced to the file most
recently read with that content).
"""

from __future__ import annotations

import hashlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

from pydantic import BaseModel

__all__ = ["Origin", "remember", "origin_of", "read_from", "file_sha256", "content_sha256"]

_CHUNK = 1 << 20
_KEEP = 256  # content entries kept (small objects: criteria and scenarios)


@dataclass(frozen=True)
class Origin:
    """The file an object was parsed from: absolute `path` and the `sha256` of its bytes."""

    path: Path
    sha256: str


# re-entrant: dropping an entry below can end an object's life, and its weakref callback
# (``forget``) runs at once in the same thread, taking the lock again
_lock = threading.RLock()
_by_id: dict[int, tuple[weakref.ref, Origin]] = {}
_by_content: OrderedDict[tuple[type, str], tuple[BaseModel, Origin]] = OrderedDict()


def file_sha256(path: str | PathLike[str]) -> str:
    """SHA-256 of a file, read in chunks of 1 MiB (user climate files can be gigabytes)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def content_sha256(obj: BaseModel) -> str:
    """SHA-256 of the object's canonical JSON (what was applied, whatever file it came from)."""
    return hashlib.sha256(obj.model_dump_json().encode("utf-8")).hexdigest()


def remember(obj: BaseModel, path: str | PathLike[str], data: bytes) -> None:
    """Record that `obj` was parsed from `data`, the bytes of `path`."""
    origin = Origin(Path(path).absolute(), hashlib.sha256(data).hexdigest())
    key = id(obj)

    def forget(ref, key=key):
        with _lock:
            entry = _by_id.get(key)
            if entry is not None and entry[0] is ref:  # not a newer object that got the same id
                del _by_id[key]

    with _lock:
        try:
            _by_id[key] = (weakref.ref(obj, forget), origin)
        except TypeError:  # not weak-referenceable: the content entry below still traces it
            pass
        ckey = (type(obj), obj.model_dump_json())
        _by_content.pop(ckey, None)
        _by_content[ckey] = (obj, origin)
        while len(_by_content) > _KEEP:
            _by_content.popitem(last=False)


def origin_of(obj: BaseModel) -> Origin | None:
    """The file `obj` (or an object equal to it) was parsed from; None for an object built in
    code."""
    with _lock:
        entry = _by_id.get(id(obj))
        if entry is not None and entry[0]() is obj:
            return entry[1]
        found = _by_content.get((type(obj), obj.model_dump_json()))
    return found[1] if found is not None else None


def read_from(model: type[BaseModel]) -> list[tuple[BaseModel, Origin]]:
    """The objects of type `model` read from files, most recent first (to trace an object
    derived from one, e.g. criteria with a policy mode applied)."""
    with _lock:
        return [(o, origin) for (t, _), (o, origin) in reversed(_by_content.items()) if t is model]
