"""Stripe-shaped API errors."""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An error answered as ``{"error": {...}}`` with an HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str = "invalid_request_error",  # noqa: A002 - Stripe's field name
        param: str | None = None,
        code: str | None = None,
        decline_code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.param = param
        self.code = code
        self.decline_code = decline_code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.param is not None:
            error["param"] = self.param
        if self.code is not None:
            error["code"] = self.code
        if self.decline_code is not None:
            error["decline_code"] = self.decline_code
        return {"error": error}


# What the simulated pages (and the admin pay endpoint) say when a test card is declined.
TRY_ANOTHER_CARD = "Your card was declined. Try another card."


class CardDeclined(StripeError):
    """The simulated card was declined (HTTP 402)."""

    def __init__(self, message: str = "Your card was declined.") -> None:
        super().__init__(
            message,
            status=402,
            type="card_error",
            code="card_declined",
            decline_code="generic_decline",
        )


def not_found(label: str, object_id: str, param: str = "id") -> StripeError:
    return StripeError(
        f"No such {label}: '{object_id}'", status=404, param=param, code="resource_missing"
    )
