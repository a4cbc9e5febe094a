"""The only module that talks to Stripe: one client per app, keys and addresses from config."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import stripe

from membership.config import Config
from membership.logs import current_request_id
from membership.payments.events import Event
from membership.payments.objects import (
    CardExpiry,
    CheckoutSession,
    Invoice,
    Page,
    PaymentSummary,
    PortalSession,
    Refund,
    StripeDataError,
    SubscriptionSnapshot,
)

log = logging.getLogger(__name__)

Obj = dict[str, Any]
T = TypeVar("T")


class PaymentProviderError(Exception):
    """Stripe refused, failed or did not answer in time. `message` is fit to show a reader."""

    def __init__(self, message: str, *, detail: str = "", retryable: bool = True) -> None:
        super().__init__(detail or message)
        self.message = message
        self.detail = detail
        self.retryable = retryable


class WebhookSignatureError(Exception):
    """A webhook payload whose signature or timestamp does not verify."""


@dataclass(frozen=True)
class CheckoutRequest:
    idempotency_key: str
    mode: str  # "payment" or "subscription"
    amount_cents: int  # what the card is charged each time, fee included
    currency: str
    product_name: str
    success_url: str
    cancel_url: str
    metadata: Mapping[str, str]
    interval: str | None = None  # "month" or "year" for subscriptions
    customer_email: str | None = None
    # A signed-in supporter's customer: Checkout then makes no new one (and takes no email).
    customer_id: str | None = None
    client_reference_id: str | None = None


def _plain(obj: Any) -> Obj:
    """Stripe objects as plain dicts: the rest of the app never sees the library's types."""
    if isinstance(obj, stripe.StripeObject):
        obj = obj.to_dict()
    # The library turns Stripe's decimal strings into Decimal; keep them as the strings they were.
    result: Obj = json.loads(json.dumps(obj, default=str))
    return result


def _traced(metadata: Mapping[str, str]) -> dict[str, str]:
    """Metadata plus the id of the request (or job run) that made the object, so a Stripe
    dashboard entry leads to our log lines. Not in idempotency keys: those must stay the same
    when another request repeats the call."""
    traced = dict(metadata)
    request_id = current_request_id()
    if request_id:
        traced["request_id"] = request_id
    return traced


