"""Steps and runs: fetch, stage, normalize, score; backfill, ingest-daily, replay-range, resume."""
