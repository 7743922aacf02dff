"""The Dask engine: the same functions on a cluster when the data outgrow one machine.

Install with ``pip install "turnover-risk[dask]"``; nothing here imports Dask at module level.
The public functions take ``engine="dask"`` (or a Dask DataFrame) and land here (this module
is the object ``turnover_risk._engine.get_engine("dask")`` returns):

* :func:`build_panel` returns a Dask DataFrame of the panel whose partitions are disjoint sets
  of employees, so a person's history is never split. The panel context is itself built
  partition by partition (``_context``): the client prepares only its base (period grid,
  spells, episodes: :func:`turnover_risk.panel.prepare_base`); the workers split the person
  tables' rows by employee, build each partition's event indexes and its part of the unit
  grid, and one task per range of units sums those parts into its unit-level features,
  exactly (a unit's features read only its own cells). Each partition
  is :func:`turnover_risk.panel.build_partition` of its employees, so concatenating the
  partitions gives exactly the pandas panel (``_panel``).
* :func:`score_dataset` builds (or reads) and scores partitions on the workers with the
  scoring kernel's per-partition steps; a register is scored in a few large blocks of
  employees, each pinned to one worker from its rows to its group sums (``_blocks``: the
  person tables reach the workers as Arrow files on the shared storage next to the output,
  the context is split as for :func:`build_panel`, the blocks are cut by work and every
  worker finishes the unit features of a range of units, each block is built and scored in
  sub-batches of ``batch_rows``, each worker publishes a run of periods). Group-level
  sums are combined in a tree on the workers; row-level risks are written by each worker to a
  part file of a temporary folder that is renamed when every part is written (``_scoring``).
  :data:`CLUSTER_CONFIG` holds the Dask settings recommended for a cluster running these jobs.
* :func:`turnover_rate` and :func:`sick_leave_rate` run per partition of employees: the
  person tables are split by a hash of ``employee_id`` on the workers, each part's cell
  statistics (sums, headcounts, distinct persons, the interval's residuals in a second pass)
  are added in a tree, and the client finishes the table with the pandas code
  (``_split_rates``; ``bufdir`` and count frames are gathered). :func:`flag_groups` in
  retrospective mode pulls only the rows of the assessed period; prospective mode pulls that
  period's rows and the labelled rows its bootstrap refits train on (``_rates``).

Connecting: ``scheduler`` is an address (``"tcp://10.0.0.5:8786"``), a
``distributed.Client``, or ``None`` (the current client if there is one, else Dask's default
scheduler). An address that does not answer within ``connect_timeout`` seconds raises
:class:`ConnectionError` naming it (``_cluster``: connecting, computing, sending to workers).
"""

from __future__ import annotations

from turnover_risk._engine import ENGINES, check_engine, is_dask_collection, uses_dask
from turnover_risk.engines._cluster import CLUSTER_CONFIG, DEFAULT_CONNECT_TIMEOUT, connect
from turnover_risk.engines._panel import EMPLOYEES_PER_PARTITION, build_panel, compute_panel
from turnover_risk.engines._rates import flag_groups, sick_leave_rate, turnover_rate
from turnover_risk.engines._scoring import score_dataset

__all__ = [
    "CLUSTER_CONFIG",
    "DEFAULT_CONNECT_TIMEOUT",
    "EMPLOYEES_PER_PARTITION",
    "ENGINES",
    "build_panel",
    "check_engine",
    "compute_panel",
    "connect",
    "flag_groups",
    "is_dask_collection",
    "score_dataset",
    "sick_leave_rate",
    "turnover_rate",
    "uses_dask",
]
