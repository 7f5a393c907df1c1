"""Similar employer names joined in the database: evidence stored, existing employers never renumbered."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
from normalize_samples import EARLY_2020, EARLY_AT, Stager, col

from fecflow.normalize.step import normalize_cycle
from support.staging_loader import read_sample_lines, write_lines

pytestmark = pytest.mark.integration
I_EMP, I_SUB = col("indiv", "EMPLOYER"), col("indiv", "SUB_ID")


def _alias(conn: psycopg.Connection, raw: str) -> tuple[int, str, object, object]:
    row = conn.execute(
        "SELECT employer_key, method, score, evidence FROM core.employer_alias WHERE raw_employer = %s",
        (raw,),
    ).fetchone()
    assert row is not None, raw
    return int(row[0]), str(row[1]), row[2], row[3]


def test_similar_names_join_with_evidence_and_later_strings_keep_keys(
    conn: psycopg.Connection, stage: Stager, run_id: int, tmp_path: Path
) -> None:
    stage(EARLY_2020 / "cm.txt", "cm", 2020, EARLY_AT)
    stage(EARLY_2020 / "itcont.txt.gz", "indiv", 2020, EARLY_AT)
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm", "indiv"])

    # The examples: a typo (FL rows; Northrop Grumman has rows in 3+ states and a shared
    # recipient) and a site code glued to the name.
    target, _, _, _ = _alias(conn, "NORTHROP GRUMMAN")
    for raw, kind in (("NORTHROP GRUNMAN", "typo"), ("NORTHROPGRUMMAN5616", "spacing")):
        key, method, score, evidence = _alias(conn, raw)
        assert (key, method) == (target, "similar")
        assert isinstance(evidence, dict) and evidence["kind"] == kind
        assert evidence["joined"] == "NORTHROP GRUMMAN"
        assert score is not None and 0 < score <= 1
        contributions = conn.execute(
            "SELECT DISTINCT employer_key FROM core.contribution WHERE raw_employer = %s", (raw,)
        ).fetchall()
        assert contributions == [(target,)]
    # Score and evidence belong to similarity decisions only.
    assert conn.execute(
        "SELECT count(*) FROM core.employer_alias WHERE (method = 'similar') <> (evidence IS NOT NULL) "
        "OR (method = 'similar') <> (score IS NOT NULL)"
    ).fetchone() == (0,)
    assert conn.execute(
        "SELECT count(*) > 10 FROM core.employer_alias WHERE method = 'similar'"
    ).fetchone() == (True,)
    before = dict(conn.execute("SELECT raw_employer, employer_key FROM core.employer_alias").fetchall())

    # A later snapshot brings one new spelling of an existing employer: it joins that employer, and no
    # string decided before moves.
    lines = read_sample_lines(EARLY_2020 / "itcont.txt.gz")
    template = next(line.split(b"|") for line in lines if line.split(b"|")[I_EMP] == b"NORTHROP GRUNMAN")
    template[I_EMP] = b"NORTHROP  GRUMMAN CORP."
    template[I_SUB] = b"9190000000000000001"
    stage(
        write_lines(tmp_path / "itcont_later.txt", [*lines, b"|".join(template)]),
        "indiv",
        2020,
        EARLY_AT + dt.timedelta(days=7),
    )
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["indiv"])
    after = dict(conn.execute("SELECT raw_employer, employer_key FROM core.employer_alias").fetchall())
    assert {raw: after[raw] for raw in before} == before
    assert after["NORTHROP  GRUMMAN CORP."] == target
