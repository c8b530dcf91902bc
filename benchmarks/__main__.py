"""`make bench`: every benchmark of DESIGN.md 5, one after another, each printing its own figures."""

from __future__ import annotations

import sys

from benchmarks import plan_bench, run_bench, simulate_bench


def main() -> int:
    results = [simulate_bench.main(), run_bench.main([]), plan_bench.main()]
    return max(results)


if __name__ == "__main__":
    sys.exit(main())
