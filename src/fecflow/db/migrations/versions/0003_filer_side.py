"""Who gave and who received: ``filer_side`` in the counting rules and on every contribution.

A transaction row is filed by CMTE_ID (``core.contribution.recipient_committee_key``). For receipts
that is the receiver; for contributions made (24K, 24Z, ...), spending, pass-throughs out and the
refunds a giver gets back (17R, 17Z) it is the giver. Until now the leaning engine kept its own list
of giver-filed types; the rule table now says it (``ref.counting_rule.filer_side``), normalization
stamps it on each row, and the view ``core.contribution_flow`` gives every live row its giver and
receiver. Existing rows are backfilled from their rule; the counting rules themselves (what counts,
signs) do not change, so the rule version stays.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen copy of fecflow.normalize.rules.GIVER_FILED_TYPES as of this revision (for the backfill).
GIVER_FILED_TYPES = (
    "16J", "16K", "16L", "17R", "17U", "17Y", "17Z", "20", "20A", "20B", "20D", "20V", "22G", "22H", "22X",
    "24A", "24C", "24E", "24F", "24G", "24H", "24I", "24K", "24N", "24P", "24R", "24T", "24U", "24Z",
    "29", "40", "41", "42",
)  # fmt: skip

CONTRIBUTION_FLOW = """
CREATE VIEW core.contribution_flow AS
SELECT c.contribution_id, c.sub_id, c.source, c.cycle, c.transaction_date, c.transaction_type, c.memo_code,
       c.category, c.counts_as_contribution, c.is_refund, c.filer_side,
       c.recipient_committee_key AS filer_committee_key,
       CASE WHEN c.filer_side = 'giver' THEN c.recipient_committee_key ELSE c.contributor_committee_key END
           AS giver_committee_key,
       CASE WHEN c.filer_side = 'giver' THEN c.contributor_committee_key ELSE c.recipient_committee_key END
           AS receiver_committee_key,
       CASE WHEN c.filer_side = 'giver' THEN NULL ELSE c.donor_key END AS donor_key,
       c.candidate_key, c.conduit_committee_id, c.employer_key, c.amount,
       CASE WHEN c.counts_as_contribution THEN CASE WHEN c.is_refund THEN -c.amount ELSE c.amount END
            ELSE 0 END AS net_contribution
FROM core.contribution c
WHERE c.deleted_at IS NULL
"""

VIEW_COMMENT = (
    "Live contributions with their giver and receiver oriented by ref.counting_rule.filer_side; "
    "SUM(net_contribution) gives net contributions under the counting rules (refunds negative, memos 0)."
)


def upgrade() -> None:
    op.add_column(
        "counting_rule",
        sa.Column(
            "filer_side",
            sa.Text(),
            server_default=sa.text("'recipient'"),
            nullable=False,
            comment="the filer's side of the money: recipient or giver (refunds: the side of the original money)",
        ),
        schema="ref",
    )
    op.create_check_constraint(
        op.f("ck_counting_rule_filer_side"), "counting_rule", "filer_side IN ('recipient', 'giver')", schema="ref"
    )
    op.execute(
        sa.text("UPDATE ref.counting_rule SET filer_side = 'giver' WHERE transaction_type = ANY(:types)").bindparams(
            types=list(GIVER_FILED_TYPES)
        )
    )
    op.add_column(
        "contribution",
        sa.Column(
            "filer_side",
            sa.Text(),
            server_default=sa.text("'recipient'"),
            nullable=False,
            comment="from ref.counting_rule: giver when the filer (recipient_committee_key) gave the money",
        ),
        schema="core",
    )
    op.create_check_constraint(
        op.f("ck_contribution_filer_side"), "contribution", "filer_side IN ('recipient', 'giver')", schema="core"
    )
    op.execute(
        sa.text(
            "UPDATE core.contribution SET filer_side = 'giver' WHERE upper(btrim(transaction_type)) = ANY(:types)"
        ).bindparams(types=list(GIVER_FILED_TYPES))
    )
    op.alter_column(
        "contribution",
        "recipient_committee_key",
        existing_type=sa.BigInteger(),
        existing_nullable=False,
        comment="the filer (CMTE_ID); the receiver unless filer_side = 'giver' (see core.contribution_flow)",
        schema="core",
    )
    op.alter_column(
        "contribution",
        "contributor_committee_key",
        existing_type=sa.BigInteger(),
        existing_nullable=True,
        comment="OTHER_ID when it is a committee; the receiver when filer_side = 'giver'",
        schema="core",
    )
    op.execute(CONTRIBUTION_FLOW)
    op.execute(sa.text(f"COMMENT ON VIEW core.contribution_flow IS '{VIEW_COMMENT}'"))


def downgrade() -> None:
    op.execute("DROP VIEW core.contribution_flow")
    op.alter_column(
        "contribution", "contributor_committee_key", existing_type=sa.BigInteger(), comment=None, schema="core"
    )
    op.alter_column(
        "contribution", "recipient_committee_key", existing_type=sa.BigInteger(), comment=None, schema="core"
    )
    op.drop_constraint(op.f("ck_contribution_filer_side"), "contribution", schema="core", type_="check")
    op.drop_column("contribution", "filer_side", schema="core")
    op.drop_constraint(op.f("ck_counting_rule_filer_side"), "counting_rule", schema="ref", type_="check")
    op.drop_column("counting_rule", "filer_side", schema="ref")
