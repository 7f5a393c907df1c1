"""The real 2020 bulk set normalized: typing, links, earmarks, counting rules, refunds, partitions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import psycopg
import pytest
from normalize_samples import EARLY_2020, col, counted_total, read_rows

from fecflow.normalize.rules import RULE_VERSION

pytestmark = pytest.mark.integration

ACTBLUE = "C00401224"
COUNTED_SQL = """
    SELECT coalesce(sum(c.amount * r.sign), 0)
    FROM core.contribution c
    JOIN core.committee m ON m.committee_key = c.recipient_committee_key
    JOIN ref.counting_rule r ON r.rule_version = c.rule_version
         AND r.transaction_type = upper(c.transaction_type) AND r.memo = (coalesce(c.memo_code, '') = 'X')
    WHERE m.committee_id = %s AND c.source = %s AND c.counts_as_contribution AND c.deleted_at IS NULL
"""


@pytest.fixture
def conn(normalized_2020_db: tuple[str, dict]) -> Iterator[psycopg.Connection]:
    """A connection to the module's normalized 2020 database (tests only read)."""
    with psycopg.connect(normalized_2020_db[0]) as connection:
        yield connection


@pytest.fixture
def normalized_2020(normalized_2020_db: tuple[str, dict]) -> dict:
    return normalized_2020_db[1]


def _one(conn: psycopg.Connection, query: str, params: tuple = ()) -> object:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return row[0]


def test_every_row_typed_linked_and_ruled(conn: psycopg.Connection, normalized_2020: dict) -> None:
    indiv = read_rows(EARLY_2020 / "itcont.txt.gz", "indiv")
    pas2 = read_rows(EARLY_2020 / "itpas2.txt", "pas2")
    oth = read_rows(EARLY_2020 / "itoth.txt.gz", "oth")
    assert normalized_2020["indiv"]["core.contribution"]["inserted"] == len(indiv) == 70671
    assert normalized_2020["pas2"]["core.contribution"]["inserted"] == len(pas2) == 3159
    # Every itpas2 row is also in itoth under the same SUB_ID: stored once, as pas2 (with its candidate).
    pas2_ids = {r[-1] for r in pas2}
    assert pas2_ids <= {r[-1] for r in oth}
    assert normalized_2020["oth"]["core.contribution"]["owned_by_pas2"] == len(pas2)
    assert normalized_2020["oth"]["core.contribution"]["inserted"] == len(oth) - len(pas2)
    total = len(indiv) + len(oth)
    assert _one(conn, "SELECT count(*) FROM core.contribution") == total
    assert _one(conn, "SELECT count(DISTINCT sub_id) FROM core.contribution") == total

    # Keys and FKs: every row has its recipient; no dangling keys (the FKs hold by construction).
    assert _one(conn, "SELECT count(*) FROM core.contribution WHERE recipient_committee_key IS NULL") == 0
    assert (
        _one(
            conn,
            "SELECT count(*) FROM core.contribution c JOIN core.committee m ON m.committee_key = "
            "c.recipient_committee_key WHERE c.source = 'indiv' AND m.is_placeholder",
        )
        == 0
    ), "every itcont committee is in the early cm (100% join)"
    # pas2: the candidate is linked wherever the candidate exists in cn; others are placeholders.
    cn_ids = {r[0] for r in read_rows(EARLY_2020 / "cn.txt", "cn")}
    i_cand = col("pas2", "CAND_ID")
    expected_known = sum(1 for r in pas2 if r[i_cand] in cn_ids)
    assert (
        _one(
            conn,
            "SELECT count(*) FROM core.contribution c JOIN core.candidate k USING (candidate_key) "
            "WHERE c.source = 'pas2' AND NOT k.is_placeholder",
        )
        == expected_known
    )
    assert _one(conn, "SELECT count(*) FROM core.contribution WHERE source = 'pas2' AND candidate_key IS NULL") == sum(
        1 for r in pas2 if not r[i_cand]
    )
    # Committee givers: OTHER_ID committee ids resolve to a contributor committee key.
    i_other = col("oth", "OTHER_ID")
    with_committee = sum(1 for r in pas2 if r[i_other].startswith("C")) + sum(
        1 for r in oth if r[-1] not in pas2_ids and len(r[i_other]) == 9 and r[i_other].startswith("C")
    )
    assert _one(conn, "SELECT count(contributor_committee_key) FROM core.contribution") == with_committee

    # Rules: every row carries the current version; the sample has no unknown transaction type.
    assert _one(conn, "SELECT count(*) FROM core.contribution WHERE rule_version <> %s", (RULE_VERSION,)) == 0
    assert normalized_2020["indiv"]["core.contribution"]["unknown_transaction_type"] == 0
    # Typing: amounts exact, zip5, donor key, no undated itcont row (all dates valid in this sample).
    assert _one(conn, "SELECT sum(amount) FROM core.contribution WHERE source = 'indiv'") == sum(
        Decimal(r[col("indiv", "TRANSACTION_AMT")]) for r in indiv
    )
    assert _one(conn, "SELECT count(*) FROM core.contribution WHERE source = 'indiv' AND transaction_date IS NULL") == 0
    row = conn.execute(
        "SELECT zip5, donor_key, transaction_date::text, file_number FROM core.contribution WHERE sub_id = %s",
        (int(indiv[0][-1]),),
    ).fetchone()
    first = indiv[0]
    assert row is not None
    assert row[0] == first[col("indiv", "ZIP_CODE")][:5]
    assert row[1].endswith("|" + first[col("indiv", "ZIP_CODE")][:5]) and row[1] == row[1].upper()
    dt_raw = first[col("indiv", "TRANSACTION_DT")]
    assert row[2] == f"{dt_raw[4:]}-{dt_raw[:2]}-{dt_raw[2:4]}" and row[3] == int(first[col("indiv", "FILE_NUM")])


