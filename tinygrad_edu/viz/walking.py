"""Walking a graph: which tensors and ops a picture shows, as numbers (no styling).

The walk is breadth first from the root and needs no recursion, so a chain of a million
ops is fine; beyond `max_nodes` it stops recording and only counts what it leaves out.
"""

from collections import deque

from ..tensor import Tensor


class Walk:
    """The part of a graph a picture shows, as indices.

    tensors[k] is tensor number k + 1 (the root is #1), in breadth-first order from the
    root; ops[j] is an op whose output is tensors[op_output[j]] and whose inputs are
    tensors[op_inputs[j][p]] (None where the input lies beyond the cut).
    cut_tensors are shown tensors whose op lies beyond the cut; omitted counts the
    tensors and ops left out; leaf_has_grad says whether some leaf, shown or not, has a
    .grad (then backward has run).
    """

    def __init__(self, root, max_nodes):
        self.tensors, self.ops, self.op_output, self.op_inputs = [root], [], [], []
        self.cut_tensors = []
        self.leaf_has_grad = False
        self._omitted_ops = 0
        self._max_nodes = max_nodes
        self._index = {id(root): 0}  # id(tensor) -> its number - 1; the graph keeps every tensor alive
        self._hidden = set()  # ids of the tensors beyond the cut

    @property
    def omitted(self):
        """How many tensors and ops are left out."""
        return len(self._hidden) + self._omitted_ops

    @property
    def node_count(self):
        """How many tensors and ops the whole graph has, shown or not."""
        return len(self.tensors) + len(self.ops) + self.omitted

    def links(self):
        """Every data-flow link shown: ("in", j, p) for input p of op j, ("out", j) for op j's output."""
        for j, inputs in enumerate(self.op_inputs):
            for p in range(len(inputs)):
                yield ("in", j, p)
            yield ("out", j)

    def visit_all(self):
        """Visit every tensor reachable from the root, breadth first: record what there is
        room for, count the rest."""
        queue = deque(self.tensors)
        while queue:
            t = queue.popleft()
            fn = t.grad_fn
            if fn is None:
                self.leaf_has_grad = self.leaf_has_grad or t.grad is not None
                continue
            k = self._index.get(id(t))
            shown = k is not None and self._has_room()
            queue.extend(self._record_op(fn, k) if shown else self._count_op(fn, k))

    def _has_room(self):
        return self._max_nodes is None or len(self.tensors) + len(self.ops) < self._max_nodes

    def _record_op(self, fn, k):
        """Show fn, the op that made tensor k, and as many of its inputs as there is room for;
        return the inputs met for the first time (to visit next)."""
        self.ops.append(fn)
        self.op_output.append(k)
        inputs, new = [], []
        for x in fn.inputs:
            i = self._index.get(id(x))
            if i is None and id(x) not in self._hidden:
                new.append(x)
                if self._has_room():
                    i = self._index[id(x)] = len(self.tensors)
                    self.tensors.append(x)
                else:
                    self._hidden.add(id(x))
            inputs.append(i)
        self.op_inputs.append(inputs)
        return new

    def _count_op(self, fn, k):
        """Leave out fn (k is its output's number, None when that is left out too); return
        the inputs met for the first time, which are left out as well."""
        self._omitted_ops += 1
        if k is not None:
            self.cut_tensors.append(k)
        new = []
        for x in fn.inputs:
            if id(x) not in self._index and id(x) not in self._hidden:
                self._hidden.add(id(x))
                new.append(x)
        return new


def walk(root, max_nodes=None):
    """The Walk of the tensors and ops reachable from `root` (breadth first, no
    recursion), at most `max_nodes` of them recorded; the rest are only counted."""
    walked = Walk(root, max_nodes)
    walked.visit_all()
    return walked


def check_root(root, max_nodes):
    """The arguments every picture shares: a Tensor to start from, a positive max_nodes."""
    if not isinstance(root, Tensor):
        raise TypeError(f"expected the root Tensor of a graph, got {type(root).__name__}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive int, got {max_nodes!r}")


def walk_whole(root, max_nodes, who):
    """The Walk of the whole graph of `root`, for what is drawn or written once per op
    (`who` names it in the error): a graph of more than `max_nodes` tensors and ops is a
    ValueError that gives both counts (a frame per op of a cut graph would hide the ops
    it is about)."""
    check_root(root, max_nodes)
    walked = walk(root, max_nodes)
    if walked.omitted:
        raise ValueError(
            f"{who} draws the whole graph once per op, and this graph has {walked.node_count:,} "
            f"tensors and ops, more than max_nodes={max_nodes:,}: raise max_nodes, or draw the graph once "
            "with draw_graph, which cuts it"
        )
    return walked
