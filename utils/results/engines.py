"""Engines: where the jobs of a grid run.

Introduced in ``03_pytorch_port.ipynb``. An engine is anything with ``map(fn, jobs)`` that
yields ``fn(job)`` for every job as each finishes, in any order; :func:`~utils.results.
runner.run_grid` appends each row as it arrives. :class:`SerialEngine` runs in this process
(notebooks, debugging); :class:`LocalEngine` runs worker processes with one CPU thread each
(two single-threaded workers beat one two-threaded process on two cores); :class:`DaskEngine`
runs them on a Dask cluster (a local one, or any scheduler's workers). Every worker starts
with the kernel ISA pinned (:mod:`utils.common.machine`), so its rows take the pinned
floating-point path whatever ISA the caller's environment asked for.
"""

from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing as mp
import os
import socket
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dask
import distributed
from distributed.comm.addressing import parse_address, parse_host_port
from distributed.diagnostics.plugin import WorkerPlugin

from utils.common.frameworks import set_threads
from utils.common.machine import available_cpus, pin_before_import, pinned_environment
from utils.results.store import ResultsError

Job = Any  # a grid job (utils.results.grids.Job); engines only pass it through


def _worker_init(threads: int) -> None:
    pin_before_import()
    set_threads(threads)


class SerialEngine:
    """Runs jobs one after another in this process (notebooks, debugging)."""

    def map(self, fn: Callable[[Job], dict], jobs: list[Job]) -> Iterator[dict]:
        return map(fn, jobs)


class LocalEngine:
    """Worker processes, one CPU thread each; results arrive as jobs finish.

    Workers start with the kernel ISA pinned (:mod:`utils.common.machine`), so their rows
    take the pinned floating-point path whatever the caller's environment asked for.
    """

    def __init__(self, workers: int = 2, threads_per_worker: int = 1):
        if workers < 1 or threads_per_worker < 1:
            raise ValueError(f"a LocalEngine needs at least one worker and one thread each, "
                             f"got workers={workers}, threads_per_worker={threads_per_worker}")
        self.workers, self.threads = workers, threads_per_worker

    def map(self, fn: Callable[[Job], dict], jobs: list[Job]) -> Iterator[dict]:
        # spawn, not fork: TensorFlow and PyTorch thread pools do not survive a fork.
        ctx = mp.get_context("spawn")
        with pinned_environment(), ctx.Pool(self.workers, initializer=_worker_init,
                                            initargs=(self.threads,),
                                            maxtasksperchild=8) as pool:
            yield from pool.imap_unordered(fn, jobs)


# --- Dask -----------------------------------------------------------------------------------

# Set on the scheduler a DaskEngine starts (a running scheduler keeps its own settings).
DASK_CONFIG = {
    # A worker that dies mid-job fails that job at once, with KilledWorker, instead of
    # retrying it on three more workers (a job that kills its worker would kill them all).
    "distributed.scheduler.allowed-failures": 0,
    # One job per single-thread worker at a time: a worker that dies takes only the job it
    # was running with it, never one merely queued there.
    "distributed.scheduler.worker-saturation": 1.0,
}
# Every wait on a running cluster has a deadline, each its own (TIMEOUT_ENV sets them all:
# tests use a few seconds). A running scheduler answers at once; workers may take a while to
# join one just started.
CONNECT_TIMEOUT_S = 10  # connection and handshake
WORKER_TIMEOUT_S = 600  # the first worker (a batch queue may take minutes to start one)
TIMEOUT_ENV = "DEFAULTS_LAB_SCHEDULER_TIMEOUT"


class _PinnedWorker(WorkerPlugin):
    """Pins the kernel ISA and one CPU thread on every worker, before its first job (also on
    a worker that joins or restarts later: the scheduler sets plugins up on each)."""

    def setup(self, worker) -> None:
        _worker_init(1)


def _lab_importable() -> bool:
    return True  # reaching here, the scheduler has unpickled a function of the lab


def _run_pinned(fn: Callable[[Job], dict], job: Job) -> dict:
    # Dask runs jobs in an executor thread: size this thread's pools too (cheap once set).
    _worker_init(1)
    return fn(job)


