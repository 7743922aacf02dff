"""Turnover kernels: exit share between snapshots, flows (hires, separations, churn) and the
same definitions from aggregate counts (private; the API is :mod:`turnover_risk.rates`).

Everything is computed per cell (unit x ``by`` group) and period with bincounts on integer codes,
then summed to the requested groupings (main grouping first, then the margins).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from turnover_risk.data import Register
from turnover_risk.rates._cells import Cells
from turnover_risk.rates._common import (
    _finish,
    _grid,
    _result_frame,
    _select_periods,
    _window_periods,
)
from turnover_risk.rates._grouping import (
    _distinct_ranges,
    _entity_codes,
    _expand,
    _group_ids,
    _group_ids_first,
    _groups,
    _search_days,
)
from turnover_risk.rates._intervals import _poisson_scaled, _wilson
from turnover_risk.rates._presence import _Presence
from turnover_risk.rates._protect import protected
from turnover_risk.rates._spells import _OPEN, _prepare

_TURNOVER_COLUMNS = [
    "period",
    "definition",
    "numerator",
    "denominator",
    "rate",
    "ci_low",
    "ci_high",
    "n_persons",
    "suppressed",
    "hires",
    "separations",
    "headcount_start",
    "headcount_end",
]


_VALUE_COLS = ("numerator", "denominator", "rate", "ci_low", "ci_high", "hires", "separations",
               "headcount_start", "headcount_end")  # fmt: skip


def turnover_table(
    data: Register | pd.DataFrame,
    *,
    definition: str,
    by: list[str],
    kind: str,
    wanted: list[str] | None,
    month_day: tuple[int, int],
    scope: str,
    weight: str,
    divisor: str | None,
    exclude_reasons: tuple[str, ...],
    start: object,
    end: object,
    min_group_size: int,
    margins: bool,
    confidence: float,
    annual: str = "average_headcount",
    subsets: list[tuple[str, ...]] | None = None,
    raw: bool = False,
) -> pd.DataFrame:
    """The numbers of :func:`turnover_risk.rates.turnover_rate` (arguments already checked).

    ``raw=True``: unsuppressed, every grouping in ``subsets`` (the privacy layer's lattice)."""
    if not raw:
        return protected(
            turnover_table, data, by=by, kind=kind, wanted=wanted, margins=margins,
            min_group_size=min_group_size, value_cols=_VALUE_COLS, definition=definition,
            month_day=month_day, scope=scope, weight=weight, divisor=divisor,
            exclude_reasons=exclude_reasons, start=start, end=end, confidence=confidence,
            annual=annual,
        )  # fmt: skip
    cells = turnover_cells(
        data, definition=definition, by=by, kind=kind, wanted=wanted, month_day=month_day,
        scope=scope, weight=weight, exclude_reasons=exclude_reasons, start=start, end=end,
        margins=margins, annual=annual, subsets=subsets,
    )  # fmt: skip
    return finish_turnover(cells, by=by, margins=margins, divisor=divisor, confidence=confidence)


def turnover_cells(
    data: Register | pd.DataFrame,
    *,
    definition: str,
    by: list[str],
    kind: str,
    wanted: list[str] | None,
    month_day: tuple[int, int],
    scope: str,
    weight: str,
    exclude_reasons: tuple[str, ...],
    start: object,
    end: object,
    margins: bool,
    annual: str = "average_headcount",
    subsets: list[tuple[str, ...]] | None = None,
) -> Cells:
    """The per-cell statistics of a turnover table: additive over disjoint sets of persons.

    Per grouping, each group's sums over the period grid (weighted and plain event counts and
    headcounts, distinct persons); :func:`finish_turnover` turns them into the table. The
    grid depends only on the observation window, so parts of a register split by person
    computed with the same ``start`` and ``end`` add up to the statistics of the whole."""
    sp, _ = _prepare(data, who="turnover_rate", by=by, start=start, end=end)
    entity = _entity_codes(sp, scope)
    groups = _groups(sp, by, margins, subsets)
    w = sp.fte if weight == "fte" else np.ones(len(sp.fte))
    reasons = sp.frame["exit_reason"] if "exit_reason" in sp.frame.columns else None
    excluded = np.zeros(len(sp.fte), dtype=bool)
    if reasons is not None and exclude_reasons:
        r_codes, r_uniq = pd.factorize(reasons)
        hit = np.isin(np.asarray(pd.Index(r_uniq).astype(str), dtype=object), exclude_reasons)
        excluded = (r_codes >= 0) & hit[np.maximum(r_codes, 0)] if len(r_uniq) else excluded
    pair = _group_ids(sp.person * np.int64(entity.max() + 1) + entity)[0]
    presence = _Presence(pair, sp.start, sp.end, base=min(int(sp.start.min()), sp.first) - 2)
    args = (sp, groups, w, excluded, pair, presence, kind, wanted)
    if definition == "exit_share":
        return _exit_share(*args, month_day=month_day)
    return _flows(*args, definition=definition, annual=annual)


def finish_turnover(
    cells: Cells, *, by: list[str], margins: bool, divisor: str | None, confidence: float
) -> pd.DataFrame:
    """The unsuppressed turnover table from its cell statistics (one code for every engine)."""
    meta = cells.meta
    parts = []
    for table, st in cells.groupings:
        if meta["definition"] == "exit_share":
            parts.append(_exit_share_frame(table, st, meta, confidence))
        else:
            parts.append(_flows_frame(table, st, meta, divisor, confidence))
    value_cols = ["numerator", "denominator", "rate", "ci_low", "ci_high"]
    value_cols += [c for c in ("hires", "separations", "headcount_start", "headcount_end")]
    out = _finish(parts, by=by, margins=margins, min_group_size=0, value_cols=value_cols,
                  raw=True)  # fmt: skip
    out.attrs["observation_window"] = dict(cells.window)
    return out


def _exit_share(sp, groups, w, excluded, pair, presence, kind, wanted, *, month_day) -> Cells:
    if kind == "year":
        y0 = int(str(np.datetime64(sp.first, "D"))[:4]) - 1
        y1 = int(str(np.datetime64(min(sp.last, 2**20), "D"))[:4]) + 1
        snaps = np.array(
            [np.datetime64(f"{y}-{month_day[0]:02d}-{month_day[1]:02d}") for y in range(y0, y1 + 1)]
        ).astype(np.int64)
        labels = [str(y) for y in range(y0, y1 + 1)]
    else:
        p0, _, labels = _grid(kind, sp.first, sp.last)
        nxt = (
            pd.Timestamp(np.datetime64(int(p0[-1]), "D"))
            + pd.tseries.frequencies.to_offset("QS" if kind == "quarter" else "MS")
        ).to_datetime64()
        snaps = np.append(p0, np.int64(np.datetime64(nxt, "D").astype(np.int64)))
        labels = [*labels, "next"]
    # period k compares snaps[k] with snaps[k + 1]
    n_k = len(snaps) - 1
    keep = (snaps[:-1] >= sp.first) & (snaps[1:] <= sp.last)
    sel = _select_periods(labels[:n_k], keep, wanted)
    if not sel.any():
        raise ValueError(
            "exit_share: no pair of snapshots lies inside the data window "
            f"{np.datetime64(sp.first, 'D')}..{np.datetime64(sp.last, 'D')}; "
            "a year needs data up to the next year's snapshot. Use a longer window or "
            "period='quarter'/'month'."
        )
    ks = np.flatnonzero(sel)
    sn = snaps[ks]
    nx = snaps[ks + 1]
    K = len(ks)
    lo = _search_days(sn, sp.start, side="left")
    hi = _search_days(sn, sp.end, side="right") - 1
    i, k = _expand(lo, hi)
    left = ~presence.covers(pair[i], nx[k])
    # the reason of an exit is the one of the job that ends the person's presence in scope:
    # the pair's spell with the latest end before t+1 (ties: the later row), not the job at t
    gone = np.flatnonzero(left)
    counted = left.copy()
    if excluded.any() and len(gone):
        counted[gone] = ~excluded[presence.last_ending_before(pair[i[gone]], nx[k[gone]])]
    # persons, not jobs: one entry per (cell, person, snapshot); a person's jobs in one cell
    # share the unit, hence the scope entity, so `left` and `counted` agree across them
    if presence.has_overlaps:
        key = (groups.cell[i] * np.int64(sp.n_person) + sp.person[i]) * np.int64(K) + k
        pid, first = _group_ids_first(key)
        n_p = len(first)
        w_p = np.minimum(np.bincount(pid, weights=w[i], minlength=n_p), 1.0)
        cell_p, k_p, counted_p = groups.cell[i[first]], k[first], counted[first]
    else:
        w_p, cell_p, k_p, counted_p = w[i], groups.cell[i], k, counted
    out = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gp = g_of_cell[cell_p] * K + k_p
        out.append((table, {
            "numerator": np.bincount(gp, weights=w_p * counted_p, minlength=G * K),
            "denominator": np.bincount(gp, weights=w_p, minlength=G * K),
            "headcount_start": np.bincount(gp, minlength=G * K),
            "separations": np.bincount(gp, weights=counted_p, minlength=G * K),
            "n_persons": _distinct_ranges(g_of_cell[groups.cell], sp.person, lo, hi, G, K,
                                          sp.n_person),
        }))  # fmt: skip
    meta = {"definition": "exit_share", "K": K, "F": K, "labels": list(np.array(labels)[ks]),
            "dates": {"snapshot": sn, "next_snapshot": nx}}  # fmt: skip
    return Cells(out, meta, dict(sp.window))


def _exit_share_frame(table, st, meta, confidence) -> pd.DataFrame:
    num, den, n_start = st["numerator"], st["denominator"], st["headcount_start"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = num / den
    ci_lo, ci_hi = _wilson(rate, n_start.astype(float), confidence)
    return _result_frame(
        table,
        meta["K"],
        den > 0,
        period_labels=np.array(meta["labels"]),
        tags={"definition": "exit_share"},
        dates=meta["dates"],
        values={
            "numerator": num,
            "denominator": den,
            "rate": rate,
            "ci_low": ci_lo,
            "ci_high": ci_hi,
            "n_persons": st["n_persons"],
            "headcount_start": n_start,
            "separations": st["separations"].round().astype(np.int64),
        },
    )


def _flows(
    sp, groups, w, excluded, pair, presence, kind, wanted, *, definition,
    annual="average_headcount",
) -> Cells:  # fmt: skip
    p0, p1, labels = _window_periods(kind, sp.first, sp.last, wanted)
    K = len(labels)
    monthly = annual == "sum_of_months" and kind != "month"
    if monthly:  # SHRM: the rate of a longer period is the sum of its monthly rates
        f0, f1, _ = _grid("month", sp.first, sp.last)
        f0 = np.maximum(f0, sp.first)
        f1 = np.minimum(f1, sp.last)
        parent = np.searchsorted(p1, f0, side="left")
        inside = (parent < K) & (f0 >= p0[np.minimum(parent, K - 1)])
        f0, f1, parent = f0[inside], f1[inside], parent[inside]
    else:
        f0, f1, parent = p0, p1, np.arange(K)
    F = len(f0)
    C = groups.n_cell
    cell = groups.cell
    # hires: start inside a period, not in scope the day before
    hk = _search_days(f1, sp.start, side="left")
    hk_ok = (hk < F) & (sp.start >= f0[np.minimum(hk, F - 1)]) & (sp.start <= sp.last)
    # in scope the day before the spell starts (through another spell of the same person)
    continues = presence.covers(pair, sp.start - 1)
    hire = hk_ok & ~continues
    # separations: last day inside a period, not in scope the day after
    sk = _search_days(f1, sp.end, side="left")
    sk_ok = (sp.end != _OPEN) & (sk < F) & (sp.end >= f0[np.minimum(sk, F - 1)])
    sep = sk_ok & ~presence.covers(pair, np.where(sp.end == _OPEN, sp.start, sp.end + 1))
    sep_counted = sep & ~excluded
    ck_h = cell * F + np.minimum(hk, F - 1)
    ck_s = cell * F + np.minimum(sk, F - 1)
    # row numbers and take() rather than boolean masks: several times faster
    rh, rs = np.flatnonzero(hire), np.flatnonzero(sep_counted)
    ck_hire, ck_sep = ck_h.take(rh), ck_s.take(rs)
    H = np.bincount(ck_hire, weights=w.take(rh), minlength=C * F)
    S = np.bincount(ck_sep, weights=w.take(rs), minlength=C * F)
    nH = np.bincount(ck_hire, minlength=C * F)
    nS = np.bincount(ck_sep, minlength=C * F)

    # headcount at the start: present on f0 - 1 and f0; at the end: present on f1 and f1 + 1.
    # A spell that continues another one of the same person in scope (one ends on the 30th, the
    # next starts on the 1st) counts from the day before its start, so the person stays in the
    # headcount across the boundary, as they are neither a separation nor a hire there.
    stock_start = np.where(continues, sp.start - 1, sp.start)

    def stock(first_day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Weighted and plain headcount of spells with ``stock_start < first_day[k] <= end``."""
        lo = _search_days(first_day, stock_start, side="right")
        hi = _search_days(first_day, sp.end, side="right") - 1
        ok = np.flatnonzero(hi >= lo)
        cell_ok = cell.take(ok) * (F + 1)
        at_lo = cell_ok + lo.take(ok)
        at_end = cell_ok + hi.take(ok) + 1
        out = []
        for weights in (w.take(ok), None):
            acc = np.bincount(at_lo, weights=weights, minlength=C * (F + 1)).astype(float)
            acc -= np.bincount(at_end, weights=weights, minlength=C * (F + 1))
            out.append(np.cumsum(acc.reshape(C, F + 1), axis=1)[:, :F].ravel())
        return out[0], np.rint(out[1]).astype(np.int64)

    E0, nE0 = stock(f0)
    E1, nE1 = stock(f1 + 1)
    # bufdir runs at unit scope only, where E_end - E_start = H - S per unit, so the confirmed
    # C = H + S - |E_end - E_start| is 2 min(H, S) per unit (also with fte weights, where a
    # change of position share inside a job is not churn)
    m_cell = np.minimum(H, S)
    nm_cell = np.minimum(nH, nS)
    # population for n_persons: spells overlapping the period inside the window
    s_c = np.maximum(sp.start, sp.first)
    e_c = np.minimum(sp.end, sp.last)
    lo = _search_days(p1, s_c, side="left")
    hi = _search_days(p0, e_c, side="right") - 1
    hi = np.where(e_c < s_c, lo - 1, hi)
    first_f = np.searchsorted(parent, np.arange(K), side="left")
    last_f = np.searchsorted(parent, np.arange(K), side="right") - 1
    out = []
    for g_of_cell, table in groups.groupings:
        G = len(table)
        gmap = np.repeat(g_of_cell * F, F) + np.tile(np.arange(F), C)

        def agg(x: np.ndarray, gmap=gmap, G=G) -> np.ndarray:
            return np.bincount(gmap, weights=x, minlength=G * F)

        st = {"h": agg(H), "s": agg(S), "e0": agg(E0), "e1": agg(E1), "nH": agg(nH),
              "nS": agg(nS), "nE0": agg(nE0), "nE1": agg(nE1)}  # fmt: skip
        if definition == "bufdir":  # min(H, S) per unit cell: not additive over persons
            st["m"], st["nm"] = agg(m_cell), agg(nm_cell)
        st["n_persons"] = _distinct_ranges(g_of_cell[cell], sp.person, lo, hi, G, K, sp.n_person)
        out.append((table, st))
    meta = {"definition": definition, "K": K, "F": F, "labels": list(labels), "monthly": monthly,
            "parent": parent, "first_f": first_f, "last_f": last_f,
            "dates": {"period_start": p0, "period_end": p1},
            "f_axis": [c for c in out[0][1] if c != "n_persons"] if out else []}  # fmt: skip
    return Cells(out, meta, dict(sp.window))


def _flows_frame(table, st, meta, divisor, confidence) -> pd.DataFrame:
    G, K, F, definition = len(table), meta["K"], meta["F"], meta["definition"]
    parent, monthly = meta["parent"], meta["monthly"]
    h, s_, e0, e1 = st["h"], st["s"], st["e0"], st["e1"]
    avg = (e0 + e1) / 2
    if definition == "separation":
        num, events = s_, st["nS"]
    elif definition == "hire":
        num, events = h, st["nH"]
    else:
        num, events = 2 * st["m"], st["nm"]
    den = avg * (2 if divisor == "replacement" else 1)
    n_hires, n_seps, n_e0, n_e1 = st["nH"], st["nS"], st["nE0"], st["nE1"]
    with np.errstate(divide="ignore", invalid="ignore"):
        if monthly:
            # a month with events but nobody in the headcount has no rate: NaN for the period
            rate_f = np.where(den > 0, num / den, np.where(num > 0, np.nan, 0.0))
            up = (np.repeat(np.arange(G) * K, F) + np.tile(parent, G)).astype(np.int64)

            def coarse(x: np.ndarray, up=up, G=G) -> np.ndarray:
                return np.bincount(up, weights=x, minlength=G * K)

            rate = coarse(rate_f)
            num, events = coarse(num), coarse(events)
            n_months = coarse((den > 0).astype(float))
            mean_den = coarse(np.where(den > 0, den, 0.0)) / n_months
            den = np.where(num > 0, num / rate, mean_den)
            n_hires, n_seps = coarse(n_hires), coarse(n_seps)
            n_e0 = n_e0.reshape(G, F)[:, meta["first_f"]].ravel()
            n_e1 = n_e1.reshape(G, F)[:, meta["last_f"]].ravel()
        else:
            rate = num / den
        scale = np.where(events > 0, rate / events, np.where(den > 0, 1 / den, np.nan))
        if definition == "bufdir":
            scale = np.where(events > 0, scale, 2 / den)
    ci_lo, ci_hi = _poisson_scaled(events, scale, confidence)
    n_pers = st["n_persons"]
    return _result_frame(
        table,
        K,
        n_pers > 0,
        period_labels=meta["labels"],
        tags={"definition": definition},
        dates=meta["dates"],
        values={
            "numerator": num,
            "denominator": den,
            "rate": np.where(den > 0, rate, np.nan),
            "ci_low": ci_lo,
            "ci_high": ci_hi,
            "n_persons": n_pers,
            "hires": n_hires.round().astype(np.int64),
            "separations": n_seps.round().astype(np.int64),
            "headcount_start": n_e0.round().astype(np.int64),
            "headcount_end": n_e1.round().astype(np.int64),
        },
    )
