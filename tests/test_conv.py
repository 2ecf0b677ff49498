"""Convolution and pooling: conv2d, conv_transpose2d, unfold/fold, max_pool2d, avg_pool2d.

The op table below is checked the three ways of tests/test_ops.py (the same checks,
imported): gradcheck in float64, gradgradcheck (every op here has a differentiable
backward), and PyTorch as the oracle for values and gradients. Then: each fused op held
equal to its plain composition, the adjoint pairs (unfold/fold, conv2d/conv_transpose2d)
checked on drawn shapes, max pooling's ties and NaNs, shape errors, the modules, and a
LeNet that trades its state_dict with the same PyTorch model.
"""

import math
from functools import partial

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_ops import OpCase, distinct, normal
from test_ops import test_gradcheck as check_gradcheck
from test_ops import test_gradgradcheck as check_gradgradcheck
from test_ops import test_matches_torch as check_matches_torch

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn
from tinygrad_edu.ops import conv as conv_ops


# ---------------------------------------------------------------------- the table
def conv2d_case(name, x_shape, w_shape, bias=True, **geometry):
    """A conv2d row: input, weight (and bias) drawn from N(0, 1)."""
    samplers = (normal(*x_shape), normal(*w_shape)) + ((normal(w_shape[0]),) if bias else ())
    return OpCase(
        name,
        lambda x, w, *b: F.conv2d(x, w, *b, **geometry),
        lambda torch, x, w, *b: torch.nn.functional.conv2d(x, w, *b, **geometry),
        samplers,
    )


def conv_transpose2d_case(name, x_shape, w_shape, bias=True, dilation=1, **geometry):
    samplers = (normal(*x_shape), normal(*w_shape)) + ((normal(w_shape[1]),) if bias else ())
    return OpCase(
        name,
        lambda x, w, *b: F.conv_transpose2d(x, w, *b, dilation=dilation, **geometry),
        lambda torch, x, w, *b: torch.nn.functional.conv_transpose2d(x, w, *b, dilation=dilation, **geometry),
        samplers,
    )


def window_case(name, op, x_shape, sampler=normal, **kwargs):
    """A row for unfold, max_pool2d or avg_pool2d: one input, keyword arguments passed to both libraries."""
    return OpCase(
        name,
        lambda x: getattr(F, op)(x, **kwargs),
        lambda torch, x: getattr(torch.nn.functional, op)(x, **kwargs),
        (sampler(*x_shape),),
    )


def fold_case(name, cols_shape, output_size, **kwargs):
    return OpCase(
        name,
        lambda cols: F.fold(cols, output_size, **kwargs),
        lambda torch, cols: torch.nn.functional.fold(cols, output_size, **kwargs),
        (normal(*cols_shape),),
    )


