"""The whole database model (SQLAlchemy 2 Core tables), in five schemas.

``ops``      runs, audits, source files, rejected rows, API pulls
``staging``  raw payloads: one all-text table per FEC bulk file type, generated from the catalog
``ref``      reference data and the versioned counting rules
``core``     candidates, committees, links, employers, industries, contributions (partitioned)
``scores``   leaning scores with window and validity ranges

Alembic migrations in ``fecflow/db/migrations`` create exactly this model; ``alembic check`` (run by
the test suite) fails when the two drift. See ``docs/data/schema.md`` for the ER diagram.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from fecflow.catalog import FILES
from fecflow.db.partitions import STAGING_PARTITION

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)
SCHEMAS = ("ops", "staging", "ref", "core", "scores")

TS = TIMESTAMP(timezone=True)
NOW = text("now()")
MONEY = Numeric(14, 2)


def _id(name: str) -> Column:
    return Column(name, BigInteger, Identity(always=False), primary_key=True)


# ----------------------------------------------------------------------------------------------- ops
ingest_run = Table(
    "ingest_run",
    metadata,
    _id("run_id"),
    Column("command", Text, nullable=False),
    Column("args", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default="running"),
    Column("started_at", TS, nullable=False, server_default=NOW),
    Column("finished_at", TS),
    Column("error", Text),
    Column("hostname", Text),
    Column("pid", Integer),
    Column("fecflow_version", Text),
    Column("resumed_from_run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    CheckConstraint("status IN ('running', 'succeeded', 'failed', 'interrupted')", name="status"),
    schema="ops",
)

source_file = Table(
    "source_file",
    metadata,
    _id("source_file_id"),
    Column("url", Text, nullable=False),
    Column("cycle", SmallInteger),
    Column("file_type", Text, nullable=False),
    Column("member", Text),
    Column("status", Text, nullable=False),
    Column("http_status", SmallInteger),
    Column("bytes", BigInteger),
    Column("sha256", Text),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("attempts", SmallInteger),
    Column("elapsed_s", Float),
    Column("fetched_at", TS, nullable=False, server_default=NOW),
    Column("storage_uri", Text),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    CheckConstraint("status IN ('downloaded', 'unchanged', 'failed', 'local')", name="status"),
    Index(None, "url", "fetched_at"),
    Index(None, "sha256"),
    schema="ops",
)

ingest_run_audits = Table(
    "ingest_run_audits",
    metadata,
    _id("audit_id"),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id"), nullable=False),
    Column("stage", Text, nullable=False),
    Column("scope", Text, nullable=False, server_default=""),
    Column("source_file_id", BigInteger, ForeignKey("ops.source_file.source_file_id")),
    Column("status", Text, nullable=False, server_default="running"),
    Column("lines_read", BigInteger),
    Column("rows_loaded", BigInteger),
    Column("rows_rejected", BigInteger),
    Column("sha256", Text),
    Column("bytes", BigInteger),
    Column("window_start", Date),
    Column("window_end", Date),
    Column("started_at", TS, nullable=False, server_default=NOW),
    Column("finished_at", TS),
    Column("counts", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("validation", JSONB),
    Column("error", Text),
    CheckConstraint("status IN ('running', 'succeeded', 'failed', 'skipped')", name="status"),
    CheckConstraint(
        "status <> 'succeeded' OR lines_read IS NULL OR lines_read = rows_loaded + rows_rejected",
        name="lines_balance",
    ),
    Index(None, "run_id", "stage"),
    Index(None, "source_file_id"),
    schema="ops",
)

rejected_row = Table(
    "rejected_row",
    metadata,
    _id("rejected_row_id"),
    Column("source_file_id", BigInteger, ForeignKey("ops.source_file.source_file_id"), nullable=False),
    Column("audit_id", BigInteger, ForeignKey("ops.ingest_run_audits.audit_id")),
    Column("line_number", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text),
    Column("raw", LargeBinary, nullable=False),
    Column("created_at", TS, nullable=False, server_default=NOW),
    UniqueConstraint("source_file_id", "line_number"),
    schema="ops",
)

api_pull = Table(
    "api_pull",
    metadata,
    _id("pull_id"),
    Column("endpoint", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    Column("cursor", JSONB),
    Column("status", Text, nullable=False, server_default="running"),
    Column("pages", Integer, nullable=False, server_default="0"),
    Column("rows", BigInteger, nullable=False, server_default="0"),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    Column("started_at", TS, nullable=False, server_default=NOW),
    Column("updated_at", TS, nullable=False, server_default=NOW),
    CheckConstraint("status IN ('running', 'done', 'failed')", name="status"),
    schema="ops",
)

# ------------------------------------------------------------------------------------------- staging
STAGING_META_COLUMNS = ("_source_file_id", "_batch_id", "_line_number")


def _staging_table(file_type: str) -> Table:
    spec = FILES[file_type]
    return Table(
        spec.staging_table,
        metadata,
        *(Column(col.staging_name, Text, comment=col.description) for col in spec.columns),
        # No foreign keys here: a per-row FK check cost ~4x the COPY throughput. Every row of a batch
        # points at the same source file and audit row; the loader locks both FOR KEY SHARE once per
        # batch and commits the rows with their audit (migration 0002).
        Column("_source_file_id", BigInteger, nullable=False),
        Column("_batch_id", BigInteger, nullable=False),
        Column("_line_number", BigInteger, nullable=False),
        # BRIN: before the partitions (0013) this kept a scan of one source file from reading every
        # cycle staged; now the partitions do (a query for one file is pruned to its leaves), and
        # the index only narrows line ranges inside a leaf. Measured cost: ~9% of the server's CPU
        # on COPY (1M prefixed itcont rows: 1.31 s vs 1.20 s of backend CPU without it, median of 3).
        Index(
            f"ix_{spec.staging_table}_source_line", "_source_file_id", "_line_number", postgresql_using="brin"
        ),
        schema="staging",
        comment=f"{spec.title}: raw FEC columns, all text, byte-faithful (generated from the catalog).",
        # One leaf per stage batch, COPYed with FREEZE (fecflow.db.partitions; migration 0013).
        postgresql_partition_by=STAGING_PARTITION,
    )


STAGING_TABLES: dict[str, Table] = {ft: _staging_table(ft) for ft in FILES}

# Lines whose raw bytes are not UTF-8 or end in CRLF: their original bytes, so export is exact.
staging_raw_line = Table(
    "raw_line",
    metadata,
    Column("source_file_id", BigInteger, ForeignKey("ops.source_file.source_file_id"), primary_key=True),
    Column("line_number", BigInteger, primary_key=True),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    schema="staging",
    comment="Original bytes of loaded lines that were re-encoded (non-UTF-8) or had CRLF endings.",
)

openfec_payload = Table(
    "openfec_payload",
    metadata,
    _id("payload_id"),
    Column("pull_id", BigInteger, ForeignKey("ops.api_pull.pull_id"), nullable=False),
    Column("page_number", Integer, nullable=False),
    Column("endpoint", Text, nullable=False),
    Column("request_params", JSONB, nullable=False),
    Column("response", JSONB, nullable=False),
    Column("cursor", JSONB),
    Column("row_count", Integer, nullable=False),
    Column("fetched_at", TS, nullable=False, server_default=NOW),
    UniqueConstraint("pull_id", "page_number"),
    schema="staging",
)

# E-filings (.fec, migration 0008): one row per filing, every line of it (parsed) or its quarantine row.
efiling_staged = Table(
    "efiling",
    metadata,
    Column("filing_id", BigInteger, primary_key=True, comment="FEC filing id (the .fec file name)"),
    Column("source_file_id", BigInteger, ForeignKey("ops.source_file.source_file_id"), nullable=False),
    Column("member", Text, comment="member of a daily archive; NULL for a single downloaded filing"),
    Column("version", Text, comment=".fec format version from the header (NULL when unreadable)"),
    Column("header", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("sha256", Text, nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("lines", Integer, nullable=False),
    Column("parsed", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("status", Text, nullable=False),
    Column("error", Text),
    Column("audit_id", BigInteger, ForeignKey("ops.ingest_run_audits.audit_id")),
    Column("staged_at", TS, nullable=False, server_default=NOW),
    CheckConstraint("status IN ('staged', 'quarantined')", name="status"),
    CheckConstraint("lines = parsed + rejected", name="lines_balance"),
    schema="staging",
    comment="One e-filing as staged: its source, format version, sha256 and line counts.",
)

efiling_line = Table(
    "efiling_line",
    metadata,
    Column("filing_id", BigInteger, ForeignKey("staging.efiling.filing_id", ondelete="CASCADE"), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("record_type", Text, nullable=False, comment="HDR, TEXT, BLANK or the form/schedule type (SA11AI, ...)"),
    Column("version", Text, nullable=False),
    Column("fields", JSONB, nullable=False, comment="the fields as named by the fecfile parser, all text"),
    Column("raw", LargeBinary, nullable=False, comment="the line's bytes, its line end included"),
    Column("recoded", Boolean, nullable=False, server_default=text("false")),
    Index(None, "record_type"),
    schema="staging",
    comment="Every parsed line of every staged e-filing, byte for byte.",
)

efiling_reject = Table(
    "efiling_reject",
    metadata,
    Column("filing_id", BigInteger, ForeignKey("staging.efiling.filing_id", ondelete="CASCADE"), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("record_type", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail", Text),
    Column("raw", LargeBinary, nullable=False),
    schema="staging",
    comment="Quarantined e-filing lines (unknown version, unmapped record, ...), with the reason.",
)

# ----------------------------------------------------------------------------------------------- ref
naics = Table(
    "naics",
    metadata,
    Column("code", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("level", SmallInteger, nullable=False),
    Column("parent_code", Text, ForeignKey("ref.naics.code")),
    CheckConstraint("level BETWEEN 2 AND 6", name="level"),
    schema="ref",
)

transaction_type = Table(
    "transaction_type",
    metadata,
    Column("code", Text, primary_key=True),
    Column("description", Text, nullable=False),
    schema="ref",
)

counting_rule = Table(
    "counting_rule",
    metadata,
    Column("rule_version", Text, primary_key=True),
    Column("transaction_type", Text, primary_key=True),
    Column("memo", Boolean, primary_key=True),
    Column("category", Text, nullable=False),
    Column("counts_as_contribution", Boolean, nullable=False),
    Column("is_refund", Boolean, nullable=False, server_default=text("false")),
    Column("sign", SmallInteger, nullable=False, server_default="1"),
    Column("reason", Text, nullable=False),
    Column(
        "filer_side",
        Text,
        nullable=False,
        server_default=text("'recipient'"),
        comment="the filer's side of the money: recipient or giver (refunds: the side of the original money)",
    ),
    CheckConstraint("sign IN (-1, 0, 1)", name="sign"),
    CheckConstraint("filer_side IN ('recipient', 'giver')", name="filer_side"),
    CheckConstraint(
        "category IN ('contribution', 'earmarked_contribution', 'memo', 'conduit_passthrough', 'refund', "
        "'candidate_self', 'independent_expenditure_for', 'independent_expenditure_against', 'transfer', "
        "'loan', 'other')",
        name="category",
    ),
    schema="ref",
)

committee_type = Table(
    "committee_type",
    metadata,
    Column("code", Text, primary_key=True),
    Column("description", Text, nullable=False),
    schema="ref",
)

party = Table(
    "party",
    metadata,
    Column("code", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("alignment", Text, nullable=False),
    CheckConstraint("alignment IN ('D', 'R', 'O')", name="alignment"),
    schema="ref",
)

generic_employer = Table(
    "generic_employer",
    metadata,
    Column("pattern", Text, primary_key=True),
    Column("bucket", Text, nullable=False),
    schema="ref",
    comment="Normalized employer strings that are buckets (RETIRED, SELF-EMPLOYED, ...), not employers.",
)

conduit = Table(
    "conduit",
    metadata,
    Column("committee_id", Text, primary_key=True),
    Column("valid_from", Date, primary_key=True),
    Column("valid_to", Date),
    Column("name", Text, nullable=False),
    Column("source", Text, nullable=False),
    CheckConstraint("valid_to IS NULL OR valid_from <= valid_to", name="valid_range"),
    schema="ref",
    comment="Conduits (ActBlue, WinRed, ...): earmarks pass through them; never a recipient for leaning "
    "(lean-2026.2 and later; lean-2026.1 keeps its own parameter). Dates are inclusive.",
)

employer_industry_rule = Table(
    "employer_industry_rule",
    metadata,
    _id("rule_id"),
    Column("method", Text, nullable=False),
    Column("pattern", Text, nullable=False),
    Column("naics_code", Text, ForeignKey("ref.naics.code"), nullable=False),
    Column("confidence", Numeric(3, 2), nullable=False),
    Column("priority", SmallInteger, nullable=False, server_default="100"),
    CheckConstraint("method IN ('curated', 'name_rule', 'occupation')", name="method"),
    UniqueConstraint("method", "pattern"),
    schema="ref",
)

# ---------------------------------------------------------------------------------------------- core
_LOADED = (
    lambda: Column("source_file_id", BigInteger, ForeignKey("ops.source_file.source_file_id")),
    lambda: Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
)

candidate = Table(
    "candidate",
    metadata,
    _id("candidate_key"),
    Column("candidate_id", Text, nullable=False, unique=True),
    Column("name", Text),
    Column("party", Text),
    Column("election_year", SmallInteger),
    Column("office", Text),
    Column("office_state", Text),
    Column("office_district", Text),
    Column("incumbent_challenger", Text),
    Column("status", Text),
    Column("principal_committee_id", Text),
    Column("is_placeholder", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", TS, nullable=False, server_default=NOW),
    # The explorer's name search (web/): prefix and fuzzy matches through pg_trgm (migration 0009).
    Index(
        "ix_candidate_name_trgm",
        "name",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    ),
    schema="core",
)

candidate_history = Table(
    "candidate_history",
    metadata,
    _id("candidate_history_id"),
    Column("candidate_key", BigInteger, ForeignKey("core.candidate.candidate_key"), nullable=False),
    Column("attributes", JSONB, nullable=False),
    Column("record_hash", Text, nullable=False),
    Column("valid_from", TS, nullable=False),
    Column("valid_to", TS),
    *(f() for f in _LOADED),
    Index(
        "uq_candidate_history_current",
        "candidate_key",
        unique=True,
        postgresql_where=text("valid_to IS NULL"),
    ),
    schema="core",
)

committee = Table(
    "committee",
    metadata,
    _id("committee_key"),
    Column("committee_id", Text, nullable=False, unique=True),
    Column("name", Text),
    Column("committee_type", Text),
    Column("designation", Text),
    Column("party", Text),
    Column("filing_frequency", Text),
    Column("organization_type", Text),
    Column("connected_organization", Text),
    Column("state", Text),
    Column("candidate_id", Text),
    Column("candidate_key", BigInteger, ForeignKey("core.candidate.candidate_key")),
    Column("is_placeholder", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", TS, nullable=False, server_default=NOW),
    # The explorer's name search (web/): prefix and fuzzy matches through pg_trgm (migration 0009).
    Index(
        "ix_committee_name_trgm",
        "name",
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    ),
    schema="core",
)

committee_history = Table(
    "committee_history",
    metadata,
    _id("committee_history_id"),
    Column("committee_key", BigInteger, ForeignKey("core.committee.committee_key"), nullable=False),
    Column("attributes", JSONB, nullable=False),
    Column("record_hash", Text, nullable=False),
    Column("valid_from", TS, nullable=False),
    Column("valid_to", TS),
    *(f() for f in _LOADED),
    Index(
        "uq_committee_history_current",
        "committee_key",
        unique=True,
        postgresql_where=text("valid_to IS NULL"),
    ),
    schema="core",
)

candidate_committee_link = Table(
    "candidate_committee_link",
    metadata,
    _id("link_key"),
    Column("linkage_id", BigInteger, nullable=False, unique=True),
    Column("candidate_key", BigInteger, ForeignKey("core.candidate.candidate_key")),
    Column("committee_key", BigInteger, ForeignKey("core.committee.committee_key"), nullable=False),
    Column("candidate_id_raw", Text, nullable=False),
    Column("candidate_election_year", SmallInteger),
    Column("fec_election_year", SmallInteger),
    Column("committee_type", Text),
    Column("designation", Text),
    Column("anomaly", Text),
    Column("valid_from", TS, nullable=False, server_default=NOW),
    Column("valid_to", TS),
    *(f() for f in _LOADED),
    Index(None, "candidate_key"),
    Index(None, "committee_key"),
    schema="core",
)

committee_sponsor = Table(
    "committee_sponsor",
    metadata,
    _id("sponsor_link_key"),
    Column("committee_key", BigInteger, ForeignKey("core.committee.committee_key"), nullable=False),
    Column(
        "sponsor_name",
        Text,
        nullable=False,
        comment="canonical employer name of CONNECTED_ORG_NM (normalize.employers), joined to core.employer",
    ),
    Column("connected_organization", Text, nullable=False),
    Column("organization_type", Text),
    Column("method", Text, nullable=False),
    Column("map_version", Text, nullable=False),
    Column("valid_from", TS, nullable=False, server_default=NOW),
    Column("valid_to", TS),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    Index(
        "uq_committee_sponsor_current",
        "committee_key",
        unique=True,
        postgresql_where=text("valid_to IS NULL"),
    ),
    Index(None, "sponsor_name"),
    schema="core",
    comment="Separate segregated funds and their sponsoring organization (cm.txt CONNECTED_ORG_NM), with history.",
)

industry = Table(
    "industry",
    metadata,
    _id("industry_key"),
    Column("naics_code", Text, ForeignKey("ref.naics.code"), nullable=False, unique=True),
    Column("title", Text, nullable=False),
    Column("level", SmallInteger, nullable=False),
    # The explorer's name search (web/): prefix and fuzzy matches through pg_trgm (migration 0009).
    Index(
        "ix_industry_title_trgm",
        "title",
        postgresql_using="gin",
        postgresql_ops={"title": "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    ),
    schema="core",
)

employer = Table(
    "employer",
    metadata,
    _id("employer_key"),
    Column("canonical_name", Text, nullable=False, unique=True),
    Column("is_generic", Boolean, nullable=False, server_default=text("false")),
    Column("bucket", Text),
    Column(
        "map_version",
        Text,
        comment="EMPLOYER_MAP_VERSION that decided this employer's industry (found or not)",
    ),
    # The explorer's name search (web/): prefix and fuzzy matches through pg_trgm (migration 0009).
    Index(
        "ix_employer_canonical_name_trgm",
        "canonical_name",
        postgresql_using="gin",
        postgresql_ops={"canonical_name": "gin_trgm_ops"},
        postgresql_with={"fastupdate": "off"},
    ),
    schema="core",
)

employer_alias = Table(
    "employer_alias",
    metadata,
    Column("raw_employer", Text, primary_key=True),
    Column("employer_key", BigInteger, ForeignKey("core.employer.employer_key"), nullable=False),
    Column("method", Text, nullable=False),
    Column("confidence", Numeric(3, 2), nullable=False),
    Column(
        "map_version",
        Text,
        nullable=False,
        comment="EMPLOYER_MAP_VERSION that mapped this string (an older one is mapped again by normalize)",
    ),
    Column(
        "score",
        Numeric(3, 2),
        comment="method similar: how surely the string joined its employer (string evidence x row evidence)",
    ),
    Column(
        "evidence",
        JSONB,
        comment="method similar: kind of string evidence, own name, joined name, row overlaps (0-1)",
    ),
    Index(None, "employer_key"),
    schema="core",
    comment="Every distinct raw employer string and the canonical employer it maps to.",
)

employer_industry = Table(
    "employer_industry",
    metadata,
    Column("employer_key", BigInteger, ForeignKey("core.employer.employer_key"), primary_key=True),
    Column("industry_key", BigInteger, ForeignKey("core.industry.industry_key"), nullable=False),
    Column("method", Text, nullable=False),
    Column("confidence", Numeric(3, 2), nullable=False),
    Index(None, "industry_key"),
    schema="core",
)

CONTRIBUTION_PARTITION = "RANGE (transaction_date)"
contribution = Table(
    "contribution",
    metadata,
    Column("contribution_id", BigInteger, Identity(always=False), nullable=False),
    Column("sub_id", BigInteger, nullable=False),
    Column("source", Text, nullable=False),
    Column("cycle", SmallInteger, nullable=False),
    Column(
        "recipient_committee_key",
        BigInteger,
        ForeignKey("core.committee.committee_key"),
        nullable=False,
        comment="the filer (CMTE_ID); the receiver unless filer_side = 'giver' (see core.contribution_flow)",
    ),
    Column(
        "contributor_committee_key",
        BigInteger,
        ForeignKey("core.committee.committee_key"),
        comment="OTHER_ID when it is a committee; the receiver when filer_side = 'giver'",
    ),
    Column("candidate_key", BigInteger, ForeignKey("core.candidate.candidate_key")),
    Column("conduit_committee_id", Text),
    Column("other_id", Text),
    Column("employer_key", BigInteger, ForeignKey("core.employer.employer_key")),
    Column("raw_employer", Text),
    Column("occupation", Text),
    Column("contributor_name", Text),
    Column("city", Text),
    Column("state", Text),
    Column("zip5", Text),
    Column("donor_key", Text),
    Column("entity_type", Text),
    Column("transaction_type", Text),
    Column("memo_code", Text),
    Column("memo_text", Text),
    Column("amendment_indicator", Text),
    Column("report_type", Text),
    Column("election_type", Text),
    Column("image_number", Text),
    Column("transaction_id", Text),
    Column("file_number", BigInteger),
    Column("transaction_date", Date),
    Column("transaction_date_raw", Text),
    Column("amount", MONEY, nullable=False),
    Column("rule_version", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("counts_as_contribution", Boolean, nullable=False),
    Column("is_refund", Boolean, nullable=False),
    Column(
        "filer_side",
        Text,
        nullable=False,
        server_default=text("'recipient'"),
        comment="from ref.counting_rule: giver when the filer (recipient_committee_key) gave the money",
    ),
    Column("row_hash", Text, nullable=False),
    # Provenance: no foreign keys (each would be checked over every attached partition); the ops rows
    # are never deleted and the validation accounting.provenance checks the references instead.
    Column("source_file_id", BigInteger, comment="ops.source_file of the snapshot that last wrote the row"),
    Column("first_run_id", BigInteger, comment="ops.ingest_run that inserted the row"),
    Column("last_run_id", BigInteger, comment="ops.ingest_run that last changed the row"),
    Column("deleted_at", TS),
    Column("deleted_by_run_id", BigInteger, comment="ops.ingest_run that soft-deleted the row"),
    # One row per SUB_ID and date (undated rows: NULL, equal to each other). Global SUB_ID uniqueness
    # across partitions is kept by normalize (update by sub_id first) and checked by a validation.
    UniqueConstraint("sub_id", "transaction_date", postgresql_nulls_not_distinct=True),
    CheckConstraint("source IN ('indiv', 'pas2', 'oth', 'openfec')", name="source"),
    CheckConstraint("filer_side IN ('recipient', 'giver')", name="filer_side"),
    # Lookups by SUB_ID use the unique constraint above (sub_id leads it).
    Index(None, "recipient_committee_key", "transaction_date"),
    Index(None, "employer_key"),
    Index(None, "transaction_date", postgresql_using="brin"),
    # Individual contributions (most rows) have neither key: partial indexes skip them.
    Index(None, "contributor_committee_key", postgresql_where=text("contributor_committee_key IS NOT NULL")),
    Index(None, "candidate_key", postgresql_where=text("candidate_key IS NOT NULL")),
    schema="core",
    postgresql_partition_by=CONTRIBUTION_PARTITION,
    comment="Itemized transactions, one row per SUB_ID; partitioned by year of transaction_date.",
)

contribution_history = Table(
    "contribution_history",
    metadata,
    _id("contribution_history_id"),
    Column("sub_id", BigInteger, nullable=False),
    Column("change", Text, nullable=False),
    Column("old_values", JSONB),
    Column("new_values", JSONB),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    Column("changed_at", TS, nullable=False, server_default=NOW),
    CheckConstraint("change IN ('insert', 'update', 'delete', 'restore')", name="change"),
    Index(None, "sub_id"),
    schema="core",
)

efiling = Table(
    "efiling",
    metadata,
    Column("filing_id", BigInteger, primary_key=True),
    Column("committee_id", Text, comment="filer_committee_id_number of the form record"),
    Column("form_type", Text, nullable=False, comment="F3N, F3XA, F99, ... (the first form record)"),
    Column("report_family", Text, comment="F3, F3X or F3P for reports with a summary page"),
    Column("report_type", Text, comment="report_code: Q1, M2, YE, 12P, ..."),
    Column("coverage_from", Date),
    Column("coverage_through", Date),
    Column("date_signed", Date),
    Column("received_date", Date, comment="day of the FEC daily archive that carried it (NULL otherwise)"),
    Column("version", Text),
    Column("amends_filing_id", BigInteger, comment="the filing this one amends (header report_id FEC-n)"),
    Column("amendment_number", Integer),
    Column("superseded_by_filing_id", BigInteger, comment="the latest amendment that replaces this filing"),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    Index(None, "committee_id", "coverage_through"),
    Index(None, "amends_filing_id"),
    schema="core",
    comment="E-filings as records: who filed what, for which period, and which amendment replaces it.",
)

efiling_summary = Table(
    "efiling_summary",
    metadata,
    Column("filing_id", BigInteger, ForeignKey("core.efiling.filing_id", ondelete="CASCADE"), primary_key=True),
    Column("line", Text, primary_key=True, comment="FEC summary line, e.g. 11(a)(i)"),
    Column("field", Text, nullable=False),
    Column("label", Text, nullable=False),
    Column("rule", Text, nullable=False),
    Column("summary_amount", MONEY, comment="column A (this period) on the summary page"),
    Column("itemized_amount", MONEY, comment="sum of the non-memo itemized rows (rule 'equal')"),
    Column("itemized_rows", Integer),
    Column("status", Text, nullable=False),
    CheckConstraint("rule IN ('equal', 'unitemized')", name="rule"),
    CheckConstraint("status IN ('match', 'mismatch', 'kept', 'missing')", name="status"),
    schema="core",
    comment="A report's summary lines next to its own itemized sums; unitemized totals kept as data.",
)

efiling_transaction = Table(
    "efiling_transaction",
    metadata,
    Column("filing_id", BigInteger, ForeignKey("core.efiling.filing_id", ondelete="CASCADE"), primary_key=True),
    Column("line_number", Integer, primary_key=True),
    Column("committee_id", Text, nullable=False, comment="the filer"),
    Column("transaction_id", Text, comment="the filer's TRAN_ID, kept in the bulk files"),
    Column("line", Text, nullable=False, comment="schedule line as filed: SA11AI, SB23, SE, ..."),
    Column("transaction_type", Text, nullable=False, comment="the type the FEC gives this line in bulk files"),
    Column("memo_code", Text),
    Column("entity_type", Text),
    Column("name", Text),
    Column("city", Text),
    Column("state", Text),
    Column("zip5", Text),
    Column("employer", Text),
    Column("occupation", Text),
    Column("other_id", Text, comment="donor / beneficiary committee or candidate id"),
    Column("transaction_date", Date),
    Column("transaction_date_raw", Text),
    Column("amount", MONEY, nullable=False),
    Column("rule_version", Text, nullable=False),
    Column("category", Text, nullable=False),
    Column("counts_as_contribution", Boolean, nullable=False),
    Column("is_refund", Boolean, nullable=False),
    Column("filer_side", Text, nullable=False),
    Column("status", Text, nullable=False, comment="preliminary, or superseded by the processed bulk row"),
    Column("superseded_by_sub_id", BigInteger, comment="SUB_ID of the core.contribution row that replaced it"),
    Column("superseded_at", TS),
    Column("superseded_run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    Column("source", Text, comment="indiv, pas2 or oth: the bulk file the processed row will be in"),
    Column("recipient_committee_key", BigInteger, comment="the filer (core.committee)"),
    Column("contributor_committee_key", BigInteger, comment="committee rows: the other committee"),
    Column("candidate_key", BigInteger, comment="pas2 rows: the candidate the other id names"),
    Column("employer_key", BigInteger, comment="through core.employer_alias, as bulk rows"),
    Column("donor_key", Text, comment="normalized name | zip5, as bulk rows"),
    CheckConstraint("status IN ('preliminary', 'superseded')", name="status"),
    CheckConstraint("status = 'preliminary' OR superseded_by_sub_id IS NOT NULL", name="superseded_has_sub_id"),
    Index(None, "committee_id", "transaction_id"),
    schema="core",
    comment="E-filed schedule A/B/E rows, preliminary until the processed bulk row of the same transaction arrives.",
)

# -------------------------------------------------------------------------------------------- scores
score_method = Table(
    "method",
    metadata,
    Column("method_version", Text, primary_key=True),
    Column("description", Text, nullable=False),
    Column("params", JSONB, nullable=False),
    schema="scores",
)

leaning_score = Table(
    "leaning_score",
    metadata,
    _id("score_id"),
    Column("entity_type", Text, nullable=False),
    Column("candidate_key", BigInteger, ForeignKey("core.candidate.candidate_key")),
    Column("committee_key", BigInteger, ForeignKey("core.committee.committee_key")),
    Column("employer_key", BigInteger, ForeignKey("core.employer.employer_key")),
    Column("industry_key", BigInteger, ForeignKey("core.industry.industry_key")),
    Column("method_version", Text, ForeignKey("scores.method.method_version"), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("window_start", Date, nullable=False),
    Column("window_end", Date, nullable=False),
    Column("valid_from", TS, nullable=False),
    Column("valid_to", TS),
    Column("score", Numeric(6, 5)),
    Column("ci_low", Numeric(6, 5)),
    Column("ci_high", Numeric(6, 5)),
    Column("dem_amount", MONEY, nullable=False),
    Column("rep_amount", MONEY, nullable=False),
    Column("other_amount", MONEY, nullable=False),
    Column("n_contributions", Integer, nullable=False),
    Column("n_donors", Integer, nullable=False),
    Column("reason", Text),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id")),
    # lean-2026.2 and later (NULL for lean-2026.1 rows): what the score rests on.
    Column("n_effective", Numeric(12, 2), comment="effective count of independent deciders"),
    Column("direct_amount", MONEY, comment="partisan money given straight to candidates and parties"),
    Column("flowed_amount", MONEY, comment="partisan money that reached them through other committees"),
    Column("own_pac_amount", MONEY, comment="employer: its people's gifts to its own PAC (not in the score)"),
    Column("own_pac_committee_key", BigInteger, ForeignKey("core.committee.committee_key")),
    Column("base_donor_share", Numeric(6, 5), comment="candidate: share of its donors the score rests on"),
    Column("base_dollar_share", Numeric(6, 5), comment="candidate: share of its dollars the score rests on"),
    Column(
        "preliminary_amount",
        MONEY,
        comment="dollars of the entity's counted rows from preliminary e-filed rows (NULL: not included)",
    ),
    CheckConstraint("entity_type IN ('candidate', 'committee', 'employer', 'industry')", name="entity_type"),
    CheckConstraint(
        "num_nonnulls(candidate_key, committee_key, employer_key, industry_key) = 1", name="one_entity"
    ),
    CheckConstraint("score IS NULL OR (score >= 0 AND score <= 1)", name="score_range"),
    CheckConstraint("score IS NOT NULL OR reason IS NOT NULL", name="null_has_reason"),
    CheckConstraint("window_start <= window_end", name="window"),
    Index(None, "entity_type", "as_of"),
    Index(None, "candidate_key"),
    Index(None, "committee_key"),
    Index(None, "employer_key"),
    Index(None, "industry_key"),
    schema="scores",
)


# Explanations stored at score time (migration 0010): which slots and entity types have lines, and the lines.
_EXPLANATION_SLOT = ("method_version", "as_of", "window_start", "window_end", "entity_type")


def _slot_columns() -> list[Column]:
    return [
        Column("method_version", Text, primary_key=True),
        Column("as_of", Date, primary_key=True),
        Column("window_start", Date, primary_key=True),
        Column("window_end", Date, primary_key=True),
        Column("entity_type", Text, primary_key=True),
    ]


explanation_slot = Table(
    "explanation_slot",
    metadata,
    *_slot_columns(),
    Column("top", Integer, nullable=False, comment="lines kept per entity and kind"),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id"), nullable=False),
    Column("computed_at", TS, nullable=False, server_default=NOW),
    CheckConstraint("entity_type IN ('committee', 'employer', 'industry')", name="entity_type"),
    schema="scores",
    comment="Score slots (method, as_of, window) and entity types whose explanation lines are stored.",
)

explanation_line = Table(
    "explanation_line",
    metadata,
    *_slot_columns(),
    Column("entity_key", BigInteger, primary_key=True),
    Column("kind", Text, primary_key=True, comment="recipient, or flow (lean-2026.2)"),
    Column("rank", SmallInteger, primary_key=True),
    Column("recipient_id", Text, comment="candidate or committee FEC id"),
    Column("recipient_name", Text),
    Column("committee_key", BigInteger, comment="flow: the committee the money went through"),
    Column("side", Text),
    Column("basis", Text),
    Column("amount", MONEY, nullable=False, comment="net dollars; flow: the partisan dollars that came out"),
    Column("n_contributions", Integer),
    Column("n_donors", Integer, nullable=False),
    CheckConstraint("kind IN ('recipient', 'flow')", name="kind"),
    ForeignKeyConstraint(
        list(_EXPLANATION_SLOT),
        [f"scores.explanation_slot.{c}" for c in _EXPLANATION_SLOT],
        ondelete="CASCADE",
    ),
    schema="scores",
    comment="An entity's top recipients and (lean-2026.2) the committees its money went through, per score slot.",
)


# Each score slot's committee sides and flows (migration 0011): an entity's lines in one read-only query.
_CONTEXT_SLOT = ("method_version", "as_of", "window_start", "window_end")


def _context_columns() -> list[Column]:
    return [Column(c, Date if c != "method_version" else Text, primary_key=True) for c in _CONTEXT_SLOT]


def _context_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        list(_CONTEXT_SLOT), [f"scores.context_slot.{c}" for c in _CONTEXT_SLOT], ondelete="CASCADE"
    )


context_slot = Table(
    "context_slot",
    metadata,
    *_context_columns(),
    Column("run_id", BigInteger, ForeignKey("ops.ingest_run.run_id"), nullable=False),
    Column("computed_at", TS, nullable=False, server_default=NOW),
    Column(
        "include_preliminary",
        Boolean,
        nullable=False,
        server_default=text("false"),
        comment="the slot counted e-filed rows not yet processed (scores compute --include-preliminary)",
    ),
    schema="scores",
    comment="Score slots whose committee sides and flows are kept (scores.context_*).",
)

context_committee = Table(
    "context_committee",
    metadata,
    *_context_columns(),
    Column("committee_key", BigInteger, primary_key=True),
    Column("alignment", Text, comment="D, R, O or NULL (undetermined)"),
    Column("basis", Text, comment="conduit, candidate, party, derived; NULL: no fixed side"),
    Column("candidate_key", BigInteger, comment="the one candidate it is authorized by"),
    Column("dem_frac", Numeric, comment="lean-2026.2 flow: D part of each dollar given"),
    Column("rep_frac", Numeric),
    Column("other_frac", Numeric),
    Column("partisan", Numeric),
    Column("mean", Numeric),
    Column("var", Numeric),
    _context_fk(),
    schema="scores",
    comment="Per score slot and committee: its side, its candidate and (lean-2026.2) its solved flow.",
)

context_candidate = Table(
    "context_candidate",
    metadata,
    *_context_columns(),
    Column("candidate_key", BigInteger, primary_key=True),
    Column("alignment", Text, nullable=False),
    _context_fk(),
    schema="scores",
    comment="Per score slot and candidate: the alignment of its party.",
)

context_own_pac = Table(
    "context_own_pac",
    metadata,
    *_context_columns(),
    Column("employer_key", BigInteger, primary_key=True),
    Column("committee_key", BigInteger, primary_key=True),
    _context_fk(),
    schema="scores",
    comment="Per score slot (lean-2026.2): employers and their own PACs.",
)
