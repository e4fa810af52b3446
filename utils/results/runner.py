"""The runner: train the jobs a table lacks and append each row as it finishes.

Introduced in ``03_pytorch_port.ipynb``. Every row carries its provenance (git commit,
package versions, machine, its floating-point path, command, date) and the exact recipe
string.

The engine is pluggable: :class:`LocalEngine` runs jobs in worker processes with one CPU
thread each (two single-threaded workers beat one two-threaded process on two cores), with
the kernel ISA pinned (:mod:`utils.common.machine`); anything whose ``map(fn, jobs)`` yields
each job's row as it finishes (a thin wrapper around a cluster's scheduler) can run the
same grid.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

from tqdm.auto import tqdm

from utils.common.machine import available_cpus, cpu_name
from utils.common.memory import reset_peak_rss
from utils.common.repo import git_commit
from utils.common.versions import check_versions
from utils.results.engines import LocalEngine
from utils.results.grids import GRIDS, Job
from utils.results.store import (
    _append_row,
    _record_wall_time,
    read_meta,
    read_table,
    table_lock,
    table_path,
)
from utils.task.dataset import check_cache, load_dataset
from utils.training.trainer import train


def provenance(command: str) -> dict[str, str]:
    """Where a row came from: commit, versions, machine, command, date."""
    commit = git_commit()
    versions = {name: installed or "-" for name, _, installed in check_versions()}
    machine = (f"{platform.machine()} {cpu_name()}, {available_cpus()} of {os.cpu_count()} CPUs "
               f"usable, {platform.system()}")
    return {"commit": commit, "versions": json.dumps(versions, sort_keys=True),
            "machine": machine, "command": command,
            "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}



# --- engines --------------------------------------------------------------------------------

def _run_job(job: Job) -> dict:
    # A worker runs many jobs: without the reset a quarter-size job would report the peak of
    # a 4x job that ran before it in the same process.
    reset_peak_rss()
    r = train(job.recipe, job.preset, job.seed, job.framework, progress=False,
              data_seed=job.data_seed)
    return {**r.to_dict(), "key": job.key}  # its float_path: of the process that trained


def prepare_data(presets, progress: bool = True) -> None:
    """Build here, once, every dataset cache the jobs need and lack.

    A job's worker would otherwise build it itself: several workers at once (they take
    turns under the build lock, but each waits), and serially, since a pool's worker may
    not start processes of its own.
    """
    for preset in sorted(set(presets)):
        if check_cache(preset, verify_checksums=False) is not None:
            load_dataset(preset, progress=progress)


def run_grid(grid: str | list[Job], name: str | None = None, engine=None,
             limit: int | None = None, command: str = "", progress: bool = True) -> Path:
    """Run every job of ``grid`` that its table lacks; return the table's path.

    ``limit`` runs at most that many missing rows (a chunk); it must be positive. An engine
    with a ``close()`` method is closed when the run ends, however it ends.
    """

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
        read_meta(path)  # a corrupt run log fails now, not after the first row has trained
        prov = provenance(command or " ".join(["python -m utils.experiments", *sys.argv[1:]]))
        prepare_data((j.preset for j in todo), progress)
        engine = engine or LocalEngine()
        t0 = time.perf_counter()
        done_now, run_id = 0, f"{prov['date']}/{os.getpid()}"
        try:
            for row in tqdm(engine.map(_run_job, todo), total=len(todo), desc=path.stem,
                            disable=not progress, file=sys.stderr):
                _append_row(path, {**row, **prov})
                done_now += 1
                # After every row: a run stopped part-way still accounts for its time.
                _record_wall_time(path, time.perf_counter() - t0, done_now, prov, run_id)
        finally:
            if hasattr(engine, "close"):  # a cluster engine (DaskEngine) stops its cluster
                engine.close()
    return path


