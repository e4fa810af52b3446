"""The official DCASE 2017 Task 4 files as a lab dataset: which clips, labels, splits, features.

Introduced in docs/real-data.md, section "Using the real DCASE 2017 Task 4 data";
:func:`utils.task.dataset.build_dcase` (``python -m utils.data build --from-dcase DIR``)
turns what this module reads into a cache of the same format as the embedded presets.

The source folder holds the official label files (anywhere below it, e.g. in the task
repository's ``groundtruth_release/``) and the audio, ``Y<ytid>_<start>_<end>.wav`` or
``.flac``, in any sub-folder (docs/sources.md#dcase-file-formats, #dcase-audio):

=========  =================================================  ==========================
split      labels                                             required
=========  =================================================  ==========================
train      ``groundtruth_weak_label_training_set.csv``         yes (minus ``valid``)
valid      carved from the training set (:func:`stratified_valid`)
test       ``groundtruth_weak_label_testing_set.csv``          yes
           ``groundtruth_strong_label_testing_set.csv``        no (events)
eval       ``groundtruth_weak_label_evaluation_set.csv``       no (no ``eval`` split)
           ``groundtruth_strong_label_evaluation_set.csv``     no (events)
=========  =================================================  ==========================

The audio rule (:func:`clip_features`): every clip is read with
:func:`utils.task.dcase_io.load_audio` (channels averaged to mono, resampled to the
features' 16 kHz), then **zero-padded at the end** to 10 s when shorter and **cut** to the
first 10 s when longer, and only then turned into log-mel features. A clip listed in a label
file whose audio is not found is never dropped silently: :class:`SourcePlan` keeps it in
``missing`` with its file and line.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf

from utils.common.files import sha256_of
from utils.task import dcase_io as io
from utils.task.features import FeatureConfig, log_mel
from utils.task.labels import LABEL_INDEX

CLIP_SECONDS = 10.0
VALID_SEED = 0
VALID_FRACTION = 0.1
AUDIO_RULE = ("channels averaged to mono; resampled to the features' rate with "
              "librosa.resample (utils.task.dcase_io.load_audio); zero-padded at the end to "
              "10 s when shorter, cut to the first 10 s when longer")
VALID_RULE = ("training clips grouped by their label set (groups in sorted order, each "
              "shuffled with numpy default_rng(seed)); over the concatenated groups, position "
              "j goes to valid when floor((j+1)*fraction) > floor(j*fraction), so every "
              "label set gives valid its share to within one clip")

LABEL_FILES = {
    "train": ("groundtruth_weak_label_training_set.csv", None),
    "test": ("groundtruth_weak_label_testing_set.csv",
             "groundtruth_strong_label_testing_set.csv"),
    "eval": ("groundtruth_weak_label_evaluation_set.csv",
             "groundtruth_strong_label_evaluation_set.csv"),
}
REQUIRED = ("train", "test")


class DcaseSourceError(io.DcaseFormatError):
    """The source folder cannot make a dataset: missing files, no usable clips, bad audio."""


@dataclass(frozen=True)
class Clip:
    """One labelled clip: its id, labels, audio file (``None``: missing) and label line."""

    clip_id: str
    labels: tuple[str, ...]
    audio: Path | None
    file: str
    line: int


@dataclass
class SourcePlan:
    """What a source folder holds, split the lab's way."""

    root: Path
    splits: dict[str, list[Clip]]  # usable clips (audio found), file order
    missing: list[tuple[str, Clip]]  # (split, clip) listed in a label file, no audio
    strong: dict[str, list[tuple[str, float, float, str]]]  # split -> (clip, on, off, label)
    label_files: dict[str, str]  # file name -> sha256
    valid_ids: list[str]
    valid_fraction: float
    extra_audio: int = 0  # audio files no label file lists
    # missing clip id -> a file (relative to root) whose name differs only in case: never
    # taken for the clip (YouTube ids are case-sensitive), named for the user to check
    case_variants: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def _find_one(root: Path, name: str) -> Path | None:
    found = sorted(p for p in root.rglob(name) if p.is_file())
    if len(found) > 1:
        raise DcaseSourceError(
            f"{root}: expected one {name}, found {len(found)}: "
            f"{', '.join(str(p.relative_to(root)) for p in found)}")
    return found[0] if found else None


def audio_index(root: Path) -> dict[str, Path]:
    """Clip id -> audio file, for every ``Y<ytid>_<start>_<end>.wav|.flac`` below ``root``.

    The extension matches in any case (``.WAV``, ``.Flac``). ``.wav`` wins over ``.flac``;
    among equal names, the first path in sorted order. Files whose names are not clip names
    are ignored.
    """
    return _audio_index(root)[0]


