"""The explorer against the demo data: loaded ONCE per session, served by a real `fecflow serve`.

The demo is what `make demo` loads (the bundled 2020 sample through `fecflow backfill` from a local
mirror, then a short series of month-end as-of dates), into a database cloned from the migrated
template. The server is the real command on 127.0.0.1 with a free port. Everything here is
session-scoped: the web tests share one load (about 20 s) and one server.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from fecflow.scores.method import METHOD_DEFAULT
from support.cli import run_fecflow

REPO = Path(__file__).resolve().parents[2]
MIRROR = f"file://{REPO / 'tests' / 'fixtures' / 'bulk'}"
DEMO_FILES = "cm,cn,ccl,indiv,pas2,oth,weball,webk,webl"
SERIES = ("--from", "2019-01-31", "--to", "2019-03-31", "--every", "month")
# The explorer shows METHOD_DEFAULT; the CLI is asked for it by name, whatever its own default is.
METHOD = ("--method", METHOD_DEFAULT)
DEMO_EMPLOYER = "MICROSOFT"


@pytest.fixture(scope="session")
def web_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="fecflow-web-home-"))
    yield home


@pytest.fixture(scope="session")
def demo_db(make_db: Callable[[], str], web_home: Path) -> str:
    """A database holding the demo: backfill of the 2020 sample, then three month-end as-of dates."""
    url = make_db()
    env = {"FECFLOW_DATABASE_URL": url, "FECFLOW_BULK_BASE_URL": MIRROR}
    loaded = run_fecflow(
        web_home, "backfill", "--cycles", "2020", "--files", DEMO_FILES, "--as-of", "2019-03-31", env=env
    )
    assert loaded.returncode == 0, loaded.stderr
    series = run_fecflow(web_home, "scores", "compute", *SERIES, *METHOD, env=env)
    assert series.returncode == 0, series.stderr
    return url


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def explorer_url(demo_db: str, web_home: Path) -> Iterator[str]:
    """`fecflow serve` on 127.0.0.1 over the demo database, until the session ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FECFLOW_")}
    env |= {
        "FECFLOW_HOME": str(web_home),
        "FECFLOW_DATABASE_URL": demo_db,
        "FECFLOW_LOG_DIR": str(web_home / "logs"),
    }
    log = (web_home / "serve.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "fecflow.cli.app", "serve", "--port", str(port)],
        env=env,
        cwd=web_home,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/api/runs", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("fecflow serve did not start:\n" + (web_home / "serve.log").read_text())
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    served = (web_home / "serve.log").read_text()
    assert "Traceback" not in served, served


@pytest.fixture(scope="session")
def client(explorer_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=explorer_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="session")
def explained(demo_db: str, web_home: Path) -> dict[str, str]:
    """`fecflow explain employer MICROSOFT`'s score, interval and dollars, as printed."""
    result = run_fecflow(
        web_home, "explain", "employer", DEMO_EMPLOYER, *METHOD, env={"FECFLOW_DATABASE_URL": demo_db}
    )
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    score = re.search(r"score: (\S+) \(95% interval (\S+)\.\.(\S+);", text)
    support = re.search(r"support: D (\$\S+), R (\$\S+), other (\$\S+);", text)
    assert score and support, text
    return {
        "score": score[1],
        "ci_low": score[2],
        "ci_high": score[3],
        "dem": support[1],
        "rep": support[2],
        "other": support[3].rstrip(";"),
    }


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: FECFLOW_TEST_ARTIFACTS, else test-artifacts/web in the repository (git-ignored)."""
    root = Path(os.environ.get("FECFLOW_TEST_ARTIFACTS") or REPO / "test-artifacts") / "web"
    root.mkdir(parents=True, exist_ok=True)
    return root
