"""The lessons in examples/ run and teach what they say: each test runs a lesson's
main(["--quick", "--out", tmp]) in-process and checks the results it returns and the
labelled lines it prints. Accuracy bars are the lessons' own claims. Each lesson's
exercises pass with the answers in examples/solutions/, and say what to do without them.
(tests/test_notebooks.py runs the same lessons as notebooks.)"""

import importlib
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from threadpoolctl import threadpool_limits

import tinygrad_edu as tg

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
README = EXAMPLES.parent / "README.md"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
LESSONS = sorted(path.stem for path in EXAMPLES.glob("[0-9][0-9]_*.py"))


@pytest.fixture
def common(monkeypatch):
    """examples/_common.py, the helpers every lesson shares."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.delenv("TINYGRAD_EDU_QUICK", raising=False)
    return importlib.import_module("_common")


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


def assert_slide_ready(paths):
    """Figures for slides: PNGs of at least 120 dpi."""
    assert_files(paths, PNG_MAGIC)
    for path in paths:
        dpi = Image.open(path).info.get("dpi", (0, 0))
        assert min(dpi) >= 119.5, f"{path} is {dpi} dpi, expected at least 120"


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
    assert results["handcheck_passes"], "tg.handcheck refused −(y − ŷ)x"
    assert results["sign_slip_caught"], "tg.handcheck let (y − ŷ)x, a sign slip, through"
    assert results["gradient_max_difference"] < 1e-12, "autograd disagrees with −(y − ŷ)x"
    assert results["sgd_step_max_difference"] < 1e-12, "optim.SGD disagrees with w + α(y − ŷ)x"

    assert "softmax of scores (2, 1, 0): (0.67, 0.24, 0.09)" in output
    assert "P(all) = 0.1·0.6·0.7·0.2 = 0.0084" in output
    assert "P(all) = 0.7·0.9·0.8·0.6 = 0.3024" in output
    assert re.search(r"cross-entropy of the three doors .*: 0\.69$", output, re.MULTILINE)
    assert "autograd and numerical agree: the derivation by hand differs" in output, "the sign slip's report"
    assert_slide_ready(results["figures"])


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

    assert results["gradient_handcheck_passes"], "tg.handcheck refused ∂E/∂w = −mean((y − ŷ)x)"
    assert results["hand_vs_optim_max_difference"] < 1e-4, "w ← w + α(y − ŷ)x and nn + optim.SGD differ"
    assert results["blobs_accuracy_perceptron"] >= 0.9
    assert results["blobs_accuracy_logistic_regression"] >= 0.9
    assert results["breast_cancer_accuracy"] >= 0.95
    assert 0.9 <= results["breast_cancer_accuracy_sklearn"] <= 1
    assert re.fullmatch(r"tinygrad_edu 0\.\d{3}, scikit-learn LogisticRegression 0\.\d{3}", line), line
    assert_slide_ready(results["figures"])


def test_nonlinear_regions(run_lesson):
    results = run_lesson("03_nonlinear_regions")

    for name in ("moons", "circles", "xor"):
        assert results[f"{name}_mlp_accuracy"] >= 0.95, name
    # no line splits circles or XOR: a linear model is near a coin toss there
    assert results["circles_logistic_regression_accuracy"] < 0.7
    assert results["xor_logistic_regression_accuracy"] < 0.7
    assert_slide_ready(results["figures"])


def test_softmax_multiclass(run_lesson, capsys):
    results = run_lesson("04_softmax_multiclass")
    output = capsys.readouterr().out

    assert results["gradient_handcheck_passes"], "tg.handcheck refused ∂CE/∂z = ŷ − y"
    assert results["spirals_mlp_accuracy"] >= 0.9
    assert results["spirals_softmax_regression_accuracy"] < 0.7, "straight boundaries cannot follow spirals"
    assert results["digits_accuracy"] >= 0.95
    assert results["digits_seconds"] > 0 and results["digits_seconds_sklearn"] > 0
    assert re.search(r"^digits test accuracy: tinygrad_edu MLP 0\.\d{3}, scikit-learn MLPClassifier", output, re.M)
    assert re.search(r"^digits training time: tinygrad_edu MLP [\d.]+ s \(cpu\), scikit-learn", output, re.M)
    assert_slide_ready(results["figures"])


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


def test_loss_functions(run_lesson, capsys):
    results = run_lesson("05_loss_functions")
    output = capsys.readouterr().out
    slopes, true_slope = results["slopes"], results["true_slope"]

    def error(name):
        return abs(slopes[name] - true_slope)

    assert error("MAE") < error("MSE"), slopes
    assert error("Huber") < error("MSE"), slopes
    assert error("MAE") < 0.2, slopes
    assert "+ -" not in output and "− -" not in output, "a sign written twice"
    assert_slide_ready(results["figures"])


def test_loss_functions_write_kl_as_the_readme_does():
    readme_row = next(line for line in README.read_text(encoding="utf-8").splitlines() if "KL divergence" in line)
    formula = readme_row.split("|")[2].strip()
    lesson = (EXAMPLES / "05_loss_functions.py").read_text(encoding="utf-8")

    assert formula == "p (ln p − ln q), input = ln q", f"the README's KL row changed: {readme_row}"
    assert formula in lesson, "lesson 5 must write KL as the README's table does"
    assert "KL(p ‖ q)" in lesson and "KL(q ‖ p)" not in lesson, "p is the target, q the model, in both"


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
    missing = [line for line in output.splitlines() if line.startswith("graphviz's dot is missing")]
    assert len(missing) == 1 and "apt-get install graphviz" in missing[0], "one line that says how to install it"
    assert "Traceback" not in output
    assert {Path(path).name for path in results["files"]} == {"logistic_regression_graph.dot", "mlp_graph.dot"}
    assert_files(results["files"], b"digraph")
    for path in results["files"]:
        assert "rankdir=TB" in Path(path).read_text(encoding="utf-8"), f"{path}: top to bottom fits a slide"
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
    assert_slide_ready(results["figures"])


def test_demo(run_lesson, capsys):
    results = run_lesson("demo")
    output = capsys.readouterr().out

    assert results["lessons"]["01_seed_walkthrough"]["softmax"] == (0.67, 0.24, 0.09)
    assert results["lessons"]["02_logistic_regression"]["breast_cancer_accuracy"] >= 0.95
    assert "== summary ==" in output
    assert f"files written: {len(results['files'])}" in output
    assert_files(results["files"])


def test_demo_without_dot_ends_with_one_line(run_lesson, monkeypatch, tmp_path, capsys):
    empty = tmp_path / "no_programs"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))

    results = run_lesson("demo")
    output = capsys.readouterr().out

    assert output.count("graphviz's dot is missing") == 1, output
    assert any(path.endswith(".dot") for path in results["files"]), "the DOT source is kept"


# ---------------------------------------------------------------------- exercises
@pytest.mark.parametrize("name", LESSONS)
def test_exercises_pass_with_the_solutions(name, common, monkeypatch, tmp_path, capsys):
    monkeypatch.chdir(tmp_path)  # exercise figures go to out/ here
    solutions = EXAMPLES / "solutions" / f"{name}.py"
    assert solutions.is_file(), f"{name}'s exercises need their solutions in examples/solutions/{name}.py"
    lesson, solution = common.load_lesson(name), common.load_solution(name)
    checks = sorted(attribute for attribute in vars(lesson) if attribute.startswith("exercise_"))
    assert 2 <= len(checks) <= 3, f"{name} should end with two or three exercises, has {checks}"

    for check in checks:
        stub = check.removeprefix("exercise_")
        with threadpool_limits(limits=1):
            not_done = getattr(lesson, check)(getattr(lesson, stub))
            solved = getattr(lesson, check)(getattr(solution, stub))
        output = capsys.readouterr().out

        assert not_done is False, f"{check} passed the lesson's unfinished {stub}"
        assert solved is True, f"{check} refused solutions/{name}.py's {stub}:\n{output}"
        assert ": to do: " in output, f"{check} must say what to do while {stub} is not written:\n{output}"


def test_a_wrong_derivation_prints_what_differs(common, capsys):
    lesson = common.load_lesson("01_seed_walkthrough")

    result = lesson.exercise_sigmoid_derivative(lambda z: np.exp(-z) / (1 + np.exp(-z)))  # σ(z)·e⁻ᶻ forgot a σ
    output = capsys.readouterr().out

    assert result is False
    assert "not yet" in output and "autograd and numerical agree: the derivation by hand differs" in output, output


def test_a_wrong_prediction_prints_both_numbers(common, capsys):
    lesson = common.load_lesson("01_seed_walkthrough")

    result = lesson.exercise_cross_entropy_of_a_coin(2.0)
    output = capsys.readouterr().out

    assert result is False
    assert "you predicted 2, the library computes 2.773" in output, output  # 4 ln 2 = 2.7726
    assert lesson.exercise_cross_entropy_of_a_coin(4 * math.log(2)) is True


# ---------------------------------------------------------------------- what the lessons share
def test_a_notebook_kernel_s_arguments_are_ignored(common, monkeypatch, tmp_path):
    kernel = ["ipykernel_launcher.py", "-f", "/tmp/kernel-1.json", "--out", str(tmp_path)]
    monkeypatch.setattr(common, "in_notebook", lambda: True)
    monkeypatch.setattr(sys, "argv", kernel)

    assert not common.parse_args("a lesson", None).quick, "-f kernel.json is the kernel's, not the lesson's"
    monkeypatch.setattr(sys, "argv", [*kernel, "--quick"])
    assert common.parse_args("a lesson", None).quick, "a known option still counts"


@pytest.mark.parametrize("value, quick", [("1", True), ("true", True), ("0", False), ("", False)])
def test_quick_mode_comes_from_the_environment(common, monkeypatch, tmp_path, value, quick):
    monkeypatch.setenv("TINYGRAD_EDU_QUICK", value)

    assert common.parse_args("a lesson", ["--out", str(tmp_path)]).quick is quick, f"TINYGRAD_EDU_QUICK={value!r}"


def test_a_script_still_refuses_options_it_does_not_know(common, tmp_path):
    with pytest.raises(SystemExit):
        common.parse_args("a lesson", ["--qiuck", "--out", str(tmp_path)])


def test_signs_between_terms_are_written_once(common):
    assert common.signed(-0.001) == "− 0.00", "a rounded −0.001 is '− 0.00', never '+ -0.00'"
    assert common.signed(0.25) == "+ 0.25"
    assert common.signed(-1.5, digits=1) == "− 1.5"


def test_nothing_chooses_matplotlib_s_backend():
    for path in [*EXAMPLES.glob("*.py"), *EXAMPLES.glob("solutions/*.py")]:
        source = path.read_text(encoding="utf-8")
        assert "matplotlib.use(" not in source and "switch_backend" not in source, (
            f"{path.name} switches matplotlib's backend: a notebook's inline figures would stop"
        )
