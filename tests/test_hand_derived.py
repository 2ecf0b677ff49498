"""Gradients derived by hand, as the lessons derive them, against autograd.

Each model is written with Tensor ops exactly as the maths reads (no fused loss), and the
expected gradient is the closed form computed in NumPy."""

import numpy as np
import pytest

from tinygrad_edu import Tensor


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def parameter(values):
    return Tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def binary_cross_entropy(y_hat, y):
    """E = −y ln ŷ − (1 − y) ln(1 − ŷ), elementwise"""
    return -(y * y_hat.log() + (1 - y) * (1 - y_hat).log())


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_logistic_regression_one_point(label):
    """ŷ = σ(w·x + b): ∂E/∂wⱼ = −(y − ŷ)xⱼ and ∂E/∂b = −(y − ŷ)"""
    rng = np.random.default_rng(0)
    x_values, w_values, b_value = rng.standard_normal(3), rng.standard_normal(3), 0.3
    w, b = parameter(w_values), parameter(b_value)
    x, y = Tensor(x_values), Tensor(np.array(label))

    y_hat = (w @ x + b).sigmoid()
    binary_cross_entropy(y_hat, y).backward()

    y_hat_expected = sigmoid(w_values @ x_values + b_value)
    np.testing.assert_allclose(y_hat.item(), y_hat_expected)
    np.testing.assert_allclose(w.grad.numpy(), -(label - y_hat_expected) * x_values)
    np.testing.assert_allclose(b.grad.item(), -(label - y_hat_expected))


def test_logistic_regression_mean_over_a_batch():
    """E = (1/n) Σᵢ Eᵢ: ∂E/∂w = −(1/n) Σᵢ (yᵢ − ŷᵢ) xᵢ = −Xᵀ(y − ŷ)/n and ∂E/∂b = −mean(y − ŷ)"""
    rng = np.random.default_rng(1)
    X_values, w_values = rng.standard_normal((8, 3)), rng.standard_normal(3)
    labels = (rng.random(8) > 0.5).astype(np.float64)
    w, b = parameter(w_values), parameter(-0.2)

    y_hat = (Tensor(X_values) @ w + b).sigmoid()
    binary_cross_entropy(y_hat, Tensor(labels)).mean().backward()

    y_hat_expected = sigmoid(X_values @ w_values - 0.2)
    np.testing.assert_allclose(w.grad.numpy(), -X_values.T @ (labels - y_hat_expected) / 8)
    np.testing.assert_allclose(b.grad.item(), -np.mean(labels - y_hat_expected))


def test_sigmoid_derivative_is_sigma_times_one_minus_sigma():
    """σ'(x) = σ(x)(1 − σ(x))"""
    values = np.linspace(-6, 6, 13)
    x = parameter(values)
    x.sigmoid().sum().backward()
    s = sigmoid(values)
    np.testing.assert_allclose(x.grad.numpy(), s * (1 - s))


@pytest.mark.parametrize("target", ["one-hot", "probabilities"])
def test_softmax_cross_entropy_gradient_is_probs_minus_target(target):
    """E = −Σₖ yₖ ln softmax(z)ₖ with Σₖ yₖ = 1: ∂E/∂z = softmax(z) − y"""
    rng = np.random.default_rng(2)
    logits_values = rng.standard_normal(4)
    y = np.eye(4)[2] if target == "one-hot" else softmax(rng.standard_normal(4))
    logits = parameter(logits_values)

    loss = -(Tensor(y) * logits.softmax().log()).sum()
    loss.backward()

    np.testing.assert_allclose(loss.item(), -(y * np.log(softmax(logits_values))).sum())
    np.testing.assert_allclose(logits.grad.numpy(), softmax(logits_values) - y)


def test_batched_log_softmax_cross_entropy_gradient():
    """E = −(1/N) Σᵢ Σₖ Yᵢₖ log_softmax(Z)ᵢₖ: ∂E/∂Z = (softmax(Z) − Y)/N"""
    rng = np.random.default_rng(3)
    logits_values = rng.standard_normal((5, 3))
    Y = np.eye(3)[rng.integers(0, 3, 5)]
    logits = parameter(logits_values)

    (-(Tensor(Y) * logits.log_softmax(axis=1)).sum(axis=1)).mean().backward()

    np.testing.assert_allclose(logits.grad.numpy(), (softmax(logits_values) - Y) / 5)


