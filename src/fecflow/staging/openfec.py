"""Store OpenFEC API pages verbatim in ``staging.openfec_payload`` with a resumable cursor.

Each page and the pull's new cursor are written in one transaction, so after a crash the pull
resumes exactly after the last stored page: no gap, no duplicate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from fecflow.sources.openfec import Cursor, OpenFecClient, normalize_params

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PullResult:
    pull_id: int
    endpoint: str
    pages: int  # pages stored by this call
    rows: int  # rows stored by this call
    total_pages: int
    total_rows: int
    resumed: bool
    done: bool


def find_open_pull(
    conn: psycopg.Connection, endpoint: str, params: Mapping[str, Any]
) -> tuple[int, Cursor | None] | None:
    """The newest unfinished pull of the same endpoint and filters, with its cursor."""
    row = conn.execute(
        "SELECT pull_id, cursor FROM ops.api_pull WHERE endpoint = %s AND params = %s AND status <> 'done' "
        "ORDER BY pull_id DESC LIMIT 1",
        (endpoint, Jsonb(dict(params))),
    ).fetchone()
    conn.commit()
    if row is None:
        return None
    return int(row[0]), (Cursor.from_dict(row[1]) if row[1] else None)


def pull_to_staging(
    conn: psycopg.Connection,
    client: OpenFecClient,
    *,
    endpoint: str,
    params: Mapping[str, Any],
    run_id: int | None,
    restart: bool = False,
    max_pages: int | None = None,
    per_page: int = 100,
    on_page: Callable[[int, int], None] | None = None,
) -> PullResult:
    """Pull ``endpoint`` with ``params`` into staging, resuming an unfinished pull of the same filters.

    ``max_pages`` stops after that many pages (the pull stays resumable), used by tests and to spread
    a large pull over several runs within a rate limit.
    """
    filters = normalize_params(params)
    existing = None if restart else find_open_pull(conn, endpoint, filters)
    if existing is not None:
        pull_id, cursor = existing
        resumed = True
        log.info("resuming OpenFEC pull %d of %s", pull_id, endpoint)
    else:
        row = conn.execute(
            "INSERT INTO ops.api_pull (endpoint, params, run_id) VALUES (%s, %s, %s) RETURNING pull_id",
            (endpoint, Jsonb(filters), run_id),
        ).fetchone()
        assert row is not None
        conn.commit()
        pull_id, cursor, resumed = int(row[0]), None, False
    pages = rows = 0
    stopped_early = False
    for page in client.iter_pages(endpoint, filters, cursor, per_page=per_page):
        with conn.transaction():
            number_row = conn.execute(
                "UPDATE ops.api_pull SET pages = pages + 1, rows = rows + %s, cursor = %s, updated_at = now(), "
                "status = CASE WHEN %s THEN 'done' ELSE 'running' END WHERE pull_id = %s RETURNING pages",
                (len(page.results), Jsonb(page.next_cursor.to_dict()), page.next_cursor.done, pull_id),
            ).fetchone()
            assert number_row is not None
            conn.execute(
                "INSERT INTO staging.openfec_payload (pull_id, page_number, endpoint, request_params, response, "
                "cursor, row_count) VALUES (%s, %s, %s, %s, %s, %s, %s)",
                (
                    pull_id,
                    number_row[0],
                    endpoint,
                    Jsonb(page.params),
                    Jsonb(page.data),
                    Jsonb(page.cursor.to_dict()),
                    len(page.results),
                ),
            )
        conn.commit()
        pages += 1
        rows += len(page.results)
        if on_page is not None:
            on_page(pages, rows)
        if max_pages is not None and pages >= max_pages and not page.next_cursor.done:
            stopped_early = True
            break
    if not stopped_early:
        conn.execute(
            "UPDATE ops.api_pull SET status = 'done', updated_at = now() WHERE pull_id = %s", (pull_id,)
        )
    totals = conn.execute(
        "SELECT pages, rows, status FROM ops.api_pull WHERE pull_id = %s", (pull_id,)
    ).fetchone()
    assert totals is not None
    conn.commit()
    return PullResult(
        pull_id, endpoint, pages, rows, int(totals[0]), int(totals[1]), resumed, done=totals[2] == "done"
    )
