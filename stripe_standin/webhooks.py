"""Background webhook delivery with Stripe-style signatures and retries."""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("stripe_standin.webhooks")

RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0)


def sign_payload(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Return a ``Stripe-Signature`` header value for ``payload``."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


@dataclass(frozen=True)
class Delivery:
    event_id: str
    url: str
    secret: str
    body: str


@dataclass
class DeliveryResult:
    event_id: str
    url: str
    ok: bool
    attempts: int
    status: int | None
    error: str | None


class Deliverer:
    """One background thread delivering queued events in order.

    The thread starts lazily on the first queued delivery and is stopped by :meth:`close`.
    """

    def __init__(
        self,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        timeout: float = 5.0,
        on_result: Callable[[DeliveryResult], None] | None = None,
    ) -> None:
        self.on_result = on_result
        self._queue: queue.Queue[Delivery | None] = queue.Queue()
        self._retry_delays = retry_delays
        self._timeout = timeout
        self._cond = threading.Condition()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self._closed = False
        self._stop = threading.Event()
        self.results: list[DeliveryResult] = []

    # -- public -----------------------------------------------------------------------------
    def enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            if self._closed:
                log.warning("deliverer closed; dropping %s", delivery.event_id)
                return
            self._pending += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="stripe-standin-webhooks", daemon=True
                )
                self._thread.start()
        self._queue.put(delivery)

    @property
    def pending(self) -> int:
        with self._cond:
            return self._pending

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery finished; return False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending > 0:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def close(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._closed = True
            thread = self._thread
        self._stop.set()
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout)

    # -- worker -----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                result = self._deliver(item)
                with self._cond:
                    self.results.append(result)
                if self.on_result is not None:
                    self.on_result(result)
            except Exception:  # pragma: no cover - defensive: never kill the worker
                log.exception("webhook delivery crashed for %s", item.event_id)
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def _post(self, delivery: Delivery) -> int:
        if not delivery.url.startswith(("http://", "https://")):
            raise ValueError(f"unsupported webhook url {delivery.url!r}")
        header = sign_payload(delivery.body, delivery.secret)
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            delivery.url,
            data=delivery.body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": header,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks) stand-in",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                response.read()
                status: int = response.status
                return status
        except urllib.error.HTTPError as exc:
            with exc:
                return exc.code

    def _deliver(self, delivery: Delivery) -> DeliveryResult:
        attempts = 0
        status: int | None = None
        error: str | None = None
        delays = (0.0, *self._retry_delays)
        for delay in delays:
            if delay and self._stop.wait(delay):
                break
            attempts += 1
            try:
                status = self._post(delivery)
                error = None
            except (OSError, ValueError) as exc:
                status, error = None, str(exc)
            if status is not None and 200 <= status < 300:
                return DeliveryResult(delivery.event_id, delivery.url, True, attempts, status, None)
            log.info(
                "webhook %s to %s failed (attempt %d): %s",
                delivery.event_id,
                delivery.url,
                attempts,
                error or status,
            )
        log.warning("giving up on webhook %s after %d attempts", delivery.event_id, attempts)
        return DeliveryResult(delivery.event_id, delivery.url, False, attempts, status, error)
