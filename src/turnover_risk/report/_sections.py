"""The sections of the report: data, rates, model, groups and what-if.

Each ``_<name>_section`` function runs its part of the main job on the register, panel, model
or results it is given and returns the HTML of the section body (paragraphs, tables and inline
figures) in the chosen language: the data summary and validation result, turnover under the
main definitions and sick leave over time, the temporal evaluation table and calibration
curve, the funnel plots and flagged-groups tables with drivers, and the what-if scenarios for
the main levers. Only aggregates are shown; every group figure honours ``min_group_size``.
"""

from __future__ import annotations

import html

import pandas as pd

from turnover_risk.report._format import (
    _date,
    _figure,
    _flag,
    _img,
    _int,
    _interval,
    _key,
    _num,
    _pct,
    _table,
)

TURNOVER_DEFINITIONS: tuple[str, ...] = ("exit_share", "bufdir", "separation")
"""The definitions shown side by side in the report."""

CASELOAD_CAP = 15
"""The union's asked-for maximum caseload (``docs/sources.md``), used by the caseload what-if."""


def _data_section(register, L, lang) -> str:
    from turnover_risk.data import validate

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
    from turnover_risk.models import SCORE_METRICS

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
    from turnover_risk.groups import what_if
    from turnover_risk.panel import panel_spec

    names = getattr(model, "feature_names_in_", None)  # as what_if reads the model's inputs
    features = set(names if names is not None else panel_spec(panel).feature_cols)
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
    from turnover_risk.groups import driver_text

    d = flags.drivers
    if d is None or d.empty:
        return {}
    out: dict[str, list[str]] = {}
    for _, r in d.iterrows():
        out.setdefault(_key(r, flags.by), []).append(
            html.escape(driver_text(r["feature"], r["difference"], flags.by[-1], lang))
        )
    return {k: "<br>".join(v) for k, v in out.items()}
