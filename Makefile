# defaults-lab: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The venv is (re)installed whenever a requirements file changes.
STAMP  := $(VENV)/.installed

.PHONY: setup data run test lint lab bench strip clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

setup: $(STAMP)

data: setup  ## build (or validate) the embedded classroom dataset
	$(BIN)/python -m utils.data build --preset classroom

run: data  ## every notebook in classroom mode → build/notebooks, build/html, build/figures
	$(BIN)/python -m utils.notebooks run --mode classroom --out build

lint: setup
	$(BIN)/ruff check .

test: setup lint  ## unit tests + every notebook in smoke mode
	$(BIN)/python -m pytest

bench: data  ## speed and memory benchmarks → docs/benchmarks.md (~15 min, quiet machine)
	$(BIN)/python benchmarks/run.py

lab: data  ## open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/

strip:  ## strip outputs from the notebooks before committing
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb

clean:
	rm -rf build .pytest_cache
