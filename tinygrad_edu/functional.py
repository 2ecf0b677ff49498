"""The functional API: activations, one-hot encoding and every loss, as plain functions
of Tensors (`import tinygrad_edu.functional as F`)."""

import numpy as np

from . import backend
from .tensor import Tensor


def sigmoid(x):
    """σ(x) = 1 / (1 + e⁻ˣ)"""
    return x.sigmoid()


def tanh(x):
    return x.tanh()


def relu(x):
    return x.relu()


def softmax(x, axis=-1):
    """e^xᵢ / Σⱼ e^xⱼ along axis"""
    return x.softmax(axis)


def log_softmax(x, axis=-1):
    """x − logsumexp(x) along axis"""
    return x.log_softmax(axis)


def logsumexp(x, axis=None, keepdims=False):
    """ln Σ eˣ along axis, without overflow"""
    return x.logsumexp(axis, keepdims)


def _class_indices(labels, what):
    """`labels` as an int64 array, checking they are whole numbers (1.5 is not a class)."""
    array = (labels if isinstance(labels, Tensor) else Tensor(labels)).data
    if array.dtype.kind == "f":
        if not bool((array == backend.xp(array).round(array)).all()):
            raise ValueError(f"{what} must be whole numbers (class indices), got {array.ravel()[:6].tolist()}")
    elif array.dtype.kind not in "iu":
        raise ValueError(f"{what} must be integer class indices, got dtype {array.dtype}")
    return array.astype(np.int64)


def one_hot(labels, num_classes=-1):
    """Rows of the identity: one_hot([0, 2], 3) = [[1, 0, 0], [0, 0, 1]] (int64, like
    PyTorch). num_classes=-1 takes the largest label + 1. Shape: labels.shape + (C,)."""
    labels = _class_indices(labels, "one_hot labels")
    if num_classes == -1:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= num_classes):
        raise ValueError(
            f"one_hot labels must lie in [0, {num_classes - 1}] for num_classes={num_classes}, "
            f"got values from {int(labels.min())} to {int(labels.max())}"
        )
    return Tensor(backend.xp(labels).eye(num_classes, dtype=np.int64)[labels])
