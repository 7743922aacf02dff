"""Page one of the report: what a leader reads first.

For the service: how many of how many may leave in the coming horizon (a range), how many left
the year before, which groups are at elevated risk and how many are hidden because they are
small. For each flagged group: its range compared with the service, what pushes its risk up
(at most three feature families, in their cause categories, levers marked), and the what-if of
its main lever in persons. Then what the numbers cannot say. Every sentence is written from
the results (:class:`~turnover_risk.report._results._Results`); a sentence whose numbers are
missing is left out.
"""

from __future__ import annotations

import html

import pandas as pd

from turnover_risk.report._format import _date, _flag, _int, _num, _pct, _pp
from turnover_risk.report._phrases import (
    AFTER_MONTHS,
    AFTER_OTHER,
    GROUP_NOUNS,
    OTHER_GROUP,
    PHRASES,
    RETENTION_PLACE,
)
from turnover_risk.report._results import MAX_DRIVERS

UNIT_WORDS = {
    # registry unit -> (English, bokmål) word after a value
    "months": ("months", "måneder"),
    "cases": ("cases", "saker"),
    "years": ("years", "år"),
    "sessions": ("sessions", "økter"),
    "minutes": ("minutes", "minutter"),
    "persons": ("persons", "personer"),
    "working days": ("working days", "arbeidsdager"),
    "spells": ("spells", "tilfeller"),
    "percent": ("%", "%"),
}


def _value(v, unit: str, lang: str, word: str) -> str:
    if unit in ("share", "0/1"):
        return _pct(v, lang, 0)
    return _num(v, lang, 1) + (f"\u00a0{word}" if word else "")


def _nouns(by: str, lang: str) -> tuple[str, str]:
    return GROUP_NOUNS[lang].get(by, OTHER_GROUP[lang])


def _names(keys: list[str], lang: str) -> str:
    b = [f"<b>{html.escape(k)}</b>" for k in keys]
    if len(b) <= 1:
        return "".join(b)
    return ", ".join(b[:-1]) + f" {PHRASES[lang]['and']} " + b[-1]


def _service_lines(res, P, lang) -> list[str]:
    s, lines = res.service, []
    one, many = _nouns(res.by, lang)
    if s:
        lines.append(
            P["service_range"].format(
                months=res.horizon,
                lo=_int(s["pi_low"], lang),
                hi=_int(s["pi_high"], lang),
                n=_int(s["n_persons"], lang),
                expected=_int(s["expected"], lang),
                share=_pct(s["share"], lang, 0),
            )
        )
    b = res.backtest
    if b and b.get("expected") is not None:
        lines.append(
            P["backtest_line"].format(
                date=P["as_of"].format(date=_date(b["period"], lang, long=True)),
                observed=_int(b["observed"], lang),
                n=_int(b["n_persons"], lang),
                months=res.horizon,
                share=_pct(b["share"], lang, 0),
                expected=_int(b["expected"], lang),
            )
        )
    t = res.flags.table
    counts = t["flag"].value_counts()
    by_ratio = t.sort_values("ratio", ascending=False, na_position="last")
    elevated = [str(k) for k in by_ratio.loc[by_ratio["flag"] == "elevated", res.by]]
    low = [str(k) for k in by_ratio.loc[by_ratio["flag"] == "low", res.by]]
    parts = []
    if elevated:
        key = "flag_line_one" if len(elevated) == 1 else "flag_line_many"
        parts.append(
            P[key].format(k=len(elevated), noun=many, noun_one=one, names=_names(elevated, lang))
        )
    elif counts.get("as expected", 0) + len(low):
        parts.append(P["flag_line_none"].format(noun=many, noun_one=one))
    if low:
        parts.append(P["low_line"].format(names=_names(low, lang)))
    for flag, key in (
        ("as expected", "expected_line"),
        ("suppressed", "suppressed_line"),
        ("not assessed", "not_assessed_line"),
    ):
        k = int(counts.get(flag, 0))
        if k:
            noun = one if k == 1 else many
            parts.append(P[key].format(k=k, noun=noun, min_size=res.min_group_size))
    if parts:
        lines.append(" ".join(parts))
    # service what-if: the scenario with the largest drop in expected leavers
    best = None
    for key, o in res.whatif_service.items():
        fewer = o["expected_before"] - o["expected_after"]
        if best is None or fewer > best[1]:
            best = (key, fewer, o["n_persons"])
    if best is not None and round(best[1], 1) > 0:
        lines.append(
            P["service_whatif"].format(
                scenario=html.escape(res.L["if_" + best[0]]),
                x=_num(best[1], lang, 1),
                n=_int(best[2], lang),
            )
        )
    return lines


