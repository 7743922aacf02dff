"""Streaming batch scoring: constant memory on one machine, Dask beyond it.

:func:`score_dataset` scores a whole population with a fitted
:class:`~turnover_risk.TurnoverRiskModel` without holding it in memory:

* a **panel** (one Parquet file or a folder of Parquet files written from ``build_panel``) is
  read in record batches with pyarrow and scored batch by batch;
* a **register** (a folder read with :func:`~turnover_risk.read_register`, or a
  :class:`~turnover_risk.Register`) is turned into panel rows one partition of employees at a
  time (:func:`turnover_risk.features.build_partition`; the register itself and the unit-level
  features are computed once and stay in memory, the person-period rows never do);
* a pandas panel is scored in slices; a Dask DataFrame goes to :mod:`turnover_risk.distributed`.

The default output is **group level**: per group (``by``, default ``unit_id``) and period the
number of persons, the expected number of leavers within the model's horizon (sum of risks) and
the mean risk, with groups under ``min_group_size`` suppressed
(:func:`turnover_risk.privacy.suppress_small_groups`). Row-level risks are written only with
``row_level=True``. Output is written to a temporary file in the target folder and renamed at
the end, so an interrupted run never leaves a half-written file under the output name.

Throughput comes from a *compiled* scorer: the fitted preprocessing (median imputation, missing
indicators, scaling, one-hot encoding) is replayed with numpy column by column. The logistic
model becomes one weighted sum (coefficients folded with the scaler); the gbm's trees run in
scikit-learn's Cython predictor on a compact uint8 code per (row, feature) that takes exactly
the branches the raw values take (:class:`_BinnedTrees`), on row blocks shared by
``TURNOVER_RISK_SCORING_THREADS`` threads (default: the usable cores, at most 8). A Parquet
source never goes through pandas: the needed columns are read as arrow record batches, group
keys dictionary-encoded, and the group sums are ``np.bincount`` over integer codes. The
compiled path is checked against ``model.predict_proba`` on the first rows of the run (to
1e-9) and the run falls back to ``predict_proba`` if they ever differ.
"""

from __future__ import annotations

import json
import os
import time
import uuid
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy.special import expit
from threadpoolctl import threadpool_limits

from turnover_risk._progress import bar
from turnover_risk._spec import ATTRS_KEY, PanelSpec
from turnover_risk._warnings import TurnoverRiskWarning
from turnover_risk.privacy import (
    DEFAULT_MIN_GROUP_SIZE,
    check_min_group_size,
    suppress_small_groups,
)
from turnover_risk.schema import Register

__all__ = ["DEFAULT_BATCH_ROWS", "ENGINES", "ScoreResult", "score_dataset"]

DEFAULT_BATCH_ROWS = 262_144
"""Rows per record batch (about 60 MB of float32 features for a monthly panel)."""

ENGINES: tuple[str, ...] = ("pandas", "dask")
MAX_REPORTED_REJECTS = 1000
"""Rejected rows described one by one in :attr:`ScoreResult.rejected` (all are counted)."""
VERIFY_ROWS = 2000
"""Rows on which the compiled scorer is checked against ``model.predict_proba``."""
GBM_BLOCK_ROWS = 4096
"""Rows per call of the tree predictor (keeps the block in the CPU cache)."""
_TOLERANCE = 1e-9
_REJECT_COLUMNS = ["file", "row", "column", "value", "problem"]


class ScoringFallbackWarning(TurnoverRiskWarning):
    """The compiled scorer disagreed with ``predict_proba``; the run used ``predict_proba``."""


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class ScoreResult:
    """What :func:`score_dataset` did.

    Attributes
    ----------
    path : Path
        The output written (a file; a folder of part files for row-level Dask output).
    rows_read, rows_scored, rows_rejected : int
        ``rows_read == rows_scored + rows_rejected`` always.
    rejected : DataFrame
        The first :data:`MAX_REPORTED_REJECTS` problems: ``file``, ``row`` (0-based row of the
        file, or of the input frame), ``column``, ``value``, ``problem``. No identifiers.
    table : DataFrame or None
        The group-level table that was written (``None`` for row-level output).
    seconds : float
        Wall-clock time of the run.
    engine : str
        ``"pandas"`` or ``"dask"``.
    row_level : bool
        Whether row-level risks were written.
    info : dict
        Extra facts (batches, partitions, scorer used, time per phase).
    """

    path: Path
    rows_read: int
    rows_scored: int
    rows_rejected: int
    rejected: pd.DataFrame
    table: pd.DataFrame | None
    seconds: float
    engine: str
    row_level: bool
    info: dict = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        """Rows read per second of wall-clock time."""
        return self.rows_read / self.seconds if self.seconds > 0 else float("inf")

    def __repr__(self) -> str:
        what = "row-level risks" if self.row_level else f"{len(self.table)} group rows"
        return (
            f"ScoreResult({self.rows_scored:,} of {self.rows_read:,} rows scored, "
            f"{self.rows_rejected:,} rejected; {what} -> {str(self.path)!r}; "
            f"{self.seconds:.1f} s, {self.rows_per_second:,.0f} rows/s, engine={self.engine!r})"
        )


# --------------------------------------------------------------------------------------------
# the compiled scorer
# --------------------------------------------------------------------------------------------


def _as_float(s: pd.Series) -> np.ndarray:
    """A numeric column as a new float64 array, NaN for missing."""
    if isinstance(s.dtype, np.dtype) and s.dtype.kind == "f":
        return s.to_numpy().astype(np.float64)  # the common case: no NA scan needed
    if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
        if not pd.api.types.is_bool_dtype(s) and not s.isna().all():
            raise TypeError(
                f"column {s.name!r} was numeric when the model was fitted but has dtype "
                f"{s.dtype} now; convert it back to numbers."
            )
        s = s.astype("Float64")
    return s.to_numpy(dtype=np.float64, na_value=np.nan)


def _category_positions(s: pd.Series, categories: np.ndarray, fill: object) -> np.ndarray:
    """Position of each value in ``categories`` (-1 unknown); missing values become ``fill``."""
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    return _lookup_positions(np.asarray(uniques, dtype=object), categories, fill)[codes]


def _lookup_positions(uniques: np.ndarray, categories: np.ndarray, fill: object) -> np.ndarray:
    """Positions of ``uniques`` in ``categories`` plus one last slot for missing (code -1).

    Missing values (None, NaN, NaT) among ``uniques`` take the position of ``fill``, as the
    model's constant imputer does; values the encoder never saw get -1 (all-zero one-hot).
    """
    lookup = pd.Index(categories, dtype=object)
    pos = lookup.get_indexer(pd.Index(uniques, dtype=object)).astype(np.int64)
    missing = lookup.get_indexer(pd.Index([fill], dtype=object))[0]
    na = pd.isna(uniques)
    if na.any():
        pos[np.asarray(na, dtype=bool)] = missing
    return np.append(pos, missing).astype(np.int64)


