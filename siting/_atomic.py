"""Outputs that are never lost: claim a target, build it in private, publish it in one rename.

Every writer of `siting` (:func:`siting.export`, :func:`siting.exports.write_table`,
:func:`siting.write_raster`, :func:`siting.maps.static_map`, :func:`siting.webmap.html_map`)
writes through :func:`atomic_output`, which guarantees:

* **Claim.** A run holds an exclusive lock on its target (``flock`` of ``.NAME.siting-lock``
  beside it) from start to end, so two runs into the same target cannot both succeed: the
  second is refused after waiting at most a second for the lock ("another siting run is
  writing …"), or — when the first has finished — with "exists; not overwriting". Without ``force`` the publishing step itself is
  no-clobber as well (a hard link for files; a folder cannot be renamed over a non-empty one).
* **All or nothing.** The output is built in a private staging folder ``.NAME.siting-new-XXXX``
  beside the target (same file system) and renamed into place when complete: the target is
  at every instant absent, the earlier version, or the complete new version.
* **Replace safely.** With ``force`` the earlier target is renamed aside
  (``.NAME.siting-old-XXXX``), the new one renamed into place, and only then is the earlier one
  deleted (after a rename to ``.NAME.siting-del-XXXX``, so that nothing half-deleted can ever be
  taken for it). A failure before the new version is in place puts the earlier one back.
* **No leftovers.** On start — under its lock, and also when it is then refused — a run
  removes what killed runs left in the target's folder
  (staging folders, superseded versions, stale lock files; and the ``.NAME.XXXXXXXX`` temporaries
  of earlier versions of `siting`), and puts an earlier version back where a run was killed
  between its two renames. It never touches what a live run holds (their locks are tested).
  SIGINT, SIGTERM and SIGHUP during a write (where their handlers are Python's defaults, in the
  main thread) clean up first and then take their usual effect; they wait during the two
  renames. SIGKILL cannot be caught: the next run into the same folder cleans up.
* **Errors, not tracebacks.** Read-only or full file systems, missing folders, a file where a
  folder is expected (and the reverse), or a failure of a GDAL, SQLite or NetCDF writer become
  :class:`siting.errors.OutputError` with the reason, and nothing partial is left.
* **Permissions** follow the user's umask (``0666 & ~umask`` for files, ``0777 & ~umask`` for
  folders), not the private 0600/0700 of temporary files.

File systems without ``flock`` (some network shares) are written without the lock: the
publishing step stays no-clobber, but two simultaneous ``force`` runs are not kept apart.

Test hook: with ``SITING_TEST_PAUSE_AT=<point>`` and ``SITING_TEST_PAUSE_MARKER=<file>`` in the
environment, a writer creates the marker file when it reaches the named point and waits until
the file is deleted (see :func:`pause_point`), so that tests can kill it there or let it go on.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path

from .errors import OutputError, SitingError, SitingWarning

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows: no lock, the rest holds
    fcntl = None

__all__ = ["atomic_output", "precheck", "pause_point", "share", "umask"]

_TAG = ".siting-"
_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.siting-(?P<kind>new|old|del)-[0-9A-Za-z_]+$")
_LOCKFILE = re.compile(r"^\.(?P<name>.+)\.siting-lock$")
#: exceptions of the GDAL bindings and SQLite (their write failures are not OSError)
_IO_LIBRARIES = ("pyogrio", "rasterio", "fiona", "osgeo", "sqlite3", "netCDF4", "h5netcdf", "h5py")
#: modules whose errors, raised there, are failures to write a file
_IO_MODULES = ("xarray.backends", "scipy.io")
#: how long a run waits for the lock of its target [s] before it reports another run
_LOCK_WAIT_S = 1.0


# ------------------------------------------------------------------------------ permissions

def umask() -> int:
    """The process's umask (read without changing it where the system allows)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def share(path: str | PathLike[str]) -> None:
    """Give `path` — and, for a folder, everything in it — the permissions the user's umask gives
    new files and folders (``0666 & ~umask``, ``0777 & ~umask``): temporary files and folders
    (``tempfile``) are created private (0600/0700), which would hide the outputs from colleagues
    on a shared drive."""
    mask = umask()
    path = Path(path)
    if path.is_dir():
        for root, dirs, files in os.walk(path):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o777 & ~mask)
            for f in files:
                os.chmod(os.path.join(root, f), 0o666 & ~mask)
        os.chmod(path, 0o777 & ~mask)
    else:
        os.chmod(path, 0o666 & ~mask)


