"""Normalisation layers: BatchNorm1d, BatchNorm2d and LayerNorm, with PyTorch's
arguments, defaults, initialisation (γ = 1, β = 0) and state_dict keys."""

from .. import functional as F
from ..tensor import ones, tensor, zeros
from .module import Module, Parameter


class _BatchNorm(Module):
    """Batch normalisation, channel by channel: y = γ·(x − μ)/√(σ² + ε) + β.

    γ (ones) and β (zeros) are parameters of shape (C,) when affine (β only when bias).
    In training, μ and σ² are the batch's statistics, and the buffers running_mean and
    running_var follow them: running ← (1 − momentum)·running + momentum·batch (momentum
    None: the cumulative average, 1/num_batches_tracked), num_batches_tracked counting the
    batches. After eval(), the running statistics normalise. track_running_stats=False
    keeps no statistics and normalises with the batch's, also in eval.
    """

    ndims = ()  # the numbers of dimensions an input may have
    shapes = ""  # those shapes in words, for the error message

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True, *, bias=True):
        super().__init__()
        if num_features < 1:
            raise ValueError(f"{type(self).__name__} needs num_features >= 1, got {num_features}")
        self.num_features = int(num_features)
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Parameter(ones(self.num_features)) if affine else None
        self.bias = Parameter(zeros(self.num_features)) if affine and bias else None
        tracked = track_running_stats
        self.register_buffer("running_mean", zeros(self.num_features) if tracked else None)
        self.register_buffer("running_var", ones(self.num_features) if tracked else None)
        self.register_buffer("num_batches_tracked", tensor(0) if tracked else None)

    def forward(self, x):
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input of shape {self.shapes} with "
                f"C = {self.num_features}, got shape {x.shape}"
            )
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            self.num_batches_tracked.bump_version()
            if momentum is None:
                momentum = 1 / int(self.num_batches_tracked.item())
        return F.batch_norm(
            x,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            training=self.training or not self.track_running_stats,
            momentum=0.0 if momentum is None else momentum,
            eps=self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"bias={self.bias is not None}, track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) inputs, over N (and L) for each channel."""

    ndims = (2, 3)
    shapes = "(N, C) or (N, C, L)"


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of images (N, C, H, W), over N, H and W for each channel."""

    ndims = (4,)
    shapes = "(N, C, H, W)"


class LayerNorm(Module):
    """Layer normalisation of each sample over its last axes, those of normalized_shape:
    y = γ·(x − μ)/√(σ² + ε) + β, γ (ones) and β (zeros) of shape normalized_shape when
    elementwise_affine (β only when bias=True). The same in training and eval."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True):
        super().__init__()
        shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.normalized_shape = tuple(int(n) for n in shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = Parameter(ones(self.normalized_shape)) if elementwise_affine else None
        self.bias = Parameter(zeros(self.normalized_shape)) if elementwise_affine and bias else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}, "
            f"bias={self.bias is not None}"
        )
