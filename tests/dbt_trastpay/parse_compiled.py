"""Parse compiled SQL files with sqlglot in the given dialects; print one JSON line per failure.

Runs in dbt's venv (sqlglot is pinned there, requirements/dbt.txt):
``.dbt/venv/bin/python parse_compiled.py <compiled dir> snowflake bigquery``; exit 1 on any failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    import sqlglot
    from sqlglot.errors import ParseError

    root, dialects = Path(argv[0]), argv[1:]
    files = sorted(root.rglob("*.sql"))
    failures = 0
    for path in files:
        sql = path.read_text(encoding="utf-8")
        for dialect in dialects:
            try:
                statements = sqlglot.parse(sql, read=dialect)
            except ParseError as exc:
                failures += 1
                print(
                    json.dumps(
                        {"file": str(path.relative_to(root)), "dialect": dialect, "error": str(exc)[:500]}
                    )
                )
                continue
            if not [s for s in statements if s is not None]:
                failures += 1
                print(
                    json.dumps(
                        {"file": str(path.relative_to(root)), "dialect": dialect, "error": "no statement"}
                    )
                )
    print(json.dumps({"parsed_files": len(files), "dialects": dialects, "failures": failures}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
