"""The defaults audit: read the installed frameworks' defaults at runtime, compare with the lab.

Introduced in ``11_defaults_audit.ipynb``. Every lesson of the lab states a framework
default ("Keras' GRU uses sigmoid gates", "PyTorch's Adam adds ε = 1e-8 to the
bias-corrected √v", ...), cited from ``docs/sources.md#framework-defaults``
(abbreviated FD §N; the table there maps N to a section). Those statements hold for one set
of versions; this module checks them against the versions that are *installed* (Keras 3.15
on TensorFlow, torch 2.13).

Nothing here reads source text. Each probe instantiates a layer, optimizer or loss and
either inspects its public attributes or measures it numerically: the maximum of a large
freshly initialised weight matrix (FD §1–§2), one GRU step compared with the candidate
formulas (FD §3–§4), hard-sigmoid values (FD §3), BatchNorm running statistics after one
batch (FD §7), one Adam step on a tiny gradient (FD §8), two Nesterov SGD steps with a
learning-rate change in between (FD §6: at a constant rate the two formulas give the same
iterates), and the BCE loss and gradient at a saturated prediction (FD §12).

:data:`EXPECTED` lists what the lessons state, one :class:`Check` per default; :func:`audit`
runs one probe per check (a failing probe marks only its own row) and returns
:class:`AuditRow` objects; :func:`audit_table` and :func:`keras_vs_torch` turn them into
DataFrames for display. Rows whose key starts with ``preset.`` or ``lab.`` cross-check the
lab's own presets (:mod:`utils.networks.recipe`) and constants against the installed frameworks.

Examples
--------
>>> len(EXPECTED) >= 20
True
>>> sorted({c.framework for c in EXPECTED})
['keras', 'torch']
>>> next(c for c in EXPECTED if c.key == "torch.batchnorm.momentum").expected
0.1
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from utils.common.frameworks import quiet_tensorflow
from utils.lessons.plots import OKABE_ITO, caption
from utils.networks import optimizers, recipe

Compare = Literal["equal", "close", "bound"]


@dataclass(frozen=True)
class Check:
    """One default as the lessons state it.

    ``compare``: ``equal`` (exact, same type), ``close`` (floats within ``rel_tol`` or
    ``abs_tol``; element-wise for sequences) or ``bound`` (observed maxima of a uniform
    init: every value in [0.95·expected, expected]).
    """

    key: str
    framework: Literal["keras", "torch"]
    description: str
    expected: Any
    source: str
    compare: Compare = "equal"
    rel_tol: float = 1e-4
    abs_tol: float = 1e-12


@dataclass(frozen=True)
class AuditRow:
    """The outcome of one check on the installed versions."""

    key: str
    framework: str
    description: str
    expected: Any
    observed: Any
    ok: bool
    source: str


KERAS_BOUND_784_256 = math.sqrt(6 / (784 + 256))  # Glorot-uniform limit, FD §1 worked example
TORCH_BOUND_784 = 1 / math.sqrt(784)  # PyTorch U(±1/√fan_in), fan_in = 784
TORCH_BOUND_CONV = 1 / math.sqrt(16 * 3 * 3)  # Conv2d(16, 512, 3): fan_in = C_in·kh·kw = 144
GRU_HIDDEN = 256
TORCH_BOUND_GRU = 1 / math.sqrt(GRU_HIDDEN)
BOUND_FLOOR = 0.95  # a large uniform sample reaches 95 % of its bound (P(miss) < 1e-6)

EXPECTED: list[Check] = [
    # --- Keras 3: initialisation (FD §1-§2) -----------------------------------------------
    Check("keras.dense.kernel_initializer", "keras", "Dense kernel initializer class",
          "GlorotUniform", "FD §1"),
    Check("keras.dense.bias_initializer", "keras", "Dense bias initializer class", "Zeros",
          "FD §1"),
    Check("keras.dense.kernel_bound", "keras",
          "Dense 784→256: max |kernel| reaches the Glorot limit √(6/(784+256))",
          KERAS_BOUND_784_256, "FD §1", "bound"),
    Check("keras.conv2d.kernel_initializer", "keras", "Conv2D kernel initializer class",
          "GlorotUniform", "FD §1"),
    Check("keras.conv2d.bias_initializer", "keras", "Conv2D bias initializer class", "Zeros",
          "FD §1"),
    Check("keras.gru.kernel_initializer", "keras", "GRU input kernel initializer class",
          "GlorotUniform", "FD §2"),
    Check("keras.gru.recurrent_initializer", "keras", "GRU recurrent kernel initializer class",
          "Orthogonal", "FD §2"),
    Check("keras.gru.bias_initializer", "keras", "GRU bias initializer class", "Zeros", "FD §2"),
    # --- Keras 3: GRU gates (FD §3-§4) ----------------------------------------------------
    Check("keras.gru.recurrent_activation", "keras",
          "GRU recurrent_activation (Keras 3: sigmoid; Keras 2.0–2.2 used hard_sigmoid)",
          "sigmoid", "FD §3"),
    Check("keras.gru.reset_after", "keras",
          "GRU reset_after (Keras 3: True; Keras 2 default False)", True, "FD §4"),
    Check("keras.gru.step_formula", "keras",
          "one GRU step matches (gate, reset placement) of the candidate formulas",
          "sigmoid, reset after", "FD §3–§4"),
    Check("keras.hard_sigmoid.at_1", "keras",
          "keras.activations.hard_sigmoid(1.0) (Keras 2's 0.2x+0.5 gave 0.7)", 2 / 3, "FD §3",
          "close"),
    Check("keras.hard_sigmoid.at_2.5", "keras",
          "keras.activations.hard_sigmoid(2.5) (Keras 2's 0.2x+0.5 gave 1.0)", 11 / 12, "FD §3",
          "close"),
    Check("keras.hard_sigmoid.at_-2.5", "keras",
          "keras.activations.hard_sigmoid(−2.5) (Keras 2's 0.2x+0.5 gave 0.0)", 1 / 12, "FD §3",
          "close"),
    Check("keras.hard_sigmoid.slope", "keras",
          "hard_sigmoid slope (h(1) − h(−1))/2 (Keras 2: 0.2)", 1 / 6, "FD §3", "close"),
    # --- Keras 3: BatchNorm (FD §7) -------------------------------------------------------
    Check("keras.batchnorm.momentum", "keras",
          "BatchNormalization momentum (weight on the old running value)", 0.99, "FD §7",
          "close"),
    Check("keras.batchnorm.epsilon", "keras", "BatchNormalization epsilon", 1e-3, "FD §7",
          "close"),
    Check("keras.batchnorm.running_mean_1", "keras",
          "moving_mean after one training batch of ones (= 1 − momentum)", 0.01, "FD §7",
          "close", 1e-3),
    # --- Keras 3: optimizers (FD §6, §8) --------------------------------------------------
    Check("keras.adam.epsilon", "keras", "Adam epsilon", 1e-7, "FD §8", "close"),
    Check("keras.adam.epsilon_placement", "keras",
          "one Adam step on g = 10ε: ε added to the uncorrected √v (ε-hat) or the corrected one",
          "epsilon-hat", "FD §8"),
    Check("keras.rmsprop.learning_rate", "keras", "RMSprop learning_rate", 1e-3, "FD §8",
          "close"),
    Check("keras.rmsprop.rho", "keras", "RMSprop rho", 0.9, "FD §8", "close"),
    Check("keras.rmsprop.epsilon", "keras", "RMSprop epsilon", 1e-7, "FD §8", "close"),
    Check("keras.sgd.learning_rate", "keras", "SGD learning_rate", 0.01, "FD §6", "close"),
    Check("keras.sgd.nesterov_formula", "keras",
          "two Nesterov steps (η changes between them): v ← μv − ηg, θ ← θ + μv − ηg",
          "keras", "FD §6"),
    # --- Keras 3: loss (FD §12) -----------------------------------------------------------
    Check("keras.bce.clip_epsilon", "keras",
          "binary_crossentropy clip ε = exp(−loss) at p = 0, y = 1", 1e-7, "FD §12", "close",
          1e-3),
    Check("keras.bce.loss_p1_y0", "keras",
          "binary_crossentropy at p = 1, y = 0: −log(1 − float32(1 − 1e-7))",
          -math.log(2.0 ** -23), "FD §12", "close", 1e-3),
    Check("keras.bce.grad_p0", "keras",
          "d loss / d p at p = 0, y = 1 (the clip gives zero gradient)", 0.0, "FD §12", "close"),
    # --- PyTorch: initialisation (FD §1-§2) -----------------------------------------------
    Check("torch.linear.weight_bound", "torch",
          "nn.Linear(784, 256): max |weight| reaches 1/√fan_in", TORCH_BOUND_784, "FD §1",
          "bound"),
    Check("torch.linear.bias_bound", "torch",
          "nn.Linear(784, 256): bias is non-zero U(±1/√fan_in)", TORCH_BOUND_784, "FD §1",
          "bound"),
    Check("torch.conv2d.weight_bound", "torch",
          "nn.Conv2d(16, 512, 3): max |weight| reaches 1/√(16·3·3)", TORCH_BOUND_CONV, "FD §1",
          "bound"),
    Check("torch.conv2d.bias_bound", "torch",
          "nn.Conv2d(16, 512, 3): bias is non-zero U(±1/√fan_in)", TORCH_BOUND_CONV, "FD §1",
          "bound"),
    Check("torch.gru.param_bound", "torch",
          f"nn.GRU(64, {GRU_HIDDEN}): (smallest, largest) per-tensor max |p|, all U(±1/√H)",
          TORCH_BOUND_GRU, "FD §2", "bound"),
    # --- PyTorch: GRU gates (FD §3-§4) ----------------------------------------------------
    Check("torch.gru.gate_activation", "torch",
          "nn.GRU gate activation, identified from one step", "sigmoid", "FD §3"),
    Check("torch.gru.reset_after", "torch",
          "nn.GRU applies the reset gate after the recurrent matmul", True, "FD §4"),
    Check("torch.hardsigmoid.at_1", "torch", "F.hardsigmoid(1.0)", 2 / 3, "FD §3", "close"),
    Check("torch.hardsigmoid.slope", "torch", "F.hardsigmoid slope (h(1) − h(−1))/2", 1 / 6,
          "FD §3", "close"),
    # --- PyTorch: BatchNorm (FD §7) -------------------------------------------------------
    Check("torch.batchnorm.momentum", "torch",
          "BatchNorm2d momentum (weight on the NEW batch value)", 0.1, "FD §7", "close"),
    Check("torch.batchnorm.eps", "torch", "BatchNorm2d eps", 1e-5, "FD §7", "close"),
    Check("torch.batchnorm.running_mean_1", "torch",
          "running_mean after one training batch of ones (= momentum)", 0.1, "FD §7", "close",
          1e-3),
    # --- PyTorch: optimizers (FD §6, §8) --------------------------------------------------
    Check("torch.adam.eps", "torch", "Adam eps", 1e-8, "FD §8", "close"),
    Check("torch.adam.eps_placement", "torch",
          "one Adam step on g = 10ε: ε added to the uncorrected √v (ε-hat) or the corrected one",
          "bias-corrected", "FD §8"),
    Check("torch.rmsprop.lr", "torch", "RMSprop lr", 0.01, "FD §8", "close"),
    Check("torch.rmsprop.alpha", "torch", "RMSprop alpha", 0.99, "FD §8", "close"),
    Check("torch.rmsprop.eps", "torch", "RMSprop eps", 1e-8, "FD §8", "close"),
    Check("torch.sgd.lr", "torch", "SGD lr (recent versions; older ones required it)", 1e-3,
          "FD §6", "close"),
    Check("torch.sgd.nesterov_formula", "torch",
          "two Nesterov steps (η changes between them): b ← μb + g, θ ← θ − η(g + μb)",
          "pytorch", "FD §6"),
    # --- PyTorch: loss (FD §12) -----------------------------------------------------------
    Check("torch.bce.loss_p0_y1", "torch", "BCELoss at p = 0, y = 1 (log clamped at −100)",
          100.0, "FD §12", "close"),
    Check("torch.bce.grad_p0", "torch",
          "BCELoss d loss / d p at p = 0, y = 1: finite, −1/1e-12 (FD marks the 1e-12 ⚠)",
          -1e12, "FD §12", "close", 1e-3),
    # --- the lab's presets and constants against the installed versions -------------------
    Check("preset.pytorch.gate_activation", "torch",
          "PYTORCH.gate_activation matches nn.GRU", "PYTORCH: sigmoid = torch: sigmoid",
          "FD §3; utils/recipe.py"),
    Check("preset.pytorch.reset_after", "torch", "PYTORCH.reset_after matches nn.GRU",
          "PYTORCH: True = torch: True", "FD §4; utils/recipe.py"),
    Check("preset.pytorch.momentum_formula", "torch",
          "PYTORCH.momentum_formula matches torch.optim.SGD(nesterov=True)",
          "PYTORCH: pytorch = torch: pytorch", "FD §6; utils/recipe.py"),
    Check("preset.keras_2017.gate_activation", "keras",
          "KERAS_2017 deliberately differs from installed Keras 3: Keras 2.0–2.2 GRUs used "
          "hard_sigmoid = clip(0.2x + 0.5)",
          "KERAS_2017: hard_sigmoid_keras2 ≠ Keras 3: sigmoid", "FD §3; utils/recipe.py"),
    Check("preset.keras_2017.reset_after", "keras",
          "KERAS_2017 deliberately differs from installed Keras 3: Keras 2 GRUs reset before "
          "the recurrent matmul",
          "KERAS_2017: False ≠ Keras 3: True", "FD §4; utils/recipe.py"),
    Check("preset.keras_2017.momentum_formula", "keras",
          "KERAS_2017.momentum_formula matches keras.optimizers.SGD(nesterov=True)",
          "KERAS_2017: keras = Keras 3: keras", "FD §6; utils/recipe.py"),
    Check("lab.keras_adam_epsilon", "keras",
          "utils.networks.optimizers.KERAS_ADAM_EPSILON equals keras Adam's default", 1e-7,
          "FD §8; utils/optimizers.py", "close"),
    Check("lab.torch_adam_epsilon", "torch",
          "utils.networks.optimizers.TORCH_ADAM_EPSILON equals torch Adam's default", 1e-8,
          "FD §8; utils/optimizers.py", "close"),
    Check("lab.hard_sigmoid_keras3", "keras",
          "max |utils.networks.model_keras.hard_sigmoid_keras3 − keras hard_sigmoid| "
          "on [−4, 4]", 0.0,
          "FD §3; utils/model_keras.py", "close", abs_tol=1e-6),
    Check("lab.batchnorm_keras", "keras",
          "utils.networks.model_keras.BATCHNORM['keras'] (momentum, epsilon) = Keras defaults",
          (0.99, 1e-3), "FD §7; utils/model_keras.py", "close"),
    Check("lab.batchnorm_torch", "torch",
          "utils.networks.model_torch.BATCHNORM['torch'] (momentum, eps) = torch defaults",
          (0.1, 1e-5), "FD §7; utils/model_torch.py", "close"),
]


# --- framework access -----------------------------------------------------------------------
def _keras():
    """Keras 3 on TensorFlow, imported with TensorFlow's start-up messages silenced."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")

    quiet_tensorflow()
    import keras

    return keras


