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

:func:`factorize_lookup` encodes the first column alone and looks the second one up in its
table (no hashing of the other column's new identifiers), split over threads on large inputs.
:func:`rate_threads` is the thread budget of the rate kernels: numpy and the pandas hash table
release the GIL, so independent halves of a large job run on two cores.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Pool", "factorize", "factorize_lookup", "rate_threads", "thread_pool"]

THREADS_ENV = "TURNOVER_RISK_RATE_THREADS"
"""Environment variable capping the threads of the rate kernels (``1``: no threads)."""

MIN_PARALLEL_ROWS = 200_000
"""Inputs with fewer rows than this run on one thread (threads would only add overhead)."""

_MAX_THREADS = 4

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
        parts: list[list[np.ndarray]] = [[] for _ in range(n_words)]
        for off, data in zip(b.offsets, b.data, strict=True):
            pad = np.concatenate([data, np.zeros(8 * n_words, dtype=np.uint8)])
            # element i of `at` is the (unaligned) little-endian word at byte i of the data
            at = np.ndarray(shape=(len(pad) - 7,), dtype="<u8", buffer=pad, strides=(1,))
            for j in range(n_words):
                parts[j].append(at[off[:-1] + 8 * j])
        words = []
        for j in range(n_words):
            w = parts[j][0] if len(parts[j]) == 1 else np.concatenate(parts[j])
            left = b.lens - 8 * j if j else b.lens  # bytes of the string from word j on
            words.append(w & _LOW[np.minimum(np.maximum(left, 0), 8)])  # faster than np.clip
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


def rate_threads(n_rows: int) -> int:
    """Threads for a rate kernel on ``n_rows`` rows: 1 below :data:`MIN_PARALLEL_ROWS`, else
    the cores this process may use (``os.sched_getaffinity``, at most 4).

    ``TURNOVER_RISK_RATE_THREADS`` caps it (e.g. ``1`` on a machine shared with others).

    Examples
    --------
    >>> rate_threads(1_000)
    1
    """
    env = os.environ.get(THREADS_ENV, "").strip()
    cap = _MAX_THREADS
    if env:
        try:
            cap = int(env)
        except ValueError:
            raise ValueError(
                f"{THREADS_ENV}={env!r} is not a whole number; set it to e.g. 1 (no threads) or 2."
            ) from None
    if n_rows < MIN_PARALLEL_ROWS or cap <= 1:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    return max(1, min(cap, cores, _MAX_THREADS))


class _Done:
    """A finished computation with the interface of a :class:`~concurrent.futures.Future`:
    ``result()`` returns its value or raises its exception."""

    def __init__(self, value: Any = None, error: BaseException | None = None) -> None:
        self.value = value
        self.error = error

    def result(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.value


class _Serial:
    """Runs submitted calls at once, in the calling thread (the one-thread "pool"); as with a
    thread pool, an error is raised by ``result()``, so errors surface in the same order."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> _Done:
        try:
            return _Done(fn(*args, **kwargs))
        except Exception as exc:  # re-raised by result(), as a Future does
            return _Done(error=exc)


Pool = ThreadPoolExecutor | _Serial
"""What :func:`thread_pool` yields: an object with ``submit(fn, *args)`` returning a future."""


@contextmanager
def thread_pool(threads: int) -> Iterator[Pool]:
    """A pool of ``threads`` threads with ``submit``; with one thread, calls run inline."""
    if threads <= 1:
        yield _Serial()
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="turnover_risk") as pool:
        yield pool


def _chunks(n: int, parts: int) -> list[slice]:
    """``parts`` contiguous slices covering ``range(n)`` (none empty unless ``n`` is 0)."""
    bounds = np.linspace(0, n, max(min(parts, n), 1) + 1).astype(np.int64)
    return [slice(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _results(futures: Sequence[Future | _Done]) -> list[Any]:
    return [f.result() for f in futures]


def _lookup(keys: np.ndarray, needles: np.ndarray) -> np.ndarray:
    """Position of each needle in the distinct int64 ``keys`` (-1: absent), in threads when
    large (hash-table look-ups release the GIL)."""
    index = pd.Index(keys)
    index.get_indexer(needles[:1])  # build the hash table once, before any thread reads it
    threads = rate_threads(len(needles))
    with thread_pool(threads) as pool:
        parts = _results(
            [pool.submit(index.get_indexer, needles[c]) for c in _chunks(len(needles), threads)]
        )
    out = np.concatenate(parts) if len(parts) != 1 else parts[0]
    return np.asarray(out, dtype=np.int64)


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
        codes, keys = pd.factorize(p.key)
        mine = np.asarray(codes, dtype=np.int64)
        first = _first_rows(mine, len(keys))
        other_codes = _lookup(np.asarray(keys, dtype=np.int64), q.key)
        if b_o.null is not None:
            other_codes[b_o.null] = -1
        hit = np.flatnonzero(other_codes >= 0)
        if p.exact or (
            _same(p, np.arange(len(mine)), p, first[mine])
            and _same(q, hit, p, first[other_codes[hit]])
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
