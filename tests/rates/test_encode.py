"""Tests of turnover_risk.rates._encode: fast integer codes must equal pandas' own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnover_risk.rates import _encode as enc
from turnover_risk.rates._encode import factorize, factorize_lookup, rate_threads, thread_pool

# short ids (one exact word), long ids (hashed words, verified), NUL bytes and non-ASCII text
_TEXT = st.text(alphabet=st.sampled_from(["a", "b", "\x00", "æ", "Ø", "7"]), max_size=20)


def _expected_lookup(values: list, other: list) -> tuple[np.ndarray, np.ndarray]:
    """Codes by first appearance in ``values`` (-1: absent or missing), in plain Python: the
    object hash table of pandas 2 compares C strings, so it takes "" and "\\x00" for one id."""
    code = {v: i for i, v in enumerate(dict.fromkeys(values))}
    mine = np.array([code[v] for v in values], dtype=np.int64)
    return mine, np.array([code.get(v, -1) for v in other], dtype=np.int64)


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "str", "string[python]", object])
@pytest.mark.parametrize(
    "values",
    [
        ["b", "a", "b", "c"],
        ["E0000000001", "E0000000002", "E0000000001"],  # 11 bytes: the hashed path
        ["", "x", "", "xxxxxxx", "xxxxxxxx"],  # 0, 7 and 8 bytes
        ["a", "a\x00", "a"],  # a trailing NUL is a different id
        [f"{i:032x}" for i in (5, 9, 5, 2**100)],  # 32-character pseudonyms
        ["x" * 70, "x" * 70, "y"],  # longer than 64 bytes: pandas' path
    ],
)
def test_factorize_matches_pandas(values, dtype):
    s = pd.Series(values, dtype=dtype)
    codes, uniques = factorize(s)
    expected, exp_uniques = pd.factorize(s)
    assert codes.dtype == np.int64
    np.testing.assert_array_equal(codes, expected)
    assert list(uniques) == list(exp_uniques)


def test_lookup_unknown_and_missing_ids_get_minus_one():
    v = pd.Series(["p1", "p2", "p1"], dtype="string")
    o = pd.Series(["p2", "p9", None, "p1"], dtype="string")
    codes, uniques, other = factorize_lookup(v, o)
    assert codes.tolist() == [0, 1, 0]
    assert list(uniques) == ["p1", "p2"]
    assert other.tolist() == [1, -1, -1, 0]


def test_lookup_mixed_widths_share_one_code_space():
    """Short ids in one table and long ones in the other are packed with one width."""
    v = pd.Series(["abc", "abcdefghijkl"], dtype="string")
    o = pd.Series(["abcdefghijkl", "abc", "abcdefghijk"], dtype="string")
    _, _, other = factorize_lookup(v, o)
    assert other.tolist() == [1, 0, -1]


def test_chunked_and_sliced_arrow_columns():
    chunks = pa.chunked_array([pa.array(["x", "yy", "x"]), pa.array(["q", "yy", "zzzzzzzzzz"])[1:]])
    s = pd.Series(pd.arrays.ArrowStringArray(chunks))
    codes, uniques = factorize(s)
    assert codes.tolist() == [0, 1, 0, 1, 2]
    assert list(uniques) == ["x", "yy", "zzzzzzzzzz"]


def test_missing_values_fall_back_to_pandas():
    s = pd.Series(["a", None, "a"], dtype="string")
    codes, uniques = factorize(s)
    assert codes.tolist() == [0, -1, 0]
    assert list(uniques) == ["a"]


@settings(max_examples=60, deadline=None)
@given(values=st.lists(_TEXT, max_size=30), other=st.lists(_TEXT, max_size=30))
def test_lookup_equals_factorising_both_tables(values, other):
    v = pd.Series(values, dtype="string[pyarrow]")
    o = pd.Series(other, dtype="string[pyarrow]")
    codes, uniques, other_codes = factorize_lookup(v, o)
    mine, rest = _expected_lookup(values, other)
    np.testing.assert_array_equal(codes, mine)
    np.testing.assert_array_equal(other_codes, rest)
    assert list(uniques) == list(dict.fromkeys(values))


# "str" is pandas 3's Arrow-backed string dtype; under pandas 2 it means object
_STR_IS_ARROW = getattr(pd.Series(["a"], dtype="str").dtype, "storage", None) == "pyarrow"


@pytest.mark.parametrize(
    ("dtype", "fast"),
    [("string[pyarrow]", True), ("str", _STR_IS_ARROW), ("string[python]", False)],
)
def test_fast_path_applies_to_arrow_strings_only(dtype, fast, monkeypatch):
    """Arrow strings are factorised as integers: pandas never sees the strings."""
    seen = []
    real = pd.factorize

    def spy(values, *args, **kwargs):
        seen.append(getattr(values, "dtype", None))
        return real(values, *args, **kwargs)

    monkeypatch.setattr(pd, "factorize", spy)
    codes, _ = factorize(pd.Series(["u1", "u2", "u1", "a-much-longer-unit-id"], dtype=dtype))
    assert codes.tolist() == [0, 1, 0, 2]
    assert all(d == np.dtype(np.int64) for d in seen) is fast


# --------------------------------------------------------------------------------------------
# Thread budget and the threaded look-up
# --------------------------------------------------------------------------------------------


@pytest.fixture
def four_cores(monkeypatch):
    """A process allowed four cores, with no override in the environment."""
    monkeypatch.setattr(enc.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)
    monkeypatch.delenv(enc.THREADS_ENV, raising=False)


@pytest.mark.parametrize(
    ("n_rows", "env", "expected"),
    [
        (enc.MIN_PARALLEL_ROWS - 1, None, 1),  # small input: no threads
        (enc.MIN_PARALLEL_ROWS, None, 4),  # the cores the process may use
        (10**7, "1", 1),  # the override switches threads off
        (10**7, "2", 2),
        (10**7, " 64 ", 4),  # never more than the cores
        (10**7, "0", 1),
    ],
)
def test_rate_threads_budget(four_cores, monkeypatch, n_rows, env, expected):
    if env is not None:
        monkeypatch.setenv(enc.THREADS_ENV, env)
    assert rate_threads(n_rows) == expected


def test_rate_threads_bounded_by_affinity(monkeypatch):
    monkeypatch.setattr(enc.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setenv(enc.THREADS_ENV, "3")
    assert rate_threads(10**7) == 2


def test_rate_threads_bad_override(monkeypatch):
    monkeypatch.setenv(enc.THREADS_ENV, "two")
    with pytest.raises(ValueError, match=r"TURNOVER_RISK_RATE_THREADS='two' is not a whole number"):
        rate_threads(10**7)


def test_thread_pool_of_one_runs_inline():
    with thread_pool(1) as pool:
        done = pool.submit(lambda a, b=0: a + b, 2, b=3)
    assert done.result() == 5


@pytest.mark.parametrize("width", [6, 20])  # exact words and hashed words
def test_threaded_lookup_equals_pandas(four_cores, monkeypatch, width):
    """Look-ups split over threads give the codes of one pass (and of pandas)."""
    monkeypatch.setattr(enc, "MIN_PARALLEL_ROWS", 10)
    rng = np.random.default_rng(width)
    ids = [f"{i:0{width}d}" for i in rng.integers(0, 400, 300)]
    other = [f"{i:0{width}d}" for i in rng.integers(0, 500, 1001)]
    v = pd.Series(ids, dtype="string[pyarrow]")
    o = pd.Series([*other, None], dtype="string[pyarrow]")
    codes, uniques, other_codes = factorize_lookup(v, o)
    mine, rest = _expected_lookup(ids, [*other, None])
    np.testing.assert_array_equal(codes, mine)
    np.testing.assert_array_equal(other_codes, rest)
    assert other_codes[-1] == -1 and (other_codes[:-1] == -1).any()  # missing and unknown ids
    assert list(uniques) == list(dict.fromkeys(ids))


def test_thread_pool_of_one_raises_at_result():
    """As with a thread pool, an error surfaces when the result is asked for."""
    with thread_pool(1) as pool:
        failed = pool.submit(int, "x")
        later = pool.submit(int, "7")
    assert later.result() == 7
    with pytest.raises(ValueError, match="invalid literal"):
        failed.result()
