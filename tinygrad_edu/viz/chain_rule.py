"""Each backward step's chain rule, written out with its numbers:

    upstream ∂L/∂out × local ∂out/∂in = downstream ∂L/∂in

The upstream and downstream gradients are the engine's own (a step of
autograd.backpropagate); the local derivative is what the op's backward sends back for
a gradient of ones at its output. Where the op works element by element (or its output
is one number) the product is element by element and all three are written out; else
the step is a vector–Jacobian product, each downstream element a sum over the output's
elements, and the text says so rather than write a product that does not hold.
"""

import numpy as np

from .. import autograd, backend
from ..autograd import wrap
from .gradients import chain_rule_steps
from .labels import names_from, summarize
from .walking import walk_whole


def _backward_of(fn, grad_out):
    """fn's backward for the output gradient `grad_out` (an array), as NumPy arrays, one
    per input (None where nothing flows). What an earlier backward freed is replayed and
    freed again; nothing is recorded and no .grad changes."""
    freed = fn.saved is autograd.FREED
    if freed:
        fn.replay()
    try:
        with autograd.no_grad():
            grads = autograd.input_gradients(fn, wrap(grad_out))
    finally:
        if freed:
            fn.saved = autograd.FREED
    return [None if grad is None else backend.to_numpy(grad.data) for grad in grads]


def _is_elementwise_product(upstream, local, downstream):
    """True when downstream = upstream × local element by element (upstream broadcast
    over local, or a single number)."""
    if upstream.size == 1:
        upstream = upstream.reshape(())
    try:
        product = upstream * local
    except ValueError:  # shapes that do not broadcast: certainly not element by element
        return False
    if product.shape != downstream.shape:
        return False
    scale = float(np.max(np.abs(downstream), initial=0.0)) if downstream.size else 0.0
    return bool(np.allclose(product, downstream, rtol=1e-4, atol=1e-6 * scale, equal_nan=True))


def elementwise_locals(fn):
    """For each input of fn, the local derivative ∂out/∂in as an array where the chain
    rule through fn multiplies element by element, else None (a vector–Jacobian product,
    or no gradient at all).

    The local derivative is fn's backward of ones. Whether the product is element by
    element is asked of a second, uneven output gradient (1, 1 + 1/n, 1 + 2/n, ...): a
    diagonal Jacobian sends it back times the local derivative, any other does not."""
    output = fn.output.data
    xp = backend.xp(output)
    probe = (1 + xp.arange(output.size, dtype=output.dtype) / max(output.size, 1)).reshape(output.shape)
    local_grads = _backward_of(fn, xp.ones_like(output))
    probe_grads = _backward_of(fn, probe)
    probe = backend.to_numpy(probe)
    return [
        local if local is not None and _is_elementwise_product(probe, local, probed) else None
        for local, probed in zip(local_grads, probe_grads)
    ]


def _symbol(name):
    """A tensor's name as it goes into ∂a/∂b: in parentheses when it is more than a word
    ("ŷ = σ(z)"), so that the fraction still reads as one."""
    return f"({name})" if any(c in name for c in " =+-*/·×") else name


class StepText:
    """The chain-rule text of each backward step of a walked graph (walk_whole's), its
    tensors named as the pictures name them: from params=, else #k; the root is L unless
    it has a name."""

    def __init__(self, walked, names):
        self.count = len(walked.ops)
        self.titles = {id(t): names.get(id(t)) or f"#{k + 1}" for k, t in enumerate(walked.tensors)}
        self.loss = _symbol(names.get(id(walked.tensors[0])) or "L")

    def describe(self, number, fn, grad_out, grads_in):
        """The text of step `number`: a header with the op and its formula, then for each
        input link the maths and, below it, the numbers."""
        header = f"step {number} of {self.count}: backward of {fn.name}"
        if type(fn).formula:
            header += f"  ({type(fn).formula})"
        out = _symbol(self.titles[id(fn.output)])
        if grad_out is None:
            return f"{header}\n  no gradient reaches {out}: nothing flows back through {fn.name}"
        lines = [header]
        for t, grad, local in zip(fn.inputs, grads_in, elementwise_locals(fn)):
            lines.extend(self.link(t, out, grad_out, grad, local))
        return "\n".join(lines)

    def link(self, t, out, grad_out, grad, local):
        """One input's lines: upstream × local = downstream, in symbols, then in numbers."""
        title, loss = self.titles[id(t)], self.loss
        name = _symbol(title)
        if grad is None:
            return [f"  {title}: no gradient flows" + ("" if t.requires_grad else " (it does not require grad)")]
        upstream, downstream = summarize(grad_out.data), summarize(grad.data)
        if local is None:
            return [
                f"  {title}:  ∂{loss}/∂{name} = Σ over the elements of {out} of ∂{loss}/∂{out} × ∂{out}/∂{name}"
                " (a vector–Jacobian product)",
                f"      upstream {upstream}  →  downstream {downstream}",
            ]
        return [
            f"  {title}:  ∂{loss}/∂{out} × ∂{out}/∂{name} = ∂{loss}/∂{name}",
            f"      upstream {upstream} × local {summarize(local)} = downstream {downstream}",
        ]


def chain_rule_products(root, params=None, max_nodes=500):
    """The chain rule of each backward step of `root`'s graph, written out (one string per
    op, in the engine's order, as backward_steps draws them): for each input of the op,
    upstream ∂L/∂out × local ∂out/∂in = downstream ∂L/∂in with the numbers, or, where the
    op does not work element by element, the vector–Jacobian product it computes.
    Computes its own gradients, as the pictures do: no .grad changes. A graph of more than
    max_nodes tensors and ops is a ValueError, as in backward_steps."""
    walked = walk_whole(root, max_nodes, "chain_rule_products")
    text = StepText(walked, names_from(params))
    return [text.describe(number, *step) for number, step in enumerate(chain_rule_steps(root), start=1)]