# ------------------------------------------------------------------------------ test hook

_paused: set[str] = set()


def pause_point(name: str) -> None:
    """For fault tests: where ``SITING_TEST_PAUSE_AT`` names this point (the first time it is
    reached in the process), write the process id into the file named by
    ``SITING_TEST_PAUSE_MARKER`` and wait until that file is deleted (at most
    ``SITING_TEST_PAUSE_S`` seconds, default 600). The test kills the process there, or deletes
    the file to let it go on.

    Points: ``claimed`` (target locked, staging folder empty), ``staged`` (output complete, not
    yet published), ``aside`` (the earlier target renamed aside, the new one not yet in place),
    ``published`` (new in place, earlier one not yet deleted), ``deleting`` (part of the earlier
    one deleted), and the writers' own, e.g. ``export:gpkg`` and ``export:csv`` (see
    :func:`siting.export`)."""
    if os.environ.get("SITING_TEST_PAUSE_AT") != name or name in _paused:
        return
    _paused.add(name)
    limit_s = float(os.environ.get("SITING_TEST_PAUSE_S", "600"))
    marker = os.environ.get("SITING_TEST_PAUSE_MARKER")
    if not marker:
        time.sleep(limit_s)
        return
    Path(marker).write_text(str(os.getpid()), encoding="ascii")
    deadline = time.monotonic() + limit_s
    while os.path.exists(marker) and time.monotonic() < deadline:
        time.sleep(0.01)


# ------------------------------------------------------------------------------ signals

class _Terminated(BaseException):
    """Raised by the SIGTERM/SIGHUP handler so that clean-up code runs; the signal is sent again
    once the output is cleaned up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _SignalGuard:
    """Turns SIGINT/SIGTERM/SIGHUP into exceptions during a write — deferred while in a critical
    section — where their handlers are Python's defaults and we are in the main thread."""

    def __init__(self) -> None:
        self.saved: dict[int, object] = {}
        self.critical = 0
        self.pending: int | None = None

    def __enter__(self) -> _SignalGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        wanted = [(signal.SIGINT, signal.default_int_handler), (signal.SIGTERM, signal.SIG_DFL)]
        if hasattr(signal, "SIGHUP"):
            wanted.append((signal.SIGHUP, signal.SIG_DFL))
        for sig, default in wanted:
            if signal.getsignal(sig) is default:
                self.saved[sig] = default
                signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame) -> None:
        if self.critical:
            self.pending = signum
            return
        self._raise(signum)

    @staticmethod
    def _raise(signum: int) -> None:
        if signum == signal.SIGINT:
            raise KeyboardInterrupt
        raise _Terminated(signum)

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Signals wait until the block is done (the renames that publish an output)."""
        self.critical += 1
        try:
            yield
        finally:
            self.critical -= 1
        if not self.critical and self.pending is not None:
            signum, self.pending = self.pending, None
            self._raise(signum)

    def __exit__(self, exc_type, exc, tb) -> None:
        owned = set(self.saved)
        for sig, handler in self.saved.items():
            signal.signal(sig, handler)
        self.saved.clear()
        if isinstance(exc, _Terminated) and exc.signum in owned:  # cleaned up: now die of it, as without us
            os.kill(os.getpid(), exc.signum)
            time.sleep(5)  # pragma: no cover - the signal ends the process first


# ------------------------------------------------------------------------------ lock

class _Lock:
    """An exclusive, non-blocking ``flock`` on ``<parent>/.<name>.siting-lock``; the lock file is
    removed on release. A killed holder's lock is released by the kernel; its file is removed by
    the next run."""

    def __init__(self, parent: Path, name: str) -> None:
        self.path = parent / f".{name}{_TAG}lock"
        self.fd: int | None = None

    def acquire(self, wait_s: float = 0.0) -> bool:
        """True when acquired, False when another live process holds it (after `wait_s` [s] of
        polling: a run tidying up after killed runs holds the lock for a moment)."""
        if fcntl is None:
            return True
        deadline = time.monotonic() + wait_s
        while True:
            # read-only is enough for flock, and opens a stale lock file another user's killed run left
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o666)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.05)
                continue
            except OSError as exc:
                if exc.errno in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                    self.fd = fd  # no locks on this file system: best effort (see module notes)
                    return True
                os.close(fd)
                raise
            # the holder before us may have removed the file after we opened it: lock the live one
            try:
                st = os.stat(self.path)
            except FileNotFoundError:
                os.close(fd)
                continue
            mine = os.fstat(fd)
            if (st.st_dev, st.st_ino) != (mine.st_dev, mine.st_ino):
                os.close(fd)
                continue
            self.fd = fd
            return True

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.unlink(self.path)  # while still holding it (see acquire)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None


# ------------------------------------------------------------------------------ clean-up

def _remove(path: Path) -> None:
    """Delete a file, a symbolic link or a folder tree (entry by entry, see ``deleting``)."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    for entry in sorted(os.scandir(path), key=lambda e: e.name):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)
        pause_point("deleting")
    os.rmdir(path)


