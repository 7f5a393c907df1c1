"""Render the generated part of ``docs/data/schema.md`` from the SQLAlchemy model.

The hand-written explanation lives between the markers; everything after
``<!-- BEGIN GENERATED -->`` is produced here (ER diagram, tables, constraints and indexes) and a test
fails when it is stale. Another test checks that every constraint and index named here exists in a
freshly migrated database.
"""

from __future__ import annotations

from sqlalchemy import ForeignKeyConstraint, Index, PrimaryKeyConstraint, Table, UniqueConstraint
from sqlalchemy.dialects import postgresql

from fecflow.db.models import CONTRIBUTION_PARTITION, SCHEMAS, metadata
from fecflow.db.partitions import STAGING_PARTITION

PG_DIALECT = postgresql.dialect()

BEGIN = "<!-- BEGIN GENERATED: `make docs` rewrites everything below -->"

ER_SCHEMAS = ("ops", "core", "scores", "ref")


def _tables(schema: str) -> list[Table]:
    return sorted((t for t in metadata.tables.values() if t.schema == schema), key=lambda t: t.name)


def _mermaid_name(table: Table) -> str:
    return f"{table.schema}_{table.name}"


def render_er_diagram() -> str:
    lines = ["```mermaid", "erDiagram"]
    for schema in ER_SCHEMAS:
        for table in _tables(schema):
            cols = []
            for col in table.columns:
                key = " PK" if col.primary_key else (" FK" if col.foreign_keys else "")
                type_name = str(col.type.compile(dialect=PG_DIALECT)).split("(")[0].replace(" ", "_").lower()
                cols.append(f"        {type_name} {col.name}{key}")
            lines.append(f"    {_mermaid_name(table)} {{")
            lines.extend(cols)
            lines.append("    }")
    seen = set()
    for schema in ER_SCHEMAS:
        for table in _tables(schema):
            for fk in sorted(table.foreign_key_constraints, key=lambda c: c.column_keys[0]):
                target = fk.referred_table
                if target.schema not in ER_SCHEMAS:
                    continue
                edge = (_mermaid_name(target), _mermaid_name(table), fk.column_keys[0])
                if edge in seen:
                    continue
                seen.add(edge)
                lines.append(f'    {edge[0]} ||--o{{ {edge[1]} : "{edge[2]}"')
    lines.append("```")
    return "\n".join(lines)


def constraint_names(table: Table) -> list[tuple[str, str]]:
    """(kind, name) of every named constraint and index of a table."""
    out: list[tuple[str, str]] = []
    for cons in sorted(table.constraints, key=lambda c: str(c.name)):
        name = str(cons.name)
        if isinstance(cons, PrimaryKeyConstraint):
            if cons.columns:
                out.append(("primary key", name))
        elif isinstance(cons, ForeignKeyConstraint):
            out.append(("foreign key", name))
        elif isinstance(cons, UniqueConstraint):
            out.append(("unique", name))
    for col in table.columns:
        if col.unique:
            pass  # rendered as unique constraints by the naming convention below
    for index in sorted(table.indexes, key=lambda i: str(i.name)):
        assert isinstance(index, Index)
        out.append(("unique index" if index.unique else "index", str(index.name)))
    return out


def render_tables() -> str:
    lines = []
    for schema in SCHEMAS:
        lines += ["", f"### Schema `{schema}`", ""]
        for table in _tables(schema):
            doc = f" {table.comment}" if table.comment else ""
            lines.append(f"#### `{schema}.{table.name}`{doc}")
            lines.append("")
            if table.name == "contribution":
                lines.append(
                    f"Partitioned `{CONTRIBUTION_PARTITION}`: partitions `core.contribution_yYYYY` "
                    "(created on demand) and `core.contribution_default` (undated rows)."
                )
                lines.append("")
            elif schema == "staging" and table.dialect_options["postgresql"].get("partition_by"):
                lines.append(
                    f"Partitioned `{STAGING_PARTITION}`: one partition per stage batch, "
                    f"`staging.{table.name}_s<source_file_id>_b<batch_id>` (created by the batch, COPYed with FREEZE)."
                )
                lines.append("")
            lines.append("| column | type | null | notes |")
            lines.append("|---|---|---|---|")
            for col in table.columns:
                notes = []
                if col.primary_key:
                    notes.append("PK")
                for fk in col.foreign_keys:
                    notes.append(f"FK → `{fk.target_fullname}`")
                if col.comment:
                    notes.append(col.comment)
                lines.append(
                    f"| `{col.name}` | {col.type.compile(dialect=PG_DIALECT)} | {'yes' if col.nullable else 'no'} | {'; '.join(notes)} |"
                )
            names = constraint_names(table)
            if names:
                lines.append("")
                lines.append(
                    "Constraints and indexes: " + ", ".join(f"{kind} `{name}`" for kind, name in names)
                )
            lines.append("")
    return "\n".join(lines)


def render_generated() -> str:
    return (
        "\n".join([BEGIN, "", "## ER diagram", "", render_er_diagram(), "", "## Tables", render_tables()])
        + "\n"
    )


def merge_into(existing: str) -> str:
    head = existing.split(BEGIN)[0] if BEGIN in existing else existing.rstrip() + "\n\n"
    return head + render_generated()
