"""How every figure is measured, and how the table is written.

- NumPy-based contenders (hand-written NumPy, tinygrad_edu) are timed in turns in one
  process (`interleaved`): a slow spell of the machine hits every contender alike, so
  their ratio stays fair. A turn is a short run of calls, and its first call is not
  timed: it refills the caches that the other contender's calls have just evicted, a
  cost that a training loop, where each step follows a step of the same model, never
  pays. Strict call-by-call turns would charge it to every call, most to the contender
  with the most Python code.
- PyTorch is timed in a block of its own, with hand-written NumPy measured just before
  and after (`torch_block`): torch's worker threads keep spinning after each call and
  would slow a NumPy call that ran in between.
- A figure is the median over repetitions after a warm-up, with its spread (the
  interquartile range, q1–q3), and a ratio to hand-written NumPy from the same run.
- Peak memory is read from /proc/self/status of one subprocess per measurement (`run_child`).

The garbage collector stays on, as in user code: collecting is part of what a library of
Python objects costs.
"""

import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass, field

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository

NUMPY = "NumPy (hand-written)"
TINYGRAD = "tinygrad_edu"
TORCH = "PyTorch"

# how long torch's worker threads may spin after its last call before NumPy is timed again
TORCH_SETTLE_S = 0.5

# calls in one contender's turn; the first refills the caches and is not timed
RUN = 4

# torch is timed at each of these thread counts, and the faster counts
TORCH_THREADS = (1, 2)


