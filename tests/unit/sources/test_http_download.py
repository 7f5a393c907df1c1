"""download_file against a real HTTP server on 127.0.0.1: retries, resume, checks, conditional GET."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import shutil
import socket
from email.utils import format_datetime
from pathlib import Path

import httpx
import pytest

from fecflow import __version__
from fecflow.config import Settings
from fecflow.errors import HttpStatusError, IntegrityError, RateLimited, SourceError, TransientSourceError
from fecflow.sources.http import (
    RetryPolicy,
    Validators,
    build_http_client,
    download_file,
    sha256_file,
)
from fecflow.sources.http_errors import parse_retry_after
from support.http_server import Fault, FecHttpServer, etag_of

CM = "/files/bulk-downloads/2020/cm20.zip"
INDIV = "/files/bulk-downloads/2020/indiv20.zip"
HEADER = "/files/bulk-downloads/data_dictionaries/cm_header_file.csv"


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_hashes_and_records_validators(fec_server, http_client, policy, served_root, out):
    original = fec_server.file_path(CM)
    dest = out / "out" / "cm20.zip"
    result = download_file(http_client, fec_server.base_url + CM, dest, policy=policy)

    assert dest.read_bytes() == original.read_bytes()
    assert result.sha256 == sha256_file(original)
    assert result.bytes == original.stat().st_size == 509189
    assert result.status == 200 and result.attempts == 1 and not result.not_modified
    assert result.etag == etag_of(original.read_bytes())
    assert result.last_modified is not None
    assert result.path == dest
    assert _leftovers(dest.parent) == ["cm20.zip"]  # no temp file left behind


def test_expected_sha256_is_verified(fec_server, http_client, policy, out):
    good = sha256_file(fec_server.file_path(CM))
    ok = download_file(http_client, fec_server.base_url + CM, out / "a.zip", policy=policy,
                       expected_sha256=good.upper())
    assert ok.sha256 == good

    dest = out / "b" / "cm20.zip"
    with pytest.raises(IntegrityError, match="Checksum mismatch") as err:
        download_file(http_client, fec_server.base_url + CM, dest, policy=policy, expected_sha256="0" * 64)
    assert not err.value.retryable
    assert not dest.exists()
    assert _leftovers(dest.parent) == []


def test_500_then_success_is_retried_with_jittered_backoff(fec_server, http_client, policy, sleeper, out):
    fec_server.script(CM, Fault.error(500), Fault.error(503))
    result = download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    assert result.attempts == 3
    assert len(fec_server.requests_for(CM)) == 3
    assert len(sleeper.calls) == 2
    assert 0 <= sleeper.calls[0] <= 0.5 and 0 <= sleeper.calls[1] <= 1.0  # full jitter under the cap
    assert result.sha256 == sha256_file(fec_server.file_path(CM))


def test_429_honours_retry_after_seconds(fec_server, http_client, policy, sleeper, out):
    fec_server.script(CM, Fault.rate_limited("7"))
    result = download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    assert result.attempts == 2
    assert sleeper.calls == [7.0]


def test_429_honours_retry_after_http_date(fec_server, http_client, policy, sleeper, out):
    when = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=30)
    fec_server.script(CM, Fault.rate_limited(format_datetime(when, usegmt=True)))
    download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    assert len(sleeper.calls) == 1 and 25 <= sleeper.calls[0] <= 31


def test_retry_after_longer_than_allowed_fails_fast(fec_server, http_client, policy, sleeper, out):
    fec_server.script(CM, Fault.rate_limited("3600"))
    with pytest.raises(RateLimited) as err:
        download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    assert err.value.retryable and err.value.retry_after == 3600
    assert sleeper.calls == []
    assert not (out / "cm20.zip").exists()


def test_persistent_5xx_gives_up_after_max_attempts(fec_server, http_client, policy, sleeper, out):
    fec_server.script(CM, *[Fault.error(502)] * 10)
    with pytest.raises(TransientSourceError, match="gave up after 4 attempts") as err:
        download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    assert err.value.retryable
    assert len(fec_server.requests_for(CM)) == 4
    assert len(sleeper.calls) == 3
    assert _leftovers(out) == []


def test_404_is_terminal_and_not_retried(fec_server, http_client, policy, sleeper, out):
    path = "/files/bulk-downloads/2020/nope20.zip"
    with pytest.raises(HttpStatusError) as err:
        download_file(http_client, fec_server.base_url + path, out / "nope20.zip", policy=policy)
    assert err.value.status == 404 and not err.value.retryable and err.value.hint
    assert len(fec_server.requests_for(path)) == 1 and sleeper.calls == []
    assert _leftovers(out) == []


def test_connection_refused_is_transient(http_client, policy, sleeper, out):
    # A port bound but not listening refuses connections; held for the whole call, nobody can take it.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        with pytest.raises(TransientSourceError) as err:
            download_file(http_client, f"http://127.0.0.1:{port}/x.zip", out / "x.zip", policy=policy)
    assert err.value.retryable
    assert len(sleeper.calls) == policy.max_attempts - 1
    assert _leftovers(out) == []


# --- resume -------------------------------------------------------------------------------------------
def test_cut_body_is_resumed_with_range(fec_server, http_client, policy, out):
    original = fec_server.file_path(INDIV)
    size = original.stat().st_size
    fec_server.script(INDIV, Fault.cut_body(0.5))
    result = download_file(http_client, fec_server.base_url + INDIV, out / "indiv20.zip", policy=policy)

    first, second = fec_server.requests_for(INDIV)
    assert "range" not in first.headers
    assert second.headers["range"] == f"bytes={size // 2}-"
    assert second.headers["if-range"] == etag_of(original.read_bytes())
    assert result.sha256 == sha256_file(original)
    assert result.bytes == size and result.attempts == 2 and result.status == 200


def test_body_cut_twice_is_resumed_twice(fec_server, http_client, policy, out):
    original = fec_server.file_path(INDIV)
    size = original.stat().st_size
    fec_server.script(INDIV, Fault.cut_body(0.3), Fault.cut_body(0.5))
    result = download_file(http_client, fec_server.base_url + INDIV, out / "indiv20.zip", policy=policy)
    ranges = [r.headers.get("range") for r in fec_server.requests_for(INDIV)]
    first_cut = int(size * 0.3)
    second_cut = first_cut + int((size - first_cut) * 0.5)
    assert ranges == [None, f"bytes={first_cut}-", f"bytes={second_cut}-"]
    assert result.sha256 == sha256_file(original)


def test_without_accept_ranges_the_download_restarts(served_root, http_client, policy, out):
    with FecHttpServer(served_root, ranges=False) as server:
        server.script(INDIV, Fault.cut_body(0.5))
        result = download_file(http_client, server.base_url + INDIV, out / "indiv20.zip", policy=policy)
        assert [r.headers.get("range") for r in server.requests_for(INDIV)] == [None, None]
        assert result.sha256 == sha256_file(server.file_path(INDIV))


def test_server_ignoring_range_restarts_from_zero_and_resets_hash(fec_server, http_client, policy, out):
    fec_server.script(INDIV, Fault.cut_body(0.4), Fault.ignore_range())
    result = download_file(http_client, fec_server.base_url + INDIV, out / "indiv20.zip", policy=policy)
    assert fec_server.requests_for(INDIV)[1].headers.get("range")  # asked for a range, got a 200
    assert result.sha256 == sha256_file(fec_server.file_path(INDIV))
    assert result.bytes == fec_server.file_path(INDIV).stat().st_size


def test_wrong_content_range_restarts_from_zero(fec_server, http_client, policy, out):
    fec_server.script(INDIV, Fault.cut_body(0.5), Fault.bad_content_range())
    result = download_file(http_client, fec_server.base_url + INDIV, out / "indiv20.zip", policy=policy)
    ranges = [r.headers.get("range") for r in fec_server.requests_for(INDIV)]
    assert ranges[0] is None and ranges[1] is not None and ranges[2] is None
    assert result.attempts == 3
    assert result.sha256 == sha256_file(fec_server.file_path(INDIV))


def test_file_changed_between_attempts_is_restarted(fec_server, http_client, policy, out):
    # After the cut the file is replaced: If-Range no longer matches, the server sends the new file whole.
    fec_server.script(INDIV, Fault.cut_body(0.5))
    target = fec_server.file_path(INDIV)
    new_content = fec_server.file_path(CM).read_bytes()

    class SwapOnSleep:
        def __call__(self, seconds: float) -> None:
            target.write_bytes(new_content)

    swapping = RetryPolicy(max_attempts=3, backoff_base=0.0, sleep=SwapOnSleep())
    result = download_file(http_client, fec_server.base_url + INDIV, out / "indiv20.zip", policy=swapping)
    assert result.sha256 == sha256_file(target)
    assert (out / "indiv20.zip").read_bytes() == new_content


# --- pace: a server that drips bytes under the read timeout -------------------------------------------
def test_a_dripping_server_fails_on_the_minimum_rate_and_leaves_nothing(fec_server, http_client, policy, out):
    fec_server.script(CM, Fault.drip(chunk=256, interval=0.05))
    slow = dataclasses.replace(policy, min_bytes_per_s=20_000.0, rate_grace_s=0.5)
    with pytest.raises(SourceError, match="under the 20,000 bytes/s minimum") as err:
        download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=slow)
    assert not err.value.retryable and "FECFLOW_HTTP_MIN_RATE" in (err.value.hint or "")
    assert len(fec_server.requests_for(CM)) == 1  # terminal: not retried
    assert _leftovers(out) == []


def test_a_download_past_its_deadline_fails_even_while_bytes_arrive(fec_server, http_client, policy, out):
    fec_server.script(CM, Fault.drip(chunk=4096, interval=0.05))
    bounded = dataclasses.replace(policy, deadline=0.5)
    with pytest.raises(SourceError, match="exceeded its 0 s deadline|exceeded its 1 s deadline"):
        download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=bounded)
    assert _leftovers(out) == []


def test_the_pace_limits_come_from_settings() -> None:
    policy = RetryPolicy.from_settings(Settings(http_deadline=99.0, http_min_rate=7.0))
    assert (policy.deadline, policy.min_bytes_per_s) == (99.0, 7.0)


# --- integrity --------------------------------------------------------------------------------------
def test_declared_length_too_long_fails_and_leaves_nothing(fec_server, http_client, policy, out):
    fec_server.script(CM, *[Fault.wrong_length(+1000)] * 10)
    dest = out / "cm20.zip"
    with pytest.raises(TransientSourceError, match="gave up after 4 attempts"):
        download_file(http_client, fec_server.base_url + CM, dest, policy=policy)
    assert _leftovers(out) == []


def test_declared_length_too_short_is_caught_by_the_zip_check(fec_server, http_client, policy, out):
    fec_server.script(CM, Fault.wrong_length(-100))
    dest = out / "cm20.zip"
    with pytest.raises(IntegrityError) as err:
        download_file(http_client, fec_server.base_url + CM, dest, policy=policy)
    assert not err.value.retryable
    assert _leftovers(out) == []


def test_truncated_zip_is_rejected_and_nothing_left_at_dest(fec_server, http_client, policy, out):
    fec_server.script(CM, Fault.truncated(0.6))
    dest = out / "cm20.zip"
    with pytest.raises(IntegrityError, match="zip"):
        download_file(http_client, fec_server.base_url + CM, dest, policy=policy)
    assert not dest.exists()
    assert _leftovers(out) == []


def test_existing_dest_is_not_replaced_by_a_failed_download(fec_server, http_client, policy, out):
    dest = out / "cm20.zip"
    dest.write_bytes(b"previous good copy")
    fec_server.script(CM, Fault.truncated(0.5))
    with pytest.raises(IntegrityError):
        download_file(http_client, fec_server.base_url + CM, dest, policy=policy)
    assert dest.read_bytes() == b"previous good copy"
    assert _leftovers(out) == ["cm20.zip"]


def test_zip_with_corrupt_member_data_fails_crc(fec_server, http_client, policy, out):
    target = fec_server.file_path(CM)
    data = bytearray(target.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the compressed member
    target.write_bytes(bytes(data))
    with pytest.raises(IntegrityError):
        download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    assert _leftovers(out) == []


def test_non_zip_files_are_not_zip_checked(fec_server, http_client, policy, out):
    result = download_file(http_client, fec_server.base_url + HEADER, out / "cm_header_file.csv",
                           policy=policy)
    assert (out / "cm_header_file.csv").read_text().startswith("CMTE_ID,CMTE_NM")
    assert result.bytes == 157


# --- conditional GET ----------------------------------------------------------------------------------
def test_conditional_get_with_etag_returns_not_modified(fec_server, http_client, policy, out):
    first = download_file(http_client, fec_server.base_url + CM, out / "1" / "cm20.zip", policy=policy)
    dest = out / "2" / "cm20.zip"
    again = download_file(http_client, fec_server.base_url + CM, dest, policy=policy,
                          conditional=Validators(etag=first.etag, last_modified=first.last_modified))
    assert again.not_modified and again.status == 304
    assert again.path is None and again.sha256 is None and again.bytes is None
    assert again.etag == first.etag
    assert not dest.exists() and _leftovers(dest.parent) == []
    sent = fec_server.requests_for(CM)[-1].headers
    assert sent["if-none-match"] == first.etag and sent["if-modified-since"] == first.last_modified


def test_conditional_get_with_last_modified_only(fec_server, http_client, policy, out):
    first = download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    again = download_file(http_client, fec_server.base_url + CM, out / "again.zip", policy=policy,
                          conditional=Validators(last_modified=first.last_modified))
    assert again.not_modified
    assert "if-none-match" not in fec_server.requests_for(CM)[-1].headers


def test_conditional_get_of_a_changed_file_downloads_it(fec_server, http_client, policy, out):
    first = download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    shutil.copyfile(fec_server.file_path("/files/bulk-downloads/2020/cn20.zip"), fec_server.file_path(CM))
    again = download_file(http_client, fec_server.base_url + CM, out / "new.zip", policy=policy,
                          conditional=Validators(etag=first.etag))
    assert not again.not_modified and again.status == 200
    assert again.sha256 != first.sha256 and again.etag != first.etag


def test_conditional_headers_are_repeated_after_a_transient_failure(fec_server, http_client, policy, out):
    first = download_file(http_client, fec_server.base_url + CM, out / "cm20.zip", policy=policy)
    fec_server.script(CM, Fault.error(500))
    again = download_file(http_client, fec_server.base_url + CM, out / "x.zip", policy=policy,
                          conditional=Validators(etag=first.etag))
    assert again.not_modified and again.attempts == 2


# --- file:// -------------------------------------------------------------------------------------------
def test_file_url_is_copied_and_hashed(served_root, policy, out):
    src = served_root / "files/bulk-downloads/2020/cn20.zip"
    with httpx.Client() as client:
        result = download_file(client, src.as_uri(), out / "out" / "cn20.zip", policy=policy)
    assert result.sha256 == sha256_file(src) and result.bytes == src.stat().st_size
    assert result.url == src.as_uri() and result.last_modified and result.attempts == 1

    with httpx.Client() as client:
        again = download_file(client, src.as_uri(), out / "other.zip", policy=policy,
                              conditional=Validators(last_modified=result.last_modified))
    assert again.not_modified and not (out / "other.zip").exists()


def test_file_url_missing_or_corrupt(served_root, policy, out):
    with httpx.Client() as client:
        with pytest.raises(SourceError, match="does not exist"):
            download_file(client, (served_root / "nope.zip").as_uri(), out / "nope.zip", policy=policy)
        broken = out / "src" / "broken.zip"
        broken.parent.mkdir()
        broken.write_bytes((served_root / "files/bulk-downloads/2020/cm20.zip").read_bytes()[:1000])
        with pytest.raises(IntegrityError):
            download_file(client, broken.as_uri(), out / "dst" / "broken.zip", policy=policy)
    assert _leftovers(out / "dst") == []


# --- secrets, policy, client ----------------------------------------------------------------------------
def test_api_key_in_url_never_reaches_results_errors_or_logs(fec_server, http_client, policy, out, caplog):
    secret = "SUPER-SECRET-KEY-123"
    caplog.set_level(logging.DEBUG)
    ok = download_file(http_client, f"{fec_server.base_url}{CM}?api_key={secret}", out / "cm20.zip",
                       policy=policy)
    assert secret not in repr(ok) and "api_key=***" in ok.url

    fec_server.script(CM, *[Fault.error(500)] * 4)
    with pytest.raises(TransientSourceError) as err:
        download_file(http_client, f"{fec_server.base_url}{CM}?api_key={secret}", out / "x.zip",
                      policy=policy)
    with pytest.raises(HttpStatusError) as err404:
        download_file(http_client, f"{fec_server.base_url}/missing.zip?api_key={secret}", out / "y.zip",
                      policy=policy)
    for exc in (err.value, err404.value):
        assert secret not in str(exc) and secret not in repr(exc) and "api_key=***" in str(exc)
    assert caplog.records  # retries were logged
    for record in caplog.records:
        assert secret not in record.getMessage()
    # and the server did receive the real value: the key was sent, just never shown
    assert fec_server.requests_for(CM)[0].param("api_key") == secret


def test_backoff_is_exponential_with_full_jitter_and_capped():
    top = RetryPolicy(backoff_base=0.5, backoff_max=3.0, jitter=lambda low, high: high)
    assert [top.backoff_delay(n) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    bottom = RetryPolicy(jitter=lambda low, high: low)
    assert bottom.backoff_delay(3) == 0.0
    assert 0 <= RetryPolicy(backoff_base=1.0, backoff_max=60).backoff_delay(4) <= 8


def test_retry_policy_comes_from_settings(sleeper):
    settings = Settings.from_env(
        http_max_attempts=7, http_backoff_base=0.25, http_backoff_max=9.0, http_timeout=12.0
    )
    built = RetryPolicy.from_settings(settings, sleep=sleeper)
    assert (built.max_attempts, built.backoff_base, built.backoff_max, built.timeout) == (7, 0.25, 9.0, 12.0)
    assert built.sleep is sleeper


def test_parse_retry_after():
    now = dt.datetime(2024, 1, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 01 Jan 2024 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Mon, 01 Jan 2024 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_build_http_client_sets_user_agent_and_timeout(fec_server, policy, out):
    settings = Settings.from_env(http_timeout=17.0)
    with build_http_client(settings) as client:
        assert client.timeout.read == 17.0
        download_file(client, fec_server.base_url + HEADER, out / "h.csv", policy=policy)
    assert fec_server.requests_for(HEADER)[0].headers["user-agent"] == f"fecflow/{__version__}"
