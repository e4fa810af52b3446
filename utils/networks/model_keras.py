"""The CRNN in Keras 3 (TensorFlow backend), configured explicitly from a recipe.

Introduced in ``02_keras_reference.ipynb``. Every initialiser, the GRU's gate activation
and ``reset_after``, the BatchNorm constants and the loss are set from the
:class:`~utils.networks.recipe.Recipe` — never left to today's Keras defaults, which are not the
2017 ones (Keras 3's GRU uses sigmoid gates and ``reset_after=True``;
``docs/sources.md#gate-activation``, ``#reset-gate-placement``).

Examples
--------
>>> import numpy as np
>>> from utils.networks.recipe import KERAS_2017
>>> model = build_model(KERAS_2017, seed=0)
>>> model(np.zeros((2, 200, 40, 1), "float32")).shape
TensorShape([2, 17])
"""

from __future__ import annotations

import math
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

from utils.common.frameworks import ensure_threads, quiet_tensorflow  # noqa: E402

if os.environ["KERAS_BACKEND"] == "tensorflow":
    quiet_tensorflow()  # before keras, which imports TensorFlow (the other backends do not)

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from utils.networks.architecture import OUTPUTS, POOL_EPS, POOLS, SIZES, frames_out, gru_input_size  # noqa: E402
from utils.networks.recipe import Recipe  # noqa: E402

# BatchNorm conventions (FD §7): Keras momentum m is PyTorch's 1 − m.
BATCHNORM = {"keras": {"momentum": 0.99, "epsilon": 1e-3},
             "torch": {"momentum": 0.9, "epsilon": 1e-5}}


@keras.saving.register_keras_serializable(package="defaults_lab")
def hard_sigmoid_keras2(x):
    """Keras 2 / Theano ``hard_sigmoid``: clip(0.2x + 0.5, 0, 1) (FD §3)."""
    return ops.clip(0.2 * x + 0.5, 0.0, 1.0)


@keras.saving.register_keras_serializable(package="defaults_lab")
def hard_sigmoid_keras3(x):
    """Keras 3 ``hard_sigmoid`` = PyTorch ``hardsigmoid``: clip(x/6 + 0.5, 0, 1) (FD §3)."""
    return ops.clip(x / 6.0 + 0.5, 0.0, 1.0)


GATES = {"sigmoid": "sigmoid", "hard_sigmoid_keras2": hard_sigmoid_keras2,
         "hard_sigmoid_keras3": hard_sigmoid_keras3}


@keras.saving.register_keras_serializable(package="defaults_lab")
class ClipPooling(layers.Layer):
    """Frame probabilities (batch, time, classes) → clip probabilities (batch, classes)."""

    def __init__(self, pooling: str, **kwargs):
        super().__init__(**kwargs)
        if pooling not in ("max", "mean", "linear_softmax"):
            raise ValueError(f"unknown pooling {pooling!r}")
        self.pooling = pooling

    def call(self, p):
        if self.pooling == "max":
            return ops.max(p, axis=1)
        if self.pooling == "mean":
            return ops.mean(p, axis=1)
        return ops.sum(p * p, axis=1) / ops.maximum(ops.sum(p, axis=1), POOL_EPS)

    def get_config(self):
        return {**super().get_config(), "pooling": self.pooling}


def _fan_in_uniform(fan_in: int, seed: int) -> keras.initializers.Initializer:
    """PyTorch's default U(±1/√fan_in) (kaiming_uniform with a = √5, FD §1)."""
    bound = 1.0 / math.sqrt(fan_in)
    return keras.initializers.RandomUniform(-bound, bound, seed=seed)


def _dense_inits(recipe: Recipe, fan_in: int, seed: int):
    kernel = (keras.initializers.GlorotUniform(seed=seed) if recipe.kernel_init == "keras"
              else _fan_in_uniform(fan_in, seed))
    bias = ("zeros" if recipe.bias_init == "keras" else _fan_in_uniform(fan_in, seed + 1))
    return kernel, bias


