"""How surely, and on what evidence, a raw employer string joined an employer (issue #19).

Normalize now joins a new employer name to another name's employer when the strings (spacing,
truncation, a typo, leading words, a shared brand, an acronym) and the rows (shared states, ZIP3s,
recipient committees, occupations, corporate PACs) agree (``core.employer_alias.method`` =
``similar``). ``score`` (0-1) and ``evidence`` (JSON: kind of string evidence, the string's own
name, the name it joined, each row overlap) record the decision; both are NULL for the per-string
methods, whose ``confidence`` says all there is. No backfill: existing rows were decided per string.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCORE_COMMENT = "method similar: how surely the string joined its employer (string evidence x row evidence)"
EVIDENCE_COMMENT = "method similar: kind of string evidence, own name, joined name, row overlaps (0-1)"


def upgrade() -> None:
    op.add_column(
        "employer_alias",
        sa.Column("score", sa.Numeric(3, 2), nullable=True, comment=SCORE_COMMENT),
        schema="core",
    )
    op.add_column(
        "employer_alias",
        sa.Column("evidence", postgresql.JSONB(), nullable=True, comment=EVIDENCE_COMMENT),
        schema="core",
    )


def downgrade() -> None:
    op.drop_column("employer_alias", "evidence", schema="core")
    op.drop_column("employer_alias", "score", schema="core")
