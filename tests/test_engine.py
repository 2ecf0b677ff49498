"""The backward engine: its order, accumulation, graph freeing, create_graph, grad mode.

Expected gradients are derived by hand in each test (the derivation is in its docstring)."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, autograd


def leaf(values):
    """A float64 leaf that requires grad."""
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


# ---------------------------------------------------------------------- order
def test_deep_chain_runs_backward_without_recursion():
    """y = x · c^N after N multiplications, so dy/dx = c^N (= e² for c = 1 + 1e-5, N = 200,000)."""
    steps, c = 200_000, 1.00001
    x = leaf(1.0)
    y = x
    for _ in range(steps):
        y = y * c
    y.backward()  # a recursive topological sort would raise RecursionError here
    np.testing.assert_allclose(x.grad.item(), c**steps, rtol=1e-9)
    np.testing.assert_allclose(y.item(), c**steps, rtol=1e-9)


def test_backward_order_puts_every_node_after_all_its_consumers():
    x = leaf([0.5, -1.0])
    a = x.exp()
    b = a * x
    c = a.sigmoid() + b
    d = (c * a).sum()
    order = autograd.backward_order(d.grad_fn)
    position = {fn: i for i, fn in enumerate(order)}
    assert len(position) == len(order) == 6, f"each node once, got {[fn.name for fn in order]}"
    assert order[0] is d.grad_fn
    for fn in order:
        for t in fn.inputs:
            if t.grad_fn is not None:
                assert position[t.grad_fn] > position[fn], f"{t.grad_fn.name} ran before its consumer {fn.name}"


# ---------------------------------------------------------------------- accumulation
def test_gradients_accumulate_in_leaves_across_backward_calls():
    """d(3x)/dx = 3, twice: 6; .grad is a Tensor of x's shape and dtype."""
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    assert isinstance(x.grad, Tensor)
    (x * 3).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [6.0, 6.0])
    assert x.grad.shape == x.shape and x.grad.dtype == x.dtype


def test_a_tensor_used_several_times_gets_the_summed_gradient():
    """f = x·x + eˣ·x, f' = 2x + eˣ + x·eˣ"""
    values = np.array([0.3, -1.2, 2.0])
    x = leaf(values)
    (x * x + x.exp() * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * values + np.exp(values) + values * np.exp(values))


def test_x_plus_x_counts_both_uses():
    """Add hands the same gradient object to both of its inputs: x gets it twice, 2."""
    x = leaf([1.0, -4.0])
    (x + x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 2.0])


def test_shared_first_gradient_is_not_mutated():
    """y = a + b; z = y·1 + y·2, so dz/da = dz/db = 3; the given gradient is left as it was."""
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    y = a + b
    z = y * 1 + y * 2
    grad_out = Tensor(np.array([1.0, 10.0]))
    z.backward(grad_out)
    np.testing.assert_allclose(a.grad.numpy(), [3.0, 30.0])
    np.testing.assert_allclose(b.grad.numpy(), [3.0, 30.0])
    np.testing.assert_allclose(grad_out.numpy(), [1.0, 10.0], err_msg="backward changed the gradient it was given")


@pytest.mark.parametrize("first", ["sum", "product"], ids=["sum-first", "product-first"])
def test_gradient_shared_with_a_leaf_is_copied_before_accumulating(first):
    """s = a + p and out = s + 3p with p = 2x: Add gives its gradient G to the leaf a and to p;
    p then receives 3G more. Accumulating into G in place would change a.grad as well.
    d out/da = 1, d out/dx = 2·(1 + 3) = 8."""
    a, x = leaf([1.0, 2.0]), leaf([0.5, -0.5])
    p = x * 2
    s = a + p
    out = s + p * 3 if first == "sum" else p * 3 + s
    (out * Tensor(np.array([1.0, -2.0]))).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), [1.0, -2.0])
    np.testing.assert_allclose(x.grad.numpy(), [8.0, -16.0])


