"""Engines: a Dask cluster gives the local engine's rows; failures are one clear error."""

from __future__ import annotations

import dataclasses
import os
import time
import warnings

import dask
import distributed
import pytest

from utils import experiments as CLI
from utils.common.machine import PINNED_ENV, pinned_environment
from utils.results import engines as EN
from utils.results import grids as G
from utils.results import runner as R
from utils.results import store as S

# Everything a run computes (its provenance and its timings aside) must agree to the digit.
SAME = ("key", "framework", "recipe", "seed", "preset", "test_f1", "test_f1_fixed", "valid_f1",
        "n_params", "epoch_loss", "epoch_valid_f1", "thresholds", "float_path")


@pytest.fixture()
def results_dir(tmp_path, monkeypatch, smoke_data_root):
    monkeypatch.setattr(S, "RESULTS_DIR", tmp_path)
    return tmp_path


@pytest.fixture(scope="module")
def cluster(smoke_data_root):
    """Two single-thread workers, started as a cluster elsewhere would be: ISA pinned."""
    with dask.config.set(EN.DASK_CONFIG), pinned_environment(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None, memory_limit=0)
    yield cluster
    cluster.close()


def _jobs():
    return G.GRIDS["smoke"]()[:3]


def _worker_state(job) -> dict:
    import torch

    return {"key": job.key, "pins": {k: os.environ.get(k) for k in PINNED_ENV},
            "threads": torch.get_num_threads(), "pid": os.getpid()}


def _fails_for_seed_1(job) -> dict:
    if job.seed == 1:
        raise ArithmeticError(f"no row for {job.key}")
    return {"key": job.key}


def _dies_for_seed_1(job) -> dict:
    if job.seed == 1:
        time.sleep(1.0)  # the other jobs finish first: their rows must not be lost
        os._exit(1)
    return {"key": job.key}


def test_dask_rows_are_the_local_engines_rows(results_dir, cluster):
    jobs = _jobs()
    local = S.read_table(R.run_grid(jobs, name="local", engine=EN.LocalEngine(2),
                                    progress=False))
    # A job that fails (an unknown framework) is named; the other rows are kept.
    broken = dataclasses.replace(jobs[0], framework="jax")
    engine = EN.DaskEngine(address=cluster.scheduler_address)
    with pytest.raises(S.ResultsError, match=r"1 of 4 jobs failed.*\n  jax\|smoke\|0\|.*"
                                             r"ValueError: unknown framework 'jax'"):
        R.run_grid([*jobs, broken], name="dask", engine=engine, progress=False)
    assert engine._client is None  # run_grid closed it
    dask_rows = S.read_table(S.table_path("dask"))
    assert len(local) == len(dask_rows) == 3

    def same(rows):
        return sorted(tuple(repr(r[c]) for c in SAME) for r in rows)

    assert same(dask_rows) == same(local)
    assert {r["float_path"]["threads"] for r in dask_rows} == {1}


def test_a_local_dask_cluster_pins_every_worker(smoke_data_root):
    with EN.DaskEngine(workers=2) as engine:
        states = list(engine.map(_worker_state, _jobs()))
        assert engine._cluster is not None and len(engine._cluster.workers) == 2
    assert engine._client is None and engine._cluster is None
    assert sorted(s["key"] for s in states) == sorted(j.key for j in _jobs())
    assert all(s["pins"] == PINNED_ENV and s["threads"] == 1 for s in states)


