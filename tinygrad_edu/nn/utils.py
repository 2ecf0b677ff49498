"""Gradient clipping: rescale the gradients so that their joint norm stays under a bound
(clip_grad_norm_), or clip each gradient element into [−clip_value, clip_value]
(clip_grad_value_)."""

import math

from .. import backend
from ..tensor import Tensor


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False):
    """Scale every .grad in place so that the norm of all gradients together is at most
    max_norm (PyTorch's rule), and return that norm as it was before, a Python float
    (PyTorch returns a 0-d tensor).

        total = ‖(‖g₁‖_p, ‖g₂‖_p, ...)‖_p      (the p-norm of all gradients as one vector;
                                                 p = norm_type, float("inf") for the max |g|)
        g ← g · max_norm / (total + 1e-6)       when that factor is below 1

    parameters: a Tensor or an iterable of Tensors (e.g. model.parameters()); those whose
    .grad is None are skipped. Call it between loss.backward() and opt.step().
    error_if_nonfinite=True raises RuntimeError when the total is NaN or infinite (by
    default such a total scales every gradient to NaN or 0, as PyTorch does).
    """
    grads = _gradients(parameters)
    max_norm, norm_type = _check_norms(max_norm, norm_type)
    total = _total_norm([grad.data for grad in grads], norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"the total norm of order {norm_type} of the gradients is {total}, so they cannot be clipped: "
            "find the NaN or inf (tg.detect_anomaly), or pass error_if_nonfinite=False"
        )
    scale = max_norm / (total + 1e-6)  # the 1e-6 keeps a zero total from dividing by zero
    if not scale >= 1:  # NaN scales too (as in PyTorch), so that a NaN gradient cannot pass unseen
        for grad in grads:
            grad.data *= scale
            grad.bump_version()
    return total


def clip_grad_value_(parameters, clip_value):
    """Clip every element of every .grad in place into [−clip_value, clip_value]
    (PyTorch's rule; a NaN stays NaN). Returns None, as PyTorch does.

        g ← min(max(g, −clip_value), clip_value)

    parameters: a Tensor or an iterable of Tensors; those whose .grad is None are skipped.
    clip_value: a number >= 0 (ValueError otherwise). Call it between loss.backward() and
    opt.step().
    """
    grads = _gradients(parameters)
    try:
        clip_value = float(clip_value)
    except (TypeError, ValueError):
        raise ValueError(f"clip_value must be a number, got {clip_value!r}") from None
    _check_at_least_zero("clip_value", clip_value)
    for grad in grads:
        backend.xp(grad.data).clip(grad.data, -clip_value, clip_value, out=grad.data)
        grad.bump_version()


def _gradients(parameters):
    """The .grad Tensors of the parameters that have one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        kind = type(parameters).__name__
        raise TypeError(f"parameters must be a Tensor or an iterable of Tensors, got {kind}") from None
    for i, p in enumerate(parameters):
        if not isinstance(p, Tensor):
            raise TypeError(f"parameters must be Tensors, got {type(p).__name__} at position {i}")
    return [p.grad for p in parameters if p.grad is not None]


def _check_norms(max_norm, norm_type):
    """max_norm as a float >= 0, norm_type as a float > 0 (or inf); ValueError otherwise."""
    try:
        max_norm, norm_type = float(max_norm), float(norm_type)
    except (TypeError, ValueError):
        raise ValueError(f"max_norm and norm_type must be numbers, got {max_norm!r} and {norm_type!r}") from None
    _check_at_least_zero("max_norm", max_norm)
    if not norm_type > 0:
        raise ValueError(f"invalid norm_type: expected norm_type > 0 (or float('inf')), got {norm_type}")
    return max_norm, norm_type


def _check_at_least_zero(name, value):
    """ValueError unless the float value is >= 0 (NaN is not)."""
    if not value >= 0:
        raise ValueError(f"invalid {name}: expected {name} >= 0, got {value}")


def _total_norm(arrays, norm_type):
    """The p-norm of all the arrays' elements together, from each array's own norm."""
    norms = [float(backend.xp(a).linalg.norm(a.ravel(), ord=norm_type)) for a in arrays if a.size]
    if not norms:
        return 0.0
    if math.isinf(norm_type):
        return max(norms)
    return math.fsum(n**norm_type for n in norms) ** (1 / norm_type)
