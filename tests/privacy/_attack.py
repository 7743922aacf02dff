"""An attacker for the privacy tests: differences published tables exactly.

Every published cell's numerator is a sum over *atoms* - (unit, month, category) cells that hold
at least one person. A hidden cell is recoverable from a set of published tables when its atom
indicator lies in the span of the shown cells' indicators (any combination of additions and
subtractions of shown cells gives it). This is independent of how the library chose what to hide.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.linalg

TOTAL = "All"


def months_of(label: str) -> list[str]:
    """The months ("2021-03") a period label covers."""
    if len(label) == 4:
        return [f"{label}-{m:02d}" for m in range(1, 13)]
    if "Q" in label:
        y, q = label.split("Q")
        return [f"{y}-{m:02d}" for m in range(3 * int(q) - 2, 3 * int(q) + 1)]
    return [label]


class Atoms:
    """The non-empty atoms: a frame with columns unit_id, month and the category columns."""

    def __init__(self, atoms: pd.DataFrame, units: pd.DataFrame, cats: list[str]) -> None:
        self.cats = cats
        self.frame = atoms.drop_duplicates().reset_index(drop=True).astype(str)
        u = units.astype(str).set_index("unit_id")
        for c in ("municipality", "service"):
            self.frame[c] = self.frame["unit_id"].map(u[c])
        self.index = {
            m: np.flatnonzero(self.frame["month"].to_numpy() == m) for m in set(self.frame["month"])
        }

    def indicator(self, row: pd.Series, by: list[str]) -> np.ndarray:
        f = self.frame
        keep = np.zeros(len(f), dtype=bool)
        for m in months_of(str(row["period"])):
            keep[self.index.get(m, [])] = True
        for c in by:
            v = row[c]
            if isinstance(v, str) and v == TOTAL:
                continue
            keep &= f[c].to_numpy() == str(v)
        return keep.astype(float)


def table_vectors(table: pd.DataFrame, atoms: Atoms, by: list[str], value: str):
    """(indicator rows, shown mask, cell labels) of a published table; rows of the whole
    certification 'all' only when split."""
    if "certification" in table.columns:
        table = table[table["certification"].astype(str) == "all"]
    vecs, shown, labels = [], [], []
    for _, row in table.iterrows():
        vec = atoms.indicator(row, by)
        if not vec.any():
            continue
        vecs.append(vec)
        shown.append(not bool(row["suppressed"]))
        labels.append(tuple(str(row[c]) for c in [*by, "period"]))
    return np.array(vecs).reshape(-1, len(atoms.frame)), np.array(shown, dtype=bool), labels


def recovered(tables: list[tuple[np.ndarray, np.ndarray, list]]) -> list:
    """Labels of hidden cells whose indicator lies in the span of all shown indicators."""
    shown = [v[s] for v, s, _ in tables if s.any()]
    if not shown:
        return []
    S = np.vstack(shown)
    # orthonormal basis of the row space of S
    q, r, _ = scipy.linalg.qr(S.T, mode="economic", pivoting=True)
    diag = np.abs(np.diag(r)) if r.size else np.zeros(0)
    rank = int((diag > 1e-9 * max(1.0, diag.max(initial=0))).sum())
    basis = q[:, :rank]
    out = []
    for v, s, labels in tables:
        hidden_labels = [lab for lab, ok in zip(labels, s, strict=True) if not ok]
        for vec, lab in zip(v[~s], hidden_labels, strict=True):
            resid = vec - basis @ (basis.T @ vec)
            if np.abs(resid).max() < 1e-7:
                out.append(lab)
    return out
