"""Batch scoring: :func:`score_dataset` streams a panel or register through a model.

The other names are the steps of a scoring run, for an engine that runs them elsewhere (the
Dask engine scores partitions on its workers); :func:`score_dataset`'s own loop uses the same
ones, so every engine checks, scores, sums and writes alike:

* setting up: :func:`check_options` (the arguments), :func:`resolve_source` (a register folder
  read), :func:`source_spec` and :func:`needed_columns` (column roles and columns to read),
  :func:`parquet_files` (a panel dataset's files), :func:`panel_context_for` (the shared panel
  context of a register, with the model's panel settings);
* scoring: :func:`compile_scorer` gives a :class:`Scorer`; :func:`score_partition` scores one
  partition into a partial (group sums, counts, rejected rows), :func:`combine` adds partials
  up and :func:`finish_groups` makes the published group table (the privacy layer's pattern;
  :func:`with_org_levels` adds the coarser organisation levels it links a unit table to);
* writing: :func:`temporary_path`, :func:`replace_path` and :func:`write_group_table` (output
  written under a temporary name and renamed when complete), :func:`report_rejects` (the
  rejected rows of ``ScoreResult.rejected``, with a warning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnover_risk import _lazy
from turnover_risk._engine import ENGINES  # 0.1.0 exported it from turnover_risk.scoring

if TYPE_CHECKING:
    from turnover_risk.scoring._accumulate import finish_groups
    from turnover_risk.scoring._io import (
        panel_context_for,
        parquet_files,
        replace_path,
        temporary_path,
        write_group_table,
    )
    from turnover_risk.scoring._partition import combine, report_rejects, score_partition
    from turnover_risk.scoring._score_dataset import (
        DEFAULT_BATCH_ROWS,
        ScoreResult,
        score_dataset,
        with_org_levels,
    )
    from turnover_risk.scoring._scorer import Scorer, ScoringFallbackWarning, compile_scorer
    from turnover_risk.scoring._setup import (
        check_options,
        needed_columns,
        resolve_source,
        source_spec,
    )

__all__ = [
    "DEFAULT_BATCH_ROWS",
    "ENGINES",
    "ScoreResult",
    "Scorer",
    "ScoringFallbackWarning",
    "check_options",
    "combine",
    "compile_scorer",
    "finish_groups",
    "needed_columns",
    "panel_context_for",
    "parquet_files",
    "replace_path",
    "report_rejects",
    "resolve_source",
    "score_dataset",
    "score_partition",
    "source_spec",
    "temporary_path",
    "with_org_levels",
    "write_group_table",
]

__getattr__, __dir__ = _lazy.attach(
    __name__,
    {
        "turnover_risk.scoring._accumulate": ("finish_groups",),
        "turnover_risk.scoring._io": (
            "panel_context_for",
            "parquet_files",
            "replace_path",
            "temporary_path",
            "write_group_table",
        ),
        "turnover_risk.scoring._partition": (
            "combine",
            "report_rejects",
            "score_partition",
        ),
        "turnover_risk.scoring._score_dataset": (
            "DEFAULT_BATCH_ROWS",
            "ScoreResult",
            "score_dataset",
            "with_org_levels",
        ),
        "turnover_risk.scoring._scorer": (
            "Scorer",
            "ScoringFallbackWarning",
            "compile_scorer",
        ),
        "turnover_risk.scoring._setup": (
            "check_options",
            "needed_columns",
            "resolve_source",
            "source_spec",
        ),
    },
)
