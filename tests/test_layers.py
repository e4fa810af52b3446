"""utils/ is layered: a module imports only from its own layer or the layers before it.

The order is the data's way through the lab (utils/__init__.py): common → task → networks
→ training → results → lessons, then the command-line entry modules at the top level.
Every import counts, also one inside a function: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

UTILS = Path(__file__).resolve().parent.parent / "utils"
LAYERS = ("common", "task", "networks", "training", "results", "lessons")
ENTRY = len(LAYERS)  # utils/<name>.py: command lines, above every layer


def layer_of(module: str) -> int:
    """Layer index of a dotted ``utils.…`` module name."""
    parts = module.split(".")
    if len(parts) >= 3 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    if len(parts) == 2 and parts[1] in LAYERS:
        return LAYERS.index(parts[1])
    return ENTRY


def utils_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every ``utils`` import in ``path``, at any depth."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "utils":
                out += [(node.lineno, f"utils.{a.name}") for a in node.names]
            elif node.module.startswith("utils."):
                out.append((node.lineno, node.module))
        elif isinstance(node, ast.ImportFrom) and node.level:
            out.append((node.lineno, "relative"))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names if a.name.startswith("utils.")]
    return out


def module_name(path: Path) -> str:
    rel = path.relative_to(UTILS.parent).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


MODULES = sorted(UTILS.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_imports_only_from_its_own_or_an_earlier_layer(path):
    me = module_name(path)
    bad = [f"line {line}: {mod} ({layer_name(mod)})" for line, mod in utils_imports(path)
           if mod == "relative" or layer_of(mod) > layer_of(me)]
    assert not bad, f"{me} ({layer_name(me)}) imports from a later layer: {bad}"


def layer_name(module: str) -> str:
    if module == "relative":
        return "a relative import: its layer cannot be read"
    return LAYERS[layer_of(module)] if layer_of(module) < ENTRY else "an entry module"


def test_every_module_is_in_a_layer_or_an_entry_point():
    entries = {p.stem for p in UTILS.glob("*.py")} - {"__init__"}
    assert entries == {"data", "train", "parity", "experiments", "notebooks", "book"}
    assert {p.name for p in UTILS.iterdir() if p.is_dir() and p.name != "__pycache__"} \
        == set(LAYERS)


def test_no_import_circle_between_modules():
    """Within a layer too: the graph of module-level and lazy imports has no cycle."""
    graph = {module_name(p): {m for _, m in utils_imports(p) if m != "relative"} for p in MODULES}
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                raise AssertionError(f"import circle: {' -> '.join(stack + [node, nxt])}")
            if not state.get(nxt):
                visit(nxt, stack + [node])
        state[node] = 2

    for node in graph:
        if not state.get(node):
            visit(node, [])


def test_the_layer_check_can_fail(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from utils.lessons.plots import savefig\n")
    assert layer_of(utils_imports(bad)[0][1]) > layer_of("utils.task.features")


def test_the_maintainers_layout_lists_every_module():
    page = (UTILS.parent / "docs" / "maintainers.md").read_text(encoding="utf-8")
    layout = page[page.index("## Layout"):]
    layout = layout[:layout.index("\n## ", 5)]
    missing = [module_name(p) for p in MODULES if p.name != "__init__.py"
               and p.parent != UTILS and f" {p.name} " not in layout.replace("\n", " ")]
    entries = [p.name for p in UTILS.glob("*.py") if p.stem != "__init__"]
    assert not missing and all(e.removesuffix(".py") in layout for e in entries), missing
