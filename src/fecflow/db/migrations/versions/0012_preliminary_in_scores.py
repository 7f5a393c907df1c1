"""Scores that may count preliminary e-filed rows, and say how much of each score rests on them.

``core.efiling_transaction`` rows (e-filed schedule rows until the processed bulk row arrives) get
the keys normalize gives bulk rows, filled when the rows are written and refreshed after every bulk
normalize (:func:`fecflow.normalize.preliminary.key_preliminary`): ``source`` (the bulk file the
FEC will put the transaction in), ``recipient_committee_key`` (the filer),
``contributor_committee_key`` and ``candidate_key`` (the other id, for committee rows),
``employer_key`` (through ``core.employer_alias``) and ``donor_key`` (the donor-name rule).
``scores compute --include-preliminary`` counts the ones in ``core.efiling_preliminary`` (recreated
to carry the new columns) beside ``core.contribution``; ``scores.leaning_score.preliminary_amount``
holds the counted dollars of the entity's own rows that came from them (NULL: not included).

Written beside other branches' revisions: when merging, point ``down_revision`` at the head they
leave (and renumber this file if another 0012 landed first).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

PRELIMINARY_VIEW = """
CREATE VIEW core.efiling_preliminary AS
SELECT t.*, f.form_type, f.report_type, f.coverage_from, f.coverage_through
  FROM core.efiling_transaction t
  JOIN core.efiling f USING (filing_id)
 WHERE t.status = 'preliminary' AND f.superseded_by_filing_id IS NULL
"""
KEYS = (
    ("source", sa.Text(), "indiv, pas2 or oth: the bulk file the processed row will be in"),
    ("recipient_committee_key", sa.BigInteger(), "the filer (core.committee)"),
    ("contributor_committee_key", sa.BigInteger(), "committee rows: the other committee"),
    ("candidate_key", sa.BigInteger(), "pas2 rows: the candidate the other id names"),
    ("employer_key", sa.BigInteger(), "through core.employer_alias, as bulk rows"),
    ("donor_key", sa.Text(), "normalized name | zip5, as bulk rows"),
)


def upgrade() -> None:
    op.execute("DROP VIEW core.efiling_preliminary")
    for name, type_, comment in KEYS:
        op.add_column("efiling_transaction", sa.Column(name, type_, comment=comment), schema="core")
    op.execute(PRELIMINARY_VIEW)
    op.add_column(
        "leaning_score",
        sa.Column(
            "preliminary_amount",
            sa.Numeric(14, 2),
            comment="dollars of the entity's counted rows from preliminary e-filed rows (NULL: not included)",
        ),
        schema="scores",
    )


def downgrade() -> None:
    op.drop_column("leaning_score", "preliminary_amount", schema="scores")
    op.execute("DROP VIEW core.efiling_preliminary")
    for name, _, _ in reversed(KEYS):
        op.drop_column("efiling_transaction", name, schema="core")
    op.execute(PRELIMINARY_VIEW)
