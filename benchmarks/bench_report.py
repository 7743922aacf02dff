"""Benchmark: the leader's report and the demo on the shipped sample, against the targets and
against the previous designs in the same run.

Run: ``python benchmarks/bench_report.py [--kinds logistic gbm] [--repeat 2] [--rounds 3]
[--no-demo] [--no-in-process]``

For each model kind, fits the model on the sample's panel and saves it with its evaluation
(as ``turnover-risk train`` does), then times:

* ``report, in process``: ``write_report(register, model, path)`` with the model loaded and
  the libraries imported, best of ``--repeat``, for the current refits and for the reference
  (every bootstrap draw of the prospective flags refits the whole model,
  ``sklearn.base.clone(model).fit(panel rows)``, as in 0.1.0);
* ``report, CLI (fresh process)``: ``turnover-risk report <register> --model <file>`` in a
  fresh interpreter (imports, reading the register and the model file included: what the 5 s
  target is about), ``--rounds`` times per design, the designs alternating within each round
  so that a burst of load from elsewhere hits them alike. Designs (``DESIGNS``):

  - ``report worker``: the current design, ``cli/_report_worker.py``: one worker process,
    started first, writes the register's sections, then for a logistic model the audit's part
    of the fairness section (from the risks the command sends it) and for a gbm serves its
    bootstrap refits (forced on: by default it starts only when a core is free);
  - ``previous (refit worker)``: the design before it: a worker process for a gbm's refits
    alone, everything else in the main process; for a logistic model, no worker;
  - ``no worker``: everything in one process (what a busy machine gets);
  - for a gbm, first ``report worker, refits kept``: the same model saved as ``turnover-risk
    train`` saves it, with its ten bootstrap refits kept in the file
    (``groups/_refit_store.py``): the report makes none, and the worker writes the audit too.

  Shown: the median and the best wall seconds, the median CPU seconds (all processes of the
  run), and the 1-minute load average before each design's first run;
* ``demo, CLI`` (logistic only; the demo fits its own logistic model): ``turnover-risk demo``
  in a fresh process, once; target 15 s.

The machine's two cores are shared: wall times under load are pessimistic (the CPU seconds
are less so), and the worker designs need the second core. ``run(...)`` returns the table.
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
from turnover_risk.groups._refit_store import store_refits

TARGETS = {"report": 5.0, "demo": 15.0}
APPROACHES = {"current": "classifier", "reference": "pipeline"}
DESIGNS = {
    "report worker": ("always", True),
    "previous (refit worker)": ("always", False),
    "no worker": ("never", True),
}
"""The fresh-process designs: ``_refit_worker.WHEN`` and ``_report_worker.SECTIONS``."""
KEPT = "report worker, refits kept"
"""The gbm's current design: its model file keeps the bootstrap refits (``train --refits``)."""
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


