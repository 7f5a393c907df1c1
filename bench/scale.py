"""``make bench-scale``: how the end-to-end backfill and each of its steps grow with the row count.

    python bench/scale.py --scales 2000000,8000000,16000000

For each scale, bench/run.py generates a file whose distinct employers and donors grow as in the real
2020 sample (``--vocabulary heaps``, bench/gen_itcont.py) and runs the ``copy_baseline`` and
``backfill`` rows once. The table gives, per step, the seconds at each scale and the log-log slope
between the smallest and the largest scale (1.0 = linear), plus the client's peak RSS and the bytes
per row of the database and of its staging, core and scores tables (indexes included). It exits 1,
after printing everything, when a step's slope is above 1.1 or the RSS above 300 MB (issue #18's goals).
Steps shorter than 1 s at the largest scale are shown but not judged (their slope is noise).
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
MAX_SLOPE = 1.1
MAX_RSS_MB = 300.0
MIN_JUDGED_S = 1.0


def run_scale(rows: int, out: Path, seed: int) -> dict[str, Any]:
    subprocess.run(
        [sys.executable, str(BENCH_DIR / "run.py"), "--rows", str(rows), "--seed", str(seed), "--repeat", "1",
         "--stages", "copy_baseline,backfill", "--no-explorer", "--vocabulary", "heaps", "--output", str(out)],
        check=True,
    )  # fmt: skip
    results = {r["stage"]: r for r in json.loads(out.read_text())}
    backfill = results["backfill"]
    steps = {name: v["seconds"] for name, v in backfill.get("steps", {}).items()}
    return {
        "rows": rows,
        "copy": results["copy_baseline"]["seconds"],
        "backfill": backfill["seconds"],
        "steps": steps,
        "rss_mb": backfill["peak_rss_mb"],
        "load": max(backfill["loadavg_1m"]),
        "db_bytes": backfill.get("db_bytes", {}),
    }


def slope(a: float, b: float, n_a: int, n_b: int) -> float:
    return math.log(b / a) / math.log(n_b / n_a) if a > 0 and b > 0 else float("nan")


def report(points: list[dict[str, Any]]) -> list[str]:
    """Print the table; return the broken goals."""
    first, last = points[0], points[-1]
    names = ["copy", "backfill", *last["steps"]]

    def seconds(p: dict[str, Any], name: str) -> float:
        return float(p[name] if name in ("copy", "backfill") else p["steps"].get(name, 0.0))

    print(f"\n{'step':<20}" + "".join(f"{p['rows']:>12,}" for p in points) + f"{'slope':>8}")
    broken = []
    for name in names:
        s = slope(seconds(first, name), seconds(last, name), first["rows"], last["rows"])
        judged = seconds(last, name) >= MIN_JUDGED_S and name != "copy"
        flag = " !" if judged and s > MAX_SLOPE else ""
        print(f"{name:<20}" + "".join(f"{seconds(p, name):>11.2f}s" for p in points) + f"{s:>8.2f}{flag}")
        if flag:
            broken.append(f"{name} grows with slope {s:.2f} (> {MAX_SLOPE})")
    print(f"{'rows/s (backfill)':<20}" + "".join(f"{p['rows'] / p['backfill']:>12,.0f}" for p in points))
    print(f"{'client RSS MB':<20}" + "".join(f"{p['rss_mb']:>12.0f}" for p in points))
    for part in ("database", "staging", "core", "scores"):
        label = f"{part} bytes/row"
        print(f"{label:<20}" + "".join(f"{p['db_bytes'].get(part, 0) / p['rows']:>12,.0f}" for p in points))
    print(f"{'load (1 min)':<20}" + "".join(f"{p['load']:>12.1f}" for p in points))
    broken += [f"client RSS {p['rss_mb']:.0f} MB at {p['rows']:,} rows (> {MAX_RSS_MB:.0f})"
               for p in points if p["rss_mb"] > MAX_RSS_MB]  # fmt: skip
    return broken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fecflow cost growth: backfill and its steps at several scales.")
    parser.add_argument("--scales", default="2000000,8000000,16000000", help="comma-separated row counts")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "scale.json")
    args = parser.parse_args(argv)
    scales = sorted(int(s) for s in args.scales.split(",") if s.strip())
    if len(scales) < 2:
        parser.error("give at least two scales")
    work = Path(tempfile.mkdtemp(prefix="fecflow-bench-scale-"))
    points = [run_scale(rows, work / f"scale_{rows}.json", args.seed) for rows in scales]
    broken = report(points)
    args.output.write_text(json.dumps(points, indent=2) + "\n")
    print(f"wrote {args.output}")
    if broken:
        print("GOALS MISSED: " + "; ".join(broken))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
