"""The explorer row of ``make bench``: page latency on the demo database, then a bounded load.

    python bench/explorer.py                 # or: python bench/run.py --explorer-only
    python bench/explorer.py --clients 50 --seconds 30 --output bench/explorer.json

1. starts a private embedded PostgreSQL, migrates it, loads the demo as ``make demo`` does (the
   bundled 2020 sample through ``fecflow backfill`` from the local mirror, then three month-end as-of
   dates) and starts ``fecflow serve`` on a free 127.0.0.1 port;
2. per page type, requests ``--samples`` distinct pages one at a time: the first view of each
   entity (``cold``: read from the database; the lines were stored at score time) and a second view
   (``warm``: the whole answer replayed from memory, valid until the next run);
3. ``--clients`` concurrent clients request a mix of all page types for ``--seconds``, through
   ``wrk`` when it is installed (``--client python``: the in-process httpx client, which spends
   much of the CPU it measures);
4. a crawl: up to 2,000 entity pages no phase has requested yet, each once, ``--clients`` at a
   time (first views under concurrency: what a search engine or a scraper costs);
5. prints a table and writes ``bench/explorer.json``: per page type p50/p95/max in ms, for the
   load and the crawl the request count, throughput, p50/p95/p99 and errors. Goal: p95 < 100 ms,
   0 errors.

The client runs on the same (possibly shared) machine as the server and the database: its own CPU
time is part of what is measured.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
MIRROR = f"file://{REPO / 'tests' / 'fixtures' / 'bulk'}"
DEMO_FILES = "cm,cn,ccl,indiv,pas2,oth,weball,webk,webl"
GOAL_P95_MS = 100.0
WRK_SCRIPT = BENCH_DIR / "explorer_load.lua"
CRAWL_PAGES = 2000  # first views of entity pages in the crawl phase


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def _fecflow(home: Path, url: str, *args: str, extra: dict[str, str] | None = None) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    env |= {"FECFLOW_HOME": str(home), "FECFLOW_DATABASE_URL": url, "FECFLOW_LOG_DIR": str(home / "logs")}
    env |= extra or {}
    subprocess.run(
        [sys.executable, "-m", "fecflow.cli.app", *args], env=env, cwd=home, check=True, capture_output=True
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def load_demo(home: Path, url: str) -> None:
    from fecflow.scores.method import METHOD_DEFAULT

    _fecflow(home, url, "backfill", "--cycles", "2020", "--files", DEMO_FILES, "--as-of", "2019-03-31",
             extra={"FECFLOW_BULK_BASE_URL": MIRROR})  # fmt: skip
    _fecflow(home, url, "scores", "compute", "--from", "2019-01-31", "--to", "2019-03-31", "--every", "month",
             "--method", METHOD_DEFAULT)  # fmt: skip


def page_sets(client: httpx.Client, samples: int) -> dict[str, list[str]]:
    """``samples`` distinct URLs per page type, picked from the demo's own data."""
    employers = [
        r["entity_id"]
        for r in client.get("/api/search", params={"q": "CORP", "kind": "employer"}).json()["results"]
    ]
    employers += [
        r["entity_id"]
        for r in client.get("/api/search", params={"q": "INC", "kind": "employer"}).json()["results"]
    ]
    top = client.get("/api/home").json()["most_evidence"]
    employers = [r["entity_id"] for r in top if r["entity_type"] == "employer"] + employers
    industries = [
        r["entity_id"]
        for r in client.get("/api/search", params={"q": "A", "kind": "industry"}).json()["results"]
    ]
    committees = [
        r["entity_id"]
        for r in client.get("/api/search", params={"q": "PAC", "kind": "committee"}).json()["results"]
    ]
    candidates = [
        r["entity_id"]
        for q in ("H", "S", "P")
        for r in client.get("/api/search", params={"q": q, "kind": "candidate"}).json()["results"]
    ]
    words = ["micro", "bank", "univ", "google", "law", "health", "C004", "retir", "boeing", "amazon",
             "oracle", "texas", "capital", "energy", "school", "mcdonald", "apple", "ford", "harvard", "state"]  # fmt: skip

    def pick(items: list[str], fmt: str) -> list[str]:
        unique = list(dict.fromkeys(items))[:samples]
        return [fmt.format(quote(i, safe="")) for i in unique]

    return {
        "home": ["/"] * samples,
        "search": [f"/search?q={w}" for w in (words * samples)[:samples]],
        "employer": pick(employers, "/entity/employer/{}"),
        "industry": pick(industries, "/entity/industry/{}"),
        "committee": pick(committees, "/entity/committee/{}"),
        "candidate": pick(candidates, "/entity/candidate/{}"),
        "runs": ["/runs"] * samples,
        "api_search": [f"/api/search?q={w}&format=csv" for w in (words * samples)[:samples]],
    }


