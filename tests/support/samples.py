"""The real FEC sample files the tests read, laid out from what the repository carries.

Tests name sample files by their place in the upstream sample collection (for example
``bulk-2020-early-snapshot-2019-03/extracted/cm.txt``), so the paths in a test say where a file came
from. Nothing outside the repository is read: ``SAMPLES`` is a folder built once per content version
in the system temp directory from ``tests/fixtures/`` (see ``tests/fixtures/PROVENANCE.md``):

* ``bulk-2020-early-snapshot-2019-03/zips/`` and ``headers/``: the bundled FEC zips and header files;
* ``.../extracted/``: the zip members, unpacked here (the two large transaction files gzipped, as the
  upstream collection keeps them), so the repository holds those bytes once, in the zips;
* ``bulk-2018-cycle/``: the 2018 zips, their unpacked members and two itcont excerpts;
* the later master snapshots, the recorded OpenFEC pages and the e-filings, copied as they are.

The folder is built in a temporary sibling and renamed into place, so concurrent test sessions
(CI runs the suite twice) never see half a folder; a stale or damaged folder is rebuilt.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

EARLY_2020 = "bulk-2020-early-snapshot-2019-03"
BULK_2018 = "bulk-2018-cycle"
# (zip under tests/fixtures, member, name under <EARLY_2020>/extracted, gzip it?)
_EARLY_2020_MEMBERS = [
    ("cm20.zip", "cm.txt", "cm.txt", False),
    ("cn20.zip", "cn.txt", "cn.txt", False),
    ("ccl20.zip", "ccl.txt", "ccl.txt", False),
    ("indiv20.zip", "itcont.txt", "itcont.txt.gz", True),
    ("oth20.zip", "itoth.txt", "itoth.txt.gz", True),
    ("pas220.zip", "itpas2.txt", "itpas2.txt", False),
    ("weball20.zip", "weball20.txt", "weball20.txt", False),
    ("webk20.zip", "webk20.txt", "webk20.txt", False),
    ("webl20.zip", "webl20.txt", "webl20.txt", False),
]
# Copied as they are: (folder under tests/fixtures, folder in the layout)
_COPIED = [
    ("samples/masters-2020-late-snapshot-2020-11", "masters-2020-late-snapshot-2020-11"),
    ("samples/masters-2022-cycle", "masters-2022-cycle"),
    ("openfec", "openfec-api-v1-recorded-2015"),
    ("efilings", "efilings"),
]
_LAYOUT_VERSION = "1"


def _inputs() -> list[Path]:
    return sorted(p for p in FIXTURES.rglob("*") if p.is_file())


def _content_key() -> str:
    """Changes whenever a fixture file's name, size or modification time changes."""
    digest = hashlib.sha256(_LAYOUT_VERSION.encode())
    for path in _inputs():
        stat = path.stat()
        digest.update(f"{path.relative_to(FIXTURES)}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def _unzip_member(archive: Path, member: str, target: Path, *, gzipped: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive) as zf, zf.open(member) as src:
        if gzipped:
            with gzip.open(target, "wb", compresslevel=1) as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        else:
            with target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)


def build_layout(dest: Path) -> None:
    """Write the sample layout into the empty folder ``dest``."""
    early = dest / EARLY_2020
    shutil.copytree(FIXTURES / "bulk" / "2020", early / "zips")
    shutil.copytree(FIXTURES / "bulk" / "data_dictionaries", early / "headers")
    for zip_name, member, name, gzipped in _EARLY_2020_MEMBERS:
        _unzip_member(early / "zips" / zip_name, member, early / "extracted" / name, gzipped=gzipped)

    source_2018 = FIXTURES / "samples" / BULK_2018
    bulk_2018 = dest / BULK_2018
    for zip_name, member in (("cm18.zip", "cm.txt"), ("cn18.zip", "cn.txt")):
        (bulk_2018 / "zips").mkdir(parents=True, exist_ok=True)
        shutil.copy2(source_2018 / zip_name, bulk_2018 / "zips" / zip_name)
        _unzip_member(source_2018 / zip_name, member, bulk_2018 / "extracted" / member, gzipped=False)
    for excerpt in ("itcont_head10000.txt", "itcont_insight_sample.txt"):
        shutil.copy2(source_2018 / excerpt, bulk_2018 / "extracted" / excerpt)

    for source, name in _COPIED:
        shutil.copytree(FIXTURES / source, dest / name)
    (dest / ".complete").write_text(_content_key() + "\n")


def ensure_samples(root: Path | None = None) -> Path:
    """The sample folder for the current fixtures, built if missing or incomplete."""
    base = root if root is not None else Path(tempfile.gettempdir())
    key = _content_key()
    target = base / f"fecflow-samples-{key}"
    marker = target / ".complete"
    if marker.is_file() and marker.read_text().strip() == key:
        return target
    base.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".fecflow-samples-{key}-", dir=base))
    try:
        build_layout(building)
        # World-readable: the test PostgreSQL may run as another OS user and read files server-side.
        for path in [building, *building.rglob("*")]:
            os.chmod(path, 0o755 if path.is_dir() else 0o644)
        try:
            building.rename(target)
        except OSError:
            # Another session won the race (target exists and is complete) or left a damaged one.
            if not (marker.is_file() and marker.read_text().strip() == key):
                shutil.rmtree(target, ignore_errors=True)
                building.rename(target)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return target


SAMPLES = ensure_samples()
