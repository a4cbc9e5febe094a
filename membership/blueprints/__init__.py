"""Thin views: parse the request, call a service, render or redirect."""

from flask import current_app

from membership.config import Config


def app_config() -> Config:
    """The typed configuration of the running app."""
    config = current_app.config["MEMBERSHIP"]
    if not isinstance(config, Config):
        raise RuntimeError("the app was not built by create_app()")
    return config
