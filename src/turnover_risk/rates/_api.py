"""The public rate functions, their argument checks and the definition registry (the
conventions are documented in the package docstring, :mod:`turnover_risk.rates`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from turnover_risk._engine import get_engine, uses_dask
from turnover_risk.data._schema import EXIT_REASONS, Register
from turnover_risk.privacy._suppression import (
    DEFAULT_MIN_GROUP_SIZE,
    check_min_group_size,
)
from turnover_risk.rates._common import (
    _check_by,
    _check_choice,
    _check_confidence,
    _empty_result,
    _parse_period,
    _parse_snapshot,
)
from turnover_risk.rates._sick_leave_table import _SICK_COLUMNS, sick_leave_table
from turnover_risk.rates._spells import _employment_frame
from turnover_risk.rates._turnover_table import _TURNOVER_COLUMNS, counts_table, turnover_table
from turnover_risk.rates._window import TRUNCATION_EXPECTED_EVENTS

__all__ = [
    "DEFINITIONS",
    "Definition",
    "DefinitionRegistry",
    "LONG_SPELL_DAYS",
    "TRUNCATION_EXPECTED_EVENTS",
    "sick_leave_rate",
    "turnover_rate",
    "turnover_rate_from_counts",
]

LONG_SPELL_DAYS: int = 16
"""Norway's employer period (arbeidsgiverperioden): spells longer than this are paid by NAV."""

SCOPES: tuple[str, ...] = ("unit", "service", "municipality", "any")

WEIGHTS: tuple[str, ...] = ("headcount", "fte")

BUFDIR_DIVISORS: tuple[str, ...] = ("churn", "replacement")

ANNUAL_CONVENTIONS: tuple[str, ...] = ("average_headcount", "sum_of_months")

SICK_CERTIFICATIONS: tuple[str, ...] = ("all", "self", "doctor", "split")


