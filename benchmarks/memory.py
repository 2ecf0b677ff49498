"""Memory of the training step: the MLP 784-256-128-10 (ReLU) SGD step at batch 256.

Each measurement runs in a fresh process (`python -m benchmarks.memory CONTENDER STEPS`),
the contenders in turns. Peak: the growth of VmHWM (peak resident memory, from
/proc/self/status) over its value after the imports, so it counts the data, the weights,
the BLAS workspace and everything one step holds at once; ru_maxrss would not do, as it
carries the parent's peak across exec. Soak: resident memory (VmRSS) after step 100 and
after step 2,000. Backward frees the graph, so a training loop must not grow.
"""

import json
import sys

from . import harness
from .harness import NUMPY, TINYGRAD

BATCH = 256
STEPS = 2000
QUICK_STEPS = 100
REPEATS = 3
QUICK_REPEATS = 2
MAX_PEAK_RATIO = 1.5
# A leaked graph of this step holds about 1 MB, so 1,900 leaked steps would grow by
# gigabytes; the allowance is for the allocator's own bookkeeping.
MAX_GROWTH_KIB = 1024

NOTE = (
    f"memory: the mlp ReLU step at batch {BATCH}; peak = growth of VmHWM over its value after the imports "
    f"(data, weights, BLAS workspace and one step); soak = VmRSS after step {STEPS} minus after step "
    f"{STEPS // 20} (quick: {QUICK_STEPS} and {QUICK_STEPS // 20}), allowed to grow by at most "
    f"{MAX_GROWTH_KIB} KiB. Each figure is the median of {REPEATS} fresh processes, min–max shown."
)


def measure(contender, steps):
    """In this (fresh) process: peak growth and RSS at the early and last step, in KiB."""
    import numpy as np

    import tinygrad_edu as tg  # imported by both contenders, so that both start from the same base

    from . import mlp

    base = harness.proc_status_kib("VmHWM")
    X, labels = mlp.make_data(BATCH)
    if contender == NUMPY:
        rng = np.random.default_rng(0)
        params = []
        for n_in, n_out in zip(mlp.SIZES[:-1], mlp.SIZES[1:]):
            bound = 1 / np.sqrt(n_in)
            params += [rng.uniform(-bound, bound, size).astype(np.float32) for size in ((n_out, n_in), (n_out,))]
        step = mlp.HandMLP(params, "ReLU", X, labels).step
    else:
        tg.manual_seed(0)
        step = mlp.tinygrad_step(mlp.tinygrad_model("ReLU"), tg.Tensor(X), tg.Tensor(labels))
    early = steps // 20
    for i in range(1, steps + 1):
        step()
        if i == early:
            rss_early = harness.proc_status_kib("VmRSS")
    return {
        "peak_kib": harness.proc_status_kib("VmHWM") - base,
        "growth_kib": harness.proc_status_kib("VmRSS") - rss_early,
    }


def _kib(value):
    return harness.format_bytes(value * 1024)


def run(config):
    if not harness.has_proc_status():
        config.skip("memory: skipped: it reads /proc/self/status, which this system lacks")
        return []
    steps = QUICK_STEPS if config.quick else STEPS
    repeats = QUICK_REPEATS if config.quick else REPEATS
    results = {NUMPY: [], TINYGRAD: []}
    for _ in range(repeats):
        for name in results:
            results[name].append(harness.run_child("memory", name, steps))

    peak_workload = f"memory: mlp ReLU step, batch {BATCH}, peak"
    growth_workload = f"memory: RSS growth, step {steps // 20} → {steps}"
    peak_rows, growth_rows = [], []
    for name, runs in results.items():
        peaks = harness.Timing([r["peak_kib"] for r in runs])
        growths = harness.Timing([r["growth_kib"] for r in runs])
        peak_rows.append(
            harness.Row(
                peak_workload,
                name,
                _kib(peaks.median),
                f"{_kib(min(peaks.samples))}–{_kib(max(peaks.samples))} (min–max)",
                value=peaks.median,
            )
        )
        growth_rows.append(
            harness.Row(
                growth_workload,
                name,
                _kib(growths.median),
                f"{_kib(min(growths.samples))}–{_kib(max(growths.samples))} (min–max)",
                value=max(growths.samples),
            )
        )
    harness.set_ratios(peak_rows)
    peak, growth = peak_rows[1], growth_rows[1]
    harness.check(peak, peak.ratio <= MAX_PEAK_RATIO, f"≤ {MAX_PEAK_RATIO}× NumPy")
    harness.check(growth, growth.value <= MAX_GROWTH_KIB, f"every run ≤ {_kib(MAX_GROWTH_KIB)}")
    return peak_rows + growth_rows


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
