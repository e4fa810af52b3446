"""Tests for utils.task.dcase_io on tiny fixture files built in tmp_path (no real data)."""

from __future__ import annotations

import inspect
import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from utils.common import files
from utils.task import dcase_io
from utils.task.dcase_io import (
    EVAL_ZIP,
    DcaseFormatError,
    DownloadRow,
    StrongLabel,
    audio_filename,
    clip_id,
    fetch_evaluation_audio,
    find_audio,
    load_audio,
    read_download_list,
    read_strong_labels,
    read_weak_labels,
    read_weak_labels_matrix,
    write_submission,
)
from utils.task.labels import LABEL_INDEX, LABELS, N_CLASSES

# Sample lines in the official formats (docs/sources.md#dcase-file-formats).
WEAK_LINES = [
    "2ceUOv8A3FE_20.000_30.000.wav\t20.000\t30.000\tTrain horn",
    "-Gbohom8C4Q_30.000_40.000.wav\t30.000\t40.000\tAir horn, truck horn",
    "-JMT0mK0Dbg_30.000_40.000.wav\t30.000\t40.000\tTrain horn",
    # Not adjacent to the clip's first row, as in the class-sorted training file.
    "2ceUOv8A3FE_20.000_30.000.wav\t20.000\t30.000\tTrain",
]
STRONG_LINES = [
    "-5QrBL6MzLg_60.000_70.000.wav\t0.917\t2.029\tTrain horn",
    "-GCwoyCnYsY_0.000_10.000.wav\t0.165\t3.8\tTrain horn",
    "-GCwoyCnYsY_0.000_10.000.wav\t4.865\t8.7\tTrain horn",
    "-jj2tyuf6-A_80.000_90.000.wav\t9.417\t10\tTrain horn",
    "PNaLTW50fxM_60.000_70.000.wav\t0\t0\tTruck",
]
DOWNLOAD_LINES = [
    '2ceUOv8A3FE,20.000,30.000,"Train horn,Train","/m/0284vy3,/m/07jdr"',
    "2wG6EBWr5NQ,30.000,40.000,Train horn,/m/0284vy3",
    '-Gbohom8C4Q,30.000,40.000,"Train horn,Air horn, truck horn,Train",'
    '"/m/0284vy3,/m/05x_td,/m/07jdr"',
]
WEAK_NAME = "groundtruth_weak_label_testing_set.csv"


def write_lines(path: Path, lines: list[str], eol: str = "\n", bom: bool = False) -> Path:
    data = "".join(line + eol for line in lines).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_wav(path: Path, seconds: float = 0.1, sr: int = 16000, channels: int = 1) -> Path:
    rng = np.random.default_rng(0)
    x = 0.1 * rng.standard_normal((int(seconds * sr), channels))
    sf.write(path, x, sr, subtype="PCM_16")
    return path


# ----------------------------------------------------------------------------- weak labels

EXPECTED_WEAK = {
    "2ceUOv8A3FE_20.000_30.000.wav": ["Train horn", "Train"],
    "-Gbohom8C4Q_30.000_40.000.wav": ["Air horn, truck horn"],
    "-JMT0mK0Dbg_30.000_40.000.wav": ["Train horn"],
}


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", [False, True])
def test_weak_labels_happy_path(tmp_path, eol, bom):
    path = write_lines(tmp_path / WEAK_NAME, WEAK_LINES, eol=eol, bom=bom)
    tags = read_weak_labels(path)
    assert tags == EXPECTED_WEAK
    assert list(tags) == list(EXPECTED_WEAK)  # first-appearance order
    assert not any(name.startswith("\ufeff") for name in tags)


def test_weak_labels_sorted_in_label_order_and_trailing_blank_lines(tmp_path):
    lines = [
        "a_0.000_10.000.wav\t0.000\t10.000\tTrain",
        "a_0.000_10.000.wav\t0.000\t10.000\tFire engine, fire truck (siren)",
        "a_0.000_10.000.wav\t0.000\t10.000\tCar",
        "",
        "",
    ]
    tags = read_weak_labels(write_lines(tmp_path / "w.csv", lines))
    assert tags == {"a_0.000_10.000.wav": ["Fire engine, fire truck (siren)", "Car", "Train"]}


