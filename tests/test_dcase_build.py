"""Datasets built from DCASE 2017 Task 4 files: quirks, missing clips, padding, resume,
atomicity, and the whole path build -> train -> submission -> score on a fixture."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from utils.networks.recipe import TRAINED
from utils.results import grids as G
from utils.task import dataset as D
from utils.task import dcase_data as DD
from utils.task import dcase_io as io
from utils.task.dcase_fixture import COMMA_LABELS, FIXTURE_SR, make_fixture
from utils.task.features import CLASSROOM, log_mel
from utils.task.submission import score_submission, write_split_submission


@pytest.fixture(scope="module")
def fixture(tmp_path_factory):
    return make_fixture(tmp_path_factory.mktemp("dcase"))


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """A data root of this module's own (DEFAULTS_LAB_DATA), restored afterwards."""
    folder = tmp_path_factory.mktemp("data")
    old = os.environ.get(D.DATA_ENV)
    os.environ[D.DATA_ENV] = str(folder)
    yield folder
    if old is None:
        os.environ.pop(D.DATA_ENV, None)
    else:
        os.environ[D.DATA_ENV] = old


@pytest.fixture(scope="module")
def built(fixture, root):
    return D.build_dcase(fixture.root, "fx", workers=2, progress=False)


def _listed(fixture, split):
    return [c for c in fixture.clips[split] if c not in fixture.missing]


def test_fixture_has_the_real_files_quirks(fixture):
    import soundfile as sf

    weak_eval = (fixture.root / DD.LABEL_FILES["eval"][0]).read_bytes()
    assert weak_eval.count(b"\r\n") == weak_eval.count(b"\n") > 0
    train = (fixture.root / DD.LABEL_FILES["train"][0]).read_text()
    assert all(lab in train for lab in COMMA_LABELS) and len(COMMA_LABELS) == 2
    strong = (fixture.root / DD.LABEL_FILES["test"][1]).read_text()
    assert "\t0\t0\t" in strong and fixture.inaudible
    assert "\nY" not in train and not train.startswith("Y")
    names = sorted(p.name for p in (fixture.root / "audio").iterdir())
    assert names and all(n.startswith("Y") for n in names)
    infos = [sf.info(p) for p in (fixture.root / "audio").iterdir()]
    assert {i.samplerate for i in infos} == {FIXTURE_SR} and {i.channels for i in infos} == {1, 2}
    assert fixture.short and fixture.missing
    assert all(not (fixture.root / "audio" / io.audio_filename(c)).exists()
               for c in fixture.missing)


def test_build_has_every_usable_clip_in_its_split(fixture, built):
    ds = D.load_dataset("fx")
    assert set(ds.splits) == {"train", "valid", "test", "eval"}
    train_valid = [*ds["train"].clip_ids, *ds["valid"].clip_ids]
    assert sorted(train_valid) == sorted(_listed(fixture, "train"))
    assert not set(ds["train"].clip_ids) & set(ds["valid"].clip_ids)
    for split in ("test", "eval"):
        assert list(ds[split].clip_ids) == _listed(fixture, split)
    assert built.clips == {s: len(ds[s]) for s in ds.splits}
    assert D.check_cache("fx") is None and "fx" in D.PRESETS
    # Labels: comma labels survive; the "0 0" tag is a weak label but not an event.
    tags = io.read_weak_labels(fixture.root / DD.LABEL_FILES["test"][0])
    first = fixture.inaudible[0]
    i = list(ds["test"].clip_ids).index(first)
    assert {D.LABELS[k] for k in np.flatnonzero(ds["test"].y[i])} == set(tags[first + ".wav"])
    assert len({lab for *_, lab in ds["test"].events(i)}) < ds["test"].y[i].sum()
    y_all = np.concatenate([ds["train"].y, ds["valid"].y])
    assert all(y_all[:, D.LABEL_INDEX[lab]].any() for lab in COMMA_LABELS)


def test_missing_clips_are_listed_with_file_and_line(fixture, built):
    text = (built.path / "missing_clips.txt").read_text().splitlines()
    assert text[0] == "split\tfile\tline\tclip"
    rows = {r.split("\t")[3]: tuple(r.split("\t")[:3]) for r in text[1:]}
    assert rows == {c: (s, f, str(n)) for c, (s, f, n) in fixture.missing.items()}
    m = json.loads((built.path / "manifest.json").read_text())
    assert m["source"]["missing_clips"] == len(fixture.missing) == built.missing
    assert f"missing={len(fixture.missing)}" in built.line()


