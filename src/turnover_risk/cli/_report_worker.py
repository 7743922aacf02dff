"""The worker process of ``turnover-risk report``: the register's sections on the second core.

A fresh ``turnover-risk report`` spends most of its time in one thread: importing pandas,
scikit-learn, ``skops`` and Matplotlib, reading the register and the model, building the
panel, then the sections. Two sections need no more than the register: turnover and sick
leave over time (with their figures) and the data and validation table. So the command starts
one worker process first (:meth:`ReportWorker.start`, before its own heavy imports); the worker
reads the register folder itself (``read_register``, as the command does) and builds the panel
with the settings the model file's manifest names (``freq``, ``horizon``, ``outcome``,
``scope``), and sends both to this process (``cli/_report_inputs.py``, Arrow and JSON), which
then reads neither itself unless they are late (:data:`INPUTS_WAIT`), refused or built with
other settings than the loaded model's (:meth:`ReportWorker.inputs`). The worker then writes
those two sections as HTML with the report's own functions and arguments, and answers them as
one JSON object; meanwhile this process loads the model and writes the rest. The page is the
same either way: when the worker cannot start, fails, or answers something else, the report
reads the register and writes those sections itself (``report/_write.py``). For a gbm, the
same worker then serves the bootstrap refits (``groups/_refit_worker.py``).

For a logistic model (no refits), and for a gbm whose file keeps its bootstrap refits
(``turnover-risk train --refits``, ``groups/_refit_store.py``; the manifest says so), the worker
then writes the audit's part of the fairness section on its panel, once this process sends
the model's risks of the panel's labelled rows
(:meth:`ReportWorker.send_risks`, right after its own panel is ready; a frame saying "no
risks" when it cannot, since a gbm's refits may follow on the same pipe). After the audit, the
worker of such a gbm serves refits, should the kept ones not be the report's (another
register). The same worker then draws the two funnel plots (:meth:`ReportWorker.draw`, as
soon as the retrospective and the prospective flags are known: their tables as Arrow, their
few other attributes as JSON) with the report's own functions, while this process writes the
other sections; a plot it does not answer is drawn here. The audit needs the model only for
those risks (:class:`_Risks`). They are used only when
the settings are the loaded model's and both panels have the same labelled rows (a digest of
ids, groups, period and label); the drift check stays in this process.

The worker imports neither scikit-learn nor ``skops``. Measured on the shipped sample: a
worker that loaded the model itself to write the fairness section ended no sooner than this
process (its imports and the model's take ~3 s before the audit's ~0.7 s), and cost ~2 CPU s
more; with a gbm its refits started later.

Nothing is pickled: the requests are JSON lines (folder, language, group size, panel
settings; the risks as ``.npy`` read with ``allow_pickle=False``), the answers JSON objects of
strings, and the register and panel Arrow IPC streams. It is started when a core is likely
free (``_refit_worker.WHEN``, as the refit worker).

This module imports only the standard library, ``cli._report_inputs`` and
``groups._refit_worker`` (NumPy) at load time, so the worker starts before this process
imports pandas.
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any

import numpy as np

from turnover_risk.cli import _report_figures, _report_inputs
from turnover_risk.groups import _refit_worker

JOB = "report-sections"
AUDIT = "report-audit"
FIGURE, FIGURES = _report_figures.FIGURE, _report_figures.FIGURES
SECTIONS = True
"""Whether the report starts this worker (False: the previous design, a worker for a gbm's
refits alone; the benchmark sets it to compare)."""
CODE = "from turnover_risk.cli._report_worker import _serve; _serve()"
INPUTS_WAIT = 1.0
"""Seconds the report's process waits for the worker's register and panel once it needs
them: reading them itself takes about as long on the shipped sample."""


class ReportWorker:
    """This process's end of the report worker (see the module notes)."""

    def __init__(
        self,
        worker: _refit_worker._Worker,
        provides: tuple[str, ...],
        panel_settings: dict | None = None,
        build: dict | None = None,
    ) -> None:
        self.worker = worker
        self.provides = provides
        self.panel_settings = panel_settings
        self.build = build
        # requests sent by threads, in order, one writer of the worker's stdin at a time
        self._requests = _Frames(worker.proc.stdin, worker.write_lock)

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
        provides = ("rates", "tables") + (("audit", "figures") if audit else ())
        request = {
            "path": str(path),
            "lang": lang,
            "min_group_size": min_group_size,
            "refits": bool(refits),
            "build": panel_settings or None,
            "panel": panel_settings if audit else None,
        }
        try:
            worker = _refit_worker._Worker(CODE)
        except Exception:  # no process here: the report writes every section itself
            return None
        try:
            worker.awaiting.append(_report_inputs.JOB)  # answered first
            worker.send(JOB, request)
        except Exception:
            worker.close()
            return None
        return cls(worker, provides, request["panel"], request["build"])

    def inputs(self, model: Any) -> tuple[Any, Any] | None:
        """``(register, panel)`` as the worker read and built them (``cli/_report_inputs.py``;
        the panel None when it was built with other settings than ``model``'s), or None when
        the worker sent none (the report's process then reads them itself). Waits for them
        at most :data:`INPUTS_WAIT` seconds."""
        import select

        try:
            ready = (
                self.worker.answers.get(_report_inputs.JOB)
                or select.select([self.worker.proc.stdout], [], [], INPUTS_WAIT)[0]
            )
            if not ready:
                return None
            head, body = self.worker.answer(_report_inputs.JOB)
            if not head.get("ok"):
                return None
            register, panel = _report_inputs.decode(head, body)
        except Exception:
            return None
        if panel is not None and _settings(model) != self.build:
            panel = None
        return register, panel

    def send_risks(self, model: Any, panel: Any, random_state: int | None) -> None:
        """Send the model's risks of the panel's labelled rows for the audit (in a thread:
        the worker may still be writing the register's sections). Nothing is sent when the
        model's panel settings are not those the worker built its panel with, or the risks
        cannot be computed: the report then runs the audit itself (the worker is told so,
        since a gbm's refits may follow on the same pipe)."""
        buf = io.BytesIO()
        try:
            if _settings(model) != self.panel_settings:
                raise ValueError("the model's panel settings are not the manifest's")
            labelled, key = _labelled(panel)
            risk = np.asarray(model.predict_proba(labelled)[:, 1], dtype=np.float64)
            np.save(buf, risk, allow_pickle=False)
            head = {"job": AUDIT, "rows": key, "random_state": random_state}
        except Exception:
            buf = io.BytesIO()
            head = {"job": AUDIT, "skip": True}
        self._send(head, buf.getvalue(), AUDIT)  # its answer follows the sections'

    def draw(self, name: str, flags: Any, by: str, lang: str) -> None:
        """Ask the worker to draw the funnel plot ``name`` (:data:`FIGURES`) of ``flags`` (a
        ``FlagResult``), grouped by ``by``; sent by a thread (after any frame still being
        sent). Nothing is asked when the flags cannot be sent exactly: the report draws it."""
        if "figures" not in self.provides:
            return
        try:
            attrs = {key: getattr(flags, key) for key in FIGURES[name]}
            if "info" in attrs:  # what the plot reads of it
                attrs["info"] = {
                    k: v for k, v in attrs["info"].items() if k in ("margin", "refits", "n_boot")
                }
            if not _report_inputs.plain_json(attrs):
                return
            table = flags.table.reset_index(drop=True)
            described, body = _report_inputs.pack({"table": table})
        except Exception:
            return
        head = {"job": FIGURE, "name": name, "by": by, "lang": lang, "attrs": attrs}
        self._send({**head, "frames": described}, body, f"{FIGURE}-{name}")

    def figures(self) -> dict[str, str]:
        """The funnel plots the worker drew (waits for them): name -> HTML."""
        out = {}
        for name in FIGURES:
            job = f"{FIGURE}-{name}"
            if job not in self.worker.awaiting and job not in self.worker.answers:
                continue
            try:
                head, body = self.worker.answer(job)
                if head.get("ok"):
                    out[name] = body.decode("utf-8")
            except Exception:  # the worker ended: the report draws them
                pass
        return out

    def _send(self, head: dict, body: bytes, answer: str) -> None:
        """Write a request in a thread, after any request still being written; its answer is
        ``answer`` (read in turn, before any refit is sent)."""
        self.worker.awaiting.append(answer)
        self._requests.put(head, body)

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
        if AUDIT in self.worker.awaiting or AUDIT in self.worker.answers:
            try:
                head, body = self.worker.answer(AUDIT)
                parts = json.loads(body) if head.get("ok") else None
            except Exception:  # the worker ended or answered garbage: the report audits
                parts = None
            if isinstance(parts, list) and all(isinstance(p, str) for p in parts):
                got["audit"] = parts
        return got

    def close(self) -> None:
        self.worker.close()


