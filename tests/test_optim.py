"""SGD, Adam and AdamW: trajectories against PyTorch's (with param groups), hand-computed
steps, param groups, frozen parameters, version counts, dtypes, errors."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

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


def _params(model, groups):
    """model.parameters(), or one param group per (layer index, options) in groups."""
    if groups is None:
        return model.parameters()
    return [{"params": list(model[i].parameters()), **options} for i, options in groups]


def _train_side_by_side(torch, name, config, groups=None, steps=6):
    """Train the MLP and its PyTorch twin with the same optimizer; compare after each step."""
    model, x, y = _model_and_data()
    twin = _torch_twin(torch, model)
    opt = getattr(optim, name)(_params(model, groups), **config)
    twin_opt = getattr(torch.optim, name)(_params(twin, groups), **config)
    x_t, y_t = torch.from_numpy(x), torch.from_numpy(y)
    for step in range(steps):
        opt.zero_grad()
        ((model(Tensor(x)) - Tensor(y)) ** 2).mean().backward()
        opt.step()
        twin_opt.zero_grad()
        ((twin(x_t) - y_t) ** 2).mean().backward()
        twin_opt.step()
        for (key, p), q in zip(model.named_parameters(), twin.parameters()):
            np.testing.assert_allclose(
                p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=f"{name} {key} after step {step + 1}"
            )


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

ADAMW_CONFIGS = [
    dict(),  # weight_decay=1e-2 by default
    dict(lr=0.05, weight_decay=0.0),
    dict(lr=0.05, weight_decay=0.3),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1),
    dict(lr=0.03, betas=(0.0, 0.9), weight_decay=0.5),
]


def _config_id(value):
    return value if isinstance(value, str) else ",".join(f"{k}={v}" for k, v in value.items()) or "defaults"


@pytest.mark.oracle
@pytest.mark.parametrize(
    "name, config",
    [("SGD", c) for c in SGD_CONFIGS] + [("Adam", c) for c in ADAM_CONFIGS] + [("AdamW", c) for c in ADAMW_CONFIGS],
    ids=_config_id,
)
def test_trajectory_matches_pytorch(torch, name, config):
    _train_side_by_side(torch, name, config)


GROUP_CASES = [
    ("SGD", dict(lr=0.05), [(0, dict(momentum=0.9, nesterov=True)), (2, dict(lr=0.2, weight_decay=0.1))]),
    ("SGD", dict(lr=0.1, momentum=0.5, dampening=0.2), [(0, {}), (2, dict(momentum=0.0, dampening=0.0))]),
    ("Adam", dict(lr=0.02), [(0, dict(betas=(0.5, 0.9))), (2, dict(lr=0.1, weight_decay=0.2, eps=1e-4))]),
    ("AdamW", dict(lr=0.03), [(0, dict(weight_decay=0.0)), (2, dict(lr=0.01, weight_decay=0.5, betas=(0.7, 0.95)))]),
]


@pytest.mark.oracle
@pytest.mark.parametrize("name, config, groups", GROUP_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(GROUP_CASES)])
def test_param_groups_with_their_own_options_match_pytorch(torch, name, config, groups):
    _train_side_by_side(torch, name, config, groups)


@pytest.mark.oracle
@pytest.mark.parametrize(
    "name, config", [("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=0.05)), ("AdamW", dict(lr=0.05))]
)
def test_parameters_without_grad_are_skipped_like_pytorch(torch, name, config):
    """The second layer gets no gradient at the first step: its state starts one step later
    (and AdamW's decay skips it too)."""
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
            np.testing.assert_array_equal(model[2].weight.numpy(), before, err_msg="a parameter without .grad moved")
            assert model[2].weight not in opt.state
        for p, q in zip(model.parameters(), twin.parameters()):
            np.testing.assert_allclose(p.numpy(), q.detach().numpy(), rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------- by hand
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


def test_adamw_decays_the_weight_where_adam_decays_the_gradient():
    """p = (1, −2), g = (0.5, 0.5), lr 0.1, weight decay 0.5, first step (≈ lr · sign):
    AdamW: p ← p · (1 − 0.1 · 0.5) = (0.95, −1.9), then − 0.1 · sign(g) → (0.85, −2.0)
    Adam:  g ← g + 0.5 · p = (1.0, −0.5), then p − 0.1 · sign(g) → (0.9, −1.9)"""
    results = {}
    for name in ("AdamW", "Adam"):
        p = nn.Parameter(np.array([1.0, -2.0]))
        p.grad = Tensor(np.array([0.5, 0.5]))
        getattr(optim, name)([p], lr=0.1, weight_decay=0.5).step()
        results[name] = p.numpy()
    np.testing.assert_allclose(results["AdamW"], [0.85, -2.0], atol=1e-7, err_msg="AdamW: decoupled decay")
    np.testing.assert_allclose(results["Adam"], [0.9, -1.9], atol=1e-7, err_msg="Adam: L2 added to the gradient")


# ---------------------------------------------------------------------- param groups
def test_param_groups_hold_each_option_and_take_the_defaults_they_leave_out():
    a, b = nn.Parameter(np.zeros(2)), nn.Parameter(np.zeros(3))
    opt = optim.SGD([{"params": [a]}, {"params": b, "lr": 0.5, "momentum": 0.9}], lr=0.1, weight_decay=0.01)
    first, second = opt.param_groups
    assert first["params"][0] is a and len(first["params"]) == 1
    assert second["params"][0] is b and len(second["params"]) == 1, "a group's single Tensor becomes a list"
    assert (first["lr"], first["momentum"], first["weight_decay"]) == (0.1, 0.0, 0.01), "the constructor's values"
    assert (second["lr"], second["momentum"], second["weight_decay"]) == (0.5, 0.9, 0.01), "the group's own first"
    assert set(first) == {"params", "lr", "momentum", "dampening", "weight_decay", "nesterov"}


@pytest.mark.parametrize(
    "make, options",
    [
        (lambda ps: optim.Adam(ps), dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)),
        (lambda ps: optim.AdamW(ps), dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2)),
        (lambda ps: optim.SGD(ps, lr=0.1), dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0)),
    ],
)
def test_defaults_are_pytorchs(make, options):
    group = make([nn.Parameter(np.zeros(1))]).param_groups[0]
    assert {key: group[key] for key in options} == options


