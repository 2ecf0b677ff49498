"""The small data sets and mini-batches."""

import numpy as np
import pytest

import tinygrad_edu as tg
from tinygrad_edu import Tensor, data

MAKERS = {
    "blobs": (data.make_blobs, 2),
    "blobs3": (lambda **kw: data.make_blobs(centers=3, **kw), 3),
    "moons": (data.make_moons, 2),
    "circles": (data.make_circles, 2),
    "spirals": (data.make_spirals, 3),
    "xor": (data.make_xor, 2),
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("n_samples", [1, 7, 200])
def test_shapes_dtypes_and_balanced_classes(name, n_samples):
    make, classes = MAKERS[name]
    X, y = make(n_samples=n_samples, seed=0)
    assert X.shape == (n_samples, 2) and X.dtype == np.float32
    assert y.shape == (n_samples,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes and counts.sum() == n_samples
    assert counts.max() - counts.min() <= 1, f"classes as even as possible, got counts {counts}"


@pytest.mark.parametrize("name", MAKERS)
def test_seeds(name):
    make, _ = MAKERS[name]
    X1, y1 = make(seed=5)
    X2, y2 = make(seed=5)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.array_equal(make(seed=6)[0], X1)
    tg.manual_seed(11)
    X3, y3 = make()
    tg.manual_seed(11)
    X4, y4 = make()
    np.testing.assert_array_equal(X3, X4)
    np.testing.assert_array_equal(y3, y4)
    assert not np.array_equal(make()[0], X4), "seed=None draws from the shared generator"


def test_rows_are_shuffled():
    _, y = data.make_moons(200, seed=0)
    assert 0 < y[:20].sum() < 20, "the first rows hold both classes"


def test_blobs_sit_around_their_centers():
    X, y = data.make_blobs(3000, centers=[[0, 0], [10, -4]], std=0.5, seed=0)
    np.testing.assert_allclose(X[y == 0].mean(axis=0), [0, 0], atol=0.05)
    np.testing.assert_allclose(X[y == 1].mean(axis=0), [10, -4], atol=0.05)
    assert X[y == 1].std(axis=0) == pytest.approx([0.5, 0.5], rel=0.05)


def test_moons_without_noise_lie_on_their_half_circles():
    X, y = data.make_moons(100, noise=0.0, seed=0)
    upper, lower = X[y == 0], X[y == 1] - np.array([1.0, 0.5], dtype=np.float32)
    np.testing.assert_allclose(np.hypot(*upper.T), 1, rtol=1e-6)
    np.testing.assert_allclose(np.hypot(*lower.T), 1, rtol=1e-6)
    assert (upper[:, 1] >= 0).all() and (lower[:, 1] <= 1e-7).all()


def test_circles_without_noise_have_radius_1_and_factor():
    X, y = data.make_circles(100, noise=0.0, factor=0.3, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    np.testing.assert_allclose(radius[y == 0], 1.0, rtol=1e-6)
    np.testing.assert_allclose(radius[y == 1], 0.3, rtol=1e-6)


def test_xor_labels_are_the_xor_of_the_quadrant():
    X, y = data.make_xor(400, noise=0.1, seed=0)
    np.testing.assert_array_equal(y, (X[:, 0] > 0) != (X[:, 1] > 0))


def test_spirals_stay_in_the_unit_disc_and_wind():
    X, y = data.make_spirals(300, classes=3, noise=0.0, seed=0)
    radius = np.hypot(X[:, 0], X[:, 1])
    assert radius.max() <= 1.0
    for k in range(3):
        r = radius[y == k]
        angle = np.arctan2(X[y == k, 1], X[y == k, 0])
        expected = 2 * np.pi * k / 3 + 4 * r
        np.testing.assert_allclose(np.cos(angle - expected), 1.0, atol=1e-5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: data.make_blobs(0), "n_samples must be an integer >= 1, got 0"),
        (lambda: data.make_moons(-5), "got -5"),
        (lambda: data.make_circles(2.5), "got 2.5"),
        (lambda: data.make_xor(10, noise=-0.1), "noise must be >= 0, got -0.1"),
        (lambda: data.make_blobs(10, std=-1), "std must be >= 0"),
        (lambda: data.make_blobs(10, centers=0), "centers must be >= 1"),
        (lambda: data.make_blobs(10, centers=[[1, 2, 3]]), r"shape \(k, 2\), got shape \(1, 3\)"),
        (lambda: data.make_circles(10, factor=1.5), r"factor must lie in \(0, 1\), got 1.5"),
        (lambda: data.make_spirals(10, classes=0), "classes must be an integer >= 1, got 0"),
    ],
)
def test_bad_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------------- batches
def test_batches_cover_every_row_once_and_keep_the_last_smaller_batch():
    X, y = data.make_blobs(23, seed=0)
    parts = list(data.batches(X, y, batch_size=5, seed=1))
    assert [len(xb) for xb, _ in parts] == [5, 5, 5, 5, 3]
    assert all(isinstance(xb, Tensor) and isinstance(yb, Tensor) for xb, yb in parts)
    assert parts[0][0].dtype == np.float32 and parts[0][1].dtype == np.int64
    X_seen = np.concatenate([xb.numpy() for xb, _ in parts])
    y_seen = np.concatenate([yb.numpy() for _, yb in parts])
    order = np.lexsort(X_seen.T)
    expected = np.lexsort(X.T)
    np.testing.assert_array_equal(X_seen[order], X[expected])
    np.testing.assert_array_equal(y_seen[order], y[expected])
    assert not np.array_equal(X_seen, X), "shuffled"


def test_batches_without_shuffle_keep_the_order():
    X = np.arange(20, dtype=np.float32).reshape(10, 2)
    y = np.arange(10)
    parts = list(data.batches(X, y, batch_size=4, shuffle=False))
    np.testing.assert_array_equal(np.concatenate([xb.numpy() for xb, _ in parts]), X)
    np.testing.assert_array_equal(parts[-1][1].numpy(), [8, 9])


def test_batches_seeds_and_tensor_inputs():
    X, y = data.make_moons(30, seed=0)
    first = [yb.numpy() for _, yb in data.batches(X, y, 8, seed=3)]
    second = [yb.numpy() for _, yb in data.batches(Tensor(X), Tensor(y), 8, seed=3)]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    tg.manual_seed(2)
    third = [xb.numpy() for xb, _ in data.batches(X, y, 8)]
    tg.manual_seed(2)
    fourth = [xb.numpy() for xb, _ in data.batches(X, y, 8)]
    for a, b in zip(third, fourth):
        np.testing.assert_array_equal(a, b)
    assert len(list(data.batches(X, y, batch_size=100))) == 1


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda X, y: data.batches(X, y, 0), "batch_size must be an integer >= 1, got 0"),
        (lambda X, y: data.batches(X, y, 2.5), "got 2.5"),
        (lambda X, y: data.batches(X, y[:-1], 4), r"same number of rows, got shapes \(10, 2\) and \(9,\)"),
    ],
)
def test_batches_errors_are_raised_at_the_call(call, message):
    X, y = data.make_xor(10, seed=0)
    with pytest.raises(ValueError, match=message):
        call(X, y)
