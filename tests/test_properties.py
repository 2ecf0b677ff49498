"""Properties that hold for every shape and every value, checked on shapes and data that
hypothesis draws (settings: the profile loaded by conftest.py)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

import tinygrad_edu as tg
from tinygrad_edu import Tensor

seeds = st.integers(0, 2**32 - 1)
shapes = array_shapes(min_dims=0, max_dims=4, min_side=1, max_side=4)
matrix_shapes = array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=4)
pairs_of_shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, min_side=1, max_side=4)


def draw_values(seed, *shapes):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal(shape) for shape in shapes]


def leaf(values):
    return Tensor(values, requires_grad=True)


# each binary op: here, in NumPy, and its partial derivatives ∂f/∂a, ∂f/∂b on the broadcast operands
BINARY_OPS = {
    "add": (lambda a, b: a + b, np.add, lambda a, b: np.ones_like(a), lambda a, b: np.ones_like(b)),
    "sub": (lambda a, b: a - b, np.subtract, lambda a, b: np.ones_like(a), lambda a, b: -np.ones_like(b)),
    "mul": (lambda a, b: a * b, np.multiply, lambda a, b: b, lambda a, b: a),
    "div": (lambda a, b: a / b, np.divide, lambda a, b: 1 / b, lambda a, b: -a / b**2),
    "pow": (lambda a, b: a**b, np.power, lambda a, b: b * a ** (b - 1), lambda a, b: a**b * np.log(a)),
    "maximum": (lambda a, b: a.maximum(b), np.maximum, lambda a, b: (a > b) * 1.0, lambda a, b: (b > a) * 1.0),
}


def summed_back(local_grad, shape, out_shape):
    """Σ of `local_grad` over every output position that element k of an operand of `shape`
    fed: the broadcast map of element numbers says which positions those are."""
    element_of = np.broadcast_to(np.arange(int(np.prod(shape))).reshape(shape), out_shape)
    return np.bincount(element_of.ravel(), weights=local_grad.ravel(), minlength=int(np.prod(shape))).reshape(shape)


@pytest.mark.parametrize("op", list(BINARY_OPS))
@given(shapes=pairs_of_shapes, seed=seeds)
def test_binary_op_gradients_have_the_operand_shapes_and_numpy_values(op, shapes, seed):
    (a_shape, b_shape), out_shape = shapes.input_shapes, shapes.result_shape
    a_values, b_values, grad_out = draw_values(seed, a_shape, b_shape, out_shape)
    if op in ("div", "pow"):  # stay inside the domain: b away from 0, a > 0
        b_values = np.sign(b_values) * (np.abs(b_values) + 0.5)
        a_values = np.abs(a_values) + 0.5 if op == "pow" else a_values
    ours, theirs, d_da, d_db = BINARY_OPS[op]
    a, b = leaf(a_values), leaf(b_values)

    out = ours(a, b)
    out.backward(Tensor(grad_out))

    A, B = np.broadcast_to(a_values, out_shape), np.broadcast_to(b_values, out_shape)
    np.testing.assert_allclose(out.numpy(), theirs(A, B), rtol=1e-12)
    assert a.grad.shape == a_shape and b.grad.shape == b_shape
    np.testing.assert_allclose(a.grad.numpy(), summed_back(grad_out * d_da(A, B), a_shape, out_shape), rtol=1e-10)
    np.testing.assert_allclose(b.grad.numpy(), summed_back(grad_out * d_db(A, B), b_shape, out_shape), rtol=1e-10)


@given(shape=shapes.filter(lambda s: len(s) > 0), data=st.data(), seed=seeds)
def test_summing_the_axes_one_by_one_in_any_order_is_the_sum_of_all(shape, data, seed):
    order = data.draw(st.permutations(range(len(shape))), label="order")
    negative = data.draw(st.booleans(), label="negative axes")
    (values,) = draw_values(seed, shape)
    x = leaf(values)
    total = x
    for axis in order:
        total = total.sum(axis=axis - len(shape) if negative else axis, keepdims=True)
    assert total.shape == (1,) * len(shape)
    np.testing.assert_allclose(total.item(), x.sum().item(), rtol=1e-12, atol=1e-12)
    total.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))


@given(shape=shapes, data=st.data(), seed=seeds)
def test_mean_is_sum_over_count(shape, data, seed):
    axes = data.draw(st.lists(st.integers(0, len(shape) - 1), unique=True), label="axes") if shape else []
    axis = tuple(axes) or None  # no axes drawn: reduce them all
    keepdims = data.draw(st.booleans(), label="keepdims")
    count = int(np.prod([shape[a] for a in axes] if axes else shape))
    (values,) = draw_values(seed, shape)
    x = leaf(values)
    mean = x.mean(axis=axis, keepdims=keepdims)
    np.testing.assert_allclose(mean.numpy(), (x.sum(axis=axis, keepdims=keepdims) / count).numpy(), rtol=1e-12)
    mean.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(shape, 1 / count))


@given(shape=shapes, seed=seeds)
def test_gradient_of_sum_is_ones(shape, seed):
    (values,) = draw_values(seed, shape)
    x = leaf(values)
    x.sum().backward()
    assert x.grad.shape == shape
    np.testing.assert_array_equal(x.grad.numpy(), np.ones(shape))


@given(shape=shapes, data=st.data(), seed=seeds)
def test_reshape_round_trip_is_the_identity(shape, data, seed):
    size = int(np.prod(shape))
    rows = data.draw(st.sampled_from([d for d in range(1, size + 1) if size % d == 0]), label="rows")
    values, grad_out = draw_values(seed, shape, shape)
    x = leaf(values)
    back = x.reshape(rows, size // rows).reshape(shape)
    np.testing.assert_array_equal(back.numpy(), values)
    back.backward(Tensor(grad_out))
    np.testing.assert_array_equal(x.grad.numpy(), grad_out)


@given(shape=matrix_shapes, data=st.data(), seed=seeds)
def test_transposing_twice_is_the_identity(shape, data, seed):
    ndim = len(shape)
    i = data.draw(st.integers(-ndim, ndim - 1), label="i")
    j = data.draw(st.integers(-ndim, ndim - 1), label="j")
    values, grad_out = draw_values(seed, shape, shape)
    x = leaf(values)
    twice = x.transpose(i, j).transpose(i, j)
    np.testing.assert_array_equal(twice.numpy(), values)
    np.testing.assert_array_equal(x.T.T.numpy(), values)
    twice.backward(Tensor(grad_out))
    np.testing.assert_array_equal(x.grad.numpy(), grad_out)


@given(shape=matrix_shapes, data=st.data(), seed=seeds)
def test_permute_then_inverse_permutation_is_the_identity(shape, data, seed):
    axes = data.draw(st.permutations(range(len(shape))), label="axes")
    (values,) = draw_values(seed, shape)
    x = leaf(values)
    moved = x.permute(*axes)
    assert moved.shape == tuple(shape[a] for a in axes)
    np.testing.assert_array_equal(moved.permute(*np.argsort(axes).tolist()).numpy(), values)


@given(shape=shapes.filter(lambda s: len(s) > 0), data=st.data(), seed=seeds)
def test_softmax_is_a_distribution_and_log_softmax_its_log(shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1), label="axis")
    scale = data.draw(st.sampled_from([0.1, 1.0, 100.0, 1e4]), label="scale")
    (values,) = draw_values(seed, shape)
    logits = Tensor(values * scale)
    probs = logits.softmax(axis)
    assert np.all(probs.numpy() >= 0) and np.all(probs.numpy() <= 1)
    np.testing.assert_allclose(probs.sum(axis=axis).numpy(), 1.0, rtol=1e-12)
    log_probs = logits.log_softmax(axis)
    assert np.all(np.isfinite(log_probs.numpy()))
    np.testing.assert_allclose(np.exp(log_probs.numpy()), probs.numpy(), rtol=1e-10, atol=1e-300)


@given(shape=shapes, seed=seeds)
def test_logsumexp_lies_between_max_and_max_plus_log_n(shape, seed):
    (values,) = draw_values(seed, shape)
    x = Tensor(values * 100)
    lse, largest = x.logsumexp().item(), x.max().item()
    assert largest <= lse <= largest + np.log(x.size) + 1e-9


@given(shape=shapes.filter(lambda s: len(s) > 0), seed=seeds)
def test_max_is_minus_min_of_minus(shape, seed):
    values, grad_out = draw_values(seed, shape, ())
    x = leaf(values)
    largest, smallest_of_negated = x.max(), -(-x).min()
    np.testing.assert_array_equal(largest.numpy(), smallest_of_negated.numpy())
    largest.backward(Tensor(grad_out))
    first = x.grad.numpy()
    x.zero_grad()
    smallest_of_negated.backward(Tensor(grad_out))
    np.testing.assert_array_equal(x.grad.numpy(), first)
    assert np.count_nonzero(first) == 1, "continuous values have one maximum, which gets the whole gradient"


@given(sizes=st.lists(st.integers(1, 3), min_size=1, max_size=4), seed=seeds)
def test_cat_then_slicing_gives_back_the_parts_and_their_gradients(sizes, seed):
    parts_values = draw_values(seed, *[(n, 2) for n in sizes])
    (grad_out,) = draw_values(seed + 1, (sum(sizes), 2))
    parts = [leaf(v) for v in parts_values]
    joined = tg.cat(parts, axis=0)
    joined.backward(Tensor(grad_out))
    start = 0
    for part, values, n in zip(parts, parts_values, sizes):
        np.testing.assert_array_equal(joined[start : start + n].numpy(), values)
        np.testing.assert_array_equal(part.grad.numpy(), grad_out[start : start + n])
        start += n
