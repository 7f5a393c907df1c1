"""The repository carries what its tests, demo and benchmark read: no machine's paths, no sibling folder.

A clone in an empty folder must pass `make test` (issue #20). Two ways that broke before: a test read
the sample collection from a folder *beside* the repository, and files hard-coded an absolute path of
the machine they were written on. Both are text, so both are caught here, for every tracked file.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Real data files: their bytes are the upstream's, not ours to police.
DATA_DIRS = (
    "tests/fixtures/bulk/",
    "tests/fixtures/samples/",
    "tests/fixtures/efilings/",
    "tests/fixtures/openfec/",
)
TEXT_SUFFIXES = {
    ".py",
    ".md",
    ".toml",
    ".cfg",
    ".ini",
    ".txt",
    ".yml",
    ".yaml",
    ".json",
    ".sh",
    ".example",
    "",
}

# Home or work folders of a build machine (POSIX and Windows); system paths such as /usr/lib stay allowed.
MACHINE_PATH = re.compile(r"(?<![\w.~-])(/(?:work|home|root|Users|mnt)/|[A-Za-z]:\\\\?Users\\\\?)")
# Reaching out of the repository to a folder beside it.
SIBLING = re.compile(
    r"""\.\./shared\b|parent\s*/\s*["']shared["']|["']shared["']\s*/\s*["']fec-samples["']"""
)


def tracked_text_files() -> list[Path]:
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        pytest.fail("the self-containment check needs a git checkout (git ls-files)")
    files = []
    for name in filter(None, listing.split("\0")):
        if name.startswith(DATA_DIRS) or name == "tests/meta/test_self_contained.py":
            continue
        path = ROOT / name
        if path.suffix in TEXT_SUFFIXES or path.name in {"Makefile", "run"}:
            files.append(path)
    return files


def offending_lines(pattern: re.Pattern[str]) -> list[str]:
    found = []
    for path in tracked_text_files():
        if not path.is_file():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()[:120]}")
    return found


def test_the_check_sees_the_files_it_guards() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in tracked_text_files()}
    assert {"tests/conftest.py", "bench/gen_itcont.py", "README.md", ".ci/run", "Makefile"} <= names


def test_patterns_catch_what_they_are_for() -> None:
    assert MACHINE_PATH.search('SAMPLES = Path("/work/shared/fec-samples")')
    assert MACHINE_PATH.search("see /home/alice/fecflow")
    assert not MACHINE_PATH.search("PG15_BIN=/usr/lib/postgresql/15/bin")
    assert not MACHINE_PATH.search("https://www.fec.gov/files/bulk-downloads/2020/indiv20.zip")
    assert SIBLING.search('REPO_ROOT.parent / "shared" / "fec-samples"')
    assert SIBLING.search("read ../shared/DOMAIN.md")


def test_no_absolute_path_of_any_machine() -> None:
    assert offending_lines(MACHINE_PATH) == []


def test_nothing_reads_a_folder_beside_the_repository() -> None:
    assert offending_lines(SIBLING) == []
