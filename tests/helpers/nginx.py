"""The shipped deploy/nginx.conf run by Debian's nginx on loopback ports, with a throwaway
certificate, and an HTTPS client that speaks from a chosen loopback address (127.0.0.2, ...)."""

from __future__ import annotations

import http.client
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from helpers.live_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIPPED_SITE = PROJECT_ROOT / "deploy" / "nginx.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
            "-keyout", str(key), "-out", str(cert),
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


class Nginx:
    """deploy/nginx.conf with only its addresses and paths replaced, inside a minimal main config
    (`daemon off`, pid, logs and temp paths in a temporary folder)."""

    def __init__(self, folder: Path, *, upstream: str, static_folder: str) -> None:
        self.folder = folder
        self.http_port = free_port()
        self.https_port = free_port()
        cert, key = make_certificate(folder)
        site = SHIPPED_SITE.read_text()
        replacements = {
            "listen 80;": f"listen 127.0.0.1:{self.http_port};",
            "listen 443 ssl;": f"listen 127.0.0.1:{self.https_port} ssl;",
            "/etc/letsencrypt/live/news.example.org/fullchain.pem": str(cert),
            "/etc/letsencrypt/live/news.example.org/privkey.pem": str(key),
            "/var/cache/nginx/membership": str(folder / "cache"),
            "server 127.0.0.1:8000;": f"server {upstream};",
            "/opt/membership/venv/lib/python3.11/site-packages/membership/static/": (
                static_folder.rstrip("/") + "/"
            ),
        }
        for old, new in replacements.items():
            assert old in site, f"deploy/nginx.conf no longer contains {old!r}"
            site = site.replace(old, new)
        (folder / "site.conf").write_text(site)
        temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
        for path in temp.values():
            path.mkdir()
        (folder / "nginx.conf").write_text(
            f"""
user root;
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 128; }}
http {{
    include /etc/nginx/mime.types;
    access_log {folder}/access.log;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {folder}/site.conf;
}}
"""
        )
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Nginx:
        conf = str(self.folder / "nginx.conf")
        check = subprocess.run([NGINX, "-t", "-c", conf], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen([NGINX, "-c", conf], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError("nginx did not start: " + self.error_log())

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)

    def error_log(self) -> str:
        path = self.folder / "error.log"
        return path.read_text() if path.exists() else ""

    @property
    def origin(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Reader:
    """A browser-like HTTPS client on one source address: keeps cookies, sends Referer/Origin."""

    nginx: Nginx
    source_ip: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        body: bytes | None = None,
    ) -> Answer:
        context = ssl.create_default_context(cafile=str(self.nginx.folder / "cert.pem"))
        connection = http.client.HTTPSConnection(
            "127.0.0.1",
            self.nginx.https_port,
            context=context,
            source_address=(self.source_ip, 0),
            timeout=60,
        )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        if method == "POST":
            sent.setdefault("Origin", self.nginx.origin)
            sent.setdefault("Referer", self.nginx.origin + path)
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for header in answer.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(header)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        return answer

    def get(self, path: str, **kwargs: object) -> Answer:
        return self.request("GET", path, **kwargs)  # type: ignore[arg-type]

    def post(self, path: str, **kwargs: object) -> Answer:
        return self.request("POST", path, **kwargs)  # type: ignore[arg-type]
