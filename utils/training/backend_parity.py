"""The Keras CRNN on three backends computes the same function and takes the same step.

Introduced in ``10_backends.ipynb``. Every model runs in a process of its own
(:func:`~utils.training.keras_backends.call_in`) and this module imports no framework, so
the notebook's kernel holds none while a backend trains beside it: a kernel that had
imported PyTorch would add its few hundred MB to every backend process's peak. The
Keras-versus-PyTorch check of notebook 03 is :mod:`utils.training.parity`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from utils.networks.architecture import SIZES
from utils.networks.recipe import Recipe
from utils.training.keras_backends import KERAS_ON, OTHER_BACKENDS, call_in_many


def _batch(recipe: Recipe, seed: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    size = SIZES[recipe.model_size]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size.n_frames, size.n_mels)).astype(np.float32)
    y = (rng.random((batch, 17)) < 0.2).astype(np.float32)
    return x, y


def backend_checks(forward: Recipe | None, steps: Sequence[tuple[Sequence[Recipe], int]] = (),
                   seed: int = 0, batch: int = 4
                   ) -> tuple[dict[str, dict[str, float]] | None,
                              list[list[dict[str, dict[str, float]]]]]:
    """The forward pass of ``forward`` and one training step of each ``(recipes, batch)`` of
    ``steps`` on every backend, all from TensorFlow's initial weights for ``seed``.

    Returns the forward table (None without ``forward``): ``{framework: {layer: max |out −
    TensorFlow's|}}`` for the Keras CRNN on JAX and on PyTorch and the native PyTorch CRNN,
    on one random batch of ``batch`` clips; and per group of ``steps``, per recipe (each at
    its own learning rate, on one random batch of the group's size), ``{framework: {"loss":
    loss, "update": max |Δw|, "diff": max |Δw − Δw_TF|}}`` (``diff`` is 0 for TensorFlow
    itself). A knob a backend ignored or replaced would show as a ``diff`` of the size of
    the update itself.

    Every model runs in a process of its own backend (:func:`~utils.training.keras_backends.
    call_in_many`), so the caller loads no framework; each backend does all its checks in
    one process, since loading a framework takes longer than the checks. TensorFlow's runs
    first: it draws the weights the other backends start from.
    """
    groups = [(list(recipes), *_batch(recipes[0], seed, b)) for recipes, b in steps]
    x = None if forward is None else _batch(forward, seed, batch)[0]

    def calls(start: dict | None, step_starts: list[list | None]) -> list[tuple[str, dict]]:
        """One backend's tasks: the forward pass from ``start``'s weights (TensorFlow's own
        draw when None), then each group's steps from ``step_starts``."""
        out = [] if forward is None else [("layer_outputs", {
            "recipe": forward, "x": x, "seed": seed,
            **({"native_torch": True} if start is None else {"weights": start["weights"]})})]
        return out + [("one_steps", {"recipes": recipes, "x": sx, "y": sy, "starts": starts,
                                     "seed": seed})
                      for (recipes, sx, sy), starts in zip(groups, step_starts)]

    def split(answers: list) -> tuple[dict | None, list]:
        return (None, answers) if forward is None else (answers[0], answers[1:])

    ref, tf_steps = split(call_in_many("tensorflow", calls(
        None, [[None] * len(recipes) for recipes, _, _ in groups])))
    other = {fw: split(call_in_many(KERAS_ON[fw], calls(
                 ref, [[s["start"] for s in tf_group] for tf_group in tf_steps])))
             for fw in OTHER_BACKENDS}
    table = None
    if ref is not None:
        outs = {fw: other[fw][0]["keras"] for fw in OTHER_BACKENDS} | {"torch": ref["torch"]}
        table = {fw: {layer: float(np.abs(o[layer] - ref["keras"][layer]).max())
                      for layer in ref["keras"]} for fw, o in outs.items()}
    step_tables = [_step_table({"keras": tf_group} | {fw: other[fw][1][g] for fw in OTHER_BACKENDS})
                   for g, tf_group in enumerate(tf_steps)]
    return table, step_tables


def _step_table(runs: dict[str, list[dict]]) -> list[dict[str, dict[str, float]]]:
    """Per recipe, each backend's loss, largest update and largest update difference from
    TensorFlow's (``runs["keras"]``), all from the same start."""
    out = []
    for i, tf_step in enumerate(runs["keras"]):
        start = tf_step["start"]
        ref = [w - w0 for w, w0 in zip(tf_step["weights"], start)]
        row = {}
        for fw, steps in runs.items():
            upd = [w - w0 for w, w0 in zip(steps[i]["weights"], start)]
            row[fw] = {"loss": steps[i]["loss"],
                       "update": max(float(np.abs(u).max()) for u in upd),
                       "diff": max(float(np.abs(u - r).max()) for u, r in zip(upd, ref))}
        out.append(row)
    return out


def parity_and_step(forward: Recipe, step: Recipe, seed: int = 0
                    ) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """Notebook 10's two tables (:func:`backend_checks`): the forward pass of ``forward`` on
    4 clips, and one step of ``step`` on a batch of 16, the recipes' batch size."""
    table, ((steps,),) = backend_checks(forward, [([step], 16)], seed)
    return table, steps
