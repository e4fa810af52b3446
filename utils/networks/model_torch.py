"""The CRNN in PyTorch, every default taken from a :class:`~utils.networks.recipe.Recipe`.

Introduced in ``03_pytorch_port.ipynb``. Inputs are (batch, 1, frames, mels) tensors in
``channels_last`` memory format (on CPU, NCHW convolutions are 1.5–2× slower).
The GRU is :class:`utils.networks.gru_torch.GRULayer`: the fused kernel when the recipe allows it
(sigmoid gates, reset after), a Python loop otherwise.

Examples
--------
>>> import torch
>>> from utils.networks.recipe import PYTORCH
>>> model = build_model(PYTORCH, seed=0)
>>> model(torch.zeros(2, 1, 200, 40)).shape
torch.Size([2, 17])
"""

from __future__ import annotations

import math

import torch
from torch import nn

from utils.networks.architecture import OUTPUTS, POOL_EPS, POOLS, SIZES, frames_out, gru_input_size
from utils.networks.gru_torch import GRULayer
from utils.networks.recipe import Recipe

# BatchNorm conventions (FD §7): Keras momentum m is PyTorch's 1 − m.
BATCHNORM = {"keras": {"momentum": 0.01, "eps": 1e-3}, "torch": {"momentum": 0.1, "eps": 1e-5}}


def pool_frames(frame_prob: torch.Tensor, pooling: str) -> torch.Tensor:
    """Frame probabilities (batch, time, classes) → clip probabilities (batch, classes)."""
    if pooling == "max":
        return frame_prob.amax(dim=1)
    if pooling == "mean":
        return frame_prob.mean(dim=1)
    if pooling == "linear_softmax":  # Σp²/Σp (docs/sources.md#original-crnn)
        return (frame_prob * frame_prob).sum(1) / frame_prob.sum(1).clamp_min(POOL_EPS)
    raise ValueError(f"unknown pooling {pooling!r}")


class CRNN(nn.Module):
    """Three conv blocks, one GRU, per-frame sigmoid, clip pooling."""

    def __init__(self, recipe: Recipe):
        super().__init__()
        self.recipe = recipe
        size = SIZES[recipe.model_size]
        self.size = size
        blocks: list[nn.Module] = []
        c_in = 1
        for f, pool in zip(size.filters, POOLS):
            layers: list[nn.Module] = [nn.Conv2d(c_in, f, size.kernel, padding=size.kernel // 2)]
            if recipe.batchnorm != "none":
                layers.append(nn.BatchNorm2d(f, **BATCHNORM[recipe.batchnorm]))
            # max-pool before ReLU: the same function (ReLU is monotonic, so they commute),
            # but the ReLU and its backward touch 2-4x fewer elements.
            layers += [nn.MaxPool2d(pool), nn.ReLU(inplace=True)]
            blocks.append(nn.Sequential(*layers))
            c_in = f
        self.convs = nn.Sequential(*blocks)
        self.gru = GRULayer(gru_input_size(size), size.gru_units,
                            gate_activation=recipe.gate_activation,
                            reset_after=recipe.reset_after, bidirectional=recipe.bidirectional)
        self.fc = nn.Linear(size.gru_units * (2 if recipe.bidirectional else 1), OUTPUTS)
        self.n_frames_out = frames_out(size)

    def frame_probs(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, 1, frames, mels) → (batch, frames_out, 17) frame probabilities."""
        h = self.convs(x)  # (B, C, T', F')
        # Flatten in Keras' NHWC order (F', C) so that weights port one-to-one.
        h = h.permute(0, 2, 3, 1).reshape(h.shape[0], h.shape[2], -1)
        h = self.gru(h)
        return torch.sigmoid(self.fc(h))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return pool_frames(self.frame_probs(x), self.recipe.pooling)


def _uniform_fan_in(t: torch.Tensor, fan_in: int) -> None:
    bound = 1.0 / math.sqrt(fan_in)
    nn.init.uniform_(t, -bound, bound)


def init_weights(model: CRNN, recipe: Recipe) -> None:
    """Initialise every parameter as the recipe says (FD §1–§2), whatever PyTorch did."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            fan_in = m.weight[0].numel()
            if recipe.kernel_init == "keras":
                nn.init.xavier_uniform_(m.weight)  # Glorot: same fans as Keras for conv
            else:
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5))  # = U(±1/√fan_in)
            if recipe.bias_init == "keras":
                nn.init.zeros_(m.bias)
            else:
                _uniform_fan_in(m.bias, fan_in)
    model.gru.reset_parameters(kernel=recipe.gru_input_init,
                               recurrent=recipe.gru_recurrent_init, bias=recipe.gru_bias_init)


def build_model(recipe: Recipe, seed: int) -> CRNN:
    """A freshly initialised CRNN in ``channels_last`` format; same seed → same weights."""
    torch.manual_seed(seed)
    model = CRNN(recipe)
    init_weights(model, recipe)
    return model.to(memory_format=torch.channels_last)


def bce_loss(p: torch.Tensor, y: torch.Tensor, guard: str) -> torch.Tensor:
    """Binary cross-entropy on probabilities, mean over all elements (FD §12).

    ``keras``: p clipped to [1e-7, 1 − 1e-7] first (zero gradient beyond);
    ``torch``: ``BCELoss``, whose log is clamped at −100.
    """
    if guard == "keras":
        p = p.clamp(1e-7, 1 - 1e-7)
        return -(y * torch.log(p) + (1 - y) * torch.log1p(-p)).mean()
    if guard == "torch":
        return nn.functional.binary_cross_entropy(p, y)
    raise ValueError(f"unknown loss guard {guard!r}")


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