def _deadline(timeout: float | None, default: float) -> float:
    """Seconds allowed for one wait on a cluster: ``timeout``, else the environment's
    ``DEFAULTS_LAB_SCHEDULER_TIMEOUT``, else ``default``."""
    if timeout is None:
        text = os.environ.get(TIMEOUT_ENV, "").strip()
        if not text:
            return default
        try:
            timeout = float(text)
        except ValueError:
            raise ValueError(f"{TIMEOUT_ENV}={text!r}: expected a number of seconds") from None
    if not math.isfinite(timeout) or timeout <= 0:
        raise ValueError(f"a scheduler deadline must be a positive number of seconds, "
                         f"got {timeout!r}")
    return float(timeout)


def _check_address(address: str) -> None:
    """Refuse an empty address and a ``tcp://`` port outside 1..65535 (the socket layer would
    wrap 70000 round to another port and report that one refused)."""
    if not address.strip():
        raise ValueError(f"--scheduler {address!r}: expected a Dask scheduler's address "
                         f"(tcp://host:8786); omit --scheduler for a local cluster")
    scheme, location = parse_address(address)
    if scheme == "tcp":
        _, port = parse_host_port(location)
        if not 1 <= port <= 65535:
            raise ValueError(f"--scheduler {address!r}: port {port} is outside 1..65535 "
                             f"(a Dask scheduler listens on 8786 by default)")


def _probe(address: str, timeout: float) -> None:
    """Open and close a TCP connection to a ``tcp://`` scheduler: a refused port or an unknown
    host fails at once with the system's reason (the Dask client would retry until its
    timeout and report only that)."""
    scheme, location = parse_address(address)
    if scheme == "tcp":
        host, port = parse_host_port(location)
        socket.create_connection((host, port), timeout=timeout).close()


def _identity(address: str, timeout: float) -> dict:
    """The scheduler's answer to Dask's ``identity`` call, within ``timeout`` seconds.

    ``distributed.Client`` bounds only the TCP connection: a server that accepts it but does
    not speak Dask (an HTTP server, the dashboard's port) leaves it waiting for ever.
    """
    from distributed.comm import connect

    async def ask() -> dict:
        comm = await connect(address, timeout=timeout)
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    # A loop of its own, in a thread of its own: the caller may be inside a running loop
    # (a Jupyter kernel), where asyncio.run refuses to start.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, asyncio.wait_for(ask(), timeout)).result()


def _what_answered(address: str, timeout: float) -> str:
    """Name the server at a ``tcp://`` address that failed the Dask handshake: an HTTP server
    answers a request line with ``HTTP/``; anything else is quoted as it answered."""
    scheme, location = parse_address(address)
    if scheme != "tcp":
        return "a server that did not answer as a Dask scheduler"
    try:
        with socket.create_connection(parse_host_port(location), timeout=timeout) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            first = s.recv(80)
    except OSError:
        first = b""
    if first.startswith(b"HTTP/"):
        status = first.split(b"\r\n")[0].decode("latin-1")
        return f'an HTTP server (it answered "{status}"), not a Dask scheduler'
    if first:
        return f"a server that answered {first[:40]!r}, not a Dask scheduler"
    return f"a server that accepted the connection but gave no Dask answer within {timeout:g} s"


