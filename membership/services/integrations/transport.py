"""Posting a webhook safely: HTTPS in production, no private, loopback or link-local targets
(SSRF), the connection pinned to the address we checked, no redirects, 1 KB of the answer kept."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_RESPONSE_BYTES = 1024
TIMEOUT_SECONDS = 10.0


class UnsafeUrl(ValueError):
    """The URL may not receive webhooks; the message says why."""


class DeliveryFailed(Exception):
    """The receiver could not be reached (no answer, refused, TLS error)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked IP the connection is pinned to


@dataclass(frozen=True)
class Answer:
    status: int
    body: str  # at most MAX_RESPONSE_BYTES of it


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def check_url(
    url: str, *, allow_private: bool, require_https: bool, resolve: bool = True
) -> Target:
    """The URL's parts and a safe address to reach it at, or UnsafeUrl."""
    if len(url) > 2000:
        raise UnsafeUrl("That URL is too long (2000 characters at most).")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeUrl("That is not a URL we can read.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise UnsafeUrl("Give a full http:// or https:// URL.")
    if require_https and parts.scheme != "https":
        raise UnsafeUrl("Webhook URLs must use HTTPS.")
    if parts.username or parts.password:
        raise UnsafeUrl("Put no user name or password in the URL; receivers check our signature.")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not resolve:
        return Target(parts.scheme, host, port, path, "")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeUrl(f"The host {host} does not resolve.") from None
    addresses = [str(info[4][0]) for info in infos]
    if not allow_private:
        refused = [address for address in addresses if not _is_public(address)]
        if refused:
            raise UnsafeUrl(
                f"{host} resolves to a private, loopback or link-local address ({refused[0]}); "
                "webhooks only go to public addresses."
            )
    return Target(parts.scheme, host, port, path, addresses[0])


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address
        self._tls = ssl.create_default_context()

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


def post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    *,
    allow_private: bool,
    require_https: bool,
    timeout: float = TIMEOUT_SECONDS,
) -> Answer:
    """POST once; UnsafeUrl or DeliveryFailed when there is no HTTP answer to record."""
    target = check_url(url, allow_private=allow_private, require_https=require_https)
    connection: http.client.HTTPConnection = (
        _PinnedHTTPSConnection(target, timeout)
        if target.scheme == "https"
        else _PinnedHTTPConnection(target, timeout)
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read(MAX_RESPONSE_BYTES)
        return Answer(response.status, data.decode("utf-8", "replace"))
    except (OSError, http.client.HTTPException) as error:
        raise DeliveryFailed(f"{type(error).__name__}: {error}"[:500]) from None
    finally:
        connection.close()
