"""Same start, same batches: what the two Nesterov formulas and the two frameworks do."""

from __future__ import annotations

from dataclasses import replace

import pytest

from utils.networks.recipe import KERAS_2017
from utils.training.trajectories import nesterov_trajectories, same_start_training


@pytest.fixture(scope="module")
def smoke(smoke_data_root):
    from utils.task.dataset import load_dataset

    return load_dataset("smoke", progress=False)


def test_formulas_agree_until_the_learning_rate_drops(smoke):
    recipe = replace(KERAS_2017, lr_schedule="step", lr_step_epochs=1)
    t = nesterov_trajectories(recipe, smoke, epochs=2, progress=False)
    before, after = t[t.epoch == 0], t[t.epoch == 1]
    assert before["relative distance"].max() < 1e-5
    assert before["velocity identity"].max() < 1e-4
    # After the drop v = −η·b no longer holds and the parameters part.
    assert after["velocity identity"].max() > 0.1
    assert after["relative distance"].max() > 100 * before["relative distance"].max()


def test_same_start_differs_only_by_rounding_when_the_biases_match(smoke):
    matched = same_start_training(replace(KERAS_2017, reset_after=True), smoke, epochs=1)
    one_bias = same_start_training(KERAS_2017, smoke, epochs=1, single_gru_bias=True)
    two_bias = same_start_training(KERAS_2017, smoke, epochs=1)
    col = "max |p_keras - p_torch|"
    assert matched[col].iloc[0] < 1e-5 and two_bias[col].iloc[0] < 1e-5  # same start
    assert matched[col].iloc[-1] < 1e-4 and one_bias[col].iloc[-1] < 1e-4
    # PyTorch's second GRU bias doubles the bias step: a real, not a rounding, difference.
    assert two_bias[col].iloc[-1] > 100 * one_bias[col].iloc[-1]


def test_same_start_by_name_reads_two_splits_keeps_no_raw_features_and_agrees(smoke,
                                                                              monkeypatch):
    """Notebook 09 passes the dataset's name, so that its kernel (both frameworks loaded)
    never holds the raw features beside the scaled ones: only train and valid are read, one
    at a time, every raw array is gone before the models are built, and the table is the
    one a loaded dataset gives."""
    import gc
    import weakref

    from utils.task.dataset import load_dataset
    from utils.training import trajectories

    asked, raw, alive = [], [], []

    def loading(*a, **k):
        asked.append(k.get("splits"))
        ds = load_dataset(*a, **k)
        raw.extend(weakref.ref(ds[s].x) for s in k.get("splits"))
        return ds

    def building(*a, **k):
        gc.collect()
        alive.append(any(r() is not None for r in raw))
        return make_trainer(*a, **k)

    make_trainer = trajectories.make_trainer
    monkeypatch.setattr(trajectories, "load_dataset", loading)
    monkeypatch.setattr(trajectories, "make_trainer", building)
    by_name = same_start_training(KERAS_2017, "smoke", epochs=1, progress=False)
    assert asked == [("train",), ("valid",)] and alive == [False, False]
    monkeypatch.undo()
    loaded = same_start_training(KERAS_2017, smoke, epochs=1, progress=False)
    assert by_name.equals(loaded)


def test_a_schedule_hook_raises_the_rate_and_the_pytorch_formula_steps_further(smoke):
    eta = KERAS_2017.learning_rate
    t = nesterov_trajectories(KERAS_2017, smoke, epochs=1, progress=False,
                              lr_at=lambda step: eta if step < 2 else 10 * eta)
    assert t.lr.tolist()[:3] == [eta, eta, 10 * eta]
    # Before the rise the formulas are the same recurrence; right after it PyTorch multiplies
    # its whole buffer by the new η, while Keras' velocity still carries the old one.
    assert abs(t["step keras formula"].iloc[1] / t["step pytorch formula"].iloc[1] - 1) < 1e-3
    assert t["step pytorch formula"].iloc[2] > 1.05 * t["step keras formula"].iloc[2]


@pytest.mark.parametrize("bad", [0.0, -0.1, float("nan"), "0.1"])
def test_a_schedule_hook_with_a_bad_rate_is_refused_naming_the_step(smoke, bad):
    with pytest.raises(ValueError, match=r"lr_at\(0\) returned .*finite learning rate > 0"):
        nesterov_trajectories(KERAS_2017, smoke, epochs=1, progress=False,
                              lr_at=lambda step: bad)
