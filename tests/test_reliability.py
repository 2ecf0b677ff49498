"""Nothing silently wrong: grad mode per thread, in-place changes caught, custom Functions
checked, only real floats require grad, edge values as PyTorch, strict factories, and
leaves that own their gradients. Each test here failed on the code before these rules."""

import sys
import threading
import tracemalloc
import warnings
import weakref

import numpy as np
import pytest

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Function, Tensor, autograd, nn, optim
from tinygrad_edu.ops.matmul import Linear


# ---------------------------------------------------------------------- 1. grad mode per thread
def run_threads(*targets):
    """Run each target in a thread of its own; re-raise the first exception one of them met."""
    errors = []

    def guarded(target):
        try:
            target()
        except BaseException as error:  # noqa: BLE001 - handed to the main thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    if errors:
        raise errors[0]


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    inside, done = threading.Barrier(2, timeout=30), threading.Barrier(2, timeout=30)
    recorded = []

    def quiet():
        with tg.no_grad():
            inside.wait()  # the other thread records while this one sits in no_grad
            done.wait()

    def busy():
        inside.wait()
        x = Tensor([1.0, 2.0], requires_grad=True)
        recorded.extend((x * 2 + 1).grad_fn is not None for _ in range(200))
        done.wait()

    run_threads(quiet, busy)
    assert all(recorded) and len(recorded) == 200, "ops in a thread outside no_grad must all be recorded"


def test_backward_in_one_thread_and_no_grad_in_another_leave_each_mode_as_found():
    entered, backward_done = threading.Barrier(2, timeout=30), threading.Barrier(2, timeout=30)
    modes = {}

    def quiet():
        with tg.no_grad():
            entered.wait()
            backward_done.wait()
            modes["quiet inside"] = tg.is_grad_enabled()
        modes["quiet after"] = tg.is_grad_enabled()

    def learner():
        x = Tensor([1.0, 2.0], requires_grad=True)
        loss = (x * x).sum()
        entered.wait()
        loss.backward()  # runs its formulas in no-grad mode and restores this thread's mode
        modes["learner after backward"] = tg.is_grad_enabled()
        backward_done.wait()

    run_threads(quiet, learner)
    assert modes == {"quiet inside": False, "quiet after": True, "learner after backward": True}
    assert tg.is_grad_enabled(), "the main thread's mode must be untouched"


def test_a_new_thread_starts_with_grad_enabled_whatever_the_starting_thread_does():
    seen = []
    with tg.no_grad():
        run_threads(lambda: seen.append(tg.is_grad_enabled()))
    assert seen == [True]


def test_two_threads_train_two_models_at_once():
    start = threading.Barrier(2, timeout=30)
    final_losses = {}

    def train(name, seed):
        X = tg.data.make_blobs(64, seed=seed)[0]
        y = (X[:, :1] > 0).astype(np.float32)
        rng = np.random.default_rng(seed)
        w = Tensor(rng.standard_normal((2, 1)).astype(np.float32), requires_grad=True)
        opt = optim.SGD([w], lr=0.5)
        start.wait()
        for _ in range(150):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(Tensor(X) @ w, Tensor(y))
            loss.backward()
            assert w.grad is not None, "every step must reach the weight"
            opt.step()
        final_losses[name] = loss.item()

    run_threads(lambda: train("a", 1), lambda: train("b", 2))
    assert final_losses["a"] < 0.3 and final_losses["b"] < 0.3, final_losses


# ---------------------------------------------------------------------- 2. in-place changes
def test_an_optimizer_step_between_forward_and_backward_is_an_error():
    w = Tensor([1.0, 2.0], requires_grad=True)
    loss = (w * w).sum()
    w.grad = Tensor([0.1, 0.1])
    optim.SGD([w], lr=1.0).step()  # w changes in place: the Mul above read the old w
    with pytest.raises(RuntimeError, match="modified by an inplace operation.*Mul"):
        loss.backward()


def test_without_a_change_the_same_gradient_is_right():
    w = Tensor([1.0, 2.0], requires_grad=True)
    (w * w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [2.0, 4.0])


def test_a_node_that_reads_nothing_does_not_object_as_in_pytorch():
    w = Tensor([1.0, 2.0], requires_grad=True)
    total = (w + 1).sum()
    with tg.no_grad():
        w += 5
    total.backward()
    np.testing.assert_allclose(w.grad.numpy(), [1.0, 1.0])