def _np(x) -> np.ndarray:
    if hasattr(x, "numpy"):  # Keras/TF variables and tensors (np.array(variable) warns)
        return np.asarray(x.numpy(), dtype=np.float64)
    return np.asarray(_keras().ops.convert_to_numpy(x), dtype=np.float64)


def versions() -> dict[str, str]:
    """The installed versions that the audit reads."""
    import torch

    keras = _keras()
    return {"keras": keras.__version__, "keras backend": keras.backend.backend(),
            "tensorflow": __import__("tensorflow").__version__, "torch": torch.__version__}


# --- shared probe helpers (cached per audit run) --------------------------------------------
_GATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": lambda a: 1 / (1 + np.exp(-a)),
    "hard_sigmoid_keras2": lambda a: np.clip(0.2 * a + 0.5, 0, 1),
    "hard_sigmoid_keras3": lambda a: np.clip(a / 6 + 0.5, 0, 1),
}


def _gru_candidates(x, h, w, u, bx, bh) -> dict[tuple[str, bool], np.ndarray]:
    """h_1 for every (gate activation, reset_after) hypothesis; x·W convention, gates z, r, h.

    ``w``/``u``/``bx``/``bh`` map a gate name to its input kernel, recurrent kernel, input
    bias and recurrent bias. Both frameworks update h = z⊙h₀ + (1 − z)⊙ĥ (FD §5).
    """
    out = {}
    for name, act in _GATES.items():
        z = act(x @ w["z"] + bx["z"] + h @ u["z"] + bh["z"])
        r = act(x @ w["r"] + bx["r"] + h @ u["r"] + bh["r"])
        for after in (True, False):
            if after:
                cand = np.tanh(x @ w["h"] + bx["h"] + r * (h @ u["h"] + bh["h"]))
            else:
                cand = np.tanh(x @ w["h"] + bx["h"] + (r * h) @ u["h"] + bh["h"])
            out[(name, after)] = z * h + (1 - z) * cand
    return out


