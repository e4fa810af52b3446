"""The results store: one CSV table per grid, read and appended safely.

Introduced in ``03_pytorch_port.ipynb``. A table lives in ``data/results/<grid>.csv``
(``$DEFAULTS_LAB_RESULTS`` for another folder). Each row is one training run: its scores,
its learning curve, and its provenance. Rows are appended one at a time, flushed and fsynced,
under a lock beside the table (:func:`table_lock`), so a killed run loses nothing finished
and two runs of one grid never interleave. Reading checks every row and names the file and
line of anything malformed.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from utils.common.errors import LabError
from utils.common.files import atomic_write_text
from utils.common.repo import REPO_ROOT
from utils.networks.recipe import Recipe

RESULTS_ENV = "DEFAULTS_LAB_RESULTS"  # another folder for tables (tests, scratch grids)
RESULTS_DIR = Path(os.environ.get(RESULTS_ENV) or REPO_ROOT / "data" / "results")
COLUMNS = ("key", "framework", "recipe_name", "recipe", "seed", "data_seed", "preset",
           "test_f1", "test_f1_fixed", "valid_f1", "best_epoch", "stop_reason", "seconds",
           "peak_rss_mb", "n_params", "epoch_loss", "epoch_valid_f1", "epoch_test_f1",
           "thresholds", "test_probs", "commit", "versions", "machine", "float_path", "command",
           "date")
JSON_COLUMNS = ("epoch_loss", "epoch_valid_f1", "epoch_test_f1", "thresholds", "versions",
                "float_path")
INT_COLUMNS = ("seed", "data_seed", "best_epoch", "n_params")
STOP_REASONS = ("fixed", "patience", "cap")
# Scores a row must hold: a NaN or an out-of-range F1 is a broken run, never a result.
SCORE_COLUMNS = ("test_f1", "test_f1_fixed", "valid_f1")




class ResultsError(LabError, ValueError):
    """A results table is malformed; the message names the file and line."""


def table_path(grid: str) -> Path:
    return RESULTS_DIR / f"{grid}.csv"


def _split_torn_tail(text: str) -> tuple[str, str]:
    """``text`` without a torn last line, and that line ('' when there is none).

    A last line without its newline is torn only if it is not a complete row: a complete
    row that merely lost its newline (an editor, a copy) is kept, never dropped.
    """
    if not text or text.endswith("\n"):
        return text, ""
    head, tail = text[: text.rfind("\n") + 1], text[text.rfind("\n") + 1:]
    try:
        cols = next(csv.reader(io.StringIO(tail)))
    except (csv.Error, StopIteration):
        return head, tail
    if head and len(cols) == len(COLUMNS):
        try:
            _parse_row(dict(zip(COLUMNS, cols)), Path("-"), 0)
            return text + "\n", ""
        except ResultsError:
            pass
    return head, tail


def _parse_row(row: dict, path: Path, lineno: int) -> dict:
    """Typed values of one row; ResultsError naming the file, line and column otherwise."""
    try:
        for c in ("test_f1", "test_f1_fixed", "valid_f1", "seconds", "peak_rss_mb"):
            row[c] = float(row[c])
        for c in INT_COLUMNS:
            row[c] = int(row[c])
        for c in JSON_COLUMNS:
            row[c] = json.loads(row[c])
    except (ValueError, TypeError) as e:
        raise ResultsError(f"{path} line {lineno}: a value of the wrong type ({e})") from None
    for c in SCORE_COLUMNS:
        if not 0.0 <= row[c] <= 1.0:  # also false for NaN
            raise ResultsError(f"{path} line {lineno}: {c} must be an F1 in [0, 1], "
                               f"found {row[c]!r}")
    if row["stop_reason"] not in STOP_REASONS:
        raise ResultsError(f"{path} line {lineno}: stop_reason must be one of "
                           f"{list(STOP_REASONS)}, found {row['stop_reason']!r}")
    if not 1 <= row["best_epoch"] <= len(row["epoch_loss"]):
        raise ResultsError(f"{path} line {lineno}: best_epoch {row['best_epoch']} is not one "
                           f"of the {len(row['epoch_loss'])} epochs the row records")
    return row


def read_table(path: Path) -> list[dict]:
    """Rows of a results table.

    A torn last line (a writer killed mid-row) is not a row: it is left out with a warning
    on stderr, and the next append removes it. Raises ResultsError naming the file and line
    for a wrong header, a row with the wrong number of columns or a value of the wrong type,
    a NaN or out-of-range F1, or a duplicate key.
    """
    if not path.exists():
        return []
    text, torn = _split_torn_tail(path.read_text(encoding="utf-8"))
    if torn:
        print(f"{path} line {text.count(chr(10)) + 1}: ignoring a torn last line (an "
              f"interrupted write; not a finished row)", file=sys.stderr)
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        return []
    if tuple(header) != COLUMNS:
        missing = [c for c in COLUMNS if c not in header]
        problem = f"missing {missing}" if missing else f"found them in another order: {header}"
        raise ResultsError(f"{path} line 1: expected the columns {list(COLUMNS)}; {problem}")
    rows, seen = [], {}
    for lineno, cols in enumerate(reader, start=2):
        if len(cols) != len(COLUMNS):
            raise ResultsError(f"{path} line {lineno}: expected {len(COLUMNS)} columns, "
                               f"found {len(cols)}")
        row = dict(zip(COLUMNS, cols))
        if row["key"] in seen:
            raise ResultsError(f"{path} line {lineno}: duplicate row for {row['key']!r} "
                               f"(first at line {seen[row['key']]})")
        seen[row["key"]] = lineno
        rows.append(_parse_row(row, path, lineno))
    return rows


def load_results(grid: str):
    """The stored table of ``grid`` as a pandas DataFrame (empty when not yet run)."""

    return pd.DataFrame(read_table(table_path(grid)), columns=list(COLUMNS))


def rows_of(df, framework: str, recipe: Recipe, preset: str = "classroom"):
    """The stored rows of ``recipe`` in ``framework``, one per seed, sorted by seed.

    ``df`` may join several tables (:func:`utils.results.comparisons.all_results`) in which one
    run is
    stored twice (the presets belong to more than one grid): the first copy is kept.
    """
    sel = df[(df.framework == framework) & (df.recipe == recipe.to_string())
             & (df.preset == preset)]
    return sel.drop_duplicates("seed").sort_values("seed")


def f1_of(df, framework: str, recipe: Recipe, preset: str = "classroom"):
    """Test F1 values (one per seed) of the stored runs of ``recipe`` in ``framework``."""
    return rows_of(df, framework, recipe, preset).test_f1.to_numpy()



def _append_row(path: Path, row: dict) -> None:
    """Append one row, flushed and fsynced: a crash leaves at most a torn last line.

    The caller holds the table's lock (:func:`table_lock`). A row with a NaN or
    out-of-range F1 is refused before anything is written.
    """
    for c in SCORE_COLUMNS:
        if not 0.0 <= float(row[c]) <= 1.0:
            raise ResultsError(f"{path}: refusing to store {row.get('key')!r}: {c} must be "
                               f"an F1 in [0, 1], found {row[c]!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size:
        text = path.read_text(encoding="utf-8")
        kept, torn = _split_torn_tail(text)
        if kept != text:  # drop a torn line, or end a complete last row with its newline
            atomic_write_text(path, kept)
    new = not path.exists() or path.stat().st_size == 0
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if new:
        writer.writerow(COLUMNS)
    writer.writerow([json.dumps(row[c]) if c in JSON_COLUMNS and not isinstance(row[c], str)
                     else row[c] for c in COLUMNS])
    with open(path, "a", encoding="utf-8") as f:
        f.write(buf.getvalue())
        f.flush()
        os.fsync(f.fileno())



@contextmanager
def table_lock(path: Path):
    """Hold an exclusive lock on the table ``path`` (a ``.lock`` file beside it).

    Two runs of one grid at once would append the same rows and leave a table that no
    read accepts; the second run is refused at once instead, naming the holder. The lock
    file is removed as the lock is let go, however the run ends.
    """

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(path.name + ".lock")
    while True:
        f = open(lock, "a+", encoding="utf-8")  # noqa: SIM115 -- closed below on every path
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            holder = f.read().strip() or "another process"
            f.close()
            raise ResultsError(f"{path}: another run is writing this table ({holder}); wait "
                               f"for it to finish, or stop it, then rerun to resume") from None
        # The holder before us removes the file as it lets go: a lock on a removed file
        # guards nothing, so take the lock again on the file now at the path.
        try:
            if os.fstat(f.fileno()).st_ino == os.stat(lock).st_ino:
                break
        except FileNotFoundError:
            pass
        f.close()
    try:
        f.truncate(0)  # a holder killed before it let go left its line
        f.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        f.flush()
        yield
    finally:
        # Removed while still held, so no run ever finds a stale lock file beside a table.
        lock.unlink(missing_ok=True)
        f.close()


def read_meta(path: Path) -> dict:
    """The run log ``<grid>.meta.json`` of the table ``path`` (``{"runs": []}`` if absent).

    Raises
    ------
    ResultsError
        The file is not UTF-8 JSON (naming the line and column), or not the object with a
        list of run entries that :func:`_record_wall_time` writes.

    Examples
    --------
    >>> import tempfile
    >>> table = Path(tempfile.mkdtemp()) / "grid.csv"
    >>> read_meta(table)
    {'runs': []}
    >>> _ = table.with_suffix(".meta.json").write_text('{"runs": [')
    >>> try:
    ...     read_meta(table)
    ... except ResultsError as e:
    ...     print(str(e).split(": ", 1)[1].split(";")[0])
    not valid JSON (Expecting value at line 1 column 11)
    """
    meta_path = path.with_suffix(".meta.json")
    if not meta_path.exists():
        return {"runs": []}
    fix = (f"expected the run log this lab writes ({{\"runs\": [...]}}); restore it (git "
           f"checkout -- {meta_path.name}) or remove it to start its wall-time record afresh")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as e:
        raise ResultsError(f"{meta_path}: not UTF-8 text ({e.reason} at byte {e.start}); "
                           f"{fix}") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{meta_path}: not valid JSON ({e.msg} at line {e.lineno} column "
                           f"{e.colno}); {fix}") from None
    runs = meta.get("runs") if isinstance(meta, dict) else None
    if not isinstance(runs, list) or not all(
            isinstance(r, dict) and isinstance(r.get("wall_seconds"), (int, float))
            and isinstance(r.get("rows"), int) for r in runs):
        raise ResultsError(f"{meta_path}: found no list 'runs' of entries with wall_seconds "
                           f"and rows; {fix}")
    return meta


def _record_wall_time(path: Path, seconds: float, rows: int, prov: dict, run_id: str) -> None:
    """Keep the grid's wall-clock time over (resumed) runs in ``<grid>.meta.json``: one
    entry per run (start date and process), updated as rows arrive."""
    meta_path = path.with_suffix(".meta.json")
    meta = read_meta(path)
    entry = {"run": run_id, "wall_seconds": round(seconds, 1), "rows": rows,
             "machine": prov["machine"], "commit": prov["commit"], "command": prov["command"],
             "date": prov["date"]}
    runs = [r for r in meta["runs"] if r.get("run") != run_id]
    meta["runs"] = [*runs, entry]
    meta["wall_seconds_total"] = round(sum(r["wall_seconds"] for r in meta["runs"]), 1)
    meta["rows_total"] = sum(r["rows"] for r in meta["runs"])
    atomic_write_text(meta_path, json.dumps(meta, indent=1))


