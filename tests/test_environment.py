"""Set-up files agree with each other: pins, conda environments, Binder, CI, README."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from utils.common.repo import REPO_ROOT
from utils.common.versions import normalise, read_pins, same_release
from utils.lessons.env_check import REPO_SLUG
from utils.lessons.notebooks import (
    NOTEBOOK_MAP,
    binder_url,
    check_slug,
    colab_url,
    notebook_paths,
    repo_mentions,
    repository_url,
    set_repo,
)

REPO = REPO_ROOT


def _conda_pip_pins(path: Path) -> dict[str, str]:
    env = yaml.safe_load(path.read_text(encoding="utf-8"))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    pins = {}
    for item in pip:
        if item.startswith("-"):
            continue
        assert "==" in item, f"{path}: {item!r} is not pinned"
        name, version = item.split("==")
        pins[normalise(name)] = version
    return pins


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_conda_environments_agree_with_the_pins(env_file):
    pins = read_pins(REPO / "requirements-dev.txt") | read_pins(REPO / "requirements.txt")
    conda = _conda_pip_pins(REPO / env_file)
    shared = set(pins) & set(conda)
    assert shared >= set(read_pins(REPO / "requirements.txt")), "runtime pins missing"
    mismatched = {n: (pins[n], conda[n]) for n in shared if not same_release(pins[n], conda[n])}
    assert not mismatched, f"{env_file} disagrees with requirements: {mismatched}"
    env = yaml.safe_load((REPO / env_file).read_text())
    assert "python=3.11" in env["dependencies"]


@pytest.mark.parametrize("env_file", ["environment.yml", "binder/environment.yml"])
def test_conda_environments_take_a_cpu_torch(env_file):
    pip = next(d["pip"] for d in yaml.safe_load((REPO / env_file).read_text())["dependencies"]
               if isinstance(d, dict))
    assert "torch==2.13.0+cpu" in pip
    assert any(i.startswith("--extra-index-url") and i.endswith("/whl/cpu") for i in pip)


def test_torch_is_pinned_everywhere():
    assert read_pins(REPO / "requirements.txt")["torch"] == "2.13.0"


def test_unpinned_requirement_is_a_clear_error(tmp_path):
    bad = tmp_path / "req.txt"
    bad.write_text("numpy==2.4.6\ntorch\n")
    with pytest.raises(ValueError, match=r"req.txt line 2: expected an exact pin"):
        read_pins(bad)


def test_binder_postbuild_builds_data_and_warms_numba():
    text = (REPO / "binder" / "postBuild").read_text()
    assert "set -e" in text
    assert "utils.data build --preset classroom" in text
    assert "librosa" in text
    assert (REPO / "binder" / "postBuild").stat().st_mode & 0o111


def test_ci_calls_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    ci = (REPO / ".ci" / "run").read_text()
    assert "make test" in ci
    # The README's first two commands are exactly the two set-up commands.
    commands = re.findall(r"^\s*(make \w+)\s*$", readme, flags=re.M)
    assert commands[:2] == ["make run", "make test"]


def test_readme_has_badges_for_every_notebook():
    readme = (REPO / "README.md").read_text()
    for nb in notebook_paths():
        assert binder_url(nb.name) in readme, nb.name
        assert colab_url(nb.name) in readme, nb.name
        assert f"mybinder.org/v2/gh/{REPO_SLUG}/main?" in readme


def test_the_readme_table_has_one_row_per_notebook_with_its_own_badges():
    """Every notebook of the map has a row, in teaching order, whether or not its file is in
    this copy yet; every notebook file has a row; each row's badges open that notebook."""
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\| `(\d\d_\w+)` \|(.*)$", readme, flags=re.M)
    names = [f"{name}.ipynb" for name, _ in rows]
    assert names == list(NOTEBOOK_MAP), "README's notebook table and NOTEBOOK_MAP differ"
    assert {p.name for p in notebook_paths()} <= set(names)
    for name, rest in zip(names, (rest for _, rest in rows), strict=True):
        badges = re.findall(r"\)\]\((https://[^)]+)\)", rest)  # [![img](src)](link)
        assert badges == [binder_url(name), colab_url(name)], name


def test_the_repository_url_is_written_in_one_place():
    """pyproject.toml names the repository; every badge and Colab cell agrees with it."""
    assert repository_url() == f"https://github.com/{REPO_SLUG}"
    mentions = repo_mentions()
    kinds = {kind for _, kind, _ in mentions}
    assert kinds == {"binder badge", "colab badge", "colab clone"}
    clones = {file for file, kind, _ in mentions if kind == "colab clone"}
    assert clones == {f"notebooks/{p.name}" for p in (REPO / "notebooks").glob("*.ipynb")}
    wrong = [m for m in mentions if m[2] != REPO_SLUG]
    assert not wrong, f"links that disagree with pyproject.toml: {wrong}"


