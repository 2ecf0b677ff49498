"""The formula command line: `python -m tinygrad_edu graph FORMULA --set ... [-o PATH]`.
It draws what it may and refuses the rest before evaluating anything."""

import contextlib
import io
import math
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import __main__ as cli
from tinygrad_edu import formula

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def command(*args):
    """The CLI in a fresh interpreter, as a user runs it: (argv, environment)."""
    return [sys.executable, "-m", "tinygrad_edu", *args], dict(os.environ, PYTHONPATH=REPO)


def run_cli(*args, cwd):
    argv, env = command(*args)
    return subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env)


def one_line(err):
    """The one error line the CLI printed, checked to be one line and no traceback."""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


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
    monkeypatch.setitem(formula.FUNCTIONS, "exp", lambda x: calls.append(x) or x.exp())
    assert cli.main(["graph", "exp(w) + w.data", "--set", "w=1"]) == 2
    assert calls == [], "nothing is evaluated before the whole formula is checked"
    assert cli.main(["graph", "exp(w)", "--set", "w=1"]) == 0 and len(calls) == 1, "the spy works"


def test_no_side_effect_happens(tmp_path):
    marker = tmp_path / "was_run"
    for text in (
        f"__import__('pathlib').Path({str(marker)!r}).touch()",
        f"open({str(marker)!r}, 'w')",
        f"(lambda: __import__('pathlib').Path({str(marker)!r}).touch())()",
    ):
        result = run_cli("graph", text, cwd=tmp_path)
        assert result.returncode == 2 and "refused" in result.stderr, result.stderr
        assert not marker.exists(), f"{text} was evaluated"


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


def test_without_dot_the_cli_says_how_to_install_it_and_overwrites_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs-here"))
    assert cli.main(["graph", "exp(w)", "--set", "w=1", "-o", str(tmp_path / "g.svg")]) == 2
    err = one_line(capsys.readouterr().err)
    assert "apt-get install graphviz" in err
    assert f"The DOT source is in {str(tmp_path / 'g.dot')!r}" in err, "g.dot did not exist: it may be written"
    assert (tmp_path / "g.dot").read_text().startswith("digraph")

    (tmp_path / "h.dot").write_text("my notes")
    assert cli.main(["graph", "exp(w)", "--set", "w=1", "-o", str(tmp_path / "h.png")]) == 2
    err = one_line(capsys.readouterr().err)
    assert "was not written" in err and "apt-get install graphviz" in err
    assert (tmp_path / "h.dot").read_text() == "my notes", "a file the user did not name is never overwritten"

    assert cli.main(["graph", "exp(w)", "--set", "w=1", "-o", "-"]) == 2
    captured = capsys.readouterr()
    assert "nothing was written" in one_line(captured.err) and captured.out == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.dot", "h.dot"]


