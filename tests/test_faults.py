"""Results are never lost (#13 item 3, the fault tests of item 7).

Real processes are killed at named points of a real export (the writer forks from the test
process, which already holds a small evaluated study, and waits at the point named by
``SITING_TEST_PAUSE_AT``; see :func:`siting._atomic.pause_point`). After every kill the target
is absent or complete — the earlier folder or the whole new one — the user's files in a folder
being replaced survive until the new one is in place, and the next run leaves no hidden
leftovers. Concurrent runs into one target cannot both succeed. Full and read-only targets are
real tmpfs mounts where this machine allows it (root), else a chmod (non-root) or a
monkeypatched write; every writer turns them into OutputError with the reason and leaves
nothing behind.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import time
import traceback
import warnings
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from click.testing import CliRunner

from siting.errors import OutputError
from siting.evaluate import evaluate
from siting.exports import export, write_table
from siting.surface import write_raster

from .conftest import make_sites
from .grid_fixtures import embedded_layers

#: a quick bundle (≈0.1 s): ranking.csv, what_it_would_take.csv, provenance.json
FAST = ("csv", "provenance")
WITH_GPKG = ("gpkg", "csv", "provenance")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the kill tests fork the test process (POSIX)")


# ------------------------------------------------------------------------------ helpers

@pytest.fixture(scope="module")
def study():
    layers = embedded_layers()
    return evaluate(layers=layers, sites=make_sites(3)), layers


def _bundle(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes (the timestamp of provenance.json left out)."""
    out = {}
    for p in sorted(folder.rglob("*")):
        if p.is_file():
            data = p.read_bytes()
            if p.name == "provenance.json":
                prov = json.loads(data)
                prov.pop("created")
                data = json.dumps(prov, sort_keys=True).encode()
            out[p.relative_to(folder).as_posix()] = data
    return out


@pytest.fixture(scope="module")
def reference(study, tmp_path_factory):
    """The complete bundles, as an undisturbed export writes them."""
    ev, layers = study
    folder = tmp_path_factory.mktemp("reference")
    return {formats: _bundle(export(ev, folder / "-".join(formats), layers=layers, formats=formats))
            for formats in (FAST, WITH_GPKG)}


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _earlier(study, out: Path) -> dict[str, bytes]:
    """An earlier output folder with a file of the user's in it; returns its bundle."""
    ev, layers = study
    export(ev, out, layers=layers, formats=("csv",))
    (out / "notes.txt").write_text("my notes: do not lose them\n", encoding="utf-8")
    return _bundle(out)