def test_changing_a_groups_lr_changes_the_next_step():
    """SGD with g = 2: lr 0.1 takes 1 to 0.8; then lr 0.5 takes it to 0.8 − 1.0 = −0.2.
    Adam with a constant g moves lr · sign(g) a step: 1 − 0.1 − 0.01 = 0.89."""
    p = nn.Parameter(np.array([1.0]))
    opt = optim.SGD([p], lr=0.1)
    for lr, expected in [(0.1, 0.8), (0.5, -0.2)]:
        opt.param_groups[0]["lr"] = lr
        p.grad = Tensor(np.array([2.0]))
        opt.step()
        assert p.item() == pytest.approx(expected, abs=1e-12)
    q = nn.Parameter(np.array([1.0]))
    adam = optim.Adam([q], lr=0.1)
    for lr in (0.1, 0.01):
        adam.param_groups[0]["lr"] = lr
        q.grad = Tensor(np.array([3.0]))
        adam.step()
    assert q.item() == pytest.approx(0.89, abs=1e-7)


def test_add_param_group_adds_a_group_with_the_defaults():
    a, b = nn.Parameter(np.ones(2)), nn.Parameter(np.ones(2))
    opt = optim.SGD([a], lr=0.1)
    opt.add_param_group({"params": [b], "lr": 0.5})
    a.grad, b.grad = Tensor(np.ones(2)), Tensor(np.ones(2))
    opt.step()
    np.testing.assert_allclose(a.numpy(), [0.9, 0.9], err_msg="first group: lr 0.1")
    np.testing.assert_allclose(b.numpy(), [0.5, 0.5], err_msg="added group: lr 0.5")
    with pytest.raises(ValueError, match="more than one param group"):
        opt.add_param_group({"params": [a]})


def test_an_empty_group_is_accepted_as_in_pytorch():
    """A "no weight decay" group may be empty (a model without biases)."""
    w = nn.Parameter(np.ones(2))
    opt = optim.AdamW([{"params": [w]}, {"params": [], "weight_decay": 0.0}])
    w.grad = Tensor(np.ones(2))
    opt.step()
    assert len(opt.param_groups) == 2 and opt.param_groups[1]["params"] == []
    assert (w.numpy() < 1).all(), "the other group still steps"


