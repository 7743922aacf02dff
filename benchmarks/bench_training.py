"""Benchmark: ``TurnoverRiskModel.fit`` next to a plain scikit-learn pipeline, same estimator.

Both fit the labelled rows of the same panel (Parquet, e.g. from ``run_all.py``) in fresh
processes, started from a tiny launcher so each peak memory (``ru_maxrss``) is the process's
own. Both read the panel the same way: by default (``--read projected``) only its labelled rows
and the columns ``fit`` uses (a Parquet row filter and column projection, about 1.1 GB peak on
the national panel instead of 2 GB for the whole panel; ``--read whole`` reads everything and
keeps the labelled rows). "peak MB" is the whole process, reading included; "fit peak MB" the
high-water mark from the end of reading on (reset through ``/proc/self/clear_refs``; the data
read stay resident, so it counts them). The plain pipeline is what a scikit-learn user
writes for the same model: median imputation with missing indicators (and standard scaling for
the logistic model) of the numeric columns the model kept, constant imputation and one-hot
encoding of the categorical ones, then the same classifier with the same parameters; its time
includes turning the text columns into objects (``SimpleImputer`` needs ``np.nan``). Each
pair runs ``--repeat`` times, alternating which goes first, and the table shows the medians
of wall and CPU seconds (user + system of the child; on the shared machine CPU seconds are
the steadier measure) and their ratios, plus how far the two models' probabilities are apart
on the training rows (the same estimator on the same data: ~0).

Usage::

    python benchmarks/bench_training.py --panel /tmp/trbench/panel.parquet
    python benchmarks/bench_training.py --panel p.parquet --kinds logistic --repeat 1

Target (issue 21): ``fit`` <= 1.2 x the plain pipeline; <= 25 s and <= 3 GB on the national
panel (2.0 million labelled rows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import _launcher

COMMON = r"""
import json, os, resource, sys, time, warnings
import numpy as np
import pandas as pd
warnings.simplefilter("ignore")
panel_path, kind, out, max_rows = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
read_mode = sys.argv[5]
cols = json.loads(sys.argv[6]) if len(sys.argv) > 6 else None
t_read, c_read = time.perf_counter(), time.process_time()
if read_mode == "projected":  # the labelled rows and the columns fit uses, as a user would
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
    schema = pq.read_schema(panel_path)
    spec = json.loads((schema.metadata or {}).get(b"PANDAS_ATTRS", b"{}")).get("panel_spec")
    label = spec["label_col"] if spec else "left_within_horizon"
    wanted = ([*spec["feature_cols"], label, *spec["id_cols"][:1], spec["period_col"],
               "municipality"] if spec else None)
    columns = [c for c in dict.fromkeys(wanted) if c in schema.names] if wanted else None
    labelled = pd.read_parquet(panel_path, columns=columns, filters=pc.field(label).is_valid())
else:  # the whole panel, then its labelled rows (as 0.1.0's benchmark did)
    panel = pd.read_parquet(panel_path)
    labelled = panel[panel["left_within_horizon"].notna()]
    labelled.attrs = panel.attrs
    del panel
if max_rows and len(labelled) > max_rows:
    attrs = labelled.attrs
    labelled = labelled.sample(n=max_rows, random_state=0)
    labelled.attrs = attrs
read_seconds, read_cpu = time.perf_counter() - t_read, time.process_time() - c_read
read_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
try:  # reset the high-water mark (Linux): the fit's own peak, with the data it is given
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    fit_peak = True
except OSError:
    fit_peak = False
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def fitted():  # the peak as the fit ends, before predict_proba adds its own
    global peak
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
def report(seconds, cpu_seconds, proba, extra):
    np.save(out, proba)
    print(json.dumps({"rows": len(labelled), "seconds": seconds, "cpu": cpu_seconds,
                      "read_cpu": read_cpu, "fit_peak_mb": peak if fit_peak else float("nan"),
                      "peak_mb": max(peak, read_peak_mb),
                      **extra}))
"""

OURS = (
    COMMON
    + r"""
import turnover_risk as tr
Model = tr.TurnoverRiskModel  # import outside the timing, like the plain side's imports
t0, c0 = time.perf_counter(), cpu()
model = Model(kind=kind, random_state=0).fit(labelled)
seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
fitted()
clf = model.pipeline_.named_steps["clf"]
report(seconds, cpu_seconds, model.predict_proba(labelled)[:, 1], {
    "numeric": sorted(model._numeric_), "categorical": [c for c in model.features_
                                                        if c not in model._numeric_],
    "params": clf.get_params(),
    "label": model.spec_.label_col})
