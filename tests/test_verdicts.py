"""One verdict per comparison, and no claim beyond its interval, on the stored tables.

Every table that shows a comparison (the lab's table, the size table, the backends table,
each notebook's headline) must state the verdict the comparison's declared family made;
every "rules out X" must be a bound of the comparison's own 95 % interval.
"""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

from utils.results.comparisons import (
    CONVERGED,
    NOT_STORED,
    STORED_RULE,
    Setting,
    all_results,
    backend_summary,
    budget_summary,
    lab_summary,
    readings,
    size_summary,
)
from utils.results.grids import KERAS_LADDER, TORCH_LADDER

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def tables():
    from utils.lessons.headline import HEADLINES, headline

    results = all_results()
    lab = lab_summary(results)
    sizes = size_summary(results, declared=lab).rename(
        columns={"ci_low": "CI low", "ci_high": "CI high", "diff": "mean difference",
                 "effect": "toggle"})
    out = {"lab": lab, "sizes": sizes, "backends": backend_summary(results, declared=lab)}
    for nb in HEADLINES:
        out[f"headline {nb}"] = headline(nb, results).table
    # Notebook 08's ladder, step by step: in Keras its steps run opposite to the lab's
    # pairs (b − a there is a − b here), still one comparison with one verdict.
    pairs = []
    for ladder, fw in ((TORCH_LADDER, "torch"), (KERAS_LADDER, "keras")):
        settings = [Setting(label, fw, recipe) for label, recipe in ladder]
        pairs += [(f"{b.label} (from {a.label})", a, b) for a, b in zip(settings, settings[1:])]
        pairs.append((f"whole ladder, {fw}", settings[0], settings[-1]))
    out["ladder steps"] = budget_summary(pairs, results, declared=lab,
                                         family="the ladder's steps")
    return out