SGD_OPTIONS = dict(
    lr=st.floats(0, 1),
    momentum=st.floats(0, 0.99),
    dampening=st.floats(0, 0.9),
    weight_decay=st.floats(0, 0.5),
)


@given(st.fixed_dictionaries(SGD_OPTIONS), st.fixed_dictionaries(SGD_OPTIONS), st.integers(0, 2**32 - 1))
def test_two_groups_step_as_two_optimizers_would(first, second, seed):
    """Groups are independent: one optimizer with two groups moves each parameter exactly
    as an optimizer of its own with the group's options would."""
    rng = np.random.default_rng(seed)
    start = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    grads = [[rng.standard_normal(s.shape) for s in start] for _ in range(3)]
    together = [nn.Parameter(s.copy()) for s in start]
    apart = [nn.Parameter(s.copy()) for s in start]
    opt = optim.SGD([{"params": [together[0]], **first}, {"params": [together[1]], **second}], lr=0.1)
    opts = [optim.SGD([apart[0]], **first), optim.SGD([apart[1]], **second)]
    for step_grads in grads:
        for p, q, g in zip(together, apart, step_grads):
            p.grad, q.grad = Tensor(g.copy()), Tensor(g.copy())
        opt.step()
        for each in opts:
            each.step()
    for p, q in zip(together, apart):
        np.testing.assert_array_equal(p.numpy(), q.numpy(), err_msg="a group stepped unlike its own optimizer")


# ---------------------------------------------------------------------- what a step changes
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW"])
def test_a_frozen_parameter_is_accepted_and_never_moves(name):
    model, x, y = _model_and_data()
    frozen = model[0].weight.requires_grad_(False)
    before = frozen.numpy().copy()
    version = frozen._version
    trainable = [p for p in model.parameters() if p is not frozen]
    starts = [p.numpy().copy() for p in trainable]
    opt = getattr(optim, name)(model.parameters(), lr=0.1, weight_decay=0.1)
    for _ in range(3):
        opt.zero_grad()
        ((model(Tensor(x)) - Tensor(y)) ** 2).mean().backward()
        opt.step()
    np.testing.assert_array_equal(frozen.numpy(), before, err_msg=f"{name} moved a frozen parameter")
    assert frozen._version == version and frozen not in opt.state
    assert all((p.numpy() != start).any() for p, start in zip(trainable, starts)), "the trainable parameters moved"


@pytest.mark.parametrize("make", [lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9), optim.Adam, optim.AdamW])
def test_a_step_bumps_the_version_of_each_parameter_it_changes(make):
    layer = nn.Linear(2, 1)
    versions = (layer.weight._version, layer.bias._version)
    opt = make(layer.parameters())
    layer.weight.grad = Tensor(np.ones((1, 2), dtype=np.float32))
    opt.step()
    opt.step()
    assert layer.weight._version == versions[0] + 2, "two steps, two in-place changes"
    assert layer.bias._version == versions[1], "the bias had no .grad: untouched"


def test_backward_through_a_graph_built_before_the_step_refuses():
    w = nn.Parameter(np.array([1.0, 2.0]))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    optim.SGD([w], lr=0.1).step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=np.float64(0.1), momentum=np.float64(0.9), weight_decay=np.float64(0.01)),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
        lambda ps: optim.Adam(ps, lr=np.float64(0.01), betas=(np.float64(0.9), 0.99), weight_decay=0.1),
        lambda ps: optim.AdamW(ps, lr=np.float64(0.01), weight_decay=np.float64(0.1)),
    ],
)
def test_float32_parameters_and_state_stay_float32(make):
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(5, 1))
    arrays = [p.data for p in model.parameters()]
    opt = make(model.parameters())
    x = Tensor(np.ones((4, 3), dtype=np.float32))
    for step in range(3):
        opt.param_groups[0]["lr"] = np.float64(0.01 * (step + 1))  # as a user or a schedule may set it
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    for p, array in zip(model.parameters(), arrays):
        assert p.dtype == np.float32 and p.data is array, "updated in place, in float32"
    for state in opt.state.values():
        assert all(b.dtype == np.float32 for b in state.values() if isinstance(b, np.ndarray)), "state in float32"


