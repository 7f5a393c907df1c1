"""Why an entity has its score: the stored row, and where its money went, recipient by recipient.

For employers and committees the recipient lines are those ``scores compute`` stored with the
score (:mod:`fecflow.scores.explanations`): an index read. Candidates and industries (and ``--top``
above what was stored) are answered from the slot's kept context (:mod:`fecflow.scores.context`):
the entity's own rows of ``core`` with the committee sides and flows of the score's computation,
plain SELECTs that a read-only transaction allows. Slots computed before migration 0011 have no
context: their lines are recomputed from ``core`` for the score's window with the same alignment
and counting code as ``compute_scores`` (temp tables in the caller's transaction). Either way they
add up to the stored D / R / other amounts unless the data changed since. For a candidate the lines
show where its individual donors gave *elsewhere* (the leave-one-out base of the donor-base score).
For lean-2026.2 the explanation adds the committees the money went through and an employer's own PAC
(:mod:`fecflow.scores.explain_v2`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.sql import SQL, Identifier

from fecflow.errors import DataError
from fecflow.scores.alignment import SIDE_BASIS, SIDE_JOINS, build_alignment
from fecflow.scores.context import SlotContext, context_rows, entity_params, slot_context
from fecflow.scores.explain_v2 import (
    CANDIDATE_DONORS,
    FLOW_SQL,
    INDUSTRY_EMPLOYERS,
    V2_SCOPE,
    FlowLine,
    explain_flows,
    flow_line,
    own_pac,
)
from fecflow.scores.explanations import STORED_TYPES, stored_lines
from fecflow.scores.facts import build_facts
from fecflow.scores.method import DEFAULT_PARAMS, ENTITY_TYPES, METHOD_DEFAULT, METHOD_V2
from fecflow.scores.preliminary import preliminary_share
from fecflow.scores.store import EXTRA_COLUMNS
from fecflow.scores.windows import DEFAULT_LOOKBACK_MONTHS, Window, window_ending

_LOOKUP = {
    "candidate": (
        "SELECT candidate_key AS key, candidate_id AS id, name, party, false AS is_generic FROM core.candidate "
        "WHERE candidate_id = %s",
        "a candidate id such as H8CA52116",
    ),
    "committee": (
        "SELECT committee_key AS key, committee_id AS id, name, party, false AS is_generic FROM core.committee "
        "WHERE committee_id = %s",
        "a committee id such as C00401224",
    ),
    "employer": (
        "SELECT employer_key AS key, canonical_name AS id, canonical_name AS name, NULL AS party, is_generic "
        "FROM core.employer WHERE canonical_name = %s",
        "a canonical employer name such as MICROSOFT",
    ),
    "industry": (
        "SELECT industry_key AS key, naics_code AS id, title AS name, NULL AS party, false AS is_generic "
        "FROM core.industry WHERE naics_code = %s",
        "a NAICS code such as 54 or 5415",
    ),
}
_SUGGEST = {
    "candidate": "SELECT candidate_id FROM core.candidate WHERE name ILIKE %s ORDER BY candidate_id LIMIT 5",
    "committee": "SELECT committee_id FROM core.committee WHERE name ILIKE %s ORDER BY committee_id LIMIT 5",
    "employer": "SELECT canonical_name FROM core.employer WHERE canonical_name ILIKE %s AND NOT is_generic "
    "ORDER BY canonical_name LIMIT 5",
    "industry": "SELECT naics_code FROM core.industry WHERE title ILIKE %s ORDER BY naics_code LIMIT 5",
}

# The entity's own rows in _sc_fact (f), or for a candidate its donors' rows to other recipients.
_SCOPE = {
    "employer": "f.source = 'indiv' AND f.employer_key = %(key)s",
    "industry": f"f.source = 'indiv' AND {INDUSTRY_EMPLOYERS}",
    "committee": "f.source IN ('pas2', 'oth') AND f.payer_key = %(key)s AND f.payee_key IS DISTINCT FROM f.payer_key",
    "candidate": f"f.source = 'indiv' AND f.candidate_key IS DISTINCT FROM %(key)s AND {CANDIDATE_DONORS}",
}
_LINES_SQL = (
    "SELECT coalesce(k.candidate_id, m.committee_id) AS recipient_id, coalesce(k.name, m.name) AS recipient_name, "  # noqa: S608 - fixed fragments
    f"f.side, {SIDE_BASIS} AS basis, "
    "sum(f.net) AS amount, count(*) FILTER (WHERE NOT f.is_refund) AS n_contributions, "
    "count(DISTINCT f.donor_key) AS n_donors "
    f"FROM _sc_fact f {SIDE_JOINS['f']} "
    "LEFT JOIN core.candidate k ON k.candidate_key = f.row_candidate_key "
    "LEFT JOIN core.committee m ON m.committee_key = f.payee_key "
    "WHERE {scope} GROUP BY 1, 2, 3, 4 ORDER BY amount DESC, recipient_id, side, basis LIMIT %(top)s"
)


class NotStored(Exception):
    """``explain_entity(recompute=False)``: the slot has no stored lines for this entity type."""


@dataclass(frozen=True)
class EntityRef:
    entity_type: str
    key: int
    entity_id: str
    name: str | None
    party: str | None


@dataclass(frozen=True)
class RecipientLine:
    recipient_id: str
    recipient_name: str | None
    side: str | None  # D, R, O or None (undetermined)
    basis: str | None  # candidate, party, derived, or None
    amount: Decimal
    n_contributions: int
    n_donors: int


@dataclass(frozen=True)
class EmployerString:
    """One raw EMPLOYER string mapped to an employer: how it joined, and the live rows carrying it."""

    raw_employer: str
    method: str
    score: Decimal | None  # method similar: how surely it joined
    kind: str | None  # method similar: the kind of string evidence
    rows: int


_STRINGS_SQL = """
SELECT a.raw_employer, a.method, a.score, a.evidence ->> 'kind' AS kind, coalesce(c.n, 0) AS rows
FROM core.employer_alias a
LEFT JOIN (SELECT raw_employer, count(*) AS n FROM core.contribution
           WHERE employer_key = %(key)s AND deleted_at IS NULL GROUP BY raw_employer) c USING (raw_employer)