def _identify(observed: np.ndarray, candidates: dict, atol: float) -> tuple[str, bool] | str:
    hits = [k for k, v in candidates.items() if np.max(np.abs(v - observed)) < atol]
    if len(hits) == 1:
        return hits[0]
    return f"{len(hits)} formulas match"


@lru_cache(maxsize=1)
def _keras_gru_formula() -> tuple[str, bool] | str:
    """Run one step of a default ``keras.layers.GRU`` with random weights; name its formula."""
    keras = _keras()
    rng = np.random.default_rng(0)
    n_in, units = 4, 5
    x = rng.normal(size=(1, n_in))
    h0 = rng.normal(size=(1, units))
    layer = keras.layers.GRU(units)
    xs = x[:, None, :].astype("float32")
    layer(xs, initial_state=[h0.astype("float32")])
    new = [rng.normal(scale=0.8, size=wt.shape) for wt in layer.get_weights()]
    layer.set_weights([v.astype("float32") for v in new])
    observed = _np(layer(xs, initial_state=[h0.astype("float32")]))
    kernel, recurrent, bias = new
    bias = bias if bias.ndim == 2 else np.stack([bias, np.zeros_like(bias)])
    order = ("z", "r", "h")  # Keras gate order (FD §5)
    w = {g: kernel[:, i * units:(i + 1) * units] for i, g in enumerate(order)}
    u = {g: recurrent[:, i * units:(i + 1) * units] for i, g in enumerate(order)}
    bx = {g: bias[0, i * units:(i + 1) * units] for i, g in enumerate(order)}
    bh = {g: bias[1, i * units:(i + 1) * units] for i, g in enumerate(order)}
    return _identify(observed, _gru_candidates(x, h0, w, u, bx, bh), atol=1e-5)


