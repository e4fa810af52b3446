"""Safety rules: no pickle of files, no shell built from strings, no network at import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from utils.common.repo import REPO_ROOT as REPO

SOURCES = sorted([*(REPO / "utils").rglob("*.py"), *(REPO / "benchmarks").glob("*.py")])


def test_there_are_sources():
    assert len(SOURCES) > 10


def test_no_pickle_no_shell_no_eval():
    rules = {
        r"allow_pickle\s*=\s*True": "np.load must keep allow_pickle=False",
        r"\bpickle\.loads?\(": "no pickle of files",
        r"shell\s*=\s*True": "no shell built from strings",
        r"os\.system\(|os\.popen\(": "no shell built from strings",
        r"(?<![\w.])(eval|exec)\(": "no eval/exec (a method like model.eval() is fine)",
    }
    found = [f"{p.name}:{i}: {why}" for p in SOURCES
             for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             for pattern, why in rules.items() if re.search(pattern, line)]
    assert found == []


def test_every_np_load_refuses_pickles():
    for p in SOURCES:
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
            if "np.load(" in line:
                assert "allow_pickle=False" in line, f"{p.name}:{i}"


def test_importing_every_module_opens_no_connection():
    modules = [".".join(p.relative_to(REPO).with_suffix("").parts)
               for p in sorted((REPO / "utils").rglob("*.py")) if p.stem != "__init__"]
    code = (
        "import socket\n"
        "def refuse(*a, **k):\n"
        "    raise RuntimeError('network access at import time')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "import importlib\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print('imported', len(" + repr(modules) + "))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().startswith("imported")


def test_every_lazy_utils_import_resolves():
    """Imports inside functions (benchmarks, lazy imports in utils) name what utils defines.

    They run only when that function does, so a renamed helper would break `make bench`
    long after the tests passed; this reads every `from utils.X import name` statically.
    """
    import ast
    import importlib

    missing = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("utils"):
                module = importlib.import_module(node.module)
                missing += [f"{path.relative_to(REPO)}:{node.lineno}: {node.module}.{a.name}"
                            for a in node.names if not hasattr(module, a.name)
                            and not (hasattr(module, "__path__")  # a submodule of a package
                                     and importlib.util.find_spec(f"{node.module}.{a.name}"))]
    assert not missing, missing


# --- sources: every citation points into docs/sources.md, and every section cited exists ----

SOURCES_PAGE = REPO / "docs" / "sources.md"
# Spelled in two parts so that this file does not match its own rule.
OUTSIDE_REFERENCES = "shared" + "/reference"


def _tracked_files() -> list[Path]:
    """Files under version control (every file outside .git, build and data caches without git)."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True,
                             check=True, timeout=60).stdout.decode()
        paths = [REPO / p for p in out.split("\0") if p]
    except (OSError, subprocess.SubprocessError):
        skip = {".git", ".venv", "build", "data", "__pycache__", ".pytest_cache"}
        paths = [p for p in REPO.rglob("*")
                 if p.is_file() and not skip & set(p.relative_to(REPO).parts)]
    return [p for p in paths if p.is_file()]


def _texts() -> dict[str, str]:
    texts = {}
    for p in _tracked_files():
        try:
            texts[str(p.relative_to(REPO))] = p.read_text(encoding="utf-8")
        except UnicodeDecodeError:  # binary files (figures, screenshots)
            continue
    return texts


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, - for spaces.

    >>> github_slug("Q&A thread"), github_slug("Dense and conv initialisation")
    ('qa-thread', 'dense-and-conv-initialisation')
    """
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors() -> set[str]:
    text = SOURCES_PAGE.read_text(encoding="utf-8")
    return {github_slug(h) for h in re.findall(r"(?m)^#{1,6}\s+(.+?)\s*#*\s*$", text)}


def test_no_file_cites_references_outside_the_project():
    texts = _texts()
    assert len(texts) > 50
    found = [f"{name}:{i}" for name, text in texts.items()
             for i, line in enumerate(text.splitlines(), 1) if OUTSIDE_REFERENCES in line]
    assert found == [], "cite docs/sources.md#<section> instead"


def test_every_cited_section_of_the_sources_page_exists():
    anchors = _anchors()
    assert {"framework-defaults", "nesterov-formula", "dcase-scoring", "qa-thread",
            "papers"} <= anchors
    cited = {(name, a) for name, text in _texts().items()
             for a in re.findall(r"docs/sources\.md#([\w-]+)", text)}
    page = SOURCES_PAGE.read_text(encoding="utf-8")
    cited |= {("docs/sources.md", a) for a in re.findall(r"\]\(#([\w-]+)\)", page)}
    assert len(cited) > 30
    missing = sorted(f"{name}: #{a}" for name, a in cited if a not in anchors)
    assert missing == [], "no such heading in docs/sources.md"


def test_every_fd_section_number_is_mapped_on_the_sources_page():
    """The short form "FD §N" (code, audit table, tests) resolves through the page's table."""
    page = SOURCES_PAGE.read_text(encoding="utf-8")
    table = dict(re.findall(r"(?m)^\s*\|\s*FD §(\d+)\s*\|\s*\[[^\]]+\]\(#([\w-]+)\)", page))
    assert set(table) >= {"1", "6", "12"}
    assert set(table.values()) <= _anchors()
    used = set()
    for text in _texts().values():
        for group in re.findall(r"FD (§\d+(?:\s*(?:[–-]|,|and)\s*§\d+)*)", text):
            numbers = [int(n) for n in re.findall(r"\d+", group)]
            if re.search(r"§\d+\s*[–-]\s*§\d+", group) and len(numbers) == 2:
                numbers = list(range(numbers[0], numbers[1] + 1))
            used |= {str(n) for n in numbers}
    assert used and used <= set(table), f"FD sections without a row: {sorted(used - set(table))}"


