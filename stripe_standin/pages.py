"""The simulated hosted pages a browser opens: checkout, customer portal, invoice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, Response, abort, render_template_string, request

from stripe_standin import cards, checkout, invoices, renewals, subscriptions
from stripe_standin.errors import TRY_ANOTHER_CARD, CardDeclined, StripeError
from stripe_standin.money import format_amount
from stripe_standin.store import JSON, Store

_BASE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} (simulated)</title>
<style>
 body { font-family: system-ui, sans-serif; max-width: 34rem; margin: 2rem auto; padding: 0 1rem;
        line-height: 1.5; color: #1a1a1a; }
 .banner { background: #fff3cd; border: 2px solid #8a6d00; padding: .75rem 1rem;
           font-weight: bold; }
 .error { background: #fde2e1; border: 2px solid #a4000f; padding: .75rem 1rem; }
 .notice { background: #e3f4e1; border: 2px solid #1b6b13; padding: .75rem 1rem; }
 fieldset { border: 1px solid #888; margin: 1rem 0; }
 label { display: block; margin: .25rem 0; }
 input[type=email] { width: 100%; padding: .4rem; font-size: 1rem; }
 button { font-size: 1.05rem; padding: .5rem 1.5rem; }
 :focus { outline: 3px solid #1a5fb4; outline-offset: 2px; }
</style>
</head>
<body>
<p class="banner" role="note">{{ banner }}</p>
<main>
<h1>{{ title }}</h1>
{% if error %}<p class="error" role="alert" id="error">{{ error }}</p>{% endif %}
{% if notice %}<p class="notice" role="status">{{ notice }}</p>{% endif %}
__BODY__
</main>
</body>
</html>
"""

# Stripe's test cards, as radio buttons (static text: the labels are ours).
_CARD_CHOICE = (
    "\n<fieldset>\n  <legend>Test card</legend>\n"
    + "".join(
        f'  <label><input type="radio" name="card" value="{value}"'
        f"{' checked' if n == 0 else ''}>\n    {label}</label>\n"
        for n, (value, label) in enumerate(cards.CARD_CHOICES)
    )
    + "</fieldset>\n"
)

_CHECKOUT = (
    """
{% if session.status == "complete" %}
  <p>This checkout session is complete. Nothing more to pay.</p>
  <p><a href="{{ success_url }}">Continue</a></p>
{% elif session.status == "expired" %}
  <p>This checkout session has expired. Start again from the site.</p>
  <p><a href="{{ session.cancel_url }}">Back to the site</a></p>
{% else %}
  {% if session.mode == "setup" %}
    <p>Save a new card for future payments. You will not be charged now.</p>
  {% else %}
    <dl>
      <dt>{{ "Items" if summary.names|length > 1 else "Item" }}</dt>
      <dd>{{ summary.names|join(", ") }}</dd>
      <dt>Amount</dt>
      <dd id="amount">{{ summary.amount }}{% if summary.interval %} per {{ summary.interval }}
        ({{ "monthly" if summary.interval == "month" else "yearly" }}){% else %}
        (one time){% endif %}</dd>
    </dl>
  {% endif %}
  <form method="post" action="{{ pay_url }}">
    <label for="email">Email{% if email_required %} (required){% endif %}</label>
    <input type="email" id="email" name="email" value="{{ email }}" autocomplete="email"
      {% if email_required %}required{% endif %}>
"""
    + _CARD_CHOICE
    + """
    <button type="submit">{{ "Save card" if session.mode == "setup" else "Pay" }}</button>
  </form>
  <p><a href="{{ session.cancel_url }}">Cancel and go back</a></p>
{% endif %}
"""
)

_PORTAL = (
    """
<p>Customer: {{ customer.email or customer.id }}</p>
{% if subscriptions %}
<h2>Subscriptions</h2>
<ul>
{% for sub in subscriptions %}
  <li>{{ sub.amount }} per {{ sub.interval }}: {{ sub.status }}
    {% if sub.cancel_at_period_end %}(ends at period end){% endif %}</li>
{% endfor %}
</ul>
{% endif %}
<h2>Payment method</h2>
<p>Current card: {{ current_card or "none on file" }}</p>
<form method="post" action="{{ card_url }}">
"""
    + _CARD_CHOICE
    + """
  <button type="submit">Update card</button>
</form>
{% if return_url %}<p><a href="{{ return_url }}">Return to the site</a></p>{% endif %}
"""
)

_INVOICE = (
    """
<dl>
  <dt>Invoice</dt><dd>{{ invoice.number or invoice.id }}</dd>
  <dt>Amount due</dt><dd>{{ amount }}</dd>
  <dt>Status</dt><dd id="status">{{ invoice.status }}</dd>
</dl>
{% if invoice.status == "open" %}
<form method="post" action="{{ pay_url }}">
"""
    + _CARD_CHOICE
    + """
  <button type="submit">Pay invoice</button>
</form>
{% endif %}
"""
)


def _page(title: str, banner: str, body_template: str, **context: Any) -> str:
    template = _BASE.replace("__BODY__", body_template)
    context.setdefault("error", None)
    context.setdefault("notice", None)
    return render_template_string(template, title=title, banner=banner, **context)


def checkout_page(**context: Any) -> str:
    title = "Save a new card" if context["session"]["mode"] == "setup" else "Checkout"
    return _page(title, "Simulated checkout: no real money", _CHECKOUT, **context)