def _serve() -> None:
    """The worker: the register and the panel (sent to the report's process), the register's
    sections, then the audit (given the risks) or (for a gbm) refits, until EOF."""
    from turnover_risk import _process

    _process.as_program()  # a process of ours, as the command that started it
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a stray print must not enter the answers
    try:
        head, _ = _refit_worker._read_frame(stdin)
    except EOFError:
        return
    # Answers are written by a thread, in order: one larger than the pipe's buffer waits for
    # the report to read it, and the worker goes on meanwhile. Every later write waits for it.
    answers = _Frames(stdout)
    register, panel, frame = _inputs(head)
    answers.put(*frame)
    try:
        if register is None:
            raise RuntimeError("the register could not be read")
        out = _sections(head, register)
        answers.put({"job": JOB, "ok": True}, json.dumps(out).encode())
    except Exception as err:  # the caller writes the sections itself
        answers.put({"job": JOB, "ok": False, "error": f"{type(err).__name__}: {err}"})
    if head.get("panel"):  # the audit first; its frame comes before any refit's
        _serve_audit(stdin, head, register, panel, answer=answers.put)
    if head.get("refits") or head.get("panel"):  # refits, and the funnel plots
        _refit_worker._serve(
            stdin,
            stdout,
            before_writing=answers.join,
            warm=not head.get("panel"),  # after an audit, refits are likely kept
            jobs={FIGURE: _report_figures.draw},
            answer=answers.put,  # in order, by a thread: this loop goes on reading
        )
    answers.join()


