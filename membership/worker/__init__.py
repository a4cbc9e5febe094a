"""The background worker (`flask --app membership worker`): the outbox and every periodic job.

See `membership.worker.registry` for how a job is added.
"""
