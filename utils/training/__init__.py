"""Training: one run from a recipe, and the tools that look at runs closely.

- :mod:`~utils.training.trainer` — :func:`train` (recipe + data + seed → scores, curves)
- :mod:`~utils.training.parity` — the Keras and PyTorch CRNNs compute the same function
- :mod:`~utils.training.trajectories` — two trainings step by step from the same start
- :mod:`~utils.training.inspection` — weights, activations, gradients, GRU gates
- :mod:`~utils.training.keras_backends` — the Keras CRNN on TensorFlow, JAX or PyTorch,
  each backend in a process of its own (:mod:`~utils.training.backend_worker`)
- :mod:`~utils.training.backend_parity` — the Keras CRNN computes the same function and
  takes the same step on all three backends
"""