def _fork(job, ctl: Path, pause_at: str | None = None) -> int:
    """Run `job()` in a forked child: exit 0 when it returns, 3 on OutputError (its message in
    ``ctl/error-<pid>``), 130 on KeyboardInterrupt, 70 on anything else (``ctl/crash-<pid>``).
    With `pause_at`, the child waits at that point with ``ctl/paused-<pid>`` present."""
    ctl.mkdir(exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # (Python ≥ 3.12: fork with threads)
        pid = os.fork()
    if pid:
        return pid
    # the signal handling of a command-line run (a pytest-xdist worker ignores SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    code = 70
    try:
        if pause_at is not None:
            os.environ["SITING_TEST_PAUSE_AT"] = pause_at
            os.environ["SITING_TEST_PAUSE_MARKER"] = str(ctl / f"paused-{os.getpid()}")
        job()
        code = 0
    except OutputError as exc:
        (ctl / f"error-{os.getpid()}").write_text(str(exc), encoding="utf-8")
        code = 3
    except KeyboardInterrupt:
        code = 130
    except BaseException:  # noqa: BLE001 - reported to the test
        (ctl / f"crash-{os.getpid()}").write_text(traceback.format_exc(), encoding="utf-8")
    finally:
        os._exit(code)


def _status(pid: int, ctl: Path, timeout_s: float = 60.0) -> int:
    """The child's exit code, or minus the signal that ended it."""
    deadline = time.monotonic() + timeout_s
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail(f"child {pid} did not end in {timeout_s} s")
        time.sleep(0.01)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    crash = ctl / f"crash-{pid}"
    assert code != 70, crash.read_text() if crash.exists() else "child failed"
    return code


def _paused(pid: int, ctl: Path, timeout_s: float = 60.0) -> Path:
    """Wait until the child waits at its pause point; returns its marker (delete it to resume)."""
    marker = ctl / f"paused-{pid}"
    deadline = time.monotonic() + timeout_s
    while not marker.exists():
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            crash = ctl / f"crash-{pid}"
            pytest.fail(f"child ended (status {status}) before its pause point"
                        + (f":\n{crash.read_text()}" if crash.exists() else ""))
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            pytest.fail("child did not reach its pause point")
        time.sleep(0.01)
    return marker


def _kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL


def _error(pid: int, ctl: Path) -> str:
    return (ctl / f"error-{pid}").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------ SIGKILL

@pytest.mark.parametrize("point, formats", [
    ("claimed", FAST),           # target locked, staging folder empty
    ("export:gpkg", WITH_GPKG),  # the GeoPackage written, the rest not yet
    ("export:csv", FAST),        # one table of several written
    ("staged", FAST),            # complete, not yet renamed into place
])
def test_sigkill_during_an_export_leaves_no_partial_folder(tmp_path, study, reference, point, formats):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    out = work / "out"
    pid = _fork(lambda: export(ev, out, layers=layers, formats=formats), ctl, pause_at=point)
    _paused(pid, ctl)
    _kill(pid)
    assert not os.path.lexists(out)  # absent, never half-written
    assert _hidden(work)  # what the killed run left: cleaned by the next run
    export(ev, out, layers=layers, formats=formats)
    assert _bundle(out) == reference[formats]
    assert _hidden(work) == []


# where --force is killed -> what the target holds then
FORCE_POINTS = {
    "claimed": "earlier",
    "export:csv": "earlier",
    "staged": "earlier",
    "aside": "absent",        # the earlier folder renamed aside, the new one not yet in place
    "published": "new",       # the new one in place, the earlier one not yet deleted
    "deleting": "new",        # part of the earlier one deleted
}


@pytest.mark.parametrize("point", FORCE_POINTS)
def test_sigkill_during_force_never_loses_the_earlier_folder(tmp_path, study, reference, point):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    out = work / "out"
    earlier = _earlier(study, out)
    new = reference[FAST]
    pid = _fork(lambda: export(ev, out, layers=layers, formats=FAST, force=True), ctl, pause_at=point)
    _paused(pid, ctl)
    _kill(pid)
    state = {"earlier": earlier, "new": new, "absent": None}[FORCE_POINTS[point]]
    assert (_bundle(out) if os.path.lexists(out) else None) == state
    if state is not new:  # the new bundle is not in place: the user's notes are intact, here or aside
        aside = [p for p in work.iterdir() if p.name.startswith(".out.siting-old-")]
        holders = [p for p in [out, *aside] if os.path.lexists(p)]
        assert len(holders) == 1 and _bundle(holders[0]) == earlier
    if point == "deleting":  # the superseded folder is being deleted under a name of its own
        (gone,) = [p for p in work.iterdir() if p.name.startswith(".out.siting-del-")]
        assert 0 < len(_bundle(gone)) < len(earlier)
    # the next run, even one that is refused, puts the earlier folder back or removes the rest
    with pytest.raises(OutputError, match="exists; not overwriting"):
        export(ev, out, layers=layers, formats=FAST)
    assert _bundle(out) == (new if state is new else earlier)
    assert _hidden(work) == []
    export(ev, out, layers=layers, formats=FAST, force=True)
    assert _bundle(out) == new and _hidden(work) == []


def test_sigkill_while_writing_a_table_keeps_the_earlier_file(tmp_path):
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    path = work / "t.csv"
    write_table(pd.DataFrame({"a": [1]}), path)
    before = path.read_bytes()
    new = b",a\n0,2\n"
    for point, now, after in (("claimed", before, before), ("staged", before, before), ("aside", None, before),
                              ("published", new, new)):
        pid = _fork(lambda: write_table(pd.DataFrame({"a": [2]}), path, overwrite=True), ctl, pause_at=point)
        _paused(pid, ctl)
        _kill(pid)
        assert (path.read_bytes() if path.exists() else None) == now, point
        write_table(pd.DataFrame({"a": [3]}), work / "other.csv", overwrite=True)  # a run next door tidies up
        assert _hidden(work) == [] and path.read_bytes() == after, point
        path.write_bytes(before)


# ------------------------------------------------------------------------------ signals

@pytest.mark.parametrize("sig, ends", [(signal.SIGTERM, -signal.SIGTERM), (signal.SIGINT, 130)])
def test_sigterm_and_sigint_clean_up_before_the_run_ends(tmp_path, study, sig, ends):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    out = work / "out"
    earlier = _earlier(study, out)
    pid = _fork(lambda: export(ev, out, layers=layers, formats=FAST, force=True), ctl, pause_at="export:csv")
    _paused(pid, ctl)
    os.kill(pid, sig)
    assert _status(pid, ctl) == ends  # SIGTERM still ends it by SIGTERM, after the clean-up
    assert _bundle(out) == earlier and _hidden(work) == []  # no next run needed


def test_sigterm_waits_for_the_renames_then_cleans_up(tmp_path, study, reference):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    out = work / "out"
    _earlier(study, out)
    pid = _fork(lambda: export(ev, out, layers=layers, formats=FAST, force=True), ctl, pause_at="aside")
    marker = _paused(pid, ctl)
    os.kill(pid, signal.SIGTERM)
    time.sleep(0.2)
    assert not out.exists()  # still between the two renames: the signal waits
    marker.unlink()
    assert _status(pid, ctl) == -signal.SIGTERM
    assert _bundle(out) == reference[FAST] and _hidden(work) == []


# ------------------------------------------------------------------------------ concurrency

def test_two_exports_into_one_folder_cannot_both_win(tmp_path, study, reference):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    out = work / "out"
    first = _fork(lambda: export(ev, out, layers=layers, formats=FAST), ctl, pause_at="staged")
    marker = _paused(first, ctl)
    second = _fork(lambda: export(ev, out, layers=layers, formats=("csv",)), ctl)
    forced = _fork(lambda: export(ev, out, layers=layers, formats=("csv",), force=True), ctl)
    for pid in (second, forced):
        assert _status(pid, ctl) == 3
        assert "another siting run is writing output folder" in _error(pid, ctl)
    marker.unlink()
    assert _status(first, ctl) == 0
    assert _bundle(out) == reference[FAST] and _hidden(work) == []
    with pytest.raises(OutputError, match="exists; not overwriting"):
        export(ev, out, layers=layers, formats=("csv",))


@pytest.mark.parametrize("writer", ["export", "write_table"])
def test_racing_runs_one_wins_the_other_is_refused(tmp_path, study, reference, writer):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    table = pd.DataFrame({"a": range(1000)})
    for round_ in range(3):
        out = work / (f"out{round_}" if writer == "export" else f"t{round_}.csv")
        go = ctl / f"go{round_}"

        def job(out=out, go=go):
            while not go.exists():
                time.sleep(0.001)
            if writer == "export":
                export(ev, out, layers=layers, formats=FAST)
            else:
                write_table(table, out)

        pids = [_fork(job, ctl) for _ in range(2)]
        time.sleep(0.05)
        go.touch()
        codes = sorted(_status(pid, ctl) for pid in pids)
        assert codes == [0, 3], codes
        (loser,) = [pid for pid in pids if (ctl / f"error-{pid}").exists()]
        assert any(s in _error(loser, ctl) for s in ("exists; not overwriting", "another siting run is writing"))
        if writer == "export":
            assert _bundle(out) == reference[FAST]
        else:
            pd.testing.assert_frame_equal(pd.read_csv(out, index_col=0), table)
        assert _hidden(work) == []


def test_a_run_never_touches_what_a_live_run_next_door_holds(tmp_path, study, reference):
    ev, layers = study
    work, ctl = tmp_path / "work", tmp_path / "ctl"
    work.mkdir()
    slow = _fork(lambda: export(ev, work / "a", layers=layers, formats=FAST), ctl, pause_at="staged")
    marker = _paused(slow, ctl)
    held = _hidden(work)
    export(ev, work / "b", layers=layers, formats=FAST)  # cleans up next door: only what no live run holds
    assert _hidden(work) == held
    marker.unlink()
    assert _status(slow, ctl) == 0
    assert _bundle(work / "a") == _bundle(work / "b") == reference[FAST] and _hidden(work) == []


def test_leftovers_of_earlier_versions_are_removed(tmp_path, study):
    ev, layers = study
    (tmp_path / ".out.k3j4h5g6").mkdir()  # siting < 2026-12: tempfile.mkdtemp(prefix=".out.")
    (tmp_path / ".out.k3j4h5g6" / "ranking.csv").write_text("half")
    (tmp_path / ".t.abcd_123.csv").write_text("half")  # tempfile.mkstemp(prefix=".t.", suffix=".csv")
    (tmp_path / ".hidden-of-the-user").write_text("mine")
    export(ev, tmp_path / "out", layers=layers, formats=("csv",))
    write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    assert _hidden(tmp_path) == [".hidden-of-the-user"]


# ------------------------------------------------------------------------------ full and read-only targets

def _mount_tmpfs(path: Path, size: str) -> str | None:
    """Mount a tmpfs of `size` at the new folder `path`; None when done, else why not."""
    path.mkdir()
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    try:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0777", "tmpfs", str(path)],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"cannot mount a tmpfs: {exc}"
    return f"cannot mount a tmpfs: {done.stderr.strip()}" if done.returncode else None


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], capture_output=True, timeout=20)


