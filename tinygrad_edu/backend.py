"""The array module behind a tensor: NumPy on "cpu", CuPy on "cuda".

What knows about devices lives here. Ops never branch on the device: they call array
methods and NumPy functions, which dispatch to CuPy for CuPy arrays, and create new
arrays with `xp(array)`. CuPy is imported the first time a tensor goes to
"cuda", so `import tinygrad_edu` needs NumPy alone.
"""

import ctypes
import os

import numpy as np

DEVICES = ("cpu", "cuda")


def keep_freed_memory():
    """Ask glibc's malloc to keep freed memory for reuse rather than give it back to the OS.

    Why: NumPy allocates every result with malloc. By default glibc maps each array over
    128 KiB fresh from the OS and returns freed memory at the top of its heap, so a training
    loop that frees and re-creates the same arrays every step page-faults them back in,
    zeroed, each time: a quarter of an MLP step at batch 2048. After this call arrays up to
    32 MiB come from the heap, which keeps up to 256 MiB of freed memory. It is a setting
    of the whole process, made once on import; TINYGRAD_EDU_KEEP_FREED_MEMORY=0 in the
    environment leaves malloc as it is. Other C libraries: nothing to do.
    """
    if os.environ.get("TINYGRAD_EDU_KEEP_FREED_MEMORY", "1") == "0":
        return
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return
        mallopt = ctypes.CDLL(None).mallopt
    except (AttributeError, ValueError, OSError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    mallopt(m_trim_threshold, 256 << 20)
    mallopt(m_mmap_threshold, 32 << 20)


keep_freed_memory()

_cupy = None  # the cupy module once a tensor has gone to "cuda"

INSTALL_HINT = (
    'install the "gpu" extra: pip install "tinygrad_edu[gpu]" (CuPy for CUDA 12, '
    "cupy-cuda12x), or pip install cupy-cuda13x for CUDA 13"
)


def check_device(device):
    """Return the canonical device name; "cuda:0" is "cuda". Unknown names are a ValueError."""
    name = str(device)
    if name == "cuda:0":
        name = "cuda"
    if name not in DEVICES:
        raise ValueError(f"unknown device {device!r}: expected one of {', '.join(DEVICES)}")
    return name


def device_or_dtype(target):
    """What `.to(target)` asks for, for Tensor.to and Module.to alike: ("device", "cpu" or
    "cuda") or ("dtype", a NumPy dtype). Anything else is a ValueError naming it."""
    if isinstance(target, str) and target.split(":")[0] in DEVICES:
        return "device", check_device(target)
    try:
        return "dtype", np.dtype(target)
    except TypeError:
        raise ValueError(
            f"unknown device {target!r} (nor a dtype): expected one of {', '.join(DEVICES)} or a dtype like 'float64'"
        ) from None


def _load_cupy():
    """Import CuPy and check that it sees a GPU; RuntimeError saying what is missing."""
    global _cupy
    if _cupy is not None:
        return _cupy
    try:
        import cupy
    except ImportError as error:
        raise RuntimeError(f'device "cuda" needs CuPy, which is not installed: {INSTALL_HINT}') from error
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as error:  # CuPy raises its own CUDARuntimeError without a driver
        raise RuntimeError(f'device "cuda" needs an NVIDIA GPU, and CUDA found none ({error})') from error
    if count == 0:
        raise RuntimeError('device "cuda" needs an NVIDIA GPU, and CUDA found none')
    _cupy = cupy
    return cupy


def is_cuda_available():
    """True when CuPy is installed and sees at least one GPU."""
    try:
        _load_cupy()
    except RuntimeError:
        return False
    return True


class cuda:
    """`tg.cuda`: the one question a user asks about the GPU."""

    is_available = staticmethod(is_cuda_available)


def device_of(array):
    """ "cpu" for a NumPy array, "cuda" for a CuPy array."""
    return "cpu" if isinstance(array, np.ndarray) else "cuda"


def xp(array):
    """The array module (numpy or cupy) that owns `array`."""
    if isinstance(array, np.ndarray) or _cupy is None:
        return np
    return _cupy


def array_module(device):
    """The array module for a device name."""
    return np if check_device(device) == "cpu" else _load_cupy()


def check_same_device(arrays):
    """ValueError naming the devices unless all the arrays live on one device."""
    kinds = {a.__class__ for a in arrays}
    if len(kinds) > 1:
        devices = ", ".join(f'"{device_of(a)}"' for a in arrays)
        raise ValueError(f"expected all tensors on one device, got tensors on {devices}")


def owns_memory(array):
    """True when `array` is no view of another array and may be written (a NumPy array can
    be read-only; a CuPy one cannot)."""
    if array.base is not None:
        return False
    return array.flags.writeable if isinstance(array, np.ndarray) else True


def to_device(array, device):
    """Copy `array` to `device` (no copy when it is there already)."""
    if device == device_of(array):
        return array
    if device == "cpu":
        return array.get()
    return _load_cupy().asarray(array)


def to_numpy(array):
    """A NumPy array of the data, copied from the GPU when it lives there."""
    return array if isinstance(array, np.ndarray) else array.get()


def read_only(array):
    """`array`, marked read-only where the array type allows it (NumPy; CuPy has no flag):
    for arrays the library caches and shares."""
    if isinstance(array, np.ndarray):
        array.flags.writeable = False
    return array


def scalar(value, dtype, like):
    """A 0-d array holding `value`, of `dtype`, on the device of `like`."""
    if isinstance(like, np.ndarray):
        return np.array(value, dtype=dtype)
    # cupy.full launches a fill kernel; cupy.asarray of a host scalar would copy synchronously
    return _cupy.full((), value, dtype=dtype)


def index_like(index, like):
    """`index` with its arrays (NumPy arrays, lists) on the device of the array `like`:
    CuPy indexes with CuPy arrays. On the CPU the index is returned as it is."""
    if isinstance(like, np.ndarray):
        return index
    parts = index if isinstance(index, tuple) else (index,)
    moved = tuple(_cupy.asarray(p) if isinstance(p, (np.ndarray, list)) else p for p in parts)
    return moved if isinstance(index, tuple) else moved[0]


def scatter_add(out, index, values):
    """out[index] += values, adding where `index` repeats a place (NumPy's add.at)."""
    if not isinstance(out, np.ndarray):
        import cupyx

        cupyx.scatter_add(out, index, values)
    elif isinstance(index, np.ndarray) and index.dtype.kind in "iu" and index.size:
        scatter_add_rows(out, index, values)
    else:
        np.add.at(out, index, values)


def scatter_add_rows(out, rows, values):
    """np.add.at(out, rows, values) for one integer array of row numbers (an embedding's
    backward), six times faster: add.at adds one row at a time, while here the rows are
    sorted and each run of equal ones is summed by one np.add.reduceat.
    tests/test_fused.py holds the two equal."""
    rows = rows.ravel() % out.shape[0]  # a negative row counts from the end, as in indexing
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.diff(sorted_rows, prepend=-1))  # where each run of one row begins
    values = values.reshape(rows.shape + out.shape[1:])[order]
    out[sorted_rows[starts]] += np.add.reduceat(values, starts, axis=0)


