"""Each fused op equals its plain composition of ordinary ops, in values and gradients:
the fused op is the speed, the composition is the maths (as each docstring writes it);
likewise the fast scatter-add of rows against NumPy's add.at, and the sum over the last
axis against NumPy's sum."""

import numpy as np
import pytest

import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, backend
from tinygrad_edu.ops import loss as fused
from tinygrad_edu.ops.matmul import Linear
from tinygrad_edu.ops.norm import LayerNorm, Normalize


# ---------------------------------------------------------------------- the plain compositions
def plain_linear(x, weight, bias):
    """x Wᵀ + b"""
    return x @ weight.transpose() + bias


def plain_cross_entropy(logits, labels, reduction):
    """−ln softmax(z)[y] per row, written with log_softmax and indexing"""
    rows = np.arange(len(labels))
    return reduce(-logits.log_softmax(axis=1)[rows, labels], reduction)


def plain_bce_with_logits(logits, target, reduction):
    """−[y ln σ(z) + (1 − y) ln(1 − σ(z))], from σ itself"""
    probs = logits.sigmoid()
    return reduce(-(target * probs.log() + (1 - target) * (1 - probs).log()), reduction)


def plain_bce(y_hat, target, reduction):
    """−[y ln ŷ + (1 − y) ln(1 − ŷ)]"""
    return reduce(-(target * y_hat.log() + (1 - target) * (1 - y_hat).log()), reduction)


def plain_layer_norm(x, weight, bias, eps=1e-5):
    """γ·x̂ + β with x̂ = (x − μ) / √(σ² + ε) over the last axis, from Normalize"""
    return Normalize.apply(x, axis=(x.ndim - 1,), eps=eps) * weight + bias


def reduce(losses, reduction):
    return {"mean": losses.mean, "sum": losses.sum}.get(reduction, lambda: losses)()


# ---------------------------------------------------------------------- fused == plain
def leaves(*arrays):
    return [Tensor(a.copy(), requires_grad=True) for a in arrays]


def assert_same(fused_out, plain_out, fused_inputs, plain_inputs):
    np.testing.assert_allclose(fused_out.numpy(), plain_out.numpy(), rtol=1e-10, atol=1e-12)
    grad = np.random.default_rng(1).standard_normal(fused_out.shape)
    fused_out.backward(Tensor(grad))
    plain_out.backward(Tensor(grad))
    for i, (a, b) in enumerate(zip(fused_inputs, plain_inputs)):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"input {i}")


@pytest.mark.parametrize("x_shape", [(5, 3), (2, 4, 3), (3,), (0, 3)], ids=["matrix", "batched", "vector", "no rows"])
def test_linear_equals_x_times_w_transposed_plus_b(x_shape):
    rng = np.random.default_rng(0)
    arrays = rng.standard_normal(x_shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    ours, plain = leaves(*arrays), leaves(*arrays)
    assert_same(Linear.apply(*ours), plain_linear(*plain), ours, plain)


@pytest.mark.parametrize("x_shape", [(5, 8), (2, 3, 8), (8,)], ids=["matrix", "batched", "vector"])
def test_layer_norm_equals_normalize_times_weight_plus_bias(x_shape):
    rng = np.random.default_rng(0)
    arrays = 3 * rng.standard_normal(x_shape) + 1, rng.standard_normal(8), rng.standard_normal(8)
    ours, plain = leaves(*arrays), leaves(*arrays)
    assert_same(LayerNorm.apply(*ours, eps=1e-5), plain_layer_norm(*plain), ours, plain)


def test_layer_norm_of_frozen_parameters_sends_them_no_gradient():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 6)), requires_grad=True)
    weight, bias = Tensor(rng.standard_normal(6)), Tensor(rng.standard_normal(6))
    LayerNorm.apply(x, weight, bias, eps=1e-5).sum().backward()
    assert weight.grad is None and bias.grad is None and x.grad is not None


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_equals_minus_log_softmax_at_the_labels(reduction):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 4, 6)
    logits = rng.standard_normal((6, 4))
    ours, plain = leaves(logits), leaves(logits)
    out = fused.CrossEntropy.apply(ours[0], target=labels, reduction=reduction)
    assert_same(out, plain_cross_entropy(plain[0], labels, reduction), ours, plain)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_equals_bce_of_the_sigmoid(reduction):
    rng = np.random.default_rng(0)
    arrays = 2 * rng.standard_normal((5, 3)), rng.uniform(0, 1, (5, 3))
    ours, plain = leaves(*arrays), leaves(*arrays)
    out = fused.BCEWithLogits.apply(*ours, reduction=reduction)
    assert_same(out, plain_bce_with_logits(*plain, reduction), ours, plain)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_equals_its_formula_away_from_zero_and_one(reduction):
    rng = np.random.default_rng(0)
    arrays = rng.uniform(0.05, 0.95, (5, 3)), rng.uniform(0, 1, (5, 3))
    ours, plain = leaves(*arrays), leaves(*arrays)
    out = fused.BinaryCrossEntropy.apply(*ours, reduction=reduction)
    assert_same(out, plain_bce(*plain, reduction), ours, plain)


