"""Peak memory: a process's own peak (not its parent's), reset between a worker's jobs."""

from __future__ import annotations

import multiprocessing as mp
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from utils.common.memory import peak_rss_mb, reset_peak_rss, tree_peak_mb
from utils.results import engines as EN
from utils.results import grids as G
from utils.results import runner as R
from utils.results import store as S

linux = pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(),
                           reason="the peak can be read and reset only on Linux")
MB = 2**20


def _touch(mb: int) -> np.ndarray:
    return np.ones(mb * MB // 8)  # written, so resident


def _child_readings(_: int) -> tuple[float, float]:
    return peak_rss_mb(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@linux
def test_a_spawned_worker_reads_its_own_peak_not_its_parents():
    held = _touch(600)  # the parent's memory when it starts the worker
    with mp.get_context("spawn").Pool(1) as pool:
        own, maxrss = pool.map(_child_readings, [0])[0]
    del held
    # ru_maxrss carries the parent's peak into the child: the reason for VmHWM.
    assert maxrss > 600 and own < maxrss - 300


@linux
def test_reset_lowers_the_peak_to_what_is_resident_now():
    big = _touch(400)
    high = peak_rss_mb()
    del big
    assert reset_peak_rss()
    assert peak_rss_mb() < high - 300


@linux
def test_a_grid_job_reports_its_own_peak_not_an_earlier_jobs(tmp_path, monkeypatch,
                                                             smoke_data_root):
    monkeypatch.setattr(S, "RESULTS_DIR", tmp_path)
    big = _touch(3000)  # an earlier job of the same worker, larger than any smoke job
    high = peak_rss_mb()
    del big
    path = R.run_grid(G.GRIDS["smoke"]()[:1], name="t", engine=EN.SerialEngine(),
                      progress=False)
    (row,) = S.read_table(path)
    assert 100 < row["peak_rss_mb"] < high - 1500


def test_the_reading_is_in_megabytes_wherever_it_comes_from(monkeypatch):
    monkeypatch.setattr("utils.common.memory._proc_kb_field", lambda *a: a[-1])  # no /proc
    fallback = peak_rss_mb()  # ru_maxrss, converted from the platform's unit
    assert 10 < fallback < 1e6, sys.platform


def test_a_notebooks_processes_are_measured_together():
    # A parent holding 300 MB waits on a child holding 300 MB, as a kernel waits on a
    # backend process: the memory limit sees both at once, no single process does.
    hold = "import numpy as np, time; a = np.ones({} * 2**20 // 8); time.sleep({})"
    child = hold.format(300, 2)
    code = (hold.format(300, 0) + "; import subprocess, sys; "
            f"subprocess.run([sys.executable, '-c', {child!r}], check=True)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = tree_peak_mb(proc, every=0.05)
    assert proc.returncode == 0 and peak.together_mb > 600
    assert 300 < peak.largest_mb < 500  # one process's own peak, not the sum
    assert peak.together_mb <= peak.at_most_mb < 900  # each peak counted once


@linux
def test_pages_two_processes_share_are_counted_once():
    # A forked child shares its parent's 300 MB until either writes to them: a limit
    # counts them once, a plain sum of resident sizes twice.
    code = ("import numpy as np, os, time; a = np.ones(300 * 2**20 // 8); "
            "pid = os.fork(); time.sleep(2); "
            "os._exit(0) if pid == 0 else os.waitpid(pid, 0)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = tree_peak_mb(proc, every=0.05)
    assert proc.returncode == 0 and 300 < peak.together_mb < 500


@linux
def test_the_largest_process_reads_its_own_peak_not_its_starters():
    # The benchmark starts each notebook from a process that already holds what it
    # measured before; the notebook's runner must not read that as its own.
    held = _touch(600)
    code = "import time; time.sleep(1)"
    peak = tree_peak_mb(subprocess.Popen([sys.executable, "-c", code]), every=0.05)
    del held
    assert peak.largest_mb < 300


@linux
def test_a_spike_between_samples_still_counts():
    # 400 MB held for a few milliseconds between two samples a second apart: the sampled
    # sum misses it, the process's own mark does not, and the lower bound reads the mark.
    code = ("import numpy as np, time; a = np.ones(400 * 2**20 // 8); del a; "
            "time.sleep(2.5)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = tree_peak_mb(proc, every=1.0)
    assert peak.together_mb < 300 and peak.at_least_mb > 400


@linux
def test_processes_that_run_one_after_another_are_not_summed():
    # As notebook 10 starts a process per backend: three of 300 MB, one at a time.
    child = "import numpy as np, time; a = np.ones(300 * 2**20 // 8); time.sleep(0.5)"
    code = (f"import subprocess, sys\nfor _ in range(3): "
            f"subprocess.run([sys.executable, '-c', {child!r}], check=True)")
    peak = tree_peak_mb(subprocess.Popen([sys.executable, "-c", code]), every=0.05)
    assert 300 < peak.at_least_mb <= peak.at_most_mb < 600


@linux
def test_shared_library_pages_are_resident_but_not_anonymous(tmp_path):
    # A framework's shared libraries are file pages: resident once touched, but a memory
    # limit can drop them and read them again. A 300 MB file mapped and read stands in.
    blob = tmp_path / "lib.bin"
    blob.write_bytes(b"\1" * (300 * 2**20))
    code = (f"import mmap, time; f = open({str(blob)!r}, 'rb'); "
            "m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ); "
            "s = sum(m[i] for i in range(0, len(m), 4096)); time.sleep(1)")
    peak = tree_peak_mb(subprocess.Popen([sys.executable, "-c", code]), every=0.05)
    assert peak.largest_mb > 300 and peak.anon_mb < 100


@linux
def test_a_forked_child_that_replaces_its_shared_pages_is_counted():
    # The resident sum is highest just after the fork, while the child maps its parent's
    # 300 MB; the child then drops them and allocates 290 MB of its own (as a process does
    # when it runs a new program): the true sum nearly doubles, though the resident sum
    # sets no new high.
    code = ("import numpy as np, os, time; a = np.ones(300 * 2**20 // 8); "
            "pid = os.fork(); time.sleep(1)\n"
            "if pid == 0:\n"
            "    del a; b = np.ones(290 * 2**20 // 8); time.sleep(2.5); os._exit(0)\n"
            "os.waitpid(pid, 0)")
    proc = subprocess.Popen([sys.executable, "-c", code])
    peak = tree_peak_mb(proc, every=0.05)
    assert proc.returncode == 0 and peak.together_mb > 550