WHERE a.employer_key = %(key)s
ORDER BY rows DESC, a.raw_employer
"""


def employer_strings(conn: psycopg.Connection, employer_key: int) -> list[EmployerString]:
    """Every raw string merged into the employer, most rows first (issue #19: what X is made of)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return [
            EmployerString(r["raw_employer"], r["method"], r["score"], r["kind"], int(r["rows"]))
            for r in cur.execute(_STRINGS_SQL, {"key": employer_key})
        ]


@dataclass(frozen=True)
class Explanation:
    entity: EntityRef
    method_version: str
    as_of: dt.date
    window: Window
    score: dict[str, Any]  # the stored row: score, ci_low, ci_high, amounts, counts, reason, valid_from
    recipients: list[RecipientLine]
    flows: list[FlowLine] = field(default_factory=list)  # lean-2026.2: committees money went through
    own_pac: dict[str, Any] | None = None  # lean-2026.2, employers: their own PAC and its score
    strings: list[EmployerString] = field(default_factory=list)  # employers: the raw strings merged into it
    lines_kept: bool = True  # False: the slot kept no lines or context, and they were not recomputed

    @property
    def recipients_title(self) -> str:
        if self.entity.entity_type == "candidate":
            return "Where this candidate's itemized donors gave elsewhere (leave-one-out base)"
        return "Top recipients"