CASES = [
    conv2d_case("conv2d", (2, 3, 5, 5), (4, 3, 3, 3)),
    conv2d_case("conv2d-no-bias", (2, 3, 4, 4), (2, 3, 2, 2), bias=False),
    conv2d_case("conv2d-1x1", (2, 3, 3, 2), (4, 3, 1, 1)),
    conv2d_case("conv2d-stride-2-padding-1", (2, 2, 6, 5), (3, 2, 3, 3), stride=2, padding=1),
    conv2d_case("conv2d-dilation-2", (1, 2, 7, 7), (2, 2, 3, 3), dilation=2, padding=2),
    conv2d_case("conv2d-non-square", (1, 2, 7, 5), (3, 2, 3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2)),
    # stride 3 over 8 rows leaves rows past the last window: their gradient is 0
    conv2d_case("conv2d-stride-leaves-rows", (2, 1, 8, 7), (2, 1, 3, 3), stride=3),
    conv2d_case("conv2d-unbatched", (3, 5, 4), (2, 3, 3, 3), padding=1),
    conv_transpose2d_case("conv_transpose2d", (2, 3, 3, 3), (3, 2, 3, 3)),
    conv_transpose2d_case("conv_transpose2d-no-bias", (1, 2, 3, 2), (2, 3, 2, 2), bias=False),
    conv_transpose2d_case(
        "conv_transpose2d-stride-2-padding-1-output_padding-1",
        (2, 2, 3, 3),
        (2, 2, 3, 3),
        stride=2,
        padding=1,
        output_padding=1,
    ),
    conv_transpose2d_case(
        "conv_transpose2d-non-square-dilation",
        (1, 2, 3, 4),
        (2, 3, 3, 2),
        stride=(2, 1),
        padding=(1, 0),
        output_padding=(1, 0),
        dilation=(1, 2),
    ),
    conv_transpose2d_case("conv_transpose2d-unbatched", (2, 3, 3), (2, 2, 2, 2), stride=2),
    window_case("unfold", "unfold", (2, 2, 4, 4), kernel_size=2),
    window_case(
        "unfold-non-square", "unfold", (1, 2, 5, 6), kernel_size=(3, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1)
    ),
    window_case("unfold-unbatched", "unfold", (2, 4, 3), kernel_size=2, padding=1),
    fold_case("fold", (2, 2 * 4, 9), (4, 4), kernel_size=2),
    fold_case("fold-non-overlapping", (1, 3 * 4, 4), (4, 4), kernel_size=2, stride=2),
    fold_case(
        "fold-non-square", (1, 2 * 6, 12), (5, 6), kernel_size=(3, 2), dilation=(1, 2), padding=(1, 0), stride=(2, 1)
    ),
    fold_case("fold-unbatched", (2 * 4, 25), (4, 4), kernel_size=2, padding=1),
    # distinct values: no ties, so a small step of gradcheck never moves a maximum
    window_case("max_pool2d", "max_pool2d", (2, 2, 4, 4), distinct, kernel_size=2),
    window_case("max_pool2d-overlapping", "max_pool2d", (1, 2, 5, 5), distinct, kernel_size=3, stride=1),
    window_case("max_pool2d-padding", "max_pool2d", (2, 1, 5, 4), distinct, kernel_size=3, stride=2, padding=1),
    window_case(
        "max_pool2d-non-square", "max_pool2d", (1, 2, 6, 5), distinct, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)
    ),
    window_case("max_pool2d-unbatched", "max_pool2d", (2, 4, 4), distinct, kernel_size=2),
    window_case("avg_pool2d", "avg_pool2d", (2, 2, 4, 4), kernel_size=2),
    window_case("avg_pool2d-overlapping", "avg_pool2d", (1, 2, 5, 5), kernel_size=3, stride=1),
    window_case("avg_pool2d-padding", "avg_pool2d", (2, 1, 5, 4), kernel_size=3, stride=2, padding=1),
    window_case("avg_pool2d-non-square", "avg_pool2d", (1, 2, 6, 5), kernel_size=(3, 2), stride=(2, 1), padding=(1, 0)),
    window_case("avg_pool2d-unbatched", "avg_pool2d", (2, 4, 4), kernel_size=2),
]
IDS = [case.name for case in CASES]


def test_table_names_are_unique():
    assert len(IDS) == len(set(IDS)), "two rows of the conv table share a name"


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradcheck(case):
    check_gradcheck(case)


# every row: the backward of each op is made of Functions of this family, differentiable again
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_gradgradcheck(case):
    check_gradgradcheck(case)


@pytest.mark.oracle
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_torch(case, torch):
    check_matches_torch(case, torch)


# ---------------------------------------------------------------------- fused = plain composition
def pad(x, padding, value=0.0):
    """x (N, C, H, W) padded by `padding` (ph, pw) on every side with `value`, built with cat."""
    (ph, pw), (n, c, h, w) = padding, x.shape
    if ph:
        band = tg.full((n, c, ph, w), value, dtype=x.dtype)
        x = tg.cat([band, x, band], axis=2)
    if pw:
        band = tg.full((n, c, h + 2 * ph, pw), value, dtype=x.dtype)
        x = tg.cat([band, x, band], axis=3)
    return x