# ---------------------------------------------------------------------- configuration
@dataclass
class Config:
    """What a run measures: `quick` shrinks every workload; `repeats(n)` is the number
    of timed repetitions for a workload that asks for n in a full run."""

    quick: bool = False
    skipped: list = field(default_factory=list)  # lines saying what did not run and why

    def repeats(self, full):
        return max(5, full // 6) if self.quick else full

    @property
    def warmup(self):
        return 1 if self.quick else 3

    def skip(self, line):
        print(line, flush=True)
        self.skipped.append(line)


# ---------------------------------------------------------------------- statistics
@dataclass
class Timing:
    """Seconds per call over the timed repetitions."""

    samples: list

    @property
    def median(self):
        return float(np.median(self.samples))

    @property
    def q1(self):
        return float(np.percentile(self.samples, 25))

    @property
    def q3(self):
        return float(np.percentile(self.samples, 75))

    def scaled(self, factor):
        """The same timing in another unit (e.g. per op: factor = 1 / ops)."""
        return Timing([s * factor for s in self.samples])


def _clock(step):
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def interleaved(steps, repeats, warmup, run=RUN):
    """Time each step of `steps` (name -> callable) in turns, the order rotating every
    round: a turn is `run` calls in a row, the first of them untimed (it refills the
    caches after the other steps). Returns name -> Timing of `repeats` calls each."""
    names = list(steps)
    for _ in range(warmup):
        for name in names:
            steps[name]()
    gc.collect()
    samples = {name: [] for name in names}
    for r in range(-(-repeats // (run - 1))):
        shift = r % len(names)
        for name in names[shift:] + names[:shift]:
            step = steps[name]
            step()
            samples[name] += [_clock(step) for _ in range(run - 1)]
    return {name: Timing(samples[name][:repeats]) for name in names}


def timed(step, repeats, warmup):
    """Time one step on its own: a median over `repeats` calls after `warmup` calls."""
    return interleaved({"step": step}, repeats, warmup, run=repeats + 1)["step"]  # one turn: nothing evicts it


def torch_block(numpy_step, torch_step, repeats, warmup):
    """Hand-written NumPy, then torch at 1 and at 2 threads, then NumPy again, each in a
    block of its own. On two cores torch's best thread count depends on the workload, so
    the faster of the two counts.

    Returns (torch Timing, its thread count, NumPy reference in seconds): the reference is
    the mean of the two NumPy medians, which is what torch's ratio is taken against.
    """
    import torch

    before = timed(numpy_step, repeats, warmup)
    default_threads = torch.get_num_threads()
    best = None
    for threads in TORCH_THREADS:
        torch.set_num_threads(threads)
        timing = timed(torch_step, repeats, warmup)
        if best is None or timing.median < best[0].median:
            best = (timing, threads)
    torch.set_num_threads(default_threads)
    time.sleep(TORCH_SETTLE_S)
    after = timed(numpy_step, repeats, warmup)
    return best[0], best[1], (before.median + after.median) / 2


def torch_or_none():
    """The torch module when PyTorch is installed, else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def compare(workload, numpy_step, steps, torch_step, repeats, warmup, scale=1.0, suffix=""):
    """Time hand-written NumPy against NumPy-based `steps` (name -> callable), interleaved,
    then `torch_step` in its own block (None: PyTorch is absent). Returns name -> Row,
    with NumPy under NUMPY and torch under TORCH; `scale` converts seconds per call into
    the unit shown (e.g. 1/100 for per op), `suffix` names it ("/op")."""
    timings = interleaved({NUMPY: numpy_step, **steps}, repeats, warmup)
    reference = timings[NUMPY].median * scale
    rows = {
        name: timing_row(workload, name, timing.scaled(scale), reference, suffix=suffix)
        for name, timing in timings.items()
    }
    if torch_step is None:
        rows[TORCH] = Row(workload, TORCH, "absent")
    else:
        timing, threads, torch_reference = torch_block(numpy_step, torch_step, repeats, warmup)
        rows[TORCH] = timing_row(workload, TORCH, timing.scaled(scale), torch_reference * scale, suffix=suffix)
        rows[TORCH].figure += f" ({threads} thread{'s' if threads > 1 else ''})"
    return rows


def run_child(module, *args, timeout=600):
    """Run `python -m benchmarks.<module> *args` in a fresh process and return the JSON
    object it prints on its last line of output."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])))
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", *map(str, args)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmarks.{module} {' '.join(map(str, args))} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def proc_status_kib(field_name):
    """A memory figure of this process (VmHWM: peak resident; VmRSS: resident now) in KiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"/proc/self/status has no {field_name} line")


def has_proc_status():
    return os.path.exists("/proc/self/status")


# ---------------------------------------------------------------------- formatting
def format_seconds(seconds):
    """A duration with a unit that keeps three significant digits readable."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def format_bytes(n_bytes):
    """A size in binary units (1 MiB = 1024 KiB = 1,048,576 bytes)."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if abs(n_bytes) >= scale:
            return f"{n_bytes / scale:.3g} {unit}"
    return f"{n_bytes:.0f} B"


@dataclass
class Row:
    """One line of the results table: one figure of one contender on one workload."""

    workload: str
    contender: str
    figure: str  # the median, with its unit
    spread: str = "—"  # q1–q3, or min–max where stated
    ratio: float | None = None  # × hand-written NumPy (CuPy on the GPU) of the same run
    goal: str = ""  # "✓ ≤ 1.10×" when the figure meets its bar, "✗ ..." when not
    met: bool | None = None
    value: float | None = None  # the median as a number, for ratios

    def cells(self):
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}×"
        return [self.workload, self.contender, self.figure, self.spread, ratio, self.goal or ""]


def timing_row(workload, contender, timing, reference=None, unit=format_seconds, suffix=""):
    """A Row for a Timing: median and IQR in `unit`, ratio to `reference` seconds."""
    ratio = None if reference is None else timing.median / reference
    spread = f"{unit(timing.q1)}–{unit(timing.q3)}"
    return Row(workload, contender, unit(timing.median) + suffix, spread, ratio, value=timing.median)


def set_ratios(rows):
    """Fill each row's ratio from its value and the value of the hand-written NumPy row."""
    reference = next((row.value for row in rows if row.contender == NUMPY), None)
    for row in rows:
        if reference and row.value is not None:
            row.ratio = row.value / reference


def check(row, met, bar):
    """Mark `row` with its goal: `bar` is what it must meet, e.g. "≤ 1.10× NumPy"."""
    row.met = bool(met)
    row.goal = ("✓ " if met else "✗ ") + bar
    return row


HEADER = ["workload", "contender", "median", "spread (q1–q3)", "× hand-written", "goal"]


def markdown_table(rows):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join("---" for _ in HEADER) + "|"]
    lines += ["| " + " | ".join(row.cells()) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------- the machine
def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas():
    """The BLAS behind NumPy: from threadpoolctl when present, else np.show_config."""
    try:
        import threadpoolctl
    except ImportError:
        threadpoolctl = None
    if threadpoolctl is not None:
        for pool in threadpoolctl.threadpool_info():
            if pool["user_api"] == "blas":
                architecture = pool.get("architecture") or "?"
                return f"{pool['internal_api']} {pool['version']} ({architecture}, {pool['num_threads']} threads)"
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas['name']} {blas.get('version', '')}".strip()
    except Exception:  # older NumPy has no mode="dicts"
        return "unknown"


def version_of(module_name):
    """The version of an installed module, or "absent"."""
    try:
        module = __import__(module_name)
    except ImportError:
        return "absent"
    return getattr(module, "__version__", "installed")


def _torch_description():
    torch = torch_or_none()
    if torch is None:
        return "absent"
    policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    return f"{torch.__version__} ({torch.get_num_threads()} threads, OMP_WAIT_POLICY {policy})"


def machine():
    """name -> value lines describing where the figures were taken."""
    return {
        "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "CPU": f"{_cpu_model()}, {os.cpu_count()} cores",
        "Python": platform.python_version(),
        "NumPy": np.__version__,
        "BLAS": _blas(),
        "PyTorch": _torch_description(),
        "micrograd": version_of("micrograd"),
        "CuPy": version_of("cupy"),
    }
