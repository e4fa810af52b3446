"""Experiment grids: (recipe, framework, seed, dataset preset) → rows of a results table.

Introduced in ``03_pytorch_port.ipynb``. A grid is a list of :class:`Job`; :func:`run_grid`
trains each job not yet in the table and appends its row to ``data/results/<grid>.csv``
as soon as it finishes, so a killed run loses nothing finished and a rerun skips what is
done; a lock beside the table refuses a second run of the same grid. Every row carries its
provenance (git commit, package versions, machine, its floating-point path, command, date)
and the exact recipe string. :func:`verify` re-derives stored rows and says how: bit for bit
(``identical``) or, on another floating-point path, by rerunning a few seeds
(``statistical``; :mod:`utils.machine` explains why the paths differ).

The engine is pluggable: :class:`LocalEngine` runs jobs in worker processes with one CPU
thread each (two single-threaded workers beat one two-threaded process on two cores);
anything whose ``map(fn, jobs)`` yields each job's row as it finishes (a thin wrapper
around a cluster's scheduler) can run the same grid.

Command line::

    python -m utils.experiments run --grid reference [--workers 2] [--limit N]
    python -m utils.experiments verify --grid reference --sample 3
        # last line: verified=<ok>/<K> identical=<i> statistical=<s>
    python -m utils.experiments list
    python -m utils.experiments summary   # every toggle's effect, effect vs size (as in 08)
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from utils.data import REPO_ROOT, atomic_write_text
from utils.machine import available_cpus, cpu_name, float_path, path_key, pinned_environment
from utils.recipe import KERAS_2017, PYTORCH, Recipe, ladder

RESULTS_ENV = "DEFAULTS_LAB_RESULTS"  # another folder for tables (tests, scratch grids)
RESULTS_DIR = Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "data" / "results")
COLUMNS = ("key", "framework", "recipe_name", "recipe", "seed", "preset", "test_f1",
           "test_f1_fixed", "valid_f1", "seconds", "peak_rss_mb", "n_params", "epoch_loss",
           "epoch_valid_f1", "thresholds", "commit", "versions", "machine", "float_path",
           "command", "date")
JSON_COLUMNS = ("epoch_loss", "epoch_valid_f1", "thresholds", "versions", "float_path")
# Scores a row must hold: a NaN or an out-of-range F1 is a broken run, never a result.
SCORE_COLUMNS = ("test_f1", "test_f1_fixed", "valid_f1")
# verify: reruns of a setting for the statistical check, and its level.
RERUNS, ALPHA = 3, 0.01


class ResultsError(ValueError):
    """A results table is malformed; the message names the file and line."""


@dataclass(frozen=True)
class Job:
    """One training run of a grid."""

    recipe: Recipe
    framework: str
    seed: int
    preset: str = "classroom"

    @property
    def key(self) -> str:
        return f"{self.framework}|{self.preset}|{self.seed}|{self.recipe.to_string()}"


def _jobs(recipes: Iterable[Recipe], frameworks: Iterable[str], seeds: Iterable[int],
          presets: Iterable[str] = ("classroom",)) -> list[Job]:
    return [Job(r, f, s, p) for p in presets for r in recipes for f in frameworks for s in seeds]


# --- the toggles (notebooks 04–09) ------------------------------------------------------------

SEEDS = range(10)
# Forward in PyTorch (its defaults → the Keras-2017 ones), reverse in Keras.
TORCH_LADDER = ladder(PYTORCH, KERAS_2017)
KERAS_LADDER = ladder(KERAS_2017, PYTORCH)
# PyTorch with Keras' initialisation and Nesterov formula: sigmoid gates, reset_after=True.
# The three gate activations are compared on this rung (rungs 3 and 4 of TORCH_LADDER).
_GATE_RUNG = TORCH_LADDER[3][1]


def extras(framework: str) -> dict[str, Recipe]:
    """Settings beyond the ladder that notebooks 05–07 compare, each one knob away from
    ``KERAS_2017`` (the recipe that trains in both frameworks) or from a ladder rung."""
    bn = "keras" if framework == "keras" else "torch"  # each framework's own BN constants
    gate_base = _GATE_RUNG if framework == "torch" else KERAS_LADDER[3][1]
    named = {
        "hard_sigmoid_keras3": replace(gate_base, gate_activation="hard_sigmoid_keras3"),
        "step_keras_formula": replace(KERAS_2017, lr_schedule="step"),
        "step_pytorch_formula": replace(KERAS_2017, lr_schedule="step",
                                        momentum_formula="pytorch"),
        "unit": replace(KERAS_2017, input_scaling="unit"),
        "pm128": replace(KERAS_2017, input_scaling="pm128"),
        "standard_bn": replace(KERAS_2017, batchnorm=bn),
        "unit_bn": replace(KERAS_2017, input_scaling="unit", batchnorm=bn),
        "pm128_bn": replace(KERAS_2017, input_scaling="pm128", batchnorm=bn),
        # Adam with its own default learning rate (1e-3 in both frameworks, FD §8).
        "adam": replace(KERAS_2017, optimizer="adam", learning_rate=1e-3),
    }
    return {k: replace(r, name=k) for k, r in named.items()}


def _toggle_jobs() -> list[Job]:
    # Ordered so that the comparisons most notebooks need finish first; the ladders' end
    # points are the reference grid's rows.
    return [*_jobs([r for _, r in TORCH_LADDER[1:-1]], ["torch"], SEEDS),
            *_jobs([r for _, r in KERAS_LADDER[1:-1]], ["keras"], SEEDS),
            *_jobs(extras("torch").values(), ["torch"], SEEDS),
            *_jobs(extras("keras").values(), ["keras"], SEEDS)]


# Effect versus training-set size (notebook 08; the thread's coda: on the whole AudioSet the
# effects vanished). The two largest single steps of the PyTorch ladder at the classroom
# size — Keras' conv/dense initialisation, then Keras' GRU initialisation — and the ladder's
# end points, in PyTorch, five seeds per size. The classroom size (1×) comes from the
# reference and toggles grids.
SIZE_PRESETS = ("quarter", "x4")
SIZE_RECIPES = (PYTORCH, TORCH_LADDER[1][1], TORCH_LADDER[2][1], KERAS_2017)
SIZE_EFFECTS = {  # effect → (from, to)
    "Keras conv/dense init": (PYTORCH, TORCH_LADDER[1][1]),
    "then Keras GRU init": (TORCH_LADDER[1][1], TORCH_LADDER[2][1]),
    "all defaults (PYTORCH → KERAS_2017)": (PYTORCH, KERAS_2017),
}


def _size_jobs() -> list[Job]:
    return _jobs(SIZE_RECIPES, ["torch"], range(5), SIZE_PRESETS)


# Grids the notebooks read. Each is a function so a grid is built only when asked for.
GRIDS: dict[str, Callable[[], list[Job]]] = {
    # Both presets in both frameworks (notebooks 02 and 03).
    "reference": lambda: _jobs((KERAS_2017, PYTORCH), ("keras", "torch"), SEEDS),
    # Every toggle, one default away from a preset or a ladder rung (notebooks 04–09).
    "toggles": _toggle_jobs,
    "sizes": _size_jobs,
    # Tiny and fast: tests, and checking an installation end to end.
    "smoke": lambda: _jobs((replace(KERAS_2017, epochs=1), replace(PYTORCH, epochs=1)),
                           ("keras", "torch"), range(2), ("smoke",)),
}


# --- provenance ---------------------------------------------------------------------------

def provenance(command: str) -> dict[str, str]:
    """Where a row came from: commit, versions, machine, command, date."""
    from utils.env_check import check_versions

    try:
        commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO_ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO_ROOT, capture_output=True, text=True).stdout.strip()
        commit += "+dirty" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    versions = {name: installed or "-" for name, _, installed in check_versions()}
    machine = (f"{platform.machine()} {cpu_name()}, {available_cpus()} of {os.cpu_count()} CPUs "
               f"usable, {platform.system()}")
    return {"commit": commit, "versions": json.dumps(versions, sort_keys=True),
            "machine": machine, "command": command,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# --- the table ------------------------------------------------------------------------------

def table_path(grid: str) -> Path:
    return RESULTS_DIR / f"{grid}.csv"


def _split_torn_tail(text: str) -> tuple[str, str]:
    """``text`` without a torn last line, and that line ('' when there is none).

    A last line without its newline is torn only if it is not a complete row: a complete
    row that merely lost its newline (an editor, a copy) is kept, never dropped.
    """
    if not text or text.endswith("\n"):
        return text, ""
    head, tail = text[: text.rfind("\n") + 1], text[text.rfind("\n") + 1:]
    try:
        cols = next(csv.reader(io.StringIO(tail)))
    except (csv.Error, StopIteration):
        return head, tail
    if head and len(cols) == len(COLUMNS):
        try:
            _parse_row(dict(zip(COLUMNS, cols)), Path("-"), 0)
            return text + "\n", ""
        except ResultsError:
            pass
    return head, tail


def _parse_row(row: dict, path: Path, lineno: int) -> dict:
    """Typed values of one row; ResultsError naming the file, line and column otherwise."""
    try:
        for c in ("test_f1", "test_f1_fixed", "valid_f1", "seconds", "peak_rss_mb"):
            row[c] = float(row[c])
        row["seed"], row["n_params"] = int(row["seed"]), int(row["n_params"])
        for c in JSON_COLUMNS:
            row[c] = json.loads(row[c])
    except (ValueError, TypeError) as e:
        raise ResultsError(f"{path} line {lineno}: a value of the wrong type ({e})") from None
    for c in SCORE_COLUMNS:
        if not 0.0 <= row[c] <= 1.0:  # also false for NaN
            raise ResultsError(f"{path} line {lineno}: {c} must be an F1 in [0, 1], "
                               f"found {row[c]!r}")
    return row


def read_table(path: Path) -> list[dict]:
    """Rows of a results table.

    A torn last line (a writer killed mid-row) is not a row: it is left out with a warning
    on stderr, and the next append removes it. Raises ResultsError naming the file and line
    for a wrong header, a row with the wrong number of columns or a value of the wrong type,
    a NaN or out-of-range F1, or a duplicate key.
    """
    if not path.exists():
        return []
    text, torn = _split_torn_tail(path.read_text(encoding="utf-8"))
    if torn:
        print(f"{path} line {text.count(chr(10)) + 1}: ignoring a torn last line (an "
              f"interrupted write; not a finished row)", file=sys.stderr)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        problem = f"missing {missing}" if missing else f"found them in another order: {header}"
        raise ResultsError(f"{path} line 1: expected the columns {list(COLUMNS)}; {problem}")
    rows, seen = [], {}
    for lineno, cols in enumerate(reader, start=2):
        if len(cols) != len(COLUMNS):
            raise ResultsError(f"{path} line {lineno}: expected {len(COLUMNS)} columns, "
                               f"found {len(cols)}")
        row = dict(zip(COLUMNS, cols))
        if row["key"] in seen:
            raise ResultsError(f"{path} line {lineno}: duplicate row for {row['key']!r} "
                               f"(first at line {seen[row['key']]})")
        seen[row["key"]] = lineno
        rows.append(_parse_row(row, path, lineno))
    return rows


def load_results(grid: str):
    """The stored table of ``grid`` as a pandas DataFrame (empty when not yet run)."""
    import pandas as pd

    return pd.DataFrame(read_table(table_path(grid)), columns=list(COLUMNS))


def rows_of(df, framework: str, recipe: Recipe, preset: str = "classroom"):
    """The stored rows of ``recipe`` in ``framework``, one per seed, sorted by seed.

    ``df`` may join several tables (:func:`utils.toggles.all_results`) in which one run is
    stored twice (the presets belong to more than one grid): the first copy is kept.
    """
    sel = df[(df.framework == framework) & (df.recipe == recipe.to_string())
             & (df.preset == preset)]
    return sel.drop_duplicates("seed").sort_values("seed")


def f1_of(df, framework: str, recipe: Recipe, preset: str = "classroom"):
    """Test F1 values (one per seed) of the stored runs of ``recipe`` in ``framework``."""
    return rows_of(df, framework, recipe, preset).test_f1.to_numpy()


def compare(a, b, level: float = 0.95) -> dict:
    """Median F1 of two settings, the bootstrap CI of the median difference (b − a) and the
    verdict ("larger than seed noise" / "within seed noise")."""
    import numpy as np

    from utils.metrics import bootstrap_ci, seed_noise_verdict

    diff, lo, hi = bootstrap_ci(a, b, level=level)
    return {"n_a": len(a), "n_b": len(b), "median_a": float(np.median(a)),
            "median_b": float(np.median(b)), "diff": diff, "ci_low": lo, "ci_high": hi,
            "verdict": seed_noise_verdict(a, b, level=level)}


def _append_row(path: Path, row: dict) -> None:
    """Append one row, flushed and fsynced: a crash leaves at most a torn last line.

    The caller holds the table's lock (:func:`table_lock`). A row with a NaN or
    out-of-range F1 is refused before anything is written.
    """
    for c in SCORE_COLUMNS:
        if not 0.0 <= float(row[c]) <= 1.0:
            raise ResultsError(f"{path}: refusing to store {row.get('key')!r}: {c} must be "
                               f"an F1 in [0, 1], found {row[c]!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        text = path.read_text(encoding="utf-8")
        kept, torn = _split_torn_tail(text)
        if kept != text:  # drop a torn line, or end a complete last row with its newline
            atomic_write_text(path, kept)
    new = not path.exists() or path.stat().st_size == 0
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if new:
        writer.writerow(COLUMNS)
    writer.writerow([json.dumps(row[c]) if c in JSON_COLUMNS and not isinstance(row[c], str)
                     else row[c] for c in COLUMNS])
    with open(path, "a", encoding="utf-8") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())


# --- engines --------------------------------------------------------------------------------

def _threads_in_use(framework: str) -> int:
    if framework == "torch":
        import torch

        return torch.get_num_threads()
    from utils.env_check import quiet_tensorflow

    return quiet_tensorflow().config.threading.get_intra_op_parallelism_threads()


def _run_job(job: Job) -> dict:
    from utils.train import train

    r = train(job.recipe, job.preset, job.seed, job.framework, progress=False)
    return {**r.to_dict(), "key": job.key,
            "float_path": float_path(job.framework, _threads_in_use(job.framework))}


def _worker_init(threads: int) -> None:
    from utils.machine import pin_before_import
    from utils.train import set_threads

    pin_before_import()
    set_threads(threads)


class SerialEngine:
    """Runs jobs one after another in this process (notebooks, debugging)."""

    def map(self, fn: Callable[[Job], dict], jobs: list[Job]) -> Iterator[dict]:
        return map(fn, jobs)


class LocalEngine:
    """Worker processes, one CPU thread each; results arrive as jobs finish.

    Workers start with the kernel ISA pinned (:mod:`utils.machine`), so their rows take the
    same floating-point path on any x86-64 CPU that has AVX2.
    """

    def __init__(self, workers: int = 2, threads_per_worker: int = 1):
        if workers < 1 or threads_per_worker < 1:
            raise ValueError(f"a LocalEngine needs at least one worker and one thread each, "
                             f"got workers={workers}, threads_per_worker={threads_per_worker}")
        self.workers, self.threads = workers, threads_per_worker

    def map(self, fn: Callable[[Job], dict], jobs: list[Job]) -> Iterator[dict]:
        import multiprocessing as mp

        # spawn, not fork: TensorFlow and PyTorch thread pools do not survive a fork.
        ctx = mp.get_context("spawn")
        with pinned_environment(), ctx.Pool(self.workers, initializer=_worker_init,
                                            initargs=(self.threads,),
                                            maxtasksperchild=8) as pool:
            yield from pool.imap_unordered(fn, jobs)


@contextmanager
def table_lock(path: Path):
    """Hold an exclusive lock on the table ``path`` (a ``.lock`` file beside it).

    Two runs of one grid at once would append the same rows and leave a table that no
    read accepts; the second run is refused at once instead, naming the holder.
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    with open(lock, "a+", encoding="utf-8") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            raise ResultsError(f"{path}: another run is writing this table ({holder}); wait "
                               f"for it to finish, or stop it, then rerun to resume") from None
        f.seek(0)
        f.truncate()
        f.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        f.flush()
        try:
            yield
        finally:
            f.seek(0)
            f.truncate()
            fcntl.flock(f, fcntl.LOCK_UN)