def test_weak_labels_end_zero_rows_ignored_like_official_scorer(tmp_path):
    lines = [
        "a_0.000_10.000.wav\t0.000\t10.000\tCar",
        "a_0.000_10.000.wav\t0.000\t0\tBus",
        "b_0.000_10.000.wav\t0.000\t0.000\tTruck",
    ]
    tags = read_weak_labels(write_lines(tmp_path / "w.csv", lines))
    assert tags == {"a_0.000_10.000.wav": ["Car"]}


def test_weak_labels_matrix(tmp_path):
    names, y = read_weak_labels_matrix(write_lines(tmp_path / WEAK_NAME, WEAK_LINES))
    assert names == list(EXPECTED_WEAK)
    assert y.shape == (3, N_CLASSES) and y.dtype == np.float32
    assert y.sum() == 4
    assert y[0, LABEL_INDEX["Train horn"]] == 1 and y[0, LABEL_INDEX["Train"]] == 1
    assert y[1, LABEL_INDEX["Air horn, truck horn"]] == 1


def test_weak_wrong_column_count(tmp_path):
    lines = WEAK_LINES[:2] + ["c_0.000_10.000.wav\t0.000\tCar"]
    with pytest.raises(DcaseFormatError) as info:
        read_weak_labels(write_lines(tmp_path / WEAK_NAME, lines))
    assert str(info.value).endswith(
        f"{WEAK_NAME} line 3: expected 4 tab-separated columns (filename, start, end, label), "
        "found 3"
    )


def test_weak_blank_line_in_the_middle(tmp_path):
    lines = [WEAK_LINES[0], "", WEAK_LINES[1]]
    with pytest.raises(DcaseFormatError, match=rf"{WEAK_NAME} line 2: .*found an empty line"):
        read_weak_labels(write_lines(tmp_path / WEAK_NAME, lines))


def test_weak_comma_separated_file_gets_a_hint(tmp_path):
    path = write_lines(tmp_path / "training_set.csv", DOWNLOAD_LINES)
    with pytest.raises(DcaseFormatError, match=r"training_set.csv line 1: .*read_download_list"):
        read_weak_labels(path)


def test_weak_unknown_label(tmp_path):
    lines = [WEAK_LINES[0], "c_0.000_10.000.wav\t0.000\t10.000\tCars"]
    with pytest.raises(DcaseFormatError) as info:
        read_weak_labels(write_lines(tmp_path / WEAK_NAME, lines))
    msg = str(info.value)
    assert f"{WEAK_NAME} line 2" in msg
    assert "'Cars'" in msg and "17" in msg and "'Car'" in msg  # names it, suggests a fix


def test_weak_duplicate_row_names_both_lines(tmp_path):
    lines = WEAK_LINES + [WEAK_LINES[1]]
    with pytest.raises(DcaseFormatError) as info:
        read_weak_labels(write_lines(tmp_path / WEAK_NAME, lines))
    msg = str(info.value)
    assert f"{WEAK_NAME} line 5" in msg and "line 2" in msg
    assert "Air horn, truck horn" in msg


def test_weak_non_utf8_bytes(tmp_path):
    path = tmp_path / WEAK_NAME
    path.write_bytes(
        (WEAK_LINES[0] + "\n").encode() + b"a_0.000_10.000.wav\t0\t10\tCar\xe9\n"
    )
    with pytest.raises(DcaseFormatError, match=rf"{WEAK_NAME} line 2: expected UTF-8.*0xe9"):
        read_weak_labels(path)


@pytest.mark.parametrize("content", [b"", b"\n\n", b"\xef\xbb\xbf", b"  \r\n"])
def test_weak_empty_file(tmp_path, content):
    path = tmp_path / WEAK_NAME
    path.write_bytes(content)
    with pytest.raises(DcaseFormatError, match=rf"{WEAK_NAME}: .*empty file"):
        read_weak_labels(path)


def test_weak_missing_file(tmp_path):
    with pytest.raises(DcaseFormatError, match=r"nope.csv: expected a text file, found nothing"):
        read_weak_labels(tmp_path / "nope.csv")


@pytest.mark.parametrize("bad", ["abc", "nan", ""])
def test_weak_non_numeric_time(tmp_path, bad):
    lines = [WEAK_LINES[0], f"c_0.000_10.000.wav\t0.000\t{bad}\tCar"]
    with pytest.raises(DcaseFormatError, match=rf"{WEAK_NAME} line 2: expected a number.*end"):
        read_weak_labels(write_lines(tmp_path / WEAK_NAME, lines))


