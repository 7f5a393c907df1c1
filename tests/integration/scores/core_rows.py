"""Small, controlled ``core``/``ref`` rows for leaning-score tests, laid out as normalization writes them.

Contribution rows carry the counting-rule flags the way normalization stamps them from
``ref.counting_rule``: ``counts_as_contribution`` and ``is_refund`` (22Y, 17R, ...), never the sign,
and ``filer_side``. Like normalization, ``recipient_committee_key`` is the filer (CMTE_ID) and
``contributor_committee_key`` the other committee (OTHER_ID): for giver-filed committee rows (24K,
17R, ...: ``filer_side = 'giver'`` in the rule table) the filer is the giver. :meth:`CoreRows.give` takes the money's direction and stores it so.
"""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

import psycopg

from fecflow.db import ops
from fecflow.db.partitions import ensure_year_partitions
from fecflow.normalize.rules import rule_for

PARTIES = (
    ("DEM", "Democratic Party", "D"),
    ("DFL", "Democratic-Farmer-Labor", "D"),
    ("REP", "Republican Party", "R"),
    ("GRE", "Green Party", "O"),
    ("LIB", "Libertarian Party", "O"),
    ("IND", "Independent", "O"),
)
NAICS = (
    ("54", "Professional, Scientific, and Technical Services", 2, None),
    ("541", "Professional, Scientific, and Technical Services", 3, "54"),
    ("5411", "Legal Services", 4, "541"),
    ("5415", "Computer Systems Design and Related Services", 4, "541"),
    ("31-33", "Manufacturing", 2, None),
    ("311", "Food Manufacturing", 3, "31-33"),
    ("62", "Health Care and Social Assistance", 2, None),
    ("622", "Hospitals", 3, "62"),
)
RULE_VERSION = "test"


