"""Bootstrap refits behind prospective :func:`turnover_risk.flag_groups`: model uncertainty.

Persons (all of a person's labelled rows together) are drawn with replacement from the panel's
labelled rows; the model is refitted on each draw and predicts the assessed period's rows. A
draw whose labels hold a single class is skipped (it uses up its share of the random stream,
so the other draws do not change).

Two ways to refit a draw, with the same draws:

* ``"classifier"`` (default for a :class:`~turnover_risk.TurnoverRiskModel` fitted on a panel
  without ``calibrate``): the training rows are transformed **once** by the fitted model's
  preprocessing (the columns it kept, imputation medians, scaling, categories) and only its
  classifier (``LogisticRegression`` or ``HistGradientBoostingClassifier``, same parameters) is
  refitted on each draw's rows of that design. For the gbm the design is also binned once with
  the fitted classifier's own bins (a refit on the bin numbers finds the same splits as on the
  values, without binning again). This is the procedure the model's calibration folds use.
  It leaves out the variation of the preprocessing between draws (medians, scales and which
  near-constant columns are screened out), which is small beside the classifier's: on the
  shipped sample the standard errors of the log ratios agree with full refits to within
  ~10 % (``tests/groups/test_bootstrap.py``), and a refit costs a classifier fit rather than
  a pipeline fit with its input checks, column screening and drift profile (about 5x less for
  the logistic model, 2x for the gbm).
* ``"pipeline"``: ``sklearn.base.clone(model)`` is refitted on each draw's rows of the panel,
  as in 0.1.0. Used for calibrated models (the calibration folds are part of the fit), plain
  scikit-learn classifiers, and as the reference in ``benchmarks/bench_report.py``.

A :class:`~turnover_risk.HazardModel` (through the scoring adapter ``HazardRisk``) is refitted
whole on each draw: persons drawn as above from *all* the panel's rows (the model's own fit
keeps every fully observed month, censored labels or not), refitted with the same parameters
and the register (``HazardModel.fit(sample, register)``), then its risk at the adapter's horizon.
On the shipped sample (18 802 person-months) a refit of the default cloglog model takes about
2.7 s and of the gbm about 1.5 s, single-threaded.

Each refit runs on one thread (BLAS and OpenMP): small problems where threads only contend; on
a busy 2-core machine the gbm's OpenMP threads made a refit 30 times slower.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pandas as pd

from turnover_risk.groups._common import _model_input, _predict, _with_spec

REFIT = "classifier"
"""How draws are refitted when the model allows it (see the module notes): ``"classifier"`` or
``"pipeline"``. Tests and the benchmark set it to ``"pipeline"`` to compare."""

MAX_WORKERS = 2
"""Threads that refit the classifier at once (at most the number of CPUs)."""


def _training_rows(panel: pd.DataFrame, spec) -> pd.DataFrame:
    label = spec.label_col
    if label not in panel.columns or not panel[label].notna().any():
        raise ValueError(
            "prospective mode refits the model on bootstrap samples of the panel's labelled "
            "rows, but the panel has none; pass the training panel (with the current period), "
            "or n_boot=0 to skip model uncertainty."
        )
    # Periods where most labels are censored (the last horizon of the data) hold a sample of
    # leavers only; refitting on them would inflate the risk (the model leaves them out too).
    censored_share = panel[label].isna().groupby(panel[spec.period_col]).transform("mean")
    return _with_spec(panel.loc[panel[label].notna() & (censored_share <= 0.5)], panel)


def _person_draws(train: pd.DataFrame, spec, n_boot: int, rng) -> list[np.ndarray]:
    """Row positions in ``train`` of each draw: persons drawn with replacement, all their
    rows taken together, in the order drawn."""
    ids = [c for c in spec.id_cols if c in train.columns]
    if ids:
        person = pd.MultiIndex.from_frame(train[ids]).factorize()[0]
    else:
        person = np.arange(len(train))
    n_persons = int(person.max()) + 1
    order = np.argsort(person, kind="stable")
    counts = np.bincount(person, minlength=n_persons)
    starts = np.cumsum(counts) - counts
    draws = []
    for _ in range(n_boot):
        chosen = rng.integers(0, n_persons, n_persons)
        lens = counts[chosen]
        offsets = np.repeat(starts[chosen] - (np.cumsum(lens) - lens), lens) + np.arange(lens.sum())
        draws.append(order[offsets])
    return draws


def _refits_classifier_only(model) -> bool:
    return (
        REFIT == "classifier"
        and getattr(model, "spec_", None) is not None
        and getattr(model, "calibrator_", None) is None
        and hasattr(model, "pipeline_")
        and hasattr(model, "_transform")
    )


def _bootstrap_predictions(
    model, panel, spec, rows, n_boot, rng, register=None
) -> list[np.ndarray]:
    """Predicted risks of ``rows`` from each successful refit (at least 2, else ValueError)."""
    from threadpoolctl import threadpool_limits

    from turnover_risk.scoring._hazard import HazardRisk

    hazard = isinstance(model, HazardRisk)
    train = _with_spec(panel, panel) if hazard else _training_rows(panel, spec)
    draws = _person_draws(train, spec, n_boot, rng)
    y_all = None if hazard else train[spec.label_col].to_numpy()
    with warnings.catch_warnings(), threadpool_limits(limits=1):
        warnings.simplefilter("ignore")
        if hazard:
            out = _hazard_refits(model, panel, train, rows, register, draws)
        elif _refits_classifier_only(model):
            out = _classifier_refits(model, train, rows, y_all, draws)
        else:
            out = _pipeline_refits(model, panel, train, rows, spec, draws)
    if len(out) < 2:
        raise ValueError(
            "fewer than 2 bootstrap refits succeeded (the labelled rows have a single class); "
            "use n_boot=0 or a panel with both leavers and stayers."
        )
    return out


def _pipeline_refits(model, panel, train, rows, spec, draws) -> list[np.ndarray]:
    from sklearn.base import clone

    fit_on_panel = getattr(model, "spec_", None) is not None
    out = []
    for idx in draws:
        sample = train.iloc[idx].reset_index(drop=True)
        y = sample[spec.label_col]
        if y.nunique() < 2:
            continue
        refit = clone(model)
        if fit_on_panel:
            refit.fit(_with_spec(sample, panel))
        else:
            refit.fit(_model_input(model, sample, spec), y.astype(int))
        out.append(_predict(refit, rows, spec))
    return out


def _hazard_refits(risk, panel, train, rows, register, draws) -> list[np.ndarray]:
    """Refit the adapter's HazardModel on each draw; its risks of ``rows`` at the horizon."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from turnover_risk.scoring._hazard import HazardRisk

    params = risk.model.get_params()

    def refit(idx: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=1):
            sample = _with_spec(train.iloc[idx].reset_index(drop=True), panel)
            fitted = type(risk.model)(**params).fit(sample, register)
            return HazardRisk(fitted, risk.horizon).predict_risk(rows)

    workers = min(MAX_WORKERS, os.cpu_count() or 1, len(draws))
    if workers <= 1:
        return [refit(idx) for idx in draws]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(refit, draws))


