"""--output targets: regular files are replaced whole, anything else is refused untouched (#15)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from fecflow.errors import ConfigError
from fecflow.sources.output import atomic_output, check_output_target


def test_a_new_or_regular_file_is_written_through_a_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "scores.csv"
    with atomic_output(target) as partial:
        assert partial.parent == target.parent and partial != target
        partial.write_text("new")
        assert not target.exists()
    assert target.read_text() == "new"
    with atomic_output(target) as partial:
        partial.write_text("newer")
    assert target.read_text() == "newer"
    assert sorted(p.name for p in target.parent.iterdir()) == ["scores.csv"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "scores.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(target) as partial:
        partial.write_text("half")
        raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_directories_devices_fifos_sockets_and_links_are_refused(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "elsewhere.csv")
    sock_path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock_path))
    try:
        for target, kind in [
            (tmp_path, "a directory"),
            (Path("/dev/null"), "a device, FIFO or socket"),
            (fifo, "a device, FIFO or socket"),
            (sock_path, "a device, FIFO or socket"),
            (link, "a symbolic link"),
        ]:
            with pytest.raises(ConfigError, match=kind):
                check_output_target(target)
            with pytest.raises(ConfigError), atomic_output(target):
                pytest.fail("must not get here")
    finally:
        server.close()
    assert Path("/dev/null").is_char_device()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "link", "sock"]
