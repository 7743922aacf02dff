"""Vectorised time primitives of the panel builder (private).

Dates are handled as integer day numbers (days since 1970-01-01, ``int64``) and months as
integer month numbers (months since January 1970). Nothing here loops over employees: every
look-up is a ``searchsorted`` on one sorted composite key ``employee_code * SPAN + time``, so
"sum of the values of this person's records in ``[lo, hi)``" is two binary searches and a
difference of cumulative sums, for millions of rows at once.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OPEN_DAY: int = 1_000_000
"""Day number standing for an open (unknown, future) end date (~ year 4700)."""

_OFF: int = 1 << 21  # shifts day numbers (>= -2**21) to non-negative values inside a key
SPAN: int = 1 << 22  # width of one employee's block of a composite key

DAYS_PER_MONTH: float = 365.25 / 12
"""Average month length used for ages in months measured in days (30.4375)."""


def to_days(values: object) -> np.ndarray:
    """Dates (Series, Index or array-like) -> int64 day numbers; NaT -> ``OPEN_DAY``."""
    ser = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))
    if not pd.api.types.is_datetime64_any_dtype(ser):
        ser = pd.to_datetime(ser)
    arr = ser.to_numpy(dtype="datetime64[D]")  # any unit; via ns would wrap years > 2262
    out = arr.astype(np.int64)
    out[np.isnat(arr)] = OPEN_DAY
    return out


def day_of(value: object) -> int:
    """One date-like -> day number."""
    return int(np.datetime64(pd.Timestamp(value).date(), "D").astype(np.int64))


def day_to_timestamp(day: int) -> pd.Timestamp:
    """Day number -> Timestamp (midnight)."""
    return pd.Timestamp(np.datetime64(int(day), "D"))


def month_of(days: np.ndarray) -> np.ndarray:
    """Day numbers -> month numbers (months since January 1970)."""
    d = np.asarray(days, dtype=np.int64)
    return d.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)


def month_start(months: np.ndarray) -> np.ndarray:
    """Month numbers -> day number of the first day of that month."""
    m = np.asarray(months, dtype=np.int64)
    return m.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)


def year_of(days: np.ndarray) -> np.ndarray:
    """Day numbers -> calendar year."""
    return month_of(days) // 12 + 1970


def completed_months(since: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Whole calendar months completed between day ``since`` and the month start ``t``.

    ``t`` is the first of a month, so a month is completed when its day-of-month anniversary
    has passed: since 2020-01-01 -> 2020-07-01 is 6, since 2020-01-15 -> 2020-07-01 is 5.
    """
    since = np.asarray(since, dtype=np.int64)
    ms = month_of(since)
    partial = since != month_start(ms)
    return month_of(t) - ms - partial.astype(np.int64)


