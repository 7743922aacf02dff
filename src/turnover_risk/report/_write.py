"""The HTML report for leaders: one self-contained file (CSS and images inline, no network).

:func:`write_report` runs the main job on a register and a fitted model and writes page one for
the leader — how many may leave, where, what can be done, what the numbers cannot say — and
then the evidence: rates over time, how good the model is, the flags with their funnel plot,
the backtest, the drivers, the what-if and the full tables, ending with a glossary. In
Norwegian bokmål (``lang="nb"``, default) or English (``lang="en"``). The report holds only
aggregates: no employee id appears anywhere, and a group under ``min_group_size`` reads
"hidden" ("skjult") with no count or value.

This module gathers the results (``_results``) and fills the page template; page one is
written by ``_page_one``, the evidence by ``_sections`` and ``_group_sections``, the
funnel plots by ``_funnels``, the tables and glossary at the end by ``_tables``; numbers and
figures are formatted by ``_format``, and the words live in ``_labels`` and ``_phrases``.
"""

from __future__ import annotations

import datetime as _dt
import html
import warnings
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

from turnover_risk._atomic import atomic_output
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, check_min_group_size
from turnover_risk.report._format import _date
from turnover_risk.report._group_sections import (
    _backtest_section,
    _drivers_section,
    _groups_section,
    _whatif_section,
)
from turnover_risk.report._labels import LABELS, LANGS
from turnover_risk.report._page_one import _page_one
from turnover_risk.report._phrases import PHRASES
from turnover_risk.report._results import _early, _gather
from turnover_risk.report._sections import _model_section, _rates_section
from turnover_risk.report._tables import _data_block, _glossary

__all__ = ["LANGS", "write_report"]


def write_report(
    register: Any,
    model: Any,
    path: str | Path,
    *,
    by: str = "unit_id",
    lang: str = "nb",
    panel: pd.DataFrame | None = None,
    evaluation: Any = None,
    flags: Any = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    n_boot: int = 10,
    margin: float = 1.25,
    random_state: int | None = 0,
    title: str | None = None,
    show_progress: bool | None = None,
) -> Path:
    """Write the self-contained HTML report for a register and a fitted model.

    Page one, for the leader: for the service and for each flagged group, how many of how
    many may leave in the coming horizon (a range) compared with the service; what pushes a
    group's risk up, by feature family and cause category, levers marked; the what-if of its
    main lever in persons; and what the numbers cannot say. Then the evidence: turnover and
    sick leave over time, the model's quality in words and numbers, the flags with the funnel
    plot of the tested quantity, the backtest on the latest period with known outcomes, the
    drivers in percentage points, the what-if per lever, and the full tables (collapsed) and
    a glossary.

    Parameters
    ----------
    register : Register
        The data (e.g. ``tr.load_sample()``).
    model : TurnoverRiskModel
        A fitted model. The panel is built with the model's horizon, outcome and scope.
    path : str or Path
        The HTML file to write (parent folders are created).
    by : str
        Group column for the flags and what-if (``"unit_id"``, ``"municipality"``...).
    lang : {"nb", "en"}
        Norwegian bokmål (default) or English.
    panel : DataFrame, optional
        A panel from ``build_panel`` to reuse (else built from ``register``).
    evaluation : EvaluationResult, optional
        A result of ``tr.evaluate`` to reuse. Without it, the evaluation saved with the model
        (``model.save(..., evaluation=...)``, read back by ``tr.load_model``) gives the
        metrics, and the calibration figure is left out; a model without one is evaluated
        here (that refits it per fold).
    flags : FlagResult, optional
        A prospective result of ``tr.flag_groups`` for the same ``by`` to reuse (else computed
        with ``n_boot`` refits).
    min_group_size : int
        Smallest group shown; smaller groups (and the groups that would reveal them) read "hidden".
    n_boot, margin, random_state
        Passed to :func:`turnover_risk.flag_groups`; ``random_state`` also seeds the driver
        sample. The ``n_boot`` refits refit only the model's classifier on the training rows
        transformed once (``docs/flags.md``); they are most of the report's time with a gbm.
    title : str, optional
        Page title (default: a title in the chosen language).
    show_progress : bool, optional
        Draw a progress bar on stderr (default: when stderr is a terminal and not quiet).

    Returns
    -------
    Path
        The written file.

    Raises
    ------
    ValueError
        For an unknown ``lang`` or a ``by`` column the panel does not have.

    Examples
    --------
    >>> import turnover_risk as tr  # doctest: +SKIP
    >>> reg = tr.load_sample()  # doctest: +SKIP
    >>> model = tr.TurnoverRiskModel(random_state=0).fit(tr.build_panel(reg))  # doctest: +SKIP
    >>> tr.write_report(reg, model, "report.html", lang="en")  # doctest: +SKIP
    """
    return _write_report(
        register,
        model,
        path,
        by=by,
        lang=lang,
        panel=panel,
        evaluation=evaluation,
        flags=flags,
        min_group_size=min_group_size,
        n_boot=n_boot,
        margin=margin,
        random_state=random_state,
        title=title,
        show_progress=show_progress,
    )


