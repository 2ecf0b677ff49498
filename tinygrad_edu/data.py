"""Small two-dimensional data sets for classification, MNIST's IDX files, and mini-batches.

Every maker returns (X, y): X float32 of shape (n_samples, 2), y int64 class labels of
shape (n_samples,), with n_samples counting all classes together, spread as evenly as
possible and shuffled. The same `seed` gives the same data; seed=None draws from the
generator that `tg.manual_seed` seeds. `load_mnist` reads the handwritten digits from
the files their authors publish.
"""

import gzip
import math
import os
import zlib

import numpy as np

from . import backend
from .random import generator
from .tensor import Tensor


def _rng(seed):
    """A NumPy Generator: a fresh one seeded with `seed`, or tg.manual_seed's when None."""
    return generator() if seed is None else np.random.default_rng(seed)


def _check(n_samples, **non_negative):
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ValueError(f"n_samples must be an integer >= 1, got {n_samples!r}")
    for name, value in non_negative.items():
        if not value >= 0:
            raise ValueError(f"{name} must be >= 0, got {value}")


def _class_sizes(n_samples, classes):
    """n_samples split into `classes` counts that differ by at most one."""
    return [n_samples // classes + (k < n_samples % classes) for k in range(classes)]


def _finish(rng, X, y):
    """Shuffle the rows (so that a batch taken in order holds every class) and set dtypes."""
    order = rng.permutation(len(y))
    return X[order].astype(np.float32), y[order].astype(np.int64)


def make_blobs(n_samples=200, centers=2, std=1.0, seed=None):
    """Gaussian clouds N(center, std² I), one per class.

    centers: a number of classes, whose centers lie evenly on a circle of radius 5
    (two centers are 10 apart: separable by a line for std=1), or an array (k, 2) of
    centers.
    """
    _check(n_samples, std=std)
    if isinstance(centers, (int, np.integer)):
        if centers < 1:
            raise ValueError(f"centers must be >= 1 or an array of shape (k, 2), got {centers}")
        angles = math.pi / 4 + 2 * math.pi * np.arange(centers) / centers
        centers = 5.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    centers = np.asarray(centers, dtype=np.float64)
    if centers.ndim != 2 or centers.shape[1] != 2 or len(centers) < 1:
        raise ValueError(f"centers must be a number of classes or an array of shape (k, 2), got shape {centers.shape}")
    rng = _rng(seed)
    y = np.repeat(np.arange(len(centers)), _class_sizes(n_samples, len(centers)))
    X = centers[y] + std * rng.standard_normal((n_samples, 2))
    return _finish(rng, X, y)


def make_moons(n_samples=200, noise=0.1, seed=None):
    """Two interleaving half circles of radius 1: class 0 the upper one around (0, 0),
    class 1 the lower one around (1, 0.5); Gaussian noise of std `noise`. No line
    separates them: a classic first task for a hidden layer."""
    _check(n_samples, noise=noise)
    rng = _rng(seed)
    y = np.repeat([0, 1], _class_sizes(n_samples, 2))
    angle = rng.uniform(0, math.pi, n_samples)
    upper = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    lower = np.stack([1 - np.cos(angle), 0.5 - np.sin(angle)], axis=1)
    X = np.where(y[:, None] == 0, upper, lower) + noise * rng.standard_normal((n_samples, 2))
    return _finish(rng, X, y)


def make_circles(n_samples=200, noise=0.05, factor=0.5, seed=None):
    """Two concentric circles: class 0 of radius 1, class 1 of radius `factor` (0 < factor < 1);
    Gaussian noise of std `noise`."""
    _check(n_samples, noise=noise)
    if not 0 < factor < 1:
        raise ValueError(f"factor must lie in (0, 1), got {factor}")
    rng = _rng(seed)
    y = np.repeat([0, 1], _class_sizes(n_samples, 2))
    angle = rng.uniform(0, 2 * math.pi, n_samples)
    radius = np.where(y == 0, 1.0, factor)
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    X += noise * rng.standard_normal((n_samples, 2))
    return _finish(rng, X, y)


def make_spirals(n_samples=300, classes=3, noise=0.2, seed=None):
    """`classes` spiral arms from the origin out to radius 1, each turning by 4 radians
    and starting 2π/classes after the previous; `noise` (radians) jitters the angle."""
    _check(n_samples, noise=noise)
    if not isinstance(classes, (int, np.integer)) or classes < 1:
        raise ValueError(f"classes must be an integer >= 1, got {classes!r}")
    rng = _rng(seed)
    y = np.repeat(np.arange(classes), _class_sizes(n_samples, classes))
    radius = rng.uniform(0, 1, n_samples)
    angle = 2 * math.pi * y / classes + 4 * radius + noise * rng.standard_normal(n_samples)
    X = radius[:, None] * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    return _finish(rng, X, y)


def make_xor(n_samples=200, noise=0.1, seed=None):
    """The XOR problem: clouds at the four corners (±1, ±1) with Gaussian noise of std
    `noise`; the label is 1 where exactly one coordinate of the corner is positive."""
    _check(n_samples, noise=noise)
    rng = _rng(seed)
    corner = np.arange(n_samples) % 4  # the four corners take turns: the classes stay balanced
    signs = np.stack([np.where(corner % 2 == 0, 1.0, -1.0), np.where(corner < 2, 1.0, -1.0)], axis=1)
    y = (signs[:, 0] != signs[:, 1]).astype(np.int64)
    X = signs + noise * rng.standard_normal((n_samples, 2))
    return _finish(rng, X, y)


# ---------------------------------------------------------------------- MNIST
_IDX_UNSIGNED_BYTE = 0x08  # the IDX dtype code of MNIST's pixels and labels


def load_mnist(directory, train=True):
    """MNIST's handwritten digits from the IDX files in `directory`: the 60,000 training
    images (train=True: train-images-idx3-ubyte, train-labels-idx1-ubyte) or the 10,000
    test ones (train=False: t10k-...). The "train-images.idx3-ubyte" spelling works too,
    and each file may be gzipped (".gz"); a raw file is preferred to a .gz.

    Returns NumPy arrays like the makers': X float32 (N, 1, 28, 28), the pixels scaled to
    [0, 1] (NCHW with one channel, what Conv2d takes), and y int64 (N,). A missing or
    malformed file is a ValueError naming it.
    """
    prefix = "train" if train else "t10k"
    images_path = _find_idx(directory, prefix, "images", 3)
    labels_path = _find_idx(directory, prefix, "labels", 1)
    images = _read_idx(images_path, ndim=3)
    labels = _read_idx(labels_path, ndim=1)
    if len(images) != len(labels):
        raise ValueError(f"{images_path} holds {len(images)} images but {labels_path} holds {len(labels)} labels")
    X = np.divide(images[:, None], 255, dtype=np.float32)
    return X, labels.astype(np.int64)


def _find_idx(directory, prefix, kind, ndim):
    """The path of one IDX file: MNIST's two spellings, raw before gzipped."""
    names = [f"{prefix}-{kind}-idx{ndim}-ubyte", f"{prefix}-{kind}.idx{ndim}-ubyte"]
    candidates = [os.path.join(directory, name + suffix) for suffix in ("", ".gz") for name in names]
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise ValueError(f"MNIST file missing: none of {', '.join(map(os.path.basename, candidates))} in {directory}")


def _read_idx(path, ndim):
    """The array of unsigned bytes in an IDX file (raw or gzipped), of `ndim` dimensions.

    IDX: two zero bytes, the dtype code (0x08: unsigned byte), the number of dimensions,
    each dimension as a big-endian uint32, then the data in C order.
    """
    raw = _read_bytes(path)
    header_size = 4 + 4 * ndim
    if len(raw) < header_size:
        raise ValueError(f"{path} is truncated: {len(raw)} bytes, shorter than an IDX header of {header_size}")
    magic = int.from_bytes(raw[:4], "big")
    if raw[:2] != b"\0\0" or raw[3] != ndim:
        expected = _IDX_UNSIGNED_BYTE << 8 | ndim
        raise ValueError(
            f"{path} is not an IDX file of {ndim} dimensions: magic number 0x{magic:08x}, expected 0x{expected:08x}"
        )
    if raw[2] != _IDX_UNSIGNED_BYTE:
        raise ValueError(f"{path} has IDX dtype code 0x{raw[2]:02x}, expected 0x08 (unsigned bytes)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    size = len(raw) - header_size
    if math.prod(shape) != size:
        raise ValueError(
            f"{path} declares shape {shape}, {math.prod(shape)} bytes of data, but holds {size} bytes after its header"
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_bytes(path):
    """The bytes of a file, decompressed when its name ends in .gz."""
    if not path.endswith(".gz"):
        with open(path, "rb") as file:
            return file.read()
    try:
        with gzip.open(path, "rb") as file:
            return file.read()
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"{path} is not a readable gzip file: {error}") from None


def batches(X, y, batch_size, shuffle=True, seed=None):
    """Yield (X_batch, y_batch) Tensors of `batch_size` rows, the last batch smaller when
    the rows do not divide evenly. shuffle=True visits the rows in a random order (from
    `seed`, or tg.manual_seed's generator when None), a new one on each call.

    X and y are arrays or Tensors with the same number of rows; Tensors stay on their device.
    """
    X = (X if isinstance(X, Tensor) else Tensor(X)).data
    y = (y if isinstance(y, Tensor) else Tensor(y)).data
    if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be an integer >= 1, got {batch_size!r}")
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same number of rows, got shapes {X.shape} and {y.shape}")
    order = _rng(seed).permutation(len(y)) if shuffle else None

    def take(array, start):
        if order is None:
            return Tensor(array[start : start + batch_size])
        rows = backend.to_device(order[start : start + batch_size], backend.device_of(array))
        return Tensor(array[rows])

    def generate():
        for start in range(0, len(y), batch_size):
            yield take(X, start), take(y, start)

    return generate()
