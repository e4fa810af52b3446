"""``python -m utils.data``: build, list or export the embedded dataset.

A thin entry point kept so the documented command stays the same; the code is
:mod:`utils.task.dataset`.
"""

import sys

from utils.task.dataset import main

if __name__ == "__main__":
    sys.exit(main())