def test_a_change_of_the_output_that_backward_reads_is_an_error():
    x = Tensor([0.5, 1.0], requires_grad=True)
    y = x.exp()
    with tg.no_grad():
        y *= 2
    with pytest.raises(RuntimeError, match="the output of Exp"):
        y.sum().backward()


def test_a_view_shares_the_version_of_what_it_views():
    w = Tensor(np.ones((2, 2), np.float32), requires_grad=True)
    loss = (w * w).sum()
    with tg.no_grad():
        view = w.reshape(4)
        view += 1
    assert w._version == 1 and view._version == 1
    np.testing.assert_allclose(w.numpy(), 2.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


def test_in_place_operators_change_the_same_tensor_and_count_versions():
    t = Tensor([1.0, 2.0])
    same = t
    t += 1
    t -= Tensor([0.5, 0.5])
    t *= 4
    t /= 2
    assert t is same and t._version == 4
    np.testing.assert_allclose(t.numpy(), [3.0, 5.0])


def test_in_place_on_a_tensor_that_requires_grad_needs_no_grad():
    w = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"t = t \+ x"):
        w += 1
    plain = Tensor([1.0, 2.0])
    with pytest.raises(RuntimeError, match="requires grad"):
        plain += w  # the result would depend on w, and that cannot be recorded
    with tg.no_grad():
        w -= 0.5
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])


def test_in_place_refuses_what_the_tensor_cannot_hold():
    counts = Tensor([1, 2])
    with pytest.raises(TypeError, match="int64"):
        counts *= 0.5
    row = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"\(2, 2\)"):
        row += Tensor(np.ones((2, 2), np.float32))
    assert row._version == 0, "a refused change is no change"


# ---------------------------------------------------------------------- 3. custom Functions checked
class Doubler(Function):
    """2x, with a backward that returns whatever `self.reply` says."""

    def forward(self, x, reply):
        return 2 * x

    def backward(self, grad):
        return self.attrs["reply"](grad)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (lambda g: (g * 2, g * 2), r"2 gradient\(s\) for 1 input"),
        (lambda g: (), r"0 gradient\(s\) for 1 input"),
        (lambda g: g.sum(), r"input 0, a gradient of shape \(\), expected the input's shape \(3,\)"),
        (lambda g: (g * 2).numpy(), "input 0, a ndarray, expected a Tensor"),
        (
            lambda g: (g * 2).astype(np.float32),
            "input 0, a gradient of dtype float32, expected the input's dtype float64",
        ),
    ],
    ids=["too many", "too few", "wrong shape", "an array", "wrong dtype"],
)
def test_a_custom_backward_that_returns_the_wrong_thing_is_named(reply, message):
    x = Tensor(np.ones(3), requires_grad=True)
    y = Doubler.apply(x, reply=reply)
    with pytest.raises(RuntimeError, match="Doubler.backward returned.*" + message):
        y.sum().backward()


def test_gradcheck_fails_on_a_gradient_of_the_wrong_shape():
    x = Tensor(np.ones(3), requires_grad=True)

    def fn(t):
        return Doubler.apply(t, reply=lambda g: g.sum())

    with pytest.raises(RuntimeError, match="shape"):
        tg.gradcheck(fn, (x,))
    assert tg.gradcheck(fn, (x,), raise_exception=False) is False


# ---------------------------------------------------------------------- 4. only real floats require grad
@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor(np.array([1 + 2j]), requires_grad=True),
        lambda: Tensor(np.array([1 + 2j])).requires_grad_(),
        lambda: setattr(Tensor([1, 2]), "requires_grad", True),
        lambda: setattr(Tensor(np.array([True])), "requires_grad", True),
        lambda: tg.tensor([1, 2], requires_grad=True),
    ],
    ids=["complex", "complex requires_grad_", "int attribute", "bool attribute", "int tensor()"],
)
def test_only_real_floating_point_tensors_require_grad(make):
    with pytest.raises(TypeError, match="floating-point"):
        make()


@pytest.mark.parametrize("data", [[1, 2], ["a", "b"]], ids=["dtype=object", "strings"])
def test_data_that_is_not_numbers_is_a_type_error(data):
    with pytest.raises(TypeError):
        Tensor(data, dtype=object if data == [1, 2] else None)


