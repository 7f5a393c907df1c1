"""FEC bulk files: plan which URLs to fetch, fetch one with delta detection, keep it in raw storage.

The caller (a pipeline step) reads the last ``ops.source_file`` row of a URL and passes it as
:class:`PreviousVersion`; this module never touches the database. A fetch is ``unchanged`` when the
server answers ``304 Not Modified`` to the conditional GET, or when the new bytes have the same sha256
and size as the previous version (then nothing is stored again); otherwise ``new``/``changed`` and the
file is put into :class:`RawStorage` under a content-addressed key.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from fecflow.catalog import FILES, get_file_spec
from fecflow.errors import ConfigError, IntegrityError
from fecflow.sources.archive import check_zip
from fecflow.sources.http import DownloadResult, RetryPolicy, Validators, download_file
from fecflow.sources.storage import RawStorage, bulk_key

logger = logging.getLogger(__name__)

FIRST_CYCLE = 1980
#: Downloads happen in ``$TMPDIR/fecflow-bulk-<pid>-XXXX``; a process killed with SIGKILL cannot remove
#: its folder, so the next fetch removes the folders of processes that no longer run.
WORK_DIR_PREFIX = "fecflow-bulk-"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def sweep_stale_work_dirs(base: Path | None = None) -> list[Path]:
    """Remove download folders left by killed fecflow processes; return what was removed."""
    removed = []
    for folder in Path(base or tempfile.gettempdir()).glob(f"{WORK_DIR_PREFIX}*-*"):
        pid_text = folder.name[len(WORK_DIR_PREFIX) :].split("-", 1)[0]
        if not folder.is_dir() or not pid_text.isdigit() or _process_alive(int(pid_text)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
        logger.info("removed %s, left by a killed fecflow process (pid %s)", folder, pid_text)
    return removed
FetchStatus = Literal["new", "changed", "unchanged"]
TargetKind = Literal["data", "header"]


@dataclass(frozen=True)
class BulkTarget:
    """One URL to fetch: a cycle's zip of a file type, or a file type's header file."""

    file_type: str
    cycle: int | None  # None for header files
    url: str
    file_name: str  # e.g. cm20.zip or cm_header_file.csv
    kind: TargetKind = "data"
    member: str | None = None  # the text file inside the zip (data targets)

    def storage_key(self, sha256: str) -> str:
        return bulk_key(self.cycle, self.file_name, sha256)


@dataclass(frozen=True)
class PreviousVersion:
    """What the database recorded for the last successful fetch of the same URL."""

    etag: str | None = None
    last_modified: str | None = None
    sha256: str | None = None
    bytes: int | None = None
    storage_uri: str | None = None
    member: str | None = None  # the data member that fetch recorded (the archive's own name for it)

    @property
    def validators(self) -> Validators:
        return Validators(etag=self.etag, last_modified=self.last_modified)


@dataclass(frozen=True)
class FetchOutcome:
    target: BulkTarget
    status: FetchStatus
    reason: str
    download: DownloadResult
    storage_uri: str | None  # where the bytes are kept (the previous URI when unchanged)
    previous: PreviousVersion | None = None

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    @property
    def bytes(self) -> int | None:
        """Size of the current version (from the previous version after a 304)."""
        if self.download.bytes is not None:
            return self.download.bytes
        return self.previous.bytes if self.previous is not None else None

    @property
    def sha256(self) -> str | None:
        """sha256 of the current version (from the previous version after a 304)."""
        if self.download.sha256 is not None:
            return self.download.sha256
        return self.previous.sha256 if self.previous is not None else None


def validate_cycle(cycle: int) -> int:
    """A cycle is the even year that ends it, from 1980 on."""
    if isinstance(cycle, bool) or not isinstance(cycle, int) or cycle < FIRST_CYCLE or cycle % 2:
        raise ConfigError(
            f"Invalid cycle {cycle!r}: a cycle is an even year >= {FIRST_CYCLE} (the year that ends it).",
            hint="For example --cycle 2024 (covers 2023-2024).",
        )
    return cycle


def plan_bulk_downloads(
    cycles: Iterable[int],
    file_types: Iterable[str],
    base_url: str,
    *,
    include_headers: bool = False,
) -> list[BulkTarget]:
    """Targets for every (cycle, file type), in the given order, deduplicated.

    Raises ConfigError for a bad cycle and UnknownFileType (with the known names) for a bad type.
    With ``include_headers`` each file type's data-dictionary header file is added once (when FEC
    publishes one).
    """
    cycle_list = [validate_cycle(c) for c in cycles]
    specs = [get_file_spec(t) for t in file_types]
    if not cycle_list:
        raise ConfigError("No cycle given.", hint="Pass at least one cycle, e.g. --cycle 2024.")
    if not specs:
        raise ConfigError("No file type given.", hint=f"Known file types: {', '.join(FILES)}.")
    targets: list[BulkTarget] = []
    seen: set[str] = set()
    for spec in specs:
        if include_headers:
            header_url = spec.header_url(base_url)
            if header_url and spec.header_file and header_url not in seen:
                seen.add(header_url)
                targets.append(BulkTarget(spec.file_type, None, header_url, spec.header_file, "header"))
        for cycle in cycle_list:
            url = spec.url(base_url, cycle)
            if url in seen:
                continue
            seen.add(url)
            targets.append(
                BulkTarget(
                    file_type=spec.file_type,
                    cycle=cycle,
                    url=url,
                    file_name=spec.zip_for_cycle(cycle),
                    kind="data",
                    member=spec.member_for_cycle(cycle),
                )
            )
    return targets


def fetch_bulk_file(
    client: httpx.Client,
    target: BulkTarget,
    storage: RawStorage,
    *,
    previous: PreviousVersion | None,
    policy: RetryPolicy,
    work_dir: Path | None = None,
) -> FetchOutcome:
    """Download one target (conditionally when ``previous`` is given) and keep new bytes in storage.

    ``work_dir``: where the verified download is left for the caller (``work_dir/file_name``); by
    default a temporary directory that is removed afterwards (then ``download.path`` is None).
    """
    if work_dir is not None:
        return _fetch(client, target, storage, previous, policy, Path(work_dir))
    sweep_stale_work_dirs()
    with tempfile.TemporaryDirectory(prefix=f"{WORK_DIR_PREFIX}{os.getpid()}-") as tmp:
        outcome = _fetch(client, target, storage, previous, policy, Path(tmp))
        return dataclasses.replace(outcome, download=dataclasses.replace(outcome.download, path=None))


def _fetch(
    client: httpx.Client,
    target: BulkTarget,
    storage: RawStorage,
    previous: PreviousVersion | None,
    policy: RetryPolicy,
    work_dir: Path,
) -> FetchOutcome:
    conditional = previous.validators if previous is not None and previous.validators else None
    result = download_file(
        client, target.url, work_dir / target.file_name, policy=policy, conditional=conditional
    )
    if result.not_modified:
        assert previous is not None
        target = dataclasses.replace(target, member=previous.member or target.member)
        return _log(FetchOutcome(target, "unchanged", "304 Not Modified", result, previous.storage_uri, previous))

    assert result.path is not None and result.sha256 is not None
    if target.file_name.lower().endswith(".zip"):
        # download_file verified CRCs; refuse archives unsafe to hand to the parsers.
        members = [m.name for m in check_zip(result.path, label=result.url) if not m.is_dir]
        target = _with_data_member(target, members, result.url)

    key = target.storage_key(result.sha256)
    if (
        previous is not None
        and previous.sha256 is not None
        and previous.sha256.lower() == result.sha256
        and previous.bytes == result.bytes
    ):
        if previous.storage_uri and storage.exists(previous.storage_uri):
            return _log(
                FetchOutcome(target, "unchanged", "same sha256", result, previous.storage_uri, previous)
            )
        uri = _store(storage, result.path, key)
        reason = "same sha256 (stored again: previous copy missing)"
        return _log(FetchOutcome(target, "unchanged", reason, result, uri, previous))

    uri = _store(storage, result.path, key)
    if previous is None:
        return _log(FetchOutcome(target, "new", "first download", result, uri))
    return _log(FetchOutcome(target, "changed", "content changed (new sha256)", result, uri, previous))


def _with_data_member(target: BulkTarget, members: list[str], where: str) -> BulkTarget:
    """The target with the member that holds the data, chosen as ``fecflow stage`` chooses it.

    The expected name wins; a single member with another name is taken with a warning (the FEC has
    renamed members before); an empty archive or several unexpected members fail the fetch, so such a
    file is never recorded as usable.
    """
    if target.member is None or target.member in members:
        return target
    if not members:
        raise IntegrityError(
            f"{where} is an empty archive (no {target.member}).",
            hint="The FEC sometimes publishes an empty file while it regenerates it: fetch again later.",
        )
    if len(members) > 1:
        raise IntegrityError(
            f"{where} has no member {target.member!r} and {len(members)} others: {', '.join(members)}.",
            hint="Unzip it and stage the data file by path (`fecflow stage --files TYPE PATH`).",
        )
    logger.warning("%s: its only member is %r, not %r; staging that one", where, members[0], target.member)
    return dataclasses.replace(target, member=members[0])


def _store(storage: RawStorage, path: Path, key: str) -> str:
    uri = storage.uri_for(key)
    if storage.exists(uri) and storage.size(uri) == path.stat().st_size:
        logger.info("%s already in raw storage", uri)  # content-addressed: same bytes, same key
        return uri
    return storage.put_file(path, key)


def _log(outcome: FetchOutcome) -> FetchOutcome:
    logger.info(
        "bulk %s%s: %s (%s), %s bytes, %d attempt(s)",
        outcome.target.file_name,
        f" [{outcome.target.cycle}]" if outcome.target.cycle else "",
        outcome.status,
        outcome.reason,
        outcome.bytes,
        outcome.download.attempts,
    )
    return outcome