def _write_report(
    register,
    model,
    path,
    *,
    by,
    lang,
    panel,
    evaluation,
    flags,
    min_group_size,
    n_boot,
    margin,
    random_state,
    title,
    show_progress,
    ahead: Any = None,
) -> Path:
    """:func:`write_report`, with some sections possibly written ``ahead`` by another process.

    ``ahead`` (the command line's report worker, ``cli/_report_worker.py``) has ``provides``,
    the names of the sections it writes (``"rates"``, ``"tables"``: they need the register
    only; ``"audit"``: the audit's part of the fairness section, from the model's risks of the
    panel's labelled rows, given to it by ``send_risks(model, panel, random_state)``;
    ``"figures"``: the funnel plots, asked for by ``draw(name, flags, by, lang)`` and
    fetched by ``figures()``) from the same inputs with the same functions, and ``result()``:
    a dict of the sections, or None when it failed; a part it did not write is written here,
    so the page is the same either way.
    """
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} is not supported; choose one of: {', '.join(LANGS)}.")
    min_group_size = check_min_group_size(min_group_size)
    provided = tuple(getattr(ahead, "provides", ()))
    from threadpoolctl import threadpool_limits

    from turnover_risk._progress import bar
    from turnover_risk._version import __version__
    from turnover_risk.groups import flag_groups
    from turnover_risk.models import evaluate
    from turnover_risk.panel import build_panel, panel_spec

    L = LABELS[lang]
    spec = getattr(model, "spec_", None)
    progress = bar(total=7, desc="report", unit="steps", show=show_progress, unit_scale=False)
    # One thread for BLAS and OpenMP: the report makes many small calls (predictions of a
    # period's rows, TreeSHAP of a sample); with the gbm's OpenMP threads they took seconds
    # each on a busy 2-core machine (threads spinning), and gained nothing on an idle one.
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")  # data-quality notes belong in the sections, not stderr
        if panel is None:
            kwargs = {}
            if spec is not None:
                kwargs = {
                    "freq": spec.freq,
                    "horizon": spec.horizon,
                    "outcome": spec.outcome,
                    "scope": spec.scope,
                }
            panel = build_panel(register, **kwargs)
        horizon = spec.horizon if spec is not None else panel_spec(panel).horizon
        if "audit" in provided:  # the audit needs the model's risks of the labelled rows
            ahead.send_risks(model, panel, random_state)
        progress.update(1)
        recompute = (
            flags is None
            or flags.mode != "prospective"
            or flags.by != (by,)
            or (flags.min_group_size != min_group_size)
        )
        # The prospective flags' bootstrap refits spend their time in fitting loops that
        # release the GIL (on two threads, groups/_bootstrap.py); the parts of the report that
        # do not need the flags run meanwhile on this thread, where a core is often free (the
        # gbm's refits are most of the report's time). Same numbers: the draws are fixed
        # before any refit, and nothing here writes to the model or the panel.
        with ThreadPoolExecutor(max_workers=1) as pool:
            pending = (
                pool.submit(
                    _one_openmp_thread,
                    flag_groups,
                    model,
                    panel,
                    by=by,
                    min_group_size=min_group_size,
                    n_boot=n_boot,
                    margin=margin,
                    n_drivers=0,  # the report computes every family's drivers itself
                    random_state=random_state,
                )
                if recompute
                else None
            )
            try:
                retro = flag_groups(
                    model,
                    panel,
                    by=by,
                    mode="retrospective",
                    min_group_size=min_group_size,
                    n_drivers=0,
                    random_state=random_state,
                )
            except ValueError:
                retro = None
            if retro is not None and "figures" in provided:  # drawn by the other process
                ahead.draw("retro", retro, by, lang)
            progress.update(1)
            if evaluation is None and not getattr(model, "_evaluation_summary", None):
                evaluation = evaluate(model, panel)
            progress.update(1)
            # written here unless another process writes them ahead (fetched further down)
            rates = (
                None if "rates" in provided else _rates_section(register, L, lang, min_group_size)
            )
            # "Is the model fair, and still valid?" (audit by gender and age band, drift)
            fairness_here = partial(
                _fairness, model, panel, register, lang, horizon, min_group_size, random_state
            )
            fairness = None if "audit" in provided else fairness_here()
            tables = None if "tables" in provided else _data_block(register, L, lang)
            early = None
            if pending is not None:
                # what the results need besides the flags, while the refits run
                early = _early(model, panel, by, min_group_size, random_state, register)
                flags = pending.result()
        if "figures" in provided:
            ahead.draw("funnel", flags, by, lang)
        progress.update(1)
        res = _gather(
            model,
            panel,
            flags,
            retro,
            evaluation,
            by,
            horizon,
            min_group_size,
            random_state,
            register=register,
            early=early,
        )
        res.L = L
        progress.update(1)
        model_section = _model_section(
            model, evaluation, res.metrics, L, lang, horizon, res.outcome
        )
        drivers, whatif = _drivers_section(res, L, lang), _whatif_section(res, L, lang)
        page_one = _page_one(res, lang)
        # the funnel plots drawn by the other process meanwhile (the ones missing: here)
        res.figures = ahead.figures() if "figures" in provided else {}
        sections = {
            "model": model_section,
            "groups": _groups_section(res, L, lang),
            "backtest": _backtest_section(res, L, lang),
            "drivers": drivers,
            "whatif": whatif,
        }
        if provided:  # last: the other process had all the time above
            got = ahead.result() or {}
            if rates is None:
                rates = got.get("rates") or _rates_section(register, L, lang, min_group_size)
            if tables is None:
                tables = got.get("tables") or _data_block(register, L, lang)
            if fairness is None:  # the drift check is written here; the audit maybe ahead
                fairness = fairness_here(audit_parts=got.get("audit"))
        evidence = [
            ("rates", L["rates"], rates),
            *((sid, L[sid], body) for sid, body in sections.items()),
            fairness,
            ("tables", L["tables"], tables),
            ("glossary", L["glossary"], _glossary(lang)),
        ]
        progress.update(1)
    page = _fill_template(L, lang, title, flags, panel, page_one, evidence, __version__)
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out, overwrite=True) as tmp:  # never a half-written report
        tmp.write_text(page, encoding="utf-8")
    progress.update(1)
    progress.close()
    return out


