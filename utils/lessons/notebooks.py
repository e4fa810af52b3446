"""Execute the lab's notebooks (papermill) and export them to HTML, for ``make run`` and CI.

Every notebook has a cell tagged ``parameters`` with ``SMOKE = False``; smoke mode
(``SMOKE = True``) shrinks data and training so the whole collection runs in CI. Figures a
notebook saves with :func:`utils.lessons.plots.savefig` land in ``<out>/figures`` (the runner sets
``DEFAULTS_LAB_FIGURES``).

The lab's public repository is named once, in ``pyproject.toml`` (``[tool.defaults-lab]``,
``repository``); the Binder and Colab badges of README.md and the clone line of every
notebook's Colab set-up cell are derived from it, and ``set-repo`` rewrites them all for a
fork.

Command line::

    python -m utils.notebooks run --mode classroom --out build     # what make run does
    python -m utils.notebooks run --mode smoke --out build/smoke
    python -m utils.notebooks set-repo OWNER/NAME                  # badges and Colab cells
    python -m utils.notebooks check-repo                           # do they all agree?
    python -m utils.notebooks course [--check]     # objectives, minutes (utils.lessons.course)
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import time
import tomllib
from pathlib import Path

import nbformat

from utils.common.repo import REPO_ROOT

NOTEBOOK_DIR = REPO_ROOT / "notebooks"
PYPROJECT = REPO_ROOT / "pyproject.toml"
README = REPO_ROOT / "README.md"
FIGURES_ENV = "DEFAULTS_LAB_FIGURES"
BRANCH = "main"

# Environment of the notebook kernels: no start-up chatter on the terminal of `make run`.
# PYDEVD_DISABLE_FILE_VALIDATION: ipykernel's debugger (debugpy) otherwise warns about frozen
# modules at every kernel start; JUPYTER_PLATFORM_DIRS: jupyter_core's path-migration notice.
KERNEL_ENV = {"TF_CPP_MIN_LOG_LEVEL": "3", "PYDEVD_DISABLE_FILE_VALIDATION": "1",
              "JUPYTER_PLATFORM_DIRS": "1"}
# The kernel logs only errors (ipykernel warns at start that its TCP transport is unencrypted,
# which a kernel on localhost used by one process does not need to hear about).
KERNEL_ARGS = ["--Application.log_level=ERROR"]

# The lab's notebooks in teaching order, with what the learner does in each.
NOTEBOOK_MAP = {
    "00_start_here.ipynb": "the story, the 2017 leaderboard, the environment check",
    "01_data.ipynb": "the task, the 17 classes, listen to them, spectrograms, micro-F1",
    "02_keras_reference.ipynb": "build and train the CRNN in Keras with 2017 defaults",
    "03_pytorch_port.ipynb": "the same network in PyTorch: parity check, then the gap over seeds",
    "04_initialisation.ipynb": "Glorot/orthogonal/zeros vs PyTorch's uniform initialisation",
    "05_momentum.ipynb": "the two Nesterov formulas: same iterates until the learning rate moves",
    "06_gate_activation.ipynb": "sigmoid vs Keras-2 vs Keras-3 hard sigmoid in the GRU",
    "07_input_scaling.ipynb": "[0, 1] vs [-128, 128] vs standardised inputs; SGD vs Adam",
    "08_ladder.ipynb": "one default per rung from PyTorch to Keras-2017; the explorer",
    "09_float_drift.ipynb": "everything matched: how far does float rounding alone move F1?",
    "10_backends.ipynb": "one Keras model on TensorFlow, JAX and PyTorch: kernels vs defaults",
    "11_defaults_audit.ipynb": "installed frameworks' defaults, read at run time, vs the lessons",
    "12_what_the_lab_found.ipynb": "the ladder after 12 epochs and trained, every default in one "
                                   "chart, the lab's conclusion",
}


def notebook_paths() -> list[Path]:
    """The lab's notebooks in teaching order (their names start with the number)."""
    return sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def notebook_map() -> list[tuple[str, str, bool]]:
    """(notebook, what it does, whether it exists in this copy of the lab)."""
    return [(name, what, (NOTEBOOK_DIR / name).is_file()) for name, what in NOTEBOOK_MAP.items()]