@contextmanager
def _tmpfs(path: Path, size: str):
    """A small tmpfs at `path` (skips where mounting is not allowed)."""
    why = _mount_tmpfs(path, size)
    if why:
        pytest.skip(why)
    try:
        yield path
    finally:
        _umount(path)


def _surface_like(n: int = 200) -> xr.Dataset:
    """A raster of `n` × `n` incompressible float32 cells (≈ n² × 4 bytes in the file)."""
    rng = np.random.default_rng(0)
    res = 250.0
    x = 100_000 + res * (np.arange(n) + 0.5)
    y = 500_000 - res * (np.arange(n) + 0.5)
    return xr.Dataset({"score": (("y", "x"), rng.random((n, n)).astype("float32"))}, coords={"x": x, "y": y},
                      attrs={"crs": "EPSG:28992", "transform": [100_000.0, res, 0.0, 500_000.0, 0.0, -res]})


def _writers(study):
    """Every writer, each with an output too big for a 64 KiB disk: name -> write(path, force)."""
    ev, layers = study
    big = make_sites(2000).assign(note="x" * 100)

    def html(path, force):
        from siting.webmap import html_map

        return html_map(ev, layers, path, overwrite=force)

    return {
        "export": ("out", lambda p, f: export(ev, p, layers=layers, formats=WITH_GPKG, force=f)),
        "write_table csv": ("t.csv", lambda p, f: write_table(big, p, overwrite=f)),
        "write_table gpkg": ("t.gpkg", lambda p, f: write_table(big, p, overwrite=f)),
        "write_table geojson": ("t.geojson", lambda p, f: write_table(big, p, overwrite=f)),
        "write_raster tif": ("s.tif", lambda p, f: write_raster(_surface_like(), p, overwrite=f)),
        "write_raster nc": ("s.nc", lambda p, f: write_raster(_surface_like(), p, overwrite=f)),
        "html_map": ("map.html", html),
    }


