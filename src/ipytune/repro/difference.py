"""Compare what a cell returned on two runs: the largest difference between them.

Values are numbers, NumPy arrays, torch tensors, pandas objects, and dicts,
lists and tuples of those. :func:`freeze` copies a value right after its run
(so a later run that mutates a shared object cannot change it);
:func:`largest_difference` is 0.0 for identical values, the largest absolute
difference for numeric ones, and ``inf`` when they differ in a way that has
no size (shape, keys, type, a differing string).
"""

from __future__ import annotations

import copy
import math
from typing import Any

INF = math.inf
_PLAIN = (bool, int, float, complex, str, bytes, type(None))


def freeze(value: Any) -> Any:
    """A copy of ``value`` that later code cannot change: tensors become NumPy arrays."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dict):
        return {key: freeze(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [freeze(item) for item in value] if isinstance(value, list) else tuple(freeze(i) for i in value)
    if _is_tensor(value):
        tensor = value.detach().cpu()
        if tensor.is_floating_point() and tensor.dtype not in _numpy_floats(tensor):
            tensor = tensor.double()  # bfloat16 and friends have no NumPy dtype
        return tensor.numpy().copy()
    if hasattr(value, "copy") and type(value).__module__.startswith(("numpy", "pandas")):
        return value.copy()
    try:
        return copy.deepcopy(value)
    except Exception:  # not copyable: compare the object as it is
        return value


def largest_difference(a: Any, b: Any) -> float:
    """0.0 when ``a`` and ``b`` are the same, their largest absolute difference, or ``inf``."""
    if _is_number(a) and _is_number(b):
        return _number_difference(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        if list(a) != list(b):
            return INF
        return max((largest_difference(a[k], b[k]) for k in a), default=0.0)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if type(a) is not type(b) or len(a) != len(b):
            return INF
        return max((largest_difference(x, y) for x, y in zip(a, b, strict=True)), default=0.0)
    if _is_pandas(a) or _is_pandas(b):
        return _pandas_difference(a, b)
    if _is_array(a) or _is_array(b):
        return _array_difference(a, b)
    try:
        return 0.0 if bool(a == b) else INF
    except Exception:
        return INF


def describe(difference: float) -> str:
    if difference == 0:
        return "identical"
    if math.isinf(difference):
        return "differs (shape, type or non-numeric value)"
    return f"largest difference {difference:.3g}"


# -- kinds -------------------------------------------------------------------------
def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    return type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0 and _numeric_dtype(value)


def _is_array(value: Any) -> bool:
    return type(value).__module__ == "numpy" and hasattr(value, "shape")


def _is_pandas(value: Any) -> bool:
    return type(value).__module__.startswith("pandas") and hasattr(value, "to_numpy")


def _is_tensor(value: Any) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach") and hasattr(value, "numpy")


def _numeric_dtype(value: Any) -> bool:
    kind = getattr(getattr(value, "dtype", None), "kind", "")
    return bool(kind) and kind in "biufc"


def _numpy_floats(tensor: Any) -> tuple[Any, ...]:
    import torch

    return (torch.float16, torch.float32, torch.float64)


# -- differences ----------------------------------------------------------------------
def _number_difference(a: Any, b: Any) -> float:
    a, b = complex(a) if isinstance(a, complex) else float(a), complex(b) if isinstance(b, complex) else float(b)
    if a == b:
        return 0.0
    if _isnan(a) and _isnan(b):
        return 0.0
    difference = abs(a - b)
    return INF if math.isnan(difference) else float(difference)


def _isnan(x: complex | float) -> bool:
    return math.isnan(x.real) or math.isnan(x.imag) if isinstance(x, complex) else math.isnan(x)


def _array_difference(a: Any, b: Any) -> float:
    import numpy as np

    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return INF
    if a.size == 0:
        return 0.0
    if a.dtype.kind in "biufc" and b.dtype.kind in "biufc":
        a64 = a.astype(np.complex128 if "c" in (a.dtype.kind + b.dtype.kind) else np.float64)
        b64 = b.astype(a64.dtype)
        both_nan = np.isnan(a64) & np.isnan(b64)
        gap = np.abs(a64 - b64)
        gap[both_nan] = 0.0
        if np.isnan(gap).any():  # NaN on one side only
            return INF
        return float(gap.max())
    return 0.0 if np.array_equal(a, b) else INF


def _pandas_difference(a: Any, b: Any) -> float:
    if type(a) is not type(b) or a.shape != b.shape or not a.index.equals(b.index):
        return INF
    if hasattr(a, "columns"):
        if not a.columns.equals(b.columns):
            return INF
        columns = range(a.shape[1])  # by position: column names may repeat
        return max((_array_difference(a.iloc[:, i].to_numpy(), b.iloc[:, i].to_numpy()) for i in columns), default=0.0)
    return _array_difference(a.to_numpy(), b.to_numpy())