def plain_unfold(x, kernel_size, dilation, padding, stride):
    """unfold as slicing: offset (i, j) of every window is a strided slice of the padded image."""
    (kh, kw), (dh, dw), (sh, sw) = kernel_size, dilation, stride
    n, c = x.shape[:2]
    x = pad(x, padding)
    ho, wo = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1, (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    offsets = [
        x[:, :, i * dh : i * dh + sh * (ho - 1) + 1 : sh, j * dw : j * dw + sw * (wo - 1) + 1 : sw]
        for i in range(kh)
        for j in range(kw)
    ]
    return tg.stack(offsets, axis=2).reshape(n, c * kh * kw, ho * wo)


def plain_conv2d(x, weight, bias, stride, padding, dilation):
    """conv2d = unfold, a matmul with the flattened weight, a reshape, the bias broadcast."""
    (n, _, h, w), (out_channels, _, kh, kw) = x.shape, weight.shape
    ho, wo = conv_ops.conv_output_size((h, w), (kh, kw), stride, padding, dilation)
    cols = plain_unfold(x, (kh, kw), dilation, padding, stride)
    return (weight.reshape(out_channels, -1) @ cols).reshape(n, out_channels, ho, wo) + bias.reshape(1, -1, 1, 1)


def plain_conv_transpose2d(x, weight, bias, stride, padding, output_padding):
    """conv_transpose2d = a matmul with the flattened weight, then fold, the bias broadcast."""
    (n, in_channels, h, w), (kh, kw) = x.shape, weight.shape[2:]
    sizes = zip((h, w), (kh, kw), stride, padding, output_padding)
    out_size = tuple((m - 1) * s - 2 * p + k + extra for m, k, s, p, extra in sizes)
    cols = weight.reshape(in_channels, -1).T @ x.reshape(n, in_channels, h * w)
    return F.fold(cols, out_size, (kh, kw), padding=padding, stride=stride) + bias.reshape(1, -1, 1, 1)


def plain_pool(x, reduce, kernel_size, stride, padding, fill):
    """A pooling as unfold of each channel on its own (padded with `fill`) and a reduction of every column."""
    n, c, h, w = x.shape
    channels = pad(x.reshape(n * c, 1, h, w), padding, fill)
    cols = plain_unfold(channels, kernel_size, (1, 1), (0, 0), stride)
    ho, wo = conv_ops.conv_output_size((h, w), kernel_size, stride, padding, (1, 1))
    return reduce(cols).reshape(n, c, ho, wo)


GEOMETRIES = [((1, 1), (0, 0), (1, 1)), ((2, 1), (1, 2), (1, 1)), ((2, 2), (1, 0), (2, 1))]  # stride, padding, dilation


def assert_same_values_and_gradients(fused, plain, arrays, what):
    """fused and plain give the same output and the same gradients of ⟨out, G⟩ for a random G."""
    results = []
    for fn in (fused, plain):
        inputs = [Tensor(a.copy(), requires_grad=True) for a in arrays]
        out = fn(*inputs)
        out.backward(Tensor(np.random.default_rng(9).standard_normal(out.shape)))
        results.append([out.numpy()] + [t.grad.numpy() for t in inputs])
    names = ["output"] + [f"gradient {i}" for i in range(len(arrays))]
    for name, got, expected in zip(names, *results):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12, err_msg=f"{what}: {name}")


@pytest.mark.parametrize("stride, padding, dilation", GEOMETRIES)
def test_fused_conv2d_equals_unfold_matmul_reshape(rng, stride, padding, dilation):
    arrays = [rng.standard_normal(s) for s in ((2, 3, 7, 6), (4, 3, 3, 2), (4,))]
    geometry = {"stride": stride, "padding": padding, "dilation": dilation}
    fused, plain = partial(F.conv2d, **geometry), partial(plain_conv2d, **geometry)
    assert_same_values_and_gradients(fused, plain, arrays, f"conv2d {geometry}")


@pytest.mark.parametrize("stride, padding, output_padding", [((1, 1), (0, 0), (0, 0)), ((2, 3), (1, 0), (1, 2))])
def test_fused_conv_transpose2d_equals_matmul_fold(rng, stride, padding, output_padding):
    arrays = [rng.standard_normal(s) for s in ((2, 3, 4, 3), (3, 2, 3, 2), (2,))]
    geometry = {"stride": stride, "padding": padding, "output_padding": output_padding}
    fused, plain = partial(F.conv_transpose2d, **geometry), partial(plain_conv_transpose2d, **geometry)
    assert_same_values_and_gradients(fused, plain, arrays, f"conv_transpose2d {geometry}")


@pytest.mark.parametrize("stride, padding, dilation", GEOMETRIES)
def test_unfold_equals_strided_slices_stacked(rng, stride, padding, dilation):
    geometry = {"kernel_size": (3, 2), "stride": stride, "padding": padding, "dilation": dilation}
    fused, plain = partial(F.unfold, **geometry), partial(plain_unfold, **geometry)
    assert_same_values_and_gradients(fused, plain, [rng.standard_normal((2, 3, 7, 6))], f"unfold {geometry}")