def test_broadcast_operand_gradient_is_summed_back_to_its_shape():
    """out = a·b with a (2, 3), b (3,) and c (2, 1): d⟨out, G⟩/db = Σ_rows G·a, and so on."""
    rng = np.random.default_rng(0)
    a_values, b_values, c_values = rng.standard_normal((2, 3)), rng.standard_normal(3), rng.standard_normal((2, 1))
    grad_out = rng.standard_normal((2, 3))
    a, b, c = leaf(a_values), leaf(b_values), leaf(c_values)
    (a * b + c).backward(Tensor(grad_out))
    assert b.grad.shape == (3,) and c.grad.shape == (2, 1)
    np.testing.assert_allclose(a.grad.numpy(), grad_out * b_values)
    np.testing.assert_allclose(b.grad.numpy(), (grad_out * a_values).sum(axis=0))
    np.testing.assert_allclose(c.grad.numpy(), grad_out.sum(axis=1, keepdims=True))


def test_only_leaves_get_grad():
    x = leaf([1.0, 2.0])
    hidden = x * 2
    hidden.sigmoid().sum().backward()
    assert x.grad is not None
    assert hidden.grad is None, "an intermediate tensor kept a .grad"
    assert x.is_leaf and not hidden.is_leaf


def test_zero_grad_sets_none():
    x = leaf([1.0])
    (x * 2).sum().backward()
    x.zero_grad()
    assert x.grad is None
    (x * 5).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [5.0], err_msg="zero_grad left an old gradient behind")


def test_detach_shares_data_and_stops_the_gradient():
    """f = x · detach(x): only the first factor carries a gradient, df/dx = x (not 2x)."""
    x = leaf([3.0, -1.0])
    constant = x.detach()
    assert constant.data is x.data or np.shares_memory(constant.data, x.data)
    assert not constant.requires_grad and constant.grad_fn is None and constant.is_leaf
    (x * constant).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, -1.0])


def test_backward_with_a_gradient_for_a_non_scalar_output():
    """y = x² elementwise, backward(G): x.grad = 2x·G"""
    x = leaf([1.0, -2.0, 3.0])
    y = x**2
    y.backward(gradient=Tensor(np.array([1.0, 0.5, -1.0])))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, -2.0, -6.0])


def test_backward_of_a_leaf_sets_its_own_grad():
    x = leaf([1.0, 2.0])
    x.backward(gradient=Tensor(np.array([4.0, 5.0])))
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 5.0])


def test_the_seed_gradient_is_an_array_of_its_own():
    """d(a + b)/da is the seed 1 itself, so it becomes a.grad: a new array each backward,
    never one of the cached constants (which are read-only)."""
    a, b = leaf(2.0), leaf(3.0)
    (a + b).backward()
    assert a.grad.data.flags.writeable
    seed = a.grad.data
    (a * 1.0 + b).backward()
    assert a.grad.item() == 2.0 and b.grad.item() == 2.0
    assert seed == 1.0, "the first seed is unchanged by the second backward"


def test_float32_leaf_gets_a_float32_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 0.5 + x.sigmoid()).sum().backward()
    assert x.grad.dtype == np.float32


def test_node_that_receives_no_gradient_is_skipped():
    """sign() is flat, so its backward returns None for its input. The Exp node before it
    then receives no gradient at all: backward must skip it (x gets no gradient), as it
    would for a leaf."""
    x = leaf([1.0, -2.0])
    y = x.exp().sign().sum() + x.sum()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [1.0, 1.0])


# ---------------------------------------------------------------------- freeing the graph
def test_retain_graph_allows_a_second_backward():
    """d(Σx²)/dx = 2x, twice: 4x"""
    x = leaf([1.0, -3.0])
    y = (x**2).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, -12.0])


def test_second_backward_through_a_freed_graph_raises():
    x = leaf([1.0, 2.0])
    y = x.sigmoid().sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time") as error:
        y.backward()
    assert "retain_graph=True" in str(error.value), "the message should say how to keep the graph"


def test_graph_links_remain_after_backward_but_saved_values_are_freed():
    x = leaf([0.5, 1.5])
    hidden = x.tanh()
    y = (hidden * 3).sum()
    y.backward()
    assert y.grad_fn.inputs[0].grad_fn.name == "Mul"
    assert hidden.grad_fn.inputs[0] is x, "backward cut the link from the graph to its leaf"
    assert hidden.grad_fn.output is hidden
    for fn in autograd.backward_order(y.grad_fn):
        assert fn.saved is autograd.FREED, f"{fn.name} kept its saved values"


def test_input_gradients_refuses_a_freed_node():
    x = leaf([1.0])
    y = x.exp()
    y.backward(Tensor(np.ones(1)))
    with pytest.raises(RuntimeError, match="Exp"):
        autograd.input_gradients(y.grad_fn, Tensor(np.ones(1)))


