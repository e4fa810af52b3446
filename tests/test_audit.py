"""The defaults audit: every stated default holds for the installed versions, and the probes
can tell when one does not (utils/lessons/audit.py, notebook 10)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from utils.lessons import audit as audit_mod
from utils.lessons.audit import EXPECTED, PROBES, Check, audit, audit_table, keras_vs_torch, matches


@pytest.fixture(scope="module")
def rows():
    return audit()


@pytest.fixture(scope="module")
def by_key(rows):
    return {r.key: r for r in rows}


def test_expected_is_well_formed():
    keys = [c.key for c in EXPECTED]
    assert len(keys) >= 20
    assert len(set(keys)) == len(keys), "duplicate check keys"
    assert set(keys) == set(PROBES), "every check needs exactly one probe"
    assert {c.framework for c in EXPECTED} == {"keras", "torch"}
    assert all("FD §" in c.source for c in EXPECTED), "every check cites an FD section"
    assert all(c.compare in ("equal", "close", "bound") for c in EXPECTED)


@pytest.mark.parametrize("check", EXPECTED, ids=lambda c: c.key)
def test_installed_default_matches_the_lessons(check, by_key):
    row = by_key[check.key]
    assert row.ok, (f"{row.key} ({row.framework}, {row.source}): the lessons say "
                    f"{row.expected!r}, the installed version gives {row.observed!r}")


def test_audit_returns_one_row_per_check_in_order(rows):
    assert [r.key for r in rows] == [c.key for c in EXPECTED]
    assert len(rows) >= 20


def test_keras_2017_rows_state_the_deliberate_differences(by_key):
    for key in ("preset.keras_2017.gate_activation", "preset.keras_2017.reset_after"):
        assert "≠" in by_key[key].observed and by_key[key].ok
    for key in ("preset.pytorch.gate_activation", "preset.pytorch.reset_after"):
        assert "≠" not in by_key[key].observed and by_key[key].ok


def test_a_changed_expectation_makes_its_row_fail(monkeypatch):
    wrong = {"keras.gru.recurrent_activation": "hard_sigmoid",  # the Keras 2 default
             "torch.batchnorm.momentum": 0.9,  # the Keras convention, not PyTorch's
             "torch.linear.weight_bound": 2 * audit_mod.TORCH_BOUND_784,
             "keras.sgd.nesterov_formula": "pytorch"}
    picked = [c for c in EXPECTED if c.key in wrong or c.key == "keras.adam.epsilon"]
    patched = [replace(c, expected=wrong[c.key]) if c.key in wrong else c for c in picked]
    monkeypatch.setattr(audit_mod, "EXPECTED", patched)
    result = {r.key: r.ok for r in audit_mod.audit()}
    assert result == {**dict.fromkeys(wrong, False), "keras.adam.epsilon": True}


def test_a_failing_probe_is_isolated(monkeypatch):
    def broken():
        raise RuntimeError("simulated")

    monkeypatch.setitem(PROBES, "torch.rmsprop.lr", broken)
    checks = [c for c in EXPECTED if c.key in ("torch.rmsprop.lr", "torch.rmsprop.alpha")]
    first, second = audit(checks)
    assert not first.ok and "RuntimeError: simulated" in first.observed
    assert second.ok


def test_probes_discriminate_between_the_formulas():
    nesterov = audit_mod._nesterov_formulas()  # η changes between the two steps (FD §6)
    assert abs(nesterov["keras"] - nesterov["pytorch"]) > 1e-2
    adam = audit_mod._adam_formulas(1e-3, 0.999, 1e-7, 1e-6)  # g = 10ε (FD §8)
    assert adam["epsilon-hat"] / adam["bias-corrected"] == pytest.approx(0.2642, rel=1e-3)
    assert audit_mod._classify(0.5, {"a": 0.5, "b": 0.7}) == "a"
    assert "matches 0 formulas" in audit_mod._classify(0.6, {"a": 0.5, "b": 0.7})


def test_matches_semantics():
    bound = Check("k", "torch", "d", 1.0, "FD §1", "bound")
    assert matches(bound, 0.97) and matches(bound, (0.96, 1.0))
    assert not matches(bound, 0.5) and not matches(bound, 1.1) and not matches(bound, "x")
    close = Check("k", "keras", "d", 1e-7, "FD §8", "close")
    assert matches(close, 1.00001e-7) and not matches(close, 1e-8)
    equal = Check("k", "keras", "d", True, "FD §4")
    assert matches(equal, True) and not matches(equal, 1) and not matches(equal, "True")


def test_tables(rows):
    table = audit_table(rows)
    assert list(table.columns) == ["key", "framework", "description", "expected", "observed",
                                   "ok", "source"]
    assert len(table) == len(rows) and table["ok"].all()
    pairs = keras_vs_torch(rows)
    assert {"keras", "torch", "same"} <= set(pairs.columns)
    same = dict(zip(pairs["default"], pairs["same"]))
    assert same["GRU gate activation"] and same["GRU reset_after"]
    assert same["hard sigmoid slope"]
    assert not same["BatchNorm epsilon"] and not same["Adam epsilon placement"]
    assert not pairs["keras"].str.startswith("probe failed").any()
    assert not pairs["torch"].str.startswith("probe failed").any()
