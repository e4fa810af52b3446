"""The lab's conclusion is generated, and the README says what the tables say."""

from __future__ import annotations

import json

import matplotlib
import pandas as pd
import pytest

from utils.common.repo import REPO_ROOT
from utils.lessons import findings as F
from utils.lessons.headline import HEADLINES
from utils.results.comparisons import (
    CONVERGED,
    LADDER_TOGGLE,
    THREAD_CULPRITS,
    all_results,
    lab_summary,
)
from utils.results.report import differences

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def lab():
    return lab_summary(all_results())


def test_the_readme_carries_the_generated_conclusion(lab):
    """Regenerate the README's sentence from the stored tables: it must agree (numbers to
    the last digit a CPU may move). `python -m utils.notebooks conclusion` rewrites it."""
    readme = (REPO_ROOT / "README.md").read_text()
    assert differences(F.readme_conclusion(readme), F.finding(lab)) == []
    # The classroom set's sentence, then the realistic task's: the finding names its task.
    assert F.readme_conclusion(readme).startswith("On the classroom set")
    assert "On a task as hard as the real one" in F.readme_conclusion(readme)


def test_the_readme_check_fails_when_the_tables_move(lab):
    moved = lab.copy()
    ladder = (moved.toggle == LADDER_TOGGLE) & (moved.budget == CONVERGED)
    moved.loc[ladder, "mean difference"] += 0.05
    readme = (REPO_ROOT / "README.md").read_text()
    assert differences(F.readme_conclusion(readme), F.finding(moved))


def test_the_conclusion_follows_the_share_of_the_effect_left_after_training():
    def table(late: float) -> pd.DataFrame:
        return pd.DataFrame([{"toggle": LADDER_TOGGLE, "framework": fw, "budget": b, "seeds": 10,
                              "mean difference": d, "verdict": "larger than seed noise"}
                             for fw in ("torch", "keras")
                             for b, d in ((12, 0.1), (CONVERGED, late))])

    assert "how fast the CRNN learns" in F.conclusion_sentence(table(0.01))
    assert "survives training" in F.conclusion_sentence(table(0.09))
    missing = table(0.01)
    assert "not stored at both budgets" in F.conclusion_sentence(missing[missing.budget == 12])


def test_a_readme_without_the_block_is_a_clear_error():
    with pytest.raises(ValueError, match="README.md: no conclusion block"):
        F.readme_conclusion("# no block here")


def test_the_closing_paragraph_names_the_thread_culprits_and_the_stopping_rule(lab):
    text = F.conclusion(all_results(), lab)
    assert text.startswith(F.conclusion_sentence(lab))
    for culprit in THREAD_CULPRITS:
        assert culprit in text
    assert "stopping rule" in text


def test_notebook_00_and_12_generate_what_they_state():
    """00's teaser and 12's conclusion are computed when the notebook runs, never typed."""
    cells = {nb: json.loads((REPO_ROOT / "notebooks" / nb).read_text())["cells"]
             for nb in ("00_start_here.ipynb", "12_what_the_lab_found.ipynb")}
    code = {nb: "".join("".join(c["source"]) for c in cs if c["cell_type"] == "code")
            for nb, cs in cells.items()}
    assert "finding()" in code["00_start_here.ipynb"]
    assert "conclusion(results, lab)" in code["12_what_the_lab_found.ipynb"]


def test_every_toggle_notebook_opens_with_its_headline_and_closes_with_a_recap():
    """The first figure after the setup is the headline (both budgets); the last cell
    generates what the learner should have seen."""
    for nn in HEADLINES:
        (path,) = (REPO_ROOT / "notebooks").glob(f"{nn}_*.ipynb")
        cells = json.loads(path.read_text())["cells"]
        setup = next(i for i, c in enumerate(cells)
                     if "".join(c["source"]).startswith("# Setup:"))
        first_code = next(c for c in cells[setup + 1:] if c["cell_type"] == "code")
        assert f'headline("{nn}"' in "".join(first_code["source"]), path.name
        assert f'what_you_should_have_seen("{nn}"' in "".join(cells[-1]["source"]), path.name


def test_the_closing_figures_draw(lab):
    fig = F.plot_every_default(lab)
    assert len(fig.axes) == 2
    fig = F.plot_ladder_both_budgets(all_results())
    assert [len(ax.get_xticklabels()) for ax in fig.axes] == [7, 7]


def test_every_notebook_closes_with_a_generated_recap():
    """01-11 end with a recap computed by utils.lessons.recaps (never typed); 00 ends with
    the generated teaser and 12 with its generated conclusion and detail."""
    for path in sorted((REPO_ROOT / "notebooks").glob("*.ipynb")):
        if path.name[:2] in ("00", "12"):
            continue
        last = "".join(json.loads(path.read_text())["cells"][-1]["source"])
        assert "from utils.lessons.recaps import" in last, path.name


def test_the_data_recap_reads_the_dataset():
    from utils.lessons.recaps import data_recap
    from utils.task.dataset import load_dataset

    ds = load_dataset("smoke", progress=False)
    text = data_recap(ds).data
    assert f"train {len(ds['train'].y)}" in text
    assert f"{ds['train'].y.sum(1).mean():.2f} labels" in text
