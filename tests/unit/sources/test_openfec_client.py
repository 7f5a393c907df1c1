"""OpenFecClient against recorded OpenFEC pages served on 127.0.0.1: pagination, resume, limits, keys."""

from __future__ import annotations

import datetime as dt
import json
import logging
import socket
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from fecflow.errors import ApiKeyError, ConfigError, SourceError, TransientSourceError
from fecflow.sources.http import RetryPolicy
from fecflow.sources.openfec import DEMO_KEY, Cursor, OpenFecClient, Page
from support.http_server import SCHEDULE_A_PATH, Fault

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openfec"
SCHEDULE_A_ROWS = json.loads((FIXTURES / "schedules__schedule_a.json").read_text())["results"]
ALL_SUB_IDS = sorted(r["sub_id"] for r in SCHEDULE_A_ROWS)
NULL_DATE_SUB_IDS = sorted(r["sub_id"] for r in SCHEDULE_A_ROWS if r["contribution_receipt_date"] == "1900-01-01")
CANDIDATE_IDS = [r["candidate_id"] for r in json.loads((FIXTURES / "candidates.json").read_text())["results"]]


def make_client(server, http_client, api_key, sleeper, **kwargs) -> OpenFecClient:
    policy = RetryPolicy(max_attempts=4, backoff_base=0.1, backoff_max=1.0, timeout=10.0, sleep=sleeper)
    return OpenFecClient(http_client, server.api_base_url, api_key, policy=policy, **kwargs)


def sub_ids(pages: list[Page]) -> list[str]:
    return [row["sub_id"] for page in pages for row in page.results]


@pytest.fixture
def client(fec_server, http_client, api_key, sleeper) -> OpenFecClient:
    return make_client(fec_server, http_client, api_key, sleeper)


# --- keys -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("key", [None, SecretStr(""), SecretStr("   ")])
def test_missing_api_key_is_refused(http_client, key):
    with pytest.raises(ApiKeyError) as err:
        OpenFecClient(http_client, "http://127.0.0.1:9/v1", key)
    assert "FECFLOW_OPENFEC_API_KEY" in (err.value.hint or "")


def test_demo_key_is_refused_for_backfill_only(fec_server, http_client, sleeper):
    with pytest.raises(ApiKeyError, match="DEMO_KEY"):
        make_client(fec_server, http_client, SecretStr(DEMO_KEY), sleeper, purpose="backfill")
    client = make_client(fec_server, http_client, SecretStr(DEMO_KEY), sleeper, purpose="incremental")
    assert next(client.iter_candidates(per_page=5)).results


def test_rejected_key_is_an_api_key_error_without_retries(fec_server, client, api_key):
    fec_server.api.invalid_keys.add(api_key.get_secret_value())
    with pytest.raises(ApiKeyError, match="API_KEY_INVALID"):
        list(client.iter_candidates())
    assert len(fec_server.requests_for("/v1/candidates/")) == 1


# --- page-numbered ----------------------------------------------------------------------------------
def test_candidates_page_numbered_stops_at_pagination_pages(fec_server, client, api_key):
    pages = list(client.iter_candidates(per_page=7))
    assert [len(p.results) for p in pages] == [7, 7, 6]
    assert [row["candidate_id"] for p in pages for row in p.results] == CANDIDATE_IDS
    requests = fec_server.requests_for("/v1/candidates/")
    assert [r.param("page") for r in requests] == ["1", "2", "3"]  # never asks for page 4
    assert all(r.param("per_page") == "7" and r.param("api_key") == api_key.get_secret_value() for r in requests)
    assert pages[-1].next_cursor.done and not pages[0].next_cursor.done
    assert pages[1].cursor.page == 2 and pages[1].params == {"per_page": "7", "page": "2"}


