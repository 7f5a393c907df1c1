"""Fixtures for the checks: the real 2020 sample built once per session, cloned for every test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from fecflow.checks.tolerances import Tolerances
from integration.checks.sample_db import Sample, SampleIds, build_sample
from unit.checks.webhook_server import WebhookServer


def _with_db(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{dbname}", parts.query, parts.fragment))


def _create(admin_url: str, name: str, template: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                sql.Identifier(name), sql.Identifier(template)
            )
        )


def _drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def checks_sample_db(pg_admin_url: str, template_db: str) -> Iterator[tuple[str, SampleIds]]:
    """A database with the real early-2020 sample staged, normalized and scored (built once)."""
    name = f"checks_sample_{os.getpid()}"
    _drop(pg_admin_url, name)
    _create(pg_admin_url, name, template_db)
    url = _with_db(pg_admin_url, name)
    try:
        with psycopg.connect(url) as conn:
            ids = build_sample(conn, url)
        yield name, ids
    finally:
        _drop(pg_admin_url, name)


@pytest.fixture(scope="session")
def shared_sample_db(pg_admin_url: str, checks_sample_db: tuple[str, SampleIds]) -> Iterator[str]:
    """One copy of the sample shared by the tests whose faults are rolled back."""
    template, _ = checks_sample_db
    name = f"checks_shared_{os.getpid()}"
    _drop(pg_admin_url, name)
    _create(pg_admin_url, name, template)
    try:
        yield _with_db(pg_admin_url, name)
    finally:
        _drop(pg_admin_url, name)


@pytest.fixture
def sample(shared_sample_db: str, checks_sample_db: tuple[str, SampleIds]) -> Iterator[Sample]:
    """The shared copy; the test's faults and reads are one transaction, rolled back afterwards."""
    with psycopg.connect(shared_sample_db) as conn:
        try:
            yield Sample(shared_sample_db, conn, checks_sample_db[1], rollback_faults=True)
        finally:
            conn.rollback()


@pytest.fixture
def sample_copy(pg_admin_url: str, checks_sample_db: tuple[str, SampleIds]) -> Iterator[Sample]:
    """A private copy of the sample for one test: faults are committed (gates, runner, CLI)."""
    template, ids = checks_sample_db
    name = f"t_checks_{uuid.uuid4().hex[:12]}"
    _create(pg_admin_url, name, template)
    url = _with_db(pg_admin_url, name)
    try:
        with psycopg.connect(url) as conn:
            yield Sample(url, conn, ids)
    finally:
        _drop(pg_admin_url, name)


@pytest.fixture
def tolerances() -> Tolerances:
    return Tolerances()


@pytest.fixture
def webhook() -> Iterator[WebhookServer]:
    with WebhookServer() as server:
        yield server
