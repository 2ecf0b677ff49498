"""Optimizer: the parameters in groups, each group with its own options, and the state
that an update rule keeps per parameter.

A step reads each parameter's .grad and changes p.data in place with array operations:
no graph is recorded, the parameter objects stay the same, their version count goes up
(so backward through a graph built before the step refuses), and the dtype stays the
parameter's (options are read as Python floats, which never widen a float32 array).
"""

import numbers

from .. import backend
from ..tensor import Tensor


class Optimizer:
    """Holds the parameters in `param_groups` and updates them from their .grad in step().

    params: an ordered iterable of leaf Tensors (e.g. model.parameters()), or of dicts
    {"params": tensors, option: value, ...} that give some parameters options of their
    own; an option a group leaves out takes the value in `defaults`. A parameter whose
    .grad is None is skipped (a frozen one, requires_grad=False, never gets one).

        param_groups   [{"params": [Tensor, ...], "lr": ..., ...}, ...]: change
                       param_groups[i]["lr"] and the next step uses it (schedules do)
        state          {parameter: {buffer name: array}}, made at its first step
    """

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.param_groups = []
        self.state = {}
        items = _as_list(params, where="")
        if not items:
            raise ValueError("optimizer got an empty parameter list: pass model.parameters() of a model with weights")
        if isinstance(items[0], dict):
            for group in items:
                self.add_param_group(group)
        else:
            self._add_group({"params": items}, where="")

    def add_param_group(self, param_group):
        """Add a dict {"params": a Tensor or an iterable of them, option: value, ...}."""
        if not isinstance(param_group, dict):
            raise TypeError(
                f"a param group must be a dict {{'params': [...], option: value}}, got {type(param_group).__name__}"
            )
        self._add_group(param_group, where=f" (param group {len(self.param_groups)})")

    def _add_group(self, param_group, where):
        if "params" not in param_group:
            raise ValueError(f"a param group needs a 'params' key, got the keys {sorted(param_group)}{where}")
        params = param_group["params"]
        group = {**param_group, "params": _leaves([params] if isinstance(params, Tensor) else params, where)}
        for option, value in self.defaults.items():
            group.setdefault(option, value)
        self._check_options(group, where)
        taken = {id(p) for other in self.param_groups for p in other["params"]}
        if any(id(p) in taken for p in group["params"]):
            raise ValueError(f"a parameter appears in more than one param group{where}: it would be updated twice")
        self.param_groups.append(group)

    def _check_options(self, group, where):
        """ValueError for a bad option of a group (each update rule names its own)."""

    def state_dict(self):
        """The optimizer as PyTorch lays it out, to save beside the model's state_dict:

            {"state": {index: {name: array or number}},
             "param_groups": [{option: value, ..., "params": [index, ...]}, ...]}

        with the parameters numbered 0, 1, ... through the groups in order. The arrays
        are copies (on the CPU), so a later step does not change what was saved."""
        index_of = {}  # id(parameter) -> its number
        groups = []
        for group in self.param_groups:
            options = {option: value for option, value in group.items() if option != "params"}
            groups.append({**options, "params": [index_of.setdefault(id(p), len(index_of)) for p in group["params"]]})
        state = {}
        for p, buffers in self.state.items():
            state[index_of[id(p)]] = {name: _saved(value) for name, value in buffers.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Take the options and the state from a state_dict() of an optimizer of the same
        kind over parameters of the same shapes, grouped alike (ValueError otherwise, with
        this optimizer left as it was). The state is copied onto each parameter's device."""
        groups, state = _checked_layout(state_dict, self.param_groups)
        params = [p for group in self.param_groups for p in group["params"]]
        loaded = {}
        for index, buffers in state.items():
            p = params[index]
            loaded[p] = {name: _restored(value, p, name, index) for name, value in buffers.items()}
        for group, saved in zip(self.param_groups, groups):
            group.update({option: value for option, value in saved.items() if option != "params"})
        self.state = loaded

    def zero_grad(self):
        """Forget every parameter's gradient (sets .grad to None) before the next backward."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self):
        raise NotImplementedError(f"{type(self).__name__} must define step()")

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {option}: {group[option]}" for option in sorted(group) if option != "params"]
        return "\n".join(lines + [")"])


def _saved(value):
    """A state value as state_dict() hands it out: an array copied to the CPU, a number as it is."""
    return backend.to_numpy(value).copy() if hasattr(value, "shape") else value


def _checked_layout(state_dict, param_groups):
    """The groups and the state of a state_dict, checked against the optimizer's groups."""
    if not (isinstance(state_dict, dict) and {"state", "param_groups"} <= state_dict.keys()):
        raise ValueError("an optimizer state_dict is a dict with the keys 'state' and 'param_groups'")
    groups, state = state_dict["param_groups"], state_dict["state"]
    sizes = [len(group["params"]) for group in param_groups]
    saved_sizes = [len(group.get("params", ())) for group in groups]
    if saved_sizes != sizes:
        raise ValueError(
            f"the state_dict has param groups of {saved_sizes} parameters, this optimizer of {sizes}: "
            "load it into an optimizer built over the same parameters, grouped alike"
        )
    if not all(isinstance(index, int) and 0 <= index < sum(sizes) for index in state):
        outside = sorted(state, key=str)
        raise ValueError(f"the state_dict's state names parameters {outside}, expected numbers 0 to {sum(sizes) - 1}")
    return groups, state


def _restored(value, p, name, index):
    """A saved state value for parameter p: an array of p's shape and dtype on p's device."""
    if not hasattr(value, "shape"):
        return value
    if tuple(value.shape) != p.shape:
        raise ValueError(
            f"the state_dict's {name!r} of parameter {index} has shape {tuple(value.shape)}, the parameter {p.shape}"
        )
    return backend.xp(p.data).array(value, dtype=p.dtype)  # a copy, on the parameter's device


def _as_list(params, where):
    """What an optimizer (or a group's "params") was given, as a list: Tensors or dicts, in order."""
    if isinstance(params, Tensor):
        raise TypeError(
            "optimizer params must be an iterable of Tensors or of param-group dicts, got a Tensor: "
            "pass a list, e.g. optim.SGD([w], lr=0.1), or model.parameters()"
        )
    if isinstance(params, dict):
        raise TypeError(f"optimizer params must be a list of param-group dicts, got one dict: pass [group]{where}")
    kind = type(params).__name__
    if isinstance(params, (set, frozenset)):
        raise TypeError(
            f"optimizer params must be an ordered iterable (a list, model.parameters()), got a {kind}, "
            f"whose order (and so the order of the state) may change between runs{where}"
        )
    try:
        return list(params)
    except TypeError:
        raise TypeError(
            f"optimizer params must be an iterable of Tensors or of param-group dicts, got {kind}{where}"
        ) from None


def _leaves(params, where):
    """The parameters as a list, each checked: a leaf Tensor, given once. A group may be
    empty (as in PyTorch: a "no weight decay" group of a model without biases)."""
    params = _as_list(params, where)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"optimizer params must be Tensors, got {type(p).__name__} at position {i}{where}")
        if not p.is_leaf:
            raise ValueError(
                f"optimizer params must be leaf Tensors (made by the user, like model.parameters()), got the output "
                f"of {p.grad_fn.name} at position {i}{where}: an optimizer cannot change a computed value"
            )
    if len({id(p) for p in params}) != len(params):
        raise ValueError(f"optimizer got the same parameter more than once{where}: it would be updated twice per step")
    return params


def check_non_negative(name, value, where=""):
    """ValueError unless value is a number >= 0 (NaN is not); the value as a float."""
    if not (isinstance(value, numbers.Real) and value >= 0):
        raise ValueError(f"invalid {name}: expected {name} >= 0, got {value}{where}")
    return float(value)
