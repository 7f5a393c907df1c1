"""The webhook POST: payload, failures logged not raised, the token never logged (real server on 127.0.0.1)."""

from __future__ import annotations

import logging

import httpx
import pytest

from fecflow.checks.alert import alert_target, build_alert, send_alert
from fecflow.checks.result import exactly
from fecflow.config import Settings
from unit.checks.webhook_server import TOKEN, WebhookServer

FAILED = [exactly("accounting.lines_balance", "indiv:2020 source_file=4", 70_571, 70_671, "lost rows")]


def settings(url: str | None) -> Settings:
    return Settings(_env_file=None, alert_webhook=url)


def test_payload_shape() -> None:
    payload = build_alert(12, "staging", FAILED)
    assert payload == {
        "run_id": 12,
        "gate": "staging",
        "failed_checks": [FAILED[0].to_json()],
        "hint": "fecflow runs show 12",
    }
    many = build_alert(12, "staging", FAILED * 60)
    assert len(many["failed_checks"]) == 50 and many["failed_checks_omitted"] == 10


def test_posts_json_to_the_webhook(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="fecflow")
    with WebhookServer() as server:
        assert send_alert(settings(server.url), build_alert(12, "staging", FAILED)) is True
        (post,) = server.posts
    assert post.headers["content-type"] == "application/json"
    assert post.body["failed_checks"][0]["observed"] == 70_571
    assert post.query == f"token={TOKEN}"
    assert TOKEN not in caplog.text and "/hooks/fecflow" not in caplog.text
    assert "sent to http://127.0.0.1:" in caplog.text


def test_an_injected_client_is_used() -> None:
    with WebhookServer() as server, httpx.Client() as client:
        assert send_alert(settings(server.url), {"run_id": 1}, client=client) is True
        assert len(server.posts) == 1


@pytest.mark.parametrize("status", [404, 500])
def test_error_status_is_logged_not_raised(status: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="fecflow")
    with WebhookServer(status=status) as server:
        assert send_alert(settings(server.url), {"run_id": 3}) is False
    (record,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"HTTP {status}" in record.getMessage()
    assert TOKEN not in caplog.text


def test_unreachable_webhook_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="fecflow")
    with WebhookServer() as server:
        url = server.url
    assert send_alert(settings(url), {"run_id": 3}) is False  # the server is gone
    assert "ConnectError" in caplog.text and TOKEN not in caplog.text


def test_unusable_url_and_no_webhook() -> None:
    assert send_alert(settings("notaurl://x"), {"run_id": 3}) is False
    assert send_alert(settings(None), {"run_id": 3}) is False


def test_alert_target_hides_path_query_and_password() -> None:
    assert alert_target(f"https://user:pw@hooks.example.com:8443/services/T0/B0/{TOKEN}?token={TOKEN}") == (
        "https://hooks.example.com:8443"
    )
