"""Benchmark: group driver table from a stratified sample vs. TreeSHAP on every row.

Run: ``/work/venv/bin/python benchmarks/bench_explain.py [--units 40] [--years 6]``

Fits a gbm on the simulator's panel, then times

* full: ``shap.TreeExplainer`` on the transformed frame of *every* row, then exact group means;
* sampled: :func:`turnover_risk.group_drivers` with ``n_per_group`` rows per group;

and prints, per grouping, both timings, the speed-up and how often the sampled table names the
same top drivers as the exact one (top-1 feature per group, and the share of the top-3 set).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import shap

import turnover_risk as tr
from turnover_risk.explain import _aggregate_to_features


def exact_group_table(model, panel: pd.DataFrame, group: str) -> tuple[pd.DataFrame, float]:
    """Explain every row with shap.TreeExplainer directly; exact group minus population means."""
    t0 = time.perf_counter()
    X = model._check_columns(panel)
    z = model.pipeline_.named_steps["prep"].transform(model._prepare(X))
    explainer = shap.TreeExplainer(model.pipeline_.named_steps["clf"], model_output="raw")
    sv = explainer.shap_values(z.to_numpy(dtype=float))
    vals = pd.DataFrame(
        _aggregate_to_features(sv, model.transformed_to_feature_, model.features_),
        columns=model.features_,
        index=panel.index,
    )
    means = vals.groupby(panel[group].to_numpy()).mean()
    diff = means - vals.mean()
    elapsed = time.perf_counter() - t0
    return diff, elapsed


def top_agreement(exact: pd.DataFrame, sampled: pd.DataFrame, group: str) -> tuple[float, float]:
    top1, top3 = [], []
    for g, rows in sampled.groupby(group):
        est = rows["feature"].tolist()
        ref = exact.loc[g].abs().sort_values(ascending=False).index.tolist()
        top1.append(est[0] == ref[0])
        top3.append(len(set(est[:3]) & set(ref[:3])) / 3)
    return float(np.mean(top1)), float(np.mean(top3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=40)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    reg = tr.make_register(n_units=args.units, years=args.years, random_state=0)
    panel = tr.build_panel(reg)
    model = tr.TurnoverRiskModel(kind="gbm", random_state=0).fit(panel)
    print(
        f"panel: {len(panel)} rows, {len(model.features_)} features, gbm "
        f"{model.pipeline_.named_steps['clf'].n_iter_} trees"
    )

    rows = []
    for group, n_per_group in (("municipality", 200), ("unit_id", 200), ("unit_id", 50)):
        exact, t_full = min(
            (exact_group_table(model, panel, group) for _ in range(args.repeats)),
            key=lambda r: r[1],
        )
        t_sample = np.inf
        for rep in range(args.repeats):
            t0 = time.perf_counter()
            sampled = tr.group_drivers(
                model, panel, group, n_per_group=n_per_group, random_state=rep
            )
            t_sample = min(t_sample, time.perf_counter() - t0)
        a1, a3 = top_agreement(exact, sampled, group)
        rows.append(
            {
                "groups": group,
                "n_groups": panel[group].nunique(),
                "n_per_group": n_per_group,
                "rows_explained": int(sampled.groupby(group)["n_explained"].first().sum()),
                "rows_total": len(panel),
                "full_treeshap_s": round(t_full, 3),
                "group_drivers_s": round(t_sample, 3),
                "speedup": round(t_full / t_sample, 1),
                "top1_agreement": round(a1, 2),
                "top3_overlap": round(a3, 2),
            }
        )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
