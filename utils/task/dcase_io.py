"""Read and write the real DCASE 2017 Task 4 files (labels, download lists, audio, submissions).

Introduced in ``01_data.ipynb``, for readers who have the real audio. Every format rule and
quirk below comes from ``docs/sources.md``: ``#dcase-classes`` (the 17 labels),
``#dcase-file-formats``, ``#dcase-scoring`` (quirks of the official Subtask-A scorer
``Models.py``) and ``#dcase-audio`` (the evaluation-set zip). Labels come from
:mod:`utils.task.labels`; they are never split on commas, because two of them contain one.

Every problem with an input raises :class:`DcaseFormatError`, whose message names the file,
the 1-based line number where there is one, what was expected and what was found.

Examples
--------
>>> clip_id("-Gbohom8C4Q_30.000_40.000.wav")
'-Gbohom8C4Q_30.000_40.000'
>>> audio_filename("-Gbohom8C4Q_30.000_40.000.wav")
'Y-Gbohom8C4Q_30.000_40.000.wav'
"""

from __future__ import annotations

import csv
import difflib
import math
import os
import struct
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import tqdm  # noqa: F401  (pooch's progress bar needs it)

from utils.common.errors import LabError
from utils.common.files import atomic_write_text
from utils.task.labels import LABEL_INDEX, LABELS, N_CLASSES

__all__ = [
    "EVAL_ZIP",
    "DcaseFormatError",
    "DownloadRow",
    "RemoteZip",
    "StrongLabel",
    "audio_extension",
    "audio_filename",
    "audio_files",
    "case_variant",
    "clip_id",
    "fetch_evaluation_audio",
    "find_audio",
    "load_audio",
    "read_download_list",
    "read_strong_labels",
    "read_weak_labels",
    "read_weak_labels_matrix",
    "write_submission",
]

PathLike = str | os.PathLike[str]

# The extensions the official scorer strips (docs/sources.md#dcase-scoring).
_AUDIO_EXTENSIONS = (".wav", ".flac")
_CLIP_SECONDS = 10.0
# Strong-label offsets are written by hand ("10", "9.417"); allow float round-off only.
_TIME_TOLERANCE = 0.01
_LABEL_COLUMNS = "4 tab-separated columns (filename, start, end, label)"
_SHOW_AT_MOST = 5  # how many offending names an error message lists


class DcaseFormatError(LabError, ValueError):
    """A DCASE file, folder or argument is not in the expected format.

    The message names the file, the 1-based line number where there is one, what was
    expected and what was found.

    Examples
    --------
    >>> clip_id("a.txt")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    utils.task.dcase_io.DcaseFormatError: a.txt: expected a clip name <ytid>_<start>_<end>, ...
    """


def _where(path: PathLike, line: int | None = None) -> str:
    return f"{os.fspath(path)}" if line is None else f"{os.fspath(path)} line {line}"


def _first_few(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in names[:_SHOW_AT_MOST])
    return shown + (", ..." if len(names) > _SHOW_AT_MOST else "")


# ---------------------------------------------------------------------------------------
# Text files
# ---------------------------------------------------------------------------------------


def _read_lines(path: PathLike) -> list[tuple[int, str]]:
    """Return ``(line_number, text)`` pairs, without line endings and trailing blank lines.

    Lines are decoded one by one so that a non-UTF-8 byte can be reported with its line.
    """
    p = Path(path)
    if not p.is_file():
        found = "a folder" if p.is_dir() else "nothing (no such file)"
        raise DcaseFormatError(f"{_where(path)}: expected a text file, found {found}")
    data = p.read_bytes()
    data = data.removeprefix(b"\xef\xbb\xbf")  # UTF-8 BOM, as written by some editors
    if not data.strip():
        raise DcaseFormatError(f"{_where(path)}: expected at least one row, found an empty file")
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.removesuffix(b"\r")  # evaluation files: CRLF (docs/sources.md#dcase-file-formats)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start : exc.start + 1].hex()
            raise DcaseFormatError(
                f"{_where(path, number)}: expected UTF-8 text, "
                f"found byte 0x{bad} at column {exc.start + 1}"
            ) from None
        if "\r" in text:
            raise DcaseFormatError(
                f"{_where(path, number)}: expected LF or CRLF line endings, found a bare CR"
            )
        lines.append((number, text))
    while lines and not lines[-1][1].strip():
        lines.pop()
    return lines


