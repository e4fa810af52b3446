"""The Keras CRNN on three backends computes the same function and takes the same step.

Introduced in ``10_backends.ipynb``. Every model runs in a process of its own
(:func:`~utils.training.keras_backends.call_in`) and this module imports no framework, so
the notebook's kernel holds none while a backend trains beside it: a kernel that had
imported PyTorch would add its few hundred MB to every backend process's peak. The
Keras-versus-PyTorch check of notebook 03 is :mod:`utils.training.parity`.
"""

from __future__ import annotations

import numpy as np

from utils.networks.architecture import SIZES
from utils.networks.recipe import Recipe
from utils.training.keras_backends import KERAS_ON, OTHER_BACKENDS, call_in


def _batch(recipe: Recipe, seed: int, batch: int) -> tuple[np.ndarray, np.ndarray]:
    size = SIZES[recipe.model_size]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, size.n_frames, size.n_mels)).astype(np.float32)
    y = (rng.random((batch, 17)) < 0.2).astype(np.float32)
    return x, y


def backend_parity(recipe: Recipe, seed: int = 0, batch: int = 4) -> dict[str, dict[str, float]]:
    """``{framework: {layer: max |out − TensorFlow's|}}``: the Keras CRNN on JAX and on
    PyTorch, and the native PyTorch CRNN, all with TensorFlow's initial weights for
    ``seed``, on one random batch (notebook 10). Every model runs in a process of its own
    (:func:`~utils.training.keras_backends.call_in`), so the caller loads no framework."""
    x, _ = _batch(recipe, seed, batch)
    ref = call_in("tensorflow", "layer_outputs", recipe=recipe, x=x, seed=seed,
                  native_torch=True)
    outs = {fw: call_in(KERAS_ON[fw], "layer_outputs", recipe=recipe, x=x,
                        weights=ref["weights"], seed=seed)["keras"]
            for fw in ("keras-jax", "keras-torch")}
    outs["torch"] = ref["torch"]
    tf = ref["keras"]
    return {fw: {layer: float(np.abs(o[layer] - tf[layer]).max()) for layer in tf}
            for fw, o in outs.items()}


def backend_steps(recipes: list[Recipe], seed: int = 0,
                  batch: int = 8) -> list[dict[str, dict[str, float]]]:
    """One training step of the Keras CRNN on each backend from the same weights (TensorFlow's
    draw for ``seed``) on the same batch, for each recipe at its own learning rate, all
    recipes in one process per backend: per recipe, ``{framework: {"loss": loss, "update":
    max |Δw|, "diff": max |Δw − Δw_TF|}}`` (``diff`` is 0 for TensorFlow itself). A knob a
    backend ignored or replaced would show as a ``diff`` of the size of the update itself."""
    x, y = _batch(recipes[0], seed, batch)
    tf = call_in("tensorflow", "one_steps", recipes=recipes, x=x, y=y,
                 starts=[None] * len(recipes), seed=seed)
    starts = [s["start"] for s in tf]
    runs = {"keras": tf} | {fw: call_in(KERAS_ON[fw], "one_steps", recipes=recipes, x=x, y=y,
                                        starts=starts, seed=seed) for fw in OTHER_BACKENDS}
    out = []
    for i, start in enumerate(starts):
        ref = [w - w0 for w, w0 in zip(runs["keras"][i]["weights"], start)]
        row = {}
        for fw, steps in runs.items():
            upd = [w - w0 for w, w0 in zip(steps[i]["weights"], start)]
            row[fw] = {"loss": steps[i]["loss"],
                       "update": max(float(np.abs(u).max()) for u in upd),
                       "diff": max(float(np.abs(u - r).max()) for u, r in zip(upd, ref))}
        out.append(row)
    return out


def backend_step_parity(recipe: Recipe, seed: int = 0,
                        batch: int = 16) -> dict[str, dict[str, float]]:
    """:func:`backend_steps` of one recipe on a batch of the recipe's size (notebook 10)."""
    return backend_steps([recipe], seed, batch)[0]
