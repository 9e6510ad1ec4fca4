"""The summary table of the reliability suite: printed at the end of a session, kept in the docs.

``docs/reliability.md`` holds the table between :data:`START` and :data:`END`. Writing it merges:
rows of the cases run this session replace the rows with the same case and connector, rows of
cases not run (the slow ones in a CI-subset run, say) stay, so the full suite and the CI subset can
be recorded separately.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from .harness import ReportRow

START = "<!-- reliability-table:start -->"
END = "<!-- reliability-table:end -->"
HEADER = ("case", "connector", "runs", "result", "figures")


def table_rows(rows: Iterable[ReportRow]) -> list[tuple[str, str, str, str, str]]:
    """(case, connector, runs, result, figures) per row, in the order reported."""
    return [(r.case, r.connector, str(r.runs), r.result, r.figures) for r in rows]


def render_text(rows: Sequence[tuple[str, ...]]) -> list[str]:
    """A fixed-width table for the terminal."""
    if not rows:
        return []
    widths = [max(len(str(row[i])) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    widths[-1] = min(widths[-1], 110)

    def line(row: Sequence[str]) -> str:
        return " | ".join(str(cell).ljust(widths[i]) for i, cell in enumerate(row)).rstrip()

    return [line(HEADER), "-+-".join("-" * w for w in widths), *(line(row) for row in rows)]


def _escape(cell: str) -> str:
    return cell.replace("|", "\\|").replace("\n", " ")


def render_markdown(rows: Sequence[tuple[str, ...]]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_escape(str(cell)) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def parse_markdown(block: str) -> list[tuple[str, ...]]:
    """The data rows of a table written by :func:`render_markdown`."""
    rows: list[tuple[str, ...]] = []
    for text in block.splitlines()[2:]:
        if not text.startswith("|"):
            continue
        cells = [c.strip().replace("\\|", "|") for c in text.strip().strip("|").split(" | ")]
        if len(cells) == len(HEADER):
            rows.append(tuple(cells))
    return rows


def merge(existing: Sequence[tuple[str, ...]], new: Sequence[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """``existing`` with rows of the same (case, connector) replaced by ``new``; new cases appended."""
    fresh = {(row[0], row[1]): row for row in new}
    merged = [fresh.pop((row[0], row[1]), row) for row in existing]
    merged += [row for row in new if (row[0], row[1]) in fresh]
    return merged


def write_report(path: Path, rows: Sequence[tuple[str, ...]], *, stamp: str) -> None:
    """Put the merged table between the markers of ``path`` (appended with markers when missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Reliability\n"
    if START in text and END in text:
        head, _, rest = text.partition(START)
        old, _, tail = rest.partition(END)
    else:
        head, old, tail = text.rstrip("\n") + "\n\n", "", "\n"
    merged = merge(parse_markdown(old.strip()), rows)
    body = f"{START}\n{render_markdown(merged)}\n\nLast written: {stamp}.\n{END}"
    path.write_text(head + body + tail, encoding="utf-8")
