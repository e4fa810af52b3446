"""Detail folded away: a collapsed block under a notebook's figure.

Introduced in ``04_initialisation.ipynb``. The learner's path is one figure and one
generated sentence; the tables, family adjustments, intervals and extra figures behind them
stay one click away in an HTML ``<details>`` block (closed until opened), which JupyterLab,
Colab, nbconvert's HTML and the reading copy all render.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import HTML


def figure_html(fig: plt.Figure, alt: str) -> str:
    """``fig`` as an inline PNG ``<img>`` with alt text (the figure is closed afterwards,
    so the notebook does not draw it a second time)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return (f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}" '
            f'style="max-width:100%">')


def fold(summary: str, lines: Sequence[str] = (),
         figures: Sequence[tuple[plt.Figure, str]] = (),
         tables: Sequence[pd.DataFrame] = ()) -> HTML:
    """A closed ``<details>`` block: ``summary`` on its handle; inside, ``lines`` as
    preformatted text, each ``(figure, alt text)`` and each table (three decimals).

    Examples
    --------
    >>> block = fold("Detail", ["one line", "a < b"])
    >>> block.data.startswith("<details><summary>Detail</summary>"), "a &lt; b" in block.data
    (True, True)
    >>> "<table" in fold("T", tables=[pd.DataFrame({"x": [0.12345]})]).data
    True
    """
    text = "\n".join(lines)
    body = f"<pre style='white-space:pre-wrap'>{html.escape(text)}</pre>" if text else ""
    body += "".join(figure_html(f, alt) for f, alt in figures)
    body += "".join(t.to_html(index=False, float_format=lambda x: f"{x:.3f}", na_rep="")
                    for t in tables)
    return HTML(f"<details><summary>{html.escape(summary)}</summary>{body}</details>")
