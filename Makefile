# The two set-up commands of the README. Each creates its own virtual environment in .venv.
#   make demo   install the library and run the main job on the embedded sample register
#   make test   install the library with its test extras and run the full test suite
#   make test-min   the same in .venv-min at the lowest versions pyproject allows
#                   (requirements/min-versions.txt)
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
	$(BIN)/turnover-risk demo --out demo-output

test: install-test browser
	OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 --dist loadfile

# the suite at the dependency floors, in a virtual environment of its own (the browser test
# runs only where Chromium is installed: `make browser test-min`)
test-min:
	$(PYTHON) -m venv $(MIN_VENV)
	$(MIN_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MIN_VENV)/bin/python -m pip install --quiet -c requirements/min-versions.txt -e ".[test]"
	OMP_NUM_THREADS=1 $(MIN_VENV)/bin/python -m pytest -n 2 --dist loadfile

# rebuild the notebooks from scripts/build_notebooks.py and execute them, keeping the outputs
notebooks: install-test
	$(BIN)/python scripts/build_notebooks.py
	$(BIN)/python scripts/run_notebooks.py

bench: install-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(MIN_VENV) demo-output build *.egg-info
