"""defaults-lab helpers: one small module per concern.

Each module's docstring names the notebook that introduces it (in the style of d2l).
"""
