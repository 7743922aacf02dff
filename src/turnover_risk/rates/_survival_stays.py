"""Stays in scope as survival data: tenure at entry and exit, exit cause, group (private).

A *stay* is a maximal run of one person's spells in one scope entity (unit, service,
municipality or the whole register) with no day between them out of scope: the next spell
starts at most one day after the latest end so far. Its exit reason is the reason of the spell
that ends last. A person who returns after a gap starts a new stay with tenure 0 (the rates'
*hire*). With the observation window ``first..last`` (day numbers):

* a stay that ended before ``first`` or started after ``last`` is not observed (reported);
* ``entry = max(first - start, 0)`` days: a stay already running when observation began
  enters the risk set at its tenure then (delayed entry, left truncation);
* ``time = end - start + 1`` days (the days employed) with an exit when ``end <= last``,
  else ``last - start + 1`` days, censored.

Groups are read from the stay's first spell (its unit's attributes, its
``qualified_year``) and its start (the hire year).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from turnover_risk.rates._grouping import _argsort_int, _entity_codes, _group_ids
from turnover_risk.rates._spells import _Spells

_SPAN = np.int64(2**32)  # > any day number (open ends are 2**30)
_OFF = np.int64(2**31)


@dataclass
class Stays:
    """One row per observed stay (arrays) and what was left out."""

    person: np.ndarray
    first_spell: np.ndarray  # row in the employment frame of the stay's first spell
    start: np.ndarray  # day numbers
    end: np.ndarray  # _OPEN when open
    entry: np.ndarray  # days of tenure when observation of the stay began
    time: np.ndarray  # days of tenure at exit or censoring
    event: np.ndarray  # bool: exit observed inside the window
    reason: np.ndarray  # code of the exit reason in `reasons` (-1: none or missing)
    reasons: tuple[str, ...]  # the distinct exit reasons
    n_stays: int  # all stays, observed or not
    n_before: int  # ended before the window
    n_after: int  # started after the window


def build_stays(sp: _Spells, scope: str) -> Stays:
    """Merge the spells of each (person, scope entity) into stays; keep the observed ones."""
    ent = _entity_codes(sp, scope)
    order = _order(sp.person, ent, sp.start)
    c, k, s, e = sp.person[order], ent[order], sp.start[order], sp.end[order]
    n = len(order)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return Stays(empty, empty, empty, empty, empty, empty, empty.astype(bool), empty, 0, 0, 0)
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (c[1:] != c[:-1]) | (k[1:] != k[:-1])
    gid = np.cumsum(new_group) - 1
    shift = gid.astype(np.int64) * _SPAN
    runmax = np.maximum.accumulate(e + _OFF + shift) - shift - _OFF
    prev = np.empty(n, dtype=np.int64)
    prev[0] = -(2**40)
    prev[1:] = runmax[:-1]
    new_stay = new_group | (s > prev + 1)
    firsts = np.flatnonzero(new_stay)
    stay = np.cumsum(new_stay) - 1
    st_start = s[firsts]
    st_end = np.maximum.reduceat(e, firsts)
    # the reason of the spell that ends last (the last such spell in start order)
    pos = np.where(e == st_end[stay], np.arange(n), -1)
    last_spell = order[np.maximum.reduceat(pos, firsts)]
    if "exit_reason" in sp.frame.columns:
        codes, uniques = pd.factorize(sp.frame["exit_reason"], use_na_sentinel=True)
        st_reason = np.asarray(codes, dtype=np.int64)[last_spell]
        reasons = tuple(str(u) for u in uniques)
    else:
        st_reason, reasons = np.full(len(firsts), -1, dtype=np.int64), ()
    first, last = sp.first, sp.last
    before = st_end < first
    after = st_start > last
    keep = ~(before | after)
    st_start, st_end = st_start[keep], st_end[keep]
    event = st_end <= last
    return Stays(
        person=c[firsts][keep],
        first_spell=order[firsts][keep],
        start=st_start,
        end=st_end,
        entry=np.maximum(first - st_start, 0),
        time=np.minimum(st_end, last) - st_start + 1,
        event=event,
        reason=np.where(event, st_reason[keep], -1),
        reasons=reasons,
        n_stays=len(firsts),
        n_before=int(before.sum()),
        n_after=int(after.sum()),
    )


def _order(person: np.ndarray, ent: np.ndarray, start: np.ndarray) -> np.ndarray:
    """``np.lexsort((start, ent, person))``, by one sort of a packed key when it fits."""
    n_ent = int(ent.max()) + 1 if len(ent) else 1
    lo, span = int(start.min()), int(start.max() - start.min()) + 1
    bits = (len(person) - 1).bit_length() + 1
    top = (int(person.max()) + 1) * n_ent * span
    if top.bit_length() + bits < 62:
        key = (person.astype(np.int64) * n_ent + ent) * span + (start - lo)
        return _argsort_int(key)
    return np.lexsort((start, ent, person))


def reason_names(st: Stays) -> np.ndarray:
    """The exit reason of each stay as text (None: no exit or no reason)."""
    names = np.array([*st.reasons, None], dtype=object)
    return names[np.where(st.reason >= 0, st.reason, len(st.reasons))]


COHORTS: tuple[str, ...] = ("hire_year", "newly_qualified")
"""Hire-cohort columns ``cohort=`` can ask for."""

_COHORT_ALIASES = {
    "year": "hire_year",
    "hire_year": "hire_year",
    "newly_qualified": "newly_qualified",
}


def check_cohort(cohort: object) -> list[str]:
    """``cohort`` as a list of cohort column names."""
    if cohort is None:
        return []
    items = [cohort] if isinstance(cohort, str) else cohort
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise TypeError(
            f"cohort must be 'year', 'newly_qualified' or a list of both; got {cohort!r}."
        )
    bad = [i for i in items if i not in _COHORT_ALIASES]
    if bad:
        raise ValueError(
            f"cohort={bad} is not a hire cohort; use 'year' (hire year), 'newly_qualified' "
            "(qualified fewer than `newly_qualified_years` calendar years before the hire) or "
            "both."
        )
    out = list(dict.fromkeys(_COHORT_ALIASES[i] for i in items))
    return out


def group_codes(
    sp: _Spells, st: Stays, by: list[str], cohort: list[str], newly_qualified_years: float
) -> tuple[np.ndarray, pd.DataFrame]:
    """Group id of every stay and the group table (one row per group, columns ``by + cohort``)."""
    rows = st.first_spell
    key = np.zeros(len(rows), dtype=np.int64)
    values: dict[str, pd.Series] = {}
    for col in by:
        k, n = sp.codes(col, na_code=True)
        key = key * (n + 1) + k[rows]
        values[col] = sp.frame[col].iloc[rows].reset_index(drop=True)
    hire_year = pd.DatetimeIndex(st.start.astype("datetime64[D]")).year.to_numpy(np.int64)
    if "hire_year" in cohort:
        lo = int(hire_year.min()) if len(hire_year) else 0
        key = key * (int(hire_year.max() - lo) + 2 if len(hire_year) else 1) + (hire_year - lo)
        values["hire_year"] = pd.Series(hire_year, dtype="int64")
    if "newly_qualified" in cohort:
        if "qualified_year" not in sp.frame.columns:
            raise ValueError(
                "cohort='newly_qualified' needs employment.qualified_year (the year the person "
                "completed the qualifying education), which the employment table lacks. Add "
                "the column or use cohort='year'."
            )
        q = pd.to_numeric(sp.frame["qualified_year"], errors="coerce").to_numpy(float)[rows]
        nq = pd.array(hire_year - q < newly_qualified_years, dtype="boolean")
        nq[np.isnan(q)] = pd.NA
        code = np.where(np.isnan(q), 2, (hire_year - q < newly_qualified_years).astype(int))
        key = key * 3 + code
        values["newly_qualified"] = pd.Series(nq, dtype="boolean")
    group, _ = _group_ids(key)
    n_groups = int(group.max()) + 1 if len(group) else 0
    first = np.full(n_groups, len(group), dtype=np.int64)
    np.minimum.at(first, group, np.arange(len(group), dtype=np.int64))
    table = pd.DataFrame({c: v.iloc[first].reset_index(drop=True) for c, v in values.items()})
    if not values:
        table = pd.DataFrame(index=range(n_groups))
    return group, table
