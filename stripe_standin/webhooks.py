"""Background webhook delivery as Stripe does it: signed, concurrent, in no particular order,
retried with backoff."""

from __future__ import annotations

import hashlib
import hmac
import logging
import random
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("stripe_standin.webhooks")

# Stripe retries a failed delivery with exponential backoff for up to three days (live mode).
# These are its gaps in seconds; the stand-in runs them compressed by `time_scale` (default:
# the three days in about four seconds), so tests see retries without waiting for them.
STRIPE_RETRY_SCHEDULE: tuple[float, ...] = (
    60, 300, 900, 3600, 10800, 21600, 43200, 86400, 86400
)  # fmt: skip
DEFAULT_TIME_SCALE = 1 / 60000
# How many deliveries run at once, and how long (seconds, uncompressed) a new event may wait
# before its first attempt: together they deliver a burst of events in no particular order.
DEFAULT_CONCURRENCY = 4
DEFAULT_JITTER = 0.02


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
    """Delivers queued events from several threads at once, in no particular order, and retries
    each failed one on Stripe's (compressed) backoff until the schedule runs out.

    Threads start lazily on the first queued delivery and are stopped by :meth:`close`.
    """

    def __init__(
        self,
        *,
        time_scale: float = DEFAULT_TIME_SCALE,
        concurrency: int = DEFAULT_CONCURRENCY,
        jitter: float = DEFAULT_JITTER,
        timeout: float = 5.0,
        seed: int | None = None,
        on_result: Callable[[DeliveryResult], None] | None = None,
    ) -> None:
        if time_scale < 0 or concurrency < 1 or jitter < 0:
            raise ValueError("time_scale and jitter must be >= 0, concurrency >= 1")
        self.on_result = on_result
        self.retry_delays = tuple(delay * time_scale for delay in STRIPE_RETRY_SCHEDULE)
        self._concurrency = concurrency
        self._jitter = jitter
        self._timeout = timeout
        self._random = random.Random(seed)  # noqa: S311 - delivery order, not secrets
        self._cond = threading.Condition()
        # Deliveries waiting for their next attempt: (due at, attempts made, delivery).
        self._waiting: list[tuple[float, int, Delivery]] = []
        self._pending = 0
        self._threads: list[threading.Thread] = []
        self._closed = False
        self.results: list[DeliveryResult] = []

    # -- public -----------------------------------------------------------------------------
    def enqueue(self, delivery: Delivery) -> None:
        with self._cond:
            if self._closed:
                log.warning("deliverer closed; dropping %s", delivery.event_id)
                return
            self._pending += 1
            due = time.monotonic() + self._random.uniform(0, self._jitter)
            self._waiting.append((due, 0, delivery))
            if not self._threads:
                for n in range(self._concurrency):
                    thread = threading.Thread(
                        target=self._run, name=f"stripe-standin-webhooks-{n}", daemon=True
                    )
                    thread.start()
                    self._threads.append(thread)
            self._cond.notify_all()

    @property
    def pending(self) -> int:
        with self._cond:
            return self._pending

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued delivery finished (retries included); False on timeout."""
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
            threads = list(self._threads)
            self._cond.notify_all()
        for thread in threads:
            thread.join(timeout)

    # -- workers ----------------------------------------------------------------------------
    def _next(self) -> tuple[int, Delivery] | None:
        """A random delivery among those due (None once closed); waits for one to be due."""
        with self._cond:
            while not self._closed:
                moment = time.monotonic()
                due = [n for n, (at, _a, _d) in enumerate(self._waiting) if at <= moment]
                if due:
                    _at, attempts, delivery = self._waiting.pop(self._random.choice(due))
                    return attempts, delivery
                wait = min((at for at, _a, _d in self._waiting), default=moment + 1) - moment
                self._cond.wait(max(wait, 0.001))
            return None

    def _run(self) -> None:
        while (item := self._next()) is not None:
            attempts, delivery = item
            try:
                result = self._attempt(delivery, attempts + 1)
            except Exception:  # pragma: no cover - defensive: never kill a worker
                log.exception("webhook delivery crashed for %s", delivery.event_id)
                result = DeliveryResult(delivery.event_id, delivery.url, False, attempts + 1,
                                        None, "crashed")  # fmt: skip
            if result is None:
                continue  # another attempt is scheduled
            with self._cond:
                self.results.append(result)
            if self.on_result is not None:
                self.on_result(result)
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

    def _attempt(self, delivery: Delivery, attempt: int) -> DeliveryResult | None:
        """One attempt: its result when done (delivered, or the schedule ran out), else None
        with the next attempt scheduled."""
        try:
            status, error = self._post(delivery), None
        except (OSError, ValueError) as exc:
            status, error = None, str(exc)
        if status is not None and 200 <= status < 300:
            return DeliveryResult(delivery.event_id, delivery.url, True, attempt, status, None)
        log.info(
            "webhook %s to %s failed (attempt %d): %s",
            delivery.event_id,
            delivery.url,
            attempt,
            error or status,
        )
        if attempt > len(self.retry_delays):
            log.warning("giving up on webhook %s after %d attempts", delivery.event_id, attempt)
            return DeliveryResult(delivery.event_id, delivery.url, False, attempt, status, error)
        with self._cond:
            if self._closed:
                return DeliveryResult(delivery.event_id, delivery.url, False, attempt, status,
                                      "deliverer closed")  # fmt: skip
            due = time.monotonic() + self.retry_delays[attempt - 1]
            self._waiting.append((due, attempt, delivery))
            self._cond.notify_all()
        return None
