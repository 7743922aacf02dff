"""Progress bars for long work (tqdm), off with ``--quiet`` or when stderr is not a terminal."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_QUIET = False


def set_quiet(quiet: bool) -> None:
    """Switch progress bars off (True) or back to automatic (False) for this process."""
    global _QUIET
    _QUIET = bool(quiet)


def enabled(show: bool | None = None) -> bool:
    """Whether a bar is drawn: ``show`` if given, else on a terminal unless quiet."""
    if show is not None:
        return bool(show)
    return not _QUIET and sys.stderr.isatty()


def progress(
    iterable: Iterable[T],
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    show: bool | None = None,
) -> Iterator[T]:
    """Wrap ``iterable`` in a tqdm bar (rate and time left) when :func:`enabled`."""
    if not enabled(show):
        yield from iterable
        return
    from tqdm.auto import tqdm

    yield from tqdm(
        iterable, total=total, desc=desc, unit=unit, unit_scale=True, leave=False, file=sys.stderr
    )


def bar(
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "rows",
    show: bool | None = None,
    unit_scale: bool = True,
):
    """A manual tqdm bar (``.update(n)``, ``.close()``); a silent stand-in when disabled.
    ``unit_scale=False`` for a few steps (``2/7 steps``, not ``2.00/7.00``)."""
    if not enabled(show):
        return _NullBar()
    from tqdm.auto import tqdm

    return tqdm(
        total=total, desc=desc, unit=unit, unit_scale=unit_scale, leave=False, file=sys.stderr
    )


class _NullBar:
    def update(self, n: int = 1) -> None:
        pass

    def set_postfix_str(self, s: str) -> None:
        pass

    def close(self) -> None:
        pass

    def __enter__(self) -> _NullBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass
