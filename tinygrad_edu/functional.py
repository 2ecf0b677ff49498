"""The functional API: activations, one-hot encoding and every loss, as plain functions
of Tensors (`import tinygrad_edu.functional as F`)."""

import math

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
        # whole and small enough for int64: 1e30 or inf would wrap round to -2**63 in the cast
        whole = (array == backend.xp(array).round(array)) & (abs(array) < 2.0**62)
        if not bool(whole.all()):
            bad = array[~whole].ravel()[:6].tolist()
            raise ValueError(f"{what} must be whole numbers (class indices), got {bad}")
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
    classes = backend.xp(labels).arange(num_classes)
    return Tensor((labels[..., None] == classes).astype(np.int64))  # N × C comparisons, no C × C identity


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
    if n and (int(labels.min()) < 0 or int(labels.max()) >= classes):
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
    quadratic = 0.5 * diff * diff
    if delta == math.inf:  # no linear part: its ∞ · 0 would put NaN into the gradient
        return _reduce(quadratic, reduction)
    abs_diff = diff.abs()
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


def kl_div(input, target, *, log_target=False, reduction="mean"):
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
from .ops import conv  # noqa: E402

# Images are (N, C, H, W), as in PyTorch; one image (C, H, W) is taken as a batch of one.
# kernel_size, stride, padding and dilation are an int or a pair (height, width).


def _on_images(op, input, *operands, unbatched_ndim=3, **attrs):
    """op applied to a batch, or to one unbatched input as a batch of one (PyTorch takes
    both); operands that are None (no bias) are left out."""
    if not isinstance(input, Tensor):
        input = Tensor(input)
    operands = [t for t in operands if t is not None]
    if input.ndim == unbatched_ndim:
        return op.apply(input.unsqueeze(0), *operands, **attrs).squeeze(0)
    return op.apply(input, *operands, **attrs)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1):
    """2-D convolution (a cross-correlation, as in PyTorch) with zero padding: input
    (N, C, H, W), weight (O, C, kh, kw), bias (O,) → (N, O, Ho, Wo), where
    Ho = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1 (Wo alike).

    y[n, o, u, v] = bias[o] + Σ_c Σ_ij weight[o, c, i, j] · x[n, c, u·stride + i·dilation, v·stride + j·dilation]
    """
    geometry = {
        "stride": conv.pair(stride, "stride"),
        "padding": conv.pair(padding, "padding", minimum=0),
        "dilation": conv.pair(dilation, "dilation"),
    }
    return _on_images(conv.Conv2d, input, weight, bias, **geometry)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, *, dilation=1):
    """2-D transposed convolution, the adjoint of conv2d in its input (the gradient that
    conv2d sends back to its input): input (N, Cin, H, W), weight (Cin, Cout, kh, kw),
    bias (Cout,) → (N, Cout, Hout, Wout), where
    Hout = (H − 1)·stride − 2·padding + dilation·(kh − 1) + 1 + output_padding (Wout alike).
    output_padding (smaller than stride or dilation) picks among the sizes that conv2d
    maps to the same H; dilation is keyword-only here (PyTorch's groups stands before it)."""
    geometry = {
        "stride": conv.pair(stride, "stride"),
        "padding": conv.pair(padding, "padding", minimum=0),
        "dilation": conv.pair(dilation, "dilation"),
        "output_padding": conv.pair(output_padding, "output_padding", minimum=0),
    }
    return _on_images(conv.ConvTranspose2d, input, weight, bias, **geometry)


def _window_attrs(kernel_size, dilation, padding, stride):
    return {
        "kernel_size": conv.pair(kernel_size, "kernel_size"),
        "dilation": conv.pair(dilation, "dilation"),
        "padding": conv.pair(padding, "padding", minimum=0),
        "stride": conv.pair(stride, "stride"),
    }


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """im2col: every kh × kw window of input (N, C, H, W) as a column of (N, C·kh·kw, L),
    L = Ho·Wo windows in row-major order, rows in the order (c, i, j), as in PyTorch.
    conv2d(x, W) = (W.reshape(O, −1) @ unfold(x)).reshape(N, O, Ho, Wo)."""
    return _on_images(conv.Unfold, input, **_window_attrs(kernel_size, dilation, padding, stride))


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """col2im: columns (N, C·kh·kw, L) summed back into an image (N, C, H, W) of
    output_size (H, W); where windows overlap their values add up. The adjoint of unfold."""
    attrs = _window_attrs(kernel_size, dilation, padding, stride)
    size = conv.pair(output_size, "output_size")
    return _on_images(conv.Fold, input, unbatched_ndim=2, output_size=size, **attrs)


