"""Group sums of a scoring run, in memory bounded by the number of groups x periods.

A pandas accumulator (``groupby`` sums per batch), an arrow one (key columns dictionary-encoded
to global integer codes, sums with ``np.bincount`` over the codes, no pandas), and
:func:`finish_groups`: the sorted group table with the mean risk and small groups suppressed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.privacy import blank_suppressed, protect_groups


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

    def result(self, min_group_size: int, by: list[str] | None = None) -> pd.DataFrame:
        return finish_groups(self.table, self.keys, min_group_size, by=by)


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

    def result(self, min_group_size: int, by: list[str] | None = None) -> pd.DataFrame:
        return finish_groups(self.table, self.keys, min_group_size, by=by)


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


def finish_groups(
    table: pd.DataFrame | None,
    keys: list[str],
    min_group_size: int,
    *,
    by: list[str] | None = None,
):
    """The published group table: sorted, with ``mean_risk``, groups hidden by the privacy
    layer (:func:`~turnover_risk.privacy.protect_groups`) blanked.

    Parameters
    ----------
    table : DataFrame or None
        ``n_persons`` and ``expected_leavers`` indexed by ``keys`` (summed group sums, e.g.
        ``combine(...)["groups"]``); ``None`` for no rows.
    keys : list of str
        The group keys (``by``, coarser organisation columns, the period last).
    min_group_size : int
        Groups with fewer persons are suppressed, and the groups that would let them be
        recovered from the same scores grouped by a coarser organisation level.
    by : list of str, optional
        The published grouping (default: every key but the period); other keys before the
        period are organisation levels read for the privacy layer and dropped.
    """
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
    period = keys[-1]
    by = list(keys[:-1]) if by is None else list(by)
    hidden = protect_groups(out, by=by, min_group_size=min_group_size, fixed=[period])
    out = blank_suppressed(out, hidden, ["expected_leavers", "mean_risk", "n_persons"])
    return out.drop(columns=[k for k in keys[:-1] if k not in by])
