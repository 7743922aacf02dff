"""turnover_risk._dist: the distribution functions equal scipy.stats' bit for bit (scalars,
arrays, broadcasting, the edges of rv_continuous), and the report worker's whole path (its
imports, the register's sections and the audit's part) runs without importing scipy.stats.
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import special, stats

from turnover_risk import _dist

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
NAN, INF = float("nan"), float("inf")

# every edge rv_continuous treats apart from the ufunc: the ends of [0, 1], outside it, NaN,
# -0.0, the smallest subnormal and the last double below 1
Q_EDGES = [0.0, -0.0, 1.0, NAN, -0.5, 1.5, INF, -INF, 5e-324, 1e-300, 1 - 2**-53, 0.5]
# shapes not > 0 (0, negative, NaN) give NaN; inf is valid for SciPy. Not 1e-300: SciPy 1.11's
# stdtrit (cdflib) ends the process there ("STOP SMALL, X, BIG not monotone in INVR")
SHAPE_EDGES = [0.0, -1.0, NAN, INF, 1.0, 2.0, 1e-10]
X_EDGES = [-INF, INF, NAN, 0.0, -0.0, -1.0, 1e-300, 5e-324, 1e300, -1e300, 40.0, -40.0]

qs = st.one_of(st.floats(0, 1), st.sampled_from(Q_EDGES))
shapes = st.one_of(st.floats(1e-3, 1e6), st.integers(1, 500), st.sampled_from(SHAPE_EDGES))
xs = st.one_of(st.floats(-1e3, 1e3), st.floats(), st.sampled_from(X_EDGES))
# The beta without an infinite shape: Boost raises OverflowError for a = inf and a tiny q, and in
# an array call its later warnings then come with that error pending (the outcome, in SciPy as
# here, depends on the interpreter's state). The callers pass finite shapes.
FINITE_SHAPE_EDGES = [s for s in SHAPE_EDGES if s != INF]
finite_shapes = st.one_of(
    st.floats(1e-3, 1e6), st.integers(1, 500), st.sampled_from(FINITE_SHAPE_EDGES)
)

# (ours, scipy.stats', number of shape arguments, strategy of the first argument)
CASES = {
    "norm_ppf": (_dist.norm_ppf, stats.norm.ppf, 0, qs),
    "norm_isf": (_dist.norm_isf, stats.norm.isf, 0, qs),
    "norm_cdf": (_dist.norm_cdf, stats.norm.cdf, 0, xs),
    "norm_sf": (_dist.norm_sf, stats.norm.sf, 0, xs),
    "chi2_ppf": (_dist.chi2_ppf, stats.chi2.ppf, 1, qs),
    "chi2_sf": (_dist.chi2_sf, stats.chi2.sf, 1, xs),
    "beta_ppf": (_dist.beta_ppf, stats.beta.ppf, 2, qs),
    "t_ppf": (_dist.t_ppf, stats.t.ppf, 1, qs),
    "t_cdf": (_dist.t_cdf, stats.t.cdf, 1, xs),
    "t_sf": (_dist.t_sf, stats.t.sf, 1, xs),
}


def _run(func, args):
    """The result of ``func(*args)`` (or the error it raised) and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = func(*args)
        except Exception as err:  # Boost's beta quantile raises OverflowError for some
            out = (type(err), str(err))
    return out, [(w.category, str(w.message)) for w in caught]


def _assert_same(args, ours_func, ref_func):
    ours, ours_warned = _run(ours_func, args)
    ref, ref_warned = _run(ref_func, args)
    assert ours_warned == ref_warned
    if isinstance(ref, tuple) or isinstance(ours, tuple):
        assert ours == ref  # the same error
        return
    assert type(ours) is type(ref), args  # np.float64 for scalars, ndarray for arrays
    assert np.shape(ours) == np.shape(ref) and np.asarray(ours).dtype == np.float64
    np.testing.assert_array_equal(ours, ref)  # NaN where SciPy has NaN
    # bit for bit: the same sign of every zero (the only equal doubles with other bits)
    same = np.isnan(ref) | (np.signbit(ours) == np.signbit(ref))
    assert np.all(same), (args, ours, ref)


