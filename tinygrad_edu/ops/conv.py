"""Convolution and pooling on image batches (N, C, H, W): conv2d, conv_transpose2d,
unfold and fold (im2col and col2im), max and average pooling.

One idea serves them all: a kh × kw window slides over the image, and each output pixel
is made from one window. `backend.sliding_windows` shows every window as a view, without
a copy. Unfold copies the windows once into columns, and a convolution is then one matrix
product (GEMM) of the flattened weight with the columns. Fold adds columns back into an
image one kernel offset at a time: kh·kw strided adds, never a loop over pixels. Pooling
works on the same views, offset by offset.

Speed is fenced here; each choice was measured on a LeNet training step at batch 64:
- Inside the convolutions an image is laid out batch-last, (C, H, W, N) (one copy of the
  input unless it is so already), and the columns (C, kh, kw, Ho, Wo, N): the copy into
  them then runs along rows of Wo·N numbers, where NumPy's cost per row would dominate
  rows of Wo (LeNet's second layer 1.1 → 0.5 ms with its GEMM, the first 1.1 → 0.8);
  (C·kh·kw, Ho·Wo·N) is a reshape without a copy, and a convolution of the whole batch
  is one GEMM.
- The GEMM's product (O, Ho·Wo·N) is handed on as the (N, O, Ho, Wo) view of that
  batch-last memory, not copied into NCHW order: the ops after it (relu, pooling, the
  next unfold) read any strides, and in backward the gradient (O, Ho·Wo·N) that the
  GEMMs want is again a reshape without a copy.
- The transposed convolution (the input's gradient) puts the batch axis last too, so
  each of col2im's kh·kw strided adds walks rows of W·N numbers instead of W: LeNet's
  second layer 1.1 → 0.8 ms. Together with the layout above the step went from 1.07–1.2
  to about 0.9 × the hand-written one (which lays its images out (C, N, H, W)).
- Max pooling keeps, for each output, which offset of its window held the maximum (an
  array of small integers, the size of the output), not a mask the size of the input,
  and tracks the maximum with np.maximum rather than masked copies (which are 10× slower
  on random masks): 0.7 ms forward and backward, against 6-7 ms for a mask. Its forward
  applies NaN's rule only where the output holds a NaN (one look, as np.maximum carries
  NaN) and views each offset's bool winners as uint8 without a copy; where the windows
  tile the image (2 × 2, stride 2) backward writes each offset's share straight into
  place, with no zeros to add onto: LeNet's first pooling 0.5 → 0.25 ms forward and
  0.45 → 0.17 ms backward, the step 2-6% faster (benchmarks/conv.py, same run).
"""

import itertools
import math

import numpy as np

from .. import backend
from ..autograd import Function


# ---------------------------------------------------------------------- geometry and checks
def pair(value, name, minimum=1):
    """`value` (an int, or a pair of ints for height and width) as a pair of ints. Not ints:
    TypeError; fewer or more than two, or below `minimum`: ValueError."""
    values = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
        raise TypeError(f"{name} must be an int or a pair of ints, got {value!r}")
    if len(values) != 2 or min(values) < minimum:
        raise ValueError(f"{name} must be an int or a pair of ints, each at least {minimum}, got {value!r}")
    return int(values[0]), int(values[1])


def conv_output_size(size, kernel_size, stride, padding, dilation):
    """(Ho, Wo): how many windows fit along each axis of an image of `size` (H, W),
    ⌊(H + 2p − d(k − 1) − 1) / s⌋ + 1."""
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) // s + 1 for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation)
    )


def _restoring_padding(size, kernel_size, stride, padding, dilation):
    """The output_padding with which conv_transpose2d gives back `size` (H, W) from the
    output of conv2d: the rows and columns past conv2d's last window."""
    return tuple(
        (n + 2 * p - d * (k - 1) - 1) % s for n, k, s, p, d in zip(size, kernel_size, stride, padding, dilation)
    )


def _check_ndim(op, array, ndim, layout):
    if array.ndim != ndim:
        raise ValueError(f"{op} expects {layout}, got shape {array.shape}")


