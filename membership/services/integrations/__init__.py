"""Integrations: API tokens for /api/v1 and signed outgoing webhooks (Standard Webhooks). The
staff pages and the command line call the same functions here."""