def measure_pages(client: httpx.Client, pages: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = []
    for name, urls in pages.items():
        for label in ("cold", "warm"):
            times, errors = [], 0
            for url in urls:
                start = time.perf_counter()
                response = client.get(url)
                times.append((time.perf_counter() - start) * 1000)
                errors += response.status_code != 200
            rows.append(
                {
                    "page": name,
                    "views": label,
                    "requests": len(times),
                    "p50_ms": round(statistics.median(times), 1),
                    "p95_ms": round(_pct(times, 95), 1),
                    "max_ms": round(max(times), 1),
                    "errors": errors,
                }
            )
    return rows


def _load_wrk(base: str, urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    """The load through ``wrk`` (C, one thread): the client costs little of the CPU it measures."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write("\n".join(urls) + "\n")
    try:
        done = subprocess.run(
            ["wrk", "-t1", f"-c{clients}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s", str(WRK_SCRIPT), base],
            env=os.environ | {"FECFLOW_WRK_URLS": f.name}, capture_output=True, text=True, check=True,
        )  # fmt: skip
    finally:
        os.unlink(f.name)
    line = next(x for x in done.stdout.splitlines() if x.startswith("FECFLOW_WRK "))
    w = json.loads(line.removeprefix("FECFLOW_WRK "))
    elapsed = w["duration_us"] / 1e6
    socket_errors = w["connect"] + w["read"] + w["write"] + w["timeout"]
    return {
        "client": "wrk",
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": w["requests"],
        "per_s": round(w["requests"] / elapsed, 1),
        "p50_ms": round(w["p50_us"] / 1000, 1),
        "p95_ms": round(w["p95_us"] / 1000, 1),
        "p99_ms": round(w["p99_us"] / 1000, 1),
        "errors": w["not_ok"] + socket_errors,
        "error_kinds": {k: w[k] for k in ("not_ok", "connect", "read", "write", "timeout")},
    }


async def _load(base: str, urls: list[str], clients: int, seconds: float) -> dict[str, Any]:
    times: list[float] = []
    errors = 0
    kinds: Counter[str] = Counter()
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker(offset: int) -> None:
            nonlocal errors
            i = offset
            while time.perf_counter() < deadline:
                url = urls[i % len(urls)]
                i += clients
                start = time.perf_counter()
                try:
                    response = await client.get(url)
                    if response.status_code != 200:
                        errors += 1
                        kinds[f"{response.status_code} {url.split('?')[0]}"] += 1
                except httpx.HTTPError as exc:
                    errors += 1
                    kinds[f"{type(exc).__name__} {url.split('?')[0]}"] += 1
                times.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "client": "python-httpx",
        "clients": clients,
        "seconds": round(elapsed, 1),
        "requests": len(times),
        "per_s": round(len(times) / elapsed, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_pct(times, 95), 1),
        "p99_ms": round(_pct(times, 99), 1),
        "errors": errors,
        "error_kinds": dict(kinds.most_common(10)),
    }


def unseen_entity_pages(url: str, seen: set[str], limit: int) -> list[str]:
    """Entity pages no earlier phase requested: employers, committees, industries and candidates with a score."""
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT s.entity_type, coalesce(e.canonical_name, m.committee_id, i.naics_code, k.candidate_id) "
            "FROM scores.leaning_score s LEFT JOIN core.employer e USING (employer_key) "
            "LEFT JOIN core.committee m ON m.committee_key = s.committee_key LEFT JOIN core.industry i USING (industry_key) "
            "LEFT JOIN core.candidate k ON k.candidate_key = s.candidate_key WHERE s.valid_to IS NULL AND s.score IS NOT NULL "
            "GROUP BY 1, 2 ORDER BY md5(coalesce(e.canonical_name, m.committee_id, i.naics_code, k.candidate_id)) "
            "LIMIT %s",
            (limit + len(seen),),
        ).fetchall()
    pages = [f"/entity/{t}/{quote(i, safe='')}" for t, i in rows]
    return [u for u in pages if u not in seen][:limit]


async def _crawl(base: str, urls: list[str], clients: int) -> dict[str, Any]:
    """Every URL once, ``clients`` at a time: first views of entity pages under concurrency."""
    times: list[float] = []
    kinds: Counter[str] = Counter()
    todo = list(reversed(urls))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:

        async def worker() -> None:
            while todo:
                url = todo.pop()
                start = time.perf_counter()
                try:
                    response = await client.get(url)
                    if response.status_code != 200:
                        kinds[str(response.status_code)] += 1
                except httpx.HTTPError as exc:
                    kinds[type(exc).__name__] += 1
                times.append((time.perf_counter() - start) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "pages": len(times),
        "seconds": round(elapsed, 1),
        "per_s": round(len(times) / elapsed, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_pct(times, 95), 1),
        "p99_ms": round(_pct(times, 99), 1),
        "errors": sum(kinds.values()),
        "error_kinds": dict(kinds),
    }


def run(*, samples: int, clients: int, seconds: float, output: Path, client_kind: str = "auto") -> dict[str, Any]:
    from fecflow.db import migrate
    from fecflow.db.embedded import EmbeddedServer

    root = Path(tempfile.mkdtemp(prefix="fecflow-bench-explorer-"))
    server = EmbeddedServer(root / "pg", fast_unsafe=True)
    proc = None
    try:
        url = server.start().url()
        assert url is not None
        migrate.upgrade(url)
        print("explorer: loading the demo ...", flush=True)
        load_demo(root, url)
        port = _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
        env |= {"FECFLOW_HOME": str(root), "FECFLOW_DATABASE_URL": url, "FECFLOW_LOG_DIR": str(root / "logs")}
        proc = subprocess.Popen(
            [sys.executable, "-m", "fecflow.cli.app", "serve", "--port", str(port)],
            env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30) as client:
            for _ in range(300):
                try:
                    if client.get("/api/runs").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            pages = page_sets(client, samples)
            print("explorer: page latency ...", flush=True)
            latency = measure_pages(client, pages)
        mix = [u for urls in pages.values() for u in urls]
        print(f"explorer: {clients} clients for {seconds:.0f} s ...", flush=True)
        if client_kind == "wrk" or (client_kind == "auto" and shutil.which("wrk")):
            load = _load_wrk(base, mix, clients, seconds)
        else:
            load = asyncio.run(_load(base, mix, clients, seconds))
        unseen = unseen_entity_pages(url, set(mix), CRAWL_PAGES)
        print(f"explorer: {len(unseen)} first views of entity pages, {clients} at a time ...", flush=True)
        crawl = asyncio.run(_crawl(base, unseen, clients))
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        server.destroy()
    result = {
        "latency": latency,
        "load": load,
        "crawl": crawl,
        "goal_p95_ms": GOAL_P95_MS,
        "loadavg_1m": round(os.getloadavg()[0], 1),
    }
    print_table(result)
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {output}")
    return result


def print_table(result: dict[str, Any]) -> None:
    print(f"\n{'page':<11} {'views':<5} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'errors':>6}")
    for r in result["latency"]:
        print(
            f"{r['page']:<11} {r['views']:<5} {r['requests']:>4} {r['p50_ms']:>8} {r['p95_ms']:>8} "
            f"{r['max_ms']:>8} {r['errors']:>6}"
        )
    load = result["load"]
    verdict = "meets" if load["p95_ms"] < GOAL_P95_MS and load["errors"] == 0 else "MISSES"
    print(
        f"\nload ({load['client']}): {load['clients']} clients, {load['seconds']} s: {load['requests']:,} requests "
        f"({load['per_s']}/s), p50 {load['p50_ms']} ms, p95 {load['p95_ms']} ms, p99 {load['p99_ms']} ms, "
        f"errors {load['errors']} ({verdict} the goal p95 < {GOAL_P95_MS:.0f} ms, 0 errors)"
    )
    if load["errors"]:
        print(f"errors by kind: {load['error_kinds']}")
    crawl = result["crawl"]
    print(
        f"crawl: {crawl['pages']:,} first views of entity pages, {crawl['clients']} at a time, {crawl['seconds']} s "
        f"({crawl['per_s']}/s): p50 {crawl['p50_ms']} ms, p95 {crawl['p95_ms']} ms, p99 {crawl['p99_ms']} ms, "
        f"errors {crawl['errors']} {crawl['error_kinds'] or ''}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="fecflow explorer benchmark: page latency and a bounded load."
    )
    parser.add_argument("--samples", type=int, default=20, help="distinct pages per page type")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--output", type=Path, default=BENCH_DIR / "explorer.json")
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load client: wrk (C; Debian package wrk) or the in-process Python client; auto: wrk when installed",
    )
    args = parser.parse_args(argv)
    run(samples=args.samples, clients=args.clients, seconds=args.seconds, output=args.output, client_kind=args.client)
    return 0


if __name__ == "__main__":
    sys.exit(main())