@pytest.mark.parametrize("kernel_size, stride, padding", [((2, 2), (2, 2), (0, 0)), ((3, 2), (2, 1), (1, 1))])
def test_fused_pooling_equals_unfold_and_a_reduction(kernel_size, stride, padding):
    x = distinct(2, 3, 6, 5)(np.random.default_rng(5))  # no ties: max shares nothing
    geometry = {"kernel_size": kernel_size, "stride": stride, "padding": padding}
    max_plain = partial(plain_pool, reduce=lambda cols: cols.max(axis=1), fill=-np.inf, **geometry)
    avg_plain = partial(plain_pool, reduce=lambda cols: cols.mean(axis=1), fill=0.0, **geometry)
    assert_same_values_and_gradients(partial(F.max_pool2d, **geometry), max_plain, [x], f"max_pool2d {geometry}")
    assert_same_values_and_gradients(partial(F.avg_pool2d, **geometry), avg_plain, [x], f"avg_pool2d {geometry}")


# ---------------------------------------------------------------------- properties on drawn shapes
@st.composite
def conv_geometries(draw):
    """An input shape, a kernel and a geometry under which the kernel fits the padded input."""
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    span = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    size = tuple(draw(st.integers(max(1, s - 2 * p), 7)) for s, p in zip(span, padding))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3))) + size
    return shape, kernel, stride, padding, dilation


def inner(a, b):
    return float((a.numpy() * b.numpy()).sum())


@given(geometry=conv_geometries(), seed=st.integers(0, 2**32 - 1))
def test_fold_is_the_adjoint_of_unfold(geometry, seed):
    """⟨unfold(x), y⟩ = ⟨x, fold(y)⟩ for every x and y: fold sends each column back where its window lay."""
    shape, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(shape))
    cols = F.unfold(x, kernel, dilation, padding, stride)
    y = Tensor(rng.standard_normal(cols.shape))

    back = F.fold(y, shape[2:], kernel, dilation, padding, stride)

    assert back.shape == shape, f"fold gave shape {back.shape}, expected {shape}"
    assert math.isclose(inner(cols, y), inner(x, back), rel_tol=1e-9, abs_tol=1e-9), "⟨unfold x, y⟩ ≠ ⟨x, fold y⟩"


@given(geometry=conv_geometries(), out_channels=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_conv_transpose2d_is_the_adjoint_of_conv2d_in_its_input(geometry, out_channels, seed):
    """⟨conv2d(x, W), y⟩ = ⟨x, conv_transpose2d(y, W)⟩, with the output_padding that gives back x's size."""
    shape, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal(shape))
    weight = Tensor(rng.standard_normal((out_channels, shape[1]) + kernel))
    out = F.conv2d(x, weight, stride=stride, padding=padding, dilation=dilation)
    y = Tensor(rng.standard_normal(out.shape))
    output_padding = tuple(
        (n + 2 * p - d * (k - 1) - 1) % s for n, k, s, p, d in zip(shape[2:], kernel, stride, padding, dilation)
    )

    back = F.conv_transpose2d(y, weight, None, stride, padding, output_padding, dilation=dilation)

    assert back.shape == shape, f"conv_transpose2d gave shape {back.shape}, expected {shape}"
    assert math.isclose(inner(out, y), inner(x, back), rel_tol=1e-9, abs_tol=1e-9), "the adjoint identity fails"


@pytest.mark.oracle
@given(geometry=conv_geometries(), seed=st.integers(0, 2**32 - 1))
def test_conv2d_matches_torch_on_drawn_geometries(torch, geometry, seed):
    shape, kernel, stride, padding, dilation = geometry
    rng = np.random.default_rng(seed)
    x, weight = rng.standard_normal(shape), rng.standard_normal((2, shape[1]) + kernel)

    out = F.conv2d(Tensor(x), Tensor(weight), None, stride, padding, dilation)

    x_torch, weight_torch = torch.from_numpy(x), torch.from_numpy(weight)
    expected = torch.nn.functional.conv2d(x_torch, weight_torch, None, stride, padding, dilation)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- max pooling: ties, NaN, indices
