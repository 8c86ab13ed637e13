# Creditwise — `make site` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NODE_STAMP := tests/node/node_modules/.installed

.PHONY: site serve publish digest test bench lint clean node-deps

site: $(STAMP)  ## build the demo site (or the site.toml in this folder) into public/
	$(BIN)/creditwise build

serve: $(STAMP)  ## live preview on 127.0.0.1:8000
	$(BIN)/creditwise serve

publish: $(STAMP)  ## build, check and deploy to [publish].target
	$(BIN)/creditwise publish

digest: $(STAMP)  ## what changed since the live release: new alerts, thresholds, decision, top recommendations
	$(BIN)/creditwise digest $(if $(FORMAT),--format $(FORMAT)) $(if $(SINCE),--since $(SINCE))

test: lint $(NODE_STAMP)  ## lint, then the whole test suite
	$(BIN)/pytest -q

bench: $(STAMP)  ## benchmarks beside DuckDB's minimal pipeline; BENCH_EVENTS=10000000 for the large run
	$(BIN)/python bench/ingest_bench.py
	@for b in bench/*_bench.py; do [ "$$b" = bench/ingest_bench.py ] || $(BIN)/python $$b || exit 1; done

lint: $(STAMP)  ## ruff, and the layers contract in pyproject.toml (imports only go down)
	$(BIN)/ruff check generator tests bench
	$(BIN)/lint-imports

# axe-core and the Nu HTML checker (vnu-jar) for the browser tests, from npm into tests/node/ (needs npm;
# vnu needs Java). Without npm the browser checks are skipped locally; CI installs npm and requires them.
node-deps: $(NODE_STAMP)
$(NODE_STAMP): tests/node/package.json tests/node/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  cd tests/node && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch node_modules/.installed; \
	else echo "make: npm not found; the accessibility and HTML validation tests will be skipped" >&2; fi

# Set up once, and again whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf public build .creditwise .pytest_cache
