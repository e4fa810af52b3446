"""A small folder in the official DCASE 2017 Task 4 layout, made from the lab's synthetic clips.

For tests, and for trying ``python -m utils.data build --from-dcase`` without the real audio::

    python -c "from utils.task.dcase_fixture import make_fixture; make_fixture('dcase_fixture')"

It has the real files' quirks (docs/sources.md#dcase-file-formats, #dcase-splits): weak-label
files without the ``Y`` prefix that the audio names carry, a CRLF evaluation label file,
labels with commas (``Air horn, truck horn``, ``Fire engine, fire truck (siren)``), ``0 0``
strong rows (a tag judged inaudible), 44.1 kHz 16-bit audio in mono and stereo files, clips
shorter than 10 s, and labelled clips whose audio is absent (as for videos no longer on
YouTube). :class:`Fixture` says which clips are short, stereo or missing.

Examples
--------
>>> import tempfile
>>> tmp = tempfile.TemporaryDirectory()
>>> fx = make_fixture(tmp.name, n_train=6, n_test=3, n_eval=3)
>>> sorted(p.name for p in fx.root.glob("*.csv"))[:2]
['groundtruth_strong_label_evaluation_set.csv', 'groundtruth_strong_label_testing_set.csv']
>>> tmp.cleanup()
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from utils.task.dcase_data import LABEL_FILES
from utils.task.labels import LABEL_INDEX, LABELS
from utils.task.synthesis import SR, SynthParams, plan_clip, render_clip

FIXTURE_SR = 44_100
COMMA_LABELS = tuple(lab for lab in LABELS if "," in lab)


@dataclass
class Fixture:
    """The folder and which clips (ids) have each quirk."""

    root: Path
    clips: dict[str, list[str]] = field(default_factory=dict)  # split -> listed clip ids
    short: dict[str, float] = field(default_factory=dict)  # clip id -> seconds of audio
    stereo: set[str] = field(default_factory=set)
    missing: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # split, file, line
    inaudible: list[str] = field(default_factory=list)  # clips with a "0 0" strong row


def _name(split: str, i: int) -> tuple[str, str, str]:
    ytid = f"f-{split[:2]}_{i:06d}"  # 11 characters, as YouTube ids
    start = (i * 10) % 600
    return ytid, f"{start:.3f}", f"{start + 10:.3f}"


def make_fixture(folder: str | os.PathLike, n_train: int = 48, n_test: int = 16,
                 n_eval: int = 16, seed: int = 7, missing_every: int = 7,
                 short_every: int = 5, stereo_every: int = 3) -> Fixture:
    """Write the fixture into ``folder`` (created; label files at the top, audio in
    ``audio/``) and return what it holds.

    Clip ``i`` of a split is missing from ``audio/`` when ``i % missing_every == 3``, is
    shorter than 10 s when ``i % short_every == 1`` and stereo when ``i % stereo_every ==
    2``. The first training clip is given both comma labels, so the comma quirk is always
    present; the first testing clip gets an extra ``0 0`` tag. A split of 0 clips has no
    label files.
    """
    root = Path(folder)
    audio_dir = root / "audio"
    audio_dir.mkdir(parents=True, exist_ok=True)
    fx = Fixture(root)
    params = SynthParams(seed=seed)
    for split, n in (("train", n_train), ("test", n_test), ("eval", n_eval)):
        if n == 0:
            continue  # no label files: a source without that set
        weak_name, strong_name = LABEL_FILES[split]
        weak_rows, strong_rows = [], []
        fx.clips[split] = []
        for i in range(n):
            spec = plan_clip(params, split, i)
            ytid, a, b = _name(split, i)
            cid = f"{ytid}_{a}_{b}"
            fx.clips[split].append(cid)
            labels = sorted({LABELS[k] for k in spec.weak}, key=LABEL_INDEX.__getitem__)
            if split == "train" and i == 0:
                labels = sorted({*labels, *COMMA_LABELS}, key=LABEL_INDEX.__getitem__)
            events = [(e.onset, e.offset, LABELS[e.label]) for e in spec.events]
            if split == "test" and i == 0:
                extra = next(lab for lab in LABELS if lab not in labels)
                labels = sorted({*labels, extra}, key=LABEL_INDEX.__getitem__)
                events.append((0.0, 0.0, extra))
                fx.inaudible.append(cid)
            if i % missing_every == 3:
                fx.missing[cid] = (split, weak_name, len(weak_rows) + 1)
            weak_rows += [f"{cid}.wav\t{a}\t{b}\t{lab}" for lab in labels]
            strong_rows += [f"{cid}.wav\t{'0' if off == 0 else f'{on:.3f}'}\t"
                            f"{'0' if off == 0 else f'{off:.3f}'}\t{lab}"
                            for on, off, lab in events]
            if cid in fx.missing:
                continue
            audio = resample_poly(render_clip(spec, params), FIXTURE_SR, SR).astype(np.float32)
            if i % short_every == 1:
                seconds = 6.5 + (i % 3)
                audio = audio[: int(seconds * FIXTURE_SR)]
                fx.short[cid] = seconds
            if i % stereo_every == 2:
                audio = np.stack([audio, 0.5 * audio], axis=1)
                fx.stereo.add(cid)
            peak = float(np.abs(audio).max()) or 1.0
            sf.write(audio_dir / f"Y{cid}.wav", audio / max(1.0, peak), FIXTURE_SR,
                     subtype="PCM_16")
        newline = "\r\n" if split == "eval" else "\n"  # the evaluation files are CRLF
        (root / weak_name).write_bytes((newline.join(weak_rows) + newline).encode())
        if strong_name:
            (root / strong_name).write_bytes((newline.join(strong_rows) + newline).encode())
    return fx