def test_a_tied_maximum_sends_its_whole_gradient_to_the_first_in_the_window():
    """Four 2×2 windows of ones: each sends its gradient 1 to its top-left corner (PyTorch's
    choice), where t.max would share it four ways."""
    x = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)

    F.max_pool2d(x, 2).sum().backward()

    expected = np.zeros((4, 4))
    expected[::2, ::2] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], expected, err_msg="ties: all to the first")


@pytest.mark.oracle
@pytest.mark.parametrize("kernel_size, stride, padding", [(3, 1, 1), (2, 1, 0), ((3, 2), (1, 2), (1, 1))])
def test_ties_overlaps_and_negative_inputs_next_to_padding_follow_pytorch(torch, kernel_size, stride, padding):
    """Values from {−2, −1}: many ties, windows that overlap, padding (−inf) beside negatives."""
    values = np.random.default_rng(3).integers(-2, 0, (2, 2, 5, 6)).astype(np.float64)
    x, x_torch = Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)
    out = F.max_pool2d(x, kernel_size, stride, padding)
    expected = torch.nn.functional.max_pool2d(x_torch, kernel_size, stride, padding)
    grad_out = np.random.default_rng(4).standard_normal(out.shape)

    out.backward(Tensor(grad_out))
    expected.backward(torch.from_numpy(grad_out))

    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy())
    np.testing.assert_allclose(x.grad.numpy(), x_torch.grad.numpy(), rtol=1e-12, err_msg="gradient of tied maxima")


@pytest.mark.oracle
def test_nan_wins_its_window_value_and_gradient_as_in_pytorch(torch):
    """Overlapping 2×2 windows over three NaNs: PyTorch's pooling propagates a NaN and sends
    the window's gradient to it (to the later one of two NaNs)."""
    values = np.random.default_rng(6).standard_normal((1, 1, 4, 5))
    values[0, 0, 1, 1] = values[0, 0, 2, 4] = values[0, 0, 3, 0] = values[0, 0, 2, 1] = np.nan
    x, x_torch = Tensor(values, requires_grad=True), torch.tensor(values, requires_grad=True)

    out = F.max_pool2d(x, 2, 1)
    expected = torch.nn.functional.max_pool2d(x_torch, 2, 1)
    out.sum().backward()
    expected.sum().backward()

    np.testing.assert_array_equal(out.numpy(), expected.detach().numpy(), err_msg="values with NaN")
    np.testing.assert_array_equal(x.grad.numpy(), x_torch.grad.numpy(), err_msg="NaN's gradient")


def test_max_pooling_keeps_small_indices_not_a_mask():
    """What forward keeps for backward: one small integer per output, not a mask per input."""
    x = Tensor(np.random.default_rng(0).standard_normal((4, 3, 8, 8)).astype(np.float32), requires_grad=True)

    out = F.max_pool2d(x, 2)

    argmax = out.grad_fn.saved
    assert argmax.shape == out.shape, f"indices of shape {argmax.shape}, expected the output's {out.shape}"
    assert argmax.dtype == np.uint8, f"indices of dtype {argmax.dtype}, expected uint8 for a 2×2 window"


# ---------------------------------------------------------------------- dtypes, versions
@pytest.mark.parametrize(
    "op",
    [
        lambda x, w: F.conv2d(x, w, padding=1),
        lambda x, w: F.conv_transpose2d(x, w.transpose(0, 1), stride=2),
        lambda x, w: F.max_pool2d(x, 2) * w.sum(),
        lambda x, w: F.avg_pool2d(x, 3, 1, 1) * w.sum(),
        lambda x, w: F.fold(F.unfold(x, 2), (6, 6), 2) * w.sum(),
    ],
    ids=["conv2d", "conv_transpose2d", "max_pool2d", "avg_pool2d", "unfold-fold"],
)
def test_float32_stays_float32_in_values_and_gradients(op):
    x = Tensor(np.random.default_rng(0).standard_normal((2, 3, 6, 6)).astype(np.float32), requires_grad=True)
    w = Tensor(np.random.default_rng(1).standard_normal((3, 3, 3, 3)).astype(np.float32), requires_grad=True)

    out = op(x, w)
    out.sum().backward()

    assert out.dtype == np.float32, f"output is {out.dtype}"
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32, f"gradients {x.grad.dtype}, {w.grad.dtype}"