def run_grid(grid: str | list[Job], name: str | None = None, engine=None,
             limit: int | None = None, command: str = "", progress: bool = True) -> Path:
    """Run every job of ``grid`` that its table lacks; return the table's path.

    ``limit`` runs at most that many missing rows (a chunk); it must be positive.
    """
    from tqdm.auto import tqdm

    if limit is not None and limit < 1:
        raise ValueError(f"limit must be a positive number of rows, got {limit}")
    jobs = GRIDS[grid]() if isinstance(grid, str) else grid
    path = table_path(name or grid)
    with table_lock(path):
        done = {row["key"] for row in read_table(path)}
        todo = [j for j in jobs if j.key not in done][:limit]
        if progress:
            print(f"{path.name}: {len(done)} rows done, {len(todo)} to run", file=sys.stderr)
        if not todo:
            return path
        prov = provenance(command or " ".join(["python -m utils.experiments", *sys.argv[1:]]))
        engine = engine or LocalEngine()
        t0 = time.perf_counter()
        done_now, run_id = 0, f"{prov['date']}/{os.getpid()}"
        for row in tqdm(engine.map(_run_job, todo), total=len(todo), desc=path.stem,
                        disable=not progress, file=sys.stderr):
            _append_row(path, {**row, **prov})
            done_now += 1
            # After every row: a run stopped part-way still accounts for its time.
            _record_wall_time(path, time.perf_counter() - t0, done_now, prov, run_id)
    return path


