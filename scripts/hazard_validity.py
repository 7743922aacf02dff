"""Validity of tr.HazardModel on simulated registers (the numbers quoted in docs/survival.md).

1. Coefficient recovery over seeds: ``make_register(..., return_truth=True, frailty_sd=0,
   burnout_exit_effect=0)`` (no unobserved frailty; latent burnout has no faithful proxy),
   features on the simulator's own scales, cloglog fit on the monthly panel; counts how often
   the true log-hazard lies inside the 95 % interval, per effect and overall.
2. Out of time against the 12-month classifier: on registers with the default knobs, both
   models are trained on the months before the last two years and scored on the later months
   whose 12-month voluntary outcome is known: AUC of ``HazardModel().predict_risk(horizon=12)``
   (defaults: all the panel's features, ``alpha=0.01``) against ``TurnoverRiskModel``
   (logistic, the panel's features) on the same rows, and both calibration slopes.

Run::

    python scripts/hazard_validity.py [--seeds 20] [--n-units 200] [--auc-seeds 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

import turnover_risk as tr

EFFECTS = [
    "newly_qualified",
    "first_year",
    "caseload",
    "supervision",
    "colleagues_left",
    "age",
    "part_time",
]


def faithful(panel: pd.DataFrame, norm: float) -> pd.DataFrame:
    """Features on the simulator's scales (``SimulationTruth.effects``)."""
    p = panel
    p["first_year"] = (p["tenure_service_months"] < 12).astype(float)
    has = p["caseload_3m_mean"].notna() & (p["role"] == "caseworker")
    p["caseload"] = np.where(has, p["caseload_3m_mean"] - norm, 0.0)
    p["supervision"] = p["supervision_sessions_3m"].fillna(0)
    p["colleagues_left"] = p["colleagues_left_3m"].fillna(0)
    p["age"] = (p["age"] - 40) / 10
    p["part_time"] = (p["fte"] < 1).astype(float)
    return p


def coverage(seeds: int, n_units: int) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        reg, truth = tr.make_register(
            n_units=n_units,
            years=5,
            random_state=seed,
            return_truth=True,
            frailty_sd=0.0,
            burnout_exit_effect=0.0,
        )
        p = faithful(tr.build_panel(reg, freq="M", outcome="any"), truth.knobs.caseload_norm)
        m = tr.HazardModel(features=EFFECTS).fit(p, reg)
        est = m.coefficients_[m.coefficients_["outcome"] == "voluntary"].set_index("term")
        true = truth.effects.set_index("effect")["coefficient"]
        for term in ["intercept", *EFFECTS]:
            r = est.loc[term]
            rows.append(
                {
                    "seed": seed,
                    "effect": term,
                    "true": true[term],
                    "estimate": r["coef"],
                    "inside": r["ci_low"] <= true[term] <= r["ci_high"],
                }
            )
    return pd.DataFrame(rows)


def out_of_time(seed: int, n_units: int) -> dict:
    reg = tr.make_register(n_units=n_units, years=6, random_state=seed)
    cut = pd.Timestamp(f"{reg.metadata['start_year'] + 4}-01-01")
    hz = tr.build_panel(reg, freq="M", outcome="any")
    cl = tr.build_panel(reg, freq="M", outcome="voluntary", horizon=12)
    m = tr.HazardModel().fit(hz[hz["period"] < cut], reg)  # all features: alpha = 0.01
    # the classifier's label is known 12 months after its row: train on rows whose label is
    # known before the cut, as a user would
    known = cl["period"] < cut - pd.DateOffset(months=12)
    clf = tr.TurnoverRiskModel(kind="logistic").fit(cl[known])
    test = cl[(cl["period"] >= cut) & cl["left_within_horizon"].notna()]
    key = ["employee_id", "period"]
    hz_test = hz.merge(test[key], on=key)
    hz_test.attrs = hz.attrs
    risk = m.predict_risk(hz_test, horizon=12)["risk_voluntary"].to_numpy()
    y = hz_test[key].merge(test[[*key, "left_within_horizon"]], on=key)["left_within_horizon"]
    p_clf = clf.predict_proba(test)[:, 1]
    y_clf = test["left_within_horizon"].to_numpy()
    return {
        "seed": seed,
        "test_rows": len(test),
        "auc_hazard": roc_auc_score(y.to_numpy(), risk),
        "auc_classifier": roc_auc_score(y_clf, p_clf),
        "slope_hazard": _slope(y.to_numpy(), risk),
        "slope_classifier": _slope(y_clf, p_clf),
    }


def _slope(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.linear_model import LogisticRegression

    q = np.clip(p, 1e-9, 1 - 1e-9)
    return float(LogisticRegression(C=np.inf).fit(np.log(q / (1 - q))[:, None], y).coef_[0, 0])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--n-units", type=int, default=200)
    ap.add_argument("--auc-seeds", type=int, default=3)
    ap.add_argument("--skip-coverage", action="store_true")
    args = ap.parse_args()
    t0 = time.perf_counter()
    if not args.skip_coverage:
        cov = coverage(args.seeds, args.n_units)
        per = cov.groupby("effect", sort=False).agg(
            true=("true", "first"), mean_estimate=("estimate", "mean"), coverage=("inside", "mean")
        )
        print(f"1. coefficient recovery over {args.seeds} seeds ({args.n_units} units, 5 years)")
        print(per.round(3).to_string())
        print(f"overall coverage of the 95 % intervals: {cov['inside'].mean():.3f}\n")
    oot = pd.DataFrame([out_of_time(s, args.n_units) for s in range(args.auc_seeds)])
    print("2. out of time (trained before the last two years, scored on them), 12 months")
    print(oot.round(3).to_string(index=False))
    print(f"\n({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
