"""Survey instruments (burnout and work-environment questionnaires) and their scoring.

An :class:`Instrument` says everything needed to score raw item answers: which items form which
subscale, which items are reverse-coded, the response range and answer labels, how answer codes
become item values, whether a subscale is a mean or a sum, how many items must be answered, and
the cut-offs (with their source and status). Three instruments are built in (see
``docs/instruments.md``): the Copenhagen Burnout Inventory (``"CBI"``), ProQOL 5 (``"ProQOL"``)
and the Burnout Assessment Tool BAT-12 (``"BAT12"``); ``"MBI"`` is a pass-through for
precomputed Maslach scores (the MBI is proprietary). Item texts are never shipped.

:func:`score_survey` turns wide responses (``item_01`` ... ``item_NN``) into subscale scores;
:func:`summarise_scores` aggregates scores per team under the minimum-group-size rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from turnover_risk.data import Register
from turnover_risk.privacy import DEFAULT_MIN_GROUP_SIZE, suppress_small_groups
from turnover_risk.surveys._answers import (  # noqa: F401 (re-exported)
    _MAX_SHOWN,
    _ON_INVALID,
    _ON_MISSING,
    PROBLEM_COLUMNS,
    SurveyInputError,
    _item_columns,
    _problem_frame,
    _py,
    _raise_or_warn,
    _score_items,
    _score_precomputed,
    _select_rows,
)
from turnover_risk.surveys._builtin import _ALIASES, BAT12, CBI, INSTRUMENTS, MBI, PROQOL  # noqa: F401 (re-exported)
from turnover_risk.surveys._instrument import CUTOFF_STATUSES, Cutoffs, Instrument, _key

__all__ = [
    "CUTOFF_STATUSES",
    "INSTRUMENTS",
    "Cutoffs",
    "Instrument",
    "SurveyInputError",
    "get_instrument",
    "score_survey",
    "summarise_scores",
    "survey_problems",
]


def get_instrument(name: str | Instrument) -> Instrument:
    """Look up a built-in instrument by name (case-insensitive, with aliases).

    Parameters
    ----------
    name : str or Instrument
        ``"CBI"``, ``"ProQOL"`` (also ``"ProQOL5"``, ``"ProQOL-5"``), ``"BAT12"`` (also
        ``"BAT-12"``, ``"BAT"``) or ``"MBI"``; an :class:`Instrument` is returned unchanged.

    Raises
    ------
    ValueError
        For an unknown name.
    TypeError
        For anything but a string or an Instrument.

    Examples
    --------
    >>> get_instrument("bat-12").name
    'BAT12'
    >>> get_instrument("CBI").subscales["work"]
    (7, 8, 9, 10, 11, 12, 13)
    """
    if isinstance(name, Instrument):
        return name
    if not isinstance(name, str):
        raise TypeError(
            f"instrument must be a name (str) or an Instrument; got {type(name).__name__}."
        )
    canonical = _ALIASES.get(_key(name))
    if canonical is None:
        raise ValueError(
            f"instrument={name!r} is not a known instrument; choose one of: "
            f"{', '.join(INSTRUMENTS)} (aliases: ProQOL5, BAT-12, BAT), or pass your own "
            "Instrument(...)."
        )
    return INSTRUMENTS[canonical]


def score_survey(
    responses: pd.DataFrame | Register,
    instrument: str | Instrument = "CBI",
    *,
    item_prefix: str = "item_",
    on_missing: Literal["rule", "nan", "raise"] = "rule",
    on_invalid: Literal["raise", "nan"] = "raise",
    instrument_col: str | None = "instrument",
    cutoffs: Mapping[str, Cutoffs | Sequence[float] | None] | None = None,
    min_items: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Score wide survey responses: one row per response with every subscale score.

    Parameters
    ----------
    responses : DataFrame or Register
        One row per respondent and date, answers in ``item_01`` ... ``item_NN``; answers are
        integer codes (``1`` ... ``5`` for the built-ins; numbers written as text such as
        ``"3"`` are accepted) or the instrument's answer labels (case- and
        whitespace-insensitive, e.g. ``"Alltid"``, ``"always"``). Empty cells and empty strings
        are missing. A Register is replaced by its ``surveys`` table.
    instrument : str or Instrument
        Built-in name (see :func:`get_instrument`) or your own :class:`Instrument`.
    item_prefix : str
        Prefix of the item columns (``item_01`` and ``item_1`` are both read).
    on_missing : {"rule", "nan", "raise"}
        ``rule``: a subscale is NaN when fewer than the instrument's ``min_items`` are answered
        (otherwise the mean, or the prorated sum, of the answered items). ``nan``: NaN as soon
        as one item of the subscale is missing. ``raise``: a ValueError naming the rows and
        subscales with missing items.
    on_invalid : {"raise", "nan"}
        What to do with an answer outside the scale, a non-integer code, an unknown label, an
        answer in an item the instrument does not have, or a missing item column.
        ``raise`` (default): :class:`SurveyInputError` naming row (index label), column and
        value, with the full report in ``.problems``. ``nan``: the answer counts as missing
        (a missing item column as all missing), a :class:`DataQualityWarning` says so, and
        :func:`survey_problems` returns the report (kept in ``result.attrs["problems"]``).
    instrument_col : str or None
        If ``responses`` has this column, only rows whose value names ``instrument``
        (case-insensitive, aliases allowed) are scored; the others are left out, so a
        ``surveys`` table holding several instruments can be scored one instrument at a time.
        ``None`` scores every row.
    cutoffs, min_items : mapping, optional
        Overrides of the instrument's cut-offs and minimum answered items, per subscale
        (see :meth:`Instrument.with_rules`).

    Returns
    -------
    DataFrame
        The non-item columns of the scored rows (same index), then per subscale ``s``:
        ``s`` (float score), ``s_n_items`` (int, items answered; NA for precomputed scores) and
        ``s_category`` (str band from the cut-offs; NaN where the score is NaN or the subscale
        has no cut-offs). ``attrs`` holds ``instrument``, ``subscales``, ``categories`` and
        ``problems``.

    Raises
    ------
    SurveyInputError
        Invalid answers or missing item columns with ``on_invalid="raise"``.
    ValueError
        Unknown instrument, option value, or (``on_missing="raise"``) missing answers.
    TypeError
        ``responses`` is not a DataFrame or Register.

    Examples
    --------
    >>> import pandas as pd
    >>> answers = {f"item_{i:02d}": [5, 3] for i in range(1, 13)}
    >>> df = pd.DataFrame({"employee_id": ["a", "b"], **answers})
    >>> out = score_survey(df, "BAT12")
    >>> out[["employee_id", "total", "total_n_items", "total_category"]]
      employee_id  total  total_n_items total_category
    0           a    5.0             12         severe
    1           b    3.0             12         severe
    >>> cbi = pd.DataFrame({f"item_{i:02d}": ["Alltid"] for i in range(1, 20)})
    >>> score_survey(cbi, "CBI")[["personal", "work", "client"]].round(2)
       personal   work  client
    0     100.0  85.71   100.0
    """
    if isinstance(responses, Register):
        if responses.surveys is None:
            raise ValueError(
                "the Register has no surveys table; add one (employee_id, date, instrument, "
                "item_01 ...) or pass a DataFrame of responses."
            )
        responses = responses.surveys
    if not isinstance(responses, pd.DataFrame):
        raise TypeError(
            f"responses must be a pandas DataFrame (or a Register); got {type(responses).__name__}."
        )
    if on_missing not in _ON_MISSING:
        raise ValueError(
            f"on_missing={on_missing!r} is not known; choose one of: {', '.join(_ON_MISSING)}."
        )
    if on_invalid not in _ON_INVALID:
        raise ValueError(
            f"on_invalid={on_invalid!r} is not known; choose one of: {', '.join(_ON_INVALID)}."
        )
    inst = get_instrument(instrument)
    if cutoffs or min_items:
        inst = inst.with_rules(cutoffs=cutoffs, min_items=min_items)

    rows = _select_rows(responses, inst, instrument_col)
    items, others = _item_columns(rows.columns, item_prefix)
    if inst.is_precomputed:
        others = [c for c in others if c not in inst.subscales]
    out_names = [f"{s}{suffix}" for s in inst.subscales for suffix in ("", "_n_items", "_category")]
    clash = [c for c in out_names if c in others]
    if clash:
        raise ValueError(
            f"responses already has column(s) {clash}, which score_survey writes; rename or "
            "drop them first."
        )

    records: list[dict[str, object]] = []
    if inst.is_precomputed:
        scores = _score_precomputed(rows, inst, records)
        counts = {s: None for s in inst.subscales}
    else:
        scores, counts = _score_items(rows, inst, items, item_prefix, records)
    _raise_or_warn(records, inst, on_invalid)

    if not inst.is_precomputed:
        incomplete = []
        for sub, sub_items in inst.subscales.items():
            k = len(sub_items)
            need = inst.min_items[sub] if on_missing == "rule" else k
            short = counts[sub] < need
            scores[sub][short] = np.nan
            if on_missing == "raise" and short.any():
                labels = [_py(x) for x in rows.index[short][:_MAX_SHOWN]]
                incomplete.append(f"{sub} in {int(short.sum())} row(s) (e.g. rows {labels})")
        if incomplete:
            raise ValueError(
                f"missing {inst.name} answers (on_missing='raise'): {'; '.join(incomplete)}. "
                "Use on_missing='rule' to apply the instrument's missing-item rule "
                f"({inst.missing_rule or 'all items required'})."
            )

    new: dict[str, pd.Series] = {}
    for sub in inst.subscales:
        score = pd.Series(scores[sub], index=rows.index, dtype="float64")
        new[sub] = score
        if counts[sub] is None:
            new[f"{sub}_n_items"] = pd.Series(pd.NA, index=rows.index, dtype="Int64")
        else:
            new[f"{sub}_n_items"] = pd.Series(counts[sub], index=rows.index, dtype="int64")
        cut = inst.cutoffs.get(sub)
        if cut is None:
            new[f"{sub}_category"] = pd.Series(np.nan, index=rows.index, dtype="str")
        else:
            new[f"{sub}_category"] = cut.categorise(score)
    result = pd.concat([rows[others], pd.DataFrame(new, index=rows.index)], axis=1)
    result.attrs = {
        "instrument": inst.name,
        "subscales": list(inst.subscales),
        "categories": {s: list(c.labels) for s, c in inst.cutoffs.items()},
        "problems": records,
    }
    return result


