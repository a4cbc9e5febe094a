"""Run the stand-in in a background thread (tests, dev)."""

from __future__ import annotations

import threading
from types import TracebackType

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from stripe_standin.app import StandinConfig, create_standin_app, get_store
from stripe_standin.store import Store
from stripe_standin.webhooks import DEFAULT_TIME_SCALE


class _QuietHandler(WSGIRequestHandler):
    """Request handler that does not log every request (errors are still logged)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


class StandinServer:
    """A stand-in server on ``host:port`` (port 0 picks a free port).

    >>> with StandinServer() as server:
    ...     client = stripe.StripeClient("sk_test_x", base_addresses={"api": server.url})
    """

    def __init__(
        self,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        quiet: bool = True,
        webhook_time_scale: float = DEFAULT_TIME_SCALE,
    ) -> None:
        self.quiet = quiet
        self.host = host
        self.port = port
        self.config = StandinConfig(
            public_url=f"http://{host}:{port}",
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            webhook_time_scale=webhook_time_scale,
        )
        self.app = create_standin_app(self.config)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def store(self) -> Store:
        return get_store(self.app)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("StandinServer is not started")
        return f"http://{self.host}:{self._server.server_port}"

    def start(self) -> StandinServer:
        if self._server is not None:
            return self
        handler = _QuietHandler if self.quiet else None
        self._server = make_server(
            self.host, self.port, self.app, threaded=True, request_handler=handler
        )
        self.port = self._server.server_port
        self.config.public_url = self.url
        self.store.public_url = self.url
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="stripe-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(5)
        self.store.deliverer.close()

    def flush(self, timeout: float = 10) -> bool:
        """Wait until all queued webhook deliveries finished; False on timeout."""
        return self.store.deliverer.flush(timeout)

    def reset(self) -> None:
        with self.store.lock:
            self.store.reset()

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
