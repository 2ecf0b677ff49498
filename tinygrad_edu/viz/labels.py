"""What a node says, in a picture and in text: a tensor's name (from params=) and kind,
its shape and dtype, numbers in at most 4 significant digits, a summary of an array, and
escaping for graphviz's HTML-like labels."""

import html
import math

import numpy as np

from .. import backend
from ..tensor import Tensor


def _number(value, noise=0.0):
    """A number in at most 4 significant digits; 0 where |value| <= noise (rounding error)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if abs(value) <= noise:
        return "0"
    return f"{value + 0.0:.4g}"  # + 0.0 turns −0.0 into 0.0: a learner should not wonder about "-0"


def rounding_noise(dtype, size, largest):
    """eps(dtype) · size · largest: below it a number of a float array of `size` elements
    whose largest magnitude is `largest` is rounding error (a sum of n terms carries up to
    n·eps of the largest), and shows as 0, not -4.657e-10. 0 for integers, bools and
    complex numbers, and where the largest is not finite."""
    if dtype.kind != "f" or not math.isfinite(largest):
        return 0.0
    return float(np.finfo(dtype).eps) * size * float(largest)


def summarize(array):
    """All elements when there are at most 6 (nested like the array), else "min … mean … max …";
    a float that is rounding error next to the array's largest shows as 0 (rounding_noise)."""
    values = backend.to_numpy(array)
    if values.size <= 6:
        numbers = values.ravel().tolist()
        noise = rounding_noise(values.dtype, values.size, max(map(abs, numbers), default=0.0))
        texts = [_number(v, noise) for v in numbers]
        if values.ndim <= 1:
            return texts[0] if values.ndim == 0 else f"[{', '.join(texts)}]"
        return str(np.array(texts, dtype=object).reshape(values.shape).tolist()).replace("'", "")
    if values.dtype.kind == "c":
        return f"mean {_number(values.mean())}"
    low, high = values.min(), values.max()
    noise = rounding_noise(values.dtype, values.size, max(abs(low), abs(high)))
    mean = values.sum(dtype=np.float64) / values.size  # .mean() costs twice as much, for 10,000 labels
    return f"min {_number(low, noise)}  mean {_number(mean, noise)}  max {_number(high, noise)}"


_dtype_names = {}  # str(dtype) is slow enough to matter for 10,000 nodes


def shape_and_dtype(array):
    """ "(2, 3) float64": what every tensor's label says first, after its name."""
    name = _dtype_names.get(array.dtype)
    if name is None:
        name = _dtype_names[array.dtype] = str(array.dtype)
    return f"{array.shape} {name}"


def escape(text):
    """`text` safe inside a graphviz HTML-like label: <, >, &, quotes, ] as entities;
    backslashes doubled (dot reads \\N, \\G, ... as escapes even there); characters
    that cannot be printed as Python escapes."""
    text = str(text)
    if not text.isprintable():
        text = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in text)
    # "]" as an entity too: dot rejects a cell whose whole text is "]"
    return html.escape(text, quote=True).replace("\\", "\\\\").replace("]", "&#93;")


def names_from(params):
    """{id(tensor): name} from params=, a dict of name to tensor."""
    if params is None:
        return {}
    if not hasattr(params, "items"):
        raise TypeError(f"params must be a dict of name to tensor, got {type(params).__name__}")
    names = {}
    for name, t in params.items():
        if not isinstance(t, Tensor):
            raise TypeError(f"params must be a dict of name to tensor, got {type(t).__name__} for {name!r}")
        names.setdefault(id(t), str(name))
    return names


def tensor_kind(t, is_root):
    """ "root", "parameter" (a leaf that requires grad), "constant" or "intermediate"."""
    if is_root:
        return "root"
    if t.grad_fn is None:
        return "parameter" if t.requires_grad else "constant"
    return "intermediate"
