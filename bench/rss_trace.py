"""Where a benchmark's client memory grows: ``FECFLOW_BENCH_RSS_TRACE=FILE python bench/run.py ...``.

In each measured child, a thread samples the resident set (``/proc/self/statm``) every 50 ms; at every
new peak at least 15 MB above the last one it appends the seconds since the start, the RSS and the
main thread's stack (fecflow and bench frames) to FILE. Peak RSS says how much; this says where (how
issue #18's memory holders were found: ``docs/data/ingestion.md``, section 5). Linux only; the
sampling itself costs well under 1% of a core.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback
from pathlib import Path

ENV = "FECFLOW_BENCH_RSS_TRACE"
STEP_MB = 15.0
INTERVAL_S = 0.05
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    fields = Path("/proc/self/statm").read_text().split()
    return int(fields[1]) * _PAGE / 2**20


def _frames(main_id: int | None) -> list[str]:
    frame = sys._current_frames().get(main_id) if main_id is not None else None
    if frame is None:
        return []
    return [
        f"   {f.filename.split('/src/')[-1]}:{f.lineno} {f.name}"
        for f in traceback.extract_stack(frame)
        if "fecflow" in f.filename or "bench" in f.filename
    ]


def start(path: Path, label: str) -> None:
    """Start the sampling thread (a daemon: it ends with the process)."""
    main_id = threading.main_thread().ident
    started = time.perf_counter()

    def sample() -> None:
        peak = 0.0
        with path.open("a", encoding="utf-8") as out:
            out.write(f"=== {label}\n")
            while True:
                rss = _rss_mb()
                if rss > peak + STEP_MB:
                    peak = rss
                    lines = [f"--- {time.perf_counter() - started:.1f}s rss {rss:.0f} MB", *_frames(main_id)]
                    out.write("\n".join(lines) + "\n")
                    out.flush()
                time.sleep(INTERVAL_S)

    threading.Thread(target=sample, name="rss-trace", daemon=True).start()


def start_from_env(label: str) -> None:
    """:func:`start` when ``FECFLOW_BENCH_RSS_TRACE`` names a file."""
    target = os.environ.get(ENV)
    if target:
        start(Path(target), label)