def _classifier_refits(model, train, rows, y_all, draws) -> list[np.ndarray]:
    from concurrent.futures import ThreadPoolExecutor

    from sklearn.base import clone

    from turnover_risk.groups._refit_store import stored_risks
    from turnover_risk.groups._refit_worker import fit_predict, shared_refits

    clf = model.pipeline_.named_steps["clf"]
    design, y01, kept, target = _refit_design(model, clf, train, y_all, draws, rows)
    # the refits kept with the model at training, when they are these refits (same key)
    stored = stored_risks(model, clf, design, y01, kept, target)
    if stored is not None:
        return stored

    def draw(i: int) -> tuple:
        return clone(clf), design[kept[i]], y01[kept[i]]

    # The draws are fixed before any refit, so the result does not depend on where a draw is
    # refitted. With the command line's worker process (``_refit_worker``), this thread and the
    # worker share the draws; else the classifiers' fitting loops, which release the GIL,
    # run on two threads (both cores of a 2-core machine for the gbm's refits, one each).
    shared = shared_refits(draw, target, len(kept))
    if shared is not None:
        return shared
    workers = min(MAX_WORKERS, os.cpu_count() or 1, len(kept))
    if workers <= 1:
        return [fit_predict(*draw(i), target) for i in range(len(kept))]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(lambda i: fit_predict(*draw(i), target), range(len(kept))))


def _refit_design(model, clf, train, y_all, draws, rows=None) -> tuple:
    """``(design, y01, kept, target)``: the training rows' design (binned for a gbm), their
    labels as 0/1, the draws that hold both classes, and the design of ``rows`` (None
    without)."""
    designs = [_design(model, train)] + ([] if rows is None else [_design(model, rows)])
    designs = _binned(clf, *designs)
    y01 = (y_all == model.classes_[1]).astype(np.int64)
    kept = [idx for idx in draws if y01[idx].min() != y01[idx].max()]
    return designs[0], y01, kept, (designs[1] if rows is not None else None)


def _design(model, frame: pd.DataFrame) -> np.ndarray:
    _, z = model._transform(frame)
    return np.ascontiguousarray(np.asarray(z, dtype=np.float64))


def _binned(clf, *designs: np.ndarray) -> tuple[np.ndarray, ...]:
    """The designs as the bin numbers of a fitted gradient-boosting classifier (missing values
    stay missing), or unchanged for another classifier."""
    mapper = getattr(clf, "_bin_mapper", None)
    if mapper is None or getattr(clf, "is_categorical_", None) is not None:
        return designs
    out = []
    for x in designs:
        b = np.asarray(mapper.transform(x), dtype=np.float64)
        b[np.isnan(x)] = np.nan
        out.append(np.ascontiguousarray(b))
    return tuple(out)
