"""The lessons in examples/ run and teach what they say: each test runs a lesson's
main(["--quick", "--out", tmp]) in-process and checks the results it returns and the
labelled lines it prints. Accuracy bars are the lessons' own claims."""

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

import tinygrad_edu as tg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def run_lesson(monkeypatch, tmp_path):
    """run_lesson(name, *options) -> the lesson's results, its figures going to tmp_path."""
    monkeypatch.syspath_prepend(str(EXAMPLES))  # the lessons import their helpers from _common

    def run(name, *options):
        lesson = importlib.import_module("_common").load_lesson(name)
        # pytest -n 2 runs two lessons at once on two cores: one BLAS thread each, or they
        # fight over the cores and scikit-learn's reference models slow down many times
        with threadpool_limits(limits=1):
            return lesson.main(["--quick", "--out", str(tmp_path), *options])

    return run


def assert_files(paths, magic=None):
    assert paths, "the lesson reported no files"
    for path in map(Path, paths):
        assert path.is_file(), f"{path} was not written"
        content = path.read_bytes()
        assert content, f"{path} is empty"
        if magic is not None:
            assert content.startswith(magic), f"{path} does not start with {magic!r}"


def printed(capsys, label):
    """The value of the printed line `label: value` (the first one)."""
    out = capsys.readouterr().out
    for line in out.splitlines():
        if line.startswith(label + ": "):
            return line[len(label) + 2 :]
    raise AssertionError(f"no line starting {label!r} in the output:\n{out}")


def test_seed_walkthrough_numbers(run_lesson, capsys):
    results = run_lesson("01_seed_walkthrough")
    output = capsys.readouterr().out

    assert results["probabilities_on_line"] == (0.5, 0.5)
    assert results["softmax"] == (0.67, 0.24, 0.09)
    assert results["likelihood_model_a"] == 0.0084
    assert results["likelihood_model_b"] == 0.3024
    assert results["cross_entropy_doors"] == 0.69
    # −(ln 0.7 + ln 0.5 + ln 0.6), by hand
    assert results["multiclass_cross_entropy"] == 1.56
    assert results["one_hot"] == [[1, 0, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]]
    assert results["gradient_max_difference"] < 1e-12, "autograd disagrees with −(y − ŷ)x"
    assert results["sgd_step_max_difference"] < 1e-12, "optim.SGD disagrees with w + α(y − ŷ)x"

    assert "softmax of scores (2, 1, 0): (0.67, 0.24, 0.09)" in output
    assert "P(all) = 0.1·0.6·0.7·0.2 = 0.0084" in output
    assert "P(all) = 0.7·0.9·0.8·0.6 = 0.3024" in output
    assert re.search(r"cross-entropy of the three doors .*: 0\.69$", output, re.MULTILINE)
    assert_files(results["figures"], PNG_MAGIC)


