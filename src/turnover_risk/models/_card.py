"""The model card: what a fitted model is for, what it was trained on, how well it does, its limits.

:func:`write_model_card` writes ``<model>.card.md`` (for people) and ``<model>.card.json`` (for
machines) beside a saved model. Both hold counts and metrics only, never a row or an identifier:
groups of the audit under the minimum size are left out. The card carries the information a
provider owes a deployer under the EU AI Act (Art 13: instructions for use, including accuracy
for groups of persons, Art 13(3)(b)(v)) and the skeleton of the deployer's fundamental-rights
impact assessment (Art 27), with every part only the deployer can write marked
:data:`DEPLOYER`. See ``docs/governance.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

__all__ = ["CARD_VERSION", "DEPLOYER", "model_card", "write_model_card"]

CARD_VERSION = 1
DEPLOYER = "TO BE COMPLETED BY THE DEPLOYER"

INTENDED_USE = (
    "Planning at group level by leaders and HR: which units, roles or groups of staff are likely "
    "to lose people within the horizon, and which working conditions (caseload, supervision) go "
    "with that risk, so that resources and measures can be planned for groups."
)
HUMAN_OVERSIGHT = (
    "The model must not be used to make or prepare decisions about individual employees "
    "(hiring, pay, assignments, dismissal, performance review, contact because of a personal "
    "score). Its outputs are read at group level by a person who knows the units, who can "
    "disregard them, and who answers for the decision; individual risk scores are not shown to "
    "leaders. Every use is logged by the deployer (Art 12, 14 and 26 of the EU AI Act)."
)
OUT_OF_SCOPE = (
    "Any decision about an individual employee, or ranking employees by personal risk.",
    "Monitoring, evaluating or disciplining employees for their behaviour or health "
    "(sick leave enters only as a feature of risk).",
    "Groups under the minimum group size, or outputs that can be traced to a person.",
    "Populations, periods or services unlike the training data (check drift first: "
    "tr.check_drift or `turnover-risk score`).",
    "Reading a feature's association as its effect: the model does not show what would "
    "happen if a lever were moved.",
)
LIMITS = (
    "Association, not cause: attributions say what goes with higher risk in the training data, "
    "not what would change it; what-if results are model scenarios, not predictions of an "
    "intervention.",
    "Risks are calibrated on the training distribution; after reorganisations, new "
    "registration practice or a changed labour market they may be off (see the drift check "
    "and the evaluation over time).",
    "Accuracy differs between groups of persons (see the audit); small groups are not "
    "reported at all, so their accuracy is unknown.",
    "Survey features exist only where a unit used that instrument; missing surveys are "
    "missing, not zero.",
    "The outcome is leaving within the horizon as the register records it; transfers "
    "inside the scope and unrecorded exits are not seen.",
)
RISKS_TO_ASSESS = (
    "Individual use despite the intended use (a leader treating a person as 'at risk').",
    "Indirect discrimination: risk, flags or accuracy differing by gender or age (see audit).",
    "Chilling effects on sick leave or survey answers if staff believe they are scored.",
    "Re-identification in small units through group outputs.",
    "Automation bias: group flags taken as fact rather than as a question for the leader.",
)


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [_jsonable(x) for x in v]
    if isinstance(v, dt.datetime):  # pandas Timestamps too
        return v.date().isoformat() if v.time() == dt.time() else v.isoformat()
    if hasattr(v, "item") and not isinstance(v, str):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    return v


def _feature_rows(names: Any) -> list[dict[str, Any]]:
    """Every feature used, with the registry's description, source and lever (when known)."""
    from turnover_risk.panel import FEATURES

    rows = []
    for name in names:
        f = FEATURES.get(name)
        row: dict[str, Any] = {"name": name}
        if f is None:
            row.update(source=None, unit=None, lever=None, description="(not a registry feature)")
        else:
            row.update(source=f.source, unit=f.unit, lever=bool(f.lever), description=f.description)
            for extra in ("family", "cause_category", "cause"):  # newer registries
                if getattr(f, extra, None) is not None:
                    row[extra] = getattr(f, extra)
        rows.append(row)
    return rows


