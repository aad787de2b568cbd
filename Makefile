# Groundswell: `make run` serves the whole system locally; `make test` runs every test.
# Both install what is missing first (a venv, pip packages, Debian's chromium for browser tests).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test unit lint typecheck chromium seed clean
NODE_STAMP := node_modules/.installed

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade 'pip<26.3'  # chalice 1.34 requires pip<26.3
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update && apt-get install -y chromium)

# axe-core (accessibility checks in the browser tests), pinned by package-lock.json.
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $(NODE_STAMP)

run: $(STAMP)
	$(BIN)/python -m devtools.run

lint: $(STAMP)
	$(BIN)/ruff check app.py chalicelib devtools tests

typecheck: $(STAMP)
	$(BIN)/mypy

test: $(STAMP) $(NODE_STAMP) chromium lint typecheck
	$(BIN)/pytest

unit: $(STAMP)
	$(BIN)/pytest tests/unit

clean:
	rm -rf $(VENV) node_modules .local .pytest_cache .ruff_cache .mypy_cache

# The deployable template and zip (devtools/deploy), and the benchmarks (devtools/bench).
.PHONY: package bench

package: $(STAMP)
	AWS_DEFAULT_REGION=us-east-1 $(BIN)/python -m devtools.deploy.package --stage prod --out .local/package

bench: $(STAMP)
	$(BIN)/python -m devtools.bench

# Reliability (docs/reliability.md): the long forms of the chaos and fuzz runs (the suite runs
# smaller ones), and the OpenAPI document regenerated from the routes and request models.
.PHONY: chaos fuzz openapi

chaos: $(STAMP)
	$(BIN)/python -m devtools.chaos --events $${CHAOS_EVENTS:-2000} \
		--lost-answer-rate $${CHAOS_LOST_ANSWERS:-0.05} --json .local/chaos/last.json

fuzz: $(STAMP)
	$(BIN)/python -m devtools.fuzz --max-examples $${FUZZ_EXAMPLES:-100} --json .local/fuzz/last.json

openapi: $(STAMP)
	$(BIN)/python -m devtools.openapi

# The donor side's message catalogs (docs/i18n.md): extract every marked string, merge it into
# each language's .po (translate what comes out empty or fuzzy), compile the .mo the code reads.
# Babel is a build tool only (requirements-dev.txt); at run time the stdlib's gettext reads the .mo.
.PHONY: messages
LOCALE_DIR := chalicelib/locale

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg --no-location --sort-output --no-wrap \
		--project=groundswell --copyright-holder=groundswell -o $(LOCALE_DIR)/messages.pot .
	$(BIN)/pybabel update -i $(LOCALE_DIR)/messages.pot -d $(LOCALE_DIR) -D messages --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -d $(LOCALE_DIR) -D messages --statistics