def test_a_cast_to_integers_passes_no_gradient():
    x = Tensor([1.5, 2.5], requires_grad=True)
    for cast in (x.astype(np.int64), x.to("int64")):
        assert not cast.requires_grad and cast.grad_fn is None
    assert x.astype(np.float64).requires_grad, "a cast between floats still carries the gradient"


# ---------------------------------------------------------------------- 7. edge values as PyTorch
@pytest.mark.oracle
def test_power_at_zero_has_pytorch_gradients(torch):
    base, exponent = np.array([0.0, 2.0, 0.0]), np.array([0.0, 0.0, 3.0])
    a, b = Tensor(base, requires_grad=True), Tensor(exponent, requires_grad=True)
    (a**b).sum().backward()
    ta, tb = torch.tensor(base, requires_grad=True), torch.tensor(exponent, requires_grad=True)
    (ta**tb).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())
    x = Tensor([0.0, 1.0], requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])


@pytest.mark.oracle
@pytest.mark.parametrize("axis", [None, 1])
def test_max_with_a_nan_follows_pytorch(torch, axis):
    """The NaN is the max, and the gradient goes through it alone (along an axis, as
    torch.max(dim) sends it through its index)."""
    data = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]])
    x = Tensor(data, requires_grad=True)
    out = x.max() if axis is None else x.max(axis=axis)
    out.sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    tout = tx.max() if axis is None else tx.max(dim=axis).values
    tout.sum().backward()
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("ours", "theirs", "shape"),
    [
        (lambda t: t.mean(), lambda t: t.mean(), (0,)),
        (lambda t: t.var(), lambda t: t.var(), (1,)),
        (lambda t: t.var(), lambda t: t.var(), (0, 3)),
        (lambda t: t.softmax(-1), lambda t: t.softmax(-1), ()),
        (lambda t: t.log_softmax(-1), lambda t: t.log_softmax(-1), ()),
        (lambda t: t.logsumexp(), lambda t: t.logsumexp(dim=tuple(range(t.ndim))), ()),
        (lambda t: t.softmax(0), lambda t: t.softmax(0), (0, 3)),
        (lambda t: t.log_softmax(1), lambda t: t.log_softmax(1), (0, 3)),
        (lambda t: t.logsumexp(0), lambda t: t.logsumexp(0), (0, 3)),
    ],
    ids=[
        "mean empty",
        "var one",
        "var empty",
        "softmax 0-d",
        "log_softmax 0-d",
        "logsumexp 0-d",
        "softmax empty",
        "log_softmax empty",
        "logsumexp empty",
    ],
)
def test_too_few_elements_give_what_pytorch_gives(torch, ours, theirs, shape):
    data = np.full(shape, 0.5)
    x = Tensor(data, requires_grad=True)
    tx = torch.tensor(data, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division warnings, no exceptions
        out = ours(x)
        out.sum().backward()
    tout = theirs(tx)
    tout.sum().backward()
    np.testing.assert_array_equal(out.numpy(), tout.detach().numpy())
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_one_hot_never_builds_a_classes_by_classes_matrix():
    labels = np.array([[3, 19_999]] * 1, dtype=np.int64).repeat(2, axis=0)[:, 0]
    tracemalloc.start()
    encoded = F.one_hot(Tensor(labels), num_classes=20_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert encoded.shape == (2, 20_000) and encoded.numpy().sum() == 2
    assert peak < 20 * 2 * 20_000 * 8, f"one_hot of 2 labels took {peak / 1e6:.1f} MB"


def test_a_negative_zero_keeps_its_sign_next_to_a_zero():
    x = Tensor([1.0, 2.0])
    x * 0.0  # fills the constant cache with +0.0
    with np.errstate(divide="ignore"):
        np.testing.assert_array_equal((1 / (x * -0.0)).numpy(), [-np.inf, -np.inf])


@pytest.mark.parametrize("label", [1e20, np.inf, -1e30])
def test_labels_beyond_int64_are_reported_as_given(label):
    with pytest.raises(ValueError) as error:
        F.cross_entropy(Tensor(np.zeros((1, 3))), Tensor(np.array([label])))
    assert "-9223372036854775808" not in str(error.value)
    assert repr(float(label)) in str(error.value) or "inf" in str(error.value)


def test_kl_div_options_after_the_target_are_keyword_only():
    log_q, p = Tensor(np.log([[0.5, 0.5]])), Tensor([[0.9, 0.1]])
    with pytest.raises(TypeError):
        F.kl_div(log_q, p, "sum")
    with pytest.raises(TypeError):
        nn.KLDivLoss(True)


def test_huber_with_an_infinite_delta_is_half_the_squared_error():
    y_hat = Tensor([0.0, 3.0], requires_grad=True)
    loss = F.huber_loss(y_hat, Tensor([1.0, 1.0]), delta=float("inf"), reduction="sum")
    loss.backward()
    assert loss.item() == pytest.approx(0.5 * (1 + 4))
    np.testing.assert_allclose(y_hat.grad.numpy(), [-1.0, 2.0])


def test_gradcheck_leaves_its_input_unchanged_when_fn_raises():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    calls = []

    def fails_on_the_perturbed_call(t):
        calls.append(1)
        if len(calls) > 2:
            raise ArithmeticError("boom")
        return t * 2

    with pytest.raises(ArithmeticError):
        tg.gradcheck(fails_on_the_perturbed_call, (x,))
    np.testing.assert_array_equal(x.numpy(), [1.0, 2.0])


def test_no_grad_on_a_generator_function_holds_at_every_step():
    @tg.no_grad
    def steps():
        for _ in range(3):
            yield tg.is_grad_enabled()

    modes = []
    for inside in steps():
        modes.append((inside, tg.is_grad_enabled()))
    assert modes == [(False, True)] * 3, "inside the generator no_grad; between its steps the caller's mode"


# ---------------------------------------------------------------------- 8. strict API
@pytest.mark.parametrize("make", [lambda: tg.zeros(2.5), lambda: tg.ones((2, 1.5)), lambda: tg.full(2.0, 1.0)])
def test_a_shape_that_is_not_whole_is_a_type_error(make):
    with pytest.raises(TypeError, match="whole"):
        make()


def test_transpose_with_an_axis_out_of_range_is_a_value_error():
    with pytest.raises(ValueError, match="axis 5"):
        tg.zeros(2, 3).transpose(0, 5)


def test_arange_with_step_zero_is_a_value_error():
    with pytest.raises(ValueError, match="step"):
        tg.arange(0, 5, 0)


def test_each_leaf_owns_its_gradient():
    x, y = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0], requires_grad=True)
    (x + y).sum().backward()
    assert x.grad is not y.grad and not np.shares_memory(x.grad.data, y.grad.data)
    assert x.grad.data.flags.writeable and y.grad.data.flags.writeable
    x.grad.data[0] = 99.0
    assert y.grad.data[0] == 1.0


