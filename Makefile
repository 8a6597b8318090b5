# The course in two commands:  make lab   (set up, fetch weights, start JupyterLab)
#                              make test  (set up, fetch the offline pack, lint, unit tests, notebooks)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nstlib-installed
# JupyterLab refuses to run as root unless told to (containers, some classroom images).
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab weights test unit notebooks lint bench clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The real ImageNet weights where the network allows, else the offline pack (DESIGN.md section 3).
weights: setup
	$(BIN)/python -m nstlib weights fetch auto

lab: weights
	$(BIN)/python -m nstlib env
	$(BIN)/jupyter lab notebooks/ $(LAB_ARGS)

lint: setup
	$(BIN)/ruff check nstlib tests benchmarks tools notebooks

unit: setup
	$(BIN)/python -m nstlib weights fetch offline
	$(BIN)/python -m pytest tests

notebooks: setup
	$(BIN)/python -m nstlib weights fetch offline
	NSTLIB_SMOKE=1 MPLBACKEND=Agg $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks

test: lint unit notebooks

bench: setup
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