def _check_image(op, x):
    _check_ndim(op, x, 4, "an input of shape (N, C, H, W), or (C, H, W) for one image")


def _check_fits(op, image_shape, kernel_size, padding, dilation=(1, 1)):
    """ValueError naming the shapes unless the (dilated) kernel fits inside the padded image."""
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel_size, dilation))
    padded = tuple(n + 2 * p for n, p in zip(image_shape[-2:], padding))
    if span[0] > padded[0] or span[1] > padded[1]:
        dilated = f" (dilated to {span[0]}×{span[1]})" if span != tuple(kernel_size) else ""
        raise ValueError(
            f"{op}: kernel of size {kernel_size[0]}×{kernel_size[1]}{dilated} is larger than the padded input "
            f"{padded[0]}×{padded[1]} (input of shape {image_shape}, padding {padding})"
        )


def _check_channels(op, x, weight, weight_axis, bias):
    """ValueError unless x's channels are the weight's and the bias has one value per output channel."""
    _check_image(op, x)
    _check_ndim(op, weight, 4, "a weight of 4 dimensions")
    if x.shape[1] != weight.shape[weight_axis]:
        raise ValueError(
            f"{op}: input of shape {x.shape} has {x.shape[1]} channels, but the weight of shape {weight.shape} "
            f"expects {weight.shape[weight_axis]} (its axis {weight_axis})"
        )
    out_channels = weight.shape[1 - weight_axis]
    if bias is not None and bias.shape != (out_channels,):
        raise ValueError(f"{op}: bias must have shape ({out_channels},) for weight {weight.shape}, got {bias.shape}")


def _check_pooling(op, x, kernel_size, padding):
    """PyTorch's rules: a 4-D input, padding at most half the kernel, the kernel inside the padded input."""
    _check_image(op, x)
    if padding[0] > kernel_size[0] // 2 or padding[1] > kernel_size[1] // 2:
        raise ValueError(f"{op}: padding {padding} must be at most half the kernel size {kernel_size}")
    _check_fits(op, x.shape, kernel_size, padding)


# ---------------------------------------------------------------------- windows, im2col, col2im
def _offsets(kernel_size):
    """The kernel offsets (i, j) in row-major order (the order in which PyTorch scans a
    window): offset number k is (k // kw, k % kw)."""
    return list(itertools.product(range(kernel_size[0]), range(kernel_size[1])))


def _windows(x, kernel_size, stride, padding, dilation=(1, 1), fill=0.0):
    """Every window of x (N, C, H, W), padded with `fill`, as a view (N, C, kh, kw, Ho, Wo)."""
    if padding != (0, 0):
        (ph, pw), (h, w) = padding, x.shape[2:]
        # full_like keeps x's memory order (a batch-last image stays so)
        padded = backend.xp(x).full_like(x, fill, shape=x.shape[:2] + (h + 2 * ph, w + 2 * pw))
        padded[:, :, ph : ph + h, pw : pw + w] = x
        x = padded
    return backend.sliding_windows(x, kernel_size, stride, dilation)


def in_batch_last_memory(x):
    """x (N, C, H, W) as the (N, C, H, W) view of memory laid out (C, H, W, N): a copy unless
    it is so already."""
    return backend.xp(x).ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def im2col(x, kernel_size, stride, padding, dilation):
    """unfold's columns, copied once into the layout the GEMMs want: (C, kh, kw, Ho, Wo, N),
    contiguous, so that (C·kh·kw, Ho·Wo·N) is a reshape without a copy. x is first laid out
    batch-last (C, H, W, N), so that the copy runs along rows of Wo·N numbers."""
    windows = _windows(in_batch_last_memory(x), kernel_size, stride, padding, dilation)
    return backend.xp(x).ascontiguousarray(windows.transpose(1, 2, 3, 4, 5, 0))


