"""The grid runner: rows with provenance, resume, torn lines, malformed tables, verify."""

from __future__ import annotations

import json

import pytest

from utils import experiments as E


@pytest.fixture()
def results_dir(tmp_path, monkeypatch, smoke_data_root):
    monkeypatch.setattr(E, "RESULTS_DIR", tmp_path)
    return tmp_path


def _small_grid():
    return E.GRIDS["smoke"]()[:3]


def test_run_appends_rows_with_provenance_and_resumes(results_dir):
    jobs = _small_grid()
    path = E.run_grid(jobs, name="t", engine=E.SerialEngine(), limit=2, progress=False)
    rows = E.read_table(path)
    assert len(rows) == 2
    for row in rows:
        assert row["commit"] and row["machine"] and row["date"] and row["command"]
        assert "torch" in row["versions"] and 0 <= row["test_f1"] <= 1
        assert E.Job(E.Recipe.from_string(row["recipe"]), row["framework"], row["seed"],
                     row["preset"]).key == row["key"]
    E.run_grid(jobs, name="t", engine=E.SerialEngine(), progress=False)  # resumes
    rows = E.read_table(path)
    assert len(rows) == 3 and len({r["key"] for r in rows}) == 3
    # Wall time: one entry per run, rows counted as they arrived.
    meta = json.loads(path.with_suffix(".meta.json").read_text())
    assert [r["rows"] for r in meta["runs"]] == [2, 1] and meta["rows_total"] == 3
    assert meta["wall_seconds_total"] == pytest.approx(
        sum(r["wall_seconds"] for r in meta["runs"]))


def test_torn_last_line_is_ignored_and_repaired(results_dir):
    jobs = _small_grid()[:1]
    path = E.run_grid(jobs, name="t", engine=E.SerialEngine(), progress=False)
    good = path.read_text()
    path.write_text(good + "torch|smoke|9|{},torch,trunc")  # a writer killed mid-row
    assert len(E.read_table(path)) == 1
    E._append_row(path, {**E.read_table(path)[0], "key": "other"})
    assert [r["key"] for r in E.read_table(path)][1] == "other"


def test_malformed_tables_are_clear_errors(results_dir):
    path = E.run_grid(_small_grid()[:1], name="t", engine=E.SerialEngine(), progress=False)
    lines = path.read_text().splitlines(keepends=True)
    dup = results_dir / "dup.csv"
    dup.write_text("".join(lines + [lines[1]]))
    with pytest.raises(E.ResultsError, match=r"dup.csv line 3: duplicate row"):
        E.read_table(dup)
    cols = results_dir / "cols.csv"
    cols.write_text(lines[0].replace("test_f1,", "") + lines[1])
    with pytest.raises(E.ResultsError, match=r"cols.csv line 1: .*missing \['test_f1'\]"):
        E.read_table(cols)
    short = results_dir / "short.csv"
    short.write_text(lines[0] + "a,b,c\n")
    with pytest.raises(E.ResultsError, match=r"short.csv line 2: expected 20 columns"):
        E.read_table(short)


def test_verify_reruns_stored_rows(results_dir, monkeypatch, capsys):
    path = E.run_grid(_small_grid()[:2], name="smoke", engine=E.SerialEngine(),
                      progress=False)
    assert E.verify("smoke", sample=2) == (2, 2)
    # A stale table cannot pass: change one stored F1 and verify again.
    text = path.read_text().splitlines(keepends=True)
    row = E.read_table(path)[0]
    text[1] = text[1].replace(f",{row['test_f1']},", f",{row['test_f1'] + 0.01},", 1)
    path.write_text("".join(text))
    ok, k = E.verify("smoke", sample=2)
    assert (ok, k) == (1, 2)
    # A preset filter draws only that preset's rows, and says so when there are none.
    assert E.verify("smoke", sample=5, preset=row["preset"]) == (1, 2)
    with pytest.raises(E.ResultsError, match=r"smoke.csv: no stored rows with preset 'x4'"):
        E.verify("smoke", sample=1, preset="x4")


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
    while time.monotonic() < deadline and len(E.read_table(table)) < 2:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {r["key"]: r["test_f1"] for r in E.read_table(table)}
    expected = {job.key for job in E.GRIDS["smoke"]()}
    assert 2 <= len(before) < len(expected)
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    rows = E.read_table(table)  # raises on a duplicate key
    assert sorted(r["key"] for r in rows) == sorted(expected)
    assert all(r["test_f1"] == before[r["key"]] for r in rows if r["key"] in before)
