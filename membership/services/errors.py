"""Failures services report to their callers, each with a message fit to show a person."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from membership.payments.gateway import PaymentProviderError


class ServiceError(Exception):
    """A domain failure a view turns into a page; `message` is written for the reader."""

    def __init__(self, message: str, *, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message = message
        self.detail = detail


class PaymentUnavailable(ServiceError):
    """The payment provider refused, failed or did not answer in time. Services raise it (from
    the gateway's error) so views never import the payments layer; `retryable` says whether
    trying again later may work."""

    def __init__(self, message: str, *, detail: str = "", retryable: bool = True) -> None:
        super().__init__(message, detail=detail)
        self.retryable = retryable


@contextmanager
def payment_provider_calls() -> Iterator[None]:
    """Around calls to the gateway: its `PaymentProviderError` leaves as `PaymentUnavailable`."""
    try:
        yield
    except PaymentProviderError as error:
        raise PaymentUnavailable(
            error.message, detail=error.detail, retryable=error.retryable
        ) from error