def _gru(recipe: Recipe, units: int, seed: int, backwards: bool = False) -> layers.GRU:
    torch_u = 1.0 / math.sqrt(units)  # PyTorch: U(±1/√H) for every GRU tensor (FD §2)
    def uniform(s):
        return keras.initializers.RandomUniform(-torch_u, torch_u, seed=s)
    return layers.GRU(
        units, return_sequences=True, go_backwards=backwards,
        activation="tanh", recurrent_activation=GATES[recipe.gate_activation],
        reset_after=recipe.reset_after, use_bias=True,
        kernel_initializer=(keras.initializers.GlorotUniform(seed=seed)
                            if recipe.gru_input_init == "keras" else uniform(seed)),
        recurrent_initializer=(keras.initializers.Orthogonal(gain=1.0, seed=seed + 1)
                               if recipe.gru_recurrent_init == "keras" else uniform(seed + 1)),
        bias_initializer="zeros" if recipe.gru_bias_init == "keras" else uniform(seed + 2),
        name="gru_backward" if backwards else "gru",
    )


def build_model(recipe: Recipe, seed: int) -> keras.Model:
    """A freshly initialised Keras CRNN; the same seed gives the same weights.

    Every initialiser takes an explicit seed, so the weights depend on ``seed`` and on the
    backend's random generator: TensorFlow, JAX and PyTorch draw different numbers from the
    same seed (:mod:`utils.training.backends` gives the other backends TensorFlow's draw).
    """
    # TensorFlow's first op fixes its thread pools: size them now, as training would, or a
    # model built to be shown before it is trained (notebook 02) leaves the training on one
    # thread per host CPU, which collapses beside other work and oversubscribes Binder.
    ensure_threads("keras")
    if keras.backend.backend() == "tensorflow":
        keras.utils.set_random_seed(seed)
    # (Elsewhere it would import TensorFlow, if installed, only to seed it: hundreds of MB.)
    size = SIZES[recipe.model_size]
    inp = keras.Input((size.n_frames, size.n_mels, 1), name="logmel")
    h = inp
    c_in = 1
    for i, (f, pool) in enumerate(zip(size.filters, POOLS)):
        kernel, bias = _dense_inits(recipe, size.kernel * size.kernel * c_in, seed + 10 * i)
        h = layers.Conv2D(f, size.kernel, padding="same", kernel_initializer=kernel,
                          bias_initializer=bias, name=f"conv{i}")(h)
        if recipe.batchnorm != "none":
            h = layers.BatchNormalization(**BATCHNORM[recipe.batchnorm], name=f"bn{i}")(h)
        # max-pool before ReLU: the same function (they commute), less work (see torch side).
        h = layers.MaxPooling2D(pool, name=f"pool{i}")(h)
        h = layers.ReLU(name=f"relu{i}")(h)
        c_in = f
    h = layers.Reshape((frames_out(size), gru_input_size(size)), name="flatten")(h)
    gru = _gru(recipe, size.gru_units, seed + 100)
    if recipe.bidirectional:
        gru = layers.Bidirectional(gru, backward_layer=_gru(recipe, size.gru_units, seed + 200,
                                                            backwards=True), name="bigru")
    h = gru(h)
    units = size.gru_units * (2 if recipe.bidirectional else 1)
    kernel, bias = _dense_inits(recipe, units, seed + 300)
    frames = layers.Dense(OUTPUTS, activation="sigmoid", kernel_initializer=kernel,
                          bias_initializer=bias, name="frame_prob")(h)
    clip = ClipPooling(recipe.pooling, name="clip_prob")(frames)
    return keras.Model(inp, clip, name=f"crnn_{recipe.model_size}")


def make_loss(guard: str):
    """Binary cross-entropy on probabilities, mean over all elements (FD §12).

    ``keras``: p clipped to [1e-7, 1 − 1e-7]; ``torch``: log terms clamped at −100 like
    PyTorch's ``BCELoss``.
    """
    if guard == "keras":
        def bce(y_true, y_pred):
            p = ops.clip(y_pred, 1e-7, 1 - 1e-7)
            return -ops.mean(y_true * ops.log(p) + (1 - y_true) * ops.log1p(-p), axis=-1)
    elif guard == "torch":
        def bce(y_true, y_pred):
            log_p = ops.maximum(ops.log(y_pred), -100.0)
            log_q = ops.maximum(ops.log1p(-y_pred), -100.0)
            return -ops.mean(y_true * log_p + (1 - y_true) * log_q, axis=-1)
    else:
        raise ValueError(f"unknown loss guard {guard!r}")
    return bce


def frame_model(model: keras.Model) -> keras.Model:
    """A view of ``model`` that outputs frame probabilities (batch, time, 17)."""
    return keras.Model(model.input, model.get_layer("frame_prob").output)
