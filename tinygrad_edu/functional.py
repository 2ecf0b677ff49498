"""The functional API: activations, one-hot encoding and every loss, as plain functions
of Tensors (`import tinygrad_edu.functional as F`)."""

import numpy as np

from . import backend
from .ops import loss as fused
from .tensor import Tensor, where


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
    return array.astype(np.int64, copy=False)


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


# ---------------------------------------------------------------------- losses
# Every loss takes reduction="mean" (the average over the elements, or over the N samples
# for cross_entropy and nll_loss), "sum" or "none" (the per-element losses), as in PyTorch.
# Input and target must have one shape: nothing is broadcast, because (N, 1) predictions
# against a (N,) target would broadcast to an (N, N) loss that is silently wrong.

REDUCTIONS = ("mean", "sum", "none")


def check_reduction(reduction, allowed=REDUCTIONS):
    """ValueError naming `reduction` and the allowed ones unless it is one of them."""
    if not isinstance(reduction, str) or reduction not in allowed:
        raise ValueError(f"unknown reduction {reduction!r}: expected one of {', '.join(map(repr, allowed))}")


def _reduce(losses, reduction):
    """The losses (a Tensor) reduced: their mean, their sum, or themselves ("none")."""
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _input_and_target(input, target, name):
    """input and target as Tensors of one shape. A target that is not a Tensor (an array or
    a list) takes the input's dtype and device, and so does an integer Tensor target."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    if not isinstance(target, Tensor):
        target = Tensor(target, dtype=input.dtype, device=input.device)
    elif target.dtype.kind not in "fc":
        target = target.astype(input.dtype)
    if input.shape != target.shape:
        raise ValueError(
            f"{name}: input of shape {input.shape} and target of shape {target.shape} differ; expected one "
            "shape (nothing is broadcast: reshape one of them, e.g. predictions.reshape(-1) for a (N,) target)"
        )
    return input, target


def _check_probabilities(t, what, name):
    data = t.data
    # two reductions and no temporary arrays; written with >= and <= so that nan fails too
    if data.size and not (data.min() >= 0 and data.max() <= 1):
        outside = data[~((data >= 0) & (data <= 1))]
        raise ValueError(f"{name}: {what} must be probabilities in [0, 1], got {outside.ravel()[:6].tolist()}")


def _labels(target, scores, name):
    """`target` as int64 class indices (N,) on the device of `scores` (N, C), checked: one
    label per row, each a whole number in [0, C − 1]."""
    labels = _class_indices(target, f"{name} target")
    n, classes = scores.shape
    if labels.shape != (n,):
        raise ValueError(
            f"{name}: input of shape {scores.shape} has N = {n} rows, so it needs {n} class indices "
            f"(target shape ({n},)), got target of shape {labels.shape}"
        )
    # one reduction checks both ends: viewed as unsigned, a negative label exceeds every class
    if n and int(labels.view(np.uint64).max()) >= classes:
        raise ValueError(
            f"{name}: class indices must lie in [0, {classes - 1}] for C = {classes} classes, "
            f"got values from {int(labels.min())} to {int(labels.max())}"
        )
    return backend.to_device(labels, scores.device)


def _check_scores(scores, name, what):
    if not isinstance(scores, Tensor):
        scores = Tensor(scores)
    if scores.ndim != 2:
        raise ValueError(f"{name} expects {what} of shape (N, C), got shape {scores.shape}")
    return scores


def mse_loss(input, target, *, reduction="mean"):
    """Mean squared error: mean((ŷ − y)²); ∂/∂ŷ = 2(ŷ − y)/n."""
    check_reduction(reduction)
    input, target = _input_and_target(input, target, "mse_loss")
    return _reduce((input - target) ** 2, reduction)


def l1_loss(input, target, *, reduction="mean"):
    """Mean absolute error: mean(|ŷ − y|); ∂/∂ŷ = sign(ŷ − y)/n."""
    check_reduction(reduction)
    input, target = _input_and_target(input, target, "l1_loss")
    return _reduce((input - target).abs(), reduction)


def huber_loss(input, target, delta=1.0, *, reduction="mean"):
    """Huber loss of x = ŷ − y (PyTorch's HuberLoss): ½x² where |x| < δ, δ(|x| − ½δ)
    elsewhere. Quadratic near 0, linear in the tails: the gradient is x, capped at ±δ."""
    check_reduction(reduction)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta!r}")
    delta = float(delta)  # a NumPy float64 would widen a float32 loss
    input, target = _input_and_target(input, target, "huber_loss")
    diff = input - target
    abs_diff = diff.abs()
    quadratic = 0.5 * diff * diff
    linear = delta * (abs_diff - 0.5 * delta)
    return _reduce(where(abs_diff < delta, quadratic, linear), reduction)


def binary_cross_entropy(input, target, *, reduction="mean"):
    """Binary cross-entropy of probabilities ŷ (e.g. a sigmoid's output) against targets y
    in [0, 1]: −[y ln ŷ + (1 − y) ln(1 − ŷ)], each log clamped at −100 like PyTorch."""
    check_reduction(reduction)
    input, target = _input_and_target(input, target, "binary_cross_entropy")
    _check_probabilities(input, "input", "binary_cross_entropy")
    _check_probabilities(target, "target", "binary_cross_entropy")
    return fused.BinaryCrossEntropy.apply(input, target, reduction=reduction)


def binary_cross_entropy_with_logits(logits, target, *, reduction="mean"):
    """binary_cross_entropy(sigmoid(z), y) computed from the logits z, stably:
    max(z, 0) − z·y + ln(1 + e^−|z|); ∂/∂z = σ(z) − y."""
    check_reduction(reduction)
    logits, target = _input_and_target(logits, target, "binary_cross_entropy_with_logits")
    _check_probabilities(target, "target", "binary_cross_entropy_with_logits")
    return fused.BCEWithLogits.apply(logits, target, reduction=reduction)


def cross_entropy(logits, target, *, reduction="mean"):
    """Cross-entropy of softmax(logits) against the target, from the logits (N, C).

    target is either class indices (N,) (ints, or floats that are whole numbers):
    lossᵢ = −ln softmax(zᵢ)[yᵢ], one fused node; or class probabilities (N, C), e.g.
    one_hot rows: lossᵢ = −Σⱼ yᵢⱼ ln softmax(zᵢ)ⱼ. "mean" averages over the N samples.
    ∂/∂z = (softmax(z) − one_hot(y)) / N.
    """
    check_reduction(reduction)
    logits = _check_scores(logits, "cross_entropy", "logits")
    if (target.data.ndim if isinstance(target, Tensor) else np.ndim(target)) == 2:
        logits, target = _input_and_target(logits, target, "cross_entropy")
        return _reduce(-(target * logits.log_softmax(axis=1)).sum(axis=1), reduction)
    labels = _labels(target, logits, "cross_entropy")
    return fused.CrossEntropy.apply(logits, target=labels, reduction=reduction)


def nll_loss(log_probs, target, *, reduction="mean"):
    """Negative log-likelihood of class indices y (N,) under log-probabilities (N, C), e.g.
    log_softmax's output: lossᵢ = −log_probs[i, yᵢ]. cross_entropy = nll_loss ∘ log_softmax."""
    check_reduction(reduction)
    log_probs = _check_scores(log_probs, "nll_loss", "log-probabilities")
    labels = _labels(target, log_probs, "nll_loss")
    rows = fused.row_indices(len(labels), labels)
    return _reduce(-log_probs[rows, labels], reduction)


def kl_div(input, target, log_target=False, *, reduction="mean"):
    """Kullback-Leibler divergence KL(p ‖ q) = Σ p ln(p / q), PyTorch's way round: input is
    ln q (log-probabilities), target is p (probabilities; ln p when log_target=True).

    Pointwise p (ln p − ln q), with p ln p = 0 where p = 0. reduction="batchmean" divides
    the sum by N = input.shape[0]: the true KL divergence per sample ("mean" divides by
    every element, as PyTorch's default does).
    """
    check_reduction(reduction, REDUCTIONS + ("batchmean",))
    input, target = _input_and_target(input, target, "kl_div")
    if log_target:
        losses = target.exp() * (target - input)
    else:
        # ln is taken of 1 where p = 0, so that no −inf enters the graph (0 · −inf is nan)
        losses = target * (where(target > 0, target, 1.0).log() - input)
    if reduction == "batchmean":
        return losses.sum() / (input.shape[0] if input.ndim else 1)
    return _reduce(losses, reduction)


# ---------------------------------------------------------------------- convolution and pooling


# ---------------------------------------------------------------------- normalisation, dropout, embedding, attention
