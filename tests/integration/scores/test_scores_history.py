"""Validity ranges across recomputations, and byte-identical results for identical inputs."""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from decimal import Decimal

import psycopg
import pytest

from fecflow.scores import METHOD_V1, compute_scores
from integration.scores.core_rows import CoreRows

pytestmark = pytest.mark.integration

AS_OF = dt.date(2019, 3, 31)

# The projection that must be identical: natural entity id, window and every value (no run/timestamps).
PROJECTION_SQL = """
SELECT s.entity_type,
       coalesce(k.candidate_id, m.committee_id, e.canonical_name, i.naics_code) AS entity_id,
       s.method_version, s.as_of, s.window_start, s.window_end, s.score, s.ci_low, s.ci_high,
       s.dem_amount, s.rep_amount, s.other_amount, s.n_contributions, s.n_donors, s.reason
FROM scores.leaning_score s
LEFT JOIN core.candidate k ON k.candidate_key = s.candidate_key
LEFT JOIN core.committee m ON m.committee_key = s.committee_key
LEFT JOIN core.employer e ON e.employer_key = s.employer_key
LEFT JOIN core.industry i ON i.industry_key = s.industry_key
WHERE s.valid_to IS NULL
ORDER BY 1, 2, 3, 4, 5, 6
"""


def projection_hash(conn: psycopg.Connection) -> tuple[str, int]:
    rows = conn.execute(PROJECTION_SQL).fetchall()
    digest = hashlib.sha256(
        "\n".join("|".join("" if v is None else str(v) for v in r) for r in rows).encode()
    )
    return digest.hexdigest(), len(rows)


def build_world(core: CoreRows, *, seed: int | None = None) -> None:
    """A mixed world; ``seed`` shuffles the insertion order of every dimension and fact."""
    rng = random.Random(seed)

    def shuffled(items: list) -> list:
        items = list(items)
        if seed is not None:
            rng.shuffle(items)
        return items

    campaigns = [
        ("H8DEM0001", "DEM", "C00000001"),
        ("H8DEM0002", "DFL", "C00000002"),
        ("H8REP0001", "REP", "C00000003"),
        ("S8REP0002", "REP", "C00000004"),
    ]
    for cand, party, cmte in shuffled(campaigns):
        core.campaign(cand, party, cmte)
    for cmte in shuffled(["C00000020", "C00000021"]):
        core.committee(cmte, committee_type="Q")
    core.committee("C00000010", committee_type="Y", party="DEM")
    for name in shuffled(["ALPHA INC", "BETA LLC", "GAMMA CORP"]):
        core.employer(name)
        core.map_employer(name, "5415" if name != "GAMMA CORP" else "311")
    for naics in shuffled(["54", "31-33"]):
        core.industry(naics)
    gifts = []
    recipients = ["C00000001", "C00000002", "C00000003", "C00000004", "C00000010", "C00000020"]
    employers = ["ALPHA INC", "BETA LLC", "GAMMA CORP", None]
    base = random.Random(7)  # the data itself is fixed; only the order varies with ``seed``
    for i in range(400):
        donor = f"D{base.randrange(60)}"
        day = dt.date(2017, 4, 1) + dt.timedelta(days=base.randrange(730))
        gifts.append(
            dict(
                recipient=base.choice(recipients),
                amount=base.choice([25, 50, 100, 250, 1000]),
                day=day,
                donor=donor,
                employer=employers[int(donor[1:]) % 4],
                refund=i % 37 == 0,
            )
        )
    for i in range(40):
        gifts.append(
            dict(
                recipient=base.choice(["C00000001", "C00000003", "C00000004"]),
                amount=1000 * (1 + i % 3),
                day=dt.date(2018, 1, 1) + dt.timedelta(days=i),
                source="pas2",
                contributor=base.choice(["C00000020", "C00000021"]),
            )
        )
    for gift in shuffled(gifts):
        core.give(**gift)
    core.commit()


