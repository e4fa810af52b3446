"""Training: batches, determinism in each framework, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from utils.networks.recipe import KERAS_2017, PYTORCH
from utils.training.trainer import decode_probs, epoch_batches, train

FAST = {"epochs": 1, "batch_size": 16}


def test_balanced_batches_are_balanced_and_seeded():
    rng = np.random.default_rng(0)
    y = np.zeros((1000, 17), np.float32)
    y[np.arange(1000), rng.choice(17, 1000, p=np.r_[0.5, np.full(16, 0.5 / 16)])] = 1
    b1 = epoch_batches(y, KERAS_2017, np.random.default_rng(1))
    b2 = epoch_batches(y, KERAS_2017, np.random.default_rng(1))
    assert all(np.array_equal(a, b) for a, b in zip(b1, b2))
    assert len(b1) == 1000 // KERAS_2017.batch_size
    counts = y[np.concatenate(b1)].sum(0)
    assert counts.max() / counts.min() < 1.3  # the raw data is 8:1 for class 0


def test_plain_batches_cover_every_clip_once():
    y = np.eye(17)[np.arange(100) % 17]
    batches = epoch_batches(y, replace(KERAS_2017, balanced_batches=False),
                            np.random.default_rng(0))
    assert sorted(np.concatenate(batches).tolist()) == list(range(100))


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_same_seed_gives_identical_result(framework, smoke_data_root):
    recipe = replace(KERAS_2017 if framework == "keras" else PYTORCH, **FAST)
    m1, m2 = [], []
    r1 = train(recipe, "smoke", seed=3, framework=framework, progress=False, model_out=m1)
    r2 = train(recipe, "smoke", seed=3, framework=framework, progress=False, model_out=m2)
    assert r1.test_f1 == r2.test_f1 and r1.epoch_loss == r2.epoch_loss
    if framework == "torch":
        w1 = [p.detach().numpy() for p in m1[0].parameters()]
        w2 = [p.detach().numpy() for p in m2[0].parameters()]
    else:
        w1, w2 = m1[0].get_weights(), m2[0].get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(w1, w2))
    r3 = train(recipe, "smoke", seed=4, framework=framework, progress=False)
    assert r3.epoch_loss != r1.epoch_loss


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_evaluation_gives_the_outputs_of_the_old_path(framework):
    """The faster evaluation (``EVAL_BATCH``, Keras' compiled forward pass) must leave every
    output bit as the 250-clip eager pass left it, or stored rows would stop re-deriving."""
    from utils.training.trainer import EVAL_BATCH, make_trainer

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 200, 40)).astype(np.float32)
    y = (rng.random((300, 17)) < 0.2).astype(np.float32)
    recipe = KERAS_2017 if framework == "keras" else PYTORCH
    trainer = make_trainer(framework, recipe, 0, x, y)
    trainer.fit_epoch(epoch_batches(y, recipe, rng)[:3], 0.01)  # weights away from the init
    new = trainer.predict(x)
    if framework == "torch":
        old = trainer.predict(x, batch=250)
        assert EVAL_BATCH["torch"] != 250
    else:
        old = trainer.predict(x, batch=250, compiled=False)
    assert new.shape == (300, 17) and np.array_equal(new, old)


def test_result_fields(smoke_data_root):
    r = train(replace(PYTORCH, **FAST), "smoke", seed=0, framework="torch", progress=False)
    assert 0 <= r.test_f1 <= 1 and len(r.thresholds) == 17 and len(r.epoch_loss) == 1
    assert r.preset == "smoke" and r.framework == "torch" and r.seconds > 0
    assert r.peak_rss_mb > 100 and r.n_params > 1000
    with pytest.raises(ValueError, match="unknown framework"):
        train(PYTORCH, "smoke", framework="jax")


def test_a_run_that_loads_its_data_keeps_only_the_scaled_features(smoke_data_root,
                                                                    monkeypatch):
    """Loaded by name, the raw features are dropped once scaled: a grid worker or backend
    process would otherwise hold the data twice for the whole run. A dataset handed in
    stays the caller's."""
    import gc
    import weakref

    from utils.task.dataset import load_dataset
    from utils.training import trainer

    raw = []
    monkeypatch.setattr(trainer, "load_dataset", lambda *a, **k: raw.append(
        weakref.ref((ds := load_dataset(*a, **k))["train"].x)) or ds)
    alive = []

    def seen(*_):
        gc.collect()
        alive.append(raw[0]() is not None)

    r = train(replace(PYTORCH, **FAST), "smoke", framework="torch", progress=False,
              on_epoch=seen)
    assert raw and alive == [False] and r.preset == "smoke"
    given = load_dataset("smoke", progress=False)
    train(replace(PYTORCH, **FAST), given, framework="torch", progress=False)
    assert given["train"].x.size  # untouched


def test_train_cli_last_line(smoke_data_root):
    out = subprocess.run([sys.executable, "-m", "utils.train", "--framework", "torch",
                          "--recipe", "keras_2017", "--seed", "1", "--preset", "smoke",
                          "--epochs", "1"], capture_output=True, text=True, check=True)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("test_f1=") and " seconds=" in last
    f1 = float(last.split()[0].split("=")[1])
    assert 0 <= f1 <= 1


def test_train_cli_rejects_unknown_recipe():
    out = subprocess.run([sys.executable, "-m", "utils.train", "--framework", "torch",
                          "--recipe", "keras2"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown recipe 'keras2'" in out.stderr


# --- stopping rule, per-epoch curves, two seeds ------------------------------------------

def _run(framework="torch", **fields):
    base = KERAS_2017 if framework == "keras" else PYTORCH
    return train(replace(base, **fields), "smoke", seed=1, framework=framework, progress=False)


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_early_stopping_keeps_the_best_validation_epoch(framework):
    r = _run(framework, epochs=12, patience=2, learning_rate=0.2)
    n = len(r.epoch_loss)
    assert len(r.epoch_valid_f1) == len(r.epoch_test_f1) == n
    first_best = int(np.argmax(r.epoch_valid_f1))  # argmax takes the first of equals
    assert r.best_epoch == first_best + 1
    assert r.valid_f1 == r.epoch_valid_f1[first_best]
    assert r.test_f1 == r.epoch_test_f1[first_best]  # the kept epoch's test F1
    if r.stop_reason == "patience":
        assert n == r.best_epoch + 2 and n < 12
    else:
        assert (r.stop_reason, n) == ("cap", 12)
    probs = decode_probs(r.test_probs)
    assert probs.shape[1] == 17 and np.all((probs >= 0) & (probs <= 1))


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_a_plateau_schedule_drops_the_rate_when_validation_f1_stops_improving(
        framework, monkeypatch):
    """train() hands each epoch the η that plateau_lr gives for the F1 of the epochs before
    it, and a plateau run with no flat epoch is the constant-rate run, to the bit."""
    from utils.networks.optimizers import plateau_lr
    from utils.training import trainer as T

    used = []
    cls = T.TorchTrainer if framework == "torch" else T.KerasTrainer
    fit = cls.fit_epoch
    monkeypatch.setattr(cls, "fit_epoch", lambda self, b, lr: used.append(lr) or fit(self, b, lr))
    r = _run(framework, epochs=8, patience=6, learning_rate=0.2, lr_schedule="plateau",
             lr_step_epochs=1)
    recipe = replace(KERAS_2017 if framework == "keras" else PYTORCH, learning_rate=0.2,
                     lr_schedule="plateau", lr_step_epochs=1)
    assert used == [plateau_lr(recipe, r.epoch_valid_f1[:e]) for e in range(len(used))]
    assert len(set(used)) > 1  # the smoke data plateaus within 8 epochs: η did drop
    used.clear()
    flat = _run(framework, epochs=2, learning_rate=0.2, lr_schedule="plateau",
                lr_step_epochs=5)  # five flat epochs cannot occur in two
    assert used == [0.2, 0.2]
    assert flat.epoch_loss == _run(framework, epochs=2, learning_rate=0.2).epoch_loss


def test_a_fixed_budget_is_the_start_of_a_longer_run():
    """The verdict at a short budget can be read from a long run's curve: same batches,
    same weights, so epoch k of a long run is a k-epoch run."""
    short, long = _run(epochs=2), _run(epochs=3)
    assert (short.stop_reason, short.best_epoch, long.best_epoch) == ("fixed", 2, 3)
    assert long.epoch_loss[:2] == short.epoch_loss
    assert long.epoch_test_f1[:2] == short.epoch_test_f1
    assert short.test_f1 == short.epoch_test_f1[-1]


def test_weight_seed_and_data_seed_are_separate():
    a = train(replace(PYTORCH, epochs=1), "smoke", seed=1, framework="torch", progress=False)
    b = train(replace(PYTORCH, epochs=1), "smoke", seed=1, framework="torch", progress=False,
              data_seed=7)
    c = train(replace(PYTORCH, epochs=1), "smoke", seed=2, framework="torch", progress=False,
              data_seed=7)
    assert (a.data_seed, b.data_seed, c.data_seed) == (1, 7, 7)
    assert a.epoch_loss != b.epoch_loss != c.epoch_loss  # other batches; other weights


@pytest.mark.parametrize("fields, says", [
    ({"patience": -1}, "patience"),
    ({"patience": 20, "epochs": 10}, "a cap above patience = 20"),
    ({"patience": 12, "epochs": 12}, "a cap above patience = 12"),
    ({"patience": 2.0}, "an integer"),
])
def test_bad_stopping_fields_are_refused(fields, says):
    with pytest.raises(ValueError, match=says):
        replace(PYTORCH, **fields)


def test_cpu_count_follows_the_quota_and_threads_follow_the_cpu_count(tmp_path, monkeypatch,
                                                                      smoke_data_root):
    import subprocess
    import sys

    from utils.common import machine

    (tmp_path / "cpu.max").write_text("150000 100000\n")  # 1.5 CPUs: one thread, not two
    assert machine._cgroup_quota(tmp_path) == 1.5
    (tmp_path / "cpu.max").write_text("max 100000\n")
    assert machine._cgroup_quota(tmp_path) is None
    monkeypatch.setattr(machine, "_cgroup_quota", lambda: 1.5)
    assert machine.available_cpus() == 1
    # A fresh process with one thread asked for: torch runs one, TensorFlow is not loaded.
    code = ("import sys, numpy as np; from dataclasses import replace; "
            "from utils.networks.recipe import PYTORCH; from utils.training.trainer import "
            "train; import torch; train(replace(PYTORCH, epochs=1), 'smoke', 0, 'torch', "
            "progress=False); print(torch.get_num_threads(), 'tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**__import__("os").environ, "DEFAULTS_LAB_THREADS": "1"},
                         timeout=300)
    assert out.stdout.split()[-2:] == ["1", "False"], out.stderr[-1500:]


def test_a_keras_run_never_loads_pytorch(smoke_data_root):
    """A Keras-only process (notebook 10's kernel) must not pay for PyTorch's memory."""
    code = ("import sys; from dataclasses import replace; "
            "from utils.networks.recipe import KERAS_2017; "
            "import utils.lessons.backends, utils.results.comparisons; "
            "from utils.training.trainer import train; "
            "train(replace(KERAS_2017, epochs=1), 'smoke', framework='keras', progress=False); "
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


# One short run in a fresh process at a given thread count (a framework sizes its pools once).
_AT_THREADS = (
    "import json, sys; from dataclasses import replace; "
    "from utils.common.frameworks import set_threads, threads_in_use; "
    "fw, n = sys.argv[1], int(sys.argv[2]); set_threads(n, (fw,)); "
    "from utils.networks.recipe import KERAS_2017, PYTORCH; "
    "from utils.training.trainer import train; "
    "r = train(replace(KERAS_2017 if fw == 'keras' else PYTORCH, epochs=1), 'smoke', 0, fw, "
    "progress=False); "
    "print(json.dumps([threads_in_use(fw), r.test_f1, r.valid_f1, r.epoch_loss, r.test_probs]))")


@pytest.mark.parametrize("framework", ["torch", "keras"])
def test_the_thread_count_changes_no_result(framework, smoke_data_root):
    """Live runs train on one thread (``LIVE_THREADS``) where they used one per CPU: the
    choice must move no stored number, so one epoch gives the identical test and validation
    F1 and test probabilities (as stored: float16) at one thread and at two. The training
    loss is a sum over the batch that each framework splits among its threads: it moves in
    the last bits of float32 (found so in both frameworks), never more."""
    from utils.common.machine import available_cpus

    if available_cpus() < 2:
        pytest.skip("one usable CPU: two threads would time-share it, not split the work")
    found = {}
    for n in (1, 2):
        out = subprocess.run([sys.executable, "-c", _AT_THREADS, framework, str(n)],
                             capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        threads, *found[n] = json.loads(out.stdout.strip().splitlines()[-1])
        assert threads == n
    (f1, valid_f1, loss, probs), (f1_2, valid_f1_2, loss_2, probs_2) = found[1], found[2]
    assert (f1, valid_f1, probs) == (f1_2, valid_f1_2, probs_2)
    assert loss == pytest.approx(loss_2, rel=1e-6)


@pytest.mark.parametrize("scaling", ["unit", "pm128", "standard"])
def test_scaled_features_in_chunks_are_scale_features_to_the_bit(scaling):
    """Notebook 09 scales a few clips at a time (memory): every scaling must give the very
    array of one call, a last chunk shorter than the others included."""
    from utils.task.features import SCALINGS, feature_stats, scale_features
    from utils.training.trainer import scaled_features

    assert scaling in SCALINGS
    rng = np.random.default_rng(7)
    x = (rng.normal(size=(130, 20, 40)) * 10 - 30).astype(np.float32)
    stats = feature_stats(x[:100])
    whole = scale_features(x, stats, scaling)
    chunked = scaled_features(x, stats, scaling, clips=64)
    assert chunked.dtype == whole.dtype == np.float32 and chunked.shape == whole.shape
    assert np.array_equal(chunked, whole)
    assert scaled_features(x[:0], stats, scaling).shape == (0, 20, 40)
    with pytest.raises(ValueError, match="mel bins"):
        scaled_features(x[..., :3], stats, scaling)
