"""The task: DCASE 2017 Task 4, Subtask A (clip-level tagging of 17 sound classes).

- :mod:`~utils.task.labels` — the 17 classes and their real per-split counts
- :mod:`~utils.task.synthesis` — procedural DCASE-shaped clips
- :mod:`~utils.task.features` — log-mel features and input scalings
- :mod:`~utils.task.dataset` — the embedded dataset presets, the cache, loading, export
- :mod:`~utils.task.dcase_io` — the official label, list, audio and submission files
- :mod:`~utils.task.dcase_data` — the official files as a lab dataset (build --from-dcase)
- :mod:`~utils.task.dcase_fixture` — a small folder in the official layout, for tests
- :mod:`~utils.task.submission` — a Subtask-A file from predictions, and its score
- :mod:`~utils.task.metrics` — micro-F1 and per-class thresholds
"""