def test_weak_bare_cr_line_endings(tmp_path):
    path = tmp_path / WEAK_NAME
    path.write_bytes("\r".join(WEAK_LINES).encode())
    with pytest.raises(DcaseFormatError, match=rf"{WEAK_NAME} line 1: .*bare CR"):
        read_weak_labels(path)


# --------------------------------------------------------------------------- strong labels

STRONG_NAME = "groundtruth_strong_label_evaluation_set.csv"


@pytest.mark.parametrize("eol", ["\n", "\r\n"])
def test_strong_labels_happy_path_drops_zero_zero(tmp_path, eol):
    events = read_strong_labels(write_lines(tmp_path / STRONG_NAME, STRONG_LINES, eol=eol))
    assert len(events) == 4  # the "0 0" Truck row is dropped
    assert all(e.label == "Train horn" for e in events)
    assert events[1] == StrongLabel("-GCwoyCnYsY_0.000_10.000.wav", 0.165, 3.8, "Train horn")
    assert events[3].offset == 10.0
    with pytest.raises(AttributeError):
        events[0].onset = 1.0  # frozen


def test_strong_onset_after_offset(tmp_path):
    lines = STRONG_LINES[:2] + ["x_0.000_10.000.wav\t5.0\t2.0\tCar"]
    with pytest.raises(DcaseFormatError, match=rf"{STRONG_NAME} line 3: expected onset <= offset"):
        read_strong_labels(write_lines(tmp_path / STRONG_NAME, lines))


@pytest.mark.parametrize(
    ("onset", "offset", "what"),
    [("-0.5", "2", "times >= 0"), ("1", "10.5", "offset <= 10.0"), ("1", "x", "a number")],
)
def test_strong_bad_times(tmp_path, onset, offset, what):
    lines = [STRONG_LINES[0], f"x_0.000_10.000.wav\t{onset}\t{offset}\tCar"]
    with pytest.raises(DcaseFormatError, match=rf"{STRONG_NAME} line 2: expected {what}"):
        read_strong_labels(write_lines(tmp_path / STRONG_NAME, lines))


def test_strong_offset_within_tolerance(tmp_path):
    events = read_strong_labels(
        write_lines(tmp_path / STRONG_NAME, ["x_0.000_10.000.wav\t9\t10.001\tCar"])
    )
    assert events[0].offset == pytest.approx(10.001)


# --------------------------------------------------------------------------- download list


def test_download_list_happy_path_crlf(tmp_path):
    rows = read_download_list(write_lines(tmp_path / "testing_set.csv", DOWNLOAD_LINES, "\r\n"))
    assert len(rows) == 3
    assert rows[0] == DownloadRow(
        "2ceUOv8A3FE", 20.0, 30.0, ("Train horn", "Train"), ("/m/0284vy3", "/m/07jdr")
    )
    assert rows[1].labels == ("Train horn",) and rows[1].ids == ("/m/0284vy3",)
    assert rows[2].ytid == "-Gbohom8C4Q"
    assert rows[2].labels == ("Train horn", "Air horn, truck horn", "Train")
    assert rows[2].ids == ("/m/0284vy3", "/m/05x_td", "/m/07jdr")


def test_download_list_longest_match_first(tmp_path):
    line = 'x,0,10,"Car passing by,Car,Fire engine, fire truck (siren)","/m/a,/m/b,/m/c"'
    rows = read_download_list(write_lines(tmp_path / "training_set.csv", [line]))
    assert rows[0].labels == ("Car passing by", "Car", "Fire engine, fire truck (siren)")


def test_download_list_label_id_count_mismatch(tmp_path):
    lines = DOWNLOAD_LINES[:2] + ['x,0,10,"Train horn,Air horn, truck horn","/m/0284vy3"']
    with pytest.raises(DcaseFormatError) as info:
        read_download_list(write_lines(tmp_path / "training_set.csv", lines, "\r\n"))
    msg = str(info.value)
    assert "training_set.csv line 3" in msg
    assert "2 labels" in msg and "1 ids" in msg


def test_download_list_unknown_label(tmp_path):
    lines = ['x,0,10,"Train horn,Tram","/m/0284vy3,/m/x"']
    with pytest.raises(DcaseFormatError, match=r"training_set.csv line 1: .*'Tram'"):
        read_download_list(write_lines(tmp_path / "training_set.csv", lines))


