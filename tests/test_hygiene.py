"""Safety rules: no pickle of files, no shell built from strings, no network at import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCES = sorted([*(REPO / "utils").glob("*.py"), *(REPO / "benchmarks").glob("*.py")])


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
    modules = [f"utils.{p.stem}" for p in sorted((REPO / "utils").glob("*.py"))
               if p.stem != "__init__"]
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
