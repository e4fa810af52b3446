"""Sphinx settings of the reading copy (``make book``): the executed notebooks as pages.

The book never runs a notebook (``nb_execution_mode = "off"``): it renders the outputs
that ``make run`` stored. ``utils/lessons/book.py`` assembles the source folder (this
folder's index.md, the notebooks, README.md and docs/) and runs Sphinx on it.
"""

project = "defaults-lab"
author = "the defaults-lab authors"
extensions = ["myst_nb"]
nb_execution_mode = "off"
# GitHub-style anchors on every heading, so that links like
# ../docs/sources.md#qa-thread resolve in the book as they do on GitHub.
myst_heading_anchors = 6
myst_enable_extensions = ["dollarmath"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "alabaster"
html_title = "defaults-lab: the reading copy"
