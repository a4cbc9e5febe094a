"""CSV for people who open it in a spreadsheet: the one writer the staff exports go through."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence


def csv_chunks(rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """The rows as CSV text (CRLF line ends, as RFC 4180 asks), one chunk per row, so a download
    streams while its rows are computed. Every cell of every export passes through here: a rule
    for all cells (such as keeping a spreadsheet from running them as formulas) has one place."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