def _record_wall_time(path: Path, seconds: float, rows: int, prov: dict, run_id: str) -> None:
    """Keep the grid's wall-clock time over (resumed) runs in ``<grid>.meta.json``: one
    entry per run (start date and process), updated as rows arrive."""
    meta_path = path.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {"runs": []}
    entry = {"run": run_id, "wall_seconds": round(seconds, 1), "rows": rows,
             "machine": prov["machine"], "commit": prov["commit"], "command": prov["command"],
             "date": prov["date"]}
    runs = [r for r in meta["runs"] if r.get("run") != run_id]
    meta["runs"] = [*runs, entry]
    meta["wall_seconds_total"] = round(sum(r["wall_seconds"] for r in meta["runs"]), 1)
    meta["rows_total"] = sum(r["rows"] for r in meta["runs"])
    atomic_write_text(meta_path, json.dumps(meta, indent=1))


# --- verify -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Check:
    """How one stored row was re-derived.

    ``kind`` is ``"identical"`` (the rerun gave the same F1 to the last digit) or
    ``"statistical"`` (the rerun took another floating-point path, so a few seeds of the
    setting were rerun and their F1 tested against the stored seeds). A statistical
    agreement is never reported as identical.
    """

    row: dict
    kind: str
    ok: bool
    detail: str

    def line(self) -> str:
        r = self.row
        return (f"{'ok  ' if self.ok else 'FAIL'} {self.kind:11s} {r['framework']:5s} "
                f"{r['recipe_name']:12s} seed {r['seed']}: {self.detail}")


