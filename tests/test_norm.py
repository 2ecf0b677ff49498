"""Normalisation, dropout, embedding and GELU: the functional ops, their nn modules, and
the library's own error function.

The op table `NORM_CASES` (test_ops' OpCase rows) drives gradcheck in float64,
gradgradcheck and PyTorch as the oracle, through test_ops' own checks, and joins
test_cuda's table. Dropout, whose random numbers cannot match PyTorch's, is held to it
through a given mask and through statistics.
"""

import math

import numpy as np
import pytest
import test_ops
from hypothesis import given
from hypothesis import strategies as st
from test_ops import OpCase, normal

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, backend, nn
from tinygrad_edu.ops import norm

# ---------------------------------------------------------------------- the op table
DROP_MASK = np.random.default_rng(5).random((4, 5)) > 0.3
INDICES = np.array([[1, 4, 1], [0, 1, 3]])  # index 1 three times, 2 never: its rows' gradients add up
RUNNING_MEAN = np.array([0.5, -1.0, 2.0])
RUNNING_VAR = np.array([0.25, 2.0, 1.5])
SEED = 7


def _stats(x):
    """The fixed running statistics, on x's device (constants of an eval-mode batch_norm)."""
    return Tensor(RUNNING_MEAN, device=x.device), Tensor(RUNNING_VAR, device=x.device)


def _seeded_mask(shape, p):
    """The mask F.dropout draws right after tg.manual_seed(SEED)."""
    tg.manual_seed(SEED)
    return norm.dropout_mask(shape, p, "cpu")


def _seeded_dropout(x, p):
    tg.manual_seed(SEED)
    return F.dropout(x, p)


def _torch_stats(torch):
    return torch.from_numpy(RUNNING_MEAN.copy()), torch.from_numpy(RUNNING_VAR.copy())


NORM_CASES = [
    OpCase(
        "batch_norm-train-2d",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda torch, x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, training=True),
        (normal(5, 3), normal(3), normal(3)),
    ),
    OpCase(
        "batch_norm-train-4d",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
        lambda torch, x, w, b: torch.nn.functional.batch_norm(x, None, None, w, b, training=True),
        (normal(2, 3, 2, 3), normal(3), normal(3)),
    ),
    OpCase(
        "batch_norm-train-3d-no-affine",
        lambda x: F.batch_norm(x, None, None, training=True),
        lambda torch, x: torch.nn.functional.batch_norm(x, None, None, training=True),
        (normal(3, 2, 4),),
    ),
    OpCase(
        "batch_norm-eval-4d",
        lambda x, w, b: F.batch_norm(x, *_stats(x), w, b),
        lambda torch, x, w, b: torch.nn.functional.batch_norm(x, *_torch_stats(torch), w, b),
        (normal(2, 3, 2, 3), normal(3), normal(3)),
    ),
    OpCase(
        "layer_norm-last-axis",
        lambda x, w, b: F.layer_norm(x, 5, w, b),
        lambda torch, x, w, b: torch.nn.functional.layer_norm(x, (5,), w, b),
        (normal(2, 3, 5), normal(5), normal(5)),
    ),
    OpCase(
        "layer_norm-two-axes-no-affine",
        lambda x: F.layer_norm(x, (3, 4)),
        lambda torch, x: torch.nn.functional.layer_norm(x, (3, 4)),
        (normal(2, 3, 4),),
    ),
    OpCase(
        "layer_norm-weight-only",
        lambda x, w: F.layer_norm(x, (4,), w),
        lambda torch, x, w: torch.nn.functional.layer_norm(x, (4,), w),
        (normal(3, 4), normal(4)),
    ),
    OpCase("gelu", lambda x: F.gelu(x), lambda torch, x: torch.nn.functional.gelu(x), (normal(3, 4),)),
    OpCase(
        "gelu-tanh",
        lambda x: F.gelu(x, approximate="tanh"),
        lambda torch, x: torch.nn.functional.gelu(x, approximate="tanh"),
        (normal(3, 4),),
    ),
    OpCase(
        "embedding-repeated-indices",
        lambda w: F.embedding(INDICES, w),
        lambda torch, w: torch.nn.functional.embedding(torch.from_numpy(INDICES), w),
        (normal(5, 3),),
    ),
    OpCase(
        "dropout-given-mask",
        lambda x: norm.Dropout.apply(x, mask=backend.to_device(DROP_MASK, x.device), p=0.3),
        lambda torch, x: x * torch.from_numpy(DROP_MASK) / 0.7,
        (normal(4, 5),),
    ),
    OpCase(
        "dropout-seeded",
        lambda x: _seeded_dropout(x, 0.4),
        lambda torch, x: x * torch.from_numpy(_seeded_mask(tuple(x.shape), 0.4)) / 0.6,
        (normal(4, 5),),
    ),
]

