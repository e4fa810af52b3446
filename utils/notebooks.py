"""``python -m utils.notebooks``: run the notebooks, or point their links at a fork.

A thin entry point kept so the documented command stays the same; the code is
:mod:`utils.lessons.notebooks`.
"""

import sys

from utils.lessons.notebooks import main

if __name__ == "__main__":
    sys.exit(main())
