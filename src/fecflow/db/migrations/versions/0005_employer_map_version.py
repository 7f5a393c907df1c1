"""Which version of the employer map decided each alias and each employer's industry.

An employer string is mapped once, when a snapshot first brings it; the mapping code and its curated
lists improve between releases. ``core.employer_alias.map_version`` records the
:data:`fecflow.normalize.employers.EMPLOYER_MAP_VERSION` that mapped the string, and
``core.employer.map_version`` the one that decided the employer's industry (found or not), so
normalize can map again what an older version decided (:mod:`fecflow.normalize.employer_map`).
Existing rows were written by the code of version 2026.1. No server default: the code writes the
version it runs.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

FIRST_VERSION = "2026.1"
ALIAS_COMMENT = "EMPLOYER_MAP_VERSION that mapped this string (an older one is mapped again by normalize)"
EMPLOYER_COMMENT = "EMPLOYER_MAP_VERSION that decided this employer's industry (found or not)"


def upgrade() -> None:
    op.add_column(
        "employer_alias",
        sa.Column("map_version", sa.Text(), server_default=sa.text(f"'{FIRST_VERSION}'"), nullable=False),
        schema="core",
    )
    op.alter_column(
        "employer_alias", "map_version", server_default=None, comment=ALIAS_COMMENT, schema="core"
    )
    op.add_column("employer", sa.Column("map_version", sa.Text(), nullable=True), schema="core")
    op.execute(
        sa.text(
            "UPDATE core.employer e SET map_version = :v "
            "WHERE EXISTS (SELECT 1 FROM core.employer_alias a WHERE a.employer_key = e.employer_key)"
        ).bindparams(v=FIRST_VERSION)
    )
    op.alter_column("employer", "map_version", comment=EMPLOYER_COMMENT, schema="core")


def downgrade() -> None:
    op.drop_column("employer", "map_version", schema="core")
    op.drop_column("employer_alias", "map_version", schema="core")