SMOOTH = [case for case in NORM_CASES if case.smooth]


def _ids(cases):
    return [case.name for case in cases]


def test_table_names_are_unique_and_new():
    names = _ids(NORM_CASES)
    assert len(names) == len(set(names)), "two rows of the norm table share a name"
    assert not set(names) & set(_ids(test_ops.CASES)), "a norm row shares its name with a core row"


@pytest.mark.parametrize("case", NORM_CASES, ids=_ids(NORM_CASES))
def test_gradcheck(case):
    test_ops.test_gradcheck(case)


@pytest.mark.parametrize("case", SMOOTH, ids=_ids(SMOOTH))
def test_gradgradcheck(case):
    test_ops.test_gradgradcheck(case)


@pytest.mark.oracle
@pytest.mark.parametrize("case", NORM_CASES, ids=_ids(NORM_CASES))
def test_matches_torch(case, torch):
    test_ops.test_matches_torch(case, torch)


# ---------------------------------------------------------------------- the error function
def _reference(function, x):
    return np.array([function(v) for v in x.ravel().tolist()]).reshape(x.shape)


ERF_POINTS = np.concatenate(
    [
        np.linspace(-8.0, 8.0, 16001),  # both expansions and the switch between them at ±2.5
        np.random.default_rng(0).standard_normal(2000) * 3,
        [0.0, 1e-300, 5e-324, 1e-10, -1e-8, 2.5, np.nextafter(2.5, 3.0), 5.9, 26.0, 27.0, 1e5, -1e300],
    ]
)


def test_erf_is_within_1e_12_of_math_erf_and_keeps_its_relative_accuracy_near_zero():
    ours = norm.erf(ERF_POINTS)
    expected = _reference(math.erf, ERF_POINTS)
    np.testing.assert_allclose(ours, expected, rtol=1e-14, atol=1e-15, err_msg="erf against math.erf")
    assert np.abs(ours - expected).max() <= 1e-12


def test_erfc_follows_math_erfc_far_into_the_tail():
    """erfc from the continued fraction beyond 2.5 is accurate relative to its own tiny
    value (erfc(26) ≈ 6e-296); below 2.5 it is 1 − erf, within 2e-12 relative."""
    tail = np.linspace(np.nextafter(2.5, 3.0), 26.5, 24001)
    np.testing.assert_allclose(norm.erfc(tail), _reference(math.erfc, tail), rtol=1e-13, err_msg="erfc in the tail")
    body = np.linspace(-6.0, 2.5, 8501)
    np.testing.assert_allclose(norm.erfc(body), _reference(math.erfc, body), rtol=2e-12, err_msg="erfc below 2.5")


def test_erf_and_erfc_at_infinities_nan_and_signed_zero():
    x = np.array([np.inf, -np.inf, np.nan, 0.0, -0.0, 40.0, -40.0])
    np.testing.assert_array_equal(norm.erf(x), [1.0, -1.0, np.nan, 0.0, -0.0, 1.0, -1.0])
    np.testing.assert_array_equal(norm.erfc(x), [0.0, 2.0, np.nan, 1.0, 1.0, 0.0, 2.0])
    assert np.signbit(norm.erf(np.array([-0.0]))[0]), "erf(−0) is −0, as math.erf gives"


def test_erf_keeps_float32_and_shape():
    x = np.linspace(-4, 4, 24, dtype=np.float32).reshape(2, 3, 4)
    ours = norm.erf(x)
    assert ours.dtype == np.float32 and ours.shape == x.shape
    np.testing.assert_allclose(ours, _reference(math.erf, x.astype(np.float64)), rtol=2e-7, atol=1e-7)
    assert norm.erfc(x).dtype == np.float32