def test_step_records_no_graph_and_zero_grad_clears_every_group():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    opt = optim.SGD([{"params": model[0].parameters()}, {"params": model[1].parameters(), "lr": 0.5}], lr=0.1)
    model(Tensor([[1.0, 2.0]])).sum().backward()
    opt.step()
    assert all(p.grad_fn is None and p.is_leaf for p in model.parameters())
    opt.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_optimizer_takes_any_iterable():
    model = nn.Linear(2, 2)
    assert len(optim.SGD(model.parameters(), lr=0.1).param_groups[0]["params"]) == 2
    assert len(optim.Adam(p for p in model.parameters()).param_groups[0]["params"]) == 2
    assert len(optim.AdamW(tuple(model.parameters())).param_groups[0]["params"]) == 2


def test_repr_lists_each_group_like_pytorch():
    a, b = nn.Parameter(np.zeros(1)), nn.Parameter(np.zeros(1))
    text = repr(optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1))
    assert text.startswith("SGD (\nParameter Group 0\n") and "Parameter Group 1\n" in text
    assert "    lr: 0.5\n" in text and "    lr: 0.1\n" in text and "params" not in text


# ---------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: optim.SGD(ps, lr=-0.1), "lr >= 0, got -0.1"),
        (lambda ps: optim.SGD(ps, lr=float("nan")), "lr >= 0, got nan"),
        (lambda ps: optim.SGD(ps, lr="0.1"), "lr >= 0, got 0.1"),
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
        (lambda ps: optim.AdamW(ps, weight_decay=-0.01), "weight_decay >= 0, got -0.01"),
        (lambda ps: optim.AdamW(ps, betas=(0.9, 1.5)), r"betas\[1\] < 1, got 1.5"),
        (lambda ps: optim.SGD([], lr=0.1), "empty parameter list"),
        (lambda ps: optim.Adam(iter([])), "empty parameter list"),
        (lambda ps: optim.SGD(ps + ps, lr=0.1), "more than once"),
        (lambda ps: optim.SGD([{"params": ps}, {"params": ps[:1]}], lr=0.1), "more than one param group"),
        (lambda ps: optim.SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": -1}], lr=0.1), r"-1 \(param group 1\)"),
        (lambda ps: optim.SGD([{"params": ps, "nesterov": True}], lr=0.1), r"momentum > 0.*\(param group 0\)"),
        (lambda ps: optim.Adam([{"params": ps, "betas": (0.9, 1.0)}]), r"betas\[1\] < 1, got 1.0 \(param group 0\)"),
        (lambda ps: optim.SGD([{"lr": 0.1}], lr=0.1), "needs a 'params' key, got the keys \\['lr'\\]"),
        (lambda ps: optim.SGD([ps[0] * 2], lr=0.1), "leaf Tensors.*got the output of Mul at position 0"),
    ],
)
def test_bad_hyperparameters_and_parameters_are_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make(list(nn.Linear(2, 1).parameters()))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda ps: optim.SGD(ps[0], lr=0.1), "iterable of Tensors or of param-group dicts, got a Tensor"),
        (lambda ps: optim.AdamW(ps[0]), "got a Tensor: pass a list"),
        (lambda ps: optim.SGD([np.zeros(3)], lr=0.1), "Tensors, got ndarray at position 0"),
        (lambda ps: optim.SGD([{"params": [ps[0], 3.0]}], lr=0.1), r"got float at position 1 \(param group 0\)"),
        (lambda ps: optim.SGD(3.0, lr=0.1), "got float"),
        (lambda ps: optim.SGD(set(ps), lr=0.1), "ordered iterable.*got a set"),
        (lambda ps: optim.SGD({"params": ps}, lr=0.1), "got one dict"),
        (lambda ps: optim.SGD([{"params": ps[:1]}, ps[1:]], lr=0.1), "must be a dict.*got list"),
    ],
)
def test_what_is_not_parameters_is_a_type_error(make, message):
    with pytest.raises(TypeError, match=message):
        make(list(nn.Linear(2, 1).parameters()))


@pytest.mark.oracle
@pytest.mark.parametrize(
    "name, config",
    [("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.1)), ("AdamW", dict(lr=0.1))],
)
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
        assert w.shape == () and w.item() == pytest.approx(w_t.item(), rel=1e-12)
