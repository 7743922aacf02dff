"""The worker process of ``turnover-risk report``: the register's sections on the second core.

A fresh ``turnover-risk report`` spends most of its time in one thread: importing pandas,
scikit-learn, ``skops`` and Matplotlib, reading the register and the model, building the
panel, then the sections. Two sections need no more than the register: turnover and sick
leave over time (with their figures) and the data and validation table. So the command starts
one worker process first (:meth:`ReportWorker.start`, before its own heavy imports); the worker
reads the register folder itself (``read_register``, as the command does), writes those two
sections as HTML with the report's own functions and arguments, and answers them as one JSON
object; meanwhile this process loads the model, builds the panel and writes the rest. The page
is the same either way: when the worker cannot start, fails, or answers something else, the
report writes those sections itself (``report/_write.py``). For a gbm, the same worker then
serves the bootstrap refits (``groups/_refit_worker.py``).

The worker imports neither scikit-learn nor ``skops``. Measured on the shipped sample: a
worker that also loaded the model to write the fairness section (the audit) ended no sooner
than this process (its imports and the model's take ~3 s before the audit's ~0.7 s), and cost
~2 CPU s more; with a gbm its refits started later.

Nothing is pickled: the request is a JSON line (folder, language, group size), the answer a
JSON object of strings. It is started when a core is likely free (``_refit_worker.WHEN``, as
the refit worker).

This module imports only the standard library and ``groups._refit_worker`` (NumPy) at load
time, so the worker starts before this process imports pandas.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from turnover_risk.groups import _refit_worker

JOB = "report-sections"
SECTIONS = True
"""Whether the report starts this worker (False: the previous design, a worker for a gbm's
refits alone; the benchmark sets it to compare)."""
CODE = "from turnover_risk.cli._report_worker import _serve; _serve()"


class ReportWorker:
    """This process's end of the report worker (see the module notes)."""

    def __init__(self, worker: _refit_worker._Worker, provides: tuple[str, ...]) -> None:
        self.worker = worker
        self.provides = provides

    @classmethod
    def start(
        cls, path: str, *, lang: str, min_group_size: int, refits: bool
    ) -> ReportWorker | None:
        """Start the worker on the register folder ``path``, or None when no core is likely
        free or no process can be started. ``refits``: the worker then serves the bootstrap
        refits (a gbm)."""
        if not SECTIONS or not _refit_worker.wanted(True):
            return None
        provides = ("rates", "tables")
        request = {
            "path": str(path),
            "lang": lang,
            "min_group_size": min_group_size,
            "refits": bool(refits),
        }
        try:
            worker = _refit_worker._Worker(CODE)
        except Exception:  # no process here: the report writes every section itself
            return None
        try:
            worker.send(JOB, request)
        except Exception:
            worker.close()
            return None
        return cls(worker, provides)

    def result(self) -> dict[str, Any] | None:
        """The sections written by the worker (waits for them), or None when it failed; a
        section it could not write is missing."""
        try:
            head, body = self.worker.answer(JOB)
            got = json.loads(body) if head.get("ok") else None
        except Exception:
            return None
        return got if isinstance(got, dict) else None

    def close(self) -> None:
        self.worker.close()


def _serve() -> None:
    """The worker: one request for the sections, then (for a gbm) refits until EOF."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not enter the answers
    try:
        head, _ = _refit_worker._read_frame(stdin)
    except EOFError:
        return
    try:
        body = json.dumps(_sections(head)).encode()
        _refit_worker._write_frame(stdout, {"job": JOB, "ok": True}, body)
    except Exception as err:  # the caller writes the sections itself
        error = f"{type(err).__name__}: {err}"
        _refit_worker._write_frame(stdout, {"job": JOB, "ok": False, "error": error})
    if head.get("refits"):
        _refit_worker._serve(stdin, stdout)


def _sections(request: dict[str, Any]) -> dict[str, Any]:
    """The sections of the request, as ``report/_write.py`` writes them."""
    import warnings

    from threadpoolctl import threadpool_limits

    from turnover_risk.cli._common import load_register
    from turnover_risk.privacy import check_min_group_size
    from turnover_risk.report._labels import LABELS
    from turnover_risk.report._sections import _rates_section
    from turnover_risk.report._tables import _data_block

    lang = request["lang"]
    min_group_size = check_min_group_size(request["min_group_size"])
    L = LABELS[lang]
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        register = load_register(request["path"])
        out: dict[str, Any] = {
            "rates": _rates_section(register, L, lang, min_group_size),
            "tables": _data_block(register, L, lang),
        }
    return out