@given(st.floats(allow_nan=False, width=64))
def test_erf_matches_math_erf_anywhere_and_is_odd_and_complements_erfc(v):
    x = np.array([v, -v])
    ours = norm.erf(x)
    assert abs(ours[0] - math.erf(v)) <= 1e-12 + 1e-14 * abs(math.erf(v)), f"erf({v!r}) = {ours[0]!r}"
    assert ours[1] == -ours[0], f"erf(−x) ≠ −erf(x) at {v!r}"
    assert abs(norm.erfc(x)[0] + ours[0] - 1) <= 1e-15, f"erf + erfc ≠ 1 at {v!r}"


def test_normal_cdf_by_hand_and_in_the_left_tail():
    x = np.array([0.0, 1.959963984540054, -1.959963984540054, -10.0, -30.0])
    phi = norm.NormalCDF.apply(Tensor(x)).numpy()
    expected = [0.5, 0.975, 0.025, 7.619853024160527e-24, 4.906713927148187e-198]  # tables of Φ
    np.testing.assert_allclose(phi, expected, rtol=1e-12, err_msg="Φ at 0, ±1.96, −10 and −30")


def test_gelu_in_the_far_left_tail_is_tiny_not_zero():
    """x·Φ(x) through erfc: GELU(−10) ≈ −7.6e-23, where 1 + erf(x/√2) would round to 0."""
    out = F.gelu(Tensor(np.array([-10.0, 10.0]))).numpy()
    np.testing.assert_allclose(out, [-10 * 7.619853024160527e-24, 10.0], rtol=1e-12)


# ---------------------------------------------------------------------- dropout
def test_dropout_keeps_the_fraction_1_minus_p_and_the_mean():
    tg.manual_seed(0)
    x = tg.ones(200_000)
    y = F.dropout(x, p=0.3).numpy()
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.005, f"kept {kept.mean():.4f} of the elements, expected 0.7"
    np.testing.assert_allclose(y[kept], 1 / 0.7, rtol=1e-6, err_msg="kept elements are scaled by 1/(1 − p)")
    assert abs(y.mean() - 1.0) < 0.01, f"the mean moved from 1 to {y.mean():.4f}"


def test_dropout_gradient_is_the_mask_over_1_minus_p():
    tg.manual_seed(1)
    x = Tensor(np.full((50, 40), 2.0), requires_grad=True)
    y = F.dropout(x, p=0.25)
    y.sum().backward()
    mask = y.numpy() != 0
    np.testing.assert_allclose(x.grad.numpy(), mask / 0.75, err_msg="∂/∂x = m/(1 − p)")


def test_dropout_is_the_identity_in_eval_when_not_training_and_at_p_0():
    x = tg.randn(3, 4)
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0) is x
    layer = nn.Dropout(0.5).eval()
    assert layer(x) is x
    assert not (layer.train()(tg.ones(100)).numpy() == 1).all(), "in training the layer drops"


def test_dropout_at_p_1_gives_zeros_and_zero_gradients():
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    y = F.dropout(x, p=1.0)
    y.sum().backward()
    np.testing.assert_array_equal(y.numpy(), [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0])


def test_a_seed_gives_the_same_mask_and_successive_calls_differ():
    x = tg.ones(1000)
    tg.manual_seed(3)
    first, second = F.dropout(x).numpy(), F.dropout(x).numpy()
    tg.manual_seed(3)
    np.testing.assert_array_equal(F.dropout(x).numpy(), first)
    assert not np.array_equal(first, second), "two calls drew the same mask"


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.5", True])
def test_dropout_probability_outside_0_1_is_a_value_error_naming_it(p):
    with pytest.raises(ValueError, match=r"\[0, 1\].*" + repr(p)[:3]):
        F.dropout(tg.ones(3), p)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        nn.Dropout(p)


# ---------------------------------------------------------------------- batch norm
def _twin_batch_norms(torch, layer, *args, **kwargs):
    """Our layer and PyTorch's, in float64, with the same random affine parameters."""
    ours = getattr(nn, layer)(*args, **kwargs).to("float64")
    theirs = getattr(torch.nn, layer)(*args, **kwargs).double()
    rng = np.random.default_rng(9)
    for name, p in theirs.named_parameters():
        value = rng.standard_normal(ours.num_features)
        getattr(ours, name).data[...] = value
        p.data.copy_(torch.from_numpy(value))
    return ours, theirs