def _verdicts(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    frames = [t.assign(table=name) for name, t in tables.items()]
    rows = pd.concat(frames, ignore_index=True)
    return rows[rows.verdict != NOT_STORED]


def test_every_comparison_has_one_verdict_wherever_it_is_shown(tables):
    rows = _verdicts(tables)
    shown = rows.groupby(["key", "budget"]).agg(verdicts=("verdict", set),
                                                tables=("table", set))
    shared = shown[shown.tables.map(len) > 1]
    # The check has something to check: the ladder and its Keras steps (run the other way
    # round) appear in several tables.
    assert len(shared) >= 4
    steps = rows[rows.table == "ladder steps"]
    assert (steps.family == "the lab's table").sum() >= 20
    split = shared[shared.verdicts.map(len) > 1]
    assert split.empty, f"one comparison, two verdicts:\n{split}"


def _shared_rows(tables: dict[str, pd.DataFrame]):
    rows = _verdicts(tables)
    lab = rows[rows.table == "lab"].set_index(["key", "budget"])
    for name in ("sizes", "backends"):
        other = rows[rows.table == name].set_index(["key", "budget"])
        both = lab.index.intersection(other.index)
        yield name, other.loc[both], lab.loc[both]


def test_a_comparison_shown_twice_is_not_adjusted_twice(tables, monkeypatch):
    """The size and backends tables leave the lab's comparisons out of their own families:
    a row they share (one comparison under one stopping rule) carries the lab's family name
    and q. Their grids ran at patience 15 only, so they share a classroom cell with the lab
    where the lab reads it at patience 15 too: on the stored tables, and with no rule
    chosen (every comparison of the lab's table at patience 15), where they must share."""
    from utils.results import comparisons as C

    for name, other, lab in _shared_rows(tables):
        assert (other.family == lab.family).all(), name
        assert np.allclose(other["q (BH)"], lab["q (BH)"]), name
    monkeypatch.setattr(C, "GRID_RULE", None)
    results = all_results()
    lab = lab_summary(results)
    before = {"lab": lab, "sizes": size_summary(results, declared=lab),
              "backends": backend_summary(results, declared=lab)}
    shared = 0
    for name, other, lab in _shared_rows(before):
        shared += len(other)
        assert len(other), name
        assert (other.family == lab.family).all(), name
        assert np.allclose(other["q (BH)"], lab["q (BH)"]), name
    assert shared


def test_a_table_shows_the_stopping_rule_it_reads(tables):
    """Every row says under which stopping rule its trained runs were read; a headline or
    the ladder's steps read a comparison of the lab's table under the lab's rule, and the
    size and backends tables read their own grids' only rule."""
    lab = tables["lab"]
    rule_of = dict(zip(lab.comparison, lab["stopped by"]))
    checked = 0
    for name, t in tables.items():
        if name in ("lab", "sizes"):
            continue
        for r in t[t.runs == "trained runs, their curve"].to_dict("records"):
            assert r["key"].endswith(f"stopped by {r['stopped by']}"), (name, r)
            if name == "backends":
                assert r["stopped by"] == STORED_RULE, r
            elif r["comparison"] in rule_of:
                assert r["stopped by"] == rule_of[r["comparison"]], (name, r)
                checked += 1
    assert checked > 10
    assert set(lab["stopped by"]) >= {STORED_RULE}
    sizes = tables["sizes"]
    assert set(sizes.loc[sizes.runs == "trained runs, their curve", "stopped by"]) == {
        STORED_RULE}


NUMBER = r"(\d+\.\d+)"


def test_no_rules_out_exceeds_its_interval(tables):
    """Wherever a table or a reading says "rules out effects larger than X", X is the
    farther bound of that comparison's interval: the interval excludes everything beyond
    it, and nothing smaller is claimed."""
    checked = 0
    for name, t in tables.items():
        for r in t.to_dict("records"):
            for text in (str(r.get("verdict", "")),):
                m = re.search(r"rules out effects larger than " + NUMBER, text)
                if m:
                    bound = max(abs(r["CI low"]), abs(r["CI high"]))
                    assert float(m.group(1)) == pytest.approx(bound, abs=6e-4), (name, r)
                    checked += 1
        if name == "sizes":
            continue
        by = {(r["toggle"], r["framework"], r["budget"]): r for r in t.to_dict("records")}
        for r in readings(t).to_dict("records"):
            late = by.get((r["toggle"], r["framework"], CONVERGED))
            for m in re.finditer(r"(?:rules out effects larger than|up to) " + NUMBER,
                                 r["reading"]):
                if "at convergence" in r["reading"][:m.start()] or "trained" in m.group(0):
                    bound = max(abs(late["CI low"]), abs(late["CI high"]))
                    assert float(m.group(1)) <= bound + 6e-4, (name, r)
                    checked += 1
    assert checked > 20


def test_the_check_would_catch_a_bound_taken_from_the_mde(tables):
    """The interval check fails where a sentence states the MDE as its bound (the old
    wording): at least one stored comparison's interval reaches past its MDE."""
    lab = tables["lab"]
    within = lab[lab.verdict.str.startswith("within seed noise (")]
    reach = within[[max(abs(lo), abs(hi)) > mde + 6e-4 for lo, hi, mde in
                    zip(within["CI low"], within["CI high"], within["MDE (80 %)"])]]
    assert len(reach), "no interval reaches past its MDE: the test above checks nothing new"


def test_each_trained_verdict_says_how_it_fares_under_other_rules(tables):
    """The lab's table, as ``summary`` prints it, carries each trained verdict's sensitivity
    to the stopping rule, and a verdict the sensitivity names as the lab's is the lab's."""
    from utils.results.comparisons import (
        SENSITIVITY,
        _state,
        stopping_sensitivity,
        with_sensitivity,
    )

    lab = tables["lab"]
    t = with_sensitivity(lab, stopping_sensitivity(lab=lab))
    late = t[(t.budget == CONVERGED) & (t.verdict != NOT_STORED)]
    assert len(late) and (late[SENSITIVITY] != "").all()
    assert (t.loc[t.budget != CONVERGED, SENSITIVITY] == "").all()
    named = 0
    for r in late.to_dict("records"):
        if " as the lab reads it" in r[SENSITIVITY]:
            word = r[SENSITIVITY].split(" as the lab reads it")[0]
            assert word == {"alone": "within after BH"}.get(_state(r), _state(r)), r
            named += 1
    assert named
