"""Solutions to the exercises of lesson 7 (examples/07_gradient_checking.py)."""

import math

import numpy as np

import tinygrad_edu as tg


def silu_derivative(x):
    """(x σ(x))' = σ(x) + x σ(x)(1 − σ(x)) = σ(x)(1 + x(1 − σ(x)))."""
    sigmoid = 1 / (1 + np.exp(-x))
    return sigmoid * (1 + x * (1 - sigmoid))


class LogCosh(tg.Function):
    """log(cosh(x)); its derivative is sinh(x) / cosh(x) = tanh(x)."""

    formula = "(log cosh x)' = tanh(x)"

    def forward(self, x):
        return np.logaddexp(x, -x) - math.log(2)  # ln((eˣ + e⁻ˣ) / 2), without overflow

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x.tanh()  # Tensor ops: gradgradcheck differentiates this again
