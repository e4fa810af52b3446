"""The lab's one exception root.

Every error the lab raises on purpose derives from :class:`LabError`, so a caller can catch
the lab's own errors apart from bugs; each also derives from the built-in type a caller
would expect (``ValueError`` for bad input, ``RuntimeError`` for a broken cache).

Examples
--------
>>> from utils.task.dcase_io import DcaseFormatError
>>> issubclass(DcaseFormatError, LabError) and issubclass(DcaseFormatError, ValueError)
True
"""

from __future__ import annotations


class LabError(Exception):
    """Base class of the errors the lab raises: the message names the input and what was
    expected."""
