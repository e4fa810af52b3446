"""Procedural, DCASE-shaped audio: 17 sound classes over urban background noise.

Introduced in ``01_data.ipynb``. The real DCASE 2017 Task 4 audio (51 172 AudioSet clips)
cannot be downloaded at run time, so the lab synthesises clips with the same shape: 10 s at
16 kHz, one to three labelled sound events over background noise, weak (clip-level) labels
for training, strong labels (onset, offset) kept for the other splits. Class frequencies
follow the real splits (``docs/sources.md#dcase-splits``).

Each class has its own acoustic signature, and families are deliberately confusable, as in
the real task: the four sirens share a frequency range and differ in their modulation
pattern (two-tone, yelp, wail, slow wail), and the four engines are harmonic rumbles that
differ in firing frequency, brightness and roughness.

Everything is a pure function of ``(seed, split, index)``: clip ``i`` of a split is the
same clip in every dataset size, so larger presets extend smaller ones.

The classroom task is easy: clean labels, nothing in the background but noise. The
difficulty knobs of :class:`SynthParams` (missed and spurious training labels, unlabelled
speech, music and wind, short and overlapping events) make it as hard as the real one in the
ways the real one is hard (docs/sources.md#task-difficulty); they are off by default.

Examples
--------
>>> from utils.task.synthesis import SynthParams, plan_clip, render_clip
>>> spec = plan_clip(SynthParams(), "train", 0)
>>> audio = render_clip(spec, SynthParams())
>>> audio.shape, audio.dtype
((160000,), dtype('float32'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import lru_cache

import numpy as np
import scipy.fft
import scipy.signal

from utils.task.labels import LABEL_INDEX, LABELS, N_CLASSES, REAL_COUNTS, REAL_LABELS_PER_CLIP

SR = 16_000
CLIP_SECONDS = 10.0
CLIP_SAMPLES = int(SR * CLIP_SECONDS)
SPLITS = ("train", "valid", "test", "eval")
# Which real split's class frequencies each synthetic split imitates. Validation is drawn
# like the (near-balanced) test set so that thresholds tuned on it transfer to test.
PRIOR_OF_SPLIT = {"train": "train", "valid": "test", "test": "test", "eval": "eval"}
_SPLIT_CODE = {name: i for i, name in enumerate(SPLITS)}


@dataclass(frozen=True)
class SynthParams:
    """Every knob of the generator; its dict is part of the cache manifest.

    The knobs after ``gain_db`` make the task harder in ways the real one is hard
    (docs/sources.md#task-difficulty). Each default switches its knob off and draws nothing,
    so a preset that leaves them alone renders bit-identical clips to the generator before
    they existed (``tests/test_synthesis.py`` checks the built presets' checksums). The
    training split's class imbalance is not a knob: every preset draws its training labels
    with the real training split's clip frequencies (:func:`_class_weights`,
    docs/sources.md#dcase-splits), and validation and test like the near-balanced test set.

    Parameters
    ----------
    seed : int
        Master seed of the dataset.
    snr_db : tuple of float
        Range of event-to-background ratios (dB), drawn uniformly per event.
    max_labels : int
        Most distinct labels in one clip (the real histogram is truncated here).
    label_noise : float
        Probability that a training clip's weak labels are corrupted (one label swapped for
        a random other one, or one spurious label added): AudioSet labels are noisy.
    gain_db : tuple of float
        Range of the overall clip gain (dB): recordings differ in level.
    missed_labels : float or tuple of 17 floats
        Probability that a true label of a training clip is missing from its weak labels
        (one rate, or one per class in ``LABELS`` order); the event stays in the audio. A
        clip whose every label is missed has none, and the class-balanced sampler never
        draws it.
    spurious_labels : float or tuple of 17 floats
        Probability that a training clip carries a class it does not contain (one rate for
        every class, or one per class): a clip gets about ``16 * rate`` spurious labels.
    distractor_rate : float
        Mean number (Poisson) of unlabelled distractor sounds per clip, in every split:
        speech-like, music-like, wind or handling noise (:data:`DISTRACTORS`).
    distractor_snr_db : tuple of float
        Range of a distractor's level over the background (dB), as ``snr_db`` for events.
    distractor_seconds : tuple of float
        Range of a distractor's duration (s), within (0, 10].
    event_seconds : tuple of float or None
        ``None``: each class's own duration range. A range (s) within (0, 10]: every event's
        duration is drawn from it instead, so an event may cover a small part of the clip.
    overlap : float
        Probability that each event after a clip's first is placed to overlap the first.

    The weak-label knobs act on the training split only: validation and test labels stay
    the true ones, as the real challenge's verified test labels (docs/sources.md#dcase-2017-task-4).
    The cache manifest also records a hash of this module's source, so code changes
    invalidate old caches too (``utils.task.dataset``).

    Examples
    --------
    >>> SynthParams(missed_labels=0.2).missed_rates()[:3]
    array([0.2, 0.2, 0.2])
    >>> try:
    ...     SynthParams(overlap=2.0)
    ... except ValueError as e:
    ...     print(e)
    SynthParams.overlap = 2.0: expected a probability in [0, 1]
    """

    seed: int = 2017
    snr_db: tuple[float, float] = (-3.0, 12.0)
    max_labels: int = 3
    label_noise: float = 0.0
    gain_db: tuple[float, float] = (-6.0, 6.0)
    missed_labels: float | tuple[float, ...] = 0.0
    spurious_labels: float | tuple[float, ...] = 0.0
    distractor_rate: float = 0.0
    distractor_snr_db: tuple[float, float] = (-6.0, 6.0)
    distractor_seconds: tuple[float, float] = (1.0, 10.0)
    event_seconds: tuple[float, float] | None = None
    overlap: float = 0.0

    def __post_init__(self) -> None:
        def bad(name: str, expected: str) -> None:
            raise ValueError(f"SynthParams.{name} = {getattr(self, name)!r}: expected "
                             f"{expected}")

        def number(v) -> bool:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)

        def probability(v) -> bool:
            return number(v) and 0 <= v <= 1

        def pair(v, lo: float = -np.inf, hi: float = np.inf, open_lo: bool = False) -> bool:
            return (isinstance(v, tuple) and len(v) == 2 and all(number(x) for x in v)
                    and v[0] <= v[1] and (v[0] > lo if open_lo else v[0] >= lo) and v[1] <= hi)

        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or self.seed < 0:
            bad("seed", "an integer >= 0")
        # The label-inclusion probabilities (_inclusion) are exact for up to 3 labels only.
        if isinstance(self.max_labels, bool) or self.max_labels not in (1, 2, 3):
            bad("max_labels", "1, 2 or 3")
        for name in ("label_noise", "overlap"):
            if not probability(getattr(self, name)):
                bad(name, "a probability in [0, 1]")
        for name in ("snr_db", "gain_db", "distractor_snr_db"):
            if not pair(getattr(self, name)):
                bad(name, "a tuple (low, high) of finite numbers with low <= high")
        for name in ("missed_labels", "spurious_labels"):
            v = getattr(self, name)
            if not (probability(v) or (isinstance(v, tuple) and len(v) == N_CLASSES
                                       and all(probability(x) for x in v))):
                bad(name, f"a probability in [0, 1] or a tuple of {N_CLASSES} of them "
                          f"(one per class, in LABELS order)")
        if not number(self.distractor_rate) or not 0 <= self.distractor_rate <= 10:
            bad("distractor_rate", "a mean number of distractors per clip in [0, 10]")
        if not pair(self.distractor_seconds, 0.0, CLIP_SECONDS, open_lo=True):
            bad("distractor_seconds", f"a tuple (low, high) with 0 < low <= high <= "
                                      f"{CLIP_SECONDS:g} s")
        if self.event_seconds is not None and not pair(self.event_seconds, 0.0, CLIP_SECONDS,
                                                       open_lo=True):
            bad("event_seconds", f"None or a tuple (low, high) with 0 < low <= high <= "
                                 f"{CLIP_SECONDS:g} s")

    def to_dict(self) -> dict:
        return asdict(self)

    def knobs(self) -> dict:
        """The knobs set away from their defaults, by name, in field order.

        Examples
        --------
        >>> SynthParams(overlap=0.5, snr_db=(-9.0, 6.0)).knobs()
        {'snr_db': (-9.0, 6.0), 'overlap': 0.5}
        """
        default = SynthParams()
        return {f.name: getattr(self, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def missed_rates(self) -> np.ndarray:
        """Per-class probability that a true training label is missed (17 floats)."""
        return np.broadcast_to(np.asarray(self.missed_labels, float), (N_CLASSES,)).copy()

    def spurious_rates(self) -> np.ndarray:
        """Per-class probability that a training clip lacking the class carries it anyway."""
        return np.broadcast_to(np.asarray(self.spurious_labels, float), (N_CLASSES,)).copy()

    def noisy_labels(self) -> bool:
        """Whether the missed- or spurious-label knobs change any training label."""
        return bool(self.missed_rates().any() or self.spurious_rates().any())


@dataclass(frozen=True)
class Event:
    """One sound event inside a clip (times in seconds)."""

    label: int
    onset: float
    offset: float
    snr_db: float
    seed: int


@dataclass(frozen=True)
class Distractor:
    """One unlabelled background sound inside a clip (``kind`` in :data:`DISTRACTORS`)."""

    kind: str
    onset: float
    offset: float
    snr_db: float
    seed: int


@dataclass(frozen=True)
class ClipSpec:
    """Everything needed to render one clip, and its labels.

    ``events`` are the true events; ``weak`` are the clip-level labels a learner sees
    (equal to the event labels unless label noise corrupted them); ``distractors`` are
    sounds of no class, never labelled.
    """

    split: str
    index: int
    events: tuple[Event, ...]
    weak: tuple[int, ...]
    background_seed: int
    gain_db: float
    clip_id: str = field(default="")
    distractors: tuple[Distractor, ...] = ()


# --- label planning ---------------------------------------------------------------------

def _labels_per_clip_probs(split: str, max_labels: int) -> np.ndarray:
    hist = REAL_LABELS_PER_CLIP[PRIOR_OF_SPLIT[split]]
    counts = np.array([hist.get(k, 0) for k in range(1, max_labels + 1)], float)
    return counts / counts.sum()


def _inclusion(p: np.ndarray, k_probs: np.ndarray) -> np.ndarray:
    """P(class c is among the labels) when k ~ k_probs labels are drawn one after another
    without replacement with weights ``p`` (exact, for k <= 3)."""
    n = len(p)
    first = p.copy()
    # second[c] = sum_j p_j * p_c / (1 - p_j), j != c
    pair = p[:, None] * p[None, :] / (1 - p[:, None])
    np.fill_diagonal(pair, 0.0)
    second = pair.sum(0)
    third = np.zeros(n)
    if len(k_probs) >= 3:
        for j in range(n):
            for m in range(n):
                if j != m:
                    rest = p / (1 - p[j] - p[m])
                    rest[[j, m]] = 0.0
                    third += pair[j, m] * rest
    positions = [first, second, third]
    # A clip with k labels includes c if any of its first k draws is c.
    return sum(k_probs[k - 1] * sum(positions[:k]) for k in range(1, len(k_probs) + 1))


@lru_cache(maxsize=16)
def _class_weights(split: str, max_labels: int) -> np.ndarray:
    """Draw weights whose *clip fractions* match the real split's (docs/sources.md#dcase-splits).

    Drawing several labels without replacement makes frequent classes rarer than their
    weight suggests ('Car' came out at 46 % instead of 49 %), so the weights are solved for
    by a fixed-point iteration on the exact inclusion probabilities.
    """
    counts = REAL_COUNTS[PRIOR_OF_SPLIT[split]]
    target = np.array([counts[name] for name in LABELS], float)
    k_probs = _labels_per_clip_probs(split, max_labels)
    mean_k = float(np.dot(np.arange(1, max_labels + 1), k_probs))
    target *= mean_k / target.sum()  # fractions consistent with the number of labels drawn
    w = target / target.sum()
    for _ in range(200):
        w = w * target / _inclusion(w, k_probs)
        w /= w.sum()
    return w


# Event duration range per class (s): sustained sounds last longer than horns and bells.
_DURATION = {
    "Train horn": (1.0, 3.5), "Air horn, truck horn": (0.8, 3.0), "Car alarm": (3.0, 8.0),
    "Reversing beeps": (3.0, 9.0), "Bicycle": (1.0, 3.5), "Skateboard": (3.0, 9.0),
    "Ambulance (siren)": (3.0, 10.0), "Fire engine, fire truck (siren)": (3.0, 10.0),
    "Civil defense siren": (6.0, 10.0), "Police car (siren)": (3.0, 10.0),
    "Screaming": (0.8, 3.0), "Car": (3.0, 10.0), "Car passing by": (2.5, 6.0),
    "Bus": (3.0, 10.0), "Truck": (3.0, 10.0), "Motorcycle": (2.0, 8.0), "Train": (5.0, 10.0),
}


def _clip_rng(params: SynthParams, split: str, index: int) -> np.random.Generator:
    return np.random.default_rng([params.seed, _SPLIT_CODE[split], index])


# Streams of the difficulty knobs, apart from the clip's own: a knob left at its default draws
# nothing, so the classroom clips stay what they were, and changing one knob leaves the
# others' draws (and every clip's labels, event seeds and background) as they were.
_EVENTS_STREAM, _LABELS_STREAM, _DISTRACTORS_STREAM = 1, 2, 3


def _knob_rng(params: SynthParams, split: str, index: int, stream: int
              ) -> np.random.Generator:
    return np.random.default_rng([params.seed, _SPLIT_CODE[split], index, stream])


def _reshape_event(rng: np.random.Generator, params: SynthParams, dur: float, onset: float,
                   first: Event | None) -> tuple[float, float]:
    """The duration and onset of an event under ``event_seconds`` and ``overlap``."""
    if params.event_seconds is not None:
        dur = float(rng.uniform(*params.event_seconds))
        onset = float(rng.uniform(0.0, CLIP_SECONDS - dur))
    if first is not None and params.overlap > 0 and rng.random() < params.overlap:
        # Any onset in this range makes the two events share some time.
        lo = max(0.0, first.onset - dur)
        hi = min(first.offset, CLIP_SECONDS - dur)
        onset = float(rng.uniform(lo, hi))
    return dur, onset


def _corrupt_labels(rng: np.random.Generator, params: SynthParams, true: list[int]
                    ) -> list[int]:
    """Training weak labels with missed and spurious labels (one draw per class each)."""
    keep = rng.random(N_CLASSES) >= params.missed_rates()
    add = rng.random(N_CLASSES) < params.spurious_rates()
    present = np.zeros(N_CLASSES, bool)
    present[true] = True
    return [int(c) for c in np.flatnonzero((present & keep) | (~present & add))]


def _plan_distractors(rng: np.random.Generator, params: SynthParams
                      ) -> tuple[Distractor, ...]:
    out = []
    for _ in range(int(rng.poisson(params.distractor_rate))):
        kind = DISTRACTORS[int(rng.integers(len(DISTRACTORS)))]
        dur = float(rng.uniform(*params.distractor_seconds))
        onset = float(rng.uniform(0.0, CLIP_SECONDS - dur))
        out.append(Distractor(kind, round(onset, 3), round(onset + dur, 3),
                              round(float(rng.uniform(*params.distractor_snr_db)), 2),
                              int(rng.integers(2**31))))
    return tuple(out)


def plan_clip(params: SynthParams, split: str, index: int) -> ClipSpec:
    """Draw the labels, events and seeds of clip ``index`` of ``split``.

    Examples
    --------
    >>> a = plan_clip(SynthParams(), "test", 5)
    >>> a == plan_clip(SynthParams(), "test", 5)
    True
    >>> 1 <= len(a.events) <= 3
    True
    >>> b = plan_clip(SynthParams(event_seconds=(0.5, 1.0), distractor_rate=3.0), "test", 5)
    >>> [e.label for e in b.events] == [e.label for e in a.events]
    True
    >>> all(e.offset - e.onset <= 1.0 for e in b.events), b.weak == a.weak
    (True, True)
    """
    if split not in _SPLIT_CODE:
        raise ValueError(f"unknown split {split!r}: expected one of {SPLITS}")
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
        raise ValueError(f"clip index {index!r}: expected an integer >= 0")
    rng = _clip_rng(params, split, index)
    k = 1 + int(rng.choice(params.max_labels, p=_labels_per_clip_probs(split, params.max_labels)))
    # Sequential draws without replacement (the model _class_weights is solved for).
    w = _class_weights(split, params.max_labels).copy()
    labels = []
    for _ in range(k):
        c = int(rng.choice(N_CLASSES, p=w / w.sum()))
        labels.append(c)
        w[c] = 0.0
    reshape = params.event_seconds is not None or params.overlap > 0
    ev_rng = _knob_rng(params, split, index, _EVENTS_STREAM) if reshape else None
    events: list[Event] = []
    for lab in sorted(labels):
        lo, hi = _DURATION[LABELS[lab]]
        dur = min(float(rng.uniform(lo, hi)), CLIP_SECONDS)
        onset = float(rng.uniform(0.0, CLIP_SECONDS - dur))
        snr = float(rng.uniform(*params.snr_db))
        if ev_rng is not None:  # the draws above are still made: the stream stays aligned
            dur, onset = _reshape_event(ev_rng, params, dur, onset,
                                        events[0] if events else None)
        events.append(Event(lab, round(onset, 3), round(onset + dur, 3), round(snr, 2),
                            int(rng.integers(2**31))))
    weak = sorted({e.label for e in events})
    if split == "train" and params.label_noise > 0 and rng.random() < params.label_noise:
        others = [c for c in range(N_CLASSES) if c not in weak]
        wrong = int(rng.choice(others))
        if rng.random() < 0.5:
            weak[int(rng.integers(len(weak)))] = wrong  # a label swapped
        else:
            weak.append(wrong)  # a spurious extra label
        weak = sorted(set(weak))
    if split == "train" and params.noisy_labels():
        weak = _corrupt_labels(_knob_rng(params, split, index, _LABELS_STREAM), params, weak)
    distractors = (_plan_distractors(_knob_rng(params, split, index, _DISTRACTORS_STREAM),
                                     params) if params.distractor_rate > 0 else ())
    return ClipSpec(split, index, tuple(events), tuple(weak), int(rng.integers(2**31)),
                    round(float(rng.uniform(*params.gain_db)), 2),
                    clip_id=f"syn_{split}_{index:06d}", distractors=distractors)


# --- signal building blocks ---------------------------------------------------------------

def _phase(freq: np.ndarray) -> np.ndarray:
    """Phase (rad) of an oscillator following the instantaneous frequency ``freq`` (Hz)."""
    # float64 accumulation (long clips drift in float32), float32 afterwards for speed.
    return np.cumsum(freq * (2 * np.pi / SR)).astype(np.float32)


def _harmonic_stack(phase: np.ndarray, amps: np.ndarray, f0_max: float) -> np.ndarray:
    """Sum_k amps[k-1] sin(k phase), by the Chebyshev recurrence (no per-harmonic sin).

    Harmonics above 0.45 SR at the highest f0 are dropped to avoid aliasing.
    """
    k_max = int(min(len(amps), (0.45 * SR) // max(f0_max, 1.0)))
    s_prev, s = np.zeros_like(phase), np.sin(phase)
    two_c = 2 * np.cos(phase)
    out = amps[0] * s
    for k in range(1, k_max):
        s_prev, s = s, two_c * s - s_prev
        out += amps[k] * s
    return out


def _smooth_walk(rng: np.random.Generator, n: int, knots_per_s: float, depth: float
                 ) -> np.ndarray:
    """A slow random contour around 1.0 (relative depth ``depth``), linearly interpolated."""
    m = max(2, int(n / SR * knots_per_s) + 2)
    knots = 1.0 + depth * rng.uniform(-1, 1, m)
    return np.interp(np.arange(n), np.linspace(0, n - 1, m), knots)


_BANK = 2**18  # samples per noise bank (16 s): longer than any clip


@lru_cache(maxsize=64)
def _noise_bank(lo: float, hi: float, exponent: float) -> np.ndarray:
    """16 s of unit-RMS Gaussian noise with power ∝ f^-exponent between lo and hi Hz.

    Drawn once per band (directly in the frequency domain: white Gaussian noise has
    independent complex Gaussian Fourier coefficients) and then sliced at random offsets:
    a clip needs several noise layers, and one inverse FFT per layer per clip was most of
    the generator's time.
    """
    rng = np.random.default_rng([int(lo), int(hi), int(round(exponent * 10))])
    f = np.fft.rfftfreq(_BANK, 1 / SR)
    # Butterworth-like (order 4) band edges: brick-wall edges show as lines in a spectrogram.
    with np.errstate(divide="ignore"):
        low_cut = (lo / f) ** 8 if lo > 0 else 0.0  # inf at 0 Hz: no DC
    shape = (1.0 / np.sqrt((1 + low_cut) * (1 + (f / hi) ** 8))).astype(np.float32)
    if exponent:
        shape /= np.maximum(f, 20.0).astype(np.float32) ** (exponent / 2)
    m = _BANK // 2 + 1
    spec = (rng.standard_normal(m, dtype=np.float32)
            + 1j * rng.standard_normal(m, dtype=np.float32)) * shape
    y = scipy.fft.irfft(spec, _BANK).astype(np.float32)
    y /= np.sqrt(np.mean(y**2)) + 1e-12
    y.flags.writeable = False  # shared by every caller
    return y


def _spectral_noise(rng: np.random.Generator, n: int, lo: float = 0.0, hi: float = SR / 2,
                    exponent: float = 0.0) -> np.ndarray:
    """``n`` samples of band-limited coloured noise (unit RMS on average).

    A random slice of the band's noise bank, randomly time-reversed and sign-flipped.
    """
    bank = _noise_bank(float(lo), float(hi), round(float(exponent), 1))
    start = int(rng.integers(0, _BANK - n + 1))
    y = bank[start:start + n]
    if rng.random() < 0.5:
        y = y[::-1]
    return -y if rng.random() < 0.5 else y.copy()


def _envelope(n: int, attack: float = 0.02, release: float = 0.05) -> np.ndarray:
    """Linear fade in/out so events do not click."""
    env = np.ones(n)
    a, r = min(n // 2, int(attack * SR)), min(n // 2, int(release * SR))
    if a:
        env[:a] = np.linspace(0, 1, a)
    if r:
        env[-r:] = np.linspace(1, 0, r)
    return env


def _gates(n: int, starts: np.ndarray, length: float, fade: float = 0.01) -> np.ndarray:
    """On/off mask: 1 during ``length`` seconds after each start time (s)."""
    t = np.arange(n) / SR
    mask = np.zeros(n)
    for s in starts:
        seg = (t >= s) & (t < s + length)
        idx = np.flatnonzero(seg)
        if idx.size:
            mask[idx] = _envelope(idx.size, fade, fade)
    return mask


def _decaying_bursts(rng: np.random.Generator, n: int, times: np.ndarray, tau: float,
                     lo: float, hi: float) -> np.ndarray:
    """Clicks/clacks: band-limited noise bursts with exponential decay at ``times`` (s)."""
    impulses = np.zeros(n)
    idx = (np.asarray(times) * SR).astype(int)
    impulses[idx[(idx >= 0) & (idx < n)]] = 1.0
    # A one-pole filter turns each impulse into exp(-t/tau): O(n) for any number of bursts.
    env = scipy.signal.lfilter([1.0], [1.0, -np.exp(-1.0 / (tau * SR))], impulses)
    return _spectral_noise(rng, n, lo, hi) * np.minimum(env, 1.0)


# --- the 17 classes -------------------------------------------------------------------------
# Each generator takes (rng, n_samples) and returns an unnormalised waveform of that length.

def _horn(rng, n, f0, ratios, n_harm, tilt, rough):
    out = np.zeros(n)
    drift = _smooth_walk(rng, n, 2, 0.004)
    for r in ratios:
        f = f0 * r * drift
        amps = 1.0 / np.arange(1, n_harm + 1) ** tilt
        out += _harmonic_stack(_phase(f), amps, f.max())
    if rough:
        out *= 1 + rough * np.sin(_phase(np.full(n, rng.uniform(30, 60))))
    return out


def _train_horn(rng, n):
    chord = ([1.0, 1.25, 1.5], [1.0, 1.2, 1.5], [1.0, 1.25], [1.0, 1.5])[rng.integers(4)]
    return _horn(rng, n, rng.uniform(200, 330), chord, 10, 0.9, 0.0) * _envelope(n, 0.08, 0.3)


def _air_horn(rng, n):
    blasts = int(rng.integers(1, 4))
    starts = np.sort(rng.uniform(0, max(n / SR - 0.4, 0.01), blasts))
    gate = _gates(n, starts, rng.uniform(0.3, 1.2), 0.03)
    f0 = rng.uniform(260, 450)
    return _horn(rng, n, f0, [1.0], 16, 0.5, 0.3) * np.maximum(gate, 0.0)


def _car_alarm(rng, n):
    out = np.zeros(n)
    t0 = 0
    while t0 < n:
        seg = min(n - t0, int(rng.uniform(1.5, 3.0) * SR))
        tt = np.arange(seg) / SR
        kind = rng.integers(3)
        if kind == 0:  # fast upward chirps
            period = rng.uniform(0.12, 0.25)
            f = 800 + 1700 * ((tt / period) % 1.0)
        elif kind == 1:  # warble
            f = rng.uniform(1000, 1500) + rng.uniform(300, 500) * np.sin(
                2 * np.pi * rng.uniform(8, 15) * tt)
        else:  # pulsed tone
            f = np.full(seg, rng.uniform(1500, 2500))
        tone = _harmonic_stack(_phase(f), np.array([1.0, 0.4, 0.2]), f.max())
        if kind == 2:
            tone *= (np.sin(2 * np.pi * rng.uniform(4, 6) * tt) > 0)
        out[t0:t0 + seg] = tone * _envelope(seg, 0.01, 0.01)
        t0 += seg
    return out


def _reversing_beeps(rng, n):
    f = np.full(n, rng.uniform(900, 1500))
    period = rng.uniform(0.8, 1.2)
    tone = _harmonic_stack(_phase(f), np.array([1.0, 0.0, 0.15]), f[0])
    starts = np.arange(rng.uniform(0, period), n / SR, period)
    return tone * _gates(n, starts, period * rng.uniform(0.4, 0.6), 0.005)


def _bicycle(rng, n):
    t = np.arange(n) / SR
    f1 = rng.uniform(2000, 3200)
    partials = f1 * np.array([1.0, 2.1, 3.6]) * rng.uniform(0.97, 1.03, 3)
    ring_times = []
    for s in np.sort(rng.uniform(0, max(n / SR - 0.6, 0.01), int(rng.integers(1, 3)))):
        ring_times += [s, s + rng.uniform(0.08, 0.15)]  # the "ring-ring" double strike
    tau = rng.uniform(0.3, 0.8)
    env = np.zeros(n)
    for s in ring_times:
        i0 = int(s * SR)
        env[i0:] += np.exp(-(t[i0:] - s) / tau)
    bell = sum(a * np.sin(2 * np.pi * p * t) for a, p in zip((1.0, 0.5, 0.3), partials))
    clicks = _decaying_bursts(rng, n, np.arange(0, n / SR, 1 / rng.uniform(15, 30)),
                              0.002, 2000, 6000)
    return bell * env + 0.15 * clicks


def _skateboard(rng, n):
    roll = _spectral_noise(rng, n, 150, 2500, 1.0)
    bumps = 1 + 0.6 * (np.sin(2 * np.pi * rng.uniform(1.5, 4) * np.arange(n) / SR) > 0.9)
    clacks = _decaying_bursts(rng, n, rng.uniform(0, n / SR, int(rng.integers(0, 3))),
                              0.03, 300, 5000)
    return roll * bumps * _smooth_walk(rng, n, 1, 0.3) + 4 * clacks


def _siren(rng, n, f, n_harm=5, growl=0.0):
    out = _harmonic_stack(_phase(f), 1.0 / np.arange(1, n_harm + 1) ** 1.2, f.max())
    if growl:
        out += growl * _spectral_noise(rng, n, 300, 3000) * (f / f.max())
    return out * _envelope(n, 0.2, 0.3)


def _yelp(rng, n):
    t = np.arange(n) / SR
    lo, hi = rng.uniform(650, 800), rng.uniform(1400, 1700)
    return lo + (hi - lo) * ((t / rng.uniform(0.2, 0.45)) % 1.0)


def _wail(rng, n, period, lo, hi):
    t = np.arange(n) / SR
    x = (t / period + rng.uniform()) % 1.0
    # Mechanical sirens spin up faster than they spin down.
    up = rng.uniform(0.3, 0.45)
    shape = np.where(x < up, x / up, 1 - (x - up) / (1 - up))
    return lo + (hi - lo) * np.sin(0.5 * np.pi * shape) ** 2


def _ambulance(rng, n):
    if rng.random() < 0.25:  # many ambulances also yelp: confusable with police
        return _siren(rng, n, _yelp(rng, n))
    t = np.arange(n) / SR
    f_lo = rng.uniform(600, 800)
    f_hi = f_lo * rng.uniform(1.2, 1.35)
    hi = ((t / rng.uniform(0.4, 0.8)) % 2.0) < 1.0
    return _siren(rng, n, np.where(hi, f_hi, f_lo))


def _fire_engine(rng, n):
    f = _wail(rng, n, rng.uniform(2.5, 6.0), rng.uniform(500, 700), rng.uniform(1200, 1600))
    return _siren(rng, n, f, n_harm=7, growl=0.3)


def _civil_defense(rng, n):
    f = _wail(rng, n, rng.uniform(8.0, 14.0), rng.uniform(330, 450), rng.uniform(550, 750))
    # Two rotors a minor third apart.
    return _siren(rng, n, f, n_harm=8) + 0.7 * _siren(rng, n, f * 1.2, n_harm=8)


def _police(rng, n):
    if rng.random() < 0.25:  # the wail: confusable with the fire engine
        f = _wail(rng, n, rng.uniform(3.0, 5.0), rng.uniform(650, 800), rng.uniform(1300, 1600))
    else:
        f = _yelp(rng, n)
    return _siren(rng, n, f)


def _screaming(rng, n):
    t = np.arange(n) / SR
    contour = 1 + 0.15 * np.sin(np.pi * t / (n / SR))  # rise then fall
    vib = 1 + rng.uniform(0.02, 0.04) * np.sin(2 * np.pi * rng.uniform(5, 7) * t)
    f0 = rng.uniform(500, 1100) * contour * vib * _smooth_walk(rng, n, 20, 0.01)
    k = np.arange(1, 13)
    formants = (rng.uniform(800, 1000), rng.uniform(1300, 1800), rng.uniform(2600, 3200))
    fk = k * f0.mean()
    amps = sum(np.exp(-0.5 * ((fk - fm) / 250.0) ** 2) for fm in formants) + 0.05
    voiced = _harmonic_stack(_phase(f0), amps, f0.max())
    breath = 0.1 * _spectral_noise(rng, n, 1000, 6000)
    return (voiced + breath) * _envelope(n, 0.05, 0.15)


def _engine(rng, n, f0, n_harm, tilt, drift, noise, rough, knock=0.0):
    f = f0 * _smooth_walk(rng, n, 0.5, drift)
    amps = 1.0 / np.arange(1, n_harm + 1) ** tilt
    amps[1] *= 1.5  # the firing-order harmonic dominates in 4-stroke engines
    out = _harmonic_stack(_phase(f), amps, f.max())
    if rough:  # cycle-to-cycle irregularity: amplitude modulation at a sub-harmonic
        out *= 1 + rough * np.sin(_phase(f / 2))
    if knock:  # diesel clatter: noise bursts at the firing frequency
        out += knock * _spectral_noise(rng, n, 1000, 4000) * (np.sin(_phase(f)) > 0.8)
    return out + noise * _spectral_noise(rng, n, 40, 1500, 1.0)


def _car(rng, n):
    return _engine(rng, n, rng.uniform(30, 60), 14, 0.9, 0.15, 0.5, 0.1) * _envelope(n, 0.3, 0.3)


def _bus(rng, n):
    out = _engine(rng, n, rng.uniform(20, 35), 18, 0.7, 0.1, 0.6, 0.2, knock=0.4)
    if rng.random() < 0.4:  # air-brake hiss
        s = rng.uniform(0, max(n / SR - 0.6, 0.01))
        out += 1.5 * _spectral_noise(rng, n, 3000, 6000) * _gates(n, np.array([s]), 0.5, 0.05)
    return out * _envelope(n, 0.3, 0.3)


def _truck(rng, n):
    return _engine(rng, n, rng.uniform(18, 32), 20, 0.6, 0.12, 0.9, 0.5,
                   knock=0.2) * _envelope(n, 0.3, 0.3)


def _motorcycle(rng, n):
    t = np.arange(n) / SR
    revs = 1 + 0.5 * np.clip(np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t), 0, None) ** 2
    f = rng.uniform(40, 110) * revs
    amps = 1.0 / np.arange(1, 17) ** 0.7
    amps[1::2] *= 0.4  # odd harmonics dominate: a raspy single/twin
    out = _harmonic_stack(_phase(f), amps, f.max()) * (1 + 0.4 * np.sin(_phase(f / 2)))
    return (out + 0.4 * _spectral_noise(rng, n, 100, 3000)) * _envelope(n, 0.2, 0.3)


def _car_passing_by(rng, n):
    t = np.arange(n) / SR
    v, d, c = rng.uniform(10, 25), rng.uniform(3, 10), 343.0
    x = v * (t - t[-1] * rng.uniform(0.4, 0.6))  # position along the road
    dist = np.sqrt(x**2 + d**2)
    doppler = c / (c + v * x / dist)  # approaching: higher; receding: lower
    engine = _engine(rng, n, rng.uniform(30, 60), 12, 0.9, 0.05, 0.0, 0.1)
    f = rng.uniform(30, 60) * doppler
    engine = _harmonic_stack(_phase(f), 1.0 / np.arange(1, 13) ** 0.9, f.max())
    tyres = _spectral_noise(rng, n, 200, 4000, 1.0)
    return (engine + 1.2 * tyres) * (d / dist) ** 1.5


def _train(rng, n):
    rumble = _spectral_noise(rng, n, 30, 800, 2.0)
    period = rng.uniform(0.4, 1.2)  # one bogie pair per period: speed sets the rhythm
    starts = np.arange(rng.uniform(0, period), n / SR, period)
    clacks = _decaying_bursts(rng, n, np.concatenate([starts, starts + period * 0.18]),
                              0.02, 800, 3500)
    out = rumble + 3 * clacks
    if rng.random() < 0.3:  # wheel squeal
        f = rng.uniform(3000, 5000) * _smooth_walk(rng, n, 2, 0.01)
        out += 0.3 * np.sin(_phase(f)) * _smooth_walk(rng, n, 1, 0.9)
    return out * _envelope(n, 0.5, 0.5)


GENERATORS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "Train horn": _train_horn, "Air horn, truck horn": _air_horn, "Car alarm": _car_alarm,
    "Reversing beeps": _reversing_beeps, "Bicycle": _bicycle, "Skateboard": _skateboard,
    "Ambulance (siren)": _ambulance, "Fire engine, fire truck (siren)": _fire_engine,
    "Civil defense siren": _civil_defense, "Police car (siren)": _police,
    "Screaming": _screaming, "Car": _car, "Car passing by": _car_passing_by, "Bus": _bus,
    "Truck": _truck, "Motorcycle": _motorcycle, "Train": _train,
}
assert set(GENERATORS) == set(LABEL_INDEX)


# --- unlabelled distractors -------------------------------------------------------------------
# Sounds of none of the 17 classes that real clips are full of (docs/sources.md#task-difficulty),
# each built to be confusable with some: voiced speech with Screaming, music's harmonic
# notes with horns and alarms, wind and handling rumble with engines and trains.

def _speech(rng, n):
    """Voiced syllables at 3-6 per second with intonation, pauses and fricatives."""
    dur = n / SR
    f0 = rng.uniform(90, 240) * _smooth_walk(rng, n, 3, 0.15)
    rate = rng.uniform(3, 6)
    onsets = np.cumsum(rng.exponential(1 / rate, int(dur * rate * 2) + 2))
    syllables = _gates(n, onsets[onsets < dur], rng.uniform(0.1, 0.2), 0.03)
    phrases = _smooth_walk(rng, n, 0.7, 1.0) > 0.6  # breaks between phrases
    k = np.arange(1, 31)
    vowels = []
    for _ in range(2):  # two vowel spectra, cross-faded: the formants move
        formants = (rng.uniform(300, 800), rng.uniform(900, 2300), rng.uniform(2400, 3000))
        amps = sum(np.exp(-0.5 * ((k * f0.mean() - fm) / 150.0) ** 2) for fm in formants)
        vowels.append(_harmonic_stack(_phase(f0), amps + 0.02, f0.max()))
    mix = _smooth_walk(rng, n, rate, 1.0) / 2
    voiced = (1 - mix) * vowels[0] + mix * vowels[1]
    fricatives = _spectral_noise(rng, n, 2500, 7000) * _gates(
        n, onsets[onsets < dur] + 0.15, 0.06, 0.01)
    return (voiced * syllables + 0.3 * fricatives) * phrases


_SCALE = np.array([0, 2, 4, 7, 9, 12, 14, 16])  # a major pentatonic, semitones


def _music(rng, n):
    """A plucked melody over a bass line and a drum pattern."""
    dur = n / SR
    beat = 60.0 / rng.uniform(80, 140)
    root = rng.uniform(150, 400)
    notes = np.arange(0.0, dur, beat / 2)
    pitch = root * 2.0 ** (rng.choice(_SCALE, len(notes)) / 12)
    f = pitch[np.minimum((np.arange(n) / SR / (beat / 2)).astype(int), len(notes) - 1)]
    impulses = np.zeros(n)
    impulses[(notes * SR).astype(int)] = 1.0
    pluck = scipy.signal.lfilter([1.0], [1.0, -np.exp(-1.0 / (rng.uniform(0.1, 0.4) * SR))],
                                 impulses)
    melody = _harmonic_stack(_phase(f), 1.0 / np.arange(1, 9) ** 1.5, f.max()) * pluck
    bar = np.minimum((np.arange(n) / SR / (4 * beat)).astype(int), int(dur / beat))
    bass_f = root / 2 * 2.0 ** (rng.choice([0, 5, 7], int(dur / beat) + 1)[bar] / 12)
    bass = _harmonic_stack(_phase(bass_f), np.array([1.0, 0.5, 0.25]), bass_f.max())
    kick = _decaying_bursts(rng, n, np.arange(0.0, dur, beat), 0.08, 40, 150)
    hats = _decaying_bursts(rng, n, np.arange(beat / 2, dur, beat), 0.01, 5000, 8000)
    return melody + 0.5 * bass + 3 * kick + 0.5 * hats


def _wind(rng, n):
    """Gusty low-frequency wind on the microphone, with handling thumps and rubs."""
    dur = n / SR
    gusts = _smooth_walk(rng, n, rng.uniform(0.5, 2.0), 0.9) ** 2
    wind = _spectral_noise(rng, n, 20, rng.uniform(200, 600), 2.0) * gusts
    thumps = _decaying_bursts(rng, n, rng.uniform(0, dur, int(rng.integers(0, 4))),
                              0.05, 20, 300)
    rubs = _spectral_noise(rng, n, 100, 2000, 1.0) * _gates(
        n, rng.uniform(0, dur, int(rng.integers(0, 3))), rng.uniform(0.2, 0.8), 0.05)
    return wind + 4 * thumps + 0.5 * rubs


DISTRACTOR_GENERATORS: dict[str, Callable[[np.random.Generator, int], np.ndarray]] = {
    "speech": _speech, "music": _music, "wind": _wind}
DISTRACTORS: tuple[str, ...] = tuple(DISTRACTOR_GENERATORS)


def render_distractor(kind: str, seed: int, seconds: float) -> np.ndarray:
    """Render one distractor sound of ``kind`` (in :data:`DISTRACTORS`), unit RMS.

    Examples
    --------
    >>> y = render_distractor("music", seed=0, seconds=2.0)
    >>> y.shape, round(float((y**2).mean()), 3)
    ((32000,), 1.0)
    """
    if kind not in DISTRACTOR_GENERATORS:
        raise ValueError(f"distractor kind {kind!r}: expected one of {DISTRACTORS}")
    if not (np.isfinite(seconds) and seconds > 0):
        raise ValueError(f"distractor length {seconds!r} s: expected a number > 0")
    n = max(int(round(seconds * SR)), 16)
    y = DISTRACTOR_GENERATORS[kind](np.random.default_rng(seed), n)
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def render_event(label: int, seed: int, seconds: float) -> np.ndarray:
    """Render one event of class ``label`` (an index into ``LABELS``), unit RMS.

    Examples
    --------
    >>> y = render_event(LABEL_INDEX["Reversing beeps"], seed=0, seconds=2.0)
    >>> y.shape, round(float((y**2).mean()), 3)
    ((32000,), 1.0)
    """
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)) or not (
            0 <= label < N_CLASSES):
        # A negative index would silently pick a class from the end of LABELS.
        raise ValueError(f"event label {label!r}: expected a class index 0..{N_CLASSES - 1}")
    if not (np.isfinite(seconds) and seconds > 0):
        raise ValueError(f"event length {seconds!r} s: expected a number > 0")
    n = max(int(round(seconds * SR)), 16)
    y = GENERATORS[LABELS[label]](np.random.default_rng(seed), n)
    return y / (np.sqrt(np.mean(y**2)) + 1e-12)


def render_background(seed: int, n: int = CLIP_SAMPLES) -> np.ndarray:
    """Urban background, unit RMS: coloured noise, babble-like texture, distant traffic."""
    rng = np.random.default_rng(seed)
    bg = _spectral_noise(rng, n, 20, SR / 2, rng.uniform(1.0, 2.0))
    # Babble: speech-band noise streams modulated at syllable rate. A sum of independent
    # Gaussian streams with envelopes e_i is one Gaussian stream with envelope sqrt(sum e_i²).
    env2 = sum(_smooth_walk(rng, n, rng.uniform(3, 6), 1.0) ** 2
               for _ in range(int(rng.integers(2, 5))))
    babble = _spectral_noise(rng, n, 250, 3500, 1.0) * np.sqrt(env2)
    bg += rng.uniform(0.2, 0.8) * babble / (np.sqrt(np.mean(babble**2)) + 1e-12)
    if rng.random() < 0.4:
        bg += rng.uniform(0.3, 1.0) * _spectral_noise(rng, n, 20, 400, 2.0)
    return bg / (np.sqrt(np.mean(bg**2)) + 1e-12)


def render_clip(spec: ClipSpec, params: SynthParams | None = None) -> np.ndarray:
    """Render the 10-s waveform of ``spec`` (float32, 16 kHz, peak ≤ 1).

    Each event (and each distractor) is scaled so that its RMS over its own extent is
    ``snr_db`` above the background's RMS; the whole clip then gets its random gain.
    """
    del params  # everything needed is in the spec; kept for a uniform call signature
    clip = 0.05 * render_background(spec.background_seed)
    bg_rms = 0.05
    for ev in spec.events:
        i0, i1 = int(ev.onset * SR), min(int(ev.offset * SR), CLIP_SAMPLES)
        y = render_event(ev.label, ev.seed, (i1 - i0) / SR)[: i1 - i0]
        clip[i0:i1] += y * bg_rms * 10 ** (ev.snr_db / 20)
    for d in spec.distractors:  # after the events: a clip without any is unchanged
        i0, i1 = int(d.onset * SR), min(int(d.offset * SR), CLIP_SAMPLES)
        y = render_distractor(d.kind, d.seed, (i1 - i0) / SR)[: i1 - i0]
        clip[i0:i1] += y * bg_rms * 10 ** (d.snr_db / 20)
    clip *= 10 ** (spec.gain_db / 20)
    peak = np.abs(clip).max()
    if peak > 0.99:  # avoid clipping on export; a level change only
        clip *= 0.99 / peak
    return clip.astype(np.float32)


def plan_split(params: SynthParams, split: str, n: int) -> list[ClipSpec]:
    """The first ``n`` clips of ``split``."""
    return [plan_clip(params, split, i) for i in range(n)]


def weak_matrix(specs: list[ClipSpec]) -> np.ndarray:
    """(n_clips, 17) float32 0/1 matrix of the clips' weak labels."""
    y = np.zeros((len(specs), N_CLASSES), np.float32)
    for i, s in enumerate(specs):
        y[i, list(s.weak)] = 1.0
    return y
