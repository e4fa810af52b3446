"""The benchmark's notebook choice (benchmarks/run.py --notebooks): by number, and a number
that matches no notebook is refused with the ones that exist."""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.run import chosen_notebooks
from utils.common.repo import REPO_ROOT


def test_notebooks_are_chosen_by_number_in_the_order_given():
    assert [p.name[:3] for p in chosen_notebooks(["10", "9"])] == ["10_", "09_"]
    assert len(chosen_notebooks(None)) == len(list((REPO_ROOT / "notebooks").glob("[0-9]*")))


def test_an_unknown_notebook_number_is_refused():
    with pytest.raises(ValueError, match=r"no notebook numbered \['42'\].*'10'"):
        chosen_notebooks(["10", "42"])
    out = subprocess.run([sys.executable, "benchmarks/run.py", "--notebooks", "42"],
                         cwd=REPO_ROOT, capture_output=True, text=True)
    assert out.returncode == 2 and "no notebook numbered ['42']" in out.stderr


def test_a_run_is_timed_quiet_and_beside_a_busy_process_that_ends_with_it(tmp_path):
    """The beside-busy timing on a tiny fake run: each run sees the busy process exactly in
    its 'beside' turn, the busy process is gone afterwards, and the ratio is the two times'."""
    import psutil

    from benchmarks.run import BUSY_CODE, bench_beside_busy

    marks = tmp_path / "marks"
    busy = f"open({str(marks)!r}, 'a').write('busy\\n')\n" + BUSY_CODE
    # The fake run reports its own seconds (the last line's seconds=, as utils.train does):
    # one more where a busy sibling runs beside it.
    run = ("import os, psutil; seen = any('while ' + 'True' in ' '.join(p.cmdline()) for p in "
           "psutil.Process(os.getppid()).children()); "
           "print('noise'); print(f'test_f1=0 seconds={1.0 + seen}')")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    rows = bench_beside_busy({("fake", "1"): [sys.executable, "-c", run]}, repeats=2,
                             busy_code=busy)
    assert marks.read_text() == "busy\n" * 2  # one busy process per repeat
    assert rows == [{"run": "fake", "threads": "1", "quiet_s": 1.0, "beside_busy_s": 2.0,
                     "beside / quiet": 2.0}]
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


def test_a_failing_run_is_reported_and_leaves_no_busy_process():
    import psutil

    from benchmarks.run import bench_beside_busy

    before = {p.pid for p in psutil.Process().children(recursive=True)}
    with pytest.raises(subprocess.CalledProcessError):
        bench_beside_busy({("fails", "1"): [sys.executable, "-c", "raise SystemExit(3)"]})
    assert {p.pid for p in psutil.Process().children(recursive=True)} == before


def test_the_live_runs_time_the_default_threads_and_one_per_cpu():
    from benchmarks.run import live_run_commands
    from utils.common.frameworks import LIVE_THREADS
    from utils.common.machine import available_cpus

    cmds = live_run_commands(epochs=2)
    assert {fw for fw, _ in cmds} == {"torch", "keras"}
    only = live_run_commands(epochs=2, per_cpu=False)
    assert only == {k: v for k, v in cmds.items() if k[1].startswith("default")}
    assert len(only) == 2
    for (fw, threads), cmd in cmds.items():
        assert cmd[cmd.index("--framework") + 1] == fw and cmd[cmd.index("--epochs") + 1] == "2"
        if threads.startswith("default"):
            assert "--threads" not in cmd and str(LIVE_THREADS) in threads
        else:
            assert cmd[cmd.index("--threads") + 1] == str(available_cpus()) > "1"


def test_the_notebooks_beside_a_busy_process_are_one_per_framework_in_classroom_mode():
    from benchmarks.run import BESIDE_BUSY_NOTEBOOKS, notebook_commands
    from utils.common.frameworks import LIVE_THREADS

    cmds = notebook_commands()
    assert len(cmds) == len(BESIDE_BUSY_NOTEBOOKS) == 2
    assert {label.split("(")[1].rstrip(")") for label, _ in cmds} == {"Keras", "PyTorch"}
    for (label, threads), cmd in cmds.items():
        assert label[:2] in BESIDE_BUSY_NOTEBOOKS and str(LIVE_THREADS) in threads
        assert "smoke=False" in cmd[-1] and "seconds=" in cmd[-1]


def test_the_beside_busy_section_states_its_goals_and_can_replace_itself():
    from benchmarks.report import replace_section
    from benchmarks.run import BESIDE_END, BESIDE_START, GOALS, beside_busy_section

    live = [{"run": "torch", "threads": "default (1)", "quiet_s": 10.0, "beside_busy_s": 11.0,
             "beside / quiet": 1.1},
            {"run": "torch", "threads": "2 (one per CPU)", "quiet_s": 5.0,
             "beside_busy_s": 15.0, "beside / quiet": 3.0}]
    nb = [{"run": "03_pytorch_port (PyTorch)", "threads": "default (1)", "quiet_s": 80.0,
           "beside_busy_s": 120.0, "beside / quiet": 1.5}]
    text = beside_busy_section(live, nb, 0.1, 3, "python benchmarks/run.py --beside-busy")
    assert text.startswith(BESIDE_START) and text.endswith(BESIDE_END)
    goals = [line for line in text.splitlines() if "beside one busy process over quiet" in line]
    # the worst default-thread row of each kind, not the one-per-CPU row
    assert [g.split("|")[-2].strip() for g in goals] == ["1.1", "1.5"]
    assert all(f"<= {GOALS['beside_busy_ratio']}" in g for g in goals)
    page = f"# Benchmarks\n\nabove\n\n{text}\n\nbelow\n"
    again = replace_section(page, beside_busy_section(live, [], 0.2, 3, "cmd"),
                            BESIDE_START, BESIDE_END)
    assert again.count(BESIDE_START) == 1 and "above" in again and "below" in again
    assert "03_pytorch_port" not in again and "0.20" in again


def test_write_is_refused_without_beside_busy(capsys):
    from benchmarks.run import main

    with pytest.raises(SystemExit):
        main(["--write"])
    assert "--write" in capsys.readouterr().err
