"""An article page through the shipped deploy/nginx.conf (TLS, micro-cache) in front of the app under
gunicorn, against the same nginx serving the same bytes as a static file; wrk over HTTPS.

Both URLs are answered by one nginx started with deploy/nginx.conf, only its addresses and paths
replaced (as tests/deploy/ does): the article through `location ~ ^/(articles/...)` and its cache,
the baseline, the same bytes as a file, through a `location =` the bench adds to its copy (logged
like the article; the shipped /static/ location logs nothing). Alternating rounds, each side first
in turn. Prints requests/s for both, how many of the article requests nginx answered from its
cache, the ratio of each round and the ratio of the means beside the goal (>= 0.8).
"""

from __future__ import annotations

import argparse
import http.client
import os
import shutil
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from bench.article_page import BIN, ROOT, free_port, wait_for, wrk

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SLUG = "palvero-election-recount"
BASELINE_PATH = "/bench-static/article.html"


def write_nginx_config(folder: Path, *, app_port: int, https_port: int, static: Path) -> Path:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    replacements = {
        "listen 80;": f"listen 127.0.0.1:{free_port()};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        "/etc/letsencrypt/live/news.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/news.example.org/privkey.pem": str(key),
        "/var/cache/nginx/membership": str(folder / "cache"),
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/opt/membership/venv/lib/python3.11/site-packages/membership/static/": f"{static}/",
    }
    for old, new in replacements.items():
        if old not in site:
            raise SystemExit(f"deploy/nginx.conf no longer contains {old!r}")
        site = site.replace(old, new)
    # The baseline: the page's bytes as a static file, in the same server and logged like every
    # request outside the shipped /static/ location (which logs nothing), so both sides write the
    # same access log line.
    shipped_static = "    location /static/ {"
    if shipped_static not in site:
        raise SystemExit(f"deploy/nginx.conf no longer contains {shipped_static!r}")
    baseline = (
        f"    location = {BASELINE_PATH} {{\n        alias {static}/article.html;\n    }}\n\n"
    )
    site = site.replace(shipped_static, baseline + shipped_static, 1)
    (folder / "site.conf").write_text(site)
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    conf = folder / "nginx.conf"
    conf.write_text(
        f"""
user root;
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    log_format cache '$upstream_cache_status $status $uri';
    access_log {folder}/access.log cache;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/site.conf;
}}
"""
    )
    return conf


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    context = ssl._create_unverified_context()  # noqa: S323 (our own throwaway certificate)
    connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.headers), response.read()
    finally:
        connection.close()


def wait_for_nginx(port: int, path: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if fetch(port, path)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit("nginx did not answer")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10, help="per side, over all rounds")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()
    for tool in ("wrk", "openssl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} is missing: apt-get install {tool}")

    workdir = Path(tempfile.mkdtemp(prefix="bench-article-nginx-"))
    static = workdir / "static"
    static.mkdir()
    env = {
        **os.environ,
        "APP_ENV": "development",
        "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
        "RATELIMIT_STORAGE_URI": "memory://",
        "PROXY_HOPS": "1",
    }
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True)
    subprocess.run([*flask, "demo", "seed"], cwd=ROOT, env=env, check=True, capture_output=True)

    app_port, https_port = free_port(), free_port()
    conf = write_nginx_config(workdir, app_port=app_port, https_port=https_port, static=static)
    check = subprocess.run([NGINX, "-t", "-c", str(conf)], capture_output=True, text=True)
    if check.returncode != 0:
        raise SystemExit(check.stderr)
    app_log = (workdir / "gunicorn.log").open("wb")
    app = subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{app_port}", "--workers", str(args.workers),
         "--log-level", "warning", "wsgi:app"],
        cwd=ROOT, env=env, stdout=app_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    nginx: subprocess.Popen[bytes] | None = None
    try:
        wait_for(f"http://127.0.0.1:{app_port}/articles/{SLUG}", timeout=90)
        nginx = subprocess.Popen([NGINX, "-c", str(conf)], stderr=subprocess.DEVNULL)
        article_path = f"/articles/{SLUG}"
        try:
            wait_for_nginx(https_port, article_path)
        except SystemExit:
            print((workdir / "error.log").read_text()[-2000:])
            raise
        status, headers, body = fetch(https_port, article_path)
        (static / "article.html").write_bytes(body)
        static_path = BASELINE_PATH
        same = fetch(https_port, static_path)
        if same[2] != body or "text/html" not in same[1].get("Content-Type", ""):
            raise SystemExit("nginx does not serve the same bytes as the article page")
        origin = f"https://127.0.0.1:{https_port}"
        wrk(origin + article_path, 2, args.connections, [])  # warm up both
        wrk(origin + static_path, 2, args.connections, [])
        log = workdir / "access.log"
        log.write_text("")
        subprocess.run(["kill", "-USR1", str(nginx.pid)], check=True)  # reopen the emptied log
        time.sleep(0.5)
        # Alternating slices, each side first in turn, so a load change on a shared machine
        # falls on both sides alike.
        slice_seconds = max(1, args.seconds // args.rounds)
        rounds: list[tuple[float, float]] = []
        for n in range(args.rounds):
            if n % 2 == 0:
                a = wrk(origin + article_path, slice_seconds, args.connections, [])
                b = wrk(origin + static_path, slice_seconds, args.connections, [])
            else:
                b = wrk(origin + static_path, slice_seconds, args.connections, [])
                a = wrk(origin + article_path, slice_seconds, args.connections, [])
            rounds.append((a, b))
        lines = [line.split() for line in log.read_text().splitlines()]
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)
        app.terminate()
        try:
            app.wait(timeout=30)
        except subprocess.TimeoutExpired:
            app.kill()
            app.wait()
        app_log.close()
        shutil.rmtree(workdir, ignore_errors=True)

    served = [line for line in lines if len(line) == 3 and line[2] == article_path]
    hits = sum(1 for line in served if line[0] == "HIT")
    article = sum(a for a, _ in rounds) / len(rounds)
    static_rps = sum(b for _, b in rounds) / len(rounds)
    ratios = sorted(a / b for a, b in rounds)
    print(
        f"page size: {len(body)} bytes, Cache-Control: {headers.get('Cache-Control')}, "
        f"gunicorn workers: {args.workers}, nginx workers: 1, wrk -t2 -c{args.connections}, "
        f"{args.rounds} alternating rounds of {slice_seconds}s per side, over HTTPS"
    )
    print(
        f"article through nginx.conf: {article:10.1f} req/s ({hits} of {len(served)} from the cache)"
    )
    print(f"same bytes, static file:    {static_rps:10.1f} req/s")
    print("ratio per round: " + ", ".join(f"{r:.2f}" for r in ratios))
    print(
        f"ratio: {article / static_rps:.2f}, median round {ratios[len(ratios) // 2]:.2f} (goal >= 0.80)"
    )


if __name__ == "__main__":
    main()
