# The two set-up commands of the README. Each creates its own virtual environment in .venv.
#   make demo   install the library and run the main job on the embedded sample register
#   make test   install the library with its test extras and run the full test suite, then run
#               it again in .venv-min at the lowest versions pyproject.toml allows
#               (requirements/min-versions.txt; `make test-min` runs only that part)
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
MIN_VENV ?= .venv-min

.PHONY: demo test test-min install install-test browser notebooks bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"

# headless Chromium for the report's browser test (Debian package; needs root, else the test is skipped)
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ; } || \
	  echo "note: chromium could not be installed; the browser test will be skipped"

demo: install
	$(BIN)/turnover-risk demo --out demo-output --overwrite

test: install-test browser
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile
	@echo "== the same suite at the dependency floors (requirements/min-versions.txt) =="
	$(MAKE) --no-print-directory test-min

# the suite at the dependency floors, in a virtual environment of its own: a floor nobody runs
# is a promise nobody keeps (the browser test runs only where Chromium is installed)
$(MIN_VENV)/bin/python:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip

test-min: $(MIN_VENV)/bin/python
	$(MIN_VENV)/bin/python -m pip install --quiet -c requirements/min-versions.txt -e ".[test]"
	OMP_NUM_THREADS=1 $(MIN_VENV)/bin/python -m pytest -n 2 --dist loadfile -p no:cacheprovider

# rebuild the notebooks from scripts/build_notebooks.py and execute them, keeping the outputs
notebooks: install-test
	$(BIN)/python scripts/build_notebooks.py
	$(BIN)/python scripts/run_notebooks.py

bench: install-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(MIN_VENV) demo-output build *.egg-info
