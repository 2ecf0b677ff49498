"""Weight initialisers with PyTorch's names and formulas. Each fills a tensor in place
(keeping its dtype and device), counts the change in its version (so that backward
through a graph that saved the old values refuses) and returns it; random ones draw from
the generator that `tg.manual_seed` seeds, on the CPU, so a seed gives the same weights
on every device.

Why the scale matters: a layer sums fan_in products, so weights of standard deviation
σ give outputs of variance ≈ fan_in · σ² · Var(x). Xavier and Kaiming pick σ so that the
variance neither explodes nor vanishes from layer to layer.
"""

import math

import numpy as np

from .. import backend
from ..random import generator


def _fill(t, values):
    """Write the NumPy array `values` into t's array, in t's dtype, on t's device."""
    t.data[...] = backend.to_device(values.astype(t.dtype, copy=False), t.device)
    t.bump_version()
    return t


def _draw_dtype(t):
    """Draw float32 samples for float32 tensors (no float64 detour), float64 otherwise."""
    return np.float32 if t.dtype == np.float32 else np.float64


def uniform_(t, a=0.0, b=1.0):
    """Fill t with samples of U(a, b)."""
    if a > b:
        raise ValueError(f"uniform_ needs a <= b, got a={a}, b={b}")
    u = generator().random(t.shape, dtype=_draw_dtype(t))
    return _fill(t, a + (b - a) * u)


def normal_(t, mean=0.0, std=1.0):
    """Fill t with samples of N(mean, std²)."""
    if std < 0:
        raise ValueError(f"normal_ needs std >= 0, got std={std}")
    z = generator().standard_normal(t.shape, dtype=_draw_dtype(t))
    return _fill(t, mean + std * z)


def zeros_(t):
    """Fill t with 0."""
    t.data.fill(0)
    t.bump_version()
    return t


def ones_(t):
    """Fill t with 1."""
    t.data.fill(1)
    t.bump_version()
    return t


def calculate_gain(nonlinearity, param=None):
    """The factor by which an activation shrinks the variance, undone by the init:
    1 for linear and sigmoid, 5/3 for tanh, √2 for relu, √(2 / (1 + a²)) for leaky_relu
    with negative slope a (param, default 0.01), 3/4 for selu."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(
        f"unknown nonlinearity {nonlinearity!r}: expected linear, identity, sigmoid, tanh, relu, leaky_relu or selu"
    )


def _fans(t):
    """(fan_in, fan_out) of a weight (out, in, *kernel): in · kernel size, out · kernel size."""
    if t.ndim < 2:
        raise ValueError(f"fan_in and fan_out need a tensor of at least 2 dimensions, got shape {t.shape}")
    receptive_field = math.prod(t.shape[2:])
    return t.shape[1] * receptive_field, t.shape[0] * receptive_field


def xavier_uniform_(t, gain=1.0):
    """Glorot & Bengio (2010): U(−bound, bound) with bound = gain · √(6 / (fan_in + fan_out)),
    so Var = gain² · 2 / (fan_in + fan_out), a compromise between the forward and backward pass."""
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He et al. (2015): U(−bound, bound) with bound = gain · √(3 / fan), where fan is
    fan_in (keeps the forward variance) or fan_out (the backward one) and gain =
    calculate_gain(nonlinearity, a). Linear's default init is a=√5: bound = 1/√fan_in."""
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f'mode must be "fan_in" or "fan_out", got {mode!r}')
    if t.size == 0:  # nothing to fill, and a fan of 0 has no bound
        return t
    fan_in, fan_out = _fans(t)
    fan = fan_in if mode == "fan_in" else fan_out
    bound = calculate_gain(nonlinearity, a) * math.sqrt(3.0 / fan)
    return uniform_(t, -bound, bound)
