"""Staging: raw payloads into staging.*, with per-batch audits.

:mod:`~fecflow.staging.load` COPYs bulk payloads in audited batches (with
:mod:`~fecflow.staging.coverage`, :mod:`~fecflow.staging.batch` and :mod:`~fecflow.staging.rows`),
:mod:`~fecflow.staging.payload` opens zip/gzip/plain payloads at any line,
:mod:`~fecflow.staging.export` rebuilds a staged file byte for byte, :mod:`~fecflow.staging.openfec`
stores OpenFEC API pages.
"""

from fecflow.staging.export import ExportResult, export_source_file, iter_export
from fecflow.staging.load import StageResult, connection_factory, parse_fec_date, stage_source_file
from fecflow.staging.payload import Payload, guess_cycle, guess_file_type, open_payload, register_local_file

__all__ = [
    "ExportResult",
    "Payload",
    "StageResult",
    "connection_factory",
    "export_source_file",
    "guess_cycle",
    "guess_file_type",
    "iter_export",
    "open_payload",
    "parse_fec_date",
    "register_local_file",
    "stage_source_file",
]
