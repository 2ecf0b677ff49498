"""Loss functions and loss modules: each checked against its formula written in NumPy from
first principles, against PyTorch (values and gradients, every reduction), against the
gradient derived by hand, and by gradcheck; then numerics at the extremes, bad input,
and the modules against the functions."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, nn
from tinygrad_edu.autograd import FREED

REDUCTIONS = ("mean", "sum", "none")
N, C = 5, 4


# ---------------------------------------------------------------------- NumPy from first principles
def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def np_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def np_huber(x, delta):
    return np.where(np.abs(x) < delta, 0.5 * x**2, delta * (np.abs(x) - 0.5 * delta))


def np_bce(y_hat, y):
    return -(y * np.log(y_hat) + (1 - y) * np.log(1 - y_hat))


def np_categorical_ce(y_hat, y):
    """−Σⱼ yⱼ ln ŷⱼ per row (y: probabilities or one-hot rows)."""
    return -(y * np.log(y_hat)).sum(axis=1)


def np_reduce(losses, reduction, n):
    """ "mean" divides the total by n (the elements, or the samples for the class losses)."""
    return {"mean": losses.sum() / n, "sum": losses.sum(), "none": losses, "batchmean": losses.sum() / n}[reduction]


# ---------------------------------------------------------------------- the cases
class Case:
    """One loss: how to draw its input and target (float64), our function, PyTorch's, and
    the per-element losses from first principles."""

    def __init__(self, name, make, ours, theirs, reference, target_grad=True, reductions=REDUCTIONS, smooth=True):
        self.name, self.make, self.ours, self.theirs = name, make, ours, theirs
        self.reference, self.target_grad, self.reductions, self.smooth = reference, target_grad, reductions, smooth

    def __repr__(self):
        return self.name


def regression(rng):
    return rng.standard_normal((N, 3)), rng.standard_normal((N, 3))


def probabilities(rng):
    return rng.uniform(0.05, 0.95, (N, 3)), rng.uniform(0, 1, (N, 3))


def binary_logits(rng):
    return 2 * rng.standard_normal((N, 3)), rng.uniform(0, 1, (N, 3))


def class_indices(rng):
    return rng.standard_normal((N, C)), rng.integers(0, C, N)


def class_probabilities(rng):
    return rng.standard_normal((N, C)), np_softmax(rng.standard_normal((N, C)))


def one_hot_rows(rng):
    labels = rng.integers(0, C, N)
    return rng.standard_normal((N, C)), np.eye(C, dtype=np.int64)[labels]


def log_probabilities(rng):
    return np.log(np_softmax(rng.standard_normal((N, C)))), rng.integers(0, C, N)


def distributions(rng):
    return np.log(np_softmax(rng.standard_normal((N, C)))), np_softmax(rng.standard_normal((N, C)))


def log_distributions(rng):
    return np.log(np_softmax(rng.standard_normal((N, C)))), np.log(np_softmax(rng.standard_normal((N, C))))


def torch_loss(name, **options):
    def call(torch, x, y, reduction):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # kl_div's "mean" warns that it is not batchmean
            return getattr(torch.nn.functional, name)(x, y, reduction=reduction, **options)

    return call


KL_REDUCTIONS = REDUCTIONS + ("batchmean",)
CASES = [
    Case("mse_loss", regression, F.mse_loss, torch_loss("mse_loss"), lambda x, y: (x - y) ** 2),
    Case("l1_loss", regression, F.l1_loss, torch_loss("l1_loss"), lambda x, y: np.abs(x - y), smooth=False),
    Case("huber_loss", regression, F.huber_loss, torch_loss("huber_loss"), lambda x, y: np_huber(x - y, 1.0)),
    Case(
        "huber_loss(delta=0.5)",
        regression,
        lambda x, y, **kw: F.huber_loss(x, y, delta=0.5, **kw),
        torch_loss("huber_loss", delta=0.5),
        lambda x, y: np_huber(x - y, 0.5),
    ),
    Case("binary_cross_entropy", probabilities, F.binary_cross_entropy, torch_loss("binary_cross_entropy"), np_bce),
    Case(
        "binary_cross_entropy_with_logits",
        binary_logits,
        F.binary_cross_entropy_with_logits,
        torch_loss("binary_cross_entropy_with_logits"),
        lambda z, y: np_bce(np_sigmoid(z), y),
    ),
    Case(
        "cross_entropy(class indices)",
        class_indices,
        F.cross_entropy,
        torch_loss("cross_entropy"),
        lambda z, y: np_categorical_ce(np_softmax(z), np.eye(C)[y]),
        target_grad=False,
    ),
    Case(
        "cross_entropy(class probabilities)",
        class_probabilities,
        F.cross_entropy,
        torch_loss("cross_entropy"),
        lambda z, y: np_categorical_ce(np_softmax(z), y),
    ),
    Case(
        "cross_entropy(one-hot int64)",
        one_hot_rows,
        F.cross_entropy,
        lambda torch, z, y, reduction: torch_loss("cross_entropy")(torch, z, y.double(), reduction),
        lambda z, y: np_categorical_ce(np_softmax(z), y),
        target_grad=False,
    ),
    Case(
        "nll_loss",
        log_probabilities,
        F.nll_loss,
        torch_loss("nll_loss"),
        lambda log_q, y: -log_q[np.arange(len(y)), y],
        target_grad=False,
    ),
    Case(
        "kl_div",
        distributions,
        F.kl_div,
        torch_loss("kl_div"),
        lambda log_q, p: p * np.log(p / np.exp(log_q)),
        reductions=KL_REDUCTIONS,
    ),
    Case(
        "kl_div(log_target=True)",
        log_distributions,
        lambda x, y, **kw: F.kl_div(x, y, log_target=True, **kw),
        torch_loss("kl_div", log_target=True),
        lambda log_q, log_p: np.exp(log_p) * np.log(np.exp(log_p) / np.exp(log_q)),
        reductions=KL_REDUCTIONS,
    ),
]
CASE_REDUCTIONS = [pytest.param(case, r, id=f"{case.name}-{r}") for case in CASES for r in case.reductions]


def is_class_loss(case):
    return case.name.startswith(("cross_entropy", "nll_loss"))


def count(case, x, reduction):
    """What "mean" (or "batchmean") divides by: the samples for class losses, else the elements."""
    return x.shape[0] if is_class_loss(case) or reduction == "batchmean" else x.size


def tensors(case, x, y):
    """Our leaves: the input requires grad; the target too when it is a float."""
    target = Tensor(y, requires_grad=case.target_grad) if y.dtype.kind == "f" else Tensor(y)
    return Tensor(x, requires_grad=True), target


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize(("case", "reduction"), CASE_REDUCTIONS)
def test_loss_matches_its_formula_from_first_principles(case, reduction, rng):
    x, y = case.make(rng)
    loss = case.ours(Tensor(x), Tensor(y), reduction=reduction)
    losses = case.reference(x, y)
    expected = np_reduce(losses, reduction, count(case, x, reduction))
    assert loss.shape == np.shape(expected), f"{case} ({reduction}) has shape {loss.shape}"
    np.testing.assert_allclose(loss.numpy(), expected, rtol=1e-10, atol=1e-12, err_msg=f"{case} ({reduction})")


@pytest.mark.oracle
@pytest.mark.parametrize(("case", "reduction"), CASE_REDUCTIONS)
def test_loss_and_gradients_match_torch(case, reduction, rng, torch):
    x, y = case.make(rng)
    ours_x, ours_y = tensors(case, x, y)
    loss = case.ours(ours_x, ours_y, reduction=reduction)
    theirs_x = torch.tensor(x, requires_grad=True)
    theirs_y = torch.tensor(y, requires_grad=case.target_grad and y.dtype.kind == "f")
    expected = case.theirs(torch, theirs_x, theirs_y, reduction)
    np.testing.assert_allclose(loss.numpy(), expected.detach().numpy(), rtol=1e-10, atol=1e-12, err_msg=str(case))

    grad_out = rng.standard_normal(loss.shape)
    loss.backward(Tensor(grad_out))
    expected.backward(torch.tensor(grad_out))
    np.testing.assert_allclose(
        ours_x.grad.numpy(), theirs_x.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{case}: input"
    )
    if theirs_y.requires_grad:
        np.testing.assert_allclose(
            ours_y.grad.numpy(), theirs_y.grad.numpy(), rtol=1e-9, atol=1e-12, err_msg=f"{case}: target"
        )


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_targets_may_be_tensors_arrays_or_lists(case, rng):
    x, y = case.make(rng)
    expected = case.ours(Tensor(x), Tensor(y)).item()
    assert case.ours(Tensor(x), y).item() == pytest.approx(expected, rel=1e-12)
    assert case.ours(Tensor(x), y.tolist()).item() == pytest.approx(expected, rel=1e-12)


def test_kl_div_batchmean_is_the_kl_divergence_per_sample():
    p = np.array([[0.5, 0.5, 0.0], [0.1, 0.2, 0.7]])
    q = np.array([[0.25, 0.5, 0.25], [0.3, 0.3, 0.4]])
    kl_per_row = [0.5 * np.log(0.5 / 0.25), sum(pi * np.log(pi / qi) for pi, qi in zip(p[1], q[1]))]
    loss = F.kl_div(Tensor(np.log(q)), p, reduction="batchmean")
    assert loss.item() == pytest.approx(np.mean(kl_per_row), rel=1e-12)
    assert F.kl_div(Tensor(np.log(q)), p, reduction="mean").item() == pytest.approx(np.sum(kl_per_row) / 6, rel=1e-12)


def test_cross_entropy_of_a_perfect_guess_is_zero_and_of_a_uniform_one_is_ln_c():
    confident = Tensor([[0.0, 50.0, 0.0]], dtype=np.float64)
    assert F.cross_entropy(confident, [1]).item() == pytest.approx(0.0, abs=1e-20)
    uniform = Tensor(np.zeros((2, 4)))
    assert F.cross_entropy(uniform, [0, 3]).item() == pytest.approx(np.log(4), rel=1e-12)


# ---------------------------------------------------------------------- gradients by hand
def test_mse_gradient_is_two_times_the_error_over_n(rng):
    y_hat, y = regression(rng)
    leaf = Tensor(y_hat, requires_grad=True)
    F.mse_loss(leaf, y).backward()
    np.testing.assert_allclose(leaf.grad.numpy(), 2 * (y_hat - y) / y.size, rtol=1e-12)


def test_l1_and_huber_gradients_by_hand(rng):
    y_hat, y = regression(rng)
    for loss, expected in [
        (F.l1_loss, np.sign(y_hat - y) / y.size),
        (F.huber_loss, np.clip(y_hat - y, -1, 1) / y.size),  # x inside |x| < δ, ±δ outside
    ]:
        leaf = Tensor(y_hat, requires_grad=True)
        loss(leaf, y).backward()
        np.testing.assert_allclose(leaf.grad.numpy(), expected, rtol=1e-12, err_msg=loss.__name__)


@pytest.mark.parametrize("fused", [False, True], ids=["bce_of_sigmoid", "bce_with_logits"])
def test_bce_gradient_on_the_logits_is_prediction_minus_target_over_n(fused, rng):
    z, y = binary_logits(rng)
    logits = Tensor(z, requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(logits, y) if fused else F.binary_cross_entropy(logits.sigmoid(), y)
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), (np_sigmoid(z) - y) / y.size, rtol=1e-10)


@pytest.mark.parametrize("as_one_hot", [False, True], ids=["class_indices", "one_hot"])
def test_cross_entropy_gradient_on_the_logits_is_softmax_minus_one_hot_over_n(as_one_hot, rng):
    z, labels = class_indices(rng)
    logits = Tensor(z, requires_grad=True)
    F.cross_entropy(logits, F.one_hot(labels, C) if as_one_hot else labels).backward()
    np.testing.assert_allclose(logits.grad.numpy(), (np_softmax(z) - np.eye(C)[labels]) / N, rtol=1e-10, atol=1e-15)


def test_nll_and_kl_gradients_by_hand(rng):
    log_q, labels = log_probabilities(rng)
    leaf = Tensor(log_q, requires_grad=True)
    F.nll_loss(leaf, labels).backward()
    np.testing.assert_allclose(leaf.grad.numpy(), -np.eye(C)[labels] / N)

    log_q, p = distributions(rng)
    leaf = Tensor(log_q, requires_grad=True)
    F.kl_div(leaf, p, reduction="batchmean").backward()
    np.testing.assert_allclose(leaf.grad.numpy(), -p / N, rtol=1e-12)


# ---------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize(("case", "reduction"), CASE_REDUCTIONS)
def test_gradcheck(case, reduction, rng):
    x, y = case.make(rng)
    inputs = tensors(case, x, y)
    assert tg.gradcheck(lambda a, b: case.ours(a, b, reduction=reduction), inputs)


SMOOTH = [pytest.param(case, r, id=f"{case.name}-{r}") for case in CASES if case.smooth for r in ("mean", "none")]


@pytest.mark.parametrize(("case", "reduction"), SMOOTH)
def test_gradgradcheck(case, reduction, rng):
    x, y = case.make(rng)
    inputs = tensors(case, x, y)
    assert tg.gradgradcheck(lambda a, b: case.ours(a, b, reduction=reduction), inputs)


@pytest.mark.oracle
@pytest.mark.parametrize("name", ["cross_entropy", "binary_cross_entropy_with_logits"])
def test_hessian_vector_product_of_the_fused_losses_matches_torch(name, rng, torch):
    z, y = (class_indices if name == "cross_entropy" else binary_logits)(rng)
    v = rng.standard_normal(z.shape)
    logits = Tensor(z, requires_grad=True)
    getattr(F, name)(logits, y).backward(create_graph=True)
    (logits.grad * Tensor(v)).sum().backward()  # accumulates H v onto the first gradient

    theirs = torch.tensor(z, requires_grad=True)
    loss = getattr(torch.nn.functional, name)(theirs, torch.tensor(y))
    (grad,) = torch.autograd.grad(loss, theirs, create_graph=True)
    (hvp,) = torch.autograd.grad((grad * torch.tensor(v)).sum(), theirs)
    np.testing.assert_allclose(logits.grad.numpy(), (grad + hvp).detach().numpy(), rtol=1e-9, atol=1e-14)


# ---------------------------------------------------------------------- the fused nodes
def test_cross_entropy_with_class_indices_is_one_fused_node(rng):
    z, labels = class_indices(rng)
    logits = Tensor(z.astype(np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, labels)
    assert loss.grad_fn.name == "CrossEntropy"
    assert loss.grad_fn.inputs == (logits,), "the labels are an attribute, not an input"
    assert "softmax" in loss.grad_fn.formula
    error = np_softmax(z) - np.eye(C)[labels]
    np.testing.assert_allclose(loss.grad_fn.saved, error, rtol=1e-6, atol=1e-7, err_msg="saved softmax − onehot")

    loss.backward()
    assert loss.grad_fn.saved is FREED
    with pytest.raises(RuntimeError, match="second time"):
        loss.backward()
    loss.grad_fn.replay()
    np.testing.assert_allclose(loss.grad_fn.saved, error, rtol=1e-6, atol=1e-7, err_msg="replayed softmax − onehot")


def test_bce_with_logits_is_one_fused_node(rng):
    z, y = binary_logits(rng)
    logits, target = Tensor(z, requires_grad=True), Tensor(y)
    loss = F.binary_cross_entropy_with_logits(logits, target)
    assert loss.grad_fn.name == "BCEWithLogits"
    assert loss.grad_fn.inputs == (logits, target)
    assert "σ(z) − y" in loss.grad_fn.formula


def test_retain_graph_lets_the_fused_cross_entropy_backward_twice(rng):
    z, labels = class_indices(rng)
    logits = Tensor(z, requires_grad=True)
    loss = F.cross_entropy(logits, labels, reduction="sum")
    loss.backward(retain_graph=True)
    first = logits.grad.numpy().copy()
    loss.backward()
    np.testing.assert_allclose(logits.grad.numpy(), 2 * first)


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_float32_stays_float32(case, rng):
    x, y = case.make(rng)
    leaf = Tensor(x.astype(np.float32), requires_grad=True)
    target = y.astype(np.float32) if y.dtype.kind == "f" else y
    for reduction in case.reductions:
        leaf.grad = None
        loss = case.ours(leaf, target, reduction=reduction)
        loss.backward(Tensor.ones_like(loss))
        assert loss.dtype == np.float32, f"{case} ({reduction}) loss is {loss.dtype}"
        assert leaf.grad.dtype == np.float32, f"{case} ({reduction}) gradient is {leaf.grad.dtype}"


# ---------------------------------------------------------------------- numerics at the extremes
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_finite_and_exact_at_logits_of_1e4(dtype):
    logits = Tensor(np.array([1e4, -1e4, 1e4, -1e4], dtype=dtype), requires_grad=True)
    target = [1.0, 0.0, 0.0, 1.0]
    loss = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    # a confident right answer costs 0, a confident wrong one |z|
    np.testing.assert_allclose(loss.numpy(), [0, 0, 1e4, 1e4])
    loss.sum().backward()
    np.testing.assert_allclose(logits.grad.numpy(), [0, 0, 1, -1])  # σ(z) − y


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_finite_and_exact_at_logits_of_1e4(dtype):
    z = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4]], dtype=dtype)
    for target in ([1, 2], F.one_hot([1, 2], 3)):
        logits = Tensor(z, requires_grad=True)
        loss = F.cross_entropy(logits, target, reduction="none")
        np.testing.assert_allclose(loss.numpy(), [2e4, 0], err_msg="the loss is z_max − z_label")
        loss.sum().backward()
        np.testing.assert_allclose(logits.grad.numpy(), [[1, -1, 0], [0, 0, 0]], atol=1e-30)


def test_bce_of_exactly_0_and_1_is_clamped_at_100(rng):
    y_hat = Tensor([0.0, 1.0, 0.0, 1.0, 0.5], dtype=np.float64, requires_grad=True)
    y = [1.0, 0.0, 0.0, 1.0, 1.0]
    loss = F.binary_cross_entropy(y_hat, y, reduction="none")
    np.testing.assert_allclose(loss.numpy(), [100, 100, 0, 0, np.log(2)])
    loss.sum().backward()
    assert np.isfinite(y_hat.grad.numpy()).all(), f"gradient {y_hat.grad.numpy()}"


@pytest.mark.oracle
def test_bce_of_exactly_0_and_1_matches_torch(torch):
    y_hat = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 1 - 1e-16])
    y = np.array([1.0, 0.0, 0.0, 1.0, 0.3, 0.6])
    ours_y_hat, ours_y = Tensor(y_hat, requires_grad=True), Tensor(y, requires_grad=True)
    theirs_y_hat, theirs_y = torch.tensor(y_hat, requires_grad=True), torch.tensor(y, requires_grad=True)
    loss = F.binary_cross_entropy(ours_y_hat, ours_y, reduction="sum")
    expected = torch.nn.functional.binary_cross_entropy(theirs_y_hat, theirs_y, reduction="sum")
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    loss.backward()
    expected.backward()
    # rtol 1e-8: PyTorch's floor for ŷ(1 − ŷ) is 1e-12 rounded to float32
    np.testing.assert_allclose(ours_y_hat.grad.numpy(), theirs_y_hat.grad.numpy(), rtol=1e-8)
    # ∂/∂y = max(ln(1 − ŷ), −100) − max(ln ŷ, −100): the clamped logs' difference, where
    # PyTorch gives ±inf at ŷ = 0 and 1 (it leaves out the clamp there)
    np.testing.assert_allclose(ours_y.grad.numpy()[:4], [100, -100, 100, -100])
    np.testing.assert_allclose(ours_y.grad.numpy()[4:], theirs_y.grad.numpy()[4:], rtol=1e-12)


# ---------------------------------------------------------------------- bad input
ELEMENTWISE = [
    F.mse_loss,
    F.l1_loss,
    F.huber_loss,
    F.binary_cross_entropy,
    F.binary_cross_entropy_with_logits,
    F.kl_div,
]


@pytest.mark.parametrize("loss", ELEMENTWISE, ids=lambda f: f.__name__)
def test_n_by_1_predictions_against_an_n_target_are_a_value_error(loss):
    predictions = Tensor(np.full((4, 1), 0.5))
    with pytest.raises(ValueError, match=r"\(4, 1\).*\(4,\)"):
        loss(predictions, np.full(4, 0.5))


def test_cross_entropy_with_probability_rows_of_the_wrong_shape_is_a_value_error():
    with pytest.raises(ValueError, match=r"\(3, 4\).*\(3, 5\)"):
        F.cross_entropy(Tensor(np.zeros((3, 4))), np.full((3, 5), 0.2))


@pytest.mark.parametrize("loss", [F.cross_entropy, F.nll_loss], ids=lambda f: f.__name__)
def test_class_losses_reject_bad_labels(loss):
    scores = Tensor(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(5,\)"):
        loss(scores, [0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=r"\[0, 2\].*3"):
        loss(scores, [0, 1, 2, 3])
    with pytest.raises(ValueError, match=r"\[0, 2\].*-1"):
        loss(scores, np.array([0, -1, 2, 1]))
    with pytest.raises(ValueError, match="whole numbers"):
        loss(scores, [0.0, 1.5, 2.0, 1.0])
    with pytest.raises(ValueError, match=r"\(N, C\).*\(3,\)"):
        loss(Tensor(np.zeros(3)), [0])


def test_whole_float_labels_are_classes():
    logits = Tensor(np.arange(12.0).reshape(4, 3))
    assert F.cross_entropy(logits, [0.0, 1.0, 2.0, 1.0]).item() == F.cross_entropy(logits, [0, 1, 2, 1]).item()


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan")])
def test_bce_rejects_probabilities_outside_0_1(bad):
    good = np.full(3, 0.5)
    with pytest.raises(ValueError, match=r"input must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(Tensor([0.5, bad, 0.5]), good)
    with pytest.raises(ValueError, match=r"target must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy(Tensor(good), [0.5, bad, 0.5])
    with pytest.raises(ValueError, match=r"target must be probabilities in \[0, 1\]"):
        F.binary_cross_entropy_with_logits(Tensor(good), [0.5, bad, 0.5])


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_an_unknown_reduction_is_a_value_error_naming_it(case, rng):
    x, y = case.make(rng)
    with pytest.raises(ValueError, match=r"'avg'.*'mean', 'sum', 'none'"):
        case.ours(Tensor(x), y, reduction="avg")
    if "batchmean" not in case.reductions:
        with pytest.raises(ValueError, match="'batchmean'"):
            case.ours(Tensor(x), y, reduction="batchmean")


def test_huber_delta_must_be_positive():
    with pytest.raises(ValueError, match="delta must be positive, got 0"):
        F.huber_loss(Tensor([1.0]), [0.0], delta=0)
    with pytest.raises(ValueError, match="delta must be positive, got -1"):
        nn.HuberLoss(-1)


# ---------------------------------------------------------------------- properties
@given(arrays(np.float64, (3, 4), elements=st.floats(-30, 30)), arrays(np.int64, 3, elements=st.integers(0, 3)))
def test_the_three_ways_to_cross_entropy_agree(z, labels):
    logits = Tensor(z)
    fused = F.cross_entropy(logits, labels, reduction="none").numpy()
    from_one_hot = F.cross_entropy(logits, F.one_hot(labels, 4), reduction="none").numpy()
    from_log_softmax = F.nll_loss(logits.log_softmax(), labels, reduction="none").numpy()
    np.testing.assert_allclose(from_one_hot, fused, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(from_log_softmax, fused, rtol=1e-10, atol=1e-13)
    assert (fused >= 0).all()


@given(arrays(np.float64, (2, 5), elements=st.floats(-10, 10)), arrays(np.float64, (2, 5), elements=st.floats(-10, 10)))
def test_kl_divergence_is_nonnegative_and_zero_only_against_itself(a, b):
    log_q = Tensor(a).log_softmax()
    p = Tensor(b).softmax()
    assert F.kl_div(log_q, p, reduction="batchmean").item() >= -1e-12
    assert F.kl_div(p.log(), p, reduction="batchmean").item() == pytest.approx(0, abs=1e-12)


# ---------------------------------------------------------------------- the modules
MODULES = [
    (nn.MSELoss, F.mse_loss, regression),
    (nn.L1Loss, F.l1_loss, regression),
    (nn.HuberLoss, F.huber_loss, regression),
    (nn.BCELoss, F.binary_cross_entropy, probabilities),
    (nn.BCEWithLogitsLoss, F.binary_cross_entropy_with_logits, binary_logits),
    (nn.CrossEntropyLoss, F.cross_entropy, class_indices),
    (nn.NLLLoss, F.nll_loss, log_probabilities),
    (nn.KLDivLoss, F.kl_div, distributions),
]


@pytest.mark.parametrize(("module", "function", "make"), MODULES, ids=[m[0].__name__ for m in MODULES])
def test_the_modules_equal_the_functions(module, function, make, rng):
    x, y = make(rng)
    for reduction in REDUCTIONS:
        np.testing.assert_array_equal(
            module(reduction=reduction)(Tensor(x), y).numpy(),
            function(Tensor(x), y, reduction=reduction).numpy(),
            err_msg=f"{module.__name__}(reduction={reduction!r})",
        )
    assert repr(module()) == f"{module.__name__}()"
    assert list(module().parameters()) == []
    with pytest.raises(TypeError):
        module("sum")  # reduction is keyword-only
    with pytest.raises(ValueError, match="'avg'"):
        module(reduction="avg")


def test_module_options_reach_the_functions(rng):
    x, y = regression(rng)
    assert nn.HuberLoss(0.5)(Tensor(x), y).item() == nn.HuberLoss(delta=0.5)(Tensor(x), y).item()
    assert nn.HuberLoss(0.5)(Tensor(x), y).item() == F.huber_loss(Tensor(x), y, delta=0.5).item()
    log_q, log_p = log_distributions(rng)
    module = nn.KLDivLoss(log_target=True, reduction="batchmean")
    assert (
        module(Tensor(log_q), log_p).item()
        == F.kl_div(Tensor(log_q), log_p, log_target=True, reduction="batchmean").item()
    )


def test_module_reprs_show_options_that_differ_from_the_defaults():
    assert repr(nn.HuberLoss(0.5, reduction="sum")) == "HuberLoss(delta=0.5, reduction='sum')"
    kl = nn.KLDivLoss(log_target=True, reduction="batchmean")
    assert repr(kl) == "KLDivLoss(log_target=True, reduction='batchmean')"
    assert repr(nn.CrossEntropyLoss(reduction="none")) == "CrossEntropyLoss(reduction='none')"
    assert repr(nn.BCELoss()) == "BCELoss()"