def test_committees_and_page_numbered_resume(fec_server, http_client, api_key, sleeper):
    client = make_client(fec_server, http_client, api_key, sleeper)
    first = next(client.iter_committees(per_page=8, designation="P"))
    saved = first.next_cursor.to_json()
    with httpx.Client() as other_http:
        resumed = list(make_client(fec_server, other_http, api_key, sleeper).iter_committees(
            per_page=8, designation="P", cursor=Cursor.from_json(saved)))
    assert [p.cursor.page for p in resumed] == [2, 3]
    ids = [r["committee_id"] for p in [first, *resumed] for r in p.results]
    assert len(ids) == 20 and len(set(ids)) == 20
    assert all(r.param("designation") == "P" for r in fec_server.requests_for("/v1/committees/"))


# --- keyset -----------------------------------------------------------------------------------------
def test_schedule_a_keyset_pull_with_null_pass(fec_server, client):
    pages = list(client.iter_schedule_a(per_page=5))
    ids = sub_ids(pages)
    assert sorted(ids) == ALL_SUB_IDS and len(ids) == len(set(ids)) == 20  # no gap, no duplicate
    assert [(p.pass_number, len(p.results)) for p in pages] == [
        (1, 5), (1, 5), (1, 5), (1, 3), (1, 0), (2, 2), (2, 0)
    ]
    assert sorted(r["sub_id"] for p in pages if p.pass_number == 2 for r in p.results) == NULL_DATE_SUB_IDS
    # pass 1 arrives in the server's (descending date) order
    dates = [r["contribution_receipt_date"] for p in pages if p.pass_number == 1 for r in p.results]
    assert dates == sorted(dates, reverse=True)
    # count is an under-estimate; the client went on until the empty pages anyway
    assert pages[0].data["pagination"]["count"] < 20
    assert pages[-1].next_cursor.done

    requests = fec_server.requests_for(SCHEDULE_A_PATH)
    assert len(requests) == 7
    assert requests[0].param("last_index") is None
    for request, previous in zip(requests[1:4], pages[0:3], strict=True):
        sent_back = previous.data["pagination"]["last_indexes"]
        assert set(sent_back) == {"last_index", "last_contribution_receipt_date"}
        assert {k: request.param(k) for k in sent_back} == {k: str(v) for k, v in sent_back.items()}
    assert [r.param("sort_null_only") for r in requests] == [None] * 5 + ["true"] * 2
    assert requests[6].param("last_index") == str(pages[5].data["pagination"]["last_indexes"]["last_index"])
    assert fec_server.protocol_errors == []


def test_schedule_a_ascending_sort_and_filters(fec_server, client):
    committees = ["C00557835", "C00003418", "C00401224"]
    pages = list(client.iter_schedule_a(per_page=2, sort="contribution_receipt_date", committee_id=committees,
                                        two_year_transaction_period=2014, min_date=dt.date(2010, 1, 1)))
    expected = sorted(r["sub_id"] for r in SCHEDULE_A_ROWS if r["committee_id"] in committees)
    assert sorted(sub_ids(pages)) == expected and len(sub_ids(pages)) == len(expected)
    dates = [r["contribution_receipt_date"] for p in pages if p.pass_number == 1 for r in p.results]
    assert dates == sorted(dates)
    first = fec_server.requests_for(SCHEDULE_A_PATH)[0]
    assert first.query["committee_id"] == committees
    assert first.param("two_year_transaction_period") == "2014" and first.param("min_date") == "2010-01-01"
    assert first.param("sort") == "contribution_receipt_date"
    assert fec_server.protocol_errors == []