def _after(months: float, lang: str) -> str:
    m = int(round(months))
    return AFTER_MONTHS[lang].get(m) or AFTER_OTHER[lang].format(months=m)


def _retention_cells(table: pd.DataFrame, newly_qualified: bool) -> list:
    """(months, retention, ci_low, ci_high) of one cohort at the times shown (not suppressed,
    within follow-up), in time order."""
    cohort = table["newly_qualified"].astype("boolean")
    rows = table[
        (cohort == newly_qualified).fillna(False).to_numpy(bool)
        & ~table["suppressed"].astype(bool).to_numpy()
        & table["retention"].notna().to_numpy()
    ].sort_values("time_months")
    return list(
        zip(rows["time_months"], rows["retention"], rows["ci_low"], rows["ci_high"], strict=True)
    )


def _retention_line(res, P, lang) -> str | None:
    """How many newly qualified staff stay after one and two years, with the interval, and
    the experienced staff's shares beside them; a short "too few to say" when the newly
    qualified cells are all suppressed; nothing when the register cannot say."""
    r = res.retention
    if not r:
        return None
    t = r["table"]
    new, old = _retention_cells(t, True), _retention_cells(t, False)
    if not new:
        has_new = bool(t["newly_qualified"].astype("boolean").fillna(False).any())
        return P["retention_too_few"] if has_new else None
    place = RETENTION_PLACE[lang].get(r["scope"], RETENTION_PLACE[lang]["service"])
    level = P["interval_level"].format(level=_num(100 * r.get("confidence", 0.95), lang, 0))
    months, share, lo, hi = new[0]
    text = P["retention_first"].format(
        share=_pct(share, lang, 0),
        place=place,
        after=_after(months, lang),
        level=level,
        lo=_num(100 * lo, lang, 0),
        hi=_pct(hi, lang, 0),
    )
    for months, share, lo, hi in new[1:]:
        text += P["retention_more"].format(
            share=_pct(share, lang, 0),
            after=_after(months, lang),
            lo=_num(100 * lo, lang, 0),
            hi=_pct(hi, lang, 0),
        )
    if old:
        same_times = [c[0] for c in old] == [c[0] for c in new]
        values = [
            _pct(c[1], lang, 0) if same_times else f"{_pct(c[1], lang, 0)} {_after(c[0], lang)}"
            for c in old
        ]
        joined = (
            values[0]
            if len(values) == 1
            else (", ".join(values[:-1]) + f" {P['and']} " + values[-1])
        )
        text += P["retention_experienced"].format(values=joined)
    return text + "."


def _driver_items(res, group: str, P, lang) -> list[str]:
    from turnover_risk.groups import feature_label
    from turnover_risk.panel import FEATURES

    d = res.drivers
    d = d[(d["group"] == group) & (d["pp"] >= 0.0005)].head(MAX_DRIVERS)
    i = 1 if lang == "nb" else 0
    items = []
    for _, r in d.iterrows():
        cause = FEATURES.causes.get(r["cause"], ("other", "annet"))[i]
        family = FEATURES.families.get(r["family"], (r["family"], r["family"]))[i]
        text = P["driver_line"].format(
            cause=html.escape(cause[0].upper() + cause[1:]),
            family=html.escape(family),
            pp=_pp(r["pp"], lang),
        )
        if pd.notna(r["group_value"]) and pd.notna(r["service_value"]):
            unit = getattr(FEATURES.get(r["lead"]), "unit", "")
            word = UNIT_WORDS.get(unit, ("", ""))[1 if lang == "nb" else 0]
            text += P["driver_values"].format(
                label=html.escape(feature_label(r["lead"], lang)),
                group=_value(r["group_value"], unit, lang, word),
                service=_value(r["service_value"], unit, lang, ""),
                unit_word=P["unit_word"] if res.by == "unit_id" else P["group_word"],
            )
        text += ". " + (
            f'<b class="lever">{P["lever_yes"]}</b>'
            if r["lever"]
            else f'<span class="context">{P["lever_no"]}</span>'
        )
        items.append(f"<li>{text}</li>")
    return items