def test_a_gradient_given_to_backward_is_not_the_leaf_gradient():
    x = Tensor([1.0, 2.0], requires_grad=True)
    seed = Tensor([1.0, 1.0])
    (x + 0).backward(seed)
    x.grad.data[0] = 5.0
    assert seed.data[0] == 1.0


# ---------------------------------------------------------------------- apply's one fast path
@pytest.mark.parametrize(
    "call",
    [
        lambda: Tensor([1.0, 2.0], requires_grad=True).tanh(),
        lambda: Tensor([1.0, 2.0]) * Tensor([3.0, 4.0], requires_grad=True),
        lambda: Tensor([1.0, 2.0], requires_grad=True) + 0.5,
        lambda: -0.0 * Tensor([1.0, 2.0], requires_grad=True),
        lambda: Tensor([1, 2]) * 3,
        lambda: Tensor([1, 2]) * 0.5,
        lambda: Tensor([1.0, 2.0], requires_grad=True) * Tensor(np.array([1.0, 2.0])),
        lambda: Tensor([True, False]) * 2,
        lambda: Tensor(np.ones((2, 3), np.float32), requires_grad=True).reshape(3, 2),
        lambda: Tensor([1.0, -2.0], requires_grad=True) * Tensor([True, False]),
        lambda: Tensor(np.array([1, -2], np.int32)) * Tensor([True, False]),
        lambda: Tensor([True, False]) * Tensor([1.0, -2.0], requires_grad=True),
        lambda: Linear.apply(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3)), requires_grad=True), Tensor(np.ones(4))),
        lambda: Linear.apply(Tensor(np.ones((2, 3))), Tensor(np.ones((4, 3))), Tensor(np.ones(4))),
        lambda: Linear.apply(
            Tensor(np.ones((2, 3), np.float32)), Tensor(np.ones((4, 3)), requires_grad=True), Tensor(np.ones(4))
        ),
        lambda: tg.where(Tensor([True, False]), Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0, 4.0])),
    ],
    ids=[
        "one tensor",
        "two tensors",
        "tensor and float",
        "float and tensor",
        "int and int",
        "int and float",
        "float32 and float64",
        "bool and int",
        "a view",
        "float and bool mask",
        "int32 and bool mask",
        "bool mask and float",
        "three tensors",
        "three tensors, no gradient",
        "three tensors of two dtypes",
        "a bool condition and two tensors",
    ],
)
def test_the_fast_path_of_apply_builds_the_graph_of_the_plain_steps(call, monkeypatch):
    fast = call()
    monkeypatch.setattr(autograd, "_apply_fast", lambda cls, inputs, attrs: None)
    plain = call()
    assert (fast.dtype, fast.shape, fast.requires_grad) == (plain.dtype, plain.shape, plain.requires_grad)
    np.testing.assert_array_equal(fast.numpy(), plain.numpy())
    assert np.signbit(fast.numpy()).tolist() == np.signbit(plain.numpy()).tolist()
    assert type(fast.grad_fn) is type(plain.grad_fn)
    if fast.grad_fn is not None:
        for a, b in zip(fast.grad_fn.inputs, plain.grad_fn.inputs):
            assert (a.dtype, a.shape, a.requires_grad) == (b.dtype, b.shape, b.requires_grad)
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        assert fast.grad_fn.attrs == plain.grad_fn.attrs and fast.grad_fn.output is fast
    assert (fast._counter is None) == (plain._counter is None), "views share a counter on both paths"


