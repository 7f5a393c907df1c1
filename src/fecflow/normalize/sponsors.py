"""Separate segregated funds -> their sponsoring organization (``core.committee_sponsor``, with history).

A corporate, labor, membership, trade or cooperative PAC (cm.txt ``ORG_TP`` C, L, M, T, V, W) names its
sponsor in ``CONNECTED_ORG_NM``. About a third leave it blank (the 2020 sample: 1,138 of 3,122,
Microsoft's and PwC's PACs among them); then the committee name without its PAC words is used
(``MICROSOFT CORPORATION POLITICAL ACTION COMMITTEE`` -> ``MICROSOFT CORPORATION``; method
``name:...``). The sponsor string goes through the same employer canonicalization as contributors'
employer strings (:func:`fecflow.normalize.employers.build_employer_map`), so the PAC and its
employees' ``MICROSOFT CORP`` land on one canonical name; generic values (NONE, N/A, ...) link nothing.
The link stores the canonical name, not an employer key: the employer row may come with a later
transaction snapshot, and the scores join by name.

History: a committee's current link (``valid_to IS NULL``) is closed when its sponsor string,
canonical name or organization type changes, or it stops being a separate segregated fund; a new
link opens. Python sees each SSF once (a few thousand dimension rows, not transactions).
"""

from __future__ import annotations

import re

import psycopg

from fecflow.normalize.employers import EMPLOYER_MAP_VERSION, build_employer_map

SSF_ORGANIZATION_TYPES = ("C", "L", "M", "T", "V", "W")

# The committee name up to its first PAC word (used when CONNECTED_ORG_NM is blank). A hyphen cuts
# only as a separator ("COMMITTEE- FEDERAL", "X - PAC"), not inside a word ("CO-OPERATIVE",
# "7-ELEVEN", "MID-AMERICA"), which would leave a fragment ("CO", "7", "MID") as the sponsor.
_PAC_WORDS = re.compile(
    r"\s*(\(|\s-|-\s|-$|,|\b(EMPLOYEES?'?|POLITICAL ACTION|POLITICAL|PAC|GOOD GOVERNMENT|FEDERAL PAC|FUND)\b).*$"
)
# A name-derived stem this short, or only digits, names nobody for sure ("K", "II", "7"): no link.
_MIN_STEM_LETTERS = 3

_SSF_SQL = (
    "SELECT committee_key, btrim(connected_organization), upper(btrim(name)), organization_type "
    "FROM core.committee WHERE organization_type = ANY(%s) ORDER BY committee_key"
)
_CLOSE_SQL = (
    "UPDATE core.committee_sponsor s SET valid_to = now() WHERE s.valid_to IS NULL AND NOT EXISTS ("
    " SELECT 1 FROM _sponsor x WHERE x.committee_key = s.committee_key AND x.sponsor_name = s.sponsor_name"
    " AND x.raw = s.connected_organization AND x.organization_type IS NOT DISTINCT FROM s.organization_type)"
)
_OPEN_SQL = (
    "INSERT INTO core.committee_sponsor (committee_key, sponsor_name, connected_organization, "
    "organization_type, method, map_version, valid_from, run_id) "
    "SELECT x.committee_key, x.sponsor_name, x.raw, x.organization_type, x.method, %(map_version)s, now(), %(run_id)s "
    "FROM _sponsor x WHERE NOT EXISTS ("
    " SELECT 1 FROM core.committee_sponsor s WHERE s.committee_key = x.committee_key AND s.valid_to IS NULL) "
    "ORDER BY x.committee_key"
)

_RESTAMP_SQL = (
    "UPDATE core.committee_sponsor SET map_version = %(map_version)s "
    "WHERE valid_to IS NULL AND map_version IS DISTINCT FROM %(map_version)s"
)


def sponsor_string(connected_organization: str | None, committee_name: str | None) -> tuple[str, str] | None:
    """The sponsor text of an SSF and where it came from (``connected`` or ``name``), or None."""
    if connected_organization:
        return connected_organization, "connected"
    if committee_name:
        stem = _PAC_WORDS.sub("", committee_name).strip()
        if sum(ch.isalpha() for ch in stem) >= _MIN_STEM_LETTERS:
            return stem, "name"
    return None


def link_sponsors(conn: psycopg.Connection, *, run_id: int) -> dict[str, int]:
    """Bring ``core.committee_sponsor`` in line with ``core.committee``; return opened/closed counts."""
    ssfs = conn.execute(_SSF_SQL, (list(SSF_ORGANIZATION_TYPES),)).fetchall()
    strings = {key: sponsor_string(connected, name) for key, connected, name, _ in ssfs}
    matches = build_employer_map(s[0] for s in strings.values() if s is not None)
    conn.execute("DROP TABLE IF EXISTS _sponsor")
    conn.execute(
        "CREATE TEMP TABLE _sponsor (committee_key bigint PRIMARY KEY, raw text NOT NULL, sponsor_name text NOT NULL, "
        "organization_type text, method text NOT NULL) ON COMMIT DROP"
    )
    with conn.cursor().copy(
        "COPY _sponsor (committee_key, raw, sponsor_name, organization_type, method) FROM STDIN"
    ) as copy:
        for key, _, _, organization_type in ssfs:
            found = strings[key]
            match = matches[found[0]] if found else None
            if found and match and match.canonical_name:  # generic buckets (NONE, N/A, ...) are not sponsors
                copy.write_row(
                    (key, found[0], match.canonical_name, organization_type, f"{found[1]}:{match.method}")
                )
    params = {"map_version": EMPLOYER_MAP_VERSION, "run_id": run_id}
    closed = conn.execute(_CLOSE_SQL, params).rowcount
    opened = conn.execute(_OPEN_SQL, params).rowcount
    # Links the current map decided the same way: re-stamped, so the map is not seen as stale again.
    conn.execute(_RESTAMP_SQL, params)
    conn.execute("DROP TABLE _sponsor")
    return {"opened": opened, "closed": closed}
