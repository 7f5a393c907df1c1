"""Two habits of issue #14 kept by a test: SQL that is built at run time goes through ``psycopg.sql``
(identifiers quoted, values as parameters), and no function grows past 60 lines of body.

* An f-string inside a function whose text is a SQL statement is how a value or an unquoted
  identifier slips into SQL; module-level constants assembled from fixed fragments are allowed
  (they are decided once, at import, from code, never from data).
* The length counts the body (the signature and docstring left out: Typer commands declare their
  options in the signature; functions defined inside it count on their own). Alembic migrations are declarations, not logic, and are left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "src" / "fecflow"
MAX_BODY_LINES = 60
SQL_START = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|ALTER|DROP|TRUNCATE|ANALYZE|COPY|WITH)\s", re.I)
SQL_BODY = re.compile(r"\b(FROM|INTO|SET|TABLE|STDIN|WHERE)\b|\(", re.I)


def _modules() -> list[Path]:
    return [p for p in sorted(PKG.rglob("*.py")) if "migrations" not in p.parts]


def _functions(tree: ast.AST) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]


def _body_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of the body, without the docstring and without functions defined inside it (a route
    factory's handlers are counted as functions of their own)."""
    body = fn.body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and len(body) > 1:
        body = body[1:]  # the docstring
    lines = set(range(body[0].lineno, (fn.end_lineno or fn.lineno) + 1))
    for node in ast.walk(fn):
        if node is not fn and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            first = min([d.lineno for d in node.decorator_list] + [node.lineno])
            lines -= set(range(first, (node.end_lineno or node.lineno) + 1))
    return len(lines)


def _fstring_text(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


def test_runtime_sql_is_composed_with_psycopg_sql() -> None:
    offenders = []
    for path in _modules():
        for fn in _functions(ast.parse(path.read_text())):
            for node in ast.walk(fn):
                if isinstance(node, ast.JoinedStr):
                    text = _fstring_text(node)
                    if SQL_START.match(text) and SQL_BODY.search(text):
                        offenders.append(f"{path.relative_to(PKG)}:{node.lineno} {fn.name}: {text[:60]!r}")
    assert not offenders, "f-string SQL inside functions (use psycopg.sql.SQL(...).format):\n" + "\n".join(offenders)


def test_functions_stay_short() -> None:
    offenders = [
        f"{path.relative_to(PKG)}:{fn.lineno} {fn.name}: {_body_lines(fn)} lines"
        for path in _modules()
        for fn in _functions(ast.parse(path.read_text()))
        if _body_lines(fn) > MAX_BODY_LINES
    ]
    assert not offenders, f"functions over {MAX_BODY_LINES} body lines (split them into steps):\n" + "\n".join(
        offenders
    )