def test_download_list_wrong_column_count(tmp_path):
    lines = [DOWNLOAD_LINES[1], "x,0,10,Car"]
    with pytest.raises(DcaseFormatError, match=r"training_set.csv line 2: expected 5 .*found 4"):
        read_download_list(write_lines(tmp_path / "training_set.csv", lines))


# ------------------------------------------------------------------------------ clip names


def test_clip_id_and_audio_filename_round_trip():
    name = "-Gbohom8C4Q_30.000_40.000.wav"
    assert clip_id(name) == "-Gbohom8C4Q_30.000_40.000"
    assert clip_id("x/-Gbohom8C4Q_30.000_40.000.flac") == "-Gbohom8C4Q_30.000_40.000"
    assert audio_filename(name) == "Y-Gbohom8C4Q_30.000_40.000.wav"
    assert clip_id(audio_filename(name), audio=True) + ".wav" == name
    # A YouTube id may itself start with "Y" (and contain "_"): the prefix is never guessed.
    assert clip_id("Yab_c_0.000_10.000.wav") == "Yab_c_0.000_10.000"
    assert clip_id("YYab_c_0.000_10.000.wav", audio=True) == "Yab_c_0.000_10.000"


@pytest.mark.parametrize("bad", ["notes.txt", "abc_x_10.000.wav"])
def test_clip_id_rejects_malformed(bad):
    with pytest.raises(DcaseFormatError, match=bad.split(".")[0]):
        clip_id(bad)


def test_clip_id_audio_requires_y_prefix():
    with pytest.raises(DcaseFormatError, match=r"abc_0.000_10.000.wav: .*'Y' prefix"):
        clip_id("abc_0.000_10.000.wav", audio=True)


# ----------------------------------------------------------------------------------- audio


def test_load_audio_mono_16k(tmp_path):
    x = load_audio(write_wav(tmp_path / "Ya_0.000_10.000.wav", seconds=0.5))
    assert x.shape == (8000,) and x.dtype == np.float32
    assert 0.01 < np.abs(x).mean() < 1.0  # real signal, scaled to [-1, 1]


def test_load_audio_44k_stereo_resampled_to_16k_mono(tmp_path):
    path = tmp_path / "Ya_0.000_10.000.wav"
    t = np.arange(44100) / 44100
    left, right = np.sin(2 * np.pi * 440 * t), np.zeros_like(t)
    sf.write(path, 0.5 * np.stack([left, right], axis=1), 44100, subtype="PCM_16")
    x = load_audio(path, sr=16000)
    assert x.ndim == 1 and x.dtype == np.float32
    assert abs(len(x) - 16000) <= 1
    # Channel mean: a 0.5-amplitude tone in one channel only becomes amplitude 0.25.
    assert np.abs(x[1000:-1000]).max() == pytest.approx(0.25, abs=0.02)


def test_load_audio_flac(tmp_path):
    path = tmp_path / "Ya_0.000_10.000.flac"
    sf.write(path, np.zeros(1600), 16000)
    assert load_audio(path).shape == (1600,)


def test_load_audio_empty_file(tmp_path):
    path = tmp_path / "Yempty_0.000_10.000.wav"
    path.write_bytes(b"")
    with pytest.raises(DcaseFormatError, match=r"Yempty_0.000_10.000.wav: .*0 bytes"):
        load_audio(path)


def test_load_audio_zero_frames(tmp_path):
    path = tmp_path / "Yz_0.000_10.000.wav"
    sf.write(path, np.zeros(0), 16000)
    with pytest.raises(DcaseFormatError, match=r"Yz_0.000_10.000.wav: .*0 frames"):
        load_audio(path)


def test_load_audio_random_bytes(tmp_path):
    path = tmp_path / "Yjunk_0.000_10.000.wav"
    path.write_bytes(np.random.default_rng(1).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    with pytest.raises(DcaseFormatError, match=r"Yjunk_0.000_10.000.wav: .*corrupt"):
        load_audio(path)


def test_load_audio_truncated_wav(tmp_path):
    good = write_wav(tmp_path / "Ygood_0.000_10.000.wav", seconds=0.5)
    cut = tmp_path / "Ycut_0.000_10.000.wav"
    data = good.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DcaseFormatError, match=r"Ycut_0.000_10.000.wav: .*truncated"):
        load_audio(cut)


