"""Time :func:`fecflow.parse.iter_blocks` over a generated itcont file (median of 3 passes).

    python bench/gen_itcont.py --rows 2000000 --seed 42 --out bench/data/itcont_2000000.txt
    python bench/parse_bench.py bench/data/itcont_2000000.txt

Each pass reads the file from disk (page cache) through iter_blocks, as the staging layer would,
including the running sha256. Prints lines/s and MB/s.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from fecflow.catalog import get_file_spec
from fecflow.parse import DEFAULT_BLOCK_SIZE, ParseStats, iter_blocks


def run_once(path: Path, file_type: str, block_size: int) -> tuple[float, ParseStats]:
    stats = ParseStats()
    started = time.perf_counter()
    with path.open("rb", buffering=0) as fh:
        for _block in iter_blocks(fh, get_file_spec(file_type), block_size=block_size, stats=stats):
            pass
    return time.perf_counter() - started, stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark fecflow.parse.iter_blocks.")
    parser.add_argument("path", type=Path, nargs="?", default=Path("bench/data/itcont_2000000.txt"))
    parser.add_argument("--file-type", default="indiv")
    parser.add_argument("--block-size", type=int, default=DEFAULT_BLOCK_SIZE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)

    times = []
    stats = ParseStats()
    for _ in range(args.repeat):
        elapsed, stats = run_once(args.path, args.file_type, args.block_size)
        times.append(elapsed)
    median = statistics.median(times)
    print(
        f"lines={stats.lines} rejected={stats.rejected} recoded={stats.recoded} bytes={stats.bytes_read} "
        f"blocks={stats.blocks} block_size={args.block_size}"
    )
    print(
        f"median {median:.3f}s of {[round(t, 3) for t in times]}: "
        f"{stats.lines / median:,.0f} lines/s, {stats.bytes_read / median / 1e6:,.0f} MB/s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
