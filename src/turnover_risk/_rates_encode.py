"""Integer codes for identifier columns, computed fast (private helper of the rate modules).

``pd.factorize`` hashes every string of a column, and on a register of a million spells and
three million absences that hashing is most of the run time of a rate. Identifiers are short (an
HR number, a 32-character pseudonym), so for pyarrow-backed string columns we read the Arrow
buffers directly and pack each string into 64-bit words, then factorise integers, which is
several times faster:

* strings of at most 7 bytes become one exact integer (their bytes and their length);
* longer strings (up to 64 bytes) become a 64-bit hash of their words and length, and every row
  is then compared word by word with the first row of its code, so a hash collision can never
  merge two identifiers (on one, we fall back to pandas).

Everything else (object or categorical columns, numbers, columns with missing values, very long
strings) takes pandas' own path. Codes follow the order of first appearance, as
``pd.factorize``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["factorize", "factorize_lookup"]

_MAX_WORDS = 8  # strings longer than 64 bytes take the pandas path
_LOW = np.array([(1 << (8 * k)) - 1 for k in range(8)] + [2**64 - 1], dtype=np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)


class _Buffers:
    """The Arrow buffers of a pyarrow-backed string column, as numpy arrays."""

    def __init__(self, offsets: list[np.ndarray], data: list[np.ndarray], null: np.ndarray | None):
        self.offsets = offsets
        self.data = data
        self.null = null
        self.lens = (
            np.concatenate([np.diff(o) for o in offsets]) if offsets else np.zeros(0, np.int64)
        )

    @property
    def width(self) -> int:
        return int(self.lens.max()) if len(self.lens) else 0


def _buffers(values: object, *, allow_null: bool) -> _Buffers | None:
    """Buffers of a pyarrow string column; None when the fast path does not apply."""
    arr = getattr(values, "array", values)
    dtype = getattr(arr, "dtype", None)
    if not isinstance(dtype, pd.StringDtype) or dtype.storage != "pyarrow":
        return None  # python-backed strings would be copied to Arrow first: not worth it
    try:
        import pyarrow as pa

        chunked = arr.__arrow_array__()
    except (ImportError, TypeError, ValueError):  # pragma: no cover - not arrow after all
        return None
    chunks = chunked.chunks if isinstance(chunked, pa.ChunkedArray) else [chunked]
    offsets, data, nulls = [], [], []
    for c in chunks:
        if not (pa.types.is_string(c.type) or pa.types.is_large_string(c.type)):
            return None
        if c.null_count and not allow_null:
            return None
        bufs = c.buffers()
        odt = np.dtype(np.int64 if pa.types.is_large_string(c.type) else np.int32)
        off = np.frombuffer(bufs[1], dtype=odt, count=len(c) + 1, offset=c.offset * odt.itemsize)
        offsets.append(off.astype(np.int64))
        data.append(np.frombuffer(bufs[2], np.uint8) if bufs[2] is not None else np.zeros(0, "u1"))
        nulls.append(
            c.is_null().to_numpy(zero_copy_only=False) if c.null_count else np.zeros(len(c), bool)
        )
    null = np.concatenate(nulls) if any(m.any() for m in nulls) else None
    return _Buffers(offsets, data, null)


class _Packed:
    """Strings packed into 64-bit words: ``key`` is the string itself (``exact``, at most 7
    bytes) or a hash of its words and length, which ``words`` and ``lens`` then verify."""

    def __init__(self, b: _Buffers, width: int) -> None:
        n_words = max((width + 7) // 8, 1)
        words = []
        for j in range(n_words):
            parts = []
            for off, data in zip(b.offsets, b.data, strict=True):
                pad = np.concatenate([data, np.zeros(8 * n_words, dtype=np.uint8)])
                windows = np.lib.stride_tricks.sliding_window_view(pad, 8)
                parts.append(np.ascontiguousarray(windows[off[:-1] + 8 * j]).view("<u8").ravel())
            w = parts[0] if len(parts) == 1 else np.concatenate(parts)
            words.append(w & _LOW[np.clip(b.lens - 8 * j, 0, 8)])
        lens = b.lens.astype(np.uint64)
        self.exact = width <= 7
        if self.exact:
            key = words[0] | (lens << np.uint64(56))
        else:
            key = lens * _MIX
            for w in words:
                key = (key ^ w) * _MIX
                key ^= key >> np.uint64(29)
        self.key = key.view(np.int64)
        self.words = words
        self.lens = b.lens


def _same(p: _Packed, rows: np.ndarray, ref: _Packed, ref_rows: np.ndarray) -> bool:
    """Whether strings ``p[rows]`` equal ``ref[ref_rows]`` word by word (same width)."""
    if not np.array_equal(p.lens[rows], ref.lens[ref_rows]):
        return False
    return all(
        np.array_equal(a[rows], b[ref_rows]) for a, b in zip(p.words, ref.words, strict=True)
    )


def _first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    first = np.empty(n, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes) - 1, -1, -1)
    return first


def _take(values: object, rows: np.ndarray) -> pd.Index:
    arr = getattr(values, "array", values)
    return pd.Index(arr.take(rows))


def factorize(values: pd.Series | pd.Index) -> tuple[np.ndarray, pd.Index]:
    """``pd.factorize(values)`` (codes as int64, -1 for missing), faster on Arrow strings.

    Examples
    --------
    >>> codes, uniques = factorize(pd.Series(["b", "a", "b"], dtype="string"))
    >>> codes.tolist(), list(uniques)
    ([0, 1, 0], ['b', 'a'])
    """
    b = _buffers(values, allow_null=False)
    if b is not None and b.width <= 8 * _MAX_WORDS:
        p = _Packed(b, b.width)
        codes, keys = pd.factorize(p.key)
        first = _first_rows(codes, len(keys))
        if p.exact or _same(p, np.arange(len(codes)), p, first[codes]):
            return codes.astype(np.int64, copy=False), _take(values, first)
    codes, uniques = pd.factorize(values)
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def factorize_lookup(
    values: pd.Series, other: pd.Series
) -> tuple[np.ndarray, pd.Index, np.ndarray]:
    """Codes of ``values`` (as :func:`factorize`) and of ``other`` in the same code space.

    An identifier of ``other`` that does not occur in ``values`` (or is missing) gets -1.

    Examples
    --------
    >>> v = pd.Series(["x", "y", "x"], dtype="string")
    >>> codes, uniques, other = factorize_lookup(v, pd.Series(["y", "z", None], dtype="string"))
    >>> codes.tolist(), other.tolist()
    ([0, 1, 0], [1, -1, -1])
    """
    b = _buffers(values, allow_null=False)
    b_o = _buffers(other, allow_null=True) if b is not None else None
    width = max(b.width, b_o.width) if b is not None and b_o is not None else 8 * _MAX_WORDS + 1
    if width <= 8 * _MAX_WORDS:
        p, q = _Packed(b, width), _Packed(b_o, width)
        n = len(p.key)
        codes, keys = pd.factorize(np.concatenate([p.key, q.key]))
        mine = codes[:n].astype(np.int64)
        n_unique = int(mine.max()) + 1 if n else 0
        first = _first_rows(mine, n_unique)
        other_codes = codes[n:].astype(np.int64)
        other_codes[other_codes >= n_unique] = -1
        if b_o.null is not None:
            other_codes[b_o.null] = -1
        hit = np.flatnonzero(other_codes >= 0)
        if p.exact or (
            _same(p, np.arange(n), p, first[mine]) and _same(q, hit, p, first[other_codes[hit]])
        ):
            return mine, _take(values, first), other_codes
    both = pd.concat([pd.Series(values), pd.Series(other)], ignore_index=True)
    codes, uniques = pd.factorize(both)
    codes = np.asarray(codes, dtype=np.int64)
    n = len(values)
    mine = codes[:n]
    n_unique = int(mine.max()) + 1 if n else 0
    other_codes = codes[n:].copy()
    other_codes[other_codes >= n_unique] = -1
    return mine, pd.Index(uniques[:n_unique]), other_codes
