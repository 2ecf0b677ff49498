"""The Tensor API: construction and copying, factories, dtype rules,
properties, conversions, comparisons, hashing, interplay with NumPy arrays, repr."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor


# ---------------------------------------------------------------------- construction
def test_tensor_wraps_a_float_array_without_copying():
    array = np.array([1.0, 2.0], dtype=np.float32)
    t = Tensor(array)
    array[0] = 5.0
    assert t.data[0] == 5.0, "Tensor(array) should share the array's memory, like torch.from_numpy"
    assert Tensor(array, dtype=np.float32).data is array


def test_tg_tensor_always_copies():
    array = np.array([1.0, 2.0], dtype=np.float32)
    t = tg.tensor(array)
    array[0] = 5.0
    assert t.data[0] == 1.0, "tg.tensor(array) should copy, like torch.tensor"
    assert not np.shares_memory(tg.tensor(t).data, t.data)


def test_casting_constructor_copies():
    array = np.array([1.0, 2.0], dtype=np.float32)
    t = Tensor(array, dtype=np.float64)
    assert t.dtype == np.float64 and not np.shares_memory(t.data, array)


@pytest.mark.parametrize(
    ("data", "dtype", "shape"),
    [
        (3.0, np.float32, ()),
        ([[1.0, 2.0]], np.float32, (1, 2)),
        ([1, 2, 3], np.int64, (3,)),
        (7, np.int64, ()),
        ([True, False], np.bool_, (2,)),
        (np.zeros((2, 2)), np.float64, (2, 2)),
        (np.float64(2.5), np.float64, ()),
        (np.arange(3, dtype=np.int32), np.int32, (3,)),
    ],
    ids=["float", "float-list", "int-list", "int", "bools", "float64-array", "numpy-scalar", "int32-array"],
)
def test_dtype_and_shape_of_data(data, dtype, shape):
    """Python floats become float32 (like PyTorch), ints int64; arrays keep their dtype."""
    t = Tensor(data)
    assert t.dtype == dtype and t.shape == shape


@pytest.mark.oracle
@pytest.mark.parametrize("data", [3.0, [[1.0, 2.0]], [1, 2], 7, [True], [1, 2.5]], ids=str)
def test_dtype_of_python_data_is_torchs(data, torch):
    assert str(Tensor(data).dtype) == str(torch.tensor(data).dtype).removeprefix("torch.")


def test_explicit_float64_from_python_floats_is_exact():
    """dtype=float64 must not pass through float32 on the way (0.1 would lose its digits)."""
    assert Tensor([0.1], dtype=np.float64).data[0] == 0.1
    assert tg.tensor(0.1, dtype=np.float64).item() == 0.1


def test_tensor_of_a_tensor_shares_its_data():
    t = Tensor(np.ones(2))
    assert Tensor(t).data is t.data


def test_requires_grad_in_the_constructor():
    t = Tensor([1.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert tg.tensor([1.0], requires_grad=True).requires_grad


# ---------------------------------------------------------------------- factories
SHAPED_FACTORIES = [tg.zeros, tg.ones, tg.randn, tg.rand, Tensor.zeros, Tensor.randn]


@pytest.mark.parametrize("factory", SHAPED_FACTORIES, ids=lambda f: f.__qualname__)
@pytest.mark.parametrize("shape_args", [(2, 3), ((2, 3),), ([2, 3],)], ids=["ints", "tuple", "list"])
def test_factories_take_a_shape_as_ints_or_one_tuple(factory, shape_args):
    t = factory(*shape_args)
    assert t.shape == (2, 3) and t.dtype == np.float32 and t.device == "cpu" and not t.requires_grad


@pytest.mark.parametrize("factory", SHAPED_FACTORIES, ids=lambda f: f.__qualname__)
def test_factories_take_dtype_requires_grad_and_device(factory):
    t = factory(4, dtype=np.float64, requires_grad=True, device="cpu")
    assert t.shape == (4,) and t.dtype == np.float64 and t.requires_grad and t.is_leaf and t.device == "cpu"


def test_factory_values():
    tg.manual_seed(0)
    np.testing.assert_array_equal(tg.zeros(2, 2).numpy(), np.zeros((2, 2)))
    np.testing.assert_array_equal(tg.ones(3).numpy(), np.ones(3))
    uniform = tg.rand(1000).numpy()
    assert uniform.min() >= 0 and uniform.max() < 1 and abs(uniform.mean() - 0.5) < 0.05
    normal = tg.randn(1000).numpy()
    assert abs(normal.mean()) < 0.15 and abs(normal.std() - 1) < 0.1


@pytest.mark.parametrize(
    ("shape", "value", "dtype", "expected_shape", "expected_dtype"),
    [
        (3, 2.5, None, (3,), np.float32),
        ((2, 2), 7, None, (2, 2), np.int64),
        (2, 1.5, np.float64, (2,), np.float64),
        ((), -1.0, None, (), np.float32),
    ],
)
def test_full(shape, value, dtype, expected_shape, expected_dtype):
    t = tg.full(shape, value, dtype=dtype, device="cpu")
    assert t.shape == expected_shape and t.dtype == expected_dtype
    np.testing.assert_array_equal(t.numpy(), np.full(expected_shape, value))
    assert tg.full(shape, float(value), requires_grad=True).requires_grad


def test_eye():
    np.testing.assert_array_equal(tg.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(tg.eye(2, 3).numpy(), np.eye(2, 3))
    t = tg.eye(2, dtype=np.float64, requires_grad=True, device="cpu")
    assert t.dtype == np.float64 and t.requires_grad and tg.eye(2).dtype == np.float32


@pytest.mark.parametrize(
    ("args", "dtype"),
    [((5,), None), ((1, 4), None), ((0, 1, 0.25), None), ((3,), np.float64), ((6, 0, -2), None)],
    ids=["stop", "start-stop", "float-step", "float64", "negative-step"],
)
def test_arange_matches_torch(args, dtype, torch):
    t = tg.arange(*args, dtype=dtype, device="cpu")
    expected = torch.arange(*args, dtype=None if dtype is None else torch.float64)
    np.testing.assert_array_equal(t.numpy(), expected.numpy())
    assert str(t.dtype) == str(expected.dtype).removeprefix("torch.")


def test_arange_with_requires_grad():
    t = tg.arange(0.0, 2.0, 0.5, requires_grad=True)
    assert t.requires_grad and t.dtype == np.float32


@pytest.mark.parametrize(("like", "fill"), [(tg.zeros_like, 0.0), (tg.ones_like, 1.0)], ids=["zeros", "ones"])
def test_zeros_like_and_ones_like(like, fill):
    source = Tensor(np.arange(6.0).reshape(2, 3))
    t = like(source)
    assert t.shape == (2, 3) and t.dtype == np.float64 and not t.requires_grad and t.device == "cpu"
    np.testing.assert_array_equal(t.numpy(), np.full((2, 3), fill))
    converted = like(source, dtype=np.float32, requires_grad=True, device="cpu")
    assert converted.dtype == np.float32 and converted.requires_grad


def test_manual_seed_makes_random_factories_reproducible():
    tg.manual_seed(42)
    first = (tg.randn(3).numpy(), tg.rand(2, 2).numpy(), tg.randn(2, dtype=np.float64).numpy())
    tg.manual_seed(42)
    second = (tg.randn(3).numpy(), tg.rand(2, 2).numpy(), tg.randn(2, dtype=np.float64).numpy())
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(tg.randn(3).numpy(), first[0]), "the generator should move on after a draw"
    tg.manual_seed(43)
    assert not np.array_equal(tg.randn(3).numpy(), first[0]), "another seed should give other numbers"


# ---------------------------------------------------------------------- dtype rules
# (a, b, op, dtype): torch.result_type's rules
DTYPE_RULES = [
    (np.array([1, 2]), 0.5, "mul", np.float32),
    (np.ones(2, np.float32), np.ones(2, np.float64), "mul", np.float64),
    (np.ones(2, np.float32), np.array(2.0), "mul", np.float32),
    (np.array([1, 2]), np.array([2, 4]), "div", np.float32),
    (np.array([1, 2]), 2, "div", np.float32),
    (np.array([1, 2]), np.array(2.0), "add", np.float64),
    (np.array([1, 2]), np.ones(2, np.float64), "add", np.float64),
    (np.array([True, False]), np.array([1, 2]), "add", np.int64),
    (np.array([True, False]), 1.5, "mul", np.float32),
    (np.ones(2, np.float32), 2, "add", np.float32),
    (np.ones(2, np.float32), True, "mul", np.float32),
    (np.array([1, 2], np.int32), np.array(3), "mul", np.int32),
    (np.array([1, 2]), 3, "add", np.int64),
    (np.array(2.0, np.float32), np.array(3.0), "add", np.float64),
]
OPERATIONS = {"add": lambda a, b: a + b, "mul": lambda a, b: a * b, "div": lambda a, b: a / b}


def _describe(operand):
    """int64, float64-0d (a 0-d array) or float (a Python number)"""
    if isinstance(operand, np.ndarray):
        return f"{operand.dtype}{'-0d' if operand.ndim == 0 else ''}"
    return type(operand).__name__


def _rule_id(rule):
    a, b, op, _ = rule
    return f"{_describe(a)}-{op}-{_describe(b)}"


@pytest.mark.parametrize("rule", DTYPE_RULES, ids=[_rule_id(r) for r in DTYPE_RULES])
def test_dtype_rules(rule):
    a, b, op, dtype = rule
    ours = OPERATIONS[op](Tensor(a), Tensor(b) if isinstance(b, np.ndarray) else b)
    assert ours.dtype == dtype, f"{_rule_id(rule)} gave {ours.dtype}, expected {np.dtype(dtype)}"
    # the other way round, with the number or the ndarray on the left: the reflected operators
    reflected = OPERATIONS[op](b, Tensor(a))
    assert reflected.dtype == dtype, f"{_rule_id(rule)} reflected gave {reflected.dtype}"


@pytest.mark.oracle
@pytest.mark.parametrize("rule", DTYPE_RULES, ids=[_rule_id(r) for r in DTYPE_RULES])
def test_dtype_rules_are_torchs(rule, torch):
    a, b, op, dtype = rule
    theirs = OPERATIONS[op](torch.from_numpy(a), torch.from_numpy(b) if isinstance(b, np.ndarray) else b)
    assert str(theirs.dtype).removeprefix("torch.") == np.dtype(dtype).name


def test_promotion_is_differentiable_and_casts_the_gradient_back():
    x = Tensor([1.0, 2.0], requires_grad=True)  # float32
    w = Tensor(np.array([3.0, 4.0]), requires_grad=True)  # float64
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


# ---------------------------------------------------------------------- properties
def test_properties():
    t = Tensor(np.zeros((4, 3, 2)))
    assert t.shape == (4, 3, 2) and t.ndim == 3 and t.dtype == np.float64
    assert t.size == 24 and isinstance(t.size, int) and t.numel() == 24
    assert len(t) == 4 and t.device == "cpu" and t.is_leaf
    assert t.T.shape == (2, 3, 4), "T reverses all axes, as in NumPy"
    np.testing.assert_array_equal(Tensor(np.arange(6).reshape(2, 3)).T.numpy(), np.arange(6).reshape(2, 3).T)
    assert Tensor([1.0, 2.0]).T.shape == (2,)


def test_len_of_a_0d_tensor():
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))


def test_iterating_gives_the_rows():
    rows = list(Tensor(np.arange(6.0).reshape(3, 2)))
    assert len(rows) == 3 and all(isinstance(r, Tensor) for r in rows)
    np.testing.assert_array_equal(rows[2].numpy(), [4.0, 5.0])


def test_is_leaf_and_grad_fn_name():
    x = Tensor([0.0], requires_grad=True)
    y = x.sigmoid()
    assert x.is_leaf and x.grad_fn is None
    assert not y.is_leaf and y.grad_fn.name == "Sigmoid"
    assert (y + 1).grad_fn.name == "Add" and (x @ x).grad_fn.name == "MatMul" and x.sum().grad_fn.name == "Sum"


# ---------------------------------------------------------------------- conversions
def test_item_tolist_numpy():
    assert Tensor(np.array(2.5)).item() == 2.5 and isinstance(Tensor(np.array(2.5)).item(), float)
    assert Tensor([3]).item() == 3 and isinstance(Tensor([3]).item(), int)
    assert Tensor([[1, 2], [3, 4]]).tolist() == [[1, 2], [3, 4]]
    array = Tensor(np.arange(3.0)).numpy()
    assert isinstance(array, np.ndarray)
    np.testing.assert_array_equal(array, [0.0, 1.0, 2.0])
    assert float(Tensor([1.5])) == 1.5 and int(Tensor([4])) == 4
    assert f"{Tensor([0.123456]):.2f}" == "0.12"


def test_truth_value_of_several_elements_is_ambiguous():
    assert bool(Tensor([1.0]))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(Tensor([1.0, 2.0]))


def test_astype_and_to_dtype():
    x = Tensor([1.5, 2.5], requires_grad=True)
    y = x.to(np.float64)
    assert y.dtype == np.float64 and y.grad_fn.name == "Cast"
    assert x.astype(np.float32) is x and x.to(np.float32) is x and x.to("cpu") is x and x.cpu() is x
    (y * Tensor(np.array([2.0, 3.0]))).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 3.0])
    assert Tensor([1.7, -2.2]).astype(np.int64).tolist() == [1, -2]


def test_requires_grad_and_detach():
    t = Tensor([1.0]).requires_grad_()
    assert t.requires_grad
    y = t * 2
    assert not y.detach().requires_grad and y.detach().is_leaf
    with pytest.raises(RuntimeError, match="leaves only"):
        y.requires_grad_(False)


# ---------------------------------------------------------------------- comparisons, hashing, NumPy
@pytest.mark.parametrize(
    "compare",
    [
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: a == b,
        lambda a, b: a != b,
    ],
    ids=["lt", "le", "gt", "ge", "eq", "ne"],
)
def test_comparisons_give_bool_tensors_without_grad(compare):
    a_values, b_values = np.array([1.0, 2.0, 3.0]), np.array([3.0, 2.0, 1.0])
    a = Tensor(a_values, requires_grad=True)
    for other, other_values in [(Tensor(b_values), b_values), (2.0, 2.0)]:
        result = compare(a, other)
        assert result.dtype == np.bool_ and not result.requires_grad and result.grad_fn is None
        np.testing.assert_array_equal(result.numpy(), compare(a_values, other_values))


def test_logical_operators_on_bool_tensors():
    p, q = Tensor([True, True, False]), Tensor([True, False, False])
    assert (p & q).tolist() == [True, False, False] and (p | q).tolist() == [True, True, False]
    assert (~p).tolist() == [False, False, True]
    assert p.any() and not p.all()


def test_identity_hashing():
    a, b = Tensor([1.0]), Tensor([1.0])
    names = {a: "a", b: "b"}
    assert names[a] == "a" and names[b] == "b", "equal tensors are still different keys"
    assert a in {a} and b not in {a}


@pytest.mark.parametrize(
    "combine",
    [lambda n, t: n * t, lambda n, t: n + t, lambda n, t: n - t, lambda n, t: n / t, lambda n, t: n @ t],
    ids=["mul", "add", "sub", "div", "matmul"],
)
def test_ndarray_on_the_left_gives_a_tensor(combine):
    array = np.array([[1.0, 2.0], [3.0, 4.0]])
    t = Tensor(np.array([[0.5, 1.0], [2.0, 4.0]]), requires_grad=True)
    result = combine(array, t)
    assert isinstance(result, Tensor), f"got {type(result).__name__}"
    np.testing.assert_allclose(result.numpy(), combine(array, t.numpy()))
    result.sum().backward()
    assert t.grad is not None and t.grad.shape == t.shape


def test_repr():
    """Like PyTorch's: the values, then the dtype unless it is a default one, then the graph."""
    assert repr(Tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert repr(Tensor([3])) == "tensor([3])"
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    assert repr(x) == "tensor([0., 1.], dtype=float64, requires_grad=True)"
    text = repr(x.sigmoid())
    assert f"{1 / (1 + np.exp(-1)):.4f}" in text and text.endswith("dtype=float64, grad_fn=<Sigmoid>)")


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax(axis):
    values = np.array([[0.1, 3.0, -1.0], [2.0, 0.5, 7.0]])
    x = Tensor(values, requires_grad=True)
    result = x.argmax(axis)
    assert result.dtype == np.int64 and not result.requires_grad
    np.testing.assert_array_equal(result.numpy(), values.argmax(axis=axis))
