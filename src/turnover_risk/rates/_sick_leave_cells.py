"""Sick-leave cell statistics, the interval's second pass and the finish (private).

:func:`rate_stats` sums, per grouping and certification variant, the lost and agreed days,
long-spell days, spells, persons and the largest per-person lost days of each group-period,
and keeps the person clusters. The delta-method interval needs ``sum_i (l_i - R d_i)^2`` over
the persons ``i`` of a group with the group's ratio ``R``: :func:`add_ratio_ss` adds it in a
second pass once ``R`` is known (from the same cells in one process; from the combined cells
when a register is split into parts by person), so the sum is of the same residuals as in one
process. :func:`finish_sick_leave` turns the statistics into the table.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.rates._cells import Cells
from turnover_risk.rates._common import _finish, _result_frame
from turnover_risk.rates._encode import Pool
from turnover_risk.rates._grouping import _distinct
from turnover_risk.rates._intervals import _ratio_bounds, _ratio_ss

_VARIANTS = {"all": None, "self": True, "doctor": False}


def overlap_warning(n_overlaps: int) -> None:
    """The warning for absences overlapping an earlier one of the same person."""
    warnings.warn(
        f"sick_leave_rate: {n_overlaps} absence spells overlap an earlier spell of the "
        "same person; each day is counted once (in the earlier spell). Run "
        "turnover_risk.validate(register) to see them (rule overlapping_absence).",
        DataQualityWarning,
        stacklevel=6,
    )


@dataclass
class SickClusters:
    """Per grouping ``(cl_gp, cl_u, m, d_cl, {certification: l_cl})``: each person cluster's
    group-period, key (``group-period * m + person``), agreed and lost days."""

    per_grouping: list[tuple[np.ndarray, np.ndarray, int, np.ndarray, dict[str, np.ndarray]]]

    def entries(self, cells: Cells, group_of: list[np.ndarray] | None = None) -> list[tuple]:
        """``(first cell, cl_gp, cl_u, m, l_cl)`` per frame of :func:`finish_sick_leave`
        (``group_of``: each grouping's local group -> group of ``cells``)."""
        out, n_cells = [], 0
        K = cells.meta["K"]
        for i, ((table, _), (cl_gp, cl_u, m, _, l_cls)) in enumerate(
            zip(cells.groupings, self.per_grouping, strict=False)
        ):
            gp = cl_gp if group_of is None else group_of[i][cl_gp // K] * K + cl_gp % K
            for cname in cells.meta["certs"]:
                out.append((n_cells, gp, cl_u, m, l_cls[cname]))
                n_cells += len(table) * K
        return out


def rate_stats(
    pool: Pool,
    ag,
    pc,
    groups,
    K: int,
    labels: list[str],
    p0: np.ndarray,
    p1: np.ndarray,
    certification: str,
    n_absences: int,
    n_person: int,
) -> tuple[Cells, SickClusters]:
    """Per grouping and certification variant the additive sums (the distinct counts run on
    ``pool``); ``|cert`` suffixes name a variant's statistics."""
    certs = ["all", "self", "doctor"] if certification == "split" else [certification]
    groupings, clusters = [], []
    for (g_of_cell, table), (gp_e, D, cl, cl_u, cl_gp, d_cl, n_cl, n_any) in zip(
        groups.groupings, ag.per_grouping, strict=True
    ):
        G = len(table)
        gp_p = g_of_cell[pc.cell] * K + pc.pk
        st = {"denominator": D, "n_persons": n_cl, "n_any": n_any}
        l_cls = {}
        for cname in certs:
            flag = _VARIANTS[cname]
            # row numbers and take() rather than boolean masks: several times faster
            m = None if flag is None else (pc.is_self == flag)
            mm = np.flatnonzero(pc.positive if m is None else (m & pc.positive))
            gp_mm = gp_p.take(mm)
            spells = pool.submit(_distinct, gp_mm, pc.a_idx.take(mm), G * K, n_absences)
            absent = pool.submit(_distinct, gp_mm, pc.person.take(mm), G * K, n_person)
            if m is None:
                lost_row = np.bincount(pc.row, weights=pc.lost, minlength=ag.n_rows)
            else:
                rm = np.flatnonzero(m)
                lost_row = np.bincount(
                    pc.row.take(rm), weights=pc.lost.take(rm), minlength=ag.n_rows
                )
            ml = mm.take(np.flatnonzero(pc.long.take(mm)))
            l_cl = np.bincount(cl, weights=lost_row, minlength=len(cl_u))
            st[f"numerator|{cname}"] = np.bincount(gp_e, weights=lost_row, minlength=G * K)
            st[f"long|{cname}"] = np.bincount(
                gp_p.take(ml), weights=pc.lost.take(ml), minlength=G * K
            )
            st[f"n_spells|{cname}"] = spells.result()
            st[f"n_persons_absent|{cname}"] = absent.result()
            st[f"_top_lost|{cname}"] = _top_per_group(cl_gp, l_cl, G * K)
            l_cls[cname] = l_cl
        groupings.append((table, st))
        clusters.append((cl_gp, cl_u, max(n_person, 1), d_cl, l_cls))
    meta = {"measure": "sick_leave", "K": K, "F": K, "labels": list(labels), "certs": certs,
            "dates": {"period_start": p0, "period_end": p1},
            "max_cols": [f"_top_lost|{c}" for c in certs],
            "s_axis": [f"ss|{c}" for c in certs]}  # fmt: skip
    return Cells(groupings, meta), SickClusters(clusters)


def add_ratio_ss(
    cells: Cells,
    clusters: SickClusters,
    ratio: list[dict[str, np.ndarray]] | None = None,
) -> None:
    """Add ``ss|cert``: per group-period the sum over its person clusters of
    ``(l_i - R d_i)^2``, ``R`` the group's ratio - of ``cells`` itself, or given per grouping
    (``ratio``: the ratio of the whole register, mapped to these cells' groups)."""
    for i, ((table, st), (cl_gp, _, _, d_cl, l_cls)) in enumerate(
        zip(cells.groupings, clusters.per_grouping, strict=True)
    ):
        for cname, l_cl in l_cls.items():
            if ratio is None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    R = st[f"numerator|{cname}"] / st["denominator"]
            else:
                R = ratio[i][cname]
            st[f"ss|{cname}"] = _ratio_ss(R, l_cl, d_cl, cl_gp, len(table) * cells.meta["K"])


def ratios(cells: Cells) -> list[dict[str, np.ndarray]]:
    """Each grouping's ratio ``R = lost / agreed`` per certification variant."""
    out = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for _, st in cells.groupings:
            out.append({c: st[f"numerator|{c}"] / st["denominator"] for c in cells.meta["certs"]})
    return out


def finish_sick_leave(
    cells: Cells, *, by: list[str], margins: bool, confidence: float
) -> pd.DataFrame:
    """The unsuppressed sick-leave table (with ``_top_lost`` and the frames' cell numbers in
    ``_cell``) from its cell statistics, ``ss`` included (one code for every engine)."""
    meta = cells.meta
    K = meta["K"]
    frames = []
    n_cells = 0
    for table, st in cells.groupings:
        G = len(table)
        D, n_cl = st["denominator"], st["n_persons"]
        for cname in meta["certs"]:
            L = st[f"numerator|{cname}"]
            with np.errstate(divide="ignore", invalid="ignore"):
                R = L / D
                long_share = np.where(L > 0, st[f"long|{cname}"] / L, np.nan)
            ci_lo, ci_hi = _ratio_bounds(R, st[f"ss|{cname}"], D, n_cl, confidence)
            rate = np.where(D > 0, R, np.nan)
            frames.append(
                _result_frame(
                    table,
                    K,
                    st["n_any"] > 0,
                    period_labels=meta["labels"],
                    tags={"certification": cname},
                    dates=meta["dates"],
                    values={
                        "numerator": L,
                        "denominator": D,
                        "rate": rate,
                        "percent": 100 * rate,
                        "ci_low": ci_lo,
                        "ci_high": ci_hi,
                        "n_persons": n_cl,
                        "n_spells": st[f"n_spells|{cname}"],
                        "n_persons_absent": st[f"n_persons_absent|{cname}"],
                        "long_spell_share": long_share,
                        "_top_lost": st[f"_top_lost|{cname}"],
                        "_cell": n_cells + np.arange(G * K),
                    },
                )
            )
            n_cells += G * K
    value_cols = ["numerator", "denominator", "rate", "percent", "ci_low", "ci_high",
                  "n_spells", "n_persons_absent", "long_spell_share"]  # fmt: skip
    out = _finish(frames, by=by, margins=margins, min_group_size=0, value_cols=value_cols,
                  within=("period", "certification"), raw=True)  # fmt: skip
    out.attrs["observation_window"] = dict(cells.window)
    return out


def _person_parts(
    frames: list[tuple], cell_of_row: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(row, person, lost days)``: each person's lost days in each row of the table, from the
    clusters (``frames``: :meth:`SickClusters.entries`; ``cell_of_row``: the table's
    ``_cell`` column)."""
    row_of_cell = np.full(int(cell_of_row.max(initial=-1)) + 1, -1, dtype=np.int64)
    row_of_cell[cell_of_row] = np.arange(len(cell_of_row))
    rows, persons, lost = [], [], []
    for first, cl_gp, cl_u, m, l_cl in frames:
        cell = first + cl_gp
        row = np.where(
            cell < len(row_of_cell), row_of_cell[np.minimum(cell, len(row_of_cell) - 1)], -1
        )
        keep = row >= 0  # cells of absent groups have no row
        rows.append(row[keep])
        persons.append((cl_u % m)[keep])
        lost.append(l_cl[keep])
    return np.concatenate(rows), np.concatenate(persons), np.concatenate(lost)


def _top_per_group(cl_gp: np.ndarray, l_cl: np.ndarray, n: int) -> np.ndarray:
    """The largest per-person lost days of each group-period (clusters are sorted by group)."""
    top = np.zeros(n)
    if len(cl_gp) == 0:
        return top
    starts = np.flatnonzero(np.r_[True, cl_gp[1:] != cl_gp[:-1]])
    top[cl_gp[starts]] = np.maximum.reduceat(l_cl, starts)
    return top
