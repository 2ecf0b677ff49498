"""The gradients a picture shows, taken from the engine's own chain rule.

`chain_rule_steps` runs `autograd.backpropagate`, the generator that `backward()` itself
consumes, so a picture always shows what backward does. It runs under no_grad, seeded
with ones like `root.backward()`, keeps the graph (retain_graph) and replays what an
earlier backward freed (then frees it again): no `.grad` is touched. Inside a
detect_anomaly block its steps run unchecked, so a graph that made a NaN still draws.
"""

from .. import autograd, backend
from ..tensor import Tensor


@autograd.no_grad()  # on a generator: each step runs without recording, the caller's code between them as it was
def chain_rule_steps(root):
    """Yield (fn, grad_out, grads_in) for each op, in the engine's order: the gradient that
    reached fn's output (None when none did, as behind sign()) and the one fn sends to each
    input (None where none flows)."""
    if root.grad_fn is None:
        return
    steps = autograd.backpropagate(root, Tensor.ones_like(root), retain_graph=True, replay_freed=True)
    while True:
        with autograd.detect_anomaly(False):  # each step unchecked: a graph that made a NaN still draws
            step = next(steps, None)
        if step is None:
            return
        yield step


class Gradients:
    """What a picture shows of the gradients, filled in one chain-rule step at a time:
    per tensor (by number: the sum of what reached it so far) and per link (what flows
    along it; None where no gradient flows)."""

    def __init__(self, walked, root):
        self.tensor = {}  # tensor number - 1 -> array
        self.link = {}  # link -> array, or None where no gradient flows
        self._op_number = {id(fn): j for j, fn in enumerate(walked.ops)}
        self._tensor_number = {id(t): k for k, t in enumerate(walked.tensors)}
        if root.grad_fn is not None:
            self.tensor[0] = backend.xp(root.data).ones_like(root.data)

    def add_step(self, fn, grad_out, grads_in):
        """Record one op's backward: its output's gradient and what it sends to each input."""
        j = self._op_number.get(id(fn))
        if j is not None:
            self.link[("out", j)] = None if grad_out is None else grad_out.data
        for p, (t, grad) in enumerate(zip(fn.inputs, grads_in)):
            if j is not None:
                self.link[("in", j, p)] = None if grad is None else grad.data
            k = self._tensor_number.get(id(t))
            if grad is not None and k is not None:
                # out of place: the first array is also what the link shows
                self.tensor[k] = grad.data if k not in self.tensor else self.tensor[k] + grad.data


def shown_gradients(walked, root):
    """(per tensor, per link) for a finished backward: each leaf shows its own .grad, the
    other tensors the gradient that reached them."""
    gradients = Gradients(walked, root)
    for step in chain_rule_steps(root):
        gradients.add_step(*step)
    shown = gradients.tensor
    for k, t in enumerate(walked.tensors):
        if t.grad_fn is None and k != 0:
            shown.pop(k, None)
            if t.grad is not None:
                shown[k] = t.grad.data
    return shown, gradients.link
