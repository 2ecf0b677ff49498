"""data.load_mnist on small IDX files written here: raw and gzipped, both spellings, and
every kind of malformed file a ValueError that names it."""

import gzip

import numpy as np
import pytest

from tinygrad_edu import data


def _idx(array, dtype_code=0x08, ndim=None):
    """The bytes of an IDX file: two zero bytes, the dtype code, the number of dimensions,
    each dimension as a big-endian uint32, then the data."""
    ndim = array.ndim if ndim is None else ndim
    header = bytes([0, 0, dtype_code, ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    return header + array.tobytes()


def _digits(n, seed=0):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
    images[0, 0, :3] = [0, 51, 255]  # pixels whose scaled values are known: 0, 0.2, 1
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    return images, labels


def _write_set(directory, prefix, images, labels, spelling="-", compress=False):
    """Write one set's two IDX files; spelling "-" gives train-images-idx3-ubyte, "." train-images.idx3-ubyte."""
    suffix = ".gz" if compress else ""
    for kind, array, ndim in (("images", images, 3), ("labels", labels, 1)):
        content = array if isinstance(array, bytes) else _idx(array)
        path = directory / f"{prefix}-{kind}{spelling}idx{ndim}-ubyte{suffix}"
        path.write_bytes(gzip.compress(content) if compress else content)


def test_reads_the_training_set_as_nchw_float32_in_0_1_and_int64_labels(tmp_path):
    images, labels = _digits(5)
    _write_set(tmp_path, "train", images, labels)
    X, y = data.load_mnist(tmp_path)
    assert X.shape == (5, 1, 28, 28) and X.dtype == np.float32
    assert y.shape == (5,) and y.dtype == np.int64
    np.testing.assert_array_equal(X[0, 0, 0, :3], np.array([0.0, 0.2, 1.0], dtype=np.float32))
    np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4, err_msg="pixels are divided by 255")
    assert 0.0 <= X.min() and X.max() <= 1.0
    np.testing.assert_array_equal(y, labels)


def test_train_false_reads_the_t10k_files(tmp_path):
    _write_set(tmp_path, "train", *_digits(6, seed=1))
    test_images, test_labels = _digits(3, seed=2)
    _write_set(tmp_path, "t10k", test_images, test_labels)
    X, y = data.load_mnist(str(tmp_path), train=False)
    assert len(X) == 3, "the test set, not the training set"
    np.testing.assert_array_equal(y, test_labels)
    assert len(data.load_mnist(tmp_path, train=True)[0]) == 6


def test_gzipped_files_give_the_same_arrays(tmp_path):
    images, labels = _digits(4)
    raw_dir, gz_dir = tmp_path / "raw", tmp_path / "gz"
    raw_dir.mkdir()
    gz_dir.mkdir()
    _write_set(raw_dir, "train", images, labels)
    _write_set(gz_dir, "train", images, labels, compress=True)
    X_raw, y_raw = data.load_mnist(raw_dir)
    X_gz, y_gz = data.load_mnist(gz_dir)
    np.testing.assert_array_equal(X_gz, X_raw)
    np.testing.assert_array_equal(y_gz, y_raw)


def test_a_raw_file_is_preferred_to_its_gz(tmp_path):
    raw_images, raw_labels = _digits(2, seed=3)
    _write_set(tmp_path, "train", raw_images, raw_labels)
    _write_set(tmp_path, "train", *_digits(7, seed=4), compress=True)
    X, y = data.load_mnist(tmp_path)
    assert len(X) == 2, "the raw files were read"
    np.testing.assert_array_equal(y, raw_labels)


def test_the_dotted_spelling_is_read_too(tmp_path):
    images, labels = _digits(3)
    _write_set(tmp_path, "t10k", images, labels, spelling=".")
    X, y = data.load_mnist(tmp_path, train=False)
    np.testing.assert_allclose(X[:, 0] * 255, images, atol=1e-4)
    np.testing.assert_array_equal(y, labels)


def test_the_image_size_comes_from_the_file(tmp_path):
    images = np.arange(2 * 4 * 3, dtype=np.uint8).reshape(2, 4, 3)
    _write_set(tmp_path, "train", images, np.array([1, 7], dtype=np.uint8))
    X, _ = data.load_mnist(tmp_path)
    assert X.shape == (2, 1, 4, 3)


def test_a_missing_file_names_what_was_looked_for(tmp_path):
    images, _ = _digits(2)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(_idx(images))
    with pytest.raises(ValueError, match="MNIST file missing: none of train-labels-idx1-ubyte, .*labels-idx1-ubyte.gz"):
        data.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte"):
        data.load_mnist(tmp_path, train=False)
    with pytest.raises(ValueError, match="MNIST file missing"):
        data.load_mnist(tmp_path / "no_such_directory")


IMAGES, LABELS = _digits(3)


@pytest.mark.parametrize(
    "images, labels, bad_file, message",
    [
        (_idx(IMAGES[None]), LABELS, "train-images", "magic number 0x00000804, expected 0x00000803"),
        (IMAGES, _idx(IMAGES), "train-labels", "magic number 0x00000803, expected 0x00000801"),
        (b"\x01\x00" + _idx(IMAGES)[2:], LABELS, "train-images", "magic number 0x01000803"),
        (_idx(IMAGES, dtype_code=0x0D), LABELS, "train-images", "IDX dtype code 0x0d, expected 0x08"),
        (_idx(IMAGES) + b"\x00", LABELS, "train-images", r"declares shape \(3, 28, 28\), 2352 bytes .* holds 2353"),
        (_idx(IMAGES)[:-1], LABELS, "train-images", r"2352 bytes of data, but holds 2351"),
        (IMAGES, _idx(LABELS)[:6], "train-labels", "truncated: 6 bytes, shorter than an IDX header of 8"),
        (IMAGES, b"", "train-labels", "truncated: 0 bytes"),
    ],
)
def test_a_malformed_file_is_a_value_error_naming_it(tmp_path, images, labels, bad_file, message):
    _write_set(tmp_path, "train", images, labels)
    with pytest.raises(ValueError, match=message) as error:
        data.load_mnist(tmp_path)
    assert bad_file in str(error.value), f"the message names the file: {error.value}"


def test_image_and_label_counts_that_differ_name_both_files(tmp_path):
    images, labels = _digits(5)
    _write_set(tmp_path, "train", images, labels[:4])
    message = r"train-images-idx3-ubyte holds 5 images but .*train-labels-idx1-ubyte holds 4 labels"
    with pytest.raises(ValueError, match=message):
        data.load_mnist(tmp_path)


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda content: content[: len(content) // 2], "not a readable gzip file"),
        (lambda content: b"not gzip at all", "not a readable gzip file"),
        (lambda content: content[:10] + bytes(len(content) - 10), "not a readable gzip file"),
    ],
)
def test_a_damaged_gz_is_a_value_error_naming_it(tmp_path, damage, message):
    images, labels = _digits(2)
    _write_set(tmp_path, "train", images, labels, compress=True)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=message) as error:
        data.load_mnist(tmp_path)
    assert "train-images-idx3-ubyte.gz" in str(error.value)
