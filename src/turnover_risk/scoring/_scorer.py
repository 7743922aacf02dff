"""The batch scorer of :func:`turnover_risk.score_dataset` and the rows it cannot score.

:class:`Scorer` gives the risk of leaving per row through the compiled path (``_fastpaths``),
checked against ``model.predict_proba`` on the first rows of a run; if they ever differ it warns
(:class:`ScoringFallbackWarning`) and falls back to ``predict_proba``. Rows with a missing key
or an infinite numeric feature are rejected and described (pandas frames:
:func:`find_bad_rows`; arrow batches: :meth:`Scorer.score_batch`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.scoring._fastpaths import _compile

MAX_REPORTED_REJECTS = 1000
"""Rejected rows described one by one in :attr:`ScoreResult.rejected` (all are counted)."""
VERIFY_ROWS = 2000
"""Rows on which the compiled scorer is checked against ``model.predict_proba``."""

_TOLERANCE = 1e-9


class ScoringFallbackWarning(TurnoverRiskWarning):
    """The compiled scorer disagreed with ``predict_proba``; the run used ``predict_proba``."""


class Scorer:
    """Risk of leaving per row: the compiled path, verified against ``predict_proba`` once.

    ``scorer(frame)`` returns the risk of each row of a pandas frame; :meth:`score_batch`
    scores a pyarrow record batch and finds its bad rows. A scorer pickles, so an engine sends
    one to its workers; each copy verifies itself on the first rows it scores.

    Parameters
    ----------
    model : TurnoverRiskModel
        A fitted model (any classifier with ``predict_proba`` and ``feature_names_in_`` works,
        through the slower ``predict_proba`` path).

    Attributes
    ----------
    columns : list of str
        The model's feature columns (every source must have them).
    numeric : set of str
        The numeric features (an infinite value there rejects the row).
    compiled : object or None
        The compiled pipeline; ``None`` when scoring with ``predict_proba``.

    Raises
    ------
    TypeError
        If ``model`` has no ``predict_proba`` or was not fitted on a DataFrame.
    """

    def __init__(self, model: Any) -> None:
        if not hasattr(model, "predict_proba"):
            raise TypeError(
                f"model must be a fitted TurnoverRiskModel (or a classifier with predict_proba); "
                f"got {type(model).__name__}."
            )
        self.model = model
        names = getattr(model, "feature_names_in_", None)
        if names is None:
            raise TypeError(
                f"model {type(model).__name__} has no feature_names_in_: fit it on a DataFrame "
                "(a panel from build_panel) before scoring."
            )
        self.columns = [str(c) for c in names]
        self.numeric = set(getattr(model, "_numeric_", ()))
        self.compiled = _compile(model)
        self.verified = False
        if self.compiled is None and hasattr(model, "pipeline_") and hasattr(model, "kind"):
            # every pipeline TurnoverRiskModel builds compiles; when one does not, scikit-learn's
            # internals have most likely changed under the fast path (see _compile)
            import sklearn

            warnings.warn(
                f"the fast scorer cannot replay this {model.kind} model's pipeline with "
                f"scikit-learn {sklearn.__version__}; scoring with predict_proba instead "
                "(slower, same results). Please report this with the model's manifest.",
                ScoringFallbackWarning,
                stacklevel=3,
            )

    @property
    def kind(self) -> str:
        """``"compiled"`` or ``"predict_proba"``: the path the next rows take."""
        return "compiled" if self.compiled is not None else "predict_proba"

    def reference(self, frame: pd.DataFrame) -> np.ndarray:
        """The risks of ``frame`` from ``model.predict_proba`` (the reference path)."""
        x = frame[self.columns]
        x.attrs = {}
        return np.asarray(self.model.predict_proba(x), dtype=np.float64)[:, 1]

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        """The risk of leaving of each row of ``frame`` (its feature columns are read)."""
        if len(frame) == 0:
            return np.zeros(0)
        if self.compiled is None:
            return self.reference(frame)
        p = self.compiled.proba(frame)
        if not self.verified and not self._verify(p, frame):
            return self.reference(frame)
        return p

    def _verify(self, p: np.ndarray, frame: pd.DataFrame) -> bool:
        """Check the compiled risks ``p`` of ``frame`` against predict_proba (first rows)."""
        k = min(len(frame), VERIFY_ROWS)
        ref = self.reference(frame.iloc[:k])
        if not np.allclose(p[:k], ref, rtol=0.0, atol=_TOLERANCE):
            worst = float(np.nanmax(np.abs(p[:k] - ref)))
            warnings.warn(
                f"the compiled scorer differs from model.predict_proba by up to {worst:.2e} "
                "on the first rows; scoring with predict_proba instead (slower). Please "
                "report this with the model's manifest.",
                ScoringFallbackWarning,
                stacklevel=4,
            )
            self.compiled = None
            return False
        self.verified = True
        return True

    def score_batch(
        self, batch: Any, key_cols: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str, str, str]]]:
        """Score a pyarrow record batch: ``(risk of the good rows, bad mask, problems)``.

        Rows with a missing key or an infinite numeric feature are bad (as in
        :func:`find_bad_rows`); the compiled scorer reads the batch's columns without pandas.
        """
        n = batch.num_rows
        names = set(batch.schema.names)
        bad = np.zeros(n, dtype=bool)
        problems: list[tuple[int, str, str, str]] = []
        for c in (c for c in key_cols if c in names):
            col = batch.column(c)
            if col.null_count:
                miss = col.is_null().to_numpy(zero_copy_only=False)
                for i in np.flatnonzero(miss)[:MAX_REPORTED_REJECTS]:
                    problems.append((int(i), c, "<missing>", f"{c} is missing"))
                bad |= miss
        compiled = self.compiled
        raw = compiled.raw(batch) if compiled is not None and n else None
        # infinite features: the logistic's log-odds show them for free; else look per column
        if raw is None or compiled.kind != "logistic" or not np.isfinite(raw).all():
            inf_bad, inf_problems = self._infinite_rows(batch)
            bad |= inf_bad
            problems.extend(inf_problems)
        good = ~bad
        if raw is None:
            if not n:
                return np.zeros(0), bad, problems
            frame = batch.select(self.columns).filter(good).to_pandas() if bad.any() else None
            if frame is None:
                frame = batch.select(self.columns).to_pandas()
            frame.attrs = {}
            return self.reference(frame), bad, problems
        p = compiled.link(raw[good] if bad.any() else raw)
        if not self.verified and len(p):
            rows = batch.select(self.columns)
            if bad.any():
                rows = rows.filter(good)
            frame = rows.slice(0, VERIFY_ROWS).to_pandas()
            frame.attrs = {}
            if not self._verify(p, frame):
                frame = rows.to_pandas()
                frame.attrs = {}
                return self.reference(frame), bad, problems
        return p, bad, problems

    def _infinite_rows(self, batch: Any) -> tuple[np.ndarray, list[tuple[int, str, str, str]]]:
        import pyarrow as pa

        bad = np.zeros(batch.num_rows, dtype=bool)
        problems: list[tuple[int, str, str, str]] = []
        for c in self.columns:
            if c not in self.numeric or not pa.types.is_floating(batch.schema.field(c).type):
                continue
            values = batch.column(c).to_numpy(zero_copy_only=False)
            inf = np.isinf(values)
            if inf.any():
                for i in np.flatnonzero(inf)[:MAX_REPORTED_REJECTS]:
                    problems.append((int(i), c, str(values[i]), f"{c} is not finite"))
                bad |= inf
        return bad, problems


def compile_scorer(model: Any) -> Scorer:
    """The batch scorer :func:`score_dataset` uses (``scorer(frame) -> risk per row``).

    The same as ``Scorer(model)``; see :class:`Scorer`.
    """
    return Scorer(model)


def find_bad_rows(
    frame: pd.DataFrame, scorer: Scorer, key_cols: Sequence[str]
) -> tuple[np.ndarray, list[tuple[int, str, str, str]]]:
    """Rows that cannot be scored: a missing key (id, period) or an infinite numeric feature.

    Returns the boolean mask and ``(position, column, value, problem)`` per problem found.
    """
    bad = np.zeros(len(frame), dtype=bool)
    problems: list[tuple[int, str, str, str]] = []
    for c in (c for c in key_cols if c in frame.columns):
        miss = frame[c].isna().to_numpy()
        if miss.any():
            for i in np.flatnonzero(miss)[:MAX_REPORTED_REJECTS]:
                problems.append((int(i), c, "<missing>", f"{c} is missing"))
            bad |= miss
    for c in scorer.columns:
        s = frame[c]
        if c not in scorer.numeric or not pd.api.types.is_float_dtype(s):
            continue
        values = (
            s.to_numpy()
            if isinstance(s.dtype, np.dtype)
            else s.to_numpy(dtype=np.float64, na_value=np.nan)
        )
        inf = np.isinf(values)
        if inf.any():
            for i in np.flatnonzero(inf)[:MAX_REPORTED_REJECTS]:
                problems.append((int(i), c, str(s.iloc[i]), f"{c} is not finite"))
            bad |= inf
    return bad, problems
