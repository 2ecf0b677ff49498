"""The command line: draw the graph of a formula.

    python -m tinygrad_edu graph "sigmoid(w*x + b)" --set w=2,x=3,b=-1 --backward -o graph.svg

The formula is parsed with `ast` and checked before anything is evaluated: it may hold
numbers, the names given with --set, + - * / ** @, unary minus and calls of the functions
in FUNCTIONS; anything else (attribute access, subscripts, lambdas, strings, calls of
other names, ...) is refused with exit code 2. Values given with --set become float64
tensors that require grad. Without -o the graph is printed as text.
"""

import argparse
import ast
import sys

import numpy as np

from . import viz
from .tensor import Tensor

# The functions a formula may call; those with an axis take it as an optional second
# argument, an integer: sum(x, 0).
FUNCTIONS = {
    "exp": lambda x: x.exp(),
    "log": lambda x: x.log(),
    "sqrt": lambda x: x.sqrt(),
    "abs": lambda x: x.abs(),
    "sigmoid": lambda x: x.sigmoid(),
    "tanh": lambda x: x.tanh(),
    "relu": lambda x: x.relu(),
    "softmax": lambda x, axis=-1: x.softmax(axis),
    "log_softmax": lambda x, axis=-1: x.log_softmax(axis),
    "logsumexp": lambda x, axis=None: x.logsumexp(axis),
    "sum": lambda x, axis=None: x.sum(axis),
    "mean": lambda x, axis=None: x.mean(axis),
    "max": lambda x, axis=None: x.max(axis),
    "min": lambda x, axis=None: x.min(axis),
}
TAKES_AXIS = {"softmax", "log_softmax", "logsumexp", "sum", "mean", "max", "min"}

BINARY_OPERATORS = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
    ast.MatMult: lambda a, b: a @ b,
}
UNARY_OPERATORS = {ast.USub: lambda a: -a, ast.UAdd: lambda a: a}

# What a refused construct is called in the error message.
CONSTRUCT_NAMES = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.ListComp: "list comprehension",
    ast.SetComp: "set comprehension",
    ast.DictComp: "dict comprehension",
    ast.GeneratorExp: "generator expression",
    ast.Compare: "comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expression",
    ast.NamedExpr: "assignment expression (:=)",
    ast.Starred: "starred argument",
    ast.JoinedStr: "f-string",
    ast.List: "list literal (give lists with --set)",
    ast.Tuple: "tuple",
    ast.Dict: "dict literal",
    ast.Set: "set literal",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.Slice: "slice",
}

# Pieces of a construct that is refused already (a lambda's arguments, a comprehension's
# `for`): naming them too would only lengthen the message.
PARTS_OF_REFUSED = (
    ast.Store,
    ast.Del,
    ast.comprehension,
    ast.arguments,
    ast.arg,
    ast.FormattedValue,
    ast.cmpop,
    ast.boolop,
)


class FormulaError(Exception):
    """A formula or a --set value that the CLI refuses (exit code 2)."""


