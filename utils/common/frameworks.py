"""Load the frameworks quietly and size their thread pools.

PyTorch and TensorFlow are imported inside these functions, not at module top: importing
either costs seconds and hundreds of MB, and the light notebooks (00, 01) and the
environment check must not pay for them.

Examples
--------
>>> import os
>>> default_threads() == min(available_cpus(),
...                          int(os.environ.get("DEFAULTS_LAB_THREADS", LIVE_THREADS)))
True
"""

from __future__ import annotations

import os
import sys

from utils.common.machine import available_cpus

THREADS_ENV = "DEFAULTS_LAB_THREADS"  # an explicit thread count for every run
# Threads of a live run (a notebook, ``python -m utils.train``) unless THREADS_ENV says
# otherwise. One, not the CPU quota: a second thread bought little on a quiet 2-core machine
# and cost far more as soon as anything else ran beside the notebook (another notebook, a
# browser, a grid), because each framework's pool waits for its slowest thread ("Live runs
# beside a busy process" in docs/benchmarks.md, `python benchmarks/run.py --beside-busy`).
# The thread count changes no result: tests/test_train.py checks that the outputs are
# identical at one thread and at two.
LIVE_THREADS = 1
_threads: dict[str, int] = {}  # the thread count this process chose, per framework


def default_threads() -> int:
    """Threads for one run: ``$DEFAULTS_LAB_THREADS`` if set, else :data:`LIVE_THREADS`; never
    more than the CPUs this process may really use
    (:func:`~utils.common.machine.available_cpus`, not ``os.cpu_count()``)."""
    env = os.environ.get(THREADS_ENV)
    if env:
        try:
            n = int(env)
        except ValueError:
            raise ValueError(f"{THREADS_ENV}={env!r}: expected a whole number of threads") \
                from None
        if n < 1:
            raise ValueError(f"{THREADS_ENV}={env!r}: expected at least 1 thread")
        return min(n, available_cpus())
    return min(LIVE_THREADS, available_cpus())


def quiet_tensorflow():
    """Import TensorFlow with its C++ start-up messages silenced; return the module.

    TensorFlow 2.21 writes its start-up INFO lines (oneDNN, absl) straight to file
    descriptor 2 before any logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` cannot stop
    them; file descriptor 2 is pointed at /dev/null for the duration of the import only.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf


def set_threads(n: int | None = None, frameworks: tuple[str, ...] = ("torch", "keras")) -> int:
    """Limit ``frameworks`` to ``n`` CPU threads (default :func:`default_threads`); call
    before TensorFlow starts. Returns ``n``."""
    n = default_threads() if n is None else n
    if n < 1:
        raise ValueError(f"threads must be at least 1, got {n}")
    os.environ["OMP_NUM_THREADS"] = str(n)
    if "torch" in frameworks:
        import torch

        torch.set_num_threads(n)
    if "keras" in frameworks:
        backend = keras_backend()
        if backend == "tensorflow":
            tf = quiet_tensorflow()
            try:
                tf.config.threading.set_intra_op_parallelism_threads(n)
                tf.config.threading.set_inter_op_parallelism_threads(n)
            except RuntimeError:  # TensorFlow already started: its pools are fixed now
                pass
        elif backend == "torch":
            import torch

            torch.set_num_threads(n)
        # JAX: XLA reads its thread flags once, before import (utils.training.keras_backends
        # starts a JAX process with them set); nothing can change them afterwards.
    _threads.update(dict.fromkeys(frameworks, n))
    return n


def ensure_threads(framework: str) -> int:
    """Size ``framework``'s thread pool (:func:`default_threads`) unless this process already
    chose.

    Both frameworks otherwise start one thread per CPU of the *host*: on a container given
    one CPU of a large machine (Binder) that oversubscribes it many times over. Only the
    framework in use is touched, so a PyTorch-only notebook never loads TensorFlow.
    """
    if framework in _threads:
        return _threads[framework]
    return set_threads(frameworks=(framework,))


def chosen_threads() -> int:
    """The thread count this process chose with :func:`set_threads`, else
    :func:`default_threads` (what a process started on its behalf should use)."""
    return next(iter(_threads.values()), None) or default_threads()


def keras_backend() -> str:
    """The backend Keras runs on in this process: fixed when Keras is first imported, from
    ``$KERAS_BACKEND`` (the lab's default: ``tensorflow``)."""
    if "keras" in sys.modules:
        return sys.modules["keras"].backend.backend()
    return os.environ.get("KERAS_BACKEND", "tensorflow")


def threads_in_use(framework: str) -> int:
    """The intra-op threads ``framework`` runs with now (0: TensorFlow's own default)."""
    if framework == "torch" or (framework == "keras" and keras_backend() == "torch"):
        import torch

        return torch.get_num_threads()
    if framework == "keras" and keras_backend() == "jax":
        return _threads.get("keras", default_threads())
    return quiet_tensorflow().config.threading.get_intra_op_parallelism_threads()
