"""``python -m utils.parity``: check that the Keras and PyTorch CRNNs are the same network.

A thin entry point kept so the documented command stays the same; the code is
:mod:`utils.training.parity`.
"""

import sys

from utils.training.parity import main

if __name__ == "__main__":
    sys.exit(main())