# -------------------------------------------------------------------------- checking
def parse_formula(text, names):
    """The checked `ast.Expression` of `text`; FormulaError naming every refused
    construct and every unknown name. Nothing is evaluated here."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise FormulaError(f"cannot parse the formula {text!r:.80}: {error.msg}") from None
    except (ValueError, RecursionError, MemoryError) as error:  # e.g. a number of 5,000 digits, deep nesting
        raise FormulaError(f"cannot parse the formula {text!r:.80}: {error}") from None
    refused, unknown = [], []
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    in_reading_order = sorted(
        ast.walk(tree), key=lambda node: (getattr(node, "lineno", 0), getattr(node, "col_offset", -1))
    )
    for node in in_reading_order:
        problem = _refusal(node, names, id(node) in called)
        if problem == "unknown":
            unknown.append(node.id)
        elif problem is not None and problem not in refused:
            refused.append(problem)
    if refused:
        allowed = "numbers, the names given with --set, + - * / ** @, unary minus and calls of " + ", ".join(FUNCTIONS)
        raise FormulaError(f"refused {'; '.join(refused)}: a formula may contain only {allowed}")
    if unknown:
        listed = ", ".join(dict.fromkeys(unknown))
        raise FormulaError(f"unknown name(s) {listed}: give a value with --set, e.g. --set {unknown[0]}=1")
    return tree


def _refusal(node, names, is_called):
    """What is wrong with one node (a short description), "unknown" for an unknown name,
    or None when it is allowed."""
    if isinstance(node, PARTS_OF_REFUSED):
        return None
    if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
        if isinstance(node, ast.operator) and type(node) not in BINARY_OPERATORS:
            return f"operator {type(node).__name__}"
        if isinstance(node, ast.unaryop) and type(node) not in UNARY_OPERATORS:
            return f"operator {type(node).__name__}"
        return None
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        return None
    if isinstance(node, ast.Constant):
        if isinstance(node.value, (str, bytes)):
            return f"string {node.value!r:.40}"
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            return f"constant {node.value!r:.40}"
        return None
    if isinstance(node, ast.Name):
        if is_called:
            return None if node.id in FUNCTIONS else f"call of {node.id}"
        if node.id in FUNCTIONS:
            return f"function {node.id} used without calling it"
        return None if node.id in names else "unknown"
    if isinstance(node, ast.Call):
        return _call_refusal(node)
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{node.attr})"
    if isinstance(node, ast.keyword):
        return f"keyword argument {node.arg}="
    return CONSTRUCT_NAMES.get(type(node), f"construct {type(node).__name__}")


def _call_refusal(node):
    if not isinstance(node.func, ast.Name):
        return None if isinstance(node.func, ast.Attribute) else "call of an expression"
    name = node.func.id
    if name not in FUNCTIONS:
        return None  # the Name node itself says "call of <name>"
    most = 2 if name in TAKES_AXIS else 1
    if not 1 <= len(node.args) <= most:
        return f"{name}() with {len(node.args)} arguments (it takes {'1 or 2' if most == 2 else '1'})"
    if len(node.args) == 2 and _integer(node.args[1]) is None:
        return f"{name}() axis that is not an integer"
    return None


def _integer(node):
    """The int a node spells (3 or -3), else None."""
    sign = 1
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        sign, node = -1, node.operand
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return sign * node.value
    return None


# -------------------------------------------------------------------------- values
def parse_assignments(items):
    """{name: float64 Tensor that requires grad} from --set values: "w=2,x=3", "w=[1,2]"."""
    values = {}
    for item in items:
        for assignment in _split_top_level(item):
            name, sep, text = assignment.partition("=")
            name = name.strip()
            if not sep or not name.isidentifier():
                raise FormulaError(f"--set expects name=value (value a number or a bracketed list), got {assignment!r}")
            if name in FUNCTIONS:
                raise FormulaError(f"--set {name}: {name} is a function name; choose another name")
            if name in values:
                raise FormulaError(f"--set gives {name} twice")
            values[name] = Tensor(_number_array(name, text.strip()), requires_grad=True)
    return values


def _split_top_level(text):
    """Split at the commas that are not inside brackets: "w=[1,2],x=3" -> ["w=[1,2]", "x=3"]."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(text):
        depth += (c == "[") - (c == "]")
        if c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p for p in parts if p.strip()]