def sum_over(array, axis, keepdims):
    """array.sum(axis=axis, keepdims=keepdims), for a tuple of axes (or None).

    Speed, fenced: the last axis of a large C-contiguous float32/float64 NumPy array is
    summed as one matrix-vector product with ones, because NumPy reduces each row of that
    axis on its own, 4-13× slower on rows of 64-512 (a transformer's softmax and layer
    norm: its step 3-4% faster). tests/test_fused.py holds the two equal."""
    if _large_rows(array, axis):
        total = array @ np.ones(array.shape[-1], dtype=array.dtype)
        return total[..., None] if keepdims else total
    return array.sum(axis=axis, keepdims=keepdims)


def max_over(array, axis, keepdims):
    """array.max(axis=axis, keepdims=keepdims), for a tuple of axes (or None).

    Speed, fenced: the max along the last axis of a large C-contiguous float32/float64
    NumPy array, in rows of at most 512, is read at the place argmax finds, because
    NumPy's max reduces each short row on its own while argmax has a loop of its own per
    row: rows of 64 (attention's softmax) 0.67 → 0.38 ms, of 128 0.17 → 0.04 ms (longer
    rows gain nothing). A NaN wins in both. tests/test_fused.py holds the two equal."""
    if _large_rows(array, axis) and array.shape[-1] <= 512:
        largest = np.take_along_axis(array, array.argmax(axis=-1, keepdims=True), axis=-1)
        return largest if keepdims else largest[..., 0]
    return array.max(axis=axis, keepdims=keepdims)


def _large_rows(array, axis):
    """True when `axis` is the last axis of a large C-contiguous float32/float64 NumPy
    array: the reductions that sum_over and max_over take a faster way."""
    return (
        axis == (array.ndim - 1,)
        and isinstance(array, np.ndarray)
        and array.dtype.char in "fd"
        and array.size >= 4096
        and array.flags.c_contiguous
    )


def sliding_windows(array, kernel_size, stride, dilation, writeable=False):
    """Every kh × kw window of an image batch (N, C, H, W) as a view (N, C, kh, kw, Ho, Wo),
    without a copy: view[n, c, i, j, y, x] = array[n, c, y·sh + i·dh, x·sw + j·dw], with
    Ho = ⌊(H − dh(kh − 1) − 1) / sh⌋ + 1 (Wo alike). Writeable only when asked: a write
    through overlapping windows lands on one element many times."""
    n, c, h, w = array.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel_size, stride, dilation
    shape = (n, c, kh, kw, (h - dh * (kh - 1) - 1) // sh + 1, (w - dw * (kw - 1) - 1) // sw + 1)
    step_n, step_c, step_h, step_w = array.strides
    strides = (step_n, step_c, step_h * dh, step_w * dw, step_h * sh, step_w * sw)
    if isinstance(array, np.ndarray):
        return np.lib.stride_tricks.as_strided(array, shape, strides, writeable=writeable)
    return _cupy.lib.stride_tricks.as_strided(array, shape, strides)
