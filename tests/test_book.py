"""The reading copy (make book) builds, and every internal link in it resolves."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from utils.lessons.book import BookError, build
from utils.lessons.notebooks import NOTEBOOK_DIR, notebook_paths

# myst-parser 5.2 still reads an attribute Sphinx 9 deprecates (hundreds of warnings per
# build); it is theirs to change, and the build itself treats Sphinx's warnings as errors.
pytestmark = pytest.mark.filterwarnings(
    r"ignore:'myst_parser\..*' is deprecated:PendingDeprecationWarning")


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """The book of the repository's notebooks (stripped: the pages and links, no outputs)."""
    out = tmp_path_factory.mktemp("book")
    return build(NOTEBOOK_DIR, out), out


def test_the_book_builds_with_warnings_as_errors(book):
    index, out = book
    assert index.is_file()
    pages = {p.stem for p in (out / "notebooks").glob("*.html")}
    assert pages == {p.stem for p in notebook_paths()}
    assert (out / "docs" / "glossary.html").is_file() and (out / "README.html").is_file()
    text = index.read_text(encoding="utf-8")
    assert all(f"notebooks/{p.stem}.html" in text for p in notebook_paths())


def test_a_broken_internal_link_stops_the_build(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    shutil.copy(NOTEBOOK_DIR / "00_start_here.ipynb", nbs)
    nb = nbformat.read(nbs / "00_start_here.ipynb", as_version=4)
    nb.cells[0].source += ("\n\n[a](../docs/glossary.md#no-such-term) "
                           "[b](../docs/no-such-page.md)")
    nbformat.write(nb, nbs / "00_start_here.ipynb")
    with pytest.raises(BookError) as err:
        build(nbs, tmp_path / "out")
    message = str(err.value)
    assert "notebooks/00_start_here.ipynb" in message and "no-such-term" in message
    assert "no-such-page.md" in message


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(BookError, match="no executed notebooks.*make run"):
        build(tmp_path, tmp_path / "out")
