"""The command line: draw the graph of a formula.

    python -m tinygrad_edu graph "sigmoid(w*x + b)" --set w=2,x=3,b=-1 --backward -o graph.svg

The formula language (what a formula may hold, its limits) is tinygrad_edu/formula.py;
the pictures are tinygrad_edu/viz. This file parses the arguments and calls them. Every
error is one line on stderr and exit code 2 (1 where graphviz's dot fails on a picture),
never a traceback.
"""

import argparse
import os
import sys

import numpy as np

from . import formula, viz

EXAMPLE = 'python -m tinygrad_edu graph "sigmoid(w*x + b)" --set w=2,x=3,b=-1 --backward -o graph.svg'


def _parser():
    parser = argparse.ArgumentParser(prog="python -m tinygrad_edu", description="tinygrad_edu from the command line")
    commands = parser.add_subparsers(dest="command", required=True)
    graph = commands.add_parser(
        "graph",
        help="draw the computational graph of a formula",
        description=f"Draw the computational graph of a formula, e.g. {EXAMPLE}",
        epilog='A formula that starts with "-" is taken as it is: graph "-x" --set x=2.',
    )
    # nargs="?": argparse takes "-x" for an unknown option; main() takes it back as the formula
    graph.add_argument(
        "formula", nargs="?", help="numbers, --set names, + - * / ** @, unary minus, " + ", ".join(formula.FUNCTIONS)
    )
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
    graph.add_argument(
        "-o", "--output", help="write the picture here (.svg, .png, .pdf or .dot; - for stdout); else print text"
    )
    graph.add_argument("--format", choices=viz.FORMATS, help="the picture's format when the output has no suffix")
    return parser


def _arguments(argv):
    """The parsed arguments; a formula that argparse took for an option ("-x") is the formula."""
    parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if args.formula is None and len(unknown) == 1:
        args.formula = unknown.pop()
    if unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.formula is None:
        parser.error(f"the following arguments are required: formula (e.g. {EXAMPLE})")
    return args


def _compute(args):
    """(the formula's Tensor, the --set values), after backward when asked."""
    values = formula.parse_assignments(args.assignments)
    tree = formula.parse_formula(args.formula, values)
    with np.errstate(all="ignore"):  # inf and nan show in the picture; no warnings
        result = formula.evaluate(tree, values)
    if args.backward:
        if result.size != 1:
            raise formula.FormulaError(
                f"--backward needs a formula with one element, got shape {result.shape}: wrap it in sum(...)"
            )
        if result.requires_grad:
            with np.errstate(all="ignore"):
                result.backward()
    return result, values


def _draw(result, values, args):
    """The text graph to print; or, with -o, write the picture and return the line that
    says where (None when the picture itself went to standard output)."""
    drawing = {"params": values, "show_formulas": args.formulas}
    if args.output is None:
        return viz.text_graph(result, **drawing)
    if args.output == "-":
        picture = viz.picture_bytes(viz.draw_graph(result, **drawing), args.format or "svg")
        sys.stdout.buffer.write(picture)
        sys.stdout.flush()
        return None
    path = viz.render(result, args.output, format=args.format, **drawing)
    return None if viz.files.is_special(path) else f"wrote {path}"  # /dev/stdout: the picture is the output


def main(argv=None):
    """Run the command line; return the exit code: 0 done, 2 refused (a bad formula or
    value, a path that cannot be written, no dot program), 1 graphviz's dot failed."""
    args = _arguments(argv)
    if args.format is not None and args.output is None:
        return _fail("--format applies to the picture written with -o")
    try:
        result, values = _compute(args)
    except formula.FormulaError as error:
        return _fail(error)
    except (ValueError, TypeError, RuntimeError, ArithmeticError, IndexError, MemoryError) as error:
        return _fail(f"cannot compute {args.formula!r:.80}: {error}")
    try:
        line = _draw(result, values, args)
    except viz.DotNotFound as error:
        if args.output == "-":
            return _fail(f"cannot draw the picture: nothing was written (--format dot writes DOT source). {error}")
        return _fail(error)
    except BrokenPipeError:
        raise  # the reader of standard output left: _run ends quietly
    except (ValueError, OSError) as error:
        return _fail(error)
    except RuntimeError as error:
        return _fail(error, code=1)
    if line is not None:
        print(line)
    return 0


def _fail(message, code=2):
    print(f"error: {' '.join(str(message).split())}", file=sys.stderr)  # one line, whatever the message holds
    return code


def _run():
    """main() for `python -m`: a reader that stops early (| head) ends the output quietly."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would print a traceback when it flushes stdout at exit: point it at devnull
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    return code


if __name__ == "__main__":
    sys.exit(_run())