def test_load_audio_not_a_file(tmp_path):
    with pytest.raises(DcaseFormatError, match=r"found a folder"):
        load_audio(tmp_path)
    with pytest.raises(DcaseFormatError, match=r"Ymissing.wav: .*no such file"):
        load_audio(tmp_path / "Ymissing.wav")


# ------------------------------------------------------------------------------ find_audio


def test_find_audio_maps_every_clip(tmp_path):
    (tmp_path / "Yb_0.000_10.000.flac").write_bytes(b"x")
    (tmp_path / "Ya_0.000_10.000.wav").write_bytes(b"x")
    (tmp_path / "Ya_0.000_10.000.flac").write_bytes(b"x")  # .wav preferred
    found = find_audio(tmp_path, ["a_0.000_10.000.wav", "b_0.000_10.000"])
    assert found == {
        "a_0.000_10.000.wav": tmp_path / "Ya_0.000_10.000.wav",
        "b_0.000_10.000": tmp_path / "Yb_0.000_10.000.flac",
    }


def test_find_audio_takes_extensions_in_any_case(tmp_path):
    (tmp_path / "Ya_0.000_10.000.WAV").write_bytes(b"x")
    (tmp_path / "Yb_0.000_10.000.Flac").write_bytes(b"x")
    (tmp_path / "Yc_0.000_10.000.FLAC").write_bytes(b"x")
    (tmp_path / "Yc_0.000_10.000.Wav").write_bytes(b"x")  # .wav preferred, in any case
    found = find_audio(tmp_path, ["a_0.000_10.000.wav", "b_0.000_10.000", "c_0.000_10.000"])
    assert {k: v.name for k, v in found.items()} == {
        "a_0.000_10.000.wav": "Ya_0.000_10.000.WAV", "b_0.000_10.000": "Yb_0.000_10.000.Flac",
        "c_0.000_10.000": "Yc_0.000_10.000.Wav"}
    assert dcase_io.clip_id("Ya_0.000_10.000.WAV", audio=True) == "a_0.000_10.000"
    # A label file's name is the scorer's: only .wav and .flac as written are stripped.
    with pytest.raises(DcaseFormatError, match="expected a clip name"):
        dcase_io.clip_id("a_0.000_10.000.WAV")


def test_find_audio_names_a_file_that_differs_only_in_case(tmp_path):
    (tmp_path / "YAbC_0.000_10.000.wav").write_bytes(b"x")
    with pytest.raises(DcaseFormatError) as info:
        find_audio(tmp_path, ["abc_0.000_10.000.wav"])
    assert str(info.value).endswith(
        "; found YAbC_0.000_10.000.wav for 'abc_0.000_10.000.wav' (1 such), a name that "
        "differs only in case: YouTube ids are case-sensitive, so rename it if it is this "
        "clip's audio")


def test_find_audio_missing_folder(tmp_path):
    folder = tmp_path / "audio_eval"
    with pytest.raises(DcaseFormatError, match=r"audio_eval: .*no such folder"):
        find_audio(folder, ["a_0.000_10.000.wav"])


def test_find_audio_empty_folder(tmp_path):
    folder = tmp_path / "audio_eval"
    folder.mkdir()
    (folder / "readme.txt").write_text("not audio")
    with pytest.raises(DcaseFormatError, match=r"audio_eval: .*found none"):
        find_audio(folder, ["a_0.000_10.000.wav"])


def test_find_audio_labelled_clip_without_audio(tmp_path):
    folder = tmp_path / "audio_eval"
    folder.mkdir()
    (folder / "Ya_0.000_10.000.wav").write_bytes(b"x")
    (folder / "c_0.000_10.000.wav").write_bytes(b"x")  # forgot the Y prefix
    clips = ["a_0.000_10.000.wav", "b_0.000_10.000.wav", "c_0.000_10.000.wav"]
    with pytest.raises(DcaseFormatError) as info:
        find_audio(folder, clips)
    msg = str(info.value)
    assert "audio_eval" in msg and "2 of 3 missing" in msg
    assert "'b_0.000_10.000.wav'" in msg and "'c_0.000_10.000.wav'" in msg
    assert "'a_0.000_10.000.wav'" not in msg
    assert "'Y' prefix" in msg


