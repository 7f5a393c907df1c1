"""Generated docs are current, and every CLI command has help text."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from gen_docs import stale_outputs  # noqa: E402

from fecflow.cli.docs import iter_commands  # noqa: E402


def test_generated_docs_are_current() -> None:
    stale = [str(path.relative_to(ROOT)) for path in stale_outputs()]
    assert not stale, f"stale generated docs (run `make docs`): {stale}"


def test_every_command_has_help() -> None:
    missing = [" ".join(path) for path, cmd in iter_commands() if not (cmd.help or "").strip()]
    assert not missing, f"commands without help: {missing}"


def test_every_option_has_help() -> None:
    missing = []
    for path, cmd in iter_commands():
        for param in cmd.params:
            if (
                getattr(param, "param_type_name", "") == "option"
                and not (getattr(param, "help", "") or "").strip()
            ):
                missing.append(f"{' '.join(path)} {param.name}")
    assert not missing, f"options without help: {missing}"


def test_help_runs_for_every_command() -> None:
    from typer.testing import CliRunner

    from fecflow.cli.app import app

    runner = CliRunner()
    for path, _cmd in iter_commands():
        result = runner.invoke(app, [*path[1:], "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert "Usage:" in result.output


def test_console_script_entry_point_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "fecflow.cli.app", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "backfill" in result.stdout


def test_readme_carries_the_legal_note() -> None:
    text = (ROOT / "README.md").read_text()
    assert "52 U.S.C. 30111(a)(4)" in text
    assert "make demo" in text and "make test" in text
