"""Normalisation, dropout and the Gaussian error function: the ops of functional's
"normalisation, dropout, embedding, attention" section that are not compositions.

- `Normalize` is the x̂ = (x − μ) / √(σ² + ε) that batch_norm and layer_norm share (they
  differ in the axes they normalise over; their affine γ·x̂ + β is ordinary Mul and Add).
- `Dropout` multiplies by a mask the caller draws (`dropout_mask`), so that a test can
  hand it a mask of its own.
- `NormalCDF` is Φ, the cumulative distribution of N(0, 1), which GELU(x) = x·Φ(x) needs;
  it rests on `erf` and `erfc`, the library's own, since NumPy has no error function.
"""

import math

import numpy as np

from .. import backend
from ..autograd import Function, is_grad_enabled, wrap
from ..random import generator
from .reduce import reduced_count
from .shapes import as_rows


class Normalize(Function):
    """x̂ = (x − μ) / √(σ² + ε), with μ and σ² the mean and the biased variance of x over
    `axis` (a tuple). x any shape; x̂ the same shape, of mean 0 and variance ≈ 1 over axis.

    Backward: with g the incoming gradient and means over axis, every x̂ depends on every x
    through μ and σ², which gives ∂L/∂x = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + ε).
    Forward keeps 1/√(σ² + ε); under create_graph it is recomputed from x with Tensor ops,
    so that the gradient can be differentiated again.
    """

    formula = "∂L/∂x = (g − mean(g) − x̂·mean(g·x̂)) / √(σ² + ε)"

    def forward(self, x, axis, eps):
        x_hat, self.saved = normalized(x, axis, eps)
        return x_hat

    def backward(self, grad):
        (x,) = self.inputs
        axis, eps = self.attrs["axis"], self.attrs["eps"]
        x_hat = self.output
        if is_grad_enabled():  # create_graph: 1/√(σ² + ε) as a function of x
            inv_std = inverse_std(x, axis, eps)
        else:
            inv_std = wrap(self.saved)
        mean_grad = grad.mean(axis=axis, keepdims=True)
        mean_grad_times_x_hat = (grad * x_hat).mean(axis=axis, keepdims=True)
        return (grad - mean_grad - x_hat * mean_grad_times_x_hat) * inv_std


def inverse_std(x, axis, eps):
    """1/√(σ² + ε) of the Tensor x over `axis`, kept, with Tensor ops (differentiable)."""
    return (x.var(axis=axis, keepdims=True, correction=0) + eps) ** -0.5


def normalized(x, axis, eps):
    """(x̂, 1/√(σ² + ε)) of the array x over `axis` (a tuple), the second with those axes kept."""
    n = reduced_count(x.shape, axis)  # the means as sums / n: backend.sum_over is the fast sum
    mean = backend.sum_over(x, axis, keepdims=True) / n
    centered = x - mean
    variance = backend.sum_over(centered * centered, axis, keepdims=True) / n
    inv_std = 1 / np.sqrt(variance + eps)
    centered *= inv_std  # in place: the centred copy is ours
    return centered, inv_std


class LayerNorm(Function):
    """y = γ·x̂ + β, x̂ = (x − μ) / √(σ² + ε) over the last axis: layer_norm as one op, fused.
    x (..., C), γ = weight and β = bias (C,); y (..., C). Its plain composition is
    Normalize over the last axis, then `* weight + bias` (functional.layer_norm's other
    path; tests/test_fused.py holds the two equal, values and gradients).

    Backward, with g the incoming gradient, sums Σ over the leading axes and means over C:
    ∂L/∂β = Σ g, ∂L/∂γ = Σ g·x̂, ∂L/∂x = (g·γ − mean(g·γ) − x̂·mean(g·γ·x̂)) / √(σ² + ε),
    Normalize's formula for the gradient g·γ that reaches x̂. The two means are products
    of a matrix with the vector γ (g and g·x̂, rows of C, times γ): one pass each, where a
    product and then a mean take two.
    Forward keeps x̂ and 1/√(σ² + ε); under create_graph both are recomputed from x with
    Tensor ops, so that the gradient can be differentiated again.
    """

    formula = "∂L/∂x = (g·γ − mean(g·γ) − x̂·mean(g·γ·x̂)) / √(σ² + ε), ∂L/∂γ = Σ g·x̂, ∂L/∂β = Σ g"
    reads = ("inputs",)

    def forward(self, x, weight, bias, eps):
        x_hat, inv_std = normalized(x, (x.ndim - 1,), eps)
        self.saved = (x_hat, inv_std)
        y = x_hat * weight
        y += bias  # in place: y is ours
        return y

    def backward(self, grad):
        x, weight, bias = self.inputs
        last = (x.ndim - 1,)
        if is_grad_enabled():  # create_graph: x̂ and 1/√(σ² + ε) as functions of x
            inv_std = inverse_std(x, last, self.attrs["eps"])
            x_hat = (x - x.mean(axis=last, keepdims=True)) * inv_std
        else:
            x_hat, inv_std = (wrap(a) for a in self.saved)
        grad_times_x_hat = grad * x_hat
        grad_bias = as_rows(grad).sum(axis=0) if bias.requires_grad else None
        grad_weight = as_rows(grad_times_x_hat).sum(axis=0) if weight.requires_grad else None
        if not x.requires_grad:
            return None, grad_weight, grad_bias

        def mean_times_gamma(t):  # mean over C of t·γ, kept as a column: (rows, C) @ γ
            return (as_rows(t) @ weight).reshape(t.shape[:-1] + (1,)) * (1 / x.shape[-1])

        grad_x = (grad * weight - mean_times_gamma(grad) - x_hat * mean_times_gamma(grad_times_x_hat)) * inv_std
        return grad_x, grad_weight, grad_bias


