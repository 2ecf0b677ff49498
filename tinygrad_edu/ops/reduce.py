"""Reductions and the normalisations built on them: sum, mean, max/min, var, logsumexp,
softmax, log_softmax.

`axis` is None (every axis), an int or a tuple of ints, negative counting from the end;
the Tensor methods normalise it to a tuple before calling the op. Backward formulas
first give the incoming gradient back the reduced axes (as size 1) so that it
broadcasts against the input.
"""

import math

import numpy as np

from .. import backend
from ..autograd import Function


class Reduction(Function):
    """A reduction over `axis` (a tuple) that keeps or drops the reduced axes."""

    def kept(self, t):
        """`t` (shaped like the output) with the reduced axes back as size 1."""
        if self.attrs["keepdims"]:
            return t
        (x,) = self.inputs
        return t.reshape(tuple(1 if i in self.attrs["axis"] else n for i, n in enumerate(x.shape)))

    def count(self):
        """How many elements were reduced into each output element."""
        (x,) = self.inputs
        return reduced_count(x.shape, self.attrs["axis"])


def reduced_count(shape, axis):
    """How many elements of an array of `shape` a reduction over `axis` puts into each result."""
    return math.prod(shape[i] for i in axis)


class Sum(Reduction):
    """Σ x over axis"""

    formula = "∂/∂xᵢ = 1"
    reads = ()

    def forward(self, x, axis, keepdims):
        return backend.sum_over(x, axis, keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        return self.kept(grad).expand(x.shape)


class Mean(Reduction):
    """(1/n) Σ x over axis"""

    formula = "∂/∂xᵢ = 1/n"
    reads = ()

    def forward(self, x, axis, keepdims):
        n = reduced_count(x.shape, axis)
        total = backend.sum_over(x, axis, keepdims)
        return total / n if n else total * np.nan  # the mean of nothing is NaN, as in PyTorch

    def backward(self, grad):
        (x,) = self.inputs
        n = self.count()
        return self.kept(grad).expand(x.shape) * (1 / n if n else math.nan)


class Max(Reduction):
    """max x over axis; tied maxima share the gradient equally."""

    formula = "∂/∂xᵢ = [xᵢ = max] / #ties"

    def forward(self, x, axis, keepdims):
        return backend.max_over(x, axis, keepdims)

    def backward(self, grad):
        (x,) = self.inputs
        result = self.kept(self.output)
        is_max = (x == result) | (x.isnan() & result.isnan())  # a NaN is the max, as in PyTorch
        return self.kept(grad) * is_max / is_max.sum(axis=self.attrs["axis"], keepdims=True)


class Min(Max):
    """min x over axis: Max's backward applies as it is (the gradient goes where x equals
    the result)."""

    formula = "∂/∂xᵢ = [xᵢ = min] / #ties"

    def forward(self, x, axis, keepdims):
        return x.min(axis=axis, keepdims=keepdims)


class Var(Reduction):
    """Σ (x − x̄)² / (n − correction) over axis (correction=1: unbiased, PyTorch's default)"""

    formula = "∂/∂xᵢ = 2(xᵢ − x̄)/(n − correction)"
    reads = ("inputs",)

    def forward(self, x, axis, keepdims, correction):
        if reduced_count(x.shape, axis) - correction <= 0:  # too few elements: NaN, as in PyTorch
            return x.sum(axis=axis, keepdims=keepdims) * np.nan
        return x.var(axis=axis, keepdims=keepdims, ddof=correction)

    def backward(self, grad):
        (x,) = self.inputs
        centered = x - x.mean(axis=self.attrs["axis"], keepdims=True)
        degrees_of_freedom = self.count() - self.attrs["correction"]
        return self.kept(grad) * centered * (2 / degrees_of_freedom if degrees_of_freedom > 0 else math.nan)


def _stable_max(x, axis):
    """max over axis (a tuple; kept), with ±inf replaced by 0 so that x − max stays finite."""
    m = backend.max_over(x, axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0)


class LogSumExp(Reduction):
    """ln Σ eˣ over axis, computed as m + ln Σ e^(x − m) with m = max x (no overflow)."""

    formula = "∂/∂xᵢ = e^(xᵢ − lse) = softmax(x)ᵢ"

    def forward(self, x, axis, keepdims):
        if x.size == 0:  # ln of an empty sum: −inf, as in PyTorch
            with np.errstate(divide="ignore"):
                return np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))
        m = _stable_max(x, axis)
        out = np.log(np.exp(x - m).sum(axis=axis, keepdims=True)) + m
        return out if keepdims else out.squeeze(axis)

    def backward(self, grad):
        (x,) = self.inputs
        return self.kept(grad) * (x - self.kept(self.output)).exp()


class Softmax(Function):
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along axis, with the max subtracted first."""

    formula = "∂sᵢ/∂xⱼ = sᵢ(δᵢⱼ − sⱼ)"
    reads = ("output",)

    def forward(self, x, axis):
        if x.size == 0:
            return x.copy()
        axes = None if axis is None else (axis,)
        e = np.exp(x - backend.max_over(x, axes, keepdims=True))
        e /= backend.sum_over(e, axes, keepdims=True)  # in place: e is this op's own array
        return e

    def backward(self, grad):
        s = self.output
        return s * (grad - (grad * s).sum(axis=self.attrs["axis"], keepdims=True))


class LogSoftmax(Function):
    """log_softmax(x) = x − logsumexp(x) along axis."""

    formula = "∂/∂xⱼ = δᵢⱼ − softmax(x)ⱼ"
    reads = ("output",)

    def forward(self, x, axis):
        if x.size == 0:
            return x.copy()
        shifted = x - _stable_max(x, None if axis is None else (axis,))
        shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return shifted

    def backward(self, grad):
        probs = self.output.exp()
        return grad - probs * grad.sum(axis=self.attrs["axis"], keepdims=True)