def test_seed_walkthrough_runs_as_a_script(tmp_path):
    script = EXAMPLES / "01_seed_walkthrough.py"
    done = subprocess.run(
        [sys.executable, str(script), "--out", str(tmp_path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "softmax of scores (2, 1, 0): (0.67, 0.24, 0.09)" in done.stdout
    assert (tmp_path / "step_vs_sigmoid.png").stat().st_size > 0


def test_logistic_regression(run_lesson, capsys):
    results = run_lesson("02_logistic_regression")
    line = printed(capsys, "breast cancer test accuracy")

    assert results["hand_vs_optim_max_difference"] < 1e-4, "w ← w + α(y − ŷ)x and nn + optim.SGD differ"
    assert results["blobs_accuracy_perceptron"] >= 0.9
    assert results["blobs_accuracy_logistic_regression"] >= 0.9
    assert results["breast_cancer_accuracy"] >= 0.95
    assert 0.9 <= results["breast_cancer_accuracy_sklearn"] <= 1
    assert re.fullmatch(r"tinygrad_edu 0\.\d{3}, scikit-learn LogisticRegression 0\.\d{3}", line), line
    assert_files(results["figures"], PNG_MAGIC)


def test_nonlinear_regions(run_lesson):
    results = run_lesson("03_nonlinear_regions")

    for name in ("moons", "circles", "xor"):
        assert results[f"{name}_mlp_accuracy"] >= 0.95, name
    # no line splits circles or XOR: a linear model is near a coin toss there
    assert results["circles_logistic_regression_accuracy"] < 0.7
    assert results["xor_logistic_regression_accuracy"] < 0.7
    assert_files(results["figures"], PNG_MAGIC)


def test_softmax_multiclass(run_lesson, capsys):
    results = run_lesson("04_softmax_multiclass")
    output = capsys.readouterr().out

    assert results["spirals_mlp_accuracy"] >= 0.9
    assert results["spirals_softmax_regression_accuracy"] < 0.7, "straight boundaries cannot follow spirals"
    assert results["digits_accuracy"] >= 0.95
    assert results["digits_seconds"] > 0 and results["digits_seconds_sklearn"] > 0
    assert re.search(r"^digits test accuracy: tinygrad_edu MLP 0\.\d{3}, scikit-learn MLPClassifier", output, re.M)
    assert re.search(r"^digits training time: tinygrad_edu MLP [\d.]+ s \(cpu\), scikit-learn", output, re.M)
    assert_files(results["figures"], PNG_MAGIC)


def test_softmax_multiclass_cuda_fails_clearly_without_a_gpu(run_lesson):
    if tg.cuda.is_available():
        pytest.skip("a GPU is present: test_softmax_multiclass_on_cuda runs instead")
    with pytest.raises(RuntimeError, match="cuda"):
        run_lesson("04_softmax_multiclass", "--device", "cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not tg.cuda.is_available(), reason="needs an NVIDIA GPU and CuPy")
def test_softmax_multiclass_on_cuda(run_lesson):
    results = run_lesson("04_softmax_multiclass", "--device", "cuda")
    assert results["device"] == "cuda"
    assert results["digits_accuracy"] >= 0.95


def test_loss_functions(run_lesson):
    results = run_lesson("05_loss_functions")
    slopes, true_slope = results["slopes"], results["true_slope"]

    def error(name):
        return abs(slopes[name] - true_slope)

    assert error("MAE") < error("MSE"), slopes
    assert error("Huber") < error("MSE"), slopes
    assert error("MAE") < 0.2, slopes
    assert_files(results["figures"], PNG_MAGIC)


def test_computational_graph(run_lesson, dot):
    results = run_lesson("06_computational_graph")

    assert results["dot_available"]
    svgs = [path for path in results["files"] if path.endswith(".svg")]
    pngs = [path for path in results["files"] if path.endswith(".png")]
    assert len(svgs) == 2 and len(pngs) == 2, results["files"]
    assert_files(svgs, b"<?xml")
    assert_files(pngs, PNG_MAGIC)
    picture = Path(svgs[0]).read_text(encoding="utf-8")
    for text in ("Sigmoid", "linear.weight", "σ(x)(1 − σ(x))"):
        assert text in picture, f"{text!r} missing from the logistic regression's picture"
    # one frame per op: Linear, Sigmoid, BinaryCrossEntropy
    assert len(results["steps"]) == 3
    assert_files(results["steps"], PNG_MAGIC)


def test_computational_graph_without_dot(run_lesson, monkeypatch, tmp_path, capsys):
    empty = tmp_path / "no_programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # graphviz finds no dot here

    results = run_lesson("06_computational_graph")
    output = capsys.readouterr().out

    assert not results["dot_available"]
    assert "graphviz's dot is missing" in output
    assert {Path(path).name for path in results["files"]} == {"logistic_regression_graph.dot", "mlp_graph.dot"}
    assert_files(results["files"], b"digraph")
    assert_files(results["steps"], b"digraph")
    assert "Sigmoid" in results["logistic_regression_text"]
    assert "0.weight" in results["mlp_text"]


def test_gradient_checking(run_lesson):
    results = run_lesson("07_gradient_checking")

    assert results["softplus_passes"] and results["cube_passes"] and results["composed_passes"]
    assert results["gradgradcheck_passes"]
    assert results["wrong_backward_caught"]
    assert results["wrong_backward_quiet_result"] is False
    assert "analytic" in results["report"] and "numerical" in results["report"]
    assert_files(results["figures"], PNG_MAGIC)


def test_demo(run_lesson, capsys):
    results = run_lesson("demo")
    output = capsys.readouterr().out

    assert results["lessons"]["01_seed_walkthrough"]["softmax"] == (0.67, 0.24, 0.09)
    assert results["lessons"]["02_logistic_regression"]["breast_cancer_accuracy"] >= 0.95
    assert "== summary ==" in output
    assert f"files written: {len(results['files'])}" in output
    assert_files(results["files"])
