"""Parity check: the Keras and PyTorch CRNNs are the same network.

Introduced in ``03_pytorch_port.ipynb``. Both models are built from one recipe, the Keras
weights are copied into the PyTorch model (conv kernels HWIO → OIHW; dense kernels
transposed; GRU gate order [z, r, h] → [r, z, n] with x·W → W·x, and the two bias rows when
``reset_after=True``; ``docs/sources.md#gru-weight-layout``), one batch goes through
both, and the largest absolute difference is reported layer by layer. Both models flatten
the conv output in NHWC order, so no permutation is needed before the GRU.

Command line (last line ``max_abs_diff=<x>``)::

    python -m utils.parity [--recipe keras_2017]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from utils.networks.architecture import SIZES
from utils.networks.gru_torch import keras_to_torch_gru
from utils.networks.model_torch import build_model as build_torch
from utils.networks.model_torch import pool_frames
from utils.networks.recipe import Recipe, get_recipe


def copy_keras_to_torch(kmodel, tmodel) -> None:
    """Overwrite every parameter and buffer of the PyTorch CRNN with the Keras model's."""

    def put(param, value) -> None:
        with torch.no_grad():
            param.copy_(torch.as_tensor(np.asarray(value), dtype=param.dtype))

    recipe: Recipe = tmodel.recipe
    for i, block in enumerate(tmodel.convs):
        conv = block[0]
        kernel, bias = kmodel.get_layer(f"conv{i}").get_weights()
        put(conv.weight, kernel.transpose(3, 2, 0, 1))  # (kh, kw, in, out) → (out, in, kh, kw)
        put(conv.bias, bias)
        if recipe.batchnorm != "none":
            bn = block[1]
            gamma, beta, mean, var = kmodel.get_layer(f"bn{i}").get_weights()
            for target, value in ((bn.weight, gamma), (bn.bias, beta),
                                  (bn.running_mean, mean), (bn.running_var, var)):
                put(target, value)
    if recipe.bidirectional:
        bi = kmodel.get_layer("bigru")
        layers = {"": bi.forward_layer, "_reverse": bi.backward_layer}
    else:
        layers = {"": kmodel.get_layer("gru")}
    for suffix, layer in layers.items():
        kernel, recurrent, bias = layer.get_weights()
        for name, value in keras_to_torch_gru(kernel, recurrent, bias,
                                              recipe.reset_after).items():
            put(getattr(tmodel.gru, name + suffix), value)
    kernel, bias = kmodel.get_layer("frame_prob").get_weights()
    put(tmodel.fc.weight, kernel.T)
    put(tmodel.fc.bias, bias)


def layer_outputs_keras(kmodel, x: np.ndarray) -> dict[str, np.ndarray]:
    """Outputs of the comparable layers of the Keras CRNN (NHWC for conv blocks)."""
    import keras

    names = [f"relu{i}" for i in range(3)] + [
        "bigru" if any(layer.name == "bigru" for layer in kmodel.layers) else "gru",
        "frame_prob", "clip_prob"]
    probe = keras.Model(kmodel.input, [kmodel.get_layer(n).output for n in names])
    outs = probe(x[..., None], training=False)
    return {n: keras.ops.convert_to_numpy(o)  # also detaches a PyTorch backend's tensors
            for n, o in zip(["conv1", "conv2", "conv3", "gru", "frame_prob", "clip_prob"],
                            outs)}


def layer_outputs_torch(tmodel, x: np.ndarray) -> dict[str, np.ndarray]:
    """The same layers of the PyTorch CRNN, conv blocks permuted to NHWC."""

    tmodel.eval()
    out = {}
    with torch.no_grad():
        h = torch.from_numpy(x[:, None]).contiguous(memory_format=torch.channels_last)
        for i, block in enumerate(tmodel.convs):
            h = block(h)
            out[f"conv{i + 1}"] = h.permute(0, 2, 3, 1).numpy()
        g = tmodel.gru(h.permute(0, 2, 3, 1).reshape(h.shape[0], h.shape[2], -1))
        out["gru"] = g.numpy()
        frames = torch.sigmoid(tmodel.fc(g))
        out["frame_prob"] = frames.numpy()
        out["clip_prob"] = pool_frames(frames, tmodel.recipe.pooling).numpy()
    return out


def parity_table(recipe: Recipe, seed: int = 0, batch: int = 4) -> list[tuple[str, float]]:
    """[(layer, max |keras − torch|)] for one random batch, with weights copied."""
    from utils.networks.model_keras import build_model as build_keras

    size = SIZES[recipe.model_size]
    x = np.random.default_rng(seed).standard_normal(
        (batch, size.n_frames, size.n_mels)).astype(np.float32)
    kmodel = build_keras(recipe, seed)
    tmodel = build_torch(recipe, seed + 1)  # different weights until copied
    copy_keras_to_torch(kmodel, tmodel)
    k, t = layer_outputs_keras(kmodel, x), layer_outputs_torch(tmodel, x)
    return [(name, float(np.abs(k[name] - t[name]).max())) for name in k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m utils.parity",
                                     description="Keras vs PyTorch CRNN, weights copied.")
    parser.add_argument("--recipe", default="keras_2017",
                        help="a preset name (keras_2017, pytorch) or a JSON recipe string")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not 0 <= args.seed < 2**31:  # a seed every framework accepts
        parser.error(f"--seed {args.seed}: expected an integer in [0, 2**31)")
    try:
        recipe = get_recipe(args.recipe)
    except ValueError as e:
        parser.error(str(e))
    table = parity_table(recipe, args.seed)
    print(f"recipe {args.recipe}: gate={recipe.gate_activation} "
          f"reset_after={recipe.reset_after} bidirectional={recipe.bidirectional}")
    print(f"{'layer':12s} max |keras - torch|")
    for name, d in table:
        print(f"{name:12s} {d:.3e}")
    print(f"max_abs_diff={max(d for _, d in table):.3e}")
    return 0
