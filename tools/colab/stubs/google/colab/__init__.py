"""A stand-in for Colab's ``google.colab`` package, for ``make colab-check`` only (tools/colab_check.sh).

A Colab kernel imports it at start-up, which is how the notebooks' setup cell knows it runs on Colab. Only what
nstlib touches is here: ``output.eval_js`` (the webcam bridge), which has no browser behind it in CI.
"""

from . import output  # noqa: F401

STANDIN = True
