"""Loss modules: each keeps its options and calls the function of the same loss in
`functional`, so `criterion = nn.CrossEntropyLoss(); loss = criterion(logits, labels)`
is `F.cross_entropy(logits, labels)`. `reduction` ("mean", "sum" or "none") is
keyword-only on every loss, as in PyTorch.
"""

import numbers

import numpy as np

from .. import functional as F
from .module import Module


class _Loss(Module):
    """A loss module: `reduction` is checked when the loss is made, not at its first call."""

    reductions = F.REDUCTIONS

    def __init__(self, *, reduction="mean"):
        super().__init__()
        F.check_reduction(reduction, self.reductions)
        self.reduction = reduction

    def options(self):
        """The options that differ from their defaults, as (name, value) pairs."""
        return [("reduction", self.reduction)] if self.reduction != "mean" else []

    def extra_repr(self):
        return ", ".join(f"{name}={value!r}" for name, value in self.options())


class MSELoss(_Loss):
    """Mean squared error: mean((ŷ − y)²). See F.mse_loss."""

    def forward(self, input, target):
        return F.mse_loss(input, target, reduction=self.reduction)


class L1Loss(_Loss):
    """Mean absolute error: mean(|ŷ − y|). See F.l1_loss."""

    def forward(self, input, target):
        return F.l1_loss(input, target, reduction=self.reduction)


class HuberLoss(_Loss):
    """Huber loss: ½x² where |x| < δ, δ(|x| − ½δ) elsewhere, x = ŷ − y. See F.huber_loss."""

    def __init__(self, delta=1.0, *, reduction="mean"):
        super().__init__(reduction=reduction)
        if not isinstance(delta, numbers.Real):
            raise TypeError(f"HuberLoss: delta must be a number, got {delta!r} (the options are keyword-only)")
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be positive, got {delta!r}")
        self.delta = float(delta)

    def options(self):
        return ([("delta", self.delta)] if self.delta != 1.0 else []) + super().options()

    def forward(self, input, target):
        return F.huber_loss(input, target, self.delta, reduction=self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities: −[y ln ŷ + (1 − y) ln(1 − ŷ)]. See
    F.binary_cross_entropy."""

    def forward(self, input, target):
        return F.binary_cross_entropy(input, target, reduction=self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy of sigmoid(logits), computed stably from the logits. See
    F.binary_cross_entropy_with_logits."""

    def forward(self, input, target):
        return F.binary_cross_entropy_with_logits(input, target, reduction=self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of softmax(logits) (N, C) against class indices (N,) or class
    probabilities (N, C). See F.cross_entropy."""

    def forward(self, input, target):
        return F.cross_entropy(input, target, reduction=self.reduction)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices (N,) under log-probabilities (N, C). See
    F.nll_loss."""

    def forward(self, input, target):
        return F.nll_loss(input, target, reduction=self.reduction)


class KLDivLoss(_Loss):
    """KL(p ‖ q) = Σ p ln(p / q) with input ln q and target p (ln p when log_target=True);
    reduction="batchmean" gives the KL divergence per sample. See F.kl_div."""

    reductions = F.REDUCTIONS + ("batchmean",)

    def __init__(self, *, log_target=False, reduction="mean"):
        super().__init__(reduction=reduction)
        if not isinstance(log_target, (bool, np.bool_)):
            raise TypeError(
                f"KLDivLoss: log_target must be True or False, got {log_target!r} (the options are keyword-only)"
            )
        self.log_target = bool(log_target)

    def options(self):
        return ([("log_target", True)] if self.log_target else []) + super().options()

    def forward(self, input, target):
        return F.kl_div(input, target, log_target=self.log_target, reduction=self.reduction)
