"""The HTML report a leader reads: one self-contained file (CSS and images inline, no network).

:func:`write_report` runs the main job on a register and a fitted model — validation, turnover
and sick-leave rates, model evaluation, group flags with drivers, what-if for the main levers —
and writes it in Norwegian bokmål (``lang="nb"``, default) or English (``lang="en"``).
The report holds only aggregates: no employee id appears anywhere, and every group figure
honours ``min_group_size``.

This module gathers the results (panel, prospective and retrospective flags, evaluation) and
fills the page template; the sections are written by ``_sections``, the numbers, tables and
figures formatted by ``_format``, and the words of both languages live in ``_labels``.
"""

from __future__ import annotations

import datetime as _dt
import html
import warnings
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import pandas as pd

from turnover_risk._atomic import atomic_output
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, check_min_group_size
from turnover_risk.report._labels import LABELS, LANGS
from turnover_risk.report._sections import (
    _data_section,
    _groups_section,
    _model_section,
    _rates_section,
    _whatif_section,
)

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
) -> Path:
    """Write the self-contained HTML report for a register and a fitted model.

    Sections: data summary and validation result; turnover under the main definitions and
    sick leave over time; model validation (temporal evaluation table and calibration curve);
    the funnel plots and the flagged-groups table with drivers (prospective, plus a
    retrospective look at the latest period with known outcomes); a what-if panel for the main
    levers (caseload cap, supervision for new staff); and a plain-language section on what the
    numbers can and cannot say.

    Parameters
    ----------
    register : Register
        The data (e.g. ``tr.load_sample()``).
    model : TurnoverRiskModel
        A fitted model. The panel is built with the model's horizon, outcome and scope.
    path : str or Path
        The HTML file to write (parent folders are created).
    by : str
        Group column for the flags and what-if tables (``"unit_id"``, ``"municipality"``...).
    lang : {"nb", "en"}
        Norwegian bokmål (default) or English.
    panel : DataFrame, optional
        A panel from ``build_panel`` to reuse (else built from ``register``).
    evaluation : EvaluationResult, optional
        A result of ``tr.evaluate`` to reuse (else computed; it refits the model per fold).
    flags : FlagResult, optional
        A prospective result of ``tr.flag_groups`` for the same ``by`` to reuse (else computed
        with ``n_boot`` refits).
    min_group_size : int
        Smallest group shown.
    n_boot, margin, random_state
        Passed to :func:`turnover_risk.flag_groups`.
    title : str, optional
        Page title (default: a title in the chosen language).

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
    if lang not in LANGS:
        raise ValueError(f"lang={lang!r} is not supported; choose one of: {', '.join(LANGS)}.")
    min_group_size = check_min_group_size(min_group_size)
    from turnover_risk._version import __version__
    from turnover_risk.groups import flag_groups
    from turnover_risk.models import evaluate
    from turnover_risk.panel import build_panel

    L = LABELS[lang]
    spec = getattr(model, "spec_", None)
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
    horizon = spec.horizon if spec is not None else _panel_horizon(panel)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # data-quality notes belong in the sections, not stderr
        if (
            flags is None
            or flags.mode != "prospective"
            or flags.by != (by,)
            or (flags.min_group_size != min_group_size)
        ):
            flags = flag_groups(
                model,
                panel,
                by=by,
                min_group_size=min_group_size,
                n_boot=n_boot,
                margin=margin,
                random_state=random_state,
            )
        try:
            retro = flag_groups(
                model,
                panel,
                by=by,
                mode="retrospective",
                min_group_size=min_group_size,
                random_state=random_state,
            )
        except ValueError:
            retro = None
        if evaluation is None:
            evaluation = evaluate(model, panel)

        sections = [
            ("data", L["data"], _data_section(register, L, lang)),
            ("rates", L["rates"], _rates_section(register, L, lang, min_group_size)),
            ("model", L["model"], _model_section(model, evaluation, L, lang, horizon)),
            (
                "groups",
                L["groups"],
                _groups_section(flags, retro, by, L, lang, horizon, min_group_size),
            ),
            ("whatif", L["whatif"], _whatif_section(model, panel, by, L, lang, min_group_size)),
            ("limits", L["limits"], L["limits_body"]),
        ]
    css = resources.files("turnover_risk.report").joinpath("style.css").read_text("utf-8")
    template = Template(
        resources.files("turnover_risk.report").joinpath("template.html").read_text("utf-8")
    )
    page_title = html.escape(title or L["title"])
    page = template.substitute(
        lang=lang,
        title=page_title,
        css=css,
        generated=html.escape(
            L["generated"].format(date=_dt.date.today().isoformat(), version=__version__)
        ),
        privacy=html.escape(L["privacy"].format(min_size=min_group_size)),
        toc_title=html.escape(L["toc"]),
        toc="\n".join(
            f'<li><a href="#{sid}">{html.escape(name)}</a></li>' for sid, name, _ in sections
        ),
        sections="\n".join(
            f'<section id="{sid}">\n<h2>{html.escape(name)}</h2>\n{body}\n</section>'
            for sid, name, body in sections
        ),
    )
    out = Path(path)
    with atomic_output(out, overwrite=True) as tmp:  # never a half-written report
        tmp.write_text(page, encoding="utf-8")
    return out


def _panel_horizon(panel) -> int:
    from turnover_risk.panel import panel_spec

    return panel_spec(panel).horizon
