"""Log-mel features, computed the same way for synthetic clips and real DCASE audio.

Introduced in ``01_data.ipynb``. Two frame layouts: ``classroom`` (200 frames × 40 mel bins
per 10-s clip, small enough for a CPU lab) and ``paper`` (400 × 64, the input shape of the
original author's network: ``docs/sources.md#original-crnn``).

Normalisation statistics always come from the training split only (``feature_stats``);
``scale_features`` applies the lab's three input-scaling conventions, which become a recipe
knob in the input-scaling notebook.

Examples
--------
>>> import numpy as np
>>> from utils.task.features import CLASSROOM, log_mel
>>> x = log_mel(np.zeros(160_000, np.float32), CLASSROOM)
>>> x.shape, x.dtype
((200, 40), dtype('float32'))
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from threadpoolctl import threadpool_limits


@dataclass(frozen=True)
class FeatureConfig:
    """Parameters of the log-mel front end (part of the cache manifest)."""

    name: str
    sr: int = 16_000
    n_fft: int = 1024
    hop: int = 800
    n_mels: int = 40
    fmin: float = 50.0
    fmax: float = 8000.0
    n_frames: int = 200
    amin: float = 1e-10  # floor of the power before the log: silence becomes -100 dB

    def to_dict(self) -> dict:
        return asdict(self)


CLASSROOM = FeatureConfig("classroom", hop=800, n_mels=40, n_frames=200)  # 20 frames/s
PAPER = FeatureConfig("paper", hop=400, n_mels=64, n_frames=400)  # 40 frames/s
FEATURE_CONFIGS = {c.name: c for c in (CLASSROOM, PAPER)}


def _mel_basis(cfg: FeatureConfig) -> np.ndarray:
    import librosa  # lazy: importing librosa costs about a second

    return librosa.filters.mel(sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin,
                               fmax=cfg.fmax).astype(np.float32)


_BASES: dict[FeatureConfig, np.ndarray] = {}


def log_mel(audio: np.ndarray, cfg: FeatureConfig = CLASSROOM) -> np.ndarray:
    """Log-mel energies (dB) of a mono clip, shape (n_frames, n_mels), float32.

    The clip is zero-padded or cut to ``n_frames`` frames, so shorter real clips (a fifth
    of the DCASE training clips are under 10 s, docs/sources.md#dcase-splits) get the same shape.
    """
    import librosa

    audio = np.asarray(audio)
    if audio.ndim != 1:
        raise ValueError(f"log_mel expects mono audio (1-D), got shape {audio.shape}")
    if audio.size == 0:
        raise ValueError("log_mel expects audio samples, got 0 (an empty clip would become "
                         "a silent one)")
    if not np.issubdtype(audio.dtype, np.floating):
        # int16 samples would be read as ±32767 instead of ±1: every dB value shifted.
        raise ValueError(f"log_mel expects float samples in [-1, 1], got dtype {audio.dtype} "
                         f"(divide integer PCM by its full scale first)")
    if not np.isfinite(audio).all():
        raise ValueError("log_mel expects finite samples, got NaN or inf")
    n = cfg.hop * (cfg.n_frames - 1) + 1
    y = np.zeros(n, np.float32)
    y[: min(n, audio.size)] = audio[:n]
    if cfg not in _BASES:
        _BASES[cfg] = _mel_basis(cfg)
    power = np.abs(librosa.stft(y, n_fft=cfg.n_fft, hop_length=cfg.hop, center=True)) ** 2
    # A multi-threaded BLAS sums in another order than a single thread (a ~1e-6 dB change):
    # one thread keeps features bit-identical however many workers build the cache.
    with threadpool_limits(1, user_api="blas"):
        mel = _BASES[cfg] @ power
    return (10.0 * np.log10(np.maximum(mel, cfg.amin))).T[: cfg.n_frames].astype(np.float32)


@dataclass(frozen=True)
class FeatureStats:
    """Training-split statistics: per-bin mean and std, global min and max (dB)."""

    mean: np.ndarray
    std: np.ndarray
    min: float
    max: float

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"mean": self.mean, "std": self.std, "min": np.float32(self.min),
                "max": np.float32(self.max)}

    @classmethod
    def from_arrays(cls, d) -> FeatureStats:
        return cls(np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32),
                   float(d["min"]), float(d["max"]))


def feature_stats(x_train: np.ndarray) -> FeatureStats:
    """Statistics of the training features ``(n_clips, n_frames, n_mels)``.

    Examples
    --------
    >>> s = feature_stats(np.arange(24, dtype=np.float32).reshape(2, 3, 4))
    >>> s.mean.tolist(), s.min, s.max
    ([10.0, 11.0, 12.0, 13.0], 0.0, 23.0)
    """
    x_train = np.asarray(x_train)
    if x_train.ndim != 3 or x_train.size == 0:
        raise ValueError(f"feature_stats expects training features (n_clips, n_frames, "
                         f"n_mels) with at least one clip, got shape {x_train.shape}")
    if not np.isfinite(x_train).all():
        raise ValueError("feature_stats expects finite features, got NaN or inf")
    flat = x_train.reshape(-1, x_train.shape[-1]).astype(np.float64)
    return FeatureStats(flat.mean(0).astype(np.float32),
                        np.maximum(flat.std(0), 1e-6).astype(np.float32),
                        float(flat.min()), float(flat.max()))


SCALINGS = ("unit", "pm128", "standard")


def scale_features(x: np.ndarray, stats: FeatureStats, scaling: str = "standard") -> np.ndarray:
    """Map log-mel features to the input range a recipe asks for.

    ``unit``: [0, 1] by the training min/max (PyTorch-pipeline style);
    ``pm128``: [-128, 128] by the same min/max (the MXNet-era range in the thread's third
    answer, ``docs/sources.md#qa-thread``); ``standard``: per-bin zero mean, unit
    variance (the original author's ``(feat - mu) / sigma``, docs/sources.md#original-crnn).

    Examples
    --------
    >>> s = feature_stats(np.array([[[0.0, 10.0], [20.0, 30.0]]], np.float32))
    >>> scale_features(np.array([[0.0, 30.0]], np.float32), s, "unit").tolist()
    [[0.0, 1.0]]
    >>> scale_features(np.array([[0.0, 30.0]], np.float32), s, "pm128").tolist()
    [[-128.0, 128.0]]
    """
    if scaling not in SCALINGS:
        raise ValueError(f"unknown input scaling {scaling!r}: expected one of {SCALINGS}")
    x = np.asarray(x)
    if x.ndim == 0 or x.shape[-1] != stats.mean.shape[-1]:
        raise ValueError(f"scale_features expects features with {stats.mean.shape[-1]} mel "
                         f"bins in the last axis (as the statistics), got shape {x.shape}")
    if scaling != "standard" and not stats.max > stats.min:
        # Constant training features: min-max scaling would divide by zero.
        raise ValueError(f"scaling {scaling!r} needs training features with max > min, got "
                         f"min {stats.min} and max {stats.max}")
    if scaling == "unit":
        return ((x - stats.min) / (stats.max - stats.min)).astype(np.float32)
    if scaling == "pm128":
        return (256.0 * (x - stats.min) / (stats.max - stats.min) - 128.0).astype(np.float32)
    if scaling == "standard":
        return ((x - stats.mean) / stats.std).astype(np.float32)
    raise ValueError(f"unknown input scaling {scaling!r}: expected one of {SCALINGS}")
