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
    # The CLI parses arguments, calls pipeline, prints and maps errors to exit codes: it reaches the
    # steps only through pipeline, and of db only the engine, the embedded server and migrations.
    # `fecflow serve` starts the explorer: of web, only its app factory (web never imports cli).
    "cli": {"pipeline", "config", "log", "errors", "catalog", "db", "web"},
    # The explorer sits beside the CLI and reads what `explain` / `scores export` read: the query
    # functions re-exported by pipeline.reports, and of db only the connection helpers.
    "web": {"pipeline", "config", "log", "errors", "db"},
}
# Where a layer may import only some modules of a lower one.
ONLY_MODULES: dict[tuple[str, str], set[str]] = {
    ("cli", "db"): {"fecflow.db.engine", "fecflow.db.embedded", "fecflow.db.migrate"},
    ("cli", "web"): {"fecflow.web.app"},
    ("web", "db"): {"fecflow.db.engine"},
    ("web", "pipeline"): {"fecflow.pipeline.reports"},
}
# Steps never import each other: normalize and scores are siblings.
SIBLINGS_FORBIDDEN = {("normalize", "scores"), ("scores", "normalize")}


def _layer_of(module_path: Path) -> str:
    rel = module_path.relative_to(PKG)
    return rel.parts[0].removesuffix(".py")


def _imported_modules(path: Path) -> set[str]:
    """The fecflow modules ``path`` imports (``from fecflow.db import ops`` counts as fecflow.db.ops)."""
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(
                f"{node.module}.{a.name}" for a in node.names if _is_module(f"{node.module}.{a.name}")
            )
    return {name for name in found if name.startswith("fecflow.") and name.count(".") >= 1}


def _is_module(name: str) -> bool:
    parts = name.split(".")[1:]
    return (PKG.joinpath(*parts).with_suffix(".py")).exists() or PKG.joinpath(*parts).is_dir()


def _imported_layers(path: Path) -> set[str]:
    return {name.split(".")[1] for name in _imported_modules(path)}


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


def test_only_allowed_modules_of_a_layer() -> None:
    problems = []
    for path in sorted(PKG.rglob("*.py")):
        layer = _layer_of(path)
        for name in sorted(_imported_modules(path)):
            allowed = ONLY_MODULES.get((layer, name.split(".")[1]))
            if allowed is not None and name.count(".") >= 2 and ".".join(name.split(".")[:3]) not in allowed:
                problems.append(f"{path.relative_to(PKG)} imports {name}")
    assert not problems, "imports of modules the layer rule does not allow:\n" + "\n".join(problems)


def test_rule_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from fecflow.cli.app import app\nimport fecflow.db.engine\nfrom fecflow.db import ops\n")
    assert _imported_layers(bad) == {"cli", "db"}
    assert {"fecflow.db.engine", "fecflow.db.ops"} <= _imported_modules(bad)


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