@pytest.mark.parametrize("name", CASES)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_scalars_equal_scipy_stats_bit_for_bit(name, data):
    ours, ref, n_shapes, first = CASES[name]
    shape_values = finite_shapes if name == "beta_ppf" else shapes
    args = [data.draw(first), *(data.draw(shape_values) for _ in range(n_shapes))]
    _assert_same(args, ours, ref)


@pytest.mark.parametrize("name", CASES)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_arrays_equal_scipy_stats_bit_for_bit_and_broadcast_alike(name, data):
    ours, ref, n_shapes, first = CASES[name]
    n = data.draw(st.integers(0, 12))
    values = data.draw(hnp.arrays(np.float64, n, elements=first))
    # shape arguments: a scalar, an array of the same length, or a column (broadcasts to 2-D)
    args = [values]
    shape_values = finite_shapes if name == "beta_ppf" else shapes
    for _ in range(n_shapes):
        kind = data.draw(st.sampled_from(["scalar", "same", "column"]))
        if kind == "scalar":
            args.append(data.draw(shape_values))
        else:
            shape = n if kind == "same" else (data.draw(st.integers(1, 3)), 1)
            args.append(data.draw(hnp.arrays(np.float64, shape, elements=shape_values)))
    _assert_same(args, ours, ref)


@pytest.mark.parametrize("name", CASES)
def test_every_edge_combination_equals_scipy_stats(name):
    # the edges crossed with each other: arguments along axis 0, shapes along the others
    ours, ref, n_shapes, first = CASES[name]
    edges = np.array(X_EDGES if first is xs else Q_EDGES)
    grid = np.array((FINITE_SHAPE_EDGES if name == "beta_ppf" else SHAPE_EDGES) + [0.5, 7.0, 1e6])
    args = [edges.reshape(-1, 1, 1), grid.reshape(1, -1, 1), grid.reshape(1, 1, -1)]
    args = args[: 1 + n_shapes]
    _assert_same(args, ours, ref)
    # and Python numbers and lists come back as SciPy's: a float64 scalar, an array
    _assert_same([0.3, *[4] * n_shapes], ours, ref)
    _assert_same([[0.1, 0.9], *[[2, 3]] * n_shapes], ours, ref)


def test_the_callers_numbers_by_hand():
    # the quantiles the intervals use, against tables: z 0.975, t 0.975 with 2 df, chi2 0.95
    assert round(float(_dist.norm_ppf(0.975)), 5) == 1.95996
    assert round(float(_dist.norm_isf(0.025)), 5) == 1.95996
    assert round(float(_dist.t_ppf(0.975, 2)), 4) == 4.3027
    assert round(float(_dist.chi2_ppf(0.95, 1)), 4) == 3.8415
    assert float(_dist.chi2_sf(3.841458820694124, 1)) == pytest.approx(0.05, abs=1e-15)
    # Clopper-Pearson of 0 in 20: 1 - 0.025 ** (1 / 20)
    assert float(_dist.beta_ppf(0.975, 1, 20)) == pytest.approx(1 - 0.025**0.05, rel=1e-14)
    assert float(_dist.t_sf(0.0, 5)) == float(_dist.t_cdf(0.0, 5)) == 0.5


def test_beta_ppf_is_scipy_stats_own_kernel_not_betaincinv():
    # special.betaincinv, the obvious stand-in, gives NaN for a tiny q where stats.beta.ppf
    # (Boost, which warns that its root finding stopped) still gives a quantile
    q, a, b = 2.73645736e-228, 4.50349248, 5.3575648
    ref, ref_warned = _run(stats.beta.ppf, (q, a, b))
    ours, ours_warned = _run(_dist.beta_ppf, (q, a, b))
    assert ours == ref > 0 and ours_warned == ref_warned
    assert special.betaincinv(a, b, q) != ref  # NaN with SciPy 1.17, 1e-51 with 1.11


