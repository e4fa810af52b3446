"""A catalogue of bad inputs across the data, DCASE I/O, recipe, results and CLI layers.

Each case builds one bad input and checks that it gives one clear error: the right
exception type, a message naming the input (file, line, field or value) and what was
expected; and that nothing half-written is left behind. ``test_catalogue_size`` counts the
distinct cases and prints the count.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from utils.common.versions import read_pins
from utils.lessons.env_check import report
from utils.lessons.notebooks import set_repo
from utils.networks.recipe import KERAS_2017, Recipe, get_recipe
from utils.results import engines as EN
from utils.results import grids as G
from utils.results import runner as R
from utils.results import stats
from utils.results import store as S
from utils.results import verify as V
from utils.task import dataset as D
from utils.task import dcase_data as DD
from utils.task import dcase_io as io
from utils.task import metrics as M
from utils.task.features import CLASSROOM, feature_stats, log_mel, scale_features
from utils.task.labels import clip_fraction
from utils.task.synthesis import SynthParams, plan_clip, render_distractor, render_event
from utils.training.trainer import decode_probs, train

CLIP = "-Gbohom8C4Q_30.000_40.000.wav"
AUDIO_NAME = "Y" + CLIP  # the audio file's name: not what a submission lists
ONE_TAG = np.eye(17, dtype=bool)[:1]


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], Callable[[], object]]  # tmp folder → the call that must fail
    error: type[BaseException]
    says: tuple[str, ...]  # substrings the message must contain


def _file(tmp: Path, name: str, content: str | bytes) -> Path:
    p = tmp / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return p


def _wav(tmp: Path, name: str, seconds: float = 1.0, sr: int = 16000) -> Path:
    import soundfile as sf

    p = tmp / name
    sf.write(p, np.zeros(int(seconds * sr), np.float32), sr)
    return p


def _on_file(fn, tmp, name, content):
    """Write the bad file now (set-up), return the call that must fail on it."""
    path = _file(tmp, name, content)
    return lambda: fn(path)


def _weak(tmp, text, name="weak.csv"):
    return _on_file(io.read_weak_labels, tmp, name, text)


def _strong(tmp, text, name="strong.csv"):
    return _on_file(io.read_strong_labels, tmp, name, text)


def _truncated_wav(tmp):
    raw = _wav(tmp, "full.wav").read_bytes()
    return _on_file(io.load_audio, tmp, "Ytrunc.wav", raw[: len(raw) // 3])


def _strong_tsv_cache(tmp, body):
    return _on_file(D._read_strong, tmp, "test_strong.tsv", body)


def _results(tmp, text):
    return _on_file(S.read_table, tmp, "grid.csv", text)


def _submit(tmp, clips, pred=None, **kw):
    return lambda: io.write_submission(tmp / "sub.csv", clips,
                                       ONE_TAG if pred is None else pred, **kw)


def _with_wav(tmp, name, call):
    """Write an audio file named ``name`` (set-up), return ``call``."""
    _wav(tmp, name)
    return call


def _cache_row(tmp, row):
    return _strong_tsv_cache(tmp, "clip_id\tonset\toffset\tlabel\tsnr_db\n" + row)


_HEADER = ",".join(S.COLUMNS) + "\n"
_SMOKE_TRAIN = D.PRESETS["smoke"].n_train


# One stored row, as text and as the dict the writer takes, for the results cases.
_STORED_TEXT = S.table_path("reference").read_text(encoding="utf-8").splitlines()[1] + "\n"
_STORED = {**S.read_table(S.table_path("reference"))[0]}


def _row(column: str, value: str) -> str:
    """The stored row with one column's text replaced (a CSV line, newline-terminated)."""
    import csv
    import io as _io

    cols = next(csv.reader(_io.StringIO(_STORED_TEXT)))
    cols[S.COLUMNS.index(column)] = value
    out = _io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(cols)
    return out.getvalue()


def _locked_run(tmp: Path):
    """A run of a grid while another process holds the table's lock (held here)."""
    import fcntl

    S.RESULTS_DIR, old = tmp, S.RESULTS_DIR
    lock = open(tmp / "t.csv.lock", "a+")  # noqa: SIM115 -- held until the call is done
    fcntl.flock(lock, fcntl.LOCK_EX)

    def call():
        try:
            R.run_grid(G.GRIDS["smoke"]()[:1], name="t", engine=EN.SerialEngine(),
                       progress=False)
        finally:
            S.RESULTS_DIR = old
            lock.close()
    return call


def _run_with_meta(tmp: Path, text: str):
    """A run of a grid whose run log ``<grid>.meta.json`` holds ``text`` (set-up)."""
    _file(tmp, "t.meta.json", text)

    def call():
        S.RESULTS_DIR, old = tmp, S.RESULTS_DIR
        try:
            R.run_grid(G.GRIDS["smoke"]()[:1], name="t", engine=EN.SerialEngine(),
                       progress=False)
        finally:
            S.RESULTS_DIR = old
    return call


def _http_scheduler(tmp: Path):
    """An HTTP server on a local port (set-up); a Dask engine pointed at it, a short deadline."""
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def call():
        try:
            list(EN.DaskEngine(f"tcp://127.0.0.1:{server.server_address[1]}", timeout=2.0)
                 .map(len, []))
        finally:
            server.shutdown()
            server.server_close()
    return call


