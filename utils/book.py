"""``python -m utils.book``: the executed notebooks as a static reading copy (``make book``).

A thin entry point; the code is :mod:`utils.lessons.book`.
"""

import sys

from utils.lessons.book import main

if __name__ == "__main__":
    sys.exit(main())
