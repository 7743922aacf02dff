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

For a logistic model (no refits), and for a gbm whose file keeps its bootstrap refits
(``turnover-risk train --refits``, ``groups/_refit_store.py``; the manifest says so), the worker
then builds the panel too, with the settings the model file's manifest names (``freq``,
``horizon``, ``outcome``, ``scope``), and writes the audit's part of the fairness section once
this process sends the model's risks of the panel's labelled rows
(:meth:`ReportWorker.send_risks`, right after its own panel is built; a frame saying "no
risks" when it cannot, since a gbm's refits may follow on the same pipe). After the audit, the
worker of such a gbm serves refits, should the kept ones not be the report's (another
register). The audit needs the model only for those risks (:class:`_Risks`). They are used only when
the settings are the loaded model's and both panels have the same labelled rows (a digest of
ids, groups, period and label); the drift check stays in this process.

The worker imports neither scikit-learn nor ``skops``. Measured on the shipped sample: a
worker that loaded the model itself to write the fairness section ended no sooner than this
process (its imports and the model's take ~3 s before the audit's ~0.7 s), and cost ~2 CPU s
more; with a gbm its refits started later.

Nothing is pickled: the requests are JSON lines (folder, language, group size, panel
settings; the risks as ``.npy`` read with ``allow_pickle=False``), the answers JSON objects of
strings. It is started when a core is likely free (``_refit_worker.WHEN``, as the refit
worker).

This module imports only the standard library and ``groups._refit_worker`` (NumPy) at load
time, so the worker starts before this process imports pandas.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import numpy as np

from turnover_risk.groups import _refit_worker

JOB = "report-sections"
AUDIT = "report-audit"
SECTIONS = True
"""Whether the report starts this worker (False: the previous design, a worker for a gbm's
refits alone; the benchmark sets it to compare)."""
CODE = "from turnover_risk.cli._report_worker import _serve; _serve()"