class DaskEngine:
    """Jobs on a Dask cluster, one job per single-thread worker; rows arrive as jobs finish.

    With no ``address`` it starts a :class:`distributed.LocalCluster` of ``workers`` processes
    (default: the CPUs this process may use) with the kernel ISA pinned in their environment;
    with an ``address`` (``tcp://host:8786``) it connects to a running scheduler; that
    scheduler and its workers must have this checkout on their Python path and the pinned
    environment (checked at connection: one clear error otherwise). Either way each worker
    pins the ISA and one thread before its first job.

    The cluster starts at the first :meth:`map` and stops at :meth:`close` (``run_grid``
    calls it; the engine is also a context manager); a closed engine starts again if mapped.

    If jobs fail (an exception in ``fn``, or a worker that died), :meth:`map` still yields
    every other row, then raises one :class:`~utils.results.store.ResultsError` naming each
    failed job's key and its error.
    """

    def __init__(self, address: str | None = None, workers: int | None = None,
                 timeout: float | None = None):
        if address is not None and workers is not None:
            raise ValueError("workers (--workers) sizes a local cluster; a running "
                             "scheduler's workers are the ones started for it (dask worker)")
        if workers is not None and workers < 1:
            raise ValueError(f"a DaskEngine needs at least one worker, got workers={workers}")
        if address is not None:
            _check_address(address)
        if timeout is not None:
            _deadline(timeout, CONNECT_TIMEOUT_S)  # a bad deadline fails here, not at map
        self.address, self.workers, self.timeout = address, workers, timeout
        self._cluster: distributed.LocalCluster | None = None
        self._client: distributed.Client | None = None

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> distributed.Client:
        if self._client is not None:
            return self._client
        if self.address is None:
            with dask.config.set(DASK_CONFIG), pinned_environment(), warnings.catch_warnings():
                # No dashboard: the port of the scheduler's bare HTTP server does not matter.
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                self._cluster = distributed.LocalCluster(
                    n_workers=self.workers or available_cpus(), threads_per_worker=1,
                    processes=True, dashboard_address=None, silence_logs=logging.ERROR,
                    memory_limit=0)  # the frameworks' memory, not Dask data: no limit
            self._client = distributed.Client(self._cluster, set_as_default=False)
        else:
            self._client = self._connect(self.address)
        # The scheduler unpickles each job (so it imports the lab), and so do the workers.
        for who, setup in (("scheduler", lambda c: c.run_on_scheduler(_lab_importable)),
                           ("workers", lambda c: c.register_plugin(_PinnedWorker(),
                                                                   name="defaults-lab-pins"))):
            try:
                setup(self._client)
            except Exception as e:
                self.close()
                raise ResultsError(
                    f"the Dask {who} cannot load the lab ({type(e).__name__}: {e}): the "
                    f"scheduler and every worker need this repository's checkout on their "
                    f"Python path (PYTHONPATH) and its pinned environment") from e
        if self.address is not None:
            wait = _deadline(self.timeout, WORKER_TIMEOUT_S)
            if not self._client.scheduler_info().get("workers"):
                print(f"the Dask scheduler at {self.address} has no worker yet: waiting up to "
                      f"{wait:g} s for one ({TIMEOUT_ENV} sets the wait)", file=sys.stderr)
            try:
                self._client.wait_for_workers(1, timeout=wait)
            except TimeoutError:
                self.close()
                raise ResultsError(
                    f"the Dask scheduler at {self.address} has no worker after {wait:g} s: "
                    f"start one (dask worker {self.address}) or omit --scheduler for a "
                    f"local cluster") from None
        return self._client

    def _connect(self, address: str) -> distributed.Client:
        """A client of the scheduler at ``address``; each step within its deadline, else one
        error naming the address and what answered there."""
        wait = _deadline(self.timeout, CONNECT_TIMEOUT_S)

        def refuse(why: str) -> ResultsError:
            return ResultsError(f"cannot reach the Dask scheduler at {address}: {why}; start "
                                f"one (dask scheduler) or omit --scheduler for a local cluster")

        try:
            _probe(address, wait)
        except (OSError, ValueError, TypeError) as e:
            raise refuse(str(e) or type(e).__name__) from None
        try:
            identity = _identity(address, wait)
        except Exception:  # a timeout, a closed stream, bytes that are not Dask's frames
            raise refuse(_what_answered(address, wait)) from None
        if not isinstance(identity, dict) or identity.get("type") != "Scheduler":
            kind = identity.get("type") if isinstance(identity, dict) else identity
            raise refuse(f"a Dask {kind!r} answered, not a scheduler")
        try:
            return distributed.Client(address, timeout=wait, set_as_default=False)
        except (OSError, ValueError, TypeError) as e:
            raise refuse(str(e) or type(e).__name__) from None

    def close(self) -> None:
        """Close the client and the cluster this engine started (a running one stays up)."""
        client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def map(self, fn: Callable[[Job], dict], jobs: list[Job]) -> Iterator[dict]:
        client = self._start()
        futures = {client.submit(_run_pinned, fn, job, pure=False,
                                 key=f"{job.key}-{uuid.uuid4().hex}"): job.key
                   for job in jobs}
        failed: list[tuple[str, str]] = []
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                try:
                    row = future.result()
                except Exception as e:  # the job's own error, KilledWorker, a lost connection
                    failed.append((futures[future], f"{type(e).__name__}: {e}"))
                    continue
                finally:
                    future.release()
                yield row
        finally:
            pending = [f for f in futures if not f.done()]
            if pending and self._client is not None:  # the caller stopped early
                self._client.cancel(pending)
        if failed:
            lines = "\n".join(f"  {key}: {error}" for key, error in failed)
            raise ResultsError(f"{len(failed)} of {len(futures)} jobs failed on the Dask "
                               f"cluster (the other rows were kept):\n{lines}")
