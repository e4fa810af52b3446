"""The one Markdown table writer of the benchmark reports (run.py, throughput.py,
backends.py), so that every report formats its numbers the same way."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from utils.common.files import atomic_write_text


def fmt(v: object) -> str:
    """A cell: three significant digits for a float below 1 000, whole numbers above.

    Examples
    --------
    >>> fmt(0.12345), fmt(1234.5), fmt("keras")
    ('0.123', '1234', 'keras')
    """
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def markdown_table(rows: list[dict], percent: Iterable[str] = ()) -> str:
    """Rows of equal keys as a Markdown table; ``percent`` names columns holding fractions.

    Examples
    --------
    >>> print(markdown_table([{"a": 1, "of peak": 0.5}], percent=["of peak"]), end="")
    | a | of peak |
    |---|---|
    | 1 | 50% |
    >>> markdown_table([])
    '_not measured in this run_\\n'
    """
    if not rows:
        return "_not measured in this run_\n"
    cols, percent = list(rows[0]), set(percent)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in rows:
        cells = [f"{r[c]:.0%}" if c in percent else fmt(r[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def replace_section(text: str, new: str, start: str, end: str) -> str:
    """``text`` with its ``start``…``end`` section replaced by ``new`` (appended if absent).

    Examples
    --------
    >>> replace_section("a\\n<!-- s -->old<!-- e -->\\nb", "N", "<!-- s -->", "<!-- e -->")
    'a\\nN\\nb'
    >>> replace_section("a\\n", "N", "<!-- s -->", "<!-- e -->")
    'a\\n\\nN\\n'
    """
    if start in text:
        return re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: new, text,
                      flags=re.S)
    return text.rstrip("\n") + "\n\n" + new + "\n"


def write_section(path: Path, new: str, start: str, end: str) -> None:
    """Replace (or append) one marked section of the report at ``path``, atomically: each
    benchmark script owns its section and leaves the others as they are."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    atomic_write_text(path, replace_section(text, new, start, end))
