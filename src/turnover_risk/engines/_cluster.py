"""Connecting to a Dask cluster and running work on it.

:func:`connect` yields a ``distributed.Client`` for a scheduler address, a client or the
current one; ``_compute`` computes delayed tasks (with a progress bar when there is a client),
``_shared`` sends a large object to the workers once, and ``_gather_register`` computes Dask
tables into a pandas :class:`~turnover_risk.Register` (a register's tables are small). Dask is
imported only when one of these runs (``_import_dask`` names the extra to install).
"""

from __future__ import annotations

import contextlib
import time
import uuid
import warnings
from collections.abc import Iterator
from typing import Any

from turnover_risk._engine import is_dask_collection
from turnover_risk._progress import bar
from turnover_risk.data import TABLE_NAMES, Register

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler address to answer."""

CLUSTER_CONFIG: dict[str, object] = {
    # glibc's default malloc trimming in the workers: the nanny's MALLOC_TRIM_THRESHOLD_=65536
    # made the panel build 1.5x slower (memory returned to the system and faulted in again)
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # no statistical profiler: it samples the running task's stack every 10 ms
    "distributed.worker.profile.enabled": False,
    # event-loop health checks and the system monitor (dashboard plots) less often
    "distributed.admin.tick.interval": "200ms",
    "distributed.admin.system-monitor.interval": "2s",
}
"""Dask settings for a cluster that runs this library's jobs (few long numpy/pandas tasks).

Set them before the cluster starts: ``dask.config.set(CLUSTER_CONFIG)`` before
``LocalCluster(...)``, or as environment variables of ``dask scheduler`` and ``dask worker``
(``DASK_DISTRIBUTED__WORKER__PROFILE__ENABLED=False``,
``DASK_DISTRIBUTED__ADMIN__TICK__INTERVAL=200ms``,
``DASK_DISTRIBUTED__ADMIN__SYSTEM_MONITOR__INTERVAL=2s``; unset ``MALLOC_TRIM_THRESHOLD_``
in the workers' environment). Idle, they cut a worker's own CPU use from ~3.5 % of a core
to ~0.7 %, and the client's (with a local scheduler) from ~5 % to ~1.5 %; the price is no
profile in the dashboard and coarser event-loop warnings. Memory limits are checked as often
as by default.
"""
_EXTRA = 'pip install "turnover-risk[dask]"'


def _import_dask():
    try:
        import dask
        import dask.dataframe as dd
    except ImportError as err:
        raise ImportError(
            f"engine='dask' needs the optional dependencies dask[dataframe] and distributed; "
            f"install them with: {_EXTRA}"
        ) from err
    return dask, dd


@contextlib.contextmanager
def connect(scheduler: Any = None, *, timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Iterator[Any]:
    """Yield a ``distributed.Client`` for ``scheduler`` (or ``None`` for Dask's default).

    Parameters
    ----------
    scheduler : str, distributed.Client or None
        An address such as ``"tcp://10.0.0.5:8786"`` (a client is opened and closed again), a
        client (used as is), or ``None``: the current client if one exists, else ``None``
        (Dask's default local scheduler).
    timeout : float
        Seconds to wait for an address to answer.

    Raises
    ------
    ConnectionError
        If no scheduler answers at the address within ``timeout`` seconds.
    """
    _import_dask()
    try:
        import distributed
    except ImportError as err:  # pragma: no cover
        raise ImportError(
            f"a Dask scheduler address needs the optional dependency distributed; {_EXTRA}"
        ) from err
    if scheduler is None:
        try:
            yield distributed.get_client()
        except ValueError:
            yield None
        return
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if not isinstance(scheduler, str):
        raise TypeError(
            f"scheduler must be an address string such as 'tcp://10.0.0.5:8786', a "
            f"distributed.Client or None; got {type(scheduler).__name__}."
        )
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            client = distributed.Client(scheduler, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as err:
        raise ConnectionError(
            f"no Dask scheduler answered at {scheduler!r} within {timeout:g} s "
            f"(waited {time.perf_counter() - t0:.1f} s: {type(err).__name__}). Check the address "
            "and port (the scheduler prints it: 'Scheduler at: tcp://...'), that it is running "
            "('dask scheduler' or your cluster manager) and that no firewall blocks it."
        ) from err
    try:
        yield client
    finally:
        client.close()


def _compute(client: Any, tasks: list, *, rows_of=None, progress: bool | None = None) -> list:
    """Compute delayed ``tasks``; with a client, drive a progress bar as they finish."""
    dask, _ = _import_dask()
    if client is None:
        return list(dask.compute(*tasks))
    from distributed import as_completed

    with client.as_current():
        futures = client.compute(tasks)
    index = {f.key: i for i, f in enumerate(futures)}
    results: list = [None] * len(futures)
    progress_bar = bar(total=len(futures), desc="dask partitions", unit="parts", show=progress)
    try:
        for fut in as_completed(futures, loop=client.loop):
            results[index[fut.key]] = fut.result()
            progress_bar.update(1)
    except BaseException:
        client.cancel(futures)
        raise
    finally:
        progress_bar.close()
    return results


def _shared(client: Any, obj: Any, name: str):
    """A delayed handle on a large object sent to the workers once."""
    dask, _ = _import_dask()
    if client is not None:
        with client.as_current():
            fut = client.scatter(obj, broadcast=True, hash=False)
            return dask.delayed(fut)
    return dask.delayed(obj, name=f"{name}-{uuid.uuid4().hex}", pure=False)


def _compute_one(obj: Any, client: Any) -> Any:
    if client is None:
        return obj.compute()
    with client.as_current():
        return obj.compute(scheduler=client)


def _gather_register(data: Any, client: Any = None) -> Any:
    """Compute Dask tables: a Dask frame, or a mapping of table name -> (Dask) DataFrame.

    A mapping becomes a :class:`~turnover_risk.Register` (a Register itself holds pandas
    tables only, so Dask tables are passed as ``{"employment": ddf, "absences": ddf, ...}``,
    optionally with ``"metadata"``: the register's metadata, e.g. its observation window).
    """
    if is_dask_collection(data):
        return _compute_one(data, client)
    if isinstance(data, dict):
        data = dict(data)
        metadata = data.pop("metadata", None)
        unknown = [k for k in data if k not in TABLE_NAMES]
        if unknown:
            raise ValueError(
                f"tables {unknown} are not register tables; use the names: "
                f"{', '.join(TABLE_NAMES)}."
            )
        dask, _ = _import_dask()
        names = [n for n, t in data.items() if is_dask_collection(t)]
        kw = {"scheduler": client} if client is not None else {}
        computed = dict(zip(names, dask.compute(*[data[n] for n in names], **kw), strict=True))
        extra = {"metadata": metadata} if metadata is not None else {}
        return Register(**{**data, **computed}, **extra)
    return data
