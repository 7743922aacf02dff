"""Scoring-time checks: values the model never saw are never scored silently.

:class:`InputChecks` follows a scoring run batch by batch (pandas frames or arrow record
batches) against the model's reference profile (``model.input_profile_``): per feature the
rows in each profile bin, the rows **outside the plausible range** and the rows with **unseen
categories**, with the file and row number (never an identifier) of the first of them. At the
end :meth:`InputChecks.finish` gives one warning line with the counts, the problem rows, and a
drift table like :func:`~turnover_risk.check_drift`'s.

A stream does not always carry the person of each row (the fast arrow path reads identifiers
only when it must), so the drift table here compares *row* shares with the training rows
(numeric bins counted on a systematic sample of each batch, :data:`SAMPLE_ROWS`), and
its tests use the number of persons when the rows carry an identifier, else the rows divided by
the training data's rows per person (right for a panel over as many periods as the training
data, conservative for fewer). :func:`~turnover_risk.check_drift` on a panel is the full check.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._warnings import DataQualityWarning
from turnover_risk.governance._drift import DriftResult, compare_counts, decide
from turnover_risk.models._profile import bin_codes

__all__ = ["MAX_REPORTED_PROBLEMS", "InputChecks", "drift_path", "write_drift_csv"]

MAX_REPORTED_PROBLEMS = 1000
"""Problem rows kept with their row number (the counts are always complete)."""
SAMPLE_ROWS = 32_768
"""Rows per batch (at least) whose numeric values are binned for the drift table: a systematic
sample (every k-th row) keeps the check cheap beside the compiled scorer; the range check and
the unseen categories always look at every row."""
PROBLEM_COLUMNS = ("file", "row", "column", "value", "problem")


def _column(data: Any, name: str, numeric: bool) -> Any:
    """A column as a Series (pandas) or, from arrow, a float array or an arrow array."""
    if isinstance(data, pd.DataFrame):
        return data[name]
    col = data.column(data.schema.get_field_index(name))
    if numeric:  # float32 stays float32 (the profile's edges are compared as Python floats)
        x = col.to_numpy(zero_copy_only=False)
        return x if x.dtype.kind == "f" else x.astype(np.float64)
    return col


def _value_at(values: Any, pos: int) -> str:
    if isinstance(values, pd.Series):
        return str(values.iloc[pos])
    v = values[pos]
    return str(v.as_py() if hasattr(v, "as_py") else v)


class InputChecks:
    """Counts of a scoring run's inputs against a model's profile (see the module docstring).

    Parameters
    ----------
    model : TurnoverRiskModel
        The model scoring; without ``input_profile_`` (0.1.0 files) nothing is checked and
        :meth:`finish` says so in its warning.
    id_col : str, optional
        Column with the person of each row, counted when present in a batch.
    """

    def __init__(self, model: Any, id_col: str | None = None) -> None:
        self.profile = getattr(model, "input_profile_", None)
        self.id_col = id_col
        self.n_rows = 0
        self.persons: set = set()
        self.ids_seen = True
        self.problems: list[tuple] = []
        feats = self.profile["features"] if self.profile else {}
        self.counts = {c: np.zeros(len(f["labels"]) + 1) for c, f in feats.items()}
        self.missing = dict.fromkeys(feats, 0)
        self.unseen = dict.fromkeys(feats, 0)
        self.out_of_range = dict.fromkeys(feats, 0)

    def add(self, data: Any, file: str = "", first_row: int = 0) -> None:
        """Count one batch (a pandas DataFrame or a pyarrow RecordBatch)."""
        if self.profile is None:
            return
        n = len(data) if isinstance(data, pd.DataFrame) else data.num_rows
        names = data.columns if isinstance(data, pd.DataFrame) else data.schema.names
        self.n_rows += n
        if self.id_col is not None and self.id_col in names:
            ids = _column(data, self.id_col, False)
            ids = ids if isinstance(ids, pd.Series) else pd.Series(ids.to_pandas())
            self.persons.update(pd.unique(ids.dropna()))
        else:
            self.ids_seen = False
        step = max(1, n // SAMPLE_ROWS)
        for c, f in self.profile["features"].items():
            if c not in names:
                continue
            values = _column(data, c, f["kind"] == "numeric")
            if f["kind"] == "numeric":
                # every row is checked against the range (two reductions first: the full
                # comparison only runs when a value lies outside); the bins are counted on a
                # systematic sample of the batch, weighted back to its rows
                codes, _, _ = bin_codes({**f, "low": None}, values[::step])
                oor = None
                if f["low"] is not None and len(values):
                    lo, hi = np.fmin.reduce(values), np.fmax.reduce(values)
                    if lo < f["low"] or hi > f["high"]:
                        oor = (values < float(f["low"])) | (values > float(f["high"]))
                unseen = None
            else:
                codes, _, unseen = bin_codes(f, values)
                oor, step_c = None, 1
            weight = step if f["kind"] == "numeric" else step_c
            self.counts[c] += weight * np.bincount(codes, minlength=len(self.counts[c]))
            self.missing[c] += weight * int((codes == len(f["labels"]) - 1).sum())
            for mask, what in ((oor, "out_of_range"), (unseen, "unseen")):
                k = int(mask.sum()) if mask is not None else 0
                if not k:
                    continue
                getattr(self, what)[c] += k
                room = MAX_REPORTED_PROBLEMS - len(self.problems)
                for pos in np.flatnonzero(mask)[: max(0, room)]:
                    self.problems.append(
                        (file, first_row + int(pos), c, _value_at(values, pos), self._text(f, what))
                    )

    @classmethod
    def merged(cls, checks: list[InputChecks]) -> InputChecks:
        """New checks holding the counts of ``checks`` (of one model) merged in order."""
        first = checks[0]
        return cls(SimpleNamespace(input_profile_=first.profile), first.id_col).merge(*checks)

    def merge(self, *others: InputChecks) -> InputChecks:
        """Add the counts of other checks of the same model (partitions of one run) to these.

        Counts add up, the persons are united, problem rows are kept in the order given (up
        to :data:`MAX_REPORTED_PROBLEMS`): merging the checks of a run's partitions in order
        gives what one object fed every partition would hold. Returns ``self``.
        """
        for o in others:
            if o.profile is None or self.profile is None:
                self.profile = None
                continue
            self.n_rows += o.n_rows
            self.persons |= o.persons
            self.ids_seen = self.ids_seen and o.ids_seen
            room = MAX_REPORTED_PROBLEMS - len(self.problems)
            self.problems.extend(o.problems[: max(0, room)])
            for c in self.counts:
                self.counts[c] = self.counts[c] + o.counts[c]
                for what in ("missing", "unseen", "out_of_range"):
                    getattr(self, what)[c] += getattr(o, what)[c]
        return self

    @staticmethod
    def _text(f: dict, what: str) -> str:
        if what == "unseen":
            return f"category not seen in training (known: {', '.join(f['seen'][:8])})"
        return (
            f"outside the training range [{f['low']:.4g}, {f['high']:.4g}]; scored, but the "
            "model never saw such a value (wrong unit or scale?)"
        )

    def problem_rows(self) -> pd.DataFrame:
        """``file``, ``row`` (0-based row of the file or frame), ``column``, ``value``, ``problem``."""
        return pd.DataFrame(self.problems, columns=list(PROBLEM_COLUMNS))

    def drift(self) -> DriftResult | None:
        """The drift table of the run (``None`` without a profile)."""
        if self.profile is None:
            return None
        ref_rows_per_person = self.profile["n_rows"] / max(1, self.profile["n_persons"])
        n_persons = (
            len(self.persons)
            if self.ids_seen and self.persons
            else max(1.0, self.n_rows / ref_rows_per_person)
        )
        rows = []
        for c, f in self.profile["features"].items():
            ref = {**f, "counts": [float(v) for v in f["rows"]]}  # row shares against rows
            rows.append(
                compare_counts(
                    c,
                    ref,
                    self.counts[c],
                    n_rows=self.n_rows,
                    n_persons=self.n_rows,
                    cluster_ratio=n_persons / max(1, self.n_rows),
                    missing_rows=self.missing[c],
                    unseen=self.unseen[c],
                    out_of_range=self.out_of_range[c],
                )
            )
        table = decide(rows)
        table["n_persons"] = float(n_persons)
        table["cluster"] = "person" if self.ids_seen and self.persons else "rows per person"
        return DriftResult(
            table=table,
            reference={"n_rows": self.profile["n_rows"], "n_persons": self.profile["n_persons"]},
            settings={"stream": True},
        )

    def finish(self, *, stacklevel: int = 2) -> tuple[DriftResult | None, pd.DataFrame]:
        """Warn once (counts per feature) and return the drift table and the problem rows."""
        if self.profile is None:
            warnings.warn(
                "the model has no reference profile of its training inputs (fitted by "
                "turnover_risk 0.1.0): values outside the training range and unseen categories "
                "were not checked. Refit the model with this version to check them.",
                DataQualityWarning,
                stacklevel=stacklevel + 1,
            )
            return None, self.problem_rows()
        oor = ", ".join(f"{c} {k} rows" for c, k in self.out_of_range.items() if k)
        new = ", ".join(f"{c} {k} rows" for c, k in self.unseen.items() if k)
        if oor or new:
            what = "; ".join(
                [*([f"outside the training range: {oor}"] if oor else []),
                 *([f"unseen categories: {new}"] if new else [])]
            )  # fmt: skip
            warnings.warn(
                f"values the model never saw (of {self.n_rows} rows read) - {what}. They were "
                "scored; the rows are listed in result.input_problems.",
                DataQualityWarning,
                stacklevel=stacklevel + 1,
            )
        return self.drift(), self.problem_rows()


def drift_path(out: str | Path) -> Path:
    """Where the drift summary of a scoring output goes: ``risk.parquet`` -> ``risk.drift.csv``."""
    out = Path(out)
    return out.with_name(f"{out.stem}.drift.csv")


def write_drift_csv(drift: DriftResult, out: str | Path) -> Path:
    """Write ``drift.table`` beside the scoring output ``out`` (atomically; see :func:`drift_path`).

    The file belongs to that output: it is replaced together with it.
    """
    path = drift_path(out)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        drift.table.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
