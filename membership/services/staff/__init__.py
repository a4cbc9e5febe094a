"""What staff do in the staff area, as operations: each state change here writes its entry in the
audit log in the same transaction (they flush; the request commits).

- `audit`: the log itself, and its pages.
- `accounts`: staff accounts (created from the CLI, managed by admins).
- `articles`: editors writing, publishing and following the money of articles.
- `banner_variants`: editors running the support banner's experiments.
- `supporters`: finance looking up supporters, refunding, resending receipts.
"""