class StripeGateway:
    def __init__(self, config: Config) -> None:
        self._config = config
        self._webhook_secret = config.stripe_webhook_secret
        self._client: stripe.StripeClient | None = None
        self._http: stripe.RequestsClient | None = None
        if config.stripe_secret_key:
            self._http = stripe.RequestsClient(timeout=config.stripe_timeout_seconds)
            self._client = stripe.StripeClient(
                config.stripe_secret_key,
                base_addresses={"api": config.stripe_api_base} if config.stripe_api_base else None,
                http_client=self._http,
                max_network_retries=config.stripe_max_network_retries,
            )

    @property
    def configured(self) -> bool:
        return self._client is not None

    def close(self) -> None:
        if self._http is not None:
            self._http.close()  # type: ignore[no-untyped-call]

    def api(self) -> stripe.StripeClient:
        """The client, for the `payments` modules beside this one (account setup)."""
        return self._api()

    def call(
        self, what: str, parse: Callable[[object], T], fn: Any, *args: Any, **kwargs: Any
    ) -> T:
        """`_call` for the `payments` modules beside this one."""
        return self._call(what, parse, fn, *args, **kwargs)

    def paged(
        self, what: str, parse: Callable[[object], T], lister: Any, params: Obj
    ) -> Iterator[T]:
        """`_paged` for the `payments` modules beside this one (account setup, sync listings)."""
        return self._paged(what, parse, lister, params)

    def _api(self) -> stripe.StripeClient:
        if self._client is None:
            raise PaymentProviderError(
                "Online payments are not set up yet. Please try again later.",
                detail="STRIPE_SECRET_KEY is not configured",
                retryable=False,
            )
        return self._client

    def _call(
        self, what: str, parse: Callable[[object], T], fn: Any, *args: Any, **kwargs: Any
    ) -> T:
        """Call Stripe and parse its answer; every failure becomes a `PaymentProviderError`."""
        try:
            answer = _plain(fn(*args, **kwargs))
        except stripe.CardError as error:
            raise PaymentProviderError(
                error.user_message or "Your card was declined.", detail=str(error), retryable=False
            ) from error
        except stripe.InvalidRequestError as error:
            log.error("Stripe refused %s: %s", what, error)
            raise PaymentProviderError(
                "The payment service could not accept this request.",
                detail=str(error),
                retryable=False,
            ) from error
        except stripe.StripeError as error:
            log.warning("Stripe error during %s: %s", what, error)
            raise PaymentProviderError(
                "We couldn't reach our payment provider just now. Nothing was charged; "
                "please try again in a minute.",
                detail=str(error),
            ) from error
        return self._parsed(what, parse, answer)

    @staticmethod
    def _parsed(what: str, parse: Callable[[object], T], answer: object) -> T:
        try:
            return parse(answer)
        except StripeDataError as error:
            log.error("Stripe answered %s with an object we cannot read: %s", what, error)
            raise PaymentProviderError(
                "The payment service sent an answer we could not read.",
                detail=str(error),
                retryable=False,
            ) from error

    # Checkout

    def create_checkout_session(self, request: CheckoutRequest) -> CheckoutSession:
        price_data: Obj = {
            "currency": request.currency,
            "unit_amount": request.amount_cents,
            "product_data": {"name": request.product_name},
        }
        params: Obj = {
            "mode": request.mode,
            "line_items": [{"price_data": price_data, "quantity": 1}],
            "success_url": request.success_url,
            "cancel_url": request.cancel_url,
            "metadata": _traced(request.metadata),
        }
        if request.client_reference_id:
            params["client_reference_id"] = request.client_reference_id
        if request.customer_id:
            params["customer"] = request.customer_id
        elif request.customer_email:
            params["customer_email"] = request.customer_email
        if request.mode == "subscription":
            price_data["recurring"] = {"interval": request.interval or "month"}
            params["subscription_data"] = {"metadata": dict(request.metadata)}
        else:
            params["submit_type"] = "donate"
            params["payment_intent_data"] = {"metadata": dict(request.metadata)}
            if not request.customer_id:
                params["customer_creation"] = "always"
        return self._call(
            "checkout session",
            CheckoutSession.parse,
            self._api().v1.checkout.sessions.create,
            params=params,
            options={"idempotency_key": request.idempotency_key},
        )

    def retrieve_checkout_session(self, session_id: str) -> CheckoutSession:
        return self._call(
            "checkout session",
            CheckoutSession.parse,
            self._api().v1.checkout.sessions.retrieve,
            session_id,
        )

    # Objects webhook handlers may need to look up

    def retrieve_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return self._call(
            "subscription",
            SubscriptionSnapshot.parse,
            self._api().v1.subscriptions.retrieve,
            subscription_id,
        )

    def retrieve_invoice(self, invoice_id: str) -> Invoice:
        return self._call(
            "invoice",
            Invoice.parse,
            self._api().v1.invoices.retrieve,
            invoice_id,
            params={"expand": ["payments"]},
        )

    def retrieve_payment(self, payment_intent_id: str) -> PaymentSummary:
        """A payment intent with its charge expanded: the charge id and when it was made."""
        return self._call(
            "payment intent",
            PaymentSummary.parse,
            self._api().v1.payment_intents.retrieve,
            payment_intent_id,
            params={"expand": ["latest_charge"]},
        )

    def list_refunds(self, charge_id: str) -> list[Refund]:
        """Every refund of a charge in its current status: what the refunded total is made of."""
        return list(
            self._paged("refunds", Refund.parse, self._api().v1.refunds.list, {"charge": charge_id})
        )

    def create_refund(self, *, payment_intent: str, amount_cents: int | None, key: str) -> Refund:
        # No request id in the metadata: a double submit of the same page is a second request
        # with the same key, and Stripe refuses a key reused with different parameters.
        params: Obj = {"payment_intent": payment_intent}
        if amount_cents is not None:
            params["amount"] = amount_cents
        return self._call(
            "refund",
            Refund.parse,
            self._api().v1.refunds.create,
            params=params,
            options={"idempotency_key": key},
        )

    # Supporters managing their recurring gift: every change goes to Stripe first; our rows
    # follow from the customer.subscription.* webhooks.

    def pause_subscription(self, subscription_id: str, *, resumes_at: int) -> SubscriptionSnapshot:
        """Skip payments until `resumes_at` (a Unix time): invoices in between are voided."""
        return self._update_subscription(
            "subscription pause",
            subscription_id,
            {"pause_collection": {"behavior": "void", "resumes_at": resumes_at}},
        )

    def resume_subscription(self, subscription_id: str) -> SubscriptionSnapshot:
        return self._update_subscription(
            "subscription resume", subscription_id, {"pause_collection": ""}
        )

    def set_cancel_at_period_end(self, subscription_id: str, cancel: bool) -> SubscriptionSnapshot:
        return self._update_subscription(
            "subscription cancel at period end",
            subscription_id,
            {"cancel_at_period_end": cancel},
        )

    def _update_subscription(
        self, what: str, subscription_id: str, params: Obj
    ) -> SubscriptionSnapshot:
        return self._call(
            what,
            SubscriptionSnapshot.parse,
            self._api().v1.subscriptions.update,
            subscription_id,
            params=params,
        )

    def cancel_subscription_now(self, subscription_id: str) -> SubscriptionSnapshot:
        return self._call(
            "subscription cancel",
            SubscriptionSnapshot.parse,
            self._api().v1.subscriptions.cancel,
            subscription_id,
        )

    def create_billing_portal_session(
        self, customer_id: str, *, return_url: str, flow: str | None = None
    ) -> PortalSession:
        """Stripe's hosted page where the supporter changes their card; with `flow` (such as
        "payment_method_update") the portal opens straight on that task."""
        params: Obj = {"customer": customer_id, "return_url": return_url}
        if flow is not None:
            params["flow_data"] = {"type": flow}
        if self._config.stripe_portal_configuration:
            # Stripe refuses a session without one (or a default saved in the Dashboard).
            params["configuration"] = self._config.stripe_portal_configuration
        return self._call(
            "billing portal session",
            PortalSession.parse,
            self._api().v1.billing_portal.sessions.create,
            params=params,
        )

    def card_expiry(self, subscription_id: str) -> CardExpiry:
        """When the card that pays a subscription expires (the card-expiring email)."""
        return self._call(
            "subscription card",
            CardExpiry.parse,
            self._api().v1.subscriptions.retrieve,
            subscription_id,
            params={
                "expand": [
                    "default_payment_method",
                    "customer.invoice_settings.default_payment_method",
                ]
            },
        )

    # Listing, page by page: paced below Stripe's test-mode limit of 25 requests a second.

    def _paged(
        self, what: str, parse: Callable[[object], T], lister: Any, params: Obj
    ) -> Iterator[T]:
        starting_after: str | None = None
        while True:
            page_params = dict(params, limit=100)
            if starting_after:
                page_params["starting_after"] = starting_after
            page = self._call(what, Page.parse, lister, params=page_params)
            for item in page.items:
                yield self._parsed(what, parse, item)
            if not page.has_more or page.last_id is None:
                return
            starting_after = page.last_id
            time.sleep(0.05)

    # Webhooks

    def verify_webhook(self, payload: bytes, signature_header: str) -> Event:
        """The event, if and only if the raw payload carries a valid, fresh signature."""
        if not self._webhook_secret:
            raise WebhookSignatureError("STRIPE_WEBHOOK_SECRET is not configured")
        try:
            stripe.WebhookSignature.verify_header(
                payload.decode("utf-8"), signature_header, self._webhook_secret, tolerance=300
            )
            return Event.parse(json.loads(payload))
        except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as error:
            raise WebhookSignatureError(str(error)) from error