def _pool_attrs(kernel_size, stride, padding):
    kernel_size = conv.pair(kernel_size, "kernel_size")
    stride = kernel_size if stride is None else conv.pair(stride, "stride")
    return {"kernel_size": kernel_size, "stride": stride, "padding": conv.pair(padding, "padding", minimum=0)}


def max_pool2d(input, kernel_size, stride=None, padding=0):
    """The largest value of each kh × kw window: (N, C, H, W) → (N, C, Ho, Wo). stride
    defaults to kernel_size; padding (at most half the kernel) pads with −inf. A tied
    maximum's whole gradient goes to the first of them in the window, as in PyTorch."""
    return _on_images(conv.MaxPool2d, input, **_pool_attrs(kernel_size, stride, padding))


def avg_pool2d(input, kernel_size, stride=None, padding=0):
    """The mean of each kh × kw window: (N, C, H, W) → (N, C, Ho, Wo). stride defaults to
    kernel_size; the zero padding counts in the mean (PyTorch's count_include_pad=True)."""
    return _on_images(conv.AvgPool2d, input, **_pool_attrs(kernel_size, stride, padding))


# ---------------------------------------------------------------------- normalisation, dropout, embedding, attention
from .ops import norm  # noqa: E402


def check_probability(p, what):
    """ValueError naming `what` and p unless p is a number in [0, 1]."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"{what} must be a probability in [0, 1], got {p!r}")


def dropout(input, p=0.5, training=True):
    """Zero each element with probability p and scale the others by 1/(1 − p), so that the
    expected value is unchanged: x·m/(1 − p), m ~ Bernoulli(1 − p), drawn from the
    generator that tg.manual_seed seeds. The identity when not training or p = 0; zeros
    when p = 1. ∂/∂x = m/(1 − p)."""
    check_probability(p, "dropout probability p")
    if not training or p == 0:
        return input
    mask = norm.dropout_mask(input.shape, p, input.device)
    return norm.Dropout.apply(input, mask=mask, p=float(p))


def _check_like(op, name, t, shape, input):
    """ValueError unless the optional tensor `t` (named `name`) has `shape` and input's device."""
    if t is None:
        return
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: {name} must be a Tensor or None, got {type(t).__name__}")
    if t.shape != shape:
        raise ValueError(f"{op}: {name} of shape {t.shape} does not fit input of shape {input.shape}: expected {shape}")
    if t.device != input.device:
        raise ValueError(f"{op}: expected {name} on the input's device {input.device!r}, got {t.device!r}")


def _affine(x_hat, weight, bias, shape):
    """γ·x̂ + β with γ and β (either may be None) reshaped to `shape` to broadcast against x̂."""
    if weight is not None:
        x_hat = x_hat * weight.reshape(shape)
    if bias is not None:
        x_hat = x_hat + bias.reshape(shape)
    return x_hat


