"""The base class of the library's deliberate bad-input errors (private module; public class).

An error raised on purpose because the *input* is wrong (a register that breaks the data contract,
survey answers out of range, an output path that is one of the inputs, a model file that is not a
turnover_risk model) derives from :class:`TurnoverRiskInputError`. The command line maps exactly
these to exit code 2 ("fix the input"); any other ``ValueError``, ``KeyError`` or ``TypeError``
is a bug of ours and exits 1 with the traceback in a file.
"""

from __future__ import annotations

__all__ = ["TurnoverRiskInputError"]


class TurnoverRiskInputError(ValueError):
    """Bad input that the library detected on purpose; the message says what to fix.

    A subclass of ``ValueError``, so code that caught ``ValueError`` keeps working.

    Examples
    --------
    >>> try:
    ...     raise TurnoverRiskInputError("employment.csv row 3, column 'start': not a date")
    ... except ValueError as err:
    ...     print(err)
    employment.csv row 3, column 'start': not a date
    """
