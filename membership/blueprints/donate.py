"""The donation form a banner leads to."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, render_template, request
from sqlalchemy import select

from membership.blueprints import app_config
from membership.extensions import db
from membership.models import Article, Frequency
from membership.services.banner import control_variant, count_banner_event, variant_exists

bp = Blueprint("donate", __name__)


@bp.get("/support")
def support() -> str:
    config = app_config()
    variant_id = request.args.get("variant", type=int)
    source = request.args.get("source", default="", type=str)[:120]
    article_id = db.session().scalar(select(Article.id).where(Article.slug == source))
    if variant_id is not None and variant_exists(db.session(), variant_id):
        count_banner_event(
            db.session(),
            day=datetime.now(config.zone).date(),
            variant_id=variant_id,
            article_id=article_id,
            clicks=1,
        )
        db.session().commit()
    try:
        frequency = Frequency(request.args.get("frequency", "once"))
    except ValueError:
        frequency = Frequency.ONCE
    amount = request.args.get("amount", type=int)
    banner = control_variant(db.session())
    presets = banner.amounts_for(frequency.value) if banner else list(config.default_amounts)
    return render_template(
        "donate/support.html",
        amount=amount,
        frequency=frequency,
        presets=presets or list(config.default_amounts),
        source=source,
        variant_id=variant_id,
    )
