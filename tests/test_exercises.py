"""Every exercise can be done as written: a template, a hidden solution, no undefined name,
and checks that accept the right answer and reject a wrong one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from utils.lessons.checks import (
    against_stored,
    check_01,
    check_02,
    check_05,
    check_06,
    check_10,
)
from utils.lessons.notebooks import notebook_paths

NOTEBOOKS = notebook_paths()
RUFF = Path(sys.executable).with_name("ruff")
IPYTHON_BUILTINS = ["display", "get_ipython"]  # names a notebook kernel defines itself
SOLUTION_LINE = "# Solution (click to show)"
# A call named in an exercise's text: `run_live(...)`, `utils.x.f(...)` (its first name).
CALLED = re.compile(r"`([A-Za-z_]\w*)[\w.]*\(")


def cells_of(nb: Path) -> list[dict]:
    cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
    for c in cells:
        c["text"] = "".join(c["source"])
        c["tags"] = c.get("metadata", {}).get("tags", [])
    return cells


def exercise_indices(cells: list[dict]) -> list[int]:
    return [i for i, c in enumerate(cells)
            if c["cell_type"] == "markdown" and "## Exercise" in c["text"]]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_template_then_a_hidden_solution(nb):
    cells = cells_of(nb)
    found = exercise_indices(cells)
    assert found, f"{nb.name}: no '## Exercise' cell"
    for i in found:
        template, solution = cells[i + 1:i + 3]
        where = f"{nb.name}, cell {cells[i]['id']}"
        assert template["cell_type"] == "code" and "exercise" in template["tags"], \
            f"{where}: not followed by a code cell tagged 'exercise' (the template)"
        assert solution["cell_type"] == "code" and "solution" in solution["tags"], \
            f"{where}: the template is not followed by a code cell tagged 'solution'"
        assert solution["metadata"].get("jupyter", {}).get("source_hidden") is True, \
            f"{where}: the solution is not hidden (metadata jupyter.source_hidden)"
        assert solution["text"].splitlines()[0] == SOLUTION_LINE, \
            f"{where}: the solution's first line is not {SOLUTION_LINE!r}"
    # And the other way round: no template or solution without its exercise.
    tagged = [i for i, c in enumerate(cells) if {"exercise", "solution"} & set(c["tags"])]
    assert tagged == [j for i in found for j in (i + 1, i + 2)], f"{nb.name}: stray cells"


def as_python(cells: list[dict]) -> str:
    """The notebook's code cells in order, and after each exercise's template a bare line for
    each name its text calls: an undefined one is reported where the learner meets it."""
    lines = []
    for i, c in enumerate(cells):
        if c["cell_type"] == "code":
            lines += [line for line in c["text"].splitlines() if not line.startswith(("%", "!"))]
        if "exercise" in c["tags"] and i and cells[i - 1]["cell_type"] == "markdown":
            lines += sorted(set(CALLED.findall(cells[i - 1]["text"])))
    return "\n".join(lines) + "\n"


def undefined_names(source: str) -> list[str]:
    """Names used before anything defines or imports them (ruff's F821), one per finding."""
    out = subprocess.run([str(RUFF), "check", "--isolated", "--select", "F821",
                          "--config", f"builtins = {IPYTHON_BUILTINS}", "--output-format", "json",
                          "--stdin-filename", "notebook.py", "-"],
                         input=source, capture_output=True, text=True, check=False)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"ruff failed: {out.stderr}")
    return [f"line {d['location']['row']}: {d['message']}" for d in json.loads(out.stdout)]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_cell_or_exercise_uses_a_name_before_it_is_defined(nb):
    assert undefined_names(as_python(cells_of(nb))) == [], nb.name


def test_the_name_check_can_fail():
    cells = [{"cell_type": "markdown", "text": "## Exercise\nUse `paired(a, b)`.", "tags": []},
             {"cell_type": "code", "text": "x = 1", "tags": ["exercise"]},
             {"cell_type": "code", "text": "print(y)", "tags": []}]
    found = undefined_names(as_python(cells))
    assert len(found) == 2 and "paired" in found[0] and "y" in found[1]