@lru_cache(maxsize=1)
def _torch_gru_formula() -> tuple[str, bool] | str:
    """Run one step of ``torch.nn.GRU`` (float64, random weights); name its formula."""
    import torch

    n_in, hidden = 4, 5
    with torch.random.fork_rng():
        torch.manual_seed(0)
        gru = torch.nn.GRU(n_in, hidden).double()
        for p in gru.parameters():
            torch.nn.init.normal_(p, std=0.8)
        x = torch.randn(1, 1, n_in, dtype=torch.float64)
        h0 = torch.randn(1, 1, hidden, dtype=torch.float64)
    with torch.no_grad():
        observed = gru(x, h0)[1][0].numpy()
    order = ("r", "z", "h")  # PyTorch gate order [r, z, n] (FD §5); W·x convention
    p = {k: v.detach().numpy() for k, v in gru.named_parameters()}

    def block(a, i):
        return a[i * hidden:(i + 1) * hidden]

    w = {g: block(p["weight_ih_l0"], i).T for i, g in enumerate(order)}
    u = {g: block(p["weight_hh_l0"], i).T for i, g in enumerate(order)}
    bx = {g: block(p["bias_ih_l0"], i) for i, g in enumerate(order)}
    bh = {g: block(p["bias_hh_l0"], i) for i, g in enumerate(order)}
    return _identify(observed, _gru_candidates(x[0].numpy(), h0[0].numpy(), w, u, bx, bh),
                     atol=1e-10)


def _gru_part(formula, i: int):
    if isinstance(formula, str):
        raise RuntimeError(f"GRU step matches no single candidate formula ({formula})")
    return formula[i]


def _keras_hard_sigmoid(xs) -> np.ndarray:
    keras = _keras()
    return _np(keras.activations.hard_sigmoid(np.asarray(xs, dtype="float32")))


def _torch_hardsigmoid(xs) -> np.ndarray:
    import torch

    return torch.nn.functional.hardsigmoid(torch.tensor(xs, dtype=torch.float64)).numpy()


# Adam: one step from θ = 0 on g = 10ε. ε-hat (Keras): lr·√(1−β₂)·g / (√(1−β₂)·|g| + ε);
# bias-corrected (PyTorch): lr·g / (|g| + ε). They differ by ~4× at g = 10ε (FD §8).
def _adam_formulas(lr, beta_2, eps, g) -> dict[str, float]:
    c = math.sqrt(1 - beta_2)
    return {"epsilon-hat": -lr * c * g / (c * abs(g) + eps),
            "bias-corrected": -lr * g / (abs(g) + eps)}


def _classify(observed: float, formulas: dict[str, float], rel_tol: float = 1e-3) -> str:
    hits = [name for name, v in formulas.items() if math.isclose(observed, v, rel_tol=rel_tol)]
    if len(hits) == 1:
        return hits[0]
    return f"{observed:.6g} matches {len(hits)} formulas ({formulas})"


def _keras_adam_placement() -> str:
    keras = _keras()
    opt = keras.optimizers.Adam()
    var = keras.Variable(np.zeros(1, "float32"))
    g = 10 * opt.epsilon
    opt.apply_gradients([(keras.ops.convert_to_tensor(np.array([g], "float32")), var)])
    return _classify(float(_np(var)[0]), _adam_formulas(float(_np(opt.learning_rate)),
                                                        opt.beta_2, opt.epsilon, g))