def _aside_name(parent: Path, name: str, kind: str) -> Path:
    while True:
        p = parent / f".{name}{_TAG}{kind}-{secrets.token_hex(4)}"
        if not os.path.lexists(p):
            return p


def _legacy(parent: Path, name: str) -> list[Path]:
    """Temporaries of `siting` before 2026-12 (``tempfile`` in the target's folder):
    ``.NAME.XXXXXXXX`` folders of exports, ``.STEM.XXXXXXXX.SUFFIX`` files of tables and rasters."""
    stem, suffix = os.path.splitext(name)
    pats = [re.compile(rf"^\.{re.escape(name)}\.[a-z0-9_]{{8}}$"),
            re.compile(rf"^\.{re.escape(stem)}\.[a-z0-9_]{{8}}{re.escape(suffix)}$")]
    return [parent / n for n in os.listdir(parent) if any(p.match(n) for p in pats)]


def _recover_one(parent: Path, name: str, entries: list[tuple[str, Path]]) -> None:
    """Put back or remove what killed runs into `parent/name` left; the caller holds its lock."""
    target = parent / name
    olds = sorted((p for kind, p in entries if kind == "old"), key=lambda p: p.lstat().st_ctime)
    if olds and not os.path.lexists(target):
        os.rename(olds.pop(), target)  # killed between its two renames: the earlier version returns
    for kind, path in entries:
        if kind in ("new", "old", "del") and os.path.lexists(path) and path not in (target,):
            _remove(path)


def _recover(parent: Path, own: str) -> None:
    """Clean up after killed runs in `parent`: for `own` (whose lock the caller holds) and for
    every other target whose lock is free."""
    groups: dict[str, list[tuple[str, Path]]] = {}
    for n in os.listdir(parent):
        m = _LEFTOVER.match(n) or _LOCKFILE.match(n)
        if m:
            groups.setdefault(m["name"], []).append((m.groupdict().get("kind") or "lock", parent / n))
    for name, entries in groups.items():
        if name == own:
            _recover_one(parent, name, entries)
            continue
        lock = _Lock(parent, name)
        try:
            if not lock.acquire():
                continue  # a live run: not ours to touch
            try:
                _recover_one(parent, name, entries)
            finally:
                lock.release()
        except OSError:
            continue  # another output's leftovers we may not remove: its own next run will
    for path in _legacy(parent, own):
        _remove(path)


# ------------------------------------------------------------------------------ errors

_REASONS = {
    errno.ENOSPC: ("no space left on the device", "free some space there or choose another folder"),
    errno.EDQUOT: ("disk quota exceeded", "free some space there or choose another folder"),
    errno.EROFS: ("the file system is read-only", "choose a folder you can write to"),
    errno.EACCES: ("permission denied", "choose a folder you can write to"),
    errno.EPERM: ("operation not permitted", "choose a folder you can write to"),
    errno.ENAMETOOLONG: ("the name is too long", "choose a shorter name"),
}


def _space_left(folder: Path) -> bool:
    """False when 64 KiB cannot be written into `folder` for want of space."""
    probe = folder / ".space-probe"
    try:
        with open(probe, "wb") as f:
            f.write(b"\0" * 65536)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        return exc.errno not in (errno.ENOSPC, errno.EDQUOT)
    finally:
        try:
            probe.unlink()
        except OSError:
            pass
    return True


