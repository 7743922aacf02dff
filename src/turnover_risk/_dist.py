"""The few distribution functions the library uses, without importing ``scipy.stats``.

Why this module exists: ``import scipy.stats`` costs ~1.0 s (SciPy 1.17 builds the docstrings
of every distribution at import; ``python -X importtime -c "import scipy.stats"``), against
~0.35 s for ``scipy.special``. The ``turnover-risk report`` worker process
(``cli/_report_worker.py``) writes the rates, data and audit sections on the critical path of
the report and needs nothing else from ``scipy.stats``. Every function here is what
``scipy.stats`` itself computes: the same ``scipy.special`` ufunc (``ndtr``, ``ndtri``,
``chdtrc``, ``gammaincinv``, ``stdtr``, ``stdtrit``, and the Boost ``_beta_ppf`` that
``stats.beta.ppf`` calls) wrapped the way ``rv_continuous`` wraps it.

``scipy.stats`` is the reference: for float64 (or integer, or Python number) input each function
returns the same bits as ``stats.<dist>.<method>`` with ``loc=0, scale=1``, scalars as NumPy
float64 scalars and arrays broadcast as SciPy broadcasts them (``tests/test_dist.py`` checks
this with hypothesis). The edges follow ``rv_continuous``, not the raw ufunc:

* ``*_ppf`` / ``*_isf`` at ``q == 0`` or ``q == 1`` give the end of the support (``-inf``/``inf``
  for the normal and t, 0/``inf`` for chi-squared, 0/1 for the beta); ``q`` outside [0, 1] or
  NaN gives NaN; a zero result is +0.0 (SciPy adds ``loc``);
* a shape argument (``df``, ``a``, ``b``) that is not > 0 (or NaN) gives NaN;
* ``*_cdf`` / ``*_sf`` of ``x`` at or beyond the support's ends give exactly 0 or 1 (``x <= 0``
  for chi-squared, ``+-inf``); NaN gives NaN.

The ufunc is evaluated only where the arguments are valid (as SciPy does), so it warns
when SciPy would (the beta's overflow flag is ignored, as in SciPy 1.11). Not reproduced: SciPy evaluates a float32 quantile in float32; here
every input is taken as float64 (no caller passes float32). On SciPy without
``scipy.special._ufuncs._beta_ppf`` (1.11, the floor), :func:`beta_ppf` calls
``scipy.stats.beta.ppf`` (imported on first use), which there calls ``scipy.stats._boost``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import special

try:  # what scipy.stats.beta.ppf calls; special.betaincinv differs from it for tiny q
    from scipy.special._ufuncs import _beta_ppf as _BETA_PPF
except ImportError:  # pragma: no cover - SciPy 1.11 keeps it in scipy.stats._boost
    _BETA_PPF = None

__all__ = [
    "beta_ppf",
    "chi2_ppf",
    "chi2_sf",
    "norm_cdf",
    "norm_isf",
    "norm_ppf",
    "norm_sf",
    "t_cdf",
    "t_ppf",
    "t_sf",
]

_INF = np.inf


def _prepare(value: Any, shapes: tuple[Any, ...]) -> tuple[np.ndarray, list[np.ndarray], Any]:
    """float64 arrays of the argument and the shapes, and where the shapes are valid (> 0)."""
    value = np.asarray(value, dtype=np.float64)
    arrays = [np.asarray(s, dtype=np.float64) for s in shapes]
    ok = np.asarray(True)
    for s in arrays:
        ok = ok & (s > 0)
    return value, arrays, ok


def _evaluate(func: Callable[..., Any], args: list[np.ndarray], where: Any, fill: float) -> Any:
    """``func(*args)`` where ``where`` holds, ``fill`` elsewhere (broadcast to one shape).

    The ufunc gets only the selected elements (as SciPy's ``argsreduce`` does; the ``where=``
    argument of a ``scipy.special`` ufunc crashed with SciPy 1.17.1).
    """
    shape = np.broadcast_shapes(np.shape(where), *(a.shape for a in args))
    where = np.broadcast_to(where, shape)
    out = np.full(shape, fill)
    if where.any():
        out[where] = func(*(np.broadcast_to(a, shape)[where] for a in args))
    return out


def _quantile(func, q, shapes, low: float, high: float, *, upper: bool = False) -> Any:
    """``rv_continuous.ppf`` (``isf`` when ``upper``) around ``func(q, *shapes)``."""
    q, arrays, ok = _prepare(q, shapes)
    out = _evaluate(func, [q, *arrays], ok & (0 < q) & (q < 1), np.nan)
    first, last = (1, 0) if upper else (0, 1)
    out = np.where(ok & (q == first), low, out)
    out = np.where(ok & (q == last), high, out)
    return (out + 0.0)[()]  # SciPy returns value * scale + loc: -0.0 becomes +0.0


def _probability(func, x, shapes, low: float, high: float, *, upper: bool = False) -> Any:
    """``rv_continuous.cdf`` (``sf`` when ``upper``) around ``func(x, *shapes)``."""
    x, arrays, ok = _prepare(x, shapes)
    out = _evaluate(func, [x, *arrays], ok & (low < x) & (x < high), 0.0)
    out = np.where(ok & ((x <= low) if upper else (x >= high)), 1.0, out)
    return np.where(~ok | np.isnan(x), np.nan, out)[()]


def norm_ppf(q: Any) -> Any:
    """``scipy.stats.norm.ppf(q)``: the standard normal quantile, ``ndtri(q)``.

    Examples
    --------
    >>> round(float(norm_ppf(0.975)), 6)
    1.959964
    """
    return _quantile(special.ndtri, q, (), -_INF, _INF)


def norm_isf(q: Any) -> Any:
    """``scipy.stats.norm.isf(q)``: the upper quantile, ``-ndtri(q)``."""
    return _quantile(lambda q: -special.ndtri(q), q, (), -_INF, _INF, upper=True)


def norm_cdf(x: Any) -> Any:
    """``scipy.stats.norm.cdf(x)``: ``ndtr(x)``."""
    return _probability(special.ndtr, x, (), -_INF, _INF)


def norm_sf(x: Any) -> Any:
    """``scipy.stats.norm.sf(x)``: ``ndtr(-x)`` (accurate in the upper tail).

    Examples
    --------
    >>> float(norm_sf(0.0))
    0.5
    """
    return _probability(lambda x: special.ndtr(-x), x, (), -_INF, _INF, upper=True)


def chi2_ppf(q: Any, df: Any) -> Any:
    """``scipy.stats.chi2.ppf(q, df)``: ``2 * gammaincinv(df / 2, q)``.

    Examples
    --------
    >>> round(float(chi2_ppf(0.95, 1)), 6)
    3.841459
    """
    return _quantile(lambda q, df: 2 * special.gammaincinv(df / 2, q), q, (df,), 0.0, _INF)


def chi2_sf(x: Any, df: Any) -> Any:
    """``scipy.stats.chi2.sf(x, df)``: ``chdtrc(df, x)``, and 1 for ``x <= 0``."""
    return _probability(lambda x, df: special.chdtrc(df, x), x, (df,), 0.0, _INF, upper=True)


def _boost_beta_ppf(q: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):  # as scipy.stats.beta.ppf in SciPy 1.11 (gh-17432)
        return _BETA_PPF(q, a, b)


def beta_ppf(q: Any, a: Any, b: Any) -> Any:
    """``scipy.stats.beta.ppf(q, a, b)``: Boost's inverse of the regularised beta function.

    Examples
    --------
    >>> round(float(beta_ppf(0.975, 1, 20)), 4)
    0.1684
    """
    if _BETA_PPF is None:  # pragma: no cover - older SciPy (1.11)
        from scipy import stats

        return stats.beta.ppf(q, a, b)
    return _quantile(_boost_beta_ppf, q, (a, b), 0.0, 1.0)


def t_ppf(q: Any, df: Any) -> Any:
    """``scipy.stats.t.ppf(q, df)``: ``stdtrit(df, q)``.

    Examples
    --------
    >>> round(float(t_ppf(0.975, 2)), 4)
    4.3027
    """
    return _quantile(lambda q, df: special.stdtrit(df, q), q, (df,), -_INF, _INF)


def t_cdf(x: Any, df: Any) -> Any:
    """``scipy.stats.t.cdf(x, df)``: ``stdtr(df, x)``."""
    return _probability(lambda x, df: special.stdtr(df, x), x, (df,), -_INF, _INF)


def t_sf(x: Any, df: Any) -> Any:
    """``scipy.stats.t.sf(x, df)``: ``stdtr(df, -x)``."""
    return _probability(lambda x, df: special.stdtr(df, -x), x, (df,), -_INF, _INF, upper=True)
