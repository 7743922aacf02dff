"""Time ``make_register`` on a national-scale register.

About 100 000 employees over 6 years need ``n_units`` of about 5 500 (8 positions per unit,
about 21 % annual turnover). Run::

    python benchmarks/bench_simulator.py               # national: 5 500 units x 6 years
    python benchmarks/bench_simulator.py --n-units 400 --years 2

Prints the wall-clock time, the table sizes and the peak memory of the process.
"""

from __future__ import annotations

import argparse
import resource
import time

from turnover_risk import make_register


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Time make_register at national scale.")
    parser.add_argument("--n-units", type=int, default=5500)
    parser.add_argument("--years", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth", action="store_true", help="also return the truth")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    out = make_register(
        n_units=args.n_units, years=args.years, random_state=args.seed, return_truth=args.truth
    )
    seconds = time.perf_counter() - t0
    register = out[0] if args.truth else out
    persons = register.employment["employee_id"].nunique()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"make_register(n_units={args.n_units}, years={args.years}): {seconds:.1f} s")
    print(f"{persons} employees; {register}")
    print(f"peak memory {peak_mb:.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
