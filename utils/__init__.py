"""defaults-lab helpers: one small module per concern.

Each module's docstring names the notebook that introduces it (in the style of d2l).
"""

import os as _os

# TensorFlow prints C++ start-up logs unless told otherwise before its first import; no
# notebook or CLI of the lab wants them.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
