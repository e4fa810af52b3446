"""Nesterov-momentum and Adam-ε conventions: both frameworks, both formulas (FD §6, §8).

One deterministic toy problem serves every check: least squares
L(θ) = s · ½ mean((Aθ − y)²) on three float64 parameters, 50 steps. Gradients come from
each framework's own autodiff (torch autograd; ``tf.GradientTape`` for Keras) and the
trajectories are compared step by step with independent numpy references written from
the formulas, so a bug shared by both frameworks' code paths cannot pass.
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from utils.networks import optimizers
from utils.networks.optimizers import (
    KERAS_ADAM_EPSILON,
    TORCH_ADAM_EPSILON,
    KerasEpsAdam,
    KerasNesterovSGD,
    keras_optimizer_classes,
    make_keras_optimizer,
    make_torch_optimizer,
    set_keras_lr,
    set_torch_lr,
    step_lr,
)
from utils.networks.recipe import Recipe

STEPS = 50
DROP = 20  # η ÷ 10 from step 20 on (0-based)
LR, MU = 0.05, 0.9
TINY = 1e-6  # loss scale s for the tiny-gradient Adam problem

A = np.array([[2.0, 0.3, -0.5],
              [0.1, 1.0, 0.4],
              [-0.6, 0.2, 0.5],
              [0.7, -1.1, 0.3],
              [0.2, 0.4, 0.1]])
Y = np.array([1.0, -2.0, 0.5, 3.0, -1.0])
THETA0 = np.array([0.5, -0.3, 0.8])

# Parameters and gradients are float64 in both frameworks, so torch runs match the
# references to rounding. Keras keeps η in a float32 variable and casts some scalar
# hyper-parameters through float32 (η, μ: ~1e-8 relative; 1 − β₂ from a float32 β₂:
# ~1e-5 relative), so a Keras run is matched to TOL_KERAS. Every check that tells two
# formulas apart asserts a gap of at least 1e-3, a hundred times larger.
TOL_TORCH = 1e-12
TOL_KERAS = 1e-5
GAP = 1e-3


def sgd_recipe(formula: str, schedule: str) -> Recipe:
    return Recipe(optimizer="sgd", momentum_formula=formula, learning_rate=LR, momentum=MU,
                  lr_schedule=schedule, lr_step_epochs=DROP, lr_decay=0.1)


def adam_recipe(eps: str, lr: float = 0.01) -> Recipe:
    return Recipe(optimizer="adam", adam_epsilon=eps, learning_rate=lr)


def schedule(recipe: Recipe) -> list[float]:
    """η per step: each step is an "epoch" of :func:`step_lr`."""
    return [step_lr(recipe, t) for t in range(STEPS)]


# --- independent numpy references, written from FD §6 / §8 ---------------------------------


def np_grad(theta: np.ndarray, scale: float = 1.0) -> np.ndarray:
    return scale * A.T @ (A @ theta - Y) / len(Y)


def ref_keras_nesterov(lrs: list[float], mu: float = MU) -> np.ndarray:
    theta, v, out = THETA0.copy(), np.zeros(3), []
    for lr in lrs:
        g = np_grad(theta)
        v = mu * v - lr * g
        theta = theta + mu * v - lr * g
        out.append(theta)
    return np.array(out)


def ref_pytorch_nesterov(lrs: list[float], mu: float = MU) -> np.ndarray:
    theta, b, out = THETA0.copy(), None, []
    for lr in lrs:
        g = np_grad(theta)
        b = g.copy() if b is None else mu * b + g  # PyTorch's b₁ = g₁
        theta = theta - lr * (g + mu * b)
        out.append(theta)
    return np.array(out)


def ref_adam(lrs: list[float], convention: str, scale: float) -> np.ndarray:
    b1, b2 = 0.9, 0.999
    eps = KERAS_ADAM_EPSILON if convention == "keras" else TORCH_ADAM_EPSILON
    theta, m, v, out = THETA0.copy(), np.zeros(3), np.zeros(3), []
    for t, lr in enumerate(lrs, start=1):
        g = np_grad(theta, scale)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if convention == "keras":  # ε-hat on the uncorrected √v
            theta = theta - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        else:  # ε on the bias-corrected √v
            m_hat, v_hat = m / (1 - b1**t), v / (1 - b2**t)
            theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
        out.append(theta)
    return np.array(out)


# --- the two frameworks, each with its own autodiff ---------------------------------------


@functools.cache
def run_torch(recipe: Recipe, scale: float = 1.0) -> np.ndarray:
    a, y = torch.from_numpy(A), torch.from_numpy(Y)
    theta = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    opt = make_torch_optimizer(recipe, [theta])
    out = []
    for lr in schedule(recipe):
        set_torch_lr(opt, lr)
        opt.zero_grad()
        loss = scale * 0.5 * torch.mean((a @ theta - y) ** 2)
        loss.backward()
        opt.step()
        out.append(theta.detach().numpy().copy())
    return np.array(out)


@functools.cache
def run_keras(recipe: Recipe, scale: float = 1.0) -> np.ndarray:
    import keras
    import tensorflow as tf

    theta = keras.Variable(THETA0, dtype="float64")
    opt = make_keras_optimizer(recipe)
    out = []
    for lr in schedule(recipe):
        set_keras_lr(opt, lr)
        with tf.GradientTape() as tape:
            loss = scale * 0.5 * tf.reduce_mean((tf.linalg.matvec(A, theta.value) - Y) ** 2)
        grads = tape.gradient(loss, [theta])
        opt.apply_gradients(zip(grads, [theta]))
        out.append(np.array(theta.numpy()))
    return np.array(out)


RUNNERS = {"torch": run_torch, "keras": run_keras}
TOL = {"torch": TOL_TORCH, "keras": TOL_KERAS}
COMBOS = [(fw, formula) for fw in RUNNERS for formula in ("keras", "pytorch")]


def max_diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b)))


# --- step_lr and validation ---------------------------------------------------------------


@pytest.mark.parametrize(("epoch", "expected"), [(0, 0.05), (19, 0.05), (20, 0.005),
                                                 (39, 0.005), (40, 0.0005)])
def test_step_lr_step_schedule(epoch, expected):
    assert step_lr(sgd_recipe("keras", "step"), epoch) == pytest.approx(expected, rel=1e-12)


def test_step_lr_constant_schedule_ignores_decay():
    assert {step_lr(sgd_recipe("keras", "constant"), e) for e in (0, 20, 99)} == {0.05}


@pytest.mark.parametrize("epoch", [-1, 1.5, True])
def test_step_lr_rejects_bad_epoch(epoch):
    with pytest.raises(ValueError, match="epoch"):
        step_lr(Recipe(), epoch)


@pytest.mark.parametrize(("field", "value"), [("optimizer", "rmsprop"),
                                              ("momentum_formula", "mxnet"),
                                              ("adam_epsilon", "jax"),
                                              ("lr_schedule", "cosine")])
def test_unknown_recipe_values_raise(field, value):
    with pytest.raises(ValueError, match=field):
        Recipe(**{field: value})  # the Recipe itself refuses ...
    bad = Recipe()
    object.__setattr__(bad, field, value)  # ... and so does this module, if one slips by
    with pytest.raises(ValueError, match=rf"recipe\.{field} = '{value}'"):
        make_torch_optimizer(bad, [torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match=rf"recipe\.{field}"):
        make_keras_optimizer(bad)
    with pytest.raises(ValueError, match=rf"recipe\.{field}"):
        step_lr(bad, 0)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), "0.1"])
def test_bad_learning_rates_raise(lr):
    opt = make_torch_optimizer(Recipe(), [torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="learning rate"):
        set_torch_lr(opt, lr)
    with pytest.raises(ValueError, match="learning rate"):
        KerasNesterovSGD([torch.zeros(1, requires_grad=True)], lr=lr)
    with pytest.raises(ValueError, match="learning rate"):
        set_keras_lr(object(), lr)


def test_importing_module_does_not_import_tensorflow(monkeypatch):
    """Run the module's code afresh with every TensorFlow/Keras import refused.

    (In-process, so it holds even after other tests imported TensorFlow: cached modules
    go through ``__import__`` too.)
    """
    real_import = builtins.__import__

    def guarded(name, *args, **kwargs):
        if name.split(".")[0] in ("tensorflow", "keras"):
            raise AssertionError(f"importing utils.networks.optimizers imported {name}")
        return real_import(name, *args, **kwargs)

    spec = importlib.util.spec_from_file_location(
        "utils._optimizers_import_check", Path(optimizers.__file__))
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setattr(builtins, "__import__", guarded)
    spec.loader.exec_module(module)
    monkeypatch.undo()
    assert callable(module.make_keras_optimizer)  # the Keras side is still there, lazily
    with pytest.raises(AssertionError, match="imported keras"):  # and the guard does bite
        monkeypatch.setattr(builtins, "__import__", guarded)
        module.make_keras_optimizer(Recipe())


# --- the factories return what the recipe names -------------------------------------------


def test_make_torch_optimizer_types_and_hyperparameters():
    p = [torch.zeros(2, requires_grad=True)]
    sgd = make_torch_optimizer(sgd_recipe("pytorch", "constant"), p)
    assert type(sgd) is torch.optim.SGD
    assert sgd.defaults["nesterov"] and sgd.defaults["momentum"] == MU
    assert sgd.defaults["lr"] == LR and sgd.defaults["dampening"] == 0
    assert type(make_torch_optimizer(sgd_recipe("keras", "constant"), p)) is KerasNesterovSGD
    adam = make_torch_optimizer(adam_recipe("torch"), p)
    assert type(adam) is torch.optim.Adam and adam.defaults["eps"] == 1e-8
    assert adam.defaults["betas"] == (0.9, 0.999)
    k_adam = make_torch_optimizer(adam_recipe("keras"), p)
    assert type(k_adam) is KerasEpsAdam and k_adam.defaults["eps"] == 1e-7
    # momentum 0: PyTorch refuses nesterov=True, so the factory falls back to plain SGD
    plain = make_torch_optimizer(replace(sgd_recipe("pytorch", "constant"), momentum=0.0), p)
    assert not plain.defaults["nesterov"]


def test_make_keras_optimizer_types_and_hyperparameters():
    import keras

    classes = keras_optimizer_classes()
    sgd = make_keras_optimizer(sgd_recipe("keras", "constant"))
    assert type(sgd) is keras.optimizers.SGD and sgd.nesterov and sgd.momentum == MU
    pt_sgd = make_keras_optimizer(sgd_recipe("pytorch", "constant"))
    assert type(pt_sgd) is classes["PyTorchNesterovSGD"] and pt_sgd.momentum == MU
    adam = make_keras_optimizer(adam_recipe("keras"))
    assert type(adam) is keras.optimizers.Adam and adam.epsilon == 1e-7
    t_adam = make_keras_optimizer(adam_recipe("torch"))
    assert type(t_adam) is classes["TorchEpsAdam"] and t_adam.epsilon == 1e-8
    assert float(t_adam.learning_rate) == pytest.approx(0.01)
    set_keras_lr(t_adam, 0.125)
    assert float(t_adam.learning_rate) == 0.125


# --- SGD with Nesterov momentum (FD §6) ---------------------------------------------------


def test_numpy_references_same_at_constant_lr_different_after_a_drop():
    const = schedule(sgd_recipe("keras", "constant"))
    step = schedule(sgd_recipe("keras", "step"))
    assert max_diff(ref_keras_nesterov(const), ref_pytorch_nesterov(const)) < TOL_TORCH
    gap = np.abs(ref_keras_nesterov(step) - ref_pytorch_nesterov(step)).max(axis=1)
    assert gap[:DROP].max() < TOL_TORCH
    assert gap[DROP] > GAP
    # the toy problem is still moving at the drop, so the check above means something
    assert np.abs(ref_keras_nesterov(const)[DROP] - ref_keras_nesterov(const)[-1]).max() > 1e-2


def test_constant_lr_all_four_trajectories_identical():
    const = schedule(sgd_recipe("keras", "constant"))
    ref = ref_keras_nesterov(const)
    r = {combo: RUNNERS[combo[0]](sgd_recipe(combo[1], "constant")) for combo in COMBOS}
    for (fw, formula), traj in r.items():
        assert traj.shape == (STEPS, 3)
        # whichever formula ran, it follows the Keras-formula reference step by step
        assert max_diff(traj, ref) < TOL[fw], (fw, formula)
    for fw in RUNNERS:  # same framework, other formula: identical up to rounding
        assert max_diff(r[fw, "keras"], r[fw, "pytorch"]) < TOL_TORCH, fw
    for a in COMBOS:
        for b in COMBOS:
            assert max_diff(r[a], r[b]) < TOL_KERAS, (a, b)


@pytest.mark.parametrize(("fw", "formula"), COMBOS)
def test_step_decay_matches_numpy_reference_of_the_formula(fw, formula):
    lrs = schedule(sgd_recipe(formula, "step"))
    ref = {"keras": ref_keras_nesterov, "pytorch": ref_pytorch_nesterov}[formula](lrs)
    other = {"keras": ref_pytorch_nesterov, "pytorch": ref_keras_nesterov}[formula](lrs)
    traj = RUNNERS[fw](sgd_recipe(formula, "step"))
    assert max_diff(traj, ref) < TOL[fw]
    assert max_diff(traj, other) > GAP  # and not the other formula


def test_step_decay_formulas_diverge_frameworks_agree():
    for fw, run in RUNNERS.items():
        k, p = run(sgd_recipe("keras", "step")), run(sgd_recipe("pytorch", "step"))
        assert max_diff(k[:DROP], p[:DROP]) < TOL_TORCH, fw  # same until η changes ...
        assert np.abs(k[DROP] - p[DROP]).max() > GAP, fw  # ... apart right after the drop
    for formula in ("keras", "pytorch"):
        r = sgd_recipe(formula, "step")
        assert max_diff(run_torch(r), run_keras(r)) < TOL_KERAS, formula


def test_keras3_builtin_sgd_nesterov_is_the_keras_formula():
    """FD §6: Keras 3's ``SGD(nesterov=True)`` is v ← μv − ηg; θ ← θ + μv − ηg.

    Checked on the built-in class directly (not through the factory) with a learning-rate
    drop, where the Keras and PyTorch formulas give different iterates.
    """
    import keras
    import tensorflow as tf

    lrs = schedule(sgd_recipe("keras", "step"))
    theta = keras.Variable(THETA0, dtype="float64")
    opt = keras.optimizers.SGD(learning_rate=LR, momentum=MU, nesterov=True)
    traj = []
    for lr in lrs:
        opt.learning_rate = lr
        with tf.GradientTape() as tape:
            loss = 0.5 * tf.reduce_mean((tf.linalg.matvec(A, theta.value) - Y) ** 2)
        opt.apply(tape.gradient(loss, [theta]), [theta])
        traj.append(np.array(theta.numpy()))
    traj = np.array(traj)
    assert max_diff(traj, ref_keras_nesterov(lrs)) < TOL_KERAS
    assert max_diff(traj, ref_pytorch_nesterov(lrs)) > GAP


def test_keras_nesterov_sgd_follows_a_torch_lr_scheduler():
    """``lr`` is read from the param group at every step, so schedulers drive it."""
    theta = torch.tensor(THETA0, dtype=torch.float64, requires_grad=True)
    opt = KerasNesterovSGD([theta], lr=LR, momentum=MU)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=DROP, gamma=0.1)
    a, y = torch.from_numpy(A), torch.from_numpy(Y)
    traj = []
    for _ in range(STEPS):
        opt.zero_grad()
        (0.5 * torch.mean((a @ theta - y) ** 2)).backward()
        opt.step()
        sched.step()
        traj.append(theta.detach().numpy().copy())
    assert max_diff(np.array(traj), run_torch(sgd_recipe("keras", "step"))) < TOL_TORCH


# --- Adam ε (FD §8) -----------------------------------------------------------------------


@pytest.mark.parametrize("fw", ["torch", "keras"])
@pytest.mark.parametrize("convention", ["keras", "torch"])
@pytest.mark.parametrize("scale", [1.0, TINY])
def test_adam_matches_numpy_reference(fw, convention, scale):
    recipe = adam_recipe(convention)
    traj = RUNNERS[fw](recipe, scale)
    assert max_diff(traj, ref_adam(schedule(recipe), convention, scale)) < TOL[fw]


def test_adam_eps_conventions_differ_when_gradients_are_tiny():
    lr = adam_recipe("keras").learning_rate
    # |g| ~ 1e-6 down to ~7e-8: below ε̂/√(1−β₂) ≈ 3.2e-6 (Keras, t = 1), above 1e-8 (torch)
    assert 5e-8 < np.abs(np_grad(THETA0, TINY)).min() < np.abs(np_grad(THETA0, TINY)).max() < 3e-6
    for fw, run in RUNNERS.items():
        k, t = run(adam_recipe("keras"), TINY), run(adam_recipe("torch"), TINY)
        assert np.abs(t[0] - THETA0).min() > 0.8 * lr, fw  # torch: first step ≈ η·sign(g)
        assert np.abs(k[0] - THETA0).max() < 0.5 * lr, fw  # Keras: ε̂ eats most of it
        assert max_diff(k, t) > 0.05, fw
        # ordinary gradients: the two conventions nearly agree
        assert max_diff(run(adam_recipe("keras"), 1.0), run(adam_recipe("torch"), 1.0)) < 1e-4


# --- the custom Keras optimizers as Keras objects -----------------------------------------


@pytest.mark.parametrize(("name", "extra"), [("PyTorchNesterovSGD", {"momentum": 0.8}),
                                             ("TorchEpsAdam", {"epsilon": 1e-8,
                                                               "beta_2": 0.99})])
def test_custom_keras_optimizer_serialises(name, extra):
    import keras

    cls = keras_optimizer_classes()[name]
    opt = cls(learning_rate=0.02, **extra)
    set_keras_lr(opt, 0.03)
    config = opt.get_config()
    assert config["learning_rate"] == pytest.approx(0.03)
    assert all(config[k] == v for k, v in extra.items())
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(opt))
    assert type(clone) is cls
    assert clone.get_config() == config


@pytest.mark.parametrize("recipe", [sgd_recipe("pytorch", "constant"), adam_recipe("torch")],
                         ids=["PyTorchNesterovSGD", "TorchEpsAdam"])
def test_custom_keras_optimizer_in_compile_and_fit(recipe):
    import keras

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5], dtype="float32"))[:, None]
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    opt = make_keras_optimizer(replace(recipe, learning_rate=0.02))
    model.compile(optimizer=opt, loss="mse")
    losses = model.fit(x, y, batch_size=8, epochs=3, verbose=0).history["loss"]
    assert int(opt.iterations) == 12  # 4 batches × 3 epochs went through update_step
    assert losses[-1] < 0.8 * losses[0]


@pytest.mark.parametrize(("name", "expected_step"), [("PyTorchNesterovSGD", 0.1 * 1.9),
                                                     ("TorchEpsAdam", 0.1)])
def test_custom_keras_optimizer_apply_gradients_only(name, expected_step):
    """``apply(grads)`` on a built optimizer; first step: η(1 + μ)g, or ≈ η·sign(g)."""
    import keras

    var = keras.Variable(np.zeros((2, 2), dtype="float32"))
    opt = keras_optimizer_classes()[name](learning_rate=0.1)
    opt.build([var])
    opt.apply([keras.ops.ones((2, 2))])
    np.testing.assert_allclose(var.numpy(), -expected_step, rtol=1e-5)
    assert int(opt.iterations) == 1
