"""docs/results.md says what the stored tables say: regenerated here, compared line by line."""

from __future__ import annotations

import re

from utils.common.repo import REPO_ROOT
from utils.results.report import COMMAND, differences, render
from utils.task.dataset import load_dataset

PAGE = REPO_ROOT / "docs" / "results.md"


def test_the_results_page_is_regenerated_from_the_stored_tables():
    y_test = load_dataset("classroom", progress=False)["test"].y
    diffs = differences(PAGE.read_text(encoding="utf-8"), render(y_test))
    assert not diffs, (f"docs/results.md is stale: run `{COMMAND}` and commit it with the "
                       f"rows\n" + "\n".join(diffs[:10]))


def test_the_staleness_check_sees_one_changed_number_or_word():
    page = PAGE.read_text(encoding="utf-8")
    line = next(x for x in page.splitlines() if re.search(r"\| 0\.\d{3} \|", x))
    number = re.search(r"0\.\d{3}", line).group()
    moved = page.replace(line, line.replace(number, f"{float(number) + 0.01:.3f}", 1), 1)
    assert len(differences(page, moved)) == 1
    reworded = page.replace("larger than seed noise", "within seed noise", 1)
    assert len(differences(page, reworded)) == 1
    assert differences(page, page + "\nextra\n")  # a line more
