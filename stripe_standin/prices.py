"""Products and prices: the catalog a Checkout Session or a subscription change creates inline."""

from __future__ import annotations

from stripe_standin.clock import INTERVAL_MONTHS, now
from stripe_standin.errors import StripeError
from stripe_standin.money import check_amount, supported_currency
from stripe_standin.params import as_dict, as_int, as_str
from stripe_standin.store import JSON, Store


def create_product(store: Store, name: str) -> JSON:
    product = store.base("product", "prod", metadata={})
    product.update(
        {
            "active": True,
            "default_price": None,
            "description": None,
            "images": [],
            "marketing_features": [],
            "name": name,
            "package_dimensions": None,
            "shippable": None,
            "statement_descriptor": None,
            "tax_code": None,
            "type": "service",
            "unit_label": None,
            "updated": now(),
            "url": None,
        }
    )
    return store.add(product)


def create(store: Store, price_data: JSON, param: str, *, recurring_required: bool) -> JSON:
    """Create a Price from inline ``price_data`` (``product`` id or ``product_data``)."""
    currency = price_data.get("currency")
    if not currency or not isinstance(currency, str):
        raise StripeError("Missing required param: currency.", param=f"{param}[currency]")
    if "unit_amount" not in price_data:
        raise StripeError("Missing required param: unit_amount.", param=f"{param}[unit_amount]")
    currency = supported_currency(currency, f"{param}[currency]")
    unit_amount = check_amount(
        as_int(price_data["unit_amount"], f"{param}[unit_amount]", positive=True),
        currency,
        f"{param}[unit_amount]",
    )
    recurring_in = price_data.get("recurring")
    recurring: JSON | None = None
    if recurring_in not in (None, ""):
        rec = as_dict(recurring_in, f"{param}[recurring]")
        interval = rec.get("interval")
        if interval not in INTERVAL_MONTHS:
            raise StripeError(
                "Invalid recurring[interval]: must be one of month or year",
                param=f"{param}[recurring][interval]",
            )
        count = as_int(rec.get("interval_count", 1), f"{param}[recurring][interval_count]")
        if count != 1:
            raise StripeError(
                "The stand-in only supports interval_count=1",
                param=f"{param}[recurring][interval_count]",
            )
        recurring = {
            "interval": interval,
            "interval_count": 1,
            "meter": None,
            "trial_period_days": None,
            "usage_type": "licensed",
        }
    if recurring_required and recurring is None:
        raise StripeError(
            "Subscription prices need recurring[interval] (month or year).",
            param=f"{param}[recurring][interval]",
        )
    if not recurring_required and recurring is not None:
        raise StripeError(
            "You specified `payment` mode but passed a recurring price. Either switch to "
            "`subscription` mode or use only one-time prices.",
            param=param,
        )
    if price_data.get("product"):
        product = store.get("product", as_str(price_data["product"], "product"), param)
    else:
        product_data = as_dict(price_data.get("product_data"), f"{param}[product_data]")
        name = product_data.get("name")
        if not name or not isinstance(name, str):
            raise StripeError(
                "Missing required param: product_data[name].",
                param=f"{param}[product_data][name]",
            )
        product = create_product(store, name)
    price = store.base("price", "price", metadata={})
    price.update(
        {
            "active": True,
            "billing_scheme": "per_unit",
            "currency": currency.lower(),
            "custom_unit_amount": None,
            "lookup_key": None,
            "nickname": None,
            "product": product["id"],
            "recurring": recurring,
            "tax_behavior": "unspecified",
            "tiers_mode": None,
            "transform_quantity": None,
            "type": "recurring" if recurring else "one_time",
            "unit_amount": unit_amount,
            "unit_amount_decimal": str(unit_amount),
        }
    )
    if product["default_price"] is None:
        product["default_price"] = price["id"]
    return store.add(price)


def product_name(store: Store, price: JSON) -> str:
    product = store.objects.get(price["product"])
    return str(product["name"]) if product else "Item"