WORKER = f"""
import inspect, json, sys
import numpy as np
import turnover_risk.cli._report_worker, turnover_risk.report._sections
import turnover_risk.report._tables, turnover_risk.report._fairness
import turnover_risk.governance, turnover_risk.rates
HEAVY = ('scipy.stats', 'sklearn', 'statsmodels')
out = {{'imports': [m for m in HEAVY if m in sys.modules]}}
import pandas as pd
from turnover_risk.cli import _report_figures, _report_inputs
from turnover_risk.cli._report_worker import _Risks, _inputs, _labelled, _sections
from turnover_risk.report._fairness import _audit_or_none, _audit_parts
request = {{'path': {str(SAMPLE)!r}, 'lang': 'nb', 'min_group_size': 5,
            'build': {{'freq': 'M', 'horizon': 12, 'outcome': 'voluntary', 'scope': 'service'}}}}
register, panel, (sent, _) = _inputs(request)
sections = _sections(request, register)
labelled, _ = _labelled(panel)
risk = np.random.default_rng(0).uniform(0.05, 0.3, len(labelled))
audit = _audit_or_none(_Risks(risk), panel, register, 5, 0)
parts = _audit_parts(audit, 'nb')
# both funnel plots, from small flags tables
units = ['U1', 'U2', 'U3']
flags = {{'funnel': (pd.DataFrame({{'unit_id': units, 'suppressed': [False] * 3,
                                   'log_ratio_se': [0.2, 0.3, 0.25], 'ratio': [1.6, 0.9, 1.0],
                                   'p_value': [0.01, 0.6, 0.9],
                                   'flag': ['elevated', 'as expected', 'as expected']}}),
                     {{'info': {{'margin': 1.25, 'refits': 10}}, 'alpha': 0.05, 'fdr': True}}),
         'retro': (pd.DataFrame({{'unit_id': units, 'suppressed': [False] * 3,
                                  'expected': [4.0, 6.0, 5.0], 'oe_ratio': [2.0, 0.8, 1.0],
                                  'flag': ['elevated', 'as expected', 'as expected']}}),
                   {{'overdispersion': {{'applied': 'none'}}}})}}
drawn = []
for name, (table, attrs) in flags.items():
    frames, body = _report_inputs.pack({{'table': table}})
    head = {{'name': name, 'by': 'unit_id', 'lang': 'nb', 'attrs': attrs, 'frames': frames}}
    answer, html = _report_figures.draw(head, body)
    drawn.append(answer['ok'] and b'<figure' in html)
out['written'] = [sorted(sections), audit is not None, len(parts) > 0, sent['ok'], drawn]
out['run'] = [m for m in HEAVY if m in sys.modules]
from turnover_risk import _dist
for name in _dist.__all__:
    func = getattr(_dist, name)
    func(*[0.3, 2.0, 3.0][: len(inspect.signature(func).parameters)])
out['calls'] = [m for m in HEAVY if m in sys.modules]
out['beta_kernel'] = _dist._BETA_PPF is not None
print(json.dumps(out))
"""


def test_the_report_worker_never_imports_scipy_stats_nor_scikit_learn():
    done = subprocess.run(
        [sys.executable, "-c", WORKER], capture_output=True, text=True, check=True, timeout=300
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["imports"] == []
    assert out["written"] == [["rates", "tables"], True, True, True, [True, True]]
    # the register and panel sent, the sections, the audit (statsmodels and all) and both
    # funnel plots, then every function of _dist; on
    # SciPy 1.11 only, beta_ppf (the audit's Clopper-Pearson intervals) imports scipy.stats
    expected = [] if out["beta_kernel"] else ["scipy.stats"]
    assert out["run"] == expected and out["calls"] == expected
