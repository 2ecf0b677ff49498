"""Pointwise ops: each forward is one NumPy expression, each backward the chain rule.

Binary ops broadcast like NumPy; the gradient of a broadcast operand is summed back to
its shape by `unbroadcast`. A binary op states its two partial derivatives, `grad_a`
and `grad_b`; the shared `backward` computes only those an input needs.
"""

import numpy as np

from ..autograd import Function
from .shapes import unbroadcast


def where(cond, a, b):
    """Where(cond, a, b) for the backward formulas here (tensor.py's where wraps it)."""
    return Where.apply(cond, a, b)


class BinaryFunction(Function):
    """A broadcasting op of two inputs, defined by ∂out/∂a and ∂out/∂b times the incoming grad."""

    def backward(self, grad):
        a, b = self.inputs
        return (
            unbroadcast(self.grad_a(grad, a, b), a.data.shape) if a.requires_grad else None,
            unbroadcast(self.grad_b(grad, a, b), b.data.shape) if b.requires_grad else None,
        )


class Add(BinaryFunction):
    """a + b"""

    formula = "∂/∂a = 1, ∂/∂b = 1"
    reads = ()

    def forward(self, a, b):
        return a + b

    def grad_a(self, grad, a, b):
        return grad

    def grad_b(self, grad, a, b):
        return grad


class Sub(BinaryFunction):
    """a − b"""

    formula = "∂/∂a = 1, ∂/∂b = −1"
    reads = ()

    def forward(self, a, b):
        return a - b

    def grad_a(self, grad, a, b):
        return grad

    def grad_b(self, grad, a, b):
        return -grad


class Mul(BinaryFunction):
    """a · b"""

    formula = "∂/∂a = b, ∂/∂b = a"
    reads = ("inputs",)

    def forward(self, a, b):
        return a * b

    def grad_a(self, grad, a, b):
        return grad * b

    def grad_b(self, grad, a, b):
        return grad * a


class Div(BinaryFunction):
    """a / b; integers divide into float32, as in PyTorch."""

    formula = "∂/∂a = 1/b, ∂/∂b = −a/b²"
    reads = ("inputs",)

    def forward(self, a, b):
        if a.dtype.kind in "biu":
            a, b = a.astype(np.float32), b.astype(np.float32)
        return a / b

    def grad_a(self, grad, a, b):
        return grad / b

    def grad_b(self, grad, a, b):
        return -grad * a / (b * b)


