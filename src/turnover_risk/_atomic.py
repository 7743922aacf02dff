"""Outputs that are never half-written and never replace a file by accident (private module).

Every writer of the library goes through here:

* :func:`temp_path` names a hidden temporary sibling of the output,
  ``.<name>.<pid>-<random>.partial``, in the output's own folder (so the final move is a rename
  on one file system) and registers it, so :func:`install_signal_cleanup` can remove it when the
  process is stopped with SIGINT or SIGTERM;
* :func:`publish` flushes the temporary file to disk (``fsync``) and moves it into place. Without
  ``overwrite`` the move is a hard link (``os.link``), which fails if the name exists: of two runs
  writing the same output at the same time exactly one wins and the other gets
  ``FileExistsError``, instead of the existence check before and the rename after that let the
  later run silently replace the earlier one;
* :func:`check_target` refuses an output that is one of the inputs (also through a symlink or a
  hard link) or would replace or be read back as a file of an input folder, an existing output
  without ``overwrite``, and a folder in the way;
* :func:`sweep_leftovers` removes the temporary files of runs that were killed (SIGKILL, power
  loss): their process id no longer runs on this machine. One line is logged per removed file.

:func:`atomic_output` is the context manager that combines them. Only the standard library is
used (this is a base module).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import secrets
import shutil
import signal
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from turnover_risk._errors import TurnoverRiskInputError

__all__ = [
    "Interrupted",
    "atomic_output",
    "check_target",
    "discard",
    "install_signal_cleanup",
    "publish",
    "refuse_inputs",
    "stopped",
    "sweep_leftovers",
    "temp_path",
]

_log = logging.getLogger("turnover_risk")

_LEFTOVER = re.compile(r"^\..+\.(?P<pid>\d+)-[0-9a-f]{8}\.partial$")
_LIVE: set[Path] = set()
_LOCK = threading.Lock()
_STOPPED: list[int] = []  # the signals received; after one, nothing is published any more


class Interrupted(KeyboardInterrupt):
    """The process got SIGINT or SIGTERM; its temporary files were removed.

    A ``KeyboardInterrupt``, so ``except Exception`` does not swallow it and code that cleans up
    on Ctrl-C does so on SIGTERM too. ``signum`` is the signal; the command line exits with
    ``128 + signum``.
    """

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum

    def __str__(self) -> str:
        return f"stopped by {signal.Signals(self.signum).name}"


# --------------------------------------------------------------------------------------------
# temporary names
# --------------------------------------------------------------------------------------------


def temp_path(out: str | Path) -> Path:
    """A new hidden temporary sibling of ``out``: ``.<name>.<pid>-<8 hex>.partial``.

    The path is registered for removal on SIGINT/SIGTERM until :func:`publish` or
    :func:`discard` is called with it. Nothing is created.

    Examples
    --------
    >>> p = temp_path("/data/out/risk.parquet")
    >>> p.parent.as_posix(), p.name.startswith(".risk.parquet."), p.suffix
    ('/data/out', True, '.partial')
    >>> discard(p)
    """
    _raise_if_stopped()
    out = Path(out)
    tmp = out.parent / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.partial"
    with _LOCK:
        _LIVE.add(tmp)
    return tmp


def discard(tmp: str | Path) -> None:
    """Remove a temporary file or folder (if it exists) and forget it."""
    tmp = Path(tmp)
    with _LOCK:
        _LIVE.discard(tmp)
    _remove(tmp)


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    except OSError:  # pragma: no cover - best effort during cleanup
        pass


def _fsync(path: Path) -> None:
    """Flush a file, or a folder and the files in it, to disk (best effort for folders)."""
    paths = [path]
    if path.is_dir():
        paths = [p for p in path.rglob("*") if p.is_file()] + [path]
    for p in paths:
        try:
            fd = os.open(p, os.O_RDONLY)
        except OSError:  # pragma: no cover - e.g. a folder on a platform without O_RDONLY dirs
            continue
        try:
            os.fsync(fd)
        except OSError as err:  # folders cannot be fsynced on some file systems
            if not p.is_dir():
                raise
            del err
        finally:
            os.close(fd)


# --------------------------------------------------------------------------------------------
# checks before writing
# --------------------------------------------------------------------------------------------


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def refuse_inputs(out: str | Path, inputs: Iterable[str | Path | None]) -> None:
    """Raise if ``out`` is one of ``inputs``, or inside an input folder would be read back.

    Symlinks are resolved and hard links compared by inode, so ``out`` cannot reach an input by
    another name. Inside an input folder, an existing file (it may be an input) and a new
    ``.parquet`` file (panel folders read every one) are refused; a new CSV or HTML file there
    is fine.

    Raises
    ------
    TurnoverRiskInputError
        Naming the output and the input it would replace.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "panel.parquet").write_bytes(b"")
    0
    >>> refuse_inputs(d / "scores.parquet", [d / "panel.parquet"])  # fine
    >>> refuse_inputs(d / "panel.parquet", [d / "panel.parquet"])
    Traceback (most recent call last):
    ...
    turnover_risk._errors.TurnoverRiskInputError: ...
    """
    out = Path(out)
    real_out = out.resolve()
    for item in inputs:
        if item is None:
            continue
        src = Path(item)
        real_src = src.resolve()
        if real_out == real_src or _same(out, src):
            raise TurnoverRiskInputError(
                f"the output {str(out)!r} is the input {str(src)!r}; writing it would destroy "
                "the input. Choose another output name."
            )
        inside = src.is_dir() and real_src in real_out.parents
        if inside and (out.exists() or out.suffix.lower() == ".parquet"):
            raise TurnoverRiskInputError(
                f"the output {str(out)!r} lies inside the input folder {str(src)!r} and "
                f"{'would replace a file there' if out.exists() else 'would be read back as input'}"
                ". Write it to another folder."
            )


def check_target(
    out: str | Path,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | Path | None] = (),
    folder_ok: bool = False,
) -> Path:
    """Check an output path before any work is done; returns it as a ``Path``.

    Creates the output's folder if needed and removes leftovers of killed runs there
    (:func:`sweep_leftovers`).

    Parameters
    ----------
    out : str or Path
        The output file (or folder, with ``folder_ok``).
    overwrite : bool
        Allow an existing output to be replaced (when the new one is complete).
    inputs : iterable of paths
        The files and folders the run reads; ``out`` may not be one of them.
    folder_ok : bool
        The output is a folder (row-level Dask output), so an existing folder is an existing
        output rather than "a folder in the way".

    Raises
    ------
    TurnoverRiskInputError
        ``out`` is an input or lies inside an input folder.
    IsADirectoryError
        A folder is in the way of an output file.
    FileExistsError
        ``out`` exists and ``overwrite`` is False.
    """
    out = Path(out)
    refuse_inputs(out, inputs)
    if out.is_dir() and not folder_ok:
        raise IsADirectoryError(
            errno.EISDIR, "a folder is in the way of the output file; give a file name", str(out)
        )
    if out.exists() and not overwrite:
        raise FileExistsError(
            errno.EEXIST, "the output already exists; pass overwrite=True (CLI: --overwrite) to "
            "replace it, or choose another name", str(out)
        )  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(out.parent)
    return out


# --------------------------------------------------------------------------------------------
# moving into place
# --------------------------------------------------------------------------------------------


def publish(tmp: str | Path, out: str | Path, *, overwrite: bool = False) -> Path:
    """Flush ``tmp`` to disk and move it to ``out``; returns ``out``.

    Without ``overwrite`` an existing ``out`` is never replaced, also when another process
    creates it in the meantime: the move is ``os.link`` (a file) or ``os.mkdir`` then
    ``os.rename`` (a folder), both of which fail if the name is taken. ``tmp`` is removed in
    every case.

    Raises
    ------
    FileExistsError
        ``out`` exists and ``overwrite`` is False (``tmp`` is removed).
    IsADirectoryError
        A folder is in the way of an output file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> t = temp_path(d / "a.txt"); _ = t.write_text("one")
    >>> publish(t, d / "a.txt").read_text()
    'one'
    >>> t = temp_path(d / "a.txt"); _ = t.write_text("two")
    >>> publish(t, d / "a.txt")
    Traceback (most recent call last):
    ...
    FileExistsError: [Errno 17] the output already exists (another run wrote it meanwhile); ...
    >>> sorted(p.name for p in d.iterdir())
    ['a.txt']
    """
    tmp, out = Path(tmp), Path(out)
    try:
        _raise_if_stopped()  # the stop may have been swallowed (a handler run inside __del__)
        _fsync(tmp)
        if tmp.is_dir():
            _publish_folder(tmp, out, overwrite)
        elif out.is_dir():
            raise IsADirectoryError(
                errno.EISDIR, "a folder is in the way of the output file", str(out)
            )
        elif overwrite:
            os.replace(tmp, out)
        else:
            _link_no_clobber(tmp, out)
        _fsync_folder(out.parent)
    finally:
        discard(tmp)
    return out


def _exists_error(out: Path) -> FileExistsError:
    return FileExistsError(
        errno.EEXIST,
        "the output already exists (another run wrote it meanwhile); pass overwrite=True "
        "(CLI: --overwrite) to replace it, or choose another name",
        str(out),
    )


def _link_no_clobber(tmp: Path, out: Path) -> None:
    try:
        os.link(tmp, out)
    except FileExistsError:
        raise _exists_error(out) from None
    except OSError as err:
        if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # no hard links on this file system: claim the name exclusively, then rename over it
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise _exists_error(out) from None
        os.close(fd)
        os.replace(tmp, out)


def _publish_folder(tmp: Path, out: Path, overwrite: bool) -> None:
    if not out.exists() or out.is_symlink():
        if out.is_symlink() and not overwrite:
            raise _exists_error(out)
        try:
            os.mkdir(out)  # claims the name; renaming a folder onto an empty one is atomic
        except FileExistsError:
            if not overwrite:
                raise _exists_error(out) from None
        try:
            os.rename(tmp, out)
        except BaseException:
            with contextlib.suppress(OSError):
                out.rmdir()  # the claimed name, still empty
            raise
        return
    if not overwrite:
        raise _exists_error(out)
    if out.is_dir():
        old = temp_path(out)
        os.replace(out, old)
        os.replace(tmp, out)
        discard(old)
    else:
        out.unlink()
        os.rename(tmp, out)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - not supported on every file system
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_output(
    out: str | Path,
    *,
    overwrite: bool = False,
    inputs: Iterable[str | Path | None] = (),
) -> Iterator[Path]:
    """Write to a temporary file and move it to ``out`` when the block ends without error.

    The output is checked first (:func:`check_target`); on any error or interruption the
    temporary file is removed and ``out`` is untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "table.csv"
    >>> with atomic_output(out) as tmp:
    ...     _ = tmp.write_text("a,b\\n1,2\\n")
    >>> out.read_text()
    'a,b\\n1,2\\n'
    """
    out = check_target(out, overwrite=overwrite, inputs=inputs)
    tmp = temp_path(out)
    try:
        yield tmp
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, out, overwrite=overwrite)


# --------------------------------------------------------------------------------------------
# leftovers of killed runs and signals
# --------------------------------------------------------------------------------------------


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # runs, under another user
        return True
    except OSError:  # pragma: no cover - e.g. a pid out of range
        return False
    return True


def sweep_leftovers(folder: str | Path) -> list[Path]:
    """Remove the temporary files in ``folder`` left by runs that no longer run.

    A temporary file is a leftover when its name is ``.<name>.<pid>-<8 hex>.partial`` and no
    process with that id runs on this machine (a run stopped with SIGKILL or by a power loss).
    Each removal is logged as one line (logger ``turnover_risk``, level WARNING). Files of
    running processes are left alone.

    Returns
    -------
    list of Path
        The files and folders removed.
    """
    folder = Path(folder)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        m = _LEFTOVER.match(entry.name)
        if m is None or _alive(int(m.group("pid"))):
            continue
        path = Path(entry.path)
        _remove(path)
        if not path.exists():
            removed.append(path)
            _log.warning(
                "turnover-risk: removed %s, a temporary file left by a stopped run (process %s)",
                path,
                m.group("pid"),
            )
    return removed


def _cleanup_live() -> None:
    with _LOCK:
        live = list(_LIVE)
        _LIVE.clear()
    for tmp in live:
        _remove(tmp)


def stopped() -> int | None:
    """The signal that stopped this process (SIGINT/SIGTERM with the handlers on), else None."""
    return _STOPPED[0] if _STOPPED else None


def _raise_if_stopped() -> None:
    if _STOPPED:
        raise Interrupted(_STOPPED[0])


def _on_signal(signum: int, frame) -> None:
    _STOPPED.append(signum)
    _cleanup_live()
    raise Interrupted(signum)


def install_signal_cleanup() -> None:
    """Remove every registered temporary file on SIGINT and SIGTERM, then raise :class:`Interrupted`.

    Called by the command line at start (only the main thread can install signal handlers; in
    another thread this does nothing). Library code that writes removes its temporary file in
    ``except BaseException`` anyway; the handler also covers a stop while that code is inside a
    long C call.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    _STOPPED.clear()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _on_signal)
