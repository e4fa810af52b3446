"""The embedded-dataset cache: build, manifest, validation, rebuild, atomicity, CLI."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from utils.task import dataset as D
from utils.task.features import CLASSROOM, FeatureStats, feature_stats, log_mel, scale_features
from utils.task.synthesis import plan_clip, render_clip

REPO = D.REPO_ROOT


def test_smoke_cache_is_complete_and_consistent(smoke_data_root):
    ds = D.load_dataset("smoke", build_if_needed=False)
    p = D.PRESETS["smoke"]
    assert {s: len(ds[s]) for s in ds.splits} == p.sizes()
    assert ds["train"].x.shape[1:] == (p.features.n_frames, p.features.n_mels)
    assert ds["train"].strong is None  # weak labels only, as in the real task
    for split in ("valid", "test", "eval"):
        sp = ds[split]
        for i in range(len(sp)):
            labels = {lab for _, _, lab in sp.events(i)}
            assert labels == {D.LABELS[c] for c in np.flatnonzero(sp.y[i])}


def test_cache_features_equal_fresh_synthesis(smoke_data_root):
    ds = D.load_dataset("smoke", build_if_needed=False)
    p = D.PRESETS["smoke"]
    for split, i in (("train", 0), ("test", 17), ("eval", 47)):
        fresh = log_mel(render_clip(plan_clip(p.synth, split, i)), p.features)
        assert np.array_equal(ds[split].x[i], fresh)


def test_stats_come_from_the_training_split_only(smoke_data_root):
    ds = D.load_dataset("smoke", build_if_needed=False)
    expected = feature_stats(ds["train"].x)
    assert np.allclose(ds.stats.mean, expected.mean) and ds.stats.max == expected.max


def test_manifest_records_params_and_checksums(smoke_data_root):
    m = json.loads((D.cache_dir("smoke") / "manifest.json").read_text())
    assert m["params"] == json.loads(json.dumps(D.PRESETS["smoke"].params()))
    assert set(m["files"]) >= {"train.npz", "test_strong.tsv", "train_stats.npz"}
    assert all(len(v) == 64 for v in m["files"].values())
    assert D.check_cache("smoke") is None


@pytest.fixture()
def private_root(tmp_path, monkeypatch, smoke_data_root):
    """A fresh data root holding a copy of the smoke cache (tests may damage it)."""
    import shutil

    shutil.copytree(smoke_data_root / "embedded", tmp_path / "embedded")
    monkeypatch.setenv(D.DATA_ENV, str(tmp_path))
    return tmp_path


def test_flipped_byte_is_detected_and_rebuilt(private_root):
    f = D.cache_dir("smoke") / "test.npz"
    good = f.read_bytes()
    raw = bytearray(good)
    raw[len(raw) // 2] ^= 0xFF
    f.write_bytes(bytes(raw))
    assert "checksum" in D.check_cache("smoke")
    D.load_dataset("smoke", progress=False)  # rebuilds
    assert D.check_cache("smoke") is None
    assert f.read_bytes() == good


def test_changed_generator_parameter_is_detected(private_root, monkeypatch):
    changed = replace(D.PRESETS["smoke"], synth=replace(D.PRESETS["smoke"].synth, seed=1))
    monkeypatch.setitem(D.PRESETS, "smoke", changed)
    assert "other generator/feature parameters" in D.check_cache("smoke")
    with pytest.raises(D.DatasetError, match="python -m utils.data build --preset smoke"):
        D.load_dataset("smoke", build_if_needed=False)


def test_truncated_cache_file_is_detected(private_root):
    f = D.cache_dir("smoke") / "train.npz"
    f.write_bytes(f.read_bytes()[:1000])
    assert "checksum" in D.check_cache("smoke")


def test_missing_or_garbage_manifest(private_root):
    m = D.cache_dir("smoke") / "manifest.json"
    m.write_text("{not json")
    assert "not a valid JSON manifest" in D.check_cache("smoke")
    m.unlink()
    assert D.check_cache("smoke").startswith("no cache")


def test_failed_build_leaves_no_partial_files_and_keeps_the_old_cache(private_root, monkeypatch):
    before = sorted(p.name for p in (private_root / "embedded" / "smoke").iterdir())
    calls = {"n": 0}
    real = D._render_chunk

    def dying(job):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker died")
        return real(job)

    monkeypatch.setattr(D, "_render_chunk", dying)
    with pytest.raises(RuntimeError, match="worker died"):
        D.build("smoke", workers=1, progress=False)
    assert sorted(p.name for p in (private_root / "embedded").iterdir()
                  if not p.name.endswith(".lock")) == ["smoke"]
    assert sorted(p.name for p in (private_root / "embedded" / "smoke").iterdir()) == before
    assert D.check_cache("smoke") is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_read_only_data_folder_is_a_clear_error(tmp_path, monkeypatch):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setenv(D.DATA_ENV, str(ro))
    with pytest.raises(D.DatasetError, match="cannot write the dataset cache"):
        D.load_dataset("smoke", progress=False)


def test_unwritable_data_folder_is_a_clear_error(tmp_path, monkeypatch):
    # A regular file where the data folder should be: fails for root too.
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    monkeypatch.setenv(D.DATA_ENV, str(blocker))
    with pytest.raises(D.DatasetError, match="cannot write the dataset cache under"):
        D.load_dataset("smoke", progress=False)


def test_unknown_preset_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown dataset preset 'huge'"):
        D.get_preset("huge")


def test_clip_audio_and_wav_export(tmp_path):
    import soundfile as sf

    y = D.clip_audio("test", 3, "smoke")
    out = D.export_wav(tmp_path / "clip.wav", y)
    back, sr = sf.read(out, dtype="float32")
    assert sr == 16000 and back.shape == y.shape
    assert np.abs(back - y).max() < 2 / 32768  # 16-bit quantisation
    with pytest.raises(IndexError, match="outside split 'test'"):
        D.clip_audio("test", 10_000, "smoke")


def test_cli_build_last_line(smoke_data_root):
    env = dict(os.environ, **{D.DATA_ENV: str(smoke_data_root)})
    out = subprocess.run([sys.executable, "-m", "utils.data", "build", "--preset", "smoke"],
                         cwd=REPO, env=env, capture_output=True, text=True, check=True)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("dataset=smoke clips=304 seconds=")
    assert float(last.rsplit("=", 1)[1]) < 30  # warm: validates, does not rebuild


def test_scale_features_conventions():
    x = np.random.default_rng(0).normal(-40, 10, (20, 200, 40)).astype(np.float32)
    s = feature_stats(x)
    u, m, z = (scale_features(x, s, k) for k in ("unit", "pm128", "standard"))
    assert u.min() == pytest.approx(0) and u.max() == pytest.approx(1)
    assert m.min() == pytest.approx(-128) and m.max() == pytest.approx(128)
    assert np.allclose(z.reshape(-1, 40).mean(0), 0, atol=1e-4)
    assert np.allclose(z.reshape(-1, 40).std(0), 1, atol=1e-3)
    with pytest.raises(ValueError, match="unknown input scaling"):
        scale_features(x, s, "minmax")
    assert isinstance(FeatureStats.from_arrays(s.to_arrays()), FeatureStats)


def test_log_mel_pads_short_and_rejects_stereo():
    assert log_mel(np.ones(8000, np.float32), CLASSROOM).shape == (200, 40)
    with pytest.raises(ValueError, match="mono"):
        log_mel(np.ones((2, 8000), np.float32), CLASSROOM)


def test_list_says_stale_for_a_cache_that_fails_its_checksum(private_root, capsys):
    assert D.cache_state("smoke") == "built"
    f = D.cache_dir("smoke") / "valid.npz"
    raw = bytearray(f.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, same manifest: only the checksum tells
    f.write_bytes(bytes(raw))
    D.main(["list"])
    line = next(ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("smoke "))
    assert "stale/corrupt" in line and "checksum" in line and "built" not in line.split()[-1]


def test_build_removes_a_crashed_builds_temp_folders(private_root):
    parent = private_root / "embedded"
    for name in (".smoke.tmp-crashed", ".smoke.old-12345"):
        (parent / name).mkdir()
        (parent / name / "train.npz").write_bytes(b"half written")
    other = parent / ".quarter.tmp-running"  # another preset's build: not ours to remove
    other.mkdir()
    D.build("smoke", workers=1, progress=False)
    assert sorted(p.name for p in parent.iterdir() if not p.name.endswith(".lock")) == [
        ".quarter.tmp-running", "smoke"]
    assert D.check_cache("smoke") is None


def test_concurrent_builds_of_one_preset_take_turns(private_root):
    code = "from utils.task.dataset import build; build('smoke', workers=1, progress=False)"
    env = {**os.environ, D.DATA_ENV: str(private_root)}
    procs = [subprocess.Popen([sys.executable, "-c", code], cwd=REPO, env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errors = [p.communicate()[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errors
    parent = private_root / "embedded"
    assert sorted(p.name for p in parent.iterdir() if not p.name.endswith(".lock")) == ["smoke"]
    assert D.check_cache("smoke") is None


def test_bad_cli_arguments_are_one_line_errors(private_root, capsys):
    with pytest.raises(SystemExit):
        D.main(["export", "--preset", "smoke", "--index", "-1", "--out", "x.wav"])
    err = capsys.readouterr().err.strip().splitlines()
    assert "clip index -1" in err[-1] and "Traceback" not in "\n".join(err)


@pytest.mark.parametrize("preset", ["smoke", "classroom"])
def test_no_clip_is_in_two_splits_of_an_embedded_preset(preset, request, monkeypatch):
    # The session's builds, shared with the other tests that read them (built by the code
    # under test: what any valid cache of the preset holds).
    root = request.getfixturevalue(f"{preset}_data_root")
    monkeypatch.setenv(D.DATA_ENV, str(root))
    assert D.load_dataset(preset, build_if_needed=False, progress=False).shared_clips() == []


def test_a_clip_copied_into_another_split_is_found(smoke_data_root):
    ds = D.load_dataset("smoke", progress=False)
    ds["test"].x[3] = ds["train"].x[5]
    train_id, test_id = str(ds["train"].clip_ids[5]), str(ds["test"].clip_ids[3])
    assert ds.shared_clips() == [f"the features of clip {train_id!r} ('train') again as "
                                 f"{test_id!r} ('test')"]
