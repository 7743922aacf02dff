"""Benchmark: what ``import turnover_risk`` costs, next to the libraries it no longer loads.

Each line is a fresh interpreter (``python -c``), run ``--repeat`` times in turn (so a burst of
load on the shared machine hits every line alike); the table shows the median wall time, the
median CPU time of the child (user + system) and the heavy libraries the statement loaded.
References in the same run: the bare interpreter, ``import pandas`` and
``from turnover_risk import *`` (every public name, which is what 0.1.0 paid on import).

Usage::

    python benchmarks/bench_import.py            # 7 repeats
    python benchmarks/bench_import.py --repeat 3

Targets (issue 21): ``import turnover_risk`` <= 1 s; ``turnover-risk --help`` <= 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

_HELP = (
    "import contextlib, io\nfrom turnover_risk.cli import main\n"
    "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
    "    main({argv})"
)
HEAVY = ("pandas", "scipy", "sklearn", "shap", "matplotlib", "dask", "pyarrow")
STATEMENTS = {
    "python (nothing)": "pass",
    "import pandas": "import pandas",
    "import turnover_risk": "import turnover_risk",
    "from turnover_risk import build_panel": "from turnover_risk import build_panel",
    "from turnover_risk import TurnoverRiskModel": "from turnover_risk import TurnoverRiskModel",
    "from turnover_risk import * (all names, as 0.1.0)": "from turnover_risk import *",
    # the CLI's start-up: argument parsing only, the library is imported by the command
    "turnover-risk --help": _HELP.format(argv="['--help']"),
    "turnover-risk report --help": _HELP.format(argv="['report', '--help']"),
}


def _once(statement: str) -> tuple[float, float, list[str]]:
    code = f"{statement}\nimport sys, json\nprint(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, json.loads(out.stdout.strip().splitlines()[-1])


def run(repeat: int = 7) -> list[dict]:
    """Median wall and CPU seconds of each statement in a fresh interpreter."""
    samples: dict[str, list[tuple[float, float, list[str]]]] = {k: [] for k in STATEMENTS}
    for _ in range(repeat):
        for label, statement in STATEMENTS.items():
            samples[label].append(_once(statement))
    return [
        {
            "statement": label,
            "wall s": round(statistics.median(s[0] for s in runs), 3),
            "cpu s": round(statistics.median(s[1] for s in runs), 3),
            "heavy libraries loaded": ", ".join(runs[0][2]) or "-",
        }
        for label, runs in samples.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    load0 = os.getloadavg()
    rows = run(args.repeat)
    load1 = os.getloadavg()
    print(f"load average (1, 5, 15 min) before {load0}, after {load1}; {args.repeat} repeats\n")
    print("| statement | wall s | cpu s | heavy libraries loaded |")
    print("|---|---|---|---|")
    for r in rows:
        print(
            f"| `{r['statement']}` | {r['wall s']} | {r['cpu s']} | {r['heavy libraries loaded']} |"
        )


if __name__ == "__main__":
    main()
