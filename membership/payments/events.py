"""A Stripe event's envelope: id, type and time typed; the object inside is parsed by its handler.

The object is parsed late, by the handler that needs it (`membership.payments.objects`), so that
an event whose object cannot be read is still stored in our ledger with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from membership.payments.objects import StripeDataError


@dataclass(frozen=True)
class Event:
    id: str
    type: str
    created: datetime  # one-second resolution: events that share a second have no order
    payload: dict[str, Any]  # the whole event as Stripe sent it, for the ledger

    @property
    def data_object(self) -> object:
        """`data.object`: the Stripe object the event is about, still raw."""
        data = self.payload.get("data")
        return data.get("object") if isinstance(data, Mapping) else None

    @classmethod
    def parse(cls, payload: object) -> Event:
        if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
            raise StripeDataError("the payload is not a Stripe event")
        created = payload.get("created")
        try:
            seconds = int(created) if created else 0
        except (TypeError, ValueError):
            raise StripeDataError(f"event {payload['id']}: created is not a Unix time") from None
        return cls(
            id=payload["id"],
            type=str(payload.get("type") or ""),
            created=datetime.fromtimestamp(seconds, tz=UTC),
            payload=payload,
        )
