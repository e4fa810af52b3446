"""Two trainings side by side, step by step, from the same start and the same batches.

Introduced in ``05_momentum.ipynb`` (:func:`nesterov_trajectories`: the two Nesterov
formulas on the real model) and used in ``09_float_drift.ipynb``
(:func:`same_start_training`: Keras and PyTorch with every default matched and the same
initial weights). Both return plain tables, one row per step or epoch, that the notebooks
plot.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from utils.common.memory import release_memory
from utils.networks.model_torch import bce_loss, build_model
from utils.networks.optimizers import make_torch_optimizer, set_torch_lr, step_lr
from utils.networks.recipe import Recipe
from utils.task.dataset import Dataset, load_dataset
from utils.task.features import scale_features
from utils.task.metrics import binarize, micro_f1, tune_class_thresholds
from utils.training.parity import copy_keras_to_torch
from utils.training.trainer import epoch_batches, make_trainer, scaled_features


def _flat(params) -> np.ndarray:
    return torch.cat([p.detach().ravel() for p in params]).numpy().astype(np.float64)


def nesterov_trajectories(recipe: Recipe, data: Dataset, seed: int = 0, epochs: int = 6,
                          progress: bool = True, lr_at: Callable[[int], float] | None = None):
    """Train the PyTorch CRNN twice from the same weights with the same batches, once
    with each Nesterov formula (FD §6), for ``epochs`` epochs of ``recipe``'s schedule.

    Parameters
    ----------
    recipe, data, seed, epochs, progress
        What to train, on which data, from which seed, for how long.
    lr_at : callable, optional
        A schedule hook: ``lr_at(step)`` gives η of the 0-based optimizer ``step`` (counted
        over all epochs). None follows ``recipe``'s own schedule per epoch
        (:func:`~utils.networks.optimizers.step_lr`). The hook can do what a recipe cannot,
        such as raise η (warm-up), which ``lr_decay > 1`` is refused for.

    Returns
    -------
    DataFrame
        One row per optimizer step: ``epoch``, ``lr``, both losses, ``step keras formula``
        and ``step pytorch formula`` (‖Δθ‖ of that step under each formula), ``relative
        distance`` ‖θ_keras − θ_pytorch‖ / ‖θ_keras‖, and ``velocity identity``
        ‖v + η·b‖ / ‖v‖ — zero while v = −η·b holds (Keras velocity v, PyTorch buffer b).

    Examples
    --------
    >>> from utils.task.dataset import load_dataset
    >>> from utils.networks.recipe import KERAS_2017
    >>> smoke = load_dataset("smoke", progress=False)
    >>> t = nesterov_trajectories(KERAS_2017, smoke, epochs=1, progress=False)
    >>> bool(t["relative distance"].max() < 1e-5)  # constant η: the same iterates
    True

    Warm-up through the hook: η triples after the second step.

    >>> eta = KERAS_2017.learning_rate
    >>> t = nesterov_trajectories(KERAS_2017, smoke, epochs=1, progress=False,
    ...                           lr_at=lambda step: eta if step < 2 else 3 * eta)
    >>> bool(t.lr.iloc[1] == eta and t.lr.iloc[2] == 3 * eta)
    True
    """

    x = torch.from_numpy(scale_features(data["train"].x, data.stats, recipe.input_scaling))
    y = torch.from_numpy(data["train"].y)
    runs = {}
    for formula in ("keras", "pytorch"):
        r = replace(recipe, momentum_formula=formula)
        model = build_model(r, seed)
        runs[formula] = (model, make_torch_optimizer(r, model.parameters()))
    rng = np.random.default_rng(seed)
    rows = []
    for epoch in tqdm(range(epochs), desc="two formulas", unit="epoch", disable=not progress):
        lr = step_lr(recipe, epoch)
        batches = epoch_batches(data["train"].y, recipe, rng)
        for idx in batches:
            if lr_at is not None:
                lr = _hook_lr(lr_at, len(rows))
            for _, opt in runs.values():
                set_torch_lr(opt, lr)
            ii = torch.from_numpy(idx)
            xb = x[ii][:, None].contiguous(memory_format=torch.channels_last)
            losses, moved = {}, {}
            for formula, (model, opt) in runs.items():
                before = _flat(model.parameters())
                loss = bce_loss(model(xb), y[ii], recipe.loss_guard)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses[formula] = float(loss.detach())
                moved[formula] = float(np.linalg.norm(_flat(model.parameters()) - before))
            (mk, ok), (mp, op) = runs["keras"], runs["pytorch"]
            tk, tp = _flat(mk.parameters()), _flat(mp.parameters())
            v = _flat(ok.state[p]["velocity"] for p in mk.parameters())
            b = _flat(op.state[p]["momentum_buffer"] for p in mp.parameters())
            rows.append({"epoch": epoch, "lr": lr, "loss keras formula": losses["keras"],
                         "loss pytorch formula": losses["pytorch"],
                         "step keras formula": moved["keras"],
                         "step pytorch formula": moved["pytorch"],
                         "relative distance": np.linalg.norm(tk - tp) / np.linalg.norm(tk),
                         "velocity identity": np.linalg.norm(v + lr * b) / np.linalg.norm(v)})
    return pd.DataFrame(rows).rename_axis("step")


def _hook_lr(lr_at: Callable[[int], float], step: int) -> float:
    """η of ``step`` from a schedule hook, refused with the step named unless finite and > 0."""
    lr = lr_at(step)
    if not isinstance(lr, int | float | np.floating) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr_at({step}) returned {lr!r}: expected a finite learning rate > 0")
    return float(lr)


def same_start_training(recipe: Recipe, data: Dataset | str, seed: int = 0,
                        epochs: int | None = None, single_gru_bias: bool = False,
                        progress: bool = True):
    """Train the Keras and the PyTorch CRNN of ``recipe`` from *identical* initial weights
    (the Keras model's, copied) on identical batches.

    With ``reset_after=True`` both GRUs have an input and a recurrent bias: only float
    arithmetic differs. With ``reset_after=False`` Keras has one bias per gate but PyTorch
    keeps two (FD §5) whose sum acts as one, so plain SGD moves that sum twice as fast;
    ``single_gru_bias=True`` freezes PyTorch's recurrent bias at zero to remove that.

    ``data`` is a loaded dataset or a dataset's name: by name, only the training and
    validation splits are read and only their scaled copies kept (what notebook 09 does: its
    kernel holds both frameworks, and the raw features beside the scaled ones would add
    their size to its peak).

    Returns a DataFrame, one row per epoch: both training losses, both validation F1s and
    the largest difference between the two models' validation predictions.
    """

    epochs = epochs or recipe.epochs
    x, y = {}, {}
    for s in ("train", "valid"):
        # By name, one split at a time, scaled a few clips at a time: at most one split's
        # raw features beside its scaled copy, none of the full-size temporaries.
        one = load_dataset(data, splits=(s,), progress=False) if isinstance(data, str) else data
        x[s], y[s] = scaled_features(one[s].x, one.stats, recipe.input_scaling), one[s].y
        del one
    y_train, y_valid = y["train"], y["valid"]
    del data  # raw features: the caller keeps its own; loaded here by name, freed now
    keras_t = make_trainer("keras", recipe, seed, x["train"], y_train)
    torch_t = make_trainer("torch", recipe, seed, x["train"], y_train)
    copy_keras_to_torch(keras_t.model, torch_t.model)
    if single_gru_bias:
        # Zero after the copy (the port folds Keras' bias into bias_ih); no gradient, so
        # the optimizer leaves it at zero.
        torch_t.model.gru.bias_hh_l0.requires_grad_(False)
    rng = np.random.default_rng(seed)
    rows = [{"epoch": 0, **_compare_predictions(keras_t, torch_t, x["valid"], y_valid)}]
    for epoch in tqdm(range(epochs), desc="Keras and PyTorch", unit="epoch",
                      disable=not progress):
        batches = epoch_batches(y_train, recipe, rng)
        lr = step_lr(recipe, epoch)
        loss_k = keras_t.fit_epoch(batches, lr)
        loss_t = torch_t.fit_epoch(batches, lr)
        rows.append({"epoch": epoch + 1, "loss keras": loss_k, "loss torch": loss_t,
                     **_compare_predictions(keras_t, torch_t, x["valid"], y_valid)})
    # Notebook 09 trains three such pairs in one kernel: drop this pair and the scaled
    # copies of the data now, and hand their freed heap back, so that the next pair does
    # not stack on this one's leftovers (Binder's limit counts the kernel's heap).
    del keras_t, torch_t, x
    release_memory()
    return pd.DataFrame(rows).set_index("epoch")


def _compare_predictions(keras_t, torch_t, x: np.ndarray, y: np.ndarray) -> dict:
    pk, pt = keras_t.predict(x), torch_t.predict(x)

    def f1(p: np.ndarray) -> float:
        return micro_f1(y, binarize(p, tune_class_thresholds(p, y)))

    return {"valid F1 keras": f1(pk), "valid F1 torch": f1(pt),
            "max |p_keras - p_torch|": float(np.abs(pk - pt).max())}
