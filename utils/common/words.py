"""Generated prose: the small helpers every generated sentence shares."""

from __future__ import annotations


def listed(items: list[str]) -> str:
    """Items as a sentence lists them, "none" where there are none.

    Examples
    --------
    >>> listed(["a"]), listed(["a", "b", "c"]), listed([])
    ('a', 'a, b and c', 'none')
    """
    if not items:
        return "none"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
