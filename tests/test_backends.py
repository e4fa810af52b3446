"""One Keras model on three backends: parity, determinism, provenance, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from utils.common.machine import XLA_PIN_FLAG, path_key, pinned_environment
from utils.networks.recipe import KERAS_2017, PYTORCH, trained
from utils.results.grids import GRIDS
from utils.training.backend_parity import backend_checks
from utils.training.keras_backends import (
    OTHER_BACKENDS,
    BackendError,
    backend_environment,
    backend_of,
    call_in,
    initial_weights,
)
from utils.training.trainer import train

# float32 rounding: the largest layer difference measured was 4.8e-7 (forward); one step's
# update differed by up to 1.7e-6 with SGD and 1.9e-5 with Adam, whose first step divides
# each gradient by its own size (near-zero gradients round differently). A real difference
# of function (a gate, a reset position, a missing bias, another epsilon or BatchNorm
# momentum) is orders of magnitude larger.
TOLERANCE = 1e-5
STEP_TOLERANCE = 1e-4


# No backend silently ignores or replaces a knob: optimizers and their formulas, the Adam
# epsilons, both BatchNorms, gates, reset positions, a bidirectional GRU, the loss guard and
# the input scalings.
KNOBS = [replace(KERAS_2017, name="adam keras eps", optimizer="adam"),
         replace(PYTORCH, name="adam torch eps", optimizer="adam"),
         replace(KERAS_2017, name="batchnorm keras", batchnorm="keras"),
         replace(PYTORCH, name="batchnorm torch", batchnorm="torch"),
         replace(KERAS_2017, name="keras-3 hard sigmoid",
                 gate_activation="hard_sigmoid_keras3", reset_after=True),
         replace(PYTORCH, name="bidirectional, max pooling", bidirectional=True,
                 pooling="max"),
         replace(PYTORCH, name="[-128, 128], torch guard", input_scaling="pm128",
                 loss_guard="torch")]


@pytest.fixture(scope="module")
def checks():
    """The forward pass of KERAS_2017, PYTORCH's step on a 16-clip batch (notebook 10's two
    tables) and every knob's step on 8 clips, one process per backend for all of them: a
    process takes longer to load its framework than these checks take."""
    parity, (step, knob_steps) = backend_checks(KERAS_2017, [([PYTORCH], 16), (KNOBS, 8)])
    return {"parity": parity, "step": step[0], "knobs": knob_steps}


def test_forward_parity_on_every_backend(checks):
    table = checks["parity"]
    assert set(table) == {"keras-jax", "keras-torch", "torch"}
    for fw, layers in table.items():
        assert set(layers) == {"conv1", "conv2", "conv3", "gru", "frame_prob", "clip_prob"}
        assert max(layers.values()) < TOLERANCE, (fw, layers)


def test_forward_parity_fails_for_another_function():
    """The check can fail: a different gate on one side is far above the tolerance."""
    x = np.random.default_rng(0).standard_normal((2, 200, 40)).astype(np.float32)
    a = call_in("tensorflow", "layer_outputs", recipe=KERAS_2017, x=x)
    b = call_in("jax", "layer_outputs", recipe=replace(KERAS_2017, gate_activation="sigmoid"),
                x=x, weights=a["weights"])
    assert np.abs(a["keras"]["gru"] - b["keras"]["gru"]).max() > 100 * TOLERANCE


def test_one_step_moves_the_weights_alike(checks):
    steps = checks["step"]
    assert set(steps) == {"keras", "keras-jax", "keras-torch"}
    losses = [s["loss"] for s in steps.values()]
    assert max(losses) - min(losses) < TOLERANCE
    for fw, s in steps.items():
        assert s["update"] > 1e-4  # the step did move the weights
        assert s["diff"] < STEP_TOLERANCE, (fw, s)


def test_every_recipe_knob_steps_alike_on_every_backend(checks):
    """No backend silently ignores or replaces a knob (:data:`KNOBS`): each takes the same
    step on all three backends."""
    assert len(checks["knobs"]) == len(KNOBS)
    for recipe, steps in zip(KNOBS, checks["knobs"]):
        assert steps["keras"]["update"] > 1e-5, recipe.name
        assert max(steps[fw]["diff"] for fw in OTHER_BACKENDS) < STEP_TOLERANCE, (recipe.name,
                                                                                 steps)


def test_initial_weights_are_tensorflows_draw_and_seeded():
    a, b = initial_weights(KERAS_2017, 3), initial_weights(KERAS_2017, 3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    c = initial_weights(KERAS_2017, 4)
    assert not np.array_equal(a[0], c[0])


@pytest.fixture(scope="module")
def tensorflow_run(smoke_data_root):
    """Keras on TensorFlow, one epoch of seed 2: every other backend's run is held against it."""
    return train(replace(KERAS_2017, epochs=1), "smoke", seed=2, framework="keras",
                 progress=False)


