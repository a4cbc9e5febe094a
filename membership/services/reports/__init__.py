"""Funding reports computed in SQL: money by period, MRR and its movements, churn, cohorts, attribution.

Every period boundary is a local midnight in the publication's time zone, converted to UTC here in
Python; the SQL only ever compares stored UTC timestamps with those boundaries, so SQLite and
PostgreSQL give the same numbers. Definitions (README.md, "Staff reports") in short:

- gross: amount_cents + fee_cents of donations paid in the period (failed payments excluded);
  fees covered: their fee_cents; gifts: their amount_cents.
- refunds: pending or succeeded `donation_refund` rows dated in the period (when made); a refund
  that failed or was canceled counts nothing.
- disputes: money Stripe withdrew for disputes in the period less what it reinstated
  (`dispute_movement`, dated when it moved); dispute fees: Stripe's fee on those movements.
  Inquiries move no money.
- net: gross - refunds - disputes - dispute fees.
- MRR: sum of `mrr_span` rows open at the instant (annual / 12, half up, fee included).

One module per family of figures, each answering one question:

- `periods`: local calendar buckets and the SQL tables of their UTC bounds.
- `statistics`: integer rounding, rates and confidence intervals.
- `columns`: the columns of each report table, shared by the pages and their CSV files.
- `money`: money by period, gift sizes.
- `recurring`: MRR levels, movements and churn, cohorts.
- `attribution`: the funnel per article and per banner variant.
- `dashboard`: this month against the last, the MRR trend.
- `range_report`: the full report page for a date range.
- `exports`: the CSV downloads of every report, and of every donation.
"""
