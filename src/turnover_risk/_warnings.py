"""Warning classes of turnover_risk (private module; the classes are public)."""

from __future__ import annotations


class TurnoverRiskWarning(UserWarning):
    """Base class of the warnings this library emits."""


class TurnoverRiskDeprecationWarning(DeprecationWarning):
    """A public name or parameter is going away; the message says what replaces it."""


class DataQualityWarning(TurnoverRiskWarning):
    """The data were used, but something about them deserves a look (e.g. dropped columns)."""