def _output_error(shown: str, exc: BaseException, what: str, *, staging: Path | None = None,
                  kept: bool = False) -> OutputError:
    """The error a user sees when writing `shown` failed with `exc`."""
    code = exc.errno if isinstance(exc, OSError) else None  # (GDAL errors have an errno of their own)
    if not isinstance(exc, OSError) and staging is not None and staging.is_dir() and not _space_left(staging):
        code = errno.ENOSPC
    reason, fix = _REASONS.get(code, (None, "check the folder and try again"))
    if reason is None:
        reason = os.strerror(code) if isinstance(exc, OSError) and code else f"{type(exc).__name__}: {exc}"
    elif not isinstance(exc, OSError):
        reason += f" ({type(exc).__name__}: {exc})"
    name = getattr(exc, "filename", None)
    where = ""
    if name and staging is not None and str(name).startswith(str(staging)):
        rel = os.path.relpath(name, staging)
        where = f" (at {rel})" if rel != "." else ""
    elif name:
        where = f" ('{name}')"
    rest = "nothing was written" + ("; the existing one is unchanged" if kept else "")
    err = OutputError(f"could not write {what} '{shown}': {reason}{where}; {rest}. Fix: {fix}")
    err.errno = code  # (not .filename: OSError would then print only errno and name)
    return err


def _is_io_failure(exc: BaseException, staging: Path | None = None) -> bool:
    """Whether `exc` is a failure to write: an OSError, an error of a GDAL/SQLite/NetCDF writer
    (by its type or the module it was raised from: netCDF4 raises plain RuntimeErrors), or any
    error while the disk is full."""
    if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in _IO_LIBRARIES:
        return True
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    if module.split(".")[0] in _IO_LIBRARIES or module.startswith(_IO_MODULES):
        return True
    return staging is not None and staging.is_dir() and not _space_left(staging)


# ------------------------------------------------------------------------------ the claim

def _target(path: str | PathLike[str], what: str) -> Path:
    shown = os.fspath(path)
    target = Path(os.path.abspath(shown))
    if target.name in ("", ".", ".."):
        raise OutputError(f"cannot write {what} '{shown}': not a file or folder name. Fix: name the {what}")
    return target


def _check_parent(target: Path, shown: str, what: str) -> None:
    parent = target.parent
    if not parent.is_dir():
        if os.path.lexists(parent):
            raise OutputError(f"cannot write {what} '{shown}': '{parent}' is a file, not a folder. "
                              "Fix: choose a path inside a folder")
        raise OutputError(f"cannot write {what} '{shown}': folder '{parent}' does not exist. "
                          f"Fix: create it (mkdir -p '{parent}') or choose another folder")


def _check_target(target: Path, shown: str, *, folder: bool, force: bool, what: str, option: str) -> None:
    """Whether `target` may be written (checked under the lock, after the clean-up: a folder a
    killed run had renamed aside is back in place then)."""
    if not os.path.lexists(target):
        return
    if not force:
        raise OutputError(f"{what} '{shown}' exists; not overwriting. Fix: choose another name or pass {option}")
    is_dir = target.is_dir() and not target.is_symlink()
    if folder and not is_dir:
        raise OutputError(f"cannot replace '{shown}' with {what}: it is a file, and --force replaces only an "
                          "earlier output folder. Fix: remove the file or choose another name")
    if not folder and is_dir:
        raise OutputError(f"cannot replace '{shown}' with {what}: it is a folder, and --force replaces only an "
                          "earlier output file. Fix: remove the folder or choose another name")
    if folder:
        here = Path(os.path.abspath(os.getcwd()))
        if target == Path(target.anchor) or target in (here, *here.parents) or target == Path.home() \
                or os.path.ismount(target):
            raise OutputError(f"refusing to replace '{shown}': it is the current folder, one that holds it, your "
                              "home folder or a mount point. Fix: choose a folder of its own for the output")


def _publish(written: Path, target: Path, shown: str, *, force: bool, guard: _SignalGuard, what: str,
             option: str) -> None:
    if not os.path.lexists(written):
        raise OutputError(f"could not write {what} '{shown}': the writer produced nothing")
    share(written)
    aside = superseded = None
    try:
        with guard.hold():
            if os.path.lexists(target):
                if not force:  # appeared meanwhile, created by something that takes no lock
                    raise OutputError(f"{what} '{shown}' exists; not overwriting. Fix: choose another name or pass "
                                      f"{option}")
                aside = _aside_name(target.parent, target.name, "old")
                os.rename(target, aside)
            pause_point("aside")
            try:
                if aside is None and not written.is_dir():
                    _link_no_clobber(written, target)
                else:
                    os.rename(written, target)
            except OSError as exc:
                if aside is not None:
                    os.rename(aside, target)
                if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
                    raise OutputError(f"{what} '{shown}' exists; not overwriting. Fix: choose another name or pass "
                                      f"{option}") from exc
                raise _output_error(shown, exc, what, kept=aside is not None) from exc
            if aside is not None:
                superseded = _aside_name(target.parent, target.name, "del")
                os.rename(aside, superseded)
        pause_point("published")
    finally:  # also when a signal that waited for the renames ends the run now
        if superseded is not None:
            try:
                _remove(superseded)
            except OSError as exc:
                warnings.warn(SitingWarning(f"wrote '{shown}', but could not delete the version it replaced, now "
                                            f"'{superseded}': {exc}; the next write into '{target.parent}' tries "
                                            "again"), stacklevel=4)


