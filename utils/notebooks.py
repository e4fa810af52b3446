"""``python -m utils.notebooks``: run the notebooks, point their links at a fork, write
their course headers, or write the lab's generated conclusion into the README.

A thin entry point kept so the documented command stays the same; the code is
:mod:`utils.lessons.notebooks`, and for ``course [--check]`` :mod:`utils.lessons.course`
(which reads the notebook map of the former, so it is dispatched here, above both), and for
``conclusion [--check]`` :mod:`utils.lessons.findings`.
"""

import sys

from utils.lessons.notebooks import main

if __name__ == "__main__":
    if sys.argv[1:2] == ["course"]:
        from utils.lessons.course import main as course_main

        sys.exit(course_main(sys.argv[2:]))
    if sys.argv[1:2] == ["conclusion"]:
        from utils.lessons.findings import main as conclusion_main

        sys.exit(conclusion_main(sys.argv[2:]))
    sys.exit(main())
