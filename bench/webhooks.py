"""Webhook throughput: the app's endpoint against a bare verify-and-insert endpoint, both under
gunicorn, fed the same signed events by a bounded Python load generator on loopback.

Each distinct event is a paid one-off Checkout Session for a new reader (the full path: ledger row,
supporter, donation, receipt in the outbox); a share of them is delivered twice, as Stripe does.
The app asks Stripe for each payment's charge: the bench starts the stand-in on loopback for that
(it does not know the bench's payment intents, so each answer is a 404 and the donation is recorded
without its charge id, one round trip per event as with Stripe).
Prints both rates, the ratio (goal >= 0.5) and the row counts: exactly one per distinct event.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.article_page import free_port, gunicorn, wait_for
from stripe_standin.webhooks import sign_payload

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SECRET = "whsec_bench_webhooks"  # noqa: S105 (a throwaway secret for a local benchmark)


def make_events(count: int, duplicate_share: float) -> tuple[list[tuple[str, str]], int]:
    now = int(time.time())
    bodies = []
    for n in range(count):
        event = {
            "id": f"evt_bench_{n:07d}",
            "object": "event",
            "api_version": "2026-10-28.endive",
            "created": now,
            "type": "checkout.session.completed",
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {
                "object": {
                    "id": f"cs_bench_{n:07d}",
                    "object": "checkout.session",
                    "mode": "payment",
                    "payment_status": "paid",
                    "status": "complete",
                    "amount_total": 500,
                    "currency": "usd",
                    "customer": f"cus_bench_{n:07d}",
                    "customer_details": {"email": f"reader{n}@example.org", "name": ""},
                    "payment_intent": f"pi_bench_{n:07d}",
                    "metadata": {},
                    "created": now,
                }
            },
        }
        body = json.dumps(event)
        bodies.append((body, sign_payload(body, SECRET)))
    duplicates = bodies[: int(count * duplicate_share)]
    return bodies + duplicates, count


def load(
    port: int, deliveries: list[tuple[str, str]], threads: int
) -> tuple[float, dict[int, int]]:
    work: queue.Queue[tuple[str, str]] = queue.Queue()
    for item in deliveries:
        work.put(item)
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def worker() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            while True:
                try:
                    body, signature = work.get_nowait()
                except queue.Empty:
                    return
                connection.request(
                    "POST",
                    "/webhooks/stripe",
                    body=body,
                    headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
                )
                response = connection.getresponse()
                response.read()
                with lock:
                    statuses[response.status] = statuses.get(response.status, 0) + 1
        finally:
            connection.close()

    started = time.perf_counter()
    pool = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return len(deliveries) / (time.perf_counter() - started), statuses


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing listens on port {port}")


def reset_database(url: str, env: dict[str, str]) -> None:
    """An empty schema for every run, so that no run finds another's rows."""
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    flask = [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True)


def counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as connection:
        result = {
            table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
            for table in ("stripe_event", "donation", "supporter", "email_message")
        }
    engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--duplicates", type=float, default=0.1, help="share delivered twice")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    parser.add_argument(
        "--rounds", type=int, default=3, help="alternating runs of each; the median rate counts"
    )
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-webhooks-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": url,
        "STRIPE_SECRET_KEY": "sk_test_bench",
        "STRIPE_WEBHOOK_SECRET": SECRET,
        "STRIPE_API_BASE": "",  # the stand-in's, below
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    distinct = args.events
    runs: dict[str, list[tuple[float, dict[int, int], dict[str, int]]]] = {
        "baseline": [],
        "app": [],
    }
    standin_port = free_port()
    standin = subprocess.Popen(
        [sys.executable, "-m", "stripe_standin", "--port", str(standin_port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env["STRIPE_API_BASE"] = f"http://127.0.0.1:{standin_port}"
    try:
        wait_for_port(standin_port, 60)
        # Alternate the two so that whatever else the machine does weighs on both alike.
        for _round in range(args.rounds):
            for name, target in (("baseline", "bench.webhook_baseline:app"), ("app", "wsgi:app")):
                reset_database(url, env)
                # Signed afresh for each run: a signature older than 300 s is refused.
                deliveries, distinct = make_events(args.events, args.duplicates)
                port = free_port()
                server = gunicorn(target, port, env, args.workers)
                try:
                    wait_for(f"http://127.0.0.1:{port}/healthz", 90)
                    rate, statuses = load(port, deliveries, args.threads)
                finally:
                    server.terminate()
                    server.wait(timeout=10)
                runs[name].append((rate, statuses, counts(url)))
    finally:
        standin.terminate()
        standin.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)
    results = {
        name: sorted(done, key=lambda r: r[0])[len(done) // 2] for name, done in runs.items()
    }

    print(
        f"{distinct} distinct events, {distinct + int(distinct * args.duplicates)} deliveries ({args.duplicates:.0%} twice), "
        f"{args.threads} client threads, {args.workers} gunicorn workers"
    )
    for name, (rate, statuses, rows) in results.items():
        every = ", ".join(f"{r[0]:.0f}" for r in runs[name])
        print(
            f"{name:>9}: {rate:8.1f} deliveries/s (median of {every})  statuses {statuses}  rows {rows}"
        )
    ratio = results["app"][0] / results["baseline"][0]
    print(f"ratio app/baseline: {ratio:.2f} (goal >= 0.50)")
    exact = all(
        r[2]["stripe_event"] == distinct and r[2]["donation"] == distinct for r in runs["app"]
    )
    print(f"exactly one event row and one donation per distinct event: {'yes' if exact else 'NO'}")


if __name__ == "__main__":
    main()