def _evaluation(model: Any, evaluation: Any) -> dict[str, Any] | None:
    if evaluation is None:
        return getattr(model, "_evaluation_summary", None)
    out = {"pooled": evaluation.summary()}
    t = evaluation.table
    keep = [
        c
        for c in ("fold", "model", "n_test", "test_start", "test_end", "roc_auc", "brier",
                  "calibration_intercept", "calibration_slope", "ece", "precision_top10")
        if c in t.columns
    ]  # fmt: skip
    folds = t[(t["fold"] != "pooled") & (t["model"] == "model")] if "model" in t else t
    out["over_time"] = _jsonable(folds[keep].astype(object).to_dict("records"))
    return out


def _audit(audit: Any) -> dict[str, Any] | None:
    if audit is None:
        return None
    t = audit.table[~audit.table["suppressed"]]
    cols = [
        c
        for c in ("by", "group", "n_persons", "observed_rate", "mean_risk", "oe", "oe_low",
                  "oe_high", "auc", "auc_low", "auc_high", "flagged_share", "tpr", "fpr",
                  "differs")
        if c in t.columns
    ]  # fmt: skip
    return {
        "threshold": float(audit.threshold),
        "settings": _jsonable(audit.settings),
        "groups_suppressed": int(audit.table["suppressed"].sum()),
        "groups": _jsonable(t[cols].astype(object).to_dict("records")),
    }


def model_card(model: Any, *, evaluation: Any = None, audit: Any = None) -> dict[str, Any]:
    """The card's content as a JSON-ready dict (see :func:`write_model_card`).

    A :class:`~turnover_risk.HazardModel` gets its own card
    (:func:`turnover_risk.models._card_hazard.hazard_card`): outcomes, horizons and the
    time-dependent evaluation instead of one horizon and one outcome.
    """
    from turnover_risk._version import __version__

    if _is_hazard(model):
        from turnover_risk.models._card_hazard import hazard_card

        return hazard_card(model, evaluation=evaluation, audit=audit)

    spec = model.spec_
    prof = getattr(model, "input_profile_", None)
    n_persons = prof["n_persons"] if prof else None
    return {
        "card_version": CARD_VERSION,
        "library": f"turnover_risk {__version__}",
        "model": {
            "kind": model.kind,
            "horizon": model.horizon_,
            "outcome": spec.outcome if spec is not None else None,
            "scope": spec.scope if spec is not None else None,
            "freq": spec.freq if spec is not None else None,
            "calibrate": model.calibrate,
        },
        "intended_use": INTENDED_USE,
        "human_oversight": HUMAN_OVERSIGHT,
        "out_of_scope": list(OUT_OF_SCOPE),
        "training_data": {
            "periods": model.training_periods_,
            "n_rows": int(model.n_train_rows_),
            "n_persons": n_persons,
            "n_positive": int(model.n_positive_),
            "positive_rate": model.n_positive_ / max(1, model.n_train_rows_),
            "n_censored_dropped": int(model.n_censored_),
            "reference_profile": prof is not None,
        },
        "features": _feature_rows(model.features_),
        "dropped_columns": dict(model.dropped_columns_),
        "evaluation": _jsonable(_evaluation(model, evaluation)),
        "audit": _audit(audit),
        "limits": list(LIMITS),
        "eu_ai_act": eu_ai_act(
            INTENDED_USE,
            list(LIMITS),
            "model.explain (exact for logistic, TreeSHAP for gbm); tr.group_drivers for groups.",
            audit is not None,
            n_persons,
        ),
    }


def _is_hazard(model: Any) -> bool:
    from turnover_risk.models._hazard import HazardModel

    return isinstance(model, HazardModel)


