"""nn.Module bookkeeping, Sequential, the layers and nn.init."""

import math

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, nn


class TwoLayer(nn.Module):
    """A model written by hand: own parameter first, then two children."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(np.ones(1, dtype=np.float32))
        self.hidden = nn.Linear(2, 4)
        self.not_a_parameter = Tensor([1.0, 2.0])
        self.out = nn.Sequential(nn.Tanh(), nn.Linear(4, 1))

    def forward(self, x):
        return self.out(self.hidden(x) * self.scale)


# ---------------------------------------------------------------------- registration
def test_parameters_are_registered_in_assignment_order_own_first():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "hidden.weight", "hidden.bias", "out.1.weight", "out.1.bias"]
    assert [id(p) for p in model.parameters()] == [id(p) for _, p in model.named_parameters()]
    assert model.hidden.weight in set(model.parameters())


def test_parameters_is_an_iterator_and_plain_tensors_are_not_registered():
    model = TwoLayer()
    params = model.parameters()
    assert iter(params) is params
    assert not any(p is model.not_a_parameter for p in model.parameters())


def test_children_and_modules():
    model = TwoLayer()
    assert list(model.children()) == [model.hidden, model.out]
    assert [name for name, _ in model.named_children()] == ["hidden", "out"]
    assert list(model.modules()) == [model, model.hidden, model.out, model.out[0], model.out[1]]


def test_reassigning_an_attribute_replaces_the_registration():
    model = TwoLayer()
    model.hidden = nn.Identity()
    model.scale = None  # no longer a parameter
    assert [name for name, _ in model.named_parameters()] == ["out.1.weight", "out.1.bias"]
    del model.out
    assert list(model.parameters()) == []
    assert list(model.children()) == [model.hidden]


def test_assigning_a_tensor_to_a_parameter_name_is_a_type_error():
    model = TwoLayer()
    with pytest.raises(TypeError, match="cannot assign Tensor to Parameter 'scale'"):
        model.scale = model.scale * 2
    with pytest.raises(TypeError, match="cannot assign int to Module 'hidden'"):
        model.hidden = 3
    assert [name for name, _ in model.named_parameters()][0] == "scale"


def test_shared_parameter_appears_once():
    first = nn.Linear(3, 3)
    second = nn.Linear(3, 3)
    second.weight = first.weight
    model = nn.Sequential(first, second)
    assert [name for name, _ in model.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]


def test_assigning_a_parameter_before_init_is_a_clear_error():
    class Forgetful(nn.Module):
        def __init__(self):
            self.weight = nn.Parameter([1.0])

    with pytest.raises(AttributeError, match="super\\(\\).__init__"):
        Forgetful()


def test_parameter_requires_grad_and_shares_the_tensors_array():
    t = Tensor([1.0, 2.0])
    p = nn.Parameter(t)
    assert isinstance(p, Tensor) and p.requires_grad and p.is_leaf
    assert p.data is t.data
    assert nn.Parameter([1, 2.5]).dtype == np.float32
    assert repr(p).startswith("Parameter containing:\ntensor(")
    with pytest.raises(TypeError, match="floating-point"):
        nn.Parameter(np.arange(3))


def test_zero_grad_clears_every_parameter():
    model = TwoLayer()
    model(Tensor([[1.0, 2.0]])).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_train_and_eval_are_recursive():
    model = TwoLayer()
    assert all(m.training for m in model.modules())
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())
    model.out.train(False)
    assert model.training and model.hidden.training and not model.out[1].training


def test_call_is_forward():
    model = TwoLayer()
    x = Tensor([[0.5, -1.0]])
    np.testing.assert_array_equal(model(x).data, model.forward(x).data)
    with pytest.raises(NotImplementedError, match="forward"):
        nn.Module()(x)


# ---------------------------------------------------------------------- repr
def test_repr_of_a_sequential_like_pytorch():
    model = nn.Sequential(nn.Linear(2, 3), nn.Sigmoid())
    assert repr(model) == "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): Sigmoid()\n)"


def test_repr_nests_with_indentation():
    expected = (
        "TwoLayer(\n"
        "  (hidden): Linear(in_features=2, out_features=4, bias=True)\n"
        "  (out): Sequential(\n"
        "    (0): Tanh()\n"
        "    (1): Linear(in_features=4, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )
    assert repr(TwoLayer()) == expected


@pytest.mark.parametrize(
    "layer, text",
    [
        (nn.Linear(5, 1, bias=False), "Linear(in_features=5, out_features=1, bias=False)"),
        (nn.Softmax(), "Softmax(axis=-1)"),
        (nn.LogSoftmax(axis=0), "LogSoftmax(axis=0)"),
        (nn.ReLU(), "ReLU()"),
        (nn.Tanh(), "Tanh()"),
        (nn.Step(), "Step()"),
        (nn.Identity(), "Identity()"),
        (nn.Sequential(), "Sequential()"),
    ],
)
def test_layer_repr(layer, text):
    assert repr(layer) == text


# ---------------------------------------------------------------------- Sequential
def test_sequential_indexing_slicing_iteration():
    layers = [nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1), nn.Sigmoid()]
    model = nn.Sequential(*layers)
    assert len(model) == 4
    assert list(model) == layers
    assert model[0] is layers[0] and model[-1] is layers[3] and model[-4] is layers[0]
    head = model[:2]
    assert isinstance(head, nn.Sequential) and list(head) == layers[:2]
    tail = model[2:]
    assert list(tail.state_dict()) == ["2.weight", "2.bias"], "a slice keeps PyTorch's names"
    assert list(model[::-1]) == layers[::-1]
    with pytest.raises(IndexError, match="out of range"):
        model[4]
    with pytest.raises(IndexError, match="out of range"):
        model[-5]


def test_sequential_applies_in_order_and_rejects_non_modules():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 2))
    x = Tensor([[1.0, -2.0], [0.5, 0.25]])
    expected = model[2](model[1](model[0](x)))
    np.testing.assert_array_equal(model(x).data, expected.data)
    with pytest.raises(TypeError, match="Modules"):
        nn.Sequential(nn.ReLU(), lambda x: x)
    assert [name for name, _ in nn.Sequential().append(nn.Linear(1, 1)).named_parameters()] == ["0.weight", "0.bias"]


# ---------------------------------------------------------------------- to(device / dtype)
def test_to_dtype_converts_in_place_and_keeps_parameter_objects():
    model = TwoLayer()
    model(Tensor([[1.0, 2.0]])).sum().backward()
    before = list(model.parameters())
    assert model.to(np.float64) is model
    assert list(model.parameters()) == before
    assert all(p.dtype == np.float64 and p.grad.dtype == np.float64 for p in model.parameters())


def test_to_cpu_is_a_no_op_and_unknown_devices_are_value_errors():
    model = TwoLayer()
    weight = model.hidden.weight.data
    assert model.to("cpu") is model and model.hidden.weight.data is weight
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        model.to("tpu")


@pytest.mark.cuda
def test_to_cuda_moves_data_and_grad_in_place():
    if not tg.cuda.is_available():
        pytest.skip("no GPU with CuPy here")
    model = TwoLayer()
    model(Tensor([[1.0, 2.0]])).sum().backward()
    params = list(model.parameters())
    expected = model.state_dict()
    model.to("cuda")
    assert list(model.parameters()) == params
    assert all(p.device == "cuda" and p.grad.device == "cuda" for p in params)
    for name, array in model.state_dict().items():
        assert isinstance(array, np.ndarray)
        np.testing.assert_array_equal(array, expected[name])
    out = model(Tensor([[1.0, 2.0]], device="cuda"))
    assert out.device == "cuda"
    model.to("cpu")
    assert all(p.device == "cpu" for p in params)


# ---------------------------------------------------------------------- Linear
def test_linear_shapes_and_init_range():
    tg.manual_seed(0)
    layer = nn.Linear(100, 300)
    assert layer.weight.shape == (300, 100) and layer.bias.shape == (300,)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    bound = 1 / math.sqrt(100)
    w = layer.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(layer.bias.numpy()).max() <= bound
    # U(-b, b) has mean 0 and standard deviation b/√3; 30,000 samples pin both to about 1%
    assert abs(w.mean()) < 0.01 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.02)
    assert np.abs(w).max() > 0.99 * bound, "the samples fill the whole interval"


def test_linear_init_is_seeded():
    tg.manual_seed(3)
    first = nn.Linear(4, 2).state_dict()
    tg.manual_seed(3)
    second = nn.Linear(4, 2).state_dict()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def test_linear_forward_is_one_fused_node():
    layer = nn.Linear(3, 2)
    x = Tensor(np.arange(6, dtype=np.float32).reshape(2, 3))
    y = layer(x)
    assert y.grad_fn.name == "Linear"
    assert [id(t) for t in y.grad_fn.inputs] == [id(x), id(layer.weight), id(layer.bias)]
    expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-6)


def test_linear_gradient_is_the_hand_derived_one(rng):
    layer = nn.Linear(3, 4).to(np.float64)
    x = Tensor(rng.standard_normal((5, 3)), requires_grad=True)
    G = rng.standard_normal((5, 4))
    layer(x).backward(G)
    W = layer.weight.numpy()
    np.testing.assert_allclose(x.grad.numpy(), G @ W, rtol=1e-12)
    np.testing.assert_allclose(layer.weight.grad.numpy(), G.T @ x.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), G.sum(axis=0), rtol=1e-12)


def test_linear_without_bias_and_batched_input_pass_gradcheck(rng):
    layer = nn.Linear(3, 2, bias=False).to(np.float64)
    assert layer.bias is None and [n for n, _ in layer.named_parameters()] == ["weight"]
    x = Tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    assert layer(x).shape == (2, 4, 2)
    # gradcheck perturbs its inputs in place, so layer.weight itself is checked
    assert tg.gradcheck(lambda x, weight: layer(x), [x, layer.weight])


def test_linear_wrong_input_width_names_both_shapes():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match=r"\(4, 5\).*\(2, 3\)"):
        layer(Tensor(np.zeros((4, 5), dtype=np.float32)))
    with pytest.raises(ValueError, match="in_features >= 1"):
        nn.Linear(0, 2)


# ---------------------------------------------------------------------- activations
@pytest.mark.parametrize(
    "layer, reference",
    [
        (nn.Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (nn.Tanh(), np.tanh),
        (nn.ReLU(), lambda x: np.maximum(x, 0)),
        (nn.Step(), lambda x: (x >= 0).astype(x.dtype)),
        (nn.Identity(), lambda x: x),
        (nn.Softmax(), lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
        (nn.Softmax(axis=0), lambda x: np.exp(x) / np.exp(x).sum(0, keepdims=True)),
        (nn.LogSoftmax(), lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    ],
)
def test_activation_values(layer, reference):
    x = np.array([[-2.0, -0.5, 0.0], [0.5, 1.0, 3.0]])
    np.testing.assert_allclose(layer(Tensor(x)).numpy(), reference(x), rtol=1e-12)


def test_step_has_zero_gradient():
    x = Tensor([-1.0, 0.0, 2.0], requires_grad=True)
    (nn.Step()(x) * Tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


# ---------------------------------------------------------------------- nn.init
def _big(dtype=np.float32, shape=(400, 250)):
    return Tensor(np.zeros(shape, dtype=dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_and_normal_statistics_and_dtype(dtype):
    tg.manual_seed(0)
    t = nn.init.uniform_(_big(dtype), -2.0, 4.0)
    assert t.dtype == dtype
    assert t.numpy().min() >= -2.0 and t.numpy().max() <= 4.0
    assert t.numpy().mean() == pytest.approx(1.0, abs=0.02)
    assert t.numpy().std() == pytest.approx(6 / math.sqrt(12), rel=0.01)
    t = nn.init.normal_(_big(dtype), mean=3.0, std=0.5)
    assert t.dtype == dtype
    assert t.numpy().mean() == pytest.approx(3.0, abs=0.005)
    assert t.numpy().std() == pytest.approx(0.5, rel=0.01)


def test_init_works_in_place_and_is_seeded():
    t = _big()
    array = t.data
    assert nn.init.ones_(t) is t and t.data is array and (array == 1).all()
    assert nn.init.zeros_(t) is t and (array == 0).all()
    tg.manual_seed(7)
    first = nn.init.normal_(_big()).numpy()
    tg.manual_seed(7)
    np.testing.assert_array_equal(nn.init.normal_(_big()).numpy(), first)


def test_xavier_uniform_bound():
    tg.manual_seed(1)
    t = nn.init.xavier_uniform_(_big(), gain=2.0)
    bound = 2.0 * math.sqrt(6 / (250 + 400))  # fan_in = 250 columns, fan_out = 400 rows
    w = t.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


@pytest.mark.parametrize(
    "a, mode, nonlinearity, gain, fan",
    [
        (0.0, "fan_in", "leaky_relu", math.sqrt(2), 250),
        (math.sqrt(5), "fan_in", "leaky_relu", math.sqrt(1 / 3), 250),
        (0.0, "fan_out", "relu", math.sqrt(2), 400),
        (0.0, "fan_in", "tanh", 5 / 3, 250),
        (0.0, "fan_in", "sigmoid", 1.0, 250),
    ],
)
def test_kaiming_uniform_bound(a, mode, nonlinearity, gain, fan):
    tg.manual_seed(2)
    w = nn.init.kaiming_uniform_(_big(), a=a, mode=mode, nonlinearity=nonlinearity).numpy()
    bound = gain * math.sqrt(3 / fan)
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(w).max() > 0.99 * bound
    assert w.std() == pytest.approx(bound / math.sqrt(3), rel=0.01)


def test_kaiming_with_a_sqrt5_is_linears_default_bound():
    tg.manual_seed(4)
    w = nn.init.kaiming_uniform_(_big(), a=math.sqrt(5)).numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(250) * (1 + 1e-6)


@pytest.mark.oracle
def test_calculate_gain_matches_pytorch(torch):
    for nonlinearity in ["linear", "sigmoid", "tanh", "relu", "selu"]:
        assert nn.init.calculate_gain(nonlinearity) == pytest.approx(torch.nn.init.calculate_gain(nonlinearity))
    for slope in [None, 0.2, math.sqrt(5)]:
        expected = torch.nn.init.calculate_gain("leaky_relu", slope)
        assert nn.init.calculate_gain("leaky_relu", slope) == pytest.approx(expected)


def test_init_errors():
    with pytest.raises(ValueError, match="at least 2 dimensions, got shape \\(5,\\)"):
        nn.init.xavier_uniform_(Tensor(np.zeros(5, dtype=np.float32)))
    with pytest.raises(ValueError, match="'fan_avg'"):
        nn.init.kaiming_uniform_(_big(), mode="fan_avg")
    with pytest.raises(ValueError, match="unknown nonlinearity 'swish'"):
        nn.init.kaiming_uniform_(_big(), nonlinearity="swish")
    with pytest.raises(ValueError, match="a <= b, got a=1, b=0"):
        nn.init.uniform_(_big(), 1, 0)
    with pytest.raises(ValueError, match="std >= 0"):
        nn.init.normal_(_big(), std=-1)