"""
)

PLAIN = (
    COMMON
    + r"""
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
numeric, categorical, params, label = cols["numeric"], cols["categorical"], cols["params"], cols["label"]
t0, c0 = time.perf_counter(), cpu()
X = labelled[numeric + categorical].copy()
for c in categorical:
    X[c] = X[c].astype(object).where(X[c].notna(), np.nan)
y = labelled[label].to_numpy().astype(int)
num = [("impute", SimpleImputer(strategy="median", add_indicator=True))]
if kind == "logistic":
    num.append(("scale", StandardScaler()))
cat = Pipeline([("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
                ("onehot", OneHotEncoder(handle_unknown="ignore"))])
clf = (LogisticRegression if kind == "logistic" else HistGradientBoostingClassifier)(**params)
pipe = Pipeline([("prep", ColumnTransformer([("num", Pipeline(num), numeric),
                                             ("cat", cat, categorical)])),
                 ("clf", clf)]).fit(X, y)
seconds, cpu_seconds = time.perf_counter() - t0, cpu() - c0
fitted()
report(seconds, cpu_seconds, pipe.predict_proba(X)[:, 1], {})
"""
)


def _child(code: str, *args: object) -> dict:
    out = _launcher.run([sys.executable, "-c", code, *map(str, args)])
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def run(
    panel: str | Path,
    kinds=("logistic", "gbm"),
    *,
    repeat: int = 3,
    max_rows=None,
    read: str = "projected",
):
    """One row per model kind: medians of ``repeat`` fits of each side and their ratios."""
    import numpy as np

    max_rows = max_rows or {"logistic": 0, "gbm": 250_000}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            cap = max_rows.get(kind, 0)
            ours = [_child(OURS, panel, kind, f"{tmp}/ours.npy", cap, read)]
            cols = json.dumps(
                {k: ours[0][k] for k in ("numeric", "categorical", "params", "label")}
            )
            plain = []
            for i in range(repeat):  # ours, plain, ours, plain, ...
                plain.append(_child(PLAIN, panel, kind, f"{tmp}/plain.npy", cap, read, cols))
                if i + 1 < repeat:
                    ours.append(_child(OURS, panel, kind, f"{tmp}/ours.npy", cap, read))
            gap = float(np.max(np.abs(np.load(f"{tmp}/ours.npy") - np.load(f"{tmp}/plain.npy"))))

            def med(runs, key):
                return statistics.median(r[key] for r in runs)

            rows.append(
                {
                    "model": kind,
                    "rows": ours[0]["rows"],
                    "ours s": round(med(ours, "seconds"), 2),
                    "plain s": round(med(plain, "seconds"), 2),
                    "wall ratio": round(med(ours, "seconds") / med(plain, "seconds"), 2),
                    "ours cpu s": round(med(ours, "cpu"), 2),
                    "plain cpu s": round(med(plain, "cpu"), 2),
                    "cpu ratio": round(med(ours, "cpu") / med(plain, "cpu"), 2),
                    "ours peak MB": round(med(ours, "peak_mb")),
                    "plain peak MB": round(med(plain, "peak_mb")),
                    "ours fit peak MB": round(med(ours, "fit_peak_mb")),
                    "plain fit peak MB": round(med(plain, "fit_peak_mb")),
                    "read cpu s": round(med(ours + plain, "read_cpu"), 2),
                    "max |p ours - p plain|": f"{gap:.1e}",
                }
            )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--panel", required=True)
    parser.add_argument("--kinds", nargs="+", default=["logistic", "gbm"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--gbm-rows", type=int, default=250_000, help="0: all labelled rows")
    parser.add_argument(
        "--read",
        choices=["projected", "whole"],
        default="projected",
        help="projected: only the labelled rows and the columns fit uses (Parquet filter and "
        "column projection); whole: the whole panel, then its labelled rows",
    )
    args = parser.parse_args()
    _launcher.start()
    load0 = os.getloadavg()
    rows = run(
        args.panel,
        args.kinds,
        repeat=args.repeat,
        max_rows={"gbm": args.gbm_rows},
        read=args.read,
    )
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {load0}, after {load1}; medians of {args.repeat}")
    print(f"read: {args.read}; peak MB: whole process (reading included); fit peak MB: from")
    print("the end of reading on (the data read stay resident); seconds and cpu s: fit only")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for r in rows:
        print("| " + " | ".join(str(v) for v in r.values()) + " |")


if __name__ == "__main__":
    main()
