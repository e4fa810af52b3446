"""Every notebook: committed clean, has a papermill parameters cell, runs in smoke mode."""

from __future__ import annotations

import json
import re

import pytest

from utils.lessons.notebooks import error_outputs, execute, notebook_paths

NOTEBOOKS = notebook_paths()


def test_there_are_notebooks():
    assert [p.name[:2] for p in NOTEBOOKS][:2] == ["00", "01"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_clean_with_a_parameters_cell(nb):
    data = json.loads(nb.read_text(encoding="utf-8"))
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    assert "widgets" not in data["metadata"]
    params = [c for c in code if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1 and "SMOKE = False" in "".join(params[0]["source"])
    # Cell ids name the notebook and the cell's place ("05-03"): a link or a review comment
    # to a cell says where it is, and a cell copied from another notebook is renamed.
    assert [c.get("id") for c in data["cells"]] == [
        f"{nb.name[:2]}-{i:02d}" for i in range(len(data["cells"]))]


# Calls that train, load a dataset or look up stored rows of a dataset.
USES_DATA = re.compile(r"\b(load_dataset|train|run_live|show|Explorer|Setting|rows_of|f1_of|"
                       r"stored_rows|lab_summary)\(")
HARD_CODED = re.compile(r"""["']classroom["']""")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_one_data_parameter_names_the_dataset(nb):
    """A notebook that uses a dataset names it once, as ``DATA`` in its parameters cell
    (``papermill -p DATA dcase``); no other code cell chooses "classroom" itself."""
    code = [c for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code"]
    params = ["".join(c["source"]) for c in code
              if "parameters" in c.get("metadata", {}).get("tags", [])]
    rest = ["".join(c["source"]) for c in code
            if "parameters" not in c.get("metadata", {}).get("tags", [])]
    if not any(USES_DATA.search(src) for src in rest):
        return
    assert re.search(r"^DATA = [\"']classroom[\"']", params[0], re.M), \
        f"{nb.name}: no DATA parameter in its parameters cell"
    hard = [line.strip() for src in rest for line in src.splitlines() if HARD_CODED.search(line)]
    assert hard == [], f"{nb.name}: dataset hard-coded outside the parameters cell: {hard}"


@pytest.mark.notebook
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom_in_smoke_mode(nb, tmp_path, smoke_data_root):
    out = execute(nb, tmp_path, smoke=True, timeout=600)
    assert error_outputs(out) == []
    cells = json.loads(out.read_text(encoding="utf-8"))["cells"]
    stderr = [o for c in cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert stderr == [], f"warning spam in {nb.name}: {stderr[:2]}"
    images = [o for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, f"{nb.name} rendered no figure"
