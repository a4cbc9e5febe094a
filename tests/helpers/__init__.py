"""Helpers the tests share, one module per thing they help with: building rows (`factories`), test
clients and CSRF tokens (`clients`), the app on a real server (`live_server`), chromium
(`browser`), captured SMTP (`smtp_capture`), and one module per area (`accounts`, `payments`,
`newsletter`, `staff`)."""