def _link_no_clobber(src: Path, dst: Path) -> None:
    """``dst`` becomes ``src`` unless it exists (atomically: a hard link), then ``src`` goes."""
    try:
        os.link(src, dst)
    except OSError as exc:
        if exc.errno == errno.EEXIST:
            raise
        os.rename(src, dst)  # no hard links here (some shares): the lock keeps runs apart
    else:
        os.unlink(src)


def precheck(path: str | PathLike[str], *, folder: bool, force: bool = False, what: str | None = None,
             option: str = "force=True (--force)") -> None:
    """Raise the :class:`OutputError` that :func:`atomic_output` would raise at once for `path`
    (missing folder, existing target without `force`, wrong kind of target), before a long
    computation; the definitive check is made under the lock."""
    shown = os.fspath(path)
    what = what or ("output folder" if folder else "output file")
    target = _target(path, what)
    _check_parent(target, shown, what)
    _check_target(target, shown, folder=folder, force=force, what=what, option=option)


@contextmanager
def atomic_output(path: str | PathLike[str], *, folder: bool, force: bool = False, what: str | None = None,
                  option: str = "force=True (--force)") -> Iterator[Path]:
    """Claim `path`, yield where to write it, and publish it when the block ends without error.

    Parameters
    ----------
    path : path
        The output: a file, or a folder when `folder` is true.
    folder : bool
        Whether the output is a folder (the block fills the yielded folder) or a file (the block
        creates the yielded path, which does not exist yet, in a private folder).
    force : bool
        Replace an existing output of the same kind (never a file by a folder or the reverse).
    what : str, optional
        What the output is, for messages (default "output folder" / "output file").
    option : str
        How the caller says `force`, for messages.

    Raises
    ------
    OutputError
        The target exists (without `force`), another run is writing it, its folder is missing or
        not writable, the disk is full, or a writer failed on input/output; nothing is left.

    Notes
    -----
    The guarantees are in the module docstring of :mod:`siting._atomic`. Exceptions other than
    input/output failures (a bug, an interrupted run) leave nothing either and propagate as
    they are.
    """
    shown = os.fspath(path)
    what = what or ("output folder" if folder else "output file")
    target = _target(path, what)
    _check_parent(target, shown, what)
    parent = target.parent
    with _SignalGuard() as guard:
        lock = _Lock(parent, target.name)
        try:
            acquired = lock.acquire(wait_s=_LOCK_WAIT_S)
        except OSError as exc:
            raise _output_error(shown, exc, what) from exc
        if not acquired:
            raise OutputError(f"another siting run is writing {what} '{shown}' right now (it holds '{lock.path}'). "
                              "Fix: wait until it has finished, or choose another name")
        staging = None
        try:
            try:
                _recover(parent, target.name)  # also when this run is refused below
            except OSError as exc:
                raise _output_error(shown, exc, what) from exc
            _check_target(target, shown, folder=folder, force=force, what=what, option=option)
            try:
                staging = Path(tempfile.mkdtemp(prefix=f".{target.name}{_TAG}new-", dir=parent))
            except OSError as exc:
                raise _output_error(shown, exc, what) from exc
            pause_point("claimed")
            written = staging if folder else staging / target.name
            existed = os.path.lexists(target)
            try:
                yield written
                pause_point("staged")
            except SitingError:
                raise
            except Exception as exc:
                if _is_io_failure(exc, staging):
                    raise _output_error(shown, exc, what, staging=staging, kept=existed) from exc
                raise
            try:
                _publish(written, target, shown, force=force, guard=guard, what=what, option=option)
            except SitingError:
                raise
            except OSError as exc:
                raise _output_error(shown, exc, what, kept=existed) from exc
        finally:
            with guard.hold():  # a signal now waits until the clean-up is done
                try:
                    if staging is not None and os.path.lexists(staging):
                        _remove(staging)
                finally:
                    lock.release()
