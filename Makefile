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

bench: $(STAMP)  ## benchmarks (arrive with the ingest issue)
	@echo "make bench: not available yet; the ingest benchmarks are tracked in issue 3" >&2; exit 1

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
