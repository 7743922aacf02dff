"""The evidence on groups: flags with their funnel plot, the backtest, drivers and what-if.

Each ``_<name>_section(res, L, lang)`` returns the HTML of a section body from the gathered
results (:class:`~turnover_risk.report._results._Results`). A suppressed group (fewer than
``min_group_size`` persons) is shown as "hidden" ("skjult") with no count and no value, wherever it
appears.
"""

from __future__ import annotations

import html

from turnover_risk.report._format import (
    _date,
    _details,
    _flag,
    _img,
    _int,
    _interval,
    _num,
    _pct,
    _pp,
    _table,
    _under,
)
from turnover_risk.report._funnels import _prospective_funnel, _retrospective_funnel
from turnover_risk.report._page_one import _nouns
from turnover_risk.report._results import SCENARIOS


def _suppressed(r) -> bool:
    return bool(r.get("suppressed", False)) or r.get("flag") == "suppressed"


def _family_label(fam: str, lang: str) -> str:
    from turnover_risk.panel import FEATURES

    return FEATURES.families.get(fam, (fam, fam))[1 if lang == "nb" else 0]


def _cause_label(cause: str, lang: str) -> str:
    from turnover_risk.panel import FEATURES

    return FEATURES.causes.get(cause, ("other", "annet"))[1 if lang == "nb" else 0]


def _top_families(res, group: str, lang: str, k: int = 3) -> str:
    d = res.drivers
    d = d[(d["group"] == group) & (d["pp"] >= 0.0005)].head(k)
    return "; ".join(f"{_family_label(r.family, lang)} ({_pp(r.pp, lang)})" for r in d.itertuples())


def _group_row(res, r, L, lang, with_drivers: bool) -> list[str]:
    name = str(r[res.by])
    if _suppressed(r):
        row = [name, _under(res.min_group_size, lang), *["–"] * 6, _flag("suppressed", L)]
    else:
        row = [
            name,
            _int(r["n_persons"], lang),
            _num(r["expected_leavers"], lang, 1),
            _interval(r["leavers_pi_low"], r["leavers_pi_high"], lang, 0),
            _num(r["ratio"], lang, 2),
            _interval(r["ratio_ci_low"], r["ratio_ci_high"], lang, 2),
            _num(r["q_value"], lang, 3),
            _pct(r["exit_share"], lang),
            _flag(r["flag"], L),
        ]
    if with_drivers:
        row.append(html.escape(_top_families(res, name, lang)))
    return row


def _drawn(res, name: str) -> str | None:
    """The HTML of the figure ``name`` when drawn elsewhere (``res.figures``: the command
    line's report worker draws the funnel plots, ``report/_write.py``), else None."""
    return (getattr(res, "figures", None) or {}).get(name)


def _funnel_part(flags, by: str, L, lang) -> str:
    """The prospective funnel plot with its alt text, or a line saying there is none."""
    fig, names = _prospective_funnel(flags, by, L, lang)
    if fig is None:
        return f"<p>{html.escape(L['no_funnel'])}</p>"
    shown = int((~flags.table["suppressed"].astype(bool)).sum())
    alt = L["funnel_alt"].format(n=shown, k=len(names), names=", ".join(names) or L["none"])
    return _img(fig, L["funnel_plot"], "funnel", alt, lang)


def _retro_part(retro, by: str, L, lang) -> str:
    """The retrospective funnel plot with its alt text and note ("" when none)."""
    fig, names = _retrospective_funnel(retro, by, L, lang)
    if fig is None:
        return ""
    shown = int((~retro.table["suppressed"].astype(bool)).sum())
    alt = L["retro_alt"].format(n=shown, names=", ".join(names) or L["none"])
    return "\n".join(
        [
            _img(fig, L["retro_plot"], "funnel-retrospective", alt, lang),
            f'<p class="small">{html.escape(L["retro_note"])}</p>',
        ]
    )


def _groups_section(res, L, lang) -> str:
    flags, by = res.flags, res.by
    parts = [
        "<p>"
        + L["groups_intro"].format(
            date=_date(flags.period, lang, long=True) if flags.period is not None else "–",
            horizon=res.horizon,
            margin=_num(flags.info.get("margin", 1.25), lang, 2),
            reference=_pct(flags.reference_share, lang),
        )
        + "</p>"
    ]
    if flags.reason:
        parts.append(f'<p class="note">{html.escape(flags.reason)}</p>')
    parts.append(_drawn(res, "funnel") or _funnel_part(flags, by, L, lang))
    t = flags.table
    order = t.assign(
        _rank=t["flag"].map({"elevated": 0, "low": 1, "suppressed": 3}).fillna(2)
    ).sort_values(["_rank", "ratio"], ascending=[True, False], na_position="last")
    header = [
        _nouns(res.by, lang)[0],
        L["col_n"],
        L["col_expected"],
        L["col_pi"],
        L["col_ratio"],
        L["col_ratio_ci"],
        L["col_q"],
        L["col_share"],
        L["col_flag"],
        L["col_drivers"],
    ]
    flagged = order[order["flag"].isin(["elevated", "low"])]
    parts.append(f"<h3>{html.escape(L['flagged_table'])}</h3>")
    if flagged.empty:
        parts.append(f'<p id="no-flags">{html.escape(L["no_flags"])}</p>')
    else:
        parts.append(
            _table(
                header,
                [_group_row(res, r, L, lang, True) for _, r in flagged.iterrows()],
                text_cols=(0, 8, 9),
                table_id="flagged-groups",
                row_classes=list(flagged["flag"]),
                raw_cols=(8,),
            )
        )
    everyone = _table(
        header[:-1],
        [_group_row(res, r, L, lang, False) for _, r in order.iterrows()],
        text_cols=(0, 8),
        table_id="all-groups",
        row_classes=[f.replace(" ", "-") for f in order["flag"]],
        raw_cols=(8,),
    )
    parts.append(_details(L["all_groups_table"], everyone, "all-groups-details"))
    return "\n".join(parts)