def test_recompute_closes_changed_rows_and_leaves_unchanged_ones(
    core: CoreRows, conn: psycopg.Connection
) -> None:
    core.campaign("H8DEM0001", "DEM", "C00000001")
    core.campaign("H8REP0001", "REP", "C00000003")
    core.employer("STABLE INC")
    core.employer("MOVING LLC")
    for donor in ("S1", "S2", "S3"):
        core.give("C00000001", 100, "2018-05-01", donor=donor, employer="STABLE INC")
        core.give("C00000003", 100, "2018-05-01", donor=f"M{donor}", employer="MOVING LLC")
    core.commit()

    first_run = core.run()
    first = compute_scores(conn, run_id=first_run, as_of=AS_OF, method_version=METHOD_V1)
    assert (first.stored.opened, first.stored.closed, first.stored.unchanged) == (
        4,
        0,
        0,
    )  # 2 employers, 2 candidates
    before = {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT employer_key, score_id, valid_from, run_id FROM scores.leaning_score WHERE employer_key IS NOT NULL"
        )
    }

    same = compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    assert (same.stored.opened, same.stored.closed, same.stored.unchanged) == (0, 0, 4)

    core.give("C00000001", 500, "2018-06-01", donor="M4", employer="MOVING LLC")  # MOVING shifts toward D
    core.commit()
    second_run = core.run()
    second = compute_scores(conn, run_id=second_run, as_of=AS_OF, method_version=METHOD_V1)
    # MOVING LLC changed, and so did H8DEM0001 (its receipts from donors with no other giving grew).
    assert (second.stored.opened, second.stored.closed, second.stored.unchanged) == (2, 2, 2)

    moving = conn.execute(
        "SELECT score_id, score, valid_from, valid_to, run_id FROM scores.leaning_score "
        "WHERE employer_key = %s ORDER BY valid_from",
        (core.employers["MOVING LLC"],),
    ).fetchall()
    assert len(moving) == 2
    old, new = moving
    assert old[0] == before[core.employers["MOVING LLC"]][0] and old[3] is not None  # closed, not rewritten
    assert old[1] == Decimal("0.80000") and old[4] == first_run
    assert new[3] is None and new[2] == old[3] and new[4] == second_run  # opened where the old one closed
    assert new[1] == Decimal("0.41667")  # D 500, R 300 over 4 donors: (4 * 0.375 + 1) / (4 + 2)
    stable = conn.execute(
        "SELECT score_id, valid_from, run_id, valid_to FROM scores.leaning_score WHERE employer_key = %s",
        (core.employers["STABLE INC"],),
    ).fetchall()
    assert stable == [(*before[core.employers["STABLE INC"]], None)]  # untouched


def test_entity_without_money_any_more_is_closed(core: CoreRows, conn: psycopg.Connection) -> None:
    core.campaign("H8REP0001", "REP", "C00000003")
    core.employer("GONE INC")
    sub_ids = [
        core.give("C00000003", 100, "2018-05-01", donor=d, employer="GONE INC") for d in ("A", "B", "C")
    ]
    core.commit()
    compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    conn.execute("UPDATE core.contribution SET deleted_at = now() WHERE sub_id = ANY(%s)", (sub_ids,))
    conn.commit()
    again = compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    assert again.stored.closed == 2 and again.stored.opened == 0  # the employer and the candidate
    assert conn.execute("SELECT count(*) FROM scores.leaning_score WHERE valid_to IS NULL").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM scores.leaning_score").fetchone() == (2,)


def test_other_windows_and_as_of_dates_are_kept_apart(core: CoreRows, conn: psycopg.Connection) -> None:
    build_world(core)
    a = compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    b = compute_scores(conn, run_id=core.run(), as_of=AS_OF, lookback_months=12, method_version=METHOD_V1)
    c = compute_scores(conn, run_id=core.run(), as_of=dt.date(2018, 12, 31), method_version=METHOD_V1)
    assert a.stored.closed == b.stored.closed == c.stored.closed == 0
    windows = conn.execute(
        "SELECT DISTINCT as_of, window_start, window_end FROM scores.leaning_score ORDER BY 1, 2"
    ).fetchall()
    assert windows == [
        (dt.date(2018, 12, 31), dt.date(2017, 1, 1), dt.date(2018, 12, 31)),
        (AS_OF, dt.date(2017, 4, 1), AS_OF),
        (AS_OF, dt.date(2018, 4, 1), AS_OF),
    ]


def test_same_inputs_give_identical_rows_whatever_the_insert_order(
    core: CoreRows, conn: psycopg.Connection
) -> None:
    build_world(core)
    compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    first, count = projection_hash(conn)
    assert count > 10
    scored = conn.execute("SELECT count(*) FROM scores.leaning_score WHERE score IS NOT NULL").fetchone()
    assert scored is not None and scored[0] >= 8

    conn.execute(
        "TRUNCATE scores.leaning_score, core.contribution, core.employer_industry, core.industry, core.employer, "
        "core.candidate_committee_link, core.committee, core.candidate CASCADE"
    )
    conn.commit()
    build_world(CoreRows(conn), seed=12345)
    compute_scores(conn, run_id=core.run(), as_of=AS_OF, method_version=METHOD_V1)
    assert projection_hash(conn) == (first, count)