def _check_batch_norm(input, running_mean, running_var, weight, bias, training):
    """The number of channels C of input (N, C, *), after checking the other arguments against it."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm expects input of shape (N, C) or (N, C, *), got shape {input.shape}")
    channels = input.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        _check_like("batch_norm", name, t, (channels,), input)
    if not training and (running_mean is None or running_var is None):
        raise ValueError(
            "batch_norm with training=False normalises with the running statistics: expected Tensors for "
            f"running_mean and running_var, got {type(running_mean).__name__} and {type(running_var).__name__}"
        )
    if training and input.size == channels:
        raise ValueError(
            f"batch_norm in training needs more than one value per channel, got input of shape {input.shape}"
        )
    return channels


def _update_running_stat(running, batch, momentum):
    """running ← (1 − momentum)·running + momentum·batch, in place."""
    running.data *= 1 - momentum
    running.data += momentum * batch
    running.bump_version()


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation of input (N, C) or (N, C, *), channel by channel (axis 1):
    y = γ·(x − μ)/√(σ² + ε) + β, with γ = weight and β = bias of shape (C,) (either may be None).

    training=True: μ and σ² are the batch's own mean and (biased) variance over every
    axis but the channels, and the running statistics (C,), where given, are updated in
    place, as in PyTorch: running ← (1 − momentum)·running + momentum·batch, the running
    variance from the unbiased batch variance. training=False: μ and σ² are the running
    statistics, and the gradient is that of a fixed affine map.
    """
    channels = _check_batch_norm(input, running_mean, running_var, weight, bias, training)
    axis = (0,) + tuple(range(2, input.ndim))
    shape = (channels,) + (1,) * (input.ndim - 2)  # broadcasts against (N, C, *)
    if training:
        x_hat = norm.Normalize.apply(input, axis=axis, eps=eps)
        if running_mean is not None:
            _update_running_stat(running_mean, input.data.mean(axis=axis), momentum)
        if running_var is not None:
            _update_running_stat(running_var, input.data.var(axis=axis, ddof=1), momentum)
    else:
        mean = running_mean.astype(input.dtype).reshape(shape)
        var = running_var.astype(input.dtype).reshape(shape)
        x_hat = (input - mean) / (var + eps).sqrt()
    return _affine(x_hat, weight, bias, shape)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation over the last axes, those of `normalized_shape` (an int or a
    tuple), sample by sample: y = γ·(x − μ)/√(σ² + ε) + β, with μ and σ² the mean and
    (biased) variance of each sample's last axes, and γ = weight, β = bias of shape
    normalized_shape (either may be None). input (*, *normalized_shape). Over one axis with
    both γ and β (nn.LayerNorm's default) it is one fused node, LayerNorm; otherwise
    Normalize, then Mul and Add: the same maths (tests/test_fused.py)."""
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    if not shape or input.shape[input.ndim - len(shape) :] != shape:
        raise ValueError(
            f"layer_norm: input of shape {input.shape} does not end in normalized_shape {shape}: "
            f"expected shape (*, {', '.join(map(str, shape))})"
        )
    for name, t in (("weight", weight), ("bias", bias)):
        _check_like("layer_norm", name, t, shape, input)
    if weight is not None and bias is not None and len(shape) == 1:
        return norm.LayerNorm.apply(input, weight, bias, eps=eps)  # fused: its plain twin is the line below
    axis = tuple(range(input.ndim - len(shape), input.ndim))
    return _affine(norm.Normalize.apply(input, axis=axis, eps=eps), weight, bias, shape)


def embedding(input, weight):
    """The rows of weight (num_embeddings, embedding_dim) that the int64 indices `input`
    (any shape) pick: out[i, ...] = weight[input[i, ...]], of shape input.shape +
    (embedding_dim,). The gradient of a row is the sum of the gradients of the places that
    picked it (scattered and added where an index repeats)."""
    if not isinstance(weight, Tensor) or weight.ndim != 2:
        got = f"shape {weight.shape}" if isinstance(weight, Tensor) else type(weight).__name__
        raise ValueError(f"embedding expects weight of shape (num_embeddings, embedding_dim), got {got}")
    indices = (input if isinstance(input, Tensor) else Tensor(input)).data
    count = weight.shape[0]
    if indices.dtype.kind not in "iu":
        raise ValueError(f"embedding: indices must be integers (int64), got dtype {indices.dtype}")
    outside = (indices < 0) | (indices >= count)
    if outside.any():
        raise ValueError(
            f"embedding: index {int(indices[outside].ravel()[0])} is out of range: expected indices in "
            f"[0, {count - 1}] for num_embeddings={count}"
        )
    return weight[backend.to_device(indices.astype(np.int64, copy=False), weight.device)]


def check_gelu_approximate(approximate):
    """ValueError naming `approximate` unless it is "none" or "tanh"."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: unknown approximate={approximate!r}: expected 'none' or 'tanh'")


