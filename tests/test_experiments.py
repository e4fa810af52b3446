"""The grid runner: rows with provenance, resume, torn lines, malformed tables, verify."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import numpy as np
import pytest

from utils import experiments as CLI
from utils.common.machine import PINNED_ENV as E_PINNED
from utils.networks.recipe import KERAS_2017, Recipe
from utils.results import engines as EN
from utils.results import grids as G
from utils.results import runner as R
from utils.results import store as S
from utils.results import verify as V


@pytest.fixture()
def results_dir(tmp_path, monkeypatch, smoke_data_root):
    monkeypatch.setattr(S, "RESULTS_DIR", tmp_path)
    return tmp_path


def _small_grid():
    return G.GRIDS["smoke"]()[:3]


def test_run_appends_rows_with_provenance_and_resumes(results_dir):
    jobs = _small_grid()
    path = R.run_grid(jobs, name="t", engine=EN.SerialEngine(), limit=2, progress=False)
    rows = S.read_table(path)
    assert len(rows) == 2
    for row in rows:
        assert row["commit"] and row["machine"] and row["date"] and row["command"]
        assert "torch" in row["versions"] and 0 <= row["test_f1"] <= 1
        assert G.Job(Recipe.from_string(row["recipe"]), row["framework"], row["seed"],
                     row["preset"]).key == row["key"]
    R.run_grid(jobs, name="t", engine=EN.SerialEngine(), progress=False)  # resumes
    rows = S.read_table(path)
    assert len(rows) == 3 and len({r["key"] for r in rows}) == 3
    # Wall time: one entry per run, rows counted as they arrived.
    meta = json.loads(path.with_suffix(".meta.json").read_text())
    assert [r["rows"] for r in meta["runs"]] == [2, 1] and meta["rows_total"] == 3
    assert meta["wall_seconds_total"] == pytest.approx(
        sum(r["wall_seconds"] for r in meta["runs"]))


def test_torn_last_line_is_ignored_and_repaired(results_dir):
    jobs = _small_grid()[:1]
    path = R.run_grid(jobs, name="t", engine=EN.SerialEngine(), progress=False)
    good = path.read_text()
    path.write_text(good + "torch|smoke|9|{},torch,trunc")  # a writer killed mid-row
    assert len(S.read_table(path)) == 1
    S._append_row(path, {**S.read_table(path)[0], "key": "other"})
    assert [r["key"] for r in S.read_table(path)][1] == "other"


def test_malformed_tables_are_clear_errors(results_dir):
    path = R.run_grid(_small_grid()[:1], name="t", engine=EN.SerialEngine(), progress=False)
    lines = path.read_text().splitlines(keepends=True)
    dup = results_dir / "dup.csv"
    dup.write_text("".join(lines + [lines[1]]))
    with pytest.raises(S.ResultsError, match=r"dup.csv line 3: duplicate row"):
        S.read_table(dup)
    cols = results_dir / "cols.csv"
    cols.write_text(lines[0].replace(",test_f1,", ",") + lines[1])
    with pytest.raises(S.ResultsError, match=r"cols.csv line 1: .*missing \['test_f1'\]"):
        S.read_table(cols)
    short = results_dir / "short.csv"
    short.write_text(lines[0] + "a,b,c\n")
    with pytest.raises(S.ResultsError,
                       match=rf"short.csv line 2: expected {len(S.COLUMNS)} columns"):
        S.read_table(short)


def test_verify_reruns_stored_rows(results_dir):
    path = R.run_grid(_small_grid()[:2], name="smoke", engine=EN.SerialEngine(),
                      progress=False)
    checks = V.verify("smoke", sample=2)
    assert [(c.kind, c.ok) for c in checks] == [("identical", True)] * 2
    assert V.summary_line(checks) == "verified=2/2 identical=2 statistical=0"
    # A stale table cannot pass: on the path it was stored on, any difference fails.
    text = path.read_text().splitlines(keepends=True)
    row = S.read_table(path)[0]
    text[1] = text[1].replace(f",{row['test_f1']},", f",{row['test_f1'] + 0.01},", 1)
    path.write_text("".join(text))
    checks = V.verify("smoke", sample=2)
    assert sorted((c.kind, c.ok) for c in checks) == [("identical", False), ("identical", True)]
    assert V.summary_line(checks).startswith("verified=1/2 ")
    # A preset filter draws only that preset's rows, and says so when there are none.
    assert len(V.verify("smoke", sample=5, preset=row["preset"])) == 2
    with pytest.raises(S.ResultsError, match=r"smoke.csv: no stored rows with preset 'x4'"):
        V.verify("smoke", sample=1, preset="x4")
    with pytest.raises(ValueError, match="sample must be at least 1 row, got 0"):
        V.verify("smoke", sample=0)
    # Settled rows only: these settings have one stored seed each, not the five needed.
    with pytest.raises(S.ResultsError, match="of a setting with 5 stored seeds"):
        V.verify("smoke", sample=1, settled=True)


# --- another floating-point path: simulated fingerprints, no training -------------------

F1S = [0.50, 0.55, 0.48, 0.60, 0.52, 0.57, 0.49, 0.58, 0.53, 0.51]
FOREIGN = {"framework": "keras", "tensorflow": "2.21.0", "cpu": "Some Other CPU",
           "cpu_family_model": "6/85", "caches": "32768/1048576/25952256", "threads": 1,
           "onednn_max_isa": "AVX2", "tf_onednn_opts": "default"}


def _stored_setting(f1s, float_path):
    recipe = KERAS_2017.to_string()
    return [{"key": f"k{s}", "framework": "keras", "recipe": recipe, "recipe_name": "keras_2017",
             "preset": "classroom", "seed": s, "data_seed": s, "test_f1": f,
             "float_path": float_path}
            for s, f in enumerate(f1s)]


def _fake_run(shift, here=None):
    """A stand-in for a training run on this machine's path: the stored F1 + ``shift``."""
    here = here or {**FOREIGN, "cpu": "This CPU"}
    return lambda job: {"test_f1": F1S[job.seed] + shift, "float_path": here}


