"""Benchmark: group driver table from a stratified sample vs. TreeSHAP on every row.

Run: ``/work/venv/bin/python benchmarks/bench_explain.py [--units 400] [--years 6]``

Fits a gbm on the simulator's panel, then times

* full: ``shap.TreeExplainer`` on the transformed frame of *every* row, then exact group means;
* sampled: :func:`turnover_risk.group_drivers` with ``n_per_group`` rows per group;

and prints, per grouping, both timings, the speed-up and how often the sampled table names the
same top drivers as the exact one (top-1 feature per group, whether the sampled top-1 is among
the exact top 3, and the share of the top-3 set). ``run(...)`` returns the table
(used by ``benchmarks/run_all.py``).
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


def exact_group_table(
    model, panel: pd.DataFrame, group: str
) -> tuple[pd.DataFrame, tuple[float, float]]:
    """Explain every row with shap.TreeExplainer directly; exact group minus population means.

    Returns the table and (wall-clock seconds, CPU seconds of this process)."""
    t0, c0 = time.perf_counter(), time.process_time()
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
    return diff, (time.perf_counter() - t0, time.process_time() - c0)


def top_agreement(
    exact: pd.DataFrame, sampled: pd.DataFrame, group: str
) -> tuple[float, float, float]:
    """Share of groups whose sampled top driver is the exact one; is in the exact top 3; and
    the mean overlap of the sampled and exact top-3 sets."""
    top1, top1_in3, top3 = [], [], []
    for g, rows in sampled.groupby(group):
        est = rows["feature"].tolist()
        ref = exact.loc[g].abs().sort_values(ascending=False).index.tolist()
        top1.append(est[0] == ref[0])
        top1_in3.append(est[0] in ref[:3])
        top3.append(len(set(est[:3]) & set(ref[:3])) / 3)
    return float(np.mean(top1)), float(np.mean(top1_in3)), float(np.mean(top3))


SETTINGS: tuple[tuple[str, int], ...] = (
    ("municipality", 200),
    ("municipality", 100),
    ("unit_id", 200),
    ("unit_id", 50),
    ("unit_id", 30),
)
"""(grouping, n_per_group) pairs measured by default."""


def run(
    n_units: int = 400,
    years: int = 6,
    *,
    settings: tuple[tuple[str, int], ...] = SETTINGS,
    repeats: int = 3,
    random_state: int = 0,
) -> pd.DataFrame:
    """Time full TreeSHAP vs. ``group_drivers`` on a simulated register; one row per setting.

    The register is ``make_register(n_units, years)``; the panel is its default monthly panel
    (every period, labelled or not: the table describes the whole history) and the model the
    default panel gbm. Each timing is the best of ``repeats`` runs; ``speedup`` compares
    wall-clock times, ``cpu_speedup`` CPU times of this process (steadier on a shared machine).
    """
    reg = tr.make_register(n_units=n_units, years=years, random_state=random_state)
    panel = tr.build_panel(reg)
    model = tr.TurnoverRiskModel(kind="gbm", random_state=0).fit(panel)
    clf = model.pipeline_.named_steps["clf"]
    print(
        f"panel: {len(panel)} rows, {len(model.features_)} features, gbm {clf.n_iter_} trees "
        f"of at most {clf.max_leaf_nodes} leaves"
    )
    rows = []
    exact_cache: dict[str, tuple[pd.DataFrame, float]] = {}
    for group, n_per_group in settings:
        if group not in exact_cache:
            exact_cache[group] = min(
                (exact_group_table(model, panel, group) for _ in range(repeats)),
                key=lambda r: r[1][0],
            )
        exact, (t_full, c_full) = exact_cache[group]
        t_sample = c_sample = np.inf
        for rep in range(repeats):
            t0, c0 = time.perf_counter(), time.process_time()
            sampled = tr.group_drivers(
                model, panel, group, n_per_group=n_per_group, random_state=rep
            )
            t_sample = min(t_sample, time.perf_counter() - t0)
            c_sample = min(c_sample, time.process_time() - c0)
        a1, a13, a3 = top_agreement(exact, sampled, group)
        sizes = panel.groupby(group).size()
        rows.append(
            {
                "groups": group,
                "n_groups": len(sizes),
                "median_rows_per_group": int(sizes.median()),
                "n_per_group": n_per_group,
                "rows_explained": int(sampled.groupby(group)["n_explained"].first().sum()),
                "rows_total": len(panel),
                "full_treeshap_s": round(t_full, 3),
                "group_drivers_s": round(t_sample, 3),
                "speedup": round(t_full / t_sample, 1),
                "cpu_speedup": round(c_full / c_sample, 1),
                "top1_agreement": round(a1, 2),
                "top1_in_exact_top3": round(a13, 2),
                "top3_overlap": round(a3, 2),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    table = run(args.units, args.years, repeats=args.repeats)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
