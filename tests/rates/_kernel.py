"""Hand-computed kernel numbers are checked without the cross-table privacy layer.

The linked suppression of :mod:`turnover_risk.rates._protect` hides more cells than the
minimum group size (dominance, cells whose partners are small), which is tested in
tests/privacy/. Tests of the *numbers* of small hand-built registers run under
:func:`kernel_numbers_only`: only the table's own minimum-group-size rule applies.
"""

from __future__ import annotations

import functools
from unittest import mock

import numpy as np

from turnover_risk.privacy import blank_suppressed


def _table_only(out, *, min_group_size, value_cols, **_kw):
    small = out["n_persons"].fillna(0).to_numpy(dtype=float) < min_group_size
    out = blank_suppressed(out, np.asarray(small), value_cols)
    return out


def kernel_numbers_only(fn):
    """Run ``fn`` with suppression inside each table only (the 0.1.0 rule)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with mock.patch("turnover_risk.rates._protect.protect", _table_only):
            return fn(*args, **kwargs)

    return wrapper
