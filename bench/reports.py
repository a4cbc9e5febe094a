"""Staff reports at scale: the dashboard and the monthly report against a bare aggregate.

Generates a history of --donations donations (recurring payments of --subscriptions subscriptions,
the rest one-off gifts, with checkouts, refunds, disputes and banner counters), then times, on the
same database in the same run:

  baseline   SELECT count(*), sum(amount_cents) FROM donation  (a full scan of the table)
  dashboard  dashboard(): this month vs last, MRR, movements, one-off stats, attention
  monthly    full_report() for the last full month, by day (money, gifts, movements,
             cohorts, articles and variants funnel)
  yearly     the same for the last twelve months, by month (for information)

and prints median times and ratios to the baseline (goal: each report < 200 ms and <= 5x). Then it
streams the full donations CSV export through the real view at several row counts under tracemalloc
and prints the peak memory of each (goal: flat as the rows grow).

  python bench/reports.py --donations 100000                      # SQLite file in /tmp
  python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
The database is emptied first (PostgreSQL: its public schema is dropped and rebuilt).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from membership import create_app  # noqa: E402
from membership.config import Config  # noqa: E402
from membership.dates import first_of_month  # noqa: E402
from membership.extensions import db  # noqa: E402
from membership.models import Article, BannerVariant, Donation, StaffRole  # noqa: E402
from membership.services.history import HistorySpec, insert_history  # noqa: E402
from membership.services.reports.dashboard import dashboard  # noqa: E402
from membership.services.reports.range_report import ReportRequest, full_report  # noqa: E402
from membership.services.staff.accounts import create_or_update_staff  # noqa: E402

ZONE = "America/New_York"


def build_app(url: str, instance: Path):  # type: ignore[no-untyped-def]
    config = Config(
        app_env="test",
        secret_key="bench-secret-key-bench-secret-key-0123456789",  # noqa: S106 (a throwaway database)
        database_url=url,
        timezone=ZONE,
        session_cookie_secure=False,
        instance_path=str(instance),
        ratelimit_enabled=False,
    )
    return create_app(config)


def reset(url: str) -> None:
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    elif url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)


def generate(donations: int, subscriptions: int, now: datetime) -> None:
    session = db.session()
    articles = [Article(slug=f"bench-{i}", title=f"Bench story {i}") for i in range(20)]
    variants = [
        BannerVariant(name=f"v{i}", headline="H", body="B", amounts={"once": [500]})
        for i in range(3)
    ]
    session.add_all([*articles, *variants])
    session.flush()
    common = {
        "now": now,
        "article_ids": [a.id for a in articles],
        "variant_ids": [v.id for v in variants],
    }
    # Recurring first, to learn how many payments they made; one-off gifts make up the rest.
    insert_history(session, HistorySpec(subscriptions=subscriptions, one_off=0, **common))  # type: ignore[arg-type]
    session.commit()
    recurring = session.scalar(select(func.count()).select_from(Donation)) or 0
    insert_history(
        session,
        HistorySpec(
            subscriptions=0,
            one_off=max(0, donations - recurring),
            seed=8,
            with_banner_stats=False,
            **common,  # type: ignore[arg-type]
        ),
    )
    session.commit()


def analyze(url: str) -> None:
    if url.startswith("postgresql"):
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm the caches once, as a running server would be
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        db.session.rollback()
    return statistics.median(times) * 1000


def export_peak(app, member_id: int, start: date, end: date) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """Rows and peak traced memory (bytes) of streaming the donations CSV through the view."""
    client = app.test_client()
    with app.test_request_context("/", environ_base=client.environ_base):
        from flask_login.utils import _create_identifier

        identifier = _create_identifier()
    with client.session_transaction() as session:
        session.update({"_user_id": f"staff:{member_id}", "_fresh": True, "_id": identifier})
    url = (
        f"/staff/reports.csv?report=donations&group=month"
        f"&start={start.isoformat()}&end={end.isoformat()}"
    )
    tracemalloc.start()
    tracemalloc.reset_peak()
    with app.app_context():
        response = client.get(url, buffered=False)
        lines = 0
        for chunk in response.iter_encoded():
            lines += chunk.count(b"\n")
        response.close()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return lines - 1, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--donations", type=int, default=1_000_000)
    parser.add_argument("--subscriptions", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--skip-generate", action="store_true", help="reuse the data in place")
    args = parser.parse_args()
    workdir = Path(tempfile.gettempdir()) / "membership-bench"
    workdir.mkdir(exist_ok=True)
    url = args.database_url or f"sqlite:///{workdir / 'reports.sqlite3'}"
    now = datetime.now(UTC).replace(microsecond=0)
    zone = ZoneInfo(ZONE)
    if not args.skip_generate:
        reset(url)
    app = build_app(url, workdir / "instance")
    with app.app_context():
        if not args.skip_generate:
            from flask_migrate import upgrade

            upgrade()
            began = time.perf_counter()
            generate(args.donations, args.subscriptions, now)
            print(f"generated in {time.perf_counter() - began:.0f} s")
            analyze(url)
        session = db.session()
        rows = session.scalar(select(func.count()).select_from(Donation)) or 0
        member = create_or_update_staff(
            session, email="bench@example.org", role=StaffRole.FINANCE.value
        )
        session.commit()
        member_id = member.id
        print(f"database: {db.engine.dialect.name}; donations: {rows:,}")
        today = now.astimezone(zone).date()
        last_month_end = today.replace(day=1) - timedelta(days=1)
        monthly = ReportRequest(last_month_end.replace(day=1), last_month_end, "day")
        yearly = ReportRequest(first_of_month(today, -11), today, "month")

        def baseline() -> object:
            return db.session.execute(select(func.count(), func.sum(Donation.amount_cents))).one()

        results = {
            "baseline": timed(baseline, args.repeat),
            "dashboard": timed(lambda: dashboard(db.session(), zone, now), args.repeat),
            "monthly report": timed(
                lambda: full_report(db.session(), monthly, zone, now), args.repeat
            ),
            "yearly report": timed(
                lambda: full_report(db.session(), yearly, zone, now), args.repeat
            ),
        }
        db.session.remove()
    base = results["baseline"]
    print(f"{'':16}{'median ms':>10}{'x baseline':>12}  goal: < 200 ms and <= 5x")
    for name, ms in results.items():
        verdict = (
            ""
            if name in ("baseline", "yearly report")
            else ("ok" if ms < 200 and ms <= 5 * base else "MISSED")
        )
        print(f"{name:16}{ms:10.1f}{ms / base:12.2f}  {verdict}")
    print("CSV export of every donation, streamed through the view (tracemalloc peak):")
    first_day = (now - timedelta(days=366)).astimezone(zone).date()
    for days in (30, 120, 366):
        start = today - timedelta(days=days)
        exported, peak = export_peak(app, member_id, max(start, first_day), today)
        print(f"  {exported:>10,} rows  peak {peak / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
