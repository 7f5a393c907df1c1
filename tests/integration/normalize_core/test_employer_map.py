"""An employer map of an older version is mapped again: aliases, contributions' employer keys, industries."""

from __future__ import annotations

import psycopg
import pytest
from normalize_samples import EARLY_2020, EARLY_AT, Stager

from fecflow.normalize.employer_map import EMPLOYER_MAP_SCOPE, employer_map_is_stale
from fecflow.normalize.employers import EMPLOYER_MAP_VERSION
from fecflow.normalize.step import normalize_cycle

pytestmark = pytest.mark.integration
OLD = "2025.9"


def _one(conn: psycopg.Connection, query: str, params: tuple[object, ...] = ()) -> object:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def _industry(conn: psycopg.Connection, employer_key: int) -> tuple[object, ...] | None:
    return conn.execute(
        "SELECT industry_key, method, confidence FROM core.employer_industry WHERE employer_key = %s",
        (employer_key,),
    ).fetchone()


def test_an_older_map_is_mapped_again(conn: psycopg.Connection, stage: Stager, run_id: int) -> None:
    stage(EARLY_2020 / "cm.txt", "cm", 2020, EARLY_AT)
    stage(EARLY_2020 / "itcont.txt.gz", "indiv", 2020, EARLY_AT)
    first = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    assert [u.status for u in first.units] == ["normalized", "normalized"]  # nothing to remap on a fresh map
    assert _one(conn, "SELECT count(DISTINCT map_version) FROM core.employer_alias") == 1
    assert _one(conn, "SELECT min(map_version) FROM core.employer_alias") == EMPLOYER_MAP_VERSION
    assert not employer_map_is_stale(conn)

    # The most used string of an employer with an industry, and two other employers with industries.
    raw, right_key, rows = conn.execute(
        "SELECT c.raw_employer, c.employer_key, count(*) FROM core.contribution c "
        "JOIN core.employer_industry i USING (employer_key) GROUP BY 1, 2 ORDER BY 3 DESC, 1 LIMIT 1"
    ).fetchone() or (None, None, None)
    assert raw is not None and rows > 1
    lost, wrong = (
        int(r[0])
        for r in conn.execute(
            "SELECT employer_key FROM core.employer_industry WHERE employer_key <> %s ORDER BY employer_key LIMIT 2",
            (right_key,),
        ).fetchall()
    )
    lost_industry, wrong_industry = _industry(conn, lost), _industry(conn, wrong)
    other_industry = _one(
        conn, "SELECT industry_key FROM core.industry WHERE industry_key <> %s LIMIT 1", (wrong_industry[0],)
    )

    # What an older map left behind: the string under another employer (and so its contributions),
    # one employer without the industry it should have, one with a wrong industry.
    old_key = _one(
        conn,
        "INSERT INTO core.employer (canonical_name, map_version) VALUES ('AN OLDER MAPPING', %s) "
        "RETURNING employer_key",
        (OLD,),
    )
    conn.execute(
        "UPDATE core.employer_alias SET employer_key = %s, map_version = %s WHERE raw_employer = %s",
        (old_key, OLD, raw),
    )
    conn.execute("UPDATE core.contribution SET employer_key = %s WHERE raw_employer = %s", (old_key, raw))
    conn.execute("DELETE FROM core.employer_industry WHERE employer_key = %s", (lost,))
    conn.execute(
        "UPDATE core.employer_industry SET industry_key = %s WHERE employer_key = %s", (other_industry, wrong)
    )
    conn.execute(
        "UPDATE core.employer SET map_version = %s WHERE employer_key IN (%s, %s)", (OLD, lost, wrong)
    )
    conn.commit()
    assert employer_map_is_stale(conn)

    again = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    assert [(u.file_type, u.status) for u in again.units] == [
        ("employers", "remapped"),
        ("cm", "skipped"),
        ("indiv", "skipped"),
    ]
    tables = again.units[0].tables
    assert tables["core.employer_alias"] == {"checked": 1, "remapped": 1}
    assert tables["core.contribution"] == {"employer_remapped": rows}
    assert again.changed
    # The string and its contributions are back with the employer the current map names.
    assert (
        _one(conn, "SELECT employer_key FROM core.employer_alias WHERE raw_employer = %s", (raw,))
        == right_key
    )
    assert conn.execute(
        "SELECT employer_key, count(*), count(*) FILTER (WHERE last_run_id = %s) FROM core.contribution "
        "WHERE raw_employer = %s GROUP BY 1",
        (run_id, raw),
    ).fetchall() == [(right_key, rows, rows)]
    # The industries are decided again: found again, corrected.
    assert _industry(conn, lost) == lost_industry and _industry(conn, wrong) == wrong_industry
    assert (
        _one(
            conn, "SELECT count(*) FROM core.employer_alias WHERE map_version <> %s", (EMPLOYER_MAP_VERSION,)
        )
        == 0
    )
    assert not employer_map_is_stale(conn)
    audit = conn.execute(
        "SELECT status, counts->>'employer_map_version' FROM ops.ingest_run_audits WHERE scope = %s",
        (EMPLOYER_MAP_SCOPE,),
    ).fetchall()
    assert audit == [("succeeded", EMPLOYER_MAP_VERSION)]

    # Current again: a rerun changes nothing.
    third = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    assert [u.status for u in third.units] == ["skipped", "skipped"] and not third.changed


def test_sponsor_links_follow_a_map_bump(conn: psycopg.Connection, stage: Stager, run_id: int) -> None:
    """PAC sponsor links are canonicalized by the employer map: a map bump re-decides them at once,
    not at the next cm snapshot (which may be days away)."""
    stage(EARLY_2020 / "cm.txt", "cm", 2020, EARLY_AT)
    stage(EARLY_2020 / "itcont.txt.gz", "indiv", 2020, EARLY_AT)
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    links = _one(conn, "SELECT count(*) FROM core.committee_sponsor WHERE valid_to IS NULL")
    assert isinstance(links, int) and links > 100
    # What an older map left: one link under another canonical name, every link stamped with it.
    key = _one(conn, "SELECT min(committee_key) FROM core.committee_sponsor WHERE valid_to IS NULL")
    right = _one(conn, "SELECT sponsor_name FROM core.committee_sponsor WHERE committee_key = %s", (key,))
    conn.execute(
        "UPDATE core.committee_sponsor SET sponsor_name = 'AN OLDER NAME' WHERE committee_key = %s", (key,)
    )
    conn.execute("UPDATE core.committee_sponsor SET map_version = %s", (OLD,))
    conn.commit()
    assert employer_map_is_stale(conn)

    again = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])
    assert [(u.file_type, u.status) for u in again.units][0] == ("employers", "remapped")
    assert again.units[0].tables["core.committee_sponsor"] == {"opened": 1, "closed": 1}
    current = conn.execute(
        "SELECT sponsor_name, map_version FROM core.committee_sponsor WHERE committee_key = %s AND valid_to IS NULL",
        (key,),
    ).fetchall()
    assert current == [(right, EMPLOYER_MAP_VERSION)]  # the old link closed, kept as history
    assert _one(conn, "SELECT count(*) FROM core.committee_sponsor WHERE valid_to IS NULL") == links
    assert not employer_map_is_stale(conn)