def _scheduler_wait(text: str):
    """A Dask engine whose deadline comes from the environment's ``text``."""
    import os

    def call():
        old = os.environ.get(EN.TIMEOUT_ENV)
        os.environ[EN.TIMEOUT_ENV] = text
        try:
            list(EN.DaskEngine("tcp://127.0.0.1:1").map(len, []))
        finally:
            os.environ.pop(EN.TIMEOUT_ENV) if old is None else os.environ.update(
                {EN.TIMEOUT_ENV: old})
    return call


def _dcase_source(tmp: Path, spoil: str):
    """A small DCASE-format source folder spoilt one way (set-up); the build that must fail.

    The build's data root is a sibling of ``tmp``: a failed build may keep finished chunks.
    """
    from utils.task.dcase_fixture import make_fixture

    fx = make_fixture(tmp / "src", n_train=12, n_test=3, n_eval=0)
    train = fx.root / DD.LABEL_FILES["train"][0]
    test_audio = sorted((fx.root / "audio").glob("Yf-te_*.wav"))
    if spoil == "no labels":
        for f in fx.root.glob("*.csv"):
            f.unlink()
    elif spoil == "unknown label":
        text = train.read_text()
        train.write_text(text.replace("\tAir horn, truck horn\n", "\tAir horns\n", 1))
    elif spoil == "unreadable audio":
        test_audio[0].write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk")
    elif spoil == "clip in two files":  # a testing clip listed again for training
        test_file = fx.root / DD.LABEL_FILES["test"][0]
        train.write_text(train.read_text() + test_file.read_text().splitlines()[0] + "\n")
    elif spoil == "zero clips":
        for f in test_audio:
            f.unlink()
    setattr_env(D.DATA_ENV, str(tmp.parent / f"{tmp.name}-data"))
    return lambda: D.build_dcase(fx.root, "bad", workers=1, progress=False)