def survey_problems(scored: pd.DataFrame) -> pd.DataFrame:
    """The problem report of a :func:`score_survey` result (empty when there were none).

    One row per invalid answer or missing column: ``row`` (index label of the response, None
    for a whole column), ``column``, ``value``, ``rule`` (``out_of_range``, ``not_integer``,
    ``unknown_label``, ``wrong_type``, ``unexpected_answer``, ``missing_column``,
    ``not_a_number``, ``out_of_score_range``) and ``message``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({f"item_{i:02d}": [3] for i in range(1, 13)}).assign(item_05=7)
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     out = score_survey(df, "BAT12", on_invalid="nan")
    >>> survey_problems(out)[["row", "column", "value", "rule"]]
      row   column value          rule
    0   0  item_05     7  out_of_range
    """
    if "problems" not in scored.attrs:
        raise ValueError(
            "this frame carries no problem report: pass the DataFrame returned by "
            "score_survey (some pandas operations drop .attrs; take the report first)."
        )
    return _problem_frame(scored.attrs["problems"])


def summarise_scores(
    scored: pd.DataFrame,
    by: str | Sequence[str] = "unit_id",
    *,
    instrument: str | Instrument | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    person_col: str = "employee_id",
    date_col: str = "date",
    per_person: Literal["latest", "all"] = "latest",
) -> pd.DataFrame:
    """Mean scores and category shares per group, with small groups suppressed.

    Parameters
    ----------
    scored : DataFrame
        Output of :func:`score_survey`, with the grouping columns added (e.g. merge ``unit_id``
        from the employment table as of the response date).
    by : str or sequence of str
        Grouping columns.
    instrument : str or Instrument, optional
        Default: the instrument recorded in ``scored.attrs`` by :func:`score_survey`.
    min_group_size : int
        Minimum distinct persons behind a shown number (default 5, never below 3); applied to
        the whole row (``n_persons``) and to each subscale (``s_n_persons``) through
        :func:`turnover_risk.privacy.suppress_small_groups`.
    person_col, date_col : str
        Person identifier and response date.
    per_person : {"latest", "all"}
        ``latest``: each person counts once per group, with their latest response (by
        ``date_col``, or the last row without one). ``all``: every response counts (persons
        with several responses weigh more; ``n_persons`` still counts persons).

    Returns
    -------
    DataFrame
        One row per group: the ``by`` columns, ``n_responses``, ``n_persons``, then per
        subscale ``s``: ``s_mean``, ``s_n_persons`` (persons with a score), ``s_share_<band>``
        per cut-off band; then ``suppressed`` (the group has fewer than ``min_group_size``
        persons: every value but ``n_persons`` is blanked) and ``s_suppressed`` per subscale
        (fewer scored persons than ``min_group_size``: ``s_mean`` and shares blanked). Count
        columns other than ``n_persons`` are nullable ``Int64``. No totals over groups are
        returned, so no complementary suppression is needed.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"employee_id": list("abcdefg"), "unit_id": ["u1"] * 5 + ["u2"] * 2})
    >>> df = df.assign(**{f"item_{i:02d}": [1, 2, 3, 4, 5, 5, 5] for i in range(1, 13)})
    >>> out = summarise_scores(score_survey(df, "BAT12"), by="unit_id")
    >>> out[["unit_id", "n_persons", "total_mean", "total_share_severe", "suppressed"]]
      unit_id  n_persons  total_mean  total_share_severe  suppressed
    0      u1          5         3.0                 0.6       False
    1      u2          2         NaN                 NaN        True
    """
    if not isinstance(scored, pd.DataFrame):
        raise TypeError(
            f"scored must be a DataFrame from score_survey; got {type(scored).__name__}."
        )
    if per_person not in ("latest", "all"):
        raise ValueError(f"per_person={per_person!r} is not known; choose one of: latest, all.")
    if instrument is None:
        name = scored.attrs.get("instrument")
        if name is None:
            raise ValueError(
                "cannot tell which instrument 'scored' holds (its attrs were lost); pass "
                "instrument=..."
            )
        subscales = list(scored.attrs.get("subscales") or get_instrument(name).subscales)
        categories = dict(scored.attrs.get("categories") or {})
    else:
        inst = get_instrument(instrument)
        subscales = list(inst.subscales)
        categories = {s: list(c.labels) for s, c in inst.cutoffs.items()}
    by_cols = [by] if isinstance(by, str) else list(by)
    needed = [*by_cols, person_col, *subscales]
    missing = [c for c in needed if c not in scored.columns]
    if missing:
        raise ValueError(
            f"scored has no column(s) {missing}; by= columns must be merged in first (e.g. "
            "unit_id from the employment table), and the subscale scores come from score_survey."
        )
    df = scored
    if per_person == "latest":
        if date_col in df.columns:
            df = df.sort_values(date_col, kind="stable")
        df = df.groupby([*by_cols, person_col], dropna=False, sort=False).tail(1)

    grouped = df.groupby(by_cols, dropna=False, sort=True, observed=True)
    parts: dict[str, pd.Series] = {
        "n_responses": grouped.size(),
        "n_persons": grouped[person_col].nunique(),
    }
    for sub in subscales:
        has = df[sub].notna()
        parts[f"{sub}_mean"] = grouped[sub].mean()
        parts[f"{sub}_n_persons"] = (
            df[person_col]
            .where(has)
            .groupby([df[c] for c in by_cols], dropna=False, sort=True, observed=True)
            .nunique()
        )
        cat_col = f"{sub}_category"
        if sub in categories and cat_col in df.columns:
            n_scored = has.groupby([df[c] for c in by_cols], dropna=False, observed=True).sum()
            for label in categories[sub]:
                hit = (df[cat_col] == label).fillna(False)
                count = hit.groupby([df[c] for c in by_cols], dropna=False, observed=True).sum()
                parts[f"{sub}_share_{label}"] = (count / n_scored.where(n_scored > 0)).astype(float)
    table = pd.DataFrame(parts).reset_index()
    table["n_responses"] = table["n_responses"].astype("int64")
    table["n_persons"] = table["n_persons"].astype("int64")
    for sub in subscales:
        table[f"{sub}_n_persons"] = table[f"{sub}_n_persons"].fillna(0).astype("int64")
    table = suppress_small_groups(
        table,
        count_col="n_persons",
        value_cols=[c for c in table.columns if c not in (*by_cols, "n_persons")],
        min_group_size=min_group_size,
    )
    for sub in subscales:
        values = [c for c in table.columns if c == f"{sub}_mean" or c.startswith(f"{sub}_share_")]
        table = suppress_small_groups(
            table,
            count_col=f"{sub}_n_persons",
            value_cols=values,
            min_group_size=min_group_size,
            flag_col=f"{sub}_suppressed",
        )
        table[f"{sub}_suppressed"] = table[f"{sub}_suppressed"] | table["suppressed"]
    counts = ["n_responses", *(f"{sub}_n_persons" for sub in subscales)]
    return table.astype(dict.fromkeys(counts, "Int64"))