@pytest.mark.oracle
@pytest.mark.parametrize(
    "layer, shape, momentum",
    [("BatchNorm1d", (6, 3), 0.1), ("BatchNorm1d", (4, 3, 5), 0.3), ("BatchNorm2d", (4, 3, 2, 5), 0.1)]
    + [("BatchNorm2d", (3, 3, 4, 2), None)],  # momentum None: the cumulative average
)
def test_batch_norm_running_statistics_follow_pytorch_through_training_then_eval(torch, layer, shape, momentum):
    ours, theirs = _twin_batch_norms(torch, layer, 3, momentum=momentum)
    rng = np.random.default_rng(0)
    for step in range(4):
        x = rng.standard_normal(shape) * (step + 1) + step  # the statistics change from batch to batch
        x_ours, x_theirs = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        out, expected = ours(x_ours), theirs(x_theirs)
        np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12)
        out.backward(Tensor(np.cos(x)))
        expected.backward(torch.from_numpy(np.cos(x)))
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), rtol=1e-9, atol=1e-12)
    for name, buffer in theirs.named_buffers():
        np.testing.assert_allclose(getattr(ours, name).numpy(), buffer.numpy(), rtol=1e-12, err_msg=name)
    assert ours.num_batches_tracked.dtype == np.int64 and ours.num_batches_tracked.item() == 4
    x = rng.standard_normal(shape)
    ours.eval(), theirs.eval()
    with torch.no_grad():
        np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.from_numpy(x)).numpy(), rtol=1e-10)
    assert ours.num_batches_tracked.item() == 4, "eval does not count batches"


@pytest.mark.oracle
@pytest.mark.parametrize("kwargs", [{"affine": False}, {"bias": False}, {"track_running_stats": False}])
def test_batch_norm_without_affine_or_running_statistics_matches_pytorch(torch, kwargs):
    ours, theirs = _twin_batch_norms(torch, "BatchNorm2d", 3, **kwargs)
    assert list(ours.state_dict()) == list(theirs.state_dict()), "the same state_dict keys"
    x = np.random.default_rng(1).standard_normal((2, 3, 3, 2))
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        with torch.no_grad():
            np.testing.assert_allclose(
                ours(Tensor(x)).numpy(), theirs(torch.from_numpy(x)).numpy(), rtol=1e-10, err_msg=mode
            )


def test_functional_batch_norm_updates_running_statistics_in_place_with_the_unbiased_variance():
    """By hand: channel 0 holds 1, 3 (mean 2, unbiased variance 2), channel 1 holds 0, 0."""
    x = Tensor(np.array([[1.0, 0.0], [3.0, 0.0]]))
    running_mean, running_var = Tensor(np.zeros(2)), Tensor(np.ones(2))
    arrays, versions = (running_mean.data, running_var.data), (running_mean._version, running_var._version)
    F.batch_norm(x, running_mean, running_var, training=True, momentum=0.5)
    np.testing.assert_allclose(running_mean.numpy(), [1.0, 0.0])  # ½·0 + ½·2, ½·0 + ½·0
    np.testing.assert_allclose(running_var.numpy(), [1.5, 0.5])  # ½·1 + ½·2, ½·1 + ½·0
    assert (running_mean.data, running_var.data) == arrays, "updated in place, not replaced"
    assert running_mean._version == versions[0] + 1 and running_var._version == versions[1] + 1


