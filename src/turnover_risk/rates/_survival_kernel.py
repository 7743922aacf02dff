"""Kaplan–Meier and Aalen–Johansen estimates for many groups at once, with delayed entry (private).

Every stay is ``(group, entry, time, cause)`` in whole days: it is at risk at time ``t`` when
``entry < t <= time`` (the counting-process convention of statsmodels' ``SurvfuncRight`` and
of lifelines' ``KaplanMeierFitter``), and ``cause`` is 0 when the stay is censored at
``time``, else the code (1..K) of its exit reason. All groups are estimated in one pass:
distinct event times by one sort of ``group * M + time``, the number at risk by two sorted
searches (``#{time >= t} - #{entry >= t}`` in the group), and the products and sums over
event times by cumulative sums restarted at each group's first event time. No loop over
groups or rows.

Up to :data:`DENSE_CELLS` (group x day) cells the counts are ``bincount`` on a dense grid
instead of sorts.

The estimates, at the distinct event times ``t_i`` of a group (``n_i`` at risk, ``d_i``
events, ``d_ki`` of cause ``k``):

* ``S(t) = prod_{t_i <= t} (1 - d_i / n_i)``, computed as ``exp(sum(log(n_i - d_i) -
  log(n_i)))`` like lifelines, with Greenwood's ``sigma^2(t) = sum d_i / (n_i (n_i - d_i))``
  and the log-log ("exponential Greenwood", Kalbfleisch & Prentice) interval
  ``S^exp(+-z sigma / log S)``;
* ``F_k(t) = sum_{t_i <= t} S(t_i-) d_ki / n_i`` (Aalen–Johansen), with the delta-method
  variance of Collett (2015, p. 411; the SAS LIFETEST formula lifelines uses) and the
  log-log interval on ``F``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Curves:
    """Estimates at the distinct event times of each group (rows sorted by group, then time)."""

    group: np.ndarray  # group id of each row
    time: np.ndarray  # event time, days
    at_risk: np.ndarray
    events: np.ndarray  # all causes
    cause_events: np.ndarray  # (rows, K) events by cause
    surv: np.ndarray
    surv_low: np.ndarray
    surv_high: np.ndarray
    cif: np.ndarray  # (rows, K)
    cif_low: np.ndarray
    cif_high: np.ndarray
    group_first: np.ndarray  # first row of each group (len G + 1, the last is len(rows))


def _seg_cumsum(values: np.ndarray, first: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Cumulative sum of ``values`` restarted at each group's first row (axis 0)."""
    cs = np.cumsum(values, axis=0)
    if not len(values) or len(first) <= 2:  # one group: nothing to restart
        return cs
    start = first[group]  # first row of the row's group
    before = np.where(start > 0, start - 1, 0)
    offset = cs[before]
    offset[start == 0] = 0
    return cs - offset


DENSE_CELLS = 1 << 22
"""Up to this many (group x day) cells the risk sets are counted with ``bincount`` on a dense
grid (no sort at all); beyond it, by sorting (a national register by unit: 5 556 units x
decades of tenure)."""


