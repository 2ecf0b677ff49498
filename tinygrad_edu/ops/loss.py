"""Fused losses: one node each, computed from logits (or probabilities) in one pass.

CrossEntropy and BCEWithLogits work from logits through log-sum-exp, so they stay finite
where softmax or sigmoid followed by a log would give log 0 = −inf; BinaryCrossEntropy
clamps its logs at −100 as PyTorch does. Each reduces its per-sample losses itself
(`reduction` is "mean", "sum" or "none"), so a whole loss is one node in a picture.
Backward formulas are Tensor operations, so `create_graph=True` can differentiate them.
Each fused loss has a plain composition of ordinary ops beside it in tests/test_fused.py
(−log_softmax at the labels; BCE of σ(z); the BCE formula), held equal in values and
gradients.
"""

import numpy as np

from .. import backend
from ..autograd import Function, is_grad_enabled, wrap


def reduce_losses(losses, reduction):
    """The per-sample losses (an array) reduced: their mean, their sum, or themselves ("none")."""
    if reduction == "mean":
        return losses.sum() / losses.size  # the same as losses.mean(), which costs several times more on small arrays
    if reduction == "sum":
        return losses.sum()
    return losses


def row_indices(n, like):
    """The row numbers 0, 1, …, n − 1 on the device of the array `like`, as fancy indexing
    pairs them with class indices."""
    return backend.xp(like).arange(n)


def grad_share(grad, reduction, count, shape):
    """The gradient that reaches each per-sample loss: grad / count for "mean", grad for
    "sum", and for "none" grad itself, reshaped to `shape` so that it broadcasts. Works on
    arrays and on Tensors alike."""
    if reduction == "mean":
        return grad * (1 / count)
    if reduction == "sum":
        return grad
    return grad.reshape(shape)


class CrossEntropy(Function):
    """Cross-entropy of logits z (N, C) against class indices y (N,), the attr `target`:

        lossᵢ = logsumexp(zᵢ) − zᵢ[yᵢ] = −ln softmax(zᵢ)[yᵢ]

    reduced over the N samples. Forward computes the softmax once and keeps
    softmax(z) − onehot(y) in `saved`: the gradient, up to its scale.
    """

    formula = "∂lossᵢ/∂zᵢⱼ = softmax(zᵢ)ⱼ − [j = yᵢ]  (÷ N for the mean)"
    reads = ("inputs",)

    def forward(self, logits, target, reduction):
        rows = row_indices(len(target), logits)
        shifted = logits - backend.max_over(logits, (1,), keepdims=True)  # e^(z − max) cannot overflow
        picked = shifted[rows, target]
        probs = np.exp(shifted, out=shifted)  # in place: `shifted` is not needed any more
        total = probs.sum(axis=1)
        probs /= total[:, None]
        probs[rows, target] -= 1  # in place: the probabilities themselves are not needed again
        self.saved = probs
        return reduce_losses(np.log(total) - picked, reduction)

    def backward(self, grad):
        (logits,) = self.inputs
        target, reduction = self.attrs["target"], self.attrs["reduction"]
        n = len(target)
        if is_grad_enabled():  # create_graph: the softmax is recorded, so that this gradient can be differentiated
            one_hot = backend.xp(logits.data).zeros(logits.shape, logits.dtype)
            one_hot[row_indices(n, one_hot), target] = 1
            error = logits.softmax(axis=1) - wrap(one_hot)
        else:  # forward's softmax(z) − onehot(y)
            error = wrap(self.saved)
        return error * grad_share(grad, reduction, n, (n, 1))


class BCEWithLogits(Function):
    """Binary cross-entropy of σ(z) against y, from the logits z (any shape, y alike):

        loss = −[y ln σ(z) + (1 − y) ln(1 − σ(z))] = max(z, 0) − z·y + ln(1 + e^−|z|)

    The right-hand form never takes e of a large positive number nor the log of 0.
    """

    formula = "∂L/∂z = σ(z) − y, ∂L/∂y = −z"
    reads = ("inputs",)

    def forward(self, logits, target, reduction):
        losses = np.maximum(logits, 0) - logits * target + np.log1p(np.exp(-np.abs(logits)))
        return reduce_losses(losses, reduction)

    def backward(self, grad):
        logits, target = self.inputs
        share = grad_share(grad, self.attrs["reduction"], logits.size, logits.shape)
        return (
            (logits.sigmoid() - target) * share if logits.requires_grad else None,
            -logits * share if target.requires_grad else None,
        )


class BinaryCrossEntropy(Function):
    """Binary cross-entropy of probabilities ŷ against y (both in [0, 1], one shape):

        loss = −[y · max(ln ŷ, −100) + (1 − y) · max(ln(1 − ŷ), −100)]

    The clamp at −100 (PyTorch's) keeps ŷ = 0 or 1 finite: the loss is then at most 100.
    One node rather than log ops, so that the gradient at ŷ = 0 or 1 is finite too.
    """

    formula = "∂L/∂ŷ = (ŷ − y) / (ŷ(1 − ŷ)), ∂L/∂y = ln(1 − ŷ) − ln ŷ"
    reads = ("inputs",)

    EPSILON = 1e-12  # PyTorch's floor for ŷ(1 − ŷ) in the gradient

    def forward(self, y_hat, target, reduction):
        with np.errstate(divide="ignore"):  # ln 0 = −inf is expected: the clamp makes it −100
            log_y_hat = np.maximum(np.log(y_hat), -100)
            log_one_minus = np.maximum(np.log1p(-y_hat), -100)
        losses = (target - 1) * log_one_minus - target * log_y_hat
        return reduce_losses(losses, reduction)

    def backward(self, grad):
        y_hat, target = self.inputs
        share = grad_share(grad, self.attrs["reduction"], y_hat.size, y_hat.shape)
        grad_y_hat = grad_target = None
        if y_hat.requires_grad:
            grad_y_hat = (y_hat - target) / (y_hat * (1 - y_hat)).clip(min=self.EPSILON) * share
        if target.requires_grad:
            with np.errstate(divide="ignore"):
                grad_target = ((1 - y_hat).log().clip(min=-100) - y_hat.log().clip(min=-100)) * share
        return grad_y_hat, grad_target