def test_find_audio_lists_only_first_few(tmp_path):
    (tmp_path / "Ya_0.000_10.000.wav").write_bytes(b"x")
    clips = [f"m{i}_0.000_10.000.wav" for i in range(20)]
    with pytest.raises(DcaseFormatError, match=r"20 of 20 missing") as info:
        find_audio(tmp_path, clips)
    assert "m4_" in str(info.value) and "m5_" not in str(info.value)


# ------------------------------------------------------------------------------ submission

CLIPS = ["2ceUOv8A3FE_20.000_30.000.wav", "-Gbohom8C4Q_30.000_40.000", "Yy_x0123456_0_10.000.wav"]


def make_predictions() -> np.ndarray:
    pred = np.zeros((3, N_CLASSES), dtype=bool)
    pred[0, [LABEL_INDEX["Train horn"], LABEL_INDEX["Train"]]] = True
    pred[1, LABEL_INDEX["Air horn, truck horn"]] = True
    pred[2, [LABEL_INDEX["Fire engine, fire truck (siren)"], LABEL_INDEX["Car"]]] = True
    return pred


def test_submission_round_trip(tmp_path):
    path = write_submission(tmp_path / "sub.csv", CLIPS, make_predictions())
    assert path == tmp_path / "sub.csv"
    assert read_weak_labels(path) == {
        "2ceUOv8A3FE_20.000_30.000.wav": ["Train horn", "Train"],
        "-Gbohom8C4Q_30.000_40.000.wav": ["Air horn, truck horn"],
        "Yy_x0123456_0_10.000.wav": ["Fire engine, fire truck (siren)", "Car"],
    }
    first = path.read_text().splitlines()[0]
    assert first == "2ceUOv8A3FE_20.000_30.000.wav\t20.000\t30.000\tTrain horn"
    assert path.read_bytes().count(b"\n") == 5 and b"\r" not in path.read_bytes()
    names, y = read_weak_labels_matrix(path)
    np.testing.assert_array_equal(y.astype(bool), make_predictions())


def test_submission_accepts_0_1_ints(tmp_path):
    path = write_submission(tmp_path / "sub.csv", CLIPS, make_predictions().astype(int))
    assert len(read_weak_labels(path)) == 3


def test_submission_untagged_clip_without_scores_is_an_error(tmp_path):
    pred = make_predictions()
    pred[1] = False
    with pytest.raises(DcaseFormatError) as info:
        write_submission(tmp_path / "sub.csv", CLIPS, pred)
    msg = str(info.value)
    assert "sub.csv" in msg and "every clip must be" in msg and "-Gbohom8C4Q" in msg
    assert not (tmp_path / "sub.csv").exists()


def test_submission_untagged_clip_gets_top_score(tmp_path):
    pred = make_predictions()
    pred[1] = False
    scores = np.full(pred.shape, 0.1)
    scores[1, LABEL_INDEX["Bus"]] = 0.4
    path = write_submission(tmp_path / "sub.csv", CLIPS, pred, scores=scores)
    tags = read_weak_labels(path)
    assert tags["-Gbohom8C4Q_30.000_40.000.wav"] == ["Bus"]
    assert tags["2ceUOv8A3FE_20.000_30.000.wav"] == ["Train horn", "Train"]  # unchanged


@pytest.mark.parametrize(
    ("clips", "pred", "match"),
    [
        (CLIPS, np.zeros((3, 16), dtype=bool), r"shape \(3, 17\)"),
        (CLIPS[:2], make_predictions(), r"shape \(2, 17\)"),
        (CLIPS, make_predictions() * 0.7, "0/1"),
        ([CLIPS[0], CLIPS[0], CLIPS[1]], make_predictions(), "repeats"),
        (["a.wav", *CLIPS[1:]], make_predictions(), "a.wav"),
    ],
)
def test_submission_bad_input_leaves_existing_file_untouched(tmp_path, clips, pred, match):
    path = tmp_path / "sub.csv"
    path.write_text("old good content\n")
    with pytest.raises(DcaseFormatError, match=match) as info:
        write_submission(path, clips, pred)
    assert "sub.csv" in str(info.value)
    assert path.read_text() == "old good content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.csv"]  # no temp file left


