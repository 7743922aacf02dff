"""Benchmark: the leader's report on the shipped sample, given a fitted model.

Run: ``python benchmarks/bench_report.py [--kinds logistic gbm] [--repeat 2]``

For each model kind, fits the model on the sample's panel and saves it with its evaluation (as
``turnover-risk train`` does), loads it back, then times (best of ``--repeat``):

* ``flags``: :func:`turnover_risk.flag_groups` alone (prospective, ``n_boot=10`` bootstrap
  refits) — the reference in the same run: the part of the report that refits the model;
* ``report (given flags)``: :func:`turnover_risk.write_report` with the panel and the flags
  handed over — the report's own work (drivers, what-if, rates, figures, page);
* ``report (from register)``: ``write_report(register, model, path)``, what
  ``turnover-risk report --model`` runs (panel, flags, backtest, drivers, what-if, page).

and prints a table with the target (5 s) beside each. ``run(...)`` returns the table.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import turnover_risk as tr

TARGET_SECONDS = 5.0


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def run(kinds=("logistic", "gbm"), repeat: int = 2) -> pd.DataFrame:
    reg = tr.load_sample()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = Path(tmp)
        panel = tr.build_panel(reg)
        for kind in kinds:
            fitted = tr.TurnoverRiskModel(kind=kind, random_state=0).fit(panel)
            fitted.save(folder / f"{kind}.joblib", evaluation=tr.evaluate(fitted, panel))
            model = tr.load_model(folder / f"{kind}.joblib")
            flags = tr.flag_groups(model, panel, n_boot=10, n_drivers=0, random_state=0)
            out = folder / f"{kind}.html"
            timings = {
                "flags (bootstrap refits)": _best(
                    lambda m=model: tr.flag_groups(m, panel, n_boot=10, random_state=0), repeat
                ),
                "report (given flags)": _best(
                    lambda m=model, f=flags, o=out: tr.write_report(
                        reg, m, o, panel=panel, flags=f
                    ),
                    repeat,
                ),
                "report (from register)": _best(
                    lambda m=model, o=out: tr.write_report(reg, m, o), repeat
                ),
            }
            for what, seconds in timings.items():
                rows.append(
                    {
                        "kind": kind,
                        "what": what,
                        "seconds": round(seconds, 2),
                        "target": TARGET_SECONDS if what.startswith("report") else None,
                    }
                )
    table = pd.DataFrame(rows)
    table["meets target"] = [
        "" if pd.isna(t) else ("yes" if s <= t else "no")
        for s, t in zip(table["seconds"], table["target"], strict=True)
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["logistic", "gbm"])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    print(run(args.kinds, args.repeat).to_string(index=False))


if __name__ == "__main__":
    main()
