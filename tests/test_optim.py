"""SGD and Adam: trajectories against PyTorch's, hand-computed steps, dtypes, errors."""

import numpy as np
import pytest

from tinygrad_edu import Tensor, nn, optim


def _model_and_data(seed=0):
    """A small float64 MLP and a regression batch (the loss is written with Tensor ops)."""
    rng = np.random.default_rng(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(np.float64)
    for p in model.parameters():  # weights of different scales, so that weight decay shows
        p.data[...] = rng.standard_normal(p.shape)
    x = rng.standard_normal((8, 3))
    y = rng.standard_normal((8, 2))
    return model, x, y


def _torch_twin(torch, model):
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    twin.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
    return twin


SGD_CONFIGS = [
    dict(lr=0.1),
    dict(lr=0.1, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.5),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.1, weight_decay=0.1),
    dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.05),
    dict(lr=0.05, momentum=0.7, weight_decay=0.2, nesterov=True),
]

ADAM_CONFIGS = [
    dict(),
    dict(lr=0.05),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.03, betas=(0.0, 0.9), weight_decay=0.05),
]


@pytest.mark.oracle
@pytest.mark.parametrize(
    "name, config",
    [("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS],
    ids=lambda value: value if isinstance(value, str) else ",".join(f"{k}={v}" for k, v in value.items()),
)
def test_trajectory_matches_pytorch(torch, name, config):
    model, x, y = _model_and_data()
    twin = _torch_twin(torch, model)
    opt = getattr(optim, name)(model.parameters(), **config)
    twin_opt = getattr(torch.optim, name)(twin.parameters(), **config)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    for step in range(6):
        opt.zero_grad()
        ((model(Tensor(x)) - Tensor(y)) ** 2).mean().backward()
        opt.step()
        twin_opt.zero_grad()
        ((twin(x_t) - y_t) ** 2).mean().backward()
        twin_opt.step()
        for (key, p), q in zip(model.named_parameters(), twin.parameters()):
            np.testing.assert_allclose(
                p.numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-9, err_msg=f"{name} {key} after step {step + 1}"
            )


@pytest.mark.oracle
@pytest.mark.parametrize("name, config", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05))])
def test_parameters_without_grad_are_skipped_like_pytorch(torch, name, config):
    """The second layer gets no gradient at the first step: its state starts one step later."""
    model, x, y = _model_and_data(seed=1)
    twin = _torch_twin(torch, model)
    opt = getattr(optim, name)(model.parameters(), **config)
    twin_opt = getattr(torch.optim, name)(twin.parameters(), **config)
    for step in range(4):
        opt.zero_grad()
        twin_opt.zero_grad()
        if step == 0:
            model[0](Tensor(x)).sum().backward()
            twin[0](torch.from_numpy(x)).sum().backward()
            assert model[2].weight.grad is None
            before = model[2].weight.numpy().copy()
        else:
            ((model(Tensor(x)) - Tensor(y)) ** 2).mean().backward()
            ((twin(torch.from_numpy(x)) - torch.from_numpy(y)) ** 2).mean().backward()
        opt.step()
        twin_opt.step()
        if step == 0:
            np.testing.assert_array_equal(model[2].weight.numpy(), before)
            assert model[2].weight not in opt.state
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_sgd_step_by_hand():
    """Momentum 0.5, dampening 0.5, weight decay 0.1, lr 0.1, with a constant gradient 1:
    step 1: g = 1 + 0.1·2 = 1.2, b = 1.2 (undampened), p = 2 − 0.12 = 1.88
    step 2: g = 1 + 0.188 = 1.188, b = 0.6 + 0.594 = 1.194, p = 1.88 − 0.1194 = 1.7606"""
    p = nn.Parameter(np.array([2.0]))
    opt = optim.SGD([p], lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.1)
    for expected in [1.88, 1.7606]:
        p.grad = Tensor(np.array([1.0]))
        opt.step()
        assert p.item() == pytest.approx(expected, abs=1e-12)


