"""defaults-lab helpers, in layers that follow the data's way through the lab.

Each layer imports only from the layers above it in this list (a test checks it):

``common``
    what every layer shares: the repository root, atomic files, the one exception root,
    the machine (usable CPUs, floating-point path), quiet framework imports, pinned versions.
``task``
    DCASE 2017 Task 4: the 17 labels, the synthetic clips, log-mel features, the embedded
    dataset, the official file formats, micro-F1 and its thresholds.
``networks``
    the CRNN: the recipe (every default as a field), the shared architecture, the Keras and
    PyTorch builders, the Keras-compatible PyTorch GRU, both optimizers.
``training``
    one run from a recipe (trainer), the parity check, step-by-step trajectories, looking
    inside a model.
``results``
    the stored grids: which runs, the results store, the runner, verification, seed
    statistics, the comparisons the notebooks show.
``lessons``
    what the notebooks call: plots, the explorer, the defaults audit, the environment check,
    quoted facts, the notebook runner.

The modules ``utils.data``, ``utils.train``, ``utils.parity``, ``utils.experiments`` and
``utils.notebooks`` are the command lines (``python -m utils.train ...``). Each module's
docstring names the notebook that introduces it (in the style of d2l).

Imports sit at the top of each module, with one exception: PyTorch, TensorFlow/Keras,
librosa and papermill are imported inside the functions that use them wherever a light
caller (notebooks 00 and 01, the environment check, the command lines' argument checks)
imports the module. Each costs seconds and hundreds of MB, and TensorFlow's thread pools
can only be sized before it starts.
"""

import os as _os

# TensorFlow prints C++ start-up logs unless told otherwise before its first import; no
# notebook or CLI of the lab wants them.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
