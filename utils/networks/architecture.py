"""The CRNN's shape, shared by both frameworks' builders (no framework imported here).

Introduced in ``02_keras_reference.ipynb``. The architecture is the original author's DCASE
network (``docs/sources.md#original-crnn``): three conv layers with
ReLU and max-pooling (1, 2), (2, 2), (2, 2); one (bi-)GRU; a per-frame sigmoid over the 17
classes; pooling from frames to the clip. ``paper`` is his size (32/64/128 filters of 5×5,
GRU 100, 400×64 input); ``classroom`` is scaled down (a quarter of the filters, 3×3 kernels,
a GRU of 32, 200×40 input) so that a full run fits a lab session on a laptop CPU
(docs/benchmarks.md measures it).

Examples
--------
>>> s = SIZES["classroom"]
>>> gru_input_size(s), frames_out(s)
(160, 50)
"""

from __future__ import annotations

from dataclasses import dataclass

from utils.task.labels import N_CLASSES


@dataclass(frozen=True)
class ModelSize:
    filters: tuple[int, int, int]
    kernel: int
    gru_units: int
    n_frames: int
    n_mels: int


SIZES = {
    "classroom": ModelSize(filters=(8, 16, 32), kernel=3, gru_units=32, n_frames=200,
                           n_mels=40),
    "paper": ModelSize(filters=(32, 64, 128), kernel=5, gru_units=100, n_frames=400,
                       n_mels=64),
}
POOLS = ((1, 2), (2, 2), (2, 2))  # (time, frequency) per conv block
OUTPUTS = N_CLASSES
# Guards the linear-softmax pooling's denominator (sigmoid outputs can underflow to 0).
POOL_EPS = 1e-12


def frames_out(size: ModelSize) -> int:
    t = size.n_frames
    for pt, _ in POOLS:
        t //= pt
    return t


def gru_input_size(size: ModelSize) -> int:
    """Features per frame entering the GRU: channels × remaining mel bins.

    Both frameworks flatten in (frequency, channel) order, i.e. Keras' NHWC order.
    """
    f = size.n_mels
    for _, pf in POOLS:
        f //= pf
    return f * size.filters[-1]
