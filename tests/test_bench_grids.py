"""The stored grids' cost table of docs/benchmarks.md (benchmarks/grids.py): computed from
the stored rows, the missing ones costed as the results page costs them."""

from __future__ import annotations

import csv
import json
import math

import pytest

from utils.results import store


def test_a_partial_grid_is_projected_from_its_own_rows(tmp_path, monkeypatch):
    from benchmarks.grids import grid_times

    # Half of reference_converged (seeds 0-4 of 10): every missing row has stored rows of
    # its own setting, so the whole grid can be projected.
    src = store.table_path("reference_converged")
    with src.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        kept = [r for r in reader if int(r["seed"]) < 5]
        fields = reader.fieldnames
    with (tmp_path / src.name).open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(kept)
    wall = 1000.0
    (tmp_path / "reference_converged.meta.json").write_text(json.dumps(
        {"runs": [], "wall_seconds_total": wall, "rows_total": len(kept)}))
    monkeypatch.setattr(store, "RESULTS_DIR", tmp_path)

    (row,) = grid_times()
    assert row["grid"] == "reference_converged"
    assert (row["rows"], row["jobs"], row["rows_left"]) == (20, 40, 20)
    cpu_s = sum(float(r["seconds"]) for r in kept)
    assert row["cpu_h"] == pytest.approx(cpu_s / 3600)
    assert row["cpu_over_wall"] == pytest.approx(cpu_s / wall)
    # Each missing seed costs the median of its setting's five stored runs.
    medians = {}
    for r in kept:
        medians.setdefault((r["framework"], r["recipe"]), []).append(float(r["seconds"]))
    left_s = sum(sorted(v)[2] * 5 for v in medians.values())
    assert row["left_cpu_h"] == pytest.approx(left_s / 3600)
    assert row["left_uncosted"] == 0
    assert row["projected_wall_h"] == pytest.approx(wall * (1 + left_s / cpu_s) / 3600)


def test_no_projection_while_some_missing_rows_cannot_be_costed():
    from benchmarks.grids import grid_times

    for row in grid_times():
        assert row["rows"] + row["rows_left"] == row["jobs"]
        if row["left_uncosted"]:
            assert math.isnan(row["projected_wall_h"])
        elif row["rows_left"] == 0:
            assert row["projected_wall_h"] == pytest.approx(row["recorded_wall_h"],
                                                            nan_ok=True)