WRITERS = ["export", "write_table csv", "write_table gpkg", "write_table geojson", "write_raster tif",
           "write_raster nc", "html_map"]


@pytest.mark.parametrize("writer", WRITERS)
def test_full_disk_is_an_output_error_and_leaves_nothing(tmp_path, study, writer):
    name, write = _writers(study)[writer]
    with _tmpfs(tmp_path / "full", "64k") as disk:
        (disk / "keep.txt").write_text("the user's")
        with pytest.raises(OutputError, match=r"(?s)no space left on the device.*nothing was written") as info:
            write(disk / name, False)
        assert info.value.errno == errno.ENOSPC
        assert sorted(p.name for p in disk.iterdir()) == ["keep.txt"]


def test_full_disk_keeps_the_earlier_output_on_force(tmp_path, study):
    ev, layers = study
    with _tmpfs(tmp_path / "full", "96k") as disk:
        earlier = _earlier(study, disk / "out")
        with pytest.raises(OutputError, match="no space left on the device.*the existing one is unchanged"):
            export(ev, disk / "out", layers=layers, formats=WITH_GPKG, force=True)
        assert _bundle(disk / "out") == earlier and _hidden(disk) == []


def test_full_disk_monkeypatched(tmp_path, study, monkeypatch):
    """Where no tmpfs can be mounted: the writes fail as on a full disk (ENOSPC from a plain
    write; a GDAL error while no space is left)."""
    import pyogrio

    import siting._atomic

    ev, layers = study
    earlier = _earlier(study, tmp_path / "out")

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(pd.DataFrame, "to_csv", no_space)
        with pytest.raises(OutputError, match="no space left on the device.*the existing one is unchanged") as info:
            export(ev, tmp_path / "out", layers=layers, formats=FAST, force=True)
        assert info.value.errno == errno.ENOSPC
        with pytest.raises(OutputError, match="no space left"):
            write_table(pd.DataFrame({"a": [1]}), tmp_path / "t.csv")
    with monkeypatch.context() as m:
        def gdal_fails(*args, **kwargs):
            raise pyogrio.errors.DataSourceError("Failed to commit transaction")

        m.setattr(pyogrio, "write_dataframe", gdal_fails)
        m.setattr(siting._atomic, "_space_left", lambda folder: False)
        with pytest.raises(OutputError, match=r"no space left on the device \(DataSourceError: Failed to commit"):
            export(ev, tmp_path / "out", layers=layers, formats=WITH_GPKG, force=True)
    assert _bundle(tmp_path / "out") == earlier
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