class CoreRows:
    """Insert candidates, committees, employers, industries and contributions; returns surrogate keys."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn
        self._sub_id = itertools.count(1_000_000_000_000_000_001)
        self._linkage = itertools.count(1)
        self.committees: dict[str, int] = {}
        self.candidates: dict[str, int] = {}
        self.employers: dict[str, int] = {}
        self.industries: dict[str, int] = {}
        ensure_year_partitions(conn, range(2016, 2022))
        conn.cursor().executemany(
            "INSERT INTO ref.party (code, name, alignment) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            PARTIES,
        )
        conn.cursor().executemany(
            "INSERT INTO ref.naics (code, title, level, parent_code) VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
            NAICS,
        )
        conn.commit()

    # ---------------------------------------------------------------------------------- dimensions
    def candidate(self, candidate_id: str, party: str | None, name: str | None = None) -> int:
        key = self.conn.execute(
            "INSERT INTO core.candidate (candidate_id, name, party, office) VALUES (%s, %s, %s, %s) "
            "RETURNING candidate_key",
            (candidate_id, name or f"CANDIDATE {candidate_id}", party, candidate_id[0]),
        ).fetchone()[0]
        self.candidates[candidate_id] = key
        return key

    def committee(
        self,
        committee_id: str,
        *,
        committee_type: str = "Q",
        party: str | None = None,
        designation: str = "U",
        candidate_id: str | None = None,
        name: str | None = None,
        link: bool = True,
    ) -> int:
        """A committee; with ``candidate_id`` also its CAND_ID and (``link``) a ccl linkage row."""
        candidate_key = self.candidates[candidate_id] if candidate_id else None
        key = self.conn.execute(
            "INSERT INTO core.committee (committee_id, name, committee_type, designation, party, candidate_id, "
            "candidate_key) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING committee_key",
            (
                committee_id,
                name or f"COMMITTEE {committee_id}",
                committee_type,
                designation,
                party,
                candidate_id,
                candidate_key,
            ),
        ).fetchone()[0]
        self.committees[committee_id] = key
        if candidate_id and link:
            self.conn.execute(
                "INSERT INTO core.candidate_committee_link (linkage_id, candidate_key, committee_key, candidate_id_raw, "
                "committee_type, designation) VALUES (%s, %s, %s, %s, %s, %s)",
                (next(self._linkage), candidate_key, key, candidate_id, committee_type, designation),
            )
        return key

    def campaign(self, candidate_id: str, party: str | None, committee_id: str) -> int:
        """A candidate with its principal campaign committee; returns the committee key."""
        self.candidate(candidate_id, party)
        return self.committee(
            committee_id, committee_type=candidate_id[0], designation="P", candidate_id=candidate_id
        )

    def employer(self, name: str, *, generic: bool = False) -> int:
        key = self.conn.execute(
            "INSERT INTO core.employer (canonical_name, is_generic, bucket) VALUES (%s, %s, %s) RETURNING employer_key",
            (name, generic, name if generic else None),
        ).fetchone()[0]
        self.employers[name] = key
        return key

    def industry(self, naics_code: str) -> int:
        if naics_code in self.industries:
            return self.industries[naics_code]
        key = self.conn.execute(
            "INSERT INTO core.industry (naics_code, title, level) SELECT code, title, level FROM ref.naics "
            "WHERE code = %s RETURNING industry_key",
            (naics_code,),
        ).fetchone()[0]
        self.industries[naics_code] = key
        return key

    def map_employer(self, employer: str, naics_code: str) -> None:
        self.conn.execute(
            "INSERT INTO core.employer_industry (employer_key, industry_key, method, confidence) "
            "VALUES (%s, %s, 'curated', 0.9)",
            (self.employers[employer], self.industry(naics_code)),
        )

    # -------------------------------------------------------------------------------------- facts
    def give(
        self,
        recipient: str | None,
        amount: float | str,
        day: dt.date | str,
        *,
        donor: str | None = None,
        employer: str | None = None,
        source: str = "indiv",
        contributor: str | None = None,
        candidate: str | None = None,
        transaction_type: str | None = None,
        refund: bool = False,
        counts: bool = True,
        category: str | None = None,
        memo: bool = False,
        deleted: bool = False,
    ) -> int:
        """Money from ``donor`` (indiv) or committee ``contributor`` (pas2/oth) to ``recipient``; returns its sub_id.

        ``recipient`` may be None for committee giving whose OTHER_ID is not a committee (then the
        row's ``candidate`` says where it went).
        """
        day = dt.date.fromisoformat(day) if isinstance(day, str) else day
        if transaction_type is None:
            transaction_type = (
                ("22Y" if refund else "15") if source == "indiv" else ("17R" if refund else "24K")
            )
        if category is None:
            category = "memo" if memo else ("refund" if refund else "contribution")
        sub_id = next(self._sub_id)
        to_key = self.committees[recipient] if recipient else None
        from_key = self.committees[contributor] if contributor else None
        filer_side = rule_for(transaction_type, "X" if memo else None).filer_side
        giver_filed = filer_side == "giver"
        filer, other = (from_key, to_key) if giver_filed else (to_key, from_key)
        self.conn.execute(
            "INSERT INTO core.contribution (sub_id, source, cycle, recipient_committee_key, contributor_committee_key, "
            "candidate_key, employer_key, donor_key, entity_type, transaction_type, memo_code, transaction_date, "
            "transaction_date_raw, amount, rule_version, category, counts_as_contribution, is_refund, filer_side, row_hash, "
            "deleted_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                sub_id,
                source,
                day.year + day.year % 2,
                filer,
                other,
                self.candidates[candidate] if candidate else None,
                self.employers[employer] if employer else None,
                donor,
                "IND" if source == "indiv" else "PAC",
                transaction_type,
                "X" if memo else None,
                day,
                day.strftime("%m%d%Y"),
                Decimal(str(amount)),
                RULE_VERSION,
                category,
                counts and not memo,
                refund,
                filer_side,
                f"h{sub_id}",
                dt.datetime(2019, 6, 1, tzinfo=dt.UTC) if deleted else None,
            ),
        )
        return sub_id

    def commit(self) -> None:
        self.conn.commit()

    def run(self, command: str = "scores compute") -> int:
        return ops.start_run(self.conn, command, {})
