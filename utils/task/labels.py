"""The 17 DCASE 2017 Task 4 classes and their real per-split clip counts.

Introduced in ``01_data.ipynb``. Every figure below comes from the official task repository's files
(``docs/sources.md#dcase-classes``: labels in official file order; ``#dcase-splits``: clips
per class and labels-per-clip histograms), namely
``sound_event_list_17_classes.txt`` and ``*_num_files_per_class.csv``.

Examples
--------
>>> from utils.task.labels import LABELS, LABEL_INDEX
>>> len(LABELS), LABELS[1]
(17, 'Air horn, truck horn')
>>> LABEL_INDEX["Car"]
11
"""

from __future__ import annotations

# Official order (docs/sources.md#dcase-classes). Two labels contain commas: never split on ",".
LABELS: tuple[str, ...] = (
    "Train horn",
    "Air horn, truck horn",
    "Car alarm",
    "Reversing beeps",
    "Bicycle",
    "Skateboard",
    "Ambulance (siren)",
    "Fire engine, fire truck (siren)",
    "Civil defense siren",
    "Police car (siren)",
    "Screaming",
    "Car",
    "Car passing by",
    "Bus",
    "Truck",
    "Motorcycle",
    "Train",
)
LABEL_INDEX: dict[str, int] = {name: i for i, name in enumerate(LABELS)}
N_CLASSES = len(LABELS)

# Short names for plot axes (same order as LABELS).
SHORT_NAMES: tuple[str, ...] = (
    "train horn", "air horn", "car alarm", "rev. beeps", "bicycle", "skateboard",
    "ambulance", "fire engine", "civil def.", "police", "screaming", "car",
    "car passing", "bus", "truck", "motorcycle", "train",
)

# "Warning" vs "Vehicle" groups: no official file gives the per-class split
# (docs/sources.md#dcase-classes).
WARNING_CLASSES: tuple[str, ...] = LABELS[:4] + LABELS[6:11]
VEHICLE_CLASSES: tuple[str, ...] = (LABELS[4], LABELS[5]) + LABELS[11:]

# Clips per class (docs/sources.md#dcase-splits), in LABELS order.
REAL_COUNTS: dict[str, dict[str, int]] = {
    "train": dict(zip(LABELS, (345, 313, 180, 245, 1897, 1516, 524, 2288, 1409, 2364,
                               636, 25077, 3598, 3617, 6885, 3162, 2075))),
    "test": dict(zip(LABELS, (30, 30, 30, 30, 30, 30, 32, 35, 31, 35,
                              30, 60, 32, 31, 60, 30, 50))),
    "eval": dict(zip(LABELS, (60, 58, 59, 59, 59, 59, 60, 59, 59, 62,
                              59, 265, 60, 58, 100, 60, 154))),
}
# Number of clips per split (docs/sources.md#dcase-splits).
REAL_CLIPS: dict[str, int] = {"train": 51172, "test": 488, "eval": 1103}
# Labels-per-clip histograms {labels: clips} (docs/sources.md#dcase-splits).
REAL_LABELS_PER_CLIP: dict[str, dict[int, int]] = {
    "train": {1: 46534, 2: 4331, 3: 296, 4: 9, 5: 1, 6: 1},
    "test": {1: 380, 2: 98, 3: 10},
    "eval": {1: 891, 2: 182, 3: 25, 4: 5},
}


def clip_fraction(split: str) -> dict[str, float]:
    """Fraction of the real split's clips that carry each label.

    Examples
    --------
    >>> round(clip_fraction("train")["Car"], 3)
    0.49
    """
    if split not in REAL_COUNTS:
        raise ValueError(f"unknown real split {split!r}: expected one of {sorted(REAL_COUNTS)}")
    counts, n = REAL_COUNTS[split], REAL_CLIPS[split]
    return {name: counts[name] / n for name in LABELS}
