"""The formula language of the command line (tinygrad_edu/formula.py): values from --set,
parsing with ast (a sum of any length too), evaluation with Tensors, and the limits that
turn a formula too large into a clear FormulaError instead of a hang."""

import ast
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinygrad_edu import formula
from tinygrad_edu.formula import FormulaError

CHUNK = formula.CHUNK_TERMS


def compute(text, **values):
    """The Tensor `text` computes with the given values (numbers or lists)."""
    tensors = formula.parse_assignments([f"{name}={value}" for name, value in values.items()])
    return formula.evaluate(formula.parse_formula(text, tensors), tensors), tensors


def node_kinds(tree):
    """What a tree holds, node by node in ast.walk's (iterative) order, positions left out."""
    described = []
    for node in ast.walk(tree):
        fields = {key: value for key, value in ast.iter_fields(node) if not isinstance(value, (ast.AST, list))}
        described.append((type(node).__name__, sorted(fields.items(), key=str)))
    return described


# ------------------------------------------------------------------------------ values
def test_values_are_float64_tensors_that_require_grad():
    values = formula.parse_assignments(["w=2,x=[1,2]", "b=-1e-3"])
    assert sorted(values) == ["b", "w", "x"]
    for t in values.values():
        assert t.dtype == np.float64 and t.requires_grad and t.is_leaf
    assert values["x"].tolist() == [1.0, 2.0] and values["b"].item() == -0.001


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("w=" + "[" * 33 + "1" + "]" * 33, "more than 32 nested brackets"),
        ("w=" + "9" * 400, "beyond float64's range"),
        ("w=" + "[" * 300 + "1" + "]" * 300, "expected a number or a bracketed list"),
    ],
)
def test_values_numpy_cannot_hold_are_refused_clearly(assignment, message):
    with pytest.raises(FormulaError, match=message):
        formula.parse_assignments([assignment])


def test_numbers_in_a_formula_and_axis_arguments():
    result, _ = compute("-sum(w, 1) ** 2 / 4 + 0.5", w="[[1,2],[3,4]]")
    assert result.tolist() == [-(3**2) / 4 + 0.5, -(7**2) / 4 + 0.5]


# --------------------------------------------------------------------------- long formulas
def test_a_long_sum_parses_to_the_tree_ast_gives():
    # 1,200 terms: more than two parts of CHUNK_TERMS, few enough for ast.parse alone
    terms = [f"{n % 7}*x" if n % 3 else f"-x**{n % 4}" for n in range(1200)]
    text = "".join(term if n == 0 else (" - " if n % 5 == 0 else " + ") + term for n, term in enumerate(terms))
    assert len(formula._chain_parts(text)) == 3, "the sum is parsed in parts"
    assert node_kinds(formula.parse_formula(text, {"x": 1})) == node_kinds(ast.parse(text, mode="eval"))


@pytest.mark.parametrize("terms", [3_000, 12_000])
def test_sums_and_products_of_thousands_of_terms_evaluate(terms):
    total, values = compute("+".join(["x"] * terms), x=1)
    total.backward()
    assert total.item() == terms and values["x"].grad.item() == terms, "d/dx (x + ... + x) = the number of terms"
    product, values = compute("*".join(["x"] * terms), x=1)
    product.backward()
    assert product.item() == 1 and values["x"].grad.item() == terms, "d/dx x^n = n x^(n-1) = n at x = 1"


def chain_value(first, rest):
    """first op1 n1 op2 n2 ... with Python's precedence (* and / before + and -), left to
    right, computed term by term: Python's own eval would recurse as deep as the chain."""
    total, term = 0.0, first
    for op, n in rest:
        if op == "*":
            term *= n
        elif op == "/":
            term /= n
        else:
            total += term
            term = n if op == "+" else -n
    return total + term


@settings(max_examples=15)  # each example is a formula of a thousand terms
@given(
    first=st.integers(-9, 9),
    rest=st.lists(st.tuples(st.sampled_from("+-*/"), st.integers(1, 9)), min_size=CHUNK + 1, max_size=2 * CHUNK + 100),
)
def test_a_long_chain_computes_what_pythons_precedence_gives(first, rest):
    text = f"{first}*x" + "".join(f" {op} {n}" for op, n in rest)
    result, _ = compute(text, x=0.5)
    assert np.isclose(result.item(), chain_value(first * 0.5, rest), rtol=1e-12, atol=1e-9), text[:80]


def test_other_long_chains_are_a_clear_error():
    for text in ("-" * 5000 + "x", "x" + "**x" * 5000):
        with pytest.raises(FormulaError, match="too long to parse"):
            formula.parse_formula(text, {"x": 1})
    with pytest.raises(FormulaError, match="too many nested parentheses"):
        formula.parse_formula("(" * 300 + "x" + ")" * 300, {"x": 1})


# ------------------------------------------------------------------------------ limits
@pytest.mark.parametrize("text", ["10**10**10", "10**400", "1e308 * 10", "1e999", "2**2**2**2**2**2", "-(9**999)"])
def test_numbers_beyond_float64_are_refused_before_evaluating(text):
    start = time.perf_counter()
    with pytest.raises(FormulaError, match="too large to evaluate: .* beyond float64's range"):
        formula.parse_formula(text, {})
    assert time.perf_counter() - start < 5, "computed in floats: 10**10**10 as a Python int would not finish"


@pytest.mark.parametrize("text, value", [("1/0", np.inf), ("x**10**10", 1.0), ("(-8)**(1/3)", np.nan), ("2**10", 1024)])
def test_numbers_within_range_or_with_names_are_evaluated(text, value):
    with np.errstate(all="ignore"):  # NumPy's warnings for 1/0 and (-8)**(1/3): the values are the point
        result, _ = compute(text, x=1)
    assert np.array_equal(result.numpy(), np.float64(value), equal_nan=True)


def test_an_operation_too_large_is_refused_before_it_runs():
    column = "[" + ",".join(["[0]"] * 10_000) + "]"
    row = "[" + ",".join(["0"] * 10_000) + "]"
    start = time.perf_counter()
    with pytest.raises(FormulaError, match=r"\(10000, 1\) \* \(10000,\) would make 100,000,000 elements"):
        compute("a * b", a=column, b=row)  # 800 MB, and the next operation could ask for much more
    with pytest.raises(FormulaError, match=r"\(5000, 1\) @ \(1, 5000\) would make 25,000,000 elements"):
        compute("a @ b", a="[" + ",".join(["[1]"] * 5000) + "]", b="[[" + ",".join(["1"] * 5000) + "]]")
    assert time.perf_counter() - start < 30, "refused before anything that large is made"
    small, _ = compute("sum(a @ b)", a="[[1,2],[3,4]]", b="[1,1]")
    assert small.item() == 10, "(1+2) + (3+4)"
