"""Results: the stored grids of runs and what the lessons conclude from them.

- :mod:`~utils.results.grids` — which runs each table holds (:class:`Job`, ``GRIDS``)
- :mod:`~utils.results.store` — the CSV tables: safe reads, locked appends
- :mod:`~utils.results.engines` — where jobs run: this process, worker processes, a cluster
- :mod:`~utils.results.runner` — :func:`run_grid`: the rows a table lacks, with provenance
- :mod:`~utils.results.verify` — re-derive stored rows (identical or statistical)
- :mod:`~utils.results.stats` — seed statistics (intervals, verdicts)
- :mod:`~utils.results.comparisons` — settings one default apart, the toggle and size tables
"""
