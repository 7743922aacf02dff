"""The ``turnover-risk`` command line: thin commands over the library.

Exit codes: 0 done, 2 bad input, 3 environment (permissions, disk full, an existing output),
1 internal error (traceback in a file whose path is printed); see ``docs/operations.md``.
"""

from turnover_risk.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