@pytest.mark.oracle
def test_an_empty_batch_gives_empty_outputs_and_gradients_of_the_right_shapes(torch):
    x = Tensor(np.zeros((0, 3, 5, 5)), requires_grad=True)
    weight = Tensor(np.ones((2, 3, 3, 3)), requires_grad=True)

    out = F.max_pool2d(F.conv2d(x, weight, padding=1), 2)
    out.sum().backward()

    expected = torch.nn.functional.max_pool2d(
        torch.nn.functional.conv2d(torch.zeros(0, 3, 5, 5), torch.ones(2, 3, 3, 3), padding=1), 2
    )
    assert out.shape == tuple(expected.shape), f"shape {out.shape}, PyTorch {tuple(expected.shape)}"
    assert x.grad.shape == x.shape and weight.grad.shape == weight.shape
    assert not weight.grad.numpy().any(), "an empty batch contributes nothing to the weight's gradient"


def test_changing_the_weight_in_place_before_backward_is_an_error():
    x = Tensor(np.ones((1, 1, 4, 4)), requires_grad=True)
    weight = Tensor(np.ones((1, 1, 3, 3)), requires_grad=True)
    out = F.conv2d(x, weight)
    with tg.no_grad():
        weight -= 0.5

    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


# ---------------------------------------------------------------------- shape errors
X = Tensor(np.zeros((2, 3, 5, 5)))
W = Tensor(np.zeros((4, 3, 3, 3)))

SHAPE_ERRORS = {
    "conv2d kernel larger than the padded input": (
        lambda: F.conv2d(X, Tensor(np.zeros((4, 3, 7, 7))), padding=0),
        ["7×7", "5×5", "(2, 3, 5, 5)"],
    ),
    "conv2d dilated kernel larger than the input": (lambda: F.conv2d(X, W, dilation=3), ["dilated to 7×7"]),
    "conv2d channels differ from the weight's": (
        lambda: F.conv2d(X, Tensor(np.zeros((4, 2, 3, 3)))),
        ["(2, 3, 5, 5)", "(4, 2, 3, 3)", "3 channels"],
    ),
    "conv2d input of 2 dimensions": (lambda: F.conv2d(Tensor(np.zeros((5, 5))), W), ["(N, C, H, W)", "(5, 5)"]),
    "conv2d input of 5 dimensions": (lambda: F.conv2d(Tensor(np.zeros((1, 2, 3, 5, 5))), W), ["(1, 2, 3, 5, 5)"]),
    "conv2d weight of 3 dimensions": (lambda: F.conv2d(X, Tensor(np.zeros((4, 3, 3)))), ["weight", "(4, 3, 3)"]),
    "conv2d bias of the wrong length": (lambda: F.conv2d(X, W, Tensor(np.zeros(3))), ["(4,)", "(3,)"]),
    "conv_transpose2d channels differ from the weight's": (
        lambda: F.conv_transpose2d(X, Tensor(np.zeros((4, 3, 3, 3)))),
        ["(2, 3, 5, 5)", "(4, 3, 3, 3)"],
    ),
    "conv_transpose2d output_padding not below stride": (
        lambda: F.conv_transpose2d(X, Tensor(np.zeros((3, 2, 3, 3))), stride=2, output_padding=2),
        ["output_padding (2, 2)", "stride (2, 2)"],
    ),
    "conv_transpose2d padding that leaves nothing": (
        lambda: F.conv_transpose2d(Tensor(np.zeros((1, 3, 1, 1))), Tensor(np.zeros((3, 2, 1, 1))), padding=1),
        ["(1, 3, 1, 1)", "-1×-1"],
    ),
    "unfold kernel larger than the input": (lambda: F.unfold(X, 6), ["6×6", "5×5"]),
    "unfold input of 2 dimensions": (lambda: F.unfold(Tensor(np.zeros((5, 5))), 2), ["(5, 5)"]),
    "fold with the wrong number of windows": (
        lambda: F.fold(Tensor(np.zeros((2, 12, 10))), (4, 4), 2),
        ["(2, 12, 10)", "9", "(4, 4)"],
    ),
    "fold rows not a multiple of the kernel's size": (
        lambda: F.fold(Tensor(np.zeros((2, 10, 9))), (4, 4), 2),
        ["(2, 10, 9)", "C·4"],
    ),
    "max_pool2d kernel larger than the input": (lambda: F.max_pool2d(X, 6), ["6×6", "(2, 3, 5, 5)"]),
    "max_pool2d padding over half the kernel": (lambda: F.max_pool2d(X, 2, padding=2), ["padding (2, 2)"]),
    "avg_pool2d input of 2 dimensions": (lambda: F.avg_pool2d(Tensor(np.zeros((5, 5))), 2), ["(5, 5)"]),
    "a stride of 0": (lambda: F.conv2d(X, W, stride=0), ["stride", "at least 1", "0"]),
    "a negative padding": (lambda: F.avg_pool2d(X, 2, padding=-1), ["padding", "at least 0", "-1"]),
    "a triple for a pair": (lambda: F.max_pool2d(X, (2, 2, 2)), ["kernel_size", "(2, 2, 2)"]),
    "nn.Conv2d with no input channels": (lambda: nn.Conv2d(0, 4, 3), ["in_channels=0"]),
    "nn.Conv2d given an input with other channels": (
        lambda: nn.Conv2d(2, 4, 3)(X),
        ["(2, 3, 5, 5)", "(4, 2, 3, 3)"],
    ),
}