def test_batch_norm_buffers_and_state_dict_keys():
    layer = nn.BatchNorm2d(4)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"]
    assert state["num_batches_tracked"].dtype == np.int64 and state["num_batches_tracked"].shape == ()
    np.testing.assert_array_equal(state["weight"], np.ones(4, np.float32))
    np.testing.assert_array_equal(state["running_var"], np.ones(4, np.float32))
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"], "buffers are not trained"


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.batch_norm(tg.randn(1, 3), None, None, training=True), "more than one value per channel"),
        (lambda: F.batch_norm(tg.randn(4), None, None, training=True), r"\(N, C\).*\(4,\)"),
        (lambda: F.batch_norm(tg.randn(4, 3), tg.zeros(2), tg.ones(3)), r"running_mean of shape \(2,\).*\(3,\)"),
        (lambda: F.batch_norm(tg.randn(4, 3), None, None), "running_mean and running_var"),
        (lambda: F.batch_norm(tg.randn(4, 3), None, None, weight=tg.ones(4), training=True), r"weight.*\(3,\)"),
        (lambda: nn.BatchNorm2d(3)(tg.randn(2, 3, 4)), r"\(N, C, H, W\).*\(2, 3, 4\)"),
        (lambda: nn.BatchNorm1d(3)(tg.randn(2, 4)), r"C = 3.*\(2, 4\)"),
        (lambda: nn.BatchNorm1d(0), "num_features >= 1"),
    ],
)
def test_batch_norm_bad_inputs_are_value_errors_naming_what_was_expected_and_given(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------- layer norm
@pytest.mark.oracle
@pytest.mark.parametrize("kwargs", [{}, {"elementwise_affine": False}, {"bias": False}])
def test_layer_norm_module_matches_pytorch(torch, kwargs):
    ours = nn.LayerNorm((3, 4), **kwargs).to("float64")
    theirs = torch.nn.LayerNorm((3, 4), **kwargs).double()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, p in theirs.named_parameters():
        value = np.random.default_rng(len(name)).standard_normal(tuple(p.shape))
        getattr(ours, name).data[...] = value
        p.data.copy_(torch.from_numpy(value))
    x = np.random.default_rng(2).standard_normal((2, 5, 3, 4))
    with torch.no_grad():
        np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.from_numpy(x)).numpy(), rtol=1e-10)


def test_layer_norm_gives_each_sample_mean_0_and_variance_1():
    x = Tensor(np.random.default_rng(3).standard_normal((4, 6)) * 5 + 2)
    y = F.layer_norm(x, 6, eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=1), 1, rtol=1e-12)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: F.layer_norm(tg.randn(2, 3), (4,)), r"\(2, 3\).*normalized_shape \(4,\).*\(\*, 4\)"),
        (lambda: F.layer_norm(tg.randn(3), (2, 3)), r"\(3,\).*\(2, 3\)"),
        (lambda: F.layer_norm(tg.randn(2, 3), 3, weight=tg.ones(2)), r"weight of shape \(2,\).*expected \(3,\)"),
        (lambda: nn.LayerNorm(5)(tg.randn(5, 4)), r"\(5, 4\).*\(5,\)"),
    ],
)
def test_layer_norm_shapes_that_do_not_fit_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------- embedding
def test_embedding_gradient_adds_up_over_repeated_indices():
    weight = Tensor(np.arange(12.0).reshape(4, 3), requires_grad=True)
    out = F.embedding(Tensor(np.array([[2, 0], [2, 2]])), weight)
    assert out.shape == (2, 2, 3)
    np.testing.assert_array_equal(out.numpy()[1, 0], [6.0, 7.0, 8.0])
    out.sum().backward()
    np.testing.assert_array_equal(weight.grad.numpy()[:, 0], [1.0, 0.0, 3.0, 0.0], err_msg="row 2 picked 3 times")


def test_embedding_takes_a_0d_index_lists_and_any_int_dtype():
    weight = tg.randn(5, 2)
    np.testing.assert_array_equal(F.embedding(Tensor(np.int64(3)), weight).numpy(), weight.numpy()[3])
    np.testing.assert_array_equal(F.embedding([4, 0], weight).numpy(), weight.numpy()[[4, 0]])
    np.testing.assert_array_equal(F.embedding(np.array([1], np.int32), weight).numpy(), weight.numpy()[[1]])


@pytest.mark.parametrize(
    "indices, message",
    [
        ([0, 5], r"index 5 is out of range.*\[0, 4\].*num_embeddings=5"),
        ([[-1, 2]], r"index -1 is out of range"),
        (np.array([1.0, 2.0]), r"integers.*float64"),
    ],
)
def test_embedding_bad_indices_are_value_errors_naming_them(indices, message):
    with pytest.raises(ValueError, match=message):
        F.embedding(indices, tg.randn(5, 3))


def test_embedding_module_draws_its_weight_from_the_standard_normal():
    tg.manual_seed(0)
    layer = nn.Embedding(200, 100)
    weight = layer.weight.numpy()
    assert weight.shape == (200, 100) and weight.dtype == np.float32
    # 20,000 draws: the mean and the standard deviation within 4 standard errors of 0 and 1
    assert abs(weight.mean()) < 0.03 and abs(weight.std() - 1) < 0.02, "N(0, 1), as in PyTorch"
    assert layer(Tensor(np.array([[3, 1]]))).shape == (1, 2, 100)
    with pytest.raises(ValueError, match="embedding_dim >= 1"):
        nn.Embedding(3, 0)


