"""Layers: the fully connected Linear layer and the activations as Modules."""

import math

from ..ops import matmul
from ..tensor import Tensor, zeros
from . import init
from .module import Module, Parameter


class Linear(Module):
    """y = x Wᵀ + b: x (..., in_features) → y (..., out_features).

    weight W (out_features, in_features) and bias b (out_features,), both drawn from
    U(−1/√in_features, 1/√in_features) like PyTorch's. The forward pass is one fused
    node of the graph (ops.matmul.Linear), with ∂/∂x = G W, ∂/∂W = Gᵀ x, ∂/∂b = Σ G.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        if in_features < 1 or out_features < 1:
            raise ValueError(
                f"Linear needs in_features >= 1 and out_features >= 1, got in_features={in_features}, "
                f"out_features={out_features}"
            )
        self.in_features = int(in_features)
        self.out_features = int(out_features)
        # PyTorch's default, kaiming_uniform_ with a=√5, comes down to this bound
        bound = 1 / math.sqrt(self.in_features)
        self.weight = Parameter(init.uniform_(zeros(self.out_features, self.in_features), -bound, bound))
        self.bias = Parameter(init.uniform_(zeros(self.out_features), -bound, bound)) if bias else None

    def forward(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        shape = x.data.shape
        if not shape or shape[-1] != self.in_features:
            raise ValueError(
                f"Linear(in_features={self.in_features}) expects input of shape (..., {self.in_features}), "
                f"got {x.shape}; weight shape {self.weight.shape}"
            )
        if self.bias is None:
            return matmul.Linear.apply(x, self.weight)
        return matmul.Linear.apply(x, self.weight, self.bias)

    def extra_repr(self):
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e⁻ˣ), elementwise: a probability from a score."""

    def forward(self, x):
        return x.sigmoid()


class Softmax(Module):
    """softmax(x)ᵢ = e^xᵢ / Σⱼ e^xⱼ along `axis`: probabilities that sum to 1."""

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return x.softmax(self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class LogSoftmax(Module):
    """log softmax(x) = x − logsumexp(x) along `axis`, computed without overflow."""

    def __init__(self, axis=-1):
        super().__init__()
        self.axis = axis

    def forward(self, x):
        return x.log_softmax(self.axis)

    def extra_repr(self):
        return f"axis={self.axis}"


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x):
        return x.relu()


class Tanh(Module):
    """tanh x, elementwise."""

    def forward(self, x):
        return x.tanh()


class Step(Module):
    """The perceptron's Heaviside step: 1 where x ≥ 0, else 0. Its gradient is zero, so
    it is trained with the perceptron rule, not with backward."""

    def forward(self, x):
        return x.step()


class Identity(Module):
    """x ↦ x: a placeholder layer."""

    def forward(self, x):
        return x
