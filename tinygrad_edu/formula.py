"""The formula language of the command line: a formula is parsed with `ast`, checked, and
only then evaluated with Tensors.

    values = parse_assignments(["w=2,x=3", "b=-1"])     # float64 Tensors that require grad
    tree = parse_formula("sigmoid(w*x + b)", values)    # FormulaError for anything else
    y = evaluate(tree, values)                          # a Tensor, with its graph

A formula may hold numbers, the names given with --set, + - * / ** @, unary minus and
calls of the functions in FUNCTIONS; anything else (attribute access, subscripts,
lambdas, strings, calls of other names, ...) is refused before anything is evaluated.

Limits, each a FormulaError rather than a hang or a crash:
- length: a sum (or a product) of any number of terms parses, CHUNK_TERMS terms at a
  time (CPython builds the tree recursively, and stops at a few thousand nested
  operations, fewer in newer versions); other chains (x**x**..., -(-(-x))) are "too
  long" where CPython's parser stops, and brackets at 200 deep;
- numbers: a value of numbers alone beyond float64's range (10**10**10) is refused;
- sizes: an operation whose result would hold more than MAX_ELEMENTS elements is
  refused before it runs.
"""

import ast
import io
import keyword
import math
import operator
import tokenize

import numpy as np

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
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.MatMult: operator.matmul,
}
UNARY_OPERATORS = {ast.USub: operator.neg, ast.UAdd: operator.pos}

MAX_ELEMENTS = 10_000_000  # elements of one tensor a formula makes (80 MB in float64)
CHUNK_TERMS = 500  # terms of a long sum that ast.parse is given at a time
LARGEST = float(np.finfo(np.float64).max)

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

# Nodes that are allowed as they are, and pieces of a construct that is refused already
# (a lambda's arguments, a comprehension's `for`): naming them too would only lengthen
# the message.
QUIETLY_ALLOWED = (ast.Expression, ast.Load, ast.BinOp, ast.UnaryOp)
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
    """A formula or a --set value that the command line refuses (exit code 2)."""


# ---------------------------------------------------------------------------- parsing
def parse_formula(text, names):
    """The checked `ast.Expression` of `text`, given the names that --set defined;
    FormulaError naming every refused construct and every unknown name, or a value of
    numbers alone beyond float64. Nothing is evaluated here."""
    tree = _parse(text)
    _check_constructs(tree, names)
    _check_numbers(tree, text)
    return tree


def _parse(text):
    """ast.parse(text, mode="eval"), also for a long sum: CPython builds the tree with
    recursion, which stops at a few thousand nested operations. The top-level chain of +
    and - (of * / @ where there is none) is parsed CHUNK_TERMS terms at a time; each later
    part starts with a placeholder name, which the tree of everything before it replaces."""
    parts = _chain_parts(text)
    try:
        tree = ast.parse(parts[0][1], mode="eval")
        for start, part in parts[1:]:
            following = ast.parse("_".ljust(start) + part, mode="eval")  # columns as in `text`
            _leftmost_operation(following.body).left = tree.body
            tree = following
    except SyntaxError as error:
        raise FormulaError(f"cannot parse the formula {text!r:.80}: {error.msg}") from None
    except (RecursionError, MemoryError):
        raise FormulaError(
            f"the formula is too long to parse ({len(text):,} characters): a sum or a product of any length is "
            "fine, but other chains (x**x**..., -(-(-x)), ...) stop where Python's parser does, at a few thousand"
        ) from None
    except ValueError as error:  # e.g. a number of 5,000 digits, a NUL character
        raise FormulaError(f"cannot parse the formula {text!r:.80}: {error}") from None
    return tree


def _leftmost_operation(node):
    """The innermost BinOp down the left side of a chain: the one whose left operand is the placeholder."""
    while isinstance(node.left, ast.BinOp):
        node = node.left
    return node


def _chain_parts(text):
    """[(column, text)]: `text` cut before every CHUNK_TERMS-th operator of its top-level
    chain; one part when the chain is short or the formula is not a plain chain at its
    top level (a comparison, a lambda, several lines: ast.parse then reports it as is)."""
    operators = _chain_operators(text) if "\n" not in text and "\r" not in text else []
    cuts = operators[CHUNK_TERMS - 1 :: CHUNK_TERMS]
    starts = [0, *cuts]
    return [(start, text[start:end]) for start, end in zip(starts, [*cuts, len(text)])]


