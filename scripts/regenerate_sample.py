"""Regenerate the shipped sample register from the simulator.

Writes ``make_register(**SAMPLE_ARGS)`` (default knobs) as

* Parquet into ``src/turnover_risk/datasets/data/`` (what ``load_sample()`` reads), and
* CSV into ``data/sample/`` (for people who want to look at or edit the files), with the
  register's metadata (generator, arguments, ``observation_start``/``observation_end``) in
  ``data/sample/metadata.json``, so ``read_register("data/sample")`` rates the same window as
  ``load_sample()``. ``load_sample()`` takes its metadata from ``SAMPLE_ARGS`` and needs no file.

Run from anywhere: ``python scripts/regenerate_sample.py``; ``--parquet-dir`` and ``--csv-dir``
write elsewhere (e.g. to compare a fresh run with the shipped files byte by byte).
``tests/datasets/test_datasets.py`` checks that both copies equal ``make_register(**SAMPLE_ARGS)``,
so rerun this script after any change to the simulator or its default knobs.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from turnover_risk import make_register, validate, write_register
from turnover_risk.datasets import SAMPLE_ARGS

ROOT = Path(__file__).resolve().parents[1]
PARQUET_DIR = ROOT / "src" / "turnover_risk" / "datasets" / "data"
CSV_DIR = ROOT / "data" / "sample"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parquet-dir", type=Path, default=PARQUET_DIR)
    parser.add_argument("--csv-dir", type=Path, default=CSV_DIR)
    args = parser.parse_args(argv)
    register = make_register(**SAMPLE_ARGS)
    report = validate(register)
    if not report.ok:
        print(report)
        raise SystemExit("the simulated sample does not pass validate(); not writing it")
    # the package copy carries no metadata.json: load_sample() builds it from SAMPLE_ARGS
    write_register(register.replace(metadata={}), args.parquet_dir, format="parquet")
    write_register(register, args.csv_dir, format="csv")
    for folder in (args.parquet_dir, args.csv_dir):
        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
        print(f"wrote {folder} ({size / 1e6:.2f} MB)")
    print(register)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
