"""A worker process for the bootstrap refits of prospective flags (the command line's report).

The refits of :mod:`turnover_risk.groups._bootstrap` spend part of their time in Python (the
gradient-boosting tree grower, scikit-learn's input checks), so threads of one process share
one interpreter lock with the report's other sections and use the second core only in part.
While :func:`refit_process` is active, a draw may also be refitted in one worker process
(``python -P -c ...`` running :func:`_serve`), started at the beginning of the block so that
its imports overlap the caller's; ``turnover-risk report`` passes its own worker instead
(``cli/_report_worker.py``: started before reading the model and the register, it writes the
register's sections first, then runs :func:`_serve` on the same pipes). The caller's thread takes draws from the end of the list and the worker
from the front, one at a time, until none is left.

The same numbers either way: a refit is a function of its arrays alone (the classifier's
class and parameters, with its ``random_state``, the draw's rows of the design, their labels
and the rows to predict), run with one BLAS and OpenMP thread in both processes. Nothing is
pickled: the worker reads a JSON line (an allow-listed classifier class and its parameters)
and the arrays in NumPy's ``.npz`` format (``allow_pickle=False``), and answers with the
risks as ``.npy``; it reads no file. When the worker cannot start, the classifier or its
parameters cannot be sent, or the worker fails, the draw is refitted in the calling process.

This module imports only the standard library and NumPy at load time: it is what the worker
imports.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import numpy as np

_WORKER: _Worker | None = None
"""The worker while :func:`refit_process` is active, else None."""

CLASSES = {
    "HistGradientBoostingClassifier": "sklearn.ensemble",
    "LogisticRegression": "sklearn.linear_model",
}
"""The classifiers a worker may build (class name: module), by the name sent to it."""


def fit_predict(estimator: Any, X: np.ndarray, y: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Fit the unfitted ``estimator`` on ``(X, y)``; its risks of ``target``.

    The risk is ``expit`` of the decision function, clipped to [0, 1], as
    :meth:`TurnoverRiskModel.predict_proba <turnover_risk.TurnoverRiskModel.predict_proba>`.
    Runs with one OpenMP thread in the calling thread (the caller limits BLAS).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> risk = fit_predict(LogisticRegression(), X, np.array([0, 0, 1, 1]), X)
    >>> bool(risk[0] < 0.5 < risk[-1])
    True
    """
    from scipy.special import expit
    from threadpoolctl import threadpool_limits

    # OpenMP's thread count is set per thread: each thread limits its own
    with threadpool_limits(limits=1, user_api="openmp"):
        fitted = estimator.fit(X, y)
        raw = np.asarray(fitted.decision_function(target), dtype=float).ravel()
    return np.clip(expit(raw), 0.0, 1.0)


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _read_frame(stream) -> tuple[dict, bytes]:
    line = stream.readline()
    if not line:
        raise EOFError("the refit worker's pipe closed")
    head = json.loads(line)
    size = int(head.get("size", 0))
    body = stream.read(size) if size else b""
    if len(body) != size:
        raise EOFError("the refit worker's pipe closed mid-message")
    return head, body


def _write_frame(stream, head: dict, body: bytes = b"") -> None:
    stream.write((json.dumps({**head, "size": len(body)}) + "\n").encode())
    stream.write(body)
    stream.flush()