def test_submission_failure_during_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "sub.csv"
    path.write_text("old good content\n")

    def broken_fsync(fd):
        raise OSError("disk full")

    monkeypatch.setattr(files.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        write_submission(path, CLIPS, make_predictions())
    assert path.read_text() == "old good content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.csv"]


def test_submission_replaces_existing_file(tmp_path):
    path = tmp_path / "sub.csv"
    path.write_text("old\n")
    write_submission(path, CLIPS, make_predictions())
    assert "old" not in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sub.csv"]


# ----------------------------------------------------------------------- evaluation download


def test_eval_zip_constants_match_data_sheet():
    assert EVAL_ZIP.url == (
        "https://dl.dropboxusercontent.com/s/bbgqfd47cudwe9y/"
        "DCASE_2017_evaluation_set_audio_files.zip"
    )
    assert EVAL_ZIP.md5 == "676b0b4a956db2445b16d7b13522808b"
    assert EVAL_ZIP.size == 863_120_639
    assert EVAL_ZIP.password == "DCASE_2017_evaluation_set"
    assert list(inspect.signature(fetch_evaluation_audio).parameters) == ["dest"]


def test_fetch_evaluation_audio_passes_md5_to_pooch(tmp_path, monkeypatch):
    import pooch

    calls = []

    def fake_retrieve(**kwargs):  # no network: record what would be downloaded
        calls.append(kwargs)
        return os.fspath(Path(kwargs["path"]) / kwargs["fname"])

    monkeypatch.setattr(pooch, "retrieve", fake_retrieve)
    out = fetch_evaluation_audio(tmp_path)
    assert out == tmp_path / EVAL_ZIP.filename
    assert calls[0]["url"] == EVAL_ZIP.url
    assert calls[0]["known_hash"] == "md5:676b0b4a956db2445b16d7b13522808b"


def test_labels_module_is_the_source_of_truth():
    # Guard against a local copy of the labels drifting from utils.task.labels.
    assert dcase_io.LABELS is LABELS
    assert sorted(dcase_io._LABELS_LONGEST_FIRST) == sorted(LABELS)


# ------------------------------------------------------- names the official scorer can match


def test_submission_from_audio_names_needs_audio_true_and_writes_label_names(tmp_path):
    pred = np.eye(N_CLASSES, dtype=bool)[:2]
    audio = ["Y-Gbohom8C4Q_30.000_40.000.flac", "audio/Y2ceUOv8A3FE_20.000_30.000.wav"]
    with pytest.raises(DcaseFormatError, match=r"'Y' prefix.*F1 = 0.*audio=True"):
        write_submission(tmp_path / "sub.csv", audio, pred)
    assert not list(tmp_path.iterdir())
    path = write_submission(tmp_path / "sub.csv", audio, pred, audio=True)
    assert list(read_weak_labels(path)) == [
        "-Gbohom8C4Q_30.000_40.000.wav", "2ceUOv8A3FE_20.000_30.000.wav"]


def test_submission_keeps_a_youtube_id_that_starts_with_y(tmp_path):
    # 11 characters: a real YouTube id, not an audio name with its prefix.
    path = write_submission(tmp_path / "sub.csv", ["Yk3dTqzR0aB_0.000_10.000.wav"],
                            np.eye(N_CLASSES, dtype=bool)[:1])
    assert list(read_weak_labels(path)) == ["Yk3dTqzR0aB_0.000_10.000.wav"]


def test_weak_labels_one_spelling_is_read_whatever_the_extension(tmp_path):
    lines = ["a_0.000_10.000.flac\t0.000\t10.000\tCar", "b_0.000_10.000\t0\t10\tBus"]
    assert read_weak_labels(write_lines(tmp_path / "w.csv", lines)) == {
        "a_0.000_10.000.flac": ["Car"], "b_0.000_10.000": ["Bus"]}


def test_weak_labels_times_within_tolerance_of_the_name(tmp_path):
    lines = ["a_30.000_40.000.wav\t30\t40.004\tCar"]
    assert read_weak_labels(write_lines(tmp_path / "w.csv", lines)) == {
        "a_30.000_40.000.wav": ["Car"]}


def test_find_audio_names_the_same_clip_given_twice(tmp_path):
    write_wav(tmp_path / "Yabc_0.000_10.000.wav")
    with pytest.raises(DcaseFormatError, match="expected each clip once"):
        find_audio(tmp_path, ["abc_0.000_10.000.wav", "abc_0.000_10.000.flac"])
