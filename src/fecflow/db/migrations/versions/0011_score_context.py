"""Each score slot's committee sides and flows, kept so any entity's lines are one read-only query.

``fecflow explain`` and the explorer list where an entity's money went. Employers and committees have
their lines stored at score time (0010). Candidates and industries did not: their lines were rebuilt
from the whole window's facts and committee graph, in temporary tables, so in a read-write
transaction, and the slower the bigger the window. What those rebuilds need from the window is small
and is now kept per slot (method, as_of, window) while ``scores compute`` has it:

* ``scores.context_slot``: which slots have their context, from which run, and whether the slot
  counted preliminary e-filed rows;
* ``scores.context_committee``: per committee its side (alignment, basis), the one candidate it is an
  authorized committee of, and (lean-2026.2) its solved flow (D / R / other fractions, partisan
  share, mean, variance);
* ``scores.context_candidate``: per candidate the alignment of its party;
* ``scores.context_own_pac``: (lean-2026.2) employers and their own PACs.

With them an entity's lines are one SELECT over that entity's own rows of ``core.contribution``
(:mod:`fecflow.scores.context`): the explorer runs every request ``READ ONLY``.

Written beside other branches' revisions: when merging, point ``down_revision`` at the head they
leave (and renumber this file if another 0011 landed first).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SLOT = ("method_version", "as_of", "window_start", "window_end")


def _slot_columns() -> list[sa.Column]:
    return [
        sa.Column("method_version", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
    ]


def _slot_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        list(SLOT),
        [f"scores.context_slot.{c}" for c in SLOT],
        ondelete="CASCADE",
        name=op.f(f"fk_{table}_method_version_context_slot"),
    )


def upgrade() -> None:
    op.create_table(
        "context_slot",
        *_slot_columns(),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column(
            "include_preliminary",
            sa.Boolean(),
            server_default=sa.text("false"),
            nullable=False,
            comment="the slot counted e-filed rows not yet processed (scores compute --include-preliminary)",
        ),
        sa.ForeignKeyConstraint(["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_context_slot_run_id_ingest_run")),
        sa.PrimaryKeyConstraint(*SLOT, name=op.f("pk_context_slot")),
        schema="scores",
        comment="Score slots whose committee sides and flows are kept (scores.context_*).",
    )
    op.create_table(
        "context_committee",
        *_slot_columns(),
        sa.Column("committee_key", sa.BigInteger(), nullable=False),
        sa.Column("alignment", sa.Text(), nullable=True, comment="D, R, O or NULL (undetermined)"),
        sa.Column("basis", sa.Text(), nullable=True, comment="conduit, candidate, party, derived; NULL: no fixed side"),
        sa.Column("candidate_key", sa.BigInteger(), nullable=True, comment="the one candidate it is authorized by"),
        sa.Column("dem_frac", sa.Numeric(), nullable=True, comment="lean-2026.2 flow: D part of each dollar given"),
        sa.Column("rep_frac", sa.Numeric(), nullable=True),
        sa.Column("other_frac", sa.Numeric(), nullable=True),
        sa.Column("partisan", sa.Numeric(), nullable=True),
        sa.Column("mean", sa.Numeric(), nullable=True),
        sa.Column("var", sa.Numeric(), nullable=True),
        _slot_fk("context_committee"),
        sa.PrimaryKeyConstraint(*SLOT, "committee_key", name=op.f("pk_context_committee")),
        schema="scores",
        comment="Per score slot and committee: its side, its candidate and (lean-2026.2) its solved flow.",
    )
    op.create_table(
        "context_candidate",
        *_slot_columns(),
        sa.Column("candidate_key", sa.BigInteger(), nullable=False),
        sa.Column("alignment", sa.Text(), nullable=False),
        _slot_fk("context_candidate"),
        sa.PrimaryKeyConstraint(*SLOT, "candidate_key", name=op.f("pk_context_candidate")),
        schema="scores",
        comment="Per score slot and candidate: the alignment of its party.",
    )
    op.create_table(
        "context_own_pac",
        *_slot_columns(),
        sa.Column("employer_key", sa.BigInteger(), nullable=False),
        sa.Column("committee_key", sa.BigInteger(), nullable=False),
        _slot_fk("context_own_pac"),
        sa.PrimaryKeyConstraint(*SLOT, "employer_key", "committee_key", name=op.f("pk_context_own_pac")),
        schema="scores",
        comment="Per score slot (lean-2026.2): employers and their own PACs.",
    )


def downgrade() -> None:
    op.drop_table("context_own_pac", schema="scores")
    op.drop_table("context_candidate", schema="scores")
    op.drop_table("context_committee", schema="scores")
    op.drop_table("context_slot", schema="scores")
