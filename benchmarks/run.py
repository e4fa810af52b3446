"""Benchmarks of the lab: speed and memory goals, measured; writes docs/benchmarks.md.

Run with ``make bench`` (nothing else should run meanwhile; its wall time is in the report).
Every timing is a median over repeats after a warm-up, taken with ``time.perf_counter``;
peak memory is the maximum resident set size (``resource.getrusage``), and for a notebook
each process's own peak and bounds on all of them together (``tree_peak_mb``). Each timing is
also given as a ratio against a baseline measured in the same run. The report is written
atomically and never edited by hand.

    python benchmarks/run.py [--quick] [--skip-notebooks]
    python benchmarks/run.py --notebooks 09 10    # their memory only; writes no page
    python benchmarks/run.py --beside-busy        # live runs quiet and beside a busy process
    python benchmarks/run.py --beside-busy --write  # and the notebooks; rewrites that section
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script (python benchmarks/run.py): the repository root must be importable.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import grids  # noqa: E402
from benchmarks.grids import grid_times  # noqa: E402
from benchmarks.report import markdown_table, write_section  # noqa: E402
from utils.common.files import atomic_write_text  # noqa: E402
from utils.common.machine import available_cpus, cpu_name  # noqa: E402
from utils.common.memory import tree_peak_mb  # noqa: E402
from utils.common.repo import REPO_ROOT as REPO  # noqa: E402
from utils.common.repo import git_commit  # noqa: E402
from utils.common.timing import median_times  # noqa: E402
from utils.common.versions import KEY_PACKAGES, installed_version  # noqa: E402

REPORT = REPO / "docs" / "benchmarks.md"
GOALS = {
    "gru_ratio": 1.2, "framework_ratio": 1.5, "build_cold_s": 60, "build_warm_s": 2,
    "notebook_s": 240, "notebook_rss_mb": 2048, "notebook_anon_mb": 1024,
    "notebooks_total_s": 1500,
    "toggles_grid_s": 5400,
    "beside_busy_ratio": 1.3,
}
# The process that keeps one CPU busy beside a timed run: what a second notebook, a browser
# or a grid worker does to a live run. It says when it runs, so the timed run starts after.
BUSY_CODE = "print('busy', flush=True)\nwhile True: pass"
LIVE_EPOCHS = 3  # a short live run of each framework, as a notebook trains one


def bench_gru(quick: bool) -> list[dict]:
    from utils.networks.gru_torch import benchmark

    rows = []
    for label, shape, hidden in (("classroom", (16, 50, 160), 32),
                                 ("paper", (16, 100, 1024), 100)):
        # About 7 ms a classroom call against 45 ms a paper one: more calls where cheap.
        r = benchmark(shape=shape, hidden=hidden,
                      repeats=5 if quick else {"classroom": 100, "paper": 20}[label])
        for name, ratio in r["ratios"].items():
            rows.append({"size": label, "variant": name, "seconds": r["seconds"][name],
                         "baseline_s": r["nn.GRU"], "ratio": ratio})
    return rows


def bench_steps(quick: bool) -> list[dict]:
    """One training step per framework and model size (same recipe, same batch)."""
    from dataclasses import replace
    from functools import partial

    import numpy as np

    from utils.networks.architecture import SIZES
    from utils.networks.recipe import KERAS_2017, PYTORCH
    from utils.training.trainer import KerasTrainer, TorchTrainer

    rows = []
    for size in ("classroom", "paper"):
        s = SIZES[size]
        n = 64
        rng = np.random.default_rng(0)
        x = rng.standard_normal((n, s.n_frames, s.n_mels)).astype(np.float32)
        y = (rng.random((n, 17)) < 0.1).astype(np.float32)
        for recipe in (KERAS_2017, PYTORCH):
            r = replace(recipe, model_size=size, bidirectional=size == "paper")
            trainers = {"torch": TorchTrainer(r, 0, x, y), "keras": KerasTrainer(r, 0, x, y)}
            steps = {fw: partial(t.fit_epoch, [np.arange(r.batch_size)], 0.01)
                     for fw, t in trainers.items()}
            # A classroom step takes tens of milliseconds: 40 of them, against 10 of a
            # paper-size one (about 0.8 s).
            times = median_times(steps, 1 if quick else {"classroom": 8, "paper": 2}[size])
            for fw in ("keras", "torch"):
                rows.append({"size": size, "recipe": recipe.name, "framework": fw,
                             "step_s": times[fw], "clips_per_s": r.batch_size / times[fw],
                             "keras_over_torch": times["keras"] / times["torch"]})
    return rows


def bench_training_run() -> list[dict]:
    """One full classroom training run per framework (the 60-s goal), via the CLI."""
    rows = []
    for fw, recipe in (("keras", "keras_2017"), ("torch", "pytorch"), ("torch", "keras_2017")):
        t0 = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "utils.train", "--framework", fw,
                              "--recipe", recipe, "--seed", "0"], cwd=REPO,
                             capture_output=True, text=True, check=True)
        last = out.stdout.strip().splitlines()[-1]
        rows.append({"framework": fw, "recipe": recipe, "wall_s": time.perf_counter() - t0,
                     "train_s": float(last.split("seconds=")[1]),
                     "test_f1": float(last.split()[0].split("=")[1])})
    from utils.networks.recipe import KERAS_2017

    base = next(r["train_s"] for r in rows if r["framework"] == "torch"
                and r["recipe"] == "pytorch")
    for r in rows:  # the recipes share their epoch count; baseline: PyTorch with PYTORCH
        r["epoch_s"] = r["train_s"] / KERAS_2017.epochs
        r["ratio_to_torch_pytorch"] = r["train_s"] / base
    return rows


def live_run_commands(epochs: int = LIVE_EPOCHS,
                      per_cpu: bool = True) -> dict[tuple[str, str], list[str]]:
    """The live runs that :func:`bench_beside_busy` times: each framework's short classroom
    run with the lab's thread count (the default, ``$DEFAULTS_LAB_THREADS`` unset) and, where
    this process may use more than one CPU and ``per_cpu``, with one thread per CPU (the
    default before), keyed by (framework, threads)."""
    from utils.common.frameworks import LIVE_THREADS

    cmds = {}
    for fw, recipe in (("torch", "pytorch"), ("keras", "keras_2017")):
        base = [sys.executable, "-m", "utils.train", "--framework", fw, "--recipe", recipe,
                "--seed", "0", "--epochs", str(epochs)]
        cmds[fw, f"default ({LIVE_THREADS})"] = base
        if per_cpu and available_cpus() > 1:
            cmds[fw, f"{available_cpus()} (one per CPU)"] = base + ["--threads",
                                                                    str(available_cpus())]
    return cmds


# The classroom notebooks timed quiet and beside a busy process: the Keras model's (02) and
# the PyTorch port's (03), each training live in its own framework as a learner runs it.
BESIDE_BUSY_NOTEBOOKS = {"02": "Keras", "03": "PyTorch"}


def notebook_commands() -> dict[tuple[str, str], list[str]]:
    """The classroom notebooks of :data:`BESIDE_BUSY_NOTEBOOKS` as commands for
    :func:`bench_beside_busy`, keyed by (notebook and framework, threads): each runs the
    notebook top to bottom in its own process and prints ``seconds=`` (kernel start
    included, as a learner waits for it), with the lab's default threads."""
    from utils.common.frameworks import LIVE_THREADS

    cmds = {}
    for nb in chosen_notebooks(list(BESIDE_BUSY_NOTEBOOKS)):
        code = ("import tempfile, time; from pathlib import Path; "
                "from utils.lessons.notebooks import execute; t0 = time.perf_counter(); "
                f"execute(Path({str(nb)!r}), Path(tempfile.mkdtemp()), smoke=False); "
                "print(f'seconds={time.perf_counter() - t0}')")
        label = f"{nb.stem} ({BESIDE_BUSY_NOTEBOOKS[nb.name[:2]]})"
        cmds[label, f"default ({LIVE_THREADS})"] = [sys.executable, "-c", code]
    return cmds


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    """Seconds ``cmd`` took: the ``seconds=`` of its last line where it prints one (a
    training run's own time, without the imports), else its wall time; and that line."""
    t0 = time.perf_counter()
    out = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if out.returncode:
        raise subprocess.CalledProcessError(out.returncode, cmd, out.stdout, out.stderr)
    last = (out.stdout.strip().splitlines() or [""])[-1]
    found = re.search(r"\bseconds=([0-9.]+)", last)
    return (float(found.group(1)) if found else wall), last


