"""Sphinx configuration of the course website, built by tools/build_book.py from executed notebooks.

Everything the pages need is served from the site itself (theme, fonts, MathJax), so the site works in a
classroom without network; the build checks that no page loads anything from elsewhere.
"""

import os

from nstlib import config

project = "Seeing what convolutional networks see"
author = "the course authors"
copyright = "the course authors, MIT licence"

extensions = ["myst_nb"]
myst_enable_extensions = ["dollarmath", "amsmath"]
nb_execution_mode = "off"  # tools/build_book.py has run and checked every lesson already
nb_merge_streams = True
exclude_patterns = ["_build", "_*.md", "**.ipynb_checkpoints"]
suppress_warnings = ["myst.header"]  # lessons use ### for small asides under a ## section

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["_static"]
html_css_files = ["course.css"]
html_last_updated_fmt = ""
html_theme_options = {
    "repository_url": f"https://github.com/{config.REPOSITORY}",
    "repository_branch": config.BRANCH,
    "use_repository_button": True,
    "show_toc_level": 2,
    "home_page_in_toc": True,
}
mathjax_path = "mathjax/tex-svg-full.js"  # copied into _static by the build: no CDN

language = os.environ.get("NSTLIB_BOOK_LANGUAGE", "en")  # "ko": the Korean edition, built under ko/
if language == "ko":
    project = "컨브넷은 무엇을 보는가"
    html_title = project
    html_css_files.append("korean.css")  # the Hangul font, copied into _static by the build

if os.environ.get("NSTLIB_BOOK_SMOKE") == "1":  # CI's build: tiny images, few steps
    html_title += " (smoke build)" if language == "en" else " (스모크 빌드)"


def _alt_text(app, doctree):
    """Give each figure the description its notebook cell carries (tools/alt_text.py): MyST-NB names a
    picture's file after its sha256 and would otherwise use the file's path as its alt text."""
    import json
    from pathlib import Path, PurePosixPath

    from docutils import nodes

    table = Path(app.srcdir) / "_alt_text.json"  # written by tools/build_book.py
    alts = json.loads(table.read_text()) if table.exists() else {}
    for image in doctree.findall(nodes.image):
        text = alts.get(PurePosixPath(image["uri"]).stem)
        if text:
            image["alt"] = text


def setup(app):
    app.connect("doctree-read", _alt_text)
    return {"parallel_read_safe": True}
