"""Execute the lab's notebooks (papermill) and export them to HTML, for ``make run`` and CI.

Every notebook has a cell tagged ``parameters`` with ``SMOKE = False``; smoke mode
(``SMOKE = True``) shrinks data and training so the whole collection runs in CI. Figures a
notebook saves with :func:`utils.plots.savefig` land in ``<out>/figures`` (the runner sets
``DEFAULTS_LAB_FIGURES``).

Command line::

    python -m utils.notebooks run --mode classroom --out build     # what make run does
    python -m utils.notebooks run --mode smoke --out build/smoke
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
FIGURES_ENV = "DEFAULTS_LAB_FIGURES"

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
    "10_defaults_audit.ipynb": "installed frameworks' defaults, read at run time, vs the lessons",
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
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    out = out_dir / nb.name
    pm.execute_notebook(str(nb), str(out), parameters={"SMOKE": smoke}, cwd=str(nb.parent),
                        kernel_name="python3", progress_bar=False, execution_timeout=timeout)
    return out


def to_html(executed: Path, html_dir: Path) -> Path:
    """Export an executed notebook to a standalone HTML page."""
    import nbformat
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.notebooks")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="execute notebooks and export HTML")
    r.add_argument("--mode", choices=("classroom", "smoke"), default="classroom")
    r.add_argument("--out", default="build")
    r.add_argument("names", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)

    out = Path(args.out)
    paths = notebook_paths()
    if args.names:
        known = {p.name: p for p in paths}
        missing = [n for n in args.names if n not in known]
        if missing:
            parser.error(f"unknown notebooks {missing}; expected some of {sorted(known)}")
        paths = [known[n] for n in args.names]
    summary = {}
    for nb in paths:
        t0 = time.perf_counter()
        print(f"running {nb.name} ({args.mode}) ...", flush=True)
        executed = execute(nb, out / "notebooks", smoke=args.mode == "smoke",
                           figures_dir=out / "figures")
        html = to_html(executed, out / "html")
        summary[nb.name] = {"seconds": round(time.perf_counter() - t0, 1),
                            "executed": str(executed), "html": str(html)}
        print(f"  done in {summary[nb.name]['seconds']} s", flush=True)
    (out / "run_summary.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    figures = sorted((out / "figures").glob("*.png"))
    print(f"executed notebooks: {out / 'notebooks'}")
    print(f"HTML pages:         {out / 'html'}")
    print(f"figures ({len(figures)}):       {out / 'figures'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
