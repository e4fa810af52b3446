"""The probes of notebooks 04, 06 and 07 measure the real model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from utils.networks.model_torch import build_model
from utils.networks.recipe import KERAS_2017, PYTORCH
from utils.training.inspection import (
    first_conv_output,
    gate_saturation,
    gru_gates,
    gru_inputs,
    init_statistics,
    weights_by_layer,
)


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 200, 40)).astype(np.float32)
    y = (rng.random((6, 17)) < 0.1).astype(np.float32)
    return x, y


@pytest.mark.parametrize("gate", ["sigmoid", "hard_sigmoid_keras2", "hard_sigmoid_keras3"])
@pytest.mark.parametrize("reset_after", [False, True])
def test_recomputed_gates_reproduce_the_layer_output(batch, gate, reset_after):
    recipe = replace(KERAS_2017, gate_activation=gate, reset_after=reset_after)
    model = build_model(recipe, seed=1).eval()
    x = batch[0]
    g = gru_gates(model, x, batch=4)  # two chunks: the batching is exercised
    with torch.no_grad():
        xb = torch.from_numpy(x[:, None]).contiguous(memory_format=torch.channels_last)
        expected = model.gru(gru_inputs(model, xb)).numpy()
    np.testing.assert_allclose(g["h"], expected, atol=1e-5)
    assert g["r"].shape == g["z"].shape == expected.shape
    assert 0 <= g["z"].min() and g["z"].max() <= 1


def test_hard_sigmoid_gates_saturate_exactly_sigmoid_never(batch):
    big = batch[0] * 20  # drive the gates hard
    sat = {gate: gate_saturation(gru_gates(build_model(
        replace(KERAS_2017, gate_activation=gate), 0), big)["z"])["exactly 1"]
        for gate in ("sigmoid", "hard_sigmoid_keras2")}
    assert sat["hard_sigmoid_keras2"] > 0 and sat["sigmoid"] < sat["hard_sigmoid_keras2"]


def test_weights_follow_the_recipe():
    torch_w = weights_by_layer(build_model(PYTORCH, 0))
    keras_w = weights_by_layer(build_model(KERAS_2017, 0))
    assert np.all(keras_w["conv1 bias"] == 0) and np.any(torch_w["conv1 bias"] != 0)
    assert np.abs(torch_w["conv2 kernel"]).max() <= 1 / np.sqrt(8 * 9)
    glorot = np.sqrt(6 / (8 * 9 + 16 * 9))
    assert np.abs(keras_w["conv2 kernel"]).max() <= glorot
    assert np.abs(keras_w["conv2 kernel"]).max() > 0.9 * glorot


def test_init_statistics_has_every_layer_and_real_gradients(batch):
    stats = init_statistics(KERAS_2017, *batch)
    assert list(stats.index) == ["conv1", "conv2", "conv3", "GRU", "output"]
    assert (stats["weight-gradient RMS"] > 0).all() and (stats["output std"] > 0).all()


def test_first_conv_output_scales_with_the_input(batch):
    x = batch[0]
    a = first_conv_output(replace(KERAS_2017, bias_init="keras"), x)
    b = first_conv_output(replace(KERAS_2017, bias_init="keras"), 128 * x)
    np.testing.assert_allclose(b, 128 * a, rtol=1e-4, atol=1e-3)
