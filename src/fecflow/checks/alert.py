"""Tell someone when a run fails a validation gate: one JSON POST to ``FECFLOW_ALERT_WEBHOOK``.

The body::

    {"run_id": 12, "gate": "staging", "failed_checks": [<CheckResult JSON>, ...],
     "hint": "fecflow runs show 12"}

* At most one alert per run: a sent alert is recorded in the run's ``validate`` audit (``counts.alert``)
  and a second failing gate of the same run does not send another.
* A webhook that fails (timeout, connection refused, HTTP error) is logged, never raised: the run
  already failed for a better reason, and that error must reach the user.
* The URL usually carries a token (in the query or the path). It is never logged: log lines name only
  the redacted origin (``scheme://host:port``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg

from fecflow.checks.result import CheckResult
from fecflow.config import Settings, redact_url
from fecflow.db import ops

log = logging.getLogger(__name__)

ALERT_TIMEOUT_S = 5.0
MAX_CHECKS_IN_ALERT = 50


def alert_target(url: str) -> str:
    """What may be logged about the webhook: its redacted origin, never its path or query."""
    parts = urlsplit(redact_url(url))
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def build_alert(run_id: int, gate: str, failed: Sequence[CheckResult]) -> dict[str, Any]:
    checks = [r.to_json() for r in failed[:MAX_CHECKS_IN_ALERT]]
    payload: dict[str, Any] = {
        "run_id": run_id,
        "gate": gate,
        "failed_checks": checks,
        "hint": f"fecflow runs show {run_id}",
    }
    if len(failed) > MAX_CHECKS_IN_ALERT:
        payload["failed_checks_omitted"] = len(failed) - MAX_CHECKS_IN_ALERT
    return payload


def send_alert(settings: Settings, payload: dict[str, Any], *, client: httpx.Client | None = None) -> bool:
    """POST ``payload`` to the webhook; True when it answered 2xx. Logs failures, never raises."""
    if settings.alert_webhook is None:
        return False
    url = settings.alert_webhook.get_secret_value()
    target = alert_target(url)
    try:
        if client is None:
            with httpx.Client(timeout=ALERT_TIMEOUT_S, follow_redirects=False) as own:
                response = own.post(url, json=payload)
        else:
            response = client.post(url, json=payload, timeout=ALERT_TIMEOUT_S)
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        # The exception text may quote the URL: log its type only.
        log.error(
            "validation alert for run %s to %s failed: %s", payload.get("run_id"), target, type(exc).__name__
        )
        return False
    if not response.is_success:
        log.error(
            "validation alert for run %s to %s failed: HTTP %d",
            payload.get("run_id"),
            target,
            response.status_code,
        )
        return False
    log.info("validation alert for run %s sent to %s", payload.get("run_id"), target)
    return True


def alert_failed_run(
    conn: psycopg.Connection,
    settings: Settings,
    *,
    run_id: int,
    gate: str,
    failed: Sequence[CheckResult],
    client: httpx.Client | None = None,
) -> bool:
    """Send the run's one alert (unless none is configured or it was sent already); record the outcome."""
    if settings.alert_webhook is None:
        log.debug("no FECFLOW_ALERT_WEBHOOK: no alert for run %d", run_id)
        return False
    if ops.alert_sent(conn, run_id):
        conn.commit()
        log.info("run %d: validation alert already sent; not sending another", run_id)
        return False
    conn.commit()
    sent = send_alert(settings, build_alert(run_id, gate, failed), client=client)
    ops.record_alert(conn, run_id, sent=sent)
    conn.commit()
    return sent
