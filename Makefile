# Creditwise — `make site` and `make test` are all a newcomer needs.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: site serve publish test bench lint clean

site: $(STAMP)  ## build the demo site (or the site.toml in this folder) into public/
	$(BIN)/creditwise build

serve: $(STAMP)  ## live preview on 127.0.0.1:8000
	$(BIN)/creditwise serve

publish: $(STAMP)  ## build, check and deploy to [publish].target
	$(BIN)/creditwise publish

test: $(STAMP)  ## lint, then the whole test suite
	$(BIN)/ruff check generator tests
	$(BIN)/pytest -q

bench: $(STAMP)  ## benchmarks beside DuckDB's minimal pipeline; BENCH_EVENTS=10000000 for the large run
	$(BIN)/python bench/ingest_bench.py
	@for b in bench/*_bench.py; do [ "$$b" = bench/ingest_bench.py ] || $(BIN)/python $$b || exit 1; done

lint: $(STAMP)
	$(BIN)/ruff check generator tests

# Set up once, and again whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf public build .creditwise .pytest_cache
