"""The outside world: HTTP downloads, FEC bulk files, the OpenFEC API and raw storage.

Nothing here touches the database: callers pass in what they read from ``ops`` (e.g. the previous
version of a file) and record what comes back.
"""

from fecflow.sources.archive import MemberInfo, check_zip, member_info, open_member, verify_zip
from fecflow.sources.bulk import (
    BulkTarget,
    FetchOutcome,
    PreviousVersion,
    fetch_bulk_file,
    plan_bulk_downloads,
    validate_cycle,
)
from fecflow.sources.http import (
    DownloadResult,
    RetryPolicy,
    Validators,
    build_http_client,
    download_file,
)
from fecflow.sources.openfec import Cursor, OpenFecClient, Page
from fecflow.sources.storage import RawStorage, bulk_key

__all__ = [
    "BulkTarget",
    "Cursor",
    "DownloadResult",
    "FetchOutcome",
    "MemberInfo",
    "OpenFecClient",
    "Page",
    "PreviousVersion",
    "RawStorage",
    "RetryPolicy",
    "Validators",
    "build_http_client",
    "bulk_key",
    "check_zip",
    "download_file",
    "fetch_bulk_file",
    "member_info",
    "open_member",
    "plan_bulk_downloads",
    "validate_cycle",
    "verify_zip",
]
