"""The FEC bulk files, declared once as data. See :mod:`fecflow.catalog.files`."""

from fecflow.catalog.files import FILES, get_file_spec
from fecflow.catalog.model import Column, FileSpec

__all__ = ["FILES", "Column", "FileSpec", "get_file_spec"]
