"""Which features push each group's risk above or below the population's: :func:`group_drivers`.

A stratified random sample of rows in each group is explained (the model's own additive
attributions, see :class:`~turnover_risk.Explanation`); each group's mean attribution is compared
with the population mean, with standard errors, control variates from the input columns, and a
``rank_clear`` flag where a driver's rank is statistically clear. Explaining every row is rarely
needed and costs far more.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from turnover_risk.models import Explanation
from turnover_risk.privacy import (
    DEFAULT_MIN_GROUP_SIZE,
    check_grouping,
    check_min_group_size,
    protect_groups,
)

__all__ = ["AUTO_MIN_ROWS", "AUTO_ONE_IN", "auto_sample_sizes", "group_drivers"]


def _group_keys(X: pd.DataFrame, groups: Any) -> tuple[pd.DataFrame, list[str]]:
    """Return a frame of group key columns aligned with X, and their names."""
    if isinstance(groups, str):
        groups = [groups]
    if isinstance(groups, pd.Series):
        if len(groups) != len(X):
            raise ValueError(
                f"groups has {len(groups)} values but X has {len(X)} rows; pass a column name "
                "of X or one value per row."
            )
        name = groups.name if groups.name is not None else "group"
        return pd.DataFrame({name: groups.to_numpy()}, index=X.index), [str(name)]
    if isinstance(groups, np.ndarray):
        return _group_keys(X, pd.Series(groups, name="group"))
    if isinstance(groups, Sequence) and all(isinstance(g, str) for g in groups) and groups:
        missing = [g for g in groups if g not in X.columns]
        if missing:
            raise KeyError(
                f"groups={list(groups)!r}: column(s) {missing} are not in X; columns with "
                f"group roles are e.g. {[c for c in ('unit_id', 'municipality', 'service') if c in X.columns]}."
            )
        return X[list(groups)], list(groups)
    raise TypeError(
        f"groups must be a column name, a list of column names or a Series aligned with X; "
        f"got {type(groups).__name__}."
    )


AUTO_ONE_IN: int = 12
"""``n_per_group="auto"`` explains one row in ``AUTO_ONE_IN`` of each group (rounded up).

