"""``python -m stripe_standin``: serve the stand-in until Ctrl-C."""

from __future__ import annotations

import argparse
import logging
import sys

from werkzeug.serving import make_server

from stripe_standin import portal
from stripe_standin.app import StandinConfig, create_standin_app, get_store
from stripe_standin.webhooks import DEFAULT_TIME_SCALE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stripe_standin",
        description="Offline Stripe stand-in (simulated: no real money).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=12111, help="port (0 = any free port)")
    parser.add_argument("--webhook-url", default=None, help="where to POST signed events")
    parser.add_argument("--webhook-secret", default=None, help="whsec_... signing secret")
    parser.add_argument("--public-url", default=None, help="URL browsers use to reach the stand-in")
    parser.add_argument(
        "--retry-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        help="compress Stripe's 3-day webhook retry schedule by this factor (1 = real time; "
        "default: about 4 seconds in all)",
    )
    parser.add_argument(
        "--default-portal",
        action="store_true",
        help="start with a default billing portal configuration (card and invoices), as an "
        "account whose portal settings were saved in Stripe's Dashboard",
    )
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the stand-in only binds to loopback addresses")
    if args.retry_scale < 0:
        parser.error("--retry-scale must be 0 or more")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config = StandinConfig(
        public_url=args.public_url or "",
        webhook_url=args.webhook_url,
        webhook_secret=args.webhook_secret,
        webhook_time_scale=args.retry_scale,
    )
    app = create_standin_app(config)
    server = make_server(args.host, args.port, app, threaded=True)
    url = f"http://{args.host}:{server.server_port}"
    store = get_store(app)
    if args.default_portal:
        with store.lock:
            portal.create_configuration(
                store,
                {
                    "features": {
                        "payment_method_update": {"enabled": True},
                        "invoice_history": {"enabled": True},
                    }
                },
                default=True,
            )
    if not args.public_url:
        config.public_url = url
        store.public_url = url
    print(f"Stripe stand-in listening on {url}  (simulated: no real money)", flush=True)
    if args.webhook_url:
        print(f"Delivering signed webhooks to {args.webhook_url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("stopping", file=sys.stderr)
    finally:
        server.server_close()
        store.deliverer.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
