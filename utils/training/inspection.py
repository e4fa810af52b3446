"""Look inside the CRNN: weights, activations, gradients and GRU gates, per layer.

Introduced in ``04_initialisation.ipynb`` (weights, activations and gradients at
initialisation); ``06_gate_activation.ipynb`` uses :func:`gru_gates` and
:func:`gate_saturation`, ``07_input_scaling.ipynb`` :func:`first_conv_output`. Everything
runs on the PyTorch model: notebook 03 showed that both frameworks build the same function
from the same weights, so what is seen here holds for the Keras model too.

Examples
--------
>>> import numpy as np
>>> from utils.networks.recipe import PYTORCH
>>> from utils.networks.model_torch import build_model
>>> w = weights_by_layer(build_model(PYTORCH, seed=0))
>>> list(w)[:3]
['conv1 kernel', 'conv1 bias', 'conv2 kernel']
>>> float(np.abs(w["conv1 kernel"]).max()) <= 1 / 3  # U(±1/√fan_in), fan_in = 9
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch import nn

from utils.networks.gru_torch import gate_fn
from utils.networks.model_torch import bce_loss, build_model, pool_frames
from utils.networks.recipe import Recipe


def _convs(model) -> list[nn.Conv2d]:
    return [m for m in model.convs.modules() if isinstance(m, nn.Conv2d)]


def weights_by_layer(model) -> dict[str, np.ndarray]:
    """Every weight tensor of a PyTorch CRNN, flattened, under a readable name."""
    out: dict[str, np.ndarray] = {}
    for i, conv in enumerate(_convs(model), start=1):
        out[f"conv{i} kernel"] = conv.weight.detach().numpy().ravel()
        out[f"conv{i} bias"] = conv.bias.detach().numpy().ravel()
    g = model.gru
    out["GRU input kernel"] = g.weight_ih_l0.detach().numpy().ravel()
    out["GRU recurrent kernel"] = g.weight_hh_l0.detach().numpy().ravel()
    out["GRU biases"] = torch.cat([g.bias_ih_l0, g.bias_hh_l0]).detach().numpy().ravel()
    out["output kernel"] = model.fc.weight.detach().numpy().ravel()
    out["output bias"] = model.fc.bias.detach().numpy().ravel()
    return out


def gru_inputs(model, x: torch.Tensor) -> torch.Tensor:
    """What the GRU reads: the flattened conv features, (batch, frames, features)."""
    h = model.convs(x)
    return h.permute(0, 2, 3, 1).reshape(h.shape[0], h.shape[2], -1)


def init_statistics(recipe: Recipe, x: np.ndarray, y: np.ndarray, seed: int = 0):
    """Activation and gradient statistics per layer of a freshly initialised model.

    ``x`` (batch, frames, mels) already scaled as the recipe says; ``y`` (batch, 17).
    Returns a DataFrame, one row per layer: the standard deviation of its output, the
    fraction of exact zeros after the ReLU, and the RMS gradient of its weights for one
    minibatch of the recipe's loss.
    """

    model = build_model(recipe, seed)
    model.train()
    xb = torch.from_numpy(np.ascontiguousarray(x[:, None], np.float32)).contiguous(
        memory_format=torch.channels_last)
    acts: dict[str, torch.Tensor] = {}
    hooks = [block.register_forward_hook(
        lambda _m, _i, out, name=f"conv{i}": acts.__setitem__(name, out.detach()))
        for i, block in enumerate(model.convs, start=1)]
    hooks.append(model.gru.register_forward_hook(
        lambda _m, _i, out: acts.__setitem__("GRU", out.detach())))
    frame = model.frame_probs(xb)

    loss = bce_loss(pool_frames(frame, recipe.pooling), torch.from_numpy(y), recipe.loss_guard)
    loss.backward()
    for h in hooks:
        h.remove()
    grads = {f"conv{i}": conv.weight.grad for i, conv in enumerate(_convs(model), start=1)}
    grads["GRU"] = torch.cat([model.gru.weight_ih_l0.grad.ravel(),
                              model.gru.weight_hh_l0.grad.ravel()])
    acts["output"] = frame.detach()
    grads["output"] = model.fc.weight.grad
    rows = []
    for name in ("conv1", "conv2", "conv3", "GRU", "output"):
        a = acts[name]
        rows.append({"layer": name, "output std": float(a.std()),
                     "zero after ReLU": float((a == 0).float().mean()) if name[:4] == "conv"
                     else np.nan,
                     "weight-gradient RMS": float(grads[name].pow(2).mean().sqrt())})
    return pd.DataFrame(rows).set_index("layer")


@torch.no_grad()
def gru_gates(model, x: np.ndarray, batch: int = 100) -> dict[str, np.ndarray]:
    """Reset (``r``) and update (``z``) gate values and hidden states (``h``) of the
    model's forward GRU for every clip, step and unit: arrays of shape (clips, frames, units).

    Recomputed step by step from the layer's weights with the layer's own gate function,
    so it shows what the trained model does on ``x`` (scaled features, (clips, frames, mels)).
    """
    model.eval()
    g = model.gru
    gate = gate_fn(g.gate_activation)
    hidden = g.hidden_size
    w_ih, w_hh, b_ih, b_hh = g.weight_ih_l0, g.weight_hh_l0, g.bias_ih_l0, g.bias_hh_l0
    rs, zs, hs = [], [], []
    for i in range(0, len(x), batch):
        xb = torch.from_numpy(np.ascontiguousarray(x[i:i + batch, None], np.float32))
        seq = gru_inputs(model, xb.contiguous(memory_format=torch.channels_last))
        h = seq.new_zeros(seq.shape[0], hidden)
        r_t, z_t, h_t = [], [], []
        for t in range(seq.shape[1]):
            gi = seq[:, t] @ w_ih.t() + b_ih
            gh = h @ w_hh.t() + b_hh
            r = gate(gi[:, :hidden] + gh[:, :hidden])
            z = gate(gi[:, hidden:2 * hidden] + gh[:, hidden:2 * hidden])
            if g.reset_after:
                n = torch.tanh(gi[:, 2 * hidden:] + r * gh[:, 2 * hidden:])
            else:
                n = torch.tanh(gi[:, 2 * hidden:] + (r * h) @ w_hh[2 * hidden:].t()
                               + b_hh[2 * hidden:])
            h = (1 - z) * n + z * h
            r_t.append(r)
            z_t.append(z)
            h_t.append(h)
        rs.append(torch.stack(r_t, 1).numpy())
        zs.append(torch.stack(z_t, 1).numpy())
        hs.append(torch.stack(h_t, 1).numpy())
    return {"r": np.concatenate(rs), "z": np.concatenate(zs), "h": np.concatenate(hs)}


def gate_saturation(values: np.ndarray, near: float = 0.01) -> dict[str, float]:
    """Fractions of gate values exactly 0, exactly 1, and within ``near`` of either.

    Examples
    --------
    >>> gate_saturation(np.array([0.0, 0.005, 0.5, 1.0]))
    {'exactly 0': 0.25, 'exactly 1': 0.25, 'within 0.01 of 0 or 1': 0.75}
    """
    v = np.asarray(values)
    return {"exactly 0": float(np.mean(v == 0)), "exactly 1": float(np.mean(v == 1)),
            f"within {near} of 0 or 1": float(np.mean((v < near) | (v > 1 - near)))}


@torch.no_grad()
def first_conv_output(recipe: Recipe, x: np.ndarray, seed: int = 0) -> np.ndarray:
    """Pre-activations of the first convolution (before BatchNorm, pooling and ReLU) of a
    freshly initialised model, flattened: what the input range does to the first layer."""
    model = build_model(recipe, seed)
    xb = torch.from_numpy(np.ascontiguousarray(x[:, None], np.float32)).contiguous(
        memory_format=torch.channels_last)
    return _convs(model)[0](xb).numpy().ravel()