@pytest.mark.parametrize("stop_after", [1, 2, 3, 4, 5, 6])
def test_crash_mid_pull_then_resume_from_json_cursor(fec_server, http_client, api_key, sleeper, stop_after):
    full = sub_ids(list(make_client(fec_server, http_client, api_key, sleeper).iter_schedule_a(per_page=5)))

    stored: list[Page] = []
    saved_cursor = None
    for page in make_client(fec_server, http_client, api_key, sleeper).iter_schedule_a(per_page=5):
        stored.append(page)  # "store the page and its cursor in one transaction"
        saved_cursor = json.dumps(page.next_cursor.to_dict())
        if len(stored) == stop_after:
            break  # the process dies here
    assert saved_cursor is not None

    with httpx.Client() as fresh_http:  # a new process: new HTTP client, new API client
        fresh = make_client(fec_server, fresh_http, api_key, sleeper)
        resumed = list(fresh.iter_schedule_a(per_page=5, cursor=Cursor.from_dict(json.loads(saved_cursor))))

    union = sub_ids(stored) + sub_ids(resumed)
    assert union == full  # same rows, same order: no gap, no duplicate
    assert fec_server.protocol_errors == []


def test_cursor_round_trips_through_json():
    cursor = Cursor("schedule_a", pass_number=2, last_indexes={"last_index": 63048025, "sort_null_only": True},
                    params_digest="abc")
    assert Cursor.from_json(cursor.to_json()) == cursor
    assert json.loads(cursor.to_json())["last_indexes"]["last_index"] == 63048025
    with pytest.raises(SourceError):
        Cursor.from_json('{"endpoint": "schedule_a", "surprise": 1}')
    with pytest.raises(SourceError):
        Cursor.from_json("not json")


def test_cursor_of_another_pull_is_refused(fec_server, client):
    page = next(client.iter_schedule_a(per_page=5, committee_id="C00557835"))
    with pytest.raises(SourceError, match="another pull"):
        client.iter_schedule_a(per_page=5, committee_id="C00000001", cursor=page.next_cursor)
    with pytest.raises(SourceError, match="another pull"):
        client.iter_committees(cursor=page.next_cursor)
    done = Cursor("schedule_a", done=True)
    assert list(client.iter_schedule_a(per_page=5, cursor=done)) == []


def test_managed_and_bad_parameters_are_refused_eagerly(client):
    with pytest.raises(ConfigError, match="managed"):
        client.iter_pages("schedule_a", {"api_key": "x"})
    with pytest.raises(ConfigError, match="managed"):
        client.iter_pages("schedule_a", {"last_index": 5})
    with pytest.raises(ConfigError, match="Unknown OpenFEC endpoint"):
        client.iter_pages("schedule_b")
    with pytest.raises(ConfigError):
        client.iter_candidates(per_page=0)


def test_per_page_is_capped_at_100(fec_server, client):
    pages = list(client.iter_schedule_a(per_page=500))
    assert {r.param("per_page") for r in fec_server.requests_for(SCHEDULE_A_PATH)} == {"100"}
    assert sorted(sub_ids(pages)) == ALL_SUB_IDS


# --- rate limits and faults ------------------------------------------------------------------------
def test_low_remaining_quota_pauses_before_the_next_request(fec_server, http_client, api_key, sleeper):
    fec_server.api.rate_remaining = 6
    client = make_client(fec_server, http_client, api_key, sleeper, min_remaining=3, low_quota_pause=42.0)
    pages = list(client.iter_candidates(per_page=4))
    assert [p.rate_limit_remaining for p in pages] == [5, 4, 3, 2, 1]
    assert sleeper.calls == [42.0]  # once: before page 5, when only 2 (< 3) requests were left
    assert len(fec_server.requests_for("/v1/candidates/")) == 5


def test_429_backs_off_with_retry_after_and_continues(fec_server, client, sleeper):
    pages = []
    for page in client.iter_schedule_a(per_page=5):
        pages.append(page)
        if len(pages) == 2:
            fec_server.script(SCHEDULE_A_PATH, Fault.rate_limited("3"), Fault.error(502))
    assert sorted(sub_ids(pages)) == ALL_SUB_IDS and len(sub_ids(pages)) == 20
    assert sleeper.calls[0] == 3.0 and len(sleeper.calls) == 2
    raws = [r.raw for r in fec_server.requests_for(SCHEDULE_A_PATH)]
    assert raws[2] == raws[3] == raws[4]  # the same page was asked for again
    assert fec_server.protocol_errors == []