class Pow(BinaryFunction):
    """a ** b. As in PyTorch, ∂/∂a is 0 where b = 0 (x⁰ = 1 is flat, though 0 · 0⁻¹ is
    NaN), and ∂/∂b is 0 where a = 0 and b ≥ 0 (0^b is flat there, though ln 0 = −∞)."""

    formula = "∂/∂a = b·a^(b−1), ∂/∂b = a^b·ln a"

    def forward(self, a, b):
        return a**b

    def grad_a(self, grad, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 · 0⁻¹ where b = 0 is masked out
            return where(b == 0, 0.0, grad * b * a ** (b - 1))

    def grad_b(self, grad, a, b):
        with np.errstate(divide="ignore", invalid="ignore"):  # ln 0 = −∞ where a = 0 is masked out
            return where((a == 0) & (b >= 0), 0.0, grad * self.output * a.log())


class Maximum(BinaryFunction):
    """max(a, b) elementwise; a tie sends half the gradient to each side, as in PyTorch."""

    formula = "∂/∂a = [a > b] + ½[a = b], ∂/∂b = [b > a] + ½[a = b]"
    reads = ("inputs",)

    def forward(self, a, b):
        return np.maximum(a, b)

    def grad_a(self, grad, a, b):
        return grad * ((a > b) + (a == b) * 0.5)

    def grad_b(self, grad, a, b):
        return grad * ((b > a) + (a == b) * 0.5)


class Minimum(BinaryFunction):
    """min(a, b) elementwise; a tie sends half the gradient to each side."""

    formula = "∂/∂a = [a < b] + ½[a = b], ∂/∂b = [b < a] + ½[a = b]"
    reads = ("inputs",)

    def forward(self, a, b):
        return np.minimum(a, b)

    def grad_a(self, grad, a, b):
        return grad * ((a < b) + (a == b) * 0.5)

    def grad_b(self, grad, a, b):
        return grad * ((b < a) + (a == b) * 0.5)


class Where(Function):
    """where(cond, a, b): a where cond is true, else b; cond gets no gradient."""

    formula = "∂/∂a = [cond], ∂/∂b = [not cond]"
    reads = ("inputs",)

    def forward(self, cond, a, b):
        return np.where(cond, a, b)

    def backward(self, grad):
        cond, a, b = self.inputs
        return (
            None,
            unbroadcast(grad * cond, a.shape) if a.requires_grad else None,
            unbroadcast(grad * ~cond, b.shape) if b.requires_grad else None,
        )


class Neg(Function):
    """−x"""

    formula = "∂/∂x = −1"
    reads = ()

    def forward(self, x):
        return -x

    def backward(self, grad):
        return -grad


class Exp(Function):
    """eˣ"""

    formula = "∂/∂x = eˣ"
    reads = ("output",)

    def forward(self, x):
        return np.exp(x)

    def backward(self, grad):
        return grad * self.output


class Log(Function):
    """ln x"""

    formula = "∂/∂x = 1/x"
    reads = ("inputs",)

    def forward(self, x):
        return np.log(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad / x


class Sqrt(Function):
    """√x"""

    formula = "∂/∂x = 1/(2√x)"
    reads = ("output",)

    def forward(self, x):
        return np.sqrt(x)

    def backward(self, grad):
        return grad / (2 * self.output)


class Abs(Function):
    """|x|; the gradient at 0 is 0, as in PyTorch."""

    formula = "∂/∂x = sign(x)"
    reads = ("inputs",)

    def forward(self, x):
        return np.abs(x)

    def backward(self, grad):
        (x,) = self.inputs
        return grad * x.sign()


class Sign(Function):
    """sign(x) ∈ {−1, 0, 1}: flat almost everywhere, so its gradient is 0."""

    formula = "∂/∂x = 0"
    reads = ()

    def forward(self, x):
        return np.sign(x)

    def backward(self, grad):
        return grad * 0  # zeros, as in PyTorch


class Sigmoid(Function):
    """σ(x) = 1 / (1 + e⁻ˣ), computed as ½(1 + tanh(x/2)): the same function, and it
    never overflows (e⁻ˣ would at x = −1000)."""

    formula = "σ'(x) = σ(x)(1 − σ(x))"
    reads = ("output",)

    def forward(self, x):
        return 0.5 + 0.5 * np.tanh(0.5 * x)

    def backward(self, grad):
        s = self.output
        return grad * s * (1 - s)


class Tanh(Function):
    """tanh x"""

    formula = "tanh'(x) = 1 − tanh²(x)"
    reads = ("output",)

    def forward(self, x):
        return np.tanh(x)

    def backward(self, grad):
        y = self.output
        return grad * (1 - y * y)


class ReLU(Function):
    """max(x, 0); the gradient at 0 is 0, as in PyTorch (the output is 0 there too, so
    [relu(x) > 0] = [x > 0])."""

    formula = "relu'(x) = [x > 0]"
    reads = ("output",)

    def forward(self, x):
        return np.maximum(x, 0)

    def backward(self, grad):
        return grad * (self.output > 0)


class Step(Function):
    """The perceptron's Heaviside step: 1 where x ≥ 0, else 0. It is flat, so its gradient
    is 0 everywhere: gradient descent cannot learn through it."""

    formula = "step'(x) = 0"
    reads = ()

    def forward(self, x):
        return (x >= 0).astype(x.dtype)

    def backward(self, grad):
        return grad * 0


class Clip(Function):
    """x limited to [min, max] (either bound may be None); gradient 1 inside, 0 outside."""

    formula = "∂/∂x = [min ≤ x ≤ max]"
    reads = ("inputs",)

    def forward(self, x, min=None, max=None):
        return np.clip(x, min, max)

    def backward(self, grad):
        (x,) = self.inputs
        low, high = self.attrs.get("min"), self.attrs.get("max")
        if low is not None:
            grad = grad * (x >= low)
        if high is not None:
            grad = grad * (x <= high)
        return grad


class Cast(Function):
    """x as another dtype; the gradient is cast back to x's dtype."""

    formula = "∂/∂x = 1"
    reads = ()

    def forward(self, x, dtype):
        return x.astype(dtype)

    def backward(self, grad):
        (x,) = self.inputs
        return grad.astype(x.dtype)
