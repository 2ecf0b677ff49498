"""The formula command line: `python -m tinygrad_edu graph FORMULA --set ... [-o PATH]`.
It draws what it may and refuses the rest before evaluating anything."""

import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from tinygrad_edu import __main__ as cli

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_cli(*args, cwd):
    """The CLI in a fresh interpreter, as a user runs it."""
    env = dict(os.environ, PYTHONPATH=REPO)
    command = [sys.executable, "-m", "tinygrad_edu", *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env)


def svg_texts(path):
    return " ".join("".join(t.itertext()) for t in ET.parse(path).iter("{http://www.w3.org/2000/svg}text"))


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


# ------------------------------------------------------------------------------ drawing
def test_the_readme_command_draws_an_svg(dot, tmp_path):
    args = ["graph", "sigmoid(w*x + b)", "--set", "w=2,x=3,b=-1", "--backward", "-o", "graph.svg"]
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "graph.svg" in result.stdout
    texts = svg_texts(tmp_path / "graph.svg")
    for expected in ("Sigmoid", "Add", "Mul", "w", "x", "b"):
        assert expected in texts
    s = sigmoid(5)
    assert f"grad {s * (1 - s) * 3:.4g}" in texts, "w's gradient σ'(5)·x"


def test_without_output_it_prints_the_text_graph_with_gradients(capsys):
    assert cli.main(["graph", "sigmoid(w*x + b)", "--set", "w=2,x=3,b=-1", "--backward"]) == 0
    out = capsys.readouterr().out
    s = sigmoid(5)
    assert out.splitlines()[0].startswith(f"#1  () float64  data {s:.4g}  grad 1  ← Sigmoid(")
    assert f"w  () float64  data 2  grad {s * (1 - s) * 3:.4g}" in out
    assert f"x  () float64  data 3  grad {s * (1 - s) * 2:.4g}" in out
    assert f"b  () float64  data -1  grad {s * (1 - s):.4g}" in out


def test_formulas_and_format_options(dot, tmp_path, capsys):
    assert cli.main(["graph", "tanh(w) * 2", "--set", "w=0.5", "--formulas", "-o", str(tmp_path / "g")]) == 0
    assert "tanh'(x) = 1 − tanh²(x)" in svg_texts(tmp_path / "g.svg")
    assert cli.main(["graph", "exp(w)", "--set", "w=1", "--format", "png", "-o", str(tmp_path / "g")]) == 0
    assert (tmp_path / "g.png").read_bytes()[:4] == b"\x89PNG"
    assert cli.main(["graph", "exp(w)", "--set", "w=1", "--formulas"]) == 0
    assert "[∂/∂x = eˣ]" in capsys.readouterr().out


def test_set_repeats_and_takes_bracketed_lists(capsys):
    assert cli.main(["graph", "sum(softmax(w) * x)", "--set", "w=[1,2]", "--set", "x=3", "--backward"]) == 0
    out = capsys.readouterr().out
    probs = np.exp([1.0, 2.0]) / np.exp([1.0, 2.0]).sum()
    assert f"(2,) float64  data [{probs[0]:.4g}, {probs[1]:.4g}]" in out
    assert cli.main(["graph", "sum(w @ x, 0)", "--set", "w=[[1,2],[3,4]],x=[1,-1]"]) == 0
    assert "#1  () float64  data -2  ← Sum(" in capsys.readouterr().out


def test_values_are_float64_tensors_that_require_grad():
    values = cli.parse_assignments(["w=2,x=[1,2]", "b=-1e-3"])
    assert sorted(values) == ["b", "w", "x"]
    for t in values.values():
        assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert values["x"].tolist() == [1.0, 2.0] and values["b"].item() == -0.001


def test_numbers_in_a_formula_and_axis_arguments():
    values = cli.parse_assignments(["w=[[1,2],[3,4]]"])
    result = cli.evaluate(cli.parse_formula("-sum(w, 1) ** 2 / 4 + 0.5", values), values)
    assert result.tolist() == [-(3**2) / 4 + 0.5, -(7**2) / 4 + 0.5]