def _same_bits(a: float, b: float) -> bool:
    return f"{a:.12g}" == f"{b:.12g}"


def check_row(row: dict, table: list[dict], reruns: int = RERUNS, alpha: float = ALPHA,
              run: Callable[[Job], dict] = _run_job, engine=None) -> Check:
    """Re-derive one stored ``row`` of ``table`` (see :class:`Check`).

    The first rerun takes this machine's pinned path. If its F1 is identical, the check is
    ``identical``. If not, and the row was stored on this very path, the table is stale: the
    check fails. Otherwise ``reruns`` seeds of the setting (the row's own first) run here,
    and a two-sided permutation test of the difference of means against every stored seed
    of the setting must give p ≥ ``alpha``. It catches a stale table (a shift of the order of
    the seed spread), not a subtle one; a grid rerun on this machine is the full check.
    """
    import numpy as np
    from scipy.stats import permutation_test

    job = Job(Recipe.from_string(row["recipe"]), row["framework"], row["seed"], row["preset"])
    again = run(job)
    stored_key, here_key = path_key(row["float_path"]), path_key(again["float_path"])
    if _same_bits(again["test_f1"], row["test_f1"]):
        return Check(row, "identical", True, f"stored {row['test_f1']:.6f} rerun "
                                             f"{again['test_f1']:.6f}")
    if stored_key == here_key:
        return Check(row, "identical", False, f"stored {row['test_f1']:.6f} rerun "
                     f"{again['test_f1']:.6f} on the same floating-point path ({here_key})")
    same = [r for r in table if r["framework"] == row["framework"]
            and r["recipe"] == row["recipe"] and r["preset"] == row["preset"]]
    if len(same) < 5 or reruns < 2:
        return Check(row, "statistical", False, f"another floating-point path ({here_key}; "
                     f"stored: {stored_key}) and too few runs for a statistical check "
                     f"({len(same)} stored seeds, {reruns} reruns; need 5 and 2)")
    import random

    others = [r for r in same if r["seed"] != row["seed"]]
    picked = random.Random(row["seed"]).sample(others, min(reruns - 1, len(others)))
    jobs = [replace(job, seed=r["seed"]) for r in picked]
    f1 = [again["test_f1"], *(x["test_f1"] for x in (engine or SerialEngine()).map(run, jobs))]
    stored = np.array([r["test_f1"] for r in same])
    res = permutation_test((np.array(f1), stored), lambda a, b: np.mean(a) - np.mean(b),
                           alternative="two-sided", n_resamples=9999,
                           random_state=np.random.default_rng(0))
    seeds = [row["seed"], *(r["seed"] for r in picked)]
    return Check(row, "statistical", bool(res.pvalue >= alpha),
                 f"another floating-point path ({here_key}; stored: {stored_key}): seeds "
                 f"{seeds} rerun here, mean {np.mean(f1):.4f} vs {len(stored)} stored seeds "
                 f"{stored.mean():.4f}, permutation p={res.pvalue:.3f} (fails below {alpha})")


