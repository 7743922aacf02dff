"""What a scoring run settles before it scores: its options, its source and the columns to read.

:func:`check_options` validates the arguments of :func:`~turnover_risk.score_dataset`,
:func:`resolve_source` reads a register folder, :func:`source_spec` finds the column roles
(:class:`~turnover_risk.panel.PanelSpec`) of a panel source and :func:`needed_columns` the
columns to read from it. The pandas path and the Dask engine call the same functions, so both
accept and refuse the same input with the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from turnover_risk.data import read_register
from turnover_risk.panel import PanelSpec
from turnover_risk.panel._spec import ATTRS_KEY
from turnover_risk.privacy import check_min_group_size
from turnover_risk.scoring._io import _is_register_folder, _spec_from_metadata, check_output
from turnover_risk.scoring._scorer import Scorer


def _check_by(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)
    if not all(isinstance(c, str) for c in cols):
        raise TypeError(f"by must be a column name or a list of names; got {by!r}.")
    return cols


def _check_batch_rows(batch_rows: object) -> int:
    if isinstance(batch_rows, bool) or not isinstance(batch_rows, int | np.integer):
        raise TypeError(f"batch_rows must be an integer; got {batch_rows!r}.")
    if batch_rows < 1:
        raise ValueError(f"batch_rows={batch_rows} must be at least 1; e.g. 262144.")
    return int(batch_rows)


def check_options(
    out: str | Path,
    *,
    batch_rows: object,
    by: str | Sequence[str] | None,
    min_group_size: object,
    overwrite: bool,
    row_level: bool,
) -> tuple[Path, int, list[str], int]:
    """Validate the options of a scoring run (the parameters of ``score_dataset``).

    Checked in this order: ``batch_rows``, ``by``, ``min_group_size``, then the output path
    (whose folder is created).

    Returns
    -------
    out : Path
        The output path.
    batch_rows : int
        Rows per batch.
    by : list of str
        The group columns (empty for ``by=None``).
    min_group_size : int
        The minimum group size (never below the library's absolute minimum).

    Raises
    ------
    TypeError
        ``batch_rows`` not an integer, or ``by`` not a column name or a list of names.
    ValueError
        ``batch_rows`` below 1, ``min_group_size`` too small, or an output suffix that does not
        fit (``.parquet``; ``.csv`` for the group table).
    FileExistsError
        If ``out`` exists and ``overwrite`` is False.
    """
    batch_rows = _check_batch_rows(batch_rows)
    by_cols = _check_by(by)
    min_group_size = check_min_group_size(min_group_size)
    out = check_output(out, overwrite=overwrite, row_level=row_level)
    return out, batch_rows, by_cols, min_group_size


def resolve_source(source: Any) -> Any:
    """A register folder as the :class:`~turnover_risk.Register` read from it; else ``source``.

    A folder holding ``employment.parquet`` or ``employment.csv`` is a register folder: it is
    read with :func:`~turnover_risk.read_register` and validated (``errors="raise"``). Any
    other source (a panel file or folder, a Register, a frame) is returned unchanged.
    """
    if isinstance(source, str | Path) and _is_register_folder(Path(source)):
        return read_register(source, errors="raise")
    return source


def _model_spec(model: Any) -> PanelSpec:
    spec = getattr(model, "spec_", None)
    return spec if isinstance(spec, PanelSpec) else PanelSpec()


def source_spec(source: pd.DataFrame | Any, model: Any) -> PanelSpec:
    """The column roles (ids, groups, period) of a panel source to be scored with ``model``.

    Parameters
    ----------
    source : DataFrame or pyarrow.Schema
        A panel frame (the spec ``build_panel`` leaves in its ``attrs``; for a Dask panel pass
        its ``_meta``) or the schema of a panel Parquet file (the spec pandas keeps in its
        metadata).
    model : object
        The model to score with; its ``spec_`` (the training panel's) is used when the source
        carries no spec.

    Returns
    -------
    PanelSpec
        The source's spec, else the model's, else the default :class:`PanelSpec`.
    """
    if isinstance(source, pd.DataFrame):
        raw = source.attrs.get(ATTRS_KEY)
        if raw is not None:
            return raw if isinstance(raw, PanelSpec) else PanelSpec.from_dict(raw)
        return _model_spec(model)
    return _spec_from_metadata(source.metadata) or _model_spec(model)


def needed_columns(
    spec: PanelSpec, scorer: Scorer, by: list[str], available: Sequence[str], where: str
) -> list[str]:
    """The columns to read from a source: ids, groups and period present, then the features.

    Parameters
    ----------
    spec : PanelSpec
        The source's column roles (:func:`source_spec`).
    scorer : Scorer
        The batch scorer (its ``columns`` are the model's features).
    by : list of str
        The group columns of the group table.
    available : sequence of str
        The source's columns.
    where : str
        What the source is called in an error (a file name, ``"the panel"``).

    Raises
    ------
    ValueError
        If a feature column or a group key (``by`` or the period) is missing; the message
        names them.
    """
    available = list(available)
    missing_features = [c for c in scorer.columns if c not in available]
    if missing_features:
        raise ValueError(
            f"{where} lacks the model's feature columns {missing_features}; score a panel "
            "built with the same build_panel settings as the training panel."
        )
    missing_keys = [c for c in (*by, spec.period_col) if c not in available]
    if missing_keys:
        raise ValueError(
            f"{where} lacks the columns {missing_keys} needed as group keys (by={by}); "
            f"available columns include: {available[:8]}."
        )
    keys = [c for c in (*spec.id_cols, *spec.group_cols, *by, spec.period_col) if c in available]
    cols = list(dict.fromkeys([*keys, *scorer.columns]))
    return cols