def test_matmul_gradients_are_g_w_transposed_and_x_transposed_g():
    """Y = XW: ∂⟨Y, G⟩/∂X = G Wᵀ and ∂⟨Y, G⟩/∂W = Xᵀ G"""
    rng = np.random.default_rng(4)
    X_values, W_values, G = rng.standard_normal((5, 3)), rng.standard_normal((3, 2)), rng.standard_normal((5, 2))
    X, W = parameter(X_values), parameter(W_values)

    (X @ W).backward(Tensor(G))

    np.testing.assert_allclose(X.grad.numpy(), G @ W_values.T)
    np.testing.assert_allclose(W.grad.numpy(), X_values.T @ G)


def test_linear_regression_mean_squared_error():
    """E = (1/n)‖Xw + b − y‖²: ∂E/∂w = (2/n) Xᵀ r and ∂E/∂b = (2/n) Σ r with r = Xw + b − y"""
    rng = np.random.default_rng(5)
    X_values, w_values, y = rng.standard_normal((6, 2)), rng.standard_normal(2), rng.standard_normal(6)
    w, b = parameter(w_values), parameter(0.5)

    residual = Tensor(X_values) @ w + b - Tensor(y)
    (residual**2).mean().backward()

    r = X_values @ w_values + 0.5 - y
    np.testing.assert_allclose(w.grad.numpy(), 2 / 6 * X_values.T @ r)
    np.testing.assert_allclose(b.grad.item(), 2 / 6 * r.sum())


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_two_layer_network_backpropagated_by_hand(activation):
    """H = act(X W₁ + b₁), ŷ = σ(H W₂ + b₂), E = mean BCE(ŷ, y).
    Backward by hand: dZ₂ = (ŷ − y)/n, dW₂ = Hᵀ dZ₂, db₂ = Σ dZ₂, dH = dZ₂ W₂ᵀ,
    dZ₁ = dH ⊙ act'(Z₁) with tanh' = 1 − H² and σ' = H(1 − H), dW₁ = Xᵀ dZ₁, db₁ = Σ dZ₁."""
    rng = np.random.default_rng(6)
    n, d, h = 7, 3, 4
    X_values = rng.standard_normal((n, d))
    labels = (rng.random((n, 1)) > 0.5).astype(np.float64)
    W1_values, b1_values = rng.standard_normal((d, h)), rng.standard_normal(h)
    W2_values, b2_values = rng.standard_normal((h, 1)), rng.standard_normal(1)

    # autograd
    W1, b1, W2, b2 = (parameter(v) for v in (W1_values, b1_values, W2_values, b2_values))
    hidden = Tensor(X_values) @ W1 + b1
    hidden = hidden.tanh() if activation == "tanh" else hidden.sigmoid()
    y_hat = (hidden @ W2 + b2).sigmoid()
    loss = binary_cross_entropy(y_hat, Tensor(labels)).mean()
    loss.backward()

    # by hand, in NumPy
    Z1 = X_values @ W1_values + b1_values
    H = np.tanh(Z1) if activation == "tanh" else sigmoid(Z1)
    y_hat_expected = sigmoid(H @ W2_values + b2_values)
    dZ2 = (y_hat_expected - labels) / n
    dW2, db2 = H.T @ dZ2, dZ2.sum(axis=0)
    dH = dZ2 @ W2_values.T
    dZ1 = dH * (1 - H**2) if activation == "tanh" else dH * H * (1 - H)
    dW1, db1 = X_values.T @ dZ1, dZ1.sum(axis=0)

    expected_loss = -np.mean(labels * np.log(y_hat_expected) + (1 - labels) * np.log(1 - y_hat_expected))
    np.testing.assert_allclose(loss.item(), expected_loss)
    for name, param, expected in [("W1", W1, dW1), ("b1", b1, db1), ("W2", W2, dW2), ("b2", b2, db2)]:
        np.testing.assert_allclose(param.grad.numpy(), expected, err_msg=f"∂E/∂{name}")