@pytest.mark.parametrize("framework", OTHER_BACKENDS)
def test_backend_run_is_deterministic_and_labelled(framework, tensorflow_run):
    recipe = replace(KERAS_2017, epochs=1)
    r1 = train(recipe, "smoke", seed=2, framework=framework, progress=False)
    r2 = train(recipe, "smoke", seed=2, framework=framework, progress=False)
    assert r1.framework == framework and r1.recipe_name == "keras_2017"
    assert r1.epoch_loss == r2.epoch_loss and r1.test_probs == r2.test_probs
    assert r1.float_path["framework"] == framework
    assert r1.float_path["keras_backend"] == backend_of(framework)
    assert path_key(r1.float_path) == path_key(r2.float_path)
    assert path_key(r1.float_path).startswith(f"keras {r1.float_path['keras']} on "
                                              f"{backend_of(framework)}")
    if framework == "keras-jax":  # XLA's pool follows the CPUs it may use: in the key
        assert r1.float_path["xla_cpus"] == len(os.sched_getaffinity(0))
        assert path_key(r1.float_path) != path_key({**r1.float_path, "xla_cpus": 64})
        old = {k: v for k, v in r1.float_path.items() if k != "xla_cpus"}
        assert "pool of unrecorded CPU(s)" in path_key(old)
    # The same start and batches as Keras on TensorFlow: the first loss agrees to rounding.
    tf = tensorflow_run
    assert (tf.framework, tf.recipe, tf.seed) == ("keras", r1.recipe, r1.seed)
    assert abs(tf.epoch_loss[0] - r1.epoch_loss[0]) < 1e-3


def test_backend_environment_threads_and_pins():
    env = backend_environment("jax", 1)
    assert env["KERAS_BACKEND"] == "jax" and env["DEFAULTS_LAB_THREADS"] == "1"
    assert "intra_op_parallelism_threads=1" in env["XLA_FLAGS"]
    with pinned_environment():
        assert XLA_PIN_FLAG in backend_environment("jax", 2)["XLA_FLAGS"]
        assert "intra_op_parallelism_threads" not in backend_environment("jax", 2)["XLA_FLAGS"]
    assert backend_environment("torch", 2)["KERAS_BACKEND"] == "torch"
    with pytest.raises(ValueError, match="unknown Keras backend"):
        backend_environment("cntk", 1)
    with pytest.raises(ValueError, match="at least 1"):
        backend_environment("jax", 0)
    with pytest.raises(ValueError, match="unknown framework"):
        backend_of("theano")


def test_a_failing_backend_task_names_the_backend_and_the_error():
    with pytest.raises(BackendError,
                       match=r"(?s)Keras on jax: task 'nonsense' failed.*unknown task"):
        call_in("jax", "nonsense")
    with pytest.raises(BackendError, match="Keras on torch: task 'layer_outputs' failed"):
        call_in("torch", "layer_outputs", recipe=KERAS_2017, weights=[], x=np.zeros(3))


def test_a_batch_of_tasks_refuses_an_unknown_one_before_running_any(monkeypatch):
    from utils.training import backend_worker as W

    ran = []
    monkeypatch.setitem(W.TASKS, "initial_weights", lambda **kw: ran.append(kw))
    calls = [["initial_weights", {"recipe": KERAS_2017, "seed": 0}], ["nonsense", {}],
             ["many", {"calls": []}]]  # a batch inside a batch is no task either
    with pytest.raises(ValueError, match=r"unknown task\(s\) \['many', 'nonsense'\] in a batch"):
        W._many(calls)
    assert ran == []
    assert W._many(calls[:1]) == [None] and len(ran) == 1  # a known task runs


