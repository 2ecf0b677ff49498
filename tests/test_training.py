"""End to end: models learn the small data sets (seeded, a second or two each)."""

import numpy as np

import tinygrad_edu as tg
import tinygrad_edu.functional as F
from tinygrad_edu import Tensor, data, nn, optim


def _binary_cross_entropy(probs, targets):
    """−mean(y log p + (1 − y) log(1 − p)), with p kept away from 0 and 1."""
    probs = probs.clip(1e-7, 1 - 1e-7)
    return -(targets * probs.log() + (1 - targets) * (1 - probs).log()).mean()


def _cross_entropy(logits, labels):
    """−mean log softmax(logits)[label], through one-hot rows."""
    return -(logits.log_softmax(axis=1) * F.one_hot(labels, logits.shape[1])).sum(axis=1).mean()


def test_logistic_regression_separates_blobs():
    tg.manual_seed(0)
    X, y = data.make_blobs(200, centers=2, std=1.0, seed=0)
    model = nn.Linear(2, 1)
    opt = optim.SGD(model.parameters(), lr=0.5)
    inputs, targets = Tensor(X), Tensor(y.astype(np.float32).reshape(-1, 1))
    losses = []
    for _ in range(100):
        opt.zero_grad()
        loss = _binary_cross_entropy(model(inputs).sigmoid(), targets)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    predictions = (model(inputs).sigmoid().numpy()[:, 0] > 0.5).astype(np.int64)
    assert (predictions == y).mean() == 1.0
    assert losses[-1] < 0.1 * losses[0]


def test_mlp_learns_moons_with_minibatches():
    tg.manual_seed(0)
    X, y = data.make_moons(300, noise=0.1, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 2))
    opt = optim.Adam(model.parameters(), lr=0.02)
    for epoch in range(40):
        for xb, yb in data.batches(X, y, batch_size=32, seed=epoch):
            opt.zero_grad()
            _cross_entropy(model(xb), yb).backward()
            opt.step()
    X_test, y_test = data.make_moons(300, noise=0.1, seed=1)
    with tg.no_grad():
        accuracy = (model(Tensor(X_test)).argmax(axis=1).numpy() == y_test).mean()
    assert accuracy >= 0.97, f"test accuracy {accuracy:.3f}"


def test_perceptron_rule_with_step_learns_blobs():
    """The perceptron's update w ← w + lr (y − ŷ) x needs no gradient: Step's is zero."""
    X, y = data.make_blobs(100, centers=2, std=1.0, seed=3)
    model = nn.Sequential(nn.Linear(2, 1), nn.Step())
    linear = model[0]
    for _ in range(20):
        for x_i, y_i in zip(X, y):
            error = y_i - model(Tensor(x_i[None])).item()
            linear.weight.data += 0.1 * error * x_i
            linear.bias.data += 0.1 * error
    predictions = model(Tensor(X)).numpy()[:, 0]
    assert (predictions == y).mean() == 1.0
