"""CSV for people who open it in a spreadsheet: the one writer every export goes through (staff
reports, the newsletter list on the web and the CLI, supporters' yearly statements)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence

# A spreadsheet runs a cell starting with one of these as a formula (tab and carriage return
# too, as some of them strip those first). OWASP's advice: make such a cell text.
FORMULA_LEADERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def neutralise(cell: str) -> str:
    """The cell as text a spreadsheet shows, never runs: a leading quote before a formula
    leader. A plain number (a negative amount) stays a number: it cannot be a formula."""
    if cell[:1] in FORMULA_LEADERS and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def csv_chunks(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The rows as CSV text (CRLF line ends, as RFC 4180 asks), one chunk per row, so a download
    streams while its rows are computed. Every cell is neutralised (see `neutralise`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def csv_text(rows: Iterable[Sequence[str]]) -> str:
    """The whole file at once, for small ones (a yearly statement)."""
    return "".join(csv_chunks(rows))
