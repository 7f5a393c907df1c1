"""Leaning scores on the real 2020 sample (FEC bulk files as of March 2019), through the real
stage and normalize steps.

The donor-base AUC check (candidates with >= 20 donors, REP vs DEM, AUC >= 0.9) needs candidates
with itemized receipts. This snapshot predates the first quarterly reports of the cycle (due
2019-04-15), so almost no candidate committee has receipts in it: the AUC test skips with the measured
counts until a later sample is added to shared/fec-samples.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import psycopg
import pytest
from psycopg import sql

from fecflow.db import ops
from fecflow.scores import METHOD_V1, compute_scores
from fecflow.scores.validation import candidate_party_auc

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)
SAMPLE = "bulk-2020-early-snapshot-2019-03/extracted"
FILES = (
    ("cn", "cn.txt"),
    ("cm", "cm.txt"),
    ("ccl", "ccl.txt"),
    ("indiv", "itcont.txt.gz"),
    ("pas2", "itpas2.txt"),
    ("oth", "itoth.txt.gz"),
)
MIN_CANDIDATES_PER_PARTY = 5


def _pipeline() -> SimpleNamespace:
    try:
        from fecflow.normalize.step import normalize_cycle
        from support.staging_loader import read_sample_lines, stage_file, write_lines
    except ImportError as exc:  # pragma: no cover - until staging and normalization land
        pytest.skip(
            f"needs the stage and normalize steps, not in the tree yet ({exc}); enable when they land"
        )
    return SimpleNamespace(
        normalize_cycle=normalize_cycle, stage_file=stage_file, read=read_sample_lines, write=write_lines
    )


@pytest.fixture(scope="module")
def sample_db(
    pg_admin_url: str, template_db: str, shared_samples: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """One database for the module: the sample staged, normalized and scored as of 2019-03-31."""
    steps = _pipeline()
    name = f"t_scores_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(template_db)
            )
        )
    url = pg_admin_url.rsplit("/", 1)[0] + f"/{name}"
    work = tmp_path_factory.mktemp("sample")
    try:
        with psycopg.connect(url) as conn:
            run_id = ops.start_run(conn, "test scores real sample", {})
            for file_type, file_name in FILES:
                path = shared_samples / SAMPLE / file_name
                if path.suffix == ".gz":  # stage the plain text, as the bulk zips hold it
                    path = steps.write(work / path.stem, steps.read(path))
                steps.stage_file(conn, url, path, file_type=file_type, cycle=2020, run_id=run_id)
            steps.normalize_cycle(conn, run_id=run_id, cycle=2020)
            compute_scores(conn, run_id=run_id, as_of=AS_OF, method_version=METHOD_V1)
        yield url
    finally:
        with psycopg.connect(pg_admin_url, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _committee_score(conn: psycopg.Connection, committee_id: str) -> tuple:
    row = conn.execute(
        "SELECT s.score, s.n_contributions FROM scores.leaning_score s JOIN core.committee m USING (committee_key) "
        "WHERE m.committee_id = %s AND s.valid_to IS NULL AND s.as_of = %s AND s.method_version = %s",
        (committee_id, AS_OF, METHOD_V1),
    ).fetchone()
    assert row is not None, committee_id
    return row


def test_committee_scores_on_real_giving(sample_db: str) -> None:
    with psycopg.connect(sample_db) as conn:
        n = conn.execute(
            "SELECT count(*) FROM scores.leaning_score WHERE committee_key IS NOT NULL AND method_version = %s",
            (METHOD_V1,),
        ).fetchone()
        assert n is not None and n[0] > 300
        # The machinists' union PAC gives mostly to Democrats, UPS's PAC mostly to Republicans.
        machinists, n_machinists = _committee_score(conn, "C00002469")
        ups, n_ups = _committee_score(conn, "C00064766")
        assert machinists < 0.25 and n_machinists >= 20
        assert ups > 0.75 and n_ups >= 100


def test_candidate_donor_base_separates_parties(sample_db: str) -> None:
    with psycopg.connect(sample_db) as conn:
        eligible = conn.execute(
            "SELECT p.alignment, count(*) FROM scores.leaning_score s JOIN core.candidate k USING (candidate_key) "
            "JOIN ref.party p ON p.code = k.party WHERE s.valid_to IS NULL AND s.score IS NOT NULL "
            "AND s.n_donors >= 20 AND p.alignment IN ('D', 'R') AND s.method_version = %s GROUP BY 1",
            (METHOD_V1,),
        ).fetchall()
        counts = dict(eligible)
        if min(counts.get("D", 0), counts.get("R", 0)) < MIN_CANDIDATES_PER_PARTY:
            pytest.skip(
                f"the March 2019 sample has {counts.get('R', 0)} REP and {counts.get('D', 0)} DEM candidates with "
                ">= 20 scored donors (it predates the cycle's first quarterly reports): AUC not measurable; "
                "needs a later 2020 itcont sample"
            )
        result = candidate_party_auc(conn, as_of=AS_OF, min_donors=20, method_version=METHOD_V1)
        assert result.auc >= 0.9, result