The cost of :func:`group_drivers` is TreeSHAP on the explained rows plus a pass over every row
for the control variates (3-5 % of TreeSHAP's cost per row), so explaining a twelfth of the
rows was 7-9x faster than explaining all of them with ``shap.TreeExplainer`` (two runs on the
simulator's 400-unit panel, ``benchmarks/bench_explain.py``), leaving room for the 5x the
issue asks for on a busy machine, while the sampled top driver was the exact one in 92-96 %
of units and municipalities and among the exact top three in all but at most one of them.
"""
AUTO_MIN_ROWS: int = 30
"""Fewest rows ``n_per_group="auto"`` explains per group (all rows of smaller groups).

Thirty rows give a usable within-group residual variance (the standard error's own
uncertainty is about 13 %), and groups of at most this size are explained exactly.
"""
MAX_CONTROL_BINS: int = 64
"""Most quantile bins of a numeric feature in the control variates (64 rather than 32 cut the
standard errors of the 400-unit benchmark by about 4 % at no measurable cost)."""
ROWS_PER_CONTROL_BIN: int = 50
"""Explained rows per quantile bin (fewer bins for small samples)."""
RANK_CLEAR_Z: float = 1.96
"""``rank_clear`` needs each gap in ``|difference|`` to a neighbouring rank to exceed this many
standard errors of that gap (the two-sided 95 % normal quantile)."""


def auto_sample_sizes(sizes: Any) -> np.ndarray:
    """Rows ``n_per_group="auto"`` explains in groups of ``sizes`` rows.

    ``min(N_h, max(AUTO_MIN_ROWS, ceil(N_h / AUTO_ONE_IN)))`` per group.

    Examples
    --------
    >>> auto_sample_sizes([10, 30, 100, 360, 361, 1552]).tolist()
    [10, 30, 30, 30, 31, 130]
    """
    sizes = np.asarray(sizes, dtype=np.int64)
    share = -(-sizes // AUTO_ONE_IN)  # ceil(N_h / AUTO_ONE_IN) in integers
    return np.minimum(sizes, np.maximum(AUTO_MIN_ROWS, share))


def _sample_quota(n_per_group: int | str | None, sizes: np.ndarray) -> np.ndarray:
    """Rows to explain per group, validating ``n_per_group``."""
    if isinstance(n_per_group, str):
        if n_per_group != "auto":
            raise ValueError(
                f"n_per_group={n_per_group!r} is not understood; use 'auto' (the default: "
                f"one row in {AUTO_ONE_IN} per group, at least {AUTO_MIN_ROWS}), an integer "
                "of 2 or more, or None to explain every row."
            )
        return auto_sample_sizes(sizes)
    if n_per_group is None:
        return sizes.astype(np.int64)
    if isinstance(n_per_group, bool) or not isinstance(n_per_group, int | np.integer):
        raise TypeError(
            f"n_per_group must be 'auto', a positive integer or None; got {n_per_group!r}."
        )
    if n_per_group < 2:
        raise ValueError(
            f"n_per_group={n_per_group} is too small for a standard error; use 2 or more, "
            "'auto' (the default) or None to explain every row."
        )
    return np.minimum(sizes, int(n_per_group)).astype(np.int64)


def _numeric_values(s: pd.Series) -> np.ndarray:
    """A numeric or boolean column as float64 with NaN for missing values."""
    if pd.api.types.is_bool_dtype(s):
        s = s.astype("Float64")
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _control_variates(
    model: Any,
    X: pd.DataFrame,
    pos: np.ndarray,
    vals: np.ndarray,
    features: Sequence[str],
    codes: np.ndarray,
    sizes: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature predictions of the attributions: group means over all rows, and the sample.

    Each feature's attribution is predicted from the feature's own *input* value, which is
    known for every row without a transform. Numeric feature: least squares (on the sample) on
    an intercept, the value (missing values filled with the sample median) and a missing-value
    indicator, plus the sample's mean residual per quantile bin of the value (up to
    ``MAX_CONTROL_BINS`` bins of at least ``ROWS_PER_CONTROL_BIN`` sampled rows; missing values
    form their own bin) — a tree ensemble's attribution of a feature is close to a step
    function of it, a linear model's is exactly linear in the value and the indicator.
    Categorical feature: the sample mean per category (the overall sample mean for a category
    no sampled row has). Returns ``(group_means, fitted_sample)`` of shapes
    ``(n_groups, n_features)`` and ``(len(pos), n_features)``; zeros when the model is not a
    fitted :class:`~turnover_risk.TurnoverRiskModel` (then the estimator is the plain
    stratified mean).
    """
    n_groups, p = len(sizes), vals.shape[1]
    zero = (np.zeros((n_groups, p)), np.zeros_like(vals))
    numeric = getattr(model, "_numeric_", None)
    if numeric is None or not hasattr(model, "_check_columns") or len(pos) == len(X):
        return zero
    Xc = model._check_columns(X)
    n_bins = int(np.clip(len(pos) // ROWS_PER_CONTROL_BIN, 2, MAX_CONTROL_BINS))
    probs = np.linspace(0.0, 1.0, n_bins + 1)[1:-1]
    group_means = np.empty((n_groups, p))
    fitted_sample = np.empty_like(vals)
    for j, feat in enumerate(features):
        y = vals[:, j]
        if feat in numeric:
            v = _numeric_values(Xc[feat])
            miss = np.isnan(v)
            vs, ms = v[pos], miss[pos]
            fill = float(np.median(vs[~ms])) if (~ms).any() else 0.0
            vf = np.where(miss, fill, v)
            design = np.column_stack([np.ones(len(pos)), vf[pos], ms])
            beta = np.linalg.lstsq(design, y, rcond=None)[0]
            fitted = beta[0] + beta[1] * vf + beta[2] * miss
            edges = np.unique(np.quantile(vs[~ms], probs)) if (~ms).any() else np.empty(0)
            cell = np.searchsorted(edges, vf, side="right")
            cell[miss] = edges.size + 1  # missing values are a bin of their own
            n_cells = edges.size + 2
            resid = y - fitted[pos]
            sums = np.bincount(cell[pos], weights=resid, minlength=n_cells)
            counts = np.bincount(cell[pos], minlength=n_cells)
            fitted += (sums / np.maximum(counts, 1))[cell]
        else:
            cell = pd.factorize(Xc[feat], use_na_sentinel=True)[0] + 1  # 0 = missing
            n_cells = int(cell.max()) + 1
            sums = np.bincount(cell[pos], weights=y, minlength=n_cells)
            counts = np.bincount(cell[pos], minlength=n_cells)
            cell_means = np.where(counts > 0, sums / np.maximum(counts, 1), y.mean())
            fitted = cell_means[cell]
        group_means[:, j] = np.bincount(codes, weights=fitted, minlength=n_groups) / sizes
        fitted_sample[:, j] = fitted[pos]
    return group_means, fitted_sample


def _rank_clear(
    diff: np.ndarray,
    order: np.ndarray,
    var_diff: np.ndarray,
    centred: np.ndarray,
    sample_codes: np.ndarray,
    starts: np.ndarray,
    srt: np.ndarray,
    row_scale: np.ndarray,
    w: np.ndarray,
    total_cov: np.ndarray,
) -> np.ndarray:
    """Whether each ranked feature is separated from its neighbours in ``|difference|``.

    ``order`` holds each group's features by decreasing ``|difference|``. For neighbours
    ``a`` (rank k) and ``b`` (rank k + 1) with signs ``s_a, s_b`` the gap
    ``|d_a| - |d_b| = s_a d_a - s_b d_b`` has variance
    ``Var d_a + Var d_b - 2 s_a s_b Cov(d_a, d_b)``, where the covariance of group ``g``'s
    differences is ``(1 - 2 w_g) C_g + sum_h w_h^2 C_h`` with ``C_h`` the covariance matrix
    of group ``h``'s estimated means. A rank is clear when the gaps to the rank above and
    below both exceed ``RANK_CLEAR_Z`` standard errors. Returns booleans in ``order``.
    """
    n_groups, p = diff.shape
    d_sorted = np.take_along_axis(diff, order, axis=1)
    v_sorted = np.take_along_axis(var_diff, order, axis=1)
    sign = np.where(d_sorted < 0, -1.0, 1.0)
    gap = np.abs(d_sorted[:, :-1]) - np.abs(d_sorted[:, 1:])
    a, b = order[:, :-1], order[:, 1:]
    if centred.size and np.any(row_scale > 0):
        # within-group covariance of neighbouring features' residuals, per group
        rows_a = np.take_along_axis(centred, a[sample_codes], axis=1)
        rows_b = np.take_along_axis(centred, b[sample_codes], axis=1)
        own = np.add.reduceat((rows_a * rows_b)[srt], starts, axis=0) * row_scale[:, None]
        cov = (1 - 2 * w)[:, None] * own + total_cov[a, b]
    else:
        cov = np.zeros_like(gap)
    var_gap = v_sorted[:, :-1] + v_sorted[:, 1:] - 2 * sign[:, :-1] * sign[:, 1:] * cov
    separated = gap > RANK_CLEAR_Z * np.sqrt(np.clip(var_gap, 0.0, None))
    edge = np.ones((n_groups, 1), dtype=bool)
    return np.hstack([edge, separated]) & np.hstack([separated, edge])


def group_drivers(
    model: Any,
    X: pd.DataFrame,
    groups: str | Sequence[str] | pd.Series,
    *,
    n_per_group: int | str | None = "auto",
    random_state: int | np.random.Generator | None = None,
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE,
) -> pd.DataFrame:
    """Which features push each group's risk above or below the population's.

    Draws a stratified random sample (without replacement) of rows in each group, explains
    only those rows, and compares each group's mean attribution with the population mean,
    estimated as the size-weighted mean of the group means (a stratified estimator, so small
    groups are not over-represented).

    Parameters
    ----------
    model : TurnoverRiskModel
        A fitted model.
    X : DataFrame
        A panel or a feature frame, possibly with the group column(s); named group columns
        are left out of the explained inputs unless the model was fitted on them.
    groups : str, list of str or Series
        Group column name(s) in ``X`` (e.g. ``"unit_id"``), or one group label per row.
    n_per_group : "auto", int or None
        Rows explained per group. ``"auto"`` (default): one row in ``AUTO_ONE_IN`` (12) of
        each group, rounded up, at least ``AUTO_MIN_ROWS`` (30) or the whole group if it is
        smaller (see :func:`auto_sample_sizes`); this keeps the table about 8x cheaper than
        explaining every row whatever the group sizes. An integer: that many rows per group
        (all rows of smaller groups). ``None`` explains every row (exact means, ``se == 0``).
    random_state : int, Generator or None
        Seed of the sample.
    min_group_size : int
        Groups with fewer persons (distinct ``employee_id`` when ``X`` has it, else rows) are
        left out, and so are the partner groups that would make them a difference of shown
        ones (:func:`turnover_risk.privacy.protect_groups`); their number is in
        ``result.attrs["suppressed_groups"]``. A person identifier is refused as a grouping.

    Returns
    -------
    DataFrame
        One row per group and feature: the group column(s), ``feature``, ``group_mean_shap``,
        ``population_mean_shap``, ``difference`` (group minus population, log-odds),
        ``se`` (standard error of the difference), ``rank_clear`` (the feature's
        ``|difference|`` is separated from the features ranked just above and below it by
        more than ``RANK_CLEAR_Z`` standard errors of the gap: for the first row, the top
        driver is clearly ahead of the second; ``False`` marks near-ties whose order a new
        sample may swap), ``n_rows`` (rows of the group), ``n_explained``; sorted by group
        and by ``|difference|`` (largest first) within each group.

    Notes
    -----
    The group means use a regression (GREG) estimator: each feature's attribution is predicted
    from the feature's own input value (known for every row), the prediction is averaged over
    *all* rows of the group, and the mean residual of the explained rows corrects it (see
    ``_control_variates``). For a logistic model the prediction is exact; for trees it removes
    most of the sampling noise. With stratum weights ``w_h = N_h / N``, estimated group means
    ``m_h`` and their variances ``V_h = (1 - n_h / N_h) s_h^2 / n_h`` (finite-population
    corrected; ``s_h^2`` the residual variance), the population mean is ``sum_h w_h m_h`` and
    the difference for group ``g`` is ``(1 - w_g) m_g - sum_{h != g} w_h m_h`` with variance
    ``(1 - w_g)^2 V_g + sum_{h != g} w_h^2 V_h``. Rows of one person in consecutive periods
    are correlated, so these errors are somewhat optimistic for person-period panels. The
    output holds row counts, not person counts: apply the minimum group size before sharing it.

    Speed. The cost is TreeSHAP on the explained rows plus one pass over every row's input
    values for the control variates (no transform of all rows), so the gain over explaining
    every row is roughly ``1 / (share of rows explained + 0.04)``. On a 400-unit, 6-year
    monthly panel (180 000 rows, gbm with panel defaults; ``benchmarks/bench_explain.py``, best
    of 2 on a shared 2-core machine) the default ``"auto"`` was 8.5x faster than
    ``shap.TreeExplainer`` on every row for municipalities (groups of about 1 550 rows, 130
    explained) and 7.2x for units (about 460 rows, 39 explained); the sampled top driver was
    the exact one in 93 % of the groups and among the exact top three in all of them, and
    where ``rank_clear`` held for it, it was the exact one in 99-100 %. A fixed
    ``n_per_group=200`` was 6.4x and 1.9x faster.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from turnover_risk.models import TurnoverRiskModel
    >>> rng = np.random.default_rng(1)
    >>> X = pd.DataFrame({"caseload": rng.normal(20, 5, 400), "unit": np.repeat(["a", "b"], 200)})
    >>> X.loc[X["unit"] == "b", "caseload"] += 5
    >>> y = (rng.random(400) < 1 / (1 + np.exp(-(X["caseload"] - 22) / 3))).astype(int)
    >>> m = TurnoverRiskModel(random_state=0).fit(X[["caseload"]], y)
    >>> d = group_drivers(m, X, "unit", n_per_group=None)
    >>> d.loc[d["unit"] == "b", "difference"].item() > 0
    True
    >>> group_drivers(m, X, "unit", random_state=0)["n_explained"].tolist()  # 200 / 12 -> 17
    [30, 30]
    """
    if not isinstance(X, pd.DataFrame):
        raise TypeError(f"X must be a pandas DataFrame; got {type(X).__name__}.")
    keys, key_names = _group_keys(X, groups)
    check_grouping(key_names)
    min_group_size = check_min_group_size(min_group_size)
    if keys.isna().any(axis=None):
        raise ValueError(
            f"group column(s) {key_names} have missing values; fill or drop those rows first."
        )
    if len(key_names) == 1:  # 25x faster than through a MultiIndex on 180 000 rows
        codes, uniques = pd.factorize(keys.iloc[:, 0])
        key_frame = pd.DataFrame({key_names[0]: uniques})
    else:
        codes, uniques = pd.MultiIndex.from_frame(keys).factorize()
        key_frame = uniques.to_frame(index=False)
        key_frame.columns = key_names
    codes = np.asarray(codes)
    n_groups = len(key_frame)
    sizes = np.bincount(codes, minlength=n_groups)
    quota = _sample_quota(n_per_group, sizes)

    rng = np.random.default_rng(random_state)
    if np.array_equal(quota, sizes):
        pos = np.arange(len(X))
    else:
        # Random priority per row; keep the quota smallest priorities in each group.
        prio = rng.random(len(X))
        order = np.lexsort((prio, codes))
        starts_all = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        rank_in_group = np.arange(len(X)) - np.repeat(starts_all, sizes)
        pos = np.sort(order[rank_in_group < np.repeat(quota, sizes)])
    inputs = set(getattr(model, "feature_names_in_", ()))
    X_in = X
    if inputs and not isinstance(groups, pd.Series | np.ndarray):
        # group columns named in X are not inputs unless the model was fitted on them
        X_in = X.drop(columns=[c for c in key_names if c not in inputs])
    explanation = model.explain(X_in.iloc[pos])

    # One BLAS thread: on the busy 2-core machine the default two threads took 0.33 s instead
    # of 0.007 s for the 50 x 50 residual cross-product of 15 600 rows (threads spinning).
    with threadpool_limits(limits=1, user_api="blas"):
        table = _driver_table(model, X_in, pos, explanation, codes, sizes, key_frame, key_names)
    return _drop_hidden_groups(table, X, keys, key_frame, key_names, codes, min_group_size)


def _drop_hidden_groups(
    table: pd.DataFrame,
    X: pd.DataFrame,
    keys: pd.DataFrame,
    key_frame: pd.DataFrame,
    key_names: list[str],
    codes: np.ndarray,
    min_group_size: int,
) -> pd.DataFrame:
    """Leave out the groups the privacy layer hides (small ones and their partners)."""
    rows = keys.reset_index(drop=True)
    for c in ("employee_id", "unit_id", "municipality", "service"):
        if c in X.columns and c not in rows.columns:
            rows[c] = X[c].to_numpy()
    if "employee_id" in rows.columns:
        person = pd.factorize(rows["employee_id"])[0]
        pairs = pd.DataFrame({"g": codes, "p": person}).drop_duplicates()
        n = np.bincount(pairs["g"].to_numpy(), minlength=len(key_frame))
    else:
        rows["employee_id"] = np.arange(len(rows))  # rows stand for persons
        n = np.bincount(codes, minlength=len(key_frame))
    hidden = protect_groups(
        key_frame.assign(n_persons=n), by=key_names, rows=rows, min_group_size=min_group_size
    )
    hidden_keys = key_frame.loc[hidden]
    out = table
    if len(hidden_keys):
        marker = table[key_names].merge(hidden_keys.assign(_hide=True), on=key_names, how="left")
        out = table.loc[~marker["_hide"].fillna(False).to_numpy(dtype=bool)]
        out = out.reset_index(drop=True)
    out.attrs["suppressed_groups"] = int(hidden.sum())
    return out


def _driver_table(
    model: Any,
    X_in: pd.DataFrame,
    pos: np.ndarray,
    explanation: Explanation,
    codes: np.ndarray,
    sizes: np.ndarray,
    key_frame: pd.DataFrame,
    key_names: list[str],
) -> pd.DataFrame:
    """The estimator and the output table of :func:`group_drivers` (see its notes)."""
    n_groups = len(sizes)
    sample_codes = codes[pos]
    vals = explanation.values.to_numpy(dtype=float)
    features = list(explanation.feature_names)
    p = len(features)
    # Regression (GREG) estimator: predict each feature's attribution from its own input
    # value, known for every row, and correct with the sample's residuals. Unbiased like the
    # plain sample mean, with the residual variance instead of the attribution variance
    # (exact for a linear model, much tighter for trees).
    group_fitted, fitted_sample = _control_variates(model, X_in, pos, vals, features, codes, sizes)
    resid = vals - fitted_sample
    n_expl = np.bincount(sample_codes, minlength=n_groups)
    srt = np.argsort(sample_codes, kind="stable")  # sample rows grouped (every group has some)
    starts = np.concatenate([[0], np.cumsum(n_expl)[:-1]])
    resid_means = np.add.reduceat(resid[srt], starts, axis=0) / n_expl[:, None]
    means = group_fitted + resid_means
    w = sizes / sizes.sum()
    pop_mean = w @ means
    diff = means - pop_mean
    order = np.argsort(-np.abs(diff), axis=1, kind="stable")  # features by |difference|

    fpc = 1.0 - n_expl / sizes
    if np.any(fpc > 0):
        centred = resid - resid_means[sample_codes]
        with np.errstate(invalid="ignore", divide="ignore"):
            # Cov of a group's estimated means: fpc / (n (n - 1)) * sum of residual products
            row_scale = np.where(n_expl > 1, fpc / (n_expl * (n_expl - 1.0)), 0.0)
        var_mean = np.add.reduceat((centred**2)[srt], starts, axis=0) * row_scale[:, None]
        weighted = centred * ((w**2) * row_scale)[sample_codes][:, None]
        total_cov = weighted.T @ centred  # sum_h w_h^2 C_h
        var_diff = (1 - 2 * w)[:, None] * var_mean + np.diag(total_cov)[None, :]
    else:  # every row explained: exact
        centred, row_scale = np.empty((0, p)), np.zeros(n_groups)
        total_cov = np.zeros((p, p))
        var_diff = np.zeros((n_groups, p))
    var_diff = np.clip(var_diff, 0.0, None)
    clear = _rank_clear(
        diff, order, var_diff, centred, sample_codes, starts, srt, row_scale, w, total_cov
    )

    group_order = key_frame.sort_values(key_names, kind="stable").index.to_numpy()
    g = np.repeat(group_order, p)
    f = order[group_order].ravel()
    out = key_frame.iloc[g].reset_index(drop=True)
    out["feature"] = np.asarray(features, dtype=object)[f]
    out["group_mean_shap"] = means[g, f]
    out["population_mean_shap"] = pop_mean[f]
    out["difference"] = diff[g, f]
    out["se"] = np.sqrt(var_diff[g, f])
    out["rank_clear"] = clear[group_order].ravel()
    out["n_rows"] = sizes[g]
    out["n_explained"] = n_expl[g]
    return out