def _serve(
    stdin=None,
    stdout=None,
    before_writing: Callable[[], None] | None = None,
    warm: bool = True,
    jobs: dict[str, Callable[[dict, bytes], tuple[dict, bytes]]] | None = None,
    answer: Callable[[dict, bytes], None] | None = None,
) -> None:
    """The worker's loop: a refit per request on ``stdin``, its risks on ``stdout``, until EOF.

    Without streams, the process's own (a worker started for the refits alone); the command
    line's report worker (``cli/_report_worker.py``) passes its streams after its first job,
    and ``before_writing``, called before each refit's answer (its own answers are written by
    a thread). ``warm``: import scikit-learn's estimators now, while the caller reads its inputs
    (False: at the first request, when refits are unlikely). ``jobs``: requests of other kinds
    served in between (``head["job"]`` names the function that answers them), their answers
    written by ``answer`` (a thread of the caller's: this loop goes on reading requests).
    """
    import importlib

    from threadpoolctl import threadpool_limits

    if stdin is None or stdout is None:  # a process of its own
        from turnover_risk import _process

        _process.as_program()
        stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
        sys.stdout = sys.stderr  # a stray print must not enter the answers
    if warm:
        importlib.import_module("sklearn.ensemble")
    warnings.simplefilter("ignore")
    with threadpool_limits(limits=1):
        while True:
            try:
                head, body = _read_frame(stdin)
            except EOFError:
                return
            if jobs and head.get("job") in jobs:
                (answer or partial(_write_frame, stdout))(*jobs[head["job"]](head, body))
                continue
            if before_writing is not None:  # every answer written by the caller's thread
                before_writing()
            try:
                module = importlib.import_module(CLASSES[head["cls"]])
                estimator = getattr(module, head["cls"])(**head["params"])
                with np.load(io.BytesIO(body), allow_pickle=False) as arrays:
                    risk = fit_predict(estimator, arrays["X"], arrays["y"], arrays["target"])
                out = io.BytesIO()
                np.save(out, risk, allow_pickle=False)
                _write_frame(stdout, {"ok": True}, out.getvalue())
            except Exception as err:  # reported to the caller, which refits there
                _write_frame(stdout, {"ok": False, "error": f"{type(err).__name__}: {err}"})


class _Worker:
    """The caller's end of a worker process (one request at a time).

    ``code`` is the Python code the process runs (default: :func:`_serve`). A worker that first
    does another job (the command line's report sections) names it in :attr:`awaiting`: its
    answer is read, and kept in :attr:`answers`, before the first refit is sent, so that
    neither process waits on a full pipe while the other writes.
    """

    def __init__(self, code: str | None = None) -> None:
        import subprocess

        # the folder that holds this turnover_risk package, first on the worker's path
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        code = code or "from turnover_risk.groups._refit_worker import _serve; _serve()"
        one = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-c", f"import sys; sys.path.insert(0, {root!r}); {code}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **one},
        )
        self.done = 0  # refits answered by the worker
        self.lock = threading.Lock()  # one request and its answer at a time on the pipes
        # one writer at a time on the worker's stdin (a request sent by a thread of the
        # caller's, ReportWorker._send, may be written while a refit is asked for)
        self.write_lock = threading.Lock()
        self.awaiting: list[str] = []  # jobs sent before the refits, answers not read yet
        self.answers: dict[str, tuple[dict, bytes]] = {}

    def send(self, job: str, head: dict, body: bytes = b"") -> None:
        """Send the job ``job`` (answered by a frame whose head has ``"job": job``)."""
        with self.lock, self.write_lock:
            _write_frame(self.proc.stdin, {**head, "job": job}, body)
            self.awaiting.append(job)

    def _read_awaited(self, until: str | None = None) -> None:
        """Read the answers of the jobs sent, or of those up to the job ``until`` (the caller
        holds :attr:`lock`)."""
        while self.awaiting and (until is None or until not in self.answers):
            head, body = _read_frame(self.proc.stdout)
            job = head.get("job")
            if job not in self.awaiting:
                raise RuntimeError(f"the worker answered {job!r}, not {self.awaiting[0]!r}")
            self.awaiting.remove(job)
            self.answers[job] = (head, body)

    def answer(self, job: str) -> tuple[dict, bytes]:
        """The answer of ``job`` (waits for it); raises when the worker failed or ended."""
        with self.lock:
            if job not in self.answers:
                self._read_awaited(until=job)
            return self.answers[job]

    @staticmethod
    def request(estimator: Any) -> dict | None:
        """The JSON head that rebuilds ``estimator`` in the worker, or None if it cannot."""
        name = type(estimator).__name__
        if CLASSES.get(name) is None or not type(estimator).__module__.startswith(CLASSES[name]):
            return None
        params = estimator.get_params(deep=False)
        try:
            if json.loads(json.dumps(params)) != params:  # e.g. a tuple would come back a list
                return None
        except (TypeError, ValueError):
            return None
        return {"cls": name, "params": params}

    def fit_predict(self, head: dict, X, y, target) -> np.ndarray:
        buf = io.BytesIO()
        np.savez(buf, X=X, y=y, target=target)
        with self.lock:
            self._read_awaited()  # which includes those of requests still being written
            with self.write_lock:
                _write_frame(self.proc.stdin, head, buf.getvalue())
            answer, body = _read_frame(self.proc.stdout)
        if not answer.get("ok"):
            raise RuntimeError(answer.get("error", "the refit failed in the worker"))
        self.done += 1
        return np.load(io.BytesIO(body), allow_pickle=False)

    def close(self) -> None:
        """End the worker at once: it holds nothing (no request is in flight once the refits
        have returned), and one still importing would otherwise delay an early error exit."""
        try:
            self.proc.stdin.close()
            self.proc.terminate()
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()