@dataclass
class RiskSets:
    """Counts the stays at risk (``entry < t <= time``) in any group at any time."""

    M: int  # key multiplier: key = group * M + day
    dense: np.ndarray | None  # n at risk on day t of group g at g * M + t (dense mode)
    key_entry: np.ndarray | None  # sorted group * M + entry (sorted mode)
    key_time: np.ndarray | None

    def at(self, group: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Stays at risk in ``group`` at time ``t`` (days, may be fractional)."""
        group = np.asarray(group, dtype=np.int64)
        t = np.asarray(t, dtype=np.float64)
        if self.dense is not None:
            day = np.ceil(t).astype(np.int64)  # integer entry < t <=> entry < ceil(t), etc.
            ok = (day >= 0) & (day < self.M)
            out = np.zeros(len(group), dtype=np.int64)
            out[ok] = self.dense[group[ok] * self.M + day[ok]]
            return out
        q = group.astype(np.float64) * self.M + t
        n_time = np.searchsorted(self.key_time, q, side="left")
        n_entry = np.searchsorted(self.key_entry, q, side="left")
        return (n_entry - n_time).astype(np.int64)


def _counts(group, entry, time, cause, n_groups, K):
    """Event rows (group, day) sorted, their number at risk and events by cause, and the
    :class:`RiskSets` for other times."""
    M = int(time.max()) + 2 if len(time) else 2
    ev = cause > 0
    ekey = group[ev] * M + time[ev]
    if n_groups * M <= DENSE_CELLS:
        size = n_groups * M
        out_ = np.bincount(group * M + time, minlength=size).reshape(n_groups, M)
        in_ = np.bincount(group * M + entry, minlength=size).reshape(n_groups, M)
        # n(t) = #{time >= t} - #{entry >= t}: reverse cumulative sums along the days
        n_all = (out_[:, ::-1].cumsum(axis=1) - in_[:, ::-1].cumsum(axis=1))[:, ::-1]
        n_all = np.ascontiguousarray(n_all).reshape(-1)
        uk = np.flatnonzero(np.bincount(ekey, minlength=size))
        risk = RiskSets(M, n_all, None, None)
        n = n_all[uk]
        where = np.empty(size, dtype=np.int64)  # row of each event cell, without a search
        where[uk] = np.arange(len(uk))
        pos = where[ekey]
    else:
        uk = np.unique(ekey)
        risk = RiskSets(M, None, np.sort(group * M + entry), np.sort(group * M + time))
        n = None
        pos = np.searchsorted(uk, ekey)
    rows = len(uk)
    dk = np.bincount(pos * K + cause[ev] - 1, minlength=rows * K).reshape(rows, K)
    g, t = uk // M, uk % M
    if n is None:
        n = risk.at(g, t)
    return g, t, n.astype(np.int64), dk.astype(np.int64), risk


def estimate(
    group: np.ndarray,
    entry: np.ndarray,
    time: np.ndarray,
    cause: np.ndarray,
    n_groups: int,
    n_causes: int,
    z: float,
) -> tuple[Curves, RiskSets]:
    """Kaplan–Meier and Aalen–Johansen curves of every group, and the risk-set counter."""
    group = np.asarray(group, dtype=np.int64)
    entry = np.asarray(entry, dtype=np.int64)
    time = np.asarray(time, dtype=np.int64)
    cause = np.asarray(cause, dtype=np.int64)
    K = max(n_causes, 1)
    g, t, n, dk, risk = _counts(group, entry, time, cause, n_groups, K)
    rows = len(g)
    d = dk.sum(axis=1)
    first = np.searchsorted(g, np.arange(n_groups + 1), side="left")

    with np.errstate(divide="ignore", invalid="ignore"):
        full = d >= n  # everyone at risk exits: S drops to 0
        logf = np.where(full, 0.0, np.log(n - d) - np.log(n))
        zero = _seg_cumsum(full.astype(np.int64), first, g) > 0
        surv = np.where(zero, 0.0, np.exp(_seg_cumsum(logf, first, g)))
        gw = np.where(full, 0.0, d / (n * (n - d)))
        var = _seg_cumsum(gw, first, g)
        var = np.where(zero, np.inf, var)
        logs = np.log(surv)
        shift = z * np.sqrt(var) / logs
        low = np.exp(-np.exp(np.log(-logs) - shift))
        high = np.exp(-np.exp(np.log(-logs) + shift))
    one = surv >= 1.0
    low[one], high[one] = 1.0, 1.0
    low[zero], high[zero] = np.nan, np.nan

    # S(t_i-): the survival at the group's previous event time (1 at its first)
    lag = np.ones(rows)
    if rows:
        lag[1:] = surv[:-1]
        lag[first[:-1][first[:-1] < rows]] = 1.0
    cif, cif_low, cif_high = _aalen_johansen(dk, d, n, lag, first, g, z)
    curves = Curves(
        group=g,
        time=t,
        at_risk=n,
        events=d,
        cause_events=dk,
        surv=surv,
        surv_low=low,
        surv_high=high,
        cif=cif,
        cif_low=cif_low,
        cif_high=cif_high,
        group_first=first,
    )
    return curves, risk


def _aalen_johansen(
    dk: np.ndarray,
    d: np.ndarray,
    n: np.ndarray,
    lag: np.ndarray,
    first: np.ndarray,
    g: np.ndarray,
    z: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cumulative incidence of each cause with the delta-method variance and log-log interval.

    ``Var F(t) = sum_i [(F(t) - F_i)^2 a_i + b_i - 2 (F(t) - F_i) c_i]`` with
    ``a_i = d_i / (n_i (n_i - d_i))``, ``b_i = S(t_i-)^2 d_ki (n_i - d_ki) / n_i^3`` and
    ``c_i = S(t_i-) d_ki / n_i^2``, expanded into cumulative sums.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        nn = n[:, None].astype(np.float64)
        F = _seg_cumsum(lag[:, None] * dk / nn, first, g)
        a = np.where(d < n, d / (n * (n - d)), np.inf)[:, None]
        b = lag[:, None] ** 2 * dk * (nn - dk) / nn**3
        c = lag[:, None] * dk / nn**2
        ones = np.ones_like(F)
        sa = _seg_cumsum(a * ones, first, g)
        saf = _seg_cumsum(np.where(F == 0, 0.0, a * F), first, g)
        saff = _seg_cumsum(np.where(F == 0, 0.0, a * F * F), first, g)
        sb = _seg_cumsum(b, first, g)
        sc = _seg_cumsum(c, first, g)
        scf = _seg_cumsum(c * F, first, g)
        var = F * F * sa - 2 * F * saf + saff + sb - 2 * (F * sc - scf)
        var = np.where(np.isfinite(sa), var, np.nan)
        logf = np.log(F)
        se = np.sqrt(np.maximum(var, 0.0)) / (F * np.abs(logf))
        lo = np.exp(-np.exp(np.log(-logf) + z * se))
        hi = np.exp(-np.exp(np.log(-logf) - z * se))
    nil = F <= 0
    lo[nil], hi[nil] = 0.0, 0.0
    return F, lo, hi


def step_values(curves: Curves, n_groups: int, t: np.ndarray, M: int) -> np.ndarray:
    """Row of ``curves`` in force at time ``t`` (days, may be fractional) for every group.

    Shape ``(n_groups, len(t))``; -1 where the group has no event at or before ``t``.
    """
    gi = np.repeat(np.arange(n_groups, dtype=np.int64), len(t))
    q = gi.astype(np.float64) * M + np.tile(np.asarray(t, dtype=np.float64), n_groups)
    keys = curves.group.astype(np.float64) * M + curves.time
    pos = np.searchsorted(keys, q, side="right") - 1
    ok = pos >= 0
    ok[ok] = curves.group[pos[ok]] == gi[ok]
    return np.where(ok, pos, -1).reshape(n_groups, len(t))


def median_time(
    curves: Curves, n_groups: int, q: float = 0.5
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First event time where the survival (and each interval bound) is at or below ``q``.

    NaN where it is never reached (lifelines' ``qth_survival_time`` gives ``inf`` there).
    Returns (median, lower limit, upper limit), days. A value within ``1e-12`` of ``q`` counts
    as reaching it: ``exp(log 10 - log 20)`` is a hair above one half in floating point, and
    a curve that drops to exactly 0.5 has its median there.
    """
    out = np.full((3, n_groups), np.nan)
    for j, s in enumerate((curves.surv, curves.surv_low, curves.surv_high)):
        hit = np.flatnonzero(s <= q + 1e-12)
        gi = curves.group[hit]
        # the first hit of each group
        new = np.ones(len(hit), dtype=bool)
        new[1:] = gi[1:] != gi[:-1]
        out[j, gi[new]] = curves.time[hit[new]]
    return out[0], out[1], out[2]
