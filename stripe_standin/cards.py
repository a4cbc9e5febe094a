"""Stripe's test cards and what is made from them: payment methods, setup intents (saved cards)."""

from __future__ import annotations

from datetime import UTC, datetime

from stripe_standin import customers
from stripe_standin.errors import TRY_ANOTHER_CARD, CardDeclined, StripeError
from stripe_standin.ids import new_id
from stripe_standin.store import JSON, Store

# Test cards: form value -> (last4, succeeds)
CARDS: dict[str, tuple[str, bool]] = {
    "success": ("4242", True),
    "4242": ("4242", True),
    "4242424242424242": ("4242", True),
    "decline": ("0002", False),
    "0002": ("0002", False),
    "4000000000000002": ("0002", False),
}
# Stripe's test cards whose charge succeeds and then behaves: what happens, by last4.
REFUND_FAILS = "5126"  # 4000000000005126: a refund of the charge fails
DISPUTE_FRAUDULENT = "0259"  # 4000000000000259: the charge is disputed as fraudulent
DISPUTE_INQUIRY = "1976"  # 4000000000001976: the bank opens an inquiry
BEHAVING_CARDS = {
    "4000000000005126": REFUND_FAILS,
    "4000000000000259": DISPUTE_FRAUDULENT,
    "4000000000001976": DISPUTE_INQUIRY,
}
for _number, _last4 in BEHAVING_CARDS.items():
    CARDS[_number] = CARDS[_last4] = (_last4, True)
# What the simulated checkout page offers: (form value, label).
CARD_CHOICES = (
    ("success", "Visa ending 4242 (succeeds)"),
    ("decline", "Visa ending 0002 (declined)"),
    ("4000000000005126", "Visa ending 5126 (succeeds; a refund of it fails)"),
    ("4000000000000259", "Visa ending 0259 (succeeds; then disputed as fraudulent)"),
    ("4000000000001976", "Visa ending 1976 (succeeds; then the bank opens an inquiry)"),
)


def lookup(card: str) -> tuple[str, bool]:
    """A test card as typed on a page or sent to an admin endpoint -> (last4, succeeds)."""
    key = (card or "success").strip().replace(" ", "").lower()
    if key not in CARDS:
        raise StripeError(f"Unknown test card: {card!r}", param="card")
    return CARDS[key]


def billing_details(email: str | None) -> JSON:
    """A card's billing details as the simulated pages collect them: the email only."""
    return {
        "address": customers.empty_address(),
        "email": email,
        "name": None,
        "phone": None,
        "tax_id": None,
    }


def create_payment_method(store: Store, card: str, customer: str | None, email: str | None) -> JSON:
    last4, _ok = lookup(card)
    pm = store.base("payment_method", "pm", metadata={})
    year = datetime.now(UTC).year + 3
    pm.update(
        {
            "allow_redisplay": "unspecified",
            "billing_details": billing_details(email),
            "card": {
                "brand": "visa",
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "display_brand": "visa",
                "exp_month": 12,
                "exp_year": year,
                "fingerprint": f"standin{last4}",
                "funding": "credit",
                "last4": last4,
                "networks": {"available": ["visa"], "preferred": None},
                "wallet": None,
            },
            "customer": customer,
            "type": "card",
        }
    )
    return store.add(pm)


def last4_of(store: Store, pm_id: str | None) -> str | None:
    pm = store.objects.get(pm_id or "")
    return str(pm["card"]["last4"]) if pm else None


def pm_succeeds(store: Store, pm_id: str | None) -> bool:
    """Whether charging this payment method succeeds (False for the declining test card)."""
    pm = store.objects.get(pm_id or "")
    return bool(pm and pm["card"]["last4"] != "0002")


def save_card(
    store: Store, customer: JSON, card: str, email: str | None, metadata: JSON
) -> tuple[JSON, JSON]:
    """Make the card the customer's default (setup mode, portal); returns (pm, setup intent)."""
    _last4, succeeds = lookup(card)
    if not succeeds:
        raise CardDeclined(TRY_ANOTHER_CARD)
    pm = create_payment_method(store, card, customer["id"], email or customer["email"])
    seti = store.base("setup_intent", "seti", metadata=dict(metadata))
    seti.update(
        {
            "application": None,
            "automatic_payment_methods": None,
            "cancellation_reason": None,
            "client_secret": f"{seti['id']}_secret_{new_id('x')[2:]}",
            "customer": customer["id"],
            "description": None,
            "last_setup_error": None,
            "latest_attempt": None,
            "mandate": None,
            "next_action": None,
            "on_behalf_of": None,
            "payment_method": pm["id"],
            "payment_method_types": ["card"],
            "single_use_mandate": None,
            "status": "succeeded",
            "usage": "off_session",
        }
    )
    store.add(seti)
    store.emit("setup_intent.succeeded", seti)
    store.emit("payment_method.attached", pm)
    customers.update(store, customer, {"invoice_settings": {"default_payment_method": pm["id"]}})
    return pm, seti
