"""flowengine's benchmark harness (issue 8).

Run it from the repository root with ``python -m bench`` (or ``python -m bench --quick``
for a smoke run). Every figure is measured side by side with its baseline in one run,
interleaved, and reported as medians and ratios; see ``bench/README.md``.
"""
