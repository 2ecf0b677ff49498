"""The MLP 784-256-128-10 (ReLU) SGD step on the GPU, at batch 2048, 8192 and 65536.

tinygrad_edu runs the user's code on "cuda" (model.to("cuda"), inputs and labels made
with device="cuda"); hand-written CuPy runs mlp.HandMLP, the hand-written NumPy step,
on CuPy arrays; PyTorch runs the same model eagerly on CUDA. tinygrad_edu on the CPU at
batch 8192 shows what the GPU buys. Each GPU step synchronizes the device before the
clock is read, so a figure is the whole step and not the time to queue its kernels.

CuPy is imported here only: without CuPy or a GPU the workload says why and is skipped.
"""

import numpy as np

from . import harness
from .harness import NUMPY
from .mlp import HandMLP, make_data, param_list, tinygrad_model, tinygrad_step, torch_step

BATCHES = (2048, 8192, 65536)
QUICK_BATCHES = (2048,)
CPU_BATCH = 8192
ACTIVATION = "ReLU"
REPEATS = 50
CPU_REPEATS = 30
MAX_RATIO_CUPY = 1.3
MAX_RATIO_TORCH = 1.5
MIN_SPEEDUP_OVER_CPU = 10.0

CUPY = "CuPy (hand-written)"
TINYGRAD_CUDA = "tinygrad_edu (cuda)"
TORCH_CUDA = "PyTorch (cuda)"
TINYGRAD_CPU = "tinygrad_edu (CPU)"

NOTE = (
    'cuda: the mlp ReLU step on the GPU; "× hand-written" is against hand-written CuPy (the NumPy step of '
    "mlp on CuPy arrays) of the same run; every GPU step ends with a device synchronize."
)


def _cupy_or_reason():
    """(cupy, None) when CuPy sees a GPU, else (None, why not)."""
    from tinygrad_edu import backend

    try:
        return backend.array_module("cuda"), None
    except RuntimeError as error:
        return None, str(error)


def _torch_cuda():
    torch = harness.torch_or_none()
    return torch if torch is not None and torch.cuda.is_available() else None


def _synchronized(step, synchronize):
    def run():
        step()
        synchronize()

    return run


def run(config):
    cupy, reason = _cupy_or_reason()
    if cupy is None:
        config.skip(f"cuda: skipped: {reason}")
        return []
    import tinygrad_edu as tg

    torch = _torch_cuda()
    sync_cupy = cupy.cuda.Device().synchronize
    repeats = config.repeats(REPEATS)
    rows, cuda_medians = [], {}
    for batch in QUICK_BATCHES if config.quick else BATCHES:
        workload = f"cuda: mlp {ACTIVATION}, batch {batch}: SGD step"
        tg.manual_seed(0)
        model = tinygrad_model(ACTIVATION).to("cuda")
        state_dict = model.state_dict()
        X, labels = make_data(batch)
        hand = HandMLP(param_list(state_dict), ACTIVATION, cupy.asarray(X), cupy.asarray(labels), xp=cupy)
        tg_step = tinygrad_step(model, tg.Tensor(X, device="cuda"), tg.Tensor(labels, device="cuda"))
        np.testing.assert_allclose(float(tg_step().item()), float(hand.step()), rtol=1e-3)
        hand_step = _synchronized(hand.step, sync_cupy)
        timings = harness.interleaved(
            {CUPY: hand_step, TINYGRAD_CUDA: _synchronized(tg_step, sync_cupy)}, repeats, config.warmup
        )
        reference = timings[CUPY].median
        hand_row = harness.timing_row(workload, CUPY, timings[CUPY], reference)
        tg_row = harness.timing_row(workload, TINYGRAD_CUDA, timings[TINYGRAD_CUDA], reference)
        cuda_medians[batch] = tg_row.value
        if torch is None:
            torch_row = harness.Row(workload, TORCH_CUDA, "absent (no PyTorch with CUDA)")
        else:
            step = torch_step(torch, ACTIVATION, state_dict, X, labels, device="cuda")
            timing, _, torch_reference = harness.torch_block(
                hand_step, _synchronized(step, torch.cuda.synchronize), repeats, config.warmup
            )
            torch_row = harness.timing_row(workload, TORCH_CUDA, timing, torch_reference)
        if batch >= 8192:
            if torch is None:
                harness.check(tg_row, tg_row.ratio <= MAX_RATIO_CUPY, f"≤ {MAX_RATIO_CUPY}× CuPy (PyTorch CUDA absent)")
            else:
                versus_torch = tg_row.value / torch_row.value
                harness.check(
                    tg_row,
                    tg_row.ratio <= MAX_RATIO_CUPY and versus_torch <= MAX_RATIO_TORCH,
                    f"≤ {MAX_RATIO_CUPY}× CuPy and ≤ {MAX_RATIO_TORCH}× PyTorch ({versus_torch:.2f}×)",
                )
        rows += [hand_row, tg_row, torch_row]

    if CPU_BATCH in cuda_medians:
        workload = f"cuda: mlp {ACTIVATION}, batch {CPU_BATCH} on the CPU: SGD step"
        tg.manual_seed(0)
        model = tinygrad_model(ACTIVATION)
        X, labels = make_data(CPU_BATCH)
        hand = HandMLP(param_list(model.state_dict()), ACTIVATION, X, labels)
        steps = {NUMPY: hand.step, TINYGRAD_CPU: tinygrad_step(model, tg.Tensor(X), tg.Tensor(labels))}
        timings = harness.interleaved(steps, config.repeats(CPU_REPEATS), config.warmup)
        reference = timings[NUMPY].median
        cpu_row = harness.timing_row(workload, TINYGRAD_CPU, timings[TINYGRAD_CPU], reference)
        speedup = cpu_row.value / cuda_medians[CPU_BATCH]
        harness.check(
            cpu_row, speedup >= MIN_SPEEDUP_OVER_CPU, f"cuda ≥ {MIN_SPEEDUP_OVER_CPU:g}× faster ({speedup:.1f}×)"
        )
        rows += [harness.timing_row(workload, NUMPY, timings[NUMPY], reference), cpu_row]
    return rows