def test_short_clips_are_zero_padded_at_the_end(fixture, built):
    ds = D.load_dataset("fx")
    clip, seconds = next((c, s) for c, s in fixture.short.items()
                         if c in fixture.clips["test"] and c not in fixture.missing)
    i = list(ds["test"].clip_ids).index(clip)
    audio = io.load_audio(fixture.root / "audio" / io.audio_filename(clip))
    padded = np.zeros(160_000, np.float32)
    padded[: audio.size] = audio
    assert np.array_equal(ds["test"].x[i], log_mel(padded, CLASSROOM))
    silent_from = int(seconds * 20) + 2  # 20 frames/s; the last window reaches 512 samples
    floor = np.float32(10 * np.log10(CLASSROOM.amin))  # silence: the power floor
    assert np.allclose(ds["test"].x[i][silent_from:], floor)
    assert (ds["test"].x[i][: int(seconds * 20) - 2] > floor + 1).any(axis=1).all()
    audio_stats = json.loads((built.path / "manifest.json").read_text())["source"]["audio"]
    n_short = sum(c not in fixture.missing for c in fixture.short)
    assert audio_stats["padded"] == n_short and audio_stats["cut"] == 0
    assert audio_stats["channels"].keys() == {"1", "2"}
    assert "zero-padded at the end" in DD.AUDIO_RULE


def test_valid_split_is_stratified_seeded_and_recorded(fixture, built):
    m = json.loads((built.path / "manifest.json").read_text())
    ds = D.load_dataset("fx")
    assert m["source"]["valid"]["clip_ids"] == sorted(ds["valid"].clip_ids, key=m["source"][
        "valid"]["clip_ids"].index)
    plan = DD.read_source(fixture.root)
    assert plan.valid_ids == m["source"]["valid"]["clip_ids"]  # same seed, same clips
    n = len(_listed(fixture, "train"))
    assert len(plan.valid_ids) == int(np.floor(n * DD.VALID_FRACTION))


