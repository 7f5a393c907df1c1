"""FEC electronic filings: staged lines and quarantined lines per filing, filings as records, and each
report's summary lines next to its own itemized sums.

``staging.efiling`` (one row per staged filing: source, version, sha256, lines = parsed + rejected),
``staging.efiling_line`` (every parsed line: record type, version, fields as JSONB, raw bytes),
``staging.efiling_reject`` (quarantined lines with a reason), ``core.efiling`` (filer, form, period,
amends / superseded by), ``core.efiling_summary`` (reconciliation and unitemized totals),
``core.efiling_transaction`` (schedule A/B/E rows, preliminary until the processed bulk row of the
same transaction supersedes them) and the view ``core.efiling_preliminary`` (the ones that count).

Written beside revisions 0006 (scores) and 0007 (employers) of parallel branches: when merging, point
``down_revision`` at the head those leave.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = TIMESTAMP(timezone=True)
MONEY = sa.Numeric(14, 2)

# The preliminary rows that count today: not superseded by a processed bulk row, and from the latest
# filing of their amendment chain. Add them to core.contribution's live rows: each dollar once.
PRELIMINARY_VIEW = """
CREATE VIEW core.efiling_preliminary AS
SELECT t.*, f.form_type, f.report_type, f.coverage_from, f.coverage_through
  FROM core.efiling_transaction t
  JOIN core.efiling f USING (filing_id)
 WHERE t.status = 'preliminary' AND f.superseded_by_filing_id IS NULL
