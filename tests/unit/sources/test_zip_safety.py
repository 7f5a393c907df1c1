"""archive: real FEC zips pass; hostile zips (built here) are refused; members stream without extraction."""

from __future__ import annotations

import hashlib
import io
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from fecflow.catalog import get_file_spec
from fecflow.errors import IntegrityError, UnsafeArchive
from fecflow.sources.archive import check_zip, member_info, open_member, verify_zip
from fecflow.sources.http import download_file
from support.http_server import FecHttpServer

ZIPS = Path(__file__).resolve().parents[2] / "fixtures" / "bulk" / "2020"
# From tests/fixtures/PROVENANCE.md (upstream checksums): the extracted cm.txt of cm20.zip
CM_TXT_SHA256 = "1c8df4cbc06e1715f47358ab17428e4ff45cef83079da6aca9a9a688f1c85d4e"


def _zip(path: Path, members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            zf.writestr(info, data)
    return path


@pytest.mark.parametrize("file_type", ["cm", "cn", "ccl", "pas2", "weball", "webl", "webk", "indiv"])
def test_real_fec_zips_pass_and_hold_the_catalog_member(file_type):
    spec = get_file_spec(file_type)
    path = ZIPS / spec.zip_for_cycle(2020)
    members = check_zip(path)
    assert [m.name for m in members] == [spec.member_for_cycle(2020)]
    assert members[0].file_size > members[0].compress_size > 0


def test_open_member_streams_without_extracting(tmp_path):
    before = set(ZIPS.iterdir())
    hasher = hashlib.sha256()
    lines = 0
    with open_member(ZIPS / "cm20.zip", "cm.txt") as stream:
        for line in stream:
            hasher.update(line)
            lines += 1
    assert hasher.hexdigest() == CM_TXT_SHA256
    assert lines == 11605
    assert set(ZIPS.iterdir()) == before  # nothing written next to the archive


def test_open_member_accepts_a_binary_file_object():
    with (ZIPS / "webl20.zip").open("rb") as fh, open_member(fh, "webl20.txt") as stream:
        assert stream.read().count(b"\n") == 11


def test_member_info_and_missing_member():
    info = member_info(ZIPS / "cm20.zip", "cm.txt")
    assert info.file_size == 1453793 and info.date_time is not None and info.date_time.year == 2019
    with pytest.raises(IntegrityError, match="no member") as err:
        open_member(ZIPS / "cm20.zip", "itcont.txt")
    assert "cm.txt" in (err.value.hint or "")


@pytest.mark.parametrize(
    "name", ["../../etc/evil.txt", "data/../../evil.txt", "/etc/passwd", "..\\..\\evil.txt", "C:\\evil.txt"]
)
def test_path_traversal_and_absolute_names_are_refused(tmp_path, name):
    path = _zip(tmp_path / "evil.zip", [("ok.txt", b"fine\n"), (zipfile.ZipInfo(name), b"pwned\n")])
    assert name in zipfile.ZipFile(path).namelist()  # the hostile name really is in the archive
    with pytest.raises(UnsafeArchive, match="unsafe"):
        check_zip(path)
    with pytest.raises(UnsafeArchive):
        open_member(path, "ok.txt")


def test_symlink_member_is_refused(tmp_path):
    link = zipfile.ZipInfo("cm.txt")
    link.create_system = 3
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    path = _zip(tmp_path / "link.zip", [(link, b"/etc/passwd")])
    with pytest.raises(UnsafeArchive, match="symbolic link"):
        check_zip(path)


def test_encrypted_member_is_refused(tmp_path):
    path = tmp_path / "enc.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("cm.txt", b"secret")
        zf.filelist[0].flag_bits |= 0x1  # written into the central directory on close
    with pytest.raises(UnsafeArchive, match="encrypted"):
        check_zip(path)


def test_high_compression_ratio_is_refused(tmp_path):
    path = _zip(tmp_path / "bomb.zip", [("itcont.txt", b"\0" * (8 * 1024 * 1024))])
    assert zipfile.ZipFile(path).infolist()[0].compress_size < 20_000  # ratio ~1000:1
    with pytest.raises(UnsafeArchive, match="compression ratio"):
        check_zip(path)
    assert check_zip(path, max_ratio=5000)  # the limit is a parameter


def test_declared_size_bomb_is_refused(tmp_path):
    # A small honest archive whose central directory then claims a 4 GB member.
    path = _zip(tmp_path / "liar.zip", [("cm.txt", b"C00000001|NAME\n" * 10)])
    data = bytearray(path.read_bytes())
    central = data.index(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, 0xFFFFFFF0)  # uncompressed size field
    path.write_bytes(bytes(data))
    assert zipfile.ZipFile(path).infolist()[0].file_size == 0xFFFFFFF0
    with pytest.raises(UnsafeArchive):
        check_zip(path)
    with pytest.raises(UnsafeArchive, match="uncompressed bytes"):
        check_zip(path, max_ratio=1e12, max_total_bytes=1024**3)


def test_total_size_limit_applies_to_real_files():
    with pytest.raises(UnsafeArchive, match="limit 1000000"):
        check_zip(ZIPS / "cm20.zip", max_total_bytes=1_000_000)


def test_not_a_zip_is_an_integrity_error_not_unsafe(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"<html>503 Service Unavailable</html>")
    with pytest.raises(IntegrityError) as err:
        check_zip(junk)
    assert not isinstance(err.value, UnsafeArchive)


def test_verify_zip_catches_bad_crc(tmp_path):
    data = bytearray((ZIPS / "webk20.zip").read_bytes())
    data[len(data) // 3] ^= 0x55
    broken = tmp_path / "webk20.zip"
    broken.write_bytes(bytes(data))
    check_zip(broken)  # the central directory is intact...
    with pytest.raises(IntegrityError):
        verify_zip(broken)  # ...the data is not
    assert verify_zip(io.BytesIO((ZIPS / "webl20.zip").read_bytes()))


def test_download_of_a_hostile_zip_is_refused_and_nothing_kept(served_root, http_client, policy, out):
    _zip(served_root / "files/bulk-downloads/2020/cm20.zip", [(zipfile.ZipInfo("../cm.txt"), b"x|y\n")])
    with FecHttpServer(served_root) as server:
        with pytest.raises(UnsafeArchive):
            download_file(http_client, server.bulk_base_url + "/2020/cm20.zip", out / "cm20.zip", policy=policy)
    assert list(out.iterdir()) == []
