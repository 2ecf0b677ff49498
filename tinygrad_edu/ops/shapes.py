"""Shape helpers that every op family uses: undoing broadcasting, normalising axes."""

import numpy as np


def unbroadcast(grad, shape):
    """Sum `grad` back to `shape`, undoing NumPy broadcasting (leading axes, then size-1 axes).

    The gradient of a broadcast operand: each of its elements was used once per copy, so
    the gradients of the copies add up.
    """
    if grad.data.shape == shape:  # the common case: nothing was broadcast
        return grad
    extra = grad.ndim - len(shape)
    stretched = tuple(i + extra for i, n in enumerate(shape) if n == 1 and grad.shape[i + extra] != 1)
    return grad.sum(axis=tuple(range(extra)) + stretched, keepdims=True).reshape(shape)


def normalize_axis(axis, ndim):
    """`axis` (None, an int or a tuple of ints, negative counting from the end) as a sorted
    tuple of non-negative ints; None means every axis. A bad axis is a ValueError."""
    if axis is None:
        return tuple(range(ndim))
    if axis.__class__ is int and -ndim <= axis < ndim:  # the common case, answered at once (the rest costs a µs)
        return (axis % ndim,)
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    result = []
    for a in axes:
        # a 0-d tensor has one axis to name, as in PyTorch: 0 or -1
        if isinstance(a, bool) or not isinstance(a, (int, np.integer)) or not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(
                f"axis {a!r} is out of range for a tensor of {ndim} dimensions (expected -{max(ndim, 1)} to "
                f"{max(ndim, 1) - 1})"
            )
        result.append(int(a) % max(ndim, 1))
    if len(set(result)) != len(result):
        raise ValueError(f"axis {axis!r} names the same axis twice")
    return tuple(sorted(result))


def as_rows(t):
    """t (..., n), a Tensor or an array, as a matrix (rows, n): every leading axis is a
    batch axis (a 1-D t is one row)."""
    return t if t.ndim == 2 else t.reshape((-1, t.shape[-1]))
