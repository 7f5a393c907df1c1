"""iter_blocks over the real FEC sample files: counts and checksums from PROVENANCE.md, byte fidelity."""

from __future__ import annotations

import gzip
import hashlib
import io
import zipfile
from collections.abc import Callable
from typing import BinaryIO

import pytest

from fecflow.catalog import get_file_spec
from fecflow.parse import ParseStats, check_header_matches, iter_blocks, read_header_file
from support.samples import SAMPLES

EARLY = SAMPLES / "bulk-2020-early-snapshot-2019-03"

# (path relative to SAMPLES, zip member or None, file type, lines, sha256 of the (decompressed) text)
REAL_FILES = [
    ("bulk-2020-early-snapshot-2019-03/extracted/itcont.txt.gz", None, "indiv", 70671,
     "dba2913fe093b49e0034d47d4bac1fe3d139ad43416a79fc8cf546625013635f"),
    ("bulk-2020-early-snapshot-2019-03/extracted/itoth.txt.gz", None, "oth", 50921,
     "0f0dc81022337532f3f5303e7cfe31f59e2ee39df2f9568c68676e2df72ba8a1"),
    ("bulk-2020-early-snapshot-2019-03/extracted/cm.txt", None, "cm", 11605,
     "1c8df4cbc06e1715f47358ab17428e4ff45cef83079da6aca9a9a688f1c85d4e"),
    ("bulk-2020-early-snapshot-2019-03/extracted/cn.txt", None, "cn", 3937,
     "7db4029dd2a01d977451328b885171b1369d8717ee7c3baba22e5560ee0f0e5a"),
    ("bulk-2020-early-snapshot-2019-03/extracted/ccl.txt", None, "ccl", 3752,
     "b8e4ba163953f272adcdc293fb0523e643f868ec70d1332a4ccb822c4a3a3405"),
    ("bulk-2020-early-snapshot-2019-03/extracted/itpas2.txt", None, "pas2", 3159,
     "4ed09b0fbfcb54d9014e8f46755a6085a44be260aec466f3881dd4fb7119e21f"),
    ("bulk-2020-early-snapshot-2019-03/extracted/weball20.txt", None, "weball", 141,
     "e9d2459179b5da9d5ec4e8735d6e3eeb5c2a10a02c646bd1b8755d8ca9df609b"),
    ("bulk-2020-early-snapshot-2019-03/extracted/webk20.txt", None, "webk", 7851,
     "e76de4221cdcd86c0316a08cf7daa6962edfd1ed0514c6be596e5fdff3e56196"),
    ("bulk-2020-early-snapshot-2019-03/extracted/webl20.txt", None, "webl", 11,
     "4be5343e152daab763240ba1b5e7b82d121b82769b5c1785eb97cd8f8392cdbe"),
    ("bulk-2020-early-snapshot-2019-03/zips/indiv20.zip", "itcont.txt", "indiv", 70671,
     "dba2913fe093b49e0034d47d4bac1fe3d139ad43416a79fc8cf546625013635f"),
    ("bulk-2020-early-snapshot-2019-03/zips/cm20.zip", "cm.txt", "cm", 11605,
     "1c8df4cbc06e1715f47358ab17428e4ff45cef83079da6aca9a9a688f1c85d4e"),
    ("bulk-2020-early-snapshot-2019-03/zips/pas220.zip", "itpas2.txt", "pas2", 3159,
     "4ed09b0fbfcb54d9014e8f46755a6085a44be260aec466f3881dd4fb7119e21f"),
    ("bulk-2020-early-snapshot-2019-03/zips/webl20.zip", "webl20.txt", "webl", 11,
     "4be5343e152daab763240ba1b5e7b82d121b82769b5c1785eb97cd8f8392cdbe"),
    ("bulk-2018-cycle/extracted/cm.txt", None, "cm", 14138,
     "19994441e5e7fcc87f7a60e72f85cabe699153c070c72181060934ec03fc537f"),
    ("bulk-2018-cycle/extracted/cn.txt", None, "cn", 4282,
     "78851db71522163dbbd221836b99995411d49c2df94ecdf9ed85e2b5b736a574"),
    ("bulk-2018-cycle/extracted/itcont_head10000.txt", None, "indiv", 10000,
     "a11e1f743441763f32ef4dc7cfd745b8f60c088dcf22d67ce01017c0c2b1ec88"),
    ("bulk-2018-cycle/extracted/itcont_insight_sample.txt", None, "indiv", 699,
     "9e5b05991e51647ff1e246b71f98209c6aee927f23d1adf2181f88e450dab53f"),
    ("bulk-2018-cycle/zips/cn18.zip", "cn.txt", "cn", 4282,
     "78851db71522163dbbd221836b99995411d49c2df94ecdf9ed85e2b5b736a574"),
    ("masters-2020-late-snapshot-2020-11/cm.txt", None, "cm", 17939,
     "322ed745a103a7445bd101fda87f820151d6e1f58c972f1b92ab743603a8b5ec"),
    ("masters-2020-late-snapshot-2020-11/cn.txt", None, "cn", 7611,
     "f64efd70fbc962f952a4b95ba9f0874b6e8eb541c7104b47fded7f3eb5ef0140"),
    ("masters-2022-cycle/cm.txt", None, "cm", 19792,
     "4c62a3eaeb57be9e5085fd1d4645b321f5adcc49286b2b97f2eefd38a4439f62"),
    ("masters-2022-cycle/cn.txt", None, "cn", 8583,
     "b3d6402f8202eb666ae559a92a8cb1f0ea62dc232414ba3727319df4878e7f32"),
    ("masters-2022-cycle/ccl.txt", None, "ccl", 7685,
     "3297606dd1e630998469b615fe1823e90215cfe4fd35967db7f5597bac9b0456"),
    ("masters-2022-cycle/weball22.txt", None, "weball", 4154,
     "15a0fde9394d3eb81b6c06a0bd0be3071aba3a86a2d59b7d4b97fb60c08a7021"),
]