def resolve_entity(conn: psycopg.Connection, entity_type: str, entity_id: str) -> EntityRef:
    """The entity's surrogate key and labels, or DataError with a hint."""
    if entity_type not in ENTITY_TYPES:
        raise DataError(
            f"Unknown entity type {entity_type!r}.", hint=f"Use one of: {', '.join(ENTITY_TYPES)}."
        )
    wanted = entity_id.strip().upper()
    sql, example = _LOOKUP[entity_type]
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql, (wanted,)).fetchone()
    if row is None:
        like = f"%{wanted}%"
        suggestions = [r[0] for r in conn.execute(_SUGGEST[entity_type], (like,))]
        hint = f"Similar: {', '.join(suggestions)}." if suggestions else f"Give {example}."
        raise DataError(f"No {entity_type} {entity_id!r} in the database.", hint=hint)
    if row["is_generic"]:
        raise DataError(
            f"{row['id']!r} is a generic employer bucket (retired, self-employed, ...), which is never scored.",
            hint="Generic buckets are listed in ref.generic_employer; explain a named employer instead.",
        )
    return EntityRef(entity_type, int(row["key"]), str(row["id"]), row["name"], row["party"])


def _score_row(
    conn: psycopg.Connection,
    entity: EntityRef,
    method_version: str,
    as_of: dt.date | None,
    window: Window | None,
) -> dict[str, Any] | None:
    sql = SQL(
        "SELECT as_of, window_start, window_end, score, ci_low, ci_high, dem_amount, rep_amount, other_amount, "
        "n_contributions, n_donors, reason, valid_from, run_id, preliminary_amount, {extra} FROM scores.leaning_score "
        "WHERE {column} = %(key)s AND method_version = %(method)s AND valid_to IS NULL {slot}"
        "ORDER BY as_of DESC, window_start LIMIT 1"
    ).format(
        extra=SQL(", ").join(Identifier(c) for c in EXTRA_COLUMNS),
        column=Identifier(f"{entity.entity_type}_key"),
        slot=SQL("AND as_of = %(as_of)s AND window_start = %(start)s AND window_end = %(end)s ")
        if window is not None
        else SQL(""),
    )
    params = {"key": entity.key, "method": method_version, "as_of": as_of}
    if window is not None:
        params |= {"start": window.start, "end": window.end}
    with conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(sql, params).fetchone()
    if row is not None:
        row["preliminary_share"] = preliminary_share(row)
    return row


def explain_entity(
    conn: psycopg.Connection,
    entity_type: str,
    entity_id: str,
    *,
    as_of: dt.date | None = None,
    lookback_months: int = DEFAULT_LOOKBACK_MONTHS,
    method_version: str = METHOD_DEFAULT,
    top: int = 10,
    recompute: bool = True,
    omit_missing: bool = False,
) -> Explanation:
    """The stored score of an entity (latest ``as_of`` unless given) and its top recipients.

    The lines come from what ``scores compute`` stored (:mod:`fecflow.scores.explanations`, an index
    read), or from the slot's kept context and the entity's own rows (:mod:`fecflow.scores.context`,
    plain SELECTs). A slot without either (scored before migrations 0010/0011) is recomputed from
    ``core`` (temp tables: a read-write transaction); with ``recompute=False``, :class:`NotStored` is
    raised instead, or, with ``omit_missing``, the explanation comes without lines (``lines_kept``
    False).
    """
    entity = resolve_entity(conn, entity_type, entity_id)
    window = window_ending(as_of, lookback_months) if as_of is not None else None
    row = _score_row(conn, entity, method_version, as_of, window)
    if row is None:
        when = f"as of {as_of} ({lookback_months}-month window)" if as_of else "for any date"
        raise DataError(
            f"{entity_type.capitalize()} {entity.entity_id!r} has no {method_version} score {when}: "
            "it had no counted money in the window, or scores were not computed.",
            hint=f"Run `fecflow scores compute --as-of {as_of or 'YYYY-MM-DD'}` (with the same --lookback-months).",
        )
    window = Window(row["window_start"], row["window_end"])
    stored = (
        stored_lines(
            conn,
            method_version=method_version,
            as_of=row["as_of"],
            window=window,
            entity_type=entity_type,
            entity_key=entity.key,
            top=top,
        )
        if entity_type in STORED_TYPES
        else None
    )
    kept = True
    context = None if stored is not None else slot_context(
        conn, method_version=method_version, as_of=row["as_of"], window=window
    )
    if stored is not None:
        lines = [_recipient_line(r) for r in stored.recipients]
        flows = [flow_line(r, row) for r in stored.flows]
        pac = own_pac(conn, method_version=method_version, as_of=row["as_of"], window=window, score=row)
    elif context is not None:
        lines, flows, pac = _context_lines(conn, context, entity, method_version, row, window, top)
    elif omit_missing and not recompute:
        lines, flows, kept = [], [], False
        pac = own_pac(conn, method_version=method_version, as_of=row["as_of"], window=window, score=row)
    elif not recompute:
        raise NotStored(f"{entity_type} {entity.entity_id!r}: no stored explanation for this slot")
    else:
        lines, flows, pac = _recompute_lines(conn, entity, method_version, row, window, top)
    strings = employer_strings(conn, entity.key) if entity_type == "employer" else []
    return Explanation(entity, method_version, row["as_of"], window, row, lines, flows, pac, strings, kept)


