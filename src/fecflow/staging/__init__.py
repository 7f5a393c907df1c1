"""Staging: raw payloads into staging.*, with per-batch audits."""
