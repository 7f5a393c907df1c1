"""Whole answers replayed from memory while the data version holds, and recomputed once a run writes."""

from __future__ import annotations

import time
from collections.abc import Callable

import psycopg
from fastapi.testclient import TestClient

from fecflow.db.ops.records import finish_run, start_run
from fecflow.web.app import create_app


def test_a_warm_page_is_replayed_and_a_new_run_makes_it_stale(make_db: Callable[[], str]) -> None:
    url = make_db()  # migrated, no runs yet: its own database, so the shared demo server is untouched
    app = create_app(url)
    with TestClient(app) as client:
        first = client.get("/api/runs")
        again = client.get("/api/runs")
        assert first.status_code == again.status_code == 200
        assert "x-fecflow-cache" not in first.headers
        assert again.headers["x-fecflow-cache"] == "hit" and again.content == first.content
        assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
        assert client.get("/api/runs?page=1").headers.get("x-fecflow-cache") is None  # another key

        with psycopg.connect(url, autocommit=True) as conn:
            run_id = start_run(conn, "backfill", {"why": "test"})
            finish_run(conn, run_id, "succeeded")
        time.sleep(1.1)  # the data version is re-read at most once a second
        fresh = client.get("/api/runs")
        assert fresh.status_code == 200 and "x-fecflow-cache" not in fresh.headers
        assert [r["run_id"] for r in fresh.json()["runs"]] == [run_id]
        assert client.get("/api/runs").headers["x-fecflow-cache"] == "hit"


def test_errors_and_non_get_requests_are_never_replayed(make_db: Callable[[], str]) -> None:
    app = create_app(make_db())
    with TestClient(app) as client:
        for _ in range(2):
            missing = client.get("/api/entity/employer/NO SUCH EMPLOYER")
            assert missing.status_code == 404 and "x-fecflow-cache" not in missing.headers
            head = client.head("/api/runs")
            assert "x-fecflow-cache" not in head.headers
