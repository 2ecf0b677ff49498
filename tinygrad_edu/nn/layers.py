"""Layers: the fully connected Linear layer, the activations as Modules, and Flatten,
Dropout and Embedding."""

import math

from .. import functional as F
from ..ops import matmul
from ..ops.shapes import normalize_axis
from ..tensor import Tensor, zeros
from . import init
from .module import Module, Parameter


def sizes(owner, **given):
    """The sizes a layer was given, as ints, each at least 1; else a ValueError naming them all."""
    if any(n < 1 for n in given.values()):
        needs = " and ".join(f"{name} >= 1" for name in given)
        got = ", ".join(f"{name}={n}" for name, n in given.items())
        raise ValueError(f"{owner} needs {needs}, got {got}")
    return [int(n) for n in given.values()]


class Linear(Module):
    """y = x Wᵀ + b: x (..., in_features) → y (..., out_features).

    weight W (out_features, in_features) and bias b (out_features,), both drawn from
    U(−1/√in_features, 1/√in_features) like PyTorch's. The forward pass is one fused
    node of the graph (ops.matmul.Linear), with ∂/∂x = G W, ∂/∂W = Gᵀ x, ∂/∂b = Σ G.
    """

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features, self.out_features = sizes("Linear", in_features=in_features, out_features=out_features)
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


class Flatten(Module):
    """The axes start_dim to end_dim merged into one: (N, C, H, W) → (N, C·H·W) by default,
    the step from a convolution's feature maps to a Linear layer."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x):
        start = normalize_axis(self.start_dim, x.ndim)[0]
        end = normalize_axis(self.end_dim, x.ndim)[0]
        if start > end:
            raise ValueError(
                f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} for input of shape {x.shape}"
            )
        shape = x.shape
        return x.reshape(shape[:start] + (math.prod(shape[start : end + 1]),) + shape[end + 1 :])

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Zero each element with probability p while training, and scale the others by
    1/(1 − p), so that the expected value is unchanged; the identity after eval()."""

    def __init__(self, p=0.5):
        super().__init__()
        F.check_probability(p, "Dropout probability p")
        self.p = p

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Embedding(Module):
    """A lookup table: row i of weight (num_embeddings, embedding_dim) is the vector of
    token i. int64 indices of any shape → vectors of shape indices.shape + (embedding_dim,).
    weight ~ N(0, 1), as in PyTorch."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings, self.embedding_dim = sizes(
            "Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim
        )
        self.weight = Parameter(init.normal_(zeros(self.num_embeddings, self.embedding_dim)))

    def forward(self, indices):
        return F.embedding(indices, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"


class GELU(Module):
    """GELU(x) = x·Φ(x), Φ the cumulative distribution of N(0, 1); approximate="tanh" uses
    PyTorch's tanh approximation of Φ."""

    def __init__(self, approximate="none"):
        super().__init__()
        F.check_gelu_approximate(approximate)
        self.approximate = approximate

    def forward(self, x):
        return F.gelu(x, self.approximate)

    def extra_repr(self):
        return f"approximate={self.approximate!r}"
