# The course in two commands:  make lab   (set up, fetch weights, start JupyterLab)
#                              make test  (set up, fetch the offline pack, lint, unit tests, notebooks,
#                                          the Colab stand-in, the course website in smoke mode, and
#                                          the studio, site and slides in a real browser)
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.nstlib-installed
BOOK_ASSETS := build/book-assets/.installed
SITE   := build/book/html/index.html
# JupyterLab refuses to run as root unless told to (containers, some classroom images).
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root)

.PHONY: setup lab weights test unit quick notebooks colab-check e2e chromium lint bench gallery clean-venv \
        book book-smoke book-assets slides book-standin student-notebooks

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The real ImageNet weights where the network allows, else the offline pack (docs/design.md, section 2).
weights: setup
	$(BIN)/python -m nstlib weights fetch auto

lab: weights
	$(BIN)/python -m nstlib env
	$(BIN)/jupyter lab notebooks/ $(LAB_ARGS)

lint: setup
	$(BIN)/ruff check nstlib tests benchmarks tools notebooks

unit: setup
	$(BIN)/python -m nstlib weights fetch offline
	$(BIN)/python -m pytest tests --ignore=tests/e2e --ignore=tests/notebooks_imagenet

# The unit tests without those marked slow (torchrun, the ImageNet stand-ins and classifier, whole notebooks,
# long optimisations): the loop to run while editing. make unit runs them all.
quick: setup
	$(BIN)/python -m nstlib weights fetch offline
	$(BIN)/python -m pytest tests --ignore=tests/e2e -m "not slow"

notebooks: setup
	$(BIN)/python -m nstlib weights fetch offline
	NSTLIB_SMOKE=1 MPLBACKEND=Agg $(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks --ignore=notebooks/ko
	# The Korean lessons (notebooks/ko/, generated from these) run in smoke mode in make book-smoke, which also fails
	# on a figure drawn with missing glyphs.
	# Second pass: the ImageNet branches (lessons 0, 3, 4) on a stand-in checkpoint in torchvision's format
	# that is NOT ImageNet (nstlib.testing); the tests check that those cells ran and said so.
	$(BIN)/python -m pytest -p no:cacheprovider tests/notebooks_imagenet

# The Colab path: a fresh environment with Colab's preinstalled packages (ipywidgets 7), nstlib installed by the
# notebooks' own setup cell from this clone's committed HEAD, every notebook in smoke mode (tools/colab_check.sh).
colab-check: setup
	$(BIN)/python -m nstlib weights fetch offline
	PYTHON=$(PYTHON) HOST_PYTHON=$(BIN)/python bash tools/colab_check.sh

# The studio, the course website and the slides in headless Chromium, driven by Playwright (Debian's
# chromium; no browser download). The website test needs a built site: the smoke build when there is none.
e2e: setup $(SITE)
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || $(MAKE) chromium
	$(BIN)/python -m nstlib weights fetch offline
	$(BIN)/python -m pytest tests/e2e -v

# The course website (build/book/html) and slides: every lesson run whole at full settings, its figures
# checked, a timing table printed (tools/build_book.py). About 20 minutes on a 2-core CPU; run before a
# release. `make book-smoke` is the seconds-per-lesson build CI makes; `make slides` makes only the slides.
$(BOOK_ASSETS):
	$(BIN)/python tools/build_book.py --fetch-assets
	touch $@

book-assets: setup $(BOOK_ASSETS)

book: setup $(BOOK_ASSETS)
	$(BIN)/python -m nstlib weights fetch auto
	$(BIN)/python tools/build_book.py

book-smoke: setup $(BOOK_ASSETS)
	$(BIN)/python -m nstlib weights fetch offline
	$(BIN)/python tools/build_book.py --smoke

$(SITE):
	$(MAKE) book-smoke

slides: setup $(BOOK_ASSETS)
	$(BIN)/python -m nstlib weights fetch auto
	$(BIN)/python tools/build_book.py --slides-only

# The lessons on nstlib.testing's ImageNet stand-in (a checkpoint in torchvision's format that is NOT ImageNet),
# in smoke mode, into build/book-standin: to read the text of the ImageNet branches against their outputs.
# Full settings or one lesson: python tools/build_book.py --standin [--smoke] [--only 03]
book-standin: setup $(BOOK_ASSETS)
	$(BIN)/python -m nstlib weights fetch offline
	$(BIN)/python tools/build_book.py --standin --smoke

# Copies of every lesson without its <details> solutions, for graded work: build/student-notebooks/.
student-notebooks: setup
	$(BIN)/python tools/student_notebooks.py

chromium:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  export DEBIAN_FRONTEND=noninteractive; \
	  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium; }; \
	else \
	  echo "The browser test needs Chromium: install it (sudo apt-get install chromium), or run"; \
	  echo "'make lint unit notebooks' for everything else."; exit 1; \
	fi

test: lint unit notebooks colab-check book-smoke e2e

# The benchmarks; the `bench` extra adds lucent, which bench_filters_lucent.py compares lesson 2 with.
bench: setup
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Small PNGs for the README, made by the project's own commands.
gallery: setup
	$(BIN)/python tools/make_gallery.py

clean-venv:
	rm -rf $(VENV)
