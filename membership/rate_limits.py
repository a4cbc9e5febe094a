"""Forms whose limits must hold fail closed: no rate-limit storage, no request.

The limiter swallows storage errors, so reading pages (and the banner API) never depend on Redis.
A view wrapped in `limits_must_hold` checks that the limiter did count this request; when the
storage failed it answers 503 before the view runs, so card testers and mail bombers get no
unlimited tries while Redis is down.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import request
from werkzeug.exceptions import ServiceUnavailable

from membership.extensions import limiter

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

STORAGE_DOWN_MESSAGE = (
    "We can't take this request right now: a part of our site that protects this form is "
    "unavailable. Nothing was sent or saved. Please try again in a few minutes."
)


class RateLimitStorageUnavailable(ServiceUnavailable):
    description = STORAGE_DOWN_MESSAGE


def limits_must_hold(view: F) -> F:
    """Answer 503 to a POST whose rate limits could not be counted (place it under the limits)."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and limiter.enabled and not limiter.current_limits:
            log.error("rate-limit storage unavailable: refused %s %s", request.method, request.path)
            raise RateLimitStorageUnavailable()
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
