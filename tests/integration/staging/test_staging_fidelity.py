"""Every real FEC bulk sample, staged and exported back: byte-identical (sha256), books balanced."""

from __future__ import annotations

from pathlib import Path

import pytest

from fecflow.staging.payload import guess_file_type

pytestmark = pytest.mark.integration

E20 = "bulk-2020-early-snapshot-2019-03"
SAMPLES = [
    *(
        f"{E20}/zips/{name}"
        for name in (
            "cm20.zip",
            "cn20.zip",
            "ccl20.zip",
            "indiv20.zip",
            "oth20.zip",
            "pas220.zip",
            "weball20.zip",
            "webk20.zip",
            "webl20.zip",
        )
    ),
    *(
        f"{E20}/extracted/{name}"
        for name in (
            "cm.txt",
            "cn.txt",
            "ccl.txt",
            "itcont.txt.gz",
            "itoth.txt.gz",
            "itpas2.txt",
            "weball20.txt",
            "webk20.txt",
            "webl20.txt",
        )
    ),
    "bulk-2018-cycle/zips/cm18.zip",
    "bulk-2018-cycle/zips/cn18.zip",
    "bulk-2018-cycle/extracted/cm.txt",
    "bulk-2018-cycle/extracted/cn.txt",
    "bulk-2018-cycle/extracted/itcont_head10000.txt",
    "bulk-2018-cycle/extracted/itcont_insight_sample.txt",
    "masters-2020-late-snapshot-2020-11/cm.txt",
    "masters-2020-late-snapshot-2020-11/cn.txt",
    "masters-2022-cycle/ccl.txt",
    "masters-2022-cycle/cm.txt",
    "masters-2022-cycle/cn.txt",
    "masters-2022-cycle/weball22.txt",
]


@pytest.mark.parametrize("relative", SAMPLES)
def test_sample_stages_and_exports_byte_identical(stager, shared_samples: Path, relative: str) -> None:
    path = shared_samples / relative
    file_type = guess_file_type(path.name)
    assert file_type is not None
    original = stager.payload_bytes(path)

    result = stager.stage(path, file_type)

    assert not result.skipped
    assert result.lines == original.count(b"\n") + (0 if original.endswith(b"\n") else 1)
    assert result.lines == result.loaded + result.rejected
    assert result.sha256 == stager.sha256(original)
    assert result.bytes == len(original)
    stager.assert_balanced(file_type, result.source_file_id)
    exported = stager.export(result.source_file_id)
    assert stager.sha256(exported) == stager.sha256(original)


def test_transaction_window_of_the_2020_itcont_sample(stager, shared_samples: Path) -> None:
    result = stager.stage(shared_samples / E20 / "zips" / "indiv20.zip", "indiv")
    # PROVENANCE: all TRANSACTION_DT are MMDDYYYY, years 2017 .. 2019.
    assert result.window_start is not None and result.window_end is not None
    assert result.window_start.year == 2017 and result.window_end.year == 2019
    (audit,) = [a for a in stager.audits(result.source_file_id) if a["stage"] == "stage"]
    assert (audit["window_start"], audit["window_end"]) == (result.window_start, result.window_end)
    assert audit["counts"]["dates_invalid"] == 0 and audit["counts"]["dates_blank"] == 0
    assert audit["counts"]["first_line"] == 1 and audit["counts"]["last_line"] == 70671
    assert audit["counts"]["eof"] is True and audit["counts"]["payload"]["member"] == "itcont.txt"
    assert audit["bytes"] == 12754298


def test_masters_have_no_window(stager, shared_samples: Path) -> None:
    result = stager.stage(shared_samples / "masters-2022-cycle" / "cn.txt", "cn")
    assert result.window_start is None and result.window_end is None