class _Frames:
    """Frames written to ``stream`` by threads, in the order given, one at a time (under
    ``lock`` too, when given: another writer of the same stream takes it). A frame that
    cannot be written (the other process ended) is dropped: its reader then fails and does
    without it."""

    def __init__(self, stream, lock=None) -> None:
        self.stream = stream
        self.lock = lock
        self.thread = None

    def put(self, head: dict, body: bytes = b"") -> None:
        import contextlib
        import threading

        before, lock = self.thread, self.lock or contextlib.nullcontext()

        def write() -> None:
            if before is not None:
                before.join()
            try:
                with lock:
                    _refit_worker._write_frame(self.stream, head, body)
            except Exception:
                pass

        self.thread = threading.Thread(target=write, name="turnover-risk-report-frames")
        self.thread.daemon = True
        self.thread.start()

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _inputs(request: dict[str, Any]) -> tuple[Any, Any, tuple[dict, bytes]]:
    """``(register, panel, frame)``: the register read as the report's process reads it, the
    panel built with the request's settings (``"build"``; None without), and the frame that
    sends both to that process (``cli/_report_inputs.py``), or one saying it reads them itself
    (reading warned: that process prints the warnings; or they cannot be sent exactly)."""
    import warnings

    from threadpoolctl import threadpool_limits

    register = panel = None
    try:
        from turnover_risk._warnings import DataQualityWarning
        from turnover_risk.cli._common import load_register

        # the warnings the report's process would show (its filters are this process's:
        # Python's defaults and PYTHONWARNINGS)
        with threadpool_limits(limits=1):
            with warnings.catch_warnings(record=True) as seen:
                register = load_register(request["path"])
            if seen:
                raise RuntimeError(f"reading the register warned: {seen[0].message}")
            settings = request.get("build")
            if settings:
                from turnover_risk.panel import build_panel

                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("ignore", DataQualityWarning)  # as the report's
                    panel = build_panel(register, **settings)
                if seen:
                    panel = None  # the report's process builds it (and warns)
            return register, panel, _report_inputs.encode(register, panel)
    except Exception as err:
        frame = {"job": _report_inputs.JOB, "ok": False, "error": f"{type(err).__name__}: {err}"}
        return register, panel, (frame, b"")


def _sections(request: dict[str, Any], register: Any) -> dict[str, Any]:
    """The sections of the request, as ``report/_write.py`` writes them."""
    import warnings

    from threadpoolctl import threadpool_limits

    from turnover_risk.privacy import check_min_group_size
    from turnover_risk.report._labels import LABELS
    from turnover_risk.report._sections import _rates_section
    from turnover_risk.report._tables import _data_block

    lang = request["lang"]
    min_group_size = check_min_group_size(request["min_group_size"])
    L = LABELS[lang]
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        return {
            "rates": _rates_section(register, L, lang, min_group_size),
            "tables": _data_block(register, L, lang),
        }


def _settings(model: Any) -> dict | None:
    """The panel settings of a fitted model as the manifest gives them (JSON), or None."""
    spec = getattr(model, "spec_", None)
    if spec is None:
        return None
    settings = {
        "freq": spec.freq,
        "horizon": spec.horizon,
        "outcome": spec.outcome,
        "scope": spec.scope,
    }
    try:
        return json.loads(json.dumps(settings))
    except (TypeError, ValueError):
        return None


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


def _serve_audit(stdin, request: dict[str, Any], register: Any, panel: Any, answer) -> None:
    """Given the model's risks of the panel's labelled rows (the panel built here when
    :func:`_inputs` did not), write the audit's part of the fairness section
    (``report/_fairness._audit_parts``)."""
    import warnings

    from threadpoolctl import threadpool_limits

    try:
        from turnover_risk.panel import build_panel
        from turnover_risk.privacy import check_min_group_size
        from turnover_risk.report._fairness import _audit_or_none, _audit_parts

        with warnings.catch_warnings(), threadpool_limits(limits=1):
            warnings.simplefilter("ignore")
            if panel is None:  # not built by _inputs (it warned, or failed)
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
        answer({"job": AUDIT, "ok": True}, json.dumps(parts).encode())
    except Exception as err:  # the report runs the audit itself
        error = f"{type(err).__name__}: {err}"
        answer({"job": AUDIT, "ok": False, "error": error})
