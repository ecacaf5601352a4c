# Two commands for a newcomer: `make demo` (the whole site with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install migrate clean bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,demo]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py ensure_operator
	@echo ""
	@echo "  Site:        http://127.0.0.1:$${WEB_PORT:-8000}/"
	@echo "  Admin:       http://127.0.0.1:$${WEB_PORT:-8000}/admin/"
	@echo "  Health:      http://127.0.0.1:$${WEB_PORT:-8000}/healthz"
	@echo "  Press Ctrl-C to stop everything."
	@echo ""
	$(BIN)/honcho start -f Procfile

test: install
	FLASHSALE_EMBEDDED_REDIS_DB=$${FLASHSALE_EMBEDDED_REDIS_DB:-15} FLASHSALE_CAPTCHA_TEST_MODE=1 $(BIN)/pytest $(PYTEST_ARGS)

# Load test against the local PostgreSQL and Redis (see bench/README.md); not part of `make test`.
bench: install
	$(BIN)/python -m bench

# mypy's Django plugin imports the settings: a REDIS_URL keeps it from starting an embedded Redis
# (nothing connects to it).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) var .pytest_cache
