"""gunicorn config for the benchmark's baseline only: no event is published (the webhooks
outbox's sink removed), everything else as served.

Used to measure what publishing an event adds to the request that causes it; never a
way to run the service.
"""


def post_worker_init(worker):
    from core import topics

    topics.remove_sinks()
