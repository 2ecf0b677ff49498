"""python -m benchmarks [--quick] [--only NAME ...] [--out DIR]

Runs the workloads, prints the results as a Markdown table and writes it, with the
machine and the date, to benchmarks/RESULTS.md (DIR/RESULTS.md with --out).
"""

import argparse
import importlib
import os
import sys
import time

from . import harness

# name -> module of benchmarks/; the order of the table
WORKLOADS = ["overhead", "logreg", "mlp", "conv", "transformer", "deep", "memory", "cuda"]

METHOD = """\
How to read it: each figure is the median over repetitions after a warm-up, with the
interquartile range (q1–q3) unless the cell says min–max. "× hand-written" divides by
hand-written NumPy (CuPy for the GPU rows) doing the same work (forward, hand-derived
backward, update) in the same run. NumPy-based contenders are timed in turns in one
process; a turn is four calls in a row, and the first of them, which refills the caches
after the other contender, is not timed. PyTorch (eager) runs at 1 and at 2 threads, in a
block of its own with NumPy timed just before and after; the faster thread count counts
(the figure names it), and its ratio is taken against the mean of those two NumPy
medians. Peak memory is the growth of VmHWM (/proc/self/status) over its value after the
imports, in one fresh process per measurement. A goal is ✓ when the figure meets the bar
written next to it. Where a machine's cores are shared, torch's OpenMP
threads may spin against each other and slow its small steps many times over (the spread
shows it); `OMP_WAIT_POLICY=PASSIVE python -m benchmarks` lets them sleep instead."""


def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[2])
    parser.add_argument(
        "--quick", action="store_true", help="shrink every workload (a smoke run of about half a minute)"
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=WORKLOADS,
        metavar="NAME",
        help=f"run only these workloads ({', '.join(WORKLOADS)})",
    )
    parser.add_argument("--out", metavar="DIR", help="write DIR/RESULTS.md instead of benchmarks/RESULTS.md")
    return parser.parse_args(argv)


def document(rows, config, names, machine, notes, elapsed):
    """The RESULTS.md text: the command, the machine, the table and the notes."""
    mode = "quick (--quick: shrunk workloads, fewer repetitions; indicative only)" if config.quick else "full"
    met = [row.met for row in rows if row.met is not None]
    lines = [
        "# Benchmark results",
        "",
        f"Written by `python -m benchmarks` on {machine['date']}: mode {mode}; workloads {', '.join(names)}; "
        f"{elapsed:.0f} s in all.",
        "",
        "Machine:",
        "",
    ]
    lines += [f"- {key}: {value}" for key, value in machine.items() if key != "date"]
    lines += ["", harness.markdown_table(rows), "", f"Goals met: {sum(met)} of {len(met)}.", ""]
    if config.skipped:
        lines += ["Skipped:", ""] + [f"- {line}" for line in config.skipped] + [""]
    lines += [METHOD, ""]
    lines += [f"- {note}" for note in notes]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    args = parse_args(argv)
    names = args.only or WORKLOADS
    config = harness.Config(quick=args.quick)
    if args.quick:  # a smoke run: torch at one thread count only
        harness.TORCH_THREADS = (1,)
    machine = harness.machine()
    rows, notes = [], []
    started = time.perf_counter()
    for name in names:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"running {name} ...", file=sys.stderr, flush=True)
        workload_started = time.perf_counter()
        rows += module.run(config)
        notes.append(module.NOTE)
        print(f"  {name} took {time.perf_counter() - workload_started:.1f} s", file=sys.stderr, flush=True)
    text = document(rows, config, names, machine, notes, time.perf_counter() - started)
    directory = args.out or os.path.join(harness.ROOT, "benchmarks")
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "RESULTS.md")
    with open(path, "w", encoding="utf-8") as results:
        results.write(text)
    print(text)
    print(f"written to {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