def _check_label(path: PathLike, line: int, label: str) -> str:
    if label not in LABEL_INDEX:
        close = difflib.get_close_matches(label, LABELS, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise DcaseFormatError(
            f"{_where(path, line)}: expected one of the {N_CLASSES} DCASE 2017 Task 4 labels "
            f"(utils.task.labels.LABELS), found {label!r}{hint}"
        )
    return label


def _parse_time(path: PathLike, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise DcaseFormatError(
            f"{_where(path, line)}: expected a number in the {column} column, found {text!r}"
        )
    return value


def _label_rows(path: PathLike) -> list[tuple[int, str, float, float, str]]:
    """Parse the 4-column tab-separated format shared by weak, strong and submission files."""
    rows = []
    for line, text in _read_lines(path):
        fields = [f.strip() for f in text.split("\t")] if text.strip() else []
        if len(fields) != 4:
            found = "an empty line" if not fields else str(len(fields))
            hint = ""
            if len(fields) == 1 and "," in text:
                hint = " (comma-separated? read download lists with read_download_list)"
            raise DcaseFormatError(
                f"{_where(path, line)}: expected {_LABEL_COLUMNS}, found {found}{hint}"
            )
        filename, start, end, label = fields
        if not filename:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected a clip filename in column 1, found nothing"
            )
        a = _parse_time(path, line, "start", start)
        b = _parse_time(path, line, "end", end)
        rows.append((line, filename, a, b, _check_label(path, line, label)))
    return rows


class _Spellings:
    """One spelling per clip within a file.

    The official scorer strips ``.wav`` and ``.flac`` before comparing names
    (docs/sources.md#dcase-scoring), so ``a.wav``, ``a.flac`` and ``a`` are one clip; a
    reader keyed on the name as written would count three.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = path
        self.first: dict[str, tuple[str, int]] = {}

    def check(self, line: int, filename: str) -> str:
        """The clip id of ``filename`` on ``line``; raise if it was spelt otherwise before."""
        where = _where(self.path, line)
        if "/" in filename or "\\" in filename:
            raise DcaseFormatError(
                f"{where}: expected a clip filename <ytid>_<start>_<end>.wav without a "
                f"folder, found {filename!r}"
            )
        clip = filename
        for ext in _AUDIO_EXTENSIONS:
            clip = clip.removesuffix(ext)
        _split_clip(clip, where)
        known, first = self.first.setdefault(clip, (filename, line))
        if known != filename:
            raise DcaseFormatError(
                f"{where}: expected one spelling per clip, found {filename!r} but line "
                f"{first} has {known!r} (the official scorer reads both as clip {clip!r})"
            )
        return clip


def read_weak_labels(path: PathLike) -> dict[str, list[str]]:
    """Read a weak-label (clip-level tag) file or a Subtask-A submission.

    The format (docs/sources.md#dcase-file-formats) is tab-separated with no header and exactly four
    columns, ``filename<TAB>start<TAB>end<TAB>label``, one row per (clip, label); LF or
    CRLF line endings; a UTF-8 BOM is stripped. The rows of one clip need not be adjacent.

    Parameters
    ----------
    path
        A ``groundtruth_weak_label_*_set.csv`` file or a submission file.

    Returns
    -------
    dict[str, list[str]]
        Clip filename exactly as written (``<ytid>_<start>_<end>.wav``, no ``Y`` prefix),
        in order of first appearance, mapped to its labels in :data:`utils.task.labels.LABELS`
        order.

    Raises
    ------
    DcaseFormatError
        Empty file, non-UTF-8 bytes, a wrong column count, a non-numeric start or end, a
        label that is not one of the 17, the same (filename, label) row twice, a filename
        that is not ``<ytid>_<start>_<end>[.wav|.flac]``, one clip spelt two ways
        (``a.wav`` and ``a.flac``: the scorer reads both as one clip), a negative time,
        start > end, or start and end that differ from the name's segment (0.01 s
        tolerance).

    Notes
    -----
    Like the official scorer (docs/sources.md#dcase-scoring), rows whose end time is 0 are
    ignored (after the checks of the name and of negative times), so a clip whose only
    rows have end 0 is absent from the result.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "weak.csv"
    >>> _ = p.write_text("a_0.000_10.000.wav\\t0.000\\t10.000\\tTrain\\n"
    ...                  "a_0.000_10.000.wav\\t0.000\\t10.000\\tTrain horn\\n")
    >>> read_weak_labels(p)
    {'a_0.000_10.000.wav': ['Train horn', 'Train']}
    >>> tmp.cleanup()
    """
    first_line: dict[tuple[str, str], int] = {}
    spelling = _Spellings(path)
    tags: dict[str, list[str]] = {}
    for line, filename, start, end, label in _label_rows(path):
        clip = spelling.check(line, filename)
        if start < 0 or end < 0:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected times >= 0 s, found start {start} and end {end}"
            )
        if end == 0.0:
            continue  # the official scorer skips these rows (docs/sources.md#dcase-scoring)
        if start > end:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected start <= end, found start {start} > end {end}"
            )
        _ytid, seg_start, seg_end = _split_clip(clip, _where(path, line))
        if (abs(start - float(seg_start)) > _TIME_TOLERANCE
                or abs(end - float(seg_end)) > _TIME_TOLERANCE):
            raise DcaseFormatError(
                f"{_where(path, line)}: expected start and end equal to the clip name's "
                f"segment {seg_start} to {seg_end}, found {start} to {end} for {filename!r}"
            )
        key = (clip, label)
        if key in first_line:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected each (filename, label) pair once, found "
                f"{filename!r} / {label!r} again (first on line {first_line[key]})"
            )
        first_line[key] = line
        tags.setdefault(filename, []).append(label)
    return {clip: sorted(labels, key=LABEL_INDEX.__getitem__) for clip, labels in tags.items()}


def read_weak_labels_matrix(path: PathLike) -> tuple[list[str], np.ndarray]:
    """Read a weak-label file as clip names and a 0/1 label matrix.

    Parameters
    ----------
    path
        As for :func:`read_weak_labels`.

    Returns
    -------
    names : list[str]
        Clip filenames in order of first appearance.
    y : np.ndarray
        ``float32`` array of shape ``(len(names), 17)``, columns in ``LABELS`` order.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "weak.csv"
    >>> _ = p.write_text("a_0.000_10.000.wav\\t0.000\\t10.000\\tCar\\n")
    >>> names, y = read_weak_labels_matrix(p)
    >>> names, y.shape, y.dtype, int(y[0, 11])
    (['a_0.000_10.000.wav'], (1, 17), dtype('float32'), 1)
    >>> tmp.cleanup()
    """
    tags = read_weak_labels(path)
    names = list(tags)
    y = np.zeros((len(names), N_CLASSES), dtype=np.float32)
    for row, name in enumerate(names):
        y[row, [LABEL_INDEX[label] for label in tags[name]]] = 1.0
    return names, y


@dataclass(frozen=True)
class StrongLabel:
    """One sound event of a strong-label file: times in seconds within the 10-s clip."""

    filename: str
    onset: float
    offset: float
    label: str


def read_strong_labels(path: PathLike) -> list[StrongLabel]:
    """Read a strong-label (event onset/offset) file.

    Same four tab-separated columns as :func:`read_weak_labels`
    (docs/sources.md#dcase-file-formats), but the two numbers are the event's onset and
    offset *within the clip*, written as ``3.8``, ``10`` or ``0``.

    Parameters
    ----------
    path
        A ``groundtruth_strong_label_{testing,evaluation}_set.csv`` file.

    Returns
    -------
    list[StrongLabel]
        The events in file order, without the ``0 0`` rows.

    Raises
    ------
    DcaseFormatError
        Anything :func:`read_weak_labels` rejects except duplicates and the segment check
        (the times are within the clip), plus an offset beyond the 10-s clip (0.01 s
        tolerance).

    Notes
    -----
    A ``0 0`` row means the tagged sound was judged inaudible; both official scorers drop
    these rows (docs/sources.md#dcase-file-formats), and so does this reader.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "strong.csv"
    >>> _ = p.write_text("b_0.000_10.000.wav\\t0.165\\t3.8\\tTrain horn\\n"
    ...                  "c_60.000_70.000.wav\\t0\\t0\\tTruck\\n")
    >>> read_strong_labels(p)
    [StrongLabel(filename='b_0.000_10.000.wav', onset=0.165, offset=3.8, label='Train horn')]
    >>> tmp.cleanup()
    """
    events = []
    spelling = _Spellings(path)
    for line, filename, onset, offset, label in _label_rows(path):
        spelling.check(line, filename)
        if onset < 0 or offset < 0:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected times >= 0 s, found onset {onset} "
                f"and offset {offset}"
            )
        if onset > offset:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected onset <= offset, found onset {onset} "
                f"> offset {offset}"
            )
        if offset > _CLIP_SECONDS + _TIME_TOLERANCE:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected offset <= {_CLIP_SECONDS} s (the clip "
                f"length), found {offset}"
            )
        if offset == 0.0:
            continue  # "0 0": inaudible, dropped (docs/sources.md#dcase-file-formats)
        events.append(StrongLabel(filename, onset, offset, label))
    return events


@dataclass(frozen=True)
class DownloadRow:
    """One row of ``training_set.csv`` / ``testing_set.csv``: a clip to download."""

    ytid: str
    start: float
    end: float
    labels: tuple[str, ...]
    ids: tuple[str, ...]


# Longest first, so "Train horn" wins over "Train" and "Car passing by" over "Car".
_LABELS_LONGEST_FIRST = sorted(LABELS, key=len, reverse=True)


def _split_labels(path: PathLike, line: int, cell: str) -> tuple[str, ...]:
    """Split a comma-joined label cell by matching known labels, never by splitting on ','."""
    labels: list[str] = []
    pos = 0
    while True:
        for label in _LABELS_LONGEST_FIRST:
            end = pos + len(label)
            # A match must end at the end of the cell or at a separating comma.
            if cell.startswith(label, pos) and (end == len(cell) or cell[end] == ","):
                break
        else:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected comma-joined labels from "
                f"utils.task.labels.LABELS, "
                f"found {cell[pos:]!r} at character {pos + 1} of {cell!r}"
            )
        labels.append(label)
        if end == len(cell):
            return tuple(labels)
        pos = end + 1
        while pos < len(cell) and cell[pos] == " ":
            pos += 1


def read_download_list(path: PathLike) -> list[DownloadRow]:
    """Read a download list (``training_set.csv`` or ``testing_set.csv``).

    The format (docs/sources.md#dcase-file-formats) is CSV with no header and CRLF line
    endings; columns are YouTube id, start, end, labels, AudioSet ids. Multi-label cells are
    quoted and comma-joined, and two labels contain commas themselves (``Air horn, truck horn``), so
    the label cell is split by matching known labels, longest first.

    Parameters
    ----------
    path
        The CSV file.

    Returns
    -------
    list[DownloadRow]
        Rows in file order; ``labels`` and ``ids`` keep the file's order (they are paired).

    Raises
    ------
    DcaseFormatError
        Empty file, bad bytes or quoting, not 5 columns, a non-numeric time, a segment
        that does not satisfy 0 <= start < end, an unknown label, or a different number of
        labels and AudioSet ids.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "testing_set.csv"
    >>> _ = p.write_bytes(b'-Gbohom8C4Q,30.000,40.000,"Train horn,Air horn, truck horn,Train",'
    ...                   b'"/m/0284vy3,/m/05x_td,/m/07jdr"\\r\\n')
    >>> read_download_list(p)[0].labels
    ('Train horn', 'Air horn, truck horn', 'Train')
    >>> tmp.cleanup()
    """
    rows = []
    for line, text in _read_lines(path):
        try:
            fields = next(csv.reader([text], strict=True)) if text.strip() else []
        except csv.Error as exc:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected valid CSV quoting, found {exc}"
            ) from None
        if len(fields) != 5:
            found = "an empty line" if not fields else str(len(fields))
            raise DcaseFormatError(
                f"{_where(path, line)}: expected 5 comma-separated columns "
                f"(ytid, start, end, labels, ids), found {found}"
            )
        ytid, start, end, label_cell, id_cell = (f.strip() for f in fields)
        if not ytid:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected a YouTube id in column 1, found nothing"
            )
        labels = _split_labels(path, line, label_cell)
        ids = tuple(i.strip() for i in id_cell.split(","))  # AudioSet ids contain no comma
        if len(labels) != len(ids):
            raise DcaseFormatError(
                f"{_where(path, line)}: expected as many AudioSet ids as labels, found "
                f"{len(labels)} labels {labels} and {len(ids)} ids {ids}"
            )
        a = _parse_time(path, line, "start", start)
        b = _parse_time(path, line, "end", end)
        if not 0 <= a < b:
            raise DcaseFormatError(
                f"{_where(path, line)}: expected a segment with 0 <= start < end, found "
                f"start {start} and end {end}"
            )
        rows.append(DownloadRow(ytid=ytid, start=a, end=b, labels=labels, ids=ids))
    return rows


# ---------------------------------------------------------------------------------------
# Clip names
# ---------------------------------------------------------------------------------------


def _split_clip(name: str, where: str) -> tuple[str, str, str]:
    """``'<ytid>_<start>_<end>'`` -> its three parts (YouTube ids may contain ``_``)."""
    parts = name.rsplit("_", 2)
    if len(parts) != 3 or not parts[0]:
        raise DcaseFormatError(
            f"{where}: expected a clip name <ytid>_<start>_<end>, found {name!r}"
        )
    times = []
    for text in parts[1:]:
        try:
            times.append(float(text))
        except ValueError:
            times.append(math.nan)
        if not math.isfinite(times[-1]):
            raise DcaseFormatError(
                f"{where}: expected a clip name <ytid>_<start>_<end> with numeric start and "
                f"end, found {text!r} in {name!r}"
            )
    if not 0 <= times[0] < times[1]:
        raise DcaseFormatError(
            f"{where}: expected a clip name <ytid>_<start>_<end> with 0 <= start < end, "
            f"found start {parts[1]} and end {parts[2]} in {name!r}"
        )
    return parts[0], parts[1], parts[2]


def _is_youtube_id(text: str) -> bool:
    """Whether ``text`` is a YouTube id: exactly 11 characters from ``[A-Za-z0-9_-]``.

    >>> _is_youtube_id("-Gbohom8C4Q"), _is_youtube_id("abc"), _is_youtube_id("Y-Gbohom8C4Q")
    (True, False, False)
    """
    return len(text) == 11 and all(c.isascii() and (c.isalnum() or c in "_-") for c in text)


def _looks_like_audio_name(clip: str) -> bool:
    """Whether a clip id is an audio file's ``Y`` + 11-character YouTube id.

    YouTube ids have exactly 11 characters from ``[A-Za-z0-9_-]``, so a 12-character id
    that starts with ``Y`` is an audio file name whose prefix was not stripped.
    """
    ytid = clip.rsplit("_", 2)[0]
    return ytid[:1] == "Y" and _is_youtube_id(ytid[1:])


def audio_extension(name: PathLike) -> str | None:
    """The audio extension of file ``name`` in lower case, whatever case it is written in
    (``.WAV``, ``.Flac``); ``None`` for any other file.

    Audio files from other tools or file systems often carry upper-case extensions; the
    clip is the same. Label-file names are not matched this way: the official scorer strips
    only ``.wav`` and ``.flac`` as written.

    Examples
    --------
    >>> audio_extension("Yx_0.000_10.000.WAV"), audio_extension("a.Flac"), audio_extension("a.mp3")
    ('.wav', '.flac', None)
    """
    lower = Path(name).name.lower()
    return next((ext for ext in _AUDIO_EXTENSIONS if lower.endswith(ext)), None)


def audio_files(paths: Iterable[Path]) -> tuple[dict[str, Path], dict[str, Path]]:
    """Index audio files by their name without extension (``Y<ytid>_<start>_<end>``).

    Returns the index, and every name lower-cased for the hint about a clip whose file
    differs from its name only in case (:func:`case_variant`). When one name has several
    files, ``.wav`` wins over ``.flac``, an extension in lower case over another spelling,
    then the first path in sorted order.

    Examples
    --------
    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> for name in ("Yx.FLAC", "Yx.WAV", "Yy.Flac"):
    ...     _ = (Path(tmp.name) / name).write_bytes(b"")
    >>> found, _ = audio_files(Path(tmp.name).iterdir())
    >>> sorted((stem, path.name) for stem, path in found.items())
    [('Yx', 'Yx.WAV'), ('Yy', 'Yy.Flac')]
    >>> tmp.cleanup()
    """
    ranked: dict[str, tuple[tuple[int, bool, str], Path]] = {}
    for path in paths:
        ext = audio_extension(path)
        if ext is None or not path.is_file():
            continue
        stem = path.name[: -len(ext)]
        rank = (_AUDIO_EXTENSIONS.index(ext), not path.name.endswith(ext), str(path))
        if stem not in ranked or rank < ranked[stem][0]:
            ranked[stem] = (rank, path)
    found = {stem: path for stem, (_, path) in ranked.items()}
    lowered: dict[str, Path] = {}
    for stem in sorted(found):
        lowered.setdefault(stem.lower(), found[stem])
    return found, lowered


def case_variant(clip: str, lowered: dict[str, Path]) -> Path | None:
    """The audio file whose name differs from clip ``clip``'s only in case, if any.

    YouTube ids are case-sensitive, so such a file is never taken for the clip; an error or
    the build's manifest names it instead, for the user to rename if it is this clip.

    Examples
    --------
    >>> _, lowered = audio_files([])  # an empty folder: no variant
    >>> case_variant("abc_0.000_10.000", lowered) is None
    True
    >>> case_variant("abc_0.000_10.000", {"yabc_0.000_10.000": Path("yABC_0.000_10.000.wav")}).name
    'yABC_0.000_10.000.wav'
    """
    return lowered.get(("Y" + clip_id(clip)).lower())


def clip_id(filename: PathLike, *, audio: bool = False) -> str:
    """The clip id ``<ytid>_<start>_<end>`` of a label-file filename or an audio file.

    Weak-label and submission filenames have no ``Y`` prefix, but the audio files do
    (docs/sources.md#dcase-file-formats). The official scorer strips ``.wav`` and ``.flac`` and then
    compares names exactly (docs/sources.md#dcase-scoring); this does the same, and also
    drops any folder.

    Parameters
    ----------
    filename
        ``abc_30.000_40.000.wav`` (as in a label file), or with ``audio=True`` an audio
        file ``Yabc_30.000_40.000.flac``.
    audio
        Strip the ``Y`` prefix of an audio file name. It is not guessed, because a
        YouTube id may itself start with ``Y``.

    Returns
    -------
    str
        The clip id, without prefix and extension.

    Raises
    ------
    DcaseFormatError
        The name is not ``<ytid>_<start>_<end>``, or ``audio=True`` and there is no ``Y``.

    Examples
    --------
    >>> clip_id("abc_30.000_40.000.wav")
    'abc_30.000_40.000'
    >>> clip_id("audio/Yabc_30.000_40.000.flac", audio=True)
    'abc_30.000_40.000'
    """
    name = Path(filename).name
    if audio:  # an audio file's extension in any case (.WAV); a label's only as written
        ext = audio_extension(name)
        name = name[: -len(ext)] if ext else name
    else:
        for ext in _AUDIO_EXTENSIONS:
            name = name.removesuffix(ext)
    if audio:
        if not name.startswith("Y"):
            raise DcaseFormatError(
                f"{os.fspath(filename)}: expected an audio file name Y<ytid>_<start>_<end>"
                ".wav, found no 'Y' prefix"
            )
        name = name[1:]
    _split_clip(name, os.fspath(filename))
    return name


def audio_filename(clip: str, ext: str = ".wav") -> str:
    """The audio file name ``Y<ytid>_<start>_<end>.wav`` of a clip id or label filename.

    Examples
    --------
    >>> audio_filename("abc_30.000_40.000")
    'Yabc_30.000_40.000.wav'
    >>> audio_filename("abc_30.000_40.000.wav", ext=".flac")
    'Yabc_30.000_40.000.flac'
    """
    return f"Y{clip_id(clip)}{ext}"


# ---------------------------------------------------------------------------------------
# Audio
# ---------------------------------------------------------------------------------------


def _wav_truncation(path: Path) -> tuple[int, int] | None:
    """``(declared, present)`` data bytes if a RIFF/WAVE file is cut short, else ``None``.

    libsndfile silently reads what is left of a truncated WAV, so check the data chunk's
    declared size against the bytes actually on disk.
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(12)
        if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
            return None
        pos = 12
        while pos + 8 <= size:
            f.seek(pos)
            chunk, length = struct.unpack("<4sI", f.read(8))
            if chunk == b"data":
                present = size - pos - 8
                # 0 / 0xFFFFFFFF: size unknown (streamed writers), nothing to compare with.
                if length not in (0, 0xFFFFFFFF) and present < length:
                    return length, present
                return None
            pos += 8 + length + (length & 1)  # chunks are padded to even sizes
    return None


def load_audio(path: PathLike, sr: int = 16000) -> np.ndarray:
    """Load a clip as a mono ``float32`` waveform at ``sr`` Hz.

    Parameters
    ----------
    path
        A WAV or FLAC file (the download script writes 44.1 kHz mono 16-bit,
        docs/sources.md#dcase-splits).
    sr
        Target sample rate. A file at another rate is **resampled** with
        ``librosa.resample``, not rejected.

    Returns
    -------
    np.ndarray
        1-D ``float32`` samples in [-1, 1]. Multi-channel files are averaged to mono.

    Raises
    ------
    DcaseFormatError
        ``path`` is not a file, or is empty, truncated, corrupt or has no samples, or
        ``sr`` is not a positive integer.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import soundfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "Yabc_0.000_10.000.wav"
    >>> soundfile.write(p, np.zeros((16000, 2)), 16000)  # 1 s of stereo
    >>> x = load_audio(p)
    >>> x.shape, x.dtype
    ((16000,), dtype('float32'))
    >>> tmp.cleanup()
    """
    p = Path(path)
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr <= 0:
        raise DcaseFormatError(
            f"{_where(path)}: expected a sample rate sr > 0 (an integer, in Hz), found {sr!r}"
        )
    if not p.is_file():
        found = "a folder" if p.is_dir() else "nothing (no such file)"
        raise DcaseFormatError(f"{_where(path)}: expected an audio file, found {found}")
    if p.stat().st_size == 0:
        raise DcaseFormatError(f"{_where(path)}: expected a WAV or FLAC file, found 0 bytes")
    try:
        data, file_sr = sf.read(p, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise DcaseFormatError(
            f"{_where(path)}: expected a readable WAV or FLAC file, found a corrupt or "
            f"unsupported one ({exc})"
        ) from None
    cut = _wav_truncation(p)
    if cut is not None:
        raise DcaseFormatError(
            f"{_where(path)}: expected {cut[0]} bytes of audio data, found {cut[1]} "
            "(truncated file)"
        )
    if data.shape[0] == 0:
        raise DcaseFormatError(f"{_where(path)}: expected audio samples, found 0 frames")
    if not np.isfinite(data).all():
        raise DcaseFormatError(f"{_where(path)}: expected finite samples, found NaN or inf")
    x = data.mean(axis=1)  # average channels: the lab's models take mono input
    if file_sr != sr:
        import librosa  # imported here: slow to import and only needed to resample

        x = librosa.resample(x, orig_sr=file_sr, target_sr=sr)
    return np.ascontiguousarray(x, dtype=np.float32)


def find_audio(folder: PathLike, clips: Iterable[str]) -> dict[str, Path]:
    """Map every labelled clip to its audio file ``Y<ytid>_<start>_<end>.wav|.flac``.

    The extension matches in any case (``.WAV``, ``.Flac``); the rest of the name exactly,
    since YouTube ids are case-sensitive (a missing clip's error names a file that differs
    only in case, when there is one).

    Parameters
    ----------
    folder
        The folder holding the audio (not searched recursively).
    clips
        Clip names as in a label file (``abc_30.000_40.000.wav``) or clip ids, e.g. the
        keys of :func:`read_weak_labels`.

    Returns
    -------
    dict[str, Path]
        Each clip, as given, mapped to its file; ``.wav`` is preferred when both exist.

    Raises
    ------
    DcaseFormatError
        The folder is missing or has no audio at all, a clip is given twice (also as
        ``a.wav`` and ``a.flac``), or any clip has no audio file; one error says how many
        are missing and names the first few.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = (pathlib.Path(tmp.name) / "Yabc_30.000_40.000.flac").write_bytes(b"")
    >>> found = find_audio(tmp.name, ["abc_30.000_40.000.wav"])
    >>> found["abc_30.000_40.000.wav"].name
    'Yabc_30.000_40.000.flac'
    >>> tmp.cleanup()
    """
    root = Path(folder)
    if not root.is_dir():
        found = "a file" if root.exists() else "nothing (no such folder)"
        raise DcaseFormatError(f"{_where(folder)}: expected a folder of audio files, found {found}")
    files, lowered = audio_files(root.iterdir())  # extensions in any case: .wav, .WAV
    if not files:
        raise DcaseFormatError(
            f"{_where(folder)}: expected Y<ytid>_<start>_<end>.wav or .flac files, found none"
        )
    if isinstance(clips, (str, bytes, os.PathLike)):
        raise DcaseFormatError(
            f"{_where(folder)}: expected a sequence of clip names, found one name {clips!r}"
        )
    clips = list(clips)
    first: dict[str, str] = {}
    for clip in clips:
        cid = clip_id(clip)
        if cid in first:
            raise DcaseFormatError(
                f"{_where(folder)}: expected each clip once, found {first[cid]!r} and "
                f"{clip!r}, one clip (the official scorer strips .wav and .flac)"
            )
        first[cid] = clip
    result: dict[str, Path] = {}
    missing: list[str] = []
    for clip in clips:
        path = files.get("Y" + clip_id(clip))
        if path is None:
            missing.append(clip)
        else:
            result[clip] = path
    if missing:
        hint = ""
        # Audio names first: their own file would match the second test too.
        if any(_looks_like_audio_name(clip_id(m)) for m in missing):
            hint = ("; some are audio file names: pass label-file names or "
                    "clip_id(name, audio=True)")
        elif any(clip_id(m) in files for m in missing):
            hint = ("; some exist without the 'Y' prefix that audio files need"
                    " (docs/sources.md#dcase-file-formats)")
        elif variants := [(m, v) for m in missing if (v := case_variant(m, lowered))]:
            m, v = variants[0]
            hint = (f"; found {v.name} for {m!r} ({len(variants)} such), a name that "
                    f"differs only in case: YouTube ids are case-sensitive, so rename it "
                    f"if it is this clip's audio")
        raise DcaseFormatError(
            f"{_where(folder)}: expected an audio file for every labelled clip, found "
            f"{len(missing)} of {len(clips)} missing: {_first_few(missing)}{hint}"
        )
    return result


# ---------------------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------------------


def write_submission(
    path: PathLike,
    clip_ids: Sequence[str],
    predictions: np.ndarray,
    scores: np.ndarray | None = None,
    *,
    audio: bool = False,
) -> Path:
    """Write a Subtask-A (audio tagging) submission in the official format.

    One row per predicted tag, ``<ytid>_<start>_<end>.wav<TAB>start<TAB>end<TAB>label``
    (docs/sources.md#dcase-file-formats), with start and end copied from the clip name and
    tags in ``LABELS`` order. The official scorer gives no false negatives for a clip that is
    absent from the file (docs/sources.md#dcase-scoring), so every clip must have at least one
    row.

    The file is written atomically: to a temporary file in the same folder, flushed to
    disk, then renamed over ``path``. A failure leaves no partial file, and an existing
    file at ``path`` untouched.

    Parameters
    ----------
    path
        The submission file to write.
    clip_ids
        Clip ids or label-file filenames (``abc_30.000_40.000.wav``), one per row. Audio
        file names (``Yabc_30.000_40.000.wav``) need ``audio=True``.
    predictions
        Boolean (or 0/1) array of shape ``(len(clip_ids), 17)``, columns in ``LABELS`` order.
    scores
        Optional scores of the same shape. A clip with no predicted tag gets its
        highest-scoring label; without ``scores`` such a clip is an error.
    audio
        ``clip_ids`` are audio file names: strip their ``Y`` prefix (as
        ``clip_id(name, audio=True)``), since the submission names clips as the label files
        do. Without it, a name made of ``Y`` and an 11-character YouTube id is an error:
        written as is, it matches no clip of the ground truth and the official scorer
        reports F1 = 0 without any warning.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    DcaseFormatError
        Wrong shapes, non-0/1 predictions, a malformed or repeated clip name (``a.wav``
        and ``a.flac`` are one clip), an audio file name without ``audio=True``, a file
        name (``.wav``, ``.flac``) whose id is not an 11-character YouTube id, a clip
        with no tag and no ``scores``, or a missing folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> tmp = tempfile.TemporaryDirectory()
    >>> p = pathlib.Path(tmp.name) / "submission.csv"
    >>> pred = np.zeros((1, 17), dtype=bool)
    >>> pred[0, [0, 16]] = True
    >>> for line in write_submission(p, ["abc_20.000_30.000"], pred).read_text().splitlines():
    ...     print(line.split(chr(9)))  # chr(9) is the tab separator
    ['abc_20.000_30.000.wav', '20.000', '30.000', 'Train horn']
    ['abc_20.000_30.000.wav', '20.000', '30.000', 'Train']
    >>> tmp.cleanup()
    """
    target = Path(path)
    if not target.parent.is_dir():
        raise DcaseFormatError(
            f"{_where(path)}: expected an existing folder {os.fspath(target.parent)!r}, "
            "found none"
        )
    if isinstance(clip_ids, (str, bytes, os.PathLike)):
        raise DcaseFormatError(
            f"{_where(path)}: expected a sequence of clip names, found one name {clip_ids!r}"
        )
    clip_ids = list(clip_ids)  # read twice below: a generator would be spent at once
    try:
        clips = [clip_id(c, audio=audio) for c in clip_ids]
    except (DcaseFormatError, TypeError) as exc:
        raise DcaseFormatError(f"{_where(path)}: bad clip name: {exc}") from None
    if not clips:
        raise DcaseFormatError(f"{_where(path)}: expected at least one clip, found none")
    named_like_audio = [c for c in clips if _looks_like_audio_name(c)]
    if named_like_audio:
        raise DcaseFormatError(
            f"{_where(path)}: expected label-file clip names <ytid>_<start>_<end>.wav, found "
            f"{len(named_like_audio)} audio file names with the 'Y' prefix: "
            f"{_first_few(named_like_audio)} (the official scorer would match none and "
            "report F1 = 0); pass audio=True to strip the prefix"
        )
    # A name spelt as a DCASE file (.wav, .flac) claims a clip of the official sets, whose
    # ids are YouTube's: any other id matches no clip, and the scorer says nothing of it.
    not_youtube = [str(c) for c, cid in zip(clip_ids, clips, strict=True)
                   if audio_extension(c) and not _is_youtube_id(cid.rsplit("_", 2)[0])]
    if not_youtube:
        raise DcaseFormatError(
            f"{_where(path)}: expected file names <ytid>_<start>_<end>.wav with an "
            f"11-character YouTube id ([A-Za-z0-9_-]), found {len(not_youtube)} with "
            f"another id: {_first_few(not_youtube)} (the official scorer would match none "
            f"of them); name such clips without an extension if they are not DCASE clips"
        )
    pred = np.asarray(predictions)
    expected = (len(clips), N_CLASSES)
    if pred.shape != expected:
        raise DcaseFormatError(
            f"{_where(path)}: expected predictions of shape {expected} "
            f"(clips, classes), found {pred.shape}"
        )
    if pred.dtype != bool:
        if not np.isin(pred, (0, 1)).all():
            raise DcaseFormatError(
                f"{_where(path)}: expected boolean or 0/1 predictions, found other values "
                "(threshold the scores first)"
            )
        pred = pred.astype(bool)
    if scores is not None:
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != expected:
            raise DcaseFormatError(
                f"{_where(path)}: expected scores of shape {expected}, found {scores.shape}"
            )
        if not np.isfinite(scores).all():
            raise DcaseFormatError(f"{_where(path)}: expected finite scores, found NaN or inf")
    repeated = [c for c, n in Counter(clips).items() if n > 1]
    if repeated:
        raise DcaseFormatError(
            f"{_where(path)}: expected each clip once, found repeats: {_first_few(repeated)}"
        )
    untagged = np.flatnonzero(~pred.any(axis=1))
    if untagged.size:
        if scores is None:
            raise DcaseFormatError(
                f"{_where(path)}: expected at least one tag per clip (every clip must be "
                f"listed: the official scorer counts no misses for absent clips), found "
                f"{untagged.size} clips with none: {_first_few([clips[i] for i in untagged])};"
                " pass scores= to tag them with their top-scoring label"
            )
        pred = pred.copy()
        pred[untagged, scores[untagged].argmax(axis=1)] = True

    lines = []
    for clip, row in zip(clips, pred, strict=True):
        _ytid, start, end = _split_clip(clip, _where(path))
        lines += [f"{clip}.wav\t{start}\t{end}\t{LABELS[k]}\n" for k in np.flatnonzero(row)]

    atomic_write_text(target, "".join(lines), newline="\n")
    return target


# ---------------------------------------------------------------------------------------
# Evaluation-set download
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RemoteZip:
    """Where to download a zip of audio, and how to check and open it."""

    url: str
    md5: str
    size: int
    password: str
    filename: str


# docs/sources.md#dcase-audio (figures from dcase_util); the link may no longer work.
EVAL_ZIP = RemoteZip(
    url="https://dl.dropboxusercontent.com/s/bbgqfd47cudwe9y/"
    "DCASE_2017_evaluation_set_audio_files.zip",
    md5="676b0b4a956db2445b16d7b13522808b",
    size=863_120_639,
    password="DCASE_2017_evaluation_set",
    filename="DCASE_2017_evaluation_set_audio_files.zip",
)


def fetch_evaluation_audio(dest: PathLike) -> Path:
    """Download the evaluation-set audio zip (1 103 clips, 863 MB) into ``dest``.

    ``pooch`` checks the md5 (docs/sources.md#dcase-audio) and skips the download when a file
    with that checksum is already there. The zip is password protected, so it is not
    unpacked here; unpack it with ``unzip -P DCASE_2017_evaluation_set <zip>`` (see
    ``EVAL_ZIP.password``).

    Parameters
    ----------
    dest
        Folder to download into (created if needed).

    Returns
    -------
    Path
        The downloaded zip file.

    Examples
    --------
    >>> fetch_evaluation_audio("data/dcase2017")  # doctest: +SKIP
    PosixPath('data/dcase2017/DCASE_2017_evaluation_set_audio_files.zip')
    """
    import pooch

    try:

        progress = True
    except ImportError:
        progress = False
    path = pooch.retrieve(
        url=EVAL_ZIP.url,
        known_hash=f"md5:{EVAL_ZIP.md5}",
        fname=EVAL_ZIP.filename,
        path=dest,
        progressbar=progress,
    )
    return Path(path)
