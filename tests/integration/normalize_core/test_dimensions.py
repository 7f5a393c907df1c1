"""Candidates, committees and links from the real 2020 masters: dedupe, keys, anomalies, history."""

from __future__ import annotations

import psycopg
import pytest
from normalize_samples import (
    BULK_2018,
    EARLY_2020,
    EARLY_AT,
    LATE_2020,
    LATE_AT,
    Stager,
    master_records,
    read_rows,
)

from fecflow.normalize.step import normalize_cycle

pytestmark = pytest.mark.integration

MASTERS = ["cn", "cm", "ccl"]


def _count(conn: psycopg.Connection, query: str, params: tuple = ()) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def test_masters_are_deduplicated_keyed_and_linked(conn: psycopg.Connection, stage: Stager, run_id: int) -> None:
    for ft, name in (("cn", "cn.txt"), ("cm", "cm.txt"), ("ccl", "ccl.txt")):
        stage(EARLY_2020 / name, ft, 2020, EARLY_AT)
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=MASTERS)

    cm = master_records(EARLY_2020 / "cm.txt", "cm")
    cn = master_records(EARLY_2020 / "cn.txt", "cn")
    assert len(read_rows(EARLY_2020 / "cm.txt", "cm")) == 11605 and len(cm) == 11603
    counts = {u.file_type: u.tables for u in result.units}
    assert counts["cm"]["core.committee"]["inserted"] == 11603
    assert counts["cm"]["snapshot"]["duplicate_lines_collapsed"] == 2
    assert counts["cm"]["snapshot"]["conflicting_duplicates"] == 0
    assert counts["cn"]["core.candidate"]["inserted"] == len(cn) == 3936
    assert counts["cn"]["snapshot"]["duplicate_lines_collapsed"] == 1

    # The two byte-identical duplicate committees: one row each, one history version each.
    for committee_id in ("C00654699", "C00690123"):
        assert _count(conn, "SELECT count(*) FROM core.committee WHERE committee_id = %s", (committee_id,)) == 1
        assert (
            _count(
                conn,
                "SELECT count(*) FROM core.committee_history h JOIN core.committee c USING (committee_key) "
                "WHERE c.committee_id = %s",
                (committee_id,),
            )
            == 1
        )
    assert _count(conn, "SELECT count(*) FROM core.committee WHERE NOT is_placeholder") == 11603
    assert _count(conn, "SELECT count(*) FROM core.committee_history WHERE valid_to IS NULL") == 11603
    assert _count(conn, "SELECT count(*) FROM core.candidate_history WHERE valid_to IS NULL") == 3936

    # committee.candidate_key is set exactly where CAND_ID names a known candidate.
    expected_linked = sum(1 for rec in cm.values() if rec[14] and rec[14] in cn)
    assert _count(conn, "SELECT count(*) FROM core.committee WHERE candidate_key IS NOT NULL") == expected_linked
    assert (
        _count(
            conn,
            "SELECT count(*) FROM core.committee c JOIN core.candidate k USING (candidate_key) "
            "WHERE k.candidate_id <> c.candidate_id",
        )
        == 0
    )

    # ccl: every linkage kept; committee ids in CAND_ID flagged, not dropped, no candidate key.
    ccl = read_rows(EARLY_2020 / "ccl.txt", "ccl")
    committee_in_cand = [r for r in ccl if r[0].startswith("C")]
    assert len(committee_in_cand) == 12
    assert _count(conn, "SELECT count(*) FROM core.candidate_committee_link") == len({r[6] for r in ccl})
    flagged = conn.execute(
        "SELECT candidate_id_raw, candidate_key FROM core.candidate_committee_link "
        "WHERE anomaly = 'committee_id_in_cand_id' ORDER BY linkage_id"
    ).fetchall()
    assert len(flagged) == 12
    assert all(key is None and raw.startswith("C") for raw, key in flagged)
    assert counts["ccl"]["core.candidate_committee_link"]["anomaly_committee_id_in_cand_id"] == 12
    # Candidates referenced by ccl but missing from cn became placeholders; link keys all resolve.
    unknown_candidates = {r[0] for r in ccl if not r[0].startswith("C") and r[0] not in cn}
    assert counts["ccl"]["core.candidate"]["placeholders_created"] == len(unknown_candidates)
    assert (
        _count(conn, "SELECT count(*) FROM core.candidate_committee_link WHERE candidate_key IS NULL")
        == 12
    )
    unknown_committees = {r[3] for r in ccl if r[3] not in cm}
    assert (
        _count(conn, "SELECT count(*) FROM core.committee WHERE is_placeholder AND name IS NULL")
        == len(unknown_committees)
    )


