"""The reading copy: the executed notebooks as a static book (Sphinx + myst-nb), ``make book``.

The book is built from notebooks that are already executed (``make run`` leaves them in
``build/notebooks``) and never runs them. The source folder is assembled in a scratch
directory: ``book/index.md``, the notebooks under ``notebooks/``, README.md and ``docs/``,
the same relative places as in the repository, so every link between them
(``../docs/glossary.md#mde``) resolves in the book as on GitHub. Sphinx runs with warnings
as errors: a broken internal link or a page outside the table of contents stops the build.

Command line::

    python -m utils.book                                   # build/notebooks -> build/book
    python -m utils.book --notebooks notebooks --out /tmp/book   # stripped ones: the links
"""

from __future__ import annotations

import argparse
import io
import shutil
import tempfile
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from utils.common.errors import LabError
from utils.common.repo import REPO_ROOT

BOOK_DIR = REPO_ROOT / "book"  # conf.py and index.md


class BookError(LabError):
    """The reading copy could not be built: no notebooks, or Sphinx warnings."""


def assemble(notebooks: Path, src: Path, root: Path = REPO_ROOT) -> list[Path]:
    """Lay out the book's source folder ``src``; return the notebooks it holds."""
    found = sorted(notebooks.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise BookError(f"{notebooks}: no executed notebooks (NN_name.ipynb); run `make run`")
    (src / "notebooks").mkdir(parents=True)
    for nb in found:
        shutil.copy(nb, src / "notebooks" / nb.name)
    shutil.copy(BOOK_DIR / "index.md", src / "index.md")
    shutil.copy(root / "README.md", src / "README.md")
    shutil.copytree(root / "docs", src / "docs")
    return found


def build(notebooks: Path, out: Path) -> Path:
    """Build the book of ``notebooks`` into ``out``; return its index page.

    Raises :class:`BookError` with Sphinx's warnings when there are any (broken links
    included).
    """
    from sphinx.cmd.build import build_main

    with tempfile.TemporaryDirectory(prefix="book-src-") as tmp:
        src = Path(tmp) / "src"
        assemble(notebooks, src)
        log = io.StringIO()
        warnings = Path(tmp) / "warnings.txt"
        # -W --keep-going: every warning is listed, then the build fails; -E: no stale
        # pages from an earlier build in ``out``; -q: only warnings and errors.
        args = ["-b", "html", "-c", str(BOOK_DIR), "-W", "--keep-going", "-E", "-q",
                "-w", str(warnings), "-d", str(Path(tmp) / "doctrees"), str(src), str(out)]
        with redirect_stdout(log), redirect_stderr(log):
            status = build_main(args)
        if status:
            text = warnings.read_text(encoding="utf-8") if warnings.exists() else ""
            # Name the files as they are in the repository, not in the scratch folder.
            text = (text or log.getvalue()).replace(f"{src}/", "")
            raise BookError(f"the book has warnings (treated as errors):\n{text}")
    return out / "index.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.book", description=__doc__.split(
        "\n")[0])
    parser.add_argument("--notebooks", default="build/notebooks",
                        help="executed notebooks (default: make run's build/notebooks)")
    parser.add_argument("--out", default="build/book")
    args = parser.parse_args(argv)
    try:
        index = build(Path(args.notebooks), Path(args.out))
    except BookError as err:
        print(err)
        return 1
    print(f"reading copy: {index}")
    return 0