def test_keras_framework_in_a_jax_process_is_refused(smoke_data_root):
    """'keras' means Keras on TensorFlow: a row of another backend must say which."""
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    p = subprocess.run([sys.executable, "-m", "utils.train", "--framework", "keras",
                        "--preset", "smoke", "--epochs", "1"], capture_output=True, text=True,
                       env=env)
    assert p.returncode != 0 and "ask for keras-jax instead" in p.stderr


def test_backend_options_are_refused_clearly(smoke_data_root):
    with pytest.raises(ValueError, match="on_epoch and model_out are not available"):
        train(KERAS_2017, "smoke", framework="keras-jax", model_out=[])


def test_backends_grid_pairs_with_the_tensorflow_rows():
    jobs = GRIDS["backends_converged"]()
    assert {j.framework for j in jobs} == set(OTHER_BACKENDS)
    assert {j.recipe for j in jobs} == {trained(KERAS_2017), trained(PYTORCH)}
    assert sorted({j.seed for j in jobs}) == list(range(10))
    assert len({j.key for j in jobs}) == len(jobs) == 40
    # The TensorFlow side is the reference_converged Keras rows: same recipes, same seeds.
    tf = {(j.recipe, j.seed) for j in GRIDS["reference_converged"]() if j.framework == "keras"}
    assert {(j.recipe, j.seed) for j in jobs} == tf


def test_notebook_10s_kernel_imports_no_framework():
    """Notebook 10's kernel runs beside one backend process at a time; a framework imported
    by the kernel (PyTorch alone is a few hundred MB) would add to every backend's peak.
    The imports are read from the notebook's own code cells, so a new one is checked too."""
    import ast
    import json

    from utils.common.repo import REPO_ROOT

    cells = json.loads((REPO_ROOT / "notebooks" / "10_backends.ipynb").read_text())["cells"]
    imports = [ast.unparse(node) for c in cells if c["cell_type"] == "code"
               for node in ast.walk(ast.parse("".join(c["source"])))
               if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("utils")]
    assert any("live_backends" in i for i in imports) and any("backend_parity" in i
                                                               for i in imports)
    code = "; ".join([*imports, "import sys",
                      "print(sorted({'torch', 'tensorflow', 'keras', 'jax'} & set(sys.modules)))"])
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_keras_on_pytorch_evaluates_bit_for_bit_as_predict_on_batch():
    """Keras on PyTorch evaluates layer by layer, the convolution stack in chunks of clips
    (its memory): every output bit must stay that of Keras' own ``predict_on_batch`` on
    250-clip batches, or the stored keras-torch rows would stop re-deriving. Weights moved
    off the initial draw, both presets and the bidirectional GRU."""
    from utils.common.repo import REPO_ROOT

    code = """
import numpy as np
from dataclasses import replace
from utils.networks.recipe import KERAS_2017, PYTORCH
from utils.training.trainer import EVAL_BATCH, epoch_batches, make_trainer
for recipe in (KERAS_2017, PYTORCH, replace(PYTORCH, bidirectional=True)):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 200, 40)).astype(np.float32)
    y = (rng.random((300, 17)) < 0.2).astype(np.float32)
    trainer = make_trainer("keras", recipe, 0, x, y)
    trainer.fit_epoch(epoch_batches(y, recipe, rng)[:3], 0.01)
    per_clip, rest = trainer._chain
    assert per_clip and rest and len(x) % EVAL_BATCH["torch"], (per_clip, rest)
    old = np.concatenate([np.asarray(trainer.model.predict_on_batch(x[i:i + 250, ..., None]))
                          for i in range(0, len(x), 250)])
    new = trainer.predict(x)
    assert new.shape == (300, 17) and np.array_equal(new, old), recipe.name
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                         text=True, env=backend_environment("torch", 1))
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stdout + out.stderr[-2000:]
