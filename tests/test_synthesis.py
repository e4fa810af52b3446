"""The generator: determinism, class priors, label consistency, signatures."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from utils.task.features import CLASSROOM, log_mel
from utils.task.labels import LABELS, N_CLASSES, clip_fraction
from utils.task.synthesis import (
    CLIP_SAMPLES,
    DISTRACTORS,
    SR,
    SynthParams,
    plan_clip,
    plan_split,
    render_background,
    render_clip,
    render_distractor,
    render_event,
    weak_matrix,
)

P = SynthParams()


def test_same_seed_gives_identical_audio_and_features():
    a = render_clip(plan_clip(P, "train", 7))
    b = render_clip(plan_clip(P, "train", 7))
    assert np.array_equal(a, b)
    assert np.array_equal(log_mel(a, CLASSROOM), log_mel(b, CLASSROOM))


def test_other_seed_or_index_gives_other_clip():
    a = render_clip(plan_clip(P, "train", 7))
    assert not np.array_equal(a, render_clip(plan_clip(P, "train", 8)))
    assert not np.array_equal(a, render_clip(plan_clip(replace(P, seed=1), "train", 7)))


def test_clip_shape_and_level():
    y = render_clip(plan_clip(P, "test", 3))
    assert y.shape == (CLIP_SAMPLES,) and y.dtype == np.float32
    assert np.isfinite(y).all() and 0 < np.abs(y).max() <= 1.0


def test_training_class_priors_follow_the_real_split():
    y = weak_matrix(plan_split(P, "train", 6000))
    target = np.array([clip_fraction("train")[n] for n in LABELS])
    # binomial standard error at n=6000, 4 sigma, plus a small model tolerance
    tol = 4 * np.sqrt(target * (1 - target) / len(y)) + 0.005
    assert np.all(np.abs(y.mean(0) - target) <= tol), (y.mean(0) - target).round(3)
    car = LABELS.index("Car")
    assert abs(y[:, car].mean() - 0.49) < 0.03
    assert np.argmin(target) == LABELS.index("Car alarm")


def test_test_split_is_near_balanced():
    y = weak_matrix(plan_split(P, "test", 3000))
    frac = y.mean(0)
    others = [i for i, n in enumerate(LABELS) if n not in ("Car", "Truck", "Train")]
    assert frac[others].max() / frac[others].min() < 1.6
    assert frac[LABELS.index("Car")] > 1.5 * np.median(frac[others])


def test_labels_per_clip_between_one_and_three():
    counts = weak_matrix(plan_split(P, "valid", 500)).sum(1)
    assert counts.min() == 1 and counts.max() <= 3 and (counts >= 2).any()


def test_weak_labels_equal_event_labels_without_noise():
    for spec in plan_split(P, "test", 200):
        assert set(spec.weak) == {e.label for e in spec.events}
        for e in spec.events:
            assert 0 <= e.onset < e.offset <= 10.0


def test_label_noise_corrupts_only_training_labels():
    noisy = replace(P, label_noise=0.5)
    specs = plan_split(noisy, "train", 400)
    changed = sum(set(s.weak) != {e.label for e in s.events} for s in specs)
    assert 0.35 * 400 < changed < 0.65 * 400
    assert all(set(s.weak) == {e.label for e in s.events} for s in plan_split(noisy, "test", 100))


def test_larger_presets_extend_smaller_ones():
    # Clip i depends only on (seed, split, i): the first clips of a big split are the small one.
    assert plan_split(P, "train", 30) == plan_split(P, "train", 60)[:30]


@pytest.mark.parametrize("label", range(N_CLASSES))
def test_every_class_renders_a_finite_unit_rms_event(label):
    y = render_event(label, seed=1, seconds=3.0)
    assert y.shape == (3 * SR,) and np.isfinite(y).all()
    assert abs(np.sqrt(np.mean(y**2)) - 1) < 1e-3


def _mean_spectrum(label: int, seeds=range(4)) -> np.ndarray:
    """Average mel power distribution (sums to 1) of a class's events."""
    power = np.mean([(10 ** (log_mel(0.1 * render_event(label, s, 10.0), CLASSROOM) / 10)).mean(0)
                     for s in seeds], axis=0)
    return power / power.sum()


def test_families_are_confusable_within_and_distinct_between():
    sirens = ("Ambulance (siren)", "Police car (siren)", "Fire engine, fire truck (siren)")
    engines = ("Car", "Bus", "Truck", "Motorcycle")
    spectra = {n: _mean_spectrum(LABELS.index(n)) for n in sirens + engines}

    def dist(a: str, b: str) -> float:  # total-variation-like L1 distance of the spectra
        return float(np.abs(spectra[a] - spectra[b]).sum())

    within = max([dist(a, b) for a in sirens for b in sirens if a < b]
                 + [dist(a, b) for a in engines for b in engines if a < b])
    between = min(dist(a, b) for a in sirens for b in engines)
    assert between > 1.5 * within
    # ... but no two classes are identical
    assert min(dist(a, b) for a in engines for b in engines if a < b) > 0.05


def test_event_snr_sets_its_level_over_the_background():
    spec = plan_clip(P, "test", 0)
    ev = replace(spec.events[0], onset=2.0, offset=4.0)
    inside, outside = slice(2 * SR, 4 * SR), slice(6 * SR, 10 * SR)

    def ratio_db(snr: float) -> float:
        y = render_clip(replace(spec, events=(replace(ev, snr_db=snr),)))
        return 10 * np.log10(np.mean(y[inside] ** 2) / np.mean(y[outside] ** 2))

    # event + background power over background power: 10 log10(1 + 10^(snr/10)), ± bg texture
    for snr in (-10.0, 0.0, 10.0, 20.0):
        assert abs(ratio_db(snr) - 10 * np.log10(1 + 10 ** (snr / 10))) < 2.0, snr


