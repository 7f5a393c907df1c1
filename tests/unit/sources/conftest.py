"""Fixtures for the sources tests: the fake FEC web server, an httpx client, a no-op sleep, storage."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

_TESTS = Path(__file__).resolve().parents[2]
if str(_TESTS) not in sys.path:  # make `support` importable however pytest was started
    sys.path.insert(0, str(_TESTS))

from fecflow.sources.http import RetryPolicy  # noqa: E402
from fecflow.sources.storage import RawStorage  # noqa: E402
from support.http_server import FecHttpServer  # noqa: E402
from support.s3_server import s3_bucket, s3_server  # noqa: E402, F401

FIXTURES = _TESTS / "fixtures"
BULK_FIXTURES = FIXTURES / "bulk"
OPENFEC_FIXTURES = FIXTURES / "openfec"
# Distinctive, so a leak is easy to spot in messages, logs and recorded pages.
TEST_API_KEY = "fecflow-test-key-Zq81XvT3"


class SleepRecorder:
    """Stands in for time.sleep: records the requested delays, returns at once."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sleeper() -> SleepRecorder:
    return SleepRecorder()


@pytest.fixture
def policy(sleeper: SleepRecorder) -> RetryPolicy:
    return RetryPolicy(max_attempts=4, backoff_base=0.5, backoff_max=4.0, timeout=10.0, sleep=sleeper)


@pytest.fixture
def served_root(tmp_path: Path) -> Path:
    """A writable copy of tests/fixtures/bulk in the FEC URL layout (www/files/bulk-downloads/...)."""
    root = tmp_path / "www"
    shutil.copytree(BULK_FIXTURES, root / "files" / "bulk-downloads")
    return root


@pytest.fixture
def fec_server(served_root: Path) -> Iterator[FecHttpServer]:
    with FecHttpServer(served_root, OPENFEC_FIXTURES) as server:
        yield server


@pytest.fixture
def http_client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0, headers={"User-Agent": "fecflow-tests"}) as client:
        yield client


@pytest.fixture
def api_key() -> SecretStr:
    return SecretStr(TEST_API_KEY)


@pytest.fixture
def local_storage(tmp_path: Path) -> RawStorage:
    return RawStorage(str(tmp_path / "raw"))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """An empty folder for downloads (tmp_path also holds the served copy of the fixtures)."""
    folder = tmp_path / "out"
    folder.mkdir()
    return folder