class _FrameColumns:
    """Column access of the compiled scorer to a pandas frame."""

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame
        self.n = len(frame)

    def numeric(self, name: str) -> np.ndarray:
        return _as_float(self.frame[name])

    def positions(self, name: str, categories: np.ndarray, fill: object) -> np.ndarray:
        return _category_positions(self.frame[name], categories, fill)


class _ArrowColumns:
    """Column access of the compiled scorer to a pyarrow record batch, without pandas.

    Numeric columns become numpy arrays (float32 stays float32, nulls become NaN; the
    scorer widens to float64 exactly as the model's ``_prepare`` does); categorical columns
    are dictionary-encoded and only their (few) distinct values are looked up.
    """

    def __init__(self, batch: Any) -> None:
        self.batch = batch
        self.n = batch.num_rows

    def numeric(self, name: str) -> np.ndarray:
        import pyarrow as pa

        arr = self.batch.column(name)
        t = arr.type
        if pa.types.is_floating(t) or pa.types.is_integer(t):
            x = arr.to_numpy(zero_copy_only=False)  # nulls -> NaN (ints with nulls: float64)
            return x if x.dtype.kind == "f" else x.astype(np.float64)
        if pa.types.is_boolean(t) or pa.types.is_null(t):
            return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        if pa.types.is_decimal(t):
            return arr.cast(pa.float64()).to_numpy(zero_copy_only=False)
        return _as_float(arr.to_pandas().rename(name))  # anything else: the pandas rules

    def positions(self, name: str, categories: np.ndarray, fill: object) -> np.ndarray:
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = self.batch.column(name)
        if not pa.types.is_dictionary(arr.type):
            if not (
                pa.types.is_string(arr.type)
                or pa.types.is_large_string(arr.type)
                or pa.types.is_integer(arr.type)
                or pa.types.is_floating(arr.type)
                or pa.types.is_boolean(arr.type)
            ):
                s = arr.to_pandas()
                return _category_positions(s, categories, fill)
            arr = pc.dictionary_encode(arr)
        uniques = arr.dictionary.to_pandas().to_numpy(dtype=object)
        table = _lookup_positions(uniques, categories, fill)
        idx = arr.indices
        if idx.null_count:
            idx = pc.fill_null(idx, len(uniques))  # missing -> the last slot of `table`
        return table[idx.to_numpy(zero_copy_only=False)]


def _columns(data: Any) -> _FrameColumns | _ArrowColumns:
    return _FrameColumns(data) if isinstance(data, pd.DataFrame) else _ArrowColumns(data)


@dataclass
class _BinnedTrees:
    """The gbm's trees evaluated on a compact uint8 code per (row, transformed feature).

    For a transformed feature ``f`` the trees split on thresholds ``u_0 < u_1 < ...`` (bins
    ``t_0 < t_1 < ...``); a value ``x`` gets ``c = #{u_k < x}`` and the code ``0`` if ``c == 0``
    else ``t_{c-1} + 1``, so ``code <= t_k`` exactly when ``x <= u_k``: the tree predictor on
    the codes takes the same branch as on the raw value (no missing values reach it: the
    pipeline imputes them). Features no tree uses stay 0.
    """

    width: int
    thresholds: dict[int, np.ndarray]  # feature -> sorted float64 split thresholds
    codes: dict[int, np.ndarray]  # feature -> uint8 code per searchsorted position
    predictors: list[Any]
    baseline: float
    missing_bin: int

    @classmethod
    def build(cls, clf: Any, width: int) -> _BinnedTrees | None:
        if getattr(clf, "is_categorical_", None) is not None and np.any(clf.is_categorical_):
            return None
        if getattr(clf, "n_trees_per_iteration_", 1) != 1:
            return None
        predictors = [p[0] for p in clf._predictors]
        missing_bin = int(clf._bin_mapper.missing_values_bin_idx_)
        pairs: dict[int, dict[float, int]] = {}
        for p in predictors:
            nodes = p.nodes
            split = ~nodes["is_leaf"].astype(bool)
            if np.any(nodes["is_categorical"][split]):
                return None
            for f, u, t in zip(
                nodes["feature_idx"][split].tolist(),
                nodes["num_threshold"][split].tolist(),
                nodes["bin_threshold"][split].tolist(),
                strict=True,
            ):
                seen = pairs.setdefault(int(f), {})
                if seen.setdefault(float(u), int(t)) != int(t):
                    return None
        thresholds, codes = {}, {}
        for f, seen in pairs.items():
            if not 0 <= f < width:
                return None
            u = np.array(sorted(seen), dtype=np.float64)
            t = np.array([seen[v] for v in u], dtype=np.int64)
            if np.any(np.diff(t) <= 0) or t.max() + 1 >= missing_bin or t.min() < 0:
                return None
            thresholds[f] = u
            codes[f] = np.concatenate([[0], t + 1]).astype(np.uint8)
        baseline = np.asarray(clf._baseline_prediction, dtype=np.float64).ravel()
        if baseline.size != 1:
            return None
        return cls(width, thresholds, codes, predictors, float(baseline[0]), missing_bin)

    def used(self, f: int) -> bool:
        return f in self.thresholds

    def code(self, f: int, x: np.ndarray) -> np.ndarray:
        return self.codes[f][np.searchsorted(self.thresholds[f], x, side="left")]

    def predict(self, binned: np.ndarray, threads: int) -> np.ndarray:
        """Sum of the trees per row, in scikit-learn's order (baseline, then tree by tree)."""
        n = len(binned)
        out = np.zeros(n, dtype=np.float64)
        blocks = [(lo, min(n, lo + GBM_BLOCK_ROWS)) for lo in range(0, n, GBM_BLOCK_ROWS)]

        def work(part: list[tuple[int, int]]) -> None:
            for lo, hi in part:
                x = binned[lo:hi]
                raw = np.zeros(hi - lo, dtype=np.float64)
                raw += self.baseline
                for p in self.predictors:
                    raw += p.predict_binned(x, self.missing_bin, 1)
                out[lo:hi] = raw

        if threads > 1 and len(blocks) > 1:
            # One OpenMP thread per call, blocks shared by Python threads (the Cython loop
            # releases the GIL): no OpenMP barrier per tree, which stalls on a busy machine.
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(max_workers=threads) as pool:
                list(pool.map(work, [blocks[i::threads] for i in range(threads)]))
        else:
            work(blocks)
        return out


