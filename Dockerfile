# Pharma MES: production image.
#
#   docker build -t pharma-mes .
#   docker run --env-file .env -p 127.0.0.1:8000:8000 pharma-mes
#
# Stage 1 builds the project and its pinned dependencies into /opt/venv;
# stage 2 copies only that venv and the source into a clean image that runs as
# an unprivileged user.

# --- builder ----------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS builder

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH

WORKDIR /build

RUN python -m venv /opt/venv

# Dependencies first (they are pinned in pyproject.toml), so this layer stays cached
# while only the application code changes.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip install --no-cache-dir -r requirements.txt

# Then the project itself (dependencies already satisfied).
COPY . .
RUN pip install --no-cache-dir --no-deps . \
    && pip check

# --- runtime ----------------------------------------------------------------------
FROM python:3.11-slim-bookworm AS runtime

ENV DJANGO_SETTINGS_MODULE=config.settings.production \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app

WORKDIR /app

COPY --from=builder /opt/venv /opt/venv
COPY . .

# Static files are collected at build time (owned by root, read-only for the app
# user). The dummy values below exist only so production settings load for this
# command; they are not stored in the image's environment.
RUN DJANGO_SECRET_KEY=build-time-dummy-key-used-only-for-collectstatic-0123456789 \
    DJANGO_ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --noinput

USER 10001:10001

EXPOSE 8000

# Liveness only (no database or cache involved). slim has no curl: use the stdlib.
# The request's Host is 127.0.0.1, so DJANGO_ALLOWED_HOSTS must include it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health/live/', timeout=4).status == 200 else 1)"]

# MIGRATE_ON_START=1 runs migrations first, as DATABASE_MIGRATE_URL (docker/entrypoint.sh).
ENTRYPOINT ["/app/docker/entrypoint.sh"]
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