def verify(grid: str, sample: int, seed: int = 0, preset: str | None = None,
           reruns: int = RERUNS, engine=None) -> list[Check]:
    """Re-derive ``sample`` random stored rows of ``grid`` (see :func:`check_row`).

    ``preset`` limits the draw to rows of one data preset, so that a quick check can
    skip the 4x rows of the sizes grid (minutes each) without skipping the grid.
    """
    import random

    if sample < 1:
        raise ValueError(f"sample must be at least 1 row, got {sample}")
    table = read_table(table_path(grid))
    rows = table if preset is None else [r for r in table if r["preset"] == preset]
    if not rows:
        which = f" with preset {preset!r}" if preset is not None else ""
        raise ResultsError(f"{table_path(grid)}: no stored rows{which} to verify")
    checks = []
    for row in random.Random(seed).sample(rows, min(sample, len(rows))):
        checks.append(check_row(row, table, reruns=reruns, engine=engine))
        print(checks[-1].line(), flush=True)
    return checks


def summary_line(checks: list[Check]) -> str:
    """``verified=<ok>/<K> identical=<i> statistical=<s>``: the last line of ``verify``."""
    ok = sum(c.ok for c in checks)
    kinds = {k: sum(c.kind == k and c.ok for c in checks) for k in ("identical", "statistical")}
    return (f"verified={ok}/{len(checks)} identical={kinds['identical']} "
            f"statistical={kinds['statistical']}")


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
    r.add_argument("--limit", type=_positive_int, default=None,
                   help="run at most N missing rows")
    v = sub.add_parser("verify", help="rerun K random stored rows")
    v.add_argument("--grid", default="reference", choices=sorted(GRIDS))
    v.add_argument("--sample", type=_positive_int, default=3)
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--preset", default=None,
                   help="draw only rows of this data preset (e.g. quarter)")
    v.add_argument("--reruns", type=_positive_int, default=RERUNS,
                   help="seeds rerun for a statistical check (another floating-point path)")
    sub.add_parser("list", help="grids and how many rows each table has")
    sub.add_parser("summary", help="every toggle's effect and the effect-vs-size table, "
                                   "from the stored rows (as in 08)")
    args = parser.parse_args(argv)
    try:
        return _command(args)
    except (ResultsError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


def _command(args: argparse.Namespace) -> int:
    if args.cmd == "run":
        t0 = time.perf_counter()
        workers = args.workers or available_cpus()
        engine = SerialEngine() if workers == 1 else LocalEngine(workers)
        if workers == 1:
            _worker_init(1)
        path = run_grid(args.grid, engine=engine, limit=args.limit)
        shown = path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path
        print(f"table={shown} rows={len(read_table(path))} "
              f"seconds={time.perf_counter() - t0:.1f}")
    elif args.cmd == "verify":
        _worker_init(1)  # stored rows: pinned ISA, one thread per worker
        cpus = available_cpus()
        engine = LocalEngine(min(2, cpus)) if cpus > 1 else SerialEngine()
        checks = verify(args.grid, args.sample, args.seed, args.preset, args.reruns, engine)
        print(summary_line(checks))
        return 0 if all(c.ok for c in checks) else 1
    elif args.cmd == "summary":
        import pandas as pd

        from utils.toggles import size_summary, toggle_summary

        with pd.option_context("display.width", 200):
            for title, table in (("Every toggle (median F1 difference, 95 % CI)",
                                  toggle_summary()),
                                 ("Effect versus training-set size", size_summary())):
                print(f"{title}\n{table.round(3).to_string(index=False)}\n")
    else:
        for name, make in GRIDS.items():
            print(f"{name:12s} jobs={len(make()):4d} stored={len(read_table(table_path(name)))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