def col2im(values_at, shape, kernel_size, stride, padding, dilation, like, batch_last=False):
    """An image of `shape` (N, C, H, W) of `like`'s dtype and device, zero but for
    values_at(i, j), an (N, C, Ho, Wo) array, added at kernel offset (i, j) of every
    window: kh·kw strided adds, overlapping windows summing up (fold, and the adjoints of
    the convolution and of pooling).

    Its memory is channel-major (C, N, H, W), like the columns, so that each add walks
    both arrays in the same order; with batch_last it is (C, H, W, N), for columns laid
    out so, and each add then runs along rows of W·N numbers rather than W. The result is
    its (N, C, H, W) view."""
    n, c, h, w = shape
    (ph, pw) = padding
    xp = backend.xp(like)
    if batch_last:
        padded = xp.zeros((c, h + 2 * ph, w + 2 * pw, n), dtype=like.dtype).transpose(3, 0, 1, 2)
    else:
        padded = xp.zeros((c, n, h + 2 * ph, w + 2 * pw), dtype=like.dtype).transpose(1, 0, 2, 3)
    windows = backend.sliding_windows(padded, kernel_size, stride, dilation, writeable=True)
    for i, j in _offsets(kernel_size):
        windows[:, :, i, j] += values_at(i, j)
    return padded[:, :, ph : ph + h, pw : pw + w]


def _geometry(attrs):
    """The attributes that place the windows: stride, padding, dilation."""
    return {"stride": attrs["stride"], "padding": attrs["padding"], "dilation": attrs["dilation"]}


def _without(attrs, name):
    """The attributes but one: what the adjoint op takes of this op's attributes."""
    return {key: value for key, value in attrs.items() if key != name}


# ---------------------------------------------------------------------- convolution
class Conv2d(Function):
    """2-D convolution (as in PyTorch, a cross-correlation) of x (N, C, H, W) with a weight
    W (O, C, kh, kw) and a bias b (O,), zero padding p, stride s, dilation d:

        y[n, o, u, v] = b[o] + Σ_c Σ_ij W[o, c, i, j] · x_pad[n, c, u·s + i·d, v·s + j·d]

    y (N, O, Ho, Wo), Ho = ⌊(H + 2p − d(kh − 1) − 1) / s⌋ + 1. Fused: unfold once, one
    GEMM with the flattened weight, the bias added in place. The plain composition:

        conv2d(x, W, b) = (W.reshape(O, −1) @ unfold(x)).reshape(N, O, Ho, Wo) + b.reshape(1, O, 1, 1)

    The input's gradient is a transposed convolution, the weight's a correlation of the
    gradient with the input (ConvWeightGrad); both are Functions, so they differentiate again.
    """

    formula = "∂/∂x = conv_transpose2d(G, W), ∂/∂W = Σₙ G · unfold(x)ᵀ, ∂/∂b = Σ G"
    reads = ("inputs",)

    def forward(self, x, weight, bias=None, *, stride, padding, dilation):
        _check_channels("conv2d", x, weight, 1, bias)
        _check_fits("conv2d", x.shape, weight.shape[2:], padding, dilation)
        cols = im2col(x, weight.shape[2:], stride, padding, dilation)  # (C, kh, kw, Ho, Wo, N)
        self.saved = cols  # the weight's gradient needs them again
        out_channels = weight.shape[0]
        out = weight.reshape(out_channels, -1) @ cols.reshape(math.prod(cols.shape[:3]), -1)  # (O, Ho·Wo·N)
        if bias is not None:
            out += bias[:, None]
        return out.reshape((out_channels,) + cols.shape[3:]).transpose(3, 0, 1, 2)

    def backward(self, grad):
        x, weight, *bias = self.inputs
        geometry = _geometry(self.attrs)
        grad_x = grad_weight = grad_bias = None
        if x.requires_grad:
            restore = _restoring_padding(x.shape[2:], weight.shape[2:], **geometry)
            grad_x = ConvTranspose2d.apply(grad, weight, output_padding=restore, **geometry)
        if weight.requires_grad:
            grad_weight = ConvWeightGrad.apply(grad, x, kernel_size=weight.shape[2:], cols=self.saved, **geometry)
        if bias and bias[0].requires_grad:
            grad_bias = grad.sum(axis=(0, 2, 3))
        return (grad_x, grad_weight, grad_bias) if bias else (grad_x, grad_weight)


