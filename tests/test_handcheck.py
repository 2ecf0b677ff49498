"""tg.handcheck: a derivation by hand against autograd, with central differences as the
referee. The derivations here are worked out on paper (the logistic-regression gradient
−(y − ŷ)x, softmax with cross-entropy ŷ − y, polynomials); PyTorch is the oracle for the
autograd value the report prints."""

import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor

X = np.array([[1.0, 1.0], [2.0, 0.5], [-1.0, 3.0]])
Y = np.array([1.0, 0.0, 1.0])


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def cross_entropy(w, b):
    """Mean binary cross-entropy of ŷ = σ(Xw + b) against Y, written with Tensor ops."""
    y_hat = (Tensor(X) @ w + b).sigmoid()
    return -(Y * y_hat.log() + (1 - Y) * (1 - y_hat).log()).mean()


def logistic_by_hand(w, b):
    """∂E/∂w = −mean((y − ŷ)x), ∂E/∂b = −mean(y − ŷ)."""
    residual = Y - sigmoid(X @ w + b)
    return -(residual[:, None] * X).mean(axis=0), -residual.mean()


def parameters():
    return {"w": Tensor([0.5, -0.25], dtype=np.float64), "b": Tensor(0.1, dtype=np.float64)}


class Doubled(tg.Function):
    """x², with a backward that is twice too large: 4x instead of 2x."""

    formula = "(x²)' = 4x (wrong)"

    def forward(self, x):
        return x * x

    def backward(self, grad):
        (x,) = self.inputs
        return grad * 4 * x


def report_of(*args, **kwargs):
    with pytest.raises(RuntimeError) as caught:
        tg.handcheck(*args, **kwargs)
    return str(caught.value)


def reported_values(report):
    """{"by hand": ..., "autograd": ..., "numerical": ...} as printed."""
    values = dict(re.findall(r"^  (by hand|autograd|numerical)\s+(\S+)$", report, re.MULTILINE))
    assert set(values) == {"by hand", "autograd", "numerical"}, report
    return values


# ------------------------------------------------------------------ derivations that pass
def test_logistic_regression_gradient_passes():
    inputs = parameters()
    assert tg.handcheck(cross_entropy, inputs, logistic_by_hand) is True, "−(y − ŷ)x is the right gradient"


def test_softmax_cross_entropy_gradient_passes():
    labels = np.array([2, 0, 1, 1])
    logits = Tensor(np.random.default_rng(0).standard_normal((4, 3)))

    def by_hand(z):
        probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return (probs - np.eye(3)[labels]) / len(labels)  # (ŷ − y) / N

    assert tg.handcheck(lambda z: F.cross_entropy(z, Tensor(labels)), logits, by_hand), "ŷ − y is the right gradient"


def test_a_single_input_takes_a_bare_array_and_a_sequence_works_too():
    x = Tensor([1.0, -2.0, 0.5])

    assert tg.handcheck(lambda x: (x**3).sum(), x, lambda x: 3 * x**2), "a bare array for one input"
    assert tg.handcheck(lambda x: (x**3).sum(), [x], lambda x: (3 * x**2,)), "a 1-tuple for a list of one"
    assert tg.handcheck(cross_entropy, list(parameters().values()), logistic_by_hand), "a list of inputs"


def test_by_hand_may_answer_by_name():
    def by_hand(w, b):
        grad_w, grad_b = logistic_by_hand(w, b)
        return {"b": grad_b, "w": grad_w}

    assert tg.handcheck(cross_entropy, parameters(), by_hand), "a dict keyed by the input names"


def test_the_caller_s_tensors_and_grads_are_left_alone():
    w = Tensor([0.5, -0.25], dtype=np.float64, requires_grad=True)
    b = Tensor(0.1, dtype=np.float64, requires_grad=True)
    before = w.numpy().copy()

    tg.handcheck(cross_entropy, {"w": w, "b": b}, logistic_by_hand)

    assert w.grad is None and b.grad is None, "handcheck must not leave gradients on the caller's tensors"
    np.testing.assert_array_equal(w.numpy(), before, err_msg="handcheck changed the input's values")


