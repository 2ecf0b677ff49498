"""A deep chain: 1,000,000 elementwise ops (×1.01, +0.01, tanh, repeated) on a (16,)
float32 tensor, then sum and backward. It checks that backward needs no recursion and
measures what one node of the graph costs in time and in memory.

Every measurement runs in a fresh process (`python -m benchmarks.deep CONTENDER N_OPS`),
the contenders in turns, so that each reads its own peak resident memory: the growth of
VmHWM over its value after the imports, divided by the number of ops (bytes per node).
Hand-written NumPy keeps what its backward needs (the tanh outputs) in a list.
"""

import gc
import json
import sys
import time

import numpy as np

from . import harness
from .harness import NUMPY, TINYGRAD, TORCH
from .overhead import chain, numpy_chain

N_OPS = 1_000_000
QUICK_OPS = 10_000
REPEATS = 3
QUICK_REPEATS = 1
MAX_TIME_VERSUS_TORCH = 0.6
MAX_BYTES_PER_NODE = 700

NOTE = (
    "deep: the overhead chain (×1.01, +0.01, tanh on a (16,) float32 tensor) made 1,000,000 "
    "ops long, then sum and backward; each of the 3 repetitions in a fresh process, the "
    "contenders in turns; memory is the peak growth divided by the number of ops."
)


def measure(contender, n_ops, threads=None):
    """In this (fresh) process: seconds for forward and backward and the peak memory growth
    (`threads`: torch's thread count)."""
    x0 = np.random.default_rng(0).standard_normal(16).astype(np.float32)
    if contender == NUMPY:
        base = harness.proc_status_kib("VmHWM")
        start = time.perf_counter()
        numpy_chain(x0, n_ops)
        forward = backward = None
        total = time.perf_counter() - start
    else:
        if contender == TINYGRAD:
            import tinygrad_edu as tg

            x = tg.Tensor(x0, requires_grad=True)
        else:
            import torch

            torch.set_num_threads(int(threads))
            x = torch.tensor(x0, requires_grad=True)
        gc.collect()
        base = harness.proc_status_kib("VmHWM")
        start = time.perf_counter()
        loss = chain(x, n_ops).sum()
        middle = time.perf_counter()
        loss.backward()
        end = time.perf_counter()
        forward, backward, total = middle - start, end - middle, end - start
    peak_bytes = (harness.proc_status_kib("VmHWM") - base) * 1024
    return {"forward": forward, "backward": backward, "total": total, "bytes_per_node": peak_bytes / n_ops}


def _min_max(samples, unit):
    return f"{unit(min(samples))}–{unit(max(samples))} (min–max)"


def _per_node(n_bytes):
    return f"{n_bytes:.0f} B/node"


def _measure_all(contenders, n_ops, repeats):
    """{contender: [measurements]} and {contender: why it failed}, the contenders in turns,
    each measurement in a fresh process. torch runs at 1 and at 2 threads."""
    runs = [(name, None) for name in contenders if name != TORCH]
    runs += [(TORCH, threads) for threads in harness.TORCH_THREADS if TORCH in contenders]
    results, failures = {run: [] for run in runs}, {}
    for _ in range(repeats):
        for name, threads in runs:
            if name in failures:
                continue
            try:
                args = (name, n_ops) if threads is None else (name, n_ops, threads)
                results[(name, threads)].append(harness.run_child("deep", *args, timeout=900))
            except (RuntimeError, TimeoutError) as error:
                failures[name] = str(error).strip().splitlines()[-1]
    best = {}
    for (name, threads), measured in results.items():
        if measured and (name not in best or np.median([r["total"] for r in measured]) < best[name][0]):
            best[name] = (float(np.median([r["total"] for r in measured])), measured, threads)
    return {name: (measured, threads) for name, (_, measured, threads) in best.items()}, failures


def _rows(name, measured, threads, time_workload, memory_workload):
    """The time row and the memory row of one contender."""
    times = harness.Timing([r["total"] for r in measured])
    row = harness.timing_row(time_workload, name, times)
    row.spread = _min_max(times.samples, harness.format_seconds)
    if name != NUMPY:
        forward = float(np.median([r["forward"] for r in measured]))
        backward = float(np.median([r["backward"] for r in measured]))
        row.figure += f" (fwd {harness.format_seconds(forward)}, bwd {harness.format_seconds(backward)})"
    if threads is not None:
        row.figure += f" ({threads} thread{'s' if threads > 1 else ''})"
    memory = harness.Timing([r["bytes_per_node"] for r in measured])
    memory_row = harness.Row(
        memory_workload, name, _per_node(memory.median), _min_max(memory.samples, _per_node), value=memory.median
    )
    return row, memory_row


def run(config):
    if not harness.has_proc_status():
        config.skip("deep: skipped: peak memory is read from /proc/self/status, which this system lacks")
        return []
    n_ops = QUICK_OPS if config.quick else N_OPS
    time_workload = f"deep: chain of {n_ops:,} ops, fwd+bwd"
    memory_workload = f"deep: chain of {n_ops:,} ops, peak memory"
    contenders = [NUMPY, TINYGRAD] + ([TORCH] if harness.version_of("torch") != "absent" else [])
    measured, failures = _measure_all(contenders, n_ops, QUICK_REPEATS if config.quick else REPEATS)
    time_rows, memory_rows = [], []
    for name in contenders:
        if name in failures:
            time_rows.append(harness.Row(time_workload, name, f"failed: {failures[name]}"))
            memory_rows.append(harness.Row(memory_workload, name, "failed"))
            continue
        row, memory_row = _rows(name, *measured[name], time_workload, memory_workload)
        time_rows.append(row)
        memory_rows.append(memory_row)
    if TORCH not in contenders:
        time_rows.append(harness.Row(time_workload, TORCH, "absent"))
    harness.set_ratios(time_rows)
    harness.set_ratios(memory_rows)
    _check_goals(time_rows, memory_rows)
    return time_rows + memory_rows


def _check_goals(time_rows, memory_rows):
    """At most MAX_TIME_VERSUS_TORCH × PyTorch's time (or completing, without PyTorch) and
    at most MAX_BYTES_PER_NODE."""
    ours = next(row for row in time_rows if row.contender == TINYGRAD)
    torch = next((row for row in time_rows if row.contender == TORCH and row.value), None)
    if ours.value is None:
        harness.check(ours, False, "completes")
    elif torch is None:
        harness.check(ours, True, "completes (PyTorch absent)")
    else:
        versus = ours.value / torch.value
        harness.check(ours, versus <= MAX_TIME_VERSUS_TORCH, f"≤ {MAX_TIME_VERSUS_TORCH}× PyTorch ({versus:.2f}×)")
    memory = next(row for row in memory_rows if row.contender == TINYGRAD)
    if memory.value is not None:
        harness.check(memory, memory.value <= MAX_BYTES_PER_NODE, f"≤ {MAX_BYTES_PER_NODE} B/node")


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]), *sys.argv[3:])))
