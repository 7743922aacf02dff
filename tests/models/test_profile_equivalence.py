"""The one-pass drift profile equals the profile of 0.1.0's several-pass construction, exactly.

``_reference_profile`` below is the earlier implementation (two quantile calls per column, the
merge loop binning all rows again for every merged edge, categories turned into text row by row),
kept here as the oracle; both run on random frames with NaNs, ties, constant and empty columns.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from turnover_risk.models._profile import (
    MISSING_LABEL,
    N_QUANTILE_BINS,
    OTHER_LABEL,
    PROFILE_VERSION,
    RANGE_QUANTILES,
    RANGE_WIDEN,
    _as_float,
    _as_text,
    _distinct,
    _numeric_labels,
    _weighted_counts,
    bin_codes,
    build_profile,
)


def _reference_edges(x, person, min_persons):
    ok = ~np.isnan(x)
    if not ok.any():
        return []
    edges = list(np.unique(np.quantile(x[ok], np.arange(1, N_QUANTILE_BINS) / N_QUANTILE_BINS)))
    while edges:
        bins = np.searchsorted(np.asarray(edges), x[ok], side="left")
        n = _distinct(bins, person[ok], len(edges) + 1)
        i = int(np.argmin(n))
        if n[i] >= min_persons:
            break
        if i == 0:
            drop = 0
        elif i == len(edges):
            drop = i - 1
        else:
            drop = i - 1 if n[i - 1] <= n[i + 1] else i
        edges.pop(drop)
    return [float(e) for e in edges]


def _reference_range(x):
    ok = x[~np.isnan(x)]
    if not len(ok):
        return None, None
    lo, hi = np.quantile(ok, RANGE_QUANTILES)
    width = hi - lo if hi > lo else max(abs(hi), 1.0)
    low, high = lo - RANGE_WIDEN * width, hi + RANGE_WIDEN * width
    if ok.min() >= 0:
        low = 0.0
        if ok.max() <= 1:
            high = 1.0
    return float(low), float(high)


def _reference_numeric(x, person, weight, min_persons):
    edges = _reference_edges(x, person, min_persons)
    low, high = _reference_range(x)
    prof = {"kind": "numeric", "edges": edges, "low": low, "high": high}
    codes, _, _ = bin_codes(prof, x)
    ok = x[~np.isnan(x)]
    prof.update(
        labels=_numeric_labels(edges),
        rows=[int(v) for v in np.bincount(codes, minlength=len(edges) + 2)],
        counts=_weighted_counts(codes, weight, len(edges) + 2),
        mean=float(ok.mean()) if len(ok) else None,
        sd=float(ok.std(ddof=1)) if len(ok) > 1 else None,
    )
    return prof


def _reference_category(s, person, weight, min_persons):
    text, missing = _as_text(s)
    seen = sorted(set(text[~missing].tolist()))
    level_code = {v: i for i, v in enumerate(seen)}
    raw = pd.Series(text).map(level_code).fillna(-1).to_numpy(dtype=np.int64)
    n_persons = _distinct(raw[~missing], person[~missing], len(seen)) if seen else np.zeros(0)
    kept = [v for v, n in zip(seen, n_persons, strict=True) if n >= min_persons]
    rare = [v for v in seen if v not in set(kept)]
    while rare and kept:
        in_other = np.isin(text, rare) & ~missing
        if len(np.unique(person[in_other])) >= min_persons:
            break
        counts = {v: int(n) for v, n in zip(seen, n_persons, strict=True)}
        smallest = min(kept, key=lambda v: counts[v])
        kept.remove(smallest)
        rare.append(smallest)
    prof = {"kind": "category", "levels": kept, "seen": seen, "has_other": bool(rare)}
    codes, _, _ = bin_codes(prof, s)
    labels = [*kept, *([OTHER_LABEL] if rare else []), MISSING_LABEL]
    prof.update(
        labels=labels,
        rows=[int(v) for v in np.bincount(codes, minlength=len(labels))],
        counts=_weighted_counts(codes, weight, len(labels)),
    )
    return prof


def _reference_profile(X, features, numeric, persons=None, *, min_bin_persons=10):
    if persons is None:
        person = np.arange(len(X))
    else:
        person, _ = pd.factorize(
            pd.Series(np.asarray(persons, dtype=object)), use_na_sentinel=False
        )
    n_persons = int(person.max()) + 1 if len(person) else 0
    rows_of = np.bincount(person, minlength=n_persons) if n_persons else np.zeros(0)
    weight = 1.0 / rows_of[person] if len(person) else np.zeros(0)
    out = {}
    for c in features:
        if c in set(numeric):
            out[c] = _reference_numeric(_as_float(X[c]), person, weight, min_bin_persons)
        else:
            out[c] = _reference_category(X[c], person, weight, min_bin_persons)
    return {
        "version": PROFILE_VERSION,
        "n_rows": len(X),
        "n_persons": n_persons,
        "min_bin_persons": int(min_bin_persons),
        "features": out,
    }


@st.composite
def _frames(draw):
    n = draw(st.integers(0, 150))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    n_persons = draw(st.integers(1, 60))
    pid = rng.integers(0, n_persons, n)
    persons = draw(
        st.sampled_from(
            [None, pid, pid.astype(np.int32), np.asarray([f"E{p:03d}" for p in pid], dtype=object)]
        )
    )
    ties = draw(st.integers(1, 40))  # few distinct values: edges that coincide, merged bins
    nan_share = draw(st.sampled_from([0.0, 0.1, 0.5, 1.0]))

    def numeric(dtype):
        x = rng.choice(rng.normal(0, 10, ties), n) if ties < 40 else rng.normal(0, 10, n)
        x[rng.random(n) < nan_share] = np.nan
        return x.astype(dtype)

    levels = np.asarray(["a", "b", "c", "", "d e"], dtype=object)
    role = levels[rng.integers(0, draw(st.integers(1, 5)), n)]
    role[rng.random(n) < nan_share / 2] = None
    X = pd.DataFrame(
        {
            "f32": numeric(np.float32),
            "f64": numeric(np.float64),
            "share": rng.choice([0.0, 0.25, 1.0], n).astype(np.float32),
            "count": rng.integers(0, 5, n),
            "flag": rng.random(n) < 0.3,
            "constant": np.full(n, 3.5, dtype=np.float32),
            "role_obj": pd.Series(role, dtype=object),
            "role_str": pd.Series(role, dtype="string"),
            "role_cat": pd.Categorical(role, categories=["d e", "c", "b", "a", "", "z"]),
            "mixed": pd.Series(rng.choice(np.asarray([1, 1.0, "1", None], dtype=object), n)),
        }
    )
    return X, persons, draw(st.integers(1, 15))


NUMERIC = ["f32", "f64", "share", "count", "flag", "constant"]


@settings(max_examples=150, deadline=None)
@given(_frames())
def test_profile_equals_the_reference_implementation_exactly(case):
    X, persons, min_persons = case
    features = list(X.columns)
    new = build_profile(X, features, NUMERIC, persons, min_bin_persons=min_persons)
    old = _reference_profile(X, features, NUMERIC, persons, min_bin_persons=min_persons)
    assert json.dumps(new) == json.dumps(old)  # same values, same key order, floats bit for bit


def test_profile_equals_the_reference_on_a_panel_sized_column():
    # enough rows and persons for the presence table and the distinct-pairs paths both
    rng = np.random.default_rng(3)
    pid = np.repeat(rng.permutation(4_000), 12)
    X = pd.DataFrame(
        {
            "caseload": np.where(rng.random(len(pid)) < 0.02, np.nan, rng.gamma(2, 8, len(pid))),
            "fte": rng.choice([0.2, 0.5, 1.0], len(pid)).astype(np.float32),
            "role": pd.Categorical(rng.choice(["caseworker", "leader"], len(pid))),
        }
    )
    for persons in (pid, None):
        for min_persons in (10, 3_000):
            new = build_profile(
                X, list(X), ["caseload", "fte"], persons, min_bin_persons=min_persons
            )
            old = _reference_profile(
                X, list(X), ["caseload", "fte"], persons, min_bin_persons=min_persons
            )
            assert json.dumps(new) == json.dumps(old)
