"""The benchmark's notebook choice (benchmarks/run.py --notebooks): by number, and a number
that matches no notebook is refused with the ones that exist."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.run import chosen_notebooks
from utils.common.repo import REPO_ROOT


def test_notebooks_are_chosen_by_number_in_the_order_given():
    assert [p.name[:3] for p in chosen_notebooks(["10", "9"])] == ["10_", "09_"]
    assert len(chosen_notebooks(None)) == len(list((REPO_ROOT / "notebooks").glob("[0-9]*")))


def test_an_unknown_notebook_number_is_refused():
    with pytest.raises(ValueError, match=r"no notebook numbered \['42'\].*'10'"):
        chosen_notebooks(["10", "42"])
    out = subprocess.run([sys.executable, "benchmarks/run.py", "--notebooks", "42"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "no notebook numbered ['42']" in out.stderr
