"""tinygrad_edu: a reverse-mode autograd library on NumPy that teaches how neural networks learn."""

from . import data, functional, nn, optim, viz
from .autograd import Function, detect_anomaly, enable_grad, is_grad_enabled, no_grad
from .backend import cuda
from .gradcheck import gradcheck, gradgradcheck, handcheck
from .random import manual_seed
from .tensor import (
    Tensor,
    arange,
    cat,
    eye,
    full,
    ones,
    ones_like,
    rand,
    randn,
    stack,
    tensor,
    where,
    zeros,
    zeros_like,
)
from .viz import draw_graph

__all__ = [
    "Tensor",
    "Function",
    "tensor",
    "zeros",
    "ones",
    "randn",
    "rand",
    "full",
    "eye",
    "zeros_like",
    "ones_like",
    "arange",
    "cat",
    "stack",
    "where",
    "manual_seed",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "gradcheck",
    "gradgradcheck",
    "handcheck",
    "functional",
    "cuda",
    "viz",
    "draw_graph",
    "nn",
    "optim",
    "data",
]
