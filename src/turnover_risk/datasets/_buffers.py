"""Record stores and day arithmetic of the simulator.

:class:`_Buffer` is a growable column store (people, employment spells, sick-leave spells: rows
that are changed after they are written), :class:`_Chunks` collects the per-month records
(caseload, supervision, survey answers, truth) that are only appended, and :class:`_Month` holds
the days of one simulated month. Dates are integer day numbers (days since 1970-01-01);
``_NEVER`` and ``_OPEN`` are the "no day" and "open end" sentinels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["_NEVER", "_OPEN", "_Buffer", "_Chunks", "_Month", "_days_to_ns", "_weekday"]

_NEVER = np.iinfo(np.int64).min // 4  # "no day" sentinel (sick_until of a person never sick)
_OPEN = np.iinfo(np.int64).max // 4  # open end of a spell


@dataclass
class _Buffer:
    """Growable column store (one numpy array per column)."""

    cols: dict[str, np.ndarray]
    n: int = 0

    @classmethod
    def make(cls, spec: dict[str, object], capacity: int) -> _Buffer:
        return cls({k: np.zeros(capacity, dtype=v) for k, v in spec.items()})

    def reserve(self, extra: int) -> None:
        cap = len(next(iter(self.cols.values())))
        if self.n + extra <= cap:
            return
        new_cap = max(2 * cap, self.n + extra)
        for k, a in self.cols.items():
            b = np.zeros((new_cap, *a.shape[1:]), dtype=a.dtype)
            b[: self.n] = a[: self.n]
            self.cols[k] = b

    def append(self, **values: np.ndarray) -> np.ndarray:
        m = len(next(iter(values.values())))
        self.reserve(m)
        idx = np.arange(self.n, self.n + m)
        for k, v in values.items():
            self.cols[k][idx] = v
        self.n += m
        return idx

    def __getitem__(self, key: str) -> np.ndarray:
        return self.cols[key]


class _Chunks:
    """Per-month record chunks concatenated at the end."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {}

    def add(self, **cols: np.ndarray) -> None:
        for k, v in cols.items():
            self.parts.setdefault(k, []).append(np.asarray(v))

    def get(self, key: str, dtype: object) -> np.ndarray:
        parts = self.parts.get(key)
        return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


@dataclass(frozen=True)
class _Month:
    """One simulated month: its index ``t``, first and last day, and whether it is recorded."""

    t: int
    ms: int  # first day
    me: int  # last day
    ndays: int
    year: int
    moy: int  # month of the year, 0 = January
    record: bool  # inside the recorded window (after the burn-in)


def _weekday(day: np.ndarray) -> np.ndarray:
    """0 = Monday ... 6 = Sunday for day numbers since 1970-01-01 (a Thursday)."""
    return (day + 3) % 7


def _days_to_ns(days: np.ndarray) -> np.ndarray:
    out = days.astype("datetime64[D]").astype("datetime64[ns]")
    return out