@pytest.mark.parametrize("name", list(SHAPE_ERRORS))
def test_shapes_that_do_not_fit_are_value_errors_naming_them(name):
    make, expected_parts = SHAPE_ERRORS[name]
    with pytest.raises(ValueError) as error:
        make()
    message = str(error.value)
    for part in expected_parts:
        assert part in message, f"{name}: {part!r} missing from the message {message!r}"


@pytest.mark.parametrize("value", [1.5, "2", None, True, (1, 2.0)])
def test_sizes_that_are_not_ints_are_type_errors(value):
    with pytest.raises(TypeError, match="int or a pair of ints"):
        F.conv2d(X, W, stride=value)


# ---------------------------------------------------------------------- modules
CONV_ATTRIBUTES = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "dilation")


@pytest.mark.oracle
@pytest.mark.parametrize(
    "make, attributes",
    [
        (lambda nn: nn.Conv2d(1, 6, 5, padding=2), CONV_ATTRIBUTES),
        (lambda nn: nn.Conv2d(3, 8, (3, 2), stride=(2, 1), dilation=2, bias=False), CONV_ATTRIBUTES),
        (lambda nn: nn.ConvTranspose2d(4, 2, 3, 2, 1), CONV_ATTRIBUTES + ("output_padding",)),
        (lambda nn: nn.ConvTranspose2d(4, 2, 3, 2, 1, output_padding=1, dilation=2), CONV_ATTRIBUTES),
        (lambda nn: nn.AvgPool2d(3, 1, 1), ("kernel_size", "stride", "padding")),
        (lambda nn: nn.AvgPool2d((2, 3)), ("kernel_size", "stride", "padding")),
    ],
)
def test_modules_have_pytorchs_repr_attributes_and_state_dict_shapes(torch, make, attributes):
    ours, theirs = make(nn), make(torch.nn)

    assert repr(ours) == repr(theirs), "repr differs from PyTorch's"
    expected = {name: tuple(t.shape) for name, t in theirs.state_dict().items()}
    assert {name: v.shape for name, v in ours.state_dict().items()} == expected, "state_dict keys or shapes differ"
    for name in attributes:
        assert getattr(ours, name) == getattr(theirs, name), f"attribute {name}"


def test_max_pool_module_defaults_and_repr():
    pool = nn.MaxPool2d(2)

    assert (pool.kernel_size, pool.stride, pool.padding) == (2, 2, 0), "stride defaults to kernel_size"
    assert repr(pool) == "MaxPool2d(kernel_size=2, stride=2, padding=0)"
    assert list(pool.parameters()) == [] and pool.state_dict() == {}


@pytest.mark.parametrize(
    "make, fan_in",
    [(lambda: nn.Conv2d(8, 16, 3), 8 * 9), (lambda: nn.ConvTranspose2d(16, 8, (3, 2)), 8 * 6)],
    ids=["Conv2d: in_channels·kh·kw", "ConvTranspose2d: out_channels·kh·kw"],
)
def test_initialisation_is_uniform_within_one_over_the_square_root_of_fan_in(make, fan_in):
    """kaiming_uniform_ with a = √5 gives U(−1/√fan_in, 1/√fan_in) for the weight; the bias
    is drawn from the same range (PyTorch's reset_parameters)."""
    tg.manual_seed(0)
    layer = make()
    bound = 1 / math.sqrt(fan_in)
    weight, bias = layer.weight.numpy(), layer.bias.numpy()

    assert weight.dtype == np.float32 and bias.dtype == np.float32
    assert np.abs(weight).max() <= bound and np.abs(bias).max() <= bound, "a value outside the bound"
    assert np.abs(weight).max() > 0.95 * bound, "the weights do not reach the bound: wrong fan_in?"
    assert abs(weight.std() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3), "not a uniform distribution's std"


