"""Per-person spell look-ups of the rate kernels (private).

:class:`_PersonSpells` joins many query intervals (absences) to the spells of the same person
(:func:`_same_person_overlaps`) without comparing a query with the spells of other persons;
:class:`_Presence` answers "is (person, entity) present on day d?" and "which spell of the pair
ended last before d?" for many queries at once. Both sort once and search, never expanding a
spell into days.
"""

from __future__ import annotations

import numpy as np

from turnover_risk.rates._grouping import _argsort_int
from turnover_risk.rates._spells import _BIG, _OPEN


class _PersonSpells:
    """Spells grouped by person, to join many query intervals (absences) to the spells of the
    same person without comparing a query with the spells of other persons.

    Spells with ``end < start`` are left out. Each person's envelope (first start, last end)
    discards at once the queries that lie outside every spell of their person; only the rest
    are compared with each spell of their person, whose bounds are read from person-ordered
    arrays so the look-ups of one query are adjacent in memory. Day numbers may be int32 (all
    dates of the datetime64[ns] range fit), which halves the memory traffic.
    """

    def __init__(self, person: np.ndarray, n_person: int, start: np.ndarray, end: np.ndarray):
        order = np.flatnonzero(end >= start)
        order = order[_argsort_int(person[order])]
        per = np.bincount(person[order], minlength=n_person)
        self.order = order
        self.per = per
        self.first_of = np.cumsum(per) - per
        self.s_by, self.e_by = start[order], end[order]
        # slot n_person stands for person code -1 and matches nothing
        dtype = np.result_type(start, end)  # int32 day numbers halve the memory traffic
        big = np.iinfo(dtype).max
        self.env_lo = np.full(n_person + 1, big, dtype=dtype)
        self.env_hi = np.full(n_person + 1, -big, dtype=dtype)
        has = np.flatnonzero(per > 0)
        if len(has):
            self.env_lo[has] = np.minimum.reduceat(self.s_by, self.first_of[has])
            self.env_hi[has] = np.maximum.reduceat(self.e_by, self.first_of[has])

    def overlaps(
        self, q_person: np.ndarray, q_start: np.ndarray, q_end: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(query index, spell index, overlap start, overlap end) of every non-empty overlap,
        ordered by query, then by spell row. Queries with person code -1 match nothing."""
        q = np.flatnonzero((q_start <= self.env_hi[q_person]) & (q_end >= self.env_lo[q_person]))
        qp = q_person[q]
        n = self.per[qp]
        rep = np.repeat(np.arange(len(q)), n)
        pos = np.arange(len(rep), dtype=np.int64)
        pos += (self.first_of[qp] - (np.cumsum(n) - n))[rep]
        ps = np.maximum(q_start[q][rep], self.s_by[pos])
        pe = np.minimum(q_end[q][rep], self.e_by[pos])
        hit = np.flatnonzero(pe >= ps)  # take() with row numbers beats a boolean mask
        return q[rep.take(hit)], self.order[pos.take(hit)], ps.take(hit), pe.take(hit)


def _same_person_overlaps(
    person: np.ndarray,
    n_person: int,
    start: np.ndarray,
    end: np.ndarray,
    q_person: np.ndarray,
    q_start: np.ndarray,
    q_end: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps of query intervals (absences) with the spells of the same person.

    Returns (query index, spell index, overlap start, overlap end) for every pair with a
    non-empty overlap, ordered by query, then by spell row. Queries with person code -1 match
    nothing. See :class:`_PersonSpells` (which also serves a query table in slices).
    """
    return _PersonSpells(person, n_person, start, end).overlaps(q_person, q_start, q_end)


class _Presence:
    """Answers "is (person, entity) present on day d?" for many queries at once."""

    def __init__(self, pair: np.ndarray, start: np.ndarray, end: np.ndarray, base: int) -> None:
        order = _argsort_int(pair * _BIG + (start - base))  # stable
        p = pair[order]
        self.base = base
        self.pair = pair
        self.end = end
        self.ks = p * _BIG + (start[order] - base)
        self.cm = np.maximum.accumulate(p * _BIG + (np.minimum(end[order], _OPEN) - base))
        # two spells of one (person, entity) share a day: a spell starts on or before the
        # latest end of the earlier spells of its pair
        self.has_overlaps = bool(len(p) > 1 and (self.ks[1:] <= self.cm[:-1]).any())
        self._by_end: tuple[np.ndarray, np.ndarray] | None = None

    def covers(self, pair: np.ndarray, day: np.ndarray) -> np.ndarray:
        q = pair * _BIG + (day - self.base)
        order = _argsort_int(q)  # sorted needles search far faster than random ones
        idx = np.empty(len(q), dtype=np.int64)
        idx[order] = np.searchsorted(self.ks, q[order], side="right") - 1
        out = np.zeros(len(q), dtype=bool)
        ok = idx >= 0
        out[ok] = self.cm[idx[ok]] >= q[ok]
        return out

    def last_ending_before(self, pair: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Row of the pair's spell with the latest end before ``day`` (ties: the later row).

        Every query must have such a spell (the callers ask about persons seen earlier).
        """
        if self._by_end is None:
            key = self.pair * _BIG + (np.minimum(self.end, _OPEN) - self.base)
            order = _argsort_int(key)
            self._by_end = (key[order], order)
        keys, order = self._by_end
        q = pair * _BIG + (day - self.base)
        idx = np.searchsorted(keys, q, side="left") - 1
        return order[np.maximum(idx, 0)]
