"""Initial schema: ops, staging, ref, core, scores (see docs/data/schema.md).

Revision ID: 0001
Revises:
Create Date: 2026-11-26 02:38:40.244509
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


SCHEMAS = ("ops", "staging", "ref", "core", "scores")


def upgrade() -> None:
    for schema in SCHEMAS:
        op.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    op.create_table(
        "candidate",
        sa.Column("candidate_key", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("party", sa.Text(), nullable=True),
        sa.Column("election_year", sa.SmallInteger(), nullable=True),
        sa.Column("office", sa.Text(), nullable=True),
        sa.Column("office_state", sa.Text(), nullable=True),
        sa.Column("office_district", sa.Text(), nullable=True),
        sa.Column("incumbent_challenger", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("principal_committee_id", sa.Text(), nullable=True),
        sa.Column("is_placeholder", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("candidate_key", name=op.f("pk_candidate")),
        sa.UniqueConstraint("candidate_id", name=op.f("uq_candidate_candidate_id")),
        schema="core",
    )
    op.create_table(
        "employer",
        sa.Column("employer_key", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("canonical_name", sa.Text(), nullable=False),
        sa.Column("is_generic", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("bucket", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("employer_key", name=op.f("pk_employer")),
        sa.UniqueConstraint("canonical_name", name=op.f("uq_employer_canonical_name")),
        schema="core",
    )
    op.create_table(
        "ingest_run",
        sa.Column("run_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column(
            "args",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column(
            "started_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("finished_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("hostname", sa.Text(), nullable=True),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("fecflow_version", sa.Text(), nullable=True),
        sa.Column("resumed_from_run_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'interrupted')", name=op.f("ck_ingest_run_status")
        ),
        sa.ForeignKeyConstraint(
            ["resumed_from_run_id"],
            ["ops.ingest_run.run_id"],
            name=op.f("fk_ingest_run_resumed_from_run_id_ingest_run"),
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_ingest_run")),
        schema="ops",
    )
    op.create_table(
        "committee_type",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_committee_type")),
        schema="ref",
    )
    op.create_table(
        "counting_rule",
        sa.Column("rule_version", sa.Text(), nullable=False),
        sa.Column("transaction_type", sa.Text(), nullable=False),
        sa.Column("memo", sa.Boolean(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("counts_as_contribution", sa.Boolean(), nullable=False),
        sa.Column("is_refund", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("sign", sa.SmallInteger(), server_default="1", nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "category IN ('contribution', 'earmarked_contribution', 'memo', 'conduit_passthrough', 'refund', 'candidate_self', 'independent_expenditure_for', 'independent_expenditure_against', 'transfer', 'loan', 'other')",
            name=op.f("ck_counting_rule_category"),
        ),
        sa.CheckConstraint("sign IN (-1, 0, 1)", name=op.f("ck_counting_rule_sign")),
        sa.PrimaryKeyConstraint("rule_version", "transaction_type", "memo", name=op.f("pk_counting_rule")),
        schema="ref",
    )
    op.create_table(
        "generic_employer",
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pattern", name=op.f("pk_generic_employer")),
        schema="ref",
        comment="Normalized employer strings that are buckets (RETIRED, SELF-EMPLOYED, ...), not employers.",
    )
    op.create_table(
        "naics",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.Column("parent_code", sa.Text(), nullable=True),
        sa.CheckConstraint("level BETWEEN 2 AND 6", name=op.f("ck_naics_level")),
        sa.ForeignKeyConstraint(["parent_code"], ["ref.naics.code"], name=op.f("fk_naics_parent_code_naics")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_naics")),
        schema="ref",
    )
    op.create_table(
        "party",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("alignment", sa.Text(), nullable=False),
        sa.CheckConstraint("alignment IN ('D', 'R', 'O')", name=op.f("ck_party_alignment")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_party")),
        schema="ref",
    )
    op.create_table(
        "transaction_type",
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_transaction_type")),
        schema="ref",
    )
    op.create_table(
        "method",
        sa.Column("method_version", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.PrimaryKeyConstraint("method_version", name=op.f("pk_method")),
        schema="scores",
    )
    op.create_table(
        "committee",
        sa.Column("committee_key", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("committee_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("committee_type", sa.Text(), nullable=True),
        sa.Column("designation", sa.Text(), nullable=True),
        sa.Column("party", sa.Text(), nullable=True),
        sa.Column("filing_frequency", sa.Text(), nullable=True),
        sa.Column("organization_type", sa.Text(), nullable=True),
        sa.Column("connected_organization", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("candidate_id", sa.Text(), nullable=True),
        sa.Column("candidate_key", sa.BigInteger(), nullable=True),
        sa.Column("is_placeholder", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["candidate_key"],
            ["core.candidate.candidate_key"],
            name=op.f("fk_committee_candidate_key_candidate"),
        ),
        sa.PrimaryKeyConstraint("committee_key", name=op.f("pk_committee")),
        sa.UniqueConstraint("committee_id", name=op.f("uq_committee_committee_id")),
        schema="core",
    )
    op.create_table(
        "contribution_history",
        sa.Column("contribution_history_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sub_id", sa.BigInteger(), nullable=False),
        sa.Column("change", sa.Text(), nullable=False),
        sa.Column("old_values", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("new_values", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "changed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint(
            "change IN ('insert', 'update', 'delete', 'restore')", name=op.f("ck_contribution_history_change")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_contribution_history_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint("contribution_history_id", name=op.f("pk_contribution_history")),
        schema="core",
    )
    op.create_index(
        op.f("ix_contribution_history_sub_id"),
        "contribution_history",
        ["sub_id"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "employer_alias",
        sa.Column("raw_employer", sa.Text(), nullable=False),
        sa.Column("employer_key", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_key"],
            ["core.employer.employer_key"],
            name=op.f("fk_employer_alias_employer_key_employer"),
        ),
        sa.PrimaryKeyConstraint("raw_employer", name=op.f("pk_employer_alias")),
        schema="core",
        comment="Every distinct raw employer string and the canonical employer it maps to.",
    )
    op.create_index(
        op.f("ix_employer_alias_employer_key"),
        "employer_alias",
        ["employer_key"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "industry",
        sa.Column("industry_key", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("naics_code", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("level", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["naics_code"], ["ref.naics.code"], name=op.f("fk_industry_naics_code_naics")
        ),
        sa.PrimaryKeyConstraint("industry_key", name=op.f("pk_industry")),
        sa.UniqueConstraint("naics_code", name=op.f("uq_industry_naics_code")),
        schema="core",
    )
    op.create_table(
        "api_pull",
        sa.Column("pull_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cursor", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column("pages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("rows", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "started_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column(
            "updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.CheckConstraint("status IN ('running', 'done', 'failed')", name=op.f("ck_api_pull_status")),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_api_pull_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint("pull_id", name=op.f("pk_api_pull")),
        schema="ops",
    )
    op.create_table(
        "source_file",
        sa.Column("source_file_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("cycle", sa.SmallInteger(), nullable=True),
        sa.Column("file_type", sa.Text(), nullable=False),
        sa.Column("member", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("http_status", sa.SmallInteger(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("last_modified", sa.Text(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=True),
        sa.Column("elapsed_s", sa.Float(), nullable=True),
        sa.Column(
            "fetched_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("storage_uri", sa.Text(), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "status IN ('downloaded', 'unchanged', 'failed', 'local')", name=op.f("ck_source_file_status")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_source_file_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint("source_file_id", name=op.f("pk_source_file")),
        schema="ops",
    )
    op.create_index(op.f("ix_source_file_sha256"), "source_file", ["sha256"], unique=False, schema="ops")
    op.create_index(
        op.f("ix_source_file_url_fetched_at"),
        "source_file",
        ["url", "fetched_at"],
        unique=False,
        schema="ops",
    )
    op.create_table(
        "employer_industry_rule",
        sa.Column("rule_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("pattern", sa.Text(), nullable=False),
        sa.Column("naics_code", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.Column("priority", sa.SmallInteger(), server_default="100", nullable=False),
        sa.CheckConstraint(
            "method IN ('curated', 'name_rule', 'occupation')", name=op.f("ck_employer_industry_rule_method")
        ),
        sa.ForeignKeyConstraint(
            ["naics_code"], ["ref.naics.code"], name=op.f("fk_employer_industry_rule_naics_code_naics")
        ),
        sa.PrimaryKeyConstraint("rule_id", name=op.f("pk_employer_industry_rule")),
        sa.UniqueConstraint("method", "pattern", name=op.f("uq_employer_industry_rule_method_pattern")),
        schema="ref",
    )
    op.create_table(
        "candidate_committee_link",
        sa.Column("link_key", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("linkage_id", sa.BigInteger(), nullable=False),
        sa.Column("candidate_key", sa.BigInteger(), nullable=True),
        sa.Column("committee_key", sa.BigInteger(), nullable=False),
        sa.Column("candidate_id_raw", sa.Text(), nullable=False),
        sa.Column("candidate_election_year", sa.SmallInteger(), nullable=True),
        sa.Column("fec_election_year", sa.SmallInteger(), nullable=True),
        sa.Column("committee_type", sa.Text(), nullable=True),
        sa.Column("designation", sa.Text(), nullable=True),
        sa.Column("anomaly", sa.Text(), nullable=True),
        sa.Column(
            "valid_from", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("valid_to", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("source_file_id", sa.BigInteger(), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_key"],
            ["core.candidate.candidate_key"],
            name=op.f("fk_candidate_committee_link_candidate_key_candidate"),
        ),
        sa.ForeignKeyConstraint(
            ["committee_key"],
            ["core.committee.committee_key"],
            name=op.f("fk_candidate_committee_link_committee_key_committee"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_candidate_committee_link_run_id_ingest_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_candidate_committee_link_source_file_id_source_file"),
        ),
        sa.PrimaryKeyConstraint("link_key", name=op.f("pk_candidate_committee_link")),
        sa.UniqueConstraint("linkage_id", name=op.f("uq_candidate_committee_link_linkage_id")),
        schema="core",
    )
    op.create_index(
        op.f("ix_candidate_committee_link_candidate_key"),
        "candidate_committee_link",
        ["candidate_key"],
        unique=False,
        schema="core",
    )
    op.create_index(
        op.f("ix_candidate_committee_link_committee_key"),
        "candidate_committee_link",
        ["committee_key"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "candidate_history",
        sa.Column("candidate_history_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("candidate_key", sa.BigInteger(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("record_hash", sa.Text(), nullable=False),
        sa.Column("valid_from", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("valid_to", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("source_file_id", sa.BigInteger(), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["candidate_key"],
            ["core.candidate.candidate_key"],
            name=op.f("fk_candidate_history_candidate_key_candidate"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_candidate_history_run_id_ingest_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_candidate_history_source_file_id_source_file"),
        ),
        sa.PrimaryKeyConstraint("candidate_history_id", name=op.f("pk_candidate_history")),
        schema="core",
    )
    op.create_index(
        "uq_candidate_history_current",
        "candidate_history",
        ["candidate_key"],
        unique=True,
        schema="core",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_table(
        "committee_history",
        sa.Column("committee_history_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("committee_key", sa.BigInteger(), nullable=False),
        sa.Column("attributes", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("record_hash", sa.Text(), nullable=False),
        sa.Column("valid_from", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("valid_to", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("source_file_id", sa.BigInteger(), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["committee_key"],
            ["core.committee.committee_key"],
            name=op.f("fk_committee_history_committee_key_committee"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_committee_history_run_id_ingest_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_committee_history_source_file_id_source_file"),
        ),
        sa.PrimaryKeyConstraint("committee_history_id", name=op.f("pk_committee_history")),
        schema="core",
    )
    op.create_index(
        "uq_committee_history_current",
        "committee_history",
        ["committee_key"],
        unique=True,
        schema="core",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.create_table(
        "contribution",
        sa.Column("contribution_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("sub_id", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("cycle", sa.SmallInteger(), nullable=False),
        sa.Column("recipient_committee_key", sa.BigInteger(), nullable=False),
        sa.Column("contributor_committee_key", sa.BigInteger(), nullable=True),
        sa.Column("candidate_key", sa.BigInteger(), nullable=True),
        sa.Column("conduit_committee_id", sa.Text(), nullable=True),
        sa.Column("other_id", sa.Text(), nullable=True),
        sa.Column("employer_key", sa.BigInteger(), nullable=True),
        sa.Column("raw_employer", sa.Text(), nullable=True),
        sa.Column("occupation", sa.Text(), nullable=True),
        sa.Column("contributor_name", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("zip5", sa.Text(), nullable=True),
        sa.Column("donor_key", sa.Text(), nullable=True),
        sa.Column("entity_type", sa.Text(), nullable=True),
        sa.Column("transaction_type", sa.Text(), nullable=True),
        sa.Column("memo_code", sa.Text(), nullable=True),
        sa.Column("memo_text", sa.Text(), nullable=True),
        sa.Column("amendment_indicator", sa.Text(), nullable=True),
        sa.Column("report_type", sa.Text(), nullable=True),
        sa.Column("election_type", sa.Text(), nullable=True),
        sa.Column("image_number", sa.Text(), nullable=True),
        sa.Column("transaction_id", sa.Text(), nullable=True),
        sa.Column("file_number", sa.BigInteger(), nullable=True),
        sa.Column("transaction_date", sa.Date(), nullable=True),
        sa.Column("transaction_date_raw", sa.Text(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("rule_version", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("counts_as_contribution", sa.Boolean(), nullable=False),
        sa.Column("is_refund", sa.Boolean(), nullable=False),
        sa.Column("row_hash", sa.Text(), nullable=False),
        sa.Column("source_file_id", sa.BigInteger(), nullable=True),
        sa.Column("first_run_id", sa.BigInteger(), nullable=True),
        sa.Column("last_run_id", sa.BigInteger(), nullable=True),
        sa.Column("deleted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("deleted_by_run_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "source IN ('indiv', 'pas2', 'oth', 'openfec')", name=op.f("ck_contribution_source")
        ),
        sa.ForeignKeyConstraint(
            ["candidate_key"],
            ["core.candidate.candidate_key"],
            name=op.f("fk_contribution_candidate_key_candidate"),
        ),
        sa.ForeignKeyConstraint(
            ["contributor_committee_key"],
            ["core.committee.committee_key"],
            name=op.f("fk_contribution_contributor_committee_key_committee"),
        ),
        sa.ForeignKeyConstraint(
            ["deleted_by_run_id"],
            ["ops.ingest_run.run_id"],
            name=op.f("fk_contribution_deleted_by_run_id_ingest_run"),
        ),
        sa.ForeignKeyConstraint(
            ["employer_key"],
            ["core.employer.employer_key"],
            name=op.f("fk_contribution_employer_key_employer"),
        ),
        sa.ForeignKeyConstraint(
            ["first_run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_contribution_first_run_id_ingest_run")
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_contribution_last_run_id_ingest_run")
        ),
        sa.ForeignKeyConstraint(
            ["recipient_committee_key"],
            ["core.committee.committee_key"],
            name=op.f("fk_contribution_recipient_committee_key_committee"),
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_contribution_source_file_id_source_file"),
        ),
        sa.UniqueConstraint(
            "sub_id",
            "transaction_date",
            name=op.f("uq_contribution_sub_id_transaction_date"),
            postgresql_nulls_not_distinct=True,
        ),
        schema="core",
        comment="Itemized transactions, one row per SUB_ID; partitioned by year of transaction_date.",
        postgresql_partition_by="RANGE (transaction_date)",
    )
    op.create_index(
        op.f("ix_contribution_candidate_key"), "contribution", ["candidate_key"], unique=False, schema="core"
    )
    op.create_index(
        op.f("ix_contribution_contributor_committee_key"),
        "contribution",
        ["contributor_committee_key"],
        unique=False,
        schema="core",
    )
    op.create_index(
        op.f("ix_contribution_employer_key"), "contribution", ["employer_key"], unique=False, schema="core"
    )
    op.create_index(
        op.f("ix_contribution_recipient_committee_key_transaction_date"),
        "contribution",
        ["recipient_committee_key", "transaction_date"],
        unique=False,
        schema="core",
    )
    op.create_index(op.f("ix_contribution_sub_id"), "contribution", ["sub_id"], unique=False, schema="core")
    op.create_index(
        op.f("ix_contribution_transaction_date"),
        "contribution",
        ["transaction_date"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "employer_industry",
        sa.Column("employer_key", sa.BigInteger(), nullable=False),
        sa.Column("industry_key", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.Text(), nullable=False),
        sa.Column("confidence", sa.Numeric(precision=3, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["employer_key"],
            ["core.employer.employer_key"],
            name=op.f("fk_employer_industry_employer_key_employer"),
        ),
        sa.ForeignKeyConstraint(
            ["industry_key"],
            ["core.industry.industry_key"],
            name=op.f("fk_employer_industry_industry_key_industry"),
        ),
        sa.PrimaryKeyConstraint("employer_key", name=op.f("pk_employer_industry")),
        schema="core",
    )
    op.create_index(
        op.f("ix_employer_industry_industry_key"),
        "employer_industry",
        ["industry_key"],
        unique=False,
        schema="core",
    )
    op.create_table(
        "ingest_run_audits",
        sa.Column("audit_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("run_id", sa.BigInteger(), nullable=False),
        sa.Column("stage", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), server_default="", nullable=False),
        sa.Column("source_file_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column("lines_read", sa.BigInteger(), nullable=True),
        sa.Column("rows_loaded", sa.BigInteger(), nullable=True),
        sa.Column("rows_rejected", sa.BigInteger(), nullable=True),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.Column(
            "started_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("finished_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column(
            "counts",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("validation", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status <> 'succeeded' OR lines_read IS NULL OR lines_read = rows_loaded + rows_rejected",
            name=op.f("ck_ingest_run_audits_lines_balance"),
        ),
        sa.CheckConstraint(
            "status IN ('running', 'succeeded', 'failed', 'skipped')",
            name=op.f("ck_ingest_run_audits_status"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_ingest_run_audits_run_id_ingest_run")
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_ingest_run_audits_source_file_id_source_file"),
        ),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_ingest_run_audits")),
        schema="ops",
    )
    op.create_index(
        op.f("ix_ingest_run_audits_run_id_stage"),
        "ingest_run_audits",
        ["run_id", "stage"],
        unique=False,
        schema="ops",
    )
    op.create_index(
        op.f("ix_ingest_run_audits_source_file_id"),
        "ingest_run_audits",
        ["source_file_id"],
        unique=False,
        schema="ops",
    )
    op.create_table(
        "leaning_score",
        sa.Column("score_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("candidate_key", sa.BigInteger(), nullable=True),
        sa.Column("committee_key", sa.BigInteger(), nullable=True),
        sa.Column("employer_key", sa.BigInteger(), nullable=True),
        sa.Column("industry_key", sa.BigInteger(), nullable=True),
        sa.Column("method_version", sa.Text(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("window_start", sa.Date(), nullable=False),
        sa.Column("window_end", sa.Date(), nullable=False),
        sa.Column("valid_from", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("valid_to", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("score", sa.Numeric(precision=6, scale=5), nullable=True),
        sa.Column("ci_low", sa.Numeric(precision=6, scale=5), nullable=True),
        sa.Column("ci_high", sa.Numeric(precision=6, scale=5), nullable=True),
        sa.Column("dem_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("rep_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("other_amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("n_contributions", sa.Integer(), nullable=False),
        sa.Column("n_donors", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("run_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "entity_type IN ('candidate', 'committee', 'employer', 'industry')",
            name=op.f("ck_leaning_score_entity_type"),
        ),
        sa.CheckConstraint(
            "num_nonnulls(candidate_key, committee_key, employer_key, industry_key) = 1",
            name=op.f("ck_leaning_score_one_entity"),
        ),
        sa.CheckConstraint(
            "score IS NOT NULL OR reason IS NOT NULL", name=op.f("ck_leaning_score_null_has_reason")
        ),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 1)", name=op.f("ck_leaning_score_score_range")
        ),
        sa.CheckConstraint("window_start <= window_end", name=op.f("ck_leaning_score_window")),
        sa.ForeignKeyConstraint(
            ["candidate_key"],
            ["core.candidate.candidate_key"],
            name=op.f("fk_leaning_score_candidate_key_candidate"),
        ),
        sa.ForeignKeyConstraint(
            ["committee_key"],
            ["core.committee.committee_key"],
            name=op.f("fk_leaning_score_committee_key_committee"),
        ),
        sa.ForeignKeyConstraint(
            ["employer_key"],
            ["core.employer.employer_key"],
            name=op.f("fk_leaning_score_employer_key_employer"),
        ),
        sa.ForeignKeyConstraint(
            ["industry_key"],
            ["core.industry.industry_key"],
            name=op.f("fk_leaning_score_industry_key_industry"),
        ),
        sa.ForeignKeyConstraint(
            ["method_version"],
            ["scores.method.method_version"],
            name=op.f("fk_leaning_score_method_version_method"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["ops.ingest_run.run_id"], name=op.f("fk_leaning_score_run_id_ingest_run")
        ),
        sa.PrimaryKeyConstraint("score_id", name=op.f("pk_leaning_score")),
        schema="scores",
    )
    op.create_index(
        op.f("ix_leaning_score_candidate_key"),
        "leaning_score",
        ["candidate_key"],
        unique=False,
        schema="scores",
    )
    op.create_index(
        op.f("ix_leaning_score_committee_key"),
        "leaning_score",
        ["committee_key"],
        unique=False,
        schema="scores",
    )
    op.create_index(
        op.f("ix_leaning_score_employer_key"),
        "leaning_score",
        ["employer_key"],
        unique=False,
        schema="scores",
    )
    op.create_index(
        op.f("ix_leaning_score_entity_type_as_of"),
        "leaning_score",
        ["entity_type", "as_of"],
        unique=False,
        schema="scores",
    )
    op.create_index(
        op.f("ix_leaning_score_industry_key"),
        "leaning_score",
        ["industry_key"],
        unique=False,
        schema="scores",
    )
    op.create_table(
        "openfec_payload",
        sa.Column("payload_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("pull_id", sa.BigInteger(), nullable=False),
        sa.Column("page_number", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.Text(), nullable=False),
        sa.Column("request_params", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cursor", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column(
            "fetched_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["pull_id"], ["ops.api_pull.pull_id"], name=op.f("fk_openfec_payload_pull_id_api_pull")
        ),
        sa.PrimaryKeyConstraint("payload_id", name=op.f("pk_openfec_payload")),
        sa.UniqueConstraint("pull_id", "page_number", name=op.f("uq_openfec_payload_pull_id_page_number")),
        schema="staging",
    )
    op.create_table(
        "raw_line",
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("line_number", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_raw_line_source_file_id_source_file"),
        ),
        sa.PrimaryKeyConstraint("source_file_id", "line_number", name=op.f("pk_raw_line")),
        schema="staging",
        comment="Original bytes of loaded lines that were re-encoded (non-UTF-8) or had CRLF endings.",
    )
    op.create_table(
        "rejected_row",
        sa.Column("rejected_row_id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("audit_id", sa.BigInteger(), nullable=True),
        sa.Column("line_number", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["audit_id"],
            ["ops.ingest_run_audits.audit_id"],
            name=op.f("fk_rejected_row_audit_id_ingest_run_audits"),
        ),
        sa.ForeignKeyConstraint(
            ["source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_rejected_row_source_file_id_source_file"),
        ),
        sa.PrimaryKeyConstraint("rejected_row_id", name=op.f("pk_rejected_row")),
        sa.UniqueConstraint(
            "source_file_id", "line_number", name=op.f("uq_rejected_row_source_file_id_line_number")
        ),
        schema="ops",
    )
    op.create_table(
        "ccl",
        sa.Column("cand_id", sa.Text(), nullable=True, comment="Candidate id."),
        sa.Column("cand_election_yr", sa.Text(), nullable=True, comment="Candidate's election year."),
        sa.Column("fec_election_yr", sa.Text(), nullable=True, comment="Active two-year period."),
        sa.Column("cmte_id", sa.Text(), nullable=True, comment="Committee id."),
        sa.Column("cmte_tp", sa.Text(), nullable=True, comment="Committee type."),
        sa.Column("cmte_dsgn", sa.Text(), nullable=True, comment="Committee designation."),
        sa.Column("linkage_id", sa.Text(), nullable=True, comment="Unique link id."),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"], ["ops.ingest_run_audits.audit_id"], name=op.f("fk_ccl__batch_id_ingest_run_audits")
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_ccl__source_file_id_source_file"),
        ),
        schema="staging",
        comment="Candidate-committee linkage: raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_ccl_source_line",
        "ccl",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "cm",
        sa.Column("cmte_id", sa.Text(), nullable=True, comment="Committee id."),
        sa.Column("cmte_nm", sa.Text(), nullable=True, comment="Committee name."),
        sa.Column("tres_nm", sa.Text(), nullable=True, comment="Treasurer name."),
        sa.Column("cmte_st1", sa.Text(), nullable=True, comment="Street address line 1."),
        sa.Column("cmte_st2", sa.Text(), nullable=True, comment="Street address line 2."),
        sa.Column("cmte_city", sa.Text(), nullable=True, comment="City."),
        sa.Column("cmte_st", sa.Text(), nullable=True, comment="State."),
        sa.Column("cmte_zip", sa.Text(), nullable=True, comment="ZIP code."),
        sa.Column(
            "cmte_dsgn",
            sa.Text(),
            nullable=True,
            comment="A authorized by a candidate, B lobbyist PAC, D leadership PAC, J joint fundraiser, P principal campaign committee, U unauthorized.",
        ),
        sa.Column(
            "cmte_tp", sa.Text(), nullable=True, comment="Committee type (H, S, P, X, Y, Q, N, O, ...)."
        ),
        sa.Column("cmte_pty_affiliation", sa.Text(), nullable=True, comment="Party affiliation code."),
        sa.Column(
            "cmte_filing_freq",
            sa.Text(),
            nullable=True,
            comment="A administratively terminated, M monthly, Q quarterly, T terminated, ...",
        ),
        sa.Column(
            "org_tp",
            sa.Text(),
            nullable=True,
            comment="C corporation, L labor, M membership, T trade, V cooperative, W corp w/o stock.",
        ),
        sa.Column("connected_org_nm", sa.Text(), nullable=True, comment="Connected organization name."),
        sa.Column("cand_id", sa.Text(), nullable=True, comment="Candidate id for authorized committees."),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"], ["ops.ingest_run_audits.audit_id"], name=op.f("fk_cm__batch_id_ingest_run_audits")
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_cm__source_file_id_source_file"),
        ),
        schema="staging",
        comment="Committee master: raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_cm_source_line",
        "cm",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "cn",
        sa.Column("cand_id", sa.Text(), nullable=True, comment="Candidate id (H/S/P + 8 characters)."),
        sa.Column("cand_name", sa.Text(), nullable=True, comment="Candidate name, LAST, FIRST."),
        sa.Column("cand_pty_affiliation", sa.Text(), nullable=True, comment="Party code."),
        sa.Column(
            "cand_election_yr", sa.Text(), nullable=True, comment="Year of election (validate, do not trust)."
        ),
        sa.Column("cand_office_st", sa.Text(), nullable=True, comment="Office state (US for president)."),
        sa.Column("cand_office", sa.Text(), nullable=True, comment="H House, S Senate, P President."),
        sa.Column("cand_office_district", sa.Text(), nullable=True, comment="District (00 at-large)."),
        sa.Column("cand_ici", sa.Text(), nullable=True, comment="I incumbent, C challenger, O open seat."),
        sa.Column(
            "cand_status",
            sa.Text(),
            nullable=True,
            comment="C statutory candidate, F future, N not yet, P prior cycle.",
        ),
        sa.Column("cand_pcc", sa.Text(), nullable=True, comment="Principal campaign committee id."),
        sa.Column("cand_st1", sa.Text(), nullable=True, comment="Mailing address line 1."),
        sa.Column("cand_st2", sa.Text(), nullable=True, comment="Mailing address line 2."),
        sa.Column("cand_city", sa.Text(), nullable=True, comment="City."),
        sa.Column("cand_st", sa.Text(), nullable=True, comment="State."),
        sa.Column("cand_zip", sa.Text(), nullable=True, comment="ZIP code."),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"], ["ops.ingest_run_audits.audit_id"], name=op.f("fk_cn__batch_id_ingest_run_audits")
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_cn__source_file_id_source_file"),
        ),
        schema="staging",
        comment="Candidate master: raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_cn_source_line",
        "cn",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "indiv",
        sa.Column(
            "cmte_id",
            sa.Text(),
            nullable=True,
            comment="Filer (recipient) committee id, 9 characters (C00...).",
        ),
        sa.Column(
            "amndt_ind",
            sa.Text(),
            nullable=True,
            comment="N new, A amendment, T termination: the kind of report.",
        ),
        sa.Column("rpt_tp", sa.Text(), nullable=True, comment="Report type (e.g. M3, Q1, YE, TER)."),
        sa.Column(
            "transaction_pgi",
            sa.Text(),
            nullable=True,
            comment="Primary/general indicator: a letter (P, G, O, C, R, S, E) or the newer form EYYYY (P2024).",
        ),
        sa.Column(
            "image_num",
            sa.Text(),
            nullable=True,
            comment="Microfilm/image id: 11 digits (before mid-2015) or 18 digits.",
        ),
        sa.Column(
            "transaction_tp",
            sa.Text(),
            nullable=True,
            comment="FEC transaction type (15, 15E, 22Y, 24T, ...).",
        ),
        sa.Column(
            "entity_tp",
            sa.Text(),
            nullable=True,
            comment="Contributor entity type (IND, ORG, PAC, COM, PTY, CAN, CCM).",
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="Contributor or lender name."),
        sa.Column("city", sa.Text(), nullable=True, comment="Contributor city."),
        sa.Column("state", sa.Text(), nullable=True, comment="Contributor state (ZZ for foreign)."),
        sa.Column(
            "zip_code",
            sa.Text(),
            nullable=True,
            comment="5 or 9 digit ZIP as text (leading zeros), or a foreign postcode.",
        ),
        sa.Column("employer", sa.Text(), nullable=True, comment="Contributor employer, free text."),
        sa.Column("occupation", sa.Text(), nullable=True, comment="Contributor occupation, free text."),
        sa.Column(
            "transaction_dt",
            sa.Text(),
            nullable=True,
            comment="Transaction date MMDDYYYY; may be blank or invalid.",
        ),
        sa.Column(
            "transaction_amt",
            sa.Text(),
            nullable=True,
            comment="Transaction amount in dollars; refunds are usually positive.",
        ),
        sa.Column(
            "other_id",
            sa.Text(),
            nullable=True,
            comment="Other FEC id: for 15E the conduit, for 24T/24I the final recipient.",
        ),
        sa.Column(
            "tran_id",
            sa.Text(),
            nullable=True,
            comment="Filer's transaction id: unique only per filer and report.",
        ),
        sa.Column("file_num", sa.Text(), nullable=True, comment="FEC filing (report) number."),
        sa.Column(
            "memo_cd", sa.Text(), nullable=True, comment="X = memo entry, not to be included in totals."
        ),
        sa.Column(
            "memo_text",
            sa.Text(),
            nullable=True,
            comment="Free-text memo (e.g. '* EARMARKED CONTRIBUTION: SEE BELOW').",
        ),
        sa.Column(
            "sub_id",
            sa.Text(),
            nullable=True,
            comment="FEC record id, 19 digits, unique per row: the natural key.",
        ),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"],
            ["ops.ingest_run_audits.audit_id"],
            name=op.f("fk_indiv__batch_id_ingest_run_audits"),
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_indiv__source_file_id_source_file"),
        ),
        schema="staging",
        comment="Contributions by individuals (itcont): raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_indiv_source_line",
        "indiv",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "oth",
        sa.Column(
            "cmte_id",
            sa.Text(),
            nullable=True,
            comment="Filer (recipient) committee id, 9 characters (C00...).",
        ),
        sa.Column(
            "amndt_ind",
            sa.Text(),
            nullable=True,
            comment="N new, A amendment, T termination: the kind of report.",
        ),
        sa.Column("rpt_tp", sa.Text(), nullable=True, comment="Report type (e.g. M3, Q1, YE, TER)."),
        sa.Column(
            "transaction_pgi",
            sa.Text(),
            nullable=True,
            comment="Primary/general indicator: a letter (P, G, O, C, R, S, E) or the newer form EYYYY (P2024).",
        ),
        sa.Column(
            "image_num",
            sa.Text(),
            nullable=True,
            comment="Microfilm/image id: 11 digits (before mid-2015) or 18 digits.",
        ),
        sa.Column(
            "transaction_tp",
            sa.Text(),
            nullable=True,
            comment="FEC transaction type (15, 15E, 22Y, 24T, ...).",
        ),
        sa.Column(
            "entity_tp",
            sa.Text(),
            nullable=True,
            comment="Contributor entity type (IND, ORG, PAC, COM, PTY, CAN, CCM).",
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="Contributor or lender name."),
        sa.Column("city", sa.Text(), nullable=True, comment="Contributor city."),
        sa.Column("state", sa.Text(), nullable=True, comment="Contributor state (ZZ for foreign)."),
        sa.Column(
            "zip_code",
            sa.Text(),
            nullable=True,
            comment="5 or 9 digit ZIP as text (leading zeros), or a foreign postcode.",
        ),
        sa.Column("employer", sa.Text(), nullable=True, comment="Contributor employer, free text."),
        sa.Column("occupation", sa.Text(), nullable=True, comment="Contributor occupation, free text."),
        sa.Column(
            "transaction_dt",
            sa.Text(),
            nullable=True,
            comment="Transaction date MMDDYYYY; may be blank or invalid.",
        ),
        sa.Column(
            "transaction_amt",
            sa.Text(),
            nullable=True,
            comment="Transaction amount in dollars; refunds are usually positive.",
        ),
        sa.Column(
            "other_id",
            sa.Text(),
            nullable=True,
            comment="Other FEC id: for 15E the conduit, for 24T/24I the final recipient.",
        ),
        sa.Column(
            "tran_id",
            sa.Text(),
            nullable=True,
            comment="Filer's transaction id: unique only per filer and report.",
        ),
        sa.Column("file_num", sa.Text(), nullable=True, comment="FEC filing (report) number."),
        sa.Column(
            "memo_cd", sa.Text(), nullable=True, comment="X = memo entry, not to be included in totals."
        ),
        sa.Column(
            "memo_text",
            sa.Text(),
            nullable=True,
            comment="Free-text memo (e.g. '* EARMARKED CONTRIBUTION: SEE BELOW').",
        ),
        sa.Column(
            "sub_id",
            sa.Text(),
            nullable=True,
            comment="FEC record id, 19 digits, unique per row: the natural key.",
        ),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"], ["ops.ingest_run_audits.audit_id"], name=op.f("fk_oth__batch_id_ingest_run_audits")
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_oth__source_file_id_source_file"),
        ),
        schema="staging",
        comment="Any transaction from one committee to another (itoth): raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_oth_source_line",
        "oth",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "pas2",
        sa.Column(
            "cmte_id",
            sa.Text(),
            nullable=True,
            comment="Filer (recipient) committee id, 9 characters (C00...).",
        ),
        sa.Column(
            "amndt_ind",
            sa.Text(),
            nullable=True,
            comment="N new, A amendment, T termination: the kind of report.",
        ),
        sa.Column("rpt_tp", sa.Text(), nullable=True, comment="Report type (e.g. M3, Q1, YE, TER)."),
        sa.Column(
            "transaction_pgi",
            sa.Text(),
            nullable=True,
            comment="Primary/general indicator: a letter (P, G, O, C, R, S, E) or the newer form EYYYY (P2024).",
        ),
        sa.Column(
            "image_num",
            sa.Text(),
            nullable=True,
            comment="Microfilm/image id: 11 digits (before mid-2015) or 18 digits.",
        ),
        sa.Column(
            "transaction_tp",
            sa.Text(),
            nullable=True,
            comment="FEC transaction type (15, 15E, 22Y, 24T, ...).",
        ),
        sa.Column(
            "entity_tp",
            sa.Text(),
            nullable=True,
            comment="Contributor entity type (IND, ORG, PAC, COM, PTY, CAN, CCM).",
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="Contributor or lender name."),
        sa.Column("city", sa.Text(), nullable=True, comment="Contributor city."),
        sa.Column("state", sa.Text(), nullable=True, comment="Contributor state (ZZ for foreign)."),
        sa.Column(
            "zip_code",
            sa.Text(),
            nullable=True,
            comment="5 or 9 digit ZIP as text (leading zeros), or a foreign postcode.",
        ),
        sa.Column("employer", sa.Text(), nullable=True, comment="Contributor employer, free text."),
        sa.Column("occupation", sa.Text(), nullable=True, comment="Contributor occupation, free text."),
        sa.Column(
            "transaction_dt",
            sa.Text(),
            nullable=True,
            comment="Transaction date MMDDYYYY; may be blank or invalid.",
        ),
        sa.Column(
            "transaction_amt",
            sa.Text(),
            nullable=True,
            comment="Transaction amount in dollars; refunds are usually positive.",
        ),
        sa.Column(
            "other_id",
            sa.Text(),
            nullable=True,
            comment="Other FEC id: for 15E the conduit, for 24T/24I the final recipient.",
        ),
        sa.Column("cand_id", sa.Text(), nullable=True, comment="Candidate the money supports or opposes."),
        sa.Column(
            "tran_id",
            sa.Text(),
            nullable=True,
            comment="Filer's transaction id: unique only per filer and report.",
        ),
        sa.Column("file_num", sa.Text(), nullable=True, comment="FEC filing (report) number."),
        sa.Column(
            "memo_cd", sa.Text(), nullable=True, comment="X = memo entry, not to be included in totals."
        ),
        sa.Column(
            "memo_text",
            sa.Text(),
            nullable=True,
            comment="Free-text memo (e.g. '* EARMARKED CONTRIBUTION: SEE BELOW').",
        ),
        sa.Column(
            "sub_id",
            sa.Text(),
            nullable=True,
            comment="FEC record id, 19 digits, unique per row: the natural key.",
        ),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"],
            ["ops.ingest_run_audits.audit_id"],
            name=op.f("fk_pas2__batch_id_ingest_run_audits"),
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_pas2__source_file_id_source_file"),
        ),
        schema="staging",
        comment="Contributions from committees to candidates (itpas2): raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_pas2_source_line",
        "pas2",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "weball",
        sa.Column("cand_id", sa.Text(), nullable=True, comment="Candidate id."),
        sa.Column("cand_name", sa.Text(), nullable=True, comment="Candidate name."),
        sa.Column("cand_ici", sa.Text(), nullable=True, comment="I incumbent, C challenger, O open seat."),
        sa.Column("pty_cd", sa.Text(), nullable=True, comment="1 Democratic, 2 Republican, 3 other."),
        sa.Column("cand_pty_affiliation", sa.Text(), nullable=True, comment="Party code (DEM, REP, ...)."),
        sa.Column("ttl_receipts", sa.Text(), nullable=True, comment="Total receipts."),
        sa.Column(
            "trans_from_auth", sa.Text(), nullable=True, comment="Transfers from authorized committees."
        ),
        sa.Column("ttl_disb", sa.Text(), nullable=True, comment="Total disbursements."),
        sa.Column("trans_to_auth", sa.Text(), nullable=True, comment="Transfers to authorized committees."),
        sa.Column("coh_bop", sa.Text(), nullable=True, comment="Cash on hand at beginning of period."),
        sa.Column("coh_cop", sa.Text(), nullable=True, comment="Cash on hand at close of period."),
        sa.Column("cand_contrib", sa.Text(), nullable=True, comment="Contributions from the candidate."),
        sa.Column("cand_loans", sa.Text(), nullable=True, comment="Loans from the candidate."),
        sa.Column("other_loans", sa.Text(), nullable=True, comment="Other loans."),
        sa.Column("cand_loan_repay", sa.Text(), nullable=True, comment="Candidate loan repayments."),
        sa.Column("other_loan_repay", sa.Text(), nullable=True, comment="Other loan repayments."),
        sa.Column("debts_owed_by", sa.Text(), nullable=True, comment="Debts owed by the committee."),
        sa.Column(
            "ttl_indiv_contrib",
            sa.Text(),
            nullable=True,
            comment="Total individual contributions, itemized and unitemized.",
        ),
        sa.Column("cand_office_st", sa.Text(), nullable=True, comment="Office state."),
        sa.Column("cand_office_district", sa.Text(), nullable=True, comment="Office district."),
        sa.Column("spec_election", sa.Text(), nullable=True, comment="Special election status."),
        sa.Column("prim_election", sa.Text(), nullable=True, comment="Primary election status."),
        sa.Column("run_election", sa.Text(), nullable=True, comment="Runoff election status."),
        sa.Column("gen_election", sa.Text(), nullable=True, comment="General election status."),
        sa.Column(
            "gen_election_precent",
            sa.Text(),
            nullable=True,
            comment="General election percent (FEC's spelling).",
        ),
        sa.Column(
            "other_pol_cmte_contrib",
            sa.Text(),
            nullable=True,
            comment="Contributions from other political committees.",
        ),
        sa.Column(
            "pol_pty_contrib", sa.Text(), nullable=True, comment="Contributions from party committees."
        ),
        sa.Column("cvg_end_dt", sa.Text(), nullable=True, comment="Coverage end date MM/DD/YYYY."),
        sa.Column("indiv_refunds", sa.Text(), nullable=True, comment="Refunds to individuals."),
        sa.Column("cmte_refunds", sa.Text(), nullable=True, comment="Refunds to committees."),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"],
            ["ops.ingest_run_audits.audit_id"],
            name=op.f("fk_weball__batch_id_ingest_run_audits"),
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_weball__source_file_id_source_file"),
        ),
        schema="staging",
        comment="All candidates summary: raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_weball_source_line",
        "weball",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "webk",
        sa.Column("cmte_id", sa.Text(), nullable=True, comment="Committee id."),
        sa.Column("cmte_nm", sa.Text(), nullable=True, comment="Committee name."),
        sa.Column("cmte_tp", sa.Text(), nullable=True, comment="Committee type."),
        sa.Column("cmte_dsgn", sa.Text(), nullable=True, comment="Committee designation."),
        sa.Column("cmte_filing_freq", sa.Text(), nullable=True, comment="Filing frequency."),
        sa.Column("ttl_receipts", sa.Text(), nullable=True, comment="Total receipts."),
        sa.Column("trans_from_aff", sa.Text(), nullable=True, comment="Transfers from affiliates."),
        sa.Column(
            "indv_contrib",
            sa.Text(),
            nullable=True,
            comment="Contributions from individuals, itemized and unitemized.",
        ),
        sa.Column(
            "other_pol_cmte_contrib",
            sa.Text(),
            nullable=True,
            comment="Contributions from other political committees.",
        ),
        sa.Column("cand_contrib", sa.Text(), nullable=True, comment="Contributions from the candidate."),
        sa.Column("cand_loans", sa.Text(), nullable=True, comment="Candidate loans."),
        sa.Column("ttl_loans_received", sa.Text(), nullable=True, comment="Total loans received."),
        sa.Column("ttl_disb", sa.Text(), nullable=True, comment="Total disbursements."),
        sa.Column("tranf_to_aff", sa.Text(), nullable=True, comment="Transfers to affiliates."),
        sa.Column("indv_refunds", sa.Text(), nullable=True, comment="Refunds to individuals."),
        sa.Column("other_pol_cmte_refunds", sa.Text(), nullable=True, comment="Refunds to other committees."),
        sa.Column("cand_loan_repay", sa.Text(), nullable=True, comment="Candidate loan repayments."),
        sa.Column("loan_repay", sa.Text(), nullable=True, comment="Loan repayments."),
        sa.Column("coh_bop", sa.Text(), nullable=True, comment="Cash on hand at beginning of period."),
        sa.Column("coh_cop", sa.Text(), nullable=True, comment="Cash on hand at close of period."),
        sa.Column("debts_owed_by", sa.Text(), nullable=True, comment="Debts owed by the committee."),
        sa.Column(
            "nonfed_trans_received", sa.Text(), nullable=True, comment="Nonfederal transfers received."
        ),
        sa.Column(
            "contrib_to_other_cmte", sa.Text(), nullable=True, comment="Contributions to other committees."
        ),
        sa.Column("ind_exp", sa.Text(), nullable=True, comment="Independent expenditures."),
        sa.Column("pty_coord_exp", sa.Text(), nullable=True, comment="Party coordinated expenditures."),
        sa.Column("nonfed_share_exp", sa.Text(), nullable=True, comment="Nonfederal share of expenses."),
        sa.Column("cvg_end_dt", sa.Text(), nullable=True, comment="Coverage end date MM/DD/YYYY."),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"],
            ["ops.ingest_run_audits.audit_id"],
            name=op.f("fk_webk__batch_id_ingest_run_audits"),
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_webk__source_file_id_source_file"),
        ),
        schema="staging",
        comment="PAC and party summary: raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_webk_source_line",
        "webk",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    op.create_table(
        "webl",
        sa.Column("cand_id", sa.Text(), nullable=True, comment="Candidate id."),
        sa.Column("cand_name", sa.Text(), nullable=True, comment="Candidate name."),
        sa.Column("cand_ici", sa.Text(), nullable=True, comment="I incumbent, C challenger, O open seat."),
        sa.Column("pty_cd", sa.Text(), nullable=True, comment="1 Democratic, 2 Republican, 3 other."),
        sa.Column("cand_pty_affiliation", sa.Text(), nullable=True, comment="Party code (DEM, REP, ...)."),
        sa.Column("ttl_receipts", sa.Text(), nullable=True, comment="Total receipts."),
        sa.Column(
            "trans_from_auth", sa.Text(), nullable=True, comment="Transfers from authorized committees."
        ),
        sa.Column("ttl_disb", sa.Text(), nullable=True, comment="Total disbursements."),
        sa.Column("trans_to_auth", sa.Text(), nullable=True, comment="Transfers to authorized committees."),
        sa.Column("coh_bop", sa.Text(), nullable=True, comment="Cash on hand at beginning of period."),
        sa.Column("coh_cop", sa.Text(), nullable=True, comment="Cash on hand at close of period."),
        sa.Column("cand_contrib", sa.Text(), nullable=True, comment="Contributions from the candidate."),
        sa.Column("cand_loans", sa.Text(), nullable=True, comment="Loans from the candidate."),
        sa.Column("other_loans", sa.Text(), nullable=True, comment="Other loans."),
        sa.Column("cand_loan_repay", sa.Text(), nullable=True, comment="Candidate loan repayments."),
        sa.Column("other_loan_repay", sa.Text(), nullable=True, comment="Other loan repayments."),
        sa.Column("debts_owed_by", sa.Text(), nullable=True, comment="Debts owed by the committee."),
        sa.Column(
            "ttl_indiv_contrib",
            sa.Text(),
            nullable=True,
            comment="Total individual contributions, itemized and unitemized.",
        ),
        sa.Column("cand_office_st", sa.Text(), nullable=True, comment="Office state."),
        sa.Column("cand_office_district", sa.Text(), nullable=True, comment="Office district."),
        sa.Column("spec_election", sa.Text(), nullable=True, comment="Special election status."),
        sa.Column("prim_election", sa.Text(), nullable=True, comment="Primary election status."),
        sa.Column("run_election", sa.Text(), nullable=True, comment="Runoff election status."),
        sa.Column("gen_election", sa.Text(), nullable=True, comment="General election status."),
        sa.Column(
            "gen_election_precent",
            sa.Text(),
            nullable=True,
            comment="General election percent (FEC's spelling).",
        ),
        sa.Column(
            "other_pol_cmte_contrib",
            sa.Text(),
            nullable=True,
            comment="Contributions from other political committees.",
        ),
        sa.Column(
            "pol_pty_contrib", sa.Text(), nullable=True, comment="Contributions from party committees."
        ),
        sa.Column("cvg_end_dt", sa.Text(), nullable=True, comment="Coverage end date MM/DD/YYYY."),
        sa.Column("indiv_refunds", sa.Text(), nullable=True, comment="Refunds to individuals."),
        sa.Column("cmte_refunds", sa.Text(), nullable=True, comment="Refunds to committees."),
        sa.Column("_source_file_id", sa.BigInteger(), nullable=False),
        sa.Column("_batch_id", sa.BigInteger(), nullable=False),
        sa.Column("_line_number", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["_batch_id"],
            ["ops.ingest_run_audits.audit_id"],
            name=op.f("fk_webl__batch_id_ingest_run_audits"),
        ),
        sa.ForeignKeyConstraint(
            ["_source_file_id"],
            ["ops.source_file.source_file_id"],
            name=op.f("fk_webl__source_file_id_source_file"),
        ),
        schema="staging",
        comment="House/Senate current campaigns summary: raw FEC columns, all text, byte-faithful (generated from the catalog).",
    )
    op.create_index(
        "ix_webl_source_line",
        "webl",
        ["_source_file_id", "_line_number"],
        unique=False,
        schema="staging",
        postgresql_using="brin",
    )
    # Undated / invalid-date rows (transaction_date IS NULL) land here; years are created on demand.
    op.execute("CREATE TABLE core.contribution_default PARTITION OF core.contribution DEFAULT")


def downgrade() -> None:
    op.drop_index("ix_webl_source_line", table_name="webl", schema="staging", postgresql_using="brin")
    op.drop_table("webl", schema="staging")
    op.drop_index("ix_webk_source_line", table_name="webk", schema="staging", postgresql_using="brin")
    op.drop_table("webk", schema="staging")
    op.drop_index("ix_weball_source_line", table_name="weball", schema="staging", postgresql_using="brin")
    op.drop_table("weball", schema="staging")
    op.drop_index("ix_pas2_source_line", table_name="pas2", schema="staging", postgresql_using="brin")
    op.drop_table("pas2", schema="staging")
    op.drop_index("ix_oth_source_line", table_name="oth", schema="staging", postgresql_using="brin")
    op.drop_table("oth", schema="staging")
    op.drop_index("ix_indiv_source_line", table_name="indiv", schema="staging", postgresql_using="brin")
    op.drop_table("indiv", schema="staging")
    op.drop_index("ix_cn_source_line", table_name="cn", schema="staging", postgresql_using="brin")
    op.drop_table("cn", schema="staging")
    op.drop_index("ix_cm_source_line", table_name="cm", schema="staging", postgresql_using="brin")
    op.drop_table("cm", schema="staging")
    op.drop_index("ix_ccl_source_line", table_name="ccl", schema="staging", postgresql_using="brin")
    op.drop_table("ccl", schema="staging")
    op.drop_table("rejected_row", schema="ops")
    op.drop_table("raw_line", schema="staging")
    op.drop_table("openfec_payload", schema="staging")
    op.drop_index(op.f("ix_leaning_score_industry_key"), table_name="leaning_score", schema="scores")
    op.drop_index(op.f("ix_leaning_score_entity_type_as_of"), table_name="leaning_score", schema="scores")
    op.drop_index(op.f("ix_leaning_score_employer_key"), table_name="leaning_score", schema="scores")
    op.drop_index(op.f("ix_leaning_score_committee_key"), table_name="leaning_score", schema="scores")
    op.drop_index(op.f("ix_leaning_score_candidate_key"), table_name="leaning_score", schema="scores")
    op.drop_table("leaning_score", schema="scores")
    op.drop_index(op.f("ix_ingest_run_audits_source_file_id"), table_name="ingest_run_audits", schema="ops")
    op.drop_index(op.f("ix_ingest_run_audits_run_id_stage"), table_name="ingest_run_audits", schema="ops")
    op.drop_table("ingest_run_audits", schema="ops")
    op.drop_index(op.f("ix_employer_industry_industry_key"), table_name="employer_industry", schema="core")
    op.drop_table("employer_industry", schema="core")
    op.drop_index(op.f("ix_contribution_transaction_date"), table_name="contribution", schema="core")
    op.drop_index(op.f("ix_contribution_sub_id"), table_name="contribution", schema="core")
    op.drop_index(
        op.f("ix_contribution_recipient_committee_key_transaction_date"),
        table_name="contribution",
        schema="core",
    )
    op.drop_index(op.f("ix_contribution_employer_key"), table_name="contribution", schema="core")
    op.drop_index(op.f("ix_contribution_contributor_committee_key"), table_name="contribution", schema="core")
    op.drop_index(op.f("ix_contribution_candidate_key"), table_name="contribution", schema="core")
    op.drop_table("contribution", schema="core")
    op.drop_index(
        "uq_committee_history_current",
        table_name="committee_history",
        schema="core",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("committee_history", schema="core")
    op.drop_index(
        "uq_candidate_history_current",
        table_name="candidate_history",
        schema="core",
        postgresql_where=sa.text("valid_to IS NULL"),
    )
    op.drop_table("candidate_history", schema="core")
    op.drop_index(
        op.f("ix_candidate_committee_link_committee_key"),
        table_name="candidate_committee_link",
        schema="core",
    )
    op.drop_index(
        op.f("ix_candidate_committee_link_candidate_key"),
        table_name="candidate_committee_link",
        schema="core",
    )
    op.drop_table("candidate_committee_link", schema="core")
    op.drop_table("employer_industry_rule", schema="ref")
    op.drop_index(op.f("ix_source_file_url_fetched_at"), table_name="source_file", schema="ops")
    op.drop_index(op.f("ix_source_file_sha256"), table_name="source_file", schema="ops")
    op.drop_table("source_file", schema="ops")
    op.drop_table("api_pull", schema="ops")
    op.drop_table("industry", schema="core")
    op.drop_index(op.f("ix_employer_alias_employer_key"), table_name="employer_alias", schema="core")
    op.drop_table("employer_alias", schema="core")
    op.drop_index(op.f("ix_contribution_history_sub_id"), table_name="contribution_history", schema="core")
    op.drop_table("contribution_history", schema="core")
    op.drop_table("committee", schema="core")
    op.drop_table("method", schema="scores")
    op.drop_table("transaction_type", schema="ref")
    op.drop_table("party", schema="ref")
    op.drop_table("naics", schema="ref")
    op.drop_table("generic_employer", schema="ref")
    op.drop_table("counting_rule", schema="ref")
    op.drop_table("committee_type", schema="ref")
    op.drop_table("ingest_run", schema="ops")
    op.drop_table("employer", schema="core")
    op.drop_table("candidate", schema="core")
    for schema in reversed(SCHEMAS):
        if schema != "ops":  # ops holds alembic_version until alembic is done
            op.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
