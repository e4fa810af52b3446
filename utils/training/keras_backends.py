"""Keras on three backends: one model, one recipe, the same defaults; only the kernels differ.

Introduced in ``10_backends.ipynb``. Keras 3 runs the lab's Keras CRNN on TensorFlow (the
framework called ``keras`` everywhere in the lab), on JAX (``keras-jax``) or on PyTorch
(``keras-torch``). The backend is fixed when Keras is first imported, so a run on another
backend than this process's happens in a process of its own: :func:`call_in` starts
``python -m utils.training.backend_worker`` with ``KERAS_BACKEND`` set, hands it a task and
reads back the answer.

Only the kernels may differ, so every backend starts from the **same weights**: TensorFlow's
draw for the seed (:func:`initial_weights`), the weights of the stored ``keras`` rows. A run
of ``keras-jax`` with seed 3 is then paired with the ``keras`` run of seed 3 on weights and
batches alike.

Examples
--------
>>> backend_of("keras-jax"), backend_of("keras"), backend_of("torch")
('jax', 'tensorflow', None)
>>> runs_here("torch")
True
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from utils.common.errors import LabError
from utils.common.files import atomic_path, atomic_write_text
from utils.common.frameworks import chosen_threads, keras_backend
from utils.common.machine import XLA_PIN_FLAG, is_pinned
from utils.common.repo import REPO_ROOT
from utils.networks.recipe import Recipe

# Framework name → the Keras backend it runs on ("torch" is the lab's native PyTorch model).
KERAS_ON = {"keras": "tensorflow", "keras-jax": "jax", "keras-torch": "torch"}
OTHER_BACKENDS = ("keras-jax", "keras-torch")  # the frameworks that need a process of their own
_TAIL = 2000  # characters of a failed process's error output shown in the exception


class BackendError(LabError, RuntimeError):
    """A Keras backend process failed, or a backend cannot do what a recipe asks."""


def backend_of(framework: str) -> str | None:
    """The Keras backend ``framework`` runs on (None for the native PyTorch model)."""
    if framework == "torch":
        return None
    try:
        return KERAS_ON[framework]
    except KeyError:
        raise ValueError(f"unknown framework {framework!r}: expected 'torch' or one of "
                         f"{tuple(KERAS_ON)}") from None


def _encode(obj: Any, arrays: list[np.ndarray]) -> Any:
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"__array__": len(arrays) - 1}
    if isinstance(obj, Recipe):
        return {"__recipe__": obj.to_string(), "name": obj.name}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        if not all(isinstance(k, str) for k in obj):
            raise TypeError(f"message keys must be strings, got {list(obj)}")
        return {k: _encode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v, arrays) for v in obj]
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    raise TypeError(f"cannot send a {type(obj).__name__} to a backend process")


def _decode(obj: Any, arrays) -> Any:
    if isinstance(obj, dict):
        if "__array__" in obj:
            return arrays[f"a{obj['__array__']}"]
        if "__recipe__" in obj:
            return replace(Recipe.from_string(obj["__recipe__"]), name=obj["name"])
        return {k: _decode(v, arrays) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    return obj


def write_message(obj: Any, folder: Path) -> None:
    """Write ``obj`` (dicts, lists, numbers, strings, arrays, recipes) to ``folder``: the
    arrays to ``arrays.npz``, the rest to ``message.json``, written last, atomically; no
    pickle, so a message can never run code when it is read."""
    arrays: list[np.ndarray] = []
    text = json.dumps(_encode(obj, arrays))
    with atomic_path(folder / "arrays.npz", suffix=".npz") as tmp:
        np.savez(tmp, **{f"a{i}": a for i, a in enumerate(arrays)})
    atomic_write_text(folder / "message.json", text)


def read_message(folder: Path) -> Any:
    """The object :func:`write_message` wrote to ``folder``."""
    with np.load(folder / "arrays.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return _decode(json.loads((folder / "message.json").read_text(encoding="utf-8")), arrays)


def runs_here(framework: str) -> bool:
    """Whether this process can run ``framework`` itself (its Keras backend is this one's)."""
    backend = backend_of(framework)
    return backend is None or backend == keras_backend()


def backend_environment(backend: str, threads: int) -> dict[str, str]:
    """The environment of a process that runs Keras on ``backend`` with ``threads`` threads.

    The caller's environment is inherited (its ISA pins among it); XLA, which reads its
    flags only when JAX starts, gets its thread count and, when the caller is pinned, the
    ISA cap :data:`~utils.common.machine.XLA_PIN_FLAG`.
    """
    if backend not in KERAS_ON.values():
        raise ValueError(f"unknown Keras backend {backend!r}: expected one of "
                         f"{tuple(KERAS_ON.values())}")
    if threads < 1:
        raise ValueError(f"threads must be at least 1, got {threads}")
    env = {**os.environ, "KERAS_BACKEND": backend, "DEFAULTS_LAB_THREADS": str(threads),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT),
                                                       os.environ.get("PYTHONPATH")]))}
    if backend == "jax":
        flags = [f for f in env.get("XLA_FLAGS", "").split()
                 if not f.startswith(("--xla_cpu_multi_thread_eigen",
                                      "intra_op_parallelism_threads"))]
        # One thread: Eigen's pool off. More: XLA sizes its pool from the CPUs the process
        # may run on (its affinity), which a cgroup quota (Binder) does not narrow; there
        # the quota gives one thread anyway. A "--" flag must come first: XLA reads an
        # XLA_FLAGS that starts otherwise as the name of a file of flags.
        if threads == 1:
            flags += ["--xla_cpu_multi_thread_eigen=false", "intra_op_parallelism_threads=1"]
        if is_pinned() and XLA_PIN_FLAG not in flags:
            flags.append(XLA_PIN_FLAG)
        env["XLA_FLAGS"] = " ".join(flags)
    return env


