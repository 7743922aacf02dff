"""The compiled scorer: a fitted ``TurnoverRiskModel`` pipeline replayed with numpy.

The fitted preprocessing (median imputation, missing indicators, scaling, one-hot encoding) is
replayed column by column on a pandas frame or a pyarrow record batch (no pandas for arrow).
The logistic model becomes one weighted sum (coefficients folded with the scaler); the gbm's
trees run in scikit-learn's Cython predictor on a compact uint8 code per (row, feature) that
takes exactly the branches the raw values take (:class:`_BinnedTrees`), on row blocks shared by
threads. ``_compile`` returns ``None`` for a pipeline of any other shape; the check against
``model.predict_proba`` is done by ``_scorer.Scorer``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import expit
from threadpoolctl import threadpool_limits

GBM_BLOCK_ROWS = 4096
"""Rows per call of the tree predictor (keeps the block in the CPU cache)."""


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