class ConvTranspose2d(Function):
    """2-D transposed convolution of x (N, Cin, H, W) with a weight W (Cin, Cout, kh, kw)
    and a bias b (Cout,): each input pixel adds W[c] times its value onto a kh × kw patch
    of the output, the patches placed s apart; padding p crops the result. The adjoint of
    conv2d in its input.

        y (N, Cout, Hout, Wout), Hout = (H − 1)s − 2p + d(kh − 1) + 1 + output_padding

    Fused: one GEMM, then fold's strided adds, the bias added in place. The plain composition:

        conv_transpose2d(x, W, b) = fold(W.reshape(Cin, −1).T @ x.reshape(N, Cin, H·W),
                                         (Hout, Wout), (kh, kw), d, p, s) + b.reshape(1, Cout, 1, 1)
    """

    formula = "∂/∂x = conv2d(G, W), ∂/∂W = Σₙ x · unfold(G)ᵀ, ∂/∂b = Σ G"
    reads = ("inputs",)

    def forward(self, x, weight, bias=None, *, stride, padding, dilation, output_padding):
        _check_channels("conv_transpose2d", x, weight, 0, bias)
        n, in_channels, h, w = x.shape
        out_channels = weight.shape[1]
        kernel_size = weight.shape[2:]
        out_size = tuple(
            (m - 1) * s - 2 * p + d * (k - 1) + 1 + extra
            for m, k, s, p, d, extra in zip((h, w), kernel_size, stride, padding, dilation, output_padding)
        )
        _check_transposed_size(x.shape, weight.shape, out_size, stride, dilation, output_padding)
        # the batch axis last, (Cin, H·W·N): one copy of x, after which col2im's kh·kw adds
        # each run along rows of W·N numbers, not W (LeNet's input gradient 1.1 → 0.8 ms)
        rows = in_batch_last_memory(x).transpose(1, 2, 3, 0).reshape(in_channels, -1)  # (Cin, H·W·N)
        cols = (weight.reshape(in_channels, -1).T @ rows).reshape((out_channels,) + kernel_size + (h, w, n))
        out = col2im(
            lambda i, j: cols[:, i, j].transpose(3, 0, 1, 2),
            (n, out_channels) + out_size,
            kernel_size,
            stride,
            padding,
            dilation,
            like=x,
            batch_last=True,
        )
        if bias is not None:
            out += bias[:, None, None]
        return out

    def backward(self, grad):
        x, weight, *bias = self.inputs
        geometry = _geometry(self.attrs)
        grad_x = Conv2d.apply(grad, weight, **geometry) if x.requires_grad else None
        grad_weight = None
        if weight.requires_grad:  # conv2d from the output's space back to x's, seen from its weight
            grad_weight = ConvWeightGrad.apply(x, grad, kernel_size=weight.shape[2:], **geometry)
        grad_bias = grad.sum(axis=(0, 2, 3)) if bias and bias[0].requires_grad else None
        return (grad_x, grad_weight, grad_bias) if bias else (grad_x, grad_weight)


def _check_transposed_size(x_shape, weight_shape, out_size, stride, dilation, output_padding):
    """PyTorch's rules for conv_transpose2d: output_padding below the stride or the dilation,
    and an output of at least one pixel."""
    for extra, s, d in zip(output_padding, stride, dilation):
        if extra < 0 or extra >= max(s, d):
            raise ValueError(
                f"conv_transpose2d: output_padding {output_padding} must be smaller than the stride {stride} "
                f"or the dilation {dilation}"
            )
    if min(out_size) < 1:
        raise ValueError(
            f"conv_transpose2d: input of shape {x_shape} with weight {weight_shape} gives an output of size "
            f"{out_size[0]}×{out_size[1]}: the padding is too large"
        )