# ------------------------------------------------------------------------------ refusing
@pytest.mark.parametrize(
    "formula, named",
    [
        ("__import__('os').system('x')", "attribute access (.system)"),
        ("__import__('os')", "call of __import__"),
        ("w.data", "attribute access (.data)"),
        ("(lambda: w)()", "lambda"),
        ("w[0]", "subscript"),
        ("[v for v in w]", "list comprehension"),
        ("'w'", "string 'w'"),
        ("print(w)", "call of print"),
        ("open('f', 'w')", "call of open"),
        ("sum(w, axis=0)", "keyword argument axis="),
        ("w if w else w", "conditional expression"),
        ("w < 1", "comparison"),
        ("exp", "function exp used without calling it"),
        ("w(1)", "call of w"),
        ("exp(w, w)", "exp() with 2 arguments"),
        ("sum(w, w)", "axis that is not an integer"),
        ("w // 2", "operator FloorDiv"),
        ("True * w", "constant True"),
    ],
)
def test_refused_constructs_are_named(formula, named, capsys):
    assert cli.main(["graph", formula, "--set", "w=2"]) == 2
    err = capsys.readouterr().err
    assert named in err, err
    assert "a formula may contain only" in err


def test_a_refused_formula_is_never_evaluated(monkeypatch, capsys):
    calls = []
    monkeypatch.setitem(cli.FUNCTIONS, "exp", lambda x: calls.append(x) or x.exp())
    assert cli.main(["graph", "exp(w) + w.data", "--set", "w=1"]) == 2
    assert calls == [], "nothing is evaluated before the whole formula is checked"
    assert cli.main(["graph", "exp(w)", "--set", "w=1"]) == 0 and len(calls) == 1, "the spy works"


def test_no_side_effect_happens(tmp_path):
    marker = tmp_path / "was_run"
    for formula in (
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"open({str(marker)!r}, 'w')",
        f"(lambda: __import__('pathlib').Path({str(marker)!r}).touch())()",
    ):
        result = run_cli("graph", formula, cwd=tmp_path)
        assert result.returncode == 2 and "refused" in result.stderr, result.stderr
        assert not marker.exists(), f"{formula} was evaluated"


def test_unknown_names_are_named(capsys):
    assert cli.main(["graph", "w*q + r", "--set", "w=1"]) == 2
    err = capsys.readouterr().err
    assert "unknown name(s) q, r" in err and "--set" in err


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("w", "expects name=value"),
        ("w=abc", "expected a number or a bracketed list of numbers, got 'abc'"),
        ("w=[1,'a']", "expected a number or a bracketed list of numbers"),
        ("w=[[1,2],[3]]", "differ in length"),
        ("w=1,w=2", "gives w twice"),
        ("exp=1", "exp is a function name"),
        ("2w=1", "expects name=value"),
    ],
)
def test_bad_set_values_are_refused(assignment, message, capsys):
    assert cli.main(["graph", "w", "--set", assignment]) == 2
    assert message in capsys.readouterr().err


def test_errors_while_computing_are_reported(capsys):
    assert cli.main(["graph", "w @ x", "--set", "w=[1,2],x=[1,2,3]"]) == 2
    assert "cannot be multiplied" in capsys.readouterr().err
    assert cli.main(["graph", "w * 2", "--set", "w=[1,2]", "--backward"]) == 2
    assert "one element, got shape (2,)" in capsys.readouterr().err
    assert cli.main(["graph", "w +", "--set", "w=1"]) == 2
    assert "cannot parse" in capsys.readouterr().err
    assert cli.main(["graph", "w", "--set", "w=1", "--format", "png"]) == 2
    assert "--format applies to the picture written with -o" in capsys.readouterr().err


def test_without_dot_the_cli_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert cli.main(["graph", "exp(w)", "--set", "w=1", "-o", str(tmp_path / "g.svg")]) == 1
    assert "apt-get install graphviz" in capsys.readouterr().err
    assert (tmp_path / "g.dot").exists()