def test_foreign_path_gets_a_statistical_check_that_can_fail():
    table = _stored_setting(F1S, FOREIGN)
    near = V.check_row(table[3], table, run=_fake_run(0.004))
    assert (near.kind, near.ok) == ("statistical", True)  # never called identical
    assert "permutation p=" in near.detail and "Some Other CPU" in near.detail
    stale = V.check_row(table[3], table, run=_fake_run(0.30))
    assert (stale.kind, stale.ok) == ("statistical", False)
    # Too few stored seeds for a test: a failure that says why, never a silent pass.
    few = V.check_row(table[3], table[:4], run=_fake_run(0.004))
    assert (few.kind, few.ok) == ("statistical", False) and "too few" in few.detail


def test_same_path_requires_identity_and_rows_without_a_path_are_foreign():
    table = _stored_setting(F1S, FOREIGN)
    same = V.check_row(table[3], table, run=_fake_run(0.004, here=FOREIGN))
    assert (same.kind, same.ok) == ("identical", False) and "same floating-point path" in \
        same.detail
    exact = V.check_row(table[3], table, run=_fake_run(0.0, here=FOREIGN))
    assert (exact.kind, exact.ok) == ("identical", True)
    unrecorded = _stored_setting(F1S, {})  # stored before paths were recorded
    check = V.check_row(unrecorded[3], unrecorded, run=_fake_run(0.004))
    assert check.kind == "statistical" and "stored: unrecorded" in check.detail


def test_a_gpu_row_is_never_a_cpu_rederivation():
    from utils.common.machine import path_key

    cpu = {"framework": "torch", "torch": "2.13.0", "torch_isa": "AVX2",
           "onednn_max_isa": "AVX2", "mkl_instructions": "AVX2", "threads": 1, "device": "cpu",
           "cpu": "AMD EPYC", "cpu_family_model": "26/2", "caches": "49152/1048576/33554432"}
    assert path_key(cpu) != path_key({**cpu, "device": "cuda"})
    # Another CPU model is another path even at the same ISA: kernels block by the caches.
    assert path_key(cpu) != path_key({**cpu, "cpu": "Intel Xeon", "cpu_family_model": "6/85"})


# --- the pinned path: the other ISA forced by environment ------------------------------

