"""Reading a 0.1.0 joblib model file without running code from it (private).

A pickle can name any importable callable, and loading calls it: that is how a crafted model
file runs code. 0.1.0 wrote joblib pickles, so :func:`load_0_1_0` reads them with joblib's own
unpickler restricted to an allow-list of what a fitted 0.1.0 model is made of: scikit-learn
estimators and their loss objects, numpy arrays, scalars and random generators, and our own
model classes. Anything else in the file - ``os.system``, ``builtins.eval``, a class that opens
files - is refused with its name before it is imported, let alone called.
"""

from __future__ import annotations

import importlib
import inspect
import io
from typing import Any
from unittest import mock

from turnover_risk._errors import TurnoverRiskInputError

__all__: list[str] = []

_NUMPY_CALLABLES = {"_reconstruct", "scalar"}  # numpy.core / numpy._core .multiarray
_EXACT = {
    ("builtins", n) for n in ("slice", "set", "frozenset", "complex", "bytearray", "range")
} | {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random.bit_generator", "SeedSequence"),
    ("numpy.random.bit_generator", "__pyx_unpickle_SeedSequence"),
    ("joblib.numpy_pickle", "NumpyArrayWrapper"),
    ("joblib.numpy_pickle_compat", "NDArrayWrapper"),
    ("sklearn.ensemble._hist_gradient_boosting.predictor", "TreePredictor"),
}


def _ours() -> set[Any]:
    from turnover_risk.models._calibration import _IsotonicCalibrator, _SigmoidCalibrator
    from turnover_risk.models._estimator import TurnoverRiskModel
    from turnover_risk.models._pipeline import _onehot_name
    from turnover_risk.panel._spec import PanelSpec

    return {TurnoverRiskModel, PanelSpec, _onehot_name, _SigmoidCalibrator, _IsotonicCalibrator}


def allowed(module: str, name: str) -> bool:
    """Whether a 0.1.0 model file may name ``module.name`` (checked before any import)."""
    root = module.split(".")[0]
    if (module, name) in _EXACT:
        return True
    if module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        return name in _NUMPY_CALLABLES
    if root not in ("numpy", "sklearn", "turnover_risk"):
        return False
    try:
        obj = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return False
    if root == "turnover_risk":  # 0.1.0 module paths resolve through turnover_risk._legacy
        return any(obj is x for x in _ours())
    if not inspect.isclass(obj):
        return False
    if root == "numpy":
        import numpy as np

        return issubclass(obj, (np.generic, np.random.BitGenerator))
    from sklearn.base import BaseEstimator

    return issubclass(obj, BaseEstimator) or module.startswith("sklearn._loss")


def load_0_1_0(data: bytes, where: str) -> Any:
    """The object in a 0.1.0 joblib file, loaded with the allow-list of :func:`allowed`."""
    import joblib
    from joblib import numpy_pickle

    class _Restricted(numpy_pickle.NumpyUnpickler):
        def find_class(self, module: str, name: str) -> Any:
            if not allowed(module, name):
                raise TurnoverRiskInputError(
                    f"refusing to load {where}: it names '{module}.{name}', which is not part of "
                    "a turnover_risk 0.1.0 model (a crafted or foreign file). Nothing from it "
                    "was run."
                )
            return super().find_class(module, name)

    with mock.patch.object(numpy_pickle, "NumpyUnpickler", _Restricted):
        return joblib.load(io.BytesIO(data))
