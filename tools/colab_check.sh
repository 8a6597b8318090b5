#!/usr/bin/env bash
# A stand-in for the path most students take: a notebook opened from its Colab badge.
#
#   make colab-check      (part of make test)
#
# 1. A virtual environment (.venv-colab) with what a Colab runtime preinstalls that matters here
#    (tools/colab/requirements.txt: torch, torchvision, matplotlib, ipywidgets 7.7.1 ...) and no nstlib.
# 2. Every English notebook (and Korean lessons 0 and 1) runs in smoke mode under nbval in that environment, in a kernel that has imported
#    `google.colab` (a stand-in, tools/colab/stubs), so the setup cell takes its Colab branch unchanged: it
#    pip-installs nstlib with --no-deps from the public repository's address, which git rewrites to this
#    clone (its committed HEAD: commit before running), then runs `weights fetch auto`.
# 3. The weights are what Colab gets from `fetch auto`: torchvision's checkpoints, here the ImageNet stand-in
#    (nstlib.testing, NOT ImageNet) in a TORCH_HOME that holds nothing else (the one the tests share, written
#    once per offline pack), and an empty NSTLIB_HOME.
# 4. The widget tests run against the nstlib the setup cell installed and ipywidgets 7.
#
# What this cannot check: Colab's real front end (widgets drawn by Colab's ipywidgets 7 JavaScript, uploads,
# the webcam), its GPU, its network, and the exact versions Colab ships on a given day.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
VENV=${COLAB_VENV:-.venv-colab}
REQUIREMENTS=tools/colab/requirements.txt
HOST_PYTHON=${HOST_PYTHON:-.venv/bin/python}  # the project's venv: writes or reuses the stand-in checkpoints

if [ -n "$(git status --porcelain -- nstlib pyproject.toml)" ]; then
  echo "colab-check: nstlib/ or pyproject.toml has uncommitted changes; the setup cell installs the committed"
  echo "HEAD (as Colab installs what is pushed), so commit them first to have them checked."
fi

if [ ! -f "$VENV/.colab-ready" ] || [ "$REQUIREMENTS" -nt "$VENV/.colab-ready" ]; then
  rm -rf "$VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  touch "$VENV/.colab-ready"
fi
"$VENV/bin/python" -m pip uninstall --quiet --disable-pip-version-check -y nstlib >/dev/null 2>&1 || true

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
repository=$(sed -n 's/^REPOSITORY = "\(.*\)"$/\1/p' nstlib/config.py)
test -n "$repository"
# pip clones https://github.com/$repository: git fetches this clone instead.
git config -f "$work/gitconfig" url."file://$ROOT".insteadOf "https://github.com/$repository"
# A Colab kernel has imported google.colab before the first cell runs.
mkdir -p "$work/ipython/profile_default/startup" "$work/nstlib-home"
echo "import google.colab" >"$work/ipython/profile_default/startup/00-colab.py"
# The stand-ins kept in the host's NSTLIB_HOME (reused when the tests wrote them for this offline pack).
standin_torch_home=$("$HOST_PYTHON" -m nstlib.testing)
test -n "$standin_torch_home"

export PATH="$ROOT/$VENV/bin:$PATH"  # `!python -m nstlib ...` in the setup cell finds the kernel's Python
export GIT_CONFIG_GLOBAL="$work/gitconfig" IPYTHONDIR="$work/ipython" PYTHONPATH="$ROOT/tools/colab/stubs"
export TORCH_HOME="$standin_torch_home" NSTLIB_HOME="$work/nstlib-home" NSTLIB_SMOKE=1 MPLBACKEND=Agg
unset NSTLIB_WEIGHTS

"$VENV/bin/python" -c "import ipywidgets, torch; print('Colab stand-in: ipywidgets', ipywidgets.__version__, \
'| torch', torch.__version__)"
# The English lessons, and the first two Korean ones: their setup cell's install brings the Hangul font.
"$VENV/bin/pytest" --nbval-lax -p no:cacheprovider notebooks --ignore=notebooks/ko \
  notebooks/ko/00_setup_and_tour.ipynb notebooks/ko/01_intermediate_activations.ipynb

# The setup cell installed nstlib (not editable, without dependencies) into the Colab environment.
(cd "$work" && "$ROOT/$VENV/bin/python" -c "
import nstlib, ipywidgets
assert 'site-packages' in nstlib.__file__, nstlib.__file__
assert ipywidgets.__version__.startswith('7.'), ipywidgets.__version__
print('nstlib', nstlib.__version__, 'installed by the setup cell at', nstlib.__file__)")
# `pytest` (not `python -m pytest`) keeps the working tree off sys.path: the installed nstlib is tested. The
# tests bring their own google.colab fake where they need one.
env -u PYTHONPATH "$VENV/bin/pytest" -p no:cacheprovider -q tests/test_widgets.py