def _backtest_section(res, L, lang) -> str:
    retro, b = res.retro, res.backtest
    if retro is None or retro.empty or not b:
        return ""
    parts = [
        "<p>"
        + html.escape(
            L["backtest_intro"].format(
                date=_date(b["period"], lang, long=True),
                observed=_int(b["observed"], lang),
                n=_int(b["n_persons"], lang),
                horizon=res.horizon,
                expected=_num(b["expected"], lang, 1),
            )
        )
        + " "
        + html.escape(
            L["od_none"]
            if retro.overdispersion.get("applied", "none") == "none"
            else L["od_applied"]
        )
        + "</p>"
    ]
    figure = _drawn(res, "retro")
    figure = _retro_part(retro, res.by, L, lang) if figure is None else figure
    if figure:
        parts.append(figure)
    rt = retro.table.assign(_s=retro.table["suppressed"].astype(bool)).sort_values(
        ["_s", "oe_ratio"], ascending=[True, False], na_position="last"
    )
    rows = []
    for _, r in rt.iterrows():
        name = str(r[res.by])
        if _suppressed(r):
            rows.append(
                [
                    name,
                    _under(res.min_group_size, lang),
                    "–",
                    "–",
                    "–",
                    "–",
                    "–",
                    _flag("suppressed", L),
                ]
            )
            continue
        rows.append(
            [
                name,
                _int(r["n_persons"], lang),
                _int(r["observed"], lang),
                _num(r["expected"], lang, 1),
                _num(r["oe_ratio"], lang, 2),
                _interval(r["oe_ci_low"], r["oe_ci_high"], lang, 2),
                _num(r["q_value"], lang, 3),
                _flag(r["flag"], L),
            ]
        )
    header = [
        _nouns(res.by, lang)[0],
        L["col_n"],
        L["col_observed"],
        L["col_expected"],
        L["col_oe"],
        L["col_oe_ci"],
        L["col_q"],
        L["col_flag"],
    ]
    table = _table(
        header,
        rows,
        text_cols=(0, 7),
        table_id="retrospective-groups",
        row_classes=[f.replace(" ", "-") for f in rt["flag"]],
        raw_cols=(7,),
    )
    parts.append(_details(L["retro_table"], table, "retrospective-details"))
    return "\n".join(parts)


def _drivers_section(res, L, lang) -> str:
    d = res.drivers
    if d.empty:
        return f"<p>{html.escape(L['no_drivers'])}</p>"
    parts = [f"<p>{html.escape(L['drivers_intro'])}</p>"]
    t = res.flags.table.sort_values("ratio", ascending=False, na_position="last")
    for g in [str(k) for k in t.loc[t["flag"].isin(["elevated", "low"]), res.by]]:
        part = d[(d["group"] == g) & (d["pp"].abs() >= 0.0005)]
        parts.append(f'<h3 class="driver-group">{html.escape(g)}</h3><div class="two-col">')
        for lever, key in ((True, "levers"), (False, "context")):
            sub = part[part["lever"] == lever].head(6)
            rows = [
                [_family_label(r.family, lang), _cause_label(r.cause, lang), _pp(r.pp, lang)]
                for r in sub.itertuples()
            ]
            parts.append(f"<div><h4>{html.escape(L[key])}</h4>")
            parts.append(
                _table(
                    [L["col_family"], L["col_cause"], L["col_pp"]],
                    rows or [["–", "–", "–"]],
                    text_cols=(0, 1),
                    table_id=f"drivers-{key}-{g}",
                )
                + "</div>"
            )
        parts.append("</div>")
    return "\n".join(parts)


def _whatif_section(res, L, lang) -> str:
    parts = [f'<p class="note">{L["whatif_intro"]}</p>']
    if not res.whatif:
        parts.append(f"<p>{html.escape(L['no_levers'])}</p>")
        return "\n".join(parts)
    t = res.flags.table.sort_values("ratio", ascending=False, na_position="last")
    groups = [str(k) for k in t.loc[t["flag"] == "elevated", res.by]]
    header = [L["scenario"], L["service"], *groups]
    rows = []
    for key, *_ in SCENARIOS:
        w = res.whatif.get(key)
        if w is None:
            continue
        o = res.whatif_service[key]
        fewer = _num(o["expected_before"] - o["expected_after"], lang, 1)
        row = [L[key], fewer]
        wt = w.table.assign(_k=w.table[res.by].astype(str)).set_index("_k")
        for g in groups:
            r = wt.loc[g] if g in wt.index else None
            if r is None or _suppressed(r):
                row.append(_under(res.min_group_size, lang) if r is not None else "–")
            else:
                row.append(
                    _num(r["expected_leavers_before"] - r["expected_leavers_after"], lang, 1)
                )
        rows.append(row)
    table = _table(header, rows, text_cols=(0,), table_id="whatif-table")
    caption = f"<caption>{html.escape(L['fewer'])}</caption>"
    parts.append(table.replace("<thead>", caption + "<thead>", 1))
    return "\n".join(parts)