# --- the checks: the right answer accepted, a wrong one rejected --------------------------

def test_check_01(capsys):
    y_true = np.array([[1, 0, 0], [0, 1, 0]])
    y_pred = np.array([[1, 0, 0], [0, 0, 0]])
    false_positive = y_pred.copy()
    false_positive[0, 2] = 1
    assert check_01(y_true, y_pred, false_positive)
    assert "false positive" in capsys.readouterr().out
    lost_tp = y_pred.copy()
    lost_tp[0, 0] = 0  # F1 drops, but a true positive is gone
    assert not check_01(y_true, y_pred, lost_tp)
    assert capsys.readouterr().out.startswith("✗")
    with pytest.raises(ValueError, match="exercise 01: y_new has shape"):
        check_01(y_true, y_pred, y_pred[:1])


def test_check_02():
    stored = [0.50, 0.55, 0.60, 0.52]
    right = (max(stored) - min(stored)) / float(np.median(stored))
    assert check_02(right, stored) and not check_02(right / 2, stored)
    with pytest.raises(ValueError, match="at least 2"):
        check_02(0.1, [0.5])


def trajectory(keras_after: float, pytorch_after: float) -> pd.DataFrame:
    return pd.DataFrame({"lr": [0.01, 0.01, 0.05, 0.05],
                         "step keras formula": [1.0, 1.0, keras_after, 1.0],
                         "step pytorch formula": [1.0, 1.0, pytorch_after, 1.0]})


def test_check_05():
    assert check_05("pytorch", trajectory(2.0, 5.0))
    assert not check_05("keras", trajectory(2.0, 5.0))
    assert check_05("Keras ", trajectory(5.0, 2.0))  # read from the table, not typed in
    with pytest.raises(ValueError, match="not one of"):
        check_05("both", trajectory(2.0, 5.0))
    with pytest.raises(ValueError, match="never rises"):
        check_05("pytorch", trajectory(2.0, 5.0).assign(lr=0.01))


def saturation(keras2: float, keras3: float) -> pd.DataFrame:
    idx = pd.MultiIndex.from_product([["Keras-2 hard sigmoid", "Keras-3 hard sigmoid"],
                                      ["z", "r"]])
    return pd.DataFrame({"exactly 0": [keras2, keras2, keras3, keras3],
                         "exactly 1": [0.0] * 4}, index=idx)


def test_check_06():
    assert check_06("less", saturation(0.2, 0.1)) and not check_06("more", saturation(0.2, 0.1))
    assert check_06("more", saturation(0.1, 0.2))
    with pytest.raises(ValueError, match="no 'Keras-3 hard sigmoid' rows"):
        check_06("less", saturation(0.2, 0.1).loc[["Keras-2 hard sigmoid"]])


def test_check_10():
    live = pd.DataFrame({"backend": ["TF", "JAX"] * 2, "seed": [0, 0, 1, 1],
                         "test F1": [0.50, 0.50, 0.58, 0.57]})
    assert check_10("seeds", live) and not check_10("backends", live)
    swapped = live.assign(backend=["TF", "TF", "JAX", "JAX"], seed=[0, 1, 0, 1])
    assert check_10("backends", swapped)
    with pytest.raises(ValueError, match="LIVE_SEEDS = \\[0, 1\\]"):
        check_10("seeds", live[live.seed == 0])


def test_against_stored_pairs_by_seed(capsys):
    stored = {s: 0.5 + 0.01 * s for s in range(8)}
    better = {s: v + 0.05 for s, v in stored.items() if s < 6}
    r = against_stored("mine", stored, better, base="PYTORCH")
    assert r.n == 6 and r.diff == pytest.approx(0.05) and r.ci_low > 0
    assert "mine minus PYTORCH, 6 seeds paired" in capsys.readouterr().out
    assert against_stored("mine", stored, {0: 0.7, 1: 0.7}) is None  # two seeds: no pairing
    assert "at least 3 shared seeds" in capsys.readouterr().out
