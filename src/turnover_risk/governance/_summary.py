"""The content of the report section "Is the model fair, and still valid?" (both languages).

:func:`fairness_summary` turns an :class:`AuditResult` and a :class:`DriftResult` into plain
sentences and two small tables (header and rows of strings), with no HTML, so the report (or a
notebook, or a model card) can render them. Only shown (unsuppressed) groups appear.
"""

from __future__ import annotations

import math
from typing import Any

from turnover_risk.governance._drift import PSI_SMALL

__all__ = ["TEXTS", "fairness_summary"]

TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Is the model fair, and still valid?",
        "audit_intro": "Accuracy by gender and age band on the periods with known outcomes "
        "(person-months; intervals with units as clusters). Groups under {min} persons "
        "are not shown. A person counts as flagged from a risk of {thr}.",
        "no_diff": "No group differs from the rest in calibration, ranking or flag rates "
        "beyond chance (false discovery rate {alpha}).",
        "diff": "{by} {group} differs from the rest: {items}.",
        "item": "{metric} {value} (rest {rest})",
        "note": "Calibration (observed / expected near 1) and AUC say whether the risks are "
        "equally right for every group. Shares flagged follow the risk, so a group that leaves "
        "more often is flagged more often; different true and false positive rates are the "
        "price of one threshold for all, and a reason to read flags at group level only.",
        "gender": "gender",
        "age_band": "age band",
        "female": "women",
        "male": "men",
        "oe_off": "Risks are {direction} for {by} {group}: {observed} of {expected_n} "
        "expected leavers (observed / expected {oe}, interval {lo}-{hi}).",
        "too_low": "too low",
        "too_high": "too high",
        "drift_ok": "The inputs of the latest data ({rows} rows, {persons} persons) look like "
        "the training data: no feature has drifted.",
        "drift_bad": "{k} of {n} input features have drifted from the training data: {list}. "
        "Check the data, and refit and evaluate the model before relying on it.",
        "unseen": "Values the model never saw: {list}.",
        "no_profile": "The model has no reference profile of its training data (fitted by "
        "version 0.1.0), so drift cannot be checked. Refit it.",
        "group": "group",
        "persons": "persons",
        "observed_rate": "observed rate",
        "mean_risk": "mean risk",
        "oe": "observed / expected",
        "auc": "AUC",
        "flagged_share": "share flagged",
        "tpr": "share of leavers flagged",
        "fpr": "share of stayers flagged",
        "feature": "feature",
        "psi": "PSI",
        "band": "change",
        "missing_change": "change in missing",
        "outside": "unseen / out of range",
        "drift": "drift",
        "yes": "yes",
        "drift_note": "“Drift” marks a feature whose change is both at least small (PSI of "
        "{psi} or more) and more than chance, counting each person - or, for a unit feature, "
        "each unit - once. A large PSI without “yes” rests on few persons or units and may be "
        "chance.",
        "negligible": "negligible",
        "small": "small",
        "moderate": "moderate",
        "major": "major",
    },
    "nb": {
        "title": "Er modellen rettferdig, og fortsatt gyldig?",
        "audit_intro": "Treffsikkerhet etter kjønn og aldersgruppe i periodene med kjent utfall "
        "(personmåneder; intervaller med enhetene som klynger). Grupper med færre enn {min} "
        "personer vises ikke. En person regnes som flagget fra en risiko på {thr}.",
        "no_diff": "Ingen gruppe skiller seg fra resten i kalibrering, rangering eller "
        "flaggrater utover tilfeldigheter (falsk funnrate {alpha}).",
        "diff": "{by} {group} skiller seg fra resten: {items}.",
        "item": "{metric} {value} (resten {rest})",
        "note": "Kalibrering (observert / forventet nær 1) og AUC viser om risikoen er like "
        "riktig for alle grupper. Andelen flagget følger risikoen, så en gruppe som slutter "
        "oftere, flagges oftere; ulike andeler riktig og feil flagget er prisen for én grense "
        "for alle, og en grunn til å lese flagg bare på gruppenivå.",
        "gender": "kjønn",
        "age_band": "aldersgruppe",
        "female": "kvinner",
        "male": "menn",
        "oe_off": "Risikoen er {direction} for {by} {group}: {observed} av {expected_n} "
        "forventede avganger (observert / forventet {oe}, intervall {lo}-{hi}).",
        "too_low": "for lav",
        "too_high": "for høy",
        "drift_ok": "Inndataene i de siste dataene ({rows} rader, {persons} personer) ligner "
        "treningsdataene: ingen variabel har endret seg vesentlig.",
        "drift_bad": "{k} av {n} variabler har endret seg fra treningsdataene: {list}. Kontroller "
        "dataene, og tilpass og evaluer modellen på nytt før den brukes.",
        "unseen": "Verdier modellen aldri har sett: {list}.",
        "no_profile": "Modellen har ingen referanseprofil av treningsdataene (laget med versjon "
        "0.1.0), så endringer i dataene kan ikke kontrolleres. Tilpass den på nytt.",
        "group": "gruppe",
        "persons": "personer",
        "observed_rate": "observert rate",
        "mean_risk": "gj.sn. risiko",
        "oe": "observert / forventet",
        "auc": "AUC",
        "flagged_share": "andel flagget",
        "tpr": "andel flagget blant dem som sluttet",
        "fpr": "andel flagget blant dem som ble",
        "feature": "variabel",
        "psi": "PSI",
        "band": "endring",
        "missing_change": "endring i manglende",
        "outside": "ukjente / utenfor",
        "drift": "endret",
        "yes": "ja",
        "drift_note": "«Endret» markerer en variabel der endringen både er minst liten (PSI "
        "på {psi} eller mer) og større enn tilfeldigheter, når hver person - eller, for en "
        "enhetsvariabel, hver enhet - telles én gang. En høy PSI uten «ja» bygger på få "
        "personer eller enheter og kan være tilfeldig.",
        "negligible": "ubetydelig",
        "small": "liten",
        "moderate": "moderat",
        "major": "stor",
    },
}