def _torch_adam_placement() -> str:
    import torch

    p = torch.zeros(1, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([p])
    d = opt.defaults
    g = 10 * d["eps"]
    p.grad = torch.full_like(p, g)
    opt.step()
    return _classify(float(p.detach()[0]), _adam_formulas(d["lr"], d["betas"][1], d["eps"], g))


# Nesterov SGD on f(θ) = θ²/2 (g = θ) from θ = 1, μ = 0.9, η = 0.1 then 0.01. The two
# formulas give identical iterates at a constant η (FD §6), so η must change between steps.
SGD_PROBE = {"theta0": 1.0, "momentum": 0.9, "lrs": (0.1, 0.01)}


def _nesterov_formulas() -> dict[str, float]:
    mu, lrs = SGD_PROBE["momentum"], SGD_PROBE["lrs"]
    th, v = SGD_PROBE["theta0"], 0.0
    for lr in lrs:  # Keras: v ← μv − ηg; θ ← θ + μv − ηg
        g = th
        v = mu * v - lr * g
        th = th + mu * v - lr * g
    keras_theta = th
    th, b = SGD_PROBE["theta0"], None
    for lr in lrs:  # PyTorch: b ← μb + g (b₁ = g); θ ← θ − η(g + μb)
        g = th
        b = g if b is None else mu * b + g
        th = th - lr * (g + mu * b)
    return {"keras": keras_theta, "pytorch": th}


def _keras_nesterov() -> str:
    keras = _keras()
    lrs = SGD_PROBE["lrs"]
    opt = keras.optimizers.SGD(learning_rate=lrs[0], momentum=SGD_PROBE["momentum"],
                               nesterov=True)
    var = keras.Variable(np.array([SGD_PROBE["theta0"]], "float32"))
    for lr in lrs:
        opt.learning_rate = lr
        opt.apply_gradients([(keras.ops.convert_to_tensor(_np(var).astype("float32")), var)])
    return _classify(float(_np(var)[0]), _nesterov_formulas(), rel_tol=1e-5)


def _torch_nesterov() -> str:
    import torch

    lrs = SGD_PROBE["lrs"]
    p = torch.tensor([SGD_PROBE["theta0"]], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lrs[0], momentum=SGD_PROBE["momentum"], nesterov=True)
    for lr in lrs:
        opt.param_groups[0]["lr"] = lr
        p.grad = p.detach().clone()
        opt.step()
    return _classify(float(p.detach()[0]), _nesterov_formulas(), rel_tol=1e-9)


def _keras_init_name(layer_name: str, attr: str) -> str:
    keras = _keras()
    layer = {"dense": lambda: keras.layers.Dense(4), "conv2d": lambda: keras.layers.Conv2D(4, 3),
             "gru": lambda: keras.layers.GRU(4)}[layer_name]()
    return type(getattr(layer, attr)).__name__


def _keras_dense_bound() -> float:
    keras = _keras()
    layer = keras.layers.Dense(256)
    layer.build((None, 784))
    return float(np.abs(_np(layer.kernel)).max())


def _torch_max_abs(make: Callable, attr: str) -> float:
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(0)
        module = make(torch.nn)
    return float(getattr(module, attr).detach().abs().max())


def _torch_gru_bounds() -> tuple[float, float]:
    import torch

    with torch.random.fork_rng():
        torch.manual_seed(0)
        gru = torch.nn.GRU(64, GRU_HIDDEN)
    maxima = [float(p.detach().abs().max()) for p in gru.parameters()]
    return (min(maxima), max(maxima))


def _keras_bn_running_mean() -> float:
    keras = _keras()
    bn = keras.layers.BatchNormalization()
    bn(np.ones((8, 3), "float32"), training=True)
    return float(_np(bn.moving_mean)[0])


def _torch_bn_running_mean() -> float:
    import torch

    bn = torch.nn.BatchNorm2d(3)
    bn.train()
    bn(torch.ones(4, 3, 2, 2))
    return float(bn.running_mean[0])


def _keras_bce(y: float, p: float) -> float:
    keras = _keras()
    loss = keras.losses.binary_crossentropy(np.array([[y]], "float32"), np.array([[p]], "float32"))
    return float(_np(loss).reshape(-1)[0])


def _keras_bce_grad_p0() -> float:
    tf = __import__("tensorflow")
    keras = _keras()
    p = tf.Variable([[0.0]])
    with tf.GradientTape() as tape:
        loss = keras.losses.binary_crossentropy(tf.constant([[1.0]]), p)
    return float(tape.gradient(loss, p).numpy().reshape(-1)[0])


def _torch_bce(grad: bool) -> float:
    import torch

    p = torch.zeros(1, requires_grad=True)
    loss = torch.nn.BCELoss()(p, torch.ones(1))
    if not grad:
        return float(loss.detach())
    loss.backward()
    return float(p.grad[0])


def _torch_gru_gate() -> str:
    return _gru_part(_torch_gru_formula(), 0)


def _keras_gate() -> str:
    """The name Keras serialises a default GRU's ``recurrent_activation`` under."""
    keras = _keras()
    name = keras.activations.serialize(keras.layers.GRU(4).recurrent_activation)
    return name if isinstance(name, str) else str(name)


def _keras_gate_name() -> str:
    """The installed Keras GRU gate as a :class:`~utils.networks.recipe.Recipe` gate name."""
    name = _keras_gate()
    return {"hard_sigmoid": "hard_sigmoid_keras3"}.get(name, name)


def _recipe_row(recipe_name: str, field: str, framework_label: str, installed) -> str:
    value = getattr(recipe.RECIPES[recipe_name], field)
    rel = "=" if value == installed else "≠"
    return f"{recipe_name.upper()}: {value} {rel} {framework_label}: {installed}"


def _lab_hard_sigmoid_gap() -> float:
    from utils.networks.model_keras import hard_sigmoid_keras3

    xs = np.linspace(-4, 4, 33).astype("float32")
    return float(np.abs(_np(hard_sigmoid_keras3(xs)) - _keras_hard_sigmoid(xs)).max())


def _lab_bn(framework: str) -> tuple[float, float]:
    if framework == "keras":
        from utils.networks.model_keras import BATCHNORM

        lab = BATCHNORM["keras"]
        return (lab["momentum"], lab["epsilon"])
    from utils.networks.model_torch import BATCHNORM as TORCH_BN

    lab = TORCH_BN["torch"]
    return (lab["momentum"], lab["eps"])


def _lab_bn_check(framework: str):
    """The lab's BatchNorm constants, or a message naming the mismatch with the framework."""
    lab = _lab_bn(framework)
    if framework == "keras":
        bn = _keras().layers.BatchNormalization()
        installed = (bn.momentum, bn.epsilon)
    else:
        import torch

        bn = torch.nn.BatchNorm2d(3)
        installed = (bn.momentum, bn.eps)
    if not all(math.isclose(a, b, rel_tol=1e-9) for a, b in zip(lab, installed)):
        return f"lab {lab} vs installed {installed}"
    return lab


def _keras_attr(factory: str, attr: str) -> float:
    keras = _keras()
    obj = {"bn": keras.layers.BatchNormalization, "adam": keras.optimizers.Adam,
           "rmsprop": keras.optimizers.RMSprop, "sgd": keras.optimizers.SGD}[factory]()
    value = getattr(obj, attr)
    return float(_np(value)) if attr == "learning_rate" else float(value)


def _torch_default(factory: str, attr: str) -> float:
    import torch

    if factory == "bn":
        return float(getattr(torch.nn.BatchNorm2d(3), attr))
    p = torch.zeros(1, requires_grad=True)
    cls = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop,
           "sgd": torch.optim.SGD}[factory]
    return float(cls([p]).defaults[attr])


