"""The model card of a :class:`~turnover_risk.HazardModel` (private; see ``_card``).

The same card as a classifier's (intended use, human oversight, out of scope, training data,
features, evaluation, audit, limits, EU AI Act) with what a hazard model is: a discrete-time
model of the monthly hazard of each modelled exit cause and of all other exits together, whose
risk within ``h`` months is the cumulative incidence of the cause with the others competing.
So the card names the outcomes (and the competing ``other_exits``), the horizons its
evaluation covers (time-dependent AUC and Brier score at each horizon, the integrated Brier
score against the Kaplan-Meier baseline), the monthly events per cause it was trained on, and,
for the cloglog kind, its log-hazard coefficients. Counts and metrics only, never a row or an
identifier.
"""

from __future__ import annotations

import json
from typing import Any

from turnover_risk.models._card import (
    CARD_VERSION,
    HUMAN_OVERSIGHT,
    INTENDED_USE,
    LIMITS,
    OUT_OF_SCOPE,
    _audit,
    _feature_rows,
    _jsonable,
    _md_table,
    eu_ai_act,
    md_audit_and_act,
    md_use,
)

__all__ = ["hazard_card", "hazard_markdown"]

HAZARD_INTENDED_USE = (
    INTENDED_USE + " The hazard model gives that risk at any horizon from one fit (e.g. 3, 6, "
    "12 and 24 months), separately for each modelled exit cause."
)
HAZARD_LIMITS = (
    "A discrete-time model of the monthly hazard: each person-month fully observed is one row, "
    "and the hazard of each cause in a month depends on the features of that month. Months not "
    "fully observed (the last month of the data) are left out of the fit.",
    "The risk within h months is the cumulative incidence of the cause with the other exits "
    "competing: F_k(h) = sum over months j < h of S(j) h_k(j), S the probability of still "
    "being in scope. Over the horizon the features are held at the scored month's values "
    "except tenure (one month a month) and age (1/12 a month): the model does not foresee "
    "changes of caseload, supervision or unit.",
    "cloglog coefficients are log-hazard associations, each given the other features; with a "
    "penalty (alpha > 0, the default with all panel features) they are shrunk and carry no "
    "intervals.",
    *LIMITS[:4],
    "The outcomes are exits from the scope as the register records them, by exit reason; "
    "transfers inside the scope and unrecorded exits are not seen, and a reason recorded "
    "wrongly moves an exit to another cause.",
)


def _causes(model: Any) -> tuple[str, ...]:
    return tuple(model.causes_)


def _coefficients(model: Any) -> list[dict[str, Any]] | None:
    table = getattr(model, "coefficients_", None)
    if table is None or len(table) == 0:
        return None
    cols = ["outcome", "term", "coef", "se", "ci_low", "ci_high", "hazard_ratio"]
    return _jsonable(table[cols].astype(object).to_dict("records"))


def _hazard_evaluation(model: Any, evaluation: Any) -> dict[str, Any] | None:
    """Pooled metrics per horizon, the integrated Brier scores and the folds over time."""
    if evaluation is None:
        return getattr(model, "_evaluation_summary", None)
    out: dict[str, Any] = {"pooled": evaluation.summary()}
    t = evaluation.table
    pooled = t[t["fold"] == "pooled"]
    model_rows = pooled[pooled["model"] == "model"].set_index("horizon")
    km_rows = pooled[pooled["model"] == "kaplan_meier"].set_index("horizon")
    out["by_horizon"] = [
        {
            "horizon": int(h),
            "cases": int(row["cases"]),
            "mean_risk": float(row["mean_risk"]),
            "observed_risk": float(row["observed_risk"]),
            "auc": float(row["auc"]),
            "brier": float(row["brier"]),
            "brier_kaplan_meier": float(km_rows.loc[h, "brier"]),
            "brier_skill_vs_kaplan_meier": float(row["brier_skill_vs_kaplan_meier"]),
        }
        for h, row in model_rows.iterrows()
    ]
    ib = evaluation.integrated
    ib_pooled = ib[ib["fold"] == "pooled"].set_index("model")
    out["integrated_brier"] = {
        "tau": int(ib_pooled.loc["model", "tau"]),
        "model": float(ib_pooled.loc["model", "integrated_brier"]),
        "kaplan_meier": float(ib_pooled.loc["kaplan_meier", "integrated_brier"]),
        "skill_vs_kaplan_meier": float(
            ib_pooled.loc["model", "integrated_brier_skill_vs_kaplan_meier"]
        ),
    }
    keep = ["fold", "horizon", "n_test", "test_start", "test_end", "cases", "auc", "brier",
            "brier_skill_vs_kaplan_meier"]  # fmt: skip
    folds = t[(t["fold"] != "pooled") & (t["model"] == "model")]
    out["over_time"] = _jsonable(folds[keep].astype(object).to_dict("records"))
    return out


