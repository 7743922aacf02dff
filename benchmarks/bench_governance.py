"""Validity of the drift check and the fairness audit by simulation (issue 20).

Run: ``python benchmarks/bench_governance.py [--seeds 20] [--units 200] [--years 8]
[--audit-seeds 100] [--reference-seeds 40] [--skip-drift] [--skip-audit]``

Per seed, a register from ``make_register`` (``--years`` years, ``--units`` units); the model is
fitted on two years in the middle (``TRAIN``), and then

* **unshifted**: :func:`turnover_risk.check_drift` on the next two years (``LATER``) of the same
  register: any feature with ``drift`` is a false alarm;
* **shifted**: the same, after adding one SD of ``open_cases`` (the SD over the caseload rows of
  the training years) to every caseload row of the staff of a random 20 % of the units from
  three months before ``LATER`` on: a caseload feature with ``drift`` is a hit;
* **audit coverage**: the population is one large register (ten times ``--audit-units``
  units); its group metrics under a fixed model and threshold are the true values. Each seed
  audits a random sample of ``--audit-units`` of its units with all their staff, and a hit is a
  95 % interval that covers the true value (per group and metric: O/E, AUC, share flagged, TPR,
  FPR), for the default (clusters are units) and, as the reference, clusters of one person.
  The coverage per metric has a 95 % interval with the seeds as clusters (Korn-Graubard),
  and the lowest group's coverage a Clopper-Pearson interval over the seeds.

The reference rows in the same run are the two rules the check deliberately does not use:
the usual PSI bands alone (drift from PSI 0.1) and a chi-square test on person-months as if
they were independent draws (Holm-adjusted, no PSI gate).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
import warnings

import numpy as np
import pandas as pd
from scipy import stats

import turnover_risk as tr
from turnover_risk.governance._drift import holm
from turnover_risk.panel import attach_spec

CASELOAD = (
    "caseload_last",
    "caseload_3m_mean",
    "caseload_6m_trend",
    "caseload_ratio_unit_median",
    "unit_caseload_mean",
)


def windows(start_year: int, years: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """Training and later windows: two years each, after a two-year warm-up of the register."""
    a = start_year + years // 2 - 2
    return (f"{a}-01-01", f"{a + 2}-01-01"), (f"{a + 2}-01-01", f"{a + 4}-01-01")


def shift_caseload(reg: tr.Register, share: float, since: str, rng) -> tr.Register:
    """+1 SD of open_cases for the staff of a random ``share`` of the units from ``since``."""
    emp = reg.employment
    units = np.sort(emp["unit_id"].unique())
    pick = rng.choice(units, max(1, round(share * len(units))), replace=False)
    cl = reg.caseload.copy()
    since = pd.Timestamp(since)
    sd = float(cl.loc[cl["month"] < since, "open_cases"].astype(float).std())
    m = cl.reset_index().merge(
        emp[["employee_id", "unit_id", "start_date", "end_date"]], on="employee_id"
    )
    cover = (
        (m["start_date"] <= m["month"])
        & (m["end_date"].isna() | (m["end_date"] >= m["month"]))
        & (m["month"] >= since)
        & m["unit_id"].isin(pick)
    )
    idx = np.unique(m.loc[cover, "index"])
    cl.loc[idx, "open_cases"] = cl.loc[idx, "open_cases"] + round(sd)
    tables = {n: getattr(reg, n) for n in reg.table_names}
    return tr.Register(**{**tables, "caseload": cl}, metadata=reg.metadata)


def naive_row_test(model, panel) -> pd.Series:
    """Reference: chi-square on person-month counts (rows as independent draws), Holm."""
    from turnover_risk.models._profile import bin_codes

    p = []
    names = list(model.input_profile_["features"])
    for name in names:
        f = model.input_profile_["features"][name]
        ref = np.asarray([*f["rows"], 0], dtype=float)
        codes, _, _ = bin_codes(f, panel[name])
        cur = np.bincount(codes, minlength=len(ref)).astype(float)
        t = np.vstack([ref, cur])
        t = t[:, t.sum(axis=0) > 0]
        p.append(stats.chi2_contingency(t)[1] if t.shape[1] > 1 else 1.0)
    return pd.Series(holm(np.asarray(p)), index=names)


def drift_seed(seed: int, units: int, years: int, start_year: int = 2019) -> dict:
    (t0, t1), (l0, l1) = windows(start_year, years)
    reg = tr.make_register(n_units=units, years=years, start_year=start_year, random_state=seed)
    panel = tr.build_panel(reg)
    train = panel[(panel["period"] >= t0) & (panel["period"] < t1)]
    model = tr.TurnoverRiskModel(random_state=0).fit(train)
    later = panel[(panel["period"] >= l0) & (panel["period"] < l1)]
    since = str((pd.Timestamp(l0) - pd.DateOffset(months=3)).date())
    shifted = tr.build_panel(shift_caseload(reg, 0.2, since, np.random.default_rng(seed)))
    shifted = shifted[(shifted["period"] >= l0) & (shifted["period"] < l1)]
    out = {}
    for name, data in (("unshifted", later), ("shifted", shifted)):
        res = tr.check_drift(model, data)
        t = res.table.set_index("feature")
        case = [c for c in CASELOAD if c in t.index]
        naive = naive_row_test(model, data)
        out[name] = {
            "check": bool(t["drift"].any()),
            "check_caseload": bool(t.loc[case, "drift"].any()),
            "psi_bands": bool((t["psi"] >= 0.1).any()),
            "psi_bands_caseload": bool((t.loc[case, "psi"] >= 0.1).any()),
            "naive": bool((naive < 0.05).any()),
            "naive_caseload": bool((naive[case] < 0.05).any()),
            "drifted": res.drifted,
            "persons": int(t["n_persons"].iloc[0]),
        }
    return out


def run_drift(seeds: int, units: int, years: int) -> pd.DataFrame:
    rows = []
    for seed in range(seeds):
        rows.append(drift_seed(seed, units, years))
    summary = []
    for rule, label in (
        ("check", "check_drift (PSI >= 0.01 and Holm p < 0.05, persons as clusters)"),
        ("psi_bands", "reference: PSI >= 0.1 alone"),
        ("naive", "reference: chi-square on person-months, Holm p < 0.05"),
    ):
        summary.append(
            {
                "rule": label,
                "shift flagged (caseload feature)": np.mean(
                    [r["shifted"][f"{rule}_caseload"] for r in rows]
                ),
                "alarm, unshifted (any feature)": np.mean([r["unshifted"][rule] for r in rows]),
            }
        )
    table = pd.DataFrame(summary)
    table.attrs["persons"] = int(np.mean([r["unshifted"]["persons"] for r in rows]))
    table.attrs["false_alarms"] = sorted({f for r in rows for f in r["unshifted"]["drifted"]})
    return table


AUDIT_METRICS = ("oe", "auc", "flagged_share", "tpr", "fpr")


SURVEY = ("cbi_", "proqol_", "bat_", "unit_cbi", "unit_proqol", "unit_bat")


def _core(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel with its survey features left out of the spec (small registers may lack an
    instrument, and the model must see the same columns in every register)."""
    spec = tr.panel_spec(panel)
    keep = tuple(c for c in spec.feature_cols if not c.startswith(SURVEY))
    return attach_spec(panel.copy(), dataclasses.replace(spec, feature_cols=keep))