@pytest.mark.skipif(
    sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11),
    reason="object sizes as laid out by CPython 3.11",
)
def test_a_node_is_the_size_of_its_output_and_of_the_weak_reference_to_it():
    # one pymalloc size class for the three objects of a node keeps them side by side,
    # which halves the garbage collector's walk over a deep graph (autograd._SlottedClass)
    x = Tensor(np.ones(3, np.float32), requires_grad=True)
    for output in (x.tanh(), x * 2.0, x.sum(axis=0), x[1:]):
        fn = output.grad_fn
        assert sys.getsizeof(fn) == sys.getsizeof(output) == sys.getsizeof(fn._output) == 80, type(fn).__name__


def test_a_node_takes_attributes_outside_its_slots():
    class Scaled(Function):
        def forward(self, x):
            self.scale = 3.0  # a custom Function's own attribute: kept in the instance's __dict__
            return x * self.scale

        def backward(self, grad):
            return grad * self.scale

    x = Tensor([1.0, 2.0], requires_grad=True)
    Scaled.apply(x).sum().backward()
    assert x.grad.tolist() == [3.0, 3.0]
    assert x.sum(axis=0).grad_fn.attrs == {"axis": (0,), "keepdims": False}


def test_a_function_class_may_name_its_own_slots():
    class Held(Function):
        __slots__ = ("__weakref__",)  # its nodes can be weakly referenced

        def forward(self, x):
            return x * 2

        def backward(self, grad):
            return grad * 2

    x = Tensor([1.0], requires_grad=True)
    y = Held.apply(x)
    assert weakref.ref(y.grad_fn)() is y.grad_fn
    y.sum().backward()
    assert x.grad.tolist() == [2.0]


def test_no_grad_in_one_asyncio_task_does_not_stop_recording_in_another():
    import asyncio

    x = Tensor([1.0], requires_grad=True)

    async def quiet(entered, done):
        with tg.no_grad():
            entered.set()
            await done.wait()  # the other task records while this one sits in no_grad
            return (x * 2).requires_grad

    async def recording(entered, done):
        await entered.wait()
        result = (x * 2).requires_grad
        done.set()
        return result

    async def main():
        entered, done = asyncio.Event(), asyncio.Event()
        return await asyncio.gather(quiet(entered, done), recording(entered, done))

    assert asyncio.run(main()) == [False, True]