def hazard_card(model: Any, *, evaluation: Any = None, audit: Any = None) -> dict[str, Any]:
    """The card's content of a fitted :class:`~turnover_risk.HazardModel` (JSON-ready dict)."""
    from turnover_risk._version import __version__
    from turnover_risk.models._hazard_eval import DEFAULT_HORIZONS

    model._check_fitted()
    spec = model.spec_
    prof = getattr(model, "input_profile_", None)
    n_persons = prof["n_persons"] if prof else None
    causes = _causes(model)
    ev = _jsonable(_hazard_evaluation(model, evaluation))
    summary = (ev or {}).get("pooled", ev) or {}  # an evaluation, or the recorded summary
    horizons = summary.get("horizons", DEFAULT_HORIZONS)
    info = model.info_
    n_rows = int(info["rows_used"])
    events = {c: int(info["events"][c]) for c in causes}
    return {
        "card_version": CARD_VERSION,
        "library": f"turnover_risk {__version__}",
        "model": {
            "class": "HazardModel",
            "kind": model.kind,
            "outcomes": list(causes[:-1]),
            "competing": causes[-1],
            "causes": list(causes),
            "time_unit": "month",
            "horizons": [int(h) for h in horizons],
            "evaluated": bool(ev),
            "predict_proba_horizon": int(model.horizon),
            "scope": model.scope_,
            "freq": spec.freq if spec is not None else "M",
            "alpha": float(model.alpha_),
            "risk": "cumulative incidence of the outcome within the horizon, the other exits "
            "competing (HazardModel.predict_risk)",
        },
        "intended_use": HAZARD_INTENDED_USE,
        "human_oversight": HUMAN_OVERSIGHT,
        "out_of_scope": list(OUT_OF_SCOPE),
        "training_data": {
            "periods": getattr(model, "training_periods_", None),
            "n_rows": n_rows,
            "n_rows_dropped_incomplete_month": int(info["rows_dropped_incomplete_month"]),
            "n_persons": n_persons,
            "events": events,
            "monthly_event_rate": {c: n / max(1, n_rows) for c, n in events.items()},
            "reference_profile": prof is not None,
        },
        "features": _feature_rows(model.features_in_),
        "missing_indicators": [f"{c}_missing" for c in getattr(model, "missing_cols_", ())],
        "dropped_columns": {c: "constant" for c in info.get("constant_features_dropped", [])},
        "coefficients": _coefficients(model),
        "evaluation": ev,
        "audit": _audit(audit),
        "limits": list(HAZARD_LIMITS),
        "eu_ai_act": eu_ai_act(
            HAZARD_INTENDED_USE,
            list(HAZARD_LIMITS),
            "model.explain: per-row contributions to the log hazard (exact for cloglog, "
            "occlusion for gbm); flag_groups drivers in percentage points of the group's risk "
            "at the horizon.",
            audit is not None,
            n_persons,
        ),
    }


def hazard_markdown(card: dict[str, Any], title: str) -> str:
    """The Markdown of a hazard model's card (``<stem>.card.md``)."""
    td, m = card["training_data"], card["model"]
    periods = td["periods"] or {}
    outcomes = ", ".join(m["outcomes"])
    horizons = ", ".join(str(h) for h in m["horizons"])
    lines = [
        f"# Model card: {title}",
        "",
        f"{card['library']}; {m['kind']} discrete-time hazard model of exits from the "
        f"{m['scope']} (one row a person-month).",
        "",
        f"**Outcomes**: {outcomes} (competing: {m['competing']}).",
        f"**Horizons**: {horizons} months. **Risk**: {m['risk']}.",
        "",
        *md_use(card),
        "## Training data",
        "",
        f"Months {periods.get('first', '?')} to {periods.get('last', '?')} "
        f"({periods.get('n_periods', '?')} months); {td['n_rows']} person-months of "
        f"{td['n_persons']} persons ({td['n_rows_dropped_incomplete_month']} months not fully "
        "observed left out). No rows or identifiers are stored with the model.",
        "",
        *_md_table(
            [
                {"cause": c, "events": n, "monthly_event_rate": td["monthly_event_rate"][c]}
                for c, n in td["events"].items()
            ],
            ["cause", "events", "monthly_event_rate"],
        ),  # fmt: skip
        "",
        "## Features",
        "",
        *_md_table(card["features"], ["name", "lever", "source", "unit"]),
    ]
    if card["missing_indicators"]:
        lines += ["", "Missing-value indicators: " + ", ".join(card["missing_indicators"]) + "."]
    if card["coefficients"]:
        lines += ["", "## Log-hazard coefficients", ""]
        lines += _md_table(card["coefficients"], ["outcome", "term", "coef", "ci_low", "ci_high",
                                                  "hazard_ratio"])  # fmt: skip
    lines += ["", "## Evaluation over time", ""]
    ev = card["evaluation"]
    if not ev:
        lines.append("Not evaluated: run `tr.evaluate(model, panel, register=reg)` and save again.")
    elif "by_horizon" in ev:
        lines += [
            f"Outcome {ev['pooled']['outcome']}, pooled over the {ev['pooled']['n_splits']} "
            "folds (censoring-weighted time-dependent metrics):",
            "",
        ]
        lines += _md_table(ev["by_horizon"], list(ev["by_horizon"][0]))
        ib = ev["integrated_brier"]
        lines += [
            "",
            f"Integrated Brier score over months 1-{ib['tau']}: {ib['model']:.4f} (Kaplan-Meier "
            f"{ib['kaplan_meier']:.4f}; skill {ib['skill_vs_kaplan_meier']:.3f}).",
            "",
            "By fold:",
            "",
            *_md_table(ev["over_time"], list(ev["over_time"][0]) if ev["over_time"] else []),
        ]
    else:
        lines.append("```json\n" + json.dumps(ev, indent=1) + "\n```")
    lines += md_audit_and_act(card)
    return "\n".join(lines) + "\n"