class ConvWeightGrad(Function):
    """The gradient of conv2d(x, W) with respect to W, for the gradient G (N, O, Ho, Wo)
    that reaches its output and its input x (N, C, H, W):

        ∂L/∂W[o, c, i, j] = Σ_n Σ_uv G[n, o, u, v] · x_pad[n, c, u·s + i·d, v·s + j·d]

    one GEMM of G (O, N·Ho·Wo) with unfold(x)ᵀ (N·Ho·Wo, C·kh·kw), giving (O, C, kh, kw).
    A Function of its own, bilinear in (G, x), so that conv2d's backward can be
    differentiated again. `cols` is x's im2col when conv2d's forward made it already.
    """

    formula = "∂/∂G = conv2d(x, H), ∂/∂x = conv_transpose2d(G, H)"
    reads = ("inputs",)

    def forward(self, grad_out, x, *, kernel_size, stride, padding, dilation, cols=None):
        if cols is None:
            cols = im2col(x, kernel_size, stride, padding, dilation)
        out_channels = grad_out.shape[1]
        rows = grad_out.transpose(1, 2, 3, 0).reshape(out_channels, -1)  # (O, Ho·Wo·N): free when G is batch-last
        return (rows @ cols.reshape(math.prod(cols.shape[:3]), -1).T).reshape(
            (out_channels, x.shape[1]) + tuple(kernel_size)
        )

    def backward(self, grad):
        grad_out, x = self.inputs
        geometry = _geometry(self.attrs)
        d_grad_out = Conv2d.apply(x, grad, **geometry) if grad_out.requires_grad else None
        d_x = None
        if x.requires_grad:
            restore = _restoring_padding(x.shape[2:], self.attrs["kernel_size"], **geometry)
            d_x = ConvTranspose2d.apply(grad_out, grad, output_padding=restore, **geometry)
        return d_grad_out, d_x


# ---------------------------------------------------------------------- unfold and fold
class Unfold(Function):
    """im2col: every kh × kw window of x (N, C, H, W) as a column, (N, C·kh·kw, L) with
    L = Ho·Wo windows in row-major order and the rows ordered (c, i, j), as PyTorch's."""

    formula = "∂/∂x = fold(G): each column's gradient added back where its window lay"
    reads = ()

    def forward(self, x, *, kernel_size, dilation, padding, stride):
        _check_image("unfold", x)
        _check_fits("unfold", x.shape, kernel_size, padding, dilation)
        cols = im2col(x, kernel_size, stride, padding, dilation)
        c, kh, kw, ho, wo, n = cols.shape
        return cols.reshape(c * kh * kw, ho * wo, n).transpose(2, 0, 1)

    def backward(self, grad):
        (x,) = self.inputs
        return Fold.apply(grad, output_size=x.shape[2:], **self.attrs)