def _audio_index(root: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """:func:`audio_index`, and every audio name lower-cased (for the case-variant hint)."""
    found, lowered = io.audio_files(sorted(root.rglob("*")))
    files: dict[str, Path] = {}
    for p in found.values():
        try:
            files[io.clip_id(p.name, audio=True)] = p
        except io.DcaseFormatError:
            continue
    return files, lowered


def _first_lines(path: Path) -> dict[str, int]:
    """Clip id -> first line of a (validated) label file that names it."""
    lines: dict[str, int] = {}
    for line, filename, *_ in io._label_rows(path):
        lines.setdefault(io.clip_id(filename), line)
    return lines


def stratified_valid(clips: list[Clip], fraction: float = VALID_FRACTION,
                     seed: int = VALID_SEED) -> list[str]:
    """Clip ids carved from the training set for validation, stratified by label set.

    Examples
    --------
    >>> cs = [Clip(f"c{i}", ("Car",) if i % 2 else ("Train",), None, "f", i) for i in range(20)]
    >>> v = stratified_valid(cs, 0.2)
    >>> len(v), sorted(Counter(c.labels for c in cs if c.clip_id in v).values())
    (4, [2, 2])
    """
    if not 0 < fraction < 1:
        raise ValueError(f"valid fraction {fraction!r}: expected a number in (0, 1)")
    groups: dict[tuple[str, ...], list[str]] = {}
    for c in clips:
        groups.setdefault(c.labels, []).append(c.clip_id)
    rng = np.random.default_rng(seed)
    order: list[str] = []
    for key in sorted(groups):
        ids = groups[key]
        order += [ids[i] for i in rng.permutation(len(ids))]
    return [cid for j, cid in enumerate(order)
            if np.floor((j + 1) * fraction) > np.floor(j * fraction)]


def _refuse_shared_clips(root: Path, listed: dict[str, list[Clip]]) -> None:
    """Refuse a clip listed in more than one weak-label file: it would land in two splits,
    each with its own labels, and a model would be scored on clips it trained on.

    Examples
    --------
    >>> a, b = Clip("x", ("Car",), None, "train.csv", 3), Clip("x", ("Bus",), None, "test.csv", 7)
    >>> try:
    ...     _refuse_shared_clips(Path("src"), {"train": [a], "test": [b]})
    ... except DcaseSourceError as e:
    ...     print(str(e).split(";")[0])
    src: clip x is listed in train.csv line 3 and in test.csv line 7
    """
    first: dict[str, Clip] = {}
    shared: list[tuple[Clip, Clip]] = []
    for cs in listed.values():
        for c in cs:
            if c.clip_id in first:
                shared.append((first[c.clip_id], c))
            else:
                first[c.clip_id] = c
    if not shared:
        return
    (a, b), more = shared[0], len(shared) - 1
    others = "; ".join(f"{y.clip_id} in {x.file} line {x.line} and {y.file} line {y.line}"
                       for x, y in shared[1:4])
    tail = (f" ({more} more: {others}{', ...' if more > 3 else ''})" if more else "")
    raise DcaseSourceError(
        f"{root}: clip {a.clip_id} is listed in {a.file} line {a.line} and in {b.file} line "
        f"{b.line}; expected each clip in one label file (one split), or the test F1 counts "
        f"clips the model trained on{tail}. Remove it from all but one file")


def read_source(source: str | os.PathLike, valid_fraction: float = VALID_FRACTION,
                seed: int = VALID_SEED) -> SourcePlan:
    """Read and check the label files and the audio index of ``source``; write nothing.

    Raises
    ------
    DcaseSourceError
        The folder is missing, a required label file is absent (or present twice), a clip
        is listed in two label files (two splits), or a split has no clip with audio.
        Label-file format errors raise :class:`~utils.task.dcase_io.DcaseFormatError` with
        file and line.
    """
    root = Path(source)
    if not root.is_dir():
        found = "a file" if root.exists() else "nothing (no such folder)"
        raise DcaseSourceError(f"{root}: expected a folder with the DCASE 2017 Task 4 label "
                               f"files and audio, found {found}")
    paths: dict[str, tuple[Path | None, Path | None]] = {}
    for split, (weak_name, strong_name) in LABEL_FILES.items():
        weak = _find_one(root, weak_name)
        strong = _find_one(root, strong_name) if strong_name else None
        if weak is None and split in REQUIRED:
            raise DcaseSourceError(
                f"{root}: expected the label file {weak_name} in it or below it (as in the "
                f"task repository's groundtruth_release/), found none")
        paths[split] = (weak, strong)
    audio, lowered = _audio_index(root)
    label_files: dict[str, str] = {}
    listed: dict[str, list[Clip]] = {}
    strong_rows: dict[str, list[tuple[str, float, float, str]]] = {}
    for split, (weak, strong) in paths.items():
        if weak is None:
            continue
        tags = io.read_weak_labels(weak)
        lines = _first_lines(weak)
        listed[split] = []
        for filename, labels in tags.items():
            cid = io.clip_id(filename)
            listed[split].append(Clip(cid, tuple(labels), audio.get(cid), weak.name,
                                      lines[cid]))
        label_files[weak.name] = sha256_of(weak)
        if strong is not None:
            strong_rows[split] = [(io.clip_id(e.filename), e.onset, e.offset, e.label)
                                  for e in io.read_strong_labels(strong)]
            label_files[strong.name] = sha256_of(strong)
    _refuse_shared_clips(root, listed)
    missing = [(s, c) for s, cs in listed.items() for c in cs if c.audio is None]
    variants = {c.clip_id: str(v.relative_to(root)) for _, c in missing
                if (v := io.case_variant(c.clip_id, lowered)) is not None}
    usable = {s: [c for c in cs if c.audio is not None] for s, cs in listed.items()}
    valid_ids = stratified_valid(usable["train"], valid_fraction, seed)
    chosen = set(valid_ids)
    splits = {"train": [c for c in usable["train"] if c.clip_id not in chosen],
              "valid": [c for c in usable["train"] if c.clip_id in chosen],
              "test": usable["test"]}
    if "eval" in usable:
        splits["eval"] = usable["eval"]
    for split, cs in splits.items():
        if not cs:
            n_missing = sum(1 for s, _ in missing if s == ("train" if split == "valid"
                                                            else split))
            raise DcaseSourceError(
                f"{root}: expected at least one clip with audio in split {split!r}, found "
                f"none ({n_missing} listed clips have no Y<ytid>_<start>_<end>.wav|.flac "
                f"below {root}; {len(audio)} audio files found)")
    keep = {s: {c.clip_id for c in cs} for s, cs in splits.items()}
    strong = {s: [r for r in strong_rows.get(s, []) if r[0] in keep[s]]
              for s in splits if s != "train"}
    n_listed = len({c.clip_id for cs in listed.values() for c in cs})
    return SourcePlan(root, splits, missing, strong, label_files, valid_ids, valid_fraction,
                      extra_audio=max(0, len(audio) - (n_listed - len(missing))),
                      case_variants=variants)


def chunk_key(clips: list[Clip], cfg: FeatureConfig, code: str) -> str:
    """A hash of what a chunk's features depend on: clips, audio files (size, mtime),
    feature parameters and code. A chunk file with another key is never reused."""
    stamp = []
    for c in clips:
        st = c.audio.stat()
        stamp.append([c.clip_id, str(c.audio), st.st_size, st.st_mtime_ns])
    text = json.dumps([stamp, cfg.to_dict(), code])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def clip_features(path: Path, cfg: FeatureConfig) -> tuple[np.ndarray, int]:
    """Log-mel features of one audio file by the audio rule; also its length in samples.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from utils.task.features import CLASSROOM
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "Yabc_0.000_10.000.wav"
    >>> sf.write(p, np.zeros((22050, 2)), 44100)  # 0.5 s of stereo at 44.1 kHz
    >>> x, n = clip_features(p, CLASSROOM)
    >>> x.shape, n
    ((200, 40), 8000)
    >>> tmp.cleanup()
    """
    audio = io.load_audio(path, cfg.sr)
    target = int(round(CLIP_SECONDS * cfg.sr))
    fixed = np.zeros(target, np.float32)
    fixed[: min(target, audio.size)] = audio[:target]
    return log_mel(fixed, cfg), int(audio.size)


def compute_chunk(args: tuple[list[Clip], FeatureConfig, Path]) -> tuple[Path, int]:
    """Worker: the features of a chunk of clips, written (atomically) to ``out``."""
    clips, cfg, out = args
    x = np.empty((len(clips), cfg.n_frames, cfg.n_mels), np.float32)
    lengths = np.empty(len(clips), np.int64)
    rates = np.empty(len(clips), np.int64)
    channels = np.empty(len(clips), np.int64)
    for j, c in enumerate(clips):
        try:
            info = sf.info(c.audio)
            rates[j], channels[j] = info.samplerate, info.channels
        except (sf.LibsndfileError, RuntimeError):
            pass  # load_audio below raises the clear error
        x[j], lengths[j] = clip_features(c.audio, cfg)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as f:
        np.savez(f, features=x, lengths=lengths, rates=rates, channels=channels)
    os.replace(tmp, out)
    return out, len(clips)


def audio_summary(lengths: np.ndarray, rates: np.ndarray, channels: np.ndarray,
                  sr: int) -> dict:
    """Counts for the manifest: source sample rates and channels, padded and cut clips."""
    target = int(round(CLIP_SECONDS * sr))
    return {"sample_rates": {str(k): v for k, v in sorted(Counter(rates.tolist()).items())},
            "channels": {str(k): v for k, v in sorted(Counter(channels.tolist()).items())},
            "padded": int((lengths < target).sum()), "cut": int((lengths > target).sum())}


def weak_matrix(clips: list[Clip]) -> np.ndarray:
    y = np.zeros((len(clips), len(LABEL_INDEX)), np.float32)
    for i, c in enumerate(clips):
        y[i, [LABEL_INDEX[lab] for lab in c.labels]] = 1.0
    return y
