"""Ops that move elements without changing them: reshape, permute, expand, indexing,
cat and stack. Each backward moves the gradient back to where the element came from."""

import numpy as np

from .. import backend
from ..autograd import Function
from .shapes import unbroadcast


class Reshape(Function):
    """x with a new shape of the same size"""

    formula = "∂/∂x = reshape(grad, x.shape)"
    reads = ()
    view = True  # the output shares x's memory, and so its version count

    def forward(self, x, shape):
        return x.reshape(shape)

    def backward(self, grad):
        (x,) = self.inputs
        return grad.reshape(x.shape)


class Permute(Function):
    """x with its axes reordered: out.shape[i] = x.shape[axes[i]]"""

    formula = "∂/∂x = permute(grad, axes⁻¹)"
    reads = ()
    view = True  # the output shares x's memory, and so its version count

    def forward(self, x, axes):
        return x.transpose(axes)

    def backward(self, grad):
        return grad.permute(*np.argsort(self.attrs["axes"]).tolist())


class Expand(Function):
    """x broadcast to a larger shape (a view: no copy)"""

    formula = "∂/∂x = grad summed over the broadcast axes"
    reads = ()
    view = True  # the output shares x's memory, and so its version count

    def forward(self, x, shape):
        return np.broadcast_to(x, shape)

    def backward(self, grad):
        (x,) = self.inputs
        return unbroadcast(grad, x.shape)


def _is_basic(index):
    """True when `index` selects each element at most once (ints, slices, None, ...)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (int, np.integer, slice)) for p in parts)


class GetItem(Function):
    """x[index], with NumPy's indexing rules"""

    formula = "∂/∂x = grad scattered back to the indexed places (summed where repeated)"
    reads = ()

    def forward(self, x, index):
        self.view = _is_basic(index)  # basic indexing gives a view of x; advanced indexing a copy
        return x[index]

    def backward(self, grad):
        (x,) = self.inputs
        return ScatterAdd.apply(grad, shape=x.shape, index=self.attrs["index"])


class ScatterAdd(Function):
    """zeros(shape) with `values` added at `index`: the adjoint of indexing"""

    formula = "∂/∂values = grad[index]"
    reads = ()

    def forward(self, values, shape, index):
        out = backend.xp(values).zeros(shape, dtype=values.dtype)
        if _is_basic(index):
            out[index] = values
        else:
            backend.scatter_add(out, index, values)
        return out

    def backward(self, grad):
        return grad[self.attrs["index"]]


class Cat(Function):
    """The inputs joined along an existing axis"""

    formula = "∂/∂xₖ = the slice of grad that xₖ filled"
    reads = ()

    def forward(self, *arrays, axis):
        return np.concatenate(arrays, axis=axis)

    def backward(self, grad):
        axis = self.attrs["axis"]
        grads, start = [], 0
        for t in self.inputs:
            stop = start + t.shape[axis]
            grads.append(grad[(slice(None),) * axis + (slice(start, stop),)] if t.requires_grad else None)
            start = stop
        return tuple(grads)


class Stack(Function):
    """The inputs (all of one shape) stacked along a new axis"""

    formula = "∂/∂xₖ = grad[..., k, ...] (index k on the new axis)"
    reads = ()

    def forward(self, *arrays, axis):
        return np.stack(arrays, axis=axis)

    def backward(self, grad):
        axis = self.attrs["axis"]
        return tuple(grad[(slice(None),) * axis + (k,)] if t.requires_grad else None for k, t in enumerate(self.inputs))


class Clone(Function):
    """A copy of x"""

    formula = "∂/∂x = 1"
    reads = ()

    def forward(self, x):
        return x.copy()

    def backward(self, grad):
        return grad


class ToDevice(Function):
    """x copied to another device ("cpu" or "cuda")"""

    formula = "∂/∂x = grad moved back to x's device"
    reads = ()

    def forward(self, x, device):
        return backend.to_device(x, device)

    def backward(self, grad):
        (x,) = self.inputs
        return grad.to(x.device)