def eu_ai_act(
    intended_use: str, limits: list[str], explanations: str, audited: bool, n_persons: Any
) -> dict[str, Any]:
    """The card's EU AI Act part: Art 13 instructions for use and the Art 27 FRIA skeleton."""
    return {
        "classification": "High-risk AI system: Annex III point 4(b) (monitoring and "
        "evaluating persons in work relationships). The deployer is a body governed by "
        "public law: Art 26 (deployer duties) and Art 27 (FRIA) apply.",
        "art_13_instructions_for_use": {
            "provider_identity_and_contact": DEPLOYER,
            "intended_purpose": intended_use,
            "accuracy_metrics": "See 'evaluation' (temporal validation on later periods).",
            "accuracy_for_groups_of_persons": "See 'audit'"
            if audited
            else "Not yet audited: run tr.audit(model, panel, register=...) and save again.",
            "known_risks": list(limits),
            "explanations": explanations,
            "input_data": "See 'features' and 'training_data'; inputs are checked against "
            "the training profile at scoring (drift.csv).",
            "human_oversight_measures": HUMAN_OVERSIGHT,
            "oversight_persons_and_training": DEPLOYER,
            "maintenance_and_retraining": "Check drift at every scoring; refit and evaluate "
            "at least yearly or when drift is flagged.",
            "logging_art_12": DEPLOYER,
        },
        "art_27_fria": {
            "processes_where_used": DEPLOYER,
            "period_and_frequency_of_use": DEPLOYER,
            "persons_and_groups_affected": "Employees of the units in the register "
            f"({n_persons if n_persons is not None else 'unknown'} persons in training); "
            "groups by gender and age in 'audit'. " + DEPLOYER + ": other affected groups.",
            "specific_risks_of_harm": list(RISKS_TO_ASSESS) + [DEPLOYER + ": local risks."],
            "human_oversight_implementation": DEPLOYER,
            "measures_if_risks_materialise_and_complaints": DEPLOYER,
            "notification_to_market_surveillance_authority": DEPLOYER,
        },
    }


def _md_table(rows: list[dict[str, Any]], cols: list[str]) -> list[str]:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.3g}"
        return "" if v is None else str(v).replace("|", "/")

    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    out += ["| " + " | ".join(cell(r.get(c)) for c in cols) + " |" for r in rows]
    return out


def _markdown(card: dict[str, Any], title: str) -> str:
    td, m = card["training_data"], card["model"]
    periods = td["periods"] or {}
    lines = [
        f"# Model card: {title}",
        "",
        f"{card['library']}; {m['kind']} model of {m['outcome'] or 'the target'} leaving within "
        f"{m['horizon']} periods (scope: {m['scope']}).",
        "",
        *md_use(card),
        "## Training data",
        "",
        f"Periods {periods.get('first', '?')} to {periods.get('last', '?')} "
        f"({periods.get('n_periods', '?')} periods); {td['n_rows']} person-periods of "
        f"{td['n_persons']} persons; {td['n_positive']} leavers within the horizon "
        f"({td['positive_rate']:.1%}). No rows or identifiers are stored with the model.",
        "",
        "## Features",
        "",
        *_md_table(
            card["features"],
            [
                "name",
                "lever",
                *[c for c in ("family", "cause_category") if c in _keys(card)],
                "source",
                "unit",
            ],
        ),  # fmt: skip
        "",
        "## Evaluation over time",
        "",
    ]
    ev = card["evaluation"]
    if not ev:
        lines.append("Not evaluated: run `tr.evaluate(model, panel)` and save again.")
    elif "over_time" in ev:
        rows = ev["over_time"]
        lines += _md_table(rows, [c for c in rows[0]] if rows else ["fold"])
    else:
        lines.append("```json\n" + json.dumps(ev, indent=1) + "\n```")
    lines += md_audit_and_act(card)
    return "\n".join(lines) + "\n"


def md_use(card: dict[str, Any]) -> list[str]:
    """The intended use, human oversight and out-of-scope sections of a card's Markdown."""
    return [
        "## Intended use",
        "",
        card["intended_use"],
        "",
        f"**Human oversight.** {card['human_oversight']}",
        "",
        "## Out of scope",
        "",
        *[f"- {x}" for x in card["out_of_scope"]],
        "",
    ]


