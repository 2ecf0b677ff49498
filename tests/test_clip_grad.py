"""nn.utils.clip_grad_norm_ and clip_grad_value_: PyTorch's rules, by hand, in place, errors."""

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tinygrad_edu import Tensor, nn
from tinygrad_edu.nn.utils import clip_grad_norm_

SHAPES = [(3, 4), (4,), (), (2, 1, 3)]


def _params_with_grads(grads):
    params = []
    for g in grads:
        p = nn.Parameter(np.zeros(np.shape(g)))
        p.grad = None if g is None else Tensor(np.array(g, dtype=np.float64))
        params.append(p)
    return params


@pytest.mark.oracle
@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.5, float("inf"), "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_total_norm_and_clipped_grads_match_pytorch(torch, norm_type, max_norm):
    """max_norm 0.5 clips (the norms here are ~2-10); 1e3 leaves the gradients as they are."""
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal(shape) for shape in SHAPES]
    params = _params_with_grads(grads)
    twins = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in SHAPES]
    for twin, g in zip(twins, grads):
        twin.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm_(params, max_norm, norm_type=norm_type)
    total_torch = torch.nn.utils.clip_grad_norm_(twins, max_norm, norm_type=norm_type)
    assert type(total) is float, "a Python float (PyTorch returns a 0-d tensor)"
    assert total == pytest.approx(total_torch.item(), rel=1e-12)
    for i, (p, twin) in enumerate(zip(params, twins)):
        np.testing.assert_allclose(p.grad.numpy(), twin.grad.numpy(), rtol=1e-12, atol=0, err_msg=f"grad {i}")


def test_clipping_by_hand():
    """grads (3, 4) and (0,): total √(9 + 16) = 5; max_norm 1 scales by 1 / (5 + 1e-6)."""
    params = _params_with_grads([[3.0, 4.0], [0.0]])
    total = clip_grad_norm_(params, max_norm=1.0)
    assert total == 5.0
    scale = 1.0 / (5.0 + 1e-6)
    np.testing.assert_allclose(params[0].grad.numpy(), [3.0 * scale, 4.0 * scale], rtol=1e-15)
    np.testing.assert_array_equal(params[1].grad.numpy(), [0.0])


def test_norms_of_other_orders_by_hand():
    """grads (3, −4) and (−12,): ‖·‖₁ = 19, ‖·‖_∞ = 12, ‖·‖₂ = 13."""
    for norm_type, expected in [(1, 19.0), (float("inf"), 12.0), (2, 13.0)]:
        params = _params_with_grads([[3.0, -4.0], [-12.0]])
        assert clip_grad_norm_(params, max_norm=100, norm_type=norm_type) == pytest.approx(expected, rel=1e-15)


def test_in_place_skipping_params_without_grad_and_counting_the_change():
    params = _params_with_grads([[30.0, 40.0], None, [0.0, 0.0]])
    grad_array = params[0].grad.data
    version = params[0].grad._version
    total = clip_grad_norm_(iter(params), max_norm=5.0)
    assert total == 50.0, "the parameter without .grad is left out of the norm"
    assert params[0].grad.data is grad_array, "scaled in place"
    np.testing.assert_allclose(grad_array, [3.0, 4.0], rtol=1e-6)
    assert params[0].grad._version == version + 1, "an in-place change counts"
    assert params[1].grad is None


def test_no_clipping_below_max_norm_changes_nothing():
    params = _params_with_grads([[0.3, 0.4]])
    version = params[0].grad._version
    assert clip_grad_norm_(params, max_norm=1.0) == pytest.approx(0.5)
    np.testing.assert_array_equal(params[0].grad.numpy(), [0.3, 0.4])
    assert params[0].grad._version == version


def test_a_single_tensor_and_no_grads_at_all():
    (p,) = _params_with_grads([[6.0, 8.0]])
    assert clip_grad_norm_(p, max_norm=20.0) == 10.0, "a single Tensor is accepted, as in PyTorch"
    assert clip_grad_norm_(_params_with_grads([None, None]), max_norm=1.0) == 0.0
    assert clip_grad_norm_(_params_with_grads([np.zeros((0, 3))]), max_norm=1.0, norm_type="inf") == 0.0


def test_float32_grads_stay_float32():
    model = nn.Linear(3, 2)
    (model(Tensor(np.full((4, 3), 10.0, dtype=np.float32))) ** 2).sum().backward()
    total = clip_grad_norm_(model.parameters(), max_norm=1.0)
    assert all(p.grad.dtype == np.float32 for p in model.parameters())
    clipped = math.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in model.parameters()))
    assert total > 1.0 and clipped == pytest.approx(1.0, rel=1e-5)


