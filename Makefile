# Two commands for a newcomer: `make run` and `make test`. `make install` only builds .venv.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := wsgi
STAMP := $(VENV)/.installed

.PHONY: install run test test-sqlite test-postgres translations extract-messages lint format db clean worker serve

install: $(STAMP)

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.lock
	touch $(STAMP)

translations: install
	$(BIN)/pybabel -q compile -d marketplace/translations

extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  -o marketplace/translations/messages.pot .
	$(BIN)/pybabel update -i marketplace/translations/messages.pot -d marketplace/translations \
	  --no-fuzzy-matching --ignore-obsolete

db: install translations
	mkdir -p instance
	$(BIN)/flask db upgrade
	$(BIN)/flask reference load

run: db
	$(BIN)/flask seed-demo
	$(BIN)/flask ranker train
	@echo "Demo log-ins (password demo-password-1): owner@demo.test investor@demo.test broker@demo.test admin@demo.test"
	@echo "Demo API key (read-only, investor@demo.test): gsr_demo_investor_read_only_9f3c2a7e5b1d4c8a (see http://127.0.0.1:5000/api/v1/docs)"
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# The job queue's worker and its scheduler on REDIS_URL (one machine; docs/deploy.md runs them apart).
worker: db
	@test -n "$(REDIS_URL)" || { echo "Set REDIS_URL (e.g. redis://127.0.0.1:6379/0): without it jobs run in the web process."; exit 1; }
	$(BIN)/flask jobs worker --with-scheduler

test: install translations lint
	scripts/ensure-chromium.sh
	scripts/ensure-redis.sh
	$(MAKE) --no-print-directory test-sqlite
	$(MAKE) --no-print-directory test-postgres

test-sqlite:
	$(BIN)/python -m pytest -q -p no:cacheprovider

test-postgres:
	scripts/with-postgres.sh $(BIN)/python -m pytest -q -p no:cacheprovider

# Production serving (docs/deploy.md): migrate, refresh the reference data, then gunicorn with
# gunicorn.conf.py. PostgreSQL only; the settings come from the environment (README: Configuration).
# Checked before anything runs; $(value ...) reads the URL without expanding a `$` in a password.
ifneq ($(filter serve,$(MAKECMDGOALS)),)
ifeq ($(strip $(value DATABASE_URL)),)
$(error make serve needs DATABASE_URL, e.g. postgresql+psycopg://user:password@host:5432/marketplace (docs/deploy.md))
endif
ifeq ($(filter postgresql%,$(value DATABASE_URL)),)
$(error make serve serves PostgreSQL only: DATABASE_URL must start with postgresql (docs/deploy.md))
endif
endif

serve: install translations
	APP_ENV=production $(BIN)/flask db upgrade
	APP_ENV=production $(BIN)/flask reference load
	APP_ENV=production exec $(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

# Style (ruff, rules pinned in pyproject.toml) and layering (import-linter contracts, ARCHITECTURE.md).
LINTED := marketplace tests bench scripts config.py wsgi.py gunicorn.conf.py deploy

lint: install
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	PYTHONPATH=. $(BIN)/lint-imports --no-cache

format: install
	$(BIN)/ruff check --fix $(LINTED)
	$(BIN)/ruff format $(LINTED)

clean:
	rm -rf $(VENV) instance .pytest_cache