def test_background_is_deterministic_and_unit_rms():
    a, b = render_background(5), render_background(5)
    assert np.array_equal(a, b)
    assert abs(np.sqrt(np.mean(a**2)) - 1) < 1e-3


def test_unknown_split_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        plan_clip(P, "dev", 0)


# --- the difficulty knobs (docs/sources.md#task-difficulty) -----------------------------------

# Checksums (utils.task.dataset.content_digest) of the presets as built by the generator before
# the difficulty knobs existed: the knobs' defaults must leave every existing preset's
# features and labels bit-identical, or every stored result would describe other data.
# Computed with the pinned numpy/scipy/librosa of requirements.txt; another BLAS or FFT build
# may round differently, and then this test says so.
BEFORE_THE_KNOBS = {"smoke": "6ae6b97f95f41722", "classroom": "bebcc92cbb988dfc"}


@pytest.mark.parametrize("preset", sorted(BEFORE_THE_KNOBS))
def test_default_knobs_leave_the_presets_bit_identical(preset, request, monkeypatch):
    from utils.task import dataset as D

    # The session's own build of the preset (its data root starts empty): a fresh build by
    # the code under test, never a cache from before, and one the other tests share.
    root = request.getfixturevalue(f"{preset}_data_root")
    monkeypatch.setenv(D.DATA_ENV, str(root))
    ds = D.load_dataset(preset, build_if_needed=False, progress=False)
    assert D.content_digest(ds) == BEFORE_THE_KNOBS[preset]


HARD = SynthParams(missed_labels=0.3, spurious_labels=0.02, distractor_rate=2.0,
                   event_seconds=(0.5, 1.5), overlap=1.0)


def test_a_default_knob_draws_nothing():
    # The knobs' streams are apart from the clip's: labels, event seeds, background and gain
    # of a clip stay those of the classroom clip, whatever the knobs.
    for split in ("train", "test"):
        for i in range(30):
            a, b = plan_clip(P, split, i), plan_clip(HARD, split, i)
            assert [e.label for e in a.events] == [e.label for e in b.events]
            assert [e.seed for e in a.events] == [e.seed for e in b.events]
            assert (a.background_seed, a.gain_db) == (b.background_seed, b.gain_db)
            assert a.distractors == ()


def test_weak_label_noise_only_on_training_clips_at_its_rates():
    specs = plan_split(replace(P, missed_labels=0.3), "train", 2000)
    true = sum(len(s.events) for s in specs)
    kept = sum(len(set(s.weak) & {e.label for e in s.events}) for s in specs)
    assert all(set(s.weak) <= {e.label for e in s.events} for s in specs)
    missed = 1 - kept / true
    assert abs(missed - 0.3) < 4 * np.sqrt(0.3 * 0.7 / true), missed
    specs = plan_split(replace(P, spurious_labels=0.02), "train", 2000)
    spurious = sum(len(set(s.weak) - {e.label for e in s.events}) for s in specs)
    absent = sum(N_CLASSES - len(s.events) for s in specs)
    assert abs(spurious / absent - 0.02) < 4 * np.sqrt(0.02 * 0.98 / absent)
    for split in ("valid", "test", "eval"):  # verified labels, as in the real challenge
        assert all(set(s.weak) == {e.label for e in s.events} for s in plan_split(HARD, split, 200))


def test_per_class_rates_act_on_their_class_only():
    car = LABELS.index("Car")
    rates = tuple(1.0 if c == car else 0.0 for c in range(N_CLASSES))
    specs = plan_split(replace(P, missed_labels=rates), "train", 300)
    assert any(car in {e.label for e in s.events} for s in specs)
    assert all(car not in s.weak for s in specs)
    assert all(set(s.weak) == {e.label for e in s.events} - {car} for s in specs)


def test_short_and_overlapping_events():
    for s in plan_split(HARD, "test", 200):
        assert all(0.5 <= e.offset - e.onset <= 1.5 + 1e-3 for e in s.events)
        assert all(0 <= e.onset and e.offset <= 10.0 for e in s.events)
        first = s.events[0]
        # overlap = 1: every later event shares time with the first
        assert all(e.onset <= first.offset and e.offset >= first.onset for e in s.events[1:])


def test_distractors_are_unlabelled_sounds_at_their_rate():
    specs = plan_split(replace(P, distractor_rate=2.0), "test", 400)
    n = [len(s.distractors) for s in specs]
    assert abs(np.mean(n) - 2.0) < 4 * np.sqrt(2.0 / len(n))
    assert {d.kind for s in specs for d in s.distractors} == set(DISTRACTORS)
    spec = next(s for s in specs if s.distractors)
    assert render_clip(spec).shape == (CLIP_SAMPLES,)
    assert not np.array_equal(render_clip(spec), render_clip(replace(spec, distractors=())))
    assert set(spec.weak) == {e.label for e in spec.events}


@pytest.mark.parametrize("kind", DISTRACTORS)
def test_every_distractor_renders_a_finite_unit_rms_sound(kind):
    y = render_distractor(kind, seed=3, seconds=4.0)
    assert y.shape == (4 * SR,) and np.isfinite(y).all()
    assert abs(np.sqrt(np.mean(y**2)) - 1) < 1e-3
    assert not np.array_equal(y, render_distractor(kind, seed=4, seconds=4.0))
