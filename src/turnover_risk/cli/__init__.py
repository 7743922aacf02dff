"""The ``turnover-risk`` command line: thin commands over the library (exit codes 0/1/2)."""

from turnover_risk.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
