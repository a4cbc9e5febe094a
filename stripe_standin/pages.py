"""HTML for the simulated hosted pages (checkout, customer portal, invoice)."""

from __future__ import annotations

from typing import Any

from flask import render_template_string

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

_CARD_CHOICE = """
<fieldset>
  <legend>Test card</legend>
  <label><input type="radio" name="card" value="success" checked>
    Visa ending 4242 (succeeds)</label>
  <label><input type="radio" name="card" value="decline">
    Visa ending 0002 (declined)</label>
</fieldset>
"""

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