def _labelled(reg: tr.Register) -> pd.DataFrame:
    panel = _core(tr.build_panel(reg))
    return attach_spec(panel[panel["left_within_horizon"].notna()], tr.panel_spec(panel))


def run_audit_coverage(
    seeds: int, units: int, years: int, reference_seeds: int | None = None
) -> pd.DataFrame:
    """Whether each audit interval covers the true group value: one row per cluster option,
    group, metric and seed (``hit``).

    The population is one large register (``10 * units`` units); its group metrics (the model
    and threshold fixed) are the true values. Each seed audits a random sample of ``units`` of
    its units with all their staff, as a municipality's units are a sample of units like them.
    """
    model = tr.TurnoverRiskModel(random_state=0).fit(
        _core(tr.build_panel(tr.make_register(n_units=4 * units, years=years, random_state=10_000)))
    )
    truth_reg = tr.make_register(n_units=10 * units, years=years, random_state=20_000)
    truth_panel = _labelled(truth_reg)
    threshold = float(np.quantile(model.predict_proba(truth_panel)[:, 1], 0.9))
    truth = tr.audit(
        model, truth_panel, register=truth_reg, threshold=threshold, n_boot=20
    ).table.set_index(["by", "group"])
    all_units = np.sort(truth_panel["unit_id"].unique())
    hits: list[tuple] = []
    for seed in range(seeds):
        pick = np.random.default_rng(seed).choice(all_units, units, replace=False)
        panel = truth_panel[truth_panel["unit_id"].isin(pick)]
        ref = reference_seeds is None or seed < reference_seeds
        for cluster in ("unit_id", "person") if ref else ("unit_id",):
            res = tr.audit(
                model, panel, register=truth_reg, threshold=threshold, cluster=cluster,
                random_state=seed,
            )  # fmt: skip
            t = res.table[~res.table["suppressed"]].set_index(["by", "group"])
            for key, row in t.iterrows():
                if key not in truth.index:
                    continue
                for m in AUDIT_METRICS:
                    true, lo, hi = truth.loc[key, m], row[f"{m}_low"], row[f"{m}_high"]
                    if np.isfinite(true) and np.isfinite(lo):
                        hits.append((cluster, *key, m, seed, lo <= true <= hi))
    return pd.DataFrame(hits, columns=["cluster", "by", "group", "metric", "seed", "hit"])