def _lab_eps(name: str, framework: str):
    lab = getattr(optimizers, name)
    installed = (_keras_attr("adam", "epsilon") if framework == "keras"
                 else _torch_default("adam", "eps"))
    return lab if math.isclose(lab, installed, rel_tol=1e-9) else f"lab {lab} vs {installed}"


# One probe per check key: a zero-argument function returning the observed value.
PROBES: dict[str, Callable[[], Any]] = {
    "keras.dense.kernel_initializer": lambda: _keras_init_name("dense", "kernel_initializer"),
    "keras.dense.bias_initializer": lambda: _keras_init_name("dense", "bias_initializer"),
    "keras.dense.kernel_bound": _keras_dense_bound,
    "keras.conv2d.kernel_initializer": lambda: _keras_init_name("conv2d", "kernel_initializer"),
    "keras.conv2d.bias_initializer": lambda: _keras_init_name("conv2d", "bias_initializer"),
    "keras.gru.kernel_initializer": lambda: _keras_init_name("gru", "kernel_initializer"),
    "keras.gru.recurrent_initializer": lambda: _keras_init_name("gru", "recurrent_initializer"),
    "keras.gru.bias_initializer": lambda: _keras_init_name("gru", "bias_initializer"),
    "keras.gru.recurrent_activation": _keras_gate,
    "keras.gru.reset_after": lambda: _keras().layers.GRU(4).reset_after,
    "keras.gru.step_formula": lambda: "{}, reset {}".format(
        _gru_part(_keras_gru_formula(), 0),
        "after" if _gru_part(_keras_gru_formula(), 1) else "before"),
    "keras.hard_sigmoid.at_1": lambda: float(_keras_hard_sigmoid([1.0])[0]),
    "keras.hard_sigmoid.at_2.5": lambda: float(_keras_hard_sigmoid([2.5])[0]),
    "keras.hard_sigmoid.at_-2.5": lambda: float(_keras_hard_sigmoid([-2.5])[0]),
    "keras.hard_sigmoid.slope": lambda: float(np.diff(_keras_hard_sigmoid([-1.0, 1.0]))[0] / 2),
    "keras.batchnorm.momentum": lambda: _keras_attr("bn", "momentum"),
    "keras.batchnorm.epsilon": lambda: _keras_attr("bn", "epsilon"),
    "keras.batchnorm.running_mean_1": _keras_bn_running_mean,
    "keras.adam.epsilon": lambda: _keras_attr("adam", "epsilon"),
    "keras.adam.epsilon_placement": _keras_adam_placement,
    "keras.rmsprop.learning_rate": lambda: _keras_attr("rmsprop", "learning_rate"),
    "keras.rmsprop.rho": lambda: _keras_attr("rmsprop", "rho"),
    "keras.rmsprop.epsilon": lambda: _keras_attr("rmsprop", "epsilon"),
    "keras.sgd.learning_rate": lambda: _keras_attr("sgd", "learning_rate"),
    "keras.sgd.nesterov_formula": _keras_nesterov,
    "keras.bce.clip_epsilon": lambda: math.exp(-_keras_bce(1.0, 0.0)),
    "keras.bce.loss_p1_y0": lambda: _keras_bce(0.0, 1.0),
    "keras.bce.grad_p0": _keras_bce_grad_p0,
    "torch.linear.weight_bound": lambda: _torch_max_abs(lambda nn: nn.Linear(784, 256),
                                                        "weight"),
    "torch.linear.bias_bound": lambda: _torch_max_abs(lambda nn: nn.Linear(784, 256), "bias"),
    "torch.conv2d.weight_bound": lambda: _torch_max_abs(lambda nn: nn.Conv2d(16, 512, 3),
                                                        "weight"),
    "torch.conv2d.bias_bound": lambda: _torch_max_abs(lambda nn: nn.Conv2d(16, 512, 3), "bias"),
    "torch.gru.param_bound": _torch_gru_bounds,
    "torch.gru.gate_activation": _torch_gru_gate,
    "torch.gru.reset_after": lambda: _gru_part(_torch_gru_formula(), 1),
    "torch.hardsigmoid.at_1": lambda: float(_torch_hardsigmoid([1.0])[0]),
    "torch.hardsigmoid.slope": lambda: float(np.diff(_torch_hardsigmoid([-1.0, 1.0]))[0] / 2),
    "torch.batchnorm.momentum": lambda: _torch_default("bn", "momentum"),
    "torch.batchnorm.eps": lambda: _torch_default("bn", "eps"),
    "torch.batchnorm.running_mean_1": _torch_bn_running_mean,
    "torch.adam.eps": lambda: _torch_default("adam", "eps"),
    "torch.adam.eps_placement": _torch_adam_placement,
    "torch.rmsprop.lr": lambda: _torch_default("rmsprop", "lr"),
    "torch.rmsprop.alpha": lambda: _torch_default("rmsprop", "alpha"),
    "torch.rmsprop.eps": lambda: _torch_default("rmsprop", "eps"),
    "torch.sgd.lr": lambda: _torch_default("sgd", "lr"),
    "torch.sgd.nesterov_formula": _torch_nesterov,
    "torch.bce.loss_p0_y1": lambda: _torch_bce(grad=False),
    "torch.bce.grad_p0": lambda: _torch_bce(grad=True),
    "preset.pytorch.gate_activation": lambda: _recipe_row("pytorch", "gate_activation", "torch",
                                                          _torch_gru_gate()),
    "preset.pytorch.reset_after": lambda: _recipe_row(
        "pytorch", "reset_after", "torch", _gru_part(_torch_gru_formula(), 1)),
    "preset.pytorch.momentum_formula": lambda: _recipe_row("pytorch", "momentum_formula",
                                                           "torch", _torch_nesterov()),
    "preset.keras_2017.gate_activation": lambda: _recipe_row(
        "keras_2017", "gate_activation", "Keras 3", _keras_gate_name()),
    "preset.keras_2017.reset_after": lambda: _recipe_row(
        "keras_2017", "reset_after", "Keras 3", _keras().layers.GRU(4).reset_after),
    "preset.keras_2017.momentum_formula": lambda: _recipe_row(
        "keras_2017", "momentum_formula", "Keras 3", _keras_nesterov()),
    "lab.keras_adam_epsilon": lambda: _lab_eps("KERAS_ADAM_EPSILON", "keras"),
    "lab.torch_adam_epsilon": lambda: _lab_eps("TORCH_ADAM_EPSILON", "torch"),
    "lab.hard_sigmoid_keras3": _lab_hard_sigmoid_gap,
    "lab.batchnorm_keras": lambda: _lab_bn_check("keras"),
    "lab.batchnorm_torch": lambda: _lab_bn_check("torch"),
}


