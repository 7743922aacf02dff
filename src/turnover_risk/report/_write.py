"""The HTML report a leader reads: one self-contained file (CSS and images inline, no network).

:func:`write_report` runs the main job on a register and a fitted model — validation, turnover
and sick-leave rates, model evaluation, group flags with drivers, what-if for the main levers —
and writes it in Norwegian bokmål (``lang="nb"``, default) or English (``lang="en"``).
The report holds only aggregates: no employee id appears anywhere, and every group figure
honours ``min_group_size``.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
import warnings
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.privacy._suppression import DEFAULT_MIN_GROUP_SIZE, check_min_group_size
from turnover_risk.report._labels import LABELS, LANGS, PLOT_TEXT_NB

__all__ = ["LANGS", "write_report"]

TURNOVER_DEFINITIONS: tuple[str, ...] = ("exit_share", "bufdir", "separation")
"""The definitions shown side by side in the report."""

CASELOAD_CAP = 15
"""The union's asked-for maximum caseload (``docs/sources.md``), used by the caseload what-if."""


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
    from turnover_risk.groups._flag import flag_groups
    from turnover_risk.models._evaluation import evaluate
    from turnover_risk.panel._build import build_panel

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
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out


# ---------------------------------------------------------------------------------------------
# sections
# ---------------------------------------------------------------------------------------------


def _data_section(register, L, lang) -> str:
    from turnover_risk.data._validation import validate

    summary = register.summary()
    rows = []
    for r in summary.itertuples(index=False):
        rows.append(
            [
                r.table,
                _int(r.rows, lang),
                _int(r.persons, lang),
                _date(r.first_date),
                _date(r.last_date),
            ]
        )
    parts = [
        f"<p>{L['data_intro']}</p>",
        _table(
            [L["table"], L["rows"], L["persons"], L["first_date"], L["last_date"]],
            rows,
            text_cols=(0,),
            table_id="data-summary",
        ),
    ]
    report = validate(register)
    if report.ok:
        total = int(report.counts["rows_read"].sum()) if len(report.counts) else 0
        parts.append(f'<p class="ok">{L["validation_ok"].format(rows=_int(total, lang))}</p>')
    else:
        parts.append(f'<p class="bad">{L["validation_bad"].format(n=len(report))}</p>')
        s = report.summary()  # counts per table and rule only: no values, no ids
        parts.append(
            _table(
                [L["table"], L["rule"], L["problems"], L["rows"]],
                [
                    [r.table, r.rule, _int(r.problems, lang), _int(r.rows, lang)]
                    for r in s.itertuples(index=False)
                ],
                text_cols=(0, 1),
            )
        )
    return "\n".join(parts)


def _rates_section(register, L, lang, min_group_size) -> str:
    from turnover_risk.rates import sick_leave_rate, turnover_rate

    parts = [f"<p>{L['rates_intro']}</p>"]
    frames = []
    for d in TURNOVER_DEFINITIONS:
        t = turnover_rate(register, definition=d, period="year", min_group_size=min_group_size)
        frames.append(t[["period", "rate", "ci_low", "ci_high"]].assign(definition=d))
    rates = pd.concat(frames, ignore_index=True)
    fig, ax = _figure(7.5, 3.6)
    for d, g in rates.groupby("definition", sort=False):
        x = g["period"].astype(str).to_numpy()
        ax.plot(x, 100 * g["rate"], "o-", label=d)
        ax.fill_between(x, 100 * g["ci_low"], 100 * g["ci_high"], alpha=0.15)
    ax.set_ylabel("%")
    ax.set_ylim(bottom=0)
    ax.legend(frameon=False, fontsize=8)
    parts.append(_img(fig, L["turnover_plot"], "turnover-plot", lang))
    wide = rates.pivot(index="period", columns="definition", values="rate")
    header = [L["period"], *[d for d in TURNOVER_DEFINITIONS if d in wide.columns]]
    body = [[str(p), *[_pct(wide.loc[p, d], lang) for d in header[1:]]] for p in wide.index]
    parts.append(_table(header, body, text_cols=(0,), table_id="turnover-table"))

    if getattr(register, "absences", None) is not None:
        sick = sick_leave_rate(
            register, period="quarter", certification="split", min_group_size=min_group_size
        )
        fig, ax = _figure(7.5, 3.2)
        names = {"all": L["sick_all"], "self": L["sick_self"], "doctor": L["sick_doctor"]}
        for cert, g in sick.groupby("certification", sort=False):
            ax.plot(
                g["period"].astype(str), g["percent"], "-", marker=".", label=names.get(cert, cert)
            )
        ax.set_ylabel("%")
        ax.set_ylim(bottom=0)
        ticks = ax.get_xticks()
        ax.set_xticks(ticks[::4])
        ax.legend(frameon=False, fontsize=8)
        parts.append(_img(fig, L["sick_plot"], "sick-plot", lang))
    return "\n".join(parts)