class Fold(Function):
    """col2im: columns (N, C·kh·kw, L) summed back into an image (N, C, H, W) of
    `output_size` (H, W), where overlapping windows add up. The adjoint of unfold (not its
    inverse: fold(unfold(x)) counts each pixel once per window that holds it)."""

    formula = "∂/∂cols = unfold(G)"
    reads = ()

    def forward(self, cols, *, output_size, kernel_size, dilation, padding, stride):
        _check_ndim("fold", cols, 3, "an input of shape (N, C·kh·kw, L), or (C·kh·kw, L) for one image")
        n, rows, blocks = cols.shape
        _check_fits("fold", tuple(output_size), kernel_size, padding, dilation)
        size = conv_output_size(tuple(output_size), kernel_size, stride, padding, dilation)
        per_channel = kernel_size[0] * kernel_size[1]
        if rows % per_channel or blocks != size[0] * size[1]:
            raise ValueError(
                f"fold: input of shape {cols.shape} does not fit: expected (N, C·{per_channel}, {size[0] * size[1]}) "
                f"for kernel_size {kernel_size} and output_size {tuple(output_size)} ({size[0]}×{size[1]} windows)"
            )
        columns = cols.reshape((n, rows // per_channel) + tuple(kernel_size) + size)
        shape = (n, rows // per_channel) + tuple(output_size)
        return col2im(lambda i, j: columns[:, :, i, j], shape, kernel_size, stride, padding, dilation, like=cols)

    def backward(self, grad):
        return Unfold.apply(grad, **_without(self.attrs, "output_size"))


# ---------------------------------------------------------------------- pooling
def _argmax_dtype(kernel_size):
    """The smallest unsigned integer type that numbers every offset of a window."""
    return np.min_scalar_type(kernel_size[0] * kernel_size[1] - 1)


def _running_max(windows, kernel_size, nan_wins):
    """(the maximum of each window, the offset where it was first reached) for windows
    (N, C, kh, kw, Ho, Wo), by a running maximum over the offsets in PyTorch's scan order.
    With nan_wins a NaN beats every number (and a later NaN an earlier one)."""
    xp = backend.xp(windows)
    best = xp.copy(windows[:, :, 0, 0], order="K")  # "K": keep x's memory order
    argmax = xp.zeros_like(best, dtype=_argmax_dtype(kernel_size))
    wins = xp.empty_like(best, dtype=bool)
    for k, (i, j) in enumerate(_offsets(kernel_size)[1:], 1):
        candidate = windows[:, :, i, j]
        xp.greater(candidate, best, out=wins)  # strictly: the first of tied maxima keeps its place
        if nan_wins:
            wins |= xp.isnan(candidate)
        xp.maximum(best, candidate, out=best)
        # k grows, so the last offset that won is the largest: a max, not a masked copy (10×
        # slower); bool viewed as uint8 is 0 or 1 without a copy
        xp.maximum(argmax, wins.view(np.uint8) * argmax.dtype.type(k), out=argmax)
    return best, argmax


class MaxPool2d(Function):
    """The largest value of each kh × kw window of x (N, C, H, W), the padding −inf:
    (N, C, Ho, Wo). Forward keeps, for each output, the offset in its window of the value
    it took (`saved`: small integers, the output's size); on a tie the first in the window
    wins, and a NaN wins over numbers, as in PyTorch. Without ties, the plain composition:

        max_pool2d(x) = unfold(x.reshape(N·C, 1, H, W) padded with −inf).max(axis=1).reshape(N, C, Ho, Wo)
    """

    formula = "∂/∂x = G sent to the position of each window's maximum (the first on a tie), 0 elsewhere"
    reads = ()

    def forward(self, x, *, kernel_size, stride, padding):
        _check_pooling("max_pool2d", x, kernel_size, padding)
        windows = _windows(x, kernel_size, stride, padding, fill=-np.inf)
        best, argmax = _running_max(windows, kernel_size, nan_wins=False)
        # np.maximum carries any NaN into `best`, so one look at the output finds them all;
        # only then is the pass made again with NaN's rule, which costs two more per offset
        if backend.xp(x).isnan(best).any():
            best, argmax = _running_max(windows, kernel_size, nan_wins=True)
        self.saved = argmax
        return best

    def backward(self, grad):
        (x,) = self.inputs
        return MaxPoolScatter.apply(grad, argmax=self.saved, input_shape=x.shape, **self.attrs)


class MaxPoolScatter(Function):
    """The gradient of max pooling: G (N, C, Ho, Wo) sent into a zero image of the
    input's shape (N, C, H, W), each value to its window's maximum (offset `argmax`), adding
    where overlapping windows share one."""

    formula = "∂/∂G = the gradient at each window's maximum (MaxPoolGather)"
    reads = ()

    def forward(self, grad, *, argmax, input_shape, kernel_size, stride, padding):
        if stride == kernel_size and padding == (0, 0):
            return _scatter_to_tiles(grad, argmax, input_shape, kernel_size)
        kw = kernel_size[1]
        return col2im(
            lambda i, j: grad * (argmax == i * kw + j), input_shape, kernel_size, stride, padding, (1, 1), grad
        )

    def backward(self, grad):
        return MaxPoolGather.apply(grad, **_without(self.attrs, "input_shape"))


def _scatter_to_tiles(grad, argmax, input_shape, kernel_size):
    """MaxPoolScatter where the windows tile the image (stride = kernel size, no padding):
    each pixel lies in one window at most, so each offset's share is written straight into
    its place, one multiply per offset, with no zeros to add onto and no adds (as col2im
    needs where windows overlap). Its memory is laid out as the pooled input's (argmax's)."""
    xp = backend.xp(grad)
    (kh, kw), (ho, wo) = kernel_size, grad.shape[2:]
    if _axis_order(grad) != _axis_order(argmax):
        # one copy into argmax's memory order (a gradient that comes through a flatten is
        # batch-major), so that each multiply below walks its three arrays in one order:
        # LeNet's second pooling 0.38 → 0.09 ms
        in_order = _empty_in_order_of(argmax, grad.shape, grad.dtype)
        in_order[...] = grad
        grad = in_order
    out = _empty_in_order_of(argmax, input_shape, grad.dtype)
    out[:, :, ho * kh :] = 0  # the rows and columns past the last window, which no window covers
    out[:, :, :, wo * kw :] = 0
    windows = backend.sliding_windows(out, kernel_size, kernel_size, (1, 1), writeable=True)
    for k, (i, j) in enumerate(_offsets(kernel_size)):
        xp.multiply(grad, argmax == k, out=windows[:, :, i, j])
    return out


def _axis_order(array):
    """array's axes from the slowest to the fastest in memory."""
    return sorted(range(array.ndim), key=lambda axis: -array.strides[axis])


def _empty_in_order_of(array, shape, dtype):
    """An empty array of `shape` whose axes lie in memory in the order of `array`'s (as many
    axes): elementwise work between the two then walks both in one order."""
    order = _axis_order(array)
    out = backend.xp(array).empty([shape[axis] for axis in order], dtype=dtype)
    return out.transpose([order.index(axis) for axis in range(len(order))])  # each axis back in its place


class MaxPoolGather(Function):
    """x (N, C, H, W) read at the positions that a max pooling chose (offset `argmax` in
    each window): (N, C, Ho, Wo). Max pooling with its choice of maximum fixed."""

    formula = "∂/∂x = MaxPoolScatter(G)"
    reads = ()

    def forward(self, x, *, argmax, kernel_size, stride, padding):
        xp = backend.xp(x)
        windows = _windows(x, kernel_size, stride, padding)
        out = xp.zeros_like(argmax, dtype=x.dtype)
        for k, (i, j) in enumerate(_offsets(kernel_size)):
            xp.copyto(out, windows[:, :, i, j], where=argmax == k)
        return out

    def backward(self, grad):
        (x,) = self.inputs
        return MaxPoolScatter.apply(grad, input_shape=x.shape, **self.attrs)


class AvgPool2d(Function):
    """The mean of each kh × kw window of x (N, C, H, W), counting the zero padding (PyTorch's
    default): (N, C, Ho, Wo). Forward sums the kh·kw offset views in place. The plain composition:

        avg_pool2d(x) = unfold(x.reshape(N·C, 1, H, W), padding=p).mean(axis=1).reshape(N, C, Ho, Wo)
    """

    formula = "∂/∂x = G / (kh·kw) added to every pixel of its window (AvgPoolScatter)"
    reads = ()

    def forward(self, x, *, kernel_size, stride, padding):
        _check_pooling("avg_pool2d", x, kernel_size, padding)
        windows = _windows(x, kernel_size, stride, padding)
        total = backend.xp(x).copy(windows[:, :, 0, 0], order="K")  # "K": keep x's memory order
        for i, j in _offsets(kernel_size)[1:]:
            total += windows[:, :, i, j]
        total *= 1 / (kernel_size[0] * kernel_size[1])  # a Python float: float32 stays float32
        return total

    def backward(self, grad):
        (x,) = self.inputs
        return AvgPoolScatter.apply(grad, input_shape=x.shape, **self.attrs)


class AvgPoolScatter(Function):
    """The gradient of average pooling: G (N, C, Ho, Wo) → (N, C, H, W), each window's
    G / (kh·kw) added to every pixel of the window."""

    formula = "∂/∂G = avg_pool2d(H)"
    reads = ()

    def forward(self, grad, *, input_shape, kernel_size, stride, padding):
        share = grad * (1 / (kernel_size[0] * kernel_size[1]))
        return col2im(lambda i, j: share, input_shape, kernel_size, stride, padding, (1, 1), grad)

    def backward(self, grad):
        return AvgPool2d.apply(grad, **_without(self.attrs, "input_shape"))
