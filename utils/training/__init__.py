"""Training: one run from a recipe, and the tools that look at runs closely.

- :mod:`~utils.training.trainer` — :func:`train` (recipe + data + seed → scores, curves)
- :mod:`~utils.training.parity` — the Keras and PyTorch CRNNs compute the same function
- :mod:`~utils.training.trajectories` — two trainings step by step from the same start
- :mod:`~utils.training.inspection` — weights, activations, gradients, GRU gates
"""