CHAIN_LEVELS = ({"+", "-"}, {"*", "/", "//", "%", "@"})  # operators of one precedence, loosest first
TOP_LEVEL_OPERATORS = {"+", "-", "*", "/", "//", "%", "@", "**", "~", "."}  # those a plain chain may hold
OPENING, CLOSING = {"(", "[", "{"}, {")", "]", "}"}
IGNORED_TOKENS = {tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.ENDMARKER}


def _chain_operators(text):
    """The columns of the binary operators that chain the top level of `text` (outside
    brackets): its + and -, or its * / @ where it has none. [] where the top level holds
    anything that binds more loosely than they do, so cutting there would change it."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError, ValueError):  # unbalanced brackets, ...: ast.parse says so
        return []
    found = [[] for _ in CHAIN_LEVELS]
    depth, previous = 0, None
    for token in tokens:
        if token.type in IGNORED_TOKENS:
            continue
        if token.type == tokenize.OP and token.string in OPENING | CLOSING:
            depth += 1 if token.string in OPENING else -1
        elif depth == 0 and not _fits_a_chain(token):
            return []
        elif depth == 0 and _ends_operand(previous):
            for level, operators in zip(found, CHAIN_LEVELS):
                if token.string in operators:
                    level.append(token.start[1])
        previous = token
    return found[0] or found[1]


def _fits_a_chain(token):
    """True for a top-level token that binds at least as tightly as + and -."""
    if token.type == tokenize.NAME:
        return not keyword.iskeyword(token.string) or token.string in ("True", "False", "None")
    if token.type == tokenize.OP:
        return token.string in TOP_LEVEL_OPERATORS
    return token.type in (tokenize.NUMBER, tokenize.STRING)


def _ends_operand(token):
    """True when an operator after `token` is binary: "x - 1" (not unary, as in "x * -1")."""
    if token is None:
        return False
    if token.type == tokenize.OP:
        return token.string in CLOSING
    return _fits_a_chain(token)


# --------------------------------------------------------------------------- checking
def _check_constructs(tree, names):
    """FormulaError naming every construct the language refuses and every unknown name."""
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


def _refusal(node, names, is_called):
    """What is wrong with one node (a short description), "unknown" for an unknown name,
    or None when it is allowed."""
    if isinstance(node, QUIETLY_ALLOWED + PARTS_OF_REFUSED):
        return None
    if isinstance(node, (ast.operator, ast.unaryop)):
        allowed = type(node) in BINARY_OPERATORS or type(node) in UNARY_OPERATORS
        return None if allowed else f"operator {type(node).__name__}"
    if isinstance(node, ast.Constant):
        return _constant_refusal(node)
    if isinstance(node, ast.Name):
        return _name_refusal(node, names, is_called)
    if isinstance(node, ast.Call):
        return _call_refusal(node)
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{node.attr})"
    if isinstance(node, ast.keyword):
        return f"keyword argument {node.arg}="
    return CONSTRUCT_NAMES.get(type(node), f"construct {type(node).__name__}")


def _constant_refusal(node):
    if isinstance(node.value, (str, bytes)):
        return f"string {node.value!r:.40}"
    if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
        return f"constant {node.value!r:.40}"
    return None


def _name_refusal(node, names, is_called):
    if is_called:
        return None if node.id in FUNCTIONS else f"call of {node.id}"
    if node.id in FUNCTIONS:
        return f"function {node.id} used without calling it"
    return None if node.id in names else "unknown"


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


def _check_numbers(tree, text):
    """FormulaError where numbers alone go beyond float64's range: 1e999, 10**400,
    10**10**10. They are computed here in Python floats, which cannot hang (Python's
    ints could: 10**10**10 has ten billion digits)."""
    values = {}  # id(node) -> the float a part made of numbers alone comes to
    for node in _postorder(tree.body):
        try:
            value = _number_value(node, values)
        except OverflowError:
            value = math.inf
        if value is None:
            continue
        if not math.isfinite(value) and _finite_operands(node, values):
            part = ast.get_source_segment(text, node) or "a number"
            raise FormulaError(
                f"the formula is too large to evaluate: {part:.60} is beyond float64's range (largest {LARGEST:.4g})"
            )
        values[id(node)] = value


def _number_value(node, values):
    """The float of a part made of numbers alone (its operands' in `values`), else None."""
    if isinstance(node, ast.Constant):
        return float(node.value)
    operands = [values.get(id(child)) for child in _operands(node)]
    if not operands or None in operands or isinstance(node, ast.Call):
        return None
    if isinstance(node, ast.UnaryOp):
        return UNARY_OPERATORS[type(node.op)](operands[0])
    try:
        value = BINARY_OPERATORS[type(node.op)](*operands)
    except (ZeroDivisionError, TypeError):  # 1/0 gives inf in NumPy; @ of numbers: evaluate says what is wrong
        return None
    return value if isinstance(value, float) else None  # (-8) ** (1/3) is complex in Python, nan in NumPy


def _finite_operands(node, values):
    """True when every operand of `node` is finite: the overflow happened at this node."""
    return all(math.isfinite(values.get(id(child), 0.0)) for child in _operands(node))


# --------------------------------------------------------------------------- values
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
    expected = f"--set {name}: expected a number or a bracketed list of numbers, got {text!r:.80}"
    try:
        value = ast.literal_eval(text)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise FormulaError(expected) from None
    stack = [(value, 0)]
    while stack:  # every leaf must be an int or a float, at most 32 brackets deep (NumPy's limit)
        item, depth = stack.pop()
        if isinstance(item, list) and depth < 32:
            stack.extend((element, depth + 1) for element in item)
        elif isinstance(item, list):
            raise FormulaError(f"--set {name}: more than 32 nested brackets, NumPy's most")
        elif isinstance(item, bool) or not isinstance(item, (int, float)):
            raise FormulaError(expected)
    try:
        return np.array(value, dtype=np.float64)
    except OverflowError:
        raise FormulaError(f"--set {name}: a number in {text!r:.80} is beyond float64's range") from None
    except ValueError:
        raise FormulaError(f"--set {name}: the rows of {text!r:.80} differ in length") from None


# -------------------------------------------------------------------------- evaluating
def evaluate(tree, values):
    """The Tensor a checked formula computes. Numbers become float64 constants; an axis
    stays an int. An operation whose result would hold more than MAX_ELEMENTS elements
    is a FormulaError, raised before it runs."""
    results = {}  # id(node) -> its Tensor, until its parent takes it
    for node in _postorder(tree.body):
        args = [results.pop(id(child)) for child in _operands(node)]
        if isinstance(node, ast.BinOp):
            _check_size(node, *args)
        results[id(node)] = _apply(node, args, values)
    return results[id(tree.body)]


def _postorder(root):
    """The nodes under `root` (a checked formula's), each after its operands, without
    recursion: a sum of 10,000 terms is 10,000 levels deep."""
    order, stack = [], [root]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(_operands(node))
    return reversed(order)


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


OPERATOR_SIGNS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.MatMult: "@"}


def _check_size(node, a, b):
    """FormulaError when `a op b` would hold more than MAX_ELEMENTS elements."""
    size = _result_size(type(node.op), a.shape, b.shape)
    if size > MAX_ELEMENTS:
        raise FormulaError(
            f"the formula is too large to evaluate: {a.shape} {OPERATOR_SIGNS[type(node.op)]} {b.shape} would make "
            f"{size:,} elements, more than {MAX_ELEMENTS:,}"
        )


def _result_size(op, a, b):
    """The number of elements of `a op b` for shapes a and b; 0 where they do not fit
    (the operation itself then says so)."""
    try:
        if op is not ast.MatMult:
            return math.prod(np.broadcast_shapes(a, b))
        if not a or not b:
            return 0
        batch = np.broadcast_shapes(a[:-2], b[:-2])
        rows = a[-2] if len(a) >= 2 else 1
        columns = b[-1] if len(b) >= 2 else 1
        return math.prod(batch) * rows * columns
    except ValueError:
        return 0
