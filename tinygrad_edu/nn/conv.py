"""Convolution and pooling layers: Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, with
PyTorch's arguments, defaults, initialisation and state_dict keys ("weight", "bias")."""

import math

from .. import functional as F
from ..ops.conv import pair
from ..tensor import zeros
from . import init
from .layers import sizes
from .module import Module, Parameter


class _ConvNd(Module):
    """What Conv2d and ConvTranspose2d share: the geometry, and PyTorch's initialisation.

    The weight is drawn by kaiming_uniform_ with a = √5, which comes down to
    U(−1/√fan_in, 1/√fan_in), and so is the bias; fan_in = weight.shape[1] · kh · kw
    (in_channels · kh · kw for Conv2d, out_channels · kh · kw for ConvTranspose2d, as in PyTorch).
    """

    def __init__(self, in_channels, out_channels, kernel_size, weight_shape, bias, **geometry):
        super().__init__()
        self.in_channels, self.out_channels = sizes(
            type(self).__name__, in_channels=in_channels, out_channels=out_channels
        )
        self.kernel_size = pair(kernel_size, "kernel_size")
        for name, value in geometry.items():
            setattr(self, name, pair(value, name, minimum=0 if "padding" in name else 1))
        self.weight = Parameter(init.kaiming_uniform_(zeros(*weight_shape, *self.kernel_size), a=math.sqrt(5)))
        bound = 1 / math.sqrt(weight_shape[1] * self.kernel_size[0] * self.kernel_size[1])
        self.bias = Parameter(init.uniform_(zeros(self.out_channels), -bound, bound)) if bias else None

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        for name, default in (("padding", (0, 0)), ("dilation", (1, 1)), ("output_padding", (0, 0))):
            value = getattr(self, name, default)
            if value != default:
                text += f", {name}={value}"
        return text if self.bias is not None else text + ", bias=False"


class Conv2d(_ConvNd):
    """2-D convolution: x (N, in_channels, H, W) → (N, out_channels, Ho, Wo), with weight
    (out_channels, in_channels, kh, kw) and bias (out_channels,); see F.conv2d."""

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        weight_shape = (out_channels, in_channels)
        geometry = {"stride": stride, "padding": padding, "dilation": dilation}
        super().__init__(in_channels, out_channels, kernel_size, weight_shape, bias, **geometry)

    def forward(self, x):
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)


class ConvTranspose2d(_ConvNd):
    """2-D transposed convolution: x (N, in_channels, H, W) → (N, out_channels, Hout, Wout),
    with weight (in_channels, out_channels, kh, kw) and bias (out_channels,); see
    F.conv_transpose2d. output_padding and dilation are keyword-only here."""

    def __init__(
        self, in_channels, out_channels, kernel_size, stride=1, padding=0, bias=True, *, output_padding=0, dilation=1
    ):
        weight_shape = (in_channels, out_channels)
        geometry = {"stride": stride, "padding": padding, "output_padding": output_padding, "dilation": dilation}
        super().__init__(in_channels, out_channels, kernel_size, weight_shape, bias, **geometry)

    def forward(self, x):
        return F.conv_transpose2d(
            x, self.weight, self.bias, self.stride, self.padding, self.output_padding, dilation=self.dilation
        )


class _Pool2d(Module):
    """A pooling layer keeps its arguments as given (stride defaults to kernel_size), as PyTorch's do."""

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The largest value of each window: (N, C, H, W) → (N, C, Ho, Wo); see F.max_pool2d."""

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding)


class AvgPool2d(_Pool2d):
    """The mean of each window, the zero padding counted: (N, C, H, W) → (N, C, Ho, Wo); see F.avg_pool2d."""

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding)