def test_pinned_rows_rederive_whatever_isa_the_caller_forces(tmp_path, smoke_data_root):
    """A torch row stored with the caller forcing one ISA verifies identically with the
    caller forcing another: the runner pins the ISA, so the caller's choice does not leak."""
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if k not in E_PINNED}
    env = {**base, "DEFAULTS_LAB_RESULTS": str(tmp_path)}
    cmd = [sys.executable, "-m", "utils.experiments"]
    run = subprocess.run([*cmd, "run", "--grid", "smoke", "--workers", "1", "--limit", "1"],
                         env={**env, "ATEN_CPU_CAPABILITY": "default"}, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    row = S.read_table(tmp_path / "smoke.csv")[0]
    assert row["float_path"]["onednn_max_isa"] == "AVX2"
    if row["framework"] == "torch":
        assert row["float_path"]["torch_isa"] in {"AVX2", "DEFAULT"}  # DEFAULT: no AVX2 CPU
    out = subprocess.run([*cmd, "verify", "--grid", "smoke", "--sample", "1"],
                         env={**env, "ATEN_CPU_CAPABILITY": "avx512"}, capture_output=True,
                         text=True, timeout=600)
    assert out.stdout.strip().splitlines()[-1] == "verified=1/1 identical=1 statistical=0", \
        out.stdout + out.stderr


def test_an_unpinned_run_records_the_isa_it_took(smoke_data_root):
    """The fingerprint tells the paths apart: PyTorch forced to its scalar kernels says so."""
    import subprocess
    import sys

    code = ("import torch; from utils.common.machine import float_path; "
            "print(float_path('torch', 1)['torch_isa'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "ATEN_CPU_CAPABILITY": "default"},
                         timeout=300)
    assert out.stdout.strip() == "DEFAULT", out.stderr


# --- the table: locks, last lines, scores -------------------------------------------------

def test_a_second_run_of_a_grid_is_refused_while_the_first_holds_the_lock(results_dir):
    path = S.table_path("t")
    with S.table_lock(path), pytest.raises(S.ResultsError, match="another run is writing"):
        R.run_grid(_small_grid()[:1], name="t", engine=EN.SerialEngine(), progress=False)
    assert not path.exists()  # nothing written by the refused run


def test_the_lock_file_goes_with_the_lock_and_a_stale_one_is_taken_over(results_dir):
    path = S.table_path("t")
    lock = path.with_name(path.name + ".lock")
    lock.write_text("pid 1 since 2020-01-01T00:00:00Z")  # left by a run that was killed
    with S.table_lock(path):
        assert lock.read_text().startswith(f"pid {os.getpid()} since ")
    assert not lock.exists()
    with pytest.raises(ZeroDivisionError), S.table_lock(path):  # an error inside the run
        1 / 0  # noqa: B018
    assert not lock.exists()


def test_a_complete_last_row_without_its_newline_is_kept(results_dir):
    path = R.run_grid(_small_grid()[:1], name="t", engine=EN.SerialEngine(), progress=False)
    path.write_text(path.read_text().rstrip("\n"))  # an editor dropped the final newline
    (row,) = S.read_table(path)
    S._append_row(path, {**row, "key": "other"})
    assert [r["key"] for r in S.read_table(path)] == [row["key"], "other"]


def test_nan_or_out_of_range_scores_are_refused(results_dir):
    path = R.run_grid(_small_grid()[:1], name="t", engine=EN.SerialEngine(), progress=False)
    (row,) = S.read_table(path)
    for bad in (float("nan"), 1.5, -0.1):
        with pytest.raises(S.ResultsError, match=r"test_f1 must be an F1 in \[0, 1\]"):
            S._append_row(path, {**row, "key": "x", "test_f1": bad})
    assert len(S.read_table(path)) == 1
    lines = path.read_text().splitlines(keepends=True)
    bad_table = results_dir / "nan.csv"
    bad_table.write_text(lines[0] + lines[1].replace(f",{row['test_f1']},", ",nan,", 1))
    with pytest.raises(S.ResultsError, match=r"nan.csv line 2: test_f1 must be an F1"):
        S.read_table(bad_table)


@pytest.mark.parametrize("args, says", [
    (["verify", "--sample", "0"], "expected a number of at least 1, got 0"),
    (["run", "--grid", "smoke", "--limit", "-1"], "expected a number of at least 1, got -1"),
    (["run", "--grid", "smoke", "--workers", "0"], "expected a number of at least 1, got 0"),
    (["run", "--grid", "smoke", "--limit", "two"], "expected a whole number, got 'two'"),
])
def test_cli_counts_must_be_positive(args, says, capsys):
    with pytest.raises(SystemExit) as e:
        CLI.main(args)
    assert e.value.code == 2 and says in capsys.readouterr().err


def test_killed_grid_resumes_with_every_row_exactly_once(tmp_path, smoke_data_root):
    """SIGKILL a running grid, rerun it: every row exactly once, finished rows kept."""
    import os
    import signal
    import subprocess
    import sys
    import time

    env = {**os.environ, "DEFAULTS_LAB_RESULTS": str(tmp_path)}
    cmd = [sys.executable, "-m", "utils.experiments", "run", "--grid", "smoke", "--workers", "1"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    table = tmp_path / "smoke.csv"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(S.read_table(table)) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["key"]: r["test_f1"] for r in S.read_table(table)}
    expected = {job.key for job in G.GRIDS["smoke"]()}
    assert 2 <= len(before) < len(expected)
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    rows = S.read_table(table)  # raises on a duplicate key
    assert sorted(r["key"] for r in rows) == sorted(expected)
    assert all(r["test_f1"] == before[r["key"]] for r in rows if r["key"] in before)


def test_a_long_run_is_checked_on_its_first_epochs(results_dir):
    """verify --epochs K reruns a K-epoch budget and compares the stored curve at epoch K."""
    jobs = [G.Job(replace(j.recipe, epochs=3), j.framework, j.seed, j.preset)
            for j in G.GRIDS["smoke"]()[2:3]]
    path = R.run_grid(jobs, name="long", engine=EN.SerialEngine(), progress=False)
    (check,) = V.verify("long", sample=1, epochs=2)
    assert (check.kind, check.ok) == ("identical", True) and "after 2 of 3 epochs" in check.detail
    text = path.read_text()
    row = S.read_table(path)[0]
    stale = json.dumps(row["epoch_valid_f1"][:1] + [row["epoch_valid_f1"][1] + 0.01]
                       + row["epoch_valid_f1"][2:])
    path.write_text(text.replace(json.dumps(row["epoch_valid_f1"]).replace('"', '""'),
                                 stale.replace('"', '""'), 1))
    (check,) = V.verify("long", sample=1, epochs=2)
    assert (check.kind, check.ok) == ("identical", False)
    with pytest.raises(ValueError, match=r"epochs must be in \[1, 3\]"):
        V.verify("long", sample=1, epochs=4)


def test_the_float_path_names_the_cpu_caches_where_the_kernel_describes_them():
    from pathlib import Path

    from utils.common.machine import _cache_sizes

    caches = _cache_sizes().split("/")
    assert len(caches) == 3
    if Path("/sys/devices/system/cpu/cpu0/cache/index0").exists():
        assert all(c != "?" and c[:-1].isdigit() for c in caches), caches


def test_trained_step_runs_drop_the_rate_on_a_plateau_twice_before_they_stop():
    """The converged grid's step-decay settings drop η after TRAINED_PLATEAU_EPOCHS flat
    epochs: twice before the stopping rule's patience runs out, as the 12-epoch schedule
    drops it twice; the 12-epoch grid keeps its fixed step."""
    from utils.networks.recipe import TRAINED

    jobs = [j for j in G.GRIDS["toggles_converged"]() if j.recipe.lr_schedule != "constant"]
    assert len(jobs) == 4 * len(G.SEEDS)  # two formulas, two frameworks
    assert {(j.recipe.lr_schedule, j.recipe.lr_step_epochs) for j in jobs} == {
        ("plateau", G.TRAINED_PLATEAU_EPOCHS)}
    assert 2 * G.TRAINED_PLATEAU_EPOCHS < TRAINED["patience"] < 3 * G.TRAINED_PLATEAU_EPOCHS + 1
    assert {(j.recipe.lr_schedule, j.recipe.lr_step_epochs) for j in G.GRIDS["toggles"]()
            if j.recipe.lr_schedule != "constant"} == {("step", KERAS_2017.lr_step_epochs)}


def test_trained_grids_finish_each_setting_decidable_before_adding_seeds():
    """Every setting's first DECISIVE_SEEDS seeds come before any later seed, one setting
    after another, and the sign-flip test can decide from that many seeds (and no fewer)."""
    from utils.results.stats import sign_flip_interval

    n = G.DECISIVE_SEEDS
    assert np.isfinite(sign_flip_interval(np.arange(1.0, n + 1))[0])
    assert not np.isfinite(sign_flip_interval(np.arange(1.0, n))[0])
    for grid in ("toggles_converged", "sizes_converged"):
        jobs = G.GRIDS[grid]()
        first = [j for j in jobs if j.seed < n]
        assert jobs[:len(first)] == first and len({j.key for j in jobs}) == len(jobs)
        setting = [(j.framework, j.preset, j.recipe) for j in first]
        # one run of seeds 0..n-1 per setting, back to back
        assert all(setting[i] == setting[i - i % n] and first[i].seed == i % n
                   for i in range(len(first)))


def test_trained_runs_on_a_smaller_set_get_at_least_the_classroom_steps_to_learn():
    """The stopping rule counts epochs; a quarter-size epoch is a quarter of the SGD steps.
    Every trained job's patience and cap, in steps, are at least the classroom's, and a set
    as large or larger keeps the classroom's counts."""
    from utils.networks.recipe import TRAINED
    from utils.task.dataset import PRESETS

    classroom = PRESETS["classroom"].n_train
    for grid in ("reference_converged", "toggles_converged", "sizes_converged"):
        for j in G.GRIDS[grid]():
            steps = PRESETS[j.preset].n_train / classroom  # classroom epochs per epoch
            assert j.recipe.patience * steps >= TRAINED["patience"], j.key
            assert j.recipe.epochs * steps >= TRAINED["epochs"], j.key
            if steps >= 1:
                assert (j.recipe.patience, j.recipe.epochs) == (TRAINED["patience"],
                                                                TRAINED["epochs"]), j.key
    assert {j.recipe.patience for j in G.GRIDS["sizes_converged"]()
            if j.preset == "quarter"} == {4 * TRAINED["patience"]}