def test_later_master_snapshot_opens_versions_only_for_changed_records(
    conn: psycopg.Connection, stage: Stager, run_id: int
) -> None:
    stage(EARLY_2020 / "cn.txt", "cn", 2020, EARLY_AT)
    stage(EARLY_2020 / "cm.txt", "cm", 2020, EARLY_AT)
    normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cn", "cm"])
    early_history = _count(conn, "SELECT count(*) FROM core.committee_history")

    stage(LATE_2020 / "cn.txt", "cn", 2020, LATE_AT)
    stage(LATE_2020 / "cm.txt", "cm", 2020, LATE_AT)
    result = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cn", "cm"])
    counts = {u.file_type: u.tables for u in result.units}

    for ft, table in (("cm", "committee"), ("cn", "candidate")):
        early = master_records(EARLY_2020 / f"{ft}.txt", ft)
        late = master_records(LATE_2020 / f"{ft}.txt", ft)
        changed = {i for i in early.keys() & late.keys() if early[i] != late[i]}
        new = late.keys() - early.keys()
        missing = early.keys() - late.keys()
        assert changed and new, ft
        history = counts[ft][f"core.{table}_history"]
        assert history["versions_opened"] == len(changed) + len(new), ft
        assert history["versions_closed"] == len(changed), ft
        dim = counts[ft][f"core.{table}"]
        assert dim["updated"] == len(changed) and dim["unchanged"] == len(early.keys() & late.keys()) - len(changed)
        assert dim["missing_from_snapshot"] == len(missing), ft
        # Records missing from the later snapshot are kept, still current.
        kept = _count(
            conn,
            f"SELECT count(*) FROM core.{table} d JOIN core.{table}_history h USING ({table}_key) "  # noqa: S608
            f"WHERE h.valid_to IS NULL AND d.{table}_id = ANY(%s)",
            (sorted(missing),),
        )
        assert kept == len(missing)
        # Changed records: exactly two versions, the old one closed at the later snapshot's time.
        versions = conn.execute(
            f"SELECT h.valid_from, h.valid_to FROM core.{table}_history h JOIN core.{table} d USING ({table}_key) "  # noqa: S608
            f"WHERE d.{table}_id = %s ORDER BY h.valid_from",
            (sorted(changed)[0],),
        ).fetchall()
        assert versions == [(EARLY_AT, LATE_AT), (LATE_AT, None)]

    late_cm = master_records(LATE_2020 / "cm.txt", "cm")
    early_cm = master_records(EARLY_2020 / "cm.txt", "cm")
    changed_cm = sum(1 for i in early_cm.keys() & late_cm.keys() if early_cm[i] != late_cm[i])
    assert _count(conn, "SELECT count(*) FROM core.committee_history") == early_history + changed_cm + len(
        late_cm.keys() - early_cm.keys()
    )
    # The committee's current attributes are the later snapshot's.
    name = conn.execute("SELECT name FROM core.committee WHERE committee_id = 'C00401224'").fetchone()
    assert name is not None and name[0] == late_cm["C00401224"][1]

    # A rerun changes nothing.
    before = conn.execute(
        "SELECT (SELECT count(*) FROM core.committee_history), (SELECT max(updated_at) FROM core.committee)"
    ).fetchone()
    again = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cn", "cm"])
    assert not again.changed and [u.status for u in again.units] == ["skipped", "skipped"]
    after = conn.execute(
        "SELECT (SELECT count(*) FROM core.committee_history), (SELECT max(updated_at) FROM core.committee)"
    ).fetchone()
    assert before == after


def test_placeholder_committee_is_filled_by_a_later_master(
    conn: psycopg.Connection, stage: Stager, run_id: int
) -> None:
    # C00647610 registered after the April-2017 cm snapshot: its contributions arrive first.
    stage(BULK_2018 / "cm.txt", "cm", 2018)
    stage(BULK_2018 / "itcont_insight_sample.txt", "indiv", 2018)
    result = normalize_cycle(conn, run_id=run_id, cycle=2018, file_types=["cm", "indiv"])
    indiv = result.units[1].tables
    assert indiv["core.committee"]["placeholders_created"] == 1
    assert indiv["core.contribution"]["inserted"] == 699
    row = conn.execute(
        "SELECT is_placeholder, name, (SELECT count(*) FROM core.contribution c "
        "WHERE c.recipient_committee_key = m.committee_key) FROM core.committee m WHERE committee_id = 'C00647610'"
    ).fetchone()
    assert row == (True, None, 34)
    assert _count(conn, "SELECT count(*) FROM core.committee_history h JOIN core.committee c USING (committee_key) "
                  "WHERE c.committee_id = 'C00647610'") == 0

    late_cm = master_records(LATE_2020 / "cm.txt", "cm")
    assert "C00647610" in late_cm
    stage(LATE_2020 / "cm.txt", "cm", 2020, LATE_AT)
    filled = normalize_cycle(conn, run_id=run_id, cycle=2020, file_types=["cm"])
    assert filled.units[0].tables["core.committee"]["placeholders_filled"] >= 1
    row = conn.execute(
        "SELECT is_placeholder, name FROM core.committee WHERE committee_id = 'C00647610'"
    ).fetchone()
    assert row == (False, late_cm["C00647610"][1])
    assert _count(conn, "SELECT count(*) FROM core.committee_history h JOIN core.committee c USING (committee_key) "
                  "WHERE c.committee_id = 'C00647610' AND h.valid_to IS NULL") == 1