def _model_section(model, evaluation, L, lang, horizon) -> str:
    from turnover_risk.models._evaluation import SCORE_METRICS

    kind = getattr(model, "kind", type(model).__name__)
    parts = [f"<p>{L['model_intro'].format(kind=html.escape(str(kind)), horizon=horizon)}</p>"]
    table = evaluation.table
    pooled = table[table["fold"].astype(str) == "pooled"]
    if pooled.empty:
        pooled = table
    metrics = [c for c in SCORE_METRICS if c in pooled.columns]
    rows = [
        [str(r["model"]), *[_num(r[m], lang, 3) for m in metrics]] for _, r in pooled.iterrows()
    ]
    parts.append(_table(["", *metrics], rows, text_cols=(0,), table_id="evaluation-table"))
    fig, ax = _figure(5, 4.2)
    evaluation.plot_calibration(ax=ax)
    parts.append(_img(fig, L["calibration_plot"], "calibration-plot", lang))
    return "\n".join(parts)


def _groups_section(flags, retro, by, L, lang, horizon, min_group_size) -> str:
    period = flags.period.date().isoformat() if flags.period is not None else ""
    parts = [
        "<p>"
        + L["groups_intro"].format(
            period=period,
            horizon=horizon,
            margin=_num(flags.info.get("margin", 1.25), lang, 2),
            reference=_pct(flags.reference_share, lang),
            min_size=min_group_size,
        )
        + "</p>"
    ]
    if flags.reason:
        parts.append(f'<p class="note">{html.escape(flags.reason)}</p>')
    fig, ax = _figure(7.5, 4.2)
    flags.plot_funnel(ax=ax)
    parts.append(_img(fig, L["funnel_plot"], "funnel", lang))

    texts = _driver_texts(flags, by, lang)
    t = flags.table
    order = t.assign(_rank=t["flag"].map({"elevated": 0, "low": 1}).fillna(2)).sort_values(
        ["_rank", "ratio"], ascending=[True, False], na_position="last"
    )
    header = [
        L["col_group"],
        L["col_n"],
        L["col_expected"],
        L["col_share"],
        L["col_ratio"],
        L["col_ratio_ci"],
        L["col_pi"],
        L["col_q"],
        L["col_flag"],
        L["col_drivers"],
    ]

    def row(r):
        key = _key(r, flags.by)
        return [
            key,
            _int(r["n_persons"], lang),
            _num(r["expected_leavers"], lang, 1),
            _pct(r["exit_share"], lang),
            _num(r["ratio"], lang, 2),
            _interval(r["ratio_ci_low"], r["ratio_ci_high"], lang, 2),
            _interval(r["leavers_pi_low"], r["leavers_pi_high"], lang, 0),
            _num(r["q_value"], lang, 3),
            _flag(r["flag"], L),
            texts.get(key, ""),
        ]

    flagged = order[order["flag"].isin(["elevated", "low"])]
    parts.append(f"<h3>{html.escape(L['flagged_table'])}</h3>")
    if flagged.empty:
        parts.append(f'<p id="no-flags">{html.escape(L["no_flags"])}</p>')
    parts.append(
        _table(
            header,
            [row(r) for _, r in flagged.iterrows()],
            text_cols=(0, 8, 9),
            table_id="flagged-groups",
            row_classes=list(flagged["flag"]),
            raw_cols=(8, 9),
        )
    )
    parts.append(f"<h3>{html.escape(L['all_groups_table'])}</h3>")
    parts.append(
        _table(
            header[:-1],
            [row(r)[:-1] for _, r in order.iterrows()],
            text_cols=(0, 8),
            table_id="all-groups",
            row_classes=list(order["flag"]),
            raw_cols=(8,),
        )
    )

    if retro is not None and not retro.empty:
        od = retro.overdispersion
        od_text = (
            f"{od.get('applied')} (phi = {_num(od.get('phi'), lang, 2)}, "
            f"tau² = {_num(od.get('tau2'), lang, 3)}, p = {_num(od.get('p_value'), lang, 3)})"
        )
        rperiod = retro.period.date().isoformat()
        parts.append(f"<h3>{html.escape(L['retro_plot'].format(period=rperiod))}</h3>")
        parts.append(
            "<p>" + html.escape(L["retro_intro"].format(period=rperiod, od=od_text)) + "</p>"
        )
        fig, ax = _figure(7.5, 4.2)
        retro.plot_funnel(ax=ax)
        parts.append(
            _img(fig, L["retro_plot"].format(period=rperiod), "funnel-retrospective", lang)
        )
        rt = retro.table[~retro.table["suppressed"]].sort_values("oe_ratio", ascending=False)
        parts.append(
            _table(
                [
                    L["col_group"],
                    L["col_n"],
                    L["col_observed"],
                    L["col_expected"],
                    L["col_oe"],
                    "95 % KI" if lang == "nb" else "95 % CI",
                    L["col_q"],
                    L["col_flag"],
                ],
                [
                    [
                        _key(r, retro.by),
                        _int(r["n_persons"], lang),
                        _int(r["observed"], lang),
                        _num(r["expected"], lang, 1),
                        _num(r["oe_ratio"], lang, 2),
                        _interval(r["oe_ci_low"], r["oe_ci_high"], lang, 2),
                        _num(r["q_value"], lang, 3),
                        _flag(r["flag"], L),
                    ]
                    for _, r in rt.iterrows()
                ],
                text_cols=(0, 7),
                table_id="retrospective-groups",
                row_classes=list(rt["flag"]),
                raw_cols=(7,),
            )
        )
    return "\n".join(parts)


