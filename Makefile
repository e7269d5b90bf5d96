# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install migrate seed lint hooks format typecheck check schema worker beat bench backup load fuzz up down clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip==25.3"

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed_demo

## Serve the API on http://127.0.0.1:8000 (SQLite, local-memory cache, eager tasks by default).
run: seed
	$(MANAGE) runserver $(HOST):$(PORT)

## Run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/python -m tools.contract
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache
	$(BIN)/pre-commit run --all-files django-upgrade

## Install the git pre-commit hook (.pre-commit-config.yaml).
hooks: install
	$(BIN)/pre-commit install

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: install
	$(BIN)/mypy .

## Write the API contract, openapi/v1.yaml, from the code (commit what it changes).
schema: install
	$(MANAGE) spectacular --file openapi/v1.yaml

check: install
	$(MANAGE) check
	$(MANAGE) makemigrations --check --dry-run
	$(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

worker: install
	$(BIN)/celery -A config worker --loglevel=INFO --concurrency=2

beat: install
	$(BIN)/celery -A config beat --loglevel=INFO --scheduler django_celery_beat.schedulers:DatabaseScheduler

bench: install
	$(BIN)/python -m tools.benchmarks.run

## A backup restored to a point in time and checked, on throw-away clusters (tools/backup_drill.py).
backup: install
	$(BIN)/python -m tools.backup_drill

## Load the service with locust for LOAD_SECONDS (60), then check the database is complete.
load: install
	$(BIN)/python -m tools.load.run

## Fuzz the API from its schema (schemathesis, every role) longer than CI does.
fuzz: install
	$(BIN)/python -m tools.fuzz.run --max-examples $(or $(FUZZ_EXAMPLES),100) \
		--phases examples,coverage,fuzzing,stateful

up:
	docker compose up --build -d

down:
	docker compose down

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache .ruff_cache .mypy_cache
