"""Files a user names with ``--output``: checked first, written through a temp file, renamed at the end.

A rename over the target replaces whatever is there. As root, ``--output /dev/full`` replaced the
device with a regular file (issue #15). So a target that exists must be a regular file: directories,
devices, FIFOs and sockets are refused, and so are symbolic links (the rename would replace the link,
not the file it points to: name the file itself). The temp file sits beside the target so the rename
is atomic, and it is removed when the write fails: a reader sees the old file or the whole new one.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fecflow.errors import ConfigError


def check_output_target(path: Path) -> Path:
    """``path`` with ``~`` expanded, or ConfigError when it exists and is not a regular file."""
    target = path.expanduser()
    try:
        mode = target.lstat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise ConfigError(f"Cannot use {target} as the output file: {exc.strerror}.") from None
    if stat.S_ISREG(mode):
        return target
    kind = (
        "a symbolic link"
        if stat.S_ISLNK(mode)
        else "a directory"
        if stat.S_ISDIR(mode)
        else "a device, FIFO or socket"
    )
    raise ConfigError(
        f"{target} is {kind}, not a regular file: refusing to replace it.",
        hint="Name a regular file (it is created, or replaced whole when the write succeeds).",
    )


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """Yield a temp path beside ``path``; on success rename it over ``path``, on failure remove it."""
    target = check_output_target(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    partial = Path(name)
    try:
        yield partial
        check_output_target(target)  # still not replaced by something else while we wrote
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
