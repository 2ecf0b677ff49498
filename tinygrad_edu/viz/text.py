"""The graph as plain text: what draw_graph shows, for a terminal or a test."""

from .gradients import shown_gradients
from .labels import names_from, shape_and_dtype, summarize
from .walking import check_root, walk


class _Lines:
    """The text of each tensor of a walked graph: its title and its one-line description."""

    def __init__(self, walked, names, grads, show_data, show_formulas):
        self.walked, self.names, self.grads = walked, names, grads
        self.show_data, self.show_formulas = show_data, show_formulas
        self.op_of = {k: j for j, k in enumerate(walked.op_output)}  # tensor number - 1 -> the op that made it
        self.cut = set(walked.cut_tensors)

    def title(self, k):
        name = self.names.get(id(self.walked.tensors[k]))
        return f"#{k + 1}" if name is None else f"#{k + 1} {name}"

    def describe(self, k):
        t = self.walked.tensors[k]
        parts = [self.title(k), shape_and_dtype(t.data)]
        if self.show_data:
            parts.append(f"data {summarize(t.data)}")
        if k in self.grads:
            parts.append(f"grad {summarize(self.grads[k])}")
        return "  ".join(parts) + self.made_by(k)

    def made_by(self, k):
        """ "  ← Op(#2, #3 w)" for a tensor an op made; "" for a leaf."""
        if k in self.cut:
            return "  ← … (left out)"
        if k not in self.op_of:
            return ""
        j = self.op_of[k]
        fn = self.walked.ops[j]
        inputs = ", ".join("…" if i is None else self.title(i) for i in self.walked.op_inputs[j])
        formula = f"  [{type(fn).formula}]" if self.show_formulas and type(fn).formula else ""
        anomaly = getattr(fn, "anomaly", None)  # set by tg.detect_anomaly on the op that made a NaN or an inf
        return f"  ← {fn.name}({inputs}){formula}" + (f"  ⚠ {anomaly}" if anomaly else "")

    def children(self, k, rest, printed):
        """The inputs of the op that made tensor k as (tensor, prefix of its line, prefix
        below it), in print order."""
        inputs = self.walked.op_inputs[self.op_of[k]]
        # a simple input prints as one line: it has no inputs, or it was printed already
        simple = [i for i in inputs if i is None or i not in self.op_of or i in printed]
        branches = [i for i in inputs if not (i is None or i not in self.op_of or i in printed)]
        if len(branches) <= 1:
            last = len(simple) - 1  # the block of one-line inputs closes; the branch goes on below it
            children = [(i, rest + ("└─ " if n == last else "├─ "), rest) for n, i in enumerate(simple)]
            return children + [(i, rest, rest) for i in branches]
        last = len(inputs) - 1
        return [
            (i, rest + ("└─ " if n == last else "├─ "), rest + ("   " if n == last else "│  "))
            for n, i in enumerate(inputs)
        ]


def text_graph(root, params=None, show_data=True, show_grad=True, show_formulas=False, max_nodes=500):
    """The graph of `root` as a plain-text tree: one line per tensor, with the op that
    made it and that op's inputs by number; the inputs below it. Each node appears once:
    a tensor met again is a reference, "(see #3)". Where at most one input has inputs of
    its own, the others come first and that one continues straight down, unindented, so a
    long chain stays narrow. After backward (show_grad) each tensor shows its gradient,
    as in draw_graph; an op that tg.detect_anomaly caught making a NaN or an inf is marked
    "⚠ forward made inf" (or what it made).

        #1 loss  () float64  data 0.3133  ← Neg(#2)
        #2  () float64  data -0.3133  ← Log(#3 y_hat)
        #3 y_hat  () float64  data 0.7311  ← Sigmoid(#4)
        #4  () float64  data 1  ← Add(#5, #6 b)
        └─ #6 b  () float64  data -1
        #5  () float64  data 2  ← Mul(#7 w, #8 x)
        ├─ #7 w  () float64  data 2
        └─ #8 x  () float64  data 1
    """
    check_root(root, max_nodes)
    walked = walk(root, max_nodes)
    grads = shown_gradients(walked, root)[0] if show_grad and walked.leaf_has_grad else {}
    lines = _Lines(walked, names_from(params), grads, show_data, show_formulas)
    text, printed = [], set()
    stack = [(0, "", "")]  # (tensor number - 1, or None beyond the cut; prefix of its line; prefix below it)
    while stack:
        k, first, rest = stack.pop()
        if k is None:
            text.append(f"{first}… (left out)")
        elif k in printed:
            text.append(f"{first}(see {lines.title(k)})")
        else:
            printed.add(k)
            text.append(first + lines.describe(k))
            if k in lines.op_of:
                stack.extend(reversed(lines.children(k, rest, printed)))
    if walked.omitted:
        text.append(f"… {walked.omitted:,} more nodes not shown (raise max_nodes to see them)")
    return "\n".join(text)
