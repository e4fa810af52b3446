"""Automatic checks for the notebooks' exercises: each prints ✓ or ✗ with a hint.

Introduced in ``01_data.ipynb``. A check computes the right answer from the learner's own
data (a trajectory table, a saturation table, the stored seeds), so it is never a number
typed in, and returns whether the answer was right.

Plain functions rather than otter-grader: they add no dependency to the lab, run unchanged
on Binder, on Colab and in a local JupyterLab (no grader service, no assignment build step),
and CI runs them like any other code — the notebooks' smoke tests execute every solution
cell, which calls its check, and ``tests/test_exercises.py`` checks that each one accepts the
right answer and rejects a wrong one. Instructors read a check in one screen of Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from utils.results.stats import DECISIVE_SEEDS, Paired, paired
from utils.task.metrics import micro_f1


def _say(ok: bool, right: str, wrong: str) -> bool:
    """Print the verdict line a learner reads; return ``ok`` for scripts and tests."""
    print(f"✓ {right}" if ok else f"✗ {wrong}")
    return ok


def _choice(answer: str, options: Sequence[str], exercise: str) -> str:
    """``answer`` normalised, refused with the options named unless it is one of them."""
    a = str(answer).strip().lower()
    if a not in options:
        raise ValueError(f"exercise {exercise}: answer {answer!r} is not one of {list(options)}")
    return a


def check_01(y_true: np.ndarray, y_pred: np.ndarray, y_new: np.ndarray) -> bool:
    """01, question 2: one prediction changed, the true positives kept, micro-F1 lower.

    Examples
    --------
    >>> t = np.array([[1, 0], [0, 1]])
    >>> check_01(t, t, np.array([[1, 1], [0, 1]]))
    ✓ F1 drops from 1.000 to 0.800 with TP kept at 2: you added a false positive (FP 0 → 1).
    True
    """
    t, p, n = (np.asarray(a).astype(bool) for a in (y_true, y_pred, y_new))
    if n.shape != t.shape:
        raise ValueError(f"exercise 01: y_new has shape {n.shape}, expected {t.shape}")
    changed = int((p != n).sum())
    tp = (int((t & p).sum()), int((t & n).sum()))
    fp = (int((~t & p).sum()), int((~t & n).sum()))
    fn = (int((t & ~p).sum()), int((t & ~n).sum()))
    f1 = micro_f1(t, p), micro_f1(t, n)
    which = ("a false positive", "FP", fp) if fp[1] != fp[0] else ("a false negative", "FN", fn)
    ok = changed == 1 and tp[0] == tp[1] and f1[1] < f1[0]
    return _say(ok, f"F1 drops from {f1[0]:.3f} to {f1[1]:.3f} with TP kept at {tp[0]}: you "
                    f"added {which[0]} ({which[1]} {which[2][0]} → {which[2][1]}).",
                f"{changed} entries changed, TP {tp[0]} → {tp[1]}, F1 {f1[0]:.3f} → "
                f"{f1[1]:.3f}. Hint: change exactly one 0 to 1 where the truth is 0.")


def check_02(answer: float, stored_f1: Sequence[float], tolerance: float = 0.01) -> bool:
    """02, question 1: the range of the stored seeds' F1 divided by their median.

    Examples
    --------
    >>> check_02(0.4, [0.4, 0.5, 0.6])
    ✓ (max − min) / median = 0.400 over 3 seeds.
    True
    >>> check_02(0.2, [0.4, 0.5, 0.6])
    ✗ you wrote 0.200; the 3 stored seeds give 0.400. Hint: (max − min) / median.
    False
    """
    v = np.asarray(stored_f1, float)
    if v.size < 2:
        raise ValueError(f"exercise 02: {v.size} stored seeds, at least 2 needed for a spread")
    right = float(np.ptp(v) / np.median(v))
    return _say(abs(float(answer) - right) <= tolerance,
                f"(max − min) / median = {right:.3f} over {v.size} seeds.",
                f"you wrote {float(answer):.3f}; the {v.size} stored seeds give {right:.3f}. "
                "Hint: (max − min) / median.")


def check_05(prediction: str, traj: pd.DataFrame) -> bool:
    """05: which formula takes the larger step right after η rises ("keras" or "pytorch")?

    ``traj`` is :func:`~utils.training.trajectories.nesterov_trajectories` run with an
    ``lr_at`` hook that raises η; the answer is read from its first step at a higher η.

    Examples
    --------
    >>> traj = pd.DataFrame({"lr": [0.1, 0.1, 0.3], "step keras formula": [1.0, 1.0, 2.0],
    ...                      "step pytorch formula": [1.0, 1.0, 3.0]})
    >>> check_05("pytorch", traj)
    ✓ at step 2 η rises from 0.1 to 0.3: the pytorch formula moves 1.50× as far as the other.
    True
    """
    guess = _choice(prediction, ("keras", "pytorch"), "05")
    rises = np.flatnonzero(np.diff(traj["lr"].to_numpy(float)) > 0)
    if rises.size == 0:
        raise ValueError("exercise 05: η never rises in this trajectory: give "
                         "nesterov_trajectories an lr_at hook that raises it")
    i = int(rises[0]) + 1
    step = {f: float(traj[f"step {f} formula"].iloc[i]) for f in ("keras", "pytorch")}
    right = max(step, key=step.get)
    other = "keras" if right == "pytorch" else "pytorch"
    lr = traj["lr"].to_numpy(float)
    return _say(guess == right,
                f"at step {i} η rises from {lr[i - 1]:g} to {lr[i]:g}: the {right} formula "
                f"moves {step[right] / step[other]:.2f}× as far as the other.",
                f"at step {i} the {right} formula takes the larger step. Hint: which of v "
                "and b stores gradients already multiplied by an old η?")


def check_06(prediction: str, saturation: pd.DataFrame) -> bool:
    """06: are the Keras-3 hard sigmoid's gates saturated (exactly 0 or 1) "more" or "less"
    often than the Keras-2 one's? ``saturation`` is the notebook's table, indexed by
    (gate activation, gate) with columns ``exactly 0`` and ``exactly 1``.

    Examples
    --------
    >>> idx = pd.MultiIndex.from_product([["Keras-2 hard sigmoid", "Keras-3 hard sigmoid"],
    ...                                   ["z", "r"]])
    >>> sat = pd.DataFrame({"exactly 0": [0.2, 0.1, 0.1, 0.05],
    ...                     "exactly 1": [0.1, 0.1, 0.05, 0.05]}, index=idx)
    >>> check_06("less", sat)
    ✓ Keras-3: 12.5% of gate values exactly 0 or 1, Keras-2: 25.0%.
    True
    """
    guess = _choice(prediction, ("more", "less"), "06")
    share = {}
    for label in ("Keras-2 hard sigmoid", "Keras-3 hard sigmoid"):
        if label not in saturation.index.get_level_values(0):
            raise ValueError(f"exercise 06: the saturation table has no {label!r} rows: add it "
                             "to gates_of and rerun that cell")
        rows = saturation.loc[label]
        share[label] = float((rows["exactly 0"] + rows["exactly 1"]).mean())
    k2, k3 = share["Keras-2 hard sigmoid"], share["Keras-3 hard sigmoid"]
    right = "more" if k3 > k2 else "less"
    return _say(guess == right, f"Keras-3: {k3:.1%} of gate values exactly 0 or 1, "
                                f"Keras-2: {k2:.1%}.",
                f"they are saturated {right} often ({k3:.1%} against {k2:.1%}). Hint: a "
                "smaller slope reaches 0 and 1 further from x = 0.")


def check_10(answer: str, live: pd.DataFrame) -> bool:
    """10, question 1: is the spread "backends" (between backends, one seed) or "seeds"
    (between seeds, one backend) the larger? ``live`` is the notebook's live table, at
    least two seeds. Each spread is a range (max − min), the median over seeds or backends.

    Examples
    --------
    >>> live = pd.DataFrame({"backend": ["a", "b", "a", "b"], "seed": [0, 0, 1, 1],
    ...                      "test F1": [0.50, 0.51, 0.60, 0.60]})
    >>> check_10("seeds", live)
    ✓ between backends 0.005, between seeds 0.095 (test F1, median range).
    True
    """
    guess = _choice(answer, ("backends", "seeds"), "10")
    if live["seed"].nunique() < 2:
        raise ValueError("exercise 10: the live table has one seed: set LIVE_SEEDS = [0, 1] "
                         "and rerun the training cell")
    f1 = live.pivot_table(index="seed", columns="backend", values="test F1")
    spread = {"backends": float(np.median(np.ptp(f1.to_numpy(), axis=1))),
              "seeds": float(np.median(np.ptp(f1.to_numpy(), axis=0)))}
    right = max(spread, key=spread.get)
    line = (f"between backends {spread['backends']:.3f}, between seeds {spread['seeds']:.3f} "
            "(test F1, median range)")
    return _say(guess == right, f"{line}.", f"{line}: the {right} spread is larger.")


def against_stored(label: str, stored: Mapping[int, float], live: Mapping[int, float],
                   smoke: bool = False, base: str = "stored") -> Paired | None:
    """Print the learner's runs ``live`` against a stored strip ``stored`` (both
    ``{data seed: test F1}``), paired by seed, and return the comparison (None with fewer
    than 3 shared seeds). ``base`` names the stored strip in the printed line. In smoke
    mode the live runs are one epoch on tiny data: the line says so, it is a test of the
    cell and not a result.

    Examples
    --------
    >>> stored = {s: 0.5 for s in range(6)}
    >>> three = {s: 0.6 + s / 100 for s in range(3)}
    >>> r = against_stored("mine", stored, three)  # doctest: +ELLIPSIS
    mine minus stored, 3 seeds paired: mean +0.110 (no interval yet...), better on 3 of 3
    >>> r = against_stored("mine", stored, {s: 0.6 + s / 100 for s in range(6)})
    mine minus stored, 6 seeds paired: mean +0.125 (95 % CI +0.100 to +0.150), better on 6 of 6
    """
    try:
        r = paired(dict(stored), dict(live))
    except ValueError as err:
        print(f"{label}: {err} — train more seeds of the stored strip")
        return None
    ci = (f"95 % CI {r.ci_low:+.3f} to {r.ci_high:+.3f}" if np.isfinite(r.ci_low)
          else f"no interval yet: a verdict needs {DECISIVE_SEEDS} seeds")
    print(f"{label} minus {base}, {r.n} seeds paired: mean {r.diff:+.3f} ({ci}), better on "
          f"{round(r.p_better * r.n)} of {r.n}"
          + (" (smoke mode: one epoch on tiny data, not a result)" if smoke else ""))
    return r
