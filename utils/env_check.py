"""Environment check shown at the top of every notebook: pins, CPU/GPU, Binder/Colab, data.

Introduced in ``00_start_here.ipynb``. Versions are read with :mod:`importlib.metadata`, so
the check imports neither TensorFlow nor PyTorch (each costs seconds and memory).

Examples
--------
>>> pins = read_pins()
>>> pins["torch"]
'2.13.0'
>>> where_am_i() in {"Colab", "Binder", "local"}
True
"""

from __future__ import annotations

import os
import platform
import sys
from importlib import metadata
from pathlib import Path

from utils.notebooks import repo_slug

REPO_ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = REPO_ROOT / "requirements.txt"
# The public home of the lab (owner/name), read from pyproject.toml's [tool.defaults-lab].
REPO_SLUG = repo_slug()
# Packages whose versions change the lab's numbers or plots: checked in every first cell.
KEY_PACKAGES = ("torch", "tensorflow-cpu", "keras", "librosa", "numpy", "scipy",
                "scikit-learn", "matplotlib", "pandas", "ipywidgets")


def read_pins(path: Path = REQUIREMENTS) -> dict[str, str]:
    """``name==version`` lines of a requirements file as {normalised name: version}.

    Raises ValueError naming the file and line for any requirement that is not pinned.
    """
    pins: dict[str, str] = {}
    for lineno, raw in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        if "==" not in line:
            raise ValueError(f"{path} line {lineno}: expected an exact pin name==version, "
                             f"found {raw!r}")
        name, version = (s.strip() for s in line.split("==", 1))
        pins[normalise(name)] = version
    return pins


def normalise(name: str) -> str:
    """PEP 503 name normalisation: ``PyYAML`` and ``sed_eval`` → ``pyyaml``, ``sed-eval``."""
    return name.lower().replace("_", "-").replace(".", "-")


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def same_release(pinned: str, installed: str | None) -> bool:
    """``2.13.0`` matches ``2.13.0+cpu``: a local build label is not a different release."""
    return installed is not None and installed.split("+")[0] == pinned.split("+")[0]


def check_versions(packages: tuple[str, ...] = KEY_PACKAGES) -> list[tuple[str, str, str | None]]:
    """(package, pinned, installed) for each key package."""
    pins = read_pins()
    rows = []
    for name in packages:
        installed = installed_version(name)
        if name == "tensorflow-cpu" and installed is None:  # GPU machines have plain TF
            installed = installed_version("tensorflow")
        rows.append((name, pins[normalise(name)], installed))
    return rows


def where_am_i() -> str:
    """``Colab``, ``Binder`` or ``local``."""
    if "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ:
        return "Colab"
    if "BINDER_SERVICE_HOST" in os.environ or "BINDER_REPO_URL" in os.environ:
        return "Binder"
    return "local"


def accelerator() -> str:
    """A one-line CPU/GPU banner (asks torch only if it is already imported or cheap)."""
    cpus = os.cpu_count() or 1
    try:
        import torch

        if torch.cuda.is_available():
            return f"GPU: {torch.cuda.get_device_name(0)} (+ {cpus} CPU cores)"
    except ImportError:
        pass
    return f"CPU only: {cpus} cores ({platform.processor() or platform.machine()})"


def report(mode: str = "classroom") -> int:
    """Print the environment check; return the number of version mismatches."""
    from utils.data import data_root

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


def quiet_tensorflow():
    """Import TensorFlow with its C++ start-up messages silenced; return the module.

    TensorFlow 2.21 writes its start-up INFO lines (oneDNN, absl) straight to file
    descriptor 2 before any logging is configured, so ``TF_CPP_MIN_LOG_LEVEL`` cannot stop
    them; file descriptor 2 is pointed at /dev/null for the duration of the import only.
    """
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow as tf
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return tf
