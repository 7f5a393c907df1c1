"""``fecflow.db.ops`` owns the ops vocabulary: nothing else writes SQL against the audit table or
defines a stage name (see STYLE.md and ``src/fecflow/db/ops/__init__.py``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "src" / "fecflow"
SQL = re.compile(r"\b(SELECT|UPDATE|INSERT|DELETE|JOIN|FROM|TRUNCATE)\b")
# Schema definitions, not queries: the table is declared there.
SCHEMA = {Path("db/models.py")}


def _owned(rel: Path) -> bool:
    return rel.parts[:2] in (("db", "ops"), ("db", "migrations")) or rel in SCHEMA


def _strings(path: Path) -> list[tuple[int, str]]:
    """The string literals of a module, docstrings (bare expression statements) left out."""
    tree = ast.parse(path.read_text())
    docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
    ]


def test_only_db_ops_queries_the_audit_table() -> None:
    offenders = [
        f"{path.relative_to(PKG)}:{line}"
        for path in sorted(PKG.rglob("*.py"))
        if not _owned(path.relative_to(PKG))
        for line, text in _strings(path)
        if "ingest_run_audits" in text and SQL.search(text)
    ]
    assert not offenders, f"SQL against ops.ingest_run_audits outside fecflow.db.ops: {offenders}"


def test_stage_names_are_defined_once() -> None:
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        if _owned(path.relative_to(PKG)):
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.Assign | ast.AnnAssign):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                value = node.value
                for target in targets:
                    if (
                        isinstance(target, ast.Name)
                        and target.id.endswith("STAGE")
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        offenders.append(f"{path.relative_to(PKG)}:{node.lineno} {target.id}")
    assert not offenders, f"stage names defined outside fecflow.db.ops.Stage: {offenders}"


def test_rule_catches_a_query(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text(
        '"""Docs about ops.ingest_run_audits FROM here."""\nQ = "SELECT 1 FROM ops.ingest_run_audits"\n'
    )
    assert [text for _, text in _strings(bad) if SQL.search(text)] == ["SELECT 1 FROM ops.ingest_run_audits"]