def portal_page(**context: Any) -> str:
    return _page(
        "Manage your membership",
        "Simulated customer portal: no real money",
        _PORTAL,
        **context,
    )


def invoice_page(**context: Any) -> str:
    return _page("Invoice", "Simulated invoice page: no real money", _INVOICE, **context)


def _failed_status(exc: StripeError) -> int:
    """A declined card answers 402 (its message says so); any other refusal 400."""
    return 402 if isinstance(exc, CardDeclined) else 400


# A hosted page's first path segment -> the object it shows and what a 404 calls it.
_PAGES = {
    "checkout": ("checkout.session", "checkout session"),
    "portal": ("billing_portal.session", "portal session"),
    "invoice": ("invoice", "invoice"),
}


def register(app: Flask, store: Store) -> None:
    """Serve ``/checkout/<id>``, ``/portal/<id>`` and ``/invoice/<id>`` from ``store``."""

    def html(text: str, status: int = 200) -> Response:
        return Response(text, status, mimetype="text/html")

    def find(page: str, object_id: str) -> JSON:
        """The object a page shows, or a simulated 404 page; call with the lock held."""
        kind, label = _PAGES[page]
        obj = store.objects.get(object_id)
        if not obj or obj["object"] != kind:
            abort(
                html(
                    f"<!doctype html><title>Not found</title><p>Simulated page: no such {label}.</p>",
                    404,
                )
            )
        return obj

    def render_checkout(
        session: JSON, status: int = 200, error: str | None = None, email: str | None = None
    ) -> Response:
        summary = checkout.summary(store, session)
        customer_email = None
        if session["customer"]:
            customer_email = store.objects[session["customer"]]["email"]
        prefill = email or session["customer_email"] or customer_email or ""
        success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        text = checkout_page(
            session=session,
            summary=summary,
            error=error,
            email=prefill,
            email_required=not (session["customer_email"] or session["customer"]),
            pay_url=f"/checkout/{session['id']}/pay",
            success_url=success_url,
        )
        return html(text, status)

    def render_portal(
        portal: JSON, status: int = 200, error: str | None = None, notice: str | None = None
    ) -> Response:
        customer = store.objects[portal["customer"]]
        subs = []
        for sub in store.all("subscription"):
            if sub["customer"] != customer["id"]:
                continue
            price = subscriptions.first_item(sub)["price"]
            subs.append(
                {
                    "amount": format_amount(price["unit_amount"], price["currency"]),
                    "interval": price["recurring"]["interval"],
                    "status": sub["status"],
                    "cancel_at_period_end": sub["cancel_at_period_end"],
                }
            )
        pm_id = customer["invoice_settings"]["default_payment_method"]
        current = None
        if pm_id and pm_id in store.objects:
            current = f"Visa ending {store.objects[pm_id]['card']['last4']}"
        text = portal_page(
            customer=customer,
            subscriptions=subs,
            current_card=current,
            card_url=f"/portal/{portal['id']}/card",
            return_url=portal["return_url"],
            error=error,
            notice=notice,
        )
        return html(text, status)

    def render_invoice(invoice: JSON, status: int = 200, error: str | None = None) -> Response:
        text = invoice_page(
            invoice=invoice,
            amount=format_amount(invoice["amount_due"], invoice["currency"]),
            pay_url=f"/invoice/{invoice['id']}/pay",
            error=error,
            notice="Paid. Thank you." if invoice["status"] == "paid" else None,
        )
        return html(text, status)

    renderers: dict[str, Callable[[JSON], Response]] = {
        "checkout": render_checkout,
        "portal": render_portal,
        "invoice": render_invoice,
    }

    @app.get("/<any(checkout, portal, invoice):page>/<object_id>")
    def show(page: str, object_id: str) -> Response:
        with store.lock:
            return renderers[page](find(page, object_id))

    @app.post("/checkout/<sid>/pay")
    def checkout_pay(sid: str) -> Response:
        card = request.form.get("card", "success")
        email = request.form.get("email", "")
        with store.lock:
            session = find("checkout", sid)
            try:
                checkout.pay(store, session, card, email)
            except StripeError as exc:
                return render_checkout(session, _failed_status(exc), exc.message, email)
            target = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session["id"])
        return Response("", 303, headers={"Location": target})

    @app.post("/portal/<pid>/card")
    def portal_card(pid: str) -> Response:
        card = request.form.get("card", "success")
        with store.lock:
            portal = find("portal", pid)
            customer = store.objects[portal["customer"]]
            try:
                pm, _seti = cards.save_card(store, customer, card, None, {})
            except StripeError as exc:
                return render_portal(portal, _failed_status(exc), exc.message)
            renewals.recover_past_due(store, customer, pm, None)
            return render_portal(portal, notice="Card saved.")

    @app.post("/invoice/<iid>/pay")
    def invoice_pay(iid: str) -> Response:
        card = request.form.get("card", "success")
        with store.lock:
            invoice = find("invoice", iid)
            try:
                customer = store.objects[invoice["customer"]]
                pm = cards.create_payment_method(store, card, customer["id"], customer["email"])
                if not invoices.pay(store, invoice, pm["id"]):
                    return render_invoice(invoice, 402, TRY_ANOTHER_CARD)
            except StripeError as exc:
                return render_invoice(invoice, 400, exc.message)
            return render_invoice(invoice)