def test_an_unreachable_scheduler_is_one_clear_error(results_dir, capsys):
    t0 = time.perf_counter()
    with pytest.raises(S.ResultsError, match=r"cannot reach the Dask scheduler at "
                                             r"tcp://127\.0\.0\.1:1: .*; start one \(dask "
                                             r"scheduler\) or omit --scheduler"):
        list(EN.DaskEngine(address="tcp://127.0.0.1:1").map(_worker_state, _jobs()))
    assert time.perf_counter() - t0 < 20
    assert CLI.main(["run", "--grid", "smoke", "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:1" in capsys.readouterr().err
    assert time.perf_counter() - t0 < 40


def test_a_failing_job_keeps_the_other_rows(cluster):
    jobs = _jobs()
    rows = []
    with EN.DaskEngine(address=cluster.scheduler_address) as engine:
        with pytest.raises(S.ResultsError) as err:
            for row in engine.map(_fails_for_seed_1, jobs):
                rows.append(row)
    assert sorted(r["key"] for r in rows) == sorted(j.key for j in jobs if j.seed != 1)
    failed = [j.key for j in jobs if j.seed == 1]
    assert str(err.value).startswith(f"{len(failed)} of 3 jobs failed on the Dask cluster")
    for key in failed:
        assert f"  {key}: ArithmeticError: no row for {key}" in str(err.value)


def test_a_worker_killed_mid_job_is_a_clear_error(cluster):
    jobs = _jobs()
    rows = []
    with EN.DaskEngine(address=cluster.scheduler_address) as engine:
        with pytest.raises(S.ResultsError) as err:
            for row in engine.map(_dies_for_seed_1, jobs):
                rows.append(row)
    assert sorted(r["key"] for r in rows) == sorted(j.key for j in jobs if j.seed != 1)
    for key in (j.key for j in jobs if j.seed == 1):
        assert f"  {key}: KilledWorker: " in str(err.value)


def test_cli_engine_options(results_dir):
    with pytest.raises(SystemExit):
        CLI.main(["run", "--grid", "smoke", "--engine", "ray"])
    assert CLI.main(["run", "--grid", "smoke", "--engine", "local",
                     "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert CLI.main(["run", "--grid", "smoke", "--scheduler", "tcp://127.0.0.1:1",
                     "--workers", "2"]) == 2


DEADLINE_S = 2.0  # the tests' deadline for each wait on a cluster (users get longer ones)


@pytest.fixture()
def http_server():
    """A plain HTTP server on a local port: it accepts the connection, then answers in HTTP."""
    import http.server
    import threading

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _run_against(address: str, results_dir) -> tuple[str, float]:
    """Run the smoke grid against ``address``; the error's text and the seconds it took."""
    t0 = time.perf_counter()
    with pytest.raises(S.ResultsError) as err:
        R.run_grid(_jobs(), name="t", engine=EN.DaskEngine(address, timeout=DEADLINE_S),
                   progress=False)
    seconds = time.perf_counter() - t0
    # The lock is let go and its file removed: the next run of the grid is not refused.
    assert not (results_dir / "t.csv.lock").exists()
    with S.table_lock(S.table_path("t")):
        pass
    return str(err.value), seconds


def test_an_http_server_is_not_taken_for_a_scheduler(http_server, results_dir, monkeypatch,
                                                    capsys):
    message, seconds = _run_against(http_server, results_dir)
    assert message.startswith(f"cannot reach the Dask scheduler at {http_server}: an HTTP "
                              f'server (it answered "HTTP/1.0 '), message
    assert "not a Dask scheduler" in message
    # The connection and the handshake each have a deadline; the HTTP answer comes at once.
    assert seconds < 3 * DEADLINE_S
    monkeypatch.setenv(EN.TIMEOUT_ENV, str(DEADLINE_S))
    assert CLI.main(["run", "--grid", "smoke", "--scheduler", http_server]) == 2
    assert "an HTTP server" in capsys.readouterr().err
    assert not list(results_dir.glob("*.lock"))


def test_a_scheduler_without_workers_is_one_clear_error(results_dir, capsys):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        empty = distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None)
    try:
        message, seconds = _run_against(empty.scheduler_address, results_dir)
    finally:
        empty.close()
    assert message == (f"the Dask scheduler at {empty.scheduler_address} has no worker after "
                       f"{DEADLINE_S:g} s: start one (dask worker {empty.scheduler_address}) "
                       f"or omit --scheduler for a local cluster")
    assert DEADLINE_S <= seconds < 4 * DEADLINE_S
    assert f"has no worker yet: waiting up to {DEADLINE_S:g} s" in capsys.readouterr().err


def test_scheduler_deadlines_are_checked(monkeypatch):
    with pytest.raises(ValueError, match="positive number of seconds"):
        EN.DaskEngine("tcp://127.0.0.1:8786", timeout=0)
    monkeypatch.setenv(EN.TIMEOUT_ENV, "soon")
    with pytest.raises(ValueError, match=f"{EN.TIMEOUT_ENV}='soon': expected a number"):
        EN._deadline(None, EN.CONNECT_TIMEOUT_S)
    monkeypatch.setenv(EN.TIMEOUT_ENV, "")
    assert EN._deadline(None, EN.WORKER_TIMEOUT_S) == EN.WORKER_TIMEOUT_S
