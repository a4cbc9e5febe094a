"""Article page throughput against a minimal Flask page of the same size, both under gunicorn + wrk.

Prints requests/s for: the full article page, the 304 path (If-None-Match), and the same two for the
baseline app; then the ratios. Goal: both >= 1.0 (at least as fast as the bare page).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (loopback)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, seconds: int, connections: int, headers: list[str]) -> float:
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for header in headers:
        args += ["-H", header]
    out = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if not match:
        raise SystemExit(f"could not read wrk output:\n{out}")
    if non2xx:
        raise SystemExit(f"{url}: {non2xx.group(1)} error responses during the run:\n{out}")
    return float(match.group(1))


def gunicorn(app: str, port: int, env: dict[str, str], workers: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--log-level", "warning", app],
        cwd=ROOT, env=env,
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="bench-article-"))
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "RATELIMIT_STORAGE_URI": "memory://",
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "seed"], cwd=ROOT, env=env, check=True, capture_output=True)

    app_port, base_port = free_port(), free_port()
    servers = [gunicorn("wsgi:app", app_port, env, args.workers)]
    try:
        article_url = f"http://127.0.0.1:{app_port}/articles/palvero-election-recount"
        wait_for(article_url)
        with urllib.request.urlopen(article_url) as response:  # noqa: S310 (loopback)
            size = len(response.read())
            etag = response.headers["ETag"]
        servers.append(
            gunicorn(
                "bench.minimal_app:app",
                base_port,
                {**env, "BENCH_PAGE_BYTES": str(size)},
                args.workers,
            )
        )
        base_url = f"http://127.0.0.1:{base_port}/page"
        wait_for(base_url)
        wrk(article_url, 2, args.connections, [])  # warm up both
        wrk(base_url, 2, args.connections, [])
        results = {
            "article page": wrk(article_url, args.seconds, args.connections, []),
            "baseline page": wrk(base_url, args.seconds, args.connections, []),
            "article 304": wrk(
                article_url, args.seconds, args.connections, [f"If-None-Match: {etag}"]
            ),
            "baseline 304": wrk(
                base_url, args.seconds, args.connections, ['If-None-Match: "baseline-etag"']
            ),
        }
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)

    print(
        f"page size: {size} bytes, gunicorn workers: {args.workers}, wrk -c{args.connections} -d{args.seconds}s"
    )
    for name, rps in results.items():
        print(f"{name:>14}: {rps:10.1f} req/s")
    page_ratio = results["article page"] / results["baseline page"]
    cached_ratio = results["article 304"] / results["baseline 304"]
    print(f"ratio page: {page_ratio:.2f} (goal >= 1.00)")
    print(f"ratio 304:  {cached_ratio:.2f} (goal >= 1.00)")


if __name__ == "__main__":
    main()
