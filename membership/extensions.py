"""Flask extensions, created once and bound to the app in the factory."""

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from membership.caching import is_public_page_request
from membership.models.base import Base
from membership.payments.gateway import StripeGateway

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Public pages are the same for everyone and carry no limits; skipping the limiter keeps them fast.
limiter.request_filter(is_public_page_request)


class Payments:
    """The app's one payment provider client (built from config in create_app). Views hand
    `payments.gateway` to the services that need it and never import `membership.payments`."""

    def init_app(self, app: Flask, gateway: StripeGateway) -> None:
        app.extensions["stripe_gateway"] = gateway

    @property
    def gateway(self) -> StripeGateway:
        gateway = current_app.extensions["stripe_gateway"]
        if not isinstance(gateway, StripeGateway):
            raise RuntimeError("the app was not built by create_app()")
        return gateway


payments = Payments()
