# defaults-lab: the two set-up commands are `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The venv is (re)installed whenever a requirements file changes.
STAMP  := $(VENV)/.installed

.PHONY: setup browser data run book test lint lab bench bench-backends bench-grids throughput screenshots strip clean

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

# Never executes a notebook: it renders what make run stored (run that first).
book: setup  ## the executed notebooks of make run as a static reading copy → build/book/index.html
	$(BIN)/python -m utils.book --notebooks build/notebooks --out build/book

lint: setup
	$(BIN)/ruff check .

# Debian's Chromium for the browser test (Playwright drives it; never `playwright install`).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get install -y -qq chromium >/dev/null 2>&1 || \
	    { apt-get update -qq && apt-get install -y -qq chromium; }; \
	  else \
	    echo "browser test skipped: install Debian's chromium (sudo apt-get install chromium)"; \
	  fi; \
	fi

test: setup lint browser  ## unit tests, every notebook in smoke mode, JupyterLab in Chromium
	$(BIN)/python -m pytest

bench: data  ## speed and memory benchmarks → docs/benchmarks.md (quiet machine; its own wall time is in that file)
	$(BIN)/python benchmarks/run.py

bench-backends: data  ## the Keras model on TensorFlow, JAX and PyTorch: speed and memory → docs/benchmarks.md
	$(BIN)/python benchmarks/backends.py

bench-grids: setup  ## the stored grids' CPU and wall time, and what their missing rows should take → docs/benchmarks.md
	$(BIN)/python benchmarks/grids.py

throughput: data  ## training clips/s of both frameworks against the measured FP32 peak → docs/throughput.md
	$(BIN)/python benchmarks/throughput.py

screenshots: setup browser  ## the browser test, then refresh the README screenshot
	$(BIN)/python -m pytest -q -m browser
	cp build/screenshots/08_ladder.png docs/screenshots/08_ladder.png

lab: data  ## open JupyterLab on the notebooks
	$(BIN)/jupyter lab notebooks/

strip:  ## strip outputs from the notebooks before committing
	$(BIN)/nbstripout --keep-id notebooks/*.ipynb

clean:
	rm -rf build .pytest_cache
