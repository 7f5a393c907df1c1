"""Render ``docs/data/files/<type>.md`` from the catalog (kept current by a test)."""

from __future__ import annotations

from pathlib import Path

from fecflow.catalog.files import FILES
from fecflow.catalog.model import FileSpec

GENERATED_NOTE = "<!-- generated from src/fecflow/catalog by `make docs`; do not edit by hand -->"


def render_file_doc(spec: FileSpec) -> str:
    lines = [
        GENERATED_NOTE,
        f"# `{spec.file_type}`: {spec.title}",
        "",
        spec.description,
        "",
        f"- Archive: `{spec.zip_name.format(yy='YY')}` (member `{spec.member.format(yy='YY')}`), "
        f"URL `{{base}}/{{YEAR}}/{spec.zip_name.format(yy='{YY}')}`",
        f"- Header file: `{spec.header_file}`" if spec.header_file else "- Header file: none",
        f"- Fields per line: {spec.field_count} (pipe-delimited, no header row, no quoting)",
        f"- Natural key: {', '.join(f'`{k}`' for k in spec.unique_key)}",
        f"- Staging table: `staging.{spec.staging_table}` (all text, plus `_source_file_id`, "
        "`_batch_id`, `_line_number`)",
    ]
    if spec.date_column:
        lines.append(f"- Payload window from: `{spec.date_column}`")
    if spec.notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in spec.notes]
    lines += [
        "",
        "## Columns",
        "",
        "| # | raw name | readable name | type | description |",
        "|---|---|---|---|---|",
    ]
    for i, col in enumerate(spec.columns, 1):
        lines.append(f"| {i} | `{col.raw}` | `{col.name}` | {col.type} | {col.description} |")
    return "\n".join(lines) + "\n"


def render_index() -> str:
    lines = [
        GENERATED_NOTE,
        "# FEC bulk files",
        "",
        "| file type | title | fields | natural key |",
        "|---|---|---|---|",
    ]
    for spec in FILES.values():
        lines.append(
            f"| [`{spec.file_type}`]({spec.file_type}.md) | {spec.title} | {spec.field_count} | "
            f"{', '.join(spec.unique_key)} |"
        )
    return "\n".join(lines) + "\n"


def expected_docs(docs_dir: Path) -> dict[Path, str]:
    out = {docs_dir / f"{spec.file_type}.md": render_file_doc(spec) for spec in FILES.values()}
    out[docs_dir / "README.md"] = render_index()
    return out
