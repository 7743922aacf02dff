"""Bootstrap refits kept with a gradient-boosting model, so that a report need not refit.

A prospective :func:`turnover_risk.flag_groups` with ``n_boot`` refits the model's classifier
on ``n_boot`` bootstrap draws of the panel's labelled rows (``groups/_bootstrap.py``). For the
gradient-boosting model these refits are most of a report's time (about 0.5 s each on the
shipped sample). They depend only on the training design, the labels, the draws and the
classifier's parameters, so when the report's panel is the panel the model was trained on,
the refits made at training are the refits the report would make.

:func:`store_refits` (run by ``turnover-risk train`` for a gbm) makes the refits that
``flag_groups(model, panel, n_boot=n_boot, random_state=random_state)`` would make and keeps
their trees on the model (the attribute :data:`ATTRIBUTE`, saved in the model file) with a
SHA-256 **key** of everything a refit depends on: the scikit-learn and numpy versions, the
classifier's class and parameters, the binned design of the labelled rows, their labels and the rows of each draw. A later
prospective flag computes the same key from its own panel and uses the kept trees only when the
keys are equal; the risks are then the same, bit for bit, as refitting (a refit is a
deterministic function of those inputs: ``early_stopping=False``, fixed ``random_state``).
With another panel (a newer register, other settings, another ``n_boot`` or
``random_state``) the key differs and the refits are made as before.

The trees are kept as flat arrays (per node: feature, threshold, children, leaf flag, the side
of missing values, value; per refit: the baseline and its trees' roots), about 55 kB per refit
on the sample, not as ten scikit-learn estimators (which made the model file 4.5 times larger
and its loading 0.8 s slower). :func:`_predict_raw` walks them as scikit-learn's predictor
does (``x <= threshold`` goes left, a missing value goes to its learned side) and adds the
trees' values to the baseline one tree at a time, in order, as
``HistGradientBoostingClassifier.decision_function`` does.
A model file's kept trees are checked before use (shapes, types, every child after its
parent): a file that fails the check is refitted as without them.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import numpy as np

__all__ = ["ATTRIBUTE", "store_refits"]

ATTRIBUTE = "bootstrap_refits_"
"""The model attribute that holds the kept refits (a dict of plain values and arrays)."""

_VERSION = 1
_NODE_ARRAYS = {
    "feature": np.int64,
    "threshold": np.float64,
    "left": np.int64,
    "right": np.int64,
    "is_leaf": np.bool_,
    "missing_left": np.bool_,
    "value": np.float64,
}


def refit_key(clf: Any, design: np.ndarray, y01: np.ndarray, draws: list[np.ndarray]) -> str:
    """SHA-256 of what a classifier refit depends on (scikit-learn and numpy versions, class,
    parameters, design, labels, the rows of each draw)."""
    import sklearn

    h = hashlib.sha256(f"turnover_risk refits v{_VERSION}\n".encode())
    # a refit is the same only with the same fitting code: another scikit-learn or numpy may
    # grow other trees from the same rows
    h.update(f"scikit-learn {sklearn.__version__} numpy {np.__version__}\n".encode())
    params = json.dumps(clf.get_params(deep=False), sort_keys=True, default=repr)
    h.update(f"{type(clf).__module__}.{type(clf).__qualname__}\n{params}\n".encode())
    design = np.ascontiguousarray(design, dtype=np.float64)
    h.update(f"{design.shape}\n".encode())
    h.update(design.tobytes())
    h.update(np.ascontiguousarray(y01, dtype=np.int64).tobytes())
    for idx in draws:
        idx = np.ascontiguousarray(idx, dtype=np.int64)
        h.update(f"\n{len(idx)}\n".encode())
        h.update(idx.tobytes())
    return h.hexdigest()


def _trees_of(fitted: Any) -> tuple[float, list[np.ndarray]] | None:
    """``(baseline, node records of each tree)`` of a fitted binary
    ``HistGradientBoostingClassifier`` on numeric features, or None for anything else."""
    predictors = getattr(fitted, "_predictors", None)
    baseline = np.asarray(getattr(fitted, "_baseline_prediction", np.nan), dtype=np.float64)
    if (
        predictors is None
        or baseline.size != 1
        or getattr(fitted, "is_categorical_", None) is not None
    ):
        return None
    nodes = []
    for of_iteration in predictors:
        if len(of_iteration) != 1:
            return None
        nodes.append(of_iteration[0].nodes)
    return float(baseline.ravel()[0]), nodes


def _pack(fitted: list[Any]) -> dict[str, Any] | None:
    """The trees of the fitted refits as flat arrays (see the module notes), or None."""
    flat: dict[str, list[np.ndarray]] = {name: [] for name in _NODE_ARRAYS}
    baselines, roots, trees_per_refit = [], [], []
    offset = 0
    for clf in fitted:
        got = _trees_of(clf)
        if got is None:
            return None
        baseline, trees = got
        baselines.append(baseline)
        trees_per_refit.append(len(trees))
        for nodes in trees:
            roots.append(offset)
            leaf = nodes["is_leaf"].astype(bool)
            flat["feature"].append(nodes["feature_idx"])
            flat["threshold"].append(nodes["num_threshold"])
            # a leaf's children point to itself: every walk stays inside its tree
            own = offset + np.arange(len(nodes))
            flat["left"].append(np.where(leaf, own, offset + nodes["left"].astype(np.int64)))
            flat["right"].append(np.where(leaf, own, offset + nodes["right"].astype(np.int64)))
            flat["is_leaf"].append(leaf)
            flat["missing_left"].append(nodes["missing_go_to_left"].astype(bool))
            flat["value"].append(nodes["value"])
            offset += len(nodes)
    out: dict[str, Any] = {
        name: np.concatenate(parts).astype(dtype) for (name, dtype), parts in
        zip(_NODE_ARRAYS.items(), flat.values(), strict=True)
    }  # fmt: skip
    out["baseline"] = np.asarray(baselines, dtype=np.float64)
    out["roots"] = np.asarray(roots, dtype=np.int64)
    out["trees_per_refit"] = np.asarray(trees_per_refit, dtype=np.int64)
    return out


def _checked(store: Any, n_features: int) -> dict[str, Any] | None:
    """The kept refits when they are well formed for a design of ``n_features`` columns."""
    try:
        if not isinstance(store, dict) or store.get("version") != _VERSION:
            return None
        arrays = {name: store[name] for name in (*_NODE_ARRAYS, "baseline", "roots")}
        arrays["trees_per_refit"] = store["trees_per_refit"]
        if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in arrays.values()):
            return None
        n_nodes = len(arrays["feature"])
        if any(len(arrays[name]) != n_nodes for name in _NODE_ARRAYS):
            return None
        for name, dtype in _NODE_ARRAYS.items():
            if arrays[name].dtype != np.dtype(dtype):
                return None
        roots, per = arrays["roots"], arrays["trees_per_refit"]
        if roots.dtype != np.int64 or per.dtype != np.int64 or per.min(initial=1) < 1:
            return None
        if int(per.sum()) != len(roots) or len(per) != len(arrays["baseline"]) or len(per) < 1:
            return None
        own = np.arange(n_nodes)
        leaf = arrays["is_leaf"]
        inner = ~leaf
        if len(roots) and (roots.min() < 0 or roots.max() >= n_nodes):
            return None
        # every inner node's children come after it (so a walk ends), leaves point to themselves
        for side in ("left", "right"):
            child = arrays[side]
            if (child[inner] <= own[inner]).any() or (child[inner] >= n_nodes).any():
                return None
            if (child[leaf] != own[leaf]).any():
                return None
        feature = arrays["feature"][inner]
        if len(feature) and (feature.min() < 0 or feature.max() >= n_features):
            return None
        return arrays
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _predict_raw(store: dict[str, Any], X: np.ndarray) -> list[np.ndarray]:
    """Each kept refit's raw log-odds of the rows of ``X`` (as its ``decision_function``)."""
    X = np.ascontiguousarray(X, dtype=np.float64)
    n = len(X)
    rows = np.arange(n)[:, None]
    node = np.broadcast_to(store["roots"], (n, len(store["roots"]))).copy()
    leaf, left, right = store["is_leaf"], store["left"], store["right"]
    while not leaf[node].all():
        x = X[rows, store["feature"][node]]
        missing = np.isnan(x)
        with np.errstate(invalid="ignore"):
            go_left = np.where(missing, store["missing_left"][node], x <= store["threshold"][node])
        node = np.where(go_left, left[node], right[node])  # a leaf points to itself
    values = store["value"][node]
    out = []
    start = 0
    for baseline, k in zip(store["baseline"], store["trees_per_refit"], strict=True):
        raw = np.zeros(n, dtype=np.float64)
        raw += baseline
        for t in range(start, start + int(k)):  # one tree at a time, as scikit-learn adds them
            raw += values[:, t]
        out.append(raw)
        start += int(k)
    return out