def execute(nb: Path, out_dir: Path, smoke: bool, figures_dir: Path | None = None,
            timeout: int = 1200) -> Path:
    """Run ``nb`` top to bottom with ``SMOKE=smoke``; return the executed copy's path."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ[FIGURES_ENV] = str((figures_dir or out_dir / "figures").resolve())
    for key, value in KERNEL_ENV.items():
        os.environ.setdefault(key, value)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    out = out_dir / nb.name
    pm.execute_notebook(str(nb), str(out), parameters={"SMOKE": smoke}, cwd=str(nb.parent),
                        kernel_name="python3", progress_bar=False, execution_timeout=timeout,
                        extra_arguments=list(KERNEL_ARGS))
    return out


def to_html(executed: Path, html_dir: Path) -> Path:
    """Export an executed notebook to a standalone HTML page."""
    from nbconvert import HTMLExporter

    html_dir.mkdir(parents=True, exist_ok=True)
    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    out = html_dir / executed.with_suffix(".html").name
    out.write_text(body, encoding="utf-8")
    return out


def error_outputs(executed: Path) -> list[str]:
    """Error outputs left in an executed notebook (papermill raises on the first one)."""
    nb = json.loads(executed.read_text(encoding="utf-8"))
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb["cells"]
            for o in c.get("outputs", []) if o.get("output_type") == "error"]


# --- the repository URL: one place, everything else derived ---------------------------------

SLUG = r"[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*"
_PYPROJECT_RE = re.compile(r'(?m)^(repository = "https://github\.com/)(' + SLUG + r')(")')
_BINDER_RE = re.compile(r"(https://mybinder\.org/v2/gh/)(" + SLUG + r")(/[\w.-]+\?urlpath=)")
_COLAB_RE = re.compile(r"(https://colab\.research\.google\.com/github/)(" + SLUG + r")(/blob/)")
# The Colab set-up cell clones LAB_REPO; in the .ipynb JSON its quotes are escaped.
_CLONE_RE = re.compile(r'(LAB_REPO = \\?"https://github\.com/)(' + SLUG + r')(\\?")')


def repository_url(root: Path = REPO_ROOT) -> str:
    """The lab's public repository, ``[tool.defaults-lab] repository`` in pyproject.toml."""
    with open(root / PYPROJECT.name, "rb") as f:
        return tomllib.load(f)["tool"]["defaults-lab"]["repository"]


def repo_slug(url: str | None = None) -> str:
    """``owner/name`` of a GitHub URL (default: :func:`repository_url`).

    >>> repo_slug("https://github.com/someone/defaults-lab")
    'someone/defaults-lab'
    """
    url = url or repository_url()
    m = re.fullmatch(r"https://github\.com/(" + SLUG + r")/?", url)
    if not m:
        raise ValueError(f"expected https://github.com/OWNER/NAME, found {url!r}")
    return m.group(1)


def binder_url(notebook: str, slug: str | None = None) -> str:
    """The Binder link that opens ``notebook`` in JupyterLab."""
    slug = slug or repo_slug()
    return (f"https://mybinder.org/v2/gh/{slug}/{BRANCH}"
            f"?urlpath=lab/tree/notebooks/{notebook}")


def colab_url(notebook: str, slug: str | None = None) -> str:
    """The Colab link that opens ``notebook`` from GitHub."""
    slug = slug or repo_slug()
    return (f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}"
            f"/notebooks/{notebook}")


def repo_mentions(root: Path = REPO_ROOT) -> list[tuple[str, str, str]]:
    """(file, kind, owner/name) for every repository mention: badges and Colab clone lines."""
    found = []
    readme = (root / README.name).read_text(encoding="utf-8")
    for kind, pattern in (("binder badge", _BINDER_RE), ("colab badge", _COLAB_RE)):
        found += [("README.md", kind, m.group(2)) for m in pattern.finditer(readme)]
    for nb in sorted((root / NOTEBOOK_DIR.name).glob("*.ipynb")):
        text = nb.read_text(encoding="utf-8")
        found += [(f"notebooks/{nb.name}", "colab clone", m.group(2))
                  for m in _CLONE_RE.finditer(text)]
    return found


# What GitHub accepts: an owner of alphanumerics and single inner hyphens (at most 39), a
# repository name of [A-Za-z0-9._-] (at most 100) other than "." and "..", not ending ".git".
_OWNER = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9])*")
_NAME = re.compile(r"[A-Za-z0-9._-]+")