# ---------------------------------------------------------------------- gelu, flatten, reprs
def test_gelu_rejects_an_unknown_approximation():
    with pytest.raises(ValueError, match="'sigmoid'.*'none' or 'tanh'"):
        F.gelu(tg.randn(2), approximate="sigmoid")
    with pytest.raises(ValueError, match="'fast'"):
        nn.GELU("fast")


def test_gelu_keeps_float32():
    x = tg.randn(3, 4)
    assert F.gelu(x).dtype == np.float32 and F.gelu(x, "tanh").dtype == np.float32


@pytest.mark.oracle
@pytest.mark.parametrize("start_dim, end_dim", [(1, -1), (0, -1), (1, 2), (-3, -2), (2, 2)])
def test_flatten_matches_pytorch(torch, start_dim, end_dim):
    x = np.arange(120.0).reshape(2, 3, 4, 5)
    out = nn.Flatten(start_dim, end_dim)(Tensor(x))
    expected = torch.nn.Flatten(start_dim, end_dim)(torch.from_numpy(x))
    assert out.shape == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_flatten_with_start_after_end_is_a_value_error():
    with pytest.raises(ValueError, match="start_dim=2 comes after end_dim=1"):
        nn.Flatten(2, 1)(tg.randn(2, 3, 4))


@pytest.mark.oracle
@pytest.mark.parametrize(
    "make",
    [
        lambda nn: nn.BatchNorm1d(3),
        lambda nn: nn.BatchNorm2d(4, eps=1e-3, momentum=None, affine=False),
        lambda nn: nn.BatchNorm2d(2, bias=False),
        lambda nn: nn.LayerNorm((2, 3), elementwise_affine=False),
        lambda nn: nn.LayerNorm(4, bias=False),
        lambda nn: nn.Embedding(10, 3),
        lambda nn: nn.GELU(approximate="tanh"),
        lambda nn: nn.Flatten(0, 2),
    ],
)
def test_reprs_read_like_pytorchs(torch, make):
    assert repr(make(nn)) == repr(make(torch.nn))


# ---------------------------------------------------------------------- a model, through state_dict
def _model(nn):
    """The same architecture in either library."""
    return nn.Sequential(
        nn.BatchNorm2d(2),
        nn.Flatten(),
        nn.Linear(8, 6),
        nn.BatchNorm1d(6),
        nn.GELU(),
        nn.Dropout(0.2),
        nn.Linear(6, 5),
        nn.LayerNorm(5),
        nn.Linear(5, 3),
    )


def _train_a_little(model, step_input):
    """A few training forwards (in no_grad: only the running statistics move), then eval."""
    model.train()
    for seed in range(3):
        step_input(model, np.random.default_rng(seed).standard_normal((8, 2, 2, 2)).astype(np.float32) * 2 + 1)
    model.eval()


@pytest.mark.oracle
def test_a_model_with_batch_and_layer_norm_loads_into_pytorch_and_back(torch):
    tg.manual_seed(0)
    ours = _model(nn)
    with tg.no_grad():
        _train_a_little(ours, lambda model, x: model(Tensor(x)))
    x = np.random.default_rng(5).standard_normal((4, 2, 2, 2)).astype(np.float32)
    state = ours.state_dict()
    assert state["0.num_batches_tracked"] == 3 and "3.running_var" in state and "7.weight" in state

    theirs = _model(torch.nn)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    theirs.eval()
    with torch.no_grad():
        np.testing.assert_allclose(ours(Tensor(x)).numpy(), theirs(torch.from_numpy(x)).numpy(), rtol=1e-5, atol=1e-6)

    torch.manual_seed(1)
    other = _model(torch.nn)
    with torch.no_grad():
        _train_a_little(other, lambda model, x: model(torch.from_numpy(x)))
        expected = other(torch.from_numpy(x)).numpy()
    ours.load_state_dict(other.state_dict())
    np.testing.assert_allclose(ours(Tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
    assert ours[0].num_batches_tracked.item() == 3 and ours[0].num_batches_tracked.dtype == np.int64