def test_invalid_date_kept_raw_in_default_partition(conn: psycopg.Connection, normalized_2020: dict) -> None:
    # One itoth row is dated 10171918 (year 1918): kept, undated, raw text kept, default partition.
    rows = conn.execute(
        "SELECT tableoid::regclass::text, transaction_date, transaction_date_raw FROM core.contribution "
        "WHERE transaction_date IS NULL"
    ).fetchall()
    assert rows == [("core.contribution_default", None, "10171918")]
    assert normalized_2020["oth"]["core.contribution"]["undated"] == 1
    partitions = {r[0] for r in conn.execute("SELECT DISTINCT tableoid::regclass::text FROM core.contribution")}
    assert "core.contribution_y2019" in partitions


def test_earmarks_count_at_the_final_recipient_never_at_the_conduit(
    conn: psycopg.Connection, normalized_2020: dict
) -> None:
    indiv = read_rows(EARLY_2020 / "itcont.txt.gz", "indiv")
    i_tp, i_other = col("indiv", "TRANSACTION_TP"), col("indiv", "OTHER_ID")
    earmarks = Counter(r[i_other] for r in indiv if r[i_tp] == "15E")
    assert earmarks[ACTBLUE] == 9382
    assert _one(
        conn, "SELECT count(*) FROM core.contribution WHERE transaction_type = '15E' AND conduit_committee_id = %s",
        (ACTBLUE,),
    ) == 9382
    # 15E rows count (unless memo) at the filer, the final recipient.
    assert _one(
        conn,
        "SELECT count(*) FROM core.contribution WHERE transaction_type = '15E' AND memo_code IS NULL "
        "AND NOT counts_as_contribution",
    ) == 0
    # ActBlue never receives counted individual money.
    assert _one(
        conn,
        "SELECT count(*) FROM core.contribution c JOIN core.committee m ON m.committee_key = c.recipient_committee_key "
        "WHERE m.committee_id = %s AND c.source = 'indiv' AND c.counts_as_contribution",
        (ACTBLUE,),
    ) == 0
    # Pass-throughs (24T / 24I) never count.
    assert sum(1 for r in indiv if r[i_tp] in ("24T", "24I")) == 84
    assert _one(
        conn,
        "SELECT count(*) FILTER (WHERE counts_as_contribution), count(*) FROM core.contribution "
        "WHERE transaction_type IN ('24T', '24I')",
    ) == 0
    assert _one(conn, "SELECT count(*) FROM core.contribution WHERE transaction_type IN ('24T', '24I')") == 84


def test_counted_totals_equal_a_hand_computation_from_the_raw_file(
    conn: psycopg.Connection, normalized_2020: dict
) -> None:
    indiv = read_rows(EARLY_2020 / "itcont.txt.gz", "indiv")
    i_cmte, i_tp = col("indiv", "CMTE_ID"), col("indiv", "TRANSACTION_TP")
    by_committee = Counter(r[i_cmte] for r in indiv)
    refunders = Counter(r[i_cmte] for r in indiv if r[i_tp] == "22Y")
    earmark_recipients = Counter(r[i_cmte] for r in indiv if r[i_tp] == "15E")
    conduit_filers = Counter(r[i_cmte] for r in indiv if r[i_tp] in ("24T", "24I"))
    committees = {
        *(c for c, _ in by_committee.most_common(3)),
        *(c for c, _ in refunders.most_common(2)),
        *(c for c, _ in earmark_recipients.most_common(2)),
        *(c for c, _ in conduit_filers.most_common(1)),
    }
    assert len(committees) >= 5
    for committee_id in sorted(committees):
        expected = counted_total(indiv, "indiv", committee_id)
        assert _one(conn, COUNTED_SQL, (committee_id, "indiv")) == expected, committee_id
    # The conduit filer's pass-throughs add nothing.
    conduit = conduit_filers.most_common(1)[0][0]
    passthrough = sum(
        Decimal(r[col("indiv", "TRANSACTION_AMT")]) for r in indiv if r[i_cmte] == conduit and r[i_tp] in ("24T", "24I")
    )
    assert passthrough > 0


