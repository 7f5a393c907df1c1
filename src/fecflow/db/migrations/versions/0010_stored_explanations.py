"""Explanations stored at score time: an entity's top recipients and the committees its money went through.

``fecflow explain`` and the explorer's entity pages used to rebuild the whole window's facts and
committee graph to list one entity's recipients (0.4-1.2 s on the demo, and temp tables, so a
read-write transaction). ``scores compute`` now writes those lines while the facts are built:

* ``scores.explanation_line``: per score slot (method, as_of, window) and entity, ranked lines of
  kind ``recipient`` (recipient, side, why, amount, rows, donors) and, lean-2026.2, ``flow`` (a
  committee the money went through, the partisan dollars that came out of it);
* ``scores.explanation_slot``: which entity types of a slot have their lines stored, by which run,
  and how many lines per entity (``top``). An entity of a stored type with no lines had none.

Employers and committees are stored. Candidates are not (their lines are where the candidate's
donors gave elsewhere, a donor x candidate join too large for a full cycle), nor, for now,
industries (every fact joined to its employer's industries: 4.1 s of the 2M-row bench); both are
recomputed on demand as before.

Written beside other branches: when merging, point ``down_revision`` at the head they leave.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SLOT = ("method_version", "as_of", "window_start", "window_end", "entity_type")


def _slot_columns() -> list[sa.Column]:
    return [
        sa.Column("method_version", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "explanation_slot",
        *_slot_columns(),
        sa.Column("top", sa.Integer(), nullable=False, comment="lines kept per entity and kind"),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "entity_type IN ('committee', 'employer', 'industry')", name=op.f("ck_explanation_slot_entity_type")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_explanation_slot_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint(*SLOT, name=op.f("pk_explanation_slot")),
        schema="scores",
        comment="Score slots (method, as_of, window) and entity types whose explanation lines are stored.",
    )
    op.create_table(
        "explanation_line",
        *_slot_columns(),
        sa.Column("entity_key", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False, comment="recipient, or flow (lean-2026.2)"),
        sa.Column("rank", sa.SmallInteger(), nullable=False),
        sa.Column("recipient_id", sa.Text(), nullable=True, comment="candidate or committee FEC id"),
        sa.Column("recipient_name", sa.Text(), nullable=True),
        sa.Column(
            "committee_key", sa.BigInteger(), nullable=True, comment="flow: the committee the money went through"
        ),
        sa.Column("side", sa.Text(), nullable=True),
        sa.Column("basis", sa.Text(), nullable=True),
        sa.Column(
            "amount",
            sa.Numeric(14, 2),
            nullable=False,
            comment="net dollars; flow: the partisan dollars that came out",
        ),
        sa.Column("n_contributions", sa.Integer(), nullable=True),
        sa.Column("n_donors", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('recipient', 'flow')", name=op.f("ck_explanation_line_kind")),
        sa.ForeignKeyConstraint(
            list(SLOT),
            [f"scores.explanation_slot.{c}" for c in SLOT],
            ondelete="CASCADE",
            name=op.f("fk_explanation_line_method_version_explanation_slot"),
        ),
        sa.PrimaryKeyConstraint(*SLOT, "entity_key", "kind", "rank", name=op.f("pk_explanation_line")),
        schema="scores",
        comment="An entity's top recipients and (lean-2026.2) the committees its money went through, per score slot.",
    )


def downgrade() -> None:
    op.drop_table("explanation_line", schema="scores")
    op.drop_table("explanation_slot", schema="scores")