def test_the_functional_losses_are_the_fused_ops():
    logits, labels = Tensor(np.zeros((2, 3)), requires_grad=True), np.array([0, 2])
    assert F.cross_entropy(logits, labels).grad_fn.name == "CrossEntropy"
    z, y = Tensor(np.zeros(3), requires_grad=True), Tensor(np.ones(3))
    assert F.binary_cross_entropy_with_logits(z, y).grad_fn.name == "BCEWithLogits"
    assert F.binary_cross_entropy(z.sigmoid(), y).grad_fn.name == "BinaryCrossEntropy"
    weight, bias = Tensor(np.ones(3), requires_grad=True), Tensor(np.zeros(3), requires_grad=True)
    assert F.layer_norm(z, 3, weight, bias).grad_fn.name == "LayerNorm"


@pytest.mark.parametrize(
    "out_shape, index_shape",
    [((7, 3), (20,)), ((7, 3), (4, 5)), ((5,), (12,)), ((4, 2, 3), (3, 3)), ((6, 2), (1,))],
    ids=["rows", "a matrix of rows", "a vector", "rows of matrices", "one row"],
)
def test_scatter_add_of_rows_equals_numpys_add_at(out_shape, index_shape):
    rng = np.random.default_rng(3)
    index = rng.integers(-out_shape[0], out_shape[0], size=index_shape)  # repeats and negative rows
    values = rng.standard_normal(index_shape + out_shape[1:])
    start = rng.standard_normal(out_shape)
    ours, plain = start.copy(), start.copy()
    backend.scatter_add_rows(ours, index, values)
    np.add.at(plain, index, values)
    np.testing.assert_allclose(ours, plain, rtol=1e-12, atol=1e-12)


# the fast paths of backend.sum_over and backend.max_over, and the cases they leave to NumPy
LAST_AXIS_CASES = pytest.mark.parametrize(
    "shape, axis, dtype",
    [
        ((2048, 128), (1,), np.float32),
        ((2048, 103), (1,), np.float32),
        ((32, 4, 64, 64), (3,), np.float32),
        ((64, 96), (1,), np.float64),
        ((8, 4096), (1,), np.float32),
        ((64, 64), (0,), np.float32),
        ((10, 10), (1,), np.float32),
    ],
    ids=["rows of 128", "logits", "attention rows", "float64", "long rows", "not the last axis", "small"],
)


@LAST_AXIS_CASES
@pytest.mark.parametrize("keepdims", [True, False])
def test_the_sum_over_the_last_axis_equals_numpys_sum(shape, axis, dtype, keepdims):
    x = np.random.default_rng(4).standard_normal(shape).astype(dtype)
    x[0, 0] = np.inf if dtype == np.float64 else x[0, 0]  # an inf stays an inf
    ours, plain = backend.sum_over(x, axis, keepdims), x.sum(axis=axis, keepdims=keepdims)
    assert ours.shape == plain.shape and ours.dtype == plain.dtype
    np.testing.assert_allclose(ours, plain, rtol=1e-5 if dtype == np.float32 else 1e-12, atol=1e-4)


@LAST_AXIS_CASES
@pytest.mark.parametrize("keepdims", [True, False])
def test_the_max_over_the_last_axis_equals_numpys_max(shape, axis, dtype, keepdims):
    x = np.random.default_rng(5).standard_normal(shape).astype(dtype)
    x[0, 1] = np.nan  # a NaN wins its row
    x[1, :] = -np.inf  # a row of −inf (masked attention) has −inf as its max
    x[2, 3] = np.inf
    ours, plain = backend.max_over(x, axis, keepdims), x.max(axis=axis, keepdims=keepdims)
    assert ours.shape == plain.shape and ours.dtype == plain.dtype
    np.testing.assert_array_equal(ours, plain)
