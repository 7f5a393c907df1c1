"""The layer rule: lower layers never import upper ones (see STYLE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "src" / "fecflow"

# Each layer may import itself and the layers listed (transitively lower).
LOWER: dict[str, set[str]] = {
    "errors": set(),
    "config": {"errors"},
    "log": {"errors", "config"},
    "catalog": {"errors", "config", "log"},
    "db": {"catalog", "errors", "config", "log"},
    "sources": {"catalog", "errors", "config", "log"},
    "parse": {"catalog", "errors", "config", "log"},
    "staging": {"db", "sources", "parse", "catalog", "errors", "config", "log"},
    "normalize": {"staging", "db", "sources", "parse", "catalog", "errors", "config", "log"},
    "scores": {"staging", "db", "sources", "parse", "catalog", "errors", "config", "log"},
    "checks": {
        "normalize",
        "scores",
        "staging",
        "db",
        "sources",
        "parse",
        "catalog",
        "errors",
        "config",
        "log",
    },
    "pipeline": {
        "checks",
        "normalize",
        "scores",
        "staging",
        "db",
        "sources",
        "parse",
        "catalog",
        "errors",
        "config",
        "log",
    },
    "cli": {
        "pipeline",
        "checks",
        "normalize",
        "scores",
        "staging",
        "db",
        "sources",
        "parse",
        "catalog",
        "errors",
        "config",
        "log",
    },
}
# Steps never import each other: normalize and scores are siblings.
SIBLINGS_FORBIDDEN = {("normalize", "scores"), ("scores", "normalize")}


def _layer_of(module_path: Path) -> str:
    rel = module_path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def _imported_layers(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "fecflow" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_layers_are_known() -> None:
    layers = {_layer_of(p) for p in PKG.rglob("*.py")} - {"__init__", "__main__"}
    assert layers <= set(LOWER), f"unknown layers: {layers - set(LOWER)}"


def test_no_upward_imports() -> None:
    problems = []
    for path in sorted(PKG.rglob("*.py")):
        layer = _layer_of(path)
        if layer not in LOWER:
            continue
        for imported in _imported_layers(path) - {layer}:
            if imported not in LOWER[layer] or (layer, imported) in SIBLINGS_FORBIDDEN:
                problems.append(f"{path.relative_to(PKG)} imports fecflow.{imported}")
    assert not problems, "upward or sideways imports:\n" + "\n".join(problems)


def test_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from fecflow.cli.app import app\nimport fecflow.db.engine\n")
    assert _imported_layers(bad) == {"cli", "db"}


def test_only_config_reads_the_environment() -> None:
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        if path.name == "config.py":
            continue
        text = path.read_text()
        if "os.environ[" in text or "os.getenv(" in text or "os.environ.get(" in text:
            offenders.append(str(path.relative_to(PKG)))
    assert not offenders, f"only config.py reads os.environ: {offenders}"


def test_no_print_outside_cli() -> None:
    offenders = []
    for path in sorted(PKG.rglob("*.py")):
        if _layer_of(path) == "cli":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
                offenders.append(f"{path.relative_to(PKG)}:{node.lineno}")
    assert not offenders, f"print() outside cli: {offenders}"
