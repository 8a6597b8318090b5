"""``google.colab.output`` stand-in: there is no browser in CI, so the webcam bridge reports that clearly."""


def eval_js(script, ignore_result=False, timeout_sec=None):
    raise RuntimeError("google.colab stand-in: no browser to run JavaScript in (make colab-check)")