def test_no_grad_around_handcheck_does_not_hide_the_gradient():
    with tg.no_grad():
        result = tg.handcheck(lambda x: (x**2).sum(), Tensor([3.0]), lambda x: np.zeros(1), raise_exception=False)

    assert result is False, "under no_grad autograd must still compute 2x = 6, not nothing"


def test_float32_inputs_are_checked_in_float64():
    x = Tensor(np.array([0.1, 0.7, -1.3], dtype=np.float32))
    seen = []

    def by_hand(x):
        seen.append(x.dtype)
        return 1 - np.tanh(x) ** 2

    assert tg.handcheck(lambda x: x.tanh().sum(), x, by_hand, atol=1e-12, rtol=1e-12)
    assert seen == [np.float64], "by_hand gets float64 arrays, the referee's precision"


# ------------------------------------------------------------------ derivations that fail
def test_a_sign_slip_names_the_input_the_element_and_who_agrees():
    def sign_slip(w, b):
        grad_w, grad_b = logistic_by_hand(w, b)
        return -grad_w, grad_b

    report = report_of(cross_entropy, parameters(), sign_slip)

    assert "input 0 (w)" in report, report
    expected_w = -(Y - sigmoid(X @ np.array([0.5, -0.25]) + 0.1))[:, None] * X
    worst = int(np.argmax(np.abs(expected_w.mean(axis=0))))  # a sign slip is worst where |gradient| is largest
    assert f"at element ({worst},)" in report, report
    assert "autograd and numerical agree: the derivation by hand differs" in report, report
    values = reported_values(report)
    right = expected_w.mean(axis=0)[worst]
    assert float(values["autograd"]) == pytest.approx(right, rel=1e-5), report
    assert float(values["by hand"]) == pytest.approx(-right, rel=1e-5), report
    assert float(values["numerical"]) == pytest.approx(right, rel=1e-5), report


def test_the_values_have_six_significant_digits():
    x = Tensor([1.0 / 3.0])  # (x⁴)' = 4x³ = 0.148148148...

    report = report_of(lambda x: (x**4).sum(), x, lambda x: 3 * x**3)

    values = reported_values(report)
    assert values["autograd"] == "0.148148", report
    assert values["by hand"] == "0.111111", report


def test_a_wrong_backward_is_blamed_on_autograd():
    x = Tensor([1.5, -0.5])

    report = report_of(lambda x: Doubled.apply(x).sum(), x, lambda x: 2 * x)

    assert "by hand and numerical agree: autograd differs" in report, report
    values = reported_values(report)
    assert float(values["autograd"]) == pytest.approx(6.0), report
    assert float(values["numerical"]) == pytest.approx(3.0, rel=1e-6), report


def test_when_none_agree_it_says_so():
    x = Tensor([1.5, -0.5])

    report = report_of(lambda x: Doubled.apply(x).sum(), x, lambda x: 10 * x)

    assert "none of the three agree" in report, report


def test_the_worst_element_is_named_across_inputs():
    def by_hand(w, b):
        grad_w, grad_b = logistic_by_hand(w, b)
        return grad_w + np.array([0.0, 0.01]), grad_b + 1.0  # b is far worse than w[1]

    report = report_of(cross_entropy, parameters(), by_hand)

    assert "input 1 (b)" in report and "(a scalar)" in report, report
    assert "2 of 3 elements differ" in report, report


def test_positions_name_inputs_without_names():
    report = report_of(cross_entropy, list(parameters().values()), lambda w, b: (np.zeros(2), 0.0))

    assert re.search(r"for input [01] of shape", report), report
    assert "(w)" not in report, report


def test_raise_exception_false_returns_false():
    assert tg.handcheck(cross_entropy, parameters(), lambda w, b: (np.zeros(2), 0.0), raise_exception=False) is False


def test_nan_by_hand_is_a_mismatch():
    assert not tg.handcheck(lambda x: x.exp().sum(), Tensor([0.0, 1.0]), lambda x: x * np.nan, raise_exception=False)