def _whatif_section(model, panel, by, L, lang, min_group_size) -> str:
    from turnover_risk.groups._flag import _model_features, what_if
    from turnover_risk.panel._spec import panel_spec

    features = set(_model_features(model, panel_spec(panel)))
    scenarios = []
    caps = {
        c: ("at_most", CASELOAD_CAP) for c in ("caseload_last", "caseload_3m_mean") if c in features
    }
    if caps:
        scenarios.append(("sc_caseload", caps, None))
    if {"supervision_sessions_3m", "tenure_service_months"} <= features:
        scenarios.append(
            (
                "sc_supervision_new",
                {"supervision_sessions_3m": 2},
                lambda p: p["tenure_service_months"] < 6,
            )
        )
    if "new_staff_weekly_supervision" in features:
        scenarios.append(
            (
                "sc_weekly",
                {"new_staff_weekly_supervision": ("set", 1)},
                lambda p: p["new_staff_weekly_supervision"].notna(),
            )
        )
    parts = [f'<p class="note">{L["whatif_intro"]}</p>']
    if not scenarios:
        parts.append(f"<p>{html.escape(L['no_levers'])}</p>")
        return "\n".join(parts)
    rows, first = [], None
    for key, change, where in scenarios:
        res = what_if(
            model, panel, change=change, by=by, where=where, min_group_size=min_group_size
        )
        o = res.overall
        rows.append(
            [
                L[key],
                _int(o["n_changed"], lang),
                _pct(o["exit_share_before"], lang),
                _pct(o["exit_share_after"], lang),
                _num(100 * o["difference"], lang, 2, signed=True),
            ]
        )
        if first is None:
            first = (key, res)
    parts.append(
        _table(
            [L["scenario"], L["changed"], L["before"], L["after"], L["difference"]],
            rows,
            text_cols=(0,),
            table_id="whatif-table",
        )
    )
    key, res = first
    n_shown = int((~res.table["suppressed"]).sum())
    fig, ax = _figure(7.5, 0.22 * max(n_shown, 8) + 1.2)
    res.plot(ax=ax)
    parts.append(_img(fig, L["whatif_plot"].format(scenario=L[key]), "whatif-plot", lang))
    return "\n".join(parts)