# --- prose: every code reference in the README, docs and notebooks' text exists ----------

def _prose() -> dict[str, str]:
    """README, the docs pages and every notebook's Markdown cells, by file."""
    import json

    texts = {str(p.relative_to(REPO)): p.read_text(encoding="utf-8")
             for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]}
    for nb in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        texts[str(nb.relative_to(REPO))] = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    return texts


def _resolves(dotted: str) -> bool:
    """Whether ``utils.a.b.name`` names a module or an attribute of one."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_every_code_reference_in_the_prose_resolves():
    """What the text tells a reader to open, import, run or call exists: a renamed module
    or a moved helper would otherwise leave the README or a notebook pointing at nothing.

    In backticks: ``utils/…`` paths, dotted ``utils.…`` names, ``python -m utils.…``
    commands, ``from utils.… import …``, and ``replace(PRESET, field=value)`` with literal
    values (a valid recipe)."""
    import ast
    import importlib.util
    from dataclasses import replace

    from utils.networks.recipe import KERAS_2017, PYTORCH

    presets = {"KERAS_2017": KERAS_2017, "PYTORCH": PYTORCH}
    bad, checked = [], 0
    for name, text in _prose().items():
        for span in re.findall(r"`([^`\n]+)`", text):
            found = []  # (what, ok)
            if m := re.fullmatch(r"(utils(?:/[\w.]+)*/?)", span):
                found.append((m[1], (REPO / m[1]).exists()))
            for mod in re.findall(r"python -m (utils(?:\.\w+)+)", span):
                found.append((mod, importlib.util.find_spec(mod) is not None))
            for mod, names in re.findall(r"from (utils(?:\.\w+)+) import ([\w, ]+)", span):
                found += [(f"{mod}.{n.strip()}", _resolves(f"{mod}.{n.strip()}"))
                          for n in names.split(",")]
            if m := re.match(r"(utils(?:\.\w+)+)", span):
                found.append((m[1], _resolves(m[1])))
            if (m := re.fullmatch(r"replace\((KERAS_2017|PYTORCH), (.+)\)", span)) \
                    and "..." not in span and "field=value" not in span:
                call = ast.parse(f"f({m[2]})", mode="eval").body
                try:
                    replace(presets[m[1]], **{k.arg: ast.literal_eval(k.value)
                                              for k in call.keywords})
                    found.append((span, True))
                except (TypeError, ValueError) as e:
                    found.append((f"{span}: {e}", False))
            checked += len(found)
            bad += [f"{name}: {what}" for what, ok in found if not ok]
    assert checked > 40  # the rule reads what it should
    assert bad == [], bad


# --- links: every relative link of the README, the docs and the notebooks' text resolves ----

def _headings(page: Path) -> set[str]:
    """The anchors of a Markdown page's headings (outside indented or fenced code)."""
    text = re.sub(r"(?ms)^```.*?^```", "", page.read_text(encoding="utf-8"))
    return {github_slug(h) for h in re.findall(r"(?m)^#{1,6}\s+(.+?)\s*#*\s*$", text)}


def _link_problems(name: str, text: str) -> tuple[int, list[str]]:
    """(links checked, links that lead nowhere) of one file's Markdown text."""
    base = (REPO / name).parent
    checked, bad = 0, []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # https:, mailto: are not ours to check
            continue
        path, _, anchor = target.partition("#")
        dest = (base / path).resolve() if path else REPO / name
        checked += 1
        if not dest.exists():
            bad.append(f"{name}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _headings(dest):
            bad.append(f"{name}: {target} (no heading #{anchor} in {dest.name})")
    return checked, bad


def test_every_relative_link_in_the_prose_resolves():
    """A page moved out of the README or a renamed heading breaks links that no browser
    reports; this test does."""
    results = [_link_problems(name, text) for name, text in _prose().items()]
    assert sum(n for n, _ in results) > 50  # the rule reads what it should
    bad = [b for _, found in results for b in found]
    assert bad == [], bad


def test_the_link_check_can_fail():
    # Spelled in parts so that the citation check above does not read it as a citation.
    text = "[a](docs/sources" + ".md#no-such-heading) [b](docs/nowhere.md) [c](https://x.org/#y)"
    checked, bad = _link_problems("README.md", text)
    assert checked == 2 and len(bad) == 2