@dataclass(frozen=True)
class Definition:
    """One named rate definition.

    Attributes
    ----------
    key : str
        Name passed as ``definition=``.
    title : str
        Short human name.
    kind : {"share", "flow"}
        ``share``: a proportion of a stock (in [0, 1]); ``flow``: events over average headcount.
    formula, numerator, denominator, snapshot : str
        What is computed, in words.
    interval : str
        How ``ci_low``/``ci_high`` are computed.
    source : str
        Where the definition comes from and how sure we are of it.
    counts : tuple of str
        The definition's own count columns in the output.
    parameters : mapping
        Extra parameters the definition takes (name -> description).
    """

    key: str
    title: str
    kind: Literal["share", "flow"]
    formula: str
    numerator: str
    denominator: str
    snapshot: str
    interval: str
    source: str
    counts: tuple[str, ...] = ()
    parameters: Mapping[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [f"{self.key}: {self.title}", f"  formula:     {self.formula}"]
        for name in ("numerator", "denominator", "snapshot", "interval", "source"):
            lines.append(f"  {name + ':':<12} {getattr(self, name)}")
        for p, d in self.parameters.items():
            lines.append(f"  parameter {p}: {d}")
        return "\n".join(lines)


class DefinitionRegistry(Mapping[str, Definition]):
    """Read-only mapping ``key -> Definition`` that prints as a table.

    Examples
    --------
    >>> from turnover_risk import DEFINITIONS
    >>> sorted(DEFINITIONS)
    ['bufdir', 'exit_share', 'hire', 'separation']
    >>> DEFINITIONS["bufdir"].parameters["divisor"][:40]
    "'churn' (default): C / average headcount"
    """

    def __init__(self, definitions: Sequence[Definition]) -> None:
        self._defs = {d.key: d for d in definitions}

    def __getitem__(self, key: str) -> Definition:
        try:
            return self._defs[key]
        except KeyError:
            raise KeyError(_unknown_definition(key)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._defs)

    def __len__(self) -> int:
        return len(self._defs)

    def to_frame(self) -> pd.DataFrame:
        """One row per definition: key, title, kind, formula, numerator, denominator,
        snapshot, interval, source."""
        cols = ["key", "title", "kind", "formula", "numerator", "denominator", "snapshot"]
        cols += ["interval", "source"]
        return pd.DataFrame([{c: getattr(d, c) for c in cols} for d in self._defs.values()])

    def to_markdown(self) -> str:
        """The registry as a Markdown table (used in the docs and docstrings)."""
        cols = ["key", "formula", "snapshot", "interval", "source"]
        head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
        body = "".join(
            "| " + " | ".join(getattr(d, c).replace("|", "/") for c in cols) + " |\n"
            for d in self._defs.values()
        )
        return head + body

    def __repr__(self) -> str:
        width = max(len(k) for k in self._defs)
        lines = [f"DEFINITIONS ({len(self)} turnover definitions; DEFINITIONS[key] for details)"]
        for d in self._defs.values():
            lines.append(f"  {d.key:<{width}}  {d.kind:<5}  {d.formula}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _unknown_definition(key: object) -> str:
    names = ", ".join(sorted(DEFINITIONS._defs)) if "DEFINITIONS" in globals() else ""
    return f"definition={key!r} is not a known turnover definition; choose one of: {names}"


_ANNUAL_DOC = (
    "'average_headcount' (default): events in the year (quarter) / average of its start and "
    "end headcount; 'sum_of_months': SHRM's annual rate, the sum of the monthly rates"
)

DEFINITIONS = DefinitionRegistry(
    [
        Definition(
            key="exit_share",
            title="Exit share between two snapshots (KS/PAI style)",
            kind="share",
            formula="persons in scope at snapshot t and not in scope at t+1 / persons in scope at t",
            numerator="persons present in a unit at snapshot t who are in no unit of the same "
            "scope at snapshot t+1 (not counted when the job that ends their presence in scope "
            "has an exit_reason in exclude_reasons)",
            denominator="persons present in the unit at snapshot t (a person with two jobs in "
            "the unit counts once; weight='fte': their total fte there, capped at 1)",
            snapshot="snapshot='12-01' (1 December, KS) of year t and t+1; quarters and months "
            "use the first day of the period and of the next one; label = period of t",
            interval="Wilson score interval for a binomial share (n = persons at t)",
            source="KS (PAI register), 1 December, scope = municipal sector: confirmed; KS also "
            "drops people on pensioner terms (use exclude_reasons=('retirement',)).",
            counts=("headcount_start", "separations"),
            parameters={
                "scope": "unit | service | municipality | any (default service)",
                "exclude_reasons": "exit reasons not counted as exits (KS: pensioner terms)",
            },
        ),
        Definition(
            key="bufdir",
            title="Gjennomtrekk (churning), SSB/Bufdir",
            kind="flow",
            formula="C = H + S - |E_end - E_start| per unit; rate = C / divisor",
            numerator="C summed over units: hires plus separations minus the net headcount "
            "change, all counted at the unit (scope='unit' always: a move to another unit is "
            "a separation there and a hire in the new unit); no exclude_reasons",
            denominator="divisor='churn' (default): average headcount (E_start + E_end) / 2; "
            "divisor='replacement': 2 x average headcount, i.e. min(H, S) / average headcount",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on min(H, S), scaled to the rate",
            source="numerator: SSB report 2014/18, Bufdir 2022 (confirmed); denominator: "
            "unconfirmed - labour-economics convention (Burgess, Lane and Stevens 2000)",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={
                "divisor": "'churn' (default): C / average headcount; 'replacement': "
                "C / (2 x average headcount) = min(H, S) / average headcount"
            },
        ),
        Definition(
            key="separation",
            title="Separation rate (SHRM / BLS JOLTS)",
            kind="flow",
            formula="separations in period / average headcount",
            numerator="spells ending in the period whose person is not in scope the next day",
            denominator="average headcount (E_start + E_end) / 2",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on the separation count",
            source="SHRM and US BLS JOLTS convention: confirmed",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={"annual": _ANNUAL_DOC},
        ),
        Definition(
            key="hire",
            title="Hire rate (SHRM / BLS JOLTS)",
            kind="flow",
            formula="hires in period / average headcount",
            numerator="spells starting in the period whose person was not in scope the day before",
            denominator="average headcount (E_start + E_end) / 2",
            snapshot="flows during the period; headcount at its start and end",
            interval="exact Poisson (Garwood) interval on the hire count",
            source="SHRM and US BLS JOLTS convention: confirmed",
            counts=("hires", "separations", "headcount_start", "headcount_end"),
            parameters={"annual": _ANNUAL_DOC},
        ),
    ]
)


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
        numbers are identical (see :func:`turnover_risk.distributed.turnover_rate`).

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
    emp, _ = _employment_frame(data, who="turnover_rate")
    if len(emp) == 0:
        cols = list(_TURNOVER_COLUMNS)
        return _empty_result(by, cols, "the employment table")
    return turnover_table(
        data,
        definition=definition,
        by=by,
        kind=kind,
        wanted=wanted,
        month_day=month_day,
        scope=scope,
        weight=weight,
        divisor=divisor,
        exclude_reasons=tuple(exclude_reasons),
        start=start,
        end=end,
        min_group_size=min_group_size,
        margins=margins,
        confidence=confidence,
        annual=annual,
    )


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
    spells into days). Overlapping absence spells of one person are not merged: validate first.

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
        ``"dask"`` (or Dask tables in ``data``): see
        :func:`turnover_risk.distributed.sick_leave_rate`; identical numbers.

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
    >>> ab = pd.DataFrame({"employee_id": ["e"], "start_date": pd.to_datetime(["2021-03-01"]),
    ...     "end_date": pd.to_datetime(["2021-03-05"]), "certification": ["doctor"],
    ...     "grade": [0.5]})
    >>> r = sick_leave_rate(Register(employment=emp, absences=ab), end="2021-12-31")
    >>> float(r["numerator"].iloc[0]), float(r["denominator"].iloc[0])  # 5 x .5 x .5; 254 x 4.5
    (1.25, 1143.0)
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
    by = _check_by(by)
    kind, wanted = _parse_period(period)
    certification = _check_choice(
        "certification", certification, SICK_CERTIFICATIONS, "certification"
    )
    min_group_size = check_min_group_size(min_group_size)
    confidence = _check_confidence(confidence)
    if isinstance(long_spell_days, bool) or not isinstance(long_spell_days, int | np.integer):
        raise TypeError(f"long_spell_days must be an integer; got {long_spell_days!r}.")
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
    return sick_leave_table(
        data,
        by=by,
        kind=kind,
        wanted=wanted,
        certification=certification,
        start=start,
        end=end,
        long_spell_days=long_spell_days,
        min_group_size=min_group_size,
        margins=margins,
        confidence=confidence,
    )


turnover_rate.__doc__ = (turnover_rate.__doc__ or "").replace(
    "{definitions_table}", DEFINITIONS.to_markdown().replace("\n", "\n    ")
)
