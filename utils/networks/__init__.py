"""The networks: one CRNN, built in two frameworks from one recipe.

- :mod:`~utils.networks.recipe` — :class:`Recipe` (every default as a field), the presets
  ``KERAS_2017`` and ``PYTORCH``, the ladder of one-default steps
- :mod:`~utils.networks.architecture` — the shapes both builders share
- :mod:`~utils.networks.gru_torch` — a PyTorch GRU with Keras' gates and initialisers
- :mod:`~utils.networks.model_keras`, :mod:`~utils.networks.model_torch` — the builders
- :mod:`~utils.networks.optimizers` — SGD-Nesterov and Adam with either framework's rule
"""