@dataclass
class _Compiled:
    kind: str
    numeric: list[str]
    medians: np.ndarray
    valid: np.ndarray  # numeric columns kept by the imputer (not empty at fit)
    indicator: np.ndarray  # positions (in `numeric`) with a missing indicator
    categorical: list[str]
    cat_fill: list[object]
    categories: list[np.ndarray]
    weights: np.ndarray | None = None  # logistic: folded weights of the numeric block
    column_weights: np.ndarray | None = None  # logistic: weight per numeric column (0: unused)
    indicator_weights: np.ndarray | None = None  # logistic: weight of its missing indicator
    offset: float = 0.0
    cat_weights: list[np.ndarray] = field(default_factory=list)
    clf: Any = None
    clf_columns: list[str] | None = None
    calibrator: Any = None
    trees: _BinnedTrees | None = None
    threads: int = 1

    def raw(self, data: Any) -> np.ndarray:
        """Log-odds per row of a pandas frame or a pyarrow record batch.

        Rows with an infinite numeric feature get a non-finite value (logistic) or a
        meaningless one (gbm); callers reject those rows (see :func:`find_bad_rows`).
        """
        cols = _columns(data)
        positions = [
            cols.positions(c, cats, fill)
            for c, cats, fill in zip(self.categorical, self.categories, self.cat_fill, strict=True)
        ]
        if self.kind == "logistic":
            return self._raw_logistic(cols, positions)
        if self.trees is not None:
            return self.trees.predict(self._binned(cols, positions), self.threads)
        return self._raw_sklearn(cols, positions)

    def _raw_logistic(self, cols: Any, positions: list[np.ndarray]) -> np.ndarray:
        # column by column: each pass stays in the CPU cache; every column takes part (an
        # infinite value makes the row's log-odds non-finite even where the weight is 0)
        out = np.full(cols.n, self.offset, dtype=np.float64)
        for c, med, w, v in zip(
            self.numeric,
            self.medians,
            self.column_weights,
            self.indicator_weights,
            strict=True,
        ):
            x = cols.numeric(c)
            missing = np.isnan(x)
            x = x.astype(np.float64)  # a copy: float32 widens exactly, like _prepare
            np.copyto(x, med, where=missing)
            x *= w
            out += x
            if v != 0.0:
                np.add(out, v, out=out, where=missing)
        for pos, w in zip(positions, self.cat_weights, strict=True):
            out += np.append(w, 0.0)[pos]  # unknown category (-1) -> weight 0
        return out

    def _binned(self, cols: Any, positions: list[np.ndarray]) -> np.ndarray:
        trees = self.trees
        binned = np.zeros((cols.n, trees.width), dtype=np.uint8)
        k_valid = int(self.valid.sum())
        feature = dict(zip(np.flatnonzero(self.valid).tolist(), range(k_valid), strict=True))
        ind_feature = {int(j): k_valid + i for i, j in enumerate(self.indicator)}
        for j, (c, med) in enumerate(zip(self.numeric, self.medians, strict=True)):
            f, g = feature.get(j), ind_feature.get(j)
            use_f = f is not None and trees.used(f)
            use_g = g is not None and trees.used(g)
            if not (use_f or use_g):
                continue
            x = cols.numeric(c)
            missing = np.isnan(x)
            if use_f:
                x = x.astype(np.float64)
                np.copyto(x, med, where=missing)
                binned[:, f] = trees.code(f, x)
            if use_g:
                binned[:, g] = trees.code(g, np.array([0.0, 1.0]))[missing.view(np.uint8)]
        f = k_valid + len(self.indicator)
        for pos, cats in zip(positions, self.categories, strict=True):
            for i in range(len(cats)):
                if trees.used(f):
                    binned[:, f] = trees.code(f, np.array([0.0, 1.0]))[(pos == i).view(np.uint8)]
                f += 1
        return binned

    def _raw_sklearn(self, cols: Any, positions: list[np.ndarray]) -> np.ndarray:
        """The gbm through scikit-learn's own tree predictor on the assembled matrix."""
        x = np.empty((cols.n, len(self.numeric)), dtype=np.float64)
        for i, c in enumerate(self.numeric):
            x[:, i] = cols.numeric(c)
        missing = np.isnan(x)
        np.copyto(x, np.broadcast_to(self.medians, x.shape), where=missing)
        z = np.hstack([x[:, self.valid], missing[:, self.indicator].astype(np.float64)])
        onehot = [
            (pos[:, None] == np.arange(len(cats))[None, :]).astype(np.float64)
            for pos, cats in zip(positions, self.categories, strict=True)
        ]
        full = np.ascontiguousarray(np.hstack([z, *onehot]) if onehot else z)
        out = np.empty(len(full), dtype=np.float64)
        with threadpool_limits(limits=1):
            for lo in range(0, len(full), GBM_BLOCK_ROWS):
                block = pd.DataFrame(
                    full[lo : lo + GBM_BLOCK_ROWS], columns=self.clf_columns, copy=False
                )
                out[lo : lo + GBM_BLOCK_ROWS] = self.clf.decision_function(block)
        return out

    def proba(self, data: Any) -> np.ndarray:
        raw = self.raw(data)
        return self.link(raw)

    def link(self, raw: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", over="ignore"):
            p = self.calibrator.predict(raw) if self.calibrator is not None else expit(raw)
        return np.clip(p, 0.0, 1.0)


def _scoring_threads() -> int:
    """Threads for the tree predictor: the cores this process may use (at most 8).

    ``TURNOVER_RISK_SCORING_THREADS`` overrides it (e.g. 1 on a machine shared with others).
    """
    env = os.environ.get("TURNOVER_RISK_SCORING_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(
                f"TURNOVER_RISK_SCORING_THREADS={env!r} is not a whole number; set it to e.g. 2."
            ) from None
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))