def _whatif_sentence(res, key: str, group: str, P, lang) -> str | None:
    w = res.whatif.get(key)
    if w is None:
        return None
    t = w.table
    row = t[t[res.by].astype(str) == group]
    if row.empty or bool(row["suppressed"].iloc[0]):
        return None
    r = row.iloc[0]
    if pd.isna(r["expected_leavers_before"]) or pd.isna(r["expected_leavers_after"]):
        return None
    fewer = float(r["expected_leavers_before"] - r["expected_leavers_after"])
    scenario = html.escape(res.L["if_" + key])
    n = _int(r["n_persons"], lang)
    if round(fewer, 1) > 0:
        return P["whatif_fewer"].format(scenario=scenario, x=_num(fewer, lang, 1), n=n)
    if round(fewer, 1) < 0:
        return P["whatif_more"].format(scenario=scenario, x=_num(-fewer, lang, 1), n=n)
    return P["whatif_none"].format(scenario=scenario)


def _group_block(res, r, P, lang) -> str:
    name = str(r[res.by])
    gid = "group-" + "".join(c if c.isalnum() else "-" for c in name)
    head = P["group_head"].format(
        name=html.escape(name), n=_int(r["n_persons"], lang), flag=_flag(r["flag"], res.L)
    )
    items = []
    if pd.notna(r.get("leavers_pi_low")) and pd.notna(r.get("ratio")):
        items.append(
            P["group_range"].format(
                lo=_int(r["leavers_pi_low"], lang),
                hi=_int(r["leavers_pi_high"], lang),
                n=_int(r["n_persons"], lang),
                months=res.horizon,
                expected=_num(r["expected_leavers"], lang, 1),
                ratio=_num(r["ratio"], lang, 1),
            )
        )
    if r["flag"] == "elevated":
        drivers = _driver_items(res, name, P, lang)
        if drivers:
            items.append(P["pushes_up"] + "<ul>" + "".join(drivers) + "</ul>")
        elif not res.drivers.empty:
            items.append(P["no_push"])
        key = res.main_lever.get(name)
        sentence = _whatif_sentence(res, key, name, P, lang) if key else None
        if sentence:
            items.append(sentence)
    body = "".join(f"<li>{x}</li>" for x in items)
    return (
        f'<article class="group {html.escape(r["flag"].replace(" ", "-"))}" id="{gid}">'
        f"<h3>{head}</h3><ul>{body}</ul></article>"
    )


def _page_one(res, lang: str) -> str:
    """The HTML of page one (a ``<section id="page-one">``)."""
    P = PHRASES[lang]
    lines = _service_lines(res, P, lang)
    stay = _retention_line(res, P, lang)
    if stay:
        lines.append(stay)
    parts = ['<ul class="lead">' + "".join(f"<li>{x}</li>" for x in lines) + "</ul>"]
    t = res.flags.table
    flagged = t[t["flag"].isin(["elevated", "low"])]
    flagged = flagged.assign(_r=flagged["flag"].map({"elevated": 0, "low": 1})).sort_values(
        ["_r", "ratio"], ascending=[True, False]
    )
    for _, r in flagged.iterrows():
        parts.append(_group_block(res, r, P, lang))
    auc = res.metrics.get("model", {}).get("roc_auc")
    body = P["cannot_say_body"]
    if auc is not None and pd.notna(auc):
        body += P["auc_line"].format(auc=_int(100 * auc, lang))
    body += P["use_line"]
    parts.append(
        f'<div class="cannot-say" id="cannot-say"><h3>{P["cannot_say"]}</h3><p>{body}</p></div>'
    )
    return "\n".join(parts)