def _recipient_line(r: dict[str, Any]) -> RecipientLine:
    return RecipientLine(
        r["recipient_id"],
        r["recipient_name"],
        r["side"],
        r["basis"],
        Decimal(r["amount"]),
        int(r["n_contributions"]),
        int(r["n_donors"]),
    )


def _context_lines(
    conn: psycopg.Connection,
    context: SlotContext,
    entity: EntityRef,
    method_version: str,
    row: dict[str, Any],
    window: Window,
    top: int,
) -> tuple[list[RecipientLine], list[FlowLine], dict[str, Any] | None]:
    """The lines from the entity's own rows and the slot's kept context (:mod:`fecflow.scores.context`):
    plain SELECTs, so a read-only transaction will do."""
    params = entity_params(conn, context, entity.entity_type, entity.key) | {"top": top}
    scope = (V2_SCOPE if method_version == METHOD_V2 else _SCOPE)[entity.entity_type]
    lines = [_recipient_line(r) for r in context_rows(conn, entity.entity_type, _LINES_SQL.format(scope=scope), params)]
    if method_version != METHOD_V2:
        return lines, [], None
    flow_sql = FLOW_SQL.format(scope=V2_SCOPE[entity.entity_type])
    flows = [flow_line(r, row) for r in context_rows(conn, entity.entity_type, flow_sql, params)]
    return lines, flows, own_pac(conn, method_version=method_version, as_of=row["as_of"], window=window, score=row)


def _recompute_lines(
    conn: psycopg.Connection,
    entity: EntityRef,
    method_version: str,
    row: dict[str, Any],
    window: Window,
    top: int,
) -> tuple[list[RecipientLine], list[FlowLine], dict[str, Any] | None]:
    """The lines from ``core`` again (temp tables in the caller's transaction): slots computed before
    migration 0011 (no kept context)."""
    flows: list[FlowLine] = []
    pac = None
    if method_version == METHOD_V2:
        flows, pac = explain_flows(
            conn,
            entity.entity_type,
            entity.key,
            method_version=method_version,
            as_of=row["as_of"],
            window=window,
            score=row,
            top=top,
        )
    else:
        build_facts(conn, window, build_alignment(conn, window, DEFAULT_PARAMS))
    scope = (V2_SCOPE if method_version == METHOD_V2 else _SCOPE)[entity.entity_type]
    with conn.cursor(row_factory=dict_row) as cur:
        lines = [
            _recipient_line(r)
            for r in cur.execute(_LINES_SQL.format(scope=scope), {"key": entity.key, "top": top})
        ]
    return lines, flows, pac