class ReportWorker:
    """This process's end of the report worker (see the module notes)."""

    def __init__(
        self,
        worker: _refit_worker._Worker,
        provides: tuple[str, ...],
        panel_settings: dict | None = None,
    ) -> None:
        self.worker = worker
        self.provides = provides
        self.panel_settings = panel_settings

    @classmethod
    def start(
        cls,
        path: str,
        *,
        lang: str,
        min_group_size: int,
        refits: bool,
        panel_settings: dict | None = None,
        audit_first: bool = False,
    ) -> ReportWorker | None:
        """Start the worker on the register folder ``path``, or None when no core is likely
        free or no process can be started.

        ``refits``: the worker then serves the bootstrap refits (a gbm). ``panel_settings``
        (the model file's ``freq``, ``horizon``, ``outcome`` and ``scope``, read from its
        manifest): without refits, or with ``audit_first`` (a gbm whose refits are likely
        kept in its file, ``groups/_refit_store.py``), the worker also builds the panel and,
        given the model's risks (:meth:`send_risks`), writes the audit's part of the fairness
        section, before it serves any refit.
        """
        if not SECTIONS or not _refit_worker.wanted(True):
            return None
        audit = bool(panel_settings) and (not refits or audit_first)
        provides = ("rates", "tables") + (("audit",) if audit else ())
        request = {
            "path": str(path),
            "lang": lang,
            "min_group_size": min_group_size,
            "refits": bool(refits),
            "panel": panel_settings if audit else None,
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
        return cls(worker, provides, request["panel"])

    def send_risks(self, model: Any, panel: Any, random_state: int | None) -> None:
        """Send the model's risks of the panel's labelled rows for the audit (in a thread:
        the worker may still be writing the register's sections). Nothing is sent when the
        model's panel settings are not those the worker built its panel with, or the risks
        cannot be computed: the report then runs the audit itself (the worker is told so,
        since a gbm's refits may follow on the same pipe)."""
        import threading

        buf = io.BytesIO()
        try:
            spec = model.spec_
            settings = {
                "freq": spec.freq,
                "horizon": spec.horizon,
                "outcome": spec.outcome,
                "scope": spec.scope,
            }
            if json.loads(json.dumps(settings)) != self.panel_settings:
                raise ValueError("the model's panel settings are not the manifest's")
            labelled, key = _labelled(panel)
            risk = np.asarray(model.predict_proba(labelled)[:, 1], dtype=np.float64)
            np.save(buf, risk, allow_pickle=False)
            head = {"job": AUDIT, "rows": key, "random_state": random_state}
        except Exception:
            buf = io.BytesIO()
            head = {"job": AUDIT, "skip": True}
        self.worker.awaiting.append(AUDIT)  # its answer follows the sections'
        stdin = self.worker.proc.stdin

        def write() -> None:
            try:
                _refit_worker._write_frame(stdin, head, buf.getvalue())
            except Exception:  # the worker ended: reading its answer fails, the report audits
                pass

        threading.Thread(target=write, name="turnover-risk-report-risks", daemon=True).start()

    def result(self) -> dict[str, Any] | None:
        """The sections written by the worker (waits for them), or None when it failed; a
        section it could not write is missing."""
        try:
            head, body = self.worker.answer(JOB)
            got = json.loads(body) if head.get("ok") else None
        except Exception:
            return None
        if not isinstance(got, dict):
            return None
        if AUDIT in self.worker.answers:
            head, body = self.worker.answers[AUDIT]
            try:
                parts = json.loads(body) if head.get("ok") else None
            except ValueError:
                parts = None
            if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
                got["audit"] = parts
        return got

    def close(self) -> None:
        self.worker.close()


def _serve() -> None:
    """The worker: the register's sections, then the audit (given the risks) or (for a gbm)
    refits, until EOF."""
    from turnover_risk import _process

    _process.as_program()  # a process of ours, as the command that started it
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not enter the answers
    try:
        head, _ = _refit_worker._read_frame(stdin)
    except EOFError:
        return
    register = None
    try:
        out, register = _sections(head)
        answer = ({"job": JOB, "ok": True}, json.dumps(out).encode())
    except Exception as err:  # the caller writes the sections itself
        answer = ({"job": JOB, "ok": False, "error": f"{type(err).__name__}: {err}"}, b"")
    # Written by a thread: an answer larger than the pipe's buffer waits for the report to
    # read it (at its end), and the worker goes on meanwhile. Every later write waits for it.
    import threading

    writer = threading.Thread(target=_refit_worker._write_frame, args=(stdout, *answer))
    writer.start()
    if head.get("panel"):  # the audit first; its frame comes before any refit's
        _serve_audit(stdin, stdout, head, register, before_writing=writer.join)
    if head.get("refits"):  # after an audit, refits are likely kept: no early import
        _refit_worker._serve(stdin, stdout, before_writing=writer.join, warm=not head.get("panel"))
    writer.join()


def _sections(request: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """The sections of the request, as ``report/_write.py`` writes them, and the register."""
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
    return out, register


def _labelled(panel) -> tuple[Any, str]:
    """The panel's labelled rows (those the audit scores) and a digest of which rows they
    are (ids, groups, period and label), to check that both processes built the same panel."""
    import hashlib

    import pandas as pd

    from turnover_risk.panel import panel_spec

    spec = panel_spec(panel)
    labelled = panel[panel[spec.label_col].notna()]
    keys = (*spec.id_cols, *spec.group_cols, spec.period_col, spec.label_col)
    cols = [c for c in keys if c in labelled]
    hashed = pd.util.hash_pandas_object(labelled[cols], index=False).to_numpy()
    return labelled, f"{len(labelled)}:{hashlib.sha256(hashed.tobytes()).hexdigest()}"


class _Risks:
    """The model's risks of the panel's labelled rows, computed by the report's process and
    given to the audit as the model (which only predicts those rows)."""

    def __init__(self, risk: np.ndarray) -> None:
        self.risk = risk

    def predict_proba(self, rows) -> np.ndarray:
        if len(rows) != len(self.risk):  # not ValueError: the audit must not try on
            raise RuntimeError("the audit asked for other rows than those given")
        return np.column_stack([1.0 - self.risk, self.risk])


def _serve_audit(
    stdin, stdout, request: dict[str, Any], register: Any, before_writing=lambda: None
) -> None:
    """Build the panel while the report's process loads the model; given its risks, write
    the audit's part of the fairness section (``report/_fairness._audit_parts``)."""
    import warnings

    from threadpoolctl import threadpool_limits

    try:
        from turnover_risk.panel import build_panel
        from turnover_risk.privacy import check_min_group_size
        from turnover_risk.report._fairness import _audit_or_none, _audit_parts

        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            panel = build_panel(register, **request["panel"])
            labelled, key = _labelled(panel)
            import matplotlib.pyplot  # noqa: F401  (the audit's figure, while waiting)
        ready = None
    except Exception as err:
        ready = f"{type(err).__name__}: {err}"
    try:
        head, body = _refit_worker._read_frame(stdin)
    except EOFError:
        return
    before_writing()
    try:
        if ready is not None:
            raise RuntimeError(ready)
        if head.get("job") != AUDIT or head.get("skip"):
            raise RuntimeError("the report runs the audit itself")
        if head.get("rows") != key:
            raise RuntimeError("the report's panel has other labelled rows")
        risk = np.load(io.BytesIO(body), allow_pickle=False)
        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            audit = _audit_or_none(
                _Risks(risk),
                panel,
                register,
                check_min_group_size(request["min_group_size"]),
                head.get("random_state"),
            )
            parts = _audit_parts(audit, request["lang"])
        _refit_worker._write_frame(stdout, {"job": AUDIT, "ok": True}, json.dumps(parts).encode())
    except Exception as err:  # the report runs the audit itself
        error = f"{type(err).__name__}: {err}"
        _refit_worker._write_frame(stdout, {"job": AUDIT, "ok": False, "error": error})
