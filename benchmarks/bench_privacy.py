"""Benchmark: the cost of the privacy layer on the rates benchmark's jobs.

Times each rate job of ``bench_rates.py`` (unit x year, 1 000 000 spells, 3 000 000 absences by
default) twice in the same process, alternately: with the linked suppression of
``turnover_risk.privacy`` (what users get) and with suppression inside the table only (the
0.1.0 path: one kernel pass, cells under ``min_group_size`` blanked), the reference. Prints a table with the
best times, the overhead and how many cells each hides. Target: overhead under 20 %.

Run:  python benchmarks/bench_privacy.py [--spells 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from unittest import mock

import numpy as np
import pandas as pd

import turnover_risk as tr
from bench_rates import FIRST, LAST, make_data
from turnover_risk.privacy import blank_suppressed


def _table_only(kernel, data, *, by, kind, wanted, margins, min_group_size, value_cols,
                totals=None, sensitive=None, bounds=None, contributions=False,
                **args):  # fmt: skip
    """The 0.1.0 path: one kernel pass for the requested table, cells under the minimum
    blanked."""
    out = kernel(data, by=by, kind=kind, wanted=wanted, margins=margins, raw=True,
                 min_group_size=min_group_size, **args)  # fmt: skip
    small = out["n_persons"].fillna(0).to_numpy(dtype=float) < min_group_size
    return blank_suppressed(out, np.asarray(small), value_cols)


def run(spells: int = 1_000_000, repeat: int = 3, by: str = "unit_id") -> pd.DataFrame:
    reg = make_data(spells, 3 * spells)
    kw = {"by": by, "period": "year", "start": FIRST, "end": LAST, "min_group_size": 3}
    jobs = {
        "exit_share by unit, year": lambda: tr.turnover_rate(reg, definition="exit_share", **kw),
        "separation by unit, year": lambda: tr.turnover_rate(reg, definition="separation", **kw),
        "sick leave by unit, year": lambda: tr.sick_leave_rate(reg, **kw),
    }
    rows = []
    for name, fn in jobs.items():
        best = {"linked": np.inf, "table only": np.inf}
        hidden = {}
        for _ in range(repeat):
            for mode in ("table only", "linked"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    t0 = time.perf_counter()
                    if mode == "linked":
                        out = fn()
                    else:
                        with (
                            mock.patch(
                                "turnover_risk.rates._turnover_table.protected", _table_only
                            ),
                            mock.patch(
                                "turnover_risk.rates._sick_leave_table.protected", _table_only
                            ),
                        ):
                            out = fn()
                    best[mode] = min(best[mode], time.perf_counter() - t0)
                hidden[mode] = int(out["suppressed"].sum())
        shown = out.loc[~out["suppressed"]]
        rows.append(
            {
                "job": name,
                "table only s": round(best["table only"], 3),
                "linked s": round(best["linked"], 3),
                "overhead": f"{best['linked'] / best['table only'] - 1:+.0%}",
                "cells": len(out),
                "hidden (table only)": hidden["table only"],
                "hidden (linked)": hidden["linked"],
                "shown with 20+ persons": int((shown["n_persons"] >= 20).sum()),
            }
        )
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--spells", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    load = os.getloadavg()[0]
    table = run(args.spells, args.repeat)
    print(
        f"{args.spells:,} spells, {3 * args.spells:,} absences; best of {args.repeat}, "
        f"alternating; load average {load:.1f} -> {os.getloadavg()[0]:.1f}; target < +20 %"
    )
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))


if __name__ == "__main__":
    main()
