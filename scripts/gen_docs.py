"""Every generated document, from one place: ``make docs`` writes them, ``make docs-check`` (and
tests/meta) fails when one is stale.

    python scripts/gen_docs.py           # write what changed
    python scripts/gen_docs.py --check   # exit 1 and name the stale ones, write nothing
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from fecflow.catalog.docs import expected_docs  # noqa: E402
from fecflow.cli.docs import render_cli_doc  # noqa: E402
from fecflow.db.docs import merge_into  # noqa: E402
from fecflow.normalize.rules import render_counting_rules_doc  # noqa: E402


def expected_outputs() -> dict[Path, str]:
    out = expected_docs(ROOT / "docs" / "data" / "files")
    schema = ROOT / "docs" / "data" / "schema.md"
    out[schema] = merge_into(schema.read_text() if schema.exists() else "# Schema\n")
    out[ROOT / "docs" / "cli.md"] = render_cli_doc()
    out[ROOT / "docs" / "data" / "counting-rules.md"] = render_counting_rules_doc()
    return out


def stale_outputs() -> list[Path]:
    return [path for path, text in expected_outputs().items() if not path.exists() or path.read_text() != text]


def main(argv: list[str] | None = None) -> int:
    if "--check" in (sys.argv[1:] if argv is None else argv):
        stale = stale_outputs()
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)} (run `make docs`)")
        return 1 if stale else 0
    changed = 0
    for path, text in expected_outputs().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed += 1
            print(f"wrote {path.relative_to(ROOT)}")
    print(f"{changed} file(s) updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