def test_an_interrupted_build_resumes_from_its_chunks(fixture, root, monkeypatch):
    monkeypatch.setattr(D, "DCASE_CHUNK", 8)
    real = DD.compute_chunk
    calls = []

    def fails_on_the_fourth(args):
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated interruption")
        calls.append(len(args[0]))
        return real(args)

    monkeypatch.setattr(DD, "compute_chunk", fails_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        D.build_dcase(fixture.root, "resume", workers=1, progress=False)
    parent = root / "dcase"
    assert not (parent / "resume").exists()  # atomic: nothing half-built in place
    assert not list(parent.glob(".resume.tmp-*"))
    assert len(list((parent / ".resume.partial").glob("*.npz"))) == 3
    done = sum(calls)

    recomputed = []

    def counts(args):
        recomputed.append(len(args[0]))
        return real(args)

    monkeypatch.setattr(DD, "compute_chunk", counts)
    result = D.build_dcase(fixture.root, "resume", workers=1, progress=False)
    total = sum(result.clips.values())
    assert result.reused == done and result.computed == sum(recomputed) == total - done
    assert not (parent / ".resume.partial").exists()
    a, b = D.load_dataset("resume"), D.load_dataset("fx")
    assert all(np.array_equal(a[s].x, b[s].x) for s in b.splits)


def test_default_workers_follow_the_cpu_quota_not_the_host(fixture, root, monkeypatch):
    # A Binder session granted one CPU of a 64-core host: no pool, in either build.
    monkeypatch.setattr(D, "available_cpus", lambda: 1)
    monkeypatch.setattr(os, "cpu_count", lambda: 64)

    def no_pool(*args, **kwargs):
        raise AssertionError("a process pool was started on one CPU")

    monkeypatch.setattr(D.mp, "get_context", no_pool)
    assert D.default_workers() == 1 and D.default_workers(3) == 3
    result = D.build_dcase(fixture.root, "quota", progress=False)
    assert result.computed == sum(result.clips.values())


def test_a_failed_rebuild_keeps_the_old_dataset(fixture, built, tmp_path):
    before = (built.path / "manifest.json").read_bytes()
    copy = make_fixture(tmp_path / "src", n_train=12, n_test=4, n_eval=0)
    bad = next(p for p in (copy.root / "audio").iterdir() if "-te_" in p.name)
    bad.write_bytes(b"RIFF not audio")
    with pytest.raises(io.DcaseFormatError, match=bad.name):
        D.build_dcase(copy.root, "fx", workers=1, progress=False)
    assert (built.path / "manifest.json").read_bytes() == before
    assert D.check_cache("fx") is None
    assert not list(built.path.parent.glob(".fx.tmp-*"))


def test_without_evaluation_labels_there_is_no_eval_split(tmp_path, root):
    fx = make_fixture(tmp_path / "src", n_train=12, n_test=4, n_eval=4)
    for name in DD.LABEL_FILES["eval"]:
        (fx.root / name).unlink()
    D.build_dcase(fx.root, "noeval", workers=1, progress=False)
    ds = D.load_dataset("noeval")
    assert ds.splits.keys() == {"train", "valid", "test"}
    with pytest.raises(ValueError, match="has only"):
        D.load_dataset("noeval", splits=("eval",))


def test_no_clip_is_in_two_splits_of_a_built_dataset(built):
    assert D.load_dataset("fx").shared_clips() == []


def test_a_clip_in_two_label_files_is_refused(tmp_path, root):
    fx = make_fixture(tmp_path / "src", n_train=12, n_test=4, n_eval=4)
    test_file, eval_file = (fx.root / DD.LABEL_FILES[s][0] for s in ("test", "eval"))
    first_test_row = test_file.read_text().splitlines()[0]  # a testing clip, line 1
    eval_rows = eval_file.read_bytes().count(b"\r\n")
    with open(eval_file, "ab") as f:  # listed again, as an evaluation clip (CRLF file)
        f.write(first_test_row.encode() + b"\r\n")
    with pytest.raises(DD.DcaseSourceError) as err:
        D.build_dcase(fx.root, "twice", workers=1, progress=False)
    cid = io.clip_id(first_test_row.split("\t")[0])
    assert str(err.value).startswith(
        f"{fx.root}: clip {cid} is listed in {test_file.name} line 1 and in {eval_file.name} "
        f"line {eval_rows + 1}; expected each clip in one label file (one split)")
    assert "twice" not in D.dcase_names()


def test_audio_extensions_match_in_any_case(tmp_path, root):
    fx = make_fixture(tmp_path / "src", n_train=12, n_test=4, n_eval=0)
    audio = sorted((fx.root / "audio").glob("*.wav"))
    upper, mixed, renamed = audio[0], audio[1], audio[2]
    upper.rename(upper.with_suffix(".WAV"))
    mixed.rename(mixed.with_suffix(".Wav"))
    # A file whose name differs from its clip's in case is another YouTube id: never taken,
    # but named for the user to check.
    variant = renamed.with_name(renamed.name.upper().replace(".WAV", ".wav"))
    renamed.rename(variant)
    cid = io.clip_id(renamed.name, audio=True)
    b = D.build_dcase(fx.root, "cases", workers=1, progress=False)
    assert b.missing == len(fx.missing) + 1
    assert b.hints == (f"missing clip {cid}: found audio/{variant.name}, a name that differs "
                       f"only in case (YouTube ids are case-sensitive: rename it if it is "
                       f"this clip's audio)",)
    m = json.loads((b.path / "manifest.json").read_text())
    assert m["source"]["missing_case_variants"] == {cid: f"audio/{variant.name}"}
    ids = {str(c) for s in ("train", "valid", "test")
           for c in D.load_dataset("cases")[s].clip_ids}
    assert {io.clip_id(f.name, audio=True) for f in (upper, mixed)} <= ids and cid not in ids


def test_grid_jobs_move_to_the_built_dataset():
    jobs = G.with_preset(G.GRIDS["smoke"](), "fx")
    assert jobs and {j.preset for j in jobs} == {"fx"}
    assert len({j.key for j in jobs}) == len(jobs)
    sizes = G.with_preset(G.GRIDS["sizes"](), "fx")  # two presets become one
    assert len({j.key for j in sizes}) == len(sizes) < len(G.GRIDS["sizes"]())
    # A trained run counts its epochs for its own training set: moved, a quarter run and
    # its classroom twin become one job, with the counts of the set it moves to.
    trained = G.GRIDS["sizes_converged"]()
    settings = {(j.framework, j.recipe.name) for j in trained}
    for preset in ("x16", "quarter"):
        moved = G.with_preset(trained, preset)
        assert len(moved) == len(settings) * len(G.SEEDS)
        k = G.epochs_scale(preset)
        assert {(j.recipe.epochs, j.recipe.patience) for j in moved} == {
            (TRAINED["epochs"] * k, TRAINED["patience"] * k)}


def test_cli_builds_lists_and_projects(fixture, root):
    env = {**os.environ, D.DATA_ENV: str(root)}
    run = [sys.executable, "-m", "utils.data"]
    out = subprocess.run([*run, "build", "--from-dcase", str(fixture.root), "--name", "cli",
                          "--workers", "2"], capture_output=True, text=True, env=env,
                         check=True)
    last = out.stdout.strip().splitlines()[-1]
    assert last.startswith("dataset=cli clips=") and f"missing={len(fixture.missing)}" in last
    listing = subprocess.run([*run, "list"], capture_output=True, text=True, env=env,
                             check=True).stdout
    assert any(line.startswith("cli ") and "built" in line for line in listing.splitlines())
    proj = subprocess.run([*run, "project", "--name", "cli", "--epoch-seconds", "2",
                           "--epoch-clips", "40"], capture_output=True, text=True, env=env,
                          check=True).stdout
    assert "measured build rate" in proj and proj.count("projection:") == 3
    # Without --epoch-clips the epoch is one pass over the dataset's training split.
    own = subprocess.run([*run, "project", "--name", "cli", "--epoch-seconds", "2"],
                         capture_output=True, text=True, env=env, check=True).stdout
    manifest = json.loads((root / "dcase" / "cli" / "manifest.json").read_text())
    n_train = manifest["params"]["sizes"]["train"]
    assert own.count("projection:") == 3 and f"({n_train} clips in 2.0 s)" in own, own


def test_end_to_end_build_train_submit_score(fixture, built, tmp_path):
    from utils.networks.recipe import PYTORCH
    from utils.training.trainer import decode_probs, main, train

    recipe = replace(PYTORCH, epochs=1, batch_size=16)
    r = train(recipe, "fx", seed=0, framework="torch", progress=False)
    assert r.preset == "fx"
    ds = D.load_dataset("fx")
    sub = write_split_submission(tmp_path / "submission.csv", ds["test"].clip_ids,
                                 decode_probs(r.test_probs), r.thresholds)
    truth = fixture.root / DD.LABEL_FILES["test"][0]
    score = score_submission(sub, truth)
    assert 0.0 <= score.f1 <= 1.0 and score.clips == len(ds["test"])
    assert score.unscored == sum(c in fixture.missing for c in fixture.clips["test"])
    assert score.f1 == pytest.approx(_sed_eval_f1(sub, truth))
    assert main(["--framework", "torch", "--recipe", "pytorch", "--preset", "fx",
                 "--epochs", "1"]) == 0


def _sed_eval_f1(submission, truth) -> float:
    """sed_eval's audio-tagging micro-F1 over the clips the submission lists."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import sed_eval

    sub = io.read_weak_labels(submission)
    ref = {k: v for k, v in io.read_weak_labels(truth).items() if k in sub}
    metrics = sed_eval.audio_tag.AudioTaggingMetrics(tags=sorted(D.LABELS))
    metrics.evaluate(reference_tag_list=_tag_list(ref), estimated_tag_list=_tag_list(sub))
    return metrics.results_overall_metrics()["f_measure"]["f_measure"]


def _tag_list(tags: dict[str, list[str]]) -> list[dict]:
    return [{"filename": f, "tags": t} for f, t in tags.items()]


def test_submission_tags_every_clip_and_scores_like_micro_f1(tmp_path, fixture):
    truth = fixture.root / DD.LABEL_FILES["test"][0]
    names, y = io.read_weak_labels_matrix(truth)
    ids = [io.clip_id(n) for n in names]
    probs = np.where(y > 0, 0.9, 0.1)
    probs[0] = 0.2  # no class above the threshold: tagged with its top class
    sub = write_split_submission(tmp_path / "s.csv", ids, probs, 0.5)
    assert set(io.read_weak_labels(sub)) == set(names)
    f1 = score_submission(sub, truth).f1
    assert f1 == pytest.approx(_sed_eval_f1(sub, truth)) and f1 < 1
    perfect = write_split_submission(tmp_path / "p.csv", ids, np.where(y > 0, 0.9, 0.1), 0.5)
    assert score_submission(perfect, truth).f1 == 1.0