def test_modules_are_seeded():
    tg.manual_seed(4)
    first = nn.Conv2d(2, 3, 3).state_dict()
    tg.manual_seed(4)
    second = nn.Conv2d(2, 3, 3).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


# ---------------------------------------------------------------------- a LeNet, here and in PyTorch
def add_lenet_layers(model, nn):
    """LeNet-5's layers for 28×28 images, from `nn` (ours or PyTorch's): the same names, so
    the same state_dict keys."""
    model.conv1 = nn.Conv2d(1, 6, 5, padding=2)
    model.conv2 = nn.Conv2d(6, 16, 5)
    model.pool = nn.MaxPool2d(2)
    model.fc1 = nn.Linear(400, 120)
    model.fc2 = nn.Linear(120, 84)
    model.fc3 = nn.Linear(84, 10)


def lenet_forward(model, x):
    """conv 1→6 5×5 pad 2, relu, max pool 2, conv 6→16 5×5, relu, max pool 2, flatten,
    linear 400→120→84→10 (written once for both libraries)."""
    x = model.pool(model.conv1(x).relu())
    x = model.pool(model.conv2(x).relu())
    x = x.reshape(x.shape[0], -1)
    return model.fc3(model.fc2(model.fc1(x).relu()).relu())


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        add_lenet_layers(self, nn)

    forward = lenet_forward


@pytest.fixture(scope="module")
def torch_lenet(torch):
    class TorchLeNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            add_lenet_layers(self, torch.nn)

        forward = lenet_forward

    return lambda: TorchLeNet().double()


def _outputs_and_gradients(model, x, labels, cross_entropy):
    """The logits, and every parameter's gradient of the mean cross-entropy, as NumPy arrays."""
    logits = model(x)
    cross_entropy(logits, labels).backward()
    grads = {name: p.grad for name, p in model.named_parameters()}
    return np.asarray(logits.detach().numpy()), {name: np.asarray(g.numpy()) for name, g in grads.items()}


@pytest.mark.oracle
@pytest.mark.parametrize("direction", ["ours into PyTorch", "PyTorch into ours"])
def test_lenet_state_dict_loads_into_pytorch_and_back_with_the_same_outputs_and_gradients(
    torch, torch_lenet, direction
):
    tg.manual_seed(0)
    ours, theirs = LeNet().to("float64"), torch_lenet()
    if direction == "ours into PyTorch":
        theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    else:
        ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(1)
    images, labels = rng.random((8, 1, 28, 28)), rng.integers(0, 10, 8)

    logits, grads = _outputs_and_gradients(ours, Tensor(images), Tensor(labels), F.cross_entropy)
    expected_logits, expected_grads = _outputs_and_gradients(
        theirs, torch.from_numpy(images), torch.from_numpy(labels), torch.nn.functional.cross_entropy
    )

    np.testing.assert_allclose(logits, expected_logits, rtol=1e-10, atol=1e-12, err_msg="logits")
    assert grads.keys() == expected_grads.keys()
    for name in grads:
        np.testing.assert_allclose(grads[name], expected_grads[name], rtol=1e-8, atol=1e-12, err_msg=name)


def test_lenet_trains_in_float32():
    """Each of a few small SGD steps on one batch brings its loss down, in float32 throughout."""
    tg.manual_seed(0)
    model = LeNet()
    rng = np.random.default_rng(2)
    images, labels = Tensor(rng.random((16, 1, 28, 28)).astype(np.float32)), Tensor(rng.integers(0, 10, 16))
    losses = []
    for _ in range(8):
        model.zero_grad()
        logits = model(images)
        loss = F.cross_entropy(logits, labels)
        loss.backward()
        with tg.no_grad():
            for p in model.parameters():
                p -= 0.05 * p.grad
        losses.append(loss.item())

    assert logits.dtype == np.float32, f"logits are {logits.dtype}"
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), f"the loss did not fall: {losses}"