def stored_risks(
    model: Any, clf: Any, design: np.ndarray, y01: np.ndarray, draws: list, target: np.ndarray
) -> list[np.ndarray] | None:
    """The kept refits' risks of ``target`` when their key is that of these refits, else None."""
    store = getattr(model, ATTRIBUTE, None)
    if store is None or not isinstance(store, dict):
        return None
    if store.get("key") != refit_key(clf, design, y01, draws):
        return None
    checked = _checked(store, design.shape[1])
    if checked is None or len(checked["baseline"]) != len(draws):
        return None
    from scipy.special import expit

    return [np.clip(expit(raw), 0.0, 1.0) for raw in _predict_raw(checked, target)]


def store_refits(model: Any, panel: Any, *, n_boot: int = 10, random_state: int | None = 0) -> int:
    """Make the bootstrap refits of a prospective ``flag_groups(model, panel, n_boot=n_boot,
    random_state=random_state)`` and keep their trees on ``model``; the number kept.

    Only for a :class:`~turnover_risk.TurnoverRiskModel` whose classifier alone is refitted
    (fitted on a panel, not calibrated) and is a gradient-boosting classifier; for any other
    model nothing is kept and 0 is returned. A refit already kept is replaced.

    Use it before ``model.save(...)`` when the model's report (``turnover-risk report`` or
    :func:`~turnover_risk.write_report`, ``n_boot=10``, ``random_state=0``) will be written on
    the same register: ``turnover-risk train`` does it for a gbm.

    Parameters
    ----------
    model : TurnoverRiskModel
        Fitted on ``panel``.
    panel : DataFrame
        The panel the flags will be computed on (its labelled rows are the refits' data).
    n_boot, random_state : int
        As the flags' ``n_boot`` and ``random_state``; other values there refit as before.

    Returns
    -------
    int
        The number of refits kept (draws with a single class are skipped, as in the flags).

    Examples
    --------
    >>> import turnover_risk as tr
    >>> from turnover_risk.groups import store_refits
    >>> panel = tr.build_panel(tr.load_sample())
    >>> model = tr.TurnoverRiskModel(kind="gbm", max_iter=20).fit(panel)  # doctest: +SKIP
    >>> store_refits(model, panel, n_boot=10)  # doctest: +SKIP
    10
    >>> flags = tr.flag_groups(model, panel, n_boot=10, random_state=0)  # doctest: +SKIP
    """
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.base import clone
    from threadpoolctl import threadpool_limits

    from turnover_risk.groups import _bootstrap as boot
    from turnover_risk.panel import panel_spec

    if getattr(model, ATTRIBUTE, None) is not None:
        delattr(model, ATTRIBUTE)
    if not n_boot or not boot._refits_classifier_only(model):
        return 0
    clf = model.pipeline_.named_steps["clf"]
    if _trees_of(clf) is None:
        return 0
    spec = panel_spec(panel)
    train = boot._training_rows(panel, spec)
    rng = np.random.default_rng(random_state)  # as flag_groups: its first use of the stream
    draws = boot._person_draws(train, spec, int(n_boot), rng)
    y_all = train[spec.label_col].to_numpy()
    design, y01, kept, _ = boot._refit_design(model, clf, train, y_all, draws)
    if len(kept) < 2:
        return 0

    def fit(idx: np.ndarray) -> Any:
        with threadpool_limits(limits=1):
            return clone(clf).fit(design[idx], y01[idx])

    workers = max(1, min(boot.MAX_WORKERS, len(kept)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        fitted = list(pool.map(fit, kept))
    packed = _pack(fitted)
    if packed is None:
        return 0
    packed["version"] = _VERSION
    packed["key"] = refit_key(clf, design, y01, kept)
    packed["n_boot"] = int(n_boot)
    packed["random_state"] = random_state
    setattr(model, ATTRIBUTE, packed)
    return len(kept)