def _torn_dcase(tmp: Path, args: list[str]):
    """A built DCASE dataset ``torn`` whose manifest lost its second half (set-up); the
    command line ``args`` that must refuse it."""
    from utils.task.dcase_fixture import make_fixture

    fx = make_fixture(tmp / "src", n_train=12, n_test=3, n_eval=0)
    setattr_env(D.DATA_ENV, str(tmp.parent / f"{tmp.name}-data"))
    manifest = D.build_dcase(fx.root, "torn", workers=1, progress=False).path / "manifest.json"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text[: len(text) // 2], encoding="utf-8")
    return _cli(args)


def _before_the_rule(grid: str):
    """Building ``grid`` while no stopping rule is chosen (whatever the stored tables say)."""
    def run():
        chosen, G.GRID_RULE = G.GRID_RULE, None
        try:
            G.GRIDS[grid]()
        finally:
            G.GRID_RULE = chosen
    return run


def _cli(args: list[str]):
    def run():
        out = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
        if out.returncode != 0:
            raise SystemExit(out.stderr.strip().splitlines()[-1])
    return run


CASES = [
    # --- DCASE I/O: label files -------------------------------------------------------------
    Case("weak: 3 columns", lambda t: _weak(t, f"{CLIP}\t30.000\tTrain\n"), io.DcaseFormatError,
         ("weak.csv line 1", "expected 4 tab-separated columns")),
    Case("weak: unknown label", lambda t: _weak(t, f"{CLIP}\t30.000\t40.000\tTrains\n"),
         io.DcaseFormatError, ("weak.csv line 1", "Trains")),
    Case("weak: duplicate row", lambda t: _weak(t, f"{CLIP}\t30\t40\tTrain\n" * 2),
         io.DcaseFormatError, ("weak.csv", "line 2", "line 1")),
    Case("weak: non-UTF-8", lambda t: _weak(t, b"\xff\xfe" + CLIP.encode() + b"\t3\t4\tCar\n"),
         io.DcaseFormatError, ("weak.csv", "line 1")),
    Case("weak: empty file", lambda t: _weak(t, ""), io.DcaseFormatError, ("weak.csv", "empty")),
    Case("weak: non-numeric time", lambda t: _weak(t, f"{CLIP}\tthirty\t40.000\tTrain\n"),
         io.DcaseFormatError, ("weak.csv line 1", "thirty")),
    Case("weak: missing file", lambda t: lambda: io.read_weak_labels(t / "nope.csv"),
         io.DcaseFormatError, ("nope.csv", "no such file")),
    Case("weak: comma-separated file", lambda t: _weak(t, f"{CLIP},30.000,40.000,Train\n"),
         io.DcaseFormatError, ("weak.csv line 1",)),
    Case("strong: onset > offset", lambda t: _strong(t, f"{CLIP}\t5.0\t3.0\tTrain\n"),
         io.DcaseFormatError, ("strong.csv line 1", "onset")),
    Case("strong: negative time", lambda t: _strong(t, f"{CLIP}\t-1\t3.0\tTrain\n"),
         io.DcaseFormatError, ("strong.csv line 1",)),
    Case("strong: offset past 10 s", lambda t: _strong(t, f"{CLIP}\t1\t12.5\tTrain\n"),
         io.DcaseFormatError, ("strong.csv line 1", "10")),
    Case("download list: labels vs ids", lambda t: _on_file(
        io.read_download_list, t, "training_set.csv",
        'abc,20.000,30.000,"Train horn,Train",/m/0284vy3\r\n'),
        io.DcaseFormatError, ("training_set.csv line 1",)),
    Case("download list: unknown label", lambda t: _on_file(
        io.read_download_list, t, "training_set.csv",
        "abc,20.000,30.000,Tractor,/m/0284vy3\r\n"),
        io.DcaseFormatError, ("training_set.csv line 1", "Tractor")),
    Case("clip name without times", lambda t: lambda: io.clip_id("a.txt"), io.DcaseFormatError,
         ("a.txt", "expected a clip name")),
    # --- DCASE I/O: audio -----------------------------------------------------------------
    Case("audio: empty file", lambda t: _on_file(io.load_audio, t, "Yempty.wav", b""),
         io.DcaseFormatError, ("Yempty.wav",)),
    Case("audio: corrupt bytes", lambda t: _on_file(io.load_audio, t, "Ybad.wav",
         np.random.default_rng(0).bytes(4000)), io.DcaseFormatError, ("Ybad.wav",)),
    Case("audio: truncated WAV", _truncated_wav, io.DcaseFormatError, ("Ytrunc.wav",)),
    Case("audio: a folder", lambda t: lambda: io.load_audio(t), io.DcaseFormatError,
         ("a folder",)),
    Case("audio folder missing", lambda t: lambda: io.find_audio(t / "audio", [CLIP]),
         io.DcaseFormatError, ("audio",)),
    Case("audio folder empty", lambda t: lambda: io.find_audio(t, [CLIP]),
         io.DcaseFormatError, ("expected Y<ytid>_<start>_<end>.wav or .flac files",)),
    Case("labelled clip without audio", lambda t: (_wav(t, "Yother_0.000_10.000.wav"),
         lambda: io.find_audio(t, [CLIP]))[1], io.DcaseFormatError, ("1 of 1",)),
    Case("submission: wrong prediction shape", lambda t: lambda: io.write_submission(
        t / "sub.csv", [CLIP], np.zeros((1, 5), bool)), io.DcaseFormatError, ("sub.csv",)),
    Case("submission: clip with no tag", lambda t: lambda: io.write_submission(
        t / "sub.csv", [CLIP], np.zeros((1, 17), bool)), io.DcaseFormatError,
         ("sub.csv", "every clip")),
    # --- embedded data and features -------------------------------------------------------
    Case("unknown dataset preset", lambda t: lambda: D.get_preset("huge"), ValueError,
         ("'huge'", "classroom")),
    Case("data folder is a file", lambda t: _on_file(
        lambda p: (setattr_env(D.DATA_ENV, str(p)), D.load_dataset("smoke")), t,
        "not_a_folder", "x"), D.DatasetError, ("cannot write the dataset cache",)),
    Case("strong-label cache: wrong header", lambda t: _strong_tsv_cache(t, "a\tb\n"),
         D.DatasetError, ("test_strong.tsv line 1", "header")),
    Case("strong-label cache: unknown label", lambda t: _strong_tsv_cache(
        t, "clip_id\tonset\toffset\tlabel\tsnr_db\nsyn_0\t1\t2\tTractor\t3\n"),
        D.DatasetError, ("test_strong.tsv line 2", "17 labels")),
    Case("clip index out of range", lambda t: lambda: D.clip_audio("test", 999, "smoke"),
         IndexError, ("999", "'test'")),
    Case("unknown split", lambda t: lambda: plan_clip(SynthParams(), "dev", 0), ValueError,
         ("'dev'", "train")),
    Case("stereo audio to features", lambda t: lambda: log_mel(np.zeros((2, 100)), CLASSROOM),
         ValueError, ("mono",)),
    Case("unknown input scaling", lambda t: lambda: scale_features(
        np.zeros((2, 3)), feature_stats(np.ones((1, 2, 3))), "minmax"), ValueError,
         ("'minmax'", "standard")),
    # --- recipes ----------------------------------------------------------------------------
    Case("recipe: unknown gate", lambda t: lambda: Recipe(gate_activation="hard_sigmoid"),
         ValueError, ("gate_activation", "hard_sigmoid_keras2")),
    Case("recipe: unknown field", lambda t: lambda: Recipe.from_dict({"gate": "x"}), ValueError,
         ("gate",)),
    Case("recipe: not JSON", lambda t: lambda: Recipe.from_string("{gate"), ValueError,
         ("not JSON",)),
    Case("recipe: unknown preset", lambda t: lambda: get_recipe("keras2"), ValueError,
         ("keras2", "keras_2017")),
    Case("recipe: negative learning rate", lambda t: lambda: Recipe(learning_rate=-1.0),
         ValueError, ("learning_rate",)),
    # --- DCASE I/O: label rows against their clip names ------------------------------------
    Case("weak: negative start", lambda t: _weak(t, f"{CLIP}\t-30.000\t40.000\tTrain\n"),
         io.DcaseFormatError, ("weak.csv line 1", "times >= 0")),
    Case("weak: start after end", lambda t: _weak(t, f"{CLIP}\t40.000\t30.000\tTrain\n"),
         io.DcaseFormatError, ("weak.csv line 1", "start <= end")),
    Case("weak: times disagree with the clip name", lambda t: _weak(
        t, f"{CLIP}\t0.000\t10.000\tTrain\n"), io.DcaseFormatError,
         ("weak.csv line 1", "segment 30.000 to 40.000")),
    Case("weak: one clip as .wav, .flac and bare", lambda t: _weak(
        t, f"{CLIP}\t30\t40\tTrain\n{CLIP[:-4]}.flac\t30\t40\tBus\n{CLIP[:-4]}\t30\t40\tCar\n"),
         io.DcaseFormatError, ("weak.csv line 2", "one spelling per clip", "line 1")),
    Case("weak: one clip as .wav and .flac, same label", lambda t: _weak(
        t, f"{CLIP}\t30\t40\tTrain\n{CLIP[:-4]}.flac\t30\t40\tTrain\n"),
         io.DcaseFormatError, ("weak.csv line 2", "one spelling per clip")),
    Case("weak: filename without a segment", lambda t: _weak(t, "abc.wav\t0\t10\tCar\n"),
         io.DcaseFormatError, ("weak.csv line 1", "expected a clip name")),
    Case("weak: clip name ends before it starts", lambda t: _weak(
        t, "abc_40.000_30.000.wav\t40\t30\tCar\n"), io.DcaseFormatError,
         ("weak.csv line 1", "0 <= start < end")),
    Case("weak: filename with a folder", lambda t: _weak(
        t, f"audio/{CLIP}\t30\t40\tCar\n"), io.DcaseFormatError,
         ("weak.csv line 1", "without a folder")),
    Case("strong: one clip spelt two ways", lambda t: _strong(
        t, f"{CLIP}\t1\t2\tCar\n{CLIP[:-4]}\t3\t4\tCar\n"), io.DcaseFormatError,
         ("strong.csv line 2", "one spelling per clip")),
    Case("strong: malformed clip name", lambda t: _strong(t, "notaclip\t1\t2\tCar\n"),
         io.DcaseFormatError, ("strong.csv line 1", "expected a clip name")),
    Case("download list: end before start", lambda t: _on_file(
        io.read_download_list, t, "training_set.csv", "abc,30.000,20.000,Train,/m/07jdr\r\n"),
        io.DcaseFormatError, ("training_set.csv line 1", "0 <= start < end")),
    Case("download list: negative start", lambda t: _on_file(
        io.read_download_list, t, "training_set.csv", "abc,-10.000,0.000,Train,/m/07jdr\r\n"),
        io.DcaseFormatError, ("training_set.csv line 1", "0 <= start < end")),
    Case("clip name with a NaN time", lambda t: lambda: io.clip_id("abc_nan_10.000.wav"),
         io.DcaseFormatError, ("'nan'", "numeric start and end")),
    # --- DCASE I/O: audio and submissions ---------------------------------------------------
    Case("find_audio: one clip given twice", lambda t: _with_wav(
        t, AUDIO_NAME, lambda: io.find_audio(t, [CLIP, CLIP[:-4]])), io.DcaseFormatError,
         ("expected each clip once", CLIP)),
    Case("find_audio: audio names given as clips", lambda t: _with_wav(
        t, AUDIO_NAME, lambda: io.find_audio(t, [AUDIO_NAME])), io.DcaseFormatError,
         ("1 of 1", "audio file names")),
    Case("find_audio: one string for the clip list", lambda t: _with_wav(
        t, AUDIO_NAME, lambda: io.find_audio(t, CLIP)), io.DcaseFormatError, ("one name",)),
    Case("find_audio: the file differs from the clip only in case", lambda t: _with_wav(
        t, AUDIO_NAME.upper().replace(".WAV", ".wav"), lambda: io.find_audio(t, [CLIP])),
         io.DcaseFormatError, ("1 of 1", f"found {AUDIO_NAME.upper().replace('.WAV', '.wav')}",
                               "differs only in case")),
    Case("audio: sample rate 0", lambda t: _with_wav(
        t, AUDIO_NAME, lambda: io.load_audio(t / AUDIO_NAME, sr=0)), io.DcaseFormatError,
         (AUDIO_NAME, "sr > 0")),
    Case("submission: audio file names", lambda t: _submit(t, [AUDIO_NAME]),
         io.DcaseFormatError, ("sub.csv", "'Y' prefix", "F1 = 0", "audio=True")),
    Case("submission: audio=True on label names", lambda t: _submit(t, [CLIP], audio=True),
         io.DcaseFormatError, ("sub.csv", CLIP, "'Y' prefix")),
    Case("submission: one clip as .wav and .flac", lambda t: _submit(
        t, [CLIP, CLIP[:-4] + ".flac"], np.eye(17, dtype=bool)[:2]), io.DcaseFormatError,
         ("sub.csv", "repeats")),
    Case("submission: a .wav name whose id is not YouTube's", lambda t: _submit(
        t, ["abc_30.000_40.000.wav"]), io.DcaseFormatError,
         ("sub.csv", "11-character YouTube id", "'abc_30.000_40.000.wav'")),
    Case("submission: one string for the clip list", lambda t: _submit(t, CLIP),
         io.DcaseFormatError, ("sub.csv", "one name")),
    Case("submission: missing folder", lambda t: lambda: io.write_submission(
        t / "out" / "sub.csv", [CLIP], ONE_TAG), io.DcaseFormatError,
         ("sub.csv", "existing folder")),
    Case("submission: NaN scores", lambda t: _submit(
        t, [CLIP], np.zeros((1, 17), bool), scores=np.full((1, 17), np.nan)),
         io.DcaseFormatError, ("sub.csv", "finite scores")),
    # --- embedded data: cache files, clips, export ----------------------------------------
    Case("strong-label cache: non-numeric onset", lambda t: _cache_row(
        t, "syn_0\tsoon\t2\tCar\t3\n"), D.DatasetError, ("test_strong.tsv line 2", "soon")),
    Case("strong-label cache: onset after offset", lambda t: _cache_row(
        t, "syn_0\t5\t2\tCar\t3\n"), D.DatasetError,
         ("test_strong.tsv line 2", "onset <= offset")),
    Case("clip index negative", lambda t: lambda: D.clip_audio("test", -1, "smoke"),
         IndexError, ("-1", "'test'")),
    Case("clip of an unknown split", lambda t: lambda: D.clip_audio("dev", 0, "smoke"),
         ValueError, ("'dev'", "train")),
    Case("load: splits given as one string", lambda t: lambda: D.load_dataset(
        "smoke", splits="test"), ValueError, ("'test'", "tuple")),
    Case("build: zero workers", lambda t: lambda: D.build("smoke", workers=0), ValueError,
         ("workers", "0", ">= 1")),
    Case("export: samples beyond [-1, 1]", lambda t: lambda: D.export_wav(
        t / "x.wav", np.full(100, 2.0)), ValueError, ("x.wav", "[-1, 1]", "clip")),
    Case("export: NaN samples", lambda t: lambda: D.export_wav(
        t / "x.wav", np.full(100, np.nan)), ValueError, ("x.wav", "finite")),
    Case("export: target is a folder", lambda t: lambda: D.export_wav(t, np.zeros(100)),
         ValueError, ("a folder",)),
    # --- features, synthesis, labels ------------------------------------------------------
    Case("features: int16 PCM", lambda t: lambda: log_mel(np.ones(1600, np.int16), CLASSROOM),
         ValueError, ("int16", "[-1, 1]")),
    Case("features: NaN audio", lambda t: lambda: log_mel(np.full(1600, np.nan), CLASSROOM),
         ValueError, ("finite",)),
    Case("features: empty audio", lambda t: lambda: log_mel(np.zeros(0), CLASSROOM),
         ValueError, ("got 0",)),
    Case("feature stats: 2-D features", lambda t: lambda: feature_stats(np.zeros((3, 4))),
         ValueError, ("(3, 4)", "n_clips, n_frames, n_mels")),
    Case("scaling: constant training features", lambda t: lambda: scale_features(
        np.zeros((2, 3)), feature_stats(np.ones((1, 2, 3))), "unit"), ValueError,
         ("'unit'", "max > min")),
    Case("scaling: wrong number of mel bins", lambda t: lambda: scale_features(
        np.zeros((2, 5)), feature_stats(np.arange(6.0).reshape(1, 2, 3)), "standard"),
         ValueError, ("3 mel bins", "(2, 5)")),
    Case("synthesis: negative clip index", lambda t: lambda: plan_clip(
        SynthParams(), "test", -1), ValueError, ("-1",)),
    Case("synthesis: four labels per clip", lambda t: lambda: SynthParams(max_labels=4),
         ValueError, ("max_labels", "4", "1, 2 or 3")),
    Case("synthesis: label noise above 1", lambda t: lambda: SynthParams(label_noise=1.5),
         ValueError, ("label_noise", "1.5")),
    Case("synthesis: SNR range reversed", lambda t: lambda: SynthParams(snr_db=(12.0, -3.0)),
         ValueError, ("snr_db", "low <= high")),
    Case("synthesis: missed-label rate above 1", lambda t: lambda: SynthParams(
        missed_labels=1.2), ValueError, ("missed_labels", "1.2", "probability in [0, 1]")),
    Case("synthesis: per-class spurious rates of the wrong length", lambda t: lambda: SynthParams(
        spurious_labels=(0.1,) * 16), ValueError, ("spurious_labels", "tuple of 17")),
    Case("synthesis: negative per-class missed rate", lambda t: lambda: SynthParams(
        missed_labels=(-0.1,) + (0.0,) * 16), ValueError, ("missed_labels", "-0.1")),
    Case("synthesis: negative distractor rate", lambda t: lambda: SynthParams(
        distractor_rate=-1.0), ValueError, ("distractor_rate", "-1.0", "[0, 10]")),
    Case("synthesis: distractor level range reversed", lambda t: lambda: SynthParams(
        distractor_snr_db=(6.0, -6.0)), ValueError, ("distractor_snr_db", "low <= high")),
    Case("synthesis: zero-length distractors", lambda t: lambda: SynthParams(
        distractor_seconds=(0.0, 2.0)), ValueError, ("distractor_seconds", "0 < low")),
    Case("synthesis: events longer than the clip", lambda t: lambda: SynthParams(
        event_seconds=(1.0, 12.0)), ValueError, ("event_seconds", "12.0", "<= 10 s")),
    Case("synthesis: event duration not a pair", lambda t: lambda: SynthParams(
        event_seconds=2.0), ValueError, ("event_seconds", "None or a tuple")),
    Case("synthesis: overlap as a boolean", lambda t: lambda: SynthParams(overlap=True),
         ValueError, ("overlap", "True", "probability")),
    Case("synthesis: unknown distractor kind", lambda t: lambda: render_distractor(
        "dog", 0, 1.0), ValueError, ("'dog'", "speech")),
    Case("synthesis: negative event label", lambda t: lambda: render_event(-1, 0, 1.0),
         ValueError, ("-1", "0..16")),
    Case("synthesis: zero-length event", lambda t: lambda: render_event(0, 0, 0.0),
         ValueError, ("0.0", "> 0")),
    Case("labels: unknown real split", lambda t: lambda: clip_fraction("valid"), ValueError,
         ("'valid'", "eval")),
    # --- metrics ----------------------------------------------------------------------------
    Case("F1: mismatched shapes", lambda t: lambda: M.micro_f1(
        np.zeros((3, 17)), np.zeros((3, 16))), ValueError, ("same shape", "(3, 16)")),
    Case("F1: NaN predictions", lambda t: lambda: M.micro_f1(
        np.zeros((2, 3)), np.full((2, 3), np.nan)), ValueError, ("y_pred", "nan")),
    Case("F1: probabilities as predictions", lambda t: lambda: M.per_class_f1(
        np.zeros((2, 3)), np.full((2, 3), 0.7)), ValueError, ("y_pred", "0.7", "binarize")),
    Case("F1: no clips", lambda t: lambda: M.micro_f1(np.zeros((0, 17)), np.zeros((0, 17))),
         ValueError, ("y_true", "empty", "(0, 17)")),
    Case("binarize: NaN threshold", lambda t: lambda: M.binarize(np.zeros((2, 3)), np.nan),
         ValueError, ("thresholds", "NaN")),
    Case("bootstrap: fractional n_boot", lambda t: lambda: stats.bootstrap_ci(
        [0.1, 0.2], n_boot=10.5), ValueError, ("n_boot", "10.5")),
    # --- recipes: types and ranges ----------------------------------------------------------
    Case("recipe: learning_rate true", lambda t: lambda: Recipe.from_dict(
        {"learning_rate": True}), ValueError, ("learning_rate", "True", "bool")),
    Case("recipe: negative lr_decay", lambda t: lambda: Recipe(lr_decay=-0.1), ValueError,
         ("lr_decay", "-0.1", "(0, 1]")),
    Case("recipe: epochs as a string", lambda t: lambda: Recipe.from_string('{"epochs": "3"}'),
         ValueError, ("epochs", "'3'", "integer")),
    Case("recipe: epochs 3.0", lambda t: lambda: get_recipe('{"epochs": 3.0}'), ValueError,
         ("epochs", "3.0", "integer")),
    Case("recipe: epochs 3.5", lambda t: lambda: Recipe(epochs=3.5), ValueError,
         ("epochs", "3.5", "integer")),
    Case("recipe: NaN learning rate", lambda t: lambda: Recipe.from_string(
        '{"learning_rate": NaN}'), ValueError, ("learning_rate", "nan", "finite")),
    Case("recipe: momentum 1", lambda t: lambda: Recipe(momentum=1.0), ValueError,
         ("momentum", "1.0", "[0, 1)")),
    Case("recipe: batch_size true", lambda t: lambda: Recipe(batch_size=True), ValueError,
         ("batch_size", "True", "integer")),
    Case("recipe: negative patience", lambda t: lambda: Recipe(patience=-1), ValueError,
         ("patience", "-1", ">= 0")),
    Case("recipe: cap below patience", lambda t: lambda: Recipe(patience=20, epochs=10),
         ValueError, ("epochs", "10", "patience = 20")),
    Case("recipe: cap equal to patience", lambda t: lambda: Recipe(patience=12, epochs=12),
         ValueError, ("epochs", "12", "a cap above patience = 12")),
    Case("train: batch_size above the training split", lambda t: lambda: train(
        Recipe(batch_size=500, epochs=1), "smoke", framework="torch", progress=False),
         ValueError, ("batch_size = 500", f"training split of dataset 'smoke' ({_SMOKE_TRAIN} "
                      f"clips)", f"at most {_SMOKE_TRAIN}")),
    Case("CLI: train with a negative data seed", lambda t: _cli(
        ["utils.train", "--framework", "torch", "--data-seed", "-3"]), SystemExit,
         ("--data-seed -3",)),
    Case("CLI: verify --epochs 0", lambda t: _cli(
        ["utils.experiments", "verify", "--epochs", "0"]), SystemExit, ("--epochs", "got 0")),
    Case("results: unknown stop reason", lambda t: _results(
        t, _HEADER + _row("stop_reason", "tired")), S.ResultsError,
         ("grid.csv line 2", "stop_reason", "tired")),
    Case("results: kept epoch past the curve", lambda t: _results(
        t, _HEADER + _row("best_epoch", "13")), S.ResultsError,
         ("grid.csv line 2", "best_epoch 13", "12 epochs")),
    Case("probabilities: not encoded", lambda t: lambda: decode_probs("12x17:not base64!"),
         ValueError, ("not encoded test probabilities",)),
    Case("recipe: JSON list", lambda t: lambda: Recipe.from_string("[1]"), ValueError,
         ("JSON object",)),
    Case("recipe: not a string", lambda t: lambda: get_recipe(None), ValueError,
         ("None", "keras_2017")),
    # --- results tables ---------------------------------------------------------------------
    Case("results: missing column", lambda t: _results(t, _HEADER.replace(",test_f1,", ",")),
         S.ResultsError, ("grid.csv line 1", "test_f1")),
    Case("results: short row", lambda t: _results(t, _HEADER + "a,b\n"), S.ResultsError,
         ("grid.csv line 2", f"expected {len(S.COLUMNS)} columns")),
    Case("results: NaN F1", lambda t: _results(t, _HEADER + _row("test_f1", "nan")),
         S.ResultsError, ("grid.csv line 2", "test_f1 must be an F1 in [0, 1]", "nan")),
    Case("results: F1 above 1", lambda t: _results(t, _HEADER + _row("valid_f1", "1.5")),
         S.ResultsError, ("grid.csv line 2", "valid_f1", "1.5")),
    Case("results: seed not a number", lambda t: _results(t, _HEADER + _row("seed", "four")),
         S.ResultsError, ("grid.csv line 2", "wrong type")),
    Case("results: broken JSON curve", lambda t: _results(
        t, _HEADER + _row("epoch_loss", "[0.3, 0.2")), S.ResultsError,
         ("grid.csv line 2", "wrong type")),
    Case("results: append a NaN F1", lambda t: lambda: S._append_row(
        t / "grid.csv", {**_STORED, "test_f1": float("nan")}), S.ResultsError,
         ("refusing to store", "test_f1", "nan")),
    Case("results: run a grid another run holds", lambda t: _locked_run(t), S.ResultsError,
         ("another run is writing",)),
    Case("results: run log not JSON", lambda t: _run_with_meta(t, '{"runs": [{"rows": 3,'),
         S.ResultsError, ("t.meta.json", "not valid JSON", "line 1 column", "run log")),
    Case("results: run log without runs", lambda t: _run_with_meta(t, '{"runs": 3}'),
         S.ResultsError, ("t.meta.json", "no list 'runs'", "run log")),
    Case("results: verify a preset with no rows", lambda t: lambda: V.verify(
        "reference", sample=1, preset="x16"), S.ResultsError, ("no stored rows", "'x16'")),
    Case("results: verify zero rows", lambda t: lambda: V.verify("reference", sample=0),
         ValueError, ("sample must be at least 1", "0")),
    Case("results: run a chunk of -1 rows", lambda t: lambda: R.run_grid(
        "smoke", name="never", limit=-1), ValueError, ("limit", "-1")),
    Case("requirements: unpinned", lambda t: _on_file(read_pins, t, "req.txt", "torch\n"),
         ValueError, ("req.txt line 1", "exact pin")),
    # --- command lines ----------------------------------------------------------------------
    Case("CLI: train with an unknown recipe", lambda t: _cli(
        ["utils.train", "--framework", "torch", "--recipe", "keras2"]), SystemExit,
         ("keras2",)),
    Case("CLI: build an unknown preset", lambda t: _cli(
        ["utils.data", "build", "--preset", "huge"]), SystemExit, ("huge", "classroom")),
    Case("CLI: parity with a bad recipe string", lambda t: _cli(
        ["utils.parity", "--recipe", '{"gate_activation": "relu"}']), SystemExit,
         ("gate_activation",)),
    Case("CLI: train with a negative seed", lambda t: _cli(
        ["utils.train", "--framework", "torch", "--seed", "-1"]), SystemExit, ("--seed -1",)),
    Case("CLI: train on an unknown dataset preset", lambda t: _cli(
        ["utils.train", "--framework", "torch", "--preset", "huge"]), SystemExit,
         ("'huge'", "classroom")),
    Case("CLI: train with an unknown framework", lambda t: _cli(
        ["utils.train", "--framework", "jax"]), SystemExit, ("'jax'",)),
    Case("CLI: train for zero epochs", lambda t: _cli(
        ["utils.train", "--framework", "torch", "--epochs", "0"]), SystemExit,
         ("epochs", "0")),
    Case("CLI: parity with a negative seed", lambda t: _cli(
        ["utils.parity", "--seed", "-5"]), SystemExit, ("--seed -5",)),
    Case("CLI: export a clip past the split", lambda t: _cli(
        ["utils.data", "export", "--preset", "smoke", "--index", "999", "--out",
         str(t / "x.wav")]), SystemExit, ("999", "'test'")),
    Case("CLI: export into a missing folder", lambda t: _cli(
        ["utils.data", "export", "--preset", "smoke", "--out", str(t / "out" / "x.wav")]),
         SystemExit, ("existing folder",)),
    Case("CLI: verify --sample 0", lambda t: _cli(
        ["utils.experiments", "verify", "--sample", "0"]), SystemExit, ("--sample", "got 0")),
    Case("CLI: run --limit -1", lambda t: _cli(
        ["utils.experiments", "run", "--grid", "smoke", "--limit", "-1"]), SystemExit,
         ("--limit", "got -1")),
    Case("CLI: run --workers 0", lambda t: _cli(
        ["utils.experiments", "run", "--grid", "smoke", "--workers", "0"]), SystemExit,
         ("--workers", "got 0")),
    Case("CLI: run an unknown grid", lambda t: _cli(
        ["utils.experiments", "run", "--grid", "everything"]), SystemExit,
         ("'everything'", "reference")),
    Case("CLI: run --scheduler ''", lambda t: _cli(
        ["utils.experiments", "run", "--grid", "smoke", "--scheduler", ""]), SystemExit,
         ("--scheduler ''", "expected a Dask scheduler's address", "omit --scheduler")),
    Case("CLI: run --scheduler with a port above 65535", lambda t: _cli(
        ["utils.experiments", "run", "--grid", "smoke", "--scheduler",
         "tcp://127.0.0.1:70000"]), SystemExit, ("port 70000", "outside 1..65535")),
    Case("scheduler: an HTTP server at the address", lambda t: _http_scheduler(t),
         S.ResultsError, ("cannot reach the Dask scheduler at tcp://127.0.0.1:",
                          'an HTTP server (it answered "HTTP/1.0 501', "not a Dask scheduler")),
    Case("scheduler: a deadline that is not a number", lambda t: _scheduler_wait("soon"),
         ValueError, ("DEFAULTS_LAB_SCHEDULER_TIMEOUT='soon'", "number of seconds")),
    Case("CLI: build with zero workers", lambda t: _cli(
        ["utils.data", "build", "--preset", "smoke", "--workers", "0"]), SystemExit,
         ("--workers 0",)),
    # --- datasets from DCASE files (build --from-dcase) ---------------------------------------
    Case("CLI: run --data on a DCASE dataset with a torn manifest", lambda t: _torn_dcase(
        t, ["utils.experiments", "run", "--grid", "reference", "--data", "torn"]), SystemExit,
         ("--data 'torn'", "manifest.json: not a valid JSON manifest",
          "python -m utils.data build --from-dcase DIR --name torn")),
    Case("CLI: run --data on a dataset never built", lambda t: _cli(
        ["utils.experiments", "run", "--grid", "reference", "--data", "nope"]), SystemExit,
         ("--data 'nope'", "python -m utils.data build --from-dcase DIR --name nope")),
    Case("notebook: unknown DATA in smoke mode", lambda t: lambda: report(
        mode="smoke", data="nope"), ValueError,
         ("'nope'", "python -m utils.data build --from-dcase DIR --name nope")),
    Case("set-repo: a dot in the owner", lambda t: lambda: set_repo("some.one/lab", root=t),
         ValueError, ("'some.one/lab'", "owner 'some.one'", "single hyphens")),
    Case("set-repo: a .git suffix", lambda t: lambda: set_repo("me/lab.git", root=t),
         ValueError, ("'me/lab.git'", "'.git'")),
    Case("set-repo: an owner of 40 characters", lambda t: lambda: set_repo(
        "o" * 40 + "/lab", root=t), ValueError, ("owner", "1 to 39")),
    Case("set-repo: a repository name of 101 characters", lambda t: lambda: set_repo(
        "me/" + "n" * 101, root=t), ValueError, ("repository name", "1 to 100")),
    Case("set-repo: repository name '..'", lambda t: lambda: set_repo("me/..", root=t),
         ValueError, ("repository name '..'", "must not be '.' or '..'")),
    Case("DCASE build: missing folder", lambda t: _cli(
        ["utils.data", "build", "--from-dcase", str(t / "nowhere")]), SystemExit,
         ("nowhere", "expected a folder", "no such folder")),
    Case("DCASE build: no label files", lambda t: _dcase_source(t, "no labels"),
         DD.DcaseSourceError, ("groundtruth_weak_label_training_set.csv", "found none")),
    Case("DCASE build: unknown label", lambda t: _dcase_source(t, "unknown label"),
         io.DcaseFormatError, ("groundtruth_weak_label_training_set.csv line 1",
                               "'Air horns'")),
    Case("DCASE build: unreadable audio", lambda t: _dcase_source(t, "unreadable audio"),
         io.DcaseFormatError, ("Yf-te_000000", "corrupt")),
    Case("DCASE build: zero clips in a split", lambda t: _dcase_source(t, "zero clips"),
         DD.DcaseSourceError, ("split 'test'", "found none", "3 listed clips")),
    Case("grid: a grid under the stopping rule before one is chosen",
         lambda t: _before_the_rule("realistic"), G.GridNotReady,
         ("GRID_RULE", "run --grid stopping", "summary")),
    Case("realistic task: an unknown knob group", lambda t: lambda: D.ablation_name(
        "reverb"), ValueError, ("'reverb'", "expected one of", "label noise")),
    Case("grid: an unknown stopping rule", lambda t: lambda: G.trained_toggle(
        KERAS_2017, rule="patience 50"), ValueError,
         ("'patience 50'", "expected one of", "patience 40")),
    Case("DCASE build: a clip in two label files", lambda t: _dcase_source(
        t, "clip in two files"), DD.DcaseSourceError,
         ("groundtruth_weak_label_testing_set.csv line 1",
          "groundtruth_weak_label_training_set.csv line", "expected each clip in one label")),
]


def setattr_env(name: str, value: str) -> None:
    import os

    os.environ[name] = value


@pytest.fixture()
def restore_env(monkeypatch):
    monkeypatch.setenv(D.DATA_ENV, str(D.data_root()))  # restored after the test


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_gives_one_clear_error(case, tmp_path, restore_env):
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    call = case.make(tmp_path)
    made = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    with pytest.raises(case.error) as info:
        call()
    message = str(info.value)
    for s in case.says:
        assert s in message, f"{case.name}: {s!r} not in {message!r}"
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == {**before, **made}, f"{case.name}: files were written or changed"
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name or p.name.startswith(".")]


def test_submission_failure_keeps_a_good_file(tmp_path):
    good = tmp_path / "sub.csv"
    io.write_submission(good, [CLIP], np.eye(17, dtype=bool)[:1])
    content = good.read_bytes()
    with pytest.raises(io.DcaseFormatError):
        io.write_submission(good, [CLIP], np.zeros((1, 17), bool))
    assert good.read_bytes() == content and sorted(tmp_path.iterdir()) == [good]


def test_catalogue_size(capsys):
    names = {c.name for c in CASES}
    assert len(names) == len(CASES) >= 30
    with capsys.disabled():
        print(f"\nbad-input catalogue: {len(CASES)} distinct cases")


def test_recipe_preset_is_unchanged_by_bad_toggles():
    with pytest.raises(ValueError):
        Recipe.from_dict({**KERAS_2017.to_dict(), "epochs": 0})
    assert KERAS_2017.epochs >= 1