def test_persistent_server_errors_surface_as_transient(fec_server, client):
    fec_server.script("/v1/candidates/", *[Fault.error(500)] * 4)
    with pytest.raises(TransientSourceError, match="gave up after 4 attempts") as err:
        list(client.iter_candidates())
    assert err.value.retryable


# --- the key never leaks -----------------------------------------------------------------------------
def _exception_texts(exc: BaseException) -> list[str]:
    texts = []
    seen: BaseException | None = exc
    while seen is not None:
        texts += [str(seen), repr(seen), repr(seen.args), str(getattr(seen, "hint", ""))]
        seen = seen.__cause__ or seen.__context__
    return texts


def test_api_key_never_appears_in_pages_cursors_exceptions_or_logs(fec_server, http_client, api_key, sleeper,
                                                                    caplog):
    caplog.set_level(logging.DEBUG)
    # Other tests configure logging (httpx at WARNING); this one needs httpx's own request lines.
    caplog.set_level(logging.DEBUG, logger="httpx")
    secret = api_key.get_secret_value()
    client = make_client(fec_server, http_client, api_key, sleeper, min_remaining=2)
    fec_server.api.rate_remaining = 8
    texts: list[str] = [repr(client)]

    # a full keyset pull with a crash/resume, a 429 and a 500 on the way
    pages: list[Page] = []
    for page in client.iter_schedule_a(per_page=5):
        pages.append(page)
        if len(pages) == 1:
            fec_server.script(SCHEDULE_A_PATH, Fault.rate_limited("1"), Fault.error(500))
        if len(pages) == 3:
            break
    resumed = make_client(fec_server, http_client, api_key, sleeper)
    pages += list(resumed.iter_schedule_a(per_page=5, cursor=Cursor.from_json(pages[-1].next_cursor.to_json())))
    assert sorted(sub_ids(pages)) == ALL_SUB_IDS
    pages += list(client.iter_candidates(per_page=10))
    for page in pages:
        texts += [repr(page), page.url, json.dumps(page.params), json.dumps(page.data), page.next_cursor.to_json()]

    # errors: exhausted retries, refused connection, rejected key
    errors: list[BaseException] = []
    fec_server.script(SCHEDULE_A_PATH, *[Fault.error(503)] * 4)
    with pytest.raises(TransientSourceError) as e1:
        list(client.iter_schedule_a(per_page=5))
    errors.append(e1.value)
    with socket.socket() as sock:  # bound, not listening: refused, and held so nobody else takes it
        sock.bind(("127.0.0.1", 0))
        dead_port = sock.getsockname()[1]
        dead = OpenFecClient(http_client, f"http://127.0.0.1:{dead_port}/v1", api_key,
                             policy=RetryPolicy(max_attempts=2, sleep=sleeper))
        with pytest.raises(TransientSourceError) as e2:
            list(dead.iter_candidates())
    errors.append(e2.value)
    fec_server.api.invalid_keys.add(secret)
    with pytest.raises(ApiKeyError) as e3:
        list(client.iter_committees())
    errors.append(e3.value)
    for exc in errors:
        texts += _exception_texts(exc)

    assert caplog.records, "expected log lines (retries, pauses, httpx requests)"
    for record in caplog.records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(logging.Formatter().formatException(record.exc_info))
    assert any("api_key=***" in r.getMessage() for r in caplog.records if r.name == "httpx")

    leaks = [t for t in texts if secret in t]
    assert leaks == []
    # ...while the key was really sent on every request
    api_requests = [r for r in fec_server.requests if r.path.startswith("/v1/")]
    assert api_requests and all(r.param("api_key") == secret for r in api_requests)
