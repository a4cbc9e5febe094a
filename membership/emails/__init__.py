"""Email: building MIME messages and handing them to SMTP (or the console in development)."""
