"""The public turnover functions and their argument checks (private).

:func:`turnover_rate` computes a definition of :data:`DEFINITIONS` from a register or an
employment frame (the kernel is :func:`._turnover_table.turnover_table`);
:func:`turnover_rate_from_counts` evaluates the same definitions on aggregate counts per unit.
Both check their arguments here, so a bad value fails before any data is read. The conventions
are documented in the package docstring (:mod:`turnover_risk.rates`).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from turnover_risk._engine import get_engine, uses_dask
from turnover_risk.data import EXIT_REASONS, Register
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, check_min_group_size
from turnover_risk.rates._common import (
    _check_by,
    _check_choice,
    _check_confidence,
    _empty_result,
    _parse_period,
    _parse_snapshot,
)
from turnover_risk.rates._definitions import (
    ANNUAL_CONVENTIONS,
    BUFDIR_DIVISORS,
    DEFINITIONS,
    SCOPES,
    WEIGHTS,
    _unknown_definition,
)
from turnover_risk.rates._spells import _employment_frame
from turnover_risk.rates._turnover_counts import counts_table
from turnover_risk.rates._turnover_table import _TURNOVER_COLUMNS, turnover_table

__all__ = ["turnover_rate", "turnover_rate_from_counts"]


def turnover_rate(
    data: Register | pd.DataFrame,
    *,
    definition: str = "exit_share",
    by: str | Sequence[str] | None = None,
    period: str | Sequence[str] = "year",
    snapshot: str = "12-01",
    scope: str | None = None,
    exclude_reasons: Sequence[str] = (),
    weight: str = "headcount",
    divisor: str | None = None,
    annual: str = "average_headcount",
    start: object = None,
    end: object = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
    engine: str = "pandas",
) -> pd.DataFrame:
    """Staff turnover by group and period under a named definition.

    Parameters
    ----------
    data : Register or DataFrame
        A register (its ``units`` table supplies ``municipality`` and ``service``), an
        employment DataFrame, or a frame of aggregate counts (columns ``hires``,
        ``separations``, ``headcount_start``, ``headcount_end``, no ``employee_id``), which is
        passed to :func:`turnover_rate_from_counts`.
    definition : str
        Key of :data:`DEFINITIONS` (table below).
    by : str or list of str, optional
        Group columns (employment or unit columns, e.g. ``"unit_id"``, ``"service"``,
        ``"role"``). The group of a person is the one of their spell at the snapshot
        (``exit_share``), of the spell that starts or ends (hires, separations) or runs across
        the period boundary (headcount). ``None``: one row per period.
    period : str or list of str
        ``"year"``, ``"quarter"`` or ``"month"``, or labels selecting periods (``"2021"``,
        ``["2021Q1", "2021Q2"]``, ``"2021-03"``).
    snapshot : str
        Month-day of the yearly snapshot for ``exit_share`` (``"12-01"``: 1 December as KS;
        SSB uses the third week of November, e.g. ``"11-15"``). Quarters and months use the
        first day of the period.
    scope : {"unit", "service", "municipality", "any"}, optional
        What leaving means (see the module docstring). Default ``"service"`` (moving to another
        unit of the same service is not an exit) for ``exit_share``, ``separation`` and
        ``hire``. ``bufdir`` is measured per unit (establishment level, as SSB): its default
        and only scope is ``"unit"``, because with a wider scope a transfer changes a unit's
        headcount without being a hire or separation and ``H + S - |E_end - E_start|`` no
        longer measures churn (it can even go negative).
    exclude_reasons : sequence of str
        Exit reasons (``employment.exit_reason``) whose leavers are not counted as exits or
        separations, e.g. ``("retirement", "death")``. They stay in the headcount. For
        ``exit_share`` the reason is the one of the job that ends the person's presence in
        scope before ``t+1`` (not of the job held at ``t``). Not for ``bufdir`` (an excluded
        leaver still changes the headcount, so the churn formula would break).
    weight : {"headcount", "fte"}
        Count persons (default) or sum their position shares in numerator and denominator.
        The count columns (``hires``...) always count persons (jobs).
    divisor : {"churn", "replacement"}, optional
        Only for ``definition="bufdir"``: the divisor convention (default ``"churn"``).
    annual : {"average_headcount", "sum_of_months"}
        For ``separation`` and ``hire`` over periods longer than a month.
        ``"average_headcount"`` (default): events in the period / ((E_start + E_end) / 2).
        ``"sum_of_months"``: SHRM's convention, the sum of the monthly rates of the months in
        the period (``numerator`` = events, ``denominator`` = numerator / rate, the effective
        headcount; with no events the mean monthly average headcount). The two agree when
        headcount is stable; with swings, sum-of-months weights each month's events by that
        month's headcount. A month with events and zero headcount makes the period's rate NaN.
    start, end : date-like, optional
        Observation window; default from the register's metadata (see the module docstring),
        else the earliest spell start - or, when the employment table is left-truncated (an
        extract of the staff employed when recording began), the inferred start of recording,
        with a :class:`~turnover_risk.DataQualityWarning` - to the latest date in the data.
        Periods are clipped to it; ``exit_share`` needs both snapshots inside. The window used
        is in ``result.attrs["observation_window"]``.
    min_group_size : int
        Rows with fewer distinct persons are blanked and flagged ``suppressed`` (minimum 3).
    margins : bool
        Add total rows (``"All"`` in the group columns) for every combination of ``by`` columns,
        with complementary suppression so no hidden cell can be recovered by subtraction.
    confidence : float
        Level of ``ci_low``/``ci_high``.
    engine : {"pandas", "dask"}
        ``"dask"`` (or Dask DataFrames in ``data``) reads the tables on a Dask cluster; the
        numbers are identical (the Dask engine, :mod:`turnover_risk.engines`).

    Returns
    -------
    DataFrame
        One row per group and period: the group columns, ``period``, ``definition``,
        ``numerator``, ``denominator``, ``rate`` (= numerator / denominator), ``ci_low``,
        ``ci_high``, ``n_persons`` (distinct persons behind the row), ``suppressed``, and the
        definition's counts: ``headcount_start`` and ``separations`` (leavers) for
        ``exit_share`` (with ``snapshot`` and ``next_snapshot`` dates); ``hires``,
        ``separations``, ``headcount_start``, ``headcount_end`` (and ``period_start``,
        ``period_end``) for the flow definitions. Groups with nobody in a period have no row.

    Raises
    ------
    ValueError
        Unknown definition, scope, weight, by column, period or snapshot; a scope the data
        cannot support; no computable period.

    Notes
    -----
    {definitions_table}

    Examples
    --------
    >>> import pandas as pd
    >>> from turnover_risk import turnover_rate
    >>> emp = pd.DataFrame({
    ...     "employee_id": list("abcdef"), "unit_id": ["u1"] * 6,
    ...     "start_date": pd.to_datetime(["2020-01-01"] * 6),
    ...     "end_date": pd.to_datetime(["2021-06-30", None, None, None, None, None]),
    ...     "fte": [1.0] * 6})
    >>> r = turnover_rate(emp, scope="unit", end="2021-12-31")
    >>> r[["period", "numerator", "denominator", "rate"]].to_string(index=False)
    'period  numerator  denominator     rate\\n  2020        1.0          6.0 0.166667'
    """
    if uses_dask(engine, data):
        return get_engine("dask").turnover_rate(
            data,
            definition=definition,
            by=by,
            period=period,
            snapshot=snapshot,
            scope=scope,
            exclude_reasons=exclude_reasons,
            weight=weight,
            divisor=divisor,
            annual=annual,
            start=start,
            end=end,
            min_group_size=min_group_size,
            margins=margins,
            confidence=confidence,
        )
    if isinstance(data, pd.DataFrame) and "employee_id" not in data.columns:
        count_cols = {"hires", "separations", "headcount_start", "headcount_end"}
        if count_cols & set(data.columns):
            return turnover_rate_from_counts(
                data,
                definition=definition,
                by=by,
                divisor=divisor,
                min_group_size=min_group_size,
                margins=margins,
                confidence=confidence,
            )
    args = _turnover_args(
        definition=definition, by=by, period=period, snapshot=snapshot, scope=scope,
        exclude_reasons=exclude_reasons, weight=weight, divisor=divisor, annual=annual,
        start=start, end=end, min_group_size=min_group_size, margins=margins,
        confidence=confidence,
    )  # fmt: skip
    emp, _ = _employment_frame(data, who="turnover_rate")
    if len(emp) == 0:
        cols = list(_TURNOVER_COLUMNS)
        return _empty_result(args["by"], cols, "the employment table")
    return turnover_table(data, **args)


def _turnover_args(
    *,
    definition: str = "exit_share",
    by: str | Sequence[str] | None = None,
    period: str | Sequence[str] = "year",
    snapshot: str = "12-01",
    scope: str | None = None,
    exclude_reasons: Sequence[str] = (),
    weight: str = "headcount",
    divisor: str | None = None,
    annual: str = "average_headcount",
    start: object = None,
    end: object = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
) -> dict:
    """The options of :func:`turnover_rate` checked, as the kernel's arguments (private)."""
    if definition not in DEFINITIONS:
        raise ValueError(_unknown_definition(definition))
    by = _check_by(by)
    kind, wanted = _parse_period(period)
    scope = _check_scope(definition, scope)
    weight = _check_choice("weight", weight, WEIGHTS, "weight")
    divisor = _check_divisor(definition, divisor)
    annual = _check_annual(definition, annual)
    month_day = _parse_snapshot(snapshot)
    if isinstance(exclude_reasons, str):
        exclude_reasons = (exclude_reasons,)
    bad = [r for r in exclude_reasons if r not in EXIT_REASONS]
    if bad:
        raise ValueError(
            f"exclude_reasons={bad} are not exit reasons; choose from: {', '.join(EXIT_REASONS)}"
        )
    if definition == "bufdir" and len(exclude_reasons):
        raise ValueError(
            f"exclude_reasons={list(exclude_reasons)} does not apply to definition='bufdir': "
            "an excluded leaver still lowers the unit's headcount, so C = H + S - "
            "|E_end - E_start| would no longer be churn (it can go negative). Drop "
            "exclude_reasons=, or use definition='separation' or 'exit_share'."
        )
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    return dict(
        definition=definition, by=by, kind=kind, wanted=wanted, month_day=month_day,
        scope=scope, weight=weight, divisor=divisor, exclude_reasons=tuple(exclude_reasons),
        start=start, end=end, min_group_size=min_group_size, margins=margins,
        confidence=confidence, annual=annual,
    )  # fmt: skip