def test_adam_first_step_by_hand():
    """At t = 1 the bias corrections undo the start at zero: m̂ = g, v̂ = g², so the step is
    lr · g / (|g| + eps) ≈ lr · sign(g), whatever the gradient's scale."""
    p = nn.Parameter(np.array([1.0, 1.0, 1.0]))
    p.grad = Tensor(np.array([1e-3, -5.0, 200.0]))
    optim.Adam([p], lr=0.1, eps=1e-8).step()
    np.testing.assert_allclose(p.numpy(), [0.9, 1.1, 0.9], atol=1e-5)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=np.float64(0.01)),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=np.float64(0.01), betas=(np.float64(0.9), 0.99), weight_decay=0.1),
    ],
)
def test_float32_parameters_and_state_stay_float32(make):
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))
    arrays = [p.data for p in model.parameters()]
    opt = make(model.parameters())
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    for p, array in zip(model.parameters(), arrays):
        assert p.dtype == np.float32 and p.data is array, "updated in place, in float32"
    for state in opt.state.values():
        buffers = state.values() if isinstance(state, dict) else [state]
        assert all(b.dtype == np.float32 for b in buffers if isinstance(b, np.ndarray))


def test_step_records_no_graph_and_zero_grad_clears():
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(Tensor([[1.0, 2.0]])).sum().backward()
    opt.step()
    assert all(p.grad_fn is None and p.is_leaf for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_optimizer_takes_any_iterable():
    model = nn.Linear(2, 2)
    assert len(optim.SGD(model.parameters(), lr=0.1).params) == 2
    assert len(optim.Adam(p for p in model.parameters()).params) == 2


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: optim.SGD(ps, lr=-0.1), "lr >= 0, got -0.1"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=-0.5), "momentum >= 0, got -0.5"),
        (lambda ps: optim.SGD(ps, lr=0.1, weight_decay=-1), "weight_decay >= 0, got -1"),
        (lambda ps: optim.SGD(ps, lr=0.1, nesterov=True), "nesterov=True needs momentum > 0.*momentum=0.0"),
        (lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening=0.1"),
        (lambda ps: optim.Adam(ps, lr=-1e-3), "lr >= 0, got -0.001"),
        (lambda ps: optim.Adam(ps, eps=-1e-8), "eps >= 0, got -1e-08"),
        (lambda ps: optim.Adam(ps, weight_decay=-0.1), "weight_decay >= 0, got -0.1"),
        (lambda ps: optim.Adam(ps, betas=(1.0, 0.999)), r"betas\[0\] < 1, got 1.0"),
        (lambda ps: optim.Adam(ps, betas=(0.9, -0.1)), r"betas\[1\] < 1, got -0.1"),
        (lambda ps: optim.Adam(ps, betas=(0.9,)), "a pair"),
        (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda ps: optim.SGD(ps + ps, lr=0.1), "more than once"),
    ],
)
def test_bad_hyperparameters_are_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make(list(nn.Linear(2, 1).parameters()))


def test_non_tensor_params_are_a_type_error():
    with pytest.raises(TypeError, match="Tensors, got ndarray at position 0"):
        optim.SGD([np.zeros(3)], lr=0.1)


@pytest.mark.oracle
@pytest.mark.parametrize("name, config", [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.1))])
def test_scalar_parameters(torch, name, config):
    """A one-number model y = w·x, as the first lessons write it: 0-d parameters work too."""
    w = nn.Parameter(np.array(2.0))
    w_t = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    opt, opt_t = getattr(optim, name)([w], **config), getattr(torch.optim, name)([w_t], **config)
    x, y = np.array([1.0, 2.0, 3.0]), np.array([0.5, 1.0, 1.5])
    for _ in range(5):
        opt.zero_grad()
        ((w * Tensor(x) - Tensor(y)) ** 2).mean().backward()
        opt.step()
        opt_t.zero_grad()
        ((w_t * torch.from_numpy(x) - torch.from_numpy(y)) ** 2).mean().backward()
        opt_t.step()
        assert w.shape == () and w.item() == pytest.approx(w_t.item(), rel=1e-9)
