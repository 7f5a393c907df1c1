"""The FEC bulk files, declared once as data. See :mod:`fecflow.catalog.files`."""

from fecflow.catalog.files import (
    FILES,
    NORMALIZED_FILE_TYPES,
    TRANSACTION_FILE_TYPES,
    file_types_with_role,
    get_file_spec,
)
from fecflow.catalog.model import Column, FileRole, FileSpec

__all__ = [
    "FILES",
    "NORMALIZED_FILE_TYPES",
    "TRANSACTION_FILE_TYPES",
    "Column",
    "FileRole",
    "FileSpec",
    "file_types_with_role",
    "get_file_spec",
]
