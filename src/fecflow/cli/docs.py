"""Render ``docs/cli.md`` from the Typer app's own help (kept current by a test)."""

from __future__ import annotations

from typing import Any

import typer.main

GENERATED_NOTE = "<!-- generated from `fecflow --help` by `make docs`; do not edit by hand -->"


def _walk(command: Any, path: list[str]) -> list[tuple[list[str], Any]]:
    out = [(path, command)]
    if hasattr(command, "commands"):
        for name in sorted(command.commands):
            out += _walk(command.commands[name], [*path, name])
    return out


def iter_commands() -> list[tuple[list[str], Any]]:
    from fecflow.cli.app import app

    root = typer.main.get_command(app)
    return _walk(root, ["fecflow"])


def render_cli_doc() -> str:
    lines = [GENERATED_NOTE, "# Command-line reference", ""]
    for path, command in iter_commands():
        ctx = command.context_class(
            command, info_name=" ".join(path), terminal_width=100, max_content_width=100
        )
        help_text = command.get_help(ctx)
        lines += [f"## `{' '.join(path)}`", "", "```text", help_text.rstrip(), "```", ""]
    return "\n".join(lines)