# --- comparison -----------------------------------------------------------------------------
def _is_number(x) -> bool:
    return isinstance(x, (int, float, np.floating, np.integer)) and not isinstance(x, bool)


def matches(check: Check, observed: Any) -> bool:
    """Whether ``observed`` agrees with ``check.expected`` under ``check.compare``."""
    exp = check.expected
    if check.compare == "equal":
        return type(observed) is type(exp) and observed == exp
    obs_seq = observed if isinstance(observed, (tuple, list)) else (observed,)
    if not all(_is_number(v) for v in obs_seq):
        return False
    if check.compare == "bound":
        return all(BOUND_FLOOR * exp <= v <= exp * (1 + 1e-6) for v in obs_seq)
    exp_seq = exp if isinstance(exp, (tuple, list)) else (exp,)
    return len(obs_seq) == len(exp_seq) and all(
        math.isclose(float(o), float(e), rel_tol=check.rel_tol, abs_tol=check.abs_tol)
        for o, e in zip(obs_seq, exp_seq))


def audit(checks: Sequence[Check] | None = None) -> list[AuditRow]:
    """Run every check's probe on the installed frameworks (default: :data:`EXPECTED`).

    A probe that raises gives a not-ok row whose ``observed`` names the error; the other
    rows are unaffected.
    """
    checks = EXPECTED if checks is None else checks
    _keras_gru_formula.cache_clear()
    _torch_gru_formula.cache_clear()
    rows = []
    for check in checks:
        probe = PROBES.get(check.key)
        try:
            if probe is None:
                raise KeyError(f"no probe for check {check.key!r}")
            observed = probe()
            ok = matches(check, observed)
        except Exception as e:  # one failing probe must not hide the others
            observed, ok = f"probe failed: {type(e).__name__}: {e}", False
        rows.append(AuditRow(check.key, check.framework, check.description, check.expected,
                             observed, ok, check.source))
    return rows


def _show(v: Any) -> str:
    if isinstance(v, bool) or isinstance(v, str):
        return str(v)
    if _is_number(v):
        return f"{float(v):.6g}"
    if isinstance(v, (tuple, list)):
        return "(" + ", ".join(_show(x) for x in v) + ")"
    return repr(v)


def audit_table(rows: Sequence[AuditRow] | None = None):
    """The audit as a DataFrame (one row per check; values shown as short strings)."""

    rows = audit() if rows is None else rows
    return pd.DataFrame([{"key": r.key, "framework": r.framework, "description": r.description,
                          "expected": _show(r.expected), "observed": _show(r.observed),
                          "ok": r.ok, "source": r.source} for r in rows])