"""


def upgrade() -> None:
    op.create_table(
        "efiling",
        sa.Column("filing_id", sa.BigInteger(), nullable=False, comment="FEC filing id (the .fec file name)"),
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("member", sa.Text(), comment="member of a daily archive; NULL for a single downloaded filing"),
        sa.Column("version", sa.Text(), comment=".fec format version from the header (NULL when unreadable)"),
        sa.Column("header", JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("parsed", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("audit_id", sa.BigInteger()),
        sa.Column("staged_at", TS, server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("status IN ('staged', 'quarantined')", name=op.f("ck_efiling_status")),
        sa.CheckConstraint("lines = parsed + rejected", name=op.f("ck_efiling_lines_balance")),
        sa.ForeignKeyConstraint(
            ["source_file_id"], ["ops.source_file.source_file_id"], name=op.f("fk_efiling_source_file_id_source_file")
        ),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["ops.ingest_run_audits.audit_id"], name=op.f("fk_efiling_audit_id_ingest_run_audits")
        ),
        sa.PrimaryKeyConstraint("filing_id", name=op.f("pk_efiling")),
        schema="staging",
        comment="One e-filing as staged: its source, format version, sha256 and line counts.",
    )
    op.create_table(
        "efiling_line",
        sa.Column("filing_id", sa.BigInteger(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column(
            "record_type", sa.Text(), nullable=False, comment="HDR, TEXT, BLANK or the form/schedule type (SA11AI, ...)"
        ),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("fields", JSONB(), nullable=False, comment="the fields as named by the fecfile parser, all text"),
        sa.Column("raw", sa.LargeBinary(), nullable=False, comment="the line's bytes, its line end included"),
        sa.Column("recoded", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["staging.efiling.filing_id"], name=op.f("fk_efiling_line_filing_id_efiling"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filing_id", "line_number", name=op.f("pk_efiling_line")),
        schema="staging",
        comment="Every parsed line of every staged e-filing, byte for byte.",
    )
    op.create_index(op.f("ix_efiling_line_record_type"), "efiling_line", ["record_type"], schema="staging")
    op.create_table(
        "efiling_reject",
        sa.Column("filing_id", sa.BigInteger(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("record_type", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text()),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["staging.efiling.filing_id"], name=op.f("fk_efiling_reject_filing_id_efiling"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filing_id", "line_number", name=op.f("pk_efiling_reject")),
        schema="staging",
        comment="Quarantined e-filing lines (unknown version, unmapped record, ...), with the reason.",
    )
    op.create_table(
        "efiling",
        sa.Column("filing_id", sa.BigInteger(), nullable=False),
        sa.Column("committee_id", sa.Text(), comment="filer_committee_id_number of the form record"),
        sa.Column(
            "form_type", sa.Text(), nullable=False, comment="F3N, F3XA, F99, ... (the first form record)"
        ),
        sa.Column("report_family", sa.Text(), comment="F3, F3X or F3P for reports with a summary page"),
        sa.Column("report_type", sa.Text(), comment="report_code: Q1, M2, YE, 12P, ..."),
        sa.Column("coverage_from", sa.Date()),
        sa.Column("coverage_through", sa.Date()),
        sa.Column("date_signed", sa.Date()),
        sa.Column(
            "received_date", sa.Date(), comment="day of the FEC daily archive that carried it (NULL otherwise)"
        ),
        sa.Column("version", sa.Text()),
        sa.Column(
            "amends_filing_id", sa.BigInteger(), comment="the filing this one amends (header report_id FEC-n)"
        ),
        sa.Column("amendment_number", sa.Integer()),
        sa.Column(
            "superseded_by_filing_id", sa.BigInteger(), comment="the latest amendment that replaces this filing"
        ),
        sa.Column("run_id", sa.BigInteger()),
        sa.ForeignKeyConstraint(["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_efiling_run_id_ingest_run")),
        sa.PrimaryKeyConstraint("filing_id", name=op.f("pk_efiling")),
        schema="core",
        comment="E-filings as records: who filed what, for which period, and which amendment replaces it.",
    )
    op.create_index(
        op.f("ix_efiling_committee_id_coverage_through"), "efiling", ["committee_id", "coverage_through"], schema="core"
    )
    op.create_index(op.f("ix_efiling_amends_filing_id"), "efiling", ["amends_filing_id"], schema="core")
    op.create_table(
        "efiling_summary",
        sa.Column("filing_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Text(), nullable=False, comment="FEC summary line, e.g. 11(a)(i)"),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("label", sa.Text(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("summary_amount", MONEY, comment="column A (this period) on the summary page"),
        sa.Column("itemized_amount", MONEY, comment="sum of the non-memo itemized rows (rule 'equal')"),
        sa.Column("itemized_rows", sa.Integer()),
        sa.Column("status", sa.Text(), nullable=False),
        sa.CheckConstraint("rule IN ('equal', 'unitemized')", name=op.f("ck_efiling_summary_rule")),
        sa.CheckConstraint(
            "status IN ('match', 'mismatch', 'kept', 'missing')", name=op.f("ck_efiling_summary_status")
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["core.efiling.filing_id"], name=op.f("fk_efiling_summary_filing_id_efiling"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("filing_id", "line", name=op.f("pk_efiling_summary")),
        schema="core",
        comment="A report's summary lines next to its own itemized sums; unitemized totals kept as data.",
    )

    op.create_table(
        "efiling_transaction",
        sa.Column("filing_id", sa.BigInteger(), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("committee_id", sa.Text(), nullable=False, comment="the filer"),
        sa.Column("transaction_id", sa.Text(), comment="the filer's TRAN_ID, kept in the bulk files"),
        sa.Column("line", sa.Text(), nullable=False, comment="schedule line as filed: SA11AI, SB23, SE, ..."),
        sa.Column(
            "transaction_type", sa.Text(), nullable=False, comment="the type the FEC gives this line in bulk files"
        ),
        sa.Column("memo_code", sa.Text()),
        sa.Column("entity_type", sa.Text()),
        sa.Column("name", sa.Text()),
        sa.Column("city", sa.Text()),
        sa.Column("state", sa.Text()),
        sa.Column("zip5", sa.Text()),
        sa.Column("employer", sa.Text()),
        sa.Column("occupation", sa.Text()),
        sa.Column("other_id", sa.Text(), comment="donor / beneficiary committee or candidate id"),
        sa.Column("transaction_date", sa.Date()),
        sa.Column("transaction_date_raw", sa.Text()),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("rule_version", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("counts_as_contribution", sa.Boolean(), nullable=False),
        sa.Column("is_refund", sa.Boolean(), nullable=False),
        sa.Column("filer_side", sa.Text(), nullable=False),
        sa.Column(
            "status", sa.Text(), nullable=False, comment="preliminary, or superseded by the processed bulk row"
        ),
        sa.Column(
            "superseded_by_sub_id", sa.BigInteger(), comment="SUB_ID of the core.contribution row that replaced it"
        ),
        sa.Column("superseded_at", TS),
        sa.Column("superseded_run_id", sa.BigInteger()),
        sa.Column("run_id", sa.BigInteger()),
        sa.CheckConstraint("status IN ('preliminary', 'superseded')", name=op.f("ck_efiling_transaction_status")),
        sa.CheckConstraint(
            "status = 'preliminary' OR superseded_by_sub_id IS NOT NULL",
            name=op.f("ck_efiling_transaction_superseded_has_sub_id"),
        ),
        sa.ForeignKeyConstraint(
            ["filing_id"], ["core.efiling.filing_id"], name=op.f("fk_efiling_transaction_filing_id_efiling"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["superseded_run_id"], ["ops.ingest_run.run_id"],
            name=op.f("fk_efiling_transaction_superseded_run_id_ingest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_efiling_transaction_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint("filing_id", "line_number", name=op.f("pk_efiling_transaction")),
        schema="core",
        comment="E-filed schedule A/B/E rows, preliminary until the processed bulk row of the same transaction arrives.",
    )
    op.create_index(
        op.f("ix_efiling_transaction_committee_id_transaction_id"), "efiling_transaction",
        ["committee_id", "transaction_id"], schema="core",
    )
    op.execute(PRELIMINARY_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW core.efiling_preliminary")
    op.drop_table("efiling_transaction", schema="core")
    op.drop_table("efiling_summary", schema="core")
    op.drop_index(op.f("ix_efiling_amends_filing_id"), table_name="efiling", schema="core")
    op.drop_index(op.f("ix_efiling_committee_id_coverage_through"), table_name="efiling", schema="core")
    op.drop_table("efiling", schema="core")
    op.drop_table("efiling_reject", schema="staging")
    op.drop_index(op.f("ix_efiling_line_record_type"), table_name="efiling_line", schema="staging")
    op.drop_table("efiling_line", schema="staging")
    op.drop_table("efiling", schema="staging")
