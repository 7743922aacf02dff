"""Where :func:`turnover_risk.score_dataset` reads from and how it writes.

Sources as chunks: a panel's Parquet files as record batches (pyarrow; arrow batches for the
compiled scorer, else pandas frames), slices of a pandas panel, and panel rows built one
partition of employees of a register at a time. Output is written atomically
(:mod:`turnover_risk._atomic`): to a hidden temporary file in the target folder that is moved
into place when complete, never over an existing file unless asked; row-level output is an
arrow table of the key columns and the risk.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk._atomic import check_target, discard, publish, temp_path
from turnover_risk._errors import TurnoverRiskInputError
from turnover_risk.data._schema import Register
from turnover_risk.panel._spec import ATTRS_KEY, PanelSpec


@dataclass
class _Chunk:
    frame: pd.DataFrame | None
    file: str
    first_row: int
    batch: Any = None  # a pyarrow RecordBatch (then ``frame`` is None)


def _spec_from_metadata(metadata: dict | None) -> PanelSpec | None:
    if not metadata or b"PANDAS_ATTRS" not in metadata:
        return None
    try:
        attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    except (ValueError, TypeError):
        return None
    raw = attrs.get(ATTRS_KEY) if isinstance(attrs, dict) else None
    return PanelSpec.from_dict(raw) if isinstance(raw, dict) else None


def _is_register_folder(path: Path) -> bool:
    return path.is_dir() and any(
        (path / f"employment{suf}").exists() for suf in (".parquet", ".csv")
    )


def parquet_files(path: str | Path) -> list[Path]:
    """The Parquet files of a panel dataset: the file itself, or ``*.parquet`` in a folder.

    Raises
    ------
    FileNotFoundError
        If the path does not exist or a folder holds no Parquet file.
    ValueError
        If the files' schemas differ (the message names the files and the columns).
    """
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"source {str(path)!r} does not exist")
    files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path]
    files = [f for f in files if not f.name.startswith((".", "_"))]
    if not files:
        raise FileNotFoundError(
            f"source folder {str(path)!r} holds no .parquet file; pass a panel written with "
            "panel.to_parquet(...) or a register folder with employment.parquet/.csv."
        )
    first = pq.read_schema(files[0])
    ref = {f.name: f.type for f in first}
    problems = []
    for f in files[1:]:
        schema = pq.read_schema(f)
        cols = {c.name: c.type for c in schema}
        missing = [c for c in ref if c not in cols]
        extra = [c for c in cols if c not in ref]
        changed = [
            f"{c} ({ref[c]} in {files[0].name}, {cols[c]} in {f.name})"
            for c in ref
            if c in cols and not _same_type(ref[c], cols[c])
        ]
        if missing or extra or changed:
            bits = []
            if missing:
                bits.append(f"missing columns {missing}")
            if extra:
                bits.append(f"extra columns {extra}")
            if changed:
                bits.append(f"different types: {', '.join(changed)}")
            problems.append(f"{f.name} differs from {files[0].name}: {'; '.join(bits)}")
    if problems:
        raise ValueError(
            f"the Parquet files of {str(path)!r} do not share one schema: "
            + " | ".join(problems[:5])
            + (f" | ... and {len(problems) - 5} more files" if len(problems) > 5 else "")
            + ". Rewrite them from one panel (build_panel(...).to_parquet) or score them "
            "separately."
        )
    return files


def _same_type(a: Any, b: Any) -> bool:
    import pyarrow as pa

    if a == b:
        return True
    strings = [pa.string(), pa.large_string()]
    if hasattr(pa, "string_view"):  # pyarrow >= 16
        strings.append(pa.string_view())
    if a in strings and b in strings:
        return True
    if pa.types.is_dictionary(a) and pa.types.is_dictionary(b):
        return _same_type(a.value_type, b.value_type)
    return False


def _iter_parquet(
    files: list[Path],
    columns: list[str],
    batch_rows: int,
    *,
    arrow: bool = False,
    dictionary: Sequence[str] = (),
) -> Iterator[_Chunk]:
    """Record batches of ``columns``: pandas frames, or the arrow batches themselves.

    ``dictionary`` names string columns read dictionary-encoded (group keys: a few thousand
    distinct values are hashed instead of one string per row).
    """
    import pyarrow.parquet as pq

    for f in files:
        pf = pq.ParquetFile(f, read_dictionary=list(dictionary) or None)
        offset = 0
        try:
            for batch in pf.iter_batches(batch_size=batch_rows, columns=columns):
                if arrow:
                    yield _Chunk(None, f.name, offset, batch)
                else:
                    frame = batch.to_pandas()
                    frame.attrs = {}  # pandas deep-copies attrs on every operation
                    yield _Chunk(frame, f.name, offset)
                offset += batch.num_rows
        finally:
            pf.close()


def _never_null(files: list[Path], column: str) -> bool:
    """Whether the Parquet statistics of every row group show no null in ``column``."""
    import pyarrow.parquet as pq

    for f in files:
        meta = pq.ParquetFile(f).metadata
        names = [meta.schema.column(i).name for i in range(meta.num_columns)]
        if names.count(column) != 1:
            return False
        i = names.index(column)
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(i).statistics
            if stats is None or not stats.has_null_count or stats.null_count != 0:
                return False
    return True


def _iter_frame(panel: pd.DataFrame, columns: list[str], batch_rows: int) -> Iterator[_Chunk]:
    for lo in range(0, len(panel), batch_rows):
        chunk = panel.iloc[lo : lo + batch_rows][columns]
        chunk.attrs = {}  # pandas deep-copies attrs on every operation
        yield _Chunk(chunk, "<DataFrame>", lo)


def _iter_register(context: Any, employees_per_partition: int) -> Iterator[_Chunk]:
    from turnover_risk.panel._build import build_partition

    ids = context.employee_ids
    offset = 0
    for lo in range(0, len(ids), employees_per_partition):
        frame = build_partition(context, ids[lo : lo + employees_per_partition])
        frame.attrs = {}
        yield _Chunk(frame, "<register>", offset)
        offset += len(frame)


def panel_context_for(model: Any, register: Register, **panel_options: Any) -> Any:
    """``prepare_context`` with the panel settings the model was trained with (spec_).

    The model's ``freq``, ``horizon``, ``outcome`` and ``scope`` apply unless
    ``panel_options`` (options of :func:`~turnover_risk.build_panel`) override them.
    """
    from turnover_risk.panel._build import prepare_context

    spec = getattr(model, "spec_", None)
    opts: dict[str, Any] = {}
    if spec is not None:
        opts = {
            "freq": spec.freq,
            "horizon": spec.horizon,
            "outcome": spec.outcome,
            "scope": spec.scope,
        }
        if "+" in str(spec.outcome):
            opts["outcome"] = tuple(str(spec.outcome).split("+"))
    opts.update(panel_options)
    return prepare_context(register, **opts)


# --------------------------------------------------------------------------------------------
# atomic output
# --------------------------------------------------------------------------------------------


def temporary_path(out: Path) -> Path:
    """A hidden sibling of ``out`` to write to before the final move (``.<name>.<pid>-<hex>.partial``).

    Registered for removal when the process is stopped with SIGINT/SIGTERM (the command line
    installs the handlers); a leftover of a killed run is removed by the next run writing to the
    same folder (see :mod:`turnover_risk._atomic`).
    """
    return temp_path(out)


def check_output(
    out: str | Path, *, overwrite: bool, row_level: bool, inputs: Sequence[Any] = ()
) -> Path:
    """Validate the output path; refuse an existing one unless ``overwrite``.

    Also refuses an output that is one of ``inputs`` (paths; other objects are ignored) and
    removes leftovers of killed runs in the output folder.
    """
    out = Path(out)
    suffix = out.suffix.lower()
    allowed = (".parquet",) if row_level else (".parquet", ".csv")
    if suffix not in allowed:
        raise TurnoverRiskInputError(
            f"out={str(out)!r}: {'row-level' if row_level else 'group-level'} output is written "
            f"as {' or '.join(allowed)}; give the file name that suffix."
        )
    paths = [p for p in inputs if isinstance(p, str | Path)]
    return check_target(out, overwrite=overwrite, inputs=paths, folder_ok=row_level)


def replace_path(tmp: Path, out: Path, *, overwrite: bool = False) -> None:
    """Move ``tmp`` (a file or a folder) to ``out``; an existing ``out`` only with ``overwrite``.

    Without ``overwrite`` the move fails with ``FileExistsError`` if ``out`` appeared meanwhile
    (another run): never two winners. ``tmp`` is removed in every case.
    """
    publish(tmp, out, overwrite=overwrite)


def write_group_table(table: pd.DataFrame, out: Path, *, overwrite: bool = False) -> None:
    """Write a group table to ``out`` via a temporary name (CSV or Parquet by suffix)."""
    tmp = temporary_path(out)
    try:
        if out.suffix.lower() == ".csv":
            table.to_csv(tmp, index=False)
        else:
            table.to_parquet(tmp, index=False, engine="pyarrow")
    except BaseException:
        discard(tmp)
        raise
    publish(tmp, out, overwrite=overwrite)


def row_level_schema(frame: pd.DataFrame, cols: list[str]):
    """Arrow schema of the row-level output: the key columns as read, plus ``risk``."""
    import pyarrow as pa

    fields = []
    for c in cols:
        s = frame[c]
        if pd.api.types.is_datetime64_any_dtype(s):
            fields.append(pa.field(c, pa.timestamp("ns")))
        elif pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            fields.append(pa.field(c, pa.from_numpy_dtype(s.to_numpy().dtype)))
        else:
            fields.append(pa.field(c, pa.string()))
    fields.append(pa.field("risk", pa.float64()))
    return pa.schema(fields)


def row_level_table(frame: pd.DataFrame, cols: list[str], risk: np.ndarray, schema):
    """An arrow table of the key columns and the risk, in ``schema``."""
    import pyarrow as pa

    arrays = []
    for f in schema:
        if f.name == "risk":
            arrays.append(pa.array(risk, type=pa.float64()))
            continue
        s = frame[f.name]
        if pa.types.is_string(f.type):
            s = s.astype("string")
        arrays.append(pa.array(s, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)
