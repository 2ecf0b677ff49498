"""Benchmarks of tinygrad_edu against hand-written NumPy and the peers that are installed.

Run `python -m benchmarks` (or `make bench`); see `benchmarks/__main__.py` for the options
and `benchmarks/harness.py` for how each figure is measured.
"""
