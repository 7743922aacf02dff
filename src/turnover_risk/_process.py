"""What kind of process the library runs in, for choices that are safe only in a process that
runs nothing but turnover_risk.

The command line (``turnover_risk.cli``) sets :data:`COMMAND_LINE` before it runs a command;
a notebook or a user's program never does, so the library's defaults hold there.
"""

from __future__ import annotations

COMMAND_LINE = False
"""True in a ``turnover-risk`` command. Read by ``models/_safe_format.py``: there ``skops.io``
is imported without its scan of every scikit-learn estimator (which imports all of
scikit-learn: 0.3-0.55 s of a command's start), which would narrow what ``skops.io`` trusts
by default for any other caller in the same process."""