def call_in(backend: str, task: str, threads: int | None = None, **kwargs: Any) -> Any:
    """Run ``task`` (a name in ``utils.training.backend_worker.TASKS``) with ``kwargs`` in a
    new process whose Keras runs on ``backend``; return its result.

    Raises
    ------
    BackendError
        If the process fails: the message ends with its error output.
    """
    threads = threads or chosen_threads()
    with tempfile.TemporaryDirectory(prefix="defaults-lab-backend-") as tmp:
        request, answer = Path(tmp) / "request", Path(tmp) / "answer"
        request.mkdir()
        answer.mkdir()
        write_message({"backend": backend, "task": task, "kwargs": kwargs}, request)
        proc = subprocess.run(
            [sys.executable, "-m", "utils.training.backend_worker", str(request), str(answer)],
            env=backend_environment(backend, threads), cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0 or not (answer / "message.json").exists():
            tail = proc.stderr[-_TAIL:].strip()
            raise BackendError(f"Keras on {backend}: task {task!r} failed (exit "
                               f"{proc.returncode}):\n{tail}")
        return read_message(answer)


def call_in_many(backend: str, calls: list[tuple[str, dict[str, Any]]],
                 threads: int | None = None) -> list[Any]:
    """Run several tasks, ``(task, kwargs)`` each, one after the other in one new process
    whose Keras runs on ``backend``; return their results in order.

    A process spends longer loading its framework than a parity check or a short run takes,
    so checks that need the same backend share one (:func:`call_in` otherwise).
    """
    return call_in(backend, "many", threads=threads,
                   calls=[[task, kwargs] for task, kwargs in calls])


def initial_weights(recipe: Recipe, seed: int) -> list[np.ndarray]:
    """The Keras CRNN's initial weights for ``seed``: TensorFlow's draw, whatever backend
    asks (each backend's own generator would draw other numbers from the same seed).

    Computed here when this process's Keras runs on TensorFlow, else in a TensorFlow
    process.

    Examples
    --------
    >>> from utils.networks.recipe import KERAS_2017
    >>> w = initial_weights(KERAS_2017, seed=0)
    >>> [a.shape for a in w[:2]]
    [(3, 3, 1, 8), (8,)]
    """
    if keras_backend() != "tensorflow":
        return call_in("tensorflow", "initial_weights", recipe=recipe, seed=seed)
    from utils.networks.model_keras import build_model

    return [np.array(w, copy=True) for w in build_model(recipe, seed).get_weights()]
