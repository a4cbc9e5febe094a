"""Lifecycle email: welcome, upgrade ask, win-back, the dunning sequence, card expiring and the
year in review. `run` is the periodic job; each kind's copy and switch is in `settings`."""

from membership.services.lifecycle import personal_data

__all__ = ["personal_data"]
