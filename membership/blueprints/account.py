"""Supporter accounts (placeholder until the accounts work lands: the sign-in page's address)."""

from __future__ import annotations

from flask import Blueprint, render_template

bp = Blueprint("account", __name__)


@bp.get("/account/sign-in")
def sign_in() -> str:
    return render_template(
        "errors/error.html",
        status=503,
        title="Sign-in is not open yet",
        message="Supporter accounts are on their way.",
    )