@pytest.fixture
def read_only(tmp_path):
    """A folder holding an earlier output that cannot be written: a read-only tmpfs (root), a
    folder without write permission (non-root), else monkeypatched EROFS. Yields (folder, how)."""
    folder = tmp_path / "ro"
    if os.geteuid() != 0:
        folder.mkdir()
        yield folder, "chmod"
        folder.chmod(0o755)
    elif _mount_tmpfs(folder, "1m") is None:
        yield folder, "tmpfs"
        _umount(folder)
    else:
        yield folder, "monkeypatch"


def _make_read_only(folder: Path, how: str, monkeypatch) -> None:
    import tempfile

    import siting._atomic

    if how == "chmod":
        folder.chmod(0o555)
    elif how == "tmpfs":
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True, capture_output=True, timeout=20)
    else:
        def erofs(*args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(folder))

        monkeypatch.setattr(siting._atomic._Lock, "acquire", erofs)
        monkeypatch.setattr(tempfile, "mkdtemp", erofs)


@pytest.mark.parametrize("writer", ["export", "write_table csv", "write_raster tif", "html_map"])
def test_read_only_target_is_an_output_error_and_the_earlier_output_stays(read_only, study, writer, monkeypatch):
    folder, how = read_only
    name, write = _writers(study)[writer]
    earlier = _earlier(study, folder / "earlier")
    (folder / name).mkdir() if writer == "export" else (folder / name).write_bytes(b"earlier")
    before = sorted(p.name for p in folder.iterdir())
    _make_read_only(folder, how, monkeypatch)
    reason = "permission denied" if how == "chmod" else "the file system is read-only"
    for force in (False, True):
        with pytest.raises(OutputError, match=f"(?s){reason}.*nothing was written"):
            write(folder / f"new-{name}", force)
        if force:
            with pytest.raises(OutputError, match=reason):
                write(folder / name, True)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert _bundle(folder / "earlier") == earlier


@pytest.mark.parametrize("writer", WRITERS + ["static_map"])
def test_missing_folder_and_wrong_kind_of_target(tmp_path, study, writer):
    if writer == "static_map":
        from siting.maps import static_map

        ev, layers = study
        name, write = "map.png", lambda p, f: static_map(ev, layers, p, overwrite=f)
    else:
        name, write = _writers(study)[writer]
    with pytest.raises(OutputError, match="folder '.*missing' does not exist. Fix: create it"):
        write(tmp_path / "missing" / name, False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        write(tmp_path / "file" / name, False)
    wrong = tmp_path / name
    wrong.write_text("a file") if writer == "export" else wrong.mkdir()
    with pytest.raises(OutputError, match="cannot replace .* it is a (file|folder)"):
        write(wrong, True)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["file", name])


# ------------------------------------------------------------------------------ the command line

@pytest.fixture
def quick_rank(study, monkeypatch):
    """``siting rank`` on the small study (the evaluation reused; the export is real)."""
    import sys

    ev, layers = study
    # (the modules by name: the package's attributes of the same names are the functions)
    monkeypatch.setattr(sys.modules["siting.evaluate"], "evaluate", lambda **kwargs: ev)
    monkeypatch.setattr(sys.modules["siting.layers"], "load_layers", lambda *args, **kwargs: layers)

    def run(out: Path, *flags: str):
        from siting.cli import main

        return CliRunner().invoke(main, ["--quiet", "rank", "--samples", "5", "--out", str(out), *flags])

    return run


def test_cli_io_errors_exit_2_with_the_reason(tmp_path, quick_rank, read_only, monkeypatch):
    folder, how = read_only
    result = quick_rank(tmp_path / "missing" / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output and "does not exist" in result.output

    def no_space(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with monkeypatch.context() as m:
        m.setattr(pd.DataFrame, "to_csv", no_space)
        result = quick_rank(tmp_path / "full")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "no space left on the device" in result.output and not (tmp_path / "full").exists()
    (folder / "keep.txt").write_text("mine")
    _make_read_only(folder, how, monkeypatch)
    result = quick_rank(folder / "out")
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ("permission denied" if how == "chmod" else "read-only") in result.output
    assert [p.name for p in folder.iterdir()] == ["keep.txt"]
    assert _hidden(tmp_path) == []
