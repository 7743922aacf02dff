"""Benchmark: the leader's report and the demo on the shipped sample, against the targets and
against the previous approach in the same run.

Run: ``python benchmarks/bench_report.py [--kinds logistic gbm] [--repeat 2] [--no-demo]``

For each model kind, fits the model on the sample's panel and saves it with its evaluation
(as ``turnover-risk train`` does), then times, for the current approach and for the
reference (the previous approach: every bootstrap draw of the prospective flags refits the
whole model, ``sklearn.base.clone(model).fit(panel rows)``, as in 0.1.0):

* ``report, in process``: ``write_report(register, model, path)`` with the model loaded and
  the libraries imported (what the 5 s target is about: the report given a fitted model),
  best of ``--repeat``;
* ``report, CLI``: ``turnover-risk report <register> --model <file>`` in a fresh process
  (imports and loading the model included), once; for the current approach twice: with the
  worker process that shares a gbm's bootstrap refits (``groups/_refit_worker.py``, forced on:
  by default it starts only when a core is free) and without it (``current, no worker``;
  the logistic model never starts one, its refits are cheap);
* ``demo, CLI`` (logistic only; the demo fits its own logistic model): ``turnover-risk demo``
  in a fresh process, once; target 15 s.

The CLI rows also show what the fresh process adds to the in-process report of the same kind
and approach (``start-up s``: imports, reading the register and the model file).

The reference runs with the same code otherwise (one thread per refit, the report's other
savings), so the speed-up shown is that of the refits alone; the old code also let the gbm's
OpenMP threads spin on a busy machine, which cost more. Wall and CPU seconds are printed
with the load average: the machine's two cores are shared, and wall times under load are
pessimistic. ``run(...)`` returns the table.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import turnover_risk as tr
from turnover_risk.groups import _bootstrap

TARGETS = {"report": 5.0, "demo": 15.0}
APPROACHES = {"current": "classifier", "reference": "pipeline"}
WORKER = {"current": "always", "current, no worker": "never", "reference": "never"}
"""The refit worker of the fresh-process rows (``_refit_worker.WHEN``) per approach."""
_SRC = str(Path(tr.__file__).resolve().parents[1])


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg())


def _in_process(fn, repeat: int) -> tuple[float, float]:
    best = (float("inf"), float("inf"))
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        best = min(best, (time.perf_counter() - t0, time.process_time() - c0))
    return best


def _child(refit: str, argv: list[str], worker: str = "never") -> tuple[float, float]:
    """Wall and CPU seconds of ``turnover-risk <argv>`` in a fresh interpreter (its worker
    process included)."""
    code = (
        "import sys; import turnover_risk.groups._bootstrap as b; "
        "import turnover_risk.groups._refit_worker as w; "
        f"b.REFIT = {refit!r}; w.WHEN = {worker!r}; from turnover_risk.cli import main; "
        "sys.exit(main(sys.argv[1:]))"
    )
    env = {**os.environ, "PYTHONPATH": _SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, env=env
    )
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise RuntimeError(f"turnover-risk {' '.join(argv)} failed:\n{out.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def _row(kind, what, approach, seconds, cpu, load, target):
    return {
        "kind": kind,
        "what": what,
        "approach": approach,
        "seconds": round(seconds, 2),
        "cpu s": round(cpu, 2),
        "load (1 min)": load,
        "target s": target,
    }


def run(kinds=("logistic", "gbm"), repeat: int = 2, demo: bool = True) -> pd.DataFrame:
    reg = tr.load_sample()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = Path(tmp)
        tr.write_register(reg, folder / "register")
        panel = tr.build_panel(reg)
        for kind in kinds:
            fitted = tr.TurnoverRiskModel(kind=kind, random_state=0).fit(panel)
            saved = fitted.save(folder / f"{kind}.skops", evaluation=tr.evaluate(fitted, panel))
            model = tr.load_model(saved)
            out = folder / f"{kind}.html"
            tr.write_report(reg, model, out)  # warm-up: imports, caches
            for approach, refit in APPROACHES.items():
                _bootstrap.REFIT = refit
                try:
                    load = f"{os.getloadavg()[0]:.1f}"
                    wall, cpu = _in_process(
                        lambda m=model, o=out: tr.write_report(reg, m, o), repeat
                    )
                finally:
                    _bootstrap.REFIT = "classifier"
                rows.append(_row(kind, "report, in process", approach, wall, cpu, load, 5.0))
                for name, when in WORKER.items():
                    if not name.startswith(approach):
                        continue
                    load = f"{os.getloadavg()[0]:.1f}"
                    argv = ["--quiet", "report", str(folder / "register"), "--model", str(saved)]
                    argv += ["--out", str(folder / f"cli-{kind}-{name}.html")]
                    wall, cpu = _child(refit, argv, when)
                    rows.append(
                        _row(kind, "report, CLI (fresh process)", name, wall, cpu, load, 5.0)
                    )
        if demo:
            for approach, refit in APPROACHES.items():
                load = f"{os.getloadavg()[0]:.1f}"
                argv = ["--quiet", "demo", "--out", str(folder / f"demo-{approach}")]
                wall, cpu = _child(refit, argv)
                rows.append(_row("logistic", "demo, CLI", approach, wall, cpu, load, 15.0))
    table = pd.DataFrame(rows)
    # what a fresh process adds to the report (imports, reading the register and the model)
    inproc = table[table["what"] == "report, in process"].set_index(["kind", "approach"])
    table["start-up s (CLI - in process)"] = [
        round(v - inproc.loc[(k, a.split(",")[0]), "seconds"], 2)
        if w.startswith("report, CLI")
        else None
        for k, w, a, v in zip(
            table["kind"], table["what"], table["approach"], table["seconds"], strict=True
        )
    ]
    table["meets target"] = [
        "yes" if s <= t else "no" for s, t in zip(table["seconds"], table["target s"], strict=True)
    ]
    ref = table[table["approach"] == "reference"].set_index(["kind", "what"])
    for col, name in (("seconds", "x faster (wall)"), ("cpu s", "x faster (CPU)")):
        table[name] = [
            round(ref.loc[(k, w), col] / v, 1) if a.startswith("current") else None
            for k, w, a, v in zip(
                table["kind"], table["what"], table["approach"], table[col], strict=True
            )
        ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["logistic", "gbm"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(
        f"load average at start (1, 5, 15 min): {_load()}; cores: {os.cpu_count()}; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    table = run(args.kinds, args.repeat, demo=not args.no_demo)
    print(table.to_string(index=False))
    print(f"load average at end (1, 5, 15 min): {_load()}")


if __name__ == "__main__":
    main()