def coverage_table(cov: pd.DataFrame, cluster: str) -> pd.DataFrame:
    """Per metric: coverage over all groups and seeds with a 95 % interval that treats the
    seeds as clusters (the groups of one seed share its sample: Korn-Graubard, the method the
    audit uses), and the lowest group's coverage with its Clopper-Pearson interval (seeds are
    independent)."""
    from turnover_risk.governance._intervals import clopper_pearson, korn_graubard

    c = cov[cov["cluster"] == cluster]
    rows = []
    for m in [*AUDIT_METRICS, "all"]:
        x = c if m == "all" else c[c["metric"] == m]
        per_seed = x.groupby("seed")["hit"].agg(["sum", "count"])
        lo, hi = korn_graubard(
            per_seed["sum"].to_numpy(float), per_seed["count"].to_numpy(float),
            n_persons=len(x),
        )  # fmt: skip
        row = {"metric": m, "intervals": len(x), "coverage": x["hit"].mean(), "low": lo, "high": hi}
        if m != "all":
            g = x.groupby(["by", "group"])["hit"].agg(["sum", "count", "mean"])
            worst = g["mean"].idxmin()
            glo, ghi = clopper_pearson(g.loc[worst, "sum"], g.loc[worst, "count"])
            row.update(
                {"lowest group": worst[1], "its coverage": g.loc[worst, "mean"],
                 "its low": glo, "its high": ghi}
            )  # fmt: skip
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--units", type=int, default=200)
    ap.add_argument("--years", type=int, default=8)
    ap.add_argument("--audit-units", type=int, default=40)
    ap.add_argument("--audit-seeds", type=int, default=100)
    ap.add_argument("--reference-seeds", type=int, default=40)
    ap.add_argument("--skip-audit", action="store_true")
    ap.add_argument("--skip-drift", action="store_true")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    fmt = {"float_format": lambda v: f"{v:.3f}"}
    if not args.skip_drift:
        t = time.perf_counter()
        table = run_drift(args.seeds, args.units, args.years)
        print(
            f"\nDrift: {args.seeds} seeds, {args.units} units, about {table.attrs['persons']} "
            f"persons in the later window ({time.perf_counter() - t:.0f} s)"
        )
        print(table.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
        print("features with false alarms:", table.attrs["false_alarms"] or "none")
    if args.skip_audit:
        return
    t = time.perf_counter()
    cov = run_audit_coverage(
        args.audit_seeds, args.audit_units, args.years, reference_seeds=args.reference_seeds
    )
    print(
        f"\nAudit: {args.audit_seeds} seeds, {args.audit_units} of {10 * args.audit_units} units "
        f"each; coverage of the 95 % intervals of the true group values "
        f"({time.perf_counter() - t:.0f} s)"
    )
    print("\ndefault (drawing units; Korn-Graubard for the shares, percentile for O/E, AUC):")
    print(coverage_table(cov, "unit_id").to_string(**fmt))
    print(
        f"\nreference (persons as clusters, the same interval methods; the first "
        f"{min(args.reference_seeds, args.audit_seeds)} seeds):"
    )
    print(coverage_table(cov, "person").to_string(**fmt))
    print("\nper group (drawing units)")
    print(
        cov[cov["cluster"] == "unit_id"]
        .pivot_table(index=["by", "group"], columns="metric", values="hit")
        .to_string(**fmt)
    )


if __name__ == "__main__":
    main()
