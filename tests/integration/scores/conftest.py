from __future__ import annotations

import psycopg
import pytest

from integration.scores.core_rows import CoreRows


@pytest.fixture
def core(conn: psycopg.Connection) -> CoreRows:
    return CoreRows(conn)
