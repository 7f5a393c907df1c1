"""Interval calibration on simulated FEC data with known true leans (bench/sim.py), through the real
stage, normalize and score steps. The full-size run is ``make calibrate``; this is its small version.

At this size (about 600 employers and 400 committees with a truth) a 95% interval's coverage has a
binomial standard error of about 0.01, so the bands below are wider than the 0.93-0.97 goal of the
full run.
"""

from __future__ import annotations

import importlib.util
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from fecflow.scores.method import METHOD_V1, METHOD_V2

pytestmark = pytest.mark.integration

SIM = Path(__file__).resolve().parents[3] / "bench" / "sim.py"
BAND = (0.91, 0.99)


@pytest.fixture(scope="module")
def report(pg_admin_url: str, template_db: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    spec = importlib.util.spec_from_file_location("fecflow_sim", SIM)
    assert spec and spec.loader
    sim = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = sim  # dataclasses look their module up
    spec.loader.exec_module(sim)
    name = f"t_calib_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template_db)))
    url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield sim.calibrate(url, tmp_path_factory.mktemp("sim"), sim.SimConfig(employers=600, pacs=250))
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.parametrize("entity_type", ["employer", "committee"])
def test_lean_2026_2_intervals_cover_the_truth(report: dict[str, Any], entity_type: str) -> None:
    new, old = report["methods"][METHOD_V2][entity_type], report["methods"][METHOD_V1][entity_type]
    print(f"\n{entity_type}: {METHOD_V2} {new}\n{entity_type}: {METHOD_V1} {old}")  # lean-2026.1: shown only
    assert new["n"] >= 0.9 * new["truths"]  # almost every entity with a truth is scored
    assert BAND[0] <= new["coverage"] <= BAND[1], new

