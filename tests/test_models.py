"""Both CRNNs honour the recipe and are the same network (parity with copied weights)."""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch

from utils.networks import model_keras as mk
from utils.networks import model_torch as mt
from utils.networks.recipe import KERAS_2017, PYTORCH
from utils.training.parity import parity_table


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid_keras2", "hard_sigmoid_keras3"])
@pytest.mark.parametrize("reset_after", [False, True])
def test_parity_every_layer(gate, reset_after):
    recipe = replace(KERAS_2017, gate_activation=gate, reset_after=reset_after)
    table = dict(parity_table(recipe, seed=3))
    assert set(table) == {"conv1", "conv2", "conv3", "gru", "frame_prob", "clip_prob"}
    assert max(table.values()) <= 1e-4, table


@pytest.mark.parametrize("extra", [{"bidirectional": True}, {"batchnorm": "keras"},
                                   {"batchnorm": "torch", "pooling": "max"},
                                   {"pooling": "mean"}])
def test_parity_other_knobs(extra):
    table = dict(parity_table(replace(PYTORCH, **extra), seed=4))
    assert max(table.values()) <= 1e-4, table


def test_parity_detects_a_wrong_copy(monkeypatch):
    # The check must be able to fail: corrupt the GRU copy and see it.
    from utils.training import parity

    real = parity.keras_to_torch_gru

    def swapped(kernel, recurrent, bias, reset_after, **kw):
        out = real(kernel, recurrent, bias, reset_after, **kw)
        return {k: v.flip(0) if k.startswith("weight_hh") else v for k, v in out.items()}

    monkeypatch.setattr(parity, "keras_to_torch_gru", swapped)
    table = dict(parity_table(KERAS_2017, seed=3))
    assert table["conv3"] == 0.0 and table["gru"] > 1e-3


def _torch_layers(recipe):
    m = mt.build_model(recipe, seed=0)
    return [mod for mod in m.modules() if isinstance(mod, torch.nn.Conv2d | torch.nn.Linear)], m


def test_torch_initialisation_follows_the_recipe():
    layers, m = _torch_layers(KERAS_2017)
    for layer in layers:
        fan_in = layer.weight[0].numel()
        fan_out = layer.weight.shape[0] * layer.weight[0, 0].numel()
        glorot = math.sqrt(6 / (fan_in + fan_out))
        assert layer.weight.abs().max() <= glorot and layer.weight.abs().max() > 0.8 * glorot
        assert torch.all(layer.bias == 0)
    assert torch.all(m.gru.bias_hh_l0 == 0)
    layers, m = _torch_layers(PYTORCH)
    for layer in layers:
        bound = 1 / math.sqrt(layer.weight[0].numel())
        assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
        assert layer.bias.abs().max() > 0
    assert m.gru.bias_hh_l0.abs().max() > 0


def test_keras_initialisation_follows_the_recipe():
    km = mk.build_model(PYTORCH, seed=0)
    kernel, bias = km.get_layer("conv1").get_weights()
    bound = 1 / math.sqrt(np.prod(kernel.shape[:3]))
    assert np.abs(kernel).max() <= bound and 0 < np.abs(bias).max() <= bound
    km = mk.build_model(KERAS_2017, seed=0)
    kernel, recurrent, bias = km.get_layer("gru").get_weights()
    assert np.allclose(recurrent @ recurrent.T, np.eye(len(recurrent)), atol=1e-5)
    assert np.all(bias == 0) and bias.shape == (3 * recurrent.shape[0],)  # reset_before: 1 row


@pytest.mark.parametrize("framework", ["keras", "torch"])
def test_same_seed_same_weights(framework):
    if framework == "torch":
        a = [p.detach().numpy() for p in mt.build_model(KERAS_2017, 5).parameters()]
        b = [p.detach().numpy() for p in mt.build_model(KERAS_2017, 5).parameters()]
        c = [p.detach().numpy() for p in mt.build_model(KERAS_2017, 6).parameters()]
    else:
        a, b, c = (mk.build_model(KERAS_2017, s).get_weights() for s in (5, 5, 6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))


def test_bidirectional_directions_start_different():
    km = mk.build_model(replace(KERAS_2017, bidirectional=True), seed=0)
    bi = km.get_layer("bigru")
    assert not np.array_equal(bi.forward_layer.get_weights()[0],
                              bi.backward_layer.get_weights()[0])


def test_loss_guards_differ_only_at_saturation():
    y = torch.tensor([[1.0, 0.0]])
    for p, same in ((torch.tensor([[0.7, 0.2]]), True), (torch.tensor([[1e-9, 0.5]]), False)):
        k = float(mt.bce_loss(p, y, "keras"))
        t = float(mt.bce_loss(p, y, "torch"))
        kk = float(np.mean(mk.make_loss("keras")(y.numpy(), p.numpy())))
        tk = float(np.mean(mk.make_loss("torch")(y.numpy(), p.numpy())))
        assert k == pytest.approx(kk, rel=1e-5) and t == pytest.approx(tk, rel=1e-5)
        assert (abs(k - t) < 1e-5) is same


def test_parity_cli_last_line():
    out = subprocess.run([sys.executable, "-m", "utils.parity", "--recipe", "pytorch"],
                         capture_output=True, text=True, check=True)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("max_abs_diff=") and float(last.split("=")[1]) <= 1e-4


def test_a_keras_model_built_before_training_leaves_the_lab_s_thread_count():
    """TensorFlow fixes its thread pools at its first op: a model built and shown before
    it is trained (notebook 02) must not leave training on one thread per host CPU."""
    import os

    code = ("from utils.networks.model_keras import build_model; "
            "from utils.networks.recipe import KERAS_2017; "
            "from utils.common.frameworks import default_threads, threads_in_use; "
            "m = build_model(KERAS_2017, 0); m.summary(print_fn=lambda *a, **k: None); "
            "print(threads_in_use('keras'), default_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    used, wanted = out.stdout.split()[-2:]
    assert used == wanted != "0"