def dropout_mask(shape, p, device):
    """A bool array of `shape` on `device`, True (kept) with probability 1 − p each. Drawn
    on the CPU from the generator that tg.manual_seed seeds, then moved, so that a seed
    gives the same mask on every device."""
    keep = generator().random(shape, dtype=np.float32) >= p
    return backend.to_device(keep, device)


def _keep_scale(p):
    """1 / (1 − p), the scale of the kept elements; 0 when p = 1 (nothing is kept)."""
    return 1 / (1 - p) if p < 1 else 0.0


class Dropout(Function):
    """x·m / (1 − p) for a given bool mask m of x's shape (True: kept) and the drop
    probability p: the kept elements are scaled so that the expected value is unchanged.
    p = 1 drops everything (the mask is all False) and gives zeros."""

    formula = "∂/∂x = m / (1 − p)"

    def forward(self, x, mask, p):
        out = x * mask
        out *= _keep_scale(p)
        return out

    def backward(self, grad):
        return grad * wrap(self.attrs["mask"]) * _keep_scale(self.attrs["p"])


# ---------------------------------------------------------------------- the error function
# erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt. Two expansions, each used where it converges fast and
# loses no digits to cancellation:
#
# - |x| ≤ 2.5: y(x) = e^(x²)·erf(x) solves y' = 2x·y + 2/√π with y(0) = 0, and its Taylor
#   series, found term by term from that equation, has positive terms only:
#       erf(x) = (2/√π) x e^(−x²) Σₙ (2x²)ⁿ / (1·3·5···(2n + 1)).
#   37 terms (n ≤ 36) reach double precision at x = 2.5.
# - |x| > 2.5: Laplace's continued fraction for the complementary function,
#       erfc(x) = 1 − erf(x) = (e^(−x²)/√π) · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + ...)))),
#   cut at depth 35 and evaluated from the bottom up; it converges faster the larger x.
#
# Each branch is evaluated only where it is used (boolean masks), in float64; the result
# is cast back to the input's dtype. 1 − erf and 1 − erfc are formed only where they are
# large, so erf keeps its relative accuracy near 0 and erfc in the far tail.

_SERIES_END = 2.5
_SERIES = [1 / math.prod(range(1, 2 * n + 2, 2)) for n in range(37)]  # 1 / (2n + 1)!!
_FRACTION_DEPTH = 35
_FRACTION_END = 30.0  # erfc(30) ≈ 1e-393 underflows to 0: larger x (and inf) change nothing


def _erf_series(a):
    """erf(a) for 0 ≤ a ≤ 2.5, from the positive series (Horner's rule in 2a²)."""
    y = 2 * a * a
    total = backend.xp(a).full_like(a, _SERIES[-1])
    for coefficient in reversed(_SERIES[:-1]):
        total *= y
        total += coefficient
    return (2 / math.sqrt(math.pi)) * a * np.exp(-a * a) * total


def _gaussian(a):
    """e^(−a²), accurate where a² is large: a = z + (a − z) with z a rounded to float32, so
    that z² is exact in float64 and e^(−a²) = e^(−z²)·e^((z − a)(z + a))."""
    z = a.astype(np.float32).astype(np.float64)
    return np.exp(-z * z) * np.exp((z - a) * (z + a))


def _erfc_fraction(a):
    """erfc(a) for a > 2.5, from the continued fraction."""
    a = np.minimum(a, _FRACTION_END)
    denominator = a.copy()
    for k in range(_FRACTION_DEPTH, 0, -1):
        denominator = a + (k / 2) / denominator
    return _gaussian(a) / (math.sqrt(math.pi) * denominator)


def _erf_or_erfc_of_abs(x):
    """(v, small) for |x| in float64: v = erf(|x|) where `small` (|x| ≤ 2.5), erfc(|x|)
    elsewhere (nan included)."""
    a = np.abs(x.astype(np.float64)).reshape(-1)  # 1-D: masks index 0-d arrays too
    small = a <= _SERIES_END
    v = backend.xp(a).empty_like(a)
    v[small] = _erf_series(a[small])
    v[~small] = _erfc_fraction(a[~small])
    return v.reshape(x.shape), small.reshape(x.shape)


def _float_dtype(x):
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float32)


def erf(x):
    """The error function erf(x) = (2/√π) ∫₀ˣ e^(−t²) dt of an array, elementwise; within a
    few units in the last place of math.erf. erf(±inf) = ±1, erf(nan) = nan."""
    v, small = _erf_or_erfc_of_abs(x)
    return np.copysign(np.where(small, v, 1 - v), x).astype(_float_dtype(x), copy=False)


def erfc(x):
    """The complementary error function erfc(x) = 1 − erf(x) of an array, elementwise.
    Beyond 2.5 it comes from the continued fraction, accurate relative to its own value far
    into the tail (erfc(26) ≈ 6e-296); below, it is 1 − erf(x) ≥ 4e-4, within 2e-12 relative."""
    v, small = _erf_or_erfc_of_abs(x)
    right = np.where(small, 1 - v, v)
    return np.where(x < 0, 2 - right, right).astype(_float_dtype(x), copy=False)


class NormalCDF(Function):
    """Φ(x) = P(Z ≤ x) for Z ~ N(0, 1) = ½ erfc(−x/√2), elementwise (any shape). erfc
    rather than 1 + erf keeps Φ accurate in the left tail, where it is tiny."""

    formula = "Φ'(x) = φ(x) = e^(−x²/2) / √(2π)"

    def forward(self, x):
        return 0.5 * erfc(x * -math.sqrt(0.5))

    def backward(self, grad):
        (x,) = self.inputs
        return grad * (x * x * -0.5).exp() * (1 / math.sqrt(2 * math.pi))
