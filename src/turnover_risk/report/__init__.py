"""The HTML report for leaders: :func:`write_report` (bokmål or English, self-contained)."""

from turnover_risk.report._write import LANGS, write_report

__all__ = ["LANGS", "write_report"]
