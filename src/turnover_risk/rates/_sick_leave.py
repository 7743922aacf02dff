"""The public sick-leave function and its argument checks (private).

:func:`sick_leave_rate` checks its arguments and the absences table, then hands the register to
the kernel :func:`._sick_leave_table.sick_leave_table` (or to the Dask engine). The conventions
are documented in the package docstring (:mod:`turnover_risk.rates`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from turnover_risk._engine import get_engine, uses_dask
from turnover_risk.data import Register
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, check_min_group_size
from turnover_risk.rates._common import (
    _check_by,
    _check_choice,
    _check_confidence,
    _empty_result,
    _parse_period,
)
from turnover_risk.rates._definitions import LONG_SPELL_DAYS, SICK_CERTIFICATIONS
from turnover_risk.rates._sick_leave_table import _SICK_COLUMNS, sick_leave_table

__all__ = ["sick_leave_rate"]


def sick_leave_rate(
    data: Register,
    *,
    by: str | Sequence[str] | None = None,
    period: str | Sequence[str] = "year",
    certification: str = "all",
    start: object = None,
    end: object = None,
    long_spell_days: int = LONG_SPELL_DAYS,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
    engine: str = "pandas",
) -> pd.DataFrame:
    """The SSB/NAV sick-leave percentage by group and period.

    ``rate = lost person-days / agreed person-days`` with

    * lost person-days = absence working days x fte x sick-leave grade; self-certified
      absence always counts with grade 1, a missing grade is 1;
    * agreed person-days = working days in employment x fte;
    * working days = Monday-Friday minus Norwegian public holidays (no vacation deduction, as
      SSB and NAV since Q4 2018).

    Absence days count only inside employment spells and per job: a person with two jobs loses
    days in both, each weighted by its own fte. Spells crossing period or employment boundaries
    are split exactly (by day arithmetic on a cumulative working-day index, never by expanding
    spells into days). An absence without ``end_date`` (ongoing at the extract) lasts to the
    observation end. Overlapping absence spells of one person count each day once (in the
    earlier spell), with a :class:`~turnover_risk.DataQualityWarning`. ``n_persons`` counts the
    persons with at least one agreed working day in the group and period.

    Parameters
    ----------
    data : Register
        Needs ``employment`` and ``absences`` (and ``units`` for unit attributes in ``by``).
    by : str or list of str, optional
        Group columns of the job (employment or unit columns).
    period : str or list of str
        ``"year"``, ``"quarter"``, ``"month"`` or period labels (see :func:`turnover_rate`).
    certification : {"all", "self", "doctor", "split"}
        Which absence counts in the numerator; ``"split"`` returns three rows per group and
        period (``all``, ``self``, ``doctor``). The denominator is always all agreed days.
    start, end : date-like, optional
        Observation window (default: the register's metadata, else the earliest employment
        start to the latest date in the data; a left-truncated employment or absences table
        moves the start to where recording began, with a
        :class:`~turnover_risk.DataQualityWarning` - see :func:`turnover_rate`). The window
        used is in ``result.attrs["observation_window"]``.
    long_spell_days : int
        A spell is long when its whole length in calendar days exceeds this (default 16, the
        employer period).
    min_group_size, margins, confidence
        As in :func:`turnover_rate` (groups counted in persons employed).
    engine : {"pandas", "dask"}
        ``"dask"`` (or Dask tables in ``data``) runs on the Dask engine
        (:mod:`turnover_risk.engines`); identical numbers.

    Returns
    -------
    DataFrame
        Group columns, ``period``, ``certification``, ``numerator`` (lost person-days),
        ``denominator`` (agreed person-days), ``rate`` (a fraction), ``percent``
        (100 x rate, the SSB figure), ``ci_low``/``ci_high`` (on the fraction scale),
        ``n_persons`` (persons employed), ``suppressed``, ``n_spells`` (absence spells with
        at least one lost working day in the period), ``n_persons_absent`` and
        ``long_spell_share`` (share of lost days in spells longer than ``long_spell_days``),
        plus ``period_start``/``period_end``.

    Notes
    -----
    Interval: delta method for a ratio estimator with persons as clusters,
    ``var(R) = n/(n-1) * sum_i (l_i - R d_i)^2 / D^2`` over the persons ``i`` of the group and
    period (``l_i`` lost, ``d_i`` agreed days, ``D`` their total), normal quantile, clipped to
    [0, 1]. It accounts for days of one person being correlated, which a Poisson interval on
    days would ignore.

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk import Register, sick_leave_rate
    >>> emp = pd.DataFrame({"employee_id": list("abcde"), "unit_id": ["u1"] * 5,
    ...     "start_date": pd.to_datetime(["2021-01-01"] * 5), "end_date": pd.NaT,
    ...     "fte": [1.0, 1.0, 1.0, 1.0, 0.5]})
    >>> ab = pd.DataFrame({"employee_id": list("cde"),
    ...     "start_date": pd.to_datetime(["2021-03-01"] * 3),
    ...     "end_date": pd.to_datetime(["2021-03-05"] * 3), "certification": ["doctor"] * 3,
    ...     "grade": [0.5] * 3})
    >>> r = sick_leave_rate(Register(employment=emp, absences=ab), end="2021-12-31")
    >>> float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0])  # 5 x .5 x (1+1+.5); 254 x 4.5
    (6.25, 1143.0)

    Lost days of one or two persons are never shown, whatever the group's size (the dominance
    rule, see ``docs/privacy.md``):

    >>> import warnings
    >>> one = Register(employment=emp, absences=ab.iloc[:1])
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # "every one of the 1 rows is suppressed"
    ...     bool(sick_leave_rate(one, end="2021-12-31")["suppressed"].iloc[0])
    True
    """
    if uses_dask(engine, data):
        return get_engine("dask").sick_leave_rate(
            data,
            by=by,
            period=period,
            certification=certification,
            start=start,
            end=end,
            long_spell_days=long_spell_days,
            min_group_size=min_group_size,
            margins=margins,
            confidence=confidence,
        )
    if not isinstance(data, Register):
        raise TypeError(
            "sick_leave_rate needs a Register with employment and absences tables; got "
            f"{type(data).__name__}. Use Register(employment=emp, absences=absences)."
        )
    args = _sick_args(
        by=by, period=period, certification=certification, start=start, end=end,
        long_spell_days=long_spell_days, min_group_size=min_group_size, margins=margins,
        confidence=confidence,
    )  # fmt: skip
    by = args["by"]
    if data.absences is None:
        raise ValueError(
            "sick_leave_rate needs the register's absences table, which is missing. "
            "Read a folder with absences.csv/parquet or pass Register(..., absences=df)."
        )
    ab = data.absences
    need = ["employee_id", "start_date", "end_date", "certification"]
    missing = [c for c in need if c not in ab.columns]
    if missing:
        raise ValueError(f"the absences table lacks required columns {missing}.")
    if len(data.employment) == 0:
        return _empty_result(by, list(_SICK_COLUMNS), "the employment table")
    return sick_leave_table(data, **args)


def _sick_args(
    *,
    by: str | Sequence[str] | None = None,
    period: str | Sequence[str] = "year",
    certification: str = "all",
    start: object = None,
    end: object = None,
    long_spell_days: int = LONG_SPELL_DAYS,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
) -> dict:
    """The options of :func:`sick_leave_rate` checked, as the kernel's arguments (private)."""
    by = _check_by(by)
    kind, wanted = _parse_period(period)
    certification = _check_choice(
        "certification", certification, SICK_CERTIFICATIONS, "certification"
    )
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    if isinstance(long_spell_days, bool) or not isinstance(long_spell_days, int | np.integer):
        raise TypeError(f"long_spell_days must be an integer; got {long_spell_days!r}.")
    return dict(
        by=by, kind=kind, wanted=wanted, certification=certification, start=start, end=end,
        long_spell_days=long_spell_days, min_group_size=min_group_size, margins=margins,
        confidence=confidence,
    )  # fmt: skip