WHEN = "free core"
"""When :func:`refit_process` starts a worker: ``"free core"`` (default: a core is likely idle,
the 1-minute load average under the CPUs less one half, which lets reports run back to back;
on a busy machine a second process only adds its imports), ``"always"`` or ``"never"``. The
benchmark sets it to compare."""


def _free_core() -> bool:
    cpus = _cpus()
    if cpus < 2:
        return False
    try:
        return os.getloadavg()[0] < cpus - 0.5
    except (AttributeError, OSError):  # no load average here (Windows)
        return True


def wanted(start: bool = True) -> bool:
    """Whether a worker process should be started for work worth one (see :data:`WHEN`)."""
    return start and WHEN != "never" and (WHEN == "always" or _free_core())


@contextlib.contextmanager
def refit_process(start: bool = True, worker: _Worker | None = None) -> Iterator[bool]:
    """Let the bootstrap refits run partly in one worker process while the block runs.

    Parameters
    ----------
    start : bool
        Whether the refits to come are worth a process (the command line's report: a
        gradient-boosting model). False: the block runs as without it.
    worker : _Worker, optional
        A worker already started by the caller (the command line's report worker, which
        does the register's sections first and then serves refits); used with ``start``,
        and closed by the caller, not here.

    Yields whether a worker is used: only with ``start``, on two CPUs or more with one
    idle (see :data:`WHEN`), and where a process can be started; else the refits run in this
    process, as without the block. Nested blocks use the outer worker.

    Examples
    --------
    >>> with refit_process() as started:  # doctest: +SKIP
    ...     flags = tr.flag_groups(model, panel, n_boot=10)
    """
    global _WORKER
    if _WORKER is not None or not start or (worker is None and not wanted(start)):
        yield _WORKER is not None
        return
    owned = worker is None
    if owned:
        try:
            worker = _Worker()
        except Exception:  # no process can be started here: refit in this process
            yield False
            return
    _WORKER = worker
    try:
        yield True
    finally:
        _WORKER = None
        if owned:
            worker.close()


def shared_refits(
    make: Callable[[int], tuple[Any, np.ndarray, np.ndarray]], target: np.ndarray, n: int
) -> list[np.ndarray] | None:
    """Risks of ``target`` from the ``n`` refits ``make(i) -> (estimator, X, y)``, shared with
    the worker; ``None`` when no worker is active or the classifier cannot be sent to it (the
    caller then refits as it would without).

    The worker refits draws from the front, this thread from the back, one at a time each; a
    draw the worker could not refit is refitted here. The list is in draw order.
    """
    worker = _WORKER
    if worker is None or n < 2 or worker.proc.poll() is not None:
        return None
    head = worker.request(make(0)[0])
    if head is None:
        return None
    results: list[np.ndarray | None] = [None] * n
    lock = threading.Lock()
    bounds = [0, n]  # draws [bounds[0], bounds[1]) are not taken yet

    def take(front: bool) -> int | None:
        with lock:
            if bounds[0] >= bounds[1]:
                return None
            if front:
                bounds[0] += 1
                return bounds[0] - 1
            bounds[1] -= 1
            return bounds[1]

    def remote() -> None:
        while (i := take(front=True)) is not None:
            _, X, y = make(i)
            try:
                results[i] = worker.fit_predict(head, X, y, target)
            except Exception:  # the worker failed: this draw is refitted here, the rest too
                break
        else:
            return
        try:
            results[i] = fit_predict(*make(i), target)
        except BaseException as err:  # raised in the caller's thread below
            errors.append(err)

    errors: list[BaseException] = []
    helper = threading.Thread(target=remote, name="turnover-risk-refit-worker", daemon=True)
    helper.start()
    try:
        while (i := take(front=False)) is not None:
            results[i] = fit_predict(*make(i), target)
    except BaseException:
        with lock:  # the worker takes no further draw
            bounds[0] = bounds[1]
        raise
    finally:
        helper.join()
    if errors:
        raise errors[0]
    return results  # type: ignore[return-value]