def bench_beside_busy(commands: dict[tuple[str, str], list[str]], repeats: int = 1,
                      busy_code: str = BUSY_CODE) -> list[dict]:
    """Time each command quiet and beside one busy process (a child running ``busy_code``,
    started before and ended after each timed run), in turns; the median of ``repeats``.

    ``beside / quiet`` is what the load costs the run; the goal is
    :data:`GOALS` ``["beside_busy_ratio"]``. The quiet time is quiet only where nothing else
    runs on the machine: the report says what else was running (load average at start).
    ``$DEFAULTS_LAB_THREADS`` is removed from each run's environment, so the default rows
    time the lab's own choice.

    Examples
    --------
    >>> cmd = {("python", "1"): [sys.executable, "-c", "print(sum(range(10**5)))"]}
    >>> [r["run"] for r in bench_beside_busy(cmd)]
    ['python']
    """
    env = {k: v for k, v in os.environ.items() if k != "DEFAULTS_LAB_THREADS"}
    times: dict[tuple[str, str], dict[str, list[float]]] = {
        key: {"quiet": [], "beside": []} for key in commands}
    for _ in range(repeats):
        for key, cmd in commands.items():
            times[key]["quiet"].append(_timed(cmd, env)[0])
            # Each time as it comes: on a loaded machine one run can take many minutes.
            print(f"{key}: quiet {times[key]['quiet'][-1]:.1f} s", file=sys.stderr, flush=True)
            busy = subprocess.Popen([sys.executable, "-c", busy_code], stdout=subprocess.PIPE,
                                    text=True)
            try:
                busy.stdout.readline()  # running (or ended, which the run then times alone)
                times[key]["beside"].append(_timed(cmd, env)[0])
                print(f"{key}: beside a busy process {times[key]['beside'][-1]:.1f} s",
                      file=sys.stderr, flush=True)
            finally:
                busy.kill()
                busy.communicate()
    rows = []
    for (run, threads), t in times.items():
        quiet, beside = (float(sorted(v)[len(v) // 2]) for v in (t["quiet"], t["beside"]))
        rows.append({"run": run, "threads": threads, "quiet_s": quiet,
                     "beside_busy_s": beside, "beside / quiet": beside / quiet})
    return rows


BESIDE_START, BESIDE_END = "<!-- beside-busy:start -->", "<!-- beside-busy:end -->"


def beside_busy_goals(rows: list[dict], notebook_rows: list[dict]) -> list[dict]:
    """The goal rows of the beside-busy measurement: the worst default-thread live run and
    the worst classroom notebook, each ``beside / quiet`` against ``beside_busy_ratio``."""
    goals = []
    for what, found in (("live run", rows), ("classroom notebook", notebook_rows)):
        default = [r["beside / quiet"] for r in found if r["threads"].startswith("default")]
        if default:
            goals.append({"goal": f"{what} beside one busy process over quiet, default "
                                  "threads (worst framework)",
                          "target": f"<= {GOALS['beside_busy_ratio']}",
                          "measured": max(default)})
    return goals


def beside_busy_section(rows: list[dict], notebook_rows: list[dict], load_at_start: float,
                        epochs: int, command: str, repeats: int = 3) -> str:
    """The report's marked section on :func:`bench_beside_busy`'s rows: the live runs of
    ``epochs`` and the classroom notebooks, with its own provenance and goals, so that
    ``python benchmarks/run.py --beside-busy --write`` can measure it alone."""
    notebooks = (f"""
The classroom notebooks {", ".join(f"{k} ({v})" for k, v in BESIDE_BUSY_NOTEBOOKS.items())}, each
run top to bottom in its own process (kernel start included), quiet and beside the busy
process, in turns, once each:

{markdown_table(notebook_rows)}""" if notebook_rows else "")
    return f"""{BESIDE_START}
## Live runs and notebooks beside a busy process

Generated by `{command}` at commit {git_commit()}; {cpu_name()}, {available_cpus()} usable CPUs
of {os.cpu_count()}. Load average (1 min) when the measurement started: {load_at_start:.2f}
(`quiet_s` is quiet only where that is near 0).

{markdown_table(beside_busy_goals(rows, notebook_rows))}
Each framework's {epochs}-epoch classroom run (`python -m utils.train --epochs
{epochs}`, its own `seconds=`), alone (`quiet_s`) and beside one process that keeps a
CPU busy (`while True: pass`, `beside_busy_s`), in turns, the median of {repeats}; the lab's
default thread count and one thread per usable CPU:

{markdown_table(rows)}{notebooks}{BESIDE_END}"""


def bench_data(quick: bool) -> dict:
    import numpy as np

    from utils.task.features import CLASSROOM, log_mel
    from utils.task.synthesis import SynthParams, plan_clip, render_clip

    specs = [plan_clip(SynthParams(), "train", i) for i in range(30 if quick else 100)]
    t0 = time.perf_counter()
    audio = [render_clip(s) for s in specs]
    synth = len(specs) / (time.perf_counter() - t0)
    log_mel(np.zeros(160_000, np.float32), CLASSROOM)  # mel basis, librosa warm-up
    t0 = time.perf_counter()
    for a in audio:
        log_mel(a, CLASSROOM)
    feats = len(audio) / (time.perf_counter() - t0)
    result = {"synthesis_clips_per_s": synth, "features_clips_per_s": feats}
    preset = "smoke" if quick else "classroom"
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "DEFAULTS_LAB_DATA": tmp}
    try:
        for label in ("cold", "warm"):
            t0 = time.perf_counter()
            subprocess.run([sys.executable, "-m", "utils.data", "build", "--preset", preset],
                           cwd=REPO, env=env, capture_output=True, check=True)
            result[f"build_{label}_s"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["warm_over_cold"] = result["build_warm_s"] / result["build_cold_s"]
    result["synthesis_over_features_time"] = feats / synth  # time per clip, synthesis ÷ features
    result["build_preset"] = preset
    return result


def chosen_notebooks(numbers: list[str] | None) -> list[Path]:
    """The lab's notebooks, or those whose number is in ``numbers`` (``"09"``, ``"10"``).

    Raises ValueError naming what is known when a number matches no notebook."""
    from utils.lessons.notebooks import notebook_paths

    paths = notebook_paths()
    if not numbers:
        return paths
    known = {p.name[:2]: p for p in paths}
    unknown = [n for n in numbers if n.zfill(2) not in known]
    if unknown:
        raise ValueError(f"no notebook numbered {unknown}; expected some of {sorted(known)}")
    return [known[n.zfill(2)] for n in numbers]


def bench_notebooks(modes: tuple[str, ...], notebooks: list[Path] | None = None) -> list[dict]:
    """Wall time and peak memory of every notebook (or of ``notebooks``), each run in its
    own process: the largest process's own peak, and the peak of all its processes together
    (the runner, the kernel and whatever the kernel starts: what a memory limit sees)."""
    rows = []
    for mode in modes:
        for nb in notebooks or chosen_notebooks(None):
            out = Path(tempfile.mkdtemp())
            code = ("import sys, time; from pathlib import Path; "
                    "from utils.lessons.notebooks import execute; t0 = time.perf_counter(); "
                    f"execute(Path({str(nb)!r}), Path({str(out)!r}), smoke={mode == 'smoke'}); "
                    "print(time.perf_counter() - t0)")
            proc = subprocess.Popen([sys.executable, "-c", code], cwd=REPO, text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # Not the runner's ru_maxrss: it starts at this process's own mark (memory.py).
            peak = tree_peak_mb(proc)
            stdout, stderr = proc.communicate()
            if proc.returncode:
                raise subprocess.CalledProcessError(proc.returncode, proc.args, stdout, stderr)
            rows.append({"notebook": nb.name, "mode": mode,
                         "seconds": float(stdout.strip().splitlines()[-1]),
                         "largest_process_mb": peak.largest_mb,
                         "all_processes_mb": peak.at_least_mb,
                         "all_processes_at_most_mb": peak.at_most_mb,
                         "all_processes_anon_mb": peak.anon_mb})
            shutil.rmtree(out, ignore_errors=True)
    for r in rows:  # baseline: the lightest notebook (00) in the same mode and run
        base = next((b["seconds"] for b in rows if b["mode"] == r["mode"]
                     and b["notebook"].startswith("00_")), None)
        if base is not None:  # not in a run of chosen notebooks without 00
            r["ratio_to_00"] = r["seconds"] / base
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, smoke data")
    parser.add_argument("--skip-notebooks", action="store_true")
    parser.add_argument("--notebooks", nargs="+", metavar="NN",
                        help="only these notebooks, classroom mode: print their table and "
                             "write no page (memory reads true on a busy machine, time not)")
    parser.add_argument("--beside-busy", action="store_true",
                        help="only the live runs quiet and beside a busy process: print "
                             "their section and write no page")
    parser.add_argument("--write", action="store_true",
                        help="with --beside-busy: also time the classroom notebooks and "
                             "replace that section of docs/benchmarks.md (its own commit "
                             "and load are in it)")
    parser.add_argument("--default-threads-only", action="store_true",
                        help="with --beside-busy: time the default thread count only (one "
                             "thread per CPU can take many times longer on a busy machine)")
    parser.add_argument("--repeats", type=int, default=None,
                        help="repeats of each live run beside a busy process (median; "
                             "default 1 with --quick, else 3)")
    raw = sys.argv[1:] if argv is None else list(argv)  # the command, as the page states it
    args = parser.parse_args(argv)
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats {args.repeats}: expected at least 1")
    repeats = args.repeats or (1 if args.quick else 3)
    if args.write and not args.beside_busy:
        parser.error("--write: only with --beside-busy (a full run writes the whole page)")
    if args.beside_busy or args.default_threads_only:
        load = os.getloadavg()[0]
        commands = live_run_commands(per_cpu=not args.default_threads_only)
        rows = bench_beside_busy(commands, repeats)
        notebook_rows = bench_beside_busy(notebook_commands()) if args.write else []
        text = beside_busy_section(rows, notebook_rows, load, LIVE_EPOCHS,
                                   " ".join(["python benchmarks/run.py", *raw]), repeats)
        print(text)
        if args.write:
            write_section(REPORT, text, BESIDE_START, BESIDE_END)
            print(f"wrote its section of {REPORT.relative_to(REPO)}")
        return 0
    if args.notebooks:
        try:
            chosen = chosen_notebooks(args.notebooks)
        except ValueError as e:
            parser.error(str(e))
        print(markdown_table(bench_notebooks(("classroom",), chosen)))
        return 0
    t_start = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    live_epochs = 1 if args.quick else LIVE_EPOCHS
    results = {
        "gru": bench_gru(args.quick),
        "steps": bench_steps(args.quick),
        "runs": [] if args.quick else bench_training_run(),
        "data": bench_data(args.quick),
        "beside_busy": bench_beside_busy(live_run_commands(live_epochs), repeats),
        # Once each: a classroom notebook takes a minute or two.
        "beside_busy_notebooks": [] if args.quick or args.skip_notebooks else
        bench_beside_busy(notebook_commands()),
        "notebooks": [] if args.skip_notebooks else bench_notebooks(
            ("smoke",) if args.quick else ("smoke", "classroom")),
    }
    commit = git_commit()
    versions = ", ".join(f"{n} {installed_version(n) or '-'}" for n in KEY_PACKAGES)
    nb = results["notebooks"]
    classroom = [r for r in nb if r["mode"] == "classroom"]
    d = results["data"]
    gru_worst = max((r["ratio"] for r in results["gru"] if r["size"] == "classroom"),
                    default=float("nan"))
    step_worst = max((max(r["keras_over_torch"], 1 / r["keras_over_torch"])
                      for r in results["steps"]), default=float("nan"))
    summary = [
        {"goal": "custom GRU / nn.GRU, classroom shape (worst variant)",
         "target": f"<= {GOALS['gru_ratio']}", "measured": gru_worst},
        {"goal": "Keras vs PyTorch training step (worst ratio either way)",
         "target": f"<= {GOALS['framework_ratio']}", "measured": step_worst},
        {"goal": f"dataset build cold ({d['build_preset']})",
         "target": f"<= {GOALS['build_cold_s']} s", "measured": d["build_cold_s"]},
        {"goal": "dataset build warm", "target": f"<= {GOALS['build_warm_s']} s",
         "measured": d["build_warm_s"]},
    ]
    toggles = next((g for g in grid_times() if g["grid"] == "toggles"), None)
    if toggles:
        summary.append({"goal": f"toggles grid, all {toggles['jobs']} runs, 2 workers "
                                f"(projected from {toggles['rows']} recorded)",
                        "target": f"<= {GOALS['toggles_grid_s']} s",
                        "measured": toggles["projected_wall_h"] * 3600})
    if classroom:
        summary += [
            {"goal": "slowest notebook, classroom mode", "target": f"<= {GOALS['notebook_s']} s",
             "measured": max(r["seconds"] for r in classroom)},
            {"goal": "largest notebook peak memory, all its processes (upper bound), "
                     "classroom mode",
             "target": f"<= {GOALS['notebook_rss_mb']} MB",
             "measured": max(r["all_processes_at_most_mb"] for r in classroom)},
            # Binder may give a session 1 GB: what it must hold at the least.
            {"goal": "largest notebook anonymous memory, all its processes (what a 1 GB "
                     "session must hold at the least), classroom mode",
             "target": f"<= {GOALS['notebook_anon_mb']} MB",
             "measured": max(r["all_processes_anon_mb"] for r in classroom)},
            {"goal": "all notebooks, classroom mode",
             "target": f"<= {GOALS['notebooks_total_s']} s",
             "measured": sum(r["seconds"] for r in classroom)},
        ]
    text = f"""# Benchmarks

Generated by `make bench` (`python benchmarks/run.py{' --quick' if args.quick else ''}`);
do not edit by hand. Commit {commit}; {platform.machine()} {cpu_name()}, {available_cpus()} usable
CPUs of {os.cpu_count()},
Python {platform.python_version()}; {versions}. Benchmark wall time
{time.perf_counter() - t_start:.0f} s; peak RSS of the benchmark process
{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB.

## Goals

{markdown_table(summary)}
The goals beside a busy process are in
[their section](#live-runs-and-notebooks-beside-a-busy-process), measured with it.

## Custom GRU vs fused `nn.GRU` (forward + backward, median)

`ratio` = variant / `nn.GRU`, the baseline and every variant timed in turns, in blocks of
five calls (`utils.common.timing.median_times`).

{markdown_table(results['gru'])}
## One training step (batch of the recipe), Keras vs PyTorch

The two frameworks timed in turns, in blocks of five steps.

{markdown_table(results['steps'])}
## One full classroom training run (`python -m utils.train`, default threads)

{markdown_table(results['runs'])}
{beside_busy_section(results['beside_busy'], results['beside_busy_notebooks'],
                     load_at_start, live_epochs,
                     " ".join(["python benchmarks/run.py", *raw]), repeats)}
## Dataset

{markdown_table([{k: v for k, v in d.items()}])}
## Notebooks (each in its own process)

`largest_process_mb`: the largest own peak RSS (VmHWM) among the notebook's processes (its
runner, the kernel, a process the kernel starts). What Binder's limit sees is their memory
at one moment, summed: `all_processes_mb` is at least that, the peak of the sum sampled
every 0.1 s, a page two of them share counted once (proportional set size), or the largest
process's own peak where a spike between samples hid from the sum;
`all_processes_at_most_mb` is at most that: at each sample, the own peaks of the processes
then alive, summed (`utils.common.memory.tree_peak_mb`). The 2 GB goal reads the upper bound.
`all_processes_anon_mb`: the peak of the sampled sum of their anonymous memory (RssAnon:
heaps, arrays, tensors). The rest of a resident size is file pages, mostly the frameworks'
shared libraries, which a memory limit such as Binder's drops under pressure and reads
again rather than end the kernel: a session must hold at least the anonymous memory, and
holding the resident sum is enough. The 1 GB goal reads this lower bound.

{markdown_table(nb)}
{grids.section()}
"""
    # The backends' section is measured by benchmarks/backends.py (make bench-backends): kept.
    old = REPORT.read_text(encoding="utf-8") if REPORT.exists() else ""
    kept = re.search(r"<!-- backends:start -->.*?<!-- backends:end -->", old, flags=re.S)
    if kept:
        text = text.rstrip("\n") + "\n\n" + kept.group(0) + "\n"
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(REPORT, text)
    (REPO / "build").mkdir(exist_ok=True)
    atomic_write_text(REPO / "build" / "benchmarks.json", json.dumps(results, indent=1))
    print(text)
    print(f"wrote {REPORT.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