def _one_openmp_thread(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with one OpenMP thread: OpenMP's thread count is set per
    thread, so a worker thread limits its own (as the report's thread does)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="openmp"):
        return fn(*args, **kwargs)


def _fairness(
    model, panel, register, lang, horizon, min_group_size, random_state, audit_parts=None
):
    """The section "Is the model fair, and still valid?" (audit and drift); ``audit_parts``:
    the audit's part when written ahead (``report/_fairness._audit_parts``)."""
    from turnover_risk.report._fairness import SECTION_ID, _fairness_section

    title, body = _fairness_section(
        model,
        panel,
        register,
        lang,
        horizon,
        min_group_size,
        random_state=random_state,
        audit_parts=audit_parts,
    )
    return (SECTION_ID, title, body)


def _fill_template(L, lang, title, flags, panel, page_one, evidence, version) -> str:
    css = resources.files("turnover_risk.report").joinpath("style.css").read_text("utf-8")
    template = Template(
        resources.files("turnover_risk.report").joinpath("template.html").read_text("utf-8")
    )
    P = PHRASES[lang]
    page_title = title or L["title"]
    services = panel["service"].dropna().unique() if "service" in panel.columns else []
    heading = page_title
    if title is None and len(services) == 1:
        heading += f" — {services[0]}"
    if flags.period is not None:
        heading += ", " + P["as_of"].format(date=_date(flags.period, lang, long=True))
    evidence = [(sid, name, body) for sid, name, body in evidence if body]
    return template.substitute(
        lang=lang,
        title=html.escape(page_title),
        heading=html.escape(heading),
        css=css,
        generated=html.escape(
            L["generated"].format(date=_dt.date.today().isoformat(), version=version)
        ),
        privacy=html.escape(L["privacy"].format(min_size=flags.min_group_size)),
        page_one_title=html.escape(P["page_one"]),
        page_one=page_one,
        evidence_title=html.escape(L["evidence"]),
        toc_title=html.escape(L["toc"]),
        toc="\n".join(
            f'<li><a href="#{sid}">{html.escape(name)}</a></li>' for sid, name, _ in evidence
        ),
        sections="\n".join(
            f'<section id="{sid}">\n<h2>{html.escape(name)}</h2>\n{body}\n</section>'
            for sid, name, body in evidence
        ),
    )