def gelu(input, approximate="none"):
    """GELU(x) = x·Φ(x), with Φ the cumulative distribution of N(0, 1): x, weighted by the
    probability that a standard normal variable falls below it. ∂/∂x = Φ(x) + x·φ(x).
    approximate="tanh" uses Φ(x) ≈ ½(1 + tanh(√(2/π)(x + 0.044715x³))), as PyTorch does."""
    check_gelu_approximate(approximate)
    if approximate == "none":
        return input * norm.NormalCDF.apply(input)
    inner = (input + 0.044715 * input * input * input) * float(np.sqrt(2 / np.pi))
    return 0.5 * input * (1 + inner.tanh())


def _check_attention_shapes(query, key, value):
    """ValueError unless query (..., L, E), key (..., S, E) and value (..., S, Ev) fit together."""
    shapes = f"query {query.shape}, key {key.shape} and value {value.shape}"
    if min(query.ndim, key.ndim, value.ndim) < 2:
        raise ValueError(f"scaled_dot_product_attention expects (..., L, E), (..., S, E), (..., S, Ev), got {shapes}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise ValueError(
            f"scaled_dot_product_attention: {shapes} do not fit: expected query and key to share E (the last "
            "axis) and key and value to share S (the second-to-last)"
        )
    try:
        np.broadcast_shapes(query.shape[:-2], key.shape[:-2], value.shape[:-2])
    except ValueError:
        raise ValueError(f"scaled_dot_product_attention: the leading axes of {shapes} do not broadcast") from None


def _attention_mask(attn_mask, is_causal, scores):
    """The mask as a Tensor that broadcasts against the scores (..., L, S): bool (True where a
    query may attend a key) or of the scores' dtype (added to them); None for no mask."""
    if is_causal:
        if attn_mask is not None:
            raise ValueError("scaled_dot_product_attention: give attn_mask or is_causal=True, not both")
        length, source_length = scores.shape[-2:]  # query i attends the keys j ≤ i, as in PyTorch
        return Tensor(backend.xp(scores.data).tri(length, source_length, dtype=bool))
    if attn_mask is None:
        return None
    if not isinstance(attn_mask, Tensor):
        attn_mask = Tensor(attn_mask, device=scores.device)
    if attn_mask.dtype != np.bool_ and attn_mask.dtype.kind != "f":
        raise ValueError(f"scaled_dot_product_attention: attn_mask must be bool or float, got {attn_mask.dtype}")
    try:
        fits = np.broadcast_shapes(attn_mask.shape, scores.shape) == scores.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"scaled_dot_product_attention: attn_mask of shape {attn_mask.shape} does not broadcast to the "
            f"scores' shape {scores.shape} (..., L, S)"
        )
    return attn_mask if attn_mask.dtype == np.bool_ else attn_mask.astype(scores.dtype)


def _softmax_of_masked(scores):
    """softmax over the last axis, with zeros (not NaN) in a row that is −inf throughout:
    a query that may attend nothing."""
    blocked = (scores.data == -np.inf).all(axis=-1, keepdims=True)
    if not blocked.any():
        return scores.softmax()
    return where(blocked, 0.0, where(blocked, 0.0, scores).softmax())


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    """Attention: softmax(Q Kᵀ·scale + mask) V, PyTorch's signature and semantics.

    query (..., L, E), key (..., S, E), value (..., S, Ev) → (..., L, Ev); the leading
    axes (batches, heads) broadcast. scale defaults to 1/√E. attn_mask broadcasts to
    (..., L, S): bool marks what may be attended (True), float is added to the scores
    (−inf forbids). is_causal=True lets query i attend keys j ≤ i. A query that may attend
    nothing gets zeros. dropout_p > 0 drops attention weights whenever it is given (pass
    0.0 outside training), as PyTorch's function does. A composition of matmul, where and
    softmax, so a picture shows each step.
    """
    _check_attention_shapes(query, key, value)
    check_probability(dropout_p, "scaled_dot_product_attention: dropout_p")
    scale = query.shape[-1] ** -0.5 if scale is None else float(scale)
    scores = (query * scale) @ key.transpose()
    mask = _attention_mask(attn_mask, is_causal, scores)
    if mask is None:
        weights = scores.softmax()
    else:
        scores = where(mask, scores, -np.inf) if mask.dtype == np.bool_ else scores + mask
        weights = _softmax_of_masked(scores)
    return dropout(weights, dropout_p) @ value