def _driver_texts(flags, by, lang) -> dict[str, str]:
    from turnover_risk.groups._flag import driver_text

    d = flags.drivers
    if d is None or d.empty:
        return {}
    out: dict[str, list[str]] = {}
    for _, r in d.iterrows():
        out.setdefault(_key(r, flags.by), []).append(
            html.escape(driver_text(r["feature"], r["difference"], flags.by[-1], lang))
        )
    return {k: "<br>".join(v) for k, v in out.items()}


# ---------------------------------------------------------------------------------------------
# html and plot helpers
# ---------------------------------------------------------------------------------------------


def _figure(width: float, height: float):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.subplots()


def _localise(fig, lang: str) -> None:
    """Translate the English texts the library's plot methods draw (axis labels, titles,
    legends) for ``lang="nb"``."""
    if lang != "nb":
        return
    keys = sorted(PLOT_TEXT_NB, key=len, reverse=True)

    def tr(text: str) -> str:
        for k in keys:
            if text.startswith(k):
                rest = text[len(k) :]
                return PLOT_TEXT_NB[k] + rest.replace(".", ",")
        return text

    for ax in fig.axes:
        ax.set_xlabel(tr(ax.get_xlabel()))
        ax.set_ylabel(tr(ax.get_ylabel()))
        ax.set_title(tr(ax.get_title()))
        legend = ax.get_legend()
        if legend is not None:
            for t in legend.get_texts():
                t.set_text(tr(t.get_text()))


def _img(fig, caption: str, img_id: str, lang: str = "en") -> str:
    _localise(fig, lang)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    cap = html.escape(caption)
    return (
        f'<figure><img id="{img_id}" alt="{cap}" src="data:image/png;base64,{data}">'
        f"<figcaption>{cap}</figcaption></figure>"
    )


def _table(header, rows, *, text_cols=(), table_id=None, row_classes=None, raw_cols=()) -> str:
    tid = f' id="{table_id}"' if table_id else ""
    head = "".join(
        f'<th class="{"text" if i in text_cols else "num"}">{html.escape(str(h))}</th>'
        for i, h in enumerate(header)
    )
    body = []
    for k, r in enumerate(rows):
        cls = f' class="{html.escape(str(row_classes[k]))}"' if row_classes else ""
        cells = "".join(
            f'<td class="{"text" if i in text_cols else "num"}">'
            f"{v if i in raw_cols or str(v).startswith('<span') else html.escape(str(v))}</td>"
            for i, v in enumerate(r)
        )
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table{tid}><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _missing(x) -> bool:
    return (
        x is None
        or (isinstance(x, float) and np.isnan(x))
        or x is pd.NA
        or (not isinstance(x, str) and pd.isna(x))
    )


def _num(x, lang, digits=2, signed=False) -> str:
    if _missing(x):
        return "–"
    s = f"{float(x):+.{digits}f}" if signed else f"{float(x):.{digits}f}"
    return s.replace(".", ",").replace("-", "−") if lang == "nb" else s


def _int(x, lang) -> str:
    if _missing(x):
        return "–"
    s = f"{int(round(float(x))):,}"
    return s.replace(",", "\u00a0") if lang == "nb" else s


def _pct(x, lang) -> str:
    return "–" if _missing(x) else _num(100 * float(x), lang, 1) + " %"


def _interval(lo, hi, lang, digits) -> str:
    if _missing(lo) or _missing(hi):
        return "–"
    return f"{_num(lo, lang, digits)}–{_num(hi, lang, digits)}"


def _date(x) -> str:
    return "–" if _missing(x) else pd.Timestamp(x).date().isoformat()


def _key(row, by) -> str:
    return " / ".join(str(row[c]) for c in by)


def _flag(flag: str, L) -> str:
    label = html.escape(L.get(f"flag_{flag}", flag))
    return f'<span class="flag-{html.escape(flag.replace(" ", "-"))}">{label}</span>'


def _panel_horizon(panel) -> int:
    from turnover_risk.panel._spec import panel_spec

    return panel_spec(panel).horizon
