"""What kind of process the library runs in, for choices that are safe only in a process that
runs nothing but turnover_risk.

The command line (``turnover_risk.cli``) sets :data:`COMMAND_LINE` before it runs a command;
a notebook or a user's program never does, so the library's defaults hold there.
"""

from __future__ import annotations

import gc

COMMAND_LINE = False
"""True in a ``turnover-risk`` command. Read by ``models/_safe_format.py``: there ``skops.io``
is imported without its scan of every scikit-learn estimator (which imports all of
scikit-learn: 0.3-0.55 s of a command's start), which would narrow what ``skops.io`` trusts
by default for any other caller in the same process."""


GC_THRESHOLD = (20_000, 10, 10)
"""The cyclic garbage collector's thresholds in a process of ours (``gc.set_threshold``;
Python's default is ``(700, 10, 10)``): a young generation of 20,000 objects, not 700.
Importing pandas, scikit-learn, SciPy, shap and Matplotlib creates about a million objects
that live as long as the process; with the default, the collector went through them again
and again: 0.5-0.85 s of a ``turnover-risk report`` on the sample (5 full collections, 64
middle ones), 0.23-0.26 s with these (``benchmarks/results.md``). Garbage in reference
cycles waits for at most 20,000 new objects before it is freed, not 700."""


def as_program() -> None:
    """Set :data:`GC_THRESHOLD`: called by the ``turnover-risk`` program and the processes it
    starts, never in a caller's process (a notebook keeps its own settings)."""
    gc.set_threshold(*GC_THRESHOLD)