# ----------------------------------------------------------------- what never ends in a traceback
def test_a_formula_that_starts_with_a_minus_is_the_formula(tmp_path, capsys):
    result = run_cli("graph", "-x", "--set", "x=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("#1  () float64  data -2  ← Neg(#2 x)")
    assert cli.main(["graph", "--set", "x=2", "-x*3", "-o", str(tmp_path / "g.dot")]) == 0
    assert "Neg" in (tmp_path / "g.dot").read_text()
    assert cli.main(["graph", "--x", "--set", "x=2"]) == 0, "a double minus too"
    assert "data 2  ← Neg(" in capsys.readouterr().out
    with pytest.raises(SystemExit) as stop:
        cli.main(["graph", "-x", "y", "--set", "x=1,y=1"])
    assert stop.value.code == 2 and "unrecognized arguments: -x" in capsys.readouterr().err


def test_dash_writes_the_picture_to_standard_output(tmp_path):
    result = run_cli("graph", "exp(x)", "--set", "x=1", "-o", "-", "--format", "dot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("digraph") and "Exp" in result.stdout
    assert list(tmp_path.iterdir()) == [], "no file such as -.dot"


def test_dash_writes_svg_by_default(dot, tmp_path):
    result = run_cli("graph", "exp(x)", "--set", "x=1", "-o", "-", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    svg = ET.fromstring(result.stdout.encode("utf-8"))
    assert "Exp" in " ".join("".join(t.itertext()) for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert list(tmp_path.iterdir()) == []


def test_dev_stdout_is_written_as_it_is(tmp_path):
    result = run_cli("graph", "exp(x)", "--set", "x=1", "-o", "/dev/stdout", "--format", "dot", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("digraph") and "wrote" not in result.stdout, "the picture is the output"
    assert not os.path.exists("/dev/stdout.dot")


def test_a_directory_as_output_is_refused(tmp_path, capsys):
    (tmp_path / "pictures").mkdir()
    (tmp_path / "old.svg").mkdir()
    for output in ("pictures", "pictures/", "old.svg", "old"):  # "old" would become old.svg
        assert cli.main(["graph", "exp(x)", "--set", "x=1", "-o", str(tmp_path / output), "--format", "svg"]) == 2
        assert "is a directory: expected the path of a file" in one_line(capsys.readouterr().err)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["old.svg", "pictures"]


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["10**10**10"], "too large to evaluate: 10**10**10 is beyond float64's range"),
        (["2**2**2**2**2**2 * x", "--set", "x=1"], "is beyond float64's range"),
        (
            ["a @ b", "--set", "a=[" + ",".join(["[1]"] * 4000) + "]", "--set", "b=[[" + ",".join(["1"] * 4000) + "]]"],
            "(4000, 1) @ (1, 4000) would make 16,000,000 elements, more than 10,000,000",
        ),
    ],
)
def test_a_formula_too_large_is_refused_quickly(arguments, message, capsys):
    start = time.perf_counter()
    assert cli.main(["graph", *arguments]) == 2
    assert message in one_line(capsys.readouterr().err)
    assert time.perf_counter() - start < 30, "refused before it runs: no hang"


@pytest.mark.parametrize("terms", [3_000, 12_000])
def test_a_sum_of_thousands_of_terms_is_drawn(terms, capsys):
    assert cli.main(["graph", "+".join(["x"] * terms), "--set", "x=1", "--backward"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"#1  () float64  data {terms:.4g}  grad 1  ← Add(")
    assert f"x  () float64  data 1  grad {terms:.4g}" in out, "d/dx (x + ... + x) = the number of terms"
    assert "more nodes not shown" in out


FORMULA_PIECES = ["x", "w", "2", "0", "9", "1e308", " ", "-", "+", "*", "/", "**", "@", "(", ")", "[", "]", ",", "."]
FORMULA_PIECES += ["sum(", "exp(", "log(", "softmax(", "max(", "'", "=", "<", "lambda", ":", " if ", " else "]


@settings(max_examples=150)
@given(text=st.lists(st.sampled_from(FORMULA_PIECES), max_size=25).map("".join))
def test_any_formula_ends_in_a_result_or_a_one_line_error(text):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(["graph", text, "--set", "x=0.5", "--set", "w=[1,-2]", "--backward"])
        except SystemExit as stop:  # argparse's usage errors, for texts such as "--"
            code = stop.code
    assert "Traceback" not in err.getvalue()
    assert code in (0, 2), (text, err.getvalue())
    if code == 2 and not err.getvalue().startswith("usage:"):
        one_line(err.getvalue())


def test_a_reader_that_stops_early_gets_no_traceback(tmp_path):
    # 800 tensors and ops: more DOT than a pipe holds, so writing blocks until the reader goes
    argv, env = command("graph", "+".join(["x"] * 400), "--set", "x=1", "-o", "-", "--format", "dot")
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path, env=env)
    assert process.stdout.read(7) == b"digraph"
    process.stdout.close()
    stderr = process.stderr.read()
    process.wait(timeout=60)
    assert b"Traceback" not in stderr and b"BrokenPipeError" not in stderr, stderr.decode()
