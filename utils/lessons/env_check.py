"""Environment check shown at the top of every notebook: pins, CPU/GPU, Binder/Colab, data.

Introduced in ``00_start_here.ipynb``. It imports neither TensorFlow nor PyTorch unless
one is already loaded (each costs seconds and memory).

Examples
--------
>>> where_am_i() in {"Colab", "Binder", "local"}
True
"""

from __future__ import annotations

import os
import platform
import sys

from utils.common.machine import available_cpus
from utils.common.versions import check_versions, same_release
from utils.lessons.notebooks import repo_slug
from utils.task.dataset import data_root, require_dataset

# The public home of the lab (owner/name), read from pyproject.toml's [tool.defaults-lab].
REPO_SLUG = repo_slug()


def where_am_i() -> str:
    """``Colab``, ``Binder`` or ``local``."""
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
        return "Colab"
    if "BINDER_SERVICE_HOST" in os.environ or "BINDER_REPO_URL" in os.environ:
        return "Binder"
    return "local"


def accelerator() -> str:
    """A one-line CPU/GPU banner: the CPUs this process may use (its quota, not the host's
    count) and a GPU if PyTorch, already loaded, sees one."""
    cpus = f"{available_cpus()} usable of {os.cpu_count()} CPU cores"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        return f"GPU: {torch.cuda.get_device_name(0)} (+ {cpus})"
    return f"CPU: {cpus} ({platform.processor() or platform.machine()})"


def report(mode: str = "classroom", data: str | None = None) -> int:
    """Print the environment check; return the number of version mismatches.

    ``data`` is the notebook's ``DATA`` parameter, checked in every mode: in smoke mode the
    notebook trains on the smoke set but still looks up stored rows of ``DATA``, so a name
    that is no dataset (or a DCASE dataset that cannot be read) would pass unnoticed or be
    met later with the wrong advice.

    Raises
    ------
    ValueError, DatasetError
        ``data`` names no dataset, or a DCASE dataset whose cache cannot be read; the
        message gives the command that builds it (:func:`~utils.task.dataset.require_dataset`).
    """
    if data is not None:
        require_dataset(data)  # before printing anything: the refusal is the cell's output
    mismatches = 0
    print(f"defaults-lab on {where_am_i()} · Python {platform.python_version()} · mode: {mode}")
    print(accelerator())
    for name, pinned, installed in check_versions():
        ok = same_release(pinned, installed)
        mismatches += not ok
        tag = "[OK]      " if ok else "[MISMATCH]"
        extra = "" if ok else f" (pinned {pinned}; results may differ from the stored ones)"
        print(f"{tag} {name:15s} {installed or 'not installed'}{extra}")
    print(f"data: {data_root()}")
    return mismatches
