"""Lessons: what the notebooks call, so they keep only the story.

- :mod:`~utils.lessons.env_check` — the environment check in every first cell
- :mod:`~utils.lessons.reference` — published figures the lab is compared with
- :mod:`~utils.lessons.plots` — every figure
- :mod:`~utils.lessons.toggles` — one call per toggle in 04–09: strips, curves, verdicts
- :mod:`~utils.lessons.explorer` — the interactive explorer of 08
- :mod:`~utils.lessons.audit` — the installed frameworks' defaults, read at run time (10)
- :mod:`~utils.lessons.notebooks` — run the notebooks (``make run``, CI), repository links
"""
