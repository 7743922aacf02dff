"""Tests of turnover_risk._rates_encode: fast integer codes must equal pandas' own."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from turnover_risk._rates_encode import factorize, factorize_lookup

# short ids (one exact word), long ids (hashed words, verified), NUL bytes and non-ASCII text
_TEXT = st.text(alphabet=st.sampled_from(["a", "b", "\x00", "æ", "Ø", "7"]), max_size=20)


def _expected_lookup(values: list, other: list) -> tuple[np.ndarray, np.ndarray]:
    both = pd.Series([*values, *other], dtype=object)
    codes, _ = pd.factorize(both)
    mine = codes[: len(values)]
    n = int(mine.max()) + 1 if len(values) else 0
    rest = codes[len(values) :]
    return mine, np.where(rest >= n, -1, rest)


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
    assert list(uniques) == list(pd.unique(pd.Series(values, dtype=object)))


@pytest.mark.parametrize(
    ("dtype", "fast"), [("string[pyarrow]", True), ("str", True), ("string[python]", False)]
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
