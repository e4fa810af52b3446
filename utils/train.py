"""``python -m utils.train``: train one run (last line ``test_f1=<x> seconds=<s>``).

A thin entry point kept so the documented command stays the same; the code is
:mod:`utils.training.trainer`.
"""

import sys

from utils.training.trainer import main

if __name__ == "__main__":
    sys.exit(main())
