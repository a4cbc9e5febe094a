"""Signed (id, URL) pairs for links in our emails that redirect (lifecycle links, newsletter link
clicks): only a link we signed redirects, so our domain never sends a reader where a stranger
chose."""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer


def sign_pair(secret_key: str, salt: str, number: int, url: str) -> str:
    return str(URLSafeSerializer(secret_key, salt=salt).dumps([number, url]))


def read_pair(secret_key: str, salt: str, token: str) -> tuple[int, str] | None:
    """(number, web URL) from a token we signed with this salt; None for anything else."""
    try:
        data = URLSafeSerializer(secret_key, salt=salt).loads(token)
    except BadSignature:
        return None
    if not isinstance(data, list) or len(data) != 2:
        return None
    number, url = data
    if not isinstance(number, int) or not isinstance(url, str):
        return None
    if not url.startswith(("https://", "http://")):
        return None
    return number, url