def _check_scope(definition: str, scope: str | None) -> str:
    if definition == "bufdir":
        if scope is None or scope == "unit":
            return "unit"
        _check_choice("scope", scope, SCOPES, "scope")
        raise ValueError(
            f"scope={scope!r} does not apply to definition='bufdir': churn is measured per unit "
            "(establishment level, as SSB), with hires and separations counted at the unit. "
            "With a wider scope a transfer changes the unit's headcount without being a hire "
            "or separation, and C = H + S - |E_end - E_start| stops measuring churn. Drop "
            "scope= (or pass scope='unit')."
        )
    return _check_choice("scope", "service" if scope is None else scope, SCOPES, "scope")


def _check_annual(definition: str, annual: str) -> str:
    annual = _check_choice("annual", annual, ANNUAL_CONVENTIONS, "annual convention")
    if annual == "sum_of_months" and definition not in ("separation", "hire"):
        raise ValueError(
            f"annual='sum_of_months' applies to definition='separation' or 'hire' (SHRM); "
            f"definition={definition!r} has its own period convention. Drop annual=."
        )
    return annual


def _check_divisor(definition: str, divisor: str | None) -> str | None:
    if definition == "bufdir":
        return _check_choice(
            "divisor", "churn" if divisor is None else divisor, BUFDIR_DIVISORS, "bufdir divisor"
        )
    if divisor is not None:
        raise ValueError(
            f"divisor={divisor!r} only applies to definition='bufdir'; "
            f"definition={definition!r} divides by its own denominator. Drop divisor=."
        )
    return None


