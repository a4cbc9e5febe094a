"""Who is signed in, and who may open what: Flask-Login's loader, starting and ending a signed-in
session, the supporter gate and the staff role checks.

One sign-in page serves supporters and staff. User ids say which kind of account they are and
which sign-in epoch they belong to: "supporter:<id>:<epoch>" or "staff:<id>:<epoch>". Raising an
account's `login_epoch` ("sign out everywhere") makes every older session id stop loading. An id
without the epoch part counts as epoch 0.

Every signed-in browser also holds a server-side session id (`services.account_sessions`), checked
on every request: signing out revokes it, so a copy of the cookie stops working too, and staff
sessions end when idle or old. Staff cookies last as long as the browser (so Flask-Login's
"strong" protection refuses them from another address or browser); supporters' for 31 days.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_user, logout_user
from sqlalchemy.exc import OperationalError
from werkzeug.wrappers import Response

from membership.config import Config
from membership.extensions import db, login_manager
from membership.models import StaffMember, StaffRole, Supporter, utcnow
from membership.models.base import LoginMixin
from membership.services import account_sessions

F = TypeVar("F", bound=Callable[..., Any])
logger = logging.getLogger(__name__)


def load_user(user_id: str) -> LoginMixin | None:
    kind, _, rest = user_id.partition(":")
    raw_id, _, raw_epoch = rest.partition(":")
    raw_epoch = raw_epoch or "0"
    if not (raw_id.isdigit() and raw_epoch.isdigit()) or len(rest) > 40:
        return None
    epoch = int(raw_epoch)
    account: StaffMember | Supporter | None
    if kind == "staff":
        account = db.session().get(StaffMember, int(raw_id))
    elif kind == "supporter":
        account = db.session().get(Supporter, int(raw_id))
    else:
        return None
    if account is None or not account.active or (account.login_epoch or 0) != epoch:
        return None
    return account if _session_is_live(account) else None


SESSION_ID_KEY = "_sid"


def _config() -> Config:
    config = current_app.config["MEMBERSHIP"]
    assert isinstance(config, Config)  # noqa: S101 (create_app put it there)
    return config


def _session_is_live(account: StaffMember | Supporter) -> bool:
    """This browser's server-side session exists, is this account's, and has not ended."""
    token = session.get(SESSION_ID_KEY)
    if not isinstance(token, str):
        return False
    now = utcnow()
    row = account_sessions.live_session(db.session(), token, account, config=_config(), now=now)
    if row is None:
        return False
    if account_sessions.needs_touch(row, now):
        try:
            with db.engine.begin() as connection:
                account_sessions.touch(connection, row.id, now)
        except OperationalError:  # a busy database: the next request records the activity
            logger.warning("could not record activity of session %s", row.id)
    return True


login_manager.user_loader(load_user)


def signed_in_staff() -> StaffMember | None:
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, StaffMember) and user.is_authenticated else None


def signed_in_supporter() -> Supporter | None:
    user = current_user._get_current_object() if current_user else None
    return user if isinstance(user, Supporter) and user.is_authenticated else None


def start_session(account: StaffMember | Supporter) -> None:
    """A fresh session for the signed-in account: nothing from before survives (rotation). The
    caller has committed the sign-in; the session row is committed here."""
    session.clear()
    token = account_sessions.open_session(db.session(), account, config=_config(), now=utcnow())
    db.session().commit()
    login_user(account)
    session[SESSION_ID_KEY] = token
    session.permanent = isinstance(account, Supporter)


def end_session() -> None:
    """Sign out this browser: its server-side session is revoked (wherever copies of the cookie
    are), and everything its cookie held is forgotten."""
    token = session.get(SESSION_ID_KEY)
    if isinstance(token, str):
        account_sessions.revoke_session(db.session(), token, utcnow())
        db.session().commit()
    logout_user()
    session.clear()


def supporter_required(view: Callable[..., ResponseReturnValue]) -> Callable[..., Any]:
    """Supporters only, handed to the view as its first argument; others go to sign in, and staff
    get a page saying why not."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        supporter = signed_in_supporter()
        if supporter is None:
            if signed_in_staff() is not None:
                abort(
                    403,
                    description="You're signed in with a staff account; supporter pages "
                    "belong to supporters. Sign out first to use a supporter account.",
                )
            return redirect(url_for("sign_in.start", next=request.full_path.rstrip("?")))
        return view(supporter, *args, **kwargs)

    return wrapper


def staff_may(member: StaffMember, roles: tuple[StaffRole, ...]) -> bool:
    """Admins may do everything; others only what their role is listed for."""
    return member.role is StaffRole.ADMIN or member.role in roles


def refuse_unless_staff(roles: tuple[StaffRole, ...]) -> Response | None:
    """None when the signed-in person may open a staff page opened to `roles` (admins: any page
    opened to someone). Otherwise anonymous visitors are sent to sign in, and signed-in people
    without the role get a 403 page. An empty `roles` opens the page to nobody."""
    member = signed_in_staff()
    if member is None:
        if current_user.is_authenticated:
            abort(403)
        return redirect(url_for("sign_in.start", next=request.full_path.rstrip("?")))
    if not roles or not staff_may(member, roles):
        abort(403)
    return None


def staff_required(*roles: StaffRole) -> Callable[[F], F]:
    """Open a staff view to staff with one of these roles (and admins), and say so: the staff
    area's gate reads `staff_roles` and refuses every view that does not declare any."""

    def decorator(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            refusal = refuse_unless_staff(roles)
            if refusal is not None:
                return refusal
            return view(*args, **kwargs)

        wrapper.staff_roles = roles  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorator


def declared_staff_roles(view: Callable[..., Any] | None) -> tuple[StaffRole, ...]:
    """The roles a view was opened to with `staff_required`; none for any other view."""
    roles: tuple[StaffRole, ...] = getattr(view, "staff_roles", ())
    return roles
