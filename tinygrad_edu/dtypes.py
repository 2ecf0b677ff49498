"""dtypes: promotion as `torch.result_type` does it, and Python numbers as constants.

It works on arrays and knows no Tensor, so imports keep flowing one way
(tensor → autograd → dtypes).
"""

import numpy as np

from . import backend

_FLOAT32, _INT64 = np.dtype(np.float32), np.dtype(np.int64)
_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


def result_type(arrays):
    """The dtype `torch.result_type` gives the arrays: 0-d arrays (constants) never widen
    arrays with dimensions unless they are of a higher category (bool < int < float <
    complex), and an integer array with a float one takes the float's dtype."""
    first = arrays[0].dtype
    if all(a.dtype == first for a in arrays):
        return first
    dimensioned = [a.dtype for a in arrays if a.ndim > 0]
    zero_dim = [a.dtype for a in arrays if a.ndim == 0]
    if not dimensioned or not zero_dim:
        return _promote(dimensioned or zero_dim)
    main, scalars = _promote(dimensioned), _promote(zero_dim)
    return scalars if _CATEGORY[scalars.kind] > _CATEGORY[main.kind] else main


def _promote(dtypes):
    """NumPy's promotion among the dtypes of the highest category only."""
    top = max(_CATEGORY[d.kind] for d in dtypes)
    return np.result_type(*[d for d in dtypes if _CATEGORY[d.kind] == top])


def constant_dtype(number, like):
    """The dtype a Python number takes next to an array of dtype `like`: `like` itself, so
    that a number never widens a tensor (torch's rule: float32 * 0.5 stays float32), but
    float32 for a float next to integers and int64 for an int next to bools."""
    if number.__class__ is float and like.kind not in "fc":
        return _FLOAT32
    if number.__class__ is int and like.kind == "b":
        return _INT64
    return like


def constant(value, like):
    """`value` (a Python number, a NumPy scalar, a list or an array) as an array on the
    device of the array `like`; a Python number as a 0-d array of `constant_dtype`."""
    if value.__class__ in (float, int, bool):
        return backend.scalar(value, constant_dtype(value, like.dtype), like)
    array = np.asarray(value)
    if isinstance(value, (list, tuple)) and array.dtype == np.float64:
        array = array.astype(np.float32)  # Python floats are float32, as in Tensor(...)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"expected a number, a Tensor or an array of numbers, got {value!r:.60}")
    return backend.to_device(array, backend.device_of(like))
