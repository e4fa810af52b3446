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

    table = pd.DataFrame({"budget": [12, 12, CONVERGED, CONVERGED], "seeds": [10, 10, 6, 6],
                          "verdict": ["v", "v", "v", NOT_STORED]})
    assert bh_families(table) == (
        "BH families: after 12 epochs, 2 of 2 comparisons (to call a comparison larger, BH "
        "must call at least 1 of them larger if it has 10 paired seeds); at convergence, 1 "
        "of 2 comparisons (to call a comparison larger, BH must call at least 1 of them "
        "larger if it has 6 paired seeds; the rest are not stored yet, so these q-values "
        "will move).")


def test_the_rows_left_are_costed_from_their_setting_then_their_kind():
    from utils.networks.recipe import KERAS_2017, PYTORCH
    from utils.results.grids import Job
    from utils.results.report import _left

    def row(job, seconds):
        return {"framework": job.framework, "preset": job.preset, "seed": job.seed,
                "recipe": job.recipe.to_string(), "seconds": seconds}

    jobs = [Job(r, "torch", s) for r in (KERAS_2017, PYTORCH) for s in range(4)]
    jobs.append(Job(KERAS_2017, "torch", 0, "x4"))
    # KERAS_2017's three stored seeds cost its last one their median (2 h); PYTORCH has
    # none, so its four take the median of every stored torch classroom run, here and in
    # another trained grid (0.5 h: of 1, 2, 3 and four of 0.5 h); the x4 job has no run of
    # its kind to go by.
    rows = [row(jobs[0], 3600.0), row(jobs[1], 7200.0), row(jobs[2], 10800.0)]
    other = [row(Job(PYTORCH, "torch", 9), 1800.0)] * 4
    assert _left(rows, jobs, rows + other) == (
        "; the 6 rows left: about 4.0 CPU-hours for the 5 whose kind has stored runs, at "
        "their speed, and 1 with no stored run of its kind to estimate from (torch on x4)")
    # With no estimate at all, no total is given.
    assert _left([], jobs[-1:], rows) == (
        "; the 1 row left: no stored run of its kind to estimate from (torch on x4)")
    assert _left(rows, jobs[:4], rows) == (
        "; the 1 row left: about 2.0 CPU-hours at the speed of the stored runs")
    assert _left([row(j, 1.0) for j in jobs], jobs, []) == ""  # complete: nothing to say