@pytest.mark.parametrize("offset, passes", [(0.9e-6, True), (1.1e-6, False)])
def test_atol_is_the_bound_where_the_gradient_is_zero(offset, passes):
    x = Tensor([0.0])  # (x²)' = 0 at 0: only atol counts

    result = tg.handcheck(lambda x: (x**2).sum(), x, lambda x: 2 * x + offset, raise_exception=False)

    assert result is passes, f"an error of {offset} against atol=1e-6"


@pytest.mark.parametrize("relative, passes", [(0.9e-4, True), (1.2e-4, False)])
def test_rtol_scales_with_autograd(relative, passes):
    x = Tensor([100.0])  # (x²)' = 200: tolerance 1e-6 + 1e-4·200 ≈ 0.02

    result = tg.handcheck(lambda x: (x**2).sum(), x, lambda x: 2 * x * (1 + relative), raise_exception=False)

    assert result is passes, f"a relative error of {relative} against rtol=1e-4"


# ------------------------------------------------------------------ bad inputs
@pytest.mark.parametrize(
    "by_hand, error, match",
    [
        (lambda w, b: (np.zeros(2),), ValueError, r"one array per input \(2\), got 1"),
        (lambda w, b: (np.zeros(3), 0.0), ValueError, r"input 0 \(w\) has shape \(3,\), expected \(2,\)"),
        (lambda w, b: None, TypeError, "one array per input"),
        (lambda w, b: {"w": np.zeros(2)}, ValueError, "expected one for each of"),
    ],
)
def test_by_hand_returning_the_wrong_things(by_hand, error, match):
    with pytest.raises(error, match=match):
        tg.handcheck(cross_entropy, parameters(), by_hand)


def test_fn_must_return_a_scalar_tensor():
    x = Tensor([1.0, 2.0])
    with pytest.raises(ValueError, match=r"scalar Tensor \(one element\), got shape \(2,\)"):
        tg.handcheck(lambda x: x * 2, x, lambda x: np.full(2, 2.0))
    with pytest.raises(TypeError, match="must return a scalar Tensor, got float"):
        tg.handcheck(lambda x: 1.0, x, lambda x: np.zeros(2))


def test_inputs_must_be_float_tensors():
    with pytest.raises(TypeError, match="input 1 is int64"):
        tg.handcheck(lambda x, k: x.sum(), [Tensor([1.0]), Tensor(np.array([1]))], lambda x, k: (x, k))
    with pytest.raises(TypeError, match="input 0 must be a Tensor, got list"):
        tg.handcheck(lambda x: x.sum(), [[1.0, 2.0]], lambda x: x)


# ------------------------------------------------------------------ oracle and properties
@pytest.mark.oracle
def test_the_reported_autograd_value_is_pytorch_s(torch):
    w0, b0 = np.array([0.5, -0.25]), 0.1
    w = torch.tensor(w0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    y_hat = torch.sigmoid(torch.from_numpy(X) @ w + b)
    loss = torch.nn.functional.binary_cross_entropy(y_hat, torch.from_numpy(Y))
    loss.backward()

    report = report_of(cross_entropy, parameters(), lambda w, b: (np.zeros(2), logistic_by_hand(w, b)[1]))

    values = reported_values(report)
    element = int(re.search(r"at element \((\d),\)", report).group(1))
    assert float(values["autograd"]) == pytest.approx(w.grad[element].item(), rel=1e-5), report


@given(
    a=st.floats(-3, 3),
    c=st.floats(-3, 3),
    x=st.lists(st.floats(-2, 2), min_size=1, max_size=5),
    error=st.floats(1e-3, 1.0),
)
def test_property_polynomial_derivations(a, c, x, error):
    """sum(a x³ + c x) has the derivative 3a x² + c: it passes; off by more than the
    tolerance anywhere, it fails."""
    inputs = Tensor(np.array(x))

    def fn(t):
        return (a * t**3 + c * t).sum()

    def right(t):
        return 3 * a * t**2 + c

    def wrong(t):
        grad = right(t)
        grad[-1] += error * (1 + abs(grad[-1]))  # beyond atol + rtol·|grad| for any grad
        return grad

    assert tg.handcheck(fn, inputs, right), "the derivative of a x³ + c x is 3a x² + c"
    assert not tg.handcheck(fn, inputs, wrong, raise_exception=False), "an error beyond the tolerance must fail"
