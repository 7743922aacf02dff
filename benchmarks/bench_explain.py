"""Benchmark: group driver table from a stratified sample vs. TreeSHAP on every row.

Run: ``/work/venv/bin/python benchmarks/bench_explain.py [--units 400] [--years 6]``

Fits a gbm on the simulator's panel, then times

* full: ``shap.TreeExplainer`` on the transformed frame of *every* row, then exact group means;
* sampled: :func:`turnover_risk.group_drivers` with ``n_per_group`` rows per group
  (``"auto"`` = the default: one row in 12, at least 30 per group);

and prints, per grouping, both timings, the speed-up and how often the sampled table names the
same top drivers as the exact one (top-1 feature per group, whether the sampled top-1 is among
the exact top 3, and the share of the top-3 set), how often the sampled top driver is flagged
``rank_clear`` and how often a clear top driver is the exact one, and the coverage of the
standard errors (share of group x feature cells whose exact difference lies within 1.96
standard errors of the sampled one; about 0.95 when the errors are honest).
``run(...)`` returns the table (used by ``benchmarks/run_all.py``).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd
import shap

import turnover_risk as tr
from turnover_risk.models._explain import _aggregate_to_features


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


def top_agreement(exact: pd.DataFrame, sampled: pd.DataFrame, group: str) -> dict[str, float]:
    """Agreement of the sampled table with the exact one.

    ``top1``: share of groups whose sampled top driver is the exact one; ``top1_in_top3``: is
    among the exact top 3; ``top3``: mean overlap of the sampled and exact top-3 sets;
    ``clear``: share of groups whose sampled top driver is ``rank_clear``; ``top1_if_clear``:
    ``top1`` among those groups; ``coverage``: share of group x feature cells with
    ``|sampled - exact difference| <= 1.96 se``."""
    top1, top1_in3, top3, clear = [], [], [], []
    for g, rows in sampled.groupby(group, sort=False):
        est = rows["feature"].tolist()
        ref = exact.loc[g].abs().sort_values(ascending=False).index.tolist()
        top1.append(est[0] == ref[0])
        top1_in3.append(est[0] in ref[:3])
        top3.append(len(set(est[:3]) & set(ref[:3])) / 3)
        clear.append(bool(rows["rank_clear"].iloc[0]))
    top1, clear = np.asarray(top1), np.asarray(clear)
    ref_diff = exact.stack().rename("exact").rename_axis([group, "feature"]).reset_index()
    cells = sampled.merge(ref_diff, on=[group, "feature"], how="inner", validate="1:1")
    covered = (cells["difference"] - cells["exact"]).abs() <= 1.96 * cells["se"]
    return {
        "top1": float(top1.mean()),
        "top1_in_top3": float(np.mean(top1_in3)),
        "top3": float(np.mean(top3)),
        "clear": float(clear.mean()),
        "top1_if_clear": float(top1[clear].mean()) if clear.any() else float("nan"),
        "coverage": float(covered.mean()),
    }


SETTINGS: tuple[tuple[str, int | str], ...] = (
    ("municipality", "auto"),
    ("municipality", 200),
    ("unit_id", "auto"),
    ("unit_id", 200),
    ("unit_id", 30),
)
"""(grouping, n_per_group) pairs measured by default ("auto" is the default of group_drivers)."""


def parse_settings(text: str) -> tuple[tuple[str, int | str], ...]:
    """``"unit_id:auto,municipality:100"`` -> ``(("unit_id", "auto"), ("municipality", 100))``."""
    out = []
    for item in text.split(","):
        group, _, n = item.strip().partition(":")
        if not group or not n:
            raise argparse.ArgumentTypeError(
                f"setting {item!r} is not GROUP:N; e.g. unit_id:auto or municipality:100"
            )
        out.append((group, n if n == "auto" else int(n)))
    return tuple(out)


def run(
    n_units: int = 400,
    years: int = 6,
    *,
    settings: tuple[tuple[str, int | str], ...] = SETTINGS,
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
        agree = top_agreement(exact, sampled, group)
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
                "top1_agreement": round(agree["top1"], 2),
                "top1_in_exact_top3": round(agree["top1_in_top3"], 2),
                "top3_overlap": round(agree["top3"], 2),
                "top1_rank_clear": round(agree["clear"], 2),
                "top1_agreement_if_clear": round(agree["top1_if_clear"], 2),
                "se_coverage_95": round(agree["coverage"], 2),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=400)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--settings",
        type=parse_settings,
        default=SETTINGS,
        help="comma-separated GROUP:N_PER_GROUP pairs, e.g. unit_id:auto,municipality:100 "
        "(default: %(default)s)",
    )
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    table = run(args.units, args.years, settings=args.settings, repeats=args.repeats)
    with pd.option_context("display.width", 250, "display.max_columns", 30):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