def test_refunds_are_netted_by_type_not_sign(conn: psycopg.Connection, normalized_2020: dict) -> None:
    indiv = read_rows(EARLY_2020 / "itcont.txt.gz", "indiv")
    i_cmte, i_tp, i_amt, i_memo = (col("indiv", n) for n in ("CMTE_ID", "TRANSACTION_TP", "TRANSACTION_AMT", "MEMO_CD"))
    refunds = [r for r in indiv if r[i_tp] == "22Y"]
    assert len(refunds) == 4858 and sum(1 for r in refunds if int(r[i_amt]) > 0) == 4838
    committee_id = Counter(r[i_cmte] for r in refunds).most_common(1)[0][0]
    given = sum(
        Decimal(r[i_amt]) for r in indiv if r[i_cmte] == committee_id and r[i_tp] in ("15", "15E") and r[i_memo] != "X"
    )
    refunded = sum(Decimal(r[i_amt]) for r in refunds if r[i_cmte] == committee_id and r[i_memo] != "X")
    assert refunded > 0
    net = _one(conn, COUNTED_SQL, (committee_id, "indiv"))
    other = counted_total(
        [r for r in indiv if r[i_tp] not in ("15", "15E", "22Y")], "indiv", committee_id
    )
    assert net == given - refunded + other
    assert _one(
        conn, "SELECT bool_and(is_refund AND counts_as_contribution) FROM core.contribution WHERE transaction_type = '22Y' "
        "AND memo_code IS NULL"
    ) is True


def test_contribution_flow_orients_giver_and_receiver_from_the_rule_table(
    conn: psycopg.Connection, normalized_2020: dict
) -> None:
    pas2 = read_rows(EARLY_2020 / "itpas2.txt", "pas2")
    p_cmte, p_other, p_tp, p_sub = (
        col("pas2", n) for n in ("CMTE_ID", "OTHER_ID", "TRANSACTION_TP", "SUB_ID")
    )
    # Every row carries its rule's filer_side.
    assert (
        _one(
            conn,
            "SELECT count(*) FROM core.contribution c JOIN ref.counting_rule r ON r.rule_version = c.rule_version "
            "AND r.transaction_type = upper(btrim(c.transaction_type)) AND r.memo = (coalesce(c.memo_code, '') = 'X') "
            "WHERE r.filer_side <> c.filer_side",
        )
        == 0
    )
    # A PAC's 24K contribution (pas2, filed by the giving PAC): the giver is the filer, the receiver OTHER_ID.
    row = next(r for r in pas2 if r[p_tp] == "24K" and r[p_other].startswith("C"))
    flow = conn.execute(
        "SELECT f.filer_side, g.committee_id, r.committee_id, f.donor_key FROM core.contribution_flow f "
        "JOIN core.committee g ON g.committee_key = f.giver_committee_key "
        "JOIN core.committee r ON r.committee_key = f.receiver_committee_key WHERE f.sub_id = %s",
        (int(row[p_sub]),),
    ).fetchone()
    assert flow == ("giver", row[p_cmte], row[p_other], None)
    # An individual's 15 row: the filer receives, the donor gives (no giver committee).
    flow = conn.execute(
        "SELECT f.filer_side, f.giver_committee_key, f.receiver_committee_key = f.filer_committee_key, "
        "f.donor_key IS NOT NULL FROM core.contribution_flow f WHERE f.source = 'indiv' "
        "AND f.transaction_type = '15' AND f.memo_code IS NULL LIMIT 1"
    ).fetchone()
    assert flow == ("recipient", None, True, True)
    # The conduit's 24T/24I pass-throughs are giver-filed and never count.
    assert conn.execute(
        "SELECT DISTINCT filer_side, net_contribution FROM core.contribution_flow WHERE transaction_type IN ('24T', '24I')"
    ).fetchall() == [("giver", Decimal("0.00"))]
    # SUM(net_contribution) by receiver is the counted total of the rule table (refunds netted).
    committee_id = Counter(
        r[col("indiv", "CMTE_ID")]
        for r in read_rows(EARLY_2020 / "itcont.txt.gz", "indiv")
        if r[col("indiv", "TRANSACTION_TP")] == "22Y"
    ).most_common(1)[0][0]
    via_view = _one(
        conn,
        "SELECT sum(f.net_contribution) FROM core.contribution_flow f JOIN core.committee m "
        "ON m.committee_key = f.receiver_committee_key WHERE m.committee_id = %s AND f.source = 'indiv'",
        (committee_id,),
    )
    assert via_view == _one(conn, COUNTED_SQL, (committee_id, "indiv"))