# (what, keras key, torch key, FD section): corresponding defaults side by side.
PAIRS: list[tuple[str, str, str, str]] = [
    ("Dense/Linear 784→256: max |kernel| at init", "keras.dense.kernel_bound",
     "torch.linear.weight_bound", "FD §1"),
    ("Dense/Linear bias init", "keras.dense.bias_initializer", "torch.linear.bias_bound",
     "FD §1"),
    ("GRU recurrent kernel init", "keras.gru.recurrent_initializer", "torch.gru.param_bound",
     "FD §2"),
    ("GRU gate activation", "keras.gru.recurrent_activation", "torch.gru.gate_activation",
     "FD §3"),
    ("hard sigmoid slope", "keras.hard_sigmoid.slope", "torch.hardsigmoid.slope", "FD §3"),
    ("hard sigmoid at 1.0", "keras.hard_sigmoid.at_1", "torch.hardsigmoid.at_1", "FD §3"),
    ("GRU reset_after", "keras.gru.reset_after", "torch.gru.reset_after", "FD §4"),
    ("BatchNorm momentum (as each framework writes it)", "keras.batchnorm.momentum",
     "torch.batchnorm.momentum", "FD §7"),
    ("BatchNorm running mean after one batch of ones", "keras.batchnorm.running_mean_1",
     "torch.batchnorm.running_mean_1", "FD §7"),
    ("BatchNorm epsilon", "keras.batchnorm.epsilon", "torch.batchnorm.eps", "FD §7"),
    ("Adam epsilon", "keras.adam.epsilon", "torch.adam.eps", "FD §8"),
    ("Adam epsilon placement", "keras.adam.epsilon_placement", "torch.adam.eps_placement",
     "FD §8"),
    ("RMSprop learning rate", "keras.rmsprop.learning_rate", "torch.rmsprop.lr", "FD §8"),
    ("RMSprop decay (rho / alpha)", "keras.rmsprop.rho", "torch.rmsprop.alpha", "FD §8"),
    ("RMSprop epsilon", "keras.rmsprop.epsilon", "torch.rmsprop.eps", "FD §8"),
    ("SGD default learning rate", "keras.sgd.learning_rate", "torch.sgd.lr", "FD §6"),
    ("SGD Nesterov formula (same iterates while η is constant)", "keras.sgd.nesterov_formula",
     "torch.sgd.nesterov_formula", "FD §6"),
    ("BCE loss at p = 0, y = 1", "keras.bce.clip_epsilon", "torch.bce.loss_p0_y1", "FD §12"),
    ("BCE gradient at p = 0, y = 1", "keras.bce.grad_p0", "torch.bce.grad_p0", "FD §12"),
]

_FORMULA_TEXT = {"keras": "v ← μv − ηg; θ ← θ + μv − ηg",
                 "pytorch": "b ← μb + g; θ ← θ − η(g + μb)"}


def _pair_value(key: str, observed: Any) -> str:
    """A readable cell for :func:`keras_vs_torch` (a few keys get their formula spelled out)."""
    if isinstance(observed, str) and observed.startswith("probe failed"):
        return observed
    if key.endswith("nesterov_formula"):
        return _FORMULA_TEXT.get(observed, str(observed))
    if key == "keras.bce.clip_epsilon":
        return f"{-math.log(observed):.2f} (p clipped to ε = {observed:.0e})"
    if key == "torch.bce.loss_p0_y1":
        return f"{observed:.2f} (log clamped at −100)"
    if key in ("torch.linear.bias_bound",):
        return f"U(±1/√fan_in), max |b| = {observed:.4f}"
    if key == "torch.gru.param_bound":
        return "U(±1/√H) on all weights and biases"
    if key.endswith(("kernel_bound", "weight_bound")):
        return f"{observed:.4f}"
    if _is_number(observed):
        return f"{float(observed):.4g}"
    return str(observed)


def keras_vs_torch(rows: Sequence[AuditRow] | None = None):
    """Installed Keras and PyTorch defaults side by side, with ``same`` = they agree.

    Columns: ``default``, ``keras``, ``torch``, ``same``, ``source``.
    """

    rows = audit() if rows is None else rows
    observed = {r.key: r.observed for r in rows}
    out = []
    for what, k_key, t_key, source in PAIRS:
        k = _pair_value(k_key, observed.get(k_key, "not audited"))
        t = _pair_value(t_key, observed.get(t_key, "not audited"))
        out.append({"default": what, "keras": k, "torch": t, "same": k == t, "source": source})
    return pd.DataFrame(out)


def plot_hard_sigmoids(ax=None):
    """The installed gate curves (Keras 3 ``hard_sigmoid``, torch ``hardsigmoid``, sigmoid)
    beside the Keras 2 formula clip(0.2x + 0.5), which a Keras-2 config no longer gets."""

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 3.6))
    xs = np.linspace(-5, 5, 201)
    ax.plot(xs, _GATES["sigmoid"](xs), color=OKABE_ITO["black"], lw=1.5, label="sigmoid")
    ax.plot(xs, _GATES["hard_sigmoid_keras2"](xs), "--", color=OKABE_ITO["vermillion"], lw=1.5,
            label="Keras 2 hard_sigmoid: clip(0.2x + 0.5)")
    ax.plot(xs, _keras_hard_sigmoid(xs), color=OKABE_ITO["blue"], lw=3, alpha=0.6,
            label="installed keras.activations.hard_sigmoid")
    ax.plot(xs, _torch_hardsigmoid(xs), ":", color=OKABE_ITO["orange"], lw=2,
            label="installed torch F.hardsigmoid")
    ax.set_xlabel("pre-activation x")
    ax.set_ylabel("gate value")
    ax.set_title("GRU gate curves as installed (FD §3)")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    caption(ax.figure, "Gate value against pre-activation: sigmoid thin solid, the Keras 2 "
                       "formula dashed, installed Keras thick solid, installed torch dotted; "
                       "curves that coincide hide each other.")
    return ax.figure
