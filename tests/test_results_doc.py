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


def test_a_grid_filling_up_says_how_many_settings_can_be_decided():
    from utils.networks.recipe import KERAS_2017, PYTORCH
    from utils.results.grids import _jobs
    from utils.results.report import _decidable
    from utils.results.stats import DECISIVE_SEEDS

    jobs = _jobs((KERAS_2017, PYTORCH), ["torch"], range(DECISIVE_SEEDS + 2))

    def row(job):
        return {"framework": job.framework, "preset": job.preset, "seed": job.seed,
                "data_seed": job.seed, "recipe": job.recipe.to_string()}

    ready = [j for j in jobs if j.recipe == KERAS_2017 and j.seed < DECISIVE_SEEDS]
    assert _decidable([row(j) for j in ready], jobs) == (
        f"; 1 of 2 settings have the {DECISIVE_SEEDS} seeds a verdict needs")
    assert "0 of 2" in _decidable([row(j) for j in ready[:-1]], jobs)  # one seed short
    assert _decidable([row(j) for j in jobs], jobs) == ""  # complete: nothing to say


def test_the_page_says_how_full_each_bh_family_is():
    import pandas as pd

    from utils.results.comparisons import CONVERGED, NOT_STORED, bh_families

    table = pd.DataFrame({"budget": [12, 12, CONVERGED, CONVERGED],
                          "verdict": ["v", "v", "v", NOT_STORED]})
    assert bh_families(table) == (
        "BH families: after 12 epochs, 2 of 2 comparisons; at convergence, 1 of 2 "
        "comparisons (the rest are not stored yet, so these q-values will move).")
