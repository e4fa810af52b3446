"""Command line of the results layer: run, verify, list and summarise the grids.

Introduced in ``03_pytorch_port.ipynb``; the code lives in :mod:`utils.results`.

Command line::

    python -m utils.experiments run --grid reference [--workers 2] [--limit N]
    python -m utils.experiments run --grid reference --data dcase   # on a built DCASE dataset
    python -m utils.experiments run --grid reference --engine dask [--workers 2]
    python -m utils.experiments run --grid reference --scheduler tcp://host:8786
    python -m utils.experiments verify --grid reference --sample 3
        # last line: verified=<ok>/<K> identical=<i> statistical=<s>
    python -m utils.experiments list
    python -m utils.experiments summary   # every toggle's effect, effect vs size (as in 08)
    python -m utils.experiments summary --markdown docs/results.md   # the same, as a page
"""

from __future__ import annotations

import argparse
import sys
import time

import pandas as pd

from utils.common.files import atomic_write_text
from utils.common.machine import available_cpus
from utils.common.repo import REPO_ROOT
from utils.lessons.findings import task_answer
from utils.results.comparisons import (
    backend_summary,
    backend_table,
    calibration_table,
    lab_summary,
    readings,
    sequential_jobs,
    sequential_summary,
    size_change,
    size_summary,
    stopping_sensitivity,
    with_sensitivity,
)
from utils.results.engines import DaskEngine, LocalEngine
from utils.results.grids import GRIDS, GridNotReady, with_preset
from utils.results.runner import run_grid
from utils.results.stopping import choose_rule, stopping_evidence
from utils.results.store import ResultsError, read_table, table_path
from utils.results.tasks import difficulty_sentence, difficulty_table, task_summary
from utils.results.verify import RERUNS, summary_line, verify
from utils.task.dataset import DatasetError, load_dataset, require_dataset


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {n}")
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.experiments")
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run (or resume) a grid")
    r.add_argument("--grid", required=True, choices=sorted(GRIDS))
    r.add_argument("--workers", type=_positive_int, default=None,
                   help="worker processes (default: the CPUs this process may use)")
    r.add_argument("--engine", choices=("local", "dask"), default=None,
                   help="local: a process pool (default); dask: a Dask cluster, local "
                        "unless --scheduler names one")
    r.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="a running Dask scheduler (tcp://host:8786); implies --engine dask. "
                        "Each wait on it (connection, handshake, first worker) has a "
                        "deadline; DEFAULTS_LAB_SCHEDULER_TIMEOUT (seconds) sets them")
    r.add_argument("--limit", type=_positive_int, default=None,
                   help="run at most N missing rows")
    r.add_argument("--data", metavar="NAME", default=None,
                   help="run every job on this dataset (a preset or a built DCASE dataset) "
                        "instead of its own; the rows' preset column records it")
    v = sub.add_parser("verify", help="rerun K random stored rows")
    v.add_argument("--grid", default="reference", choices=sorted(GRIDS))
    v.add_argument("--sample", type=_positive_int, default=3)
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--preset", default=None,
                   help="draw only rows of this data preset (e.g. quarter)")
    v.add_argument("--epochs", type=_positive_int, default=None,
                   help="re-derive only the first N epochs of each run (long runs)")
    v.add_argument("--reruns", type=_positive_int, default=RERUNS,
                   help="seeds rerun for a statistical check (another floating-point path)")
    v.add_argument("--settled", action="store_true",
                   help="draw only rows of settings with the stored seeds a statistical "
                        "check needs (a grid still filling up, checked on another CPU)")
    sub.add_parser("list", help="grids and how many rows each table has")
    m = sub.add_parser("summary", help="every toggle's effect (paired, at 12 epochs and at "
                                   "convergence) and the effect-vs-size table, "
                                   "from the stored rows (as in 08)")
    m.add_argument("--markdown", metavar="PATH", default=None,
                   help="also write the whole summary as a Markdown page (docs/results.md)")
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except (ResultsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _run_engine(args: argparse.Namespace):
    """The engine ``run`` asked for: a process pool, or a Dask cluster (local or running)."""
    # "is not None": an empty --scheduler is refused by the engine, not taken as absent.
    if args.scheduler is not None and args.engine == "local":
        raise ValueError("--scheduler names a Dask scheduler: use it with --engine dask")
    if args.scheduler is not None or args.engine == "dask":
        return DaskEngine(address=args.scheduler, workers=args.workers)
    # Worker processes even for one worker: this process has loaded PyTorch already, and
    # only a process started with the ISA pins takes the stored rows' floating-point path.
    return LocalEngine(args.workers or available_cpus())


def _command(args: argparse.Namespace) -> int:
    if args.cmd == "run":
        t0 = time.perf_counter()
        # The sequential plan adds the next look's seeds only where a comparison is open.
        grid = sequential_jobs() if args.grid == "sequential" else args.grid
        if args.data is not None:
            try:  # a torn DCASE manifest would read as a dataset of no clips
                require_dataset(args.data)
            except (ValueError, DatasetError) as e:
                raise ValueError(f"--data {args.data!r}: {e}") from None
            grid = with_preset(grid if isinstance(grid, list) else GRIDS[args.grid](),
                               args.data)
        path = run_grid(grid, name=args.grid, engine=_run_engine(args), limit=args.limit)
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        print(f"table={shown} rows={len(read_table(path))} "
              f"seconds={time.perf_counter() - t0:.1f}")
    elif args.cmd == "verify":
        # Every rerun in a pinned single-thread worker, as the stored rows ran.
        engine = LocalEngine(min(2, available_cpus()))
        checks = verify(args.grid, args.sample, args.seed, args.preset, args.reruns, engine,
                        args.epochs, settled=args.settled)
        print(summary_line(checks))
        return 0 if all(c.ok for c in checks) else 1
    elif args.cmd == "summary":
        y_test = load_dataset("classroom", progress=False)["test"].y
        paired_table = lab_summary(y_test=y_test)
        sizes = size_summary(declared=paired_table)
        backends = backend_summary(y_test=y_test, declared=paired_table)
        changes, stopping = size_change(), stopping_sensitivity(lab=paired_table)
        evidence, tasks = stopping_evidence(), task_summary(lab=paired_table)
        with pd.option_context("display.width", 250, "display.max_columns", 30):
            for title, table in (
                    ("Every toggle, paired by data seed, at a 12-epoch budget and at "
                     "convergence (mean F1 difference b - a, 95 % CIs over seeds and over "
                     "test clips, minimal detectable effect at 80 % power, verdict alone "
                     "and after Benjamini-Hochberg over each budget's table, the stopping "
                     "rule read, and how a trained verdict fares under the others)",
                     with_sensitivity(paired_table, stopping)),
                    ("Speed or destination: each comparison's adjusted verdict after 12 "
                     "epochs and at convergence, and what the two say together",
                     readings(paired_table)),
                    ("Does the stopping rule find the plateau? Each rule's stored trained "
                     "runs: epochs, seconds, the share still rising at the stop, and the "
                     "test-F1 change against the grids' patience in the same run", evidence),
                    ("Each trained verdict as the lab reads it, under the first grids' "
                     "patience and shorter ones replayed on the same runs' curves, and "
                     "under the chosen rule", stopping),
                    ("Seeds where it matters: where each comparison of the sequential plan "
                     "stands (looks at 10, 20, 30 paired seeds)", sequential_summary()),
                    ("Effect versus training-set size, at a 12-epoch budget and at "
                     "convergence (paired by seed, Benjamini-Hochberg over each budget's "
                     "table)", sizes),
                    ("Does an effect shrink with more data? Its change from the classroom "
                     "set to each larger set (Welch's interval and test, minimal detectable "
                     "change at 80 % power, Benjamini-Hochberg over each budget's changes)",
                     changes),
                    ("The realistic task's calibration: trained KERAS_2017 in Keras on each "
                     "candidate preset (median test F1 over seeds, lowest and highest seed)",
                     calibration_table()),
                    ("Which knobs carry the realistic task's difficulty: KERAS_2017 in "
                     "Keras without each group of knobs, under the chosen stopping rule",
                     difficulty := difficulty_table()),
                    ("The realistic task beside the classroom's, both under the chosen "
                     "stopping rule (the classroom rows the lab's table decides keep its "
                     "verdict; the others one BH family per budget)", tasks),
                    ("One Keras model on three backends (trained runs)", backend_table()),
                    ("Kernels against defaults, paired by seed (weights and batches shared; "
                     "Benjamini-Hochberg over each budget's table)", backends)):
                shown = table.drop(columns=["key", "comparison", "rule"], errors="ignore").round(3)
                print(f"{title}\n{shown.to_string(index=False)}\n")
                if table is evidence:
                    print(f"{choose_rule()[1]}\n")
                if table is tasks:
                    print(f"{task_answer(tasks)}\n")
                if table is difficulty:
                    print(f"{difficulty_sentence(difficulty)}\n")
        if args.markdown:
            from utils.results.report import render

            atomic_write_text(args.markdown, render(y_test, paired_table, sizes, backends, changes))
            print(f"page={args.markdown}")
    else:
        for name, make in GRIDS.items():
            stored = len(read_table(table_path(name)))
            try:
                jobs = f"{len(make()):4d}"
            except GridNotReady:
                jobs = "waits for the stopping rule"
            print(f"{name:12s} jobs={jobs} stored={stored}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
