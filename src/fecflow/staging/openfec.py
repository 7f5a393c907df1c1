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

from fecflow.db import ops
from fecflow.sources.openfec import Cursor, OpenFecClient, Page, normalize_params

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
    pull = ops.open_api_pull(conn, endpoint, params)
    conn.commit()
    if pull is None:
        return None
    return pull.pull_id, (Cursor.from_dict(pull.cursor) if pull.cursor else None)


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
        log.info("resuming OpenFEC pull %d of %s", pull_id, endpoint)
    else:
        pull_id, cursor = ops.start_api_pull(conn, endpoint, filters, run_id), None
        conn.commit()
    pages = rows = 0
    stopped_early = False
    for page in client.iter_pages(endpoint, filters, cursor, per_page=per_page):
        _store_page(conn, pull_id, endpoint, page)
        pages += 1
        rows += len(page.results)
        if on_page is not None:
            on_page(pages, rows)
        if max_pages is not None and pages >= max_pages and not page.next_cursor.done:
            stopped_early = True
            break
    totals = ops.finish_api_pull(conn, pull_id, done=not stopped_early)
    conn.commit()
    return PullResult(
        pull_id, endpoint, pages, rows, totals.pages, totals.rows, existing is not None, done=totals.status == "done"
    )


def _store_page(conn: psycopg.Connection, pull_id: int, endpoint: str, page: Page) -> None:
    """One page verbatim and the pull's new cursor, in one transaction: a crash leaves no gap."""
    with conn.transaction():
        number = ops.advance_api_pull(
            conn, pull_id, rows=len(page.results), cursor=page.next_cursor.to_dict(), done=page.next_cursor.done
        )
        conn.execute(
            "INSERT INTO staging.openfec_payload (pull_id, page_number, endpoint, request_params, response, "
            "cursor, row_count) VALUES (%(pull_id)s, %(number)s, %(endpoint)s, %(params)s, %(response)s, "
            "%(cursor)s, %(rows)s)",
            {
                "pull_id": pull_id,
                "number": number,
                "endpoint": endpoint,
                "params": Jsonb(page.params),
                "response": Jsonb(page.data),
                "cursor": Jsonb(page.cursor.to_dict()),
                "rows": len(page.results),
            },
        )
    conn.commit()
