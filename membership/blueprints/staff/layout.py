"""What staff pages share: the layout's context, the report range, the confirm-button check, the
end of a POST, CSV downloads."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from werkzeug.wrappers import Response as BaseResponse

from membership.auth import signed_in_staff, staff_may
from membership.blueprints import app_config
from membership.extensions import db
from membership.forms import ConfirmForm
from membership.forms.staff import ReportForm
from membership.models import StaffRole, utcnow

EDITOR, FINANCE, ADMIN = StaffRole.EDITOR, StaffRole.FINANCE, StaffRole.ADMIN
RangeForm = TypeVar("RangeForm", bound=ReportForm)


def staff_context() -> dict[str, Any]:
    """For the staff layout: who is signed in, and `may(...)` to show only the links they may open."""
    member = signed_in_staff()

    def may(*roles: StaffRole) -> bool:
        return member is not None and staff_may(member, roles)

    return {
        "staff_member": member,
        "may": may,
        "EDITOR": EDITOR,
        "FINANCE": FINANCE,
        "ADMIN": ADMIN,
    }


def local_today() -> date:
    """Today in the newsroom's time zone: the default end of a report's range."""
    return utcnow().astimezone(app_config().zone).date()


def requested_range(form_class: type[RangeForm]) -> RangeForm:
    """The report range asked for in the query string (not validated yet)."""
    return form_class.from_query(request.args, local_today())


def cross_site_request() -> bool:
    """Whether a link on another site (or a sibling subdomain) started this request: browsers say
    so in Sec-Fetch-Site; older ones give away the Referer's origin."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site not in ("same-origin", "none")
    referer = request.headers.get("Referer")
    if not referer:
        return False
    parts = urlsplit(referer)
    return f"{parts.scheme}://{parts.netloc}/" != request.host_url


def opened_from_this_site(view: Callable[..., ResponseReturnValue]) -> Callable[..., Any]:
    """For pages showing personal data, whose every view is audited: opened from a link on
    another site, they show a button instead (no data, no audit entry), so nobody can make staff
    write audit entries, or load personal data into a page, from elsewhere."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> ResponseReturnValue:
        if cross_site_request():
            return render_template(
                "staff/open_from_elsewhere.html", url=request.full_path.rstrip("?")
            )
        return view(*args, **kwargs)

    return wrapper


def require_confirmation() -> None:
    """A POST made with a one-button form (`ConfirmForm`): refuse it when its token expired."""
    if not ConfirmForm().validate():
        abort(400, "The form expired; reload the page and try again.")


def csv_download(chunks: Iterator[str], filename: str) -> Response:
    """Stream CSV text, computed from this request's database session, as a file download.

    The chunks are read after the view returned, inside a context pushed again for the stream,
    where `db.session` may name another session: the request's own is captured here and closed
    after the last chunk (also when the download is cut short), so its connection is released."""
    session = db.session()

    def body() -> Iterator[str]:
        try:
            yield from chunks
        finally:
            session.close()

    return Response(
        stream_with_context(body()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def commit_and_redirect(endpoint: str, *, notice: str = "", **values: Any) -> BaseResponse:
    """The end of a staff POST that changed something: commit the request's one transaction, say
    what was done, and send the browser on (303, so a reload does not post again)."""
    db.session().commit()
    if notice:
        flash(notice)
    return redirect(url_for(endpoint, **values), code=303)