_COUNTS_NEEDED = {
    "exit_share": ("separations", "headcount_start"),
    "separation": ("separations", "headcount_start", "headcount_end"),
    "hire": ("hires", "headcount_start", "headcount_end"),
    "bufdir": ("hires", "separations", "headcount_start", "headcount_end"),
}


def turnover_rate_from_counts(
    counts: pd.DataFrame,
    *,
    definition: str = "separation",
    by: str | Sequence[str] | None = None,
    divisor: str | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    margins: bool = False,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The same definitions from aggregate counts (e.g. a published table per unit).

    Each row of ``counts`` is one unit (and period): the definition is evaluated per row and
    then summed to the ``by`` groups - for ``bufdir`` with the confirmed formula
    ``C = H + S - |E_end - E_start|`` per row.

    Parameters
    ----------
    counts : DataFrame
        Columns ``hires``, ``separations``, ``headcount_start``, ``headcount_end`` as the
        definition needs them (``exit_share``: ``separations`` = persons at snapshot t gone at
        t+1, and ``headcount_start``), optional ``period`` and group columns, and optionally
        ``n_persons`` (persons behind the row, for suppression; default: the larger headcount).
    definition, by, divisor, min_group_size, margins, confidence
        As in :func:`turnover_rate`.

    Returns
    -------
    DataFrame
        The tidy frame of :func:`turnover_rate` (without dates).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"unit_id": ["u1", "u2"], "hires": [3, 1], "separations": [2, 4],
    ...                   "headcount_start": [10, 12], "headcount_end": [11, 9]})
    >>> r = turnover_rate_from_counts(c, definition="bufdir")
    >>> float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0])  # (3+2-1) + (1+4-3); (21 + 21) / 2
    (6.0, 21.0)
    """
    if not isinstance(counts, pd.DataFrame):
        raise TypeError(f"counts must be a DataFrame; got {type(counts).__name__}.")
    if definition not in DEFINITIONS:
        raise ValueError(_unknown_definition(definition))
    by = _check_by(by)
    divisor = _check_divisor(definition, divisor)
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    need = _COUNTS_NEEDED[definition]
    missing = [c for c in need if c not in counts.columns]
    if missing:
        raise ValueError(
            f"definition={definition!r} from counts needs columns {list(need)}; missing "
            f"{missing}. Columns given: {list(counts.columns)}."
        )
    unknown = [c for c in by if c not in counts.columns]
    if unknown:
        raise ValueError(
            f"by={unknown} names columns that are not in counts; available: {list(counts.columns)}."
        )
    if len(counts) == 0:
        return _empty_result(by, list(_TURNOVER_COLUMNS), "the counts table")
    return counts_table(
        counts,
        definition=definition,
        by=by,
        divisor=divisor,
        min_group_size=min_group_size,
        margins=margins,
        confidence=confidence,
    )


turnover_rate.__doc__ = (turnover_rate.__doc__ or "").replace(
    "{definitions_table}", DEFINITIONS.to_markdown().replace("\n", "\n    ")
)