def test_set_repo_rewrites_every_link_for_a_fork(tmp_path):
    import shutil

    shutil.copy(REPO / "pyproject.toml", tmp_path)
    shutil.copy(REPO / "README.md", tmp_path)
    shutil.copytree(REPO / "notebooks", tmp_path / "notebooks",
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    before = {p.name: p.read_text() for p in (tmp_path / "notebooks").glob("*.ipynb")}
    changed = set_repo("someone/my-lab", root=tmp_path)
    assert len(changed) == 2 + len(before)
    assert repository_url(tmp_path) == "https://github.com/someone/my-lab"
    assert {slug for _, _, slug in repo_mentions(tmp_path)} == {"someone/my-lab"}
    for name, text in before.items():  # only the URL changed, and the JSON is still valid
        after = (tmp_path / "notebooks" / name).read_text()
        assert after == text.replace(f"github.com/{REPO_SLUG}", "github.com/someone/my-lab")
        json.loads(after)
    assert set_repo("someone/my-lab", root=tmp_path) == []
    with pytest.raises(ValueError, match="OWNER/NAME"):
        set_repo("not a slug", root=tmp_path)


@pytest.mark.parametrize("slug", ["a/b", "a-b-c/x.y_z-1", "o" * 39 + "/" + "n" * 100,
                                  "someone/.github", "someone/..x"])
def test_set_repo_takes_what_github_takes(slug):
    assert check_slug(slug) == slug


@pytest.mark.parametrize("slug, says", [
    ("some.one/lab", "owner 'some.one'"), ("-me/lab", "owner '-me'"), ("me-/lab", "owner"),
    ("m--e/lab", "owner 'm--e'"), ("o" * 40 + "/lab", "owner"), ("me/" + "n" * 101, "1 to 100"),
    ("me/.", "'.'"), ("me/..", "'..'"), ("me/lab.git", "'.git'"), ("me/lab.GIT", "'.git'"),
    ("me/la b", "repository name 'la b'"), ("me/", "repository name ''"), ("me", "OWNER/NAME"),
    ("me/lab/x", "OWNER/NAME"),
])
def test_set_repo_refuses_what_github_refuses(slug, says, tmp_path):
    with pytest.raises(ValueError, match=re.escape(says)):
        set_repo(slug, root=tmp_path)  # refused before any file is read
    assert list(tmp_path.iterdir()) == []


def test_every_notebook_is_in_the_map():
    assert {p.name for p in notebook_paths()} <= set(NOTEBOOK_MAP)


def test_colab_installs_only_pinned_packages_the_lab_pins_too():
    colab = read_pins(REPO / "requirements-colab.txt")
    runtime = read_pins(REPO / "requirements.txt")
    assert colab and all(runtime.get(name) == version for name, version in colab.items())
    # Colab keeps its own torch and TensorFlow: pinning them there would mean a reinstall.
    assert not {"torch", "tensorflow", "tensorflow-cpu"} & set(colab)


@pytest.mark.parametrize("nb", sorted((REPO / "notebooks").glob("*.ipynb")), ids=lambda p: p.name)
def test_first_code_cells_set_up_colab(nb):
    import json

    cells = [c for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
             if c["cell_type"] == "code"]
    setup = "".join(cells[1]["source"])  # after the parameters cell
    for needed in ('"google.colab" in sys.modules', "git\", \"clone\"", "LAB_REPO",
                   "defaults-lab/requirements-colab.txt", "enable_custom_widget_manager",
                   "report(mode="):
        assert needed in setup, f"{nb.name}: setup cell lacks {needed}"


def _code_cells(nb: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(nb.read_text(encoding="utf-8"))["cells"]
            if c["cell_type"] == "code"]


WITH_DATA = [nb for nb in sorted((REPO / "notebooks").glob("*.ipynb"))
             if re.search(r"^DATA = ", _code_cells(nb)[0], re.M)]


def test_the_lessons_have_a_data_parameter():
    assert WITH_DATA, "no notebook matches the DATA parameter pattern above"


@pytest.mark.parametrize("nb", WITH_DATA, ids=lambda p: p.name)
def test_setup_checks_the_data_parameter_in_every_mode(nb):
    """A notebook with a ``DATA`` parameter hands it to the environment check, which refuses
    a name that is no dataset in smoke mode too (it is not trained on there, only looked up)."""
    cells = _code_cells(nb)
    assert "report(mode=\"smoke\" if SMOKE else DATA, data=DATA)" in cells[1]


def test_the_environment_check_refuses_an_unknown_dataset(capsys, smoke_data_root):
    from utils.lessons.env_check import report

    with pytest.raises(ValueError, match=r"unknown dataset preset 'nope'.*python -m utils\.data "
                                         r"build --from-dcase DIR --name nope"):
        report(mode="smoke", data="nope")
    assert capsys.readouterr().out == ""  # refused before the check prints anything
    report(mode="smoke", data="classroom")  # an embedded preset: built when first loaded
    assert "mode: smoke" in capsys.readouterr().out