def open_sample(relpath: str, member: str | None) -> tuple[BinaryIO, Callable[[], None]]:
    path = SAMPLES / relpath
    if member is not None:
        archive = zipfile.ZipFile(path)
        stream = archive.open(member)

        def close() -> None:
            stream.close()
            archive.close()

        return stream, close
    fh: BinaryIO = gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")  # type: ignore[assignment]
    return fh, fh.close


@pytest.mark.parametrize("block_size", [4 * 1024 * 1024, 65536])
@pytest.mark.parametrize(("relpath", "member", "file_type", "lines", "sha256"), REAL_FILES,
                         ids=[f"{r[0]}:{r[1] or ''}" for r in REAL_FILES])
def test_real_file_is_clean_and_byte_identical(relpath, member, file_type, lines, sha256, block_size):
    stream, close = open_sample(relpath, member)
    stats = ParseStats()
    try:
        blocks = list(iter_blocks(stream, get_file_spec(file_type), block_size=block_size, stats=stats))
    finally:
        close()

    assert stats.complete
    assert stats.lines == lines == stats.loaded
    assert stats.rejected == 0 and stats.recoded == 0 and stats.crlf_lines == 0
    assert not stats.missing_final_newline
    assert stats.sha256 == sha256
    data = b"".join(b.data for b in blocks)
    assert hashlib.sha256(data).hexdigest() == sha256  # clean file: COPY payload == file bytes
    assert stats.bytes_read == len(data)
    # line numbering is contiguous and every block ends on a line boundary
    assert blocks[0].first_line == 1 and blocks[-1].last_line == lines
    for before, after in zip(blocks, blocks[1:], strict=False):
        assert after.first_line == before.last_line + 1
    assert all(b.data.count(b"\n") == b.line_count for b in blocks)
    if block_size == 65536 and len(data) > 10 * 65536:
        assert len(blocks) > 10


def test_utf8_master_file_passes_through_unchanged():
    """The 2022 cn.txt has accented UTF-8 names: they are data, not a reason to recode."""
    raw = (SAMPLES / "masters-2022-cycle/cn.txt").read_bytes()
    assert not raw.isascii()
    with (SAMPLES / "masters-2022-cycle/cn.txt").open("rb") as fh:
        data = b"".join(b.data for b in iter_blocks(fh, get_file_spec("cn")))
    assert data == raw
    assert "CASTRO, JULIÁN".encode() in data


def test_file_with_real_defects_keeps_good_lines_byte_exact(rebuild):
    """Real itcont lines with injected defects: only the damaged lines are rejected or recoded."""
    with gzip.open(EARLY / "extracted/itcont.txt.gz", "rb") as fh:
        lines = fh.read().split(b"\n")[:5000]
    lines[10] = lines[10].replace(b"|", b"", 1)  # 20 fields
    lines[11] = lines[11] + b"|"  # 22 fields: cancels line 11 in a whole-block pipe count
    lines[2000] = lines[2000].replace(b"|", b"|\x00", 1)
    fields = lines[3000].split(b"|")
    fields[7] += b" O\x92BRIEN"  # a cp1252 apostrophe in NAME
    lines[3000] = b"|".join(fields)
    lines[4000] = b""
    content = b"\n".join(lines)  # no final newline: last element is a real line
    stats = ParseStats()
    blocks = list(iter_blocks(io.BytesIO(content), 21, block_size=65536, stats=stats))
    reasons = {r.line_number: str(r.reason) for b in blocks for r in b.rejects}
    assert reasons == {11: "field_count", 12: "field_count", 2001: "nul_byte", 4001: "empty_line"}
    assert stats.missing_final_newline
    assert stats.lines == 5000 == stats.loaded + stats.rejected
    assert rebuild(blocks, stats, 21) == content
    assert [n for b in blocks for n in b.recoded] == [3001]
    row_3001 = b"".join(b.data for b in blocks).split(b"\n")[3000]
    assert row_3001.split(b"|")[7].endswith(" O\u2019BRIEN".encode())


@pytest.mark.parametrize(
    ("header_file", "file_type"),
    [("cm_header_file.csv", "cm"), ("cn_header_file.csv", "cn"), ("ccl_header_file.csv", "ccl"),
     ("indiv_header_file.csv", "indiv"), ("oth_header_file.csv", "oth"), ("pas2_header_file.csv", "pas2"),
     ("webk_headers.csv", "webk")],
)
def test_real_header_files_match_catalog(header_file, file_type):
    names = read_header_file((EARLY / "headers" / header_file).read_bytes())
    spec = get_file_spec(file_type)
    assert len(names) == spec.field_count
    check_header_matches(spec, names)
