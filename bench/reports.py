"""Staff reports at scale: the dashboard and the monthly and yearly reports against a bare aggregate.

Generates a history of --donations donations (recurring payments of --subscriptions subscriptions,
the rest one-off gifts, with checkouts, refunds, disputes and banner counters), rebuilds the daily
summary for the bench's zone (`flask reports rebuild-summary` does the same), then times, on the
same database in the same run:

  baseline   SELECT count(*), sum(amount_cents) FROM donation  (a full scan of the table)
  dashboard  dashboard(): this month vs last, MRR, movements, one-off stats, attention
  monthly    full_report() for the last full month, by day (money, gifts, movements,
             cohorts, articles and variants funnel)
  yearly     the same for the last twelve months, by month

each twice: reading the raw rows only (as before the daily summary; the zone is unmarked for it)
and reading the summary for whole days. It prints the medians side by side, the ratio of the
summary figure to the baseline and the goal: dashboard and monthly < 150 ms and <= 3x the
baseline, yearly < 300 ms. Then it streams the full donations CSV export through the real view at
several row counts under tracemalloc and prints the peak memory of each (goal: flat).

--dashboard-only generates the one-off gifts set-based (PostgreSQL: generate_series, spread over
--years years) instead of row by row, so 10M donations take minutes, and times the dashboard
only (goal: < 200 ms, flat in the size of the history).

  python bench/reports.py --donations 100000                      # SQLite file in /tmp
  python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench
  python bench/reports.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/bench \
      --donations 10000000 --dashboard-only
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

from sqlalchemy import create_engine, delete, func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from membership import create_app  # noqa: E402
from membership.config import Config  # noqa: E402
from membership.dates import first_of_month  # noqa: E402
from membership.extensions import db  # noqa: E402
from membership.models import (  # noqa: E402
    Article,
    BannerVariant,
    Donation,
    StaffRole,
    SummaryZone,
)
from membership.services.history import HistorySpec, insert_history  # noqa: E402
from membership.services.reports import summary  # noqa: E402
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


def generate_set_based(donations: int, subscriptions: int, years: int, now: datetime) -> None:
    """Subscriptions and their payments row by row (a year of them), then the one-off gifts in one
    INSERT ... SELECT over generate_series, paid over the last `years` years (PostgreSQL)."""
    session = db.session()
    insert_history(
        session,
        HistorySpec(now=now, subscriptions=subscriptions, one_off=0, with_banner_stats=False),
    )
    session.commit()
    recurring = session.scalar(select(func.count()).select_from(Donation)) or 0
    one_off = max(0, donations - recurring)
    # Amounts and fees from a small set, like real gifts; about 1 in 200 refunded in part,
    # the refund dated a week after the gift. Ids continue after the generated history.
    session.execute(
        text(
            """
            INSERT INTO donation (id, amount_cents, fee_cents, currency, kind, status,
                                  refunded_cents, receipt_number, paid_at, created_at, updated_at)
            SELECT base + g,
                   (ARRAY[100, 300, 500, 500, 1000, 1000, 2000, 2500, 5000, 10000])[1 + g % 10],
                   CASE WHEN g % 3 = 0 THEN 33 ELSE 0 END,
                   'usd', 'one_off',
                   CASE WHEN g % 200 = 0 THEN 'partially_refunded' ELSE 'succeeded' END,
                   CASE WHEN g % 200 = 0 THEN 50 ELSE 0 END,
                   'SET-' || (base + g),
                   at, at, at
            FROM (SELECT coalesce(max(id), 0) AS base FROM donation) AS top,
                 generate_series(1, :n) AS g,
                 LATERAL (SELECT :now - (:span * ((g::bigint * 7919) % 1000003) / 1000003.0)
                                 * interval '1 second' AS at) AS paid
            """
        ),
        {"n": one_off, "now": now, "span": years * 365 * 86400},
    )
    session.execute(
        text(
            """
            INSERT INTO donation_refund (donation_id, amount_cents, refunded_at, status)
            SELECT id, 50, paid_at + interval '7 days', 'succeeded' FROM donation
            WHERE receipt_number LIKE 'SET-%' AND status = 'partially_refunded'
              AND paid_at + interval '7 days' < :now
            """
        ),
        {"now": now},
    )
    session.execute(
        text("SELECT setval(pg_get_serial_sequence('donation', 'id'), max(id)) FROM donation")
    )
    session.commit()


def rebuild_summary(zone: ZoneInfo) -> None:
    began = time.perf_counter()
    rows = summary.rebuild(db.session(), zone)
    db.session.commit()
    print(f"daily summary rebuilt: {rows:,} rows in {time.perf_counter() - began:.1f} s")


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
    parser.add_argument(
        "--dashboard-only",
        action="store_true",
        help="generate the one-off gifts set-based (PostgreSQL) and time the dashboard only",
    )
    parser.add_argument("--years", type=int, default=10, help="history of --dashboard-only")
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
        from flask_migrate import upgrade

        upgrade()
        if not args.skip_generate:
            began = time.perf_counter()
            if args.dashboard_only:
                if not url.startswith("postgresql"):
                    parser.error("--dashboard-only generates with PostgreSQL's generate_series")
                generate_set_based(args.donations, args.subscriptions, args.years, now)
            else:
                generate(args.donations, args.subscriptions, now)
            print(f"generated in {time.perf_counter() - began:.0f} s")
        if not args.skip_generate or not summary.covers(db.session(), zone):
            rebuild_summary(zone)
        if not args.skip_generate:
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

        reports: dict[str, Callable[[], object]] = {
            "dashboard": lambda: dashboard(db.session(), zone, now),
        }
        if not args.dashboard_only:
            reports["monthly report"] = lambda: full_report(db.session(), monthly, zone, now)
            reports["yearly report"] = lambda: full_report(db.session(), yearly, zone, now)
        base = timed(baseline, args.repeat)
        # Raw rows only, as before the summary: the zone is unmarked, the rows stay.
        db.session.execute(delete(SummaryZone).where(SummaryZone.zone == ZONE))
        db.session.commit()
        raw = {name: timed(fn, args.repeat) for name, fn in reports.items()}
        db.session.add(SummaryZone(zone=ZONE))
        db.session.commit()
        kept = {name: timed(fn, args.repeat) for name, fn in reports.items()}
        db.session.remove()
    goals = {"dashboard": (150.0, 3.0), "monthly report": (150.0, 3.0), "yearly report": (300.0, 0)}
    if args.dashboard_only:
        goals["dashboard"] = (200.0, 0)
    print(f"{'':16}{'raw rows ms':>12}{'summary ms':>12}{'x baseline':>12}  goal")
    print(f"{'baseline':16}{base:12.1f}{'':12}{1:12.2f}")
    for name, ms in kept.items():
        limit, ratio = goals[name]
        goal = f"< {limit:.0f} ms" + (f" and <= {ratio:.0f}x" if ratio else "")
        met = ms < limit and (not ratio or ms <= ratio * base)
        print(
            f"{name:16}{raw[name]:12.1f}{ms:12.1f}{ms / base:12.2f}  {goal:22}"
            f"{'ok' if met else 'MISSED'}"
        )
    if args.dashboard_only:
        return
    print("CSV export of every donation, streamed through the view (tracemalloc peak):")
    first_day = (now - timedelta(days=366)).astimezone(zone).date()
    for days in (30, 120, 366):
        start = today - timedelta(days=days)
        exported, peak = export_peak(app, member_id, max(start, first_day), today)
        print(f"  {exported:>10,} rows  peak {peak / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
