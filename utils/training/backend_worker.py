"""The process that runs Keras on one backend for :mod:`utils.training.keras_backends`.

Introduced in ``10_backends.ipynb``. Started as ``python -m utils.training.backend_worker
REQUEST ANSWER`` with ``KERAS_BACKEND`` set; it reads the task from the folder REQUEST,
runs it and writes the answer to the folder ANSWER
(:func:`~utils.training.keras_backends.write_message`: JSON and arrays, no pickle; the
JSON is written last, so no ``message.json`` means no answer).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from utils.common.frameworks import ensure_threads, keras_backend
from utils.networks.recipe import Recipe, get_recipe
from utils.training.keras_backends import read_message, write_message


def _recipe(recipe: Recipe | str) -> Recipe:
    return recipe if isinstance(recipe, Recipe) else get_recipe(recipe)


def _train(recipe: Recipe | str, data: str, seed: int, data_seed: int, framework: str,
           weights: list[np.ndarray] | None = None) -> dict:
    """A run of :func:`~utils.training.trainer.train`; no ``weights``: the seed's own draw
    (TensorFlow's, whatever the backend)."""
    from utils.training.trainer import train

    return asdict(train(_recipe(recipe), data, seed, framework, progress=False,
                        data_seed=data_seed, weights=None if weights is None else list(weights)))


def _initial_weights(recipe: Recipe | str, seed: int) -> list[np.ndarray]:
    from utils.training.keras_backends import initial_weights

    return initial_weights(_recipe(recipe), seed)


def _layer_outputs(recipe: Recipe | str, x: np.ndarray, weights: list[np.ndarray] | None = None,
                   seed: int = 0, native_torch: bool = False) -> dict:
    """Every comparable layer's output on this backend: ``{"keras": {layer: array}}``, with
    ``"weights"`` (the start used: given, else TensorFlow's draw for ``seed``) and, when
    ``native_torch``, ``"torch"``: the native PyTorch CRNN with those weights copied."""
    from utils.networks.model_keras import build_model
    from utils.training.keras_backends import initial_weights
    from utils.training.parity import layer_outputs_keras

    r = _recipe(recipe)
    weights = initial_weights(r, seed) if weights is None else weights
    model = build_model(r, seed)
    model.set_weights(weights)
    out = {"weights": weights, "keras": layer_outputs_keras(model, x)}
    if native_torch:
        from utils.networks.model_torch import build_model as build_torch
        from utils.training.parity import copy_keras_to_torch, layer_outputs_torch

        tmodel = build_torch(r, seed)
        copy_keras_to_torch(model, tmodel)
        out["torch"] = layer_outputs_torch(tmodel, x)
    return out


def _one_step(recipe: Recipe | str, x: np.ndarray, y: np.ndarray, lr: float,
              weights: list[np.ndarray] | None = None, seed: int = 0) -> dict:
    """One training step from ``weights`` (else TensorFlow's draw for ``seed``):
    ``{"loss", "start", "weights"}``."""
    from utils.networks.optimizers import set_keras_lr
    from utils.training.keras_backends import initial_weights
    from utils.training.trainer import KerasTrainer

    r = _recipe(recipe)
    start = initial_weights(r, seed) if weights is None else weights
    trainer = KerasTrainer(r, seed, x, y, start)
    set_keras_lr(trainer.opt, lr)
    loss = float(np.asarray(trainer.step(trainer.x, y)))
    return {"loss": loss, "start": start, "weights": trainer.get_state()}


def _one_steps(recipes: list[Recipe | str], x: np.ndarray, y: np.ndarray,
               starts: list[list[np.ndarray] | None], seed: int = 0) -> list[dict]:
    """:func:`_one_step` for several recipes in this one process (each at its own rate)."""
    return [_one_step(r, x, y, _recipe(r).learning_rate, w, seed)
            for r, w in zip(recipes, starts)]


def _many(calls: list[list]) -> list:
    """Each ``[task, kwargs]`` of ``calls`` in turn, in this one process: their answers."""
    allowed = set(TASKS) - {"many"}
    unknown = sorted({task for task, _ in calls} - allowed)
    if unknown:  # before any task runs: a typo does not cost the tasks before it
        raise ValueError(f"unknown task(s) {unknown} in a batch: expected names from "
                         f"{sorted(allowed)}")
    return [TASKS[task](**kwargs) for task, kwargs in calls]


TASKS: dict[str, Callable[..., Any]] = {
    "train": _train, "initial_weights": _initial_weights, "layer_outputs": _layer_outputs,
    "one_steps": _one_steps, "many": _many,
}


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m utils.training.backend_worker REQUEST ANSWER", file=sys.stderr)
        return 2
    request = read_message(Path(argv[0]))
    backend = keras_backend()
    if request["backend"] != backend:  # KERAS_BACKEND was lost on the way
        print(f"asked for Keras on {request['backend']}, this process has {backend}",
              file=sys.stderr)
        return 2
    if request["task"] not in TASKS:
        print(f"unknown task {request['task']!r}: expected one of {sorted(TASKS)}",
              file=sys.stderr)
        return 2
    ensure_threads("keras")
    answer = TASKS[request["task"]](**request["kwargs"])
    write_message(answer, Path(argv[1]))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(main(sys.argv[1:]))
