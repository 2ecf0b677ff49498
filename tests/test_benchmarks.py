"""The benchmarks must keep running: `python -m benchmarks --quick --out DIR` in a
subprocess writes DIR/RESULTS.md with the machine, the date and a well-formed table.
The timings themselves are not checked (they depend on the machine)."""

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COLUMNS = ["workload", "contender", "median", "spread (q1–q3)", "× hand-written", "goal"]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    # one BLAS thread: pytest -n 2 runs another test on the second core, and two BLAS
    # threads fighting it slow a GEMM many times over (the figures are not checked here)
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"python -m benchmarks --quick failed:\n{done.stderr[-3000:]}"
    path = out / "RESULTS.md"
    assert path.exists(), f"--out {out} should write RESULTS.md there; stderr:\n{done.stderr[-1000:]}"
    return {"text": path.read_text(encoding="utf-8"), "stdout": done.stdout}


def table_rows(text):
    """The cells of each row of the Markdown table, header first, without the rule."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert lines, "RESULTS.md has no table"
    assert re.fullmatch(r"\|(---\|)+", lines[1]), f"the second table line should be the rule, got {lines[1]!r}"
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in [lines[0]] + lines[2:]]


def test_header_names_machine_date_and_peers(results):
    text = results["text"]
    assert re.search(r"on \d{4}-\d{2}-\d{2} \d{2}:\d{2}", text), "the date of the run is missing"
    for key in ("CPU", "NumPy", "BLAS", "PyTorch", "micrograd", "CuPy"):
        assert re.search(rf"^- {key}: \S", text, re.M), f"the machine line {key!r} is missing"
    assert "mode quick" in text, "a --quick run must say so"


def test_table_is_well_formed(results):
    header, *rows = table_rows(results["text"])
    assert header == COLUMNS
    assert len(rows) >= 20, f"expected a row per contender and workload, got {len(rows)}"
    for row in rows:
        assert len(row) == len(COLUMNS), f"row with {len(row)} cells instead of {len(COLUMNS)}: {row}"
        ratio, goal = row[4], row[5]
        assert ratio == "—" or re.fullmatch(r"\d+\.\d\d×", ratio), f"bad ratio cell {ratio!r} in {row}"
        assert goal == "" or re.match(r"[✓✗] \S", goal), f"bad goal cell {goal!r} in {row}"
    workloads = {row[0].split(":")[0].split(",")[0] for row in rows}
    for name in ("overhead", "logreg", "mlp ReLU", "conv LeNet", "transformer", "deep", "memory"):
        assert name in workloads, f"workload {name!r} is missing from the table ({sorted(workloads)})"


def test_every_timed_figure_has_a_ratio_and_spread(results):
    _, *rows = table_rows(results["text"])
    for row in rows:
        workload, contender, median, spread, ratio, _ = row
        if median.startswith("absent"):
            continue  # a peer that is not installed says so, and has no figures
        assert spread != "—", f"{contender} on {workload!r} has no spread"
        if "RSS growth" in workload:
            continue  # a growth is judged against its allowance, not against NumPy's
        assert ratio != "—", f"{contender} on {workload!r} has no ratio to hand-written NumPy"
        if contender == "NumPy (hand-written)":
            assert ratio == "1.00×", f"NumPy's own ratio on {workload!r} is {ratio}"


def test_goals_are_checked(results):
    _, *rows = table_rows(results["text"])
    goals = {(row[0].split(":")[0].split(",")[0], row[5][0]) for row in rows if row[1] == "tinygrad_edu" and row[5]}
    names = {name for name, _ in goals}
    for name in ("overhead", "logreg", "mlp ReLU", "conv LeNet", "transformer", "deep", "memory"):
        assert name in names, f"no goal checked for {name!r}"
    assert all(mark in "✓✗" for _, mark in goals)


def test_absent_peers_and_skips_are_reported(results):
    text = results["text"]
    _, *rows = table_rows(text)
    micrograd = [row for row in rows if row[1].startswith("micrograd")]
    assert micrograd, "the overhead table must show micrograd, even when it is absent"
    try:
        import cupy  # noqa: F401
    except ImportError:
        assert "cuda: skipped: " in text and "cuda: skipped: " in results["stdout"], (
            "without CuPy the cuda workload must say it was skipped and why"
        )