def expand_ranges(first: np.ndarray, last: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For inclusive integer ranges ``[first[i], last[i]]`` return ``(i, value)`` for each member.

    Empty ranges (``last < first``) contribute nothing. This is how a spell becomes its rows
    (one per period it covers), never one row per day.
    """
    first = np.asarray(first, dtype=np.int64)
    n = np.maximum(np.asarray(last, dtype=np.int64) - first + 1, 0)
    idx = np.repeat(np.arange(len(n)), n)
    offs = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
    return idx, first[idx] + offs


class Events:
    """Records of many employees sorted by ``(employee_code, time)`` for windowed look-ups.

    Parameters
    ----------
    codes : ndarray of int
        Employee code of each record.
    times : ndarray of int
        Day or month number of each record.
    **values : ndarray
        Numeric values carried by the records (NaN allowed).

    Windows are half-open ``[lo, hi)``: a record dated at ``hi`` is never included, which is
    what keeps features point-in-time when ``hi`` is the period start.
    """

    def __init__(self, codes: np.ndarray, times: np.ndarray, **values: np.ndarray) -> None:
        codes = np.asarray(codes, dtype=np.int64)
        times = np.asarray(times, dtype=np.int64)
        order = np.lexsort((times, codes))
        self.codes = codes[order]
        self.times = times[order]
        self.keys = self.codes * SPAN + (self.times + _OFF)
        self.values = {k: np.asarray(v, dtype=np.float64)[order] for k, v in values.items()}
        self._cum: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def _pos(self, codes: np.ndarray, times: np.ndarray) -> np.ndarray:
        q = np.asarray(codes, dtype=np.int64) * SPAN + (np.asarray(times, dtype=np.int64) + _OFF)
        return np.searchsorted(self.keys, q, side="left")

    def _cumsum(self, name: str) -> tuple[np.ndarray, bool]:
        """Cumulative sums of a value, and whether they restart at every employee.

        Whole numbers (counts, minutes, cases) are summed over all records at once: their
        sums are exact, so a window total does not depend on which other employees the
        index holds. Other values are summed per employee (:func:`segmented_cumsum`), so a
        window total is the same bits whether the index holds one partition of employees or
        the whole register.
        """
        if name not in self._cum:
            if name == "__n__":
                v = np.ones(len(self.keys))
            elif name.endswith("__valid"):
                v = (~np.isnan(self.values[name[: -len("__valid")]])).astype(np.float64)
            else:
                v = np.nan_to_num(self.values[name], nan=0.0)
            whole = bool(np.all(v == np.round(v))) and float(np.abs(v).sum()) < 2.0**52
            if whole:
                self._cum[name] = (np.concatenate(([0.0], np.cumsum(v))), False)
            else:
                self._cum[name] = (segmented_cumsum(v, self.codes), True)
        return self._cum[name]

    def count(self, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Number of records of each employee with ``lo <= time < hi``."""
        return self._pos(codes, hi) - self._pos(codes, lo)

    def total(
        self, name: str, codes: np.ndarray, lo: np.ndarray, hi: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sum of value ``name`` over ``[lo, hi)`` (NaN values skipped) and how many were not NaN."""
        a, b = self._pos(codes, lo), self._pos(codes, hi)
        v, _ = self._cumsum(name + "__valid")
        s, per_employee = self._cumsum(name)
        if not per_employee:
            return s[b] - s[a], v[b] - v[a]
        # s[i] sums the employee's records up to and including i: 0 before the first one
        first = self._pos(codes, np.full(len(a), -_OFF))
        sb = np.where(b > first, s[np.maximum(b - 1, 0)], 0.0)
        sa = np.where(a > first, s[np.maximum(a - 1, 0)], 0.0)
        return sb - sa, v[b] - v[a]

    def last_before(self, codes: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Index (into the sorted arrays) of each employee's latest record dated before ``hi``,
        or -1 when there is none."""
        codes = np.asarray(codes, dtype=np.int64)
        j = self._pos(codes, hi) - 1
        jj = np.maximum(j, 0)
        ok = (j >= 0) & (self.codes[jj] == codes) if len(self.codes) else np.zeros(len(j), bool)
        return np.where(ok, j, -1)

    def take(self, name: str, j: np.ndarray) -> np.ndarray:
        """Value ``name`` at indices ``j`` from :meth:`last_before` (NaN where ``j == -1``)."""
        v = self.values[name]
        if len(v) == 0:
            return np.full(len(j), np.nan)
        return np.where(j >= 0, v[np.maximum(j, 0)], np.nan)

    def time_at(self, j: np.ndarray) -> np.ndarray:
        """Time of the record at indices ``j`` (``-OPEN_DAY`` where ``j == -1``)."""
        if len(self.times) == 0:
            return np.full(len(j), -OPEN_DAY, dtype=np.int64)
        return np.where(j >= 0, self.times[np.maximum(j, 0)], -OPEN_DAY)


def episodes(
    code: np.ndarray, key: np.ndarray, start: np.ndarray, end: np.ndarray, reason: np.ndarray
) -> dict[str, np.ndarray]:
    """Merge the spells of each (employee, scope key) into continuous episodes.

    Spells of the same employee in the same scope key belong to one episode when the next one
    starts at most one day after the latest end so far (adjacent or overlapping); a gap of a
    day or more without a spell ends the episode. The episode's exit reason is the reason of the
    spell that ends last.

    Returns
    -------
    dict
        ``spell_episode`` (episode index of every input spell, input order) and per episode:
        ``start``, ``end`` (``OPEN_DAY`` when open), ``reason`` (code, -1 missing), ``ordinal``
        (0 for an employee's first episode in that key, 1 for the next, ...), ``next_start``
        (start of the next episode in the same key, ``OPEN_DAY`` if none).
    """
    n = len(code)
    order = np.lexsort((start, key, code))
    c, k, s, e, r = code[order], key[order], start[order], end[order], reason[order]
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return {
            "spell_episode": empty,
            "start": empty,
            "end": empty,
            "reason": empty,
            "ordinal": empty,
            "next_start": empty,
        }
    new_group = np.ones(n, dtype=bool)
    new_group[1:] = (c[1:] != c[:-1]) | (k[1:] != k[:-1])
    gid = np.cumsum(new_group) - 1
    shift = gid.astype(np.int64) * SPAN
    runmax = np.maximum.accumulate(e + _OFF + shift) - shift - _OFF
    prev = np.empty(n, dtype=np.int64)
    prev[0] = -OPEN_DAY
    prev[1:] = runmax[:-1]
    new_ep = new_group | (s > prev + 1)
    ep = np.cumsum(new_ep) - 1
    firsts = np.flatnonzero(new_ep)
    ep_start = s[firsts]
    ep_end = np.maximum.reduceat(e, firsts)
    pos = np.where(e == ep_end[ep], np.arange(n), -1)
    last = np.maximum.reduceat(pos, firsts)
    ep_reason = r[last]
    ep_gid = gid[firsts]
    group_first_ep = np.flatnonzero(np.r_[True, ep_gid[1:] != ep_gid[:-1]])
    first_of_group = np.repeat(group_first_ep, np.diff(np.r_[group_first_ep, len(firsts)]))
    ordinal = np.arange(len(firsts)) - first_of_group
    next_start = np.full(len(firsts), OPEN_DAY, dtype=np.int64)
    same = ep_gid[1:] == ep_gid[:-1]
    next_start[:-1][same] = ep_start[1:][same]
    spell_episode = np.empty(n, dtype=np.int64)
    spell_episode[order] = ep
    return {
        "spell_episode": spell_episode,
        "start": ep_start,
        "end": ep_end,
        "reason": ep_reason,
        "ordinal": ordinal,
        "next_start": next_start,
    }


def segmented_cumsum(values: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Inclusive running sums of ``values`` restarting at every change of ``codes`` (sorted).

    Each running sum is accumulated left to right from the employee's first record, so it is
    the same floating-point number whatever records precede that employee. Vectorised over
    employees: one step per record rank (the longest employee history), not per record.
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    out = v.copy()
    if n == 0:
        return out
    first = np.ones(n, dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    idx = np.arange(n)
    rank = idx - np.maximum.accumulate(np.where(first, idx, 0))
    order = np.argsort(rank, kind="stable")
    bounds = np.searchsorted(rank[order], np.arange(1, int(rank.max()) + 2))
    for r in range(1, len(bounds)):
        pos = order[bounds[r - 1] : bounds[r]]
        out[pos] = out[pos - 1] + v[pos]
    return out


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (sort-based; faster than ``np.unique``'s
    hash path for large int64 keys)."""
    v = np.sort(np.asarray(values))
    if len(v) == 0:
        return v
    keep = np.empty(len(v), dtype=bool)
    keep[0] = True
    np.not_equal(v[1:], v[:-1], out=keep[1:])
    return v[keep]


def group_median(group: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """Median of ``values`` per integer group (NaN for groups without values)."""
    out = np.full(n_groups, np.nan)
    ok = ~np.isnan(values)
    g, v = group[ok], values[ok]
    if len(g) == 0:
        return out
    g = g.astype(np.int64)
    whole = v.min() >= 0 and v.max() < 2**20 and bool(np.all(v == np.floor(v)))
    if whole and int(g.max()) < 2**40:
        # small whole numbers (counts): one sort of (group, value) packed in an integer
        width = int(v.max()) + 1
        key = np.sort(g * width + v.astype(np.int64))
        g, v = key // width, (key % width).astype(np.float64)
    else:
        order = np.lexsort((v, g))
        g, v = g[order], v[order]
    firsts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    sizes = np.diff(np.r_[firsts, len(g)])
    lo = v[firsts + (sizes - 1) // 2]
    hi = v[firsts + sizes // 2]
    out[g[firsts]] = (lo + hi) / 2
    return out
