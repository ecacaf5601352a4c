# Two commands for a newcomer: `make demo` (the whole site with demo data) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format install migrate clean bench soak

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,demo]"
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

# Ports: WEB_PORT (8000) and GATEWAY_PORT (8001); the site's and the gateway's URLs follow them.
demo: install
	$(BIN)/python -m flashsale.demo

# Without REDIS_URL the tests get the embedded Redis (database 15, so a demo's data in 0 is safe),
# started for the run and stopped after it.
test: install
	FLASHSALE_CAPTCHA_TEST_MODE=1 $(BIN)/python -m flashsale.embedded_redis run --db $${FLASHSALE_EMBEDDED_REDIS_DB:-15} -- $(BIN)/pytest $(PYTEST_ARGS)

# Load test against the local PostgreSQL and Redis (see bench/README.md); not part of `make test`.
bench: install
	$(BIN)/python -m bench

# A sale under a steady crowd while faults are injected (docs/soak.md); not part of `make test`.
# SOAK_MINUTES (30) and SOAK_SEED (1): the same seed replays the same fault schedule; SOAK_ARGS
# passes more options (`python -m bench.soak --help`).
SOAK_MINUTES ?= 30
SOAK_SEED ?= 1
soak: install
	$(BIN)/python -m bench.soak --minutes $(SOAK_MINUTES) --seed $(SOAK_SEED) $(SOAK_ARGS)

# mypy's Django plugin imports the settings, which refuse to load without a REDIS_URL (nothing
# connects to it).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/0} $(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	-[ -x $(BIN)/python ] && $(BIN)/python -m flashsale.embedded_redis stop
	rm -rf $(VENV) var .pytest_cache