def md_audit_and_act(card: dict[str, Any]) -> list[str]:
    """The Markdown of the audit, the limits and the EU AI Act parts (every card has them)."""
    lines = ["", "## Accuracy for groups of persons (audit)", ""]
    au = card["audit"]
    if au is None:
        lines.append("Not audited: run `tr.audit(model, panel, register=...)`.")
    else:
        lines.append(
            f"Flag threshold {au['threshold']:.3f}; {au['groups_suppressed']} groups under the "
            "minimum size are not shown. Intervals: Korn-Graubard over units for the shares "
            "(rates, TPR, FPR), a bootstrap over units for O/E and AUC."
        )
        lines += ["", *_md_table(au["groups"], ["by", "group", "n_persons", "oe", "auc", "tpr",
                                                 "fpr", "differs"])]  # fmt: skip
    lines += ["", "## Limits", "", *[f"- {x}" for x in card["limits"]], "", "## EU AI Act", ""]
    act = card["eu_ai_act"]
    lines += [act["classification"], "", "### Art 13: instructions for use", ""]
    lines += [f"- **{k.replace('_', ' ')}**: {_md_value(v)}" for k, v in act[
        "art_13_instructions_for_use"].items()]  # fmt: skip
    lines += ["", "### Art 27: fundamental-rights impact assessment (deployer)", ""]
    lines += [f"- **{k.replace('_', ' ')}**: {_md_value(v)}" for k, v in act["art_27_fria"].items()]
    return lines


def _keys(card: dict[str, Any]) -> set[str]:
    return {k for row in card["features"] for k in row}


def _md_value(v: Any) -> str:
    return "".join(f"\n  - {x}" for x in v) if isinstance(v, list) else str(v)


def _atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_model_card(
    model: Any, model_path: str | Path, *, evaluation: Any = None, audit: Any = None
) -> tuple[Path, Path]:
    """Write the model card beside a saved model: ``<stem>.card.md`` and ``<stem>.card.json``.

    Parameters
    ----------
    model : TurnoverRiskModel or HazardModel
        A fitted model. A HazardModel's card gives its outcomes (competing exits), the
        horizons of its evaluation (time-dependent AUC and Brier score, integrated Brier score
        against Kaplan-Meier) and its coefficients (cloglog) instead of one horizon.
    model_path : str or Path
        The model file (``model.skops``); the card files take its stem.
    evaluation : EvaluationResult or HazardEvaluationResult, optional
        Its folds give "evaluation over time"; default: the summary recorded by the last
        :func:`~turnover_risk.evaluate` on this model, if any.
    audit : AuditResult, optional
        From :func:`~turnover_risk.audit`; groups under the minimum size are left out.

    Returns
    -------
    (Path, Path)
        The Markdown and the JSON file (each written under a temporary name, then renamed).

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> import turnover_risk as tr
    >>> warnings.simplefilter("ignore")
    >>> model = tr.TurnoverRiskModel(random_state=0).fit(tr.build_panel(tr.load_sample()))
    >>> md, js = write_model_card(model, pathlib.Path(tempfile.mkdtemp()) / "model.skops")
    >>> md.name, js.name
    ('model.card.md', 'model.card.json')
    >>> "TO BE COMPLETED BY THE DEPLOYER" in md.read_text()
    True
    """
    model_path = Path(model_path)
    card = model_card(model, evaluation=evaluation, audit=audit)
    md = model_path.with_name(f"{model_path.stem}.card.md")
    js = model_path.with_name(f"{model_path.stem}.card.json")
    _atomic_write(js, json.dumps(_jsonable(card), indent=2, default=str) + "\n")
    if _is_hazard(model):
        from turnover_risk.models._card_hazard import hazard_markdown

        _atomic_write(md, hazard_markdown(card, model_path.stem))
    else:
        _atomic_write(md, _markdown(card, model_path.stem))
    return md, js
