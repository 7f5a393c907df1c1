"""Leaning scores v2 (lean-2026.2): conduits as reference data, PAC sponsors, what a score rests on.

* ``ref.conduit``: conduit committees with an inclusive validity range (seeded with ActBlue and WinRed,
  the two ``lean-2026.1`` names in its method parameters).
* ``core.committee_sponsor``: each separate segregated fund linked to its sponsoring organization
  (cm.txt CONNECTED_ORG_NM through the employer canonicalization), with history.
* ``scores.leaning_score``: nullable columns the new method fills (effective evidence, direct vs
  flowed partisan money, own-PAC money, the candidate donor base's coverage); ``lean-2026.1`` rows
  keep NULL there.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(14, 2)
TS = postgresql.TIMESTAMP(timezone=True)
CONDUITS = (
    # valid_from: 1 January of the year the committee registered (the day is not known here).
    ("C00401224", dt.date(2004, 1, 1), "ACTBLUE", "FEC committee C00401224, registered 2004"),
    ("C00694323", dt.date(2019, 1, 1), "WINRED", "FEC committee C00694323, registered 2019"),
)
SCORE_COLUMNS = (
    ("n_effective", sa.Numeric(12, 2), "effective count of independent deciders"),
    ("direct_amount", MONEY, "partisan money given straight to candidates and parties"),
    ("flowed_amount", MONEY, "partisan money that reached them through other committees"),
    ("own_pac_amount", MONEY, "employer: its people's gifts to its own PAC (not in the score)"),
    ("own_pac_committee_key", sa.BigInteger(), None),
    ("base_donor_share", sa.Numeric(6, 5), "candidate: share of its donors the score rests on"),
    ("base_dollar_share", sa.Numeric(6, 5), "candidate: share of its dollars the score rests on"),
)


def upgrade() -> None:
    conduit = op.create_table(
        "conduit",
        sa.Column("committee_id", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name=op.f("ck_conduit_valid_range")),
        sa.PrimaryKeyConstraint("committee_id", "valid_from", name=op.f("pk_conduit")),
        schema="ref",
        comment="Conduits (ActBlue, WinRed, ...): earmarks pass through them; never a recipient for leaning "
        "(lean-2026.2 and later; lean-2026.1 keeps its own parameter). Dates are inclusive.",
    )
    op.bulk_insert(
        conduit,
        [
            {"committee_id": cid, "valid_from": start, "valid_to": None, "name": name, "source": source}
            for cid, start, name, source in CONDUITS
        ],
    )
    op.create_table(
        "committee_sponsor",
        sa.Column("sponsor_link_key", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("committee_key", sa.BigInteger(), nullable=False),
        sa.Column(
            "sponsor_name",
            sa.Text(),
            nullable=False,
            comment="canonical employer name of CONNECTED_ORG_NM (normalize.employers), joined to core.employer",
        ),
        sa.Column("connected_organization", sa.Text(), nullable=False),
        sa.Column("organization_type", sa.Text(), nullable=True),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("map_version", sa.Text(), nullable=False),
        sa.Column("valid_from", TS, server_default=sa.text("now()"), nullable=False),
        sa.Column("valid_to", TS, nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["committee_key"],
            ["core.committee.committee_key"],
            name=op.f("fk_committee_sponsor_committee_key_committee"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_committee_sponsor_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint("sponsor_link_key", name=op.f("pk_committee_sponsor")),
        schema="core",
        comment="Separate segregated funds and their sponsoring organization (cm.txt CONNECTED_ORG_NM), with history.",
    )
    op.create_index(
        "uq_committee_sponsor_current",
        "committee_sponsor",
        ["committee_key"],
        unique=True,
        schema="core",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_index(
        op.f("ix_committee_sponsor_sponsor_name"), "committee_sponsor", ["sponsor_name"], schema="core"
    )
    for name, type_, comment in SCORE_COLUMNS:
        op.add_column(
            "leaning_score", sa.Column(name, type_, nullable=True, comment=comment), schema="scores"
        )
    op.create_foreign_key(
        op.f("fk_leaning_score_own_pac_committee_key_committee"),
        "leaning_score",
        "committee",
        ["own_pac_committee_key"],
        ["committee_key"],
        source_schema="scores",
        referent_schema="core",
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("fk_leaning_score_own_pac_committee_key_committee"),
        "leaning_score",
        schema="scores",
        type_="foreignkey",
    )
    for name, _, _ in reversed(SCORE_COLUMNS):
        op.drop_column("leaning_score", name, schema="scores")
    op.drop_index(op.f("ix_committee_sponsor_sponsor_name"), table_name="committee_sponsor", schema="core")
    op.drop_index("uq_committee_sponsor_current", table_name="committee_sponsor", schema="core")
    op.drop_table("committee_sponsor", schema="core")
    op.drop_table("conduit", schema="ref")