def _num(x: Any, lang: str, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    s = f"{float(x):.{digits}f}"
    return s.replace(".", ",") if lang == "nb" else s


def _pct(x: Any, lang: str) -> str:
    return "-" if x is None or not math.isfinite(float(x)) else _num(100 * float(x), lang, 1) + " %"


def _value(metric: str, x: Any, lang: str) -> str:
    return _num(x, lang) if metric in ("oe", "auc") else _pct(x, lang)


def _by(by: str, T: dict[str, str]) -> str:
    return " x ".join(T.get(b, b) for b in by.split(" x "))


def _group(group: str, T: dict[str, str]) -> str:
    return " / ".join(T.get(g, g) for g in group.split(" / "))


def _audit_part(audit: Any, T: dict[str, str], lang: str) -> tuple[list[str], dict]:
    t = audit.table[~audit.table["suppressed"]]
    s = audit.settings
    sentences = [T["audit_intro"].format(min=s["min_group_size"], thr=_pct(audit.threshold, lang))]
    hits = audit.differences[audit.differences["differs"]]
    if hits.empty:
        sentences.append(T["no_diff"].format(alpha=_pct(s["alpha"], lang)))
    for (by, group), g in hits.groupby(["by", "group"], sort=False):
        items = [
            T["item"].format(
                metric=T[r.metric],
                value=_value(r.metric, r.value, lang),
                rest=_value(r.metric, r.rest, lang),
            )
            for r in g.itertuples()
        ]
        sentences.append(
            T["diff"].format(by=_by(by, T), group=_group(group, T), items=", ".join(items))
        )
    sentences.append(T["note"])
    for r in t.itertuples():
        if r.oe_low > 1 or r.oe_high < 1:
            expected = r.n_rows * r.mean_risk
            sentences.append(
                T["oe_off"].format(
                    direction=T["too_low"] if r.oe_low > 1 else T["too_high"],
                    by=_by(r.by, T),
                    group=_group(r.group, T),
                    observed=round(r.n_rows * r.observed_rate),
                    expected_n=round(expected),
                    oe=_num(r.oe, lang),
                    lo=_num(r.oe_low, lang),
                    hi=_num(r.oe_high, lang),
                )  # fmt: skip
            )
    metrics = ("observed_rate", "mean_risk", "oe", "auc", "tpr", "fpr")
    header = [T["group"], T["persons"], *[T[m] for m in metrics]]
    rows = [
        [f"{_by(r['by'], T)}: {_group(r['group'], T)}", str(int(r["n_persons"]))]
        + [
            f"{_value(m, r[m], lang)} ({_value(m, r[f'{m}_low'], lang)}-"
            f"{_value(m, r[f'{m}_high'], lang)})"
            for m in metrics
        ]
        for _, r in t.iterrows()
    ]
    labels = [r[0] for r in rows]  # the plot's groups, named as in the table
    titles = {m: T[m] for m in ("oe", "auc", "tpr", "fpr")}
    return sentences, {"header": header, "rows": rows, "labels": labels, "titles": titles}


def _drift_part(drift: Any, T: dict[str, str], lang: str) -> tuple[list[str], dict]:
    t = drift.table
    sentences = []
    if not drift.any_drift:
        sentences.append(
            T["drift_ok"].format(rows=int(t["n_rows"].iloc[0]), persons=int(t["n_persons"].iloc[0]))
        )
    else:
        top = t[t["drift"]].sort_values("psi", ascending=False)
        sentences.append(
            T["drift_bad"].format(
                k=len(top),
                n=len(t),
                list=", ".join(f"{r.feature} (PSI {_num(r.psi, lang)})" for r in top.itertuples()),
            )  # fmt: skip
        )
    bad = t[(t["unseen"] + t["out_of_range"]) > 0]
    if len(bad):
        sentences.append(
            T["unseen"].format(
                list=", ".join(
                    f"{r.feature} ({r.unseen + r.out_of_range})" for r in bad.itertuples()
                )
            )
        )
    shown = t[t["drift"] | (t["psi"] >= 0.01)].sort_values("psi", ascending=False).head(12)
    header = [T["feature"], T["psi"], T["band"], T["missing_change"], T["outside"], T["drift"]]
    rows = [
        [r.feature, _num(r.psi, lang, 3), T.get(r.band, r.band),
         _pct(r.missing_change, lang), str(int(r.unseen + r.out_of_range)),
            T["yes"] if r.drift else ""]
        for r in shown.itertuples()
    ]  # fmt: skip
    note = T["drift_note"].format(psi=_num(PSI_SMALL, lang, 2))
    return sentences, {"header": header, "rows": rows, "drifted": drift.drifted, "note": note}


def fairness_summary(audit: Any = None, drift: Any = None, *, lang: str = "en") -> dict:
    """Sentences and tables of the report section, from an audit and a drift check.

    Parameters
    ----------
    audit : AuditResult, optional
        From :func:`~turnover_risk.audit`.
    drift : DriftResult or "no_profile", optional
        From :func:`~turnover_risk.check_drift`; the string ``"no_profile"`` for a model without
        a reference profile (fitted by 0.1.0), which gets a sentence saying so.
    lang : {"en", "nb"}

    Returns
    -------
    dict
        ``title``, ``audit_sentences``, ``audit_table`` (``header``, ``rows``),
        ``drift_sentences``, ``drift_table`` (``header``, ``rows``, ``drifted``); parts without
        input are empty.

    Examples
    --------
    >>> fairness_summary(drift="no_profile", lang="en")["drift_sentences"][0][:28]
    'The model has no reference p'
    """
    if lang not in TEXTS:
        raise ValueError(f"lang={lang!r} is not supported; choose one of: {', '.join(TEXTS)}.")
    T = TEXTS[lang]
    out: dict[str, Any] = {
        "title": T["title"],
        "audit_sentences": [],
        "audit_table": None,
        "drift_sentences": [],
        "drift_table": None,
    }
    if audit is not None:
        out["audit_sentences"], out["audit_table"] = _audit_part(audit, T, lang)
    if isinstance(drift, str) and drift == "no_profile":
        out["drift_sentences"] = [T["no_profile"]]
    elif drift is not None:
        out["drift_sentences"], out["drift_table"] = _drift_part(drift, T, lang)
    return out
