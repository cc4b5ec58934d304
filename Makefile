# Two commands do everything on a fresh machine (Python 3.11+):
#   make demo   - create .venv, install, build the demo county, run the siting job on it
#   make test   - create .venv if needed, install, lint (ruff, mypy) and run the whole test suite
PYTHON ?= python3
VENV := .venv
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test test-fast lint format clean catalogs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/planner demo
	$(VENV)/bin/planner site --demo

# the suite on TEST_WORKERS processes (pytest-xdist; each test file stays on one, so
# that its module fixtures run once); TEST_WORKERS=0 runs it in this process
TEST_WORKERS ?= 2
XDIST = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadfile)

test: lint
	$(VENV)/bin/python -m pytest $(XDIST)

test-fast: $(STAMP)
	$(VENV)/bin/python -m pytest $(XDIST) -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# texts marked for translation that planner/locale/zh lacks (Babel's extractor)
catalogs: $(STAMP)
	$(VENV)/bin/python -c "from planner.i18n import missing_messages as m; \
	[print(repr(k), v[0]) for k, v in sorted(m('zh').items())]"

clean:
	rm -rf $(VENV) data/raw/demo data/processed/qingxi/
