"""Print the model numbers of docs/models.md for the shipped sample.

Usage::

    python scripts/sample_model_report.py            # about 1 minute on 2 cores
    python scripts/sample_model_report.py --boot 50  # fewer bootstrap resamples, faster

Prints, as Markdown tables: the default evaluation of the logistic and the gbm model
(:func:`turnover_risk.evaluate`), the calibration slope of each fold and of the later folds
pooled with its spread over bootstrap resamples of units, and the logistic model's slopes with
and without the ``min_feature_groups`` screen.
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

import turnover_risk as tr
from turnover_risk._warnings import DataQualityWarning

TABLE_COLUMNS = (
    "fold", "model", "n_test", "n_test_positive", "test_start", "test_end", "roc_auc", "pr_auc",
    "brier", "calibration_intercept", "calibration_slope", "ece", "precision_top10",
)  # fmt: skip
LATER_FOLDS = ("3", "4")
"""The later half of the default four rolling-origin folds."""


def calibration_slope(y: pd.Series, p: pd.Series) -> float:
    """Slope of y ~ a + b * logit(p), fitted (practically) without penalty."""
    p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p)).reshape(-1, 1)
    return float(LogisticRegression(C=1e12).fit(logit, np.asarray(y)).coef_[0, 0])


def markdown(table: pd.DataFrame) -> str:
    def fmt(v: object) -> str:
        if isinstance(v, float):
            return "–" if np.isnan(v) else f"{v:.3f}".rstrip("0").rstrip(".")
        return str(v)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in table.itertuples(False)]
    return "\n".join(lines)


def bootstrap_slopes(pred: pd.DataFrame, n_boot: int, seed: int = 0) -> pd.DataFrame:
    """Slope per fold, later folds and all folds, with its SD over resamples of units."""
    rng = np.random.default_rng(seed)
    fold = pred["fold"].astype(str)
    parts = {f"fold {f}": pred[fold == f] for f in sorted(fold.unique())}
    parts["folds " + "+".join(LATER_FOLDS)] = pred[fold.isin(LATER_FOLDS)]
    parts["all folds"] = pred
    rows = []
    for name, d in parts.items():
        by_unit = {u: g for u, g in d.groupby("unit_id", observed=True)}
        units = np.asarray(list(by_unit))
        boot = []
        for _ in range(n_boot):
            sample = pd.concat([by_unit[u] for u in rng.choice(units, len(units))])
            boot.append(calibration_slope(sample["y"], sample["p"]))
        lo, hi = np.percentile(boot, [2.5, 97.5])
        rows.append(
            {
                "test rows": name,
                "slope": calibration_slope(d["y"], d["p"]),
                "SD": float(np.std(boot)),
                "2.5 %": lo,
                "97.5 %": hi,
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--boot", type=int, default=200, help="bootstrap resamples (200)")
    args = parser.parse_args()
    warnings.simplefilter("ignore", DataQualityWarning)
    panel = tr.build_panel(tr.load_sample())
    for kind in ("logistic", "gbm"):
        res = tr.evaluate(tr.TurnoverRiskModel(kind=kind, random_state=0), panel)
        table = res.table[list(TABLE_COLUMNS)].copy()
        for c in ("test_start", "test_end"):
            table[c] = pd.to_datetime(table[c]).dt.strftime("%Y-%m")
        print(f"\n### kind={kind}\n\n{markdown(table)}\n")
        print(markdown(bootstrap_slopes(res.predictions, args.boot)))
    print("\n### logistic: min_feature_groups\n")
    rows = []
    for k in (1, 3):
        res = tr.evaluate(tr.TurnoverRiskModel(min_feature_groups=k), panel)
        model_rows = res.table[res.table["model"] == "model"].set_index("fold")
        pred = res.predictions
        later = pred[pred["fold"].astype(str).isin(LATER_FOLDS)]
        rows.append(
            {
                "min_feature_groups": k,
                "slope per fold": " / ".join(
                    f"{model_rows.loc[f, 'calibration_slope']:.2f}" for f in ("1", "2", "3", "4")
                ),
                "later folds": calibration_slope(later["y"], later["p"]),
                "pooled ROC-AUC": model_rows.loc["pooled", "roc_auc"],
            }
        )
    print(markdown(pd.DataFrame(rows)))


if __name__ == "__main__":
    main()
