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

NOTE = (
    "deep: the overhead chain (×1.01, +0.01, tanh on a (16,) float32 tensor) made 1,000,000 "
    "ops long, then sum and backward; each of the 3 repetitions in a fresh process, the "
    "contenders in turns; memory is the peak growth divided by the number of ops."
)


def measure(contender, n_ops):
    """In this (fresh) process: seconds for forward and backward and the peak memory growth."""
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


def run(config):
    if not harness.has_proc_status():
        config.skip("deep: skipped: peak memory is read from /proc/self/status, which this system lacks")
        return []
    n_ops = QUICK_OPS if config.quick else N_OPS
    time_workload = f"deep: chain of {n_ops:,} ops, fwd+bwd"
    memory_workload = f"deep: chain of {n_ops:,} ops, peak memory"
    contenders = [NUMPY, TINYGRAD]
    if harness.version_of("torch") != "absent":
        contenders.append(TORCH)  # in processes of its own: its threads cannot slow the others
    results = {name: [] for name in contenders}
    failures = {}
    for _ in range(QUICK_REPEATS if config.quick else REPEATS):
        for name in contenders:
            if name in failures:
                continue
            try:
                results[name].append(harness.run_child("deep", name, n_ops, timeout=900))
            except (RuntimeError, TimeoutError) as error:
                failures[name] = str(error).strip().splitlines()[-1]

    time_rows, memory_rows = [], []
    for name in contenders:
        if name in failures:
            time_rows.append(harness.Row(time_workload, name, f"failed: {failures[name]}"))
            memory_rows.append(harness.Row(memory_workload, name, "failed"))
            continue
        times = harness.Timing([r["total"] for r in results[name]])
        row = harness.timing_row(time_workload, name, times)
        row.spread = _min_max(times.samples, harness.format_seconds)
        if name != NUMPY:
            forward = float(np.median([r["forward"] for r in results[name]]))
            backward = float(np.median([r["backward"] for r in results[name]]))
            row.figure += f" (fwd {harness.format_seconds(forward)}, bwd {harness.format_seconds(backward)})"
        time_rows.append(row)
        memory = harness.Timing([r["bytes_per_node"] for r in results[name]])
        memory_rows.append(
            harness.Row(memory_workload, name, _per_node(memory.median), _min_max(memory.samples, _per_node),
                        value=memory.median)
        )
    if TORCH not in contenders:
        time_rows.append(harness.Row(time_workload, TORCH, "absent"))
    harness.set_ratios(time_rows)
    harness.set_ratios(memory_rows)
    done = TINYGRAD not in failures
    for row in time_rows + memory_rows:
        if row.contender == TINYGRAD:
            harness.check(row, done, "completes" if row.workload == time_workload else "reports bytes per node")
    return time_rows + memory_rows


if __name__ == "__main__":
    print(json.dumps(measure(sys.argv[1], int(sys.argv[2]))))
