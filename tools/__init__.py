"""What runs the service from outside: the benchmark, load and fuzzing runners, and the
helpers tests use to start real servers (gunicorn, Celery workers, Redis)."""
