"""The first evidence sections: turnover and sick leave over time, and how good the model is.

Each ``_<name>_section`` returns the HTML of a section body in the chosen language: each
definition in one line of words, then the figure, then the table (collapsed); the model's
quality in words first (ranking, error against the same risk for everyone, calibration), then
the calibration figure and every metric in a collapsed table. Suppressed rows read
"hidden" ("skjult") and show no value.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd

from turnover_risk.report._format import (
    NBSP,
    SERIES,
    _details,
    _figure,
    _img,
    _int,
    _localise_axes,
    _num,
    _pct,
    _table,
    _under,
)

TURNOVER_DEFINITIONS: tuple[str, ...] = ("exit_share", "bufdir", "separation")
"""The definitions shown side by side in the report."""

METRICS: tuple[str, ...] = (
    "roc_auc",
    "pr_auc",
    "brier",
    "log_loss",
    "calibration_intercept",
    "calibration_slope",
    "ece",
    "precision_top10",
    "recall_top10",
)
MODELS: tuple[str, ...] = ("model", "base_rate", "unit_exit_share")


def _rates_section(register, L, lang, min_group_size) -> str:
    from turnover_risk.rates import sick_leave_rate, turnover_rate

    frames = []
    for d in TURNOVER_DEFINITIONS:
        t = turnover_rate(register, definition=d, period="year", min_group_size=min_group_size)
        frames.append(t[["period", "rate", "ci_low", "ci_high", "suppressed"]].assign(definition=d))
    rates = pd.concat(frames, ignore_index=True)
    rates["period"] = rates["period"].astype(str)
    parts = ['<ul class="definitions">']
    parts += [f"<li>{html.escape(L[f'def_{d}'])}</li>" for d in TURNOVER_DEFINITIONS]
    parts.append("</ul>")
    years = sorted(rates["period"].unique())
    fig, ax = _figure(7.6, 3.4)
    last = []
    for colour, (d, g) in zip(SERIES, rates.groupby("definition", sort=False), strict=False):
        g = g[~g["suppressed"].astype(bool)]
        x = [years.index(p) for p in g["period"]]
        ax.plot(x, g["rate"], "o-", color=colour, label=L[f"name_{d}"], lw=1.8, ms=4)
        ax.fill_between(x, g["ci_low"], g["ci_high"], color=colour, alpha=0.12, lw=0)
        ok = g.dropna(subset=["rate"])
        if len(ok):
            last.append(
                f"{L[f'name_{d}']} {_pct(ok['rate'].iloc[-1], lang, 0)} ({ok['period'].iloc[-1]})"
            )
    ax.set_xticks(range(len(years)), years)
    ax.set_ylim(bottom=0)
    _localise_axes(ax, lang, x=None, y="pct")
    ax.legend(frameon=False, fontsize=8, loc="lower left", ncols=3)
    alt = L["turnover_alt"].format(years=f"{years[0]}–{years[-1]}", last="; ".join(last))
    parts.append(_img(fig, L["turnover_plot"], "turnover-plot", alt, lang))

    # table: a year a definition cannot count yet says so; a suppressed cell says "hidden"
    body, incomplete = [], False
    for p in years:
        row = [p]
        for d in TURNOVER_DEFINITIONS:
            r = rates[(rates["period"] == p) & (rates["definition"] == d)]
            if r.empty or (pd.isna(r["rate"].iloc[0]) and not bool(r["suppressed"].iloc[0])):
                row.append(L["not_complete"])
                incomplete = True
            elif bool(r["suppressed"].iloc[0]):
                row.append(_under(min_group_size, lang))
            else:
                row.append(_pct(r["rate"].iloc[0], lang))
        body.append(row)
    header = [L["year"], *[L[f"name_{d}"] for d in TURNOVER_DEFINITIONS]]
    table = _table(header, body, text_cols=(0,), table_id="turnover-table")
    if incomplete:
        table += f'<p class="small">{html.escape(L["not_complete_note"])}</p>'
    parts.append(_details(L["rates_table"], table, "turnover-details"))

    if getattr(register, "absences", None) is not None:
        sick = sick_leave_rate(
            register, period="quarter", certification="split", min_group_size=min_group_size
        )
        sick = sick[~sick["suppressed"].astype(bool)]
        if len(sick):
            parts.append(f'<p class="definition">{html.escape(L["sick_def"])}</p>')
            fig, ax = _figure(7.6, 3.0)
            quarters = list(dict.fromkeys(sick["period"].astype(str)))
            names = {"all": L["sick_all"], "self": L["sick_self"], "doctor": L["sick_doctor"]}
            for colour, (cert, g) in zip(
                SERIES, sick.groupby("certification", sort=False), strict=False
            ):
                x = [quarters.index(q) for q in g["period"].astype(str)]
                ax.plot(x, g["rate"], "-", marker=".", color=colour, label=names.get(cert, cert))
            step = max(1, len(quarters) // 8)
            ticks = list(range(0, len(quarters), step))
            names_q = [q.replace("Q", "\u00a0K") if lang == "nb" else q for q in quarters]
            ax.set_xticks(ticks, [names_q[i] for i in ticks])
            ax.set_ylim(bottom=0)
            _localise_axes(ax, lang, x=None, y="pct")
            ax.legend(frameon=False, fontsize=8, loc="upper left", ncols=3)
            alt = L["sick_alt"].format(first=names_q[0], last=names_q[-1])
            parts.append(_img(fig, L["sick_plot"], "sick-plot", alt, lang))
    return "\n".join(parts)


def _kind_label(model, L) -> str:
    kind = str(getattr(model, "kind", type(model).__name__))
    return L.get(f"kind_{kind}", kind)


def _outcome_label(outcome, L) -> str:
    return L.get(f"outcome_{outcome}", L["outcome_other"])


def _model_words(metrics: dict, L, lang) -> list[str]:
    m = metrics.get("model", {})
    base = metrics.get("base_rate", {})
    unit = metrics.get("unit_exit_share", {})
    out = []
    auc = m.get("roc_auc")
    if auc is not None and pd.notna(auc):
        auc_unit = unit.get("roc_auc")
        if auc_unit is not None and pd.notna(auc_unit):
            out.append(
                L["q_auc"].format(auc=_int(100 * auc, lang), auc_unit=_int(100 * auc_unit, lang))
            )
        else:
            out.append(L["q_auc_only"].format(auc=_int(100 * auc, lang)))
    b, bb = m.get("brier"), base.get("brier")
    if b is not None and bb is not None and pd.notna(b) and pd.notna(bb) and b != bb:
        out.append(
            L["q_brier"].format(
                better=L["better"] if b < bb else L["worse"],
                brier=_num(b, lang, 3),
                brier_base=_num(bb, lang, 3),
            )
        )
    ece = m.get("ece")
    if ece is not None and pd.notna(ece):
        unit_word = "prosentpoeng" if lang == "nb" else "percentage points"
        out.append(L["q_ece"].format(ece=f"{_num(100 * ece, lang, 1)}{NBSP}{unit_word}"))
    return out


def _model_section(model, evaluation, metrics, L, lang, horizon, outcome) -> str:
    parts = [
        "<p>"
        + L["model_intro"].format(
            kind=html.escape(_kind_label(model, L)),
            outcome=html.escape(_outcome_label(outcome, L)),
            horizon=horizon,
        )
        + "</p>"
    ]
    words = _model_words(metrics, L, lang)
    if not words:
        parts.append(f"<p>{html.escape(L['no_evaluation'])}</p>")
        return "\n".join(parts)
    parts.append('<ul class="quality">' + "".join(f"<li>{w}</li>" for w in words) + "</ul>")
    if evaluation is not None and len(evaluation.predictions):
        parts.append(_calibration_figure(evaluation.predictions, L, lang))
    rows = []
    for name in MODELS:
        if name not in metrics:
            continue
        rows.append([L[f"m_{name}"], *[_num(metrics[name].get(k), lang, 3) for k in METRICS]])
    header = [L["what"], *[L[f"metric_{k}"] for k in METRICS]]
    table = _table(header, rows, text_cols=(0,), table_id="evaluation-table")
    parts.append(_details(L["model_table"], table, "evaluation-details"))
    return "\n".join(parts)


def _calibration_figure(pred: pd.DataFrame, L, lang, n_bins: int = 10) -> str:
    fig, ax = _figure(5.2, 4.0, left=0.8, bottom=0.6)
    hi = 0.0
    for colour, marker, col, key in (
        (SERIES[0], "o-", "p", "m_model"),
        (SERIES[1], "s--", "p_unit_exit_share", "m_unit_exit_share"),
    ):
        if col not in pred.columns or pred[col].isna().all():
            continue
        ok = pred[[col, "y"]].dropna()
        p, y = ok[col].to_numpy(dtype=float), ok["y"].to_numpy(dtype=float)
        chunks = np.array_split(np.argsort(p, kind="stable"), min(n_bins, len(p)))
        mp = np.array([p[c].mean() for c in chunks])
        my = np.array([y[c].mean() for c in chunks])
        ax.plot(mp, my, marker, color=colour, ms=4, lw=1.4, label=L[key])
        hi = max(hi, mp.max(), my.max())
    hi = min(1.0, hi * 1.1 + 0.02)
    ax.plot([0, hi], [0, hi], ":", color="#333333", lw=1, label=L["cal_perfect"])
    ax.set_xlim(0, hi)
    ax.set_ylim(0, hi)
    _localise_axes(ax, lang, x="pct", y="pct")
    ax.set_xlabel(L["cal_x"])
    ax.set_ylabel(L["cal_y"])
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return _img(fig, L["calibration_plot"], "calibration-plot", L["calibration_alt"], lang)
