"""Benchmark: ``TurnoverRiskModel.fit`` next to a plain scikit-learn pipeline, same estimator.

Both fit the labelled rows of the same panel (Parquet, e.g. from ``run_all.py``) in fresh
processes, started from a tiny launcher so each peak memory (``ru_maxrss``) is the fit's own
(the labelled rows it reads are included). The plain pipeline is what a scikit-learn user
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
cols = json.loads(sys.argv[5]) if len(sys.argv) > 5 else None
panel = pd.read_parquet(panel_path)
labelled = panel[panel["left_within_horizon"].notna()]
if max_rows and len(labelled) > max_rows:
    labelled = labelled.sample(n=max_rows, random_state=0)
labelled = labelled.copy()
labelled.attrs = panel.attrs
del panel
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
def report(seconds, cpu_seconds, proba, extra):
    np.save(out, proba)
    print(json.dumps({"rows": len(labelled), "seconds": seconds, "cpu": cpu_seconds,
                      "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
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
report(seconds, cpu_seconds, pipe.predict_proba(X)[:, 1], {})
"""
)


def _child(code: str, *args: object) -> dict:
    out = _launcher.run([sys.executable, "-c", code, *map(str, args)])
    return json.loads([ln for ln in out.stdout.splitlines() if ln.startswith("{")][-1])


def run(panel: str | Path, kinds=("logistic", "gbm"), *, repeat: int = 3, max_rows=None):
    """One row per model kind: medians of ``repeat`` fits of each side and their ratios."""
    import numpy as np

    max_rows = max_rows or {"logistic": 0, "gbm": 250_000}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in kinds:
            cap = max_rows.get(kind, 0)
            ours = [_child(OURS, panel, kind, f"{tmp}/ours.npy", cap)]
            cols = json.dumps(
                {k: ours[0][k] for k in ("numeric", "categorical", "params", "label")}
            )
            plain = []
            for i in range(repeat):  # ours, plain, ours, plain, ...
                plain.append(_child(PLAIN, panel, kind, f"{tmp}/plain.npy", cap, cols))
                if i + 1 < repeat:
                    ours.append(_child(OURS, panel, kind, f"{tmp}/ours.npy", cap))
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
    args = parser.parse_args()
    _launcher.start()
    load0 = os.getloadavg()
    rows = run(args.panel, args.kinds, repeat=args.repeat, max_rows={"gbm": args.gbm_rows})
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {load0}, after {load1}; medians of {args.repeat}")
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for r in rows:
        print("| " + " | ".join(str(v) for v in r.values()) + " |")


if __name__ == "__main__":
    main()
