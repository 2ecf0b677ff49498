"""Bad input gets the exception the README's errors promise (ValueError for shapes and
axes, TypeError for data that is not numbers, RuntimeError for backward's misuse, ...),
with a message that says what was expected and what was given."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor
from tinygrad_edu.ops.matmul import Linear


def zeros(*shape):
    return Tensor(np.zeros(shape))


# ---------------------------------------------------------------------- shapes
@pytest.mark.parametrize(
    "combine",
    [lambda a, b: a + b, lambda a, b: a * b, lambda a, b: a.maximum(b), lambda a, b: tg.where(Tensor(True), a, b)],
    ids=["add", "mul", "maximum", "where"],
)
def test_shapes_that_do_not_broadcast(combine):
    with pytest.raises(ValueError) as error:
        combine(zeros(2, 3), zeros(4))
    message = str(error.value).replace(" ", "")
    assert "(2,3)" in message and "(4,)" in message, f"the message should name both shapes: {error.value}"


@pytest.mark.parametrize(
    ("a_shape", "b_shape"),
    [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((4,), (3, 2)), ((5, 2, 3), (4, 2))],
)
def test_matmul_shapes_that_do_not_match(a_shape, b_shape):
    with pytest.raises(ValueError, match="matmul") as error:
        zeros(*a_shape) @ zeros(*b_shape)
    assert str(a_shape) in str(error.value) and str(b_shape) in str(error.value)


def test_matmul_of_a_scalar():
    with pytest.raises(ValueError, match="at least one dimension"):
        zeros(2, 2) @ 2.0


def test_linear_with_a_weight_of_the_wrong_width():
    with pytest.raises(ValueError, match=r"\(5, 4\)"):
        Linear.apply(zeros(5, 4), zeros(3, 2))


def test_reshape_to_another_size():
    with pytest.raises(ValueError) as error:
        zeros(2, 3).reshape(4, 2)
    assert "(2, 3)" in str(error.value) and "(4, 2)" in str(error.value)


def test_expand_to_a_shape_it_cannot_reach():
    with pytest.raises(ValueError, match=r"shape \(3, 4\) to shape \(1, 4\)"):
        zeros(3, 4).expand(1, 4)
    with pytest.raises(ValueError, match=r"shape \(3, 1\) to shape \(2, 4\)"):
        zeros(3, 1).expand(2, 4)


BAD_AXES = {  # each call names an axis that a (2, 3) tensor does not have
    "sum": lambda x: x.sum(axis=2),
    "mean": lambda x: x.mean(axis=-3),
    "max": lambda x: x.max(axis=(0, 5)),
    "var": lambda x: x.var(axis=7),
    "logsumexp": lambda x: x.logsumexp(axis=2),
    "softmax": lambda x: x.softmax(axis=2),
    "log_softmax": lambda x: x.log_softmax(axis=-3),
    "argmax": lambda x: x.argmax(axis=2),
    "transpose": lambda x: x.transpose(0, 2),
    "squeeze": lambda x: x.squeeze(axis=4),
    "unsqueeze": lambda x: x.unsqueeze(3),
    "flatten": lambda x: x.flatten(2),
    "cat": lambda x: tg.cat([x, x], axis=2),
    "stack": lambda x: tg.stack([x, x], axis=3),
}


@pytest.mark.parametrize("op", list(BAD_AXES))
def test_an_axis_out_of_range(op):
    with pytest.raises(ValueError, match="out of range") as error:
        BAD_AXES[op](zeros(2, 3))
    assert "2 dimensions" in str(error.value) or "3 dimensions" in str(error.value)


@pytest.mark.parametrize("axes", [(0, 0, 1), (0, 1), (0, 1, 3), (2, 1, -4), (0, 1, 2, 3)])
def test_permute_needs_an_order_of_all_axes(axes):
    with pytest.raises(ValueError, match="all 3 axes") as error:
        zeros(2, 3, 4).permute(*axes)
    assert str(axes) in str(error.value)


def test_an_axis_named_twice():
    with pytest.raises(ValueError, match="twice"):
        zeros(2, 3).sum(axis=(1, -1))


def test_squeeze_of_an_axis_whose_length_is_not_one():
    with pytest.raises(ValueError) as error:
        zeros(2, 3).squeeze(1)
    assert "(2, 3)" in str(error.value) and "3, not 1" in str(error.value)


def test_stack_of_tensors_of_different_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*\(3,\)"):
        tg.stack([zeros(2), zeros(3)])


@pytest.mark.parametrize("join", [tg.cat, tg.stack])
def test_join_of_no_tensors(join):
    with pytest.raises(ValueError, match="got none"):
        join([])


def test_clip_without_bounds():
    with pytest.raises(ValueError, match="min, max or both"):
        zeros(2).clip()


def test_item_of_several_elements():
    with pytest.raises(ValueError, match=r"one element, got shape \(2,\)"):
        zeros(2).item()


# ---------------------------------------------------------------------- devices
class FakeGpuArray:
    """Stands in for a CuPy array where CuPy is missing: not an ndarray, and it has a
    `__cuda_array_interface__`, which is what the library takes as "on the GPU"."""

    __cuda_array_interface__ = {}

    def __init__(self, array):
        self.array = array

    dtype = property(lambda self: self.array.dtype)
    shape = property(lambda self: self.array.shape)
    ndim = property(lambda self: self.array.ndim)
    size = property(lambda self: self.array.size)


def on_fake_gpu(*shape, dtype=np.float64):
    t = Tensor(FakeGpuArray(np.ones(shape, dtype=dtype)))
    assert t.device == "cuda"
    return t


@pytest.mark.parametrize(
    "combine",
    [
        lambda cpu, gpu: cpu + gpu,
        lambda cpu, gpu: gpu * cpu,
        lambda cpu, gpu: cpu.astype(np.float32) + gpu,
        lambda cpu, gpu: tg.cat([cpu, gpu]),
        lambda cpu, gpu: tg.where(Tensor([True, False]), gpu, cpu),
        # the device check must not stop at the first input whose dtype differs
        lambda cpu, gpu: tg.where(Tensor([True, False]), cpu, gpu),
        lambda cpu, gpu: tg.cat([cpu, cpu.astype(np.float32), gpu]),
    ],
    ids=["add", "mul", "mixed-dtypes", "cat", "where-gpu-first", "where-gpu-last", "cat-mixed-dtypes"],
)
def test_tensors_on_different_devices(combine):
    with pytest.raises(ValueError, match="one device") as error:
        combine(Tensor(np.ones(2)), on_fake_gpu(2))
    assert '"cpu"' in str(error.value) and '"cuda"' in str(error.value), str(error.value)


@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor([1.0], device="tpu"),
        lambda: tg.tensor([1.0], device="tpu"),
        lambda: Tensor([1.0]).to("tpu"),
        lambda: tg.zeros(2, device="tpu"),
        lambda: tg.randn(2, device="tpu"),
        lambda: tg.eye(2, device="tpu"),
    ],
    ids=["Tensor", "tensor", "to", "zeros", "randn", "eye"],
)
def test_unknown_device_name(make):
    with pytest.raises(ValueError, match="unknown device 'tpu'") as error:
        make()
    assert "cpu" in str(error.value) and "cuda" in str(error.value), "the message should list the devices"


@pytest.mark.skipif(tg.cuda.is_available(), reason="a GPU and CuPy are present")
@pytest.mark.parametrize(
    "make",
    [lambda: Tensor([1.0], device="cuda"), lambda: Tensor([1.0]).to("cuda"), lambda: tg.zeros(2, device="cuda")],
    ids=["Tensor", "to", "zeros"],
)
def test_cuda_where_cupy_or_a_gpu_is_missing(make):
    with pytest.raises(RuntimeError, match='device "cuda" needs'):
        make()


# ---------------------------------------------------------------------- backward
def test_backward_of_a_non_scalar_without_gradient():
    y = Tensor(np.ones(2), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="one element") as error:
        y.backward()
    assert "(2,)" in str(error.value) and "gradient=" in str(error.value)


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = Tensor(np.ones(2), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"shape \(3,\) given for a tensor of shape \(2,\)"):
        y.backward(Tensor(np.ones(3)))


def test_backward_of_a_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Tensor([1.0]) * 2).sum().backward()


def test_second_backward_through_a_freed_graph():
    y = (Tensor(np.ones(2), requires_grad=True).exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time.*freed"):
        y.backward()


# ---------------------------------------------------------------------- dtypes and data
@pytest.mark.parametrize(
    "make",
    [
        lambda: Tensor([1, 2], requires_grad=True),
        lambda: tg.tensor([1, 2], requires_grad=True),
        lambda: Tensor([True, False]).requires_grad_(),
        lambda: tg.arange(3, requires_grad=True),
        lambda: tg.full(2, 7, requires_grad=True),
    ],
    ids=["Tensor", "tensor", "requires_grad_", "arange", "full"],
)
def test_requires_grad_on_an_integer_tensor(make):
    with pytest.raises(TypeError, match="floating-point") as error:
        make()
    assert "int64" in str(error.value) or "bool" in str(error.value), "the message should name the dtype given"


@pytest.mark.parametrize(
    ("data", "named"),
    [("abc", "<U3"), (["a", "b"], "<U1"), (None, "object"), ({"x": 1.0}, "object"), ([[1.0, 2.0], [3.0]], "one shape")],
    ids=["string", "strings", "None", "dict", "ragged"],
)
def test_data_that_is_not_numbers(data, named):
    with pytest.raises(TypeError, match="expected numbers") as error:
        Tensor(data)
    assert named in str(error.value)