@pytest.mark.oracle
def test_a_nan_gradient_makes_every_gradient_nan_as_in_pytorch(torch):
    grads = [[1.0, float("nan")], [2.0]]
    params = _params_with_grads(grads)
    twins = [torch.zeros(len(g), dtype=torch.float64, requires_grad=True) for g in grads]
    for twin, g in zip(twins, grads):
        twin.grad = torch.tensor(g, dtype=torch.float64)
    ours, theirs = clip_grad_norm_(params, max_norm=1.0), torch.nn.utils.clip_grad_norm_(twins, 1.0)
    assert math.isnan(ours) and math.isnan(theirs.item())
    for p, twin in zip(params, twins):
        assert np.isnan(p.grad.numpy()).all() and twin.grad.isnan().all(), "a NaN must not pass unseen"


def test_error_if_nonfinite():
    params = _params_with_grads([[1.0, float("inf")]])
    with pytest.raises(RuntimeError, match="total norm of order 2.0 of the gradients is inf"):
        clip_grad_norm_(params, max_norm=1.0, error_if_nonfinite=True)
    np.testing.assert_array_equal(params[0].grad.numpy(), [1.0, float("inf")], err_msg="left as it was")


@given(
    arrays(np.float64, (3, 2), elements=st.floats(-1e3, 1e3)),
    arrays(np.float64, 4, elements=st.floats(-1e3, 1e3)),
    st.floats(0.1, 100.0),
    st.sampled_from([1.0, 2.0, 3.0, float("inf")]),
)
def test_after_clipping_the_norm_is_at_most_max_norm_and_directions_stay(g1, g2, max_norm, norm_type):
    params = _params_with_grads([g1, g2])
    total = clip_grad_norm_(params, max_norm, norm_type)
    after = np.linalg.norm(np.concatenate([p.grad.numpy().ravel() for p in params]), ord=norm_type)
    assert after <= max_norm * (1 + 1e-9), f"the norm {after} exceeds max_norm {max_norm}"
    scale = min(1.0, max_norm / (total + 1e-6))
    for p, g in zip(params, (g1, g2)):
        np.testing.assert_allclose(p.grad.numpy(), g * scale, rtol=1e-12, atol=1e-300, err_msg="each scaled alike")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(max_norm=-1.0), ValueError, "max_norm >= 0, got -1.0"),
        (dict(max_norm=float("nan")), ValueError, "max_norm >= 0, got nan"),
        (dict(max_norm=1.0, norm_type=0), ValueError, "norm_type > 0.*got 0.0"),
        (dict(max_norm=1.0, norm_type=-2), ValueError, "norm_type > 0.*got -2.0"),
        (dict(max_norm="big"), ValueError, "must be numbers, got 'big'"),
    ],
)
def test_bad_norms_are_value_errors(kwargs, error, message):
    params = _params_with_grads([[1.0]])
    with pytest.raises(error, match=message):
        clip_grad_norm_(params, **kwargs)


def test_what_is_not_parameters_is_a_type_error():
    with pytest.raises(TypeError, match="Tensors, got ndarray at position 1"):
        clip_grad_norm_([nn.Parameter(np.ones(1)), np.ones(1)], max_norm=1.0)
    with pytest.raises(TypeError, match="a Tensor or an iterable of Tensors, got float"):
        clip_grad_norm_(3.0, max_norm=1.0)


def test_nn_utils_is_reachable_from_nn():
    assert nn.utils.clip_grad_norm_ is clip_grad_norm_


# --------------------------------------------------------------------------- clip_grad_value_
@pytest.mark.oracle
@pytest.mark.parametrize("clip_value", [0.0, 0.5, 3.0])
def test_clip_grad_value_matches_pytorch(torch, clip_value):
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(shape) * 2 for shape in SHAPES]
    grads[0][0, 0] = np.nan  # a NaN stays NaN, as in PyTorch
    params = _params_with_grads(grads)
    twins = [torch.zeros(shape, dtype=torch.float64, requires_grad=True) for shape in SHAPES]
    for twin, g in zip(twins, grads):
        twin.grad = torch.tensor(g)
    held = [p.grad for p in params]
    assert nn.utils.clip_grad_value_(params, clip_value) is None
    torch.nn.utils.clip_grad_value_(twins, clip_value)
    for p, twin, grad in zip(params, twins, held):
        assert p.grad is grad, "in place: the same .grad tensor"
        np.testing.assert_array_equal(p.grad.numpy(), twin.grad.numpy())


def test_clip_grad_value_by_hand_and_its_errors():
    (p,) = _params_with_grads([[-3.0, -0.5, 0.0, 2.0]])
    nn.utils.clip_grad_value_(p, 1)
    assert p.grad.tolist() == [-1.0, -0.5, 0.0, 1.0]
    nn.utils.clip_grad_value_(_params_with_grads([None]), 1.0)  # a parameter without .grad is skipped
    with pytest.raises(ValueError, match="clip_value >= 0, got -1"):
        nn.utils.clip_grad_value_(p, -1)
    with pytest.raises(ValueError, match="must be a number"):
        nn.utils.clip_grad_value_(p, "big")
    with pytest.raises(TypeError, match="parameters must be"):
        nn.utils.clip_grad_value_(3.0, 1.0)