def check_slug(slug: str) -> str:
    """Refuse an ``OWNER/NAME`` that GitHub would refuse, saying which part and why.

    Examples
    --------
    >>> check_slug("someone/my-lab.v2")
    'someone/my-lab.v2'
    >>> try:
    ...     check_slug("some-/lab")
    ... except ValueError as e:
    ...     print(str(e).split(',')[0])
    set-repo 'some-/lab': owner 'some-' must be 1 to 39 letters
    """
    if not isinstance(slug, str) or slug.count("/") != 1:
        raise ValueError(f"set-repo {slug!r}: expected OWNER/NAME, e.g. someone/defaults-lab")
    owner, name = slug.split("/")
    if len(owner) > 39 or not _OWNER.fullmatch(owner):
        raise ValueError(f"set-repo {slug!r}: owner {owner!r} must be 1 to 39 letters, digits "
                         f"and single hyphens, not starting or ending with one")
    if len(name) > 100 or not _NAME.fullmatch(name):
        raise ValueError(f"set-repo {slug!r}: repository name {name!r} must be 1 to 100 "
                         f"letters, digits, '.', '_' or '-'")
    if name in (".", "..") or name.lower().endswith(".git"):
        raise ValueError(f"set-repo {slug!r}: repository name {name!r} must not be '.' or "
                         f"'..' nor end in '.git' (GitHub refuses such names)")
    return slug


def set_repo(slug: str, root: Path = REPO_ROOT) -> list[Path]:
    """Point pyproject.toml, the README badges and every Colab cell at ``github.com/<slug>``.

    Returns the files that changed. Only the repository part of each link is rewritten, so
    the rest of every file stays byte for byte as it was.
    """
    check_slug(slug)
    changed = []
    pyproject = root / PYPROJECT.name
    targets = [(pyproject, [_PYPROJECT_RE]), (root / README.name, [_BINDER_RE, _COLAB_RE]),
               *((nb, [_CLONE_RE]) for nb in sorted((root / NOTEBOOK_DIR.name).glob("*.ipynb")))]
    for path, patterns in targets:
        text = path.read_text(encoding="utf-8")
        new = text
        for pattern in patterns:
            new = pattern.sub(lambda m: m.group(1) + slug + m.group(3), new)
        if path == pyproject and not _PYPROJECT_RE.search(text):
            raise ValueError(f"{path}: no [tool.defaults-lab] repository entry")
        if new != text:
            path.write_text(new, encoding="utf-8")
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.notebooks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute notebooks and export HTML")
    r.add_argument("--mode", choices=("classroom", "smoke"), default="classroom")
    r.add_argument("--out", default="build")
    r.add_argument("names", nargs="*", help="notebook file names (default: all)")
    s = sub.add_parser("set-repo", help="point the badges and Colab cells at a fork")
    s.add_argument("slug", metavar="OWNER/NAME", help="the GitHub repository, e.g. me/defaults-lab")
    sub.add_parser("check-repo", help="list badges and Colab cells that disagree with pyproject")
    args = parser.parse_args(argv)

    if args.cmd == "set-repo":
        try:
            changed = set_repo(args.slug)
        except ValueError as err:
            parser.error(str(err))
        for path in changed:
            print(f"rewrote {path.relative_to(REPO_ROOT)}")
        print(f"repository: {repository_url()} ({len(changed)} files changed)")
        return 0
    if args.cmd == "check-repo":
        slug = repo_slug()
        wrong = [m for m in repo_mentions() if m[2] != slug]
        for file, kind, other in wrong:
            print(f"{file}: {kind} points to {other}, not {slug}")
        print(f"repository: {repository_url()}; disagreeing links: {len(wrong)}")
        return 1 if wrong else 0

    out = Path(args.out)
    paths = notebook_paths()
    if args.names:
        known = {p.name: p for p in paths}
        missing = [n for n in args.names if n not in known]
        if missing:
            parser.error(f"unknown notebooks {missing}; expected some of {sorted(known)}")
        paths = [known[n] for n in args.names]
    summary = {}
    width = max(len(p.name) for p in paths)
    print(f"executing {len(paths)} notebooks ({args.mode} mode) into {out}/", flush=True)
    for i, nb in enumerate(paths, 1):
        t0 = time.perf_counter()
        print(f"[{i:2d}/{len(paths)}] {nb.name:{width}s} ...", end=" ", flush=True)
        executed = execute(nb, out / "notebooks", smoke=args.mode == "smoke",
                           figures_dir=out / "figures")
        html = to_html(executed, out / "html")
        summary[nb.name] = {"seconds": round(time.perf_counter() - t0, 1),
                            "executed": str(executed), "html": str(html)}
        print(f"{summary[nb.name]['seconds']:7.1f} s  -> {html}", flush=True)
    (out / "run_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    figures = sorted((out / "figures").glob("*.png"))
    print(f"executed notebooks: {out / 'notebooks'}")
    print(f"HTML pages:         {out / 'html'}")
    print(f"{f'figures ({len(figures)}):':20s}{out / 'figures'}")
    print(f"timings:            {out / 'run_summary.json'}")
    return 0
