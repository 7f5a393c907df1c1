"""Typer command-line interface: parse arguments, call the pipeline, map errors to exit codes."""