def _compile(model: Any) -> _Compiled | None:
    """Replay a fitted TurnoverRiskModel pipeline with numpy; None if its shape is unknown."""
    try:
        from sklearn.compose import ColumnTransformer
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.impute import SimpleImputer
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        pipe = model.pipeline_
        prep, clf = pipe.named_steps["prep"], pipe.named_steps["clf"]
        if not isinstance(prep, ColumnTransformer) or list(pipe.named_steps) != ["prep", "clf"]:
            return None
        blocks = {name: (trans, list(cols)) for name, trans, cols in prep.transformers_}
        if set(blocks) - {"num", "cat", "remainder"}:
            return None
        if "remainder" in blocks and blocks["remainder"][0] != "drop":
            return None
        numeric, categorical = [], []
        medians = np.zeros(0)
        valid = np.zeros(0, dtype=bool)
        indicator = np.zeros(0, dtype=np.int64)
        mean = scale = None
        if "num" in blocks and blocks["num"][1]:
            trans, numeric = blocks["num"]
            steps = trans.named_steps
            imp = steps.get("impute")
            if not isinstance(imp, SimpleImputer) or imp.strategy != "median":
                return None
            if set(steps) - {"impute", "scale"}:
                return None
            medians = np.asarray(imp.statistics_, dtype=np.float64)
            keep_empty = getattr(imp, "keep_empty_features", False)
            valid = np.ones(len(numeric), dtype=bool) if keep_empty else ~np.isnan(medians)
            medians = np.where(np.isnan(medians), 0.0, medians)
            if imp.add_indicator:
                indicator = np.asarray(imp.indicator_.features_, dtype=np.int64)
            if "scale" in steps:
                sc = steps["scale"]
                if not isinstance(sc, StandardScaler):
                    return None
                width = int(valid.sum()) + len(indicator)
                mean = sc.mean_ if sc.with_mean else np.zeros(width)
                scale = sc.scale_ if sc.with_std else np.ones(width)
        cat_fill, categories = [], []
        if "cat" in blocks and blocks["cat"][1]:
            trans, categorical = blocks["cat"]
            steps = trans.named_steps
            imp, enc = steps.get("impute"), steps.get("onehot")
            if set(steps) != {"impute", "onehot"} or not isinstance(enc, OneHotEncoder):
                return None
            if imp.strategy != "constant" or enc.drop_idx_ is not None:
                return None
            if enc.handle_unknown != "ignore" or getattr(enc, "max_categories", None):
                return None
            if getattr(enc, "min_frequency", None):
                return None
            categories = [np.asarray(c, dtype=object) for c in enc.categories_]
            cat_fill = [imp.fill_value] * len(categorical)
        width = int(valid.sum()) + len(indicator) + sum(len(c) for c in categories)
        if width != clf.n_features_in_:
            return None
        compiled = _Compiled(
            kind=model.kind,
            numeric=numeric,
            medians=medians,
            valid=valid,
            indicator=indicator,
            categorical=categorical,
            cat_fill=cat_fill,
            categories=categories,
            calibrator=getattr(model, "calibrator_", None),
        )
        if isinstance(clf, LogisticRegression) and clf.coef_.shape[0] == 1:
            coef = clf.coef_.ravel().astype(np.float64)
            k_num = int(valid.sum()) + len(indicator)
            w = coef[:k_num]
            offset = float(clf.intercept_[0])
            if scale is not None:
                w = w / scale
                offset -= float(np.dot(w, mean))
            compiled.kind = "logistic"
            compiled.weights = w
            k_valid = int(valid.sum())
            compiled.column_weights = np.zeros(len(numeric))
            compiled.column_weights[np.flatnonzero(valid)] = w[:k_valid]
            compiled.indicator_weights = np.zeros(len(numeric))
            np.add.at(compiled.indicator_weights, indicator, w[k_valid:])
            compiled.offset = offset
            bounds = np.cumsum([k_num] + [len(c) for c in categories])
            compiled.cat_weights = [coef[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
        elif isinstance(clf, HistGradientBoostingClassifier) and len(clf.classes_) == 2:
            if mean is not None:
                return None
            compiled.kind = "gbm"
            compiled.clf = clf
            compiled.clf_columns = list(getattr(clf, "feature_names_in_", range(width)))
            compiled.trees = _BinnedTrees.build(clf, width)
            compiled.threads = _scoring_threads()
        else:
            return None
        return compiled
    except (AttributeError, KeyError, TypeError, ValueError):
        return None


class _Scorer:
    """Risk of leaving per row: the compiled path, verified against ``predict_proba`` once."""

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

    @property
    def kind(self) -> str:
        return "compiled" if self.compiled is not None else "predict_proba"

    def reference(self, frame: pd.DataFrame) -> np.ndarray:
        x = frame[self.columns]
        x.attrs = {}
        return np.asarray(self.model.predict_proba(x), dtype=np.float64)[:, 1]

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
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


def compile_scorer(model: Any) -> _Scorer:
    """The batch scorer :func:`score_dataset` uses (``scorer(frame) -> risk per row``)."""
    return _Scorer(model)


# --------------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------------


@dataclass
class _Chunk:
    frame: pd.DataFrame | None
    file: str
    first_row: int
    batch: Any = None  # a pyarrow RecordBatch (then ``frame`` is None)


def _spec_from_metadata(metadata: dict | None) -> PanelSpec | None:
    if not metadata or b"PANDAS_ATTRS" not in metadata:
        return None
    try:
        attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    except (ValueError, TypeError):
        return None
    raw = attrs.get(ATTRS_KEY) if isinstance(attrs, dict) else None
    return PanelSpec.from_dict(raw) if isinstance(raw, dict) else None


def _is_register_folder(path: Path) -> bool:
    return path.is_dir() and any(
        (path / f"employment{suf}").exists() for suf in (".parquet", ".csv")
    )


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a panel dataset: the file itself, or ``*.parquet`` in a folder.

    Raises
    ------
    FileNotFoundError
        If the path does not exist or a folder holds no Parquet file.
    ValueError
        If the files' schemas differ (the message names the files and the columns).
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"source {str(path)!r} does not exist")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    files = [f for f in files if not f.name.startswith((".", "_"))]
    if not files:
        raise FileNotFoundError(
            f"source folder {str(path)!r} holds no .parquet file; pass a panel written with "
            "panel.to_parquet(...) or a register folder with employment.parquet/.csv."
        )
    first = pq.read_schema(files[0])
    ref = {f.name: f.type for f in first}
    problems = []
    for f in files[1:]:
        schema = pq.read_schema(f)
        cols = {c.name: c.type for c in schema}
        missing = [c for c in ref if c not in cols]
        extra = [c for c in cols if c not in ref]
        changed = [
            f"{c} ({ref[c]} in {files[0].name}, {cols[c]} in {f.name})"
            for c in ref
            if c in cols and not _same_type(ref[c], cols[c])
        ]
        if missing or extra or changed:
            bits = []
            if missing:
                bits.append(f"missing columns {missing}")
            if extra:
                bits.append(f"extra columns {extra}")
            if changed:
                bits.append(f"different types: {', '.join(changed)}")
            problems.append(f"{f.name} differs from {files[0].name}: {'; '.join(bits)}")
    if problems:
        raise ValueError(
            f"the Parquet files of {str(path)!r} do not share one schema: "
            + " | ".join(problems[:5])
            + (f" | ... and {len(problems) - 5} more files" if len(problems) > 5 else "")
            + ". Rewrite them from one panel (build_panel(...).to_parquet) or score them "
            "separately."
        )
    return files


def _same_type(a: Any, b: Any) -> bool:
    import pyarrow as pa

    if a == b:
        return True
    strings = (pa.string(), pa.large_string(), pa.string_view())
    if a in strings and b in strings:
        return True
    if pa.types.is_dictionary(a) and pa.types.is_dictionary(b):
        return _same_type(a.value_type, b.value_type)
    return False


def _iter_parquet(
    files: list[Path],
    columns: list[str],
    batch_rows: int,
    *,
    arrow: bool = False,
    dictionary: Sequence[str] = (),
) -> Iterator[_Chunk]:
    """Record batches of ``columns``: pandas frames, or the arrow batches themselves.

    ``dictionary`` names string columns read dictionary-encoded (group keys: a few thousand
    distinct values are hashed instead of one string per row).
    """
    import pyarrow.parquet as pq

    for f in files:
        pf = pq.ParquetFile(f, read_dictionary=list(dictionary) or None)
        offset = 0
        try:
            for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
                if arrow:
                    yield _Chunk(None, f.name, offset, batch)
                else:
                    frame = batch.to_pandas()
                    frame.attrs = {}  # pandas deep-copies attrs on every operation
                    yield _Chunk(frame, f.name, offset)
                offset += batch.num_rows
        finally:
            pf.close()


def _never_null(files: list[Path], column: str) -> bool:
    """Whether the Parquet statistics of every row group show no null in ``column``."""
    import pyarrow.parquet as pq

    for f in files:
        meta = pq.ParquetFile(f).metadata
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        if names.count(column) != 1:
            return False
        i = names.index(column)
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(i).statistics
            if stats is None or not stats.has_null_count or stats.null_count != 0:
                return False
    return True


def _iter_frame(panel: pd.DataFrame, columns: list[str], batch_rows: int) -> Iterator[_Chunk]:
    for lo in range(0, len(panel), batch_rows):
        chunk = panel.iloc[lo : lo + batch_rows][columns]
        chunk.attrs = {}  # pandas deep-copies attrs on every operation
        yield _Chunk(chunk, "<DataFrame>", lo)


def _iter_register(context: Any, employees_per_partition: int) -> Iterator[_Chunk]:
    from turnover_risk.features import build_partition

    ids = context.employee_ids
    offset = 0
    for lo in range(0, len(ids), employees_per_partition):
        frame = build_partition(context, ids[lo : lo + employees_per_partition])
        frame.attrs = {}
        yield _Chunk(frame, "<register>", offset)
        offset += len(frame)


def panel_context_for(model: Any, register: Register, **panel_options: Any) -> Any:
    """``prepare_context`` with the panel settings the model was trained with (spec_)."""
    from turnover_risk.features import prepare_context

    spec = getattr(model, "spec_", None)
    opts: dict[str, Any] = {}
    if spec is not None:
        opts = {
            "freq": spec.freq,
            "horizon": spec.horizon,
            "outcome": spec.outcome,
            "scope": spec.scope,
        }
        if "+" in str(spec.outcome):
            opts["outcome"] = tuple(str(spec.outcome).split("+"))
    opts.update(panel_options)
    return prepare_context(register, **opts)


# --------------------------------------------------------------------------------------------
# bad rows, aggregation, atomic output
# --------------------------------------------------------------------------------------------


def find_bad_rows(
    frame: pd.DataFrame, scorer: _Scorer, key_cols: Sequence[str]
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


class _GroupAccumulator:
    """Running per-(group, period) sums; memory bounded by the number of groups x periods."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = keys
        self.table: pd.DataFrame | None = None

    def add(self, frame: pd.DataFrame, risk: np.ndarray) -> None:
        if len(frame) == 0:
            return
        part = frame[self.keys].copy()
        part.attrs = {}
        part["n_persons"] = np.ones(len(part), dtype=np.int64)
        part["expected_leavers"] = risk
        agg = part.groupby(self.keys, dropna=False, sort=False, observed=True).sum()
        if self.table is None:
            self.table = agg
        else:
            both = pd.concat([self.table, agg])
            self.table = both.groupby(
                level=list(range(len(self.keys))), dropna=False, sort=False
            ).sum()

    def result(self, min_group_size: int) -> pd.DataFrame:
        return finish_groups(self.table, self.keys, min_group_size)


class _KeyCodes:
    """Global integer codes of one key column's values, met batch by batch (arrow)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.codes: dict[Any, int] = {}
        self.values: list[Any] = []  # arrow arrays of the new values, in code order
        self.null_code: int | None = None
        self.type: Any = None

    def __len__(self) -> int:
        return len(self.codes) + (self.null_code is not None)

    def encode(self, arr: Any) -> np.ndarray:
        """Global code of each row of the arrow array ``arr``."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.type is None:
            self.type = arr.type.value_type if pa.types.is_dictionary(arr.type) else arr.type
        if not pa.types.is_dictionary(arr.type):
            arr = pc.dictionary_encode(arr)
        dictionary = arr.dictionary
        uniques = dictionary.to_pandas().to_numpy(dtype=object)
        table = np.empty(len(uniques) + 1, dtype=np.int64)
        na = np.asarray(pd.isna(uniques), dtype=bool)
        new = []
        for i, (v, missing) in enumerate(zip(uniques.tolist(), na.tolist(), strict=True)):
            if missing:
                table[i] = self._null()
                continue
            code = self.codes.get(v)
            if code is None:
                code = self.codes[v] = len(self)
                new.append(i)
            table[i] = code
        if new:
            self.values.append(dictionary.take(pa.array(new, type=pa.int64())))
        idx = arr.indices
        if idx.null_count:
            table[-1] = self._null()
            idx = pc.fill_null(idx, len(uniques))
        return table[idx.to_numpy(zero_copy_only=False)]

    def _null(self) -> int:
        if self.null_code is None:
            import pyarrow as pa

            self.null_code = len(self)
            self.values.append(pa.nulls(1, type=self.type))
        return self.null_code

    def decode(self, codes: np.ndarray) -> Any:
        """The values of ``codes`` as an arrow array of the column's type."""
        import pyarrow as pa

        values = (
            pa.concat_arrays([v.cast(self.type) for v in self.values])
            if self.values
            else pa.array([], type=self.type or pa.string())
        )
        return values.take(pa.array(codes, type=pa.int64()))


class _ArrowGroupAccumulator:
    """Per-(group, period) counts and risk sums of arrow batches, with ``np.bincount``.

    Each key column is dictionary-encoded (Parquet usually stores it so, and the batch is
    read with ``read_dictionary``), its few distinct values get global codes, and the batch
    is reduced to one row per group present before it is kept. Memory is bounded by the
    number of groups x periods, never by the rows.
    """

    COMPACT_ROWS = 1_000_000

    def __init__(self, keys: list[str], schema: Any = None) -> None:
        self.keys = keys
        self.coders = [_KeyCodes(k) for k in keys]
        self.schema = schema
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.buffered = 0

    def add(self, batch: Any, risk: np.ndarray, good: np.ndarray | None = None) -> None:
        if batch.num_rows == 0:
            return
        codes = [c.encode(batch.column(k)) for c, k in zip(self.coders, self.keys, strict=True)]
        if good is not None:
            codes = [c[good] for c in codes]
        if len(risk) == 0:
            return
        # local cell of each row: mixed radix over the codes present in this batch
        lows = [c.min() for c in codes]
        sizes = [int(c.max() - lo) + 1 for c, lo in zip(codes, lows, strict=True)]
        if np.prod(np.asarray(sizes, dtype=np.float64)) <= max(4 * len(risk), 1 << 20):
            cell = np.zeros(len(risk), dtype=np.int64)
            for c, lo, size in zip(codes, lows, sizes, strict=True):
                cell *= size
                cell += c - lo
            total = int(np.prod(sizes))
            n = np.bincount(cell, minlength=total)
            s = np.bincount(cell, weights=risk, minlength=total)
            present = np.flatnonzero(n)
            parts = np.unravel_index(present, sizes)
            gcodes = np.stack([p + lo for p, lo in zip(parts, lows, strict=True)])
            self._keep(gcodes, n[present], s[present])
        else:
            self._keep(*_reduce(np.stack(codes), np.ones(len(risk), np.int64), risk))

    def _keep(self, gcodes: np.ndarray, n: np.ndarray, s: np.ndarray) -> None:
        self.parts.append((gcodes, n.astype(np.int64), s.astype(np.float64)))
        self.buffered += len(n)
        if self.buffered > self.COMPACT_ROWS and len(self.parts) > 1:
            self._compact()

    def _compact(self) -> None:
        gcodes = np.concatenate([p[0] for p in self.parts], axis=1)
        n = np.concatenate([p[1] for p in self.parts])
        s = np.concatenate([p[2] for p in self.parts])
        self.parts = [_reduce(gcodes, n, s)]
        self.buffered = len(self.parts[0][1])

    @property
    def table(self) -> pd.DataFrame | None:
        """Group sums indexed by the keys (as :class:`_GroupAccumulator` keeps them)."""
        if not self.parts:
            return None
        import pyarrow as pa

        self._compact()
        gcodes, n, s = self.parts[0]
        arrays = [c.decode(g) for c, g in zip(self.coders, gcodes, strict=True)]
        if self.schema is not None and all(k in self.schema.names for k in self.keys):
            # the file's own types and pandas metadata: the same dtypes as batch.to_pandas()
            schema = pa.schema(
                [self.schema.field(k) for k in self.keys], metadata=self.schema.metadata
            )
            arrays = [a.cast(f.type) for a, f in zip(arrays, schema, strict=True)]
            keys = pa.Table.from_arrays(arrays, schema=schema).to_pandas()
        else:
            keys = pa.Table.from_arrays(arrays, names=self.keys).to_pandas()
        keys["n_persons"] = n
        keys["expected_leavers"] = s
        return keys.set_index(self.keys)

    def result(self, min_group_size: int) -> pd.DataFrame:
        return finish_groups(self.table, self.keys, min_group_size)


def _reduce(
    gcodes: np.ndarray, n: np.ndarray, s: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sum ``n`` and ``s`` over equal columns of ``gcodes`` (one row per key)."""
    sizes = gcodes.max(axis=1).astype(np.float64) + 1
    if np.prod(sizes) < 2.0**62:
        cell = np.ravel_multi_index(tuple(gcodes), tuple(int(x) for x in sizes))
        uniq, inverse = np.unique(cell, return_inverse=True)
        keys = np.stack(np.unravel_index(uniq, tuple(int(x) for x in sizes)))
    else:
        keys, inverse = np.unique(gcodes, axis=1, return_inverse=True)
    inverse = inverse.ravel()
    return (
        keys.astype(np.int64),
        np.bincount(inverse, weights=n, minlength=keys.shape[1]).astype(np.int64),
        np.bincount(inverse, weights=s, minlength=keys.shape[1]),
    )


def finish_groups(table: pd.DataFrame | None, keys: list[str], min_group_size: int):
    """Sorted group table with ``mean_risk`` and small groups suppressed."""
    if table is None or len(table) == 0:
        out = pd.DataFrame({k: pd.Series(dtype="object") for k in keys})
        out["n_persons"] = pd.Series(dtype="int64")
        out["expected_leavers"] = pd.Series(dtype="float64")
    else:
        out = table.reset_index()
    out = out.sort_values(keys, kind="stable", na_position="last").reset_index(drop=True)
    out["n_persons"] = out["n_persons"].astype("int64")
    out["expected_leavers"] = out["expected_leavers"].astype("float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out["mean_risk"] = out["expected_leavers"] / out["n_persons"]
    return suppress_small_groups(
        out,
        count_col="n_persons",
        value_cols=["expected_leavers", "mean_risk"],
        min_group_size=min_group_size,
    )


def temporary_path(out: Path) -> Path:
    """A hidden sibling of ``out`` to write to before the final rename."""
    return out.parent / f".{out.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial"


def check_output(out: str | Path, *, overwrite: bool, row_level: bool) -> Path:
    """Validate the output path; refuse an existing one unless ``overwrite``."""
    out = Path(out)
    suffix = out.suffix.lower()
    allowed = (".parquet",) if row_level else (".parquet", ".csv")
    if suffix not in allowed:
        raise ValueError(
            f"out={str(out)!r}: {'row-level' if row_level else 'group-level'} output is written "
            f"as {' or '.join(allowed)}; give the file name that suffix."
        )
    if out.exists() and not overwrite:
        raise FileExistsError(
            f"out={str(out)!r} already exists; pass overwrite=True (CLI: --overwrite) to "
            "replace it, or choose another name."
        )
    if out.is_dir() and not row_level:
        raise IsADirectoryError(f"out={str(out)!r} is a folder; give a file name.")
    out.parent.mkdir(parents=True, exist_ok=True)
    return out


def replace_path(tmp: Path, out: Path) -> None:
    """Move ``tmp`` to ``out`` (a file or a folder), replacing what was there."""
    if out.is_dir() and not tmp.is_dir():
        raise IsADirectoryError(f"out={str(out)!r} is a folder; give a file name.")
    if out.is_dir():
        import shutil

        old = temporary_path(out)
        os.replace(out, old)
        os.replace(tmp, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)


def write_group_table(table: pd.DataFrame, out: Path) -> None:
    """Write a group table to ``out`` via a temporary name (CSV or Parquet by suffix)."""
    tmp = temporary_path(out)
    try:
        if out.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False, engine="pyarrow")
        replace_path(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def row_level_schema(frame: pd.DataFrame, cols: list[str]):
    """Arrow schema of the row-level output: the key columns as read, plus ``risk``."""
    import pyarrow as pa

    fields = []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            fields.append(pa.field(c, pa.timestamp("ns")))
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            fields.append(pa.field(c, pa.from_numpy_dtype(s.to_numpy().dtype)))
        else:
            fields.append(pa.field(c, pa.string()))
    fields.append(pa.field("risk", pa.float64()))
    return pa.schema(fields)


def row_level_table(frame: pd.DataFrame, cols: list[str], risk: np.ndarray, schema):
    """An arrow table of the key columns and the risk, in ``schema``."""
    import pyarrow as pa

    arrays = []
    for f in schema:
        if f.name == "risk":
            arrays.append(pa.array(risk, type=pa.float64()))
            continue
        s = frame[f.name]
        if pa.types.is_string(f.type):
            s = s.astype("string")
        arrays.append(pa.array(s, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)


# --------------------------------------------------------------------------------------------
# score_dataset
# --------------------------------------------------------------------------------------------


def _check_by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)
    if not all(isinstance(c, str) for c in cols):
        raise TypeError(f"by must be a column name or a list of names; got {by!r}.")
    return cols


def _check_batch_rows(batch_rows: object) -> int:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int | np.integer):
        raise TypeError(f"batch_rows must be an integer; got {batch_rows!r}.")
    if batch_rows < 1:
        raise ValueError(f"batch_rows={batch_rows} must be at least 1; e.g. 262144.")
    return int(batch_rows)


def score_dataset(
    model: Any,
    source: str | Path | Register | pd.DataFrame | Any,
    out: str | Path,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    row_level: bool = False,
    overwrite: bool = False,
    engine: Literal["pandas", "dask"] = "pandas",
    scheduler: str | Any | None = None,
    by: str | Sequence[str] = "unit_id",
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
    progress: bool | None = None,
    connect_timeout: float = 10.0,
    **panel_options: Any,
) -> ScoreResult:
    """Score a whole population batch by batch and write the result (group level by default).

    Parameters
    ----------
    model : TurnoverRiskModel
        A fitted model (any classifier with ``predict_proba`` and ``feature_names_in_`` works,
        through the slower ``predict_proba`` path).
    source : path, Register, DataFrame or dask DataFrame
        A panel Parquet file or folder of Parquet files (from ``build_panel(...).to_parquet``;
        every file must have the same schema), a register folder (with ``employment.parquet``
        or ``.csv``; read and validated with :func:`~turnover_risk.read_register`), a
        :class:`~turnover_risk.Register`, a pandas panel, or a Dask DataFrame panel (scored
        with the Dask engine).
    out : str or Path
        Output file: ``.parquet`` (or ``.csv`` for the group table). Written to a temporary
        name in the same folder and renamed when complete. Row-level Dask output is a folder
        of part files.
    batch_rows : int
        Rows per record batch (panel sources) or about the rows per employee partition
        (register sources). Memory grows with this, not with the input.
    row_level : bool
        Write one risk per person and period (id, group and period columns plus ``risk``)
        instead of the group table. Row-level output is personal data: keep it inside the
        organisation.
    overwrite : bool
        Replace an existing ``out``; otherwise an existing output raises ``FileExistsError``.
    engine : {"pandas", "dask"}
        ``"dask"`` runs on a Dask cluster (see :mod:`turnover_risk.distributed`).
    scheduler : str or distributed.Client, optional
        Dask only: the scheduler address (``"tcp://host:8786"``) or a client. Default: the
        current client, else a local cluster.
    by : str or list of str
        Group column(s) of the group table (default ``"unit_id"``); the period is always a key.
    min_group_size : int
        Groups with fewer persons (rows of the period) are suppressed in the group table.
    progress : bool, optional
        Show a progress bar (rows, rate, time left); default: on a terminal unless quiet.
    connect_timeout : float
        Dask only: seconds to wait for a ``scheduler`` address before a ``ConnectionError``.
    **panel_options
        For register sources: options of :func:`~turnover_risk.build_panel` overriding the
        ones the model was trained with (e.g. ``as_of``, ``start``).

    Returns
    -------
    ScoreResult
        Counts (``rows_read == rows_scored + rows_rejected``), the first rejected rows with
        their file and row number, the group table, timings.

    Raises
    ------
    FileExistsError
        If ``out`` exists and ``overwrite`` is False.
    ConnectionError
        Dask: no scheduler answers at ``scheduler`` within ``connect_timeout`` seconds.
    ValueError
        Files of one dataset with different schemas (names the files and columns), missing
        feature columns, an unknown engine or bad ``batch_rows``.

    Examples
    --------
    >>> import tempfile, pathlib, warnings
    >>> import turnover_risk as tr
    >>> warnings.simplefilter("ignore")
    >>> reg = tr.load_sample()
    >>> panel = tr.build_panel(reg)
    >>> model = tr.TurnoverRiskModel(kind="logistic", random_state=0).fit(panel)
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "risk_by_unit.parquet"
    >>> res = tr.score_dataset(model, panel, out, batch_rows=5000, progress=False)
    >>> res.rows_scored == len(panel), res.rows_rejected
    (True, 0)
    >>> sorted(res.table.columns)[:3]
    ['expected_leavers', 'mean_risk', 'n_persons']
    """
    if engine not in ENGINES:
        raise ValueError(f"engine={engine!r} is not known; choose one of: {', '.join(ENGINES)}.")
    from turnover_risk.distributed import is_dask_collection

    if engine == "dask" or is_dask_collection(source):
        from turnover_risk.distributed import score_dataset as _score_dask

        return _score_dask(
            model,
            source,
            out,
            batch_rows=batch_rows,
            row_level=row_level,
            overwrite=overwrite,
            scheduler=scheduler,
            by=by,
            min_group_size=min_group_size,
            progress=progress,
            connect_timeout=connect_timeout,
            **panel_options,
        )
    if scheduler is not None:
        raise ValueError(
            "scheduler=... only applies to engine='dask'; pass engine='dask' to use a cluster."
        )
    batch_rows = _check_batch_rows(batch_rows)
    by_cols = _check_by(by)
    min_group_size = check_min_group_size(min_group_size)
    out = check_output(out, overwrite=overwrite, row_level=row_level)
    scorer = _Scorer(model)
    t_start = time.perf_counter()
    arrow_schema = None

    # -- the source: an iterator of chunks, their spec, and the expected total --------------
    total: int | None = None
    if isinstance(source, str | Path) and _is_register_folder(Path(source)):
        from turnover_risk.io import read_register

        source = read_register(source, errors="raise")
    if isinstance(source, Register):
        context = panel_context_for(model, source, **panel_options)
        from turnover_risk.features import _spec

        spec = _spec(context)
        per_partition = max(64, batch_rows // max(1, len(context.period_days)))
        chunks = _iter_register(context, per_partition)
        unit = "rows"
    elif isinstance(source, pd.DataFrame):
        spec = _frame_spec(source, model)
        cols = _needed(spec, scorer, by_cols, source.columns, "the panel")
        chunks = _iter_frame(source, cols, batch_rows)
        total, unit = len(source), "rows"
    elif isinstance(source, str | Path):
        import pyarrow.parquet as pq

        files = parquet_files(source)
        schema = pq.read_schema(files[0])
        spec = _spec_from_metadata(schema.metadata) or _model_spec(model)
        cols = _needed(spec, scorer, by_cols, schema.names, files[0].name)
        arrow_schema = schema
        if scorer.compiled is not None:
            # the fast path: arrow batches, no pandas; for group output only the features,
            # the keys, and the id columns the statistics cannot vouch for (missing ids are
            # rejected rows)
            if not row_level:
                cols = [
                    c
                    for c in cols
                    if c in (*scorer.columns, *by_cols, spec.period_col)
                    or (c in spec.id_cols and not _never_null(files, c))
                ]
            strings = [
                c
                for c in by_cols
                if not row_level
                and c not in scorer.columns
                and str(schema.field(c).type) in ("string", "large_string")
            ]
            chunks = _iter_parquet(files, cols, batch_rows, arrow=True, dictionary=strings)
        else:
            chunks = _iter_parquet(files, cols, batch_rows)
        total = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        unit = "rows"
    else:
        raise TypeError(
            f"source must be a path, a Register, a pandas DataFrame or a Dask DataFrame; got "
            f"{type(source).__name__}."
        )
    missing_by = [c for c in by_cols if c not in (*spec.id_cols, *spec.group_cols)]
    if missing_by and not row_level and isinstance(source, Register):
        raise ValueError(f"by={missing_by} are not group columns of the panel {spec.group_cols}.")
    keys = [*by_cols, spec.period_col]
    key_cols = [c for c in (*spec.id_cols, spec.period_col)]
    out_cols: list[str] = []

    acc: _GroupAccumulator | _ArrowGroupAccumulator = (
        _GroupAccumulator(keys)
        if arrow_schema is None
        else _ArrowGroupAccumulator(keys, schema=arrow_schema)
    )
    n_read = n_scored = n_rejected = 0
    rejects: list[tuple] = []
    tmp = temporary_path(out)
    writer = None
    t_score = 0.0
    n_batches = 0
    progress_bar = bar(total=total, desc="scoring", unit=unit, show=progress)
    try:
        for chunk in chunks:
            n_batches += 1
            t0 = time.perf_counter()
            if chunk.batch is not None:  # arrow: scored, checked and summed without pandas
                risk, bad, problems = scorer.score_batch(chunk.batch, key_cols)
                t_score += time.perf_counter() - t0
                if not row_level:
                    acc.add(chunk.batch, risk, ~bad if bad.any() else None)
                    frame = good = None
                else:
                    names = chunk.batch.schema.names
                    keep = [c for c in (*spec.id_cols, *spec.group_cols, spec.period_col)]
                    frame = chunk.batch.select([c for c in keep if c in names]).to_pandas()
                    good = frame.loc[~bad] if bad.any() else frame
            else:
                frame = chunk.frame
                bad, problems = find_bad_rows(frame, scorer, key_cols)
                good = frame.loc[~bad] if bad.any() else frame
                risk = scorer(good)
                t_score += time.perf_counter() - t0
            for pos, col, value, problem in problems:
                if len(rejects) < MAX_REPORTED_REJECTS:
                    rejects.append((chunk.file, chunk.first_row + pos, col, value, problem))
            n = len(bad)
            if row_level:
                if writer is None:
                    import pyarrow.parquet as pq

                    out_cols = [
                        c
                        for c in (*spec.id_cols, *spec.group_cols, spec.period_col)
                        if c in frame.columns
                    ]
                    schema = row_level_schema(frame, out_cols)
                    writer = pq.ParquetWriter(tmp, schema)
                writer.write_table(row_level_table(good, out_cols, risk, writer.schema))
            elif chunk.batch is None:
                acc.add(good, risk)
            n_read += n
            n_rejected += int(bad.sum())
            n_scored += n - int(bad.sum())
            progress_bar.update(n)
        if row_level:
            if writer is None:  # empty source: an empty file with the key columns
                import pyarrow as pa
                import pyarrow.parquet as pq

                empty = pa.schema(
                    [pa.field(c, pa.string()) for c in spec.id_cols]
                    + [pa.field("risk", pa.float64())]
                )
                writer = pq.ParquetWriter(tmp, empty)
            writer.close()
            writer = None
            replace_path(tmp, out)
            table = None
        else:
            table = acc.result(min_group_size)
            write_group_table(table, out)
    except BaseException:
        if writer is not None:
            try:
                writer.close()
            except Exception:
                pass
        tmp.unlink(missing_ok=True)
        raise
    finally:
        progress_bar.close()
    rejected = pd.DataFrame(rejects, columns=_REJECT_COLUMNS)
    if n_rejected:
        warnings.warn(
            f"{n_rejected} of {n_read} rows could not be scored and were skipped (first: "
            f"{rejected['problem'].iloc[0]} in {rejected['file'].iloc[0]} row "
            f"{rejected['row'].iloc[0]}); see result.rejected.",
            TurnoverRiskWarning,
            stacklevel=2,
        )
    seconds = time.perf_counter() - t_start
    return ScoreResult(
        path=out,
        rows_read=n_read,
        rows_scored=n_scored,
        rows_rejected=n_rejected,
        rejected=rejected,
        table=table,
        seconds=seconds,
        engine="pandas",
        row_level=row_level,
        info={
            "batches": n_batches,
            "scorer": scorer.kind,
            "seconds_scoring": t_score,
            "path": "arrow" if arrow_schema is not None else "pandas",
            "threads": scorer.compiled.threads if scorer.compiled is not None else 1,
        },
    )


def _model_spec(model: Any) -> PanelSpec:
    spec = getattr(model, "spec_", None)
    return spec if isinstance(spec, PanelSpec) else PanelSpec()


def _frame_spec(frame: pd.DataFrame, model: Any) -> PanelSpec:
    raw = frame.attrs.get(ATTRS_KEY)
    if raw is not None:
        return raw if isinstance(raw, PanelSpec) else PanelSpec.from_dict(raw)
    return _model_spec(model)


def _needed(
    spec: PanelSpec, scorer: _Scorer, by: list[str], available: Sequence[str], where: str
) -> list[str]:
    """Columns to read: features, ids, groups present, period; error naming what is missing."""
    available = list(available)
    missing_features = [c for c in scorer.columns if c not in available]
    if missing_features:
        raise ValueError(
            f"{where} lacks the model's feature columns {missing_features}; score a panel "
            "built with the same build_panel settings as the training panel."
        )
    missing_keys = [c for c in (*by, spec.period_col) if c not in available]
    if missing_keys:
        raise ValueError(
            f"{where} lacks the columns {missing_keys} needed as group keys (by={by}); "
            f"available columns include: {available[:8]}."
        )
    keys = [c for c in (*spec.id_cols, *spec.group_cols, *by, spec.period_col) if c in available]
    cols = list(dict.fromkeys([*keys, *scorer.columns]))
    return cols