def _child(
    refit: str, argv: list[str], worker: str = "never", sections: bool = True
) -> tuple[float, float]:
    """Wall and CPU seconds of ``turnover-risk <argv>`` in a fresh interpreter (its worker
    process included)."""
    code = (
        "import sys; import turnover_risk.groups._bootstrap as b; "
        "import turnover_risk.groups._refit_worker as w; "
        "import turnover_risk.cli._report_worker as r; "
        f"b.REFIT = {refit!r}; w.WHEN = {worker!r}; r.SECTIONS = {sections!r}; "
        "from turnover_risk.cli import main; sys.exit(main())"  # as the program: argv from sys
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


def _row(kind, what, approach, seconds, cpu, load, target, best=None):
    return {
        "kind": kind,
        "what": what,
        "approach": approach,
        "seconds": round(seconds, 2),
        "best s": round(best if best is not None else seconds, 2),
        "cpu s": round(cpu, 2),
        "load (1 min)": load,
        "target s": target,
    }


def _fresh(kind, folder, saved, rounds, kept=None) -> list[dict]:
    """The fresh-process rows of one kind: the designs alternating, ``rounds`` times.
    ``kept``: the same model's file with its bootstrap refits kept (a gbm, as ``turnover-risk
    train`` saves it), reported with the current design first."""
    designs = {name: (when, sections, saved) for name, (when, sections) in DESIGNS.items()}
    if kept is not None:
        designs = {KEPT: ("always", True, kept), **designs}
    runs = {name: [] for name in designs}
    loads = {}
    for r in range(rounds):
        for name, (when, sections, file) in designs.items():
            loads.setdefault(name, f"{os.getloadavg()[0]:.1f}")
            argv = ["--quiet", "report", str(folder / "register"), "--model", str(file)]
            argv += ["--out", str(folder / f"cli-{kind}-{r}.html"), "--overwrite"]
            runs[name].append(_child("classifier", argv, when, sections))
    rows = []
    for name, got in runs.items():
        wall = sorted(w for w, _ in got)
        cpu = sorted(c for _, c in got)
        rows.append(
            _row(
                kind,
                "report, CLI (fresh process)",
                name,
                wall[len(wall) // 2],
                cpu[len(cpu) // 2],
                loads[name],
                5.0,
                best=wall[0],
            )
        )
    return rows


def run(
    kinds=("logistic", "gbm"),
    repeat: int = 2,
    demo: bool = True,
    rounds: int = 3,
    in_process: bool = True,
) -> pd.DataFrame:
    reg = tr.load_sample()
    rows = []
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        folder = Path(tmp)
        tr.write_register(reg, folder / "register")
        panel = tr.build_panel(reg)
        for kind in kinds:
            fitted = tr.TurnoverRiskModel(kind=kind, random_state=0).fit(panel)
            ev = tr.evaluate(fitted, panel)
            saved = fitted.save(folder / f"{kind}.skops", evaluation=ev)
            if in_process:
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
            kept = None
            if kind == "gbm":  # as 'turnover-risk train' saves it: the refits kept
                store_refits(fitted, panel, n_boot=10, random_state=0)
                kept = fitted.save(folder / "gbm-kept.skops", evaluation=ev)
            rows += _fresh(kind, folder, saved, rounds, kept)
        if demo:
            for approach, refit in APPROACHES.items():
                load = f"{os.getloadavg()[0]:.1f}"
                argv = ["--quiet", "demo", "--out", str(folder / f"demo-{approach}")]
                wall, cpu = _child(refit, argv)
                rows.append(_row("logistic", "demo, CLI", approach, wall, cpu, load, 15.0))
    table = pd.DataFrame(rows)
    table["meets target"] = [
        "yes" if s <= t else "no" for s, t in zip(table["seconds"], table["target s"], strict=True)
    ]
    # the fresh-process designs against the previous one, per kind
    cli = table[table["what"] == "report, CLI (fresh process)"].set_index(["kind", "approach"])
    table["x faster than previous (wall)"] = [
        round(cli.loc[(k, "previous (refit worker)"), "seconds"] / v, 2)
        if w == "report, CLI (fresh process)"
        else None
        for k, w, v in zip(table["kind"], table["what"], table["seconds"], strict=True)
    ]
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=["logistic", "gbm"])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="fresh-process runs per design")
    parser.add_argument("--no-demo", action="store_true")
    parser.add_argument("--no-in-process", action="store_true")
    args = parser.parse_args()
    print(f"command: {' '.join([os.path.basename(sys.executable), *sys.argv])}")
    print(
        f"load average at start (1, 5, 15 min): {_load()}; cores: {os.cpu_count()}; "
        f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}"
    )
    table = run(
        args.kinds,
        args.repeat,
        demo=not args.no_demo,
        rounds=args.rounds,
        in_process=not args.no_in_process,
    )
    with pd.option_context("display.width", 250, "display.max_columns", 20):
        print(table.to_string(index=False))
    print(f"load average at end (1, 5, 15 min): {_load()}")


if __name__ == "__main__":
    main()
