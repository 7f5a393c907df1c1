"""Guards that keep a bad snapshot from silently taking data out of core (issue #15).

Two ways a run used to lose data while exiting 0:

* **A snapshot that shrinks.** The FEC republishes a file empty or truncated; normalizing it
  soft-deletes every row it lacks. :func:`check_removals` runs inside the unit's transaction after
  the diff: when it removed more than ``max_removed_share`` of the scope's live rows (and more than
  ``min_removed_rows``, so small scopes with a few real amendments pass), it raises
  :class:`~fecflow.errors.SnapshotRefused`, the unit rolls back and core is unchanged. The operator
  who knows the shrink is real passes ``--accept-shrink``; the audit records it.
* **A snapshot older than the one core holds.** An interrupted ``stage --replace`` leaves the newest
  snapshot with no staged rows, so the newest *complete* one is older than what core was normalized
  from. :func:`check_not_older` refuses to go back in time; staging the newest file again fixes it.

Removals counted: contributions soft-deleted (``core.contribution.deleted``, out of
``scope_rows_before``) and candidate-committee links closed because the snapshot lacks them. Master
records missing from a later cm/cn snapshot are kept open (master files only grow), so they remove
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fecflow.errors import SnapshotRefused

#: Defaults of the ``snapshot_removed_share`` / ``snapshot_removed_min`` tolerances.
DEFAULT_MAX_REMOVED_SHARE = 0.05
DEFAULT_MIN_REMOVED_ROWS = 100


@dataclass(frozen=True)
class ShrinkPolicy:
    """How much of a scope's live rows one snapshot may remove, and whether the operator accepted more."""

    max_removed_share: float = DEFAULT_MAX_REMOVED_SHARE
    min_removed_rows: int = DEFAULT_MIN_REMOVED_ROWS
    accept: bool = False


def removals(tables: dict[str, dict[str, int]]) -> tuple[int, int]:
    """(rows removed, live rows before) of one normalized unit, from its table counts."""
    contribution = tables.get("core.contribution", {})
    if "scope_rows_before" in contribution:
        return int(contribution.get("deleted", 0)), int(contribution["scope_rows_before"])
    links = tables.get("core.candidate_committee_link", {})
    if "closed_missing_from_snapshot" in links:
        closed = int(links["closed_missing_from_snapshot"])
        before = closed + int(links.get("unchanged", 0)) + int(links.get("updated", 0))
        return closed, before
    return 0, 0


def check_removals(scope: str, tables: dict[str, dict[str, int]], policy: ShrinkPolicy) -> dict[str, Any]:
    """Raise SnapshotRefused when the unit removed too much; else the figures for its audit counts."""
    removed, before = removals(tables)
    share = removed / before if before else 0.0
    figures: dict[str, Any] = {"removed_rows": removed, "live_rows_before": before}
    too_many = removed > policy.min_removed_rows and share > policy.max_removed_share
    if too_many and policy.accept:
        return {**figures, "shrink_accepted": True}
    if too_many:
        raise SnapshotRefused(
            f"The new snapshot of {scope} would remove {removed:,} of {before:,} live rows "
            f"({share:.1%}; tolerance {policy.max_removed_share:.1%}). Nothing was changed: an empty or "
            "truncated file from upstream looks like this.",
            hint="Check the downloaded file (`fecflow runs show`, `fecflow staging export`); if the shrink is "
            "real, run again with --accept-shrink, or raise snapshot_removed_share in the tolerances file.",
        )
    return figures


def check_not_older(
    scope: str,
    *,
    current_id: int,
    current_fetched_at: dt.datetime,
    held_id: int,
    held_fetched_at: dt.datetime | None,
) -> None:
    """Refuse to normalize a snapshot fetched before the one core was last normalized from."""
    if held_fetched_at is None or current_id == held_id or current_fetched_at >= held_fetched_at:
        return
    raise SnapshotRefused(
        f"The newest complete snapshot of {scope} (source file {current_id}, fetched "
        f"{current_fetched_at:%Y-%m-%d %H:%M}) is older than the one core holds (source file {held_id}, "
        f"fetched {held_fetched_at:%Y-%m-%d %H:%M}): the newer file is not fully staged, for example after "
        "an interrupted `fecflow stage --replace`. Nothing was changed.",
        hint="Stage the newer file again (`fecflow stage --cycles ... --files ...`), then normalize.",
    )