def _number_array(name, text):
    """A float64 array from a number or a (nested) bracketed list of numbers."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    stack = [value]
    while stack:  # every leaf must be an int or a float
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise FormulaError(f"--set {name}: expected a number or a bracketed list of numbers, got {text!r}")
    try:
        return np.array(value, dtype=np.float64)
    except ValueError:
        raise FormulaError(f"--set {name}: the rows of {text!r} differ in length") from None


# -------------------------------------------------------------------------- evaluating
def evaluate(tree, values):
    """The Tensor a checked formula computes (without recursion: a long sum is fine).
    Numbers become float64 constants; an axis stays an int."""
    results = {}
    stack = [(tree.body, False)]
    while stack:
        node, ready = stack.pop()
        children = _operands(node)
        if not ready:
            stack.append((node, True))
            stack.extend((child, False) for child in children)
            continue
        args = [results.pop(id(child)) for child in children]
        results[id(node)] = _apply(node, args, values)
    result = results[id(tree.body)]
    return result if isinstance(result, Tensor) else Tensor(np.asarray(result, dtype=np.float64))


def _operands(node):
    if isinstance(node, ast.BinOp):
        return [node.left, node.right]
    if isinstance(node, ast.UnaryOp):
        return [node.operand]
    if isinstance(node, ast.Call):
        return node.args[:1]  # the axis is read from the tree
    return []


def _apply(node, args, values):
    if isinstance(node, ast.Constant):
        return Tensor(np.asarray(float(node.value)))
    if isinstance(node, ast.Name):
        return values[node.id]
    if isinstance(node, ast.BinOp):
        return BINARY_OPERATORS[type(node.op)](*args)
    if isinstance(node, ast.UnaryOp):
        return UNARY_OPERATORS[type(node.op)](*args)
    axis = [_integer(node.args[1])] if len(node.args) == 2 else []
    return FUNCTIONS[node.func.id](args[0], *axis)


# -------------------------------------------------------------------------- main
def _parser():
    parser = argparse.ArgumentParser(prog="python -m tinygrad_edu", description="tinygrad_edu from the command line")
    commands = parser.add_subparsers(dest="command", required=True)
    graph = commands.add_parser(
        "graph",
        help="draw the computational graph of a formula",
        description="Draw the computational graph of a formula, e.g. "
        'python -m tinygrad_edu graph "sigmoid(w*x + b)" --set w=2,x=3,b=-1 --backward -o graph.svg',
    )
    graph.add_argument("formula", help="numbers, --set names, + - * / ** @, unary minus, " + ", ".join(FUNCTIONS))
    graph.add_argument(
        "--set",
        dest="assignments",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help='values (float64, requires grad): --set w=2,x=3 or --set "w=[1,2]"; may repeat',
    )
    graph.add_argument("--backward", action="store_true", help="run backward first, so gradients show")
    graph.add_argument("--formulas", action="store_true", help="show each op's local derivative")
    graph.add_argument("-o", "--output", help="write the picture here (.svg, .png, .pdf or .dot); else print text")
    graph.add_argument("--format", choices=viz.FORMATS, help="the picture's format when the output has no suffix")
    return parser


def main(argv=None):
    """Run the command line; return the exit code (0 ok, 1 could not draw, 2 bad input)."""
    args = _parser().parse_args(argv)
    if args.format is not None and args.output is None:
        print("error: --format applies to the picture written with -o", file=sys.stderr)
        return 2
    try:
        values = parse_assignments(args.assignments)
        tree = parse_formula(args.formula, values)
        with np.errstate(all="ignore"):  # inf and nan show in the picture; no warnings
            result = evaluate(tree, values)
        if args.backward:
            if result.size != 1:
                raise FormulaError(
                    f"--backward needs a formula with one element, got shape {result.shape}: wrap it in sum(...)"
                )
            if result.requires_grad:
                with np.errstate(all="ignore"):
                    result.backward()
    except FormulaError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, RuntimeError, OverflowError) as error:
        print(f"error: cannot compute {args.formula!r}: {error}", file=sys.stderr)
        return 2
    if args.output is None:
        print(viz.text_graph(result, params=values, show_formulas=args.formulas))
        return 0
    try:
        path = viz.render(result, args.output, format=args.format, params=values, show_formulas=args.formulas)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