class ScaledRelu(tg.Function):
    """2·relu(x), keeping its mask in `saved` for backward: f'(x) = 2·[x > 0]"""

    formula = "∂/∂x = 2[x > 0]"

    def forward(self, x):
        self.saved = x > 0
        return 2 * x * self.saved

    def backward(self, grad):
        return grad * Tensor(self.saved) * 2


def test_replay_recomputes_what_backward_freed():
    x = leaf([-1.0, 2.0, 3.0])
    y = ScaledRelu.apply(x)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [0.0, 2.0, 2.0])
    assert y.grad_fn.saved is autograd.FREED
    y.grad_fn.replay()
    np.testing.assert_array_equal(y.grad_fn.saved, [False, True, True])


# ---------------------------------------------------------------------- create_graph
def test_create_graph_gives_the_second_derivative_of_a_cube():
    """f = x³: f' = 3x², f'' = 6x"""
    values = np.array([0.5, -2.0, 3.0])
    x = leaf(values)
    (x**3).sum().backward(create_graph=True)
    first = x.grad
    np.testing.assert_allclose(first.numpy(), 3 * values**2)
    assert first.requires_grad and first.grad_fn is not None, "create_graph=True should record the backward pass"
    x.zero_grad()
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * values)


def test_create_graph_with_a_tensor_used_twice():
    """f = x·x + x³: f' = 2x + 3x², f'' = 2 + 6x"""
    values = np.array([1.0, -0.5])
    x = leaf(values)
    (x * x + x**3).sum().backward(create_graph=True)
    first = x.grad
    x.zero_grad()
    first.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 + 6 * values)


def test_hessian_vector_product_by_hand():
    """f(x) = ½ xᵀAx + Σ xᵢ³/3: ∇f = ½(A + Aᵀ)x + x², H = ½(A + Aᵀ) + diag(2x), and
    d(∇f · v)/dx = H v."""
    rng = np.random.default_rng(0)
    A, x_values, v = rng.standard_normal((3, 3)), rng.standard_normal(3), rng.standard_normal(3)
    x = leaf(x_values)
    f = (x @ Tensor(A) @ x) * 0.5 + (x**3).sum() / 3
    f.backward(create_graph=True)
    gradient = x.grad
    np.testing.assert_allclose(gradient.numpy(), 0.5 * (A + A.T) @ x_values + x_values**2)
    x.zero_grad()
    (gradient * Tensor(v)).sum().backward()
    hessian = 0.5 * (A + A.T) + np.diag(2 * x_values)
    np.testing.assert_allclose(x.grad.numpy(), hessian @ v)


# ---------------------------------------------------------------------- grad mode
def test_nothing_is_recorded_under_no_grad():
    x = leaf([1.0, 2.0])
    with tg.no_grad():
        assert not tg.is_grad_enabled()
        y = (x * 2).exp()
    assert tg.is_grad_enabled()
    assert y.grad_fn is None and not y.requires_grad and y.is_leaf


def test_no_grad_as_a_decorator():
    @tg.no_grad()
    def predict(x):
        assert not tg.is_grad_enabled()
        return x.sigmoid()

    y = predict(leaf([0.0]))
    assert y.grad_fn is None and not y.requires_grad
    assert tg.is_grad_enabled(), "the decorator must restore grad mode"


def test_no_grad_restores_grad_mode_after_an_exception():
    with pytest.raises(ZeroDivisionError), tg.no_grad():
        raise ZeroDivisionError
    assert tg.is_grad_enabled()


def test_enable_grad_inside_no_grad_records_again():
    x = leaf([1.0, 2.0])
    with tg.no_grad():
        with tg.enable_grad():
            assert tg.is_grad_enabled()
            y = x * 3
        assert not tg.is_grad_enabled()
    assert y.grad_fn is not None and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 3.0])


def test_nothing_is_recorded_when_no_input_requires_grad():
    a, b = Tensor(np.array([1.0, 2.0])), Tensor(np.array([3.0, 4.0]))
    y = (a * b).exp().sum()
    assert y.grad_fn is None and not y.requires_grad


def test_result_requires_grad_when_one_input_does():
    a, b = leaf([1.0]), Tensor(np.array([2.0]))
    y = a * b
    assert y.requires_grad and not y.is_leaf
    y.sum().backward()
    assert b.grad is None, "an input that does not require grad got a gradient"
    np.testing.assert_allclose(a.grad.numpy(), [2.0])
